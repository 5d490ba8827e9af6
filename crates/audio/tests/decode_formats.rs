//! Stemdeck's decoder against an independent one: every fixture in tests/fixtures (made by
//! scripts/make-fixtures.sh) is decoded with `Decoder` and with ffmpeg, at test time, and
//! the two must agree on rate, channels, length, sample alignment and sample values.
//!
//! ffmpeg must be installed (CI installs it): without it these tests fail, saying so.
//! Run with `-- --nocapture` to see the measured differences.
//!
//! Tolerances:
//! - lossless (PCM, FLAC, ALAC): |ours - ffmpeg| <= 1e-5. Both convert the same integers
//!   to f32 by the same scale (2^-(bits-1)); measured: 0 for every fixture.
//! - lossy (MP3, Vorbis, AAC): |ours - ffmpeg| <= 1e-4 (-80 dBFS). Both decode the same
//!   bitstream in floating point; they differ only in rounding inside the inverse
//!   transforms (different FFT factorisations), measured at most 4.1e-6 (AAC),
//!   8.6e-7 (MP3), 1.2e-7 (Vorbis). The bound leaves room for other ffmpeg versions and
//!   SIMD paths while still catching any real fault: a one-frame offset of this signal
//!   changes samples by up to ~0.5 (the click), an unremoved priming block by far more.
//!   The correlation must also exceed 0.999999.
//!
//! Lengths are exact everywhere, and equal to what was encoded (0.15 s of lossless, 0.25 s
//! of lossy audio), with two documented differences on ffmpeg's (5.1) side:
//! - AAC in MP4: symphonia's MP4 reader ignores the edit list; `Decoder` applies it
//!   (drops ffmpeg's 1024 priming frames, ends where the sample table ends). ffmpeg drops
//!   the priming too but keeps the end padding of the last AAC frame: its decode is longer
//!   by 239 frames (aac_44100_stereo: 11264 vs 11025) and 288 frames (aac_48000_mono:
//!   12288 vs 12000). The start agrees to the frame, the samples to 4.1e-6.
//! - Vorbis in a single Ogg page: ffmpeg drops the last 128 frames (10897 vs 11025); the
//!   final granule position says 11025, as libvorbisfile (e.g. `soxi -s`) does too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod common;

use common::{Audio, click_frames, click_position, correlation, ffmpeg_decode, fixture};
use stemdeck_audio::AudioError;
use stemdeck_audio::decode::Decoder;
use stemdeck_audio::stream::TrackStream;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Lossless,
    Mp3,
    Vorbis,
    /// Vorbis whose whole stream fits in one Ogg page.
    VorbisOnePage,
    Aac,
}

impl Kind {
    fn lossy(self) -> bool {
        self != Kind::Lossless
    }

    fn tolerance(self) -> f32 {
        if self.lossy() { 1e-4 } else { 1e-5 }
    }

    /// Seconds of audio the fixture script encoded.
    fn seconds_percent(self) -> usize {
        if self.lossy() { 25 } else { 15 }
    }
}

#[derive(Clone, Copy, Debug)]
struct Case {
    file: &'static str,
    rate: u32,
    channels: usize,
    kind: Kind,
}

impl Case {
    /// Frames the fixture script encoded.
    fn source_frames(&self) -> usize {
        self.rate as usize * self.kind.seconds_percent() / 100
    }
}

/// Largest offset searched for when aligning with ffmpeg: more than any codec's delay
/// (LAME 1105 + 529, AAC priming 1024 or 2112).
const MAX_LAG: isize = 2200;

