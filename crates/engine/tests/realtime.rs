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
