//! What the GUI tests share: a scratch settings folder, a small session on disk, and a
//! harness around the real app.
#![allow(dead_code)]
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use egui_kittest::Harness;
use stemdeck_session::{Session, Song, Track, TrackId};
use stemdeck_ui::{AppOptions, Startup, StemdeckApp};

/// Settings and caches go to a scratch folder, shared by every test of this process.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        // SAFETY: set once, before any app reads them, from the first test to get here.
        unsafe {
            std::env::set_var("STEMDECK_CONFIG_DIR", d.path().join("config"));
            std::env::set_var("STEMDECK_CACHE_DIR", d.path().join("cache"));
        }
        d
    })
    .path()
}

pub fn write_tone(path: &Path, freq: f32, seconds: f32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(seconds * 48_000.0) as usize {
        let v = (i as f32 * freq * std::f32::consts::TAU / 48_000.0).sin() * 0.3;
        w.write_sample((v * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A small auto-grouped session on disk: Drums {Kick, Snare}, Bass, Vocals {Lead Vox},
/// Instruments {Keys}.
pub fn session_file(dir: &Path) -> PathBuf {
    let names = [
        ("Kick", 60.0),
        ("Snare", 200.0),
        ("Bass DI", 80.0),
        ("Lead Vox", 440.0),
        ("Keys", 660.0),
    ];
    let mut s = Session::new(
        48_000,
        Song {
            title: "Kittest Song".into(),
            ..Song::default()
        },
    );
    for (i, (name, f)) in names.iter().enumerate() {
        let path = dir.join(format!("{name}.wav"));
        write_tone(&path, *f, 2.0);
        s.tracks
            .push(Track::new(TrackId(i as u32 + 1), *name, path));
    }
    stemdeck_session::grouping::auto_group(&mut s);
    let file = dir.join("song.stemdeck.json");
    s.save(&file).unwrap();
    file
}

pub fn harness(file: &Path) -> Harness<'static, StemdeckApp> {
    harness_with(file, None)
}

/// A harness whose app also takes open requests from `requests`.
pub fn harness_with(
    file: &Path,
    requests: Option<crossbeam_channel::Receiver<Vec<PathBuf>>>,
) -> Harness<'static, StemdeckApp> {
    scratch();
    let app = StemdeckApp::new(AppOptions {
        audio: false,
        startup: Startup::Open(vec![file.to_owned()]),
        demo: None,
        open_requests: requests,
    });
    assert!(app.doc.is_some(), "the session opened: {:?}", app.notices);
    // Background work (the waveform workers, the engine) finishing during a `run` asks
    // for a frame or two more whenever it happens to end: allow them, so a loaded
    // machine's timing cannot fail a test (kittest's default is 4).
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(12)
        .build_ui_state(|ui, app: &mut StemdeckApp| app.ui(ui), app);
    h.run_steps(3);
    h
}

pub fn session<'h>(h: &'h Harness<'_, StemdeckApp>) -> &'h Session {
    &h.state().doc.as_ref().unwrap().session
}

pub fn stem_tracks(s: &Session, stem: &str) -> Vec<String> {
    let st = s.stems.iter().find(|x| x.name == stem).unwrap();
    st.tracks
        .iter()
        .map(|id| s.track(*id).unwrap().name.clone())
        .collect()
}

/// Names of the tracks the engine's current routing puts in `stem`, heard or not.
pub fn engine_stem(h: &Harness<'_, StemdeckApp>, stem: &str) -> Vec<(String, bool)> {
    let s = session(h);
    let id = s.stems.iter().find(|x| x.name == stem).unwrap().id;
    let plan = h.state().engine.as_ref().unwrap().plan();
    let st = plan.stems.iter().find(|x| x.stem == id).unwrap();
    st.tracks
        .iter()
        .map(|t| {
            (
                s.tracks[t.track].name.clone(),
                t.gain > 0.0 && st.gain > 0.0,
            )
        })
        .collect()
}

/// Drag with the primary button from `from` to `to` in `steps` moves, as a hand would.
pub fn drag(h: &mut Harness<'static, StemdeckApp>, from: egui::Pos2, to: egui::Pos2, steps: u32) {
    h.drag_at(from);
    h.run_steps(2);
    for k in 1..=steps {
        h.hover_at(from + (to - from) * (k as f32 / steps as f32));
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run();
}
