//! Parametric EQ: bands in series, each a biquad with the RBJ Audio EQ Cookbook's
//! definitions of frequency, gain and Q (the `biquad` crate computes the coefficients),
//! so a band nulls against ffmpeg's highpass, lowpass, equalizer, lowshelf and highshelf
//! filters with the same settings (`width_type=q`). Filtering runs in f64.
//!
//! A parameter change glides: frequency and Q move geometrically, gain linearly, over
//! `GLIDE_SECONDS`, with the coefficients recomputed every `RECOMPUTE` frames.

use biquad::{Biquad as _, Coefficients, DirectForm2Transposed, Type};
use stemdeck_session::effects::{BandShape, EqBand};
use stemdeck_session::units::power_to_db;

use crate::smooth::{Ramp, glide_frames};

/// The most bands one EQ holds (its state is a fixed array: no allocation, ever).
pub const MAX_BANDS: usize = 16;
/// Frames between coefficient updates while a band glides.
const RECOMPUTE: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Band {
    shape: BandShape,
    /// ln(frequency), gain dB, ln(Q): the glide happens in these terms.
    ln_freq: Ramp,
    gain_db: Ramp,
    ln_q: Ramp,
    filters: [DirectForm2Transposed<f64>; 2],
}

/// Coefficients of `band` at `sample_rate`. The frequency is kept below Nyquist (the
/// cookbook's formulas are undefined there) and Q above zero.
pub fn coefficients(band: &EqBand, sample_rate: f64) -> Coefficients<f64> {
    coefficients_of(
        band.shape,
        f64::from(band.freq_hz),
        f64::from(band.gain_db),
        f64::from(band.q),
        sample_rate,
    )
}

fn coefficients_of(
    shape: BandShape,
    freq: f64,
    gain_db: f64,
    q: f64,
    sample_rate: f64,
) -> Coefficients<f64> {
    let normalized = (freq / (sample_rate / 2.0)).clamp(1e-6, 0.999);
    let q = if q.is_finite() { q.max(1e-3) } else { 0.707 };
    let kind = match shape {
        BandShape::Highpass => Type::HighPass,
        BandShape::Lowpass => Type::LowPass,
        BandShape::Peak => Type::PeakingEQ(gain_db),
        BandShape::Lowshelf => Type::LowShelf(gain_db),
        BandShape::Highshelf => Type::HighShelf(gain_db),
    };
    // In range by construction, so the crate's Nyquist and Q errors cannot happen; a
    // unity filter stands in if they ever did.
    Coefficients::from_normalized_params(kind, normalized, q).unwrap_or(Coefficients {
        a1: 0.0,
        a2: 0.0,
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
    })
}

/// The magnitude response of `bands` in series at `freq`, in dB (for the EQ curve).
pub fn response_db(bands: &[EqBand], sample_rate: f64, freq: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / sample_rate;
    let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
    bands
        .iter()
        .map(|b| {
            let k = coefficients(b, sample_rate);
            // |b0 + b1 z^-1 + b2 z^-2|² / |1 + a1 z^-1 + a2 z^-2|², z = e^{jw}
            let (nr, ni) = (k.b0 + k.b1 * c1 + k.b2 * c2, -(k.b1 * s1 + k.b2 * s2));
            let (dr, di) = (1.0 + k.a1 * c1 + k.a2 * c2, -(k.a1 * s1 + k.a2 * s2));
            power_to_db((nr * nr + ni * ni) / (dr * dr + di * di))
        })
        .sum()
}

/// The EQ processor.
#[derive(Clone, Debug)]
pub struct Equalizer {
    sample_rate: f64,
    glide: u32,
    bands: [Option<Band>; MAX_BANDS],
}

impl Equalizer {
    /// Bands beyond `MAX_BANDS` are ignored (the model's check refuses them first).
    pub fn new(bands: &[EqBand], sample_rate: f64) -> Self {
        let mut eq = Self {
            sample_rate,
            glide: glide_frames(sample_rate),
            bands: [None; MAX_BANDS],
        };
        for (slot, b) in eq.bands.iter_mut().zip(bands) {
            let k = coefficients(b, sample_rate);
            *slot = Some(Band {
                shape: b.shape,
                ln_freq: Ramp::new(f64::from(b.freq_hz).max(1e-3).ln()),
                gain_db: Ramp::new(f64::from(b.gain_db)),
                ln_q: Ramp::new(f64::from(b.q).max(1e-3).ln()),
                filters: [DirectForm2Transposed::<f64>::new(k); 2],
            });
        }
        eq
    }

    /// Whether `bands` can be glided to in place (same count and shapes).
    pub fn accepts(&self, bands: &[EqBand]) -> bool {
        let shapes = self.bands.iter().map_while(|b| b.map(|b| b.shape));
        bands.len() <= MAX_BANDS && shapes.eq(bands.iter().map(|b| b.shape))
    }

    /// Glide to new band settings (call only when `accepts`).
    pub fn set(&mut self, bands: &[EqBand]) {
        for (slot, b) in self.bands.iter_mut().zip(bands) {
            if let Some(band) = slot {
                band.ln_freq
                    .set(f64::from(b.freq_hz).max(1e-3).ln(), self.glide);
                band.gain_db.set(f64::from(b.gain_db), self.glide);
                band.ln_q.set(f64::from(b.q).max(1e-3).ln(), self.glide);
            }
        }
    }

