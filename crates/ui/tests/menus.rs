//! The everyday commands through the real menus and keys (egui_kittest): File ▸ New,
//! Add Files, Close, Open Recent; Edit ▸ Remove Track, Duplicate Stem, Delete Stem,
//! Re-run Auto-grouping (each undoable); Help ▸ About; per-track meters; the status
//! bar; and a session handed over by another `stemdeck open`.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use stemdeck_ui::StemdeckApp;

/// Click a menu, then one of its items (whose accessible name ends with its shortcut).
fn menu(h: &mut Harness<'_, StemdeckApp>, menu: &str, item: &str) {
    h.get_by_label(menu).click();
    h.run();
    let with_shortcut = format!("{item} ");
    h.get_by(|n| {
        n.label()
            .is_some_and(|l| l == item || l.starts_with(&with_shortcut))
    })
    .click();
    // The command may start background work (Add Files computes the new tracks'
    // overviews, which repaints until done): settle as far as the harness goes, and
    // let the test wait for what it needs.
    h.try_run().ok();
}

fn undo(h: &mut Harness<'_, StemdeckApp>) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
}

fn dirty(h: &Harness<'_, StemdeckApp>) -> bool {
    h.state().doc.as_ref().is_some_and(|d| d.is_dirty())
}

fn track_names(h: &Harness<'_, StemdeckApp>) -> Vec<String> {
    session(h).tracks.iter().map(|t| t.name.clone()).collect()
}

/// An edit, so that there are unsaved changes.
fn make_dirty(h: &mut Harness<'_, StemdeckApp>) {
    h.get_by_label("Mute Bass").click();
    h.run();
    assert!(dirty(h));
}

#[test]
fn new_session_asks_about_unsaved_changes_then_starts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    make_dirty(&mut h);
    menu(&mut h, "File", "New Session");
    h.get_by_label("Unsaved changes");
    h.get_by_label("Cancel").click();
    h.run();
    assert_eq!(session(&h).tracks.len(), 5, "cancelled: the session stays");
    // The same command from the keyboard.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    h.run();
    h.get_by_label("Don't save").click();
    h.run_steps(3);
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.session.tracks.is_empty() && doc.session.stems.is_empty());
    assert_eq!(doc.path, None);
    assert!(
        !doc.is_dirty(),
        "an untouched new session has nothing to save"
    );
    assert_eq!(doc.suggested_path().extension().unwrap(), "stemdeck");
}

#[test]
fn add_files_groups_the_new_tracks_and_undo_takes_them_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    let extra = tempfile::tempdir().unwrap();
    let snare2 = extra.path().join("Snare Top.wav");
    let vox = extra.path().join("Backing Vox.wav");
    write_tone(&snare2, 300.0, 1.0);
    write_tone(&vox, 500.0, 1.0);
    // The hook answers the file dialog.
    h.state_mut().dialog_answer = Some(vec![snare2, vox]);
    menu(&mut h, "File", "Add Files…");
    h.run_steps(3);
    let s = session(&h);
    assert_eq!(stem_tracks(s, "Drums"), vec!["Kick", "Snare", "Snare Top"]);
    assert_eq!(stem_tracks(s, "Vocals"), vec!["Lead Vox", "Backing Vox"]);
    // The engine plays them at once.
    assert!(engine_stem(&h, "Drums").contains(&("Snare Top".to_owned(), true)));
    h.get_by_label("Mute Snare Top");
    undo(&mut h);
    h.run_steps(2);
    assert_eq!(track_names(&h).len(), 5);
    assert_eq!(stem_tracks(session(&h), "Drums"), vec!["Kick", "Snare"]);
}

/// A file dropped from the file manager, as the window integration hands it over.
#[derive(Debug)]
struct NativeFile(PathBuf);

impl egui::DroppedFile for NativeFile {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn files_dropped_on_a_lane_join_that_stem() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    let extra = tempfile::tempdir().unwrap();
    // Its name says "vocals", but it is dropped on Bass: the lane wins.
    let file = extra.path().join("Vocal Chop.wav");
    write_tone(&file, 700.0, 1.0);
    let over_bass = h.get_by_label("Mute Bass DI").rect().center();
    h.hover_at(over_bass);
    h.run();
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(NativeFile(file)));
    h.run_steps(3);
    assert_eq!(
        stem_tracks(session(&h), "Bass"),
        vec!["Bass DI", "Vocal Chop"]
    );
    assert_eq!(
        h.state().doc.as_ref().unwrap().path.as_deref(),
        Some(dir.path().join("song.stemdeck.json").as_path()),
        "added to the open session, not opened instead"
    );
}

