//! End to end: a multitrack of mixed formats and rates made with ffmpeg at test time,
//! grouped with `stemdeck group`, edited like a user would (gains, pans, mutes, stem
//! mute and solo), exported with `stemdeck export`, and checked against an independent
//! rendering of every stem by ffmpeg (soxr resampling, volume, pan, amix).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde_json::Value;
use stemdeck_e2e::*;

/// The session rate: 6 of the 9 files are at 48 kHz.
const RATE: u32 = 48_000;
const TITLE: &str = "Night Drive";

/// One track of the generated multitrack, and how the test edits it in the session.
struct Spec {
    /// File name without extension = the track name.
    name: &'static str,
    ext: &'static str,
    /// ffmpeg output options that make the format.
    codec: &'static [&'static str],
    rate: u32,
    /// Frames at `rate`.
    frames: usize,
    /// Silence at the start, in seconds.
    start: f64,
    /// Where the track's click is, in seconds (a multiple of 10 ms: a whole frame at
    /// both 44.1 and 48 kHz).
    click: f64,
    /// Tones (Hz, amplitude) of the left (or only) channel and, for stereo, the right.
    left: &'static [(f64, f64)],
    right: Option<&'static [(f64, f64)]>,
    /// Lossy or resampled: the click may land one frame off.
    approx: bool,
    /// The stem auto-grouping should put it in.
    stem: Option<&'static str>,
    gain_db: f64,
    pan: f64,
    mute: bool,
    solo: bool,
}

impl Spec {
    fn file(&self) -> String {
        format!("{}.{}", self.name, self.ext)
    }
    fn channels(&self) -> usize {
        if self.right.is_some() { 2 } else { 1 }
    }
    /// Its length at the session rate (rounded up, as documented).
    fn session_frames(&self) -> usize {
        (self.frames * RATE as usize).div_ceil(self.rate as usize)
    }
    /// Left and right gains of the documented pan law (mono) or balance (stereo).
    fn pan_gains(&self) -> (f64, f64) {
        let p = self.pan.clamp(-1.0, 1.0);
        if self.channels() == 2 {
            ((1.0 - p).min(1.0), (1.0 + p).min(1.0))
        } else if p == 0.0 {
            (1.0, 1.0)
        } else {
            let theta = (p + 1.0) * std::f64::consts::FRAC_PI_4;
            (std::f64::consts::SQRT_2 * theta.cos(), std::f64::consts::SQRT_2 * theta.sin())
        }
    }
}

/// `s` seconds in frames at `rate`, rounded.
const fn secs(s: f64, rate: u32) -> usize {
    (s * rate as f64 + 0.5) as usize
}

