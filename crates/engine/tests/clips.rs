//! Clips moved while playing: heard at once (the reader patches what it decoded ahead),
//! crossfaded over FADE_MS so the move never clicks, and exactly the new arrangement
//! after that.

mod common;

use common::*;
use stemdeck_engine::FADE_MS;
use stemdeck_session::Clip;

const FADE: usize = (RATE * FADE_MS / 1000) as usize;

/// `got` (interleaved stereo) fades from `old` to `new` over FADE frames, as one
/// straight line per sample, then is `new`.
fn assert_crossfade(got: &[f32], old: &[f32], new: &[f32]) {
    for (i, ((g, o), n)) in got.iter().zip(old).zip(new).enumerate() {
        let t = ((i / 2) as f32 / FADE as f32).min(1.0);
        let want = o + (n - o) * t;
        assert!(
            (g - want).abs() < 1e-5,
            "frame {}: got {g}, want {want} (old {o}, new {n})",
            i / 2
        );
    }
}

#[test]
fn a_clip_moved_while_playing_is_heard_at_once_without_a_click() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 1.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    // Mid-block (the feed's blocks are 2048 frames), well inside the look-ahead.
    render(&mut p, 12_000, 500);
    let at = p.position();
    assert_eq!(at, 12_000);
    // Keys 100 ms later: it now ends after the other tracks, so the song grows too.
    let mut moved = s.clone();
    moved.tracks[4].clips = vec![Clip::at(4_800)];
    follow(&mut e, &moved);
    let n = 48_000 + 4_800 - at as usize;
    let got = render(&mut p, n + 1_000, 500);
    let old = offline(&s, at, n + 1_000);
    let new = offline(&moved, at, n + 1_000);
    assert!(max_abs_diff(&old, &new) > 0.1, "the move changes the mix");
    assert_crossfade(&got[..n * 2], &old[..n * 2], &new[..n * 2]);
    // Keys' last 100 ms are heard, then playback stops at the new end.
    assert!(got[(n - 100) * 2..n * 2].iter().any(|x| x.abs() > 0.01));
    assert!(got[n * 2..].iter().all(|x| *x == 0.0));
    assert!(!p.is_playing());
    assert_eq!(p.len(), 52_800);
}

/// A drag sends a move every few tens of milliseconds: each newer one takes over from
/// the one playing, crossfaded, and what stays is exactly the last arrangement.
#[test]
fn a_dragged_clip_follows_every_move_and_undo_puts_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 9_000, 512);
    let mut dragged = s.clone();
    for to in [1_000u64, 2_500, 4_000, 6_000] {
        dragged.tracks[1].clips = vec![Clip::at(to)];
        follow(&mut e, &dragged);
        render(&mut p, 700, 350);
    }
    // Past the last crossfade: exactly the last position.
    render(&mut p, FADE, 256);
    let at = p.position();
    let got = render(&mut p, 10_000, 512);
    assert_eq!(max_abs_diff(&got, &offline(&dragged, at, 10_000)), 0.0);
    // Undo: back to the file at 0, crossfaded from the dragged position.
    follow(&mut e, &s);
    let at = p.position();
    let got = render(&mut p, 10_000, 512);
    assert_crossfade(
        &got,
        &offline(&dragged, at, 10_000),
        &offline(&s, at, 10_000),
    );
}

/// While paused, a move is patched too: play starts with the new arrangement (after the
/// usual fade-in from silence).
#[test]
fn a_clip_moved_while_paused_plays_from_its_new_place() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 1.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 5_000, 512);
    e.pause();
    render(&mut p, 2 * FADE, 512);
    let at = p.position();
    let mut moved = s.clone();
    moved.tracks[0].clips = vec![Clip {
        position: 0,
        offset: 9_000,
        ..Clip::default()
    }];
    follow(&mut e, &moved);
    e.play();
    let got = render(&mut p, 20_000, 512);
    let new = offline(&moved, at, 20_000);
    assert!(max_abs_diff(&got[FADE * 2..], &new[FADE * 2..]) < 1e-6);
}

/// A clip dragged while playing, a move every few milliseconds of audio (edits arrive as
/// the pointer moves, whatever the audio thread is doing): the output never jumps, every
/// change is crossfaded. A 100 Hz sine moves by at most 0.0066 a sample; a crossfade
/// between any two of its phases by at most 1/FADE more.
#[test]
fn a_clip_dragged_while_playing_never_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Sine.wav");
    write_wav(&path, RATE, 1, 10 * RATE as usize, |i, _| {
        0.5 * (i as f32 * 100.0 * std::f32::consts::TAU / RATE as f32).sin()
    });
    let mut s = stemdeck_session::Session::new(RATE, stemdeck_session::Song::default());
    s.tracks.push(stemdeck_session::Track::new(
        stemdeck_session::TrackId(1),
        "Sine",
        path,
    ));
    let id = s.add_stem("Instruments");
    s.move_tracks(&[stemdeck_session::TrackId(1)], Some(id), None);
    let (mut e, mut p) = engine(&s);
    e.play();
    let mut out = render(&mut p, 4_800, 256);
    let mut moved = s.clone();
    for k in 0..1_200u64 {
        // Up and down by odd amounts: every move lands on another phase.
        let at = (k * 997) % 7_000;
        moved.tracks[0].clips = vec![Clip::at(at)];
        e.set_mix(&moved);
        out.extend(render(&mut p, 128, 128));
        if k % 7 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(3));
        }
    }
    follow(&mut e, &moved);
    out.extend(render(&mut p, 4_800, 256));
    let bound = 0.5 * std::f32::consts::TAU * 100.0 / RATE as f32 + 1.0 / FADE as f32 + 1e-4;
    let left: Vec<f32> = out.iter().step_by(2).copied().collect();
    let worst = left
        .windows(2)
        .enumerate()
        .map(|(i, w)| ((w[1] - w[0]).abs(), i))
        .fold((0.0f32, 0), |a, b| if b.0 > a.0 { b } else { a });
    assert!(
        worst.0 <= bound,
        "a jump of {} at frame {} (bound {bound})",
        worst.0,
        worst.1
    );
}
