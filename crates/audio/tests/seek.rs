//! Seeking: after `seek(n)`, reading gives what reading from the start and dropping `n`
//! frames gives. Checked for `Decoder` (file rate) and `TrackStream` (session rate, with
//! and without resampling), on every fixture and on ~30 s files of every format made with
//! ffmpeg at test time (the fixtures last 0.15-0.25 s, less than two lossy pre-rolls, so
//! most of their seeks start from the first packet; the long files exercise the format
//! readers' seeks). Positions: the start, the first frames, the middle, near the end, the
//! last frame, the end, past the end, in an order that seeks forwards and backwards.
//!
//! Tolerances: lossless (PCM, FLAC, ALAC) must be bit-exact; lossy (MP3, Vorbis, AAC)
//! within 1e-4, as against ffmpeg in decode_formats.rs (the decoder restarts a little
//! before the target, so its state there could in principle differ in rounding); through
//! the resampler, the same, and at least 100 dB below the signal after the first ms.
//! Measured: 0 (bit-exact) for every format, at the file's rate and resampled, except
//! AAC's perceptual noise substitution, random by design (see
//! `aac_with_noise_substitution`: the AAC fixtures have some, the 30 s AAC files none).
//!
//! Timing: `decoder_and_stream_seek_on_30s_files` prints the time of a seek (plus the
//! first read) on the 30 s files; `seek_timing_10min` (ignored: making the files takes a
//! few minutes) does so on 10-minute files. Run with `-- --nocapture` (and `--ignored`)
//! to see them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use stemdeck_audio::decode::Decoder;
use stemdeck_audio::stream::TrackStream;

/// Frames read and compared after each seek.
const CHECK_FRAMES: usize = 20_000;

fn lossless(codec: &str) -> bool {
    codec.starts_with("pcm") || codec == "flac" || codec == "alac"
}

fn tolerance(codec: &str) -> f32 {
    if lossless(codec) { 0.0 } else { 1e-4 }
}

/// Positions to seek to in a file of `frames` frames, in an order that goes forwards
/// and backwards (and past the end, then back).
fn positions(frames: usize) -> Vec<usize> {
    let mut p = vec![
        frames / 2,
        0,
        frames.saturating_sub(1),
        frames / 3 + 17,
        1,
        frames + 10_000,
        1151,
        frames.saturating_sub(4097),
        frames,
        frames / 5 + 3,
        0,
    ];
    p.retain(|&x| x <= frames + 10_000);
    p
}

/// Read up to `n` frames from the decoder (fewer at its end).
fn read_decoder(dec: &mut Decoder, n: usize) -> Vec<Vec<f32>> {
    let channels = dec.info().channels;
    let mut out = vec![Vec::with_capacity(n); channels];
    let mut buf = vec![vec![0.0f32; 1001]; channels];
    while out[0].len() < n {
        let want = (n - out[0].len()).min(1001);
        let mut slices: Vec<&mut [f32]> = buf.iter_mut().map(|b| &mut b[..want]).collect();
        let got = dec.read(&mut slices).unwrap();
        for (dst, src) in out.iter_mut().zip(&buf) {
            dst.extend_from_slice(&src[..got]);
        }
        if got < want {
            break;
        }
    }
    out
}