/// The multitrack: every common format, 44.1 and 48 kHz, mono and stereo, lossy and
/// lossless; one track starting late, one in no stem (and longer than the others: it
/// must not stretch the stems).
const TRACKS: &[Spec] = &[
    Spec {
        name: "01 Kick",
        ext: "wav",
        codec: &["-c:a", "pcm_s24le"],
        rate: 48_000,
        frames: secs(4.0, 48_000),
        start: 0.0,
        click: 0.5,
        left: &[(60.0, 0.12), (120.0, 0.04)],
        right: None,
        approx: false,
        stem: Some("Drums"),
        gain_db: 2.0,
        pan: 0.0,
        mute: false,
        solo: true, // export ignores solos
    },
    Spec {
        name: "02 Snare",
        ext: "wav",
        codec: &["-c:a", "pcm_s16le"],
        rate: 48_000,
        frames: secs(4.0, 48_000),
        start: 0.0,
        click: 0.75,
        left: &[(200.0, 0.06), (3100.0, 0.05)],
        right: None,
        approx: false,
        stem: Some("Drums"),
        gain_db: 0.0,
        pan: 0.1,
        mute: true, // must be absent from Drums
        solo: false,
    },
    Spec {
        name: "03 Hats",
        ext: "flac",
        codec: &["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"],
        rate: 44_100,
        // The longest stemmed track: 206 407.6… frames at 48 kHz, so 206 408.
        frames: secs(4.3, 44_100) + 7,
        start: 0.0,
        click: 1.0,
        left: &[(8000.0, 0.04)],
        right: Some(&[(9500.0, 0.04), (6000.0, 0.02)]),
        approx: true,
        stem: Some("Drums"),
        gain_db: -4.0,
        pan: 0.0,
        mute: false,
        solo: false,
    },
    Spec {
        name: "04 Bass",
        ext: "flac",
        codec: &["-c:a", "flac", "-sample_fmt", "s16"],
        rate: 48_000,
        frames: secs(4.0, 48_000),
        start: 0.0,
        click: 1.25,
        left: &[(82.41, 0.15), (164.81, 0.05)],
        right: None,
        approx: false,
        stem: Some("Bass"),
        gain_db: -2.0,
        pan: -0.4,
        mute: false,
        solo: false,
    },
    Spec {
        name: "05 Lead Vox",
        ext: "mp3",
        codec: &["-c:a", "libmp3lame", "-b:a", "256k"],
        rate: 44_100,
        frames: secs(3.8, 44_100),
        start: 0.0,
        click: 1.5,
        left: &[(440.0, 0.1), (660.0, 0.05), (1320.0, 0.03)],
        right: None,
        approx: true,
        stem: Some("Vocals"),
        gain_db: 1.5,
        pan: 0.25,
        mute: false,
        solo: false,
    },
    Spec {
        name: "06 BGV",
        ext: "ogg",
        codec: &["-c:a", "libvorbis", "-q:a", "8"],
        rate: 48_000,
        frames: secs(3.9, 48_000),
        start: 0.0,
        click: 1.75,
        left: &[(329.63, 0.07)],
        right: Some(&[(392.0, 0.07)]),
        approx: true,
        stem: Some("Vocals"),
        gain_db: -3.0,
        pan: 0.5,
        mute: false,
        solo: false,
    },
    Spec {
        name: "07 Keys",
        ext: "aiff",
        codec: &["-c:a", "pcm_s24be"],
        rate: 48_000,
        frames: secs(4.0, 48_000),
        start: 0.0,
        click: 2.0,
        left: &[(261.63, 0.08), (1046.5, 0.02)],
        right: Some(&[(523.25, 0.08)]),
        approx: false,
        stem: Some("Instruments"),
        gain_db: -1.0,
        pan: -0.3,
        mute: false,
        solo: false,
    },
    Spec {
        name: "08 Strings",
        ext: "wav",
        codec: &["-c:a", "pcm_f32le"],
        rate: 44_100,
        frames: secs(3.5, 44_100),
        start: 1.5,
        click: 2.25,
        left: &[(196.0, 0.06), (2500.0, 0.02)],
        right: Some(&[(293.66, 0.06)]),
        approx: true,
        stem: Some("Instruments"),
        gain_db: 0.0,
        pan: 0.0,
        mute: false,
        solo: false,
    },
    Spec {
        name: "09 Click",
        ext: "wav",
        codec: &["-c:a", "pcm_s16le"],
        rate: 48_000,
        frames: secs(5.0, 48_000),
        start: 0.0,
        click: 0.5,
        left: &[(1000.0, 0.01)],
        right: None,
        approx: false,
        stem: None,
        gain_db: 0.0,
        pan: 0.0,
        mute: false,
        solo: false,
    },
];

/// Stems in order, with the gain and the (export-ignored) mute and solo set on them.
const STEMS: &[(&str, f64, bool, bool)] = &[
    ("Drums", -1.5, false, false),
    ("Bass", 0.0, true, false),   // muted: still exported
    ("Vocals", 1.0, false, true), // soloed: the others still exported
    ("Instruments", -0.5, false, false),
];

