//! Shared helpers of the end-to-end tests (tests/tests/*.rs): the real `stemdeck` binary
//! run as a user runs it, ffmpeg as the independent peer, test-signal generators, and a
//! WAV reader.
//!
//! The binary is built once per test process with `cargo build -p stemdeck --bin
//! stemdeck` (debug profile, like the tests), so `cargo test --workspace` and `cargo
//! nextest run --workspace` work from a fresh clone; cargo reports where it put the
//! binary, so `CARGO_TARGET_DIR` and any target-dir setting are honoured.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failure is a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

/// The cargo that runs the tests (`CARGO`), else the one that built them, else `cargo`.
fn cargo() -> String {
    std::env::var("CARGO")
        .ok()
        .or_else(|| option_env!("CARGO").map(str::to_owned))
        .unwrap_or_else(|| "cargo".to_owned())
}

/// Path of the `stemdeck` binary, built (once per process) with the debug profile. A
/// failed build fails every test that asks, without building again.
pub fn stemdeck_path() -> &'static Path {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match BIN.get_or_init(build_stemdeck) {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}

fn build_stemdeck() -> Result<PathBuf, String> {
    let out = Command::new(cargo())
        .current_dir(workspace_root())
        .args(["build", "-p", "stemdeck", "--bin", "stemdeck"])
        .args(["--message-format", "json-render-diagnostics"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{} build`: {e}", cargo()))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p stemdeck --bin stemdeck` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The compiler-artifact message of the bin target says where the binary is.
    let exe = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "stemdeck")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from));
    let exe = exe.unwrap_or_else(|| {
        // Fallback: the conventional place.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(|d| workspace_root().join(d))
            .unwrap_or_else(|| workspace_root().join("target"));
        target
            .join("debug")
            .join(format!("stemdeck{}", std::env::consts::EXE_SUFFIX))
    });
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(format!("no stemdeck binary at {}", exe.display()))
    }
}

/// A `Command` for the `stemdeck` binary (built on first use). No backtraces are asked
/// for, so a panic would show as one — which the tests look for.
pub fn stemdeck() -> Command {
    let mut cmd = Command::new(stemdeck_path());
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null());
    cmd
}

/// A `Command` for ffmpeg (quiet, never interactive, overwriting outputs). Panics with
/// a clear message when ffmpeg is not installed.
pub fn ffmpeg() -> Command {
    static FOUND: OnceLock<bool> = OnceLock::new();
    let found = *FOUND.get_or_init(|| {
        Command::new("ffmpeg")
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    assert!(
        found,
        "ffmpeg is required for the end-to-end tests (apt-get install ffmpeg)"
    );
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .stdin(Stdio::null());
    cmd
}

/// Run a command to completion, capturing its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Run a command that must succeed; returns its stdout. Panics with its stderr if not.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The non-empty lines of a captured stream.
pub fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Signals (planar f32: one Vec per channel)

/// `len` frames of a sine of `freq` Hz and peak `amp` at `rate`, starting at `phase`.
pub fn sine(len: usize, rate: u32, freq: f64, amp: f64, phase: f64) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (amp * (std::f64::consts::TAU * freq * t + phase).sin()) as f32
        })
        .collect()
}

