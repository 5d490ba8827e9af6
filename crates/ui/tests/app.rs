//! The real app state driven through its UI with egui_kittest (AccessKit queries,
//! clicks, drags, keys), headless.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use egui::accesskit::Toggled;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use stemdeck_session::routing::MixMode;
use stemdeck_session::{Session, Song, Track, TrackId};
use stemdeck_ui::{AppOptions, Startup, StemdeckApp};

/// Settings and caches go to a scratch folder, shared by every test of this process.
fn scratch() -> &'static Path {
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

fn write_tone(path: &Path, freq: f32, seconds: f32) {
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
fn session_file(dir: &Path) -> PathBuf {
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

fn harness(file: &Path) -> Harness<'static, StemdeckApp> {
    scratch();
    let app = StemdeckApp::new(AppOptions {
        audio: false,
        startup: Startup::Open(vec![file.to_owned()]),
        demo: None,
    });
    assert!(app.doc.is_some(), "the session opened: {:?}", app.notices);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut StemdeckApp| app.ui(ui), app);
    h.run_steps(3);
    h
}

fn session<'h>(h: &'h Harness<'_, StemdeckApp>) -> &'h Session {
    &h.state().doc.as_ref().unwrap().session
}

fn stem_tracks(s: &Session, stem: &str) -> Vec<String> {
    let st = s.stems.iter().find(|x| x.name == stem).unwrap();
    st.tracks
        .iter()
        .map(|id| s.track(*id).unwrap().name.clone())
        .collect()
}

/// Names of the tracks the engine's current routing puts in `stem`, heard or not.
fn engine_stem(h: &Harness<'_, StemdeckApp>, stem: &str) -> Vec<(String, bool)> {
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

#[test]
fn a_session_opens_with_a_lane_per_stem() {
    let dir = tempfile::tempdir().unwrap();
    let h = harness(&session_file(dir.path()));
    for stem in ["Drums", "Bass", "Vocals", "Instruments"] {
        h.get_by_label(&format!("Mute {stem}"));
        h.get_by_label(&format!("Solo {stem}"));
    }
    for track in ["Kick", "Snare", "Bass DI", "Lead Vox", "Keys"] {
        h.get_by_label(&format!("Mute {track}"));
    }
    h.get_by_label("New stem");
    h.get_by_label("Export stems");
}

#[test]
fn mute_and_solo_clicks_reach_the_session_and_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Mute Vocals").click();
    h.run();
    assert!(
        session(&h)
            .stems
            .iter()
            .find(|s| s.name == "Vocals")
            .unwrap()
            .mute
    );
    assert_eq!(
        h.get_by_label("Mute Vocals").accesskit_node().toggled(),
        Some(Toggled::True)
    );
    assert_eq!(
        engine_stem(&h, "Vocals"),
        vec![("Lead Vox".to_owned(), false)]
    );
    assert_eq!(
        engine_stem(&h, "Drums"),
        vec![("Kick".to_owned(), true), ("Snare".to_owned(), true)]
    );
    h.get_by_label("Mute Vocals").click();
    h.get_by_label("Solo Snare").click();
    h.run();
    let s = session(&h);
    assert!(s.tracks.iter().find(|t| t.name == "Snare").unwrap().solo);
    assert_eq!(
        engine_stem(&h, "Drums"),
        vec![("Kick".to_owned(), false), ("Snare".to_owned(), true)]
    );
    assert_eq!(
        engine_stem(&h, "Vocals"),
        vec![("Lead Vox".to_owned(), false)]
    );
}

#[test]
fn instrumental_and_a_cappella_apply_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Instrumental").click();
    h.run();
    assert_eq!(
        engine_stem(&h, "Vocals"),
        vec![("Lead Vox".to_owned(), false)]
    );
    assert_eq!(engine_stem(&h, "Bass"), vec![("Bass DI".to_owned(), true)]);
    h.get_by_label("A cappella").click();
    h.run();
    assert_eq!(
        engine_stem(&h, "Vocals"),
        vec![("Lead Vox".to_owned(), true)]
    );
    assert_eq!(engine_stem(&h, "Bass"), vec![("Bass DI".to_owned(), false)]);
    h.get_by_label("Full mix").click();
    h.run();
    let plan = session(&h).mix_plan(MixMode::Audition);
    assert!(
        plan.stems
            .iter()
            .flat_map(|s| &s.tracks)
            .all(|t| t.gain > 0.0)
    );
    // A saved variant comes back with one click and is kept in the session.
    h.get_by_label("Instrumental").click();
    h.run();
    h.get_by_label("+ Save current").click();
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    assert_eq!(session(&h).variants.len(), 1);
    h.get_by_label("Full mix").click();
    h.run();
    h.get_by_label("Variant 1").click();
    h.run();
    assert_eq!(
        engine_stem(&h, "Vocals"),
        vec![("Lead Vox".to_owned(), false)]
    );
}

#[test]
fn dragging_a_track_onto_another_lane_regroups_it_and_undo_redo_work() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    let from = h.get_by_label("Keys").rect().center();
    let to = h.get_by_label("Mute Lead Vox").rect().center() + egui::vec2(0.0, 12.0);
    h.drag_at(from);
    h.run_steps(2);
    for k in 1..=10 {
        h.hover_at(from + (to - from) * (k as f32 / 10.0));
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run();
    assert_eq!(stem_tracks(session(&h), "Vocals"), vec!["Lead Vox", "Keys"]);
    assert!(stem_tracks(session(&h), "Instruments").is_empty());
    // The engine got the new routing at once.
    assert_eq!(
        engine_stem(&h, "Vocals"),
        vec![("Lead Vox".to_owned(), true), ("Keys".to_owned(), true)]
    );

    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert_eq!(stem_tracks(session(&h), "Instruments"), vec!["Keys"]);
    assert_eq!(
        engine_stem(&h, "Instruments"),
        vec![("Keys".to_owned(), true)]
    );
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run();
    assert_eq!(stem_tracks(session(&h), "Vocals"), vec!["Lead Vox", "Keys"]);
}

