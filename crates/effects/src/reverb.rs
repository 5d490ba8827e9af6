//! Algorithmic reverb: a pre-delay, then an eight-line feedback delay network (Jot) with
//! a Hadamard feedback matrix. Each line's gain makes the tail fall 60 dB in `decay_s`;
//! a one-pole low-pass in each line (`damping`) makes the highs die sooner, as in a
//! room. Linear and time-invariant, so on the master it is applied to each stem exactly
//! as to the mix.

use stemdeck_session::effects::{MAX_PREDELAY_MS, Reverb as ReverbParams};

use crate::smooth::{Ramp, glide_frames};

const LINES: usize = 8;
/// Line lengths in ms: mutually prime at 48 kHz, spread over 30–75 ms.
const LINE_MS: [f64; LINES] = [29.71, 37.13, 41.09, 43.67, 53.03, 59.89, 67.13, 73.57];
/// Wet level: the network's output gain, chosen so a 2 s tail has about the energy of
/// its input.
const WET: f32 = 0.25;

#[derive(Clone, Debug)]
pub struct Reverb {
    pre_l: Vec<f32>,
    pre_r: Vec<f32>,
    pre_write: usize,
    predelay: usize,
    lines: [Vec<f32>; LINES],
    pos: [usize; LINES],
    gain: [f32; LINES],
    lowpass: [f32; LINES],
    damping: f32,
    mix: Ramp,
    sample_rate: f64,
    glide: u32,
}

impl Reverb {
    pub fn new(p: &ReverbParams, sample_rate: f64) -> Self {
        let pre = (f64::from(MAX_PREDELAY_MS) * 0.001 * sample_rate).ceil() as usize + 1;
        let lines =
            LINE_MS.map(|ms| vec![0.0; ((ms * 0.001 * sample_rate).round() as usize).max(1)]);
        let mut r = Self {
            pre_l: vec![0.0; pre],
            pre_r: vec![0.0; pre],
            pre_write: 0,
            predelay: 0,
            lines,
            pos: [0; LINES],
            gain: [0.0; LINES],
            lowpass: [0.0; LINES],
            damping: 0.0,
            mix: Ramp::new(f64::from(p.mix)),
            sample_rate,
            glide: glide_frames(sample_rate),
        };
        r.set(p);
        r.mix.reset(f64::from(p.mix).clamp(0.0, 1.0));
        r
    }

    /// New settings: the mix glides; decay, damping and pre-delay act on what enters
    /// the network from now on (the tail already in it fades as it was).
    pub fn set(&mut self, p: &ReverbParams) {
        let decay = f64::from(p.decay_s).max(0.01);
        for (g, line) in self.gain.iter_mut().zip(&self.lines) {
            // 60 dB in `decay` seconds: g^(decay·fs / len) = 10^-3.
            *g = 10f64.powf(-3.0 * line.len() as f64 / (decay * self.sample_rate)) as f32;
        }
        self.damping = p.damping.clamp(0.0, 1.0) * 0.7;
        self.predelay = ((f64::from(p.predelay_ms) * 0.001 * self.sample_rate).round() as usize)
            .min(self.pre_l.len() - 1);
        self.mix.set(f64::from(p.mix).clamp(0.0, 1.0), self.glide);
    }