/// The session length: the longest stemmed track at the session rate.
fn session_len() -> usize {
    TRACKS.iter().filter(|t| t.stem.is_some()).map(Spec::session_frames).max().unwrap()
}

fn stem_file(index: usize, stem: &str) -> String {
    format!("{index:02} {TITLE} - {stem}.wav")
}

fn db(gain_db: f64) -> f64 {
    10f64.powf(gain_db / 20.0)
}

/// Everything the tests share: the multitrack, the edited session, and one export of
/// it (wav32f with the master).
struct Fixture {
    dir: tempfile::TempDir,
    session: PathBuf,
    /// The wav32f + master export.
    float_out: PathBuf,
    export: Output,
}

impl Fixture {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn multitrack(&self) -> PathBuf {
        self.root().join(TITLE)
    }

    fn build() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        if std::env::var_os("E2E_DEBUG_KEEP").is_some() { eprintln!("KEEP {}", dir.path().display()); let _ = dir.path().to_path_buf(); }
        let src = dir.path().join("sources");
        let multitrack = dir.path().join(TITLE);
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&multitrack).unwrap();
        for t in TRACKS {
            let chans: Vec<Vec<f32>> = [Some(t.left), t.right]
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(c, tones)| signal(t, tones, c))
                .collect();
            let wav = src.join(format!("{}.wav", t.name));
            write_wav_f32(&wav, t.rate, &chans);
            // -ac: the float WAV has no channel mask, and ffmpeg would make a stereo MP3 of it.
            run_ok(
                ffmpeg()
                    .arg("-i")
                    .arg(&wav)
                    .args(["-ac", &t.channels().to_string()])
                    .args(t.codec)
                    .arg(multitrack.join(t.file())),
            );
        }

        let session = dir.path().join("session.json");
        let out = run_ok(stemdeck().arg("group").arg(&multitrack).arg("-o").arg(&session));
        assert!(out.contains("Saved"), "{out}");
        edit_session(&session, |s| {
            for t in TRACKS {
                let track = track_mut(s, t.name);
                track["gain_db"] = t.gain_db.into();
                track["pan"] = t.pan.into();
                track["mute"] = t.mute.into();
                track["solo"] = t.solo.into();
            }
            for (name, gain, mute, solo) in STEMS {
                let stem = stem_mut(s, name);
                stem["gain_db"] = (*gain).into();
                stem["mute"] = (*mute).into();
                stem["solo"] = (*solo).into();
            }
        });

        let float_out = dir.path().join("float");
        let export = run(stemdeck()
            .arg("export")
            .arg(&session)
            .args(["--format", "wav32f", "--master", "--out"])
            .arg(&float_out));
        let dir = if std::env::var_os("E2E_DEBUG_KEEP").is_some() { let p = dir.keep(); tempfile::tempdir_in(&p).unwrap() } else { dir };
        Fixture {
            dir,
            session,
            float_out,
            export,
        }
    }
}

/// One fixture per process while some test uses it (cargo test runs the tests of this
/// file as threads of one process; nextest runs each in its own).
fn fixture() -> Arc<Fixture> {
    static SHARED: Mutex<Weak<Fixture>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(f) = shared.upgrade() {
        return f;
    }
    let f = Arc::new(Fixture::build());
    *shared = Arc::downgrade(&f);
    f
}

/// Channel `c` of a track: its tones with a slow tremolo, silent until `start`, faded
/// in and out, and its click.
fn signal(t: &Spec, tones: &[(f64, f64)], c: usize) -> Vec<f32> {
    let mut x = vec![0.0f32; t.frames];
    for (k, (f, a)) in tones.iter().enumerate() {
        add(&mut x, &sine(t.frames, t.rate, *f, *a, 0.3 * (k + c) as f64));
    }
    tremolo(&mut x, t.rate, 1.0 + c as f64 * 0.3, 0.5);
    fade(&mut x, secs(t.start, t.rate), secs(0.02, t.rate));
    if t.name.ends_with("Click") {
        for k in 1..10 {
            add_click(&mut x, secs(0.5 * f64::from(k), t.rate), 0.5);
        }
    } else {
        add_click(&mut x, secs(t.click, t.rate), 0.6);
    }
    x
}

