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
/// Peak of every track's click.
const CLICK: f64 = 0.6;

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
    /// Lossy: the click may land one frame off.
    lossy: bool,
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
    /// Its length at the session rate `rate` (rounded up, as documented).
    fn session_frames(&self, rate: u32) -> usize {
        (self.frames * rate as usize).div_ceil(self.rate as usize)
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
            (
                std::f64::consts::SQRT_2 * theta.cos(),
                std::f64::consts::SQRT_2 * theta.sin(),
            )
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
        lossy: false,
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
        lossy: false,
        stem: Some("Drums"),
        gain_db: 0.0,
        pan: 0.1,
        mute: true, // must be absent from Drums
        solo: false,
    },
    Spec {
        name: "03 Hats",
        ext: "flac",
        codec: &[
            "-c:a",
            "flac",
            "-sample_fmt",
            "s32",
            "-bits_per_raw_sample",
            "24",
        ],
        rate: 44_100,
        // The longest stemmed track: 206 407.6… frames at 48 kHz, so 206 408.
        frames: secs(4.3, 44_100) + 7,
        start: 0.0,
        click: 1.0,
        left: &[(8000.0, 0.04)],
        right: Some(&[(9500.0, 0.04), (6000.0, 0.02)]),
        lossy: true,
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
        lossy: false,
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
        lossy: true,
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
        lossy: true,
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
        lossy: false,
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
        lossy: false,
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
        lossy: false,
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

/// The session length: the longest stemmed track at the session rate `rate`.
fn session_len(rate: u32) -> usize {
    TRACKS
        .iter()
        .filter(|t| t.stem.is_some())
        .map(|t| t.session_frames(rate))
        .max()
        .unwrap()
}

/// dB to a linear gain.
fn db(gain_db: f64) -> f64 {
    10f64.powf(gain_db / 20.0)
}

fn stem_file(index: usize, stem: &str) -> String {
    format!("{index:02} {TITLE} - {stem}.wav")
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
        let out = run_ok(
            stemdeck()
                .arg("group")
                .arg(&multitrack)
                .arg("-o")
                .arg(&session),
        );
        assert!(out.contains("Saved"), "{out}");
        edit_session(&session, |s| {
            // Auto-grouping put every track where its name says.
            let name_of = |id: &Value| {
                let t = s["tracks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["id"] == *id);
                t.unwrap()["name"].as_str().unwrap().to_owned()
            };
            for stem in s["stems"].as_array().unwrap() {
                let names: Vec<String> = stem["tracks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(name_of)
                    .collect();
                let want: Vec<&str> = TRACKS
                    .iter()
                    .filter(|t| t.stem.is_some_and(|n| stem["name"] == n))
                    .map(|t| t.name)
                    .collect();
                assert_eq!(names, want, "the tracks grouped into {}", stem["name"]);
            }
            let stems: Vec<&str> = s["stems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = STEMS.iter().map(|(n, ..)| *n).collect();
            assert_eq!(stems, want, "{out}");
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
        add(
            &mut x,
            &sine(t.frames, t.rate, *f, *a, 0.3 * (k + c) as f64),
        );
    }
    tremolo(&mut x, t.rate, 1.0 + c as f64 * 0.3, 0.5);
    fade(&mut x, secs(t.start, t.rate), secs(0.02, t.rate));
    if t.name.ends_with("Click") {
        for k in 1..10 {
            add_click(&mut x, secs(0.5 * f64::from(k), t.rate), 0.5);
        }
    } else {
        add_click(&mut x, secs(t.click, t.rate), CLICK);
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

/// The audio files of a folder (names), sorted: the song information sheet beside
/// them is checked in delivery_e2e.
fn audio_listing(dir: &Path) -> Vec<String> {
    let mut v = listing(dir);
    v.retain(|n| n.ends_with(".wav"));
    v
}

/// The files an export with the master writes, by stem name.
fn expected_files() -> BTreeMap<&'static str, String> {
    let mut m: BTreeMap<&str, String> = STEMS
        .iter()
        .enumerate()
        .map(|(i, (s, ..))| (*s, stem_file(i + 1, s)))
        .collect();
    m.insert("Master", stem_file(0, "Master"));
    m
}

fn assert_no_partial_files(dir: &Path) {
    let partial: Vec<String> = listing(dir)
        .into_iter()
        .filter(|n| n.contains(".partial"))
        .collect();
    assert!(
        partial.is_empty(),
        "left behind in {}: {partial:?}",
        dir.display()
    );
}

/// ffmpeg's rendering of one stem, independent of Stemdeck's code: each member track
/// decoded by ffmpeg, converted to the session rate by soxr (precision 28), its gain
/// applied with `volume`, panned with `pan` by the documented law, summed with `amix`
/// (no normalisation), the stem gain applied, padded/cut to the session length.
fn ffmpeg_stem(dir: &Path, stem: &str, stem_gain_db: f64, rate: u32, len: usize) -> [Vec<f32>; 2] {
    let members: Vec<&Spec> = TRACKS
        .iter()
        .filter(|t| t.stem == Some(stem) && !t.mute)
        .collect();
    let mut cmd = ffmpeg();
    let mut graph = String::new();
    for (i, t) in members.iter().enumerate() {
        cmd.arg("-i").arg(dir.join(t.file()));
        let (l, r) = t.pan_gains();
        let right_in = if t.channels() == 2 { "c1" } else { "c0" };
        graph.push_str(&format!(
            "[{i}:a]aformat=sample_fmts=dblp,aresample={rate}:resampler=soxr:precision=28,\
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
    cmd.args([
        "-filter_complex",
        &graph,
        "-map",
        "[out]",
        "-c:a",
        "pcm_f32le",
        "-f",
        "f32le",
        "-",
    ]);
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
        assert!(
            stdout.contains(name.as_str()),
            "stdout does not mention {name:?}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!("{} frames", session_len(RATE))),
        "{stdout}"
    );
    assert!(
        lines(&f.export.stderr)
            .iter()
            .any(|l| l.contains("09 Click")),
        "the unassigned track is not mentioned on stderr:\n{stderr}"
    );
    assert!(
        !stdout.contains("09 Click"),
        "the unassigned track was exported?\n{stdout}"
    );
    let mut want: Vec<String> = expected_files().into_values().collect();
    want.sort();
    assert_eq!(audio_listing(&f.float_out), want);
}

#[test]
fn stems_are_aligned_sum_to_the_master_and_match_ffmpeg() {
    let f = fixture();
    assert_exported(&f.export);
    // Measured here (ffmpeg 5.1.9 with libsoxr, symphonia 0.6): residual peak / residual
    // RMS, and how far the residual RMS is below the stem's RMS:
    //   Drums        -138.5 / -164.4 dBFS, 141.4 dB below (kick 24-bit, hats 44.1 kHz FLAC)
    //   Bass         -150.5 / -169.8 dBFS, 146.1 dB below (16-bit FLAC, panned mono)
    //   Vocals       -123.9 / -145.4 dBFS, 123.6 dB below (MP3 44.1 kHz, Vorbis)
    //   Instruments  -132.5 / -158.3 dBFS, 129.9 dB below (AIFF, 44.1 kHz float WAV)
    // That is float rounding (and, for Vocals, two lossy decoders): the resampler, gains,
    // pan law and alignment all agree. The bounds are 10 dB above the measurements.
    let bounds = [
        (-128.0, 131.0),
        (-140.0, 136.0),
        (-113.0, 113.0),
        (-122.0, 119.0),
    ];
    check_stems(&f.multitrack(), &f.float_out, RATE, &bounds);
}

#[test]
fn a_session_at_another_rate_converts_every_track_to_it() {
    let f = fixture();
    // The same session at 44.1 kHz: now the 48 kHz tracks are converted (down, by
    // 147/160, whose odd numerator is the resampler's awkward case).
    let session = f.root().join("session-44k.json");
    std::fs::copy(&f.session, &session).unwrap();
    edit_session(&session, |s| s["sample_rate"] = 44_100.into());
    let out = f.root().join("at-44k");
    assert_exported(&run(stemdeck()
        .arg("export")
        .arg(&session)
        .args(["--format", "wav32f", "--master", "--out"])
        .arg(&out)));
    // Measured as above (residual peak / RMS, RMS below the stem's):
    //   Drums        -132.5 / -157.3 dBFS, 134.3 dB below (kick, snare 48 → 44.1 kHz)
    //   Bass         -128.6 / -144.0 dBFS, 120.4 dB below (48 → 44.1 kHz)
    //   Vocals       -119.8 / -146.1 dBFS, 124.3 dB below (MP3 native, Vorbis 48 → 44.1 kHz)
    //   Instruments  -138.5 / -164.2 dBFS, 135.8 dB below (AIFF 48 → 44.1 kHz)
    // Bounds: 10 dB above the measurements.
    let bounds = [
        (-122.0, 124.0),
        (-118.0, 110.0),
        (-109.0, 114.0),
        (-128.0, 125.0),
    ];
    check_stems(&f.multitrack(), &out, 44_100, &bounds);
}

/// Check an export (wav32f with the master) at `rate`: format and length of every file,
/// every click on its frame, the stems summing to the master, the muted track absent,
/// and each stem against ffmpeg's rendering: residual peak at most `bounds[i].0` dBFS
/// and residual RMS at least `bounds[i].1` dB below the stem's RMS.
fn check_stems(multitrack: &Path, out_dir: &Path, rate: u32, bounds: &[(f64, f64)]) {
    let len = session_len(rate);
    let files = expected_files();
    let read = |stem: &str| {
        let w = read_wav(&out_dir.join(&files[stem]));
        assert_eq!(w.channels.len(), 2, "{stem}: not stereo");
        assert_eq!(w.sample_rate, rate, "{stem}: not at the session rate");
        assert!(w.float && w.bits == 32, "{stem}: not 32-bit float");
        assert_eq!(w.frames(), len, "{stem}: not exactly the session length");
        w.channels
    };
    let stems: BTreeMap<&str, Vec<Vec<f32>>> = STEMS.iter().map(|(s, ..)| (*s, read(s))).collect();
    let master = read("Master");

    // Every click where it belongs in its stem: from sample 0, to the frame (±1 where
    // a lossy codec or a rate conversion is on the way).
    for t in TRACKS.iter().filter(|t| !t.mute) {
        let Some(stem) = t.stem else { continue };
        let (gl, gr) = t.pan_gains();
        let ch = &stems[stem][usize::from(gr > gl)];
        let want = secs(t.click, rate);
        let got = peak_frame(ch, want, 24);
        // The click's height in the stem (0.6 × gains), give or take the other tracks.
        let stem_gain = STEMS.iter().find(|s| s.0 == stem).unwrap().1;
        let height = CLICK * db(t.gain_db + stem_gain) * gl.max(gr);
        assert!(
            (f64::from(ch[got].abs()) - height).abs() < 0.5 * height,
            "{}: no click near frame {want} of {stem} at {rate} Hz (peak {} there, expected about {height:.3})",
            t.name,
            ch[got]
        );
        let tol = usize::from(t.lossy || t.rate != rate);
        assert!(
            got.abs_diff(want) <= tol,
            "{}: click at frame {got} of {stem}, expected {want} (±{tol}) at {rate} Hz",
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
        assert!(
            worst <= 1e-6,
            "channel {c}: stems differ from the master by up to {worst:e}"
        );
    }

    // The muted snare is not in Drums: its 3.1 kHz tone (no other drum track has it) is
    // gone in a stretch without clicks (2.5 – 3.5 s)...
    let quiet = |x: &[f32]| x[secs(2.5, rate)..secs(3.5, rate)].to_vec();
    for drums in &stems["Drums"] {
        let level = tone_level(&quiet(drums), rate, 3100.0);
        assert!(
            level < 1e-5,
            "the muted snare is in Drums (3.1 kHz at {:.1} dBFS)",
            dbfs(level)
        );
        // ...while the kick it shares the stem with is there (60 Hz at 0.12 × gains).
        assert!(tone_level(&quiet(drums), rate, 60.0) > 0.02);
    }

    // Each stem against ffmpeg's rendering of the same tracks.
    for ((stem, gain, ..), (max_peak, min_below)) in STEMS.iter().zip(bounds) {
        let reference = ffmpeg_stem(multitrack, stem, *gain, rate, len);
        let ours = &stems[stem];
        let mut res = Vec::new();
        for c in 0..2 {
            assert_eq!(
                reference[c].len(),
                len,
                "ffmpeg's {stem} has the wrong length"
            );
            res.extend(diff(&ours[c], &reference[c]));
        }
        let signal: Vec<f32> = ours.concat();
        let (res_peak, res_rms, sig_rms) = (dbfs(peak(&res)), dbfs(rms(&res)), dbfs(rms(&signal)));
        println!(
            "{rate} Hz {stem:<12} residual peak {res_peak:7.1} dBFS, RMS {res_rms:7.1} dBFS; \
             stem RMS {sig_rms:6.1} dBFS ({:.1} dB below)",
            sig_rms - res_rms
        );
        assert!(
            res_peak <= *max_peak && sig_rms - res_rms >= *min_below,
            "{stem} at {rate} Hz differs from ffmpeg's rendering: residual peak {res_peak:.1} dBFS \
             (bound {max_peak}), RMS {res_rms:.1} dBFS = {:.1} dB below the stem (bound {min_below})",
            sig_rms - res_rms
        );
    }
}

#[test]
fn stem_mute_and_solo_do_not_change_the_stems() {
    let f = fixture();
    assert_exported(&f.export);
    // The same session without the stem mute, the stem solo and the track solo.
    let plain = f.root().join("session-no-flags.json");
    std::fs::copy(&f.session, &plain).unwrap();
    edit_session(&plain, |s| {
        for stem in s["stems"].as_array_mut().unwrap() {
            stem["mute"] = false.into();
            stem["solo"] = false.into();
        }
        for t in s["tracks"].as_array_mut().unwrap() {
            t["solo"] = false.into();
        }
    });
    let out = f.root().join("no-flags");
    assert_exported(&run(stemdeck()
        .arg("export")
        .arg(&plain)
        .args(["--format", "wav32f", "--master", "--out"])
        .arg(&out)));
    assert_eq!(audio_listing(&out), audio_listing(&f.float_out));
    for name in audio_listing(&out) {
        let (a, b) = (
            std::fs::read(f.float_out.join(&name)).unwrap(),
            std::fs::read(out.join(&name)).unwrap(),
        );
        assert!(
            a == b,
            "{name}: the stem mute/solo flags changed the export"
        );
    }
    // The muted Bass stem is there and not silent.
    let bass = read_wav(&f.float_out.join(stem_file(2, "Bass")));
    assert!(
        peak(&bass.channels[0]) > 0.1,
        "the muted Bass stem was exported silent"
    );
}

#[test]
fn existing_files_are_kept_without_force() {
    let f = fixture();
    // Default folder: "<title> - Stems" beside the session; default format: wav24.
    let export = || {
        let mut cmd = stemdeck();
        cmd.arg("export").arg(&f.session).arg("--master");
        cmd
    };
    let dir = f.root().join(format!("{TITLE} - Stems"));
    assert_exported(&run(&mut export()));
    let mut want: Vec<String> = expected_files().into_values().collect();
    want.sort();
    assert_eq!(audio_listing(&dir), want);
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
        listing(dir)
            .into_iter()
            .map(|n| {
                let p = dir.join(&n);
                let modified = std::fs::metadata(&p).unwrap().modified().unwrap();
                (n, std::fs::read(&p).unwrap(), modified)
            })
            .collect()
    };
    let before = snapshot(&dir);

    let out = run(&mut export());
    assert_eq!(
        out.status.code(),
        Some(1),
        "a second export without --force did not fail with 1"
    );
    let stderr = lines(&out.stderr);
    let first = stem_file(1, "Drums");
    let naming: Vec<&String> = stderr.iter().filter(|l| l.contains(&first)).collect();
    assert_eq!(
        naming.len(),
        1,
        "one line should name {first}:\n{}",
        stderr.join("\n")
    );
    assert!(naming[0].contains("--force"), "{}", naming[0]);
    let errors: Vec<&String> = stderr.iter().filter(|l| !l.contains("note:")).collect();
    assert_eq!(errors, naming, "more than the one error line on stderr");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert!(
        before == snapshot(&dir),
        "a refused export touched the files"
    );
    assert_no_partial_files(&dir);

    assert_exported(&run(export().arg("--force")));
    assert_eq!(audio_listing(&dir), want);
    assert_no_partial_files(&dir);
}

#[test]
fn integer_formats_match_the_float_stems() {
    let f = fixture();
    assert_exported(&f.export);
    let len = session_len(RATE);
    for (format, lsb, bound) in [
        ("wav16", 1.0 / 32768.0, 2.0 / 32768.0),
        ("wav24", 1.0 / 8_388_608.0, 1.0 / 8_388_608.0 + 1e-9),
    ] {
        let out_dir = f.root().join(format);
        let out = run(stemdeck()
            .arg("export")
            .arg(&f.session)
            .args(["--format", format, "--master", "--out"])
            .arg(&out_dir));
        assert_exported(&out);
        assert!(!String::from_utf8_lossy(&out.stdout).contains("CLIPPED"));
        assert_no_partial_files(&out_dir);
        assert_eq!(audio_listing(&out_dir), audio_listing(&f.float_out));
        let (mut err_sum, mut err_sq, mut n) = (0.0f64, 0.0f64, 0usize);
        for name in audio_listing(&out_dir) {
            let header = read_wav(&out_dir.join(&name));
            assert_eq!(
                (header.bits, header.float, header.sample_rate),
                (if format == "wav16" { 16 } else { 24 }, false, RATE),
                "{format} {name}"
            );
            // Decoded by ffmpeg, not by the reader that wrote it.
            let ints = ffmpeg_decode(&out_dir.join(&name), 2, None);
            let float = read_wav(&f.float_out.join(&name)).channels;
            for c in 0..2 {
                assert_eq!(ints[c].len(), len, "{format} {name}: wrong length");
                let d = diff(&ints[c], &float[c]);
                let worst = peak(&d);
                assert!(
                    worst <= bound,
                    "{format} {name}: {:.2} LSB from the float stem",
                    worst / lsb
                );
                err_sum += d.iter().map(|e| f64::from(*e) / lsb).sum::<f64>();
                err_sq += d.iter().map(|e| (f64::from(*e) / lsb).powi(2)).sum::<f64>();
                n += d.len();
            }
        }
        let (mean, rms) = (err_sum / n as f64, (err_sq / n as f64).sqrt());
        println!("{format}: error vs float mean {mean:+.4} LSB, RMS {rms:.4} LSB");
        assert!(mean.abs() < 0.01, "{format}: biased by {mean} LSB");
        if format == "wav16" {
            // TPDF dither of ±1 LSB plus rounding: 0.5 LSB RMS (plain rounding 0.29).
            assert!(
                (0.47..0.53).contains(&rms),
                "wav16: error {rms} LSB RMS, not TPDF-dithered"
            );
        } else {
            // Plain rounding: 1/√12 LSB RMS.
            assert!(rms < 0.31, "wav24: error {rms} LSB RMS");
        }
    }
}

#[test]
fn info_shows_every_track() {
    let f = fixture();
    let out = run_ok(stemdeck().arg("info").arg(&f.session));
    assert!(
        out.contains(&format!("{} frames", session_len(RATE))),
        "{out}"
    );
    assert!(out.contains("48000 Hz"), "{out}");
    for t in TRACKS {
        let line = out
            .lines()
            .find(|l| l.contains(t.name))
            .unwrap_or_else(|| panic!("info does not list {}:\n{out}", t.name));
        let format = match (t.ext, t.codec[1]) {
            ("wav", codec) => format!("wave/{codec}"),
            ("aiff", codec) => format!("aiff/{codec}"),
            ("flac", _) => "flac/flac".into(),
            ("mp3", _) => "mp3/mp3".into(),
            ("ogg", _) => "ogg/vorbis".into(),
            (ext, _) => panic!("{ext}?"),
        };
        assert!(
            line.contains(&format),
            "{}: format {format:?} not in {line:?}",
            t.name
        );
        let ms = t.frames as u64 * 1000 / u64::from(t.rate);
        let length = format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000);
        let cols: Vec<&str> = line.split_whitespace().rev().take(4).collect();
        let stem = t.stem.unwrap_or("(unassigned)");
        let channels = t.channels().to_string();
        let rate = t.rate.to_string();
        assert_eq!(
            cols,
            [stem, length.as_str(), channels.as_str(), rate.as_str()],
            "{}: {line:?}",
            t.name
        );
    }
}

#[test]
fn bad_inputs_fail_with_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cases = [
        dir.path().join("missing.json"),
        dir.path().join("No Such Folder"),
        write(
            "notes.json",
            r#"{"title": "not a session", "tracks": [1, 2, 3]}"#,
        ),
        write(
            "broken.json",
            r#"{"format": "stemdeck-session", "version": "#,
        ),
        write(
            "future.json",
            r#"{"format": "stemdeck-session", "version": 3, "sample_rate": 48000,
                "song": {"title": "Later"}, "tracks": [], "stems": [], "lanes": {"new": true}}"#,
        ),
    ];
    for input in &cases {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        for command in ["info", "export", "group"] {
            let out = run(stemdeck().arg(command).arg(input));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "stemdeck {command} {name} succeeded");
            assert_eq!(
                lines(&out.stderr).len(),
                1,
                "stemdeck {command} {name}: not one line:\n{stderr}"
            );
            assert!(
                stderr.starts_with("stemdeck: error: "),
                "stemdeck {command} {name}: {stderr}"
            );
            assert!(
                stderr.contains(&name),
                "stemdeck {command} {name}: the file is not named: {stderr}"
            );
            assert!(
                !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
                "stemdeck {command} {name} panicked:\n{stderr}"
            );
        }
    }
    // Nothing was written next to the inputs.
    let mut left = listing(dir.path());
    left.retain(|n| !["notes.json", "broken.json", "future.json"].contains(&n.as_str()));
    assert!(left.is_empty(), "left behind: {left:?}");
}