fn check(case: &Case) {
    let path = fixture(case.file);
    let reference = ffmpeg_decode(&path);
    let (info, ours) = common::stemdeck_decode(&path, 1001);
    let name = case.file;

    assert_eq!(info.sample_rate, case.rate, "{name}: sample rate");
    assert_eq!(reference.rate, case.rate, "{name}: ffmpeg's sample rate");
    assert_eq!(info.channels, case.channels, "{name}: channels");
    assert_eq!(
        reference.channels.len(),
        case.channels,
        "{name}: ffmpeg's channels"
    );

    // Length: what was encoded, exactly.
    assert_eq!(
        ours.frames(),
        case.source_frames(),
        "{name}: decoded length"
    );
    match case.kind {
        Kind::Lossless | Kind::Mp3 | Kind::Vorbis => {
            assert_eq!(
                reference.frames(),
                ours.frames(),
                "{name}: length vs ffmpeg"
            );
        }
        // ffmpeg keeps the last AAC frame's padding (less than one 1024-frame AAC frame).
        Kind::Aac => assert!(
            reference.frames() >= ours.frames() && reference.frames() - ours.frames() < 1024,
            "{name}: ffmpeg {} frames, ours {}",
            reference.frames(),
            ours.frames()
        ),
        // ffmpeg drops up to one Vorbis short block (128 frames here) at the end.
        Kind::VorbisOnePage => assert!(
            reference.frames() <= ours.frames() && ours.frames() - reference.frames() <= 256,
            "{name}: ffmpeg {} frames, ours {}",
            reference.frames(),
            ours.frames()
        ),
    }

    // Alignment: no offset against ffmpeg, on every channel (a swap would show too, the
    // channels differ).
    for ch in 0..case.channels {
        let lag = common::best_lag(&ours.channels[ch], &reference.channels[ch], MAX_LAG);
        assert_eq!(
            lag, 0,
            "{name}: channel {ch} is {lag} frames off ffmpeg's decode"
        );
    }

    // Values.
    let mut worst = 0.0f32;
    let mut min_corr = 1.0f64;
    for ch in 0..case.channels {
        let (a, b) = (&ours.channels[ch], &reference.channels[ch]);
        worst = worst.max(common::max_abs_diff(a, b, 0));
        min_corr = min_corr.min(correlation(a, b, 0));
    }
    println!(
        "{name:32} {:7} {:10} {:>6} Hz {}ch {:>6} frames (ffmpeg {:>6})  max |diff| {worst:.2e}  \
         correlation {min_corr:.9}",
        info.container,
        info.codec,
        info.sample_rate,
        info.channels,
        ours.frames(),
        reference.frames(),
    );
    assert!(
        worst <= case.kind.tolerance(),
        "{name}: max difference from ffmpeg {worst:e} > {:e}",
        case.kind.tolerance()
    );
    assert!(
        min_corr > 0.999_999,
        "{name}: correlation with ffmpeg {min_corr}"
    );

    // The clicks: at the source's frames (lossless exactly; lossy within a frame, the
    // codec smears them) and where ffmpeg has them.
    check_clicks(case, &ours, &reference);
}

fn check_clicks(case: &Case, ours: &Audio, reference: &Audio) {
    let expected = click_frames(case.rate);
    for ch in 0..case.channels {
        let (mine, theirs) = (
            click_position(&ours.channels[ch]),
            click_position(&reference.channels[ch]),
        );
        assert_eq!(
            mine, theirs,
            "{}: channel {ch} click at {mine}, ffmpeg has it at {theirs}",
            case.file
        );
        let slack = if case.kind.lossy() { 1 } else { 0 };
        assert!(
            mine.abs_diff(expected[ch]) <= slack,
            "{}: channel {ch} click at {mine}, encoded at {}",
            case.file,
            expected[ch]
        );
    }
}

macro_rules! fixtures {
    ($($test:ident: $file:literal, $rate:literal, $channels:literal, $kind:ident;)*) => {
        const ALL: &[Case] = &[
            $(Case { file: $file, rate: $rate, channels: $channels, kind: Kind::$kind },)*
        ];
        $(
            #[test]
            fn $test() {
                check(&Case { file: $file, rate: $rate, channels: $channels, kind: Kind::$kind });
            }
        )*
    };
}

fixtures! {
    wav_u8_mono:            "wav_u8_44100_mono.wav",          44100, 1, Lossless;
    wav_s16_mono:           "wav_s16_44100_mono.wav",         44100, 1, Lossless;
    wav_s16_stereo:         "wav_s16_44100_stereo.wav",       44100, 2, Lossless;
    wav_s24_mono:           "wav_s24_44100_mono.wav",         44100, 1, Lossless;
    wav_s24_extensible:     "wav_s24ext_48000_stereo.wav",    48000, 2, Lossless;
    wav_s32_mono:           "wav_s32_48000_mono.wav",         48000, 1, Lossless;
    wav_s32_extensible:     "wav_s32ext_44100_mono.wav",      44100, 1, Lossless;
    wav_f32_stereo:         "wav_f32_44100_stereo.wav",       44100, 2, Lossless;
    wav_f32_extensible:     "wav_f32ext_48000_mono.wav",      48000, 1, Lossless;
    wav_f64_mono:           "wav_f64_44100_mono.wav",         44100, 1, Lossless;
    aiff_s16_stereo:        "aiff_s16_44100_stereo.aiff",     44100, 2, Lossless;
    aiff_s24_mono:          "aiff_s24_48000_mono.aiff",       48000, 1, Lossless;
    flac_s16_stereo:        "flac_s16_44100_stereo.flac",     44100, 2, Lossless;
    flac_s16_mono:          "flac_s16_48000_mono.flac",       48000, 1, Lossless;
    flac_s24_96k_stereo:    "flac_s24_96000_stereo.flac",     96000, 2, Lossless;
    alac_s16_stereo:        "alac_s16_44100_stereo.m4a",      44100, 2, Lossless;
    alac_s24_mono:          "alac_s24_48000_mono.m4a",        48000, 1, Lossless;
    mp3_stereo:             "mp3_44100_stereo.mp3",           44100, 2, Mp3;
    mp3_mono:               "mp3_48000_mono.mp3",             48000, 1, Mp3;
    vorbis_stereo:          "vorbis_44100_stereo.ogg",        44100, 2, Vorbis;
    vorbis_mono:            "vorbis_48000_mono.ogg",          48000, 1, Vorbis;
    vorbis_one_page:        "vorbis_44100_mono_onepage.ogg",  44100, 1, VorbisOnePage;
    aac_stereo:             "aac_44100_stereo.m4a",           44100, 2, Aac;
    aac_mono:               "aac_48000_mono.m4a",             48000, 1, Aac;
}

