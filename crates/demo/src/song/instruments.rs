//! Bass, keys and pad.

use std::f64::consts::{PI, TAU};

use super::*;
use crate::dsp::{Biquad, Rng, SR, Saw, add_reverb, midi_hz, saturate, smoothstep};

// ---------------------------------------------------------------------------------------
// Bass: a plucked string, additive: each harmonic decays faster than the one below it,
// with a pick position that thins some out, a little stretch, and a warm drive.

pub(super) struct Note {
    beat: f64,
    beats: f64,
    pub(super) note: i32,
    vel: f64,
}

pub(super) fn bass_line() -> Vec<Note> {
    let mut notes = Vec::new();
    let mut push = |beat: f64, beats: f64, note: i32, vel: f64| {
        notes.push(Note {
            beat,
            beats,
            note,
            vel,
        })
    };
    for (bar, chord) in PROGRESSION.iter().enumerate() {
        let r = chord.bass;
        let next = PROGRESSION.get(bar + 1).map_or(r, |c| c.bass);
        let b = 4.0 * bar as f64;
        match section(bar) {
            Section::Intro => {}
            Section::Verse => {
                push(b, 1.4, r, 1.0);
                push(b + 1.5, 0.45, r, 0.7);
                push(b + 2.0, 0.9, r + 12, 0.8);
                push(b + 3.0, 0.45, r, 0.8);
                push(b + 3.5, 0.45, approach(r, next), 0.75);
            }
            Section::Chorus => {
                let line = [r, r, r + 12, r, r, r + 12, r + 7, approach(r, next)];
                for (i, n) in line.into_iter().enumerate() {
                    let vel = if i % 2 == 0 { 1.0 } else { 0.75 };
                    push(b + 0.5 * i as f64, 0.42, n, vel);
                }
            }
            Section::Outro => {
                push(b, 1.9, r, 0.95);
                push(b + 2.0, 0.9, r + 7, 0.8);
                push(b + 3.0, 0.45, r, 0.8);
                push(b + 3.5, 0.45, approach(r, next), 0.75);
            }
            Section::End => push(b, 9.0, r, 1.0),
        }
    }
    notes
}

fn bass_note(buf: &mut [f64], n: &Note) {
    let f = midi_hz(f64::from(n.note));
    let gate = n.beats * BEAT;
    let partials: Vec<(f64, f64, f64)> = (1..)
        .map(f64::from)
        .take_while(|h| h * f < 3500.0)
        .map(|h| {
            let amp = (PI * h * 0.19).sin().abs() / h * n.vel.powf(0.3 * (h - 1.0).min(4.0));
            let decay = 2.4 / (1.0 + 0.45 * (h - 1.0));
            (h * f * (1.0 + 0.0003 * h * h), amp, decay)
        })
        .collect();
    add(buf, at(n.beat), gate + 0.08, |t| {
        let sum: f64 = partials
            .iter()
            .map(|&(fh, a, d)| a * (-t / d).exp() * (TAU * fh * t).sin())
            .sum();
        let release = if t > gate {
            (-(t - gate) / 0.025).exp()
        } else {
            1.0
        };
        let attack = smoothstep(0.0, 0.003, t);
        n.vel * saturate(0.9 * sum * attack * release, 1.5)
    });
}

pub fn bass() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    for n in bass_line() {
        bass_note(&mut buf, &n);
    }
    Biquad::highpass(32.0, 0.7).run(&mut buf);
    // The string's top end, as a DI hears it.
    Biquad::lowpass(4500.0, 0.7).run(&mut buf);
    vec![buf]
}

// ---------------------------------------------------------------------------------------
// Keys: a two-operator FM electric piano (the body) plus a fast-decaying high-ratio pair
// (the tine's bark), with a gentle tremolo.

fn keys_rhythm(bar: usize) -> Vec<(f64, f64, f64)> {
    match section(bar) {
        Section::Intro => vec![(0.0, 3.8, 0.8)],
        Section::Verse => vec![(0.0, 1.3, 0.85), (1.5, 0.8, 0.6), (2.5, 1.3, 0.75)],
        Section::Chorus => vec![
            (0.0, 0.9, 0.9),
            (1.0, 0.4, 0.55),
            (1.5, 0.9, 0.75),
            (2.5, 0.4, 0.55),
            (3.0, 0.9, 0.8),
        ],
        Section::Outro => vec![(0.0, 3.8, 0.75)],
        Section::End => vec![(0.0, 9.0, 0.85)],
    }
}

