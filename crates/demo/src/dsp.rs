//! Small DSP building blocks. Everything is plain `f64` arithmetic with fixed seeds, so
//! a render gives the same samples on every run.

use std::f64::consts::{PI, TAU};

/// The demo's sample rate.
pub const SR: f64 = 44_100.0;

/// Frequency of a MIDI note (69 = A4 = 440 Hz); fractional notes bend.
pub fn midi_hz(note: f64) -> f64 {
    440.0 * ((note - 69.0) / 12.0).exp2()
}

/// Linear gain of a level in dB.
pub fn db(level: f64) -> f64 {
    stemdeck_session::units::db_to_amplitude_f64(level)
}

/// 0 below `edge0`, 1 above `edge1`, a smooth S in between.
pub fn smoothstep(edge0: f64, edge1: f64, x: f64) -> f64 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

pub fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

/// xorshift64*: a tiny seeded generator, identical on every run and platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// White noise, uniform in [-1, 1).
    pub fn noise(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// A biquad (RBJ cookbook), transposed direct form II.
#[derive(Clone, Copy, Debug, Default)]
pub struct Biquad {
    b0: f64,
    b1: f64,
    b2: f64,
    a1: f64,
    a2: f64,
    z1: f64,
    z2: f64,
}

impl Biquad {
    fn rbj(b0: f64, b1: f64, b2: f64, a0: f64, a1: f64, a2: f64) -> Self {
        Self {
            b0: b0 / a0,
            b1: b1 / a0,
            b2: b2 / a0,
            a1: a1 / a0,
            a2: a2 / a0,
            z1: 0.0,
            z2: 0.0,
        }
    }

    fn omega(freq: f64, q: f64) -> (f64, f64) {
        let w = TAU * freq.clamp(10.0, 0.45 * SR) / SR;
        (w.cos(), w.sin() / (2.0 * q))
    }

    pub fn lowpass(freq: f64, q: f64) -> Self {
        let (c, alpha) = Self::omega(freq, q);
        Self::rbj(
            (1.0 - c) / 2.0,
            1.0 - c,
            (1.0 - c) / 2.0,
            1.0 + alpha,
            -2.0 * c,
            1.0 - alpha,
        )
    }

    pub fn highpass(freq: f64, q: f64) -> Self {
        let (c, alpha) = Self::omega(freq, q);
        Self::rbj(
            (1.0 + c) / 2.0,
            -(1.0 + c),
            (1.0 + c) / 2.0,
            1.0 + alpha,
            -2.0 * c,
            1.0 - alpha,
        )
    }

    /// Band-pass with 0 dB at the centre.
    pub fn bandpass(freq: f64, q: f64) -> Self {
        let (c, alpha) = Self::omega(freq, q);
        Self::rbj(alpha, 0.0, -alpha, 1.0 + alpha, -2.0 * c, 1.0 - alpha)
    }

    /// Take `other`'s coefficients, keeping this filter's state (for sweeps).
    pub fn retune(&mut self, other: Biquad) {
        self.b0 = other.b0;
        self.b1 = other.b1;
        self.b2 = other.b2;
        self.a1 = other.a1;
        self.a2 = other.a2;
    }

    pub fn process(&mut self, x: f64) -> f64 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        y
    }

    pub fn run(&mut self, buf: &mut [f64]) {
        for x in buf {
            *x = self.process(*x);
        }
    }
}