const THREE_CHANNELS: &str = "wav_s16_44100_3ch.wav";

/// No fixture is left out of the table above.
#[test]
fn every_fixture_is_tested() {
    let mut files: Vec<String> = std::fs::read_dir(common::fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| stemdeck_audio::decode::is_audio_path(n.as_ref()))
        .collect();
    files.sort();
    let mut listed: Vec<String> = ALL.iter().map(|c| c.file.to_owned()).collect();
    listed.push(THREE_CHANNELS.to_owned());
    listed.sort();
    assert_eq!(files, listed);
}

/// Gapless: the clicks of the lossy files land on the same frame as in ffmpeg's decode
/// (which trims the LAME tag's delay/padding and Vorbis's granule-position pre-skip), and
/// within one frame of where they were encoded.
#[test]
fn lossy_files_are_gapless() {
    for case in ALL.iter().filter(|c| c.kind.lossy()) {
        let path = fixture(case.file);
        let reference = ffmpeg_decode(&path);
        let (_, ours) = common::stemdeck_decode(&path, 4096);
        check_clicks(case, &ours, &reference);
        let expected = click_frames(case.rate);
        for ch in 0..case.channels {
            println!(
                "{:32} channel {ch}: click encoded at {}, ours at {}, ffmpeg's at {}",
                case.file,
                expected[ch],
                click_position(&ours.channels[ch]),
                click_position(&reference.channels[ch])
            );
        }
    }
}

/// The result does not depend on how `read` is called.
#[test]
fn block_size_does_not_matter() {
    for file in [
        "mp3_44100_stereo.mp3",
        "aac_44100_stereo.m4a",
        "flac_s16_44100_stereo.flac",
    ] {
        let path = fixture(file);
        let (_, a) = common::stemdeck_decode(&path, 1);
        let (_, b) = common::stemdeck_decode(&path, 777);
        let (_, c) = common::stemdeck_decode(&path, 100_000);
        assert_eq!(a.channels, b.channels, "{file}");
        assert_eq!(a.channels, c.channels, "{file}");
    }
}

/// At its own rate a `TrackStream` is the decoder's output, exactly, then silence.
#[test]
fn stream_at_native_rate_is_the_decode() {
    for file in [
        "aac_48000_mono.m4a",
        "mp3_44100_stereo.mp3",
        "wav_s24ext_48000_stereo.wav",
    ] {
        let path = fixture(file);
        let (info, decoded) = common::stemdeck_decode(&path, 4096);
        let mut stream = TrackStream::open(&path, info.sample_rate).unwrap();
        assert_eq!(stream.len(), info.frames, "{file}");
        let total = decoded.frames() + 1000;
        let mut out = vec![vec![1.0f32; total]; info.channels];
        for start in (0..total).step_by(700) {
            let end = (start + 700).min(total);
            let mut slices: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
            stream.read(&mut slices).unwrap();
        }
        for (ch, samples) in out.iter().enumerate() {
            assert_eq!(
                &samples[..decoded.frames()],
                &decoded.channels[ch][..],
                "{file}"
            );
            assert!(
                samples[decoded.frames()..].iter().all(|&x| x == 0.0),
                "{file}"
            );
        }
    }
}

#[test]
fn three_channels_are_refused_naming_the_file() {
    let path = fixture(THREE_CHANNELS);
    let err = Decoder::open(&path)
        .err()
        .expect("a 3-channel file must be refused");
    assert!(
        matches!(&err, AudioError::TooManyChannels { path: p, channels: 3 } if *p == path),
        "wrong error: {err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(THREE_CHANNELS),
        "message does not name the file: {message}"
    );
    assert!(
        message.contains("3 channels"),
        "message does not say why: {message}"
    );

    let err = TrackStream::open(&path, 48000)
        .err()
        .expect("refused by TrackStream too");
    assert!(
        matches!(err, AudioError::TooManyChannels { channels: 3, .. }),
        "{err:?}"
    );
}

/// ffmpeg agrees it is a 3-channel file (so the refusal is about the file, not a misread).
#[test]
fn three_channel_fixture_really_has_three() {
    let (rate, channels) = common::ffprobe_format(&fixture(THREE_CHANNELS));
    assert_eq!((rate, channels), (44100, 3));
}
