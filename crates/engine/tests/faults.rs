//! A track file cut short while it plays (a copy still running, a drive going away):
//! the engine reports it once, naming the file, plays that track as silence from there,
//! and everything else goes on playing.

mod common;

use std::time::Duration;

use common::*;
use stemdeck_engine::EngineEvent;

#[test]
fn a_track_cut_short_while_playing_is_reported_and_the_rest_plays_on() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 6.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 4800, 480);
    // The reader is about 1.5 s ahead: cut Keys (stereo 32-bit float) to its first second.
    let keys = dir.path().join("Keys.wav");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&keys)
        .unwrap()
        .set_len(44 + u64::from(RATE) * 8)
        .unwrap();
    let mut events = Vec::new();
    let mut out = Vec::new();
    for _ in 0..300 {
        let mut buf = vec![0.0; 480 * 2];
        p.process(&mut buf, 2);
        out.extend(buf);
        events.extend(e.events());
        std::thread::sleep(Duration::from_millis(1));
    }
    let failed: Vec<&EngineEvent> = events
        .iter()
        .filter(|ev| matches!(ev, EngineEvent::TrackFailed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    let EngineEvent::TrackFailed { track, message } = failed[0] else {
        unreachable!()
    };
    assert_eq!(*track, 4, "Keys");
    assert!(
        message.contains("Keys.wav: the file changed while Stemdeck was reading it"),
        "{message}"
    );
    assert!(out.iter().all(|v| v.is_finite()));
    // The others still play: the last half second is not silent.
    let tail = &out[out.len() - RATE as usize..];
    assert!(tail.iter().any(|v| v.abs() > 0.1), "the rest stopped");
    assert!(p.is_playing());
}
