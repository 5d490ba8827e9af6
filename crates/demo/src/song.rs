//! "Neon Harbour": the demo song. 110 BPM, A minor, 4/4, 30 seconds.
//!
//! | bars  | section | chords          | what plays |
//! |-------|---------|-----------------|------------|
//! | 1–2   | intro   | Am  G           | keys and pad; hats, kick and a riser in bar 2 |
//! | 3–6   | verse   | Am  F  C  G     | drums, bass, lead vocal; riser and snare fill into the chorus |
//! | 7–10  | chorus  | F  G  Em  Am    | four-on-the-floor, 16th hats, crash, driving bass, backing vocals |
//! | 11–12 | outro   | F  G            | half-time drums, the vocal's last phrase, a reverse swell |
//! | 13    | end     | Am              | the final chord rings out |

use std::f64::consts::{PI, TAU};

use stemdeck_session::grouping::Role;

use crate::dsp::{Biquad, Rng, SR, Saw, add_echo, add_reverb, midi_hz, saturate, smoothstep};
use crate::voice::{Onset, Register, Style, Syllable, Vowel, sing};

pub const BPM: f64 = 110.0;
pub const KEY: &str = "A minor";
pub const TITLE: &str = "Neon Harbour";
/// Seconds per beat.
pub const BEAT: f64 = 60.0 / BPM;
/// The song's length in seconds (13 bars, the last one left to ring).
pub const SECONDS: f64 = 30.0;

/// The song's length in samples.
pub fn len() -> usize {
    (SECONDS * SR).round() as usize
}

/// The sample at a beat (from the start of the song).
fn at(beat: f64) -> usize {
    (beat * BEAT * SR).round() as usize
}

/// Gain that takes a note's envelope to exactly zero over its last 20 ms, so nothing is
/// cut off mid-wave.
fn tail(t: f64, len: f64) -> f64 {
    1.0 - smoothstep(len - 0.02, len, t)
}

/// Add `f(k, t)` for `seconds` from sample `start` (k: sample index, t: time in seconds).
fn add(buf: &mut [f64], start: usize, seconds: f64, mut f: impl FnMut(f64) -> f64) {
    let n = (seconds * SR) as usize;
    for (k, y) in buf.iter_mut().skip(start).take(n).enumerate() {
        let t = k as f64 / SR;
        *y += f(t) * tail(t, seconds);
    }
}

// ---------------------------------------------------------------------------------------
// Harmony

struct Chord {
    bass: i32,
    keys: [i32; 4],
    pad: [i32; 3],
    bgv: [i32; 3],
}

const AM: Chord = Chord {
    bass: 33,
    keys: [57, 60, 64, 67],
    pad: [57, 64, 72],
    bgv: [64, 69, 72],
};
const F: Chord = Chord {
    bass: 29,
    keys: [53, 57, 60, 64],
    pad: [53, 60, 69],
    bgv: [65, 69, 72],
};
const C: Chord = Chord {
    bass: 36,
    keys: [55, 60, 62, 64],
    pad: [55, 64, 72],
    bgv: [64, 67, 72],
};
const G: Chord = Chord {
    bass: 31,
    keys: [55, 59, 62, 64],
    pad: [55, 62, 71],
    bgv: [67, 71, 74],
};
const EM: Chord = Chord {
    bass: 28,
    keys: [52, 55, 59, 62],
    pad: [52, 59, 67],
    bgv: [64, 67, 71],
};

/// One chord a bar.
const PROGRESSION: [&Chord; 13] = [&AM, &G, &AM, &F, &C, &G, &F, &G, &EM, &AM, &F, &G, &AM];
const LAST_BAR: usize = 12;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Intro,
    Verse,
    Chorus,
    Outro,
    End,
}

fn section(bar: usize) -> Section {
    match bar {
        0..=1 => Section::Intro,
        2..=5 => Section::Verse,
        6..=9 => Section::Chorus,
        10..=11 => Section::Outro,
        _ => Section::End,
    }
}

/// Pitch classes of A natural minor.
const SCALE: [i32; 7] = [9, 11, 0, 2, 4, 5, 7];

fn in_scale(note: i32) -> bool {
    SCALE.contains(&note.rem_euclid(12))
}

