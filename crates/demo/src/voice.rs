//! A small singing synthesizer: a band-limited sawtooth "glottis" plus a breath of noise,
//! through a cascade of four formant resonators that glide between vowels (and five fixed
//! higher ones, plus a little high-passed "air"), with pitch
//! scoops, legato glides, delayed vibrato, a slow pitch drift and consonant-like onsets
//! ("la", "na", "ma").

use crate::dsp::{Biquad, Resonator, Rng, SR, Saw, Smooth, lerp, midi_hz, smoothstep};
use crate::tempo::BEAT;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vowel {
    /// "ah"
    A,
    /// "eh"
    E,
    /// "ee"
    I,
    /// "oh"
    O,
    /// "oo"
    U,
}

/// How a syllable starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Onset {
    /// Straight into the vowel; when the previous note ends where this one starts, the
    /// pitch glides from it (legato).
    Vowel,
    L,
    M,
    N,
}

/// One sung syllable. Times are in beats from the start of the song.
#[derive(Clone, Copy, Debug)]
pub struct Syllable {
    pub start: f64,
    pub beats: f64,
    pub note: i32,
    pub vowel: Vowel,
    pub onset: Onset,
    pub velocity: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// Adult male (tenor) formants.
    Tenor,
    /// Adult female formants.
    Soprano,
}

/// How a voice sings.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub register: Register,
    /// Attack and release of each phrase, seconds.
    pub attack: f64,
    pub release: f64,
    /// Vibrato depth (semitones, peak) and rate (Hz).
    pub vibrato: f64,
    pub vibrato_rate: f64,
    /// Semitones below the note a detached note starts at.
    pub scoop: f64,
    /// Aspiration noise, 0 … 1.
    pub breath: f64,
    /// A fixed offset in cents (to keep stacked voices apart).
    pub detune_cents: f64,
    pub seed: u64,
}

/// Formant bandwidths (Hz) of F1–F4, before a widening that grows with frequency.
const BANDWIDTHS: [f64; 4] = [70.0, 90.0, 130.0, 220.0];

/// Fixed higher resonances (Hz, bandwidth) of a tenor's tract, scaled up for a soprano.
/// Without them the cascade falls off a cliff above F4 and the voice sounds muffled.
const HIGHER: [(f64, f64); 5] = [
    (4400.0, 300.0),
    (5400.0, 400.0),
    (6500.0, 500.0),
    (7700.0, 650.0),
    (9000.0, 800.0),
];

/// Pre-emphasis of the source (a first difference, `x[n] - k·x[n-1]`): brightens the buzz
/// towards the glottal-flow-plus-lip-radiation tilt.
const PRE_EMPHASIS: f64 = 0.8;
/// Level of the "air" path: the source high-passed at 4 kHz, beside the cascade.
const AIR: f64 = 0.05;

/// Formants F1–F4 (Hz) of a vowel (Peterson & Barney averages, with a fixed "singer's" F4).
fn formants(register: Register, vowel: Vowel) -> [f64; 4] {
    let (f1, f2, f3) = match (register, vowel) {
        (Register::Tenor, Vowel::A) => (730.0, 1090.0, 2440.0),
        (Register::Tenor, Vowel::E) => (530.0, 1840.0, 2480.0),
        (Register::Tenor, Vowel::I) => (300.0, 2200.0, 3010.0),
        (Register::Tenor, Vowel::O) => (570.0, 840.0, 2410.0),
        (Register::Tenor, Vowel::U) => (320.0, 870.0, 2240.0),
        (Register::Soprano, Vowel::A) => (850.0, 1220.0, 2810.0),
        (Register::Soprano, Vowel::E) => (610.0, 2330.0, 2990.0),
        (Register::Soprano, Vowel::I) => (340.0, 2700.0, 3310.0),
        (Register::Soprano, Vowel::O) => (590.0, 920.0, 2710.0),
        (Register::Soprano, Vowel::U) => (380.0, 950.0, 2670.0),
    };
    let f4 = match register {
        Register::Tenor => 3300.0,
        Register::Soprano => 3900.0,
    };
    [f1, f2, f3, f4]
}

/// Where the formants start for a consonant onset, and how loud the consonant is.
fn onset_shape(onset: Onset, v: [f64; 4]) -> ([f64; 4], f64) {
    match onset {
        Onset::Vowel => (v, 1.0),
        Onset::L => ([360.0, 1300.0, 2700.0, v[3]], 0.45),
        Onset::M => ([250.0, 1100.0, 2300.0, v[3]], 0.12),
        Onset::N => ([250.0, 1700.0, 2600.0, v[3]], 0.15),
    }
}

/// How long a consonant onset takes to open into the vowel (s).
const ONSET_TIME: f64 = 0.07;

