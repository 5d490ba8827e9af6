//! Effects and the master strip through the real window (egui_kittest, AccessKit
//! queries and clicks): a chain edited on a stem, a track and the master, each step
//! undone; the master fader; the clip light; the export's effects choice; the keys.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use egui::accesskit::Toggled;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use stemdeck_session::EffectsMode;
use stemdeck_session::effects::{BandShape, Effect, EffectKind};
use stemdeck_ui::StemdeckApp;

fn undo(h: &mut Harness<'_, StemdeckApp>) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
}

fn stem_chain(h: &Harness<'_, StemdeckApp>, stem: &str) -> Vec<Effect> {
    session(h)
        .stems
        .iter()
        .find(|s| s.name == stem)
        .unwrap()
        .effects
        .clone()
}

fn kinds(chain: &[Effect]) -> Vec<&'static str> {
    chain.iter().map(|e| e.kind.label()).collect()
}

fn add(h: &mut Harness<'_, StemdeckApp>, kind: &str) {
    h.get_by_label("Add effect").click();
    h.run();
    h.get_by_label(&format!("Add {kind}")).click();
    h.run();
}

/// Type `text` into the value field named `name` and press Enter.
fn type_value(h: &mut Harness<'_, StemdeckApp>, name: &str, text: &str) {
    h.get_by_label(name).focus();
    h.run();
    h.get_by_label(name).type_text(text);
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
}

fn toggled(h: &Harness<'_, StemdeckApp>, name: &str) -> Option<Toggled> {
    h.get_by_label(name).accesskit_node().toggled()
}

fn eq_band_gain(chain: &[Effect], effect: usize, band: usize) -> f32 {
    let EffectKind::Eq(eq) = &chain[effect].kind else {
        panic!("effect {effect} is not an EQ: {chain:?}")
    };
    eq.bands[band].gain_db
}

#[test]
fn a_stem_chain_is_built_edited_and_every_step_undone() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    assert!(h.query_by_label_contains("Effects — ").is_none());
    h.get_by_label("Effects on Drums").click();
    h.run();
    h.get_by_label("Effects — Drums");
    assert_eq!(toggled(&h, "Effects on Drums"), Some(Toggled::True));

    // Add an EQ: three flat bands.
    add(&mut h, "EQ");
    let chain = stem_chain(&h, "Drums");
    assert_eq!(kinds(&chain), ["EQ"]);
    let EffectKind::Eq(eq) = &chain[0].kind else {
        unreachable!()
    };
    assert_eq!(
        eq.bands.iter().map(|b| b.shape).collect::<Vec<_>>(),
        [BandShape::Lowshelf, BandShape::Peak, BandShape::Highshelf]
    );
    assert!(eq.bands.iter().all(|b| b.gain_db == 0.0));
    for n in 1..=3 {
        h.get_by_label(&format!("EQ 1 band {n} handle"));
    }

    // A band's gain, typed.
    type_value(&mut h, "EQ 1 band 2 gain", "-6.5");
    assert_eq!(eq_band_gain(&stem_chain(&h, "Drums"), 0, 1), -6.5);
    // Typed beyond the range: the most the UI allows, never a value the check refuses.
    type_value(&mut h, "EQ 1 band 2 frequency", "0");
    let EffectKind::Eq(eq) = &stem_chain(&h, "Drums")[0].kind else {
        unreachable!()
    };
    assert_eq!(eq.bands[1].freq_hz, 20.0);
    assert!(session(&h).check().is_ok());
    undo(&mut h);
    let EffectKind::Eq(eq) = &stem_chain(&h, "Drums")[0].kind else {
        unreachable!()
    };
    assert_eq!(
        eq.bands[1].freq_hz, 1000.0,
        "the frequency back, the gain kept"
    );
    assert_eq!(eq.bands[1].gain_db, -6.5);

    // Bypass it; the lane's FX button says so.
    h.get_by_label("Bypass EQ 1").click();
    h.run();
    assert!(stem_chain(&h, "Drums")[0].bypass);
    assert_eq!(toggled(&h, "Bypass EQ 1"), Some(Toggled::True));
    let fx = h.get_by_label("Effects on Drums");
    assert_eq!(
        fx.accesskit_node().value().as_deref(),
        Some("EQ (bypassed)")
    );

    // A reverb after it, then moved before it.
    add(&mut h, "Reverb");
    assert_eq!(kinds(&stem_chain(&h, "Drums")), ["EQ", "Reverb"]);
    h.get_by_label("Move Reverb 2 earlier").click();
    h.run();
    assert_eq!(kinds(&stem_chain(&h, "Drums")), ["Reverb", "EQ"]);
    // The cards follow the chain's order.
    h.get_by_label("Reverb 1 mix");
    h.get_by_label("Bypass EQ 2");

    // Every step undone, one at a time.
    undo(&mut h);
    assert_eq!(kinds(&stem_chain(&h, "Drums")), ["EQ", "Reverb"]);
    undo(&mut h);
    assert_eq!(kinds(&stem_chain(&h, "Drums")), ["EQ"]);
    undo(&mut h);
    assert!(!stem_chain(&h, "Drums")[0].bypass);
    undo(&mut h);
    assert_eq!(eq_band_gain(&stem_chain(&h, "Drums"), 0, 1), 0.0);
    undo(&mut h);
    assert!(stem_chain(&h, "Drums").is_empty());
    assert!(!session(&h).has_effects());
    // Redo brings the EQ back.
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::Z,
    );
    h.run();
    assert_eq!(kinds(&stem_chain(&h, "Drums")), ["EQ"]);

    // Clicking the lane's FX button again closes the panel.
    h.get_by_label("Effects on Drums").click();
    h.run();
    assert!(h.query_by_label("Effects — Drums").is_none());
}