#[test]
fn close_asks_about_unsaved_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    make_dirty(&mut h);
    menu(&mut h, "File", "Close");
    h.get_by_label("Unsaved changes");
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.state().doc.is_some());
    menu(&mut h, "File", "Close");
    h.get_by_label("Don't save").click();
    h.run_steps(3);
    assert!(h.state().doc.is_none());
    assert!(h.state().engine.is_none());
    // Quit asks too.
    let mut h = harness(&session_file(dir.path()));
    make_dirty(&mut h);
    menu(&mut h, "File", "Quit");
    h.get_by_label("Unsaved changes");
}

#[test]
fn remove_track_from_the_menu_or_the_delete_key_and_undo() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Keys").click();
    h.run();
    menu(&mut h, "Edit", "Remove Track");
    h.run_steps(2);
    assert!(!track_names(&h).contains(&"Keys".to_owned()));
    assert!(stem_tracks(session(&h), "Instruments").is_empty());
    assert!(h.query_by_label("Mute Keys").is_none());
    undo(&mut h);
    h.run_steps(2);
    assert_eq!(stem_tracks(session(&h), "Instruments"), vec!["Keys"]);
    // The Delete key runs the same command.
    h.get_by_label("Snare").click();
    h.run();
    h.key_press(egui::Key::Delete);
    h.run_steps(2);
    assert_eq!(stem_tracks(session(&h), "Drums"), vec!["Kick"]);
}

#[test]
fn duplicate_stem_copies_it_with_its_tracks_and_undo_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Move Bass").click(); // selects the stem
    h.run();
    menu(&mut h, "Edit", "Duplicate Stem");
    h.run_steps(2);
    let names: Vec<&str> = session(&h).stems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Drums", "Bass", "Bass copy", "Vocals", "Instruments"]
    );
    assert_eq!(stem_tracks(session(&h), "Bass copy"), vec!["Bass DI"]);
    assert_eq!(session(&h).tracks.len(), 6);
    h.get_by_label("Mute Bass copy");
    undo(&mut h);
    h.run_steps(2);
    assert_eq!(session(&h).stems.len(), 4);
    assert_eq!(session(&h).tracks.len(), 5);
    // Ctrl/Cmd+D is the same command.
    h.get_by_label("Move Vocals").click();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::D);
    h.run_steps(2);
    assert_eq!(stem_tracks(session(&h), "Vocals copy"), vec!["Lead Vox"]);
}

#[test]
fn delete_stem_sends_its_tracks_to_unassigned_and_undo_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Move Drums").click();
    h.run();
    menu(&mut h, "Edit", "Delete Stem");
    h.run_steps(2);
    let s = session(&h);
    assert!(!s.stems.iter().any(|st| st.name == "Drums"));
    let unassigned: Vec<&str> = s.unassigned_tracks().map(|t| t.name.as_str()).collect();
    assert_eq!(unassigned, ["Kick", "Snare"]);
    assert_eq!(s.tracks.len(), 5, "the tracks stay in the session");
    assert!(h.query_by_label("Mute Drums").is_none());
    h.get_by_label("Mute Kick");
    undo(&mut h);
    h.run_steps(2);
    assert_eq!(stem_tracks(session(&h), "Drums"), vec!["Kick", "Snare"]);
}