/// Sing `line` (sorted, non-overlapping) into a buffer of `len` samples.
pub fn sing(line: &[Syllable], style: &Style, len: usize) -> Vec<f64> {
    let mut out = vec![0.0; len];
    let mut saw = Saw::default();
    let mut rng = Rng::new(style.seed);
    let mut res = [Resonator::default(); 4];
    let scale = match style.register {
        Register::Tenor => 1.0,
        Register::Soprano => 1.15,
    };
    let mut higher = HIGHER.map(|(f, bw)| {
        let mut r = Resonator::default();
        r.set(f * scale, bw * scale);
        r
    });
    let mut air_hp = Biquad::highpass(4000.0, 0.7);
    let mut air_lp = Biquad::lowpass(12_000.0, 0.7);
    let mut prev_source = 0.0;
    let first = line.first().map_or(Vowel::A, |s| s.vowel);
    let start = formants(style.register, first);
    let mut f_smooth = start.map(|f| Smooth::new(f, 0.025));
    let mut pitch = Smooth::new(line.first().map_or(60.0, |s| f64::from(s.note)), 0.035);
    let mut amp_attack = Smooth::new(0.0, style.attack);
    let mut amp_release = Smooth::new(0.0, style.release);
    let mut amp = 0.0;
    // A slow wander of the pitch (a few cents), as no singer holds a note dead still.
    let wander_phase = [rng.noise(), rng.noise()];
    let mut breath_lp = Biquad::lowpass(6000.0, 0.7);
    let mut vib_phase = 0.0_f64;
    let mut current: Option<usize> = None;
    let mut i = 0;
    for (n, y) in out.iter_mut().enumerate() {
        let t = n as f64 / SR;
        let beat = t / BEAT;
        while i < line.len() && beat >= line[i].start + line[i].beats {
            i += 1;
        }
        let active = line.get(i).filter(|s| beat >= s.start).map(|s| (i, s));
        let (target_f, target_amp) = match active {
            Some((idx, s)) => {
                if current != Some(idx) {
                    // A new syllable: scoop into it unless it is tied to the previous one.
                    let legato = idx > 0
                        && (line[idx - 1].start + line[idx - 1].beats - s.start).abs() < 1e-9;
                    if !legato {
                        pitch.value = f64::from(s.note) - style.scoop;
                    }
                    current = Some(idx);
                }
                let since = t - s.start * BEAT;
                let vowel = formants(style.register, s.vowel);
                let (cons, cons_amp) = onset_shape(s.onset, vowel);
                let open = smoothstep(0.0, ONSET_TIME, since);
                let f = [0, 1, 2, 3].map(|k| lerp(cons[k], vowel[k], open));
                (f, s.velocity * lerp(cons_amp, 1.0, open))
            }
            None => {
                current = None;
                (f_smooth.each_ref().map(|s| s.value), 0.0)
            }
        };
        // Rise with the attack time, fall with the release time.
        let a = amp_attack.next(target_amp);
        let r = amp_release.next(target_amp);
        amp = if target_amp >= amp {
            a.min(target_amp)
        } else {
            r
        };
        amp_attack.value = amp;
        amp_release.value = amp;

        let note_target = active.map_or(pitch.value, |(_, s)| f64::from(s.note));
        let p = pitch.next(note_target);
        let since = active.map_or(0.0, |(_, s)| t - s.start * BEAT);
        let depth = style.vibrato * smoothstep(0.15, 0.55, since);
        vib_phase = (vib_phase + style.vibrato_rate / SR).fract();
        let vib = depth * (std::f64::consts::TAU * vib_phase).sin();
        let wander = 0.07 * (std::f64::consts::TAU * (0.73 * t + wander_phase[0])).sin()
            + 0.04 * (std::f64::consts::TAU * (1.37 * t + wander_phase[1])).sin();
        let f0 = midi_hz(p + vib + wander + style.detune_cents / 100.0);

        if n % 16 == 0 {
            for k in 0..4 {
                let f = f_smooth[k].value;
                res[k].set(f, BANDWIDTHS[k] + f * 0.02);
            }
        }
        for (k, s) in f_smooth.iter_mut().enumerate() {
            s.next(target_f[k]);
        }

        let glottis = saw.next(f0);
        let air = breath_lp.process(rng.noise());
        let source = amp * ((1.0 - style.breath) * glottis + style.breath * air);
        let mut v = source - PRE_EMPHASIS * prev_source;
        prev_source = source;
        for r in res.iter_mut().chain(&mut higher) {
            v = r.process(v);
        }
        // Subtracted: added in phase, it would cancel the cascade around 5 kHz.
        *y = v - AIR * air_lp.process(air_hp.process(source));
    }
    out
}