#[test]
fn track_and_master_chains_take_every_kind_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Effects on Kick").click();
    h.run();
    h.get_by_label("Effects — Kick");
    add(&mut h, "Compressor");
    type_value(&mut h, "Compressor 1 ratio", "6");
    add(&mut h, "Limiter");
    type_value(&mut h, "Limiter 2 look-ahead", "99");
    add(&mut h, "Delay");
    type_value(&mut h, "Delay 3 feedback", "50");
    let kick = &session(&h).tracks[0].effects;
    assert_eq!(kinds(kick), ["Compressor", "Limiter", "Delay"]);
    let (EffectKind::Compressor(c), EffectKind::Limiter(l), EffectKind::Delay(d)) =
        (&kick[0].kind, &kick[1].kind, &kick[2].kind)
    else {
        unreachable!()
    };
    assert_eq!(c.ratio, 6.0);
    assert_eq!(l.lookahead_ms, 20.0, "the model's longest look-ahead");
    assert_eq!(d.feedback, 0.5, "typed in percent");
    assert!(session(&h).check().is_ok());
    h.get_by_label("Remove Limiter 2").click();
    h.run();
    assert_eq!(
        kinds(&session(&h).tracks[0].effects),
        ["Compressor", "Delay"]
    );
    undo(&mut h);
    assert_eq!(
        kinds(&session(&h).tracks[0].effects),
        ["Compressor", "Limiter", "Delay"]
    );

    // The master's chain, from the master strip.
    h.get_by_label("Effects on Master").click();
    h.run();
    h.get_by_label("Effects — Master");
    add(&mut h, "Limiter");
    assert_eq!(kinds(&session(&h).master.effects), ["Limiter"]);
    assert_eq!(session(&h).format_version(), 2);
    assert_eq!(
        h.get_by_label("Effects on Master")
            .accesskit_node()
            .value()
            .as_deref(),
        Some("Limiter")
    );
}