    pub fn reset(&mut self) {
        for band in self.bands.iter_mut().flatten() {
            for f in &mut band.filters {
                f.reset_state();
            }
        }
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let sr = self.sample_rate;
        // Bands fill the slots from the first; none gliding (the usual case): every band
        // on each frame in turn, so the CPU overlaps one band's recursion with the next
        // band's instead of waiting on each (the same arithmetic per band, the same bits).
        let n = self.bands.iter().take_while(|b| b.is_some()).count();
        let active = self.bands.get_mut(..n).unwrap_or_default();
        let still = active
            .iter()
            .flatten()
            .all(|b| !(b.ln_freq.is_gliding() || b.gain_db.is_gliding() || b.ln_q.is_gliding()));
        if still {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let (mut x, mut y) = (f64::from(*l), f64::from(*r));
                for band in active.iter_mut().flatten() {
                    let [fl, fr] = &mut band.filters;
                    x = fl.run(x);
                    y = fr.run(y);
                }
                *l = x as f32;
                *r = y as f32;
            }
            return;
        }
        for band in self.bands.iter_mut().flatten() {
            let gliding =
                band.ln_freq.is_gliding() || band.gain_db.is_gliding() || band.ln_q.is_gliding();
            if !gliding {
                let [fl, fr] = &mut band.filters;
                run_pair(fl, fr, left, right);
                continue;
            }
            for (l, r) in left.chunks_mut(RECOMPUTE).zip(right.chunks_mut(RECOMPUTE)) {
                let mut last = (0.0, 0.0, 0.0);
                for _ in 0..l.len() {
                    last = (band.ln_freq.next(), band.gain_db.next(), band.ln_q.next());
                }
                let k = coefficients_of(band.shape, last.0.exp(), last.1, last.2.exp(), sr);
                let [fl, fr] = &mut band.filters;
                fl.update_coefficients(k);
                fr.update_coefficients(k);
                run_pair(fl, fr, l, r);
            }
        }
    }
}

/// Both channels in one loop: two independent recursions keep the core busy while
/// each waits on its own previous output.
#[inline]
fn run_pair(
    fl: &mut DirectForm2Transposed<f64>,
    fr: &mut DirectForm2Transposed<f64>,
    left: &mut [f32],
    right: &mut [f32],
) {
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        *l = fl.run(f64::from(*l)) as f32;
        *r = fr.run(f64::from(*r)) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(shape: BandShape, freq_hz: f32, gain_db: f32, q: f32) -> EqBand {
        EqBand {
            shape,
            freq_hz,
            gain_db,
            q,
        }
    }

    #[test]
    fn the_response_has_the_cookbook_shape() {
        let sr = 48_000.0;
        let peak = [band(BandShape::Peak, 1000.0, 6.0, 1.0)];
        assert!((response_db(&peak, sr, 1000.0) - 6.0).abs() < 1e-9);
        assert!(response_db(&peak, sr, 50.0).abs() < 0.1);
        let hp = [band(
            BandShape::Highpass,
            100.0,
            0.0,
            std::f32::consts::FRAC_1_SQRT_2,
        )];
        assert!((response_db(&hp, sr, 100.0) + 3.0103).abs() < 0.01);
        assert!(response_db(&hp, sr, 10.0) < -35.0);
        let shelf = [band(BandShape::Lowshelf, 200.0, -4.0, 0.707)];
        assert!((response_db(&shelf, sr, 10.0) + 4.0).abs() < 0.05);
        assert!((response_db(&shelf, sr, 200.0) + 2.0).abs() < 0.01);
    }

    #[test]
    fn a_sine_comes_out_at_the_response() {
        let sr = 48_000.0;
        let bands = [
            band(BandShape::Peak, 2000.0, -9.0, 2.0),
            band(BandShape::Highshelf, 8000.0, 3.0, 0.707),
        ];
        let mut eq = Equalizer::new(&bands, sr);
        let n = 48_000;
        let mut l: Vec<f32> = (0..n)
            .map(|i| (std::f64::consts::TAU * 2000.0 * i as f64 / sr).sin() as f32 * 0.5)
            .collect();
        let mut r = l.clone();
        eq.process(&mut l, &mut r);
        let peak = l[n / 2..].iter().fold(0f32, |m, s| m.max(s.abs()));
        let got = 20.0 * f64::from(peak / 0.5).log10();
        assert!(
            (got - response_db(&bands, sr, 2000.0)).abs() < 0.05,
            "{got}"
        );
    }

    #[test]
    fn only_the_same_shapes_glide_in_place() {
        let a = [band(BandShape::Peak, 1000.0, 3.0, 1.0)];
        let eq = Equalizer::new(&a, 48_000.0);
        assert!(eq.accepts(&[band(BandShape::Peak, 500.0, -3.0, 2.0)]));
        assert!(!eq.accepts(&[band(BandShape::Lowshelf, 500.0, -3.0, 2.0)]));
        assert!(!eq.accepts(&[]));
    }
}
