//! Command storms, device-free: thousands of random play / pause / seek / set_mix /
//! set_loop commands, in bursts bigger than the command ring, between callbacks of random
//! sizes. Nothing panics, every output sample is finite and within what the mix can
//! reach, and afterwards the engine plays exactly the right audio: the last command of
//! each kind wins, none is lost.

mod common;

use std::time::Duration;

use common::*;
use stemdeck_engine::{FADE_MS, RAMP_MS};
use stemdeck_session::Session;

const FADE: usize = (RATE * FADE_MS / 1000) as usize;
const RAMP: usize = (RATE * RAMP_MS / 1000) as usize;

/// xorshift64*: the same storm every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A random mix of the session: mutes, solos, gains (-60 to +6 dB, or -inf), pans,
/// stem gains, and tracks moved between stems or out of them.
fn random_mix(base: &Session, rng: &mut Rng) -> Session {
    let mut s = base.clone();
    for t in &mut s.tracks {
        t.mute = rng.below(4) == 0;
        t.solo = rng.below(8) == 0;
        t.gain_db = if rng.below(20) == 0 {
            f32::NEG_INFINITY
        } else {
            -60.0 + 66.0 * rng.unit()
        };
        t.pan = 2.0 * rng.unit() - 1.0;
    }
    for st in &mut s.stems {
        st.mute = rng.below(5) == 0;
        st.solo = rng.below(8) == 0;
        st.gain_db = -30.0 + 36.0 * rng.unit();
    }
    if rng.below(3) == 0 {
        let t = s.tracks[rng.below(s.tracks.len() as u64) as usize].id;
        let to = match rng.below(s.stems.len() as u64 + 1) as usize {
            i if i < s.stems.len() => Some(s.stems[i].id),
            _ => None,
        };
        s.move_tracks(&[t], to, None);
    }
    s
}

/// The loudest any mix of `random_mix` can get: every track at its peak, +6 dB track
/// gain, +6 dB stem gain, and the pan law's +3 dB at the sides, all adding up.
fn bound(peaks_sum: f32) -> f32 {
    peaks_sum * 2.0 * 2.0 * std::f32::consts::SQRT_2 * 1.01
}

