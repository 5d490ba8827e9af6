//! Parameter glides: a value that moves linearly to its target over a fixed number of
//! frames, so a parameter change never steps (a step in a gain is a click).

/// The time a parameter change takes to arrive.
pub const GLIDE_SECONDS: f64 = 0.010;

#[derive(Clone, Copy, Debug)]
pub struct Ramp {
    value: f64,
    target: f64,
    step: f64,
    left: u32,
}

impl Ramp {
    pub fn new(value: f64) -> Self {
        Self {
            value,
            target: value,
            step: 0.0,
            left: 0,
        }
    }

    /// Glide to `target` over `frames` frames (at once when 0).
    pub fn set(&mut self, target: f64, frames: u32) {
        if target == self.target {
            return;
        }
        self.target = target;
        if frames == 0 {
            self.value = target;
            self.left = 0;
        } else {
            self.step = (target - self.value) / f64::from(frames);
            self.left = frames;
        }
    }

    /// Jump to `value` (no glide).
    pub fn reset(&mut self, value: f64) {
        *self = Self::new(value);
    }

    #[inline]
    pub fn next(&mut self) -> f64 {
        if self.left > 0 {
            self.left -= 1;
            self.value = if self.left == 0 {
                self.target
            } else {
                self.value + self.step
            };
        }
        self.value
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn is_gliding(&self) -> bool {
        self.left > 0
    }
}

/// Glide length in frames at `sample_rate`.
pub fn glide_frames(sample_rate: f64) -> u32 {
    (GLIDE_SECONDS * sample_rate).round().max(1.0) as u32
}

/// dB to a linear amplitude factor (the session's one definition).
pub fn db_to_gain(db: f32) -> f64 {
    f64::from(stemdeck_session::units::db_to_gain(db))
}

/// A one-pole smoothing coefficient for a time constant of `ms` milliseconds.
pub fn time_coefficient(ms: f64, sample_rate: f64) -> f64 {
    if ms <= 0.0 {
        0.0
    } else {
        (-1.0 / (ms * 0.001 * sample_rate)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ramp_arrives_exactly_on_its_last_frame() {
        let mut r = Ramp::new(0.0);
        r.set(1.0, 4);
        let v: Vec<f64> = (0..6).map(|_| r.next()).collect();
        assert_eq!(v, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
        r.set(0.0, 0);
        assert_eq!(r.next(), 0.0);
    }
}
