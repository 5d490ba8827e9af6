//! Feedback delay: `w[n] = x[n] + feedback·w[n − D]`, out = dry·(1 − mix) + w[n − D]·mix.
//! The line is allocated for the longest delay time when the effect is built, so a new
//! time glides (reading between samples while it moves) without allocating.

use stemdeck_session::effects::{Delay as DelayParams, MAX_DELAY_MS};

use crate::smooth::{Ramp, glide_frames};

#[derive(Clone, Debug)]
pub struct Delay {
    left: Vec<f32>,
    right: Vec<f32>,
    write: usize,
    /// Delay in frames (fractional while gliding).
    time: Ramp,
    feedback: Ramp,
    mix: Ramp,
    sample_rate: f64,
    /// Delay-time glides are slower than gain glides: a fast one is a pitch jump.
    time_glide: u32,
    glide: u32,
}

impl Delay {
    pub fn new(p: &DelayParams, sample_rate: f64) -> Self {
        let len = (f64::from(MAX_DELAY_MS) * 0.001 * sample_rate).ceil() as usize + 2;
        let mut d = Self {
            left: vec![0.0; len],
            right: vec![0.0; len],
            write: 0,
            time: Ramp::new(0.0),
            feedback: Ramp::new(0.0),
            mix: Ramp::new(0.0),
            sample_rate,
            time_glide: glide_frames(sample_rate) * 10,
            glide: glide_frames(sample_rate),
        };
        d.time.reset(d.frames(p.time_ms));
        d.feedback.reset(f64::from(p.feedback));
        d.mix.reset(f64::from(p.mix));
        d
    }

    fn frames(&self, ms: f32) -> f64 {
        let max = (self.left.len() - 2) as f64;
        (f64::from(ms) * 0.001 * self.sample_rate)
            .round()
            .clamp(1.0, max)
    }

    pub fn set(&mut self, p: &DelayParams) {
        let frames = self.frames(p.time_ms);
        self.time.set(frames, self.time_glide);
        self.feedback
            .set(f64::from(p.feedback).clamp(0.0, 0.999), self.glide);
        self.mix.set(f64::from(p.mix).clamp(0.0, 1.0), self.glide);
    }

    pub fn reset(&mut self) {
        self.left.fill(0.0);
        self.right.fill(0.0);
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = self.left.len();
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let d = self.time.next();
            let fb = self.feedback.next() as f32;
            let mix = self.mix.next() as f32;
            let whole = d.floor();
            let frac = (d - whole) as f32;
            let i0 = (self.write + len - whole as usize) % len;
            let i1 = (i0 + len - 1) % len;
            let read = |buf: &[f32]| {
                let a = buf.get(i0).copied().unwrap_or(0.0);
                if frac == 0.0 {
                    a
                } else {
                    a + (buf.get(i1).copied().unwrap_or(0.0) - a) * frac
                }
            };
            let (wl, wr) = (read(&self.left), read(&self.right));
            if let Some(s) = self.left.get_mut(self.write) {
                *s = *l + fb * wl;
            }
            if let Some(s) = self.right.get_mut(self.write) {
                *s = *r + fb * wr;
            }
            self.write = (self.write + 1) % len;
            *l += (wl - *l) * mix;
            *r += (wr - *r) * mix;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impulse_echoes_at_the_delay_time_with_the_feedback() {
        let p = DelayParams {
            time_ms: 10.0,
            feedback: 0.5,
            mix: 1.0,
        };
        let mut d = Delay::new(&p, 48_000.0);
        let mut l = vec![0f32; 2000];
        l[0] = 1.0;
        let mut r = l.clone();
        d.process(&mut l, &mut r);
        let taps: Vec<(usize, f32)> = l
            .iter()
            .enumerate()
            .filter(|(_, s)| s.abs() > 1e-9)
            .map(|(i, s)| (i, *s))
            .collect();
        assert_eq!(taps, [(480, 1.0), (960, 0.5), (1440, 0.25), (1920, 0.125)]);
    }
}
