//! Where a stem sits against a reference signal (the master, or the sum of the other
//! stems): the lag of the highest cross-correlation peak, computed with FFTs (realfft).
//!
//! Only one window of the stem is correlated (its loudest [`WINDOW_SECONDS`]), against
//! the reference over the same span widened by the largest lag looked for on each side:
//! the cost and the memory stay those of one FFT of about 35 s of audio, whatever the
//! song's length, and an offset is the same all through a file.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// The stretch of a stem that is correlated: its loudest 30 s.
pub const WINDOW_SECONDS: f64 = 30.0;
/// The largest offset looked for, each way: 2 s.
pub const MAX_LAG_SECONDS: f64 = 2.0;

/// How a stem lines up with its reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lag {
    /// Frames the stem is late by (negative: early).
    pub offset: i64,
    /// The normalised correlation at that lag, -1..1 (negative: opposite polarity).
    pub correlation: f64,
    /// The peak over the highest correlation more than 10 ms (of the 2 s searched) away
    /// from it: near 1, another lag fits about as well and the offset is not certain.
    pub distinctness: f64,
}

/// How the cross-spectrum is weighted before the inverse FFT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weighting {
    /// Plain cross-correlation: right when the reference contains the stem (a master).
    Plain,
    /// Phase transform (GCC-PHAT): every frequency counts the same, so the peak stays
    /// sharp when stem and reference only share timing (the sum of the other stems),
    /// not the same sound.
    Phat,
}