#[test]
fn a_storm_of_commands_leaves_the_engine_playing_the_right_audio() {
    let dir = tempfile::tempdir().unwrap();
    let base = session(dir.path(), 1.0);
    let (mut e, mut p) = engine(&base);
    let len = e.len();
    // Track peaks of the fixture (see common::session): 0.5, 0.1, 0.4, 0.3, 0.2.
    let limit = bound(0.5 + 0.1 + 0.4 + 0.3 + 0.2);
    let mut rng = Rng(0x005E_ED0F_570A_u64);
    let mut commands = 0;
    let mut callbacks = 0;
    let mut loudest = 0.0f32;
    let mut calms = 0;
    while commands < 20_000 {
        // A burst: sometimes far more than the command ring holds (256).
        let burst = match rng.below(10) {
            0 => 300 + rng.below(700),
            1..=3 => 0,
            _ => rng.below(20),
        };
        for _ in 0..burst {
            match rng.below(6) {
                0 => e.play(),
                1 => e.pause(),
                2 => e.seek(match rng.below(10) {
                    0 => u64::MAX,
                    1 => len + rng.below(1000),
                    _ => rng.below(len),
                }),
                3 => {
                    let (a, b) = (rng.below(len + 100), rng.below(len + 100));
                    e.set_loop(a, b, rng.below(2) == 0);
                }
                _ => e.set_mix(&random_mix(&base, &mut rng)),
            }
            commands += 1;
        }
        if rng.below(8) == 0 {
            e.poll();
        }
        // A callback of any size, mono, stereo or more channels, now and then a
        // zero-length one.
        let channels = [1, 2, 2, 2, 6][rng.below(5) as usize];
        let frames = match rng.below(10) {
            0 => 0,
            1 => 1 + rng.below(4),
            _ => 1 + rng.below(2048),
        } as usize;
        let mut out = vec![f32::NAN; frames * channels];
        p.process(&mut out, channels);
        callbacks += 1;
        for v in &out {
            assert!(v.is_finite(), "callback {callbacks}: {v}");
            loudest = loudest.max(v.abs());
        }
        assert!(
            loudest <= limit,
            "callback {callbacks}: {loudest} is beyond any mix ({limit})"
        );
        assert!(p.position() <= len, "position {} past {len}", p.position());
        if rng.below(50) == 0 {
            // Let the reader catch up now and then, as a real device's pace would.
            std::thread::sleep(Duration::from_millis(1));
        }
        if commands / 500 > calms {
            // A calm moment between gusts: no commands, callbacks at a device's pace,
            // so what the storm left playing is heard.
            calms += 1;
            for _ in 0..15 {
                std::thread::sleep(Duration::from_millis(1));
                let mut out = vec![0.0; 512 * 2];
                p.process(&mut out, 2);
                for v in &out {
                    assert!(v.is_finite());
                    loudest = loudest.max(v.abs());
                }
            }
        }
    }
    assert!(loudest > 0.05, "the storm should have played something");

    // A last burst that fills the ring, then the state the user ends in, sent at once
    // without a callback in between: every last command must still arrive.
    for _ in 0..1000 {
        e.set_mix(&random_mix(&base, &mut rng));
        e.seek(rng.below(len));
        e.play();
    }
    let mut end = base.clone();
    end.stems[2].mute = true; // Instrumental
    end.tracks[4].gain_db = -6.0;
    let target = 20_000;
    e.set_loop(0, 0, false);
    e.pause();
    e.set_mix(&end);
    e.seek(target);
    e.play();
    e.poll();
    // Call back like a device: from the first new sample on, the output is the offline
    // render from `target` (after the fade-in and the last ramp).
    let mut out = Vec::new();
    for _ in 0..200 {
        let mut buf = vec![0.0; 480 * 2];
        p.process(&mut buf, 2);
        out.extend(buf);
        // The app polls the engine a few times a second; here, between callbacks.
        e.poll();
        std::thread::sleep(Duration::from_millis(1));
        if out.len() > 20_000 * 2 {
            break;
        }
    }
    assert!(p.is_playing(), "the last play was lost");
    // The new audio is the last `played` frames: it started at `target` (the old
    // position faded out before it, then silence until the reader was there).
    let played = (p.position() - target) as usize;
    assert!(
        played > 10_000,
        "only {played} frames played after the storm"
    );
    let start = out.len() - played * 2;
    assert!(
        out[..start].iter().rev().take(64).all(|x| *x == 0.0),
        "the new audio does not start at {target}"
    );
    let want = offline(&end, target, played);
    let skip = (FADE + RAMP) * 2;
    let d = max_abs_diff(&out[start + skip..], &want[skip..]);
    assert!(d < 1e-6, "after the storm: max diff {d}");
}

/// Drive callbacks of 480 frames at about a device's pace; the output.
fn callbacks(p: &mut stemdeck_engine::Processor, n: usize) -> Vec<f32> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut buf = vec![0.0; 480 * 2];
        p.process(&mut buf, 2);
        out.extend(buf);
        std::thread::sleep(Duration::from_millis(1));
    }
    out
}

/// A seek and a play (or a pause) reaching the audio thread in the same callback, as
/// when the user clicks the ruler and presses Space at once: the seek is not lost behind
/// the play (it used to wait for a fade-out the play had cancelled, until the song
/// ended), and a pause after a seek is not undone by the seek's fade-in.
#[test]
fn a_seek_with_a_play_or_a_pause_in_the_same_callback_is_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2.0);
    let target = 60_000u64;
    for then_play in [true, false] {
        let (mut e, mut p) = engine(&s);
        e.play();
        render(&mut p, 9600, 480);
        e.seek(target);
        if then_play {
            e.play();
        } else {
            e.pause();
        }
        let out = callbacks(&mut p, 40);
        if then_play {
            assert!(p.is_playing());
            assert!(
                p.position() > target + 4800,
                "seek lost: at {}",
                p.position()
            );
            let played = (p.position() - target) as usize;
            let start = out.len() - played * 2;
            let want = offline(&s, target, played);
            let d = max_abs_diff(&out[start + FADE * 2..], &want[FADE * 2..]);
            assert!(d < 1e-6, "after seek + play: max diff {d}");
        } else {
            assert!(!p.is_playing(), "the pause was undone");
            assert_eq!(p.position(), target);
            assert!(
                out[FADE * 2..].iter().all(|x| *x == 0.0),
                "silent after the fade"
            );
        }
    }
}
