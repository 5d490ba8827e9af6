//! Helpers shared by the audio integration tests: the fixtures, an independent reference
//! decode with ffmpeg, and small signal-analysis tools.
//!
//! ffmpeg (and ffprobe, from the same package) must be installed: without it the tests
//! that need it fail with a message saying so, they never pass silently.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use stemdeck_audio::decode::{Decoder, FileInfo};

/// `crates/audio/tests/fixtures`, made by `scripts/make-fixtures.sh`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

pub fn fixture(name: &str) -> PathBuf {
    let path = fixtures_dir().join(name);
    assert!(
        path.is_file(),
        "missing fixture {}: run scripts/make-fixtures.sh",
        path.display()
    );
    path
}

/// The frames at which the fixture signal has its clicks, per channel (left/mono, right),
/// for a file at `rate`. Keep in step with `click_l` / `click_r` in scripts/make-fixtures.sh.
pub fn click_frames(rate: u32) -> [usize; 2] {
    let rate = rate as usize;
    [(rate * 5 + 50) / 100 + 3, (rate * 9 + 50) / 100 + 5]
}

/// Planar f32 audio with its rate.
#[derive(Clone, Debug)]
pub struct Audio {
    pub rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

fn tool(name: &str) -> Command {
    let mut cmd = Command::new(name);
    cmd.args(["-hide_banner", "-v", "error"]);
    cmd
}

fn run(mut cmd: Command, what: &str, path: &Path) -> Vec<u8> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run `{program}` ({e}). These tests compare Stemdeck's decoder with ffmpeg's: \
             install ffmpeg (it provides ffmpeg and ffprobe; CI installs it)."
        ),
    };
    assert!(
        out.status.success(),
        "{program} failed to {what} {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Sample rate and channel count of the first audio stream, as ffprobe sees them.
pub fn ffprobe_format(path: &Path) -> (u32, usize) {
    let mut cmd = tool("ffprobe");
    cmd.args([
        "-select_streams",
        "a:0",
        "-show_entries",
        "stream=sample_rate,channels",
    ])
    .args(["-of", "default=noprint_wrappers=1"])
    .arg(path);
    let text = String::from_utf8(run(cmd, "probe", path)).expect("ffprobe prints UTF-8");
    let field = |key: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("ffprobe gave no {key} for {}: {text}", path.display()))
    };
    (field("sample_rate") as u32, field("channels") as usize)
}

/// ffmpeg's own decode of `path`: f32 at the file's rate and channel count, encoder delay
/// and padding trimmed as ffmpeg does it (LAME tag, Ogg granule positions, MP4 edit list).
pub fn ffmpeg_decode(path: &Path) -> Audio {
    let (rate, channels) = ffprobe_format(path);
    let mut cmd = tool("ffmpeg");
    cmd.arg("-nostdin").arg("-i").arg(path).args([
        "-map",
        "0:a:0",
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-",
    ]);
    let bytes = run(cmd, "decode", path);
    assert!(channels > 0, "ffprobe: {} has no channels", path.display());
    assert_eq!(
        bytes.len() % (4 * channels),
        0,
        "ffmpeg's output for {} is not whole frames",
        path.display()
    );
    let mut planar = vec![Vec::with_capacity(bytes.len() / 4 / channels); channels];
    for (i, b) in bytes.chunks_exact(4).enumerate() {
        planar[i % channels].push(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    }
    Audio {
        rate,
        channels: planar,
    }
}

/// Stemdeck's decode of `path`, read in blocks of `block` frames (an odd size, so reads
/// straddle packet boundaries). Also checks that `info().frames` is what `read` delivers.
pub fn stemdeck_decode(path: &Path, block: usize) -> (FileInfo, Audio) {
    let (info, audio) = stemdeck_decode_lenient(path, block);
    assert_eq!(
        info.frames,
        audio.frames() as u64,
        "{}: info().frames says {} but read() delivered {}",
        path.display(),
        info.frames,
        audio.frames()
    );
    (info, audio)
}

/// [`stemdeck_decode`] without the length check (for damaged files, whose header may
/// promise more than they hold).
pub fn stemdeck_decode_lenient(path: &Path, block: usize) -> (FileInfo, Audio) {
    let mut dec = Decoder::open(path).unwrap_or_else(|e| panic!("Decoder::open: {e}"));
    let info = dec.info().clone();
    let mut planar = vec![Vec::new(); info.channels];
    let mut bufs = vec![vec![0.0f32; block]; info.channels];
    loop {
        let mut slices: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        let got = dec
            .read(&mut slices)
            .unwrap_or_else(|e| panic!("Decoder::read: {e}"));
        for (dst, src) in planar.iter_mut().zip(&bufs) {
            dst.extend_from_slice(&src[..got]);
        }
        if got < block {
            break;
        }
    }
    // Reading on after the end keeps returning nothing.
    let mut slices: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
    assert_eq!(dec.read(&mut slices).expect("read after the end"), 0);
    let audio = Audio {
        rate: info.sample_rate,
        channels: planar,
    };
    (info, audio)
}

/// Largest |a[i + offset] - b[i]| over the overlap (offset may be negative).
pub fn max_abs_diff(a: &[f32], b: &[f32], offset: isize) -> f32 {
    overlap(a, b, offset)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Normalised correlation of a[i + offset] with b[i] over the overlap.
pub fn correlation(a: &[f32], b: &[f32], offset: isize) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in overlap(a, b, offset) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    ab / (aa * bb).sqrt()
}

fn overlap<'a>(a: &'a [f32], b: &'a [f32], offset: isize) -> impl Iterator<Item = (f32, f32)> + 'a {
    let (a, b) = if offset >= 0 {
        (a.get(offset as usize..).unwrap_or_default(), b)
    } else {
        (a, b.get(offset.unsigned_abs()..).unwrap_or_default())
    };
    a.iter().copied().zip(b.iter().copied())
}

/// The offset in `-max_lag..=max_lag` at which `a[i + offset]` best matches `b[i]`.
pub fn best_lag(a: &[f32], b: &[f32], max_lag: isize) -> isize {
    (-max_lag..=max_lag)
        .max_by(|&x, &y| correlation(a, b, x).total_cmp(&correlation(a, b, y)))
        .unwrap_or(0)
}

/// Frame of the click: the largest first difference |x[i] - x[i-1]|, so the low-level
/// sines (whose first differences are far smaller) do not compete with it.
pub fn click_position(x: &[f32]) -> usize {
    x.windows(2)
        .enumerate()
        .max_by(|(_, a), (_, b)| (a[1] - a[0]).abs().total_cmp(&(b[1] - b[0]).abs()))
        .map_or(0, |(i, _)| i + 1)
}

/// Peak position of |x| (for a lone impulse).
pub fn peak_position(x: &[f32]) -> usize {
    x.iter()
        .enumerate()
        .max_by(|(_, a), (_, b)| a.abs().total_cmp(&b.abs()))
        .map_or(0, |(i, _)| i)
}

/// Sub-sample peak position of |x| (parabolic interpolation around the peak).
pub fn peak_position_fine(x: &[f32]) -> f64 {
    let i = peak_position(x);
    if i == 0 || i + 1 >= x.len() {
        return i as f64;
    }
    let (a, b, c) = (
        f64::from(x[i - 1].abs()),
        f64::from(x[i].abs()),
        f64::from(x[i + 1].abs()),
    );
    let denom = a - 2.0 * b + c;
    if denom == 0.0 {
        return i as f64;
    }
    i as f64 + 0.5 * (a - c) / denom
}