/// Largest |got - reference[start..]| over `got`; panics if the lengths disagree.
fn diff_from(name: &str, reference: &[Vec<f32>], start: usize, got: &[Vec<f32>]) -> f32 {
    let mut worst = 0.0f32;
    for (ch, (r, g)) in reference.iter().zip(got).enumerate() {
        let expected = &r[start.min(r.len())..(start + CHECK_FRAMES).min(r.len())];
        assert_eq!(
            g.len(),
            expected.len(),
            "{name}: after seek({start}), channel {ch}: {} frames read, {} expected",
            g.len(),
            expected.len()
        );
        for (a, b) in g.iter().zip(expected) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

/// Whether a file's audio may hold AAC noise substitution (see `aac_with_noise_substitution`):
/// the AAC fixtures, encoded with ffmpeg's defaults.
fn noise_substituted(path: &Path, codec: &str) -> bool {
    codec == "aac" && path.starts_with(common::fixtures_dir())
}

/// The check for audio with AAC noise substitution: aligned, and the difference (two draws
/// of the noise in the substituted bands) at least 15 dB below the signal. Returns the
/// difference's level in dB below the signal.
fn check_noise_substituted(what: &str, reference: &[f32], got: &[f32]) -> f64 {
    let r = &reference[..got.len().min(reference.len())];
    let energy: f64 = r.iter().map(|&x| f64::from(x).powi(2)).sum();
    let residual: f64 = r
        .iter()
        .zip(got)
        .map(|(&x, &y)| f64::from(x - y).powi(2))
        .sum();
    if residual == 0.0 {
        return f64::INFINITY;
    }
    assert_eq!(common::best_lag(got, r, 50), 0, "{what}: misaligned");
    let below = -db((residual / energy.max(1e-30)).sqrt());
    assert!(
        below > 15.0,
        "{what}: difference only {below:.1} dB below the signal"
    );
    below
}

/// Seek a decoder of `path` to every position and compare with the sequential decode.
/// Returns the largest difference seen.
fn check_decoder(path: &Path) -> f32 {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let (info, reference) = common::stemdeck_decode(path, 4096);
    let frames = reference.frames();
    let mut dec = Decoder::open(path).unwrap();
    // Read a little first, so the first seek is not from a fresh decoder.
    read_decoder(&mut dec, 3000);
    let mut worst = 0.0f32;
    for pos in positions(frames) {
        dec.seek(pos as u64).unwrap();
        let got = read_decoder(&mut dec, CHECK_FRAMES);
        let d = diff_from(&name, &reference.channels, pos, &got);
        if noise_substituted(path, &info.codec) {
            for (r, g) in reference.channels.iter().zip(&got) {
                let r = r.get(pos..).unwrap_or_default();
                check_noise_substituted(&format!("{name}: seek({pos})"), r, g);
            }
        } else {
            assert!(
                d <= tolerance(&info.codec),
                "{name}: after seek({pos}) the audio differs from the sequential read by {d:e}"
            );
        }
        worst = worst.max(d);
        // At the end, reading goes on giving nothing.
        if got[0].len() < CHECK_FRAMES {
            assert!(
                read_decoder(&mut dec, 100)[0].is_empty(),
                "{name}: audio after the end"
            );
        }
    }
    println!(
        "{name:34} {:8} {:>6} Hz {:>8} frames: Decoder::seek max |diff| {worst:.1e}",
        info.codec, info.sample_rate, frames
    );
    worst
}

/// Everything `TrackStream` gives for `path` at `rate`, plus 500 frames of silence.
fn stream_all(path: &Path, rate: u32) -> Vec<Vec<f32>> {
    let mut s = TrackStream::open(path, rate).unwrap();
    let total = s.len() as usize + 500;
    read_stream(&mut s, total)
}

fn read_stream(s: &mut TrackStream, n: usize) -> Vec<Vec<f32>> {
    let mut out = vec![Vec::with_capacity(n); s.channels()];
    let mut buf = vec![vec![0.0f32; 999]; s.channels()];
    while out[0].len() < n {
        let want = (n - out[0].len()).min(999);
        let mut slices: Vec<&mut [f32]> = buf.iter_mut().map(|b| &mut b[..want]).collect();
        s.read(&mut slices).unwrap();
        for (dst, src) in out.iter_mut().zip(&buf) {
            dst.extend_from_slice(&src[..want]);
        }
    }
    out
}

/// What a seek through `TrackStream` gave, against the sequential stream.
#[derive(Default, Debug, Clone, Copy)]
struct StreamDiff {
    /// Largest |diff| anywhere.
    max: f32,
    /// Largest |diff| after the first millisecond following the seek point.
    max_after_1ms: f32,
    /// RMS of the reference over the compared frames (for a level in dB).
    signal_rms: f64,
}

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-30).log10()
}

