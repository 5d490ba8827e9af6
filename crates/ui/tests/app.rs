//! The real app state driven through its UI with egui_kittest (AccessKit queries,
//! clicks, drags, keys), headless.

mod common;

use common::*;
use egui::accesskit::Toggled;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use stemdeck_session::routing::MixMode;
use stemdeck_session::{Session, Song, Track, TrackId};
use stemdeck_ui::StemdeckApp;

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
    drag(&mut h, from, to, 10);
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
    drag(&mut h, from, to, 10);
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
    // The first time: the defaults (stems as 24-bit WAV, the sheet, no master).
    for stem in ["Drums", "Bass", "Vocals", "Instruments"] {
        assert!(
            names.iter().any(|n| n.contains(stem)),
            "{stem} in {names:?}"
        );
    }
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(report.files.iter().all(|f| f.path.exists()));
    assert_eq!(report.sheet_files.len(), 2, "PDF and JSON");
    assert!(report.sheet_files.iter().all(|f| f.exists()));
    let null = report.null_test.as_ref().expect("a null test");
    assert!(null.passed, "{}", null.message);
    // The summary shows it, with every file's loudness.
    h.get_by_label_contains("Null test:");
    assert_eq!(h.get_all_by_label_contains("LUFS").count(), 4);
    h.get_by_label("Show folder");
}

/// Pick `option` in the combo box currently showing `current`.
fn choose(h: &mut Harness<'_, StemdeckApp>, current: &str, option: &str) {
    h.get_by_value(current).click();
    h.run();
    h.get_by_label(option).click();
    h.run();
}

#[test]
fn export_options_are_previewed_saved_in_the_session_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    let mut h = harness(&file);
    h.get_by_label("Options…").click();
    h.run();
    // The live preview shows the default names first.
    h.get_by_label("01 Kittest Song - Drums.wav");
    h.get_by_label("Kittest Song - Song Info.pdf");
    assert!(h.query_by_label("00 Kittest Song - Master.wav").is_none());

    choose(&mut h, "WAV 24-bit", "FLAC 24-bit");
    choose(&mut h, "Session (48 kHz)", "44.1 kHz");
    h.get_by_label("Master mix (the sum of the stems)").click();
    h.run();
    h.get_by_label_contains("Mix variants: Instrumental, A cappella")
        .click();
    h.run();
    // The master of these tones would clip: let the export trim every file alike.
    h.get_by_label("If a file would clip, lower every file by one common trim")
        .click();
    h.run();
    for name in [
        "00 Kittest Song - Master.flac",
        "01 Kittest Song - Drums.flac",
        "04 Kittest Song - Instruments.flac",
        "01 Kittest Song - Instrumental.flac",
        "02 Kittest Song - A cappella.flac",
        "Kittest Song - Song Info.json",
    ] {
        h.get_by_label(name);
    }
    let saved = session(&h).export.clone();
    assert_eq!(saved.format, "flac24");
    assert_eq!(saved.sample_rate, Some(44_100));
    assert!(saved.master && saved.variants);
    assert_eq!(saved.trim, stemdeck_session::TrimMode::Auto);
    // Settings are part of the session: undoable, and saved with it.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert_eq!(session(&h).export.trim, stemdeck_session::TrimMode::None);
    assert!(session(&h).export.variants, "one change per undo step");
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run();
    assert_eq!(session(&h).export, saved);
    h.state_mut().save();
    h.run();
    let reopened = Session::load(&file).unwrap();
    assert_eq!(reopened.export, saved);

    h.get_by_label("Export now").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    let report = h.state().export_report().expect("an export report").clone();
    assert_eq!(report.sample_rate, 44_100);
    assert_eq!(report.format, stemdeck_export::OutputFormat::FLAC24);
    assert_eq!(report.files.len(), 4 + 1 + 2, "stems, master, two variants");
    for f in &report.files {
        assert_eq!(f.path.extension().unwrap(), "flac");
        assert!(f.path.exists(), "{}", f.path.display());
    }
    let null = report.null_test.as_ref().unwrap();
    assert!(null.passed, "{}", null.message);

    // The same export again: it asks before replacing anything.
    h.get_by_label("Export stems").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    h.get_by_label_contains("already exist");
    h.get_by_label("Replace them").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    assert!(h.query_by_label("Replace them").is_none());
    assert!(h.state().export_report().unwrap().exported_at >= report.exported_at);
}