fn edit_session(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut s);
    std::fs::write(path, serde_json::to_string_pretty(&s).unwrap()).unwrap();
}

fn track_mut<'a>(s: &'a mut Value, name: &str) -> &'a mut Value {
    s["tracks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no track {name:?} in the session"))
}

fn stem_mut<'a>(s: &'a mut Value, name: &str) -> &'a mut Value {
    s["stems"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no stem {name:?} in the session"))
}

fn assert_exported(out: &Output) {
    assert!(
        out.status.success(),
        "export failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files of a folder (names), sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The files an export with the master writes, by stem name.
fn expected_files() -> BTreeMap<&'static str, String> {
    let mut m: BTreeMap<&str, String> =
        STEMS.iter().enumerate().map(|(i, (s, ..))| (*s, stem_file(i + 1, s))).collect();
    m.insert("Master", stem_file(0, "Master"));
    m
}

fn assert_no_partial_files(dir: &Path) {
    let partial: Vec<String> = listing(dir).into_iter().filter(|n| n.contains(".partial")).collect();
    assert!(partial.is_empty(), "left behind in {}: {partial:?}", dir.display());
}

/// ffmpeg's rendering of one stem, independent of Stemdeck's code: each member track
/// decoded by ffmpeg, converted to the session rate by soxr (precision 28), its gain
/// applied with `volume`, panned with `pan` by the documented law, summed with `amix`
/// (no normalisation), the stem gain applied, padded/cut to the session length.
fn ffmpeg_stem(dir: &Path, stem: &str, stem_gain_db: f64, len: usize) -> [Vec<f32>; 2] {
    let members: Vec<&Spec> = TRACKS.iter().filter(|t| t.stem == Some(stem) && !t.mute).collect();
    let mut cmd = ffmpeg();
    let mut graph = String::new();
    for (i, t) in members.iter().enumerate() {
        cmd.arg("-i").arg(dir.join(t.file()));
        let (l, r) = t.pan_gains();
        let right_in = if t.channels() == 2 { "c1" } else { "c0" };
        graph.push_str(&format!(
            "[{i}:a]aformat=sample_fmts=dblp,aresample={RATE}:resampler=soxr:precision=28,\
             volume={}dB:precision=double,pan=stereo|c0={l:.12}*c0|c1={r:.12}*{right_in}[t{i}];",
            t.gain_db
        ));
    }
    for i in 0..members.len() {
        graph.push_str(&format!("[t{i}]"));
    }
    graph.push_str(&format!(
        "amix=inputs={}:normalize=0:duration=longest,volume={stem_gain_db}dB:precision=double,\
         apad=whole_len={len},atrim=end_sample={len}[out]",
        members.len()
    ));
    cmd.args(["-filter_complex", &graph, "-map", "[out]", "-c:a", "pcm_f32le", "-f", "f32le", "-"]);
    let planar = f32le_planar(&run_ok_bytes(&mut cmd), 2);
    let [l, r]: [Vec<f32>; 2] = planar.try_into().unwrap();
    [l, r]
}

// ---------------------------------------------------------------------------------------

#[test]
fn export_reports_every_stem_and_the_unassigned_track() {
    let f = fixture();
    assert_exported(&f.export);
    let stdout = String::from_utf8_lossy(&f.export.stdout);
    let stderr = String::from_utf8_lossy(&f.export.stderr);
    for name in expected_files().values() {
        assert!(stdout.contains(name.as_str()), "stdout does not mention {name:?}:\n{stdout}");
    }
    assert!(stdout.contains(&format!("{} frames", session_len())), "{stdout}");
    assert!(
        lines(&f.export.stderr).iter().any(|l| l.contains("09 Click")),
        "the unassigned track is not mentioned on stderr:\n{stderr}"
    );
    assert!(!stdout.contains("09 Click"), "the unassigned track was exported?\n{stdout}");
    let mut want: Vec<String> = expected_files().into_values().collect();
    want.sort();
    assert_eq!(listing(&f.float_out), want);
}

#[test]
fn stems_are_aligned_sum_to_the_master_and_match_ffmpeg() {
    let f = fixture();
    assert_exported(&f.export);
    let len = session_len();
    let files = expected_files();
    let read = |stem: &str| {
        let w = read_wav(&f.float_out.join(&files[stem]));
        assert_eq!(w.channels.len(), 2, "{stem}: not stereo");
        assert_eq!(w.sample_rate, RATE, "{stem}: not at the session rate");
        assert!(w.float && w.bits == 32, "{stem}: not 32-bit float");
        assert_eq!(w.frames(), len, "{stem}: not exactly the session length");
        w.channels
    };
    let stems: BTreeMap<&str, Vec<Vec<f32>>> = STEMS.iter().map(|(s, ..)| (*s, read(s))).collect();
    let master = read("Master");

    // Every click where it belongs in its stem: from sample 0, to the frame.
    for t in TRACKS.iter().filter(|t| !t.mute) {
        let Some(stem) = t.stem else { continue };
        let (gl, gr) = t.pan_gains();
        let ch = &stems[stem][usize::from(gr > gl)];
        let want = secs(t.click, RATE);
        let got = peak_frame(ch, want, 24);
        let tol = if t.approx { 1 } else { 0 };
        assert!(
            got.abs_diff(want) <= tol,
            "{}: click at frame {got} of {stem}, expected {want} (±{tol})",
            t.name
        );
    }

    // The stems add up to the master.
    for c in 0..2 {
        let mut sum = vec![0.0f32; len];
        for s in stems.values() {
            add(&mut sum, &s[c]);
        }
        let worst = peak(&diff(&sum, &master[c]));
        assert!(worst <= 1e-6, "channel {c}: stems differ from the master by up to {worst:e}");
    }

    // The muted snare is not in Drums: its 3.1 kHz tone (no other drum track has it) is
    // gone in a stretch without clicks (2.5 – 3.5 s).
    let quiet = |x: &[f32]| x[secs(2.5, RATE)..secs(3.5, RATE)].to_vec();
    for c in 0..2 {
        let level = tone_level(&quiet(&stems["Drums"][c]), RATE, 3100.0);
        assert!(level < 1e-5, "the muted snare is in Drums (3.1 kHz at {:.1} dBFS)", dbfs(level));
        // ...while the kick it shares the stem with is there (60 Hz at 0.12 × gains).
        assert!(tone_level(&quiet(&stems["Drums"][c]), RATE, 60.0) > 0.02);
    }

    // Each stem against ffmpeg's rendering of the same tracks.
    // Measured (peak / RMS of the residual, dBFS; stem RMS):
    //   (filled in below once measured)
    for (stem, gain, ..) in STEMS {
        let reference = ffmpeg_stem(&f.multitrack(), stem, *gain, len);
        let ours = &stems[stem];
        let mut res = Vec::new();
        for c in 0..2 {
            res.extend(diff(&ours[c], &reference[c]));
        }
        let signal: Vec<f32> = ours.concat();
        let (res_peak, res_rms, sig_rms) = (dbfs(peak(&res)), dbfs(rms(&res)), dbfs(rms(&signal)));
        println!(
            "{stem:<12} residual peak {res_peak:7.1} dBFS, RMS {res_rms:7.1} dBFS; stem RMS {sig_rms:6.1} dBFS \
             ({:.1} dB below)",
            sig_rms - res_rms
        );
    }
}