/// The offset of `stem` against `reference` (both mono, same rate), looking up to
/// `max_lag` frames each way. `None` when the stem is silent or the reference is silent
/// over the stem's window.
pub fn find_lag(
    stem: &[f32],
    reference: &[f32],
    window: usize,
    max_lag: usize,
    weighting: Weighting,
) -> Option<Lag> {
    let (start, len) = loudest_window(stem, window.max(1));
    let seg = stem.get(start..start + len)?;
    let seg_energy: f64 = seg.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
    if seg_energy <= 0.0 {
        return None;
    }
    // The reference from `start - max_lag` to `start + len + max_lag`, zeros outside.
    let span = len + 2 * max_lag;
    let first = start as i64 - max_lag as i64;
    let refseg: Vec<f32> = (0..span as i64)
        .map(|i| {
            usize::try_from(first + i)
                .ok()
                .and_then(|j| reference.get(j))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    // Circular correlation c[j] = sum_n seg[n] * refseg[n + j]: for j in 0..=2*max_lag,
    // n + j stays below `span`, so an FFT of `span` points has no wrap-around there.
    let n = span.next_power_of_two().max(2);
    let mut planner = RealFftPlanner::<f64>::new();
    let fwd = planner.plan_fft_forward(n);
    let inv = planner.plan_fft_inverse(n);
    let mut a = fwd.make_input_vec();
    let mut b = fwd.make_input_vec();
    for (d, s) in a.iter_mut().zip(seg) {
        *d = f64::from(*s);
    }
    for (d, s) in b.iter_mut().zip(&refseg) {
        *d = f64::from(*s);
    }
    let mut sa = fwd.make_output_vec();
    let mut sb = fwd.make_output_vec();
    fwd.process(&mut a, &mut sa).ok()?;
    fwd.process(&mut b, &mut sb).ok()?;
    let mut cross: Vec<Complex<f64>> = sa.iter().zip(&sb).map(|(x, y)| x.conj() * y).collect();
    if weighting == Weighting::Phat {
        let floor = cross.iter().map(|c| c.norm()).fold(0.0f64, f64::max) * 1e-9;
        for c in &mut cross {
            let m = c.norm();
            *c = if m > floor {
                *c / m
            } else {
                Complex::new(0.0, 0.0)
            };
        }
    }
    // The inverse of a real signal's spectrum: the DC and Nyquist bins must be real.
    if let Some(c) = cross.first_mut() {
        c.im = 0.0;
    }
    if let Some(c) = cross.last_mut() {
        c.im = 0.0;
    }
    let mut corr = inv.make_output_vec();
    inv.process(&mut cross, &mut corr).ok()?;
    let (best_j, best) = corr
        .iter()
        .take(2 * max_lag + 1)
        .enumerate()
        .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
        .map(|(j, v)| (j, v.abs()))?;
    // How far the peak stands out: against the highest value more than 10 ms away.
    // Music repeats, so a beat or a bar away the correlation can be nearly as high.
    let guard = (max_lag / 200).max(1);
    let second = corr
        .iter()
        .take(2 * max_lag + 1)
        .enumerate()
        .filter(|(j, _)| j.abs_diff(best_j) > guard)
        .map(|(_, v)| v.abs())
        .fold(0.0f64, f64::max);
    // seg[n] (at stem frame start + n) met refseg[n + j] (reference frame
    // start + n + j - max_lag): the stem is late by max_lag - j.
    let offset = max_lag as i64 - best_j as i64;
    let window_ref = refseg.get(best_j..best_j + len)?;
    let dot: f64 = seg
        .iter()
        .zip(window_ref)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let ref_energy: f64 = window_ref
        .iter()
        .map(|&y| f64::from(y) * f64::from(y))
        .sum();
    if ref_energy <= 0.0 {
        return None;
    }
    Some(Lag {
        offset,
        correlation: dot / (seg_energy * ref_energy).sqrt(),
        distinctness: if second > 0.0 {
            best / second
        } else {
            f64::INFINITY
        },
    })
}

/// Start and length of the `window`-frame stretch of `x` with the most energy (all of
/// `x` when it is shorter), found on a grid of 1024 frames.
fn loudest_window(x: &[f32], window: usize) -> (usize, usize) {
    if x.len() <= window {
        return (0, x.len());
    }
    const HOP: usize = 1024;
    let hops: Vec<f64> = x
        .chunks(HOP)
        .map(|c| c.iter().map(|&v| f64::from(v) * f64::from(v)).sum())
        .collect();
    let per = (window / HOP).max(1);
    let mut sum: f64 = hops.iter().take(per).sum();
    let (mut best, mut best_sum) = (0, sum);
    for i in per..hops.len() {
        sum += hops.get(i).copied().unwrap_or(0.0) - hops.get(i - per).copied().unwrap_or(0.0);
        if sum > best_sum {
            best_sum = sum;
            best = i + 1 - per;
        }
    }
    let start = (best * HOP).min(x.len() - window);
    (start, window)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn finds_late_early_and_inverted() {
        let a = noise(40_000, 1);
        let b = noise(40_000, 2);
        let master: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        for (shift, sign) in [(0i64, 1.0f32), (300, 1.0), (-123, 1.0), (57, -1.0)] {
            let stem: Vec<f32> = (0..40_000i64)
                .map(|i| {
                    usize::try_from(i - shift)
                        .ok()
                        .and_then(|j| a.get(j))
                        .map_or(0.0, |v| v * sign)
                })
                .collect();
            for w in [Weighting::Plain, Weighting::Phat] {
                let lag = find_lag(&stem, &master, 10_000, 2_000, w).unwrap();
                assert_eq!(lag.offset, shift, "{w:?}");
                assert_eq!(lag.correlation.signum(), f64::from(sign), "{w:?}");
                assert!(lag.correlation.abs() > 0.6, "{lag:?}");
                assert!(lag.distinctness > 2.0, "{lag:?}");
            }
        }
    }

    #[test]
    fn silence_has_no_lag() {
        let a = noise(5_000, 3);
        assert!(find_lag(&[0.0; 5_000], &a, 1_000, 100, Weighting::Plain).is_none());
        assert!(find_lag(&a, &[0.0; 5_000], 1_000, 100, Weighting::Plain).is_none());
    }
}