#[test]
fn rerun_auto_grouping_regroups_every_track_and_is_undoable() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    {
        let doc = h.state_mut().doc.as_mut().unwrap();
        let vocals = doc
            .session
            .stems
            .iter()
            .find(|s| s.name == "Vocals")
            .unwrap()
            .id;
        let keys = doc
            .session
            .tracks
            .iter()
            .find(|t| t.name == "Keys")
            .unwrap()
            .id;
        doc.edit(|s| {
            s.move_tracks(&[keys], Some(vocals), None);
            s.stems.retain(|st| st.name != "Bass");
        });
    }
    h.run();
    menu(&mut h, "Edit", "Re-run Auto-grouping");
    h.run_steps(2);
    let s = session(&h);
    assert_eq!(stem_tracks(s, "Vocals"), vec!["Lead Vox"]);
    assert_eq!(stem_tracks(s, "Instruments"), vec!["Keys"]);
    assert_eq!(stem_tracks(s, "Bass"), vec!["Bass DI"]);
    undo(&mut h);
    let s = session(&h);
    assert_eq!(stem_tracks(s, "Vocals"), vec!["Lead Vox", "Keys"]);
    assert!(!s.stems.iter().any(|st| st.name == "Bass"));
}

/// A session file named `<name>.stemdeck` in a folder of its own.
fn stemdeck_file(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let json = session_file(dir.path());
    let file = dir.path().join(format!("{name}.stemdeck"));
    std::fs::rename(json, &file).unwrap();
    (dir, file)
}

#[test]
fn open_recent_lists_the_last_sessions_and_prunes_the_gone() {
    let (_a_dir, a) = stemdeck_file("Alpha");
    let (_b_dir, b) = stemdeck_file("Bravo");
    let (_c_dir, c) = stemdeck_file("Charlie");
    let mut h = harness(&a);
    h.state_mut().open(vec![b.clone()]);
    h.state_mut().open(vec![c.clone()]);
    h.run();
    assert_eq!(
        h.state().doc.as_ref().unwrap().path.as_deref(),
        Some(c.as_path())
    );
    let recent = &h.state().settings.recent;
    assert_eq!(&recent[..3], &[c.clone(), b.clone(), a.clone()]);
    std::fs::remove_file(&b).unwrap();
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Open Recent").click();
    h.run();
    let label = |p: &Path| {
        format!(
            "{} — {}",
            p.file_name().unwrap().to_string_lossy(),
            p.parent().unwrap().display()
        )
    };
    assert!(
        h.query_by_label(&label(&b)).is_none(),
        "Bravo is gone: pruned"
    );
    assert!(!h.state().settings.recent.contains(&b));
    assert!(
        stemdeck_ui::Settings::load()
            .recent
            .starts_with(&[c.clone(), a.clone()]),
        "the pruned list is saved"
    );
    h.get_by_label(&label(&a)).click();
    h.run_steps(3);
    assert_eq!(
        h.state().doc.as_ref().unwrap().path.as_deref(),
        Some(a.as_path())
    );
    assert_eq!(h.state().settings.recent[0], a);
}

#[test]
fn about_shows_the_version_and_the_licences() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    menu(&mut h, "Help", "About Stemdeck");
    h.get_by_label(&format!("Version {}", env!("CARGO_PKG_VERSION")));
    h.get_by_label_contains("open-source packages");
    h.get_by_label("accesskit");
    // Find a package by name.
    h.get_by_label("Find").focus();
    h.run();
    h.get_by_label("Find").type_text("ebur128");
    h.run();
    h.get_by_label("ebur128");
    h.get_by_label("MIT");
    assert!(h.query_by_label("accesskit").is_none(), "filtered out");
    // Keyboard Shortcuts lists the keys of the same actions.
    menu(&mut h, "Help", "Keyboard Shortcuts");
    h.get_by_label("Duplicate Stem");
}

#[test]
fn every_track_row_has_a_level_meter_that_moves_while_playing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    for track in ["Kick", "Snare", "Bass DI", "Lead Vox", "Keys"] {
        h.get_by_label(&format!("{track} level"));
    }
    // Play: the test is the audio device, driving the engine's processor.
    let mut p = h
        .state_mut()
        .engine
        .as_mut()
        .unwrap()
        .take_processor()
        .unwrap();
    h.state_mut().toggle_play();
    let mut buf = vec![0.0f32; 512 * 2];
    let start = std::time::Instant::now();
    while p.position() < 9600 && start.elapsed() < std::time::Duration::from_secs(10) {
        p.process(&mut buf, 2);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    h.run_steps(2);
    let level = |h: &Harness<'_, StemdeckApp>, name: &str| {
        h.get_by_label(&format!("{name} level"))
            .accesskit_node()
            .numeric_value()
            .unwrap()
    };
    // The fixture's tones peak at 0.3, panned centre (-3 dB); the shown level decays.
    let kick = level(&h, "Kick");
    assert!((0.1..0.3).contains(&kick), "Kick {kick}");
    h.state_mut().doc.as_mut().unwrap().session.tracks[4].mute = true; // Keys
    h.run();
    for _ in 0..30 {
        for _ in 0..3 {
            p.process(&mut buf, 2);
        }
        std::thread::sleep(std::time::Duration::from_millis(3));
        h.run_steps(1);
    }
    assert!(level(&h, "Keys") < 0.01, "a muted track's meter falls");
    assert!(level(&h, "Kick") > 0.1, "Kick {}", level(&h, "Kick"));
}