#[test]
fn a_running_export_shows_its_progress_and_cancel_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Long enough that the export is still running when Cancel is clicked.
    let mut s = Session::new(48_000, Song::default());
    s.song.title = "Long Song".into();
    for (i, name) in ["Kick", "Bass", "Vox", "Keys"].iter().enumerate() {
        let path = dir.path().join(format!("{name}.wav"));
        write_tone(&path, 100.0 * (i + 1) as f32, 240.0);
        s.tracks
            .push(Track::new(TrackId(i as u32 + 1), *name, path));
    }
    stemdeck_session::grouping::auto_group(&mut s);
    s.export.master = true;
    let file = dir.path().join("long.stemdeck.json");
    s.save(&file).unwrap();
    let mut h = harness(&file);
    h.get_by_label("Export stems").click();
    h.run_steps(2);
    let (fraction, _) = h.state().export_progress().expect("the export is running");
    assert!((0.0..1.0).contains(&fraction));
    h.get_by_label_contains("Exporting");
    assert!(h.state().export_progress().is_some());
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    assert!(h.state().export_report().is_none());
    assert!(
        h.state()
            .notices
            .iter()
            .any(|n| n.text.contains("cancelled")),
        "{:?}",
        h.state()
            .notices
            .iter()
            .map(|n| &n.text)
            .collect::<Vec<_>>()
    );
    let out = dir.path().join("Long Song - Stems");
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
    // The UI went on while it ran: the session is untouched and playable.
    assert!(!h.state().doc.as_ref().unwrap().is_dirty());
}

#[test]
fn a_mix_that_would_clip_asks_and_trims_every_file_alike() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    // Five tones of 0.3 at the centre: the master peaks above 0 dBFS.
    let mut s = Session::load(&file).unwrap();
    s.export.master = true;
    s.save(&file).unwrap();
    let mut h = harness(&file);
    h.get_by_label("Export stems").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    assert!(h.state().export_report().is_none(), "nothing written yet");
    h.get_by_label_contains("would clip");
    h.get_by_label_contains("Trim all files by").click();
    h.run_steps(2);
    h.state_mut().wait_for_export();
    h.run_steps(2);
    let report = h.state().export_report().expect("trimmed export").clone();
    assert!(report.trim.gain_db < -1.0, "{:?}", report.trim);
    for f in &report.files {
        assert!(f.peak <= 1.0, "{} peaks at {}", f.path.display(), f.peak);
    }
    let master = report.files.iter().find(|f| f.is_master).unwrap();
    assert!((20.0 * f64::from(master.peak).log10() - -0.1).abs() < 0.05);
    let null = report.null_test.as_ref().unwrap();
    assert!(null.passed, "{}", null.message);
    h.get_by_label_contains(&report.trim.message);
}

fn edit_title(h: &mut Harness<'_, StemdeckApp>, title: &str) {
    h.get_by_label("Title").focus();
    h.run();
    h.get_by_label("Title").type_text(title);
    h.run();
    h.key_press(egui::Key::Tab);
    h.run();
}

/// Run frames until the autosave delay has passed.
fn wait_for_autosave(h: &mut Harness<'_, StemdeckApp>) {
    std::thread::sleep(stemdeck_ui::AUTOSAVE_AFTER + std::time::Duration::from_millis(200));
    h.run_steps(2);
}

#[test]
fn unsaved_changes_are_autosaved_and_offered_back_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    let on_disk = std::fs::read(&file).unwrap();
    let mut h = harness(&file);
    let recovery = h.state().recovery_file().unwrap().to_owned();
    edit_title(&mut h, " (late night edit)");
    assert!(
        !recovery.exists(),
        "not on every key: only once changes stop"
    );
    wait_for_autosave(&mut h);
    assert!(recovery.exists(), "autosaved to {}", recovery.display());
    // The crash: the app goes away without closing; the session file is untouched.
    drop(h);
    assert_eq!(std::fs::read(&file).unwrap(), on_disk);

    let mut h = harness(&file);
    assert!(h.state().recovery_offer().is_some());
    h.get_by_label("Recover unsaved changes?");
    h.get_by_label_contains("song.stemdeck.json");
    h.get_by_label("Recover").click();
    h.run_steps(2);
    assert_eq!(session(&h).song.title, "Kittest Song (late night edit)");
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.is_dirty(), "recovered changes are unsaved until saved");
    assert_eq!(doc.path.as_deref(), Some(file.as_path()));
    assert!(
        !recovery.exists(),
        "the old autosave is gone once recovered"
    );
    let mine = h.state().recovery_file().unwrap().to_owned();
    assert!(
        mine.exists(),
        "and this run's own autosave holds the changes"
    );
    // Saving makes the session clean: nothing left to recover.
    h.state_mut().save();
    h.run_steps(2);
    assert!(!mine.exists());
    assert_eq!(
        Session::load(&file).unwrap().song.title,
        "Kittest Song (late night edit)"
    );
}

