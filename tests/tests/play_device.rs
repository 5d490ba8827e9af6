//! Real-time playback through a real audio stack: PulseAudio with a null sink (ALSA's
//! default device plays into it in real time), recorded from the sink's monitor with
//! parec and compared with the offline render of the same mix.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;
use stemdeck_e2e::*;

const RATE: u32 = 48_000;
const SINK: &str = "stemdeck_test";

fn tool(name: &str) -> Command {
    let mut c = Command::new(name);
    c.stdin(Stdio::null());
    c
}

/// Tests here share (and one of them kills) the sound server: one at a time, also
/// across the processes nextest runs them in.
fn exclusive() -> std::fs::File {
    let f = std::fs::File::create(std::env::temp_dir().join("stemdeck-pulse-tests.lock")).unwrap();
    f.lock().unwrap();
    f
}

/// Start PulseAudio if it is not running, and make a 48 kHz null sink the default.
fn pulse_null_sink() {
    let running = tool("pactl")
        .arg("info")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !running {
        let ok = tool("pulseaudio")
            .args(["--daemonize=yes", "--exit-idle-time=-1", "-n", "--load=module-native-protocol-unix"])
            .status()
            .unwrap_or_else(|e| panic!("pulseaudio is required for this test (apt-get install pulseaudio pulseaudio-utils libasound2-plugins): {e}"));
        assert!(ok.success(), "pulseaudio did not start");
        for _ in 0..50 {
            if tool("pactl")
                .arg("info")
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let sinks = String::from_utf8_lossy(
        &tool("pactl")
            .args(["list", "short", "sinks"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    if !sinks.contains(SINK) {
        let st = tool("pactl")
            .args([
                "load-module",
                "module-null-sink",
                &format!("sink_name={SINK}"),
                "rate=48000",
                "channels=2",
            ])
            .status()
            .unwrap();
        assert!(st.success(), "cannot load module-null-sink");
    }
    assert!(
        tool("pactl")
            .args(["set-default-sink", SINK])
            .status()
            .unwrap()
            .success()
    );
}

fn record(path: &Path) -> Child {
    tool("parec")
        .args([
            "-d",
            &format!("{SINK}.monitor"),
            "--rate=48000",
            "--channels=2",
            "--format=float32le",
            "--file-format=wav",
        ])
        .arg(path)
        .spawn()
        .expect("parec (pulseaudio-utils) is required")
}

/// Deterministic noise bursts: a sharp correlation peak, unlike pure tones.
fn noise_bursts(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..len)
        .map(|i| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
            let env = if (i / 6000) % 2 == 0 { 0.3 } else { 0.05 };
            n * env
        })
        .collect()
}

/// The lag (frames) at which `rec` best matches `reference`, by FFT cross-correlation.
fn best_lag(rec: &[f32], reference: &[f32]) -> usize {
    let n = (rec.len() + reference.len()).next_power_of_two();
    let mut planner = FftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    let ifft = planner.plan_fft_inverse(n);
    let mut a: Vec<Complex<f32>> = rec
        .iter()
        .map(|x| Complex::new(*x, 0.0))
        .chain(std::iter::repeat(Complex::new(0.0, 0.0)))
        .take(n)
        .collect();
    let mut b: Vec<Complex<f32>> = reference
        .iter()
        .map(|x| Complex::new(*x, 0.0))
        .chain(std::iter::repeat(Complex::new(0.0, 0.0)))
        .take(n)
        .collect();
    fft.process(&mut a);
    fft.process(&mut b);
    let mut c: Vec<Complex<f32>> = a.iter().zip(&b).map(|(x, y)| x * y.conj()).collect();
    ifft.process(&mut c);
    (0..rec.len().saturating_sub(reference.len()).max(1))
        .max_by(|i, j| c[*i].re.total_cmp(&c[*j].re))
        .unwrap()
}

fn ncc(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        ab += f64::from(*x) * f64::from(*y);
        aa += f64::from(*x) * f64::from(*x);
        bb += f64::from(*y) * f64::from(*y);
    }
    ab / (aa * bb).sqrt().max(1e-30)
}

#[test]
fn playback_through_a_real_device_matches_the_offline_mix_without_the_muted_stem() {
    let _one_at_a_time = exclusive();
    pulse_null_sink();
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("Song");
    std::fs::create_dir(&audio).unwrap();
    let len = RATE as usize * 5;
    let mut drums = noise_bursts(len, 1);
    add_click(&mut drums, RATE as usize, 0.9);
    write_wav_f32(&audio.join("Drums Loop.wav"), RATE, &[drums]);
    write_wav_f32(
        &audio.join("Bass DI.wav"),
        RATE,
        &[sine(len, RATE, 110.0, 0.3, 0.0)],
    );
    let mut vox = sine(len, RATE, 1234.0, 0.4, 0.0);
    tremolo(&mut vox, RATE, 3.0, 0.5);
    write_wav_f32(&audio.join("Lead Vox.wav"), RATE, &[vox]);
    write_wav_f32(
        &audio.join("Keys.wav"),
        RATE,
        &[
            sine(len, RATE, 523.25, 0.2, 0.0),
            sine(len, RATE, 659.25, 0.2, 0.0),
        ],
    );
    let session = dir.path().join("song.json");
    run_ok(stemdeck().arg("group").arg(&audio).arg("-o").arg(&session));

    // The reference: the exported stems, summed without Vocals.
    let stems = dir.path().join("stems");
    run_ok(
        stemdeck()
            .args(["export", "--format", "wav32f", "--out"])
            .arg(&stems)
            .arg(&session),
    );
    let mut reference = vec![vec![0.0f32; len]; 2];
    let mut vocals = Vec::new();
    for entry in std::fs::read_dir(&stems).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "wav") {
            continue; // the song information sheet
        }
        let w = read_wav(&p);
        if p.to_string_lossy().contains("Vocals") {
            vocals = w.channels.clone();
            continue;
        }
        for (r, c) in reference.iter_mut().zip(&w.channels) {
            add(r, c);
        }
    }
    assert!(!vocals.is_empty());

    let rec_path = dir.path().join("rec.wav");
    let mut rec = record(&rec_path);
    std::thread::sleep(Duration::from_millis(400));
    let out = run_ok(
        stemdeck()
            .args(["play", "--start", "1", "--seconds", "3", "--mute", "vocals"])
            .arg(&session),
    );
    assert!(out.contains("Played"), "{out}");
    std::thread::sleep(Duration::from_millis(400));
    Command::new("kill")
        .args(["-INT", &rec.id().to_string()])
        .status()
        .unwrap();
    rec.wait().unwrap();

    let got = read_wav(&rec_path);
    assert_eq!(got.sample_rate, RATE);
    // Compare 2 s from the middle of what was played (seconds 1.5 – 3.5 of the song).
    let ref_l = &reference[0][RATE as usize * 3 / 2..RATE as usize * 7 / 2];
    let lag = best_lag(&got.channels[0], ref_l);
    let n = ref_l.len();
    assert!(
        lag + n <= got.frames(),
        "the recording is too short: {} frames",
        got.frames()
    );
    for ch in 0..2 {
        let rec = &got.channels[ch][lag..lag + n];
        let want = &reference[ch][RATE as usize * 3 / 2..RATE as usize * 7 / 2];
        let c = ncc(rec, want);
        eprintln!("channel {ch}: normalised cross-correlation {c:.6} at lag {lag}");
        assert!(c > 0.99, "channel {ch}: correlation {c}");
        // The muted stem is absent: its 1234 Hz tone is not in the recording.
        let vox = &vocals[ch][RATE as usize * 3 / 2..RATE as usize * 7 / 2];
        // What the recording holds beyond the reference (which has no vocals).
        let extra: Vec<f32> = rec.iter().zip(want).map(|(r, w)| r - w).collect();
        let heard = tone_level(&extra, RATE, 1234.0);
        let would_be = tone_level(vox, RATE, 1234.0);
        eprintln!(
            "channel {ch}: 1234 Hz beyond the reference {:.1} dBFS (the vocal stem alone {:.1} dBFS)",
            dbfs(heard),
            dbfs(would_be)
        );
        assert!(
            heard < would_be / 1000.0,
            "the muted Vocals stem is audible"
        );
    }
}

#[test]
fn playback_survives_the_device_disappearing_and_resumes_when_it_is_back() {
    let _one_at_a_time = exclusive();
    pulse_null_sink();
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("Song");
    std::fs::create_dir(&audio).unwrap();
    let len = RATE as usize * 4;
    write_wav_f32(&audio.join("Kick.wav"), RATE, &[noise_bursts(len, 3)]);
    write_wav_f32(
        &audio.join("Lead Vox.wav"),
        RATE,
        &[sine(len, RATE, 440.0, 0.3, 0.0)],
    );
    let mut play = stemdeck()
        .arg("play")
        .arg(&audio)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    // The device goes away mid-song ...
    assert!(tool("pulseaudio").arg("-k").status().unwrap().success());
    std::thread::sleep(Duration::from_millis(2500));
    // ... and comes back.
    pulse_null_sink();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while play.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "stemdeck play did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = play.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stderr}", out.status);
    assert!(
        stderr.contains("playback resumes when it is back"),
        "{stderr}"
    );
    assert!(stderr.contains("output device is back"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("Played 0:04.000"),
        "played to the end: {stdout}"
    );
}