#[test]
fn the_master_fader_moves_in_one_undo_step_and_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    assert_eq!(session(&h).master.gain_db, 0.0);
    let fader = h.get_by_label("Master fader").rect();
    let from = h
        .get_by_label("Master fader")
        .accesskit_node()
        .numeric_value()
        .unwrap();
    assert_eq!(from, 0.0);
    // Drag from the handle (0 dB is 60/72 of the way up) down by a third of the travel.
    let start = egui::pos2(
        fader.center().x,
        fader.bottom() - fader.height() * 60.0 / 72.0,
    );
    let end = start + egui::vec2(0.0, fader.height() / 3.0);
    drag(&mut h, start, end, 8);
    let moved = session(&h).master.gain_db;
    assert!((-30.0..-15.0).contains(&moved), "{moved}");
    assert!(h.state().doc.as_ref().unwrap().is_dirty());
    undo(&mut h);
    assert_eq!(
        session(&h).master.gain_db,
        0.0,
        "the whole drag is one step"
    );

    type_value(&mut h, "Master gain", "-3.5");
    assert_eq!(session(&h).master.gain_db, -3.5);
    type_value(&mut h, "Master gain", "+40");
    assert_eq!(
        session(&h).master.gain_db,
        stemdeck_session::MAX_MASTER_GAIN_DB
    );
    h.get_by_label("0 dB").click();
    h.run();
    assert_eq!(session(&h).master.gain_db, 0.0);
    undo(&mut h);
    assert_eq!(session(&h).master.gain_db, 12.0);
    undo(&mut h);
    assert_eq!(session(&h).master.gain_db, -3.5);
}

#[test]
fn the_clip_light_latches_over_0_dbfs_until_clicked() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    assert_eq!(toggled(&h, "Master clip"), Some(Toggled::False));
    // Every track 12 dB up: five tones of 0.3 add up well over 0 dBFS.
    for t in &mut h.state_mut().doc.as_mut().unwrap().session.tracks {
        t.gain_db = 12.0;
    }
    h.run();
    // The test is the audio device, driving the engine's processor.
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
    assert!(buf.iter().any(|s| s.abs() > 1.0), "the mix clips");
    h.run_steps(2);
    assert_eq!(toggled(&h, "Master clip"), Some(Toggled::True));
    // Quiet again (paused): it stays lit.
    h.state_mut().toggle_play();
    for _ in 0..20 {
        p.process(&mut buf, 2);
    }
    h.run_steps(3);
    assert_eq!(toggled(&h, "Master clip"), Some(Toggled::True));
    h.get_by_label("Master clip").click();
    h.run();
    assert_eq!(toggled(&h, "Master clip"), Some(Toggled::False));
    assert!(!h.state().master_hold.clipped);
}

#[test]
fn the_export_window_saves_the_effects_choice() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Options…").click();
    h.run();
    h.get_by_value("Wet (with effects)").click();
    h.run();
    h.get_by_label("Both (wet and dry)").click();
    h.run();
    assert_eq!(session(&h).export.effects, EffectsMode::Both);
    h.get_by_label("01 Kittest Song - Drums.wav");
    undo(&mut h);
    assert_eq!(session(&h).export.effects, EffectsMode::Wet);
}

#[test]
fn keys_show_and_hide_the_effects_panel_and_the_master_strip() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Master fader");
    h.key_press(egui::Key::F);
    h.run();
    h.get_by_label("Effects — Master");
    h.key_press(egui::Key::F);
    h.run();
    assert!(h.query_by_label("Effects — Master").is_none());
    h.key_press(egui::Key::X);
    h.run();
    assert!(h.query_by_label("Master fader").is_none());
    h.key_press(egui::Key::X);
    h.run();
    h.get_by_label("Master fader");
    // The View menu lists both with their keys.
    h.get_by_label("View").click();
    h.run();
    h.get_by(|n| n.label().is_some_and(|l| l.starts_with("Effects Panel")));
    h.get_by(|n| n.label().is_some_and(|l| l.starts_with("Master Strip")));
}