/// A two-pole resonator with unity gain at DC (Klatt's formant resonator): cascaded, a
/// few of them shape a buzz into a vowel.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resonator {
    a: f64,
    b: f64,
    c: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    pub fn set(&mut self, freq: f64, bandwidth: f64) {
        let freq = freq.min(0.45 * SR);
        self.c = -(-TAU * bandwidth / SR).exp();
        self.b = 2.0 * (-PI * bandwidth / SR).exp() * (TAU * freq / SR).cos();
        self.a = 1.0 - self.b - self.c;
    }

    pub fn process(&mut self, x: f64) -> f64 {
        let y = self.a * x + self.b * self.y1 + self.c * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// A band-limited sawtooth (PolyBLEP), phase in [0, 1).
#[derive(Clone, Copy, Debug, Default)]
pub struct Saw {
    pub phase: f64,
}

impl Saw {
    pub fn with_phase(phase: f64) -> Self {
        Self {
            phase: phase.rem_euclid(1.0),
        }
    }

    pub fn next(&mut self, freq: f64) -> f64 {
        let dt = (freq / SR).min(0.5);
        let t = self.phase;
        let mut y = 2.0 * t - 1.0;
        if t < dt {
            let x = t / dt;
            y -= x + x - x * x - 1.0;
        } else if t > 1.0 - dt {
            let x = (t - 1.0) / dt;
            y -= x * x + x + x + 1.0;
        }
        self.phase += dt;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        y
    }
}

/// A one-pole smoother: moves towards its target with time constant `seconds`.
#[derive(Clone, Copy, Debug)]
pub struct Smooth {
    pub value: f64,
    coef: f64,
}

impl Smooth {
    pub fn new(value: f64, seconds: f64) -> Self {
        Self {
            value,
            coef: 1.0 - (-1.0 / (seconds * SR)).exp(),
        }
    }

    pub fn next(&mut self, target: f64) -> f64 {
        self.value += (target - self.value) * self.coef;
        self.value
    }
}

struct Comb {
    buf: Vec<f64>,
    idx: usize,
    store: f64,
    feedback: f64,
    damp: f64,
}

impl Comb {
    fn process(&mut self, x: f64) -> f64 {
        let out = self.buf[self.idx];
        self.store = out * (1.0 - self.damp) + self.store * self.damp;
        self.buf[self.idx] = x + self.store * self.feedback;
        self.idx = (self.idx + 1) % self.buf.len();
        out
    }
}

struct Allpass {
    buf: Vec<f64>,
    idx: usize,
}

impl Allpass {
    fn process(&mut self, x: f64) -> f64 {
        let delayed = self.buf[self.idx];
        self.buf[self.idx] = x + delayed * 0.5;
        self.idx = (self.idx + 1) % self.buf.len();
        delayed - x
    }
}

/// A mono Freeverb (Schroeder–Moorer: eight damped combs, four all-passes).
pub struct Reverb {
    combs: Vec<Comb>,
    allpasses: Vec<Allpass>,
}

impl Reverb {
    /// `room` and `damp` in 0 … 1, as in Freeverb.
    pub fn new(room: f64, damp: f64) -> Self {
        const COMBS: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
        const ALLPASSES: [usize; 4] = [556, 441, 341, 225];
        Self {
            combs: COMBS
                .iter()
                .map(|&n| Comb {
                    buf: vec![0.0; n],
                    idx: 0,
                    store: 0.0,
                    feedback: room * 0.28 + 0.7,
                    damp: damp * 0.4,
                })
                .collect(),
            allpasses: ALLPASSES
                .iter()
                .map(|&n| Allpass {
                    buf: vec![0.0; n],
                    idx: 0,
                })
                .collect(),
        }
    }

    pub fn process(&mut self, x: f64) -> f64 {
        let input = x * 0.015;
        let mut out: f64 = self.combs.iter_mut().map(|c| c.process(input)).sum();
        for a in &mut self.allpasses {
            out = a.process(out);
        }
        out
    }
}

/// Add a reverb return to `buf`: the send is high-passed at `low_cut` Hz and delayed by
/// `predelay` seconds; `wet` is the return level.
pub fn add_reverb(buf: &mut [f64], room: f64, damp: f64, wet: f64, low_cut: f64, predelay: f64) {
    let mut rev = Reverb::new(room, damp);
    let mut hp = Biquad::highpass(low_cut, 0.7);
    let delay = (predelay * SR) as usize;
    let mut line = vec![0.0; delay.max(1)];
    let mut idx = 0;
    for x in buf.iter_mut() {
        let send = hp.process(*x);
        let delayed = if delay == 0 {
            send
        } else {
            let d = line[idx];
            line[idx] = send;
            idx = (idx + 1) % line.len();
            d
        };
        *x += wet * rev.process(delayed);
    }
}

/// Add a feedback echo (`time` seconds) whose repeats darken, at level `wet`.
pub fn add_echo(buf: &mut [f64], time: f64, feedback: f64, wet: f64) {
    let n = ((time * SR) as usize).max(1);
    let mut line = vec![0.0; n];
    let mut idx = 0;
    let mut lp = Biquad::lowpass(3500.0, 0.6);
    let mut hp = Biquad::highpass(250.0, 0.6);
    for x in buf.iter_mut() {
        let echo = line[idx];
        line[idx] = hp.process(lp.process(*x + echo * feedback));
        idx = (idx + 1) % n;
        *x += wet * echo;
    }
}

/// Soft saturation that keeps small signals nearly linear and `x = ±1` at `±1`.
pub fn saturate(x: f64, drive: f64) -> f64 {
    (x * drive).tanh() / drive.tanh()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_seeded_and_in_range() {
        let a: Vec<f64> = {
            let mut r = Rng::new(7);
            (0..1000).map(|_| r.noise()).collect()
        };
        let mut r = Rng::new(7);
        assert!(
            a.iter()
                .all(|&x| x == r.noise() && (-1.0..1.0).contains(&x))
        );
    }

    #[test]
    fn a_lowpass_passes_dc_and_a_resonator_has_unity_dc_gain() {
        let mut lp = Biquad::lowpass(1000.0, 0.707);
        let mut res = Resonator::default();
        res.set(700.0, 90.0);
        let (mut y, mut z) = (0.0, 0.0);
        for _ in 0..20_000 {
            y = lp.process(1.0);
            z = res.process(1.0);
        }
        assert!((y - 1.0).abs() < 1e-9 && (z - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_saw_is_in_range_and_tuned() {
        let mut saw = Saw::default();
        let mut wraps = 0;
        let mut prev = 0.0;
        for _ in 0..44_100 {
            let y = saw.next(441.0);
            assert!(y.abs() <= 1.2);
            if saw.phase < prev {
                wraps += 1;
            }
            prev = saw.phase;
        }
        assert!((440..=441).contains(&wraps), "{wraps}");
    }
}