fn ep_note(buf: &mut [f64], beat: f64, beats: f64, note: i32, vel: f64) {
    let f = midi_hz(f64::from(note));
    let gate = beats * BEAT;
    let decay = 2.2 * (-(f64::from(note) - 60.0) / 24.0).exp2();
    add(buf, at(beat), gate + 0.35, |t| {
        let index = vel * (1.4 * (-t / 0.4).exp() + 0.35);
        let body = (TAU * f * t + index * (TAU * f * t).sin()).sin();
        let bark_index = 1.2 * vel * (-t / 0.012).exp();
        let tine = 0.22
            * vel
            * (-t / 0.15).exp()
            * (TAU * f * t + bark_index * (TAU * 14.0 * f * t).sin()).sin();
        let env = smoothstep(0.0, 0.002, t) * (-t / decay).exp();
        let release = if t > gate {
            (-(t - gate) / 0.07).exp()
        } else {
            1.0
        };
        vel.powf(1.4) * (body * env + tine) * release
    });
}

pub fn keys() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    for (bar, chord) in PROGRESSION.iter().enumerate() {
        for (b, beats, vel) in keys_rhythm(bar) {
            // Spread the notes a little, as a hand does (more for long chords).
            let roll = if beats > 2.0 { 0.06 } else { 0.015 };
            for (i, &n) in chord.keys.iter().enumerate() {
                let offset = roll * i as f64;
                let v = vel * if i == 0 { 0.85 } else { 1.0 };
                ep_note(
                    &mut buf,
                    4.0 * bar as f64 + b + offset,
                    beats - offset,
                    n,
                    v,
                );
            }
        }
    }
    for (k, y) in buf.iter_mut().enumerate() {
        let t = k as f64 / SR;
        *y *= 1.0 - 0.12 * (0.5 + 0.5 * (TAU * 4.6 * t).sin());
    }
    add_reverb(&mut buf, 0.7, 0.5, 0.28, 250.0, 0.02);
    vec![buf]
}

// ---------------------------------------------------------------------------------------
// Pad: detuned saws through a slowly breathing low-pass, with a slow attack.

fn pad_level(bar: usize) -> f64 {
    match section(bar) {
        Section::Intro => 0.8,
        Section::Verse => 0.55,
        Section::Chorus => 0.9,
        Section::Outro => 0.75,
        Section::End => 0.85,
    }
}

pub fn pad() -> Vec<Vec<f64>> {
    const DETUNE: [f64; 4] = [-11.0, -4.0, 3.0, 10.0];
    let mut rng = Rng::new(0x9ad);
    let mut buf = vec![0.0; len()];
    for (bar, chord) in PROGRESSION.iter().enumerate() {
        let gate = if bar == LAST_BAR { 3.5 } else { 4.0 } * BEAT;
        let release = if bar == LAST_BAR { 0.9 } else { 0.45 };
        let level = pad_level(bar);
        for &n in &chord.pad {
            let mut saws = DETUNE.map(|_| Saw::with_phase(0.5 + 0.5 * rng.noise()));
            add(&mut buf, at(4.0 * bar as f64), gate + release * 4.0, |t| {
                let x: f64 = saws
                    .iter_mut()
                    .zip(DETUNE)
                    .map(|(s, c)| s.next(midi_hz(f64::from(n) + c / 100.0)))
                    .sum();
                let attack = smoothstep(0.0, 0.6, t);
                let rel = if t > gate {
                    (-(t - gate) / release).exp()
                } else {
                    1.0
                };
                level * x * attack * rel
            });
        }
    }
    // A breathing 24 dB/octave low-pass (between about 700 Hz and 2 kHz).
    let mut lp = [Biquad::lowpass(1200.0, 0.54), Biquad::lowpass(1200.0, 1.3)];
    for (k, y) in buf.iter_mut().enumerate() {
        if k % 32 == 0 {
            let t = k as f64 / SR;
            let cutoff = 1200.0 * (0.75 * (TAU * 0.09 * t - 1.3).sin()).exp2();
            lp[0].retune(Biquad::lowpass(cutoff, 0.54));
            lp[1].retune(Biquad::lowpass(cutoff, 1.3));
        }
        let half = lp[0].process(*y);
        *y = lp[1].process(half);
    }
    Biquad::highpass(150.0, 0.7).run(&mut buf);
    add_reverb(&mut buf, 0.85, 0.6, 0.35, 200.0, 0.03);
    vec![buf]
}