/// Seek a `TrackStream` of `path` at `rate` to every position; compare with a sequential
/// read (then silence, forever).
fn check_stream(path: &Path, rate: u32) -> StreamDiff {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let reference = stream_all(path, rate);
    let mut s = TrackStream::open(path, rate).unwrap();
    let len = s.len() as usize;
    let codec = s.info().codec.clone();
    read_stream(&mut s, 2500);
    let one_ms = rate as usize / 1000;
    let mut result = StreamDiff::default();
    let (mut sum_sq, mut count) = (0.0f64, 0usize);
    let pns = noise_substituted(path, &codec);
    for pos in positions(len) {
        s.seek(pos as u64).unwrap();
        let got = read_stream(&mut s, CHECK_FRAMES);
        if pns {
            for (r, g) in reference.iter().zip(&got) {
                let r = r.get(pos..).unwrap_or_default();
                let g = &g[..g.len().min(r.len())];
                check_noise_substituted(&format!("{name} at {rate} Hz: seek({pos})"), r, g);
            }
        }
        for (ch, g) in got.iter().enumerate() {
            for (i, &x) in g.iter().enumerate() {
                let expected = reference[ch].get(pos + i).copied().unwrap_or(0.0);
                let d = (x - expected).abs();
                result.max = result.max.max(d);
                if i >= one_ms {
                    result.max_after_1ms = result.max_after_1ms.max(d);
                }
                sum_sq += f64::from(expected).powi(2);
                count += 1;
            }
        }
    }
    result.signal_rms = (sum_sq / count.max(1) as f64).sqrt();
    println!(
        "{name:34} {codec:8} -> {rate:>6} Hz: TrackStream::seek max |diff| {:.1e} ({:.1} dB below \
         the signal's RMS), after the first ms {:.1e}",
        result.max,
        -db(f64::from(result.max) / result.signal_rms.max(1e-30)),
        result.max_after_1ms
    );
    // Lossless sources are bit-exact through the resampler too (the converter restarts on
    // its own block grid); lossy ones within the decoder tolerance.
    let bound = if pns {
        f32::INFINITY
    } else {
        tolerance(&codec)
    };
    assert!(
        result.max <= bound,
        "{name} at {rate} Hz: seeking changes the output by {:e} (bound {bound:e})",
        result.max
    );
    // The bar for the resampler: 100 dB below the signal after the first millisecond.
    if !pns {
        let below = -db(f64::from(result.max_after_1ms) / result.signal_rms.max(1e-30));
        assert!(
            below >= 100.0,
            "{name} at {rate} Hz: difference only {below:.1} dB below"
        );
    }
    result
}

/// Every fixture (but the 3-channel one, which is refused).
fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| stemdeck_audio::decode::is_audio_path(p))
        .filter(|p| !p.to_string_lossy().contains("3ch"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 24,
        "fixtures missing: run scripts/make-fixtures.sh"
    );
    files
}

#[test]
fn decoder_seek_on_every_fixture() {
    for path in fixtures() {
        check_decoder(&path);
    }
}

#[test]
fn stream_seek_on_every_fixture() {
    for path in fixtures() {
        let rate = Decoder::open(&path).unwrap().info().sample_rate;
        // Native rate (no converter) and a different one.
        check_stream(&path, rate);
        check_stream(&path, if rate == 48000 { 44100 } else { 48000 });
    }
}

/// A test signal for the long files: tones plus noise (so that an offset of even one
/// frame shows), different per channel.
fn long_signal(rate: u32, channels: usize, seconds: u32) -> String {
    let left = "0.2*sin(2*PI*440*t)+0.1*sin(2*PI*3001*t)+0.15*(random(0)-0.5)";
    let right = "0.2*sin(2*PI*661*t)+0.1*sin(2*PI*5100*t)+0.15*(random(1)-0.5)";
    let exprs = if channels == 2 {
        format!("{left}|{right}")
    } else {
        left.to_owned()
    };
    format!("aevalsrc=exprs={exprs}:s={rate}:d={seconds}")
}

/// An ffmpeg encoding of the long test signal: file name, rate, channels, codec options.
type Spec<'a> = (&'a str, u32, usize, &'a [&'a str]);

