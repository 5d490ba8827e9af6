//! The timeline driven like a user: zoom (keys, Ctrl+wheel, the control), scroll, and
//! clips dragged in time or their position typed, each move one undo step that the
//! engine follows.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use egui::{Event, Key, Modifiers, MouseWheelUnit};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use stemdeck_ui::{StemdeckApp, TimelineView};

fn track<'s>(s: &'s stemdeck_session::Session, name: &str) -> &'s stemdeck_session::Track {
    s.tracks.iter().find(|t| t.name == name).unwrap()
}

fn keys(s: &stemdeck_session::Session) -> &stemdeck_session::Track {
    track(s, "Keys")
}

/// Run until the engine has taken every clip edit (it takes one per interval).
fn settle(h: &mut Harness<'_, StemdeckApp>) {
    let t = std::time::Instant::now();
    loop {
        h.run_steps(1);
        let app = h.state();
        let waiting = app
            .engine
            .as_ref()
            .unwrap()
            .clip_edits_waiting(&app.doc.as_ref().unwrap().session);
        if !waiting {
            return;
        }
        assert!(t.elapsed().as_secs() < 10, "the engine never took the edit");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn the_timeline_zooms_scrolls_and_fits() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    assert_eq!(h.state().view, TimelineView::default());
    // View ▸ Zoom In by its key, twice: a quarter of the song across.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Equals);
    h.run();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Equals);
    h.run();
    let span = h.state().view.span.expect("zoomed in");
    assert!((span as f64 - 100_800.0 / 4.0).abs() < 2.0, "span {span}");
    // The window itself kept its scale (egui's own Ctrl+= zoom is off).
    assert_eq!(h.ctx.zoom_factor(), 1.0);
    // Shift+wheel over the lanes scrolls later in the song.
    let lane = h.get_by_label("Mute Keys").rect().center() + egui::vec2(500.0, 0.0);
    h.hover_at(lane);
    h.event_modifiers(
        Event::MouseWheel {
            unit: MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -200.0),
            modifiers: Modifiers::SHIFT,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        },
        Modifiers::SHIFT,
    );
    h.run_steps(10);
    let start = h.state().view.start;
    assert!(start > 0, "scrolled: {:?}", h.state().view);
    // Ctrl+wheel zooms in further, around the pointer.
    h.event_modifiers(
        Event::MouseWheel {
            unit: MouseWheelUnit::Point,
            delta: egui::vec2(0.0, 100.0),
            modifiers: Modifiers::COMMAND,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        },
        Modifiers::COMMAND,
    );
    h.run_steps(10);
    assert!(h.state().view.span.unwrap() < span, "{:?}", h.state().view);
    // The zoom control's Fit shows the whole song again.
    h.get_by_label("Fit").click();
    h.run();
    assert_eq!(h.state().view, TimelineView::default());
    h.get_by_label("+").click();
    h.run();
    assert!(h.state().view.span.is_some());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num0);
    h.run();
    assert_eq!(h.state().view, TimelineView::default());
}

#[test]
fn dragging_a_clip_moves_it_in_time_and_undo_puts_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    settle(&mut h);
    let clip = h.get_by_label("Clip 1 of Keys at 0:00.000").rect();
    let from = clip.center();
    let to = from + egui::vec2(120.0, 0.0);
    drag(&mut h, from, to, 10);
    let s = session(&h).clone();
    let pos = keys(&s).clips.first().map(|c| c.position).unwrap_or(0);
    // 120 points of a ~1.1 s-wide view across about 1100 points: about 0.23 s.
    let span = 100_800.0;
    let width = clip.width() as f64 * span / 96_000.0;
    let want = 120.0 * span / width;
    assert!(
        (pos as f64 - want).abs() < want * 0.05,
        "moved to {pos}, want about {want}"
    );
    assert_eq!(keys(&s).clips.len(), 1);
    // The engine follows the move.
    settle(&mut h);
    // One undo step: the file at 0 again, as it was (no clip kept).
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert!(keys(session(&h)).clips.is_empty());
    settle(&mut h);
    h.key_press_modifiers(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::Z);
    h.run();
    assert_eq!(keys(session(&h)).clips[0].position, pos);
    settle(&mut h);
}

#[test]
fn a_clips_position_is_typed_in_its_menu() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(&session_file(dir.path()));
    h.get_by_label("Clip 1 of Bass DI at 0:00.000")
        .click_secondary();
    h.run();
    h.get_by_label("Clip position in frames")
        .set_value_accesskit(12_345.0);
    h.run();
    assert_eq!(track(session(&h), "Bass DI").clips[0].position, 12_345);
    h.key_press(Key::Escape);
    h.run();
    settle(&mut h);
    h.get_by_label("Clip 1 of Bass DI at 0:00.257")
        .click_secondary();
    h.run();
    h.get_by_label("Move to Start").click();
    h.run();
    assert!(track(session(&h), "Bass DI").clips.is_empty());
    // Typing and sending back are undo steps.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(track(session(&h), "Bass DI").clips[0].position, 12_345);
}