#[test]
fn keyboard_m_and_s_act_on_the_selected_track() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Bass DI").click();
    h.run();
    h.key_press(egui::Key::M);
    h.run();
    assert!(
        session(&h)
            .tracks
            .iter()
            .find(|t| t.name == "Bass DI")
            .unwrap()
            .mute
    );
    h.key_press(egui::Key::S);
    h.run();
    assert!(
        session(&h)
            .tracks
            .iter()
            .find(|t| t.name == "Bass DI")
            .unwrap()
            .solo
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert!(
        !session(&h)
            .tracks
            .iter()
            .find(|t| t.name == "Bass DI")
            .unwrap()
            .solo
    );
}

#[test]
fn save_and_reopen_keep_every_edit() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    let mut h = harness(&file);
    h.get_by_label("Mute Drums").click();
    h.get_by_label("Solo Keys").click();
    h.run();
    assert!(h.state().doc.as_ref().unwrap().is_dirty());
    let out = dir.path().join("saved.stemdeck.json");
    h.state_mut().save_to(out.clone());
    h.run();
    assert!(!h.state().doc.as_ref().unwrap().is_dirty());
    let before = session(&h).clone();
    let h2 = harness(&out);
    assert_eq!(session(&h2), &before);
    assert!(
        session(&h2)
            .stems
            .iter()
            .find(|s| s.name == "Drums")
            .unwrap()
            .mute
    );
}

#[test]
fn dragging_a_lane_by_its_handle_reorders_the_stems() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    let from = h.get_by_label("Move Instruments").rect().center();
    let to = h.get_by_label("Move Drums").rect().center() + egui::vec2(40.0, 0.0);
    h.drag_at(from);
    h.run_steps(2);
    for k in 1..=10 {
        h.hover_at(from + (to - from) * (k as f32 / 10.0));
        h.run_steps(1);
    }
    h.drop_at(to);
    h.run();
    let names: Vec<&str> = session(&h).stems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Instruments", "Drums", "Bass", "Vocals"]);
    // The engine's stems follow (meters are per stem, in this order).
    let plan_ids: Vec<_> = h
        .state()
        .engine
        .as_ref()
        .unwrap()
        .plan()
        .stems
        .iter()
        .map(|s| s.stem)
        .collect();
    let ids: Vec<_> = session(&h).stems.iter().map(|s| s.id).collect();
    assert_eq!(plan_ids, ids);
}

#[test]
fn dragging_on_the_ruler_sets_a_loop_and_l_toggles_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    let ruler = h.get_by_label("Timeline").rect();
    let (a, b) = (
        ruler.left() + ruler.width() * 0.35,
        ruler.left() + ruler.width() * 0.55,
    );
    let y = ruler.center().y;
    h.drag_at(egui::pos2(a, y));
    h.run_steps(2);
    for k in 1..=8 {
        h.hover_at(egui::pos2(a + (b - a) * k as f32 / 8.0, y));
        h.run_steps(1);
    }
    h.drop_at(egui::pos2(b, y));
    h.run();
    let app = h.state();
    assert!(app.looping);
    let (s, e) = app.loop_region;
    assert!(e > s);
    let engine_loop = app.engine.as_ref().unwrap().loop_region();
    assert_eq!(engine_loop, Some((s, e)));
    h.key_press(egui::Key::L);
    h.run();
    assert!(!h.state().looping);
    assert_eq!(h.state().engine.as_ref().unwrap().loop_region(), None);
}

#[test]
fn opening_with_unsaved_changes_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    let mut h = harness(&file);
    h.get_by_label("Mute Bass").click();
    h.run();
    let other = tempfile::tempdir().unwrap();
    let other_file = session_file(other.path());
    h.state_mut().open(vec![other_file.clone()]);
    h.run();
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    // Cancelled: still the same session, edit kept.
    assert!(
        session(&h)
            .stems
            .iter()
            .find(|s| s.name == "Bass")
            .unwrap()
            .mute
    );
    h.state_mut().open(vec![other_file.clone()]);
    h.run();
    h.get_by_label("Don't save").click();
    h.run_steps(3);
    assert_eq!(
        h.state().doc.as_ref().unwrap().path.as_deref(),
        Some(other_file.as_path())
    );
    assert!(!session(&h).stems.iter().any(|s| s.mute));
}

#[test]
fn song_information_is_editable_and_undoable() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Title").focus();
    h.run();
    h.get_by_label("Title").type_text(" (Mix 2)");
    h.run();
    h.key_press(egui::Key::Tab);
    h.run();
    assert_eq!(session(&h).song.title, "Kittest Song (Mix 2)");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert_eq!(session(&h).song.title, "Kittest Song");
}

#[test]
fn the_export_button_exports_every_stem_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Export stems").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    let report = h.state().export_report().expect("an export report");
    let names: Vec<String> = report
        .files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for stem in ["Drums", "Bass", "Vocals", "Instruments", "Master"] {
        assert!(
            names.iter().any(|n| n.contains(stem)),
            "{stem} in {names:?}"
        );
    }
    assert!(report.files.iter().all(|f| f.path.exists()));
    h.get_by_label("Show folder");
}
