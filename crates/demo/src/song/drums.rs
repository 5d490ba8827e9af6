//! The drums: kick, snare, hats and crash, synthesised, and their patterns per bar.

use std::f64::consts::TAU;

use super::*;
use crate::dsp::{Biquad, Rng, SR, add_reverb, saturate, smoothstep};

// ---------------------------------------------------------------------------------------
// Drums

fn kick_hit(buf: &mut [f64], beat: f64, vel: f64, rng: &mut Rng) {
    let mut phase = 0.0;
    let mut click_lp = Biquad::lowpass(4000.0, 0.7);
    add(buf, at(beat), 0.7, |t| {
        let f = 47.0 + 115.0 * (-t / 0.032).exp() + 90.0 * (-t / 0.004).exp();
        phase += f / SR;
        let body = (TAU * phase).sin() * (-t / 0.17).exp() * smoothstep(0.0, 0.0015, t);
        let click = click_lp.process(rng.noise()) * (-t / 0.005).exp() * 0.4;
        vel * saturate(body + click, 1.8)
    });
}

fn snare_hit(buf: &mut [f64], beat: f64, vel: f64, rng: &mut Rng) {
    let mut hp = Biquad::highpass(900.0, 0.7);
    let mut lp = Biquad::lowpass(8500.0, 0.7);
    let (mut p1, mut p2) = (0.0, 0.0);
    add(buf, at(beat), 0.6, |t| {
        p1 += 185.0 * (1.0 + 0.6 * (-t / 0.008).exp()) / SR;
        p2 += 330.0 * (1.0 + 0.3 * (-t / 0.006).exp()) / SR;
        let tone = 0.55 * (TAU * p1).sin() * (-t / 0.05).exp()
            + 0.25 * (TAU * p2).sin() * (-t / 0.03).exp();
        let wires = lp.process(hp.process(rng.noise()));
        let noise = wires * (0.8 * (-t / 0.11).exp() + 0.5 * (-t / 0.012).exp());
        let attack = smoothstep(0.0, 0.0008, t);
        vel.powf(1.3) * attack * (tone + noise)
    });
}

/// The 808's six square waves: the metallic part of hats and cymbals.
fn metal(t: f64) -> f64 {
    [205.3, 304.4, 369.6, 522.7, 540.0, 800.0]
        .iter()
        .map(|f| (TAU * f * 1.6 * t).sin().signum())
        .sum::<f64>()
        / 6.0
}

fn hat_hit(buf: &mut [f64], beat: f64, vel: f64, decay: f64, rng: &mut Rng) {
    let mut hp = Biquad::highpass(7200.0, 0.9);
    let mut bp = Biquad::bandpass(10_500.0, 0.8);
    let mut lp = Biquad::lowpass(15_000.0, 0.7);
    let seconds = (decay * 6.0).min(1.5);
    add(buf, at(beat), seconds, |t| {
        let x = 0.65 * rng.noise() + 0.35 * metal(t);
        let y = lp.process(hp.process(bp.process(x) * 0.6 + x * 0.4));
        vel * y * (-t / decay).exp() * smoothstep(0.0, 0.0005, t)
    });
}

fn crash_hit(buf: &mut [f64], beat: f64, vel: f64, rng: &mut Rng) {
    let mut hp = Biquad::highpass(3200.0, 0.7);
    let mut lp = Biquad::lowpass(12_000.0, 0.7);
    add(buf, at(beat), 2.8, |t| {
        let x = 0.7 * rng.noise() + 0.3 * metal(t * 1.31);
        let env = 0.75 * (-t / 0.75).exp() + 0.25 * (-t / 0.08).exp();
        vel * lp.process(hp.process(x)) * env * smoothstep(0.0, 0.002, t)
    });
}

/// (beat in bar, velocity) of the kicks in a bar.
fn kick_pattern(bar: usize) -> Vec<(f64, f64)> {
    match (section(bar), bar) {
        (Section::Intro, 1) => vec![(0.0, 0.75), (2.0, 0.7)],
        (Section::Intro, _) => vec![],
        (Section::Verse, 5) => vec![(0.0, 1.0), (2.0, 0.9)],
        (Section::Verse, b) if b % 2 == 1 => vec![(0.0, 1.0), (1.5, 0.7), (2.0, 0.9), (2.5, 0.75)],
        (Section::Verse, _) => vec![(0.0, 1.0), (2.0, 0.9), (2.5, 0.75)],
        (Section::Chorus, 9) => vec![
            (0.0, 1.0),
            (1.0, 0.85),
            (2.0, 0.95),
            (3.0, 0.85),
            (3.5, 0.7),
        ],
        (Section::Chorus, _) => vec![(0.0, 1.0), (1.0, 0.85), (2.0, 0.95), (3.0, 0.85)],
        (Section::Outro, 10) => vec![(0.0, 1.0), (2.5, 0.8)],
        (Section::Outro, _) => vec![(0.0, 1.0), (2.0, 0.85)],
        (Section::End, _) => vec![(0.0, 1.0)],
    }
}