/// Encode the long test signal with ffmpeg, all files at once (ffmpeg runs in parallel).
fn make_all(dir: &Path, seconds: u32, specs: &[Spec]) -> Vec<PathBuf> {
    let children: Vec<_> = specs
        .iter()
        .map(|&(name, rate, channels, codec)| {
            let child = Command::new("ffmpeg")
                .args(["-hide_banner", "-v", "error", "-nostdin", "-y"])
                .args(["-f", "lavfi", "-i"])
                .arg(long_signal(rate, channels, seconds))
                .args(codec)
                .arg(dir.join(name))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run ffmpeg ({e}): install ffmpeg"));
            (name, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(name, child)| {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "ffmpeg failed to make {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            dir.join(name)
        })
        .collect()
}

fn make(
    dir: &Path,
    name: &str,
    rate: u32,
    channels: usize,
    seconds: u32,
    codec: &[&str],
) -> PathBuf {
    make_all(dir, seconds, &[(name, rate, channels, codec)]).remove(0)
}

/// One long file of each format Stemdeck decodes.
fn long_files(dir: &Path, seconds: u32) -> Vec<PathBuf> {
    const S24: &[&str] = &[
        "-c:a",
        "flac",
        "-sample_fmt",
        "s32",
        "-bits_per_raw_sample",
        "24",
    ];
    // AAC without perceptual noise substitution: see `aac_with_noise_substitution`.
    const AAC: &[&str] = &["-c:a", "aac", "-b:a", "160k", "-aac_pns", "0"];
    const AAC_MONO: &[&str] = &["-c:a", "aac", "-b:a", "96k", "-aac_pns", "0"];
    let specs: &[Spec] = &[
        ("wav_s16.wav", 44100, 2, &["-c:a", "pcm_s16le"]),
        ("aiff_s24.aiff", 48000, 1, &["-c:a", "pcm_s24be"]),
        ("flac_s16.flac", 44100, 2, &["-c:a", "flac"]),
        ("flac_s24_96k.flac", 96000, 2, S24),
        ("alac.m4a", 44100, 2, &["-c:a", "alac"]),
        (
            "mp3_cbr.mp3",
            44100,
            2,
            &["-c:a", "libmp3lame", "-b:a", "192k"],
        ),
        (
            "mp3_vbr_48k.mp3",
            48000,
            1,
            &["-c:a", "libmp3lame", "-q:a", "4"],
        ),
        ("vorbis.ogg", 44100, 2, &["-c:a", "libvorbis", "-q:a", "5"]),
        ("aac.m4a", 44100, 2, AAC),
        ("aac_48k.m4a", 48000, 1, AAC_MONO),
    ];
    make_all(dir, seconds, specs)
}

/// Every format, ~30 s: seeks through `Decoder` and `TrackStream` (native rate and
/// resampled) against sequential reads; and the time of a seek, printed.
#[test]
fn decoder_and_stream_seek_on_30s_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = long_files(dir.path(), 30);
    for path in &files {
        check_decoder(path);
        // At the native rate `TrackStream::seek` is `Decoder::seek` (checked on the
        // fixtures): here through the resampler only.
        let rate = Decoder::open(path).unwrap().info().sample_rate;
        check_stream(path, if rate == 48000 { 44100 } else { 48000 });
        if rate == 96000 {
            // A ratio whose default FFT layout rubato would make odd (see resample.rs).
            check_stream(path, 44100);
        }
    }
    print_timings(&files, 30.0);
}

/// AAC with perceptual noise substitution (PNS, on in ffmpeg's encoder by default): the
/// decoder fills noise bands from a random generator whose state depends on every band
/// decoded before, so after a seek past the first packets the noise in those bands is
/// other noise of the same spectrum (ffmpeg does the same: the standard leaves the noise
/// to the decoder). Everything else stays exact: at positions with no PNS nearby the
/// output is bit-exact, elsewhere it is aligned (best lag 0) and the difference, the two
/// noise draws, well below the signal. Seeks within the first packets make a fresh
/// decoder, so they are exact too (the fixtures, encoded with PNS, are checked exactly).
#[test]
fn aac_with_noise_substitution() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(
        dir.path(),
        "aac_pns.m4a",
        44100,
        2,
        30,
        &["-c:a", "aac", "-b:a", "160k"],
    );
    let (_, reference) = common::stemdeck_decode(&path, 4096);
    let mut dec = Decoder::open(&path).unwrap();
    let (mut exact, mut total) = (0usize, 0usize);
    for pos in positions(reference.frames()) {
        dec.seek(pos as u64).unwrap();
        let got = read_decoder(&mut dec, CHECK_FRAMES);
        for (ch, g) in got.iter().enumerate() {
            let r = &reference.channels[ch][pos.min(reference.frames())..];
            assert_eq!(g.len(), r.len().min(CHECK_FRAMES), "seek({pos}): length");
            if g.is_empty() {
                continue;
            }
            let r = &r[..g.len()];
            let below = check_noise_substituted(&format!("aac_pns.m4a: seek({pos})"), r, g);
            println!("aac_pns.m4a seek({pos}) channel {ch}: difference {below:.1} dB below");
            exact += r.iter().zip(g).filter(|(x, y)| x == y).count();
            total += g.len();
        }
    }
    println!("aac_pns.m4a: {exact} of {total} samples read after seeks are bit-exact");
}