/// The scale tone next to `target`, on the side we come from: a walking bass's approach note.
fn approach(from: i32, target: i32) -> i32 {
    if from == target {
        return from + 7;
    }
    let step = if target > from { -1 } else { 1 };
    let mut n = target + step;
    while !in_scale(n) {
        n += step;
    }
    n
}

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

// ---------------------------------------------------------------------------------------
// Bass: a plucked string, additive: each harmonic decays faster than the one below it,
// with a pick position that thins some out, a little stretch, and a warm drive.

struct Note {
    beat: f64,
    beats: f64,
    note: i32,
    vel: f64,
}

fn bass_line() -> Vec<Note> {
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

// ---------------------------------------------------------------------------------------
// Vocals

fn syl(start: f64, beats: f64, note: i32, vowel: Vowel, onset: Onset, velocity: f64) -> Syllable {
    Syllable {
        start,
        beats,
        note,
        vowel,
        onset,
        velocity,
    }
}

/// The lead melody: (beat from the verse, beats, note, vowel, onset).
const LEAD: [(f64, f64, i32, Vowel, Onset); 35] = {
    use Onset::{L, M, N, Vowel as Tie};
    use Vowel::{A, E, I, O, U};
    [
        // Verse, phrase 1 (Am | F)
        (0.5, 0.5, 64, I, L),
        (1.0, 0.5, 64, A, N),
        (1.5, 0.5, 62, A, L),
        (2.0, 1.0, 60, O, M),
        (3.0, 0.5, 62, E, L),
        (3.5, 1.5, 64, A, N),
        (5.5, 0.5, 60, U, L),
        (6.0, 1.5, 57, A, Tie),
        // Verse, phrase 2 (C | G)
        (8.5, 0.5, 64, I, M),
        (9.0, 1.0, 67, A, L),
        (10.0, 0.5, 64, E, N),
        (10.5, 0.5, 62, A, L),
        (11.0, 1.0, 60, O, M),
        (12.0, 1.0, 62, A, N),
        (13.0, 0.5, 59, E, L),
        (13.5, 1.5, 62, O, Tie),
        // Chorus (F | G | Em | Am)
        (16.0, 1.5, 69, A, N),
        (17.5, 0.5, 67, A, L),
        (18.0, 1.0, 65, O, M),
        (19.0, 1.0, 64, E, L),
        (20.0, 1.5, 67, A, N),
        (21.5, 0.5, 65, I, L),
        (22.0, 1.0, 64, A, M),
        (23.0, 1.0, 62, O, L),
        (24.0, 1.5, 64, I, N),
        (25.5, 0.5, 62, A, L),
        (26.0, 1.0, 59, O, M),
        (27.0, 0.5, 60, A, L),
        (27.5, 0.5, 62, A, Tie),
        (28.0, 3.0, 64, A, Tie),
        // Outro (F | G) and the last note (Am)
        (32.5, 0.5, 60, U, L),
        (33.0, 2.0, 57, O, Tie),
        (36.5, 0.5, 59, I, L),
        (37.0, 1.0, 62, A, N),
        (38.0, 1.0, 59, O, M),
    ]
};

pub fn lead_vox() -> Vec<Vec<f64>> {
    const VERSE: f64 = 8.0;
    let mut line: Vec<Syllable> = LEAD
        .iter()
        .map(|&(b, beats, note, vowel, onset)| {
            let vel = match b {
                x if x < 16.0 => 0.8,
                x if x < 32.0 => 1.0,
                _ => 0.85,
            };
            // Detached notes are sung a touch shorter than written: breaths between words.
            let tied = LEAD
                .iter()
                .any(|&(b2, _, _, _, o)| o == Onset::Vowel && (b2 - (b + beats)).abs() < 1e-9);
            let beats = if tied { beats } else { beats - 0.08 };
            syl(VERSE + b, beats, note, vowel, onset, vel)
        })
        .collect();
    line.push(syl(VERSE + 40.0, 3.5, 57, Vowel::A, Onset::M, 0.9));
    let style = Style {
        register: Register::Tenor,
        attack: 0.025,
        release: 0.09,
        vibrato: 0.3,
        vibrato_rate: 5.4,
        scoop: 0.7,
        breath: 0.06,
        detune_cents: 0.0,
        seed: 0x1ead,
    };
    let mut buf = sing(&line, &style, len());
    Biquad::highpass(110.0, 0.7).run(&mut buf);
    add_echo(&mut buf, 0.75 * BEAT, 0.3, 0.16);
    add_reverb(&mut buf, 0.75, 0.45, 0.3, 250.0, 0.04);
    vec![buf]
}

pub fn bgv() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    for voice in 0..3 {
        let mut line = Vec::new();
        for bar in (6..=9).chain([LAST_BAR]) {
            let vowel = if bar < 8 { Vowel::U } else { Vowel::A };
            let beats = if bar == LAST_BAR { 3.5 } else { 3.7 };
            let note = PROGRESSION[bar].bgv[voice];
            line.push(syl(
                4.0 * bar as f64 + 0.02 * voice as f64,
                beats,
                note,
                vowel,
                Onset::Vowel,
                0.8,
            ));
        }
        let style = Style {
            register: Register::Soprano,
            attack: 0.16,
            release: 0.25,
            vibrato: 0.18,
            vibrato_rate: 5.0 + 0.35 * voice as f64,
            scoop: 0.3,
            breath: 0.12,
            detune_cents: [-6.0, 5.0, 0.0][voice],
            seed: 0xb6 + voice as u64,
        };
        for (y, v) in buf.iter_mut().zip(sing(&line, &style, len())) {
            *y += v;
        }
    }
    Biquad::highpass(200.0, 0.7).run(&mut buf);
    add_reverb(&mut buf, 0.85, 0.5, 0.4, 300.0, 0.05);
    vec![buf]
}

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