    pub fn reset(&mut self) {
        self.pre_l.fill(0.0);
        self.pre_r.fill(0.0);
        for line in &mut self.lines {
            line.fill(0.0);
        }
        self.lowpass = [0.0; LINES];
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let pre_len = self.pre_l.len();
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            // Pre-delay.
            if let (Some(a), Some(b)) = (
                self.pre_l.get_mut(self.pre_write),
                self.pre_r.get_mut(self.pre_write),
            ) {
                *a = *l;
                *b = *r;
            }
            let read = (self.pre_write + pre_len - self.predelay) % pre_len;
            let input_l = self.pre_l.get(read).copied().unwrap_or(0.0);
            let input_r = self.pre_r.get(read).copied().unwrap_or(0.0);
            self.pre_write = (self.pre_write + 1) % pre_len;

            // Read the lines, damp and attenuate them.
            let mut v = [0f32; LINES];
            for i in 0..LINES {
                let (Some(line), Some(pos)) = (self.lines.get(i), self.pos.get(i)) else {
                    continue;
                };
                let out = line.get(*pos).copied().unwrap_or(0.0);
                if let (Some(lp), Some(g), Some(slot)) =
                    (self.lowpass.get_mut(i), self.gain.get(i), v.get_mut(i))
                {
                    *lp = out + self.damping * (*lp - out);
                    *slot = *lp * g;
                }
            }
            // Taps: even lines left, odd lines right (before the mixing, so the two
            // sides are decorrelated).
            let wet_l = (v[0] - v[2] + v[4] - v[6]) * WET;
            let wet_r = (v[1] - v[3] + v[5] - v[7]) * WET;
            hadamard8(&mut v);
            // Feed back with the input, alternating signs across the lines.
            let inject = [
                input_l, input_r, -input_l, -input_r, input_l, input_r, -input_l, -input_r,
            ];
            for i in 0..LINES {
                let (Some(line), Some(pos)) = (self.lines.get_mut(i), self.pos.get_mut(i)) else {
                    continue;
                };
                if let Some(s) = line.get_mut(*pos) {
                    *s = v[i] + inject[i] * 0.5;
                }
                *pos += 1;
                if *pos == line.len() {
                    *pos = 0;
                }
            }
            let mix = self.mix.next() as f32;
            *l += (wet_l - *l) * mix;
            *r += (wet_r - *r) * mix;
        }
    }
}

/// The orthonormal 8-point Hadamard transform (fast Walsh–Hadamard, scaled by 1/√8).
fn hadamard8(v: &mut [f32; LINES]) {
    let mut h = 1;
    while h < LINES {
        let mut i = 0;
        while i < LINES {
            for j in i..i + h {
                let (a, b) = (v[j], v[j + h]);
                v[j] = a + b;
                v[j + h] = a - b;
            }
            i += 2 * h;
        }
        h *= 2;
    }
    let scale = 1.0 / (LINES as f32).sqrt();
    for x in v.iter_mut() {
        *x *= scale;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy_db(x: &[f32]) -> f64 {
        10.0 * (x.iter().map(|s| f64::from(*s) * f64::from(*s)).sum::<f64>() + 1e-30).log10()
    }

    #[test]
    fn the_tail_falls_60_db_in_the_decay_time() {
        let sr = 48_000.0;
        let p = ReverbParams {
            decay_s: 1.0,
            predelay_ms: 0.0,
            damping: 0.0,
            mix: 1.0,
        };
        let mut rv = Reverb::new(&p, sr);
        let n = 96_000;
        let mut l = vec![0f32; n];
        l[0] = 1.0;
        let mut r = vec![0f32; n];
        r[0] = 1.0;
        rv.process(&mut l, &mut r);
        // Schroeder's backward integration: the level 60 dB down is reached at ~1 s.
        let mut tail = vec![0f64; n];
        let mut acc = 0.0;
        for i in (0..n).rev() {
            acc += f64::from(l[i]) * f64::from(l[i]) + f64::from(r[i]) * f64::from(r[i]);
            tail[i] = acc;
        }
        let db = |i: usize| 10.0 * (tail[i] / tail[0]).log10();
        // T20 extrapolated (-5 to -25 dB), as room acoustics measure it.
        let t5 = (0..n).find(|&i| db(i) < -5.0).unwrap();
        let t25 = (0..n).find(|&i| db(i) < -25.0).unwrap();
        let rt60 = (t25 - t5) as f64 * 3.0 / sr;
        assert!((rt60 - 1.0).abs() < 0.1, "RT60 {rt60}");
    }

    #[test]
    fn damping_darkens_the_tail_and_predelay_delays_it() {
        let sr = 48_000.0;
        let run = |damping: f32, predelay_ms: f32| {
            let p = ReverbParams {
                decay_s: 2.0,
                predelay_ms,
                damping,
                mix: 1.0,
            };
            let mut rv = Reverb::new(&p, sr);
            let mut l = vec![0f32; 48_000];
            l[0] = 1.0;
            let mut r = l.clone();
            rv.process(&mut l, &mut r);
            l
        };
        let first = |x: &[f32]| x.iter().position(|s| s.abs() > 1e-9).unwrap();
        assert!(first(&run(0.0, 100.0)) >= 4800);
        let bright = run(0.0, 0.0);
        let dark = run(1.0, 0.0);
        // High-frequency content: the energy of the first difference.
        let diff = |x: &[f32]| x.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
        assert!(energy_db(&diff(&dark[24_000..])) < energy_db(&diff(&bright[24_000..])) - 6.0);
    }
}