/// Byte offsets of the frames of an ffmpeg FLAC file (fixed block size, 4608 frames): each
/// starts with the first frame's 4 header bytes, then its number (UTF-8 coded), then the
/// header's CRC-8.
fn flac_frame_offsets(bytes: &[u8], first: usize) -> Vec<usize> {
    let crc8 = |data: &[u8]| {
        data.iter().fold(0u8, |mut crc, &b| {
            crc ^= b;
            for _ in 0..8 {
                crc = if crc & 0x80 != 0 {
                    (crc << 1) ^ 0x07
                } else {
                    crc << 1
                };
            }
            crc
        })
    };
    let template = &bytes[first..first + 4];
    let mut offsets = vec![first];
    let mut pos = first + 1;
    for n in 1u32.. {
        let mut utf8 = [0u8; 4];
        let number = char::from_u32(n)
            .unwrap()
            .encode_utf8(&mut utf8)
            .as_bytes()
            .to_vec();
        let len = 4 + number.len();
        let found = (pos..bytes.len().saturating_sub(len + 1)).find(|&i| {
            &bytes[i..i + 4] == template
                && bytes[i + 4..i + len] == number[..]
                && crc8(&bytes[i..i + len]) == bytes[i + len]
        });
        let Some(at) = found else { break };
        offsets.push(at);
        pos = at + 1;
    }
    offsets
}

/// symphonia's FLAC reader, seeking back to a frame that starts just where its search
/// starts, keeps the header of the last frame it parsed and takes the frames after the
/// target for false ones (their numbers are not past that header's), ending the stream
/// there. Its search starts on the first frame or on a point of the SEEKTABLE; when the
/// range is small (under 16 KB) no bisection step moves it (a bisection step resets
/// the parser). So: a tiny file (the fixtures), or a dense seek table. ffmpeg writes
/// no seek table: one is written here into its padding block (same size: no frame moves),
/// with points on three frames and the frames after them, so the range is one frame.
#[test]
fn flac_seek_back_to_seek_points() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(
        dir.path(),
        "seektable.flac",
        44100,
        1,
        30,
        &["-c:a", "flac"],
    );
    let mut bytes = std::fs::read(&path).unwrap();
    // Metadata blocks: STREAMINFO, ..., PADDING (last). Find the padding and the frames.
    assert_eq!(&bytes[..4], b"fLaC");
    let mut pos = 4;
    let padding = loop {
        let (last, kind) = (bytes[pos] & 0x80 != 0, bytes[pos] & 0x7f);
        let len = u32::from_be_bytes([0, bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
        if kind == 1 {
            assert!(last && len >= 200, "expected ffmpeg's padding block last");
            break (pos, len);
        }
        pos += 4 + len;
    };
    let first_frame = padding.0 + 4 + padding.1;
    let frames = flac_frame_offsets(&bytes, first_frame);
    assert!(
        frames.len() > 280,
        "found only {} FLAC frames",
        frames.len()
    );
    let points: Vec<(u64, u64)> = [0usize, 1, 95, 96, 191, 192]
        .iter()
        .map(|&frame| ((frame * 4608) as u64, (frames[frame] - first_frame) as u64))
        .collect();
    let mut table = vec![3u8]; // SEEKTABLE, not last
    table.extend_from_slice(&((points.len() * 18) as u32).to_be_bytes()[1..]);
    for (sample, offset) in &points {
        table.extend_from_slice(&sample.to_be_bytes());
        table.extend_from_slice(&offset.to_be_bytes());
        table.extend_from_slice(&4608u16.to_be_bytes());
    }
    let rest = padding.1 - table.len();
    table.push(0x81); // PADDING, last
    table.extend_from_slice(&(rest as u32).to_be_bytes()[1..]);
    table.resize(4 + padding.1, 0);
    bytes.splice(padding.0..first_frame, table);
    assert_eq!(
        bytes.len(),
        std::fs::metadata(&path).unwrap().len() as usize
    );
    std::fs::write(&path, &bytes).unwrap();

    let (_, reference) = common::stemdeck_decode(&path, 4096);
    let total = reference.frames() as u64;
    let mut dec = Decoder::open(&path).unwrap();
    for &(sample, _) in points.iter().step_by(2).rev() {
        // Read on past the point (to the end, or a little), then seek back into its frame.
        for ahead in [total - 1000, sample + 30_000] {
            dec.seek(ahead).unwrap();
            read_decoder(&mut dec, 10_000);
            let target = sample + 100;
            dec.seek(target).unwrap();
            let got = read_decoder(&mut dec, CHECK_FRAMES);
            let d = diff_from("seektable.flac", &reference.channels, target as usize, &got);
            assert_eq!(
                d, 0.0,
                "seektable.flac: seek({target}) back to a seek point"
            );
        }
    }
}

/// A file cut short (its header promises more than it holds): its length is what is
/// there (with a warning), seeking into it works, seeking past it gives nothing, like
/// reading on.
#[test]
fn seek_in_truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        make(dir.path(), "cut.wav", 44100, 2, 10, &["-c:a", "pcm_s16le"]),
        make(dir.path(), "cut.flac", 44100, 2, 10, &["-c:a", "flac"]),
        make(
            dir.path(),
            "cut.mp3",
            44100,
            2,
            10,
            &["-c:a", "libmp3lame", "-b:a", "128k"],
        ),
    ];
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() * 6 / 10]).unwrap();
        let (info, reference) = common::stemdeck_decode_lenient(&path, 4096);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(reference.frames() as u64, info.frames, "{name}: length");
        let warning = info.warning.clone().unwrap_or_default();
        assert!(warning.contains("ends early"), "{name}: {warning:?}");
        let mut dec = Decoder::open(&path).unwrap();
        for pos in [
            reference.frames() / 2,
            reference.frames() + 44100,
            100,
            reference.frames() - 10,
        ] {
            dec.seek(pos as u64).unwrap();
            let got = read_decoder(&mut dec, CHECK_FRAMES);
            let d = diff_from(&name, &reference.channels, pos, &got);
            assert!(d <= tolerance(&info.codec), "{name}: seek({pos}): {d:e}");
        }
        println!(
            "{name}: {} of {} frames there; seeks fine",
            reference.frames(),
            info.frames
        );
    }
}