// ---------------------------------------------------------------------------------------
// The multitrack

/// One track of the demo session.
pub struct Part {
    /// The file name without extension, and the track's name in the session.
    pub name: &'static str,
    /// The stem it belongs in (and its name must say so to auto-grouping).
    pub role: Role,
    pub pan: f32,
    /// Loudness while playing (RMS of its loud windows), dB before the final scaling.
    pub level_db: f64,
    pub render: fn() -> Vec<Vec<f64>>,
}

pub const PARTS: [Part; 9] = [
    Part {
        name: "01 Kick",
        role: Role::Drums,
        pan: 0.0,
        level_db: -13.0,
        render: kick,
    },
    Part {
        name: "02 Snare",
        role: Role::Drums,
        pan: 0.05,
        level_db: -21.0,
        render: snare,
    },
    Part {
        name: "03 Hats",
        role: Role::Drums,
        pan: 0.3,
        level_db: -26.0,
        render: hats,
    },
    Part {
        name: "04 Bass DI",
        role: Role::Bass,
        pan: 0.0,
        level_db: -15.0,
        render: bass,
    },
    Part {
        name: "05 Lead Vox",
        role: Role::Vocals,
        pan: 0.0,
        level_db: -15.0,
        render: lead_vox,
    },
    Part {
        name: "06 BGV",
        role: Role::Vocals,
        pan: -0.35,
        level_db: -22.0,
        render: bgv,
    },
    Part {
        name: "07 Keys",
        role: Role::Instruments,
        pan: -0.25,
        level_db: -20.0,
        render: keys,
    },
    Part {
        name: "08 Pad",
        role: Role::Instruments,
        pan: 0.2,
        level_db: -24.0,
        render: pad,
    },
    Part {
        name: "09 Riser FX",
        role: Role::Fx,
        pan: 0.0,
        level_db: -24.0,
        render: riser_fx,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_song_is_in_a_minor_and_fits() {
        const { assert!(SECONDS >= 25.0 && SECONDS <= 32.0) };
        // The last bar's chord starts well before the end, so it can ring.
        assert!(at(4.0 * LAST_BAR as f64) + (3.0 * SR) as usize <= len());
        for c in PROGRESSION {
            let all = c.keys.iter().chain(&c.pad).chain(&c.bgv).chain([&c.bass]);
            assert!(all.into_iter().all(|&n| in_scale(n)));
        }
        for (_, _, n, _, _) in LEAD {
            assert!(in_scale(n));
        }
        for n in bass_line() {
            assert!(in_scale(n.note), "{}", n.note);
        }
    }

    #[test]
    fn approach_notes_step_onto_the_next_root() {
        assert_eq!(approach(33, 29), 31); // A → F from above: G
        assert_eq!(approach(29, 36), 35); // F → C from below: B
        assert_eq!(approach(33, 33), 40); // same root: the fifth
    }

    #[test]
    fn the_melody_is_in_order_and_never_overlaps() {
        for w in LEAD.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "{:?}", w[1]);
        }
    }
}
