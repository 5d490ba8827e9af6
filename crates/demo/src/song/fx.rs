//! The FX track: risers, an impact and a reverse swell.

use std::f64::consts::TAU;

use super::*;
use crate::dsp::{Biquad, Rng, SR, add_reverb, smoothstep};

// ---------------------------------------------------------------------------------------
// FX: a short riser into the verse, a long one into the chorus with an impact on its
// downbeat, and a reverse swell into the last chord.

fn riser(buf: &mut [f64], from_beat: f64, beats: f64, top: f64, level: f64, rng: &mut Rng) {
    let seconds = beats * BEAT;
    let mut bp = Biquad::bandpass(300.0, 2.5);
    let mut phase = 0.0;
    let mut k = 0_usize;
    add(buf, at(from_beat), seconds, |t| {
        let x = t / seconds;
        if k.is_multiple_of(16) {
            bp.retune(Biquad::bandpass(300.0 * (top / 300.0).powf(x * x), 2.5));
        }
        k += 1;
        phase += (110.0 * 4.0f64.powf(x)) / SR;
        let tone = 0.15 * (TAU * phase).sin() * x;
        level * x * x * (bp.process(rng.noise()) * 1.6 + tone)
    });
}

fn impact(buf: &mut [f64], beat: f64, rng: &mut Rng) {
    let mut lp = Biquad::lowpass(900.0, 0.7);
    let mut phase = 0.0;
    add(buf, at(beat), 2.4, |t| {
        phase += (32.0 + 60.0 * (-t / 0.25).exp()) / SR;
        let boom = (TAU * phase).sin() * (-t / 0.7).exp();
        let thud = lp.process(rng.noise()) * (-t / 0.09).exp() * 0.7;
        0.8 * (boom + thud) * smoothstep(0.0, 0.002, t)
    });
}

fn reverse_swell(buf: &mut [f64], to_beat: f64, beats: f64, rng: &mut Rng) {
    let seconds = beats * BEAT;
    let mut hp = Biquad::highpass(2500.0, 0.7);
    let mut lp = Biquad::lowpass(10_000.0, 0.7);
    add(buf, at(to_beat - beats), seconds, |t| {
        let x = t / seconds;
        0.7 * lp.process(hp.process(rng.noise())) * (4.0 * (x - 1.0)).exp() * x
    });
}

pub fn riser_fx() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    let mut rng = Rng::new(0xf00d);
    riser(&mut buf, 4.0, 4.0, 3000.0, 0.45, &mut rng);
    riser(&mut buf, 16.0, 8.0, 9000.0, 1.0, &mut rng);
    impact(&mut buf, 24.0, &mut rng);
    reverse_swell(&mut buf, 48.0, 4.0, &mut rng);
    add_reverb(&mut buf, 0.8, 0.4, 0.35, 300.0, 0.0);
    vec![buf]
}