/// Seek, then read one block (what the engine's reader does): the time of both.
fn time_seek(path: &Path, rate: Option<u32>, to_seconds: &[f64]) -> Vec<f64> {
    let native = Decoder::open(path).unwrap().info().sample_rate;
    let rate = rate.unwrap_or(native);
    let mut s = TrackStream::open(path, rate).unwrap();
    read_stream(&mut s, 4096);
    let mut times = Vec::new();
    for &t in to_seconds {
        let frame = (t * f64::from(rate)) as u64;
        let start = Instant::now();
        s.seek(frame).unwrap();
        read_stream(&mut s, 1024);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times
}

fn print_timings(files: &[PathBuf], seconds: f64) {
    // Forward to the middle, back near the start (a loop wrap), to near the end, back to
    // the middle.
    let targets = [
        seconds * 0.5,
        seconds * 0.1,
        seconds * 0.95,
        seconds * 0.5 + 0.123,
    ];
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let native = time_seek(path, None, &targets);
        let at_48k = time_seek(
            path,
            Some(if name.contains("48k") { 44100 } else { 48000 }),
            &targets,
        );
        let fmt = |v: &[f64]| {
            v.iter()
                .map(|t| format!("{t:6.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "{name:20} {seconds:>4} s: seek + first read, ms (to 50%, 10%, 95%, 50%): native rate \
             [{}], resampled [{}]",
            fmt(&native),
            fmt(&at_48k)
        );
    }
}

/// Ignored: making the 10-minute files with ffmpeg and decoding them whole takes about
/// three minutes. Measured (debug profile; seek + first read): at most 0.7 ms for PCM,
/// FLAC, ALAC, Vorbis and AAC, up to 3.3 ms for MP3 (symphonia's accurate MP3 seek reads
/// every frame header from the start, or from the current position going forwards).
#[test]
#[ignore]
fn seek_timing_10min() {
    let dir = tempfile::tempdir().unwrap();
    let files = long_files(dir.path(), 600);
    print_timings(&files, 600.0);
    // And correct there too (one seek each way is enough at this length).
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (info, reference) = common::stemdeck_decode(path, 65536);
        let mut dec = Decoder::open(path).unwrap();
        for pos in [reference.frames() * 9 / 10, reference.frames() / 3 + 5] {
            dec.seek(pos as u64).unwrap();
            let got = read_decoder(&mut dec, CHECK_FRAMES);
            let d = diff_from(&name, &reference.channels, pos, &got);
            assert!(d <= tolerance(&info.codec), "{name}: seek({pos}): {d:e}");
        }
    }
}