fn snare_pattern(bar: usize) -> Vec<(f64, f64)> {
    match (section(bar), bar) {
        (Section::Intro | Section::End, _) => vec![],
        // The fill into the chorus: 16ths from beat 3, growing.
        (Section::Verse, 5) => {
            let mut v = vec![(1.0, 1.0)];
            v.extend((0..8).map(|i| (2.0 + 0.25 * f64::from(i), 0.35 + 0.09 * f64::from(i))));
            v
        }
        (Section::Verse, b) if b % 2 == 1 => {
            vec![(1.0, 1.0), (1.75, 0.22), (3.0, 0.95), (3.25, 0.2)]
        }
        (Section::Verse, _) => vec![(1.0, 1.0), (3.0, 0.95)],
        (Section::Chorus, 9) | (Section::Outro, 11) => {
            vec![
                (1.0, 1.0),
                (3.0, 0.95),
                (3.25, 0.5),
                (3.5, 0.65),
                (3.75, 0.8),
            ]
        }
        (Section::Chorus | Section::Outro, _) => vec![(1.0, 1.0), (3.0, 0.95)],
    }
}

/// Closed hats (beat, velocity), open hats (beat, velocity) and cymbal crashes of a bar.
type HatBar = (Vec<(f64, f64)>, Vec<(f64, f64)>, Vec<(f64, f64)>);

fn hat_pattern(bar: usize) -> HatBar {
    let eighths = |down: f64, off: f64| -> Vec<(f64, f64)> {
        (0..8)
            .map(|i| (0.5 * f64::from(i), if i % 2 == 0 { down } else { off }))
            .collect()
    };
    match (section(bar), bar) {
        (Section::Intro, 1) => (eighths(0.35, 0.5), vec![], vec![]),
        (Section::Intro, _) => (vec![], vec![], vec![]),
        (Section::Verse, b) if b % 2 == 1 => {
            let mut closed = eighths(0.6, 0.85);
            closed.retain(|(b, _)| *b < 3.5);
            (closed, vec![(3.5, 0.7)], vec![])
        }
        (Section::Verse, _) => (eighths(0.6, 0.85), vec![], vec![]),
        (Section::Chorus, b) => {
            const ACCENTS: [f64; 4] = [0.75, 0.35, 0.6, 0.4];
            let closed = (0..14)
                .map(|i| (0.25 * f64::from(i), ACCENTS[(i % 4) as usize]))
                .collect();
            let crash = if b == 6 { vec![(0.0, 1.0)] } else { vec![] };
            (closed, vec![(3.5, 0.75)], crash)
        }
        (Section::Outro, _) => (eighths(0.45, 0.65), vec![], vec![]),
        (Section::End, _) => (vec![], vec![], vec![(0.0, 1.0)]),
    }
}

pub fn kick() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    let mut rng = Rng::new(0x4b1c);
    for bar in 0..=LAST_BAR {
        for (b, v) in kick_pattern(bar) {
            kick_hit(&mut buf, 4.0 * bar as f64 + b, v, &mut rng);
        }
    }
    vec![buf]
}

pub fn snare() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    let mut rng = Rng::new(0x5a4e);
    for bar in 0..=LAST_BAR {
        for (b, v) in snare_pattern(bar) {
            snare_hit(&mut buf, 4.0 * bar as f64 + b, v, &mut rng);
        }
    }
    // A short, bright room.
    add_reverb(&mut buf, 0.5, 0.7, 0.16, 300.0, 0.01);
    vec![buf]
}

pub fn hats() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    let mut rng = Rng::new(0x4a75);
    for bar in 0..=LAST_BAR {
        let (closed, open, crash) = hat_pattern(bar);
        let base = 4.0 * bar as f64;
        for (b, v) in closed {
            hat_hit(&mut buf, base + b, v, 0.02, &mut rng);
        }
        for (b, v) in open {
            hat_hit(&mut buf, base + b, v, 0.16, &mut rng);
        }
        for (b, v) in crash {
            crash_hit(&mut buf, base + b, v, &mut rng);
        }
    }
    vec![buf]
}