#[test]
fn a_discarded_recovery_is_deleted_and_the_saved_session_stays() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    let mut h = harness(&file);
    edit_title(&mut h, " 2");
    wait_for_autosave(&mut h);
    let recovery = h.state().recovery_file().unwrap().to_owned();
    assert!(recovery.exists());
    drop(h);
    let mut h = harness(&file);
    h.get_by_label("Discard").click();
    h.run_steps(2);
    assert!(!recovery.exists());
    assert!(h.state().recovery_offer().is_none());
    assert_eq!(session(&h).song.title, "Kittest Song");
    // A later launch offers nothing.
    drop(h);
    let h = harness(&file);
    assert!(h.state().recovery_offer().is_none());
}

#[test]
fn missing_files_are_reported_and_relinked_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = session_file(dir.path());
    // The track files moved (and one was converted to another format).
    let moved = dir.path().join("Audio Files");
    std::fs::create_dir_all(&moved).unwrap();
    for name in ["Kick", "Snare", "Bass DI"] {
        std::fs::rename(
            dir.path().join(format!("{name}.wav")),
            moved.join(format!("{name}.wav")),
        )
        .unwrap();
    }
    let mut h = harness(&file);
    assert_eq!(session(&h).tracks.len(), 5, "the session still opens");
    h.get_by_label_contains("3 track files are missing (Kick.wav, Snare.wav, Bass DI.wav)");
    h.get_by_label("Relink…");
    assert_eq!(h.state_mut().relink_from(&moved), 3);
    h.run_steps(2);
    assert!(h.query_by_label("Relink…").is_none(), "nothing missing now");
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.infos.iter().all(Option::is_some), "every file read");
    assert_eq!(session(&h).tracks[0].path, moved.join("Kick.wav"));
    assert!(doc.is_dirty(), "new locations are saved with the session");
    // Undo puts the old paths back, and the banner with them.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run_steps(2);
    h.get_by_label("Relink…");
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run_steps(2);
    assert!(h.query_by_label("Relink…").is_none());
    h.state_mut().save();
    let saved = Session::load(&file).unwrap();
    assert_eq!(saved.tracks[1].path, moved.join("Snare.wav"));
}

/// On a software renderer (a machine without a GPU driver) every frame costs tens of
/// ms of CPU, so while overviews are computed the playhead and meters ask for 10 frames
/// a second, not 60; with a GPU, or once every overview is in, they ask for 60.
#[test]
fn a_software_renderer_draws_fewer_frames_while_overviews_are_computed() {
    use stemdeck_ui::Renderer;
    use stemdeck_ui::pacing::{FRAME, SOFTWARE_BUSY_FRAME};
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.run();
    assert!(h.state().waveforms_ready());
    for (renderer, busy) in [
        ("llvmpipe (LLVM 15.0.6, 256 bits)", SOFTWARE_BUSY_FRAME),
        ("Mesa Intel(R) UHD Graphics 620 (KBL GT2)", FRAME),
    ] {
        h.state_mut().set_renderer(Renderer::new(renderer));
        assert_eq!(
            h.state().animation_interval(),
            FRAME,
            "{renderer}: nothing computed"
        );
        // Another session, with files no overview is cached for yet.
        let other = dir.path().join(format!("other-{}", busy.as_millis()));
        std::fs::create_dir(&other).unwrap();
        h.state_mut().open(vec![session_file(&other)]);
        assert!(
            !h.state().waveforms_ready(),
            "the overviews are being computed"
        );
        assert_eq!(
            h.state().animation_interval(),
            busy,
            "{renderer}: computing"
        );
        for _ in 0..500 {
            if h.state().waveforms_ready() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            h.run_steps(1);
        }
        assert!(h.state().waveforms_ready());
        assert_eq!(h.state().animation_interval(), FRAME, "{renderer}: all in");
    }
}

/// An overview computed while no frame runs wakes the window itself: the last one at
/// once, so it is drawn without waiting for the next progress tick.
#[test]
fn the_last_waveform_overview_wakes_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.run();
    // Another session, with files no overview is cached for yet.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let file = session_file(&other);
    let (tx, rx) = crossbeam_channel::unbounded();
    h.ctx.set_request_repaint_callback(move |info| {
        tx.send(info.delay).ok();
    });
    h.state_mut().open(vec![file]);
    assert!(
        !h.state().waveforms_ready(),
        "the overviews are being computed"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut delays = Vec::new();
    while !delays.contains(&std::time::Duration::ZERO) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(d) => delays.push(d),
            Err(e) => panic!("no immediate repaint asked for ({e}); got {delays:?}"),
        }
    }
    // The overviews before the last asked for a repaint within 250 ms.
    assert!(
        delays
            .iter()
            .all(|d| *d <= std::time::Duration::from_millis(250)),
        "{delays:?}"
    );
    h.run();
    assert!(h.state().waveforms_ready());
}