#[test]
fn the_status_bar_keeps_backend_figures_in_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    for noise in ["device errors", "DSP", "xruns"] {
        assert!(
            h.query_by_label_contains(noise).is_none(),
            "{noise} is not in the main window"
        );
    }
    h.get_by_label_contains("48000 Hz · 5 tracks · 4 stems");
    menu(&mut h, "View", "Diagnostics");
    h.get_by_label("Device errors");
    h.get_by_label("Xruns");
    h.get_by_label("Callback load");
    h.get_by_label("Output latency");
    h.get_by_label("Output device");
    // No GL in this harness: the renderer is not known.
    h.get_by_label("Renderer");
    h.state_mut().set_renderer(stemdeck_ui::Renderer::new(
        "llvmpipe (LLVM 15.0.6, 256 bits)",
    ));
    h.run_steps(2);
    h.get_by_label("llvmpipe (LLVM 15.0.6, 256 bits) (software)");
    // The 5 tracks' overviews arrive from their workers; then the row says how long
    // the window took to show them all.
    h.get_by_label("Waveforms");
    let drawn = |h: &Harness<'static, StemdeckApp>| {
        h.query_by_label_contains("5 drawn ")
            .is_some_and(|n| n.value().is_some_and(|v| v.ends_with(" s after opening")))
    };
    for _ in 0..500 {
        if drawn(&h) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        h.run_steps(1);
    }
    assert!(drawn(&h), "the Waveforms row gives the time all 5 took");
}

#[test]
fn dragging_a_track_selects_no_label_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    let from = h.get_by_label("Keys").rect().center();
    let to = h.get_by_label("Mute Kick").rect().center();
    h.drag_at(from);
    h.run_steps(2);
    for k in 1..=10 {
        h.hover_at(from + (to - from) * (k as f32 / 10.0));
        h.run_steps(1);
        let selecting = h
            .ctx
            .plugin::<egui::text_selection::LabelSelectionState>()
            .lock()
            .has_selection();
        assert!(!selecting, "step {k}: label text got selected");
    }
    h.drop_at(to);
    h.run();
    assert_eq!(
        stem_tracks(session(&h), "Drums"),
        vec!["Kick", "Keys", "Snare"]
    );
}

/// `stemdeck open OTHER` while this app runs with unsaved changes: the request comes
/// over the socket, and the app asks before opening it.
#[test]
fn a_session_handed_over_by_another_launch_asks_about_unsaved_changes() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("stemdeck.sock");
    let listener = stemdeck_ui::instance::Listener::bind(&socket)
        .unwrap()
        .unwrap();
    let handoff = stemdeck_ui::instance::Handoff::new(listener);
    let mut h = harness_with(&session_file(dir.path()), Some(handoff.requests.clone()));
    handoff.wake.set(h.ctx.clone()).ok();
    make_dirty(&mut h);
    let (_other_dir, other) = stemdeck_file("Other");
    // What `stemdeck open Other.stemdeck` does in the second process.
    assert!(stemdeck_ui::instance::send(&socket, std::slice::from_ref(&other)).unwrap());
    let start = std::time::Instant::now();
    while h.query_by_label("Unsaved changes").is_none() && start.elapsed().as_secs() < 5 {
        h.run();
    }
    h.get_by_label("Unsaved changes");
    h.get_by_label("Don't save").click();
    h.run_steps(3);
    assert_eq!(
        h.state().doc.as_ref().unwrap().path.as_deref(),
        Some(other.as_path())
    );
}