/// `a += b` sample by sample (over the shorter length).
pub fn add(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

/// Multiply by a slow tremolo: `1 − depth·(1 − cos(2π·rate_hz·t))/2`.
pub fn tremolo(x: &mut [f32], rate: u32, rate_hz: f64, depth: f64) {
    for (i, v) in x.iter_mut().enumerate() {
        let t = i as f64 / f64::from(rate);
        let g = 1.0 - depth * (1.0 - (std::f64::consts::TAU * rate_hz * t).cos()) / 2.0;
        *v = (f64::from(*v) * g) as f32;
    }
}

/// Raised-cosine fade-in over `fade` frames from `start`, silence before it, and a
/// fade-out over the last `fade` frames: no step anywhere, so resamplers see only
/// band-limited audio.
pub fn fade(x: &mut [f32], start: usize, fade: usize) {
    let len = x.len();
    for (i, v) in x.iter_mut().enumerate() {
        let g_in = if i < start {
            0.0
        } else if i < start + fade {
            0.5 - 0.5 * (std::f64::consts::PI * (i - start) as f64 / fade as f64).cos()
        } else {
            1.0
        };
        let from_end = len - 1 - i;
        let g_out = if from_end < fade {
            0.5 - 0.5 * (std::f64::consts::PI * from_end as f64 / fade as f64).cos()
        } else {
            1.0
        };
        *v = (f64::from(*v) * g_in * g_out) as f32;
    }
}

/// Half-length of [`add_click`]'s pulse, in frames.
pub const CLICK_HALF: usize = 32;

/// Add a sharp, band-limited click of peak `amp` centred exactly on frame `at`: a
/// windowed sinc (cut-off 0.3 × the rate, 4-term Blackman-Harris window over
/// ±[`CLICK_HALF`] frames). Its largest sample is at `at`, also after resampling (it
/// is symmetric), and it has next to nothing near Nyquist for resamplers to disagree on.
pub fn add_click(x: &mut [f32], at: usize, amp: f64) {
    let fc = 0.3;
    let half = CLICK_HALF as f64;
    for k in -(CLICK_HALF as i64)..=CLICK_HALF as i64 {
        let Some(v) = at.checked_add_signed(k as isize).and_then(|i| x.get_mut(i)) else {
            continue;
        };
        let n = k as f64;
        let arg = std::f64::consts::PI * 2.0 * fc * n;
        let sinc = if k == 0 { 1.0 } else { arg.sin() / arg };
        let w = {
            let p = std::f64::consts::TAU * (n + half) / (2.0 * half);
            0.35875 - 0.48829 * p.cos() + 0.14128 * (2.0 * p).cos() - 0.01168 * (3.0 * p).cos()
        };
        *v += (amp * sinc * w) as f32;
    }
}

// ---------------------------------------------------------------------------------------
// WAV files

/// A decoded WAV file: planar f32 (integers scaled to ±1).
#[derive(Clone, Debug)]
pub struct Wav {
    pub sample_rate: u32,
    pub bits: u16,
    pub float: bool,
    pub channels: Vec<Vec<f32>>,
}

impl Wav {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Read a WAV file (16/24/32-bit integer or 32-bit float) into planar f32.
pub fn read_wav(path: &Path) -> Wav {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let n = usize::from(spec.channels);
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / f64::from(1u32 << (spec.bits_per_sample - 1));
            r.samples::<i32>()
                .map(|s| (f64::from(s.unwrap()) * scale) as f32)
                .collect()
        }
    };
    Wav {
        sample_rate: spec.sample_rate,
        bits: spec.bits_per_sample,
        float: spec.sample_format == hound::SampleFormat::Float,
        channels: deinterleave(&interleaved, n),
    }
}

/// Write planar f32 as a 32-bit float WAV.
pub fn write_wav_f32(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w =
        hound::WavWriter::create(path, spec).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let len = channels.first().map_or(0, Vec::len);
    for i in 0..len {
        for c in channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Split interleaved samples into `n` channels.
pub fn deinterleave(x: &[f32], n: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|c| x.iter().skip(c).step_by(n.max(1)).copied().collect())
        .collect()
}

/// Decode any file with ffmpeg to planar f32 with `channels` channels, through the
/// optional filter graph `af`.
pub fn ffmpeg_decode(path: &Path, channels: usize, af: Option<&str>) -> Vec<Vec<f32>> {
    let mut cmd = ffmpeg();
    cmd.arg("-i").arg(path);
    if let Some(af) = af {
        cmd.args(["-af", af]);
    }
    cmd.args([
        "-ac",
        &channels.to_string(),
        "-f",
        "f32le",
        "-c:a",
        "pcm_f32le",
        "-",
    ]);
    f32le_planar(&run_ok_bytes(&mut cmd), channels)
}

/// Run a command that must succeed; returns its raw stdout.
pub fn run_ok_bytes(cmd: &mut Command) -> Vec<u8> {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Raw interleaved little-endian f32 to planar.
pub fn f32le_planar(bytes: &[u8], channels: usize) -> Vec<Vec<f32>> {
    let x: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    deinterleave(&x, channels)
}

// ---------------------------------------------------------------------------------------
// Measurements

/// Largest absolute value.
pub fn peak(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())))
}

/// Root mean square.
pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// A linear level in dBFS (−inf for silence).
pub fn dbfs(level: f64) -> f64 {
    20.0 * level.log10()
}

/// `a − b` sample by sample (over the shorter length).
pub fn diff(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// The frame of the largest absolute value within `radius` frames of `around`.
pub fn peak_frame(x: &[f32], around: usize, radius: usize) -> usize {
    let lo = around.saturating_sub(radius);
    let hi = (around + radius + 1).min(x.len());
    (lo..hi)
        .max_by(|a, b| x[*a].abs().total_cmp(&x[*b].abs()))
        .unwrap_or(around)
}

/// Amplitude of the `freq` Hz component of `x` (Hann-windowed single-bin DFT).
pub fn tone_level(x: &[f32], rate: u32, freq: f64) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
    for (i, v) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos();
        let ph = std::f64::consts::TAU * freq * i as f64 / f64::from(rate);
        re += f64::from(*v) * w * ph.cos();
        im -= f64::from(*v) * w * ph.sin();
        wsum += w;
    }
    2.0 * (re * re + im * im).sqrt() / wsum
}
