//! The audio callback's work runs under assert_no_alloc: any allocation or free inside
//! it aborts this test binary.

mod common;

use assert_no_alloc::{AllocDisabler, assert_no_alloc};
use common::*;
use stemdeck_engine::DeviceRender;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

#[test]
fn the_callback_never_allocates_or_frees() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 2.0);
    let (mut e, mut p) = engine(&s);
    let mut buf = vec![0.0f32; 1024 * 2];
    let callback = |p: &mut stemdeck_engine::Processor, buf: &mut [f32]| {
        let left = p.len().saturating_sub(p.position()) as usize;
        wait_for(p, 512.min(left));
        assert_no_alloc(|| p.process(buf, 2));
    };
    e.play();
    for round in 0..40 {
        match round % 8 {
            0 => {
                s.stems[round % 4].mute = !s.stems[round % 4].mute;
                e.set_mix(&s);
            }
            1 => {
                let id = s.tracks[round % 5].id;
                let to = s.stems[(round / 8) % 4].id;
                s.move_tracks(&[id], Some(to), None);
                e.set_mix(&s);
            }
            2 => e.seek((round as u64 * 7919) % 90_000),
            3 => e.set_loop(10_000, 30_000, round % 16 == 3),
            4 => e.pause(),
            5 => e.play(),
            6 => {
                // A clip moved: its patch is played (crossfaded in) by the next callback.
                let k = round % 5;
                s.tracks[k].clips = vec![stemdeck_session::Clip::at(round as u64 * 997)];
                follow(&mut e, &s);
            }
            _ => {}
        }
        callback(&mut p, &mut buf);
        // Replaced routings are freed here, on the control thread.
        e.poll();
    }
    // Odd buffer sizes, mono and 6-channel devices.
    for (frames, ch) in [(1, 2), (333, 1), (2048, 6), (5000, 2)] {
        let mut b = vec![0.0f32; frames * ch];
        assert_no_alloc(|| p.process(&mut b, ch));
    }
}

/// Effects on tracks, stems and the master; parameter edits (glided in place) and shape
/// changes (new chains built on this thread, swapped in, the old ones freed here) while
/// playing, seeking and looping: the callback still never allocates or frees.
#[test]
fn the_callback_with_effects_never_allocates_or_frees() {
    use stemdeck_session::effects::{Delay, Effect, EffectKind, Limiter, Reverb};
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 3.0);
    with_effects(&mut s);
    let (mut e, mut p) = engine(&s);
    let mut buf = vec![0.0f32; 512 * 2];
    let mut heard = false;
    let mut latencies = std::collections::BTreeSet::new();
    e.play();
    for round in 0..80 {
        match round % 10 {
            // Parameters: glided in place.
            0 => {
                if let EffectKind::Reverb(r) = &mut s.stems[2].effects[0].kind {
                    r.mix = 0.1 + 0.05 * (round % 7) as f32;
                }
                s.master.gain_db = -((round % 5) as f32);
                e.set_mix(&s);
            }
            1 => {
                s.tracks[0].effects[1].bypass = !s.tracks[0].effects[1].bypass;
                s.master.effects[1].bypass = round % 20 == 1;
                e.set_mix(&s);
            }
            // Shapes: an effect added, then removed; a new look-ahead (a latency change).
            2 => {
                s.tracks[round % 5]
                    .effects
                    .push(Effect::new(EffectKind::Delay(Delay::default())));
                e.set_mix(&s);
            }
            3 => {
                s.tracks[round % 5].effects.pop();
                s.stems[1].effects = if round % 20 == 3 {
                    vec![Effect::new(EffectKind::Reverb(Reverb::default()))]
                } else {
                    Vec::new()
                };
                e.set_mix(&s);
            }
            4 => {
                if let EffectKind::Limiter(l) = &mut s.master.effects[2].kind {
                    l.lookahead_ms = if l.lookahead_ms > 3.0 { 2.0 } else { 4.0 };
                }
                s.stems[3]
                    .effects
                    .push(Effect::new(EffectKind::Limiter(Limiter::default())));
                e.set_mix(&s);
            }
            5 => {
                s.stems[3].effects.truncate(1);
                let id = s.tracks[round % 5].id;
                let to = s.stems[(round / 10) % 4].id;
                s.move_tracks(&[id], Some(to), None);
                e.set_mix(&s);
            }
            6 => e.seek((round as u64 * 7919) % 120_000),
            7 => e.set_loop(10_000, 30_000, round % 20 == 7),
            8 => {
                // A stem added (the master bus and the stem chains rebuilt), then its
                // removal a round later.
                if s.stems.len() == 4 {
                    s.add_stem("Extra");
                } else {
                    let extra = s.stems[4].id;
                    s.delete_stem(extra);
                }
                e.set_mix(&s);
            }
            _ => {}
        }
        assert_eq!(e.effects_problem(), None);
        let needed = p.frames_needed(512);
        wait_for(&p, needed);
        assert_no_alloc(|| p.process(&mut buf, 2));
        heard |= buf.iter().any(|x| *x != 0.0);
        latencies.insert(p.latency());
        // Replaced routings, effects and parameters are freed here, on the control thread.
        e.poll();
    }
    assert!(heard);
    // The look-ahead changes were rebuilt and swapped in (latency changes are taken as
    // a seek).
    assert!(latencies.len() >= 2, "{latencies:?}");
    for (frames, ch) in [(1, 2), (333, 1), (2048, 6), (5000, 2)] {
        let mut b = vec![0.0f32; frames * ch];
        assert_no_alloc(|| p.process(&mut b, ch));
    }
}

#[test]
fn device_rate_conversion_never_allocates() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 1.0);
    let (mut e, p) = engine(&s);
    let mut r = DeviceRender::new(p, RATE, 44_100).unwrap();
    e.play();
    let mut out = Vec::new();
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(2));
        let mut buf = vec![0.0f32; 441 * 2];
        assert_no_alloc(|| r.render(&mut buf, 2));
        out.extend(buf);
    }
    assert!(out.iter().any(|x| *x != 0.0));
}
