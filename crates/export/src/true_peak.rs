//! True peak (ITU-R BS.1770, oversampled) of a stereo stream: the same measurement as the
//! ebur128 crate's `Mode::TRUE_PEAK`, value for value, only faster.
//!
//! Why not ebur128's own: its scanner runs the interpolation filter one input frame at a
//! time (4 outputs × 2 channels, 12 taps each), which was 14 % of an export's CPU time,
//! more than any decoder (docs/performance.md). This one uses ebur128's filter (same
//! coefficients, computed the same way), its rule for the oversampling factor (4× below
//! 96 kHz, 2× below 192 kHz, none above), and adds each output's products in the same
//! order without fused multiply-adds, so every interpolated sample, and so the peak, is
//! bit for bit what ebur128 computes (the tests compare them on random signals, block
//! sizes and rates). The speed comes from computing 8 consecutive outputs of every phase
//! at once, which the compiler turns into SIMD (AVX where the CPU has it, checked at run
//! time; SSE2 otherwise).
//!
//! The sample peak is not included: callers take the larger of this and the sample peak,
//! as ebur128's `true_peak()` does.

/// Taps of ebur128's interpolation filter, over all phases.
const FILTER_TAPS: usize = 48;
/// Outputs per phase computed together.
const LANES: usize = 8;

/// The oversampling layout for a rate: (factor, taps per phase), as ebur128 picks it.
fn layout(rate: u32) -> Option<(usize, usize)> {
    if rate < 96_000 {
        Some((4, 12))
    } else if rate < 192_000 {
        Some((2, 24))
    } else {
        None
    }
}

/// ebur128's filter, `coeffs[i][k]`: tap `i` of phase `k` (a Hann-windowed sinc).
fn coefficients<const TAPS: usize, const FACTOR: usize>() -> [[f32; FACTOR]; TAPS] {
    let mut filter = [[0.0f32; FACTOR]; TAPS];
    for (j, coeff) in filter.iter_mut().flat_map(|x| x.iter_mut()).enumerate() {
        let j = j as f64;
        let window = FILTER_TAPS as f64;
        let w = 0.5 * (1.0 - f64::cos(2.0 * std::f64::consts::PI * j / window));
        let m = j - window / 2.0;
        let x = m * std::f64::consts::PI / FACTOR as f64;
        *coeff = if m.abs() > 0.000_001 {
            w * x.sin() / x
        } else {
            w
        } as f32;
    }
    filter
}

enum Filter {
    /// Below 96 kHz: 4 phases of 12 taps.
    Four(Box<[[f32; 4]; 12]>),
    /// Below 192 kHz: 2 phases of 24 taps.
    Two(Box<[[f32; 2]; 24]>),
    /// 192 kHz and above: no oversampling (the sample peak is the true peak).
    None,
}

/// A running true-peak measurement of two channels.
pub struct TruePeakMeter {
    filter: Filter,
    /// Per channel: the last `taps - 1` samples (the filter's history, zeros at the start),
    /// then the block being measured.
    work: [Vec<f32>; 2],
    /// Highest absolute interpolated sample so far, per channel.
    peak: [f32; 2],
}

impl TruePeakMeter {
    pub fn new(rate: u32) -> Self {
        let filter = match layout(rate) {
            Some((4, _)) => Filter::Four(Box::new(coefficients::<12, 4>())),
            Some(_) => Filter::Two(Box::new(coefficients::<24, 2>())),
            None => Filter::None,
        };
        let history = match filter {
            Filter::Four(_) => 11,
            Filter::Two(_) => 23,
            Filter::None => 0,
        };
        Self {
            filter,
            work: [vec![0.0; history], vec![0.0; history]],
            peak: [0.0; 2],
        }
    }

    /// Measure the next frames (equal lengths).
    pub fn add(&mut self, left: &[f32], right: &[f32]) {
        for ((work, peak), block) in self
            .work
            .iter_mut()
            .zip(self.peak.iter_mut())
            .zip([left, right])
        {
            let history = work.len();
            if history == 0 {
                continue;
            }
            work.extend_from_slice(block);
            *peak = match &self.filter {
                Filter::Four(h) => scan_dispatch::<12, 4, 19>(h, work, *peak),
                Filter::Two(h) => scan_dispatch::<24, 2, 31>(h, work, *peak),
                Filter::None => *peak,
            };
            // Keep the last `history` samples for the next block.
            work.drain(..work.len() - history);
        }
    }

    /// The highest absolute interpolated sample of each channel so far (linear).
    pub fn peaks(&self) -> [f32; 2] {
        self.peak
    }
}

/// [`scan`] with AVX when the CPU has it (the same arithmetic, wider registers).
fn scan_dispatch<const TAPS: usize, const FACTOR: usize, const WIN: usize>(
    h: &[[f32; FACTOR]; TAPS],
    w: &[f32],
    peak: f32,
) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX (checked just above).
        return unsafe { scan_avx::<TAPS, FACTOR, WIN>(h, w, peak) };
    }
    scan::<TAPS, FACTOR, WIN>(h, w, peak)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn scan_avx<const TAPS: usize, const FACTOR: usize, const WIN: usize>(
    h: &[[f32; FACTOR]; TAPS],
    w: &[f32],
    peak: f32,
) -> f32 {
    scan::<TAPS, FACTOR, WIN>(h, w, peak)
}

/// The highest of `peak` and every |interpolated sample| of `w` (the history, then the
/// new samples; `WIN` = `TAPS - 1 + LANES`). Output `n` of phase `k` is
/// `sum over i of h[i][k] * w[n + TAPS - 1 - i]`, added for i = 0, 1, … as ebur128 does.
#[inline(always)]
fn scan<const TAPS: usize, const FACTOR: usize, const WIN: usize>(
    h: &[[f32; FACTOR]; TAPS],
    w: &[f32],
    peak: f32,
) -> f32 {
    debug_assert_eq!(WIN, TAPS - 1 + LANES);
    let outputs = w.len().saturating_sub(TAPS - 1);
    let mut best = [peak; LANES];
    let mut n = 0;
    while n + LANES <= outputs {
        let Some(win) = w
            .get(n..n + WIN)
            .and_then(|s| <&[f32; WIN]>::try_from(s).ok())
        else {
            break;
        };
        let mut acc = [[0.0f32; LANES]; FACTOR];
        for (i, taps) in h.iter().enumerate() {
            let newest = TAPS - 1 - i;
            for (acc, &c) in acc.iter_mut().zip(taps) {
                for (j, a) in acc.iter_mut().enumerate() {
                    *a += win[newest + j] * c;
                }
            }
        }
        for acc in &acc {
            for (b, a) in best.iter_mut().zip(acc) {
                let a = a.abs();
                if a > *b {
                    *b = a;
                }
            }
        }
        n += LANES;
    }
    // The last few outputs, one at a time.
    let mut best = best
        .into_iter()
        .fold(peak, |m, b| if b > m { b } else { m });
    while n < outputs {
        let Some(win) = w.get(n..n + TAPS) else {
            break;
        };
        for k in 0..FACTOR {
            let mut a = 0.0f32;
            for (i, taps) in h.iter().enumerate() {
                let x = win.get(TAPS - 1 - i).copied().unwrap_or(0.0);
                a += x * taps.get(k).copied().unwrap_or(0.0);
            }
            let a = a.abs();
            if a > best {
                best = a;
            }
        }
        n += 1;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(seed: u64, n: usize, level: f32) -> Vec<f32> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n).map(|_| (rng.f32() * 2.0 - 1.0) * level).collect()
    }

    /// ebur128's true peak per channel (the larger of the interpolated and the sample peak).
    fn ebur128_true_peaks(rate: u32, blocks: &[(Vec<f32>, Vec<f32>)]) -> [f64; 2] {
        let mut m = ebur128::EbuR128::new(2, rate, ebur128::Mode::TRUE_PEAK).unwrap();
        for (l, r) in blocks {
            m.add_frames_planar_f32(&[l, r]).unwrap();
        }
        [m.true_peak(0).unwrap(), m.true_peak(1).unwrap()]
    }

    /// The same from this meter and the sample peak, and whether the interpolated peak
    /// decided it (so the comparison tests the filter, not just the sample peak).
    fn ours(rate: u32, blocks: &[(Vec<f32>, Vec<f32>)]) -> ([f64; 2], bool) {
        let mut m = TruePeakMeter::new(rate);
        let mut sample = [0.0f32; 2];
        for (l, r) in blocks {
            m.add(l, r);
            for (s, ch) in sample.iter_mut().zip([l, r]) {
                *s = ch.iter().fold(*s, |a, x| a.max(x.abs()));
            }
        }
        let p = m.peaks();
        (
            [
                f64::from(p[0].max(sample[0])),
                f64::from(p[1].max(sample[1])),
            ],
            p[0] > sample[0] || p[1] > sample[1],
        )
    }

    #[test]
    fn same_values_as_ebur128_bit_for_bit() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut decided_by_filter = 0;
        for case in 0..200u64 {
            let rate = [44_100, 48_000, 88_200, 96_000, 176_400, 192_000][case as usize % 6];
            let blocks: Vec<(Vec<f32>, Vec<f32>)> = (0..rng.u64(1..6))
                .map(|b| {
                    // Block sizes around the vector width and the filter length.
                    let n = [0, 1, 3, 7, 8, 9, 11, 12, 23, 31, 100, 4096][rng.usize(0..12)];
                    let level = [1e-6, 0.1, 0.9, 1.0][rng.usize(0..4)];
                    (
                        noise(case * 100 + b, n, level),
                        noise(case * 100 + b + 50, n, level),
                    )
                })
                .collect();
            let (peaks, by_filter) = ours(rate, &blocks);
            assert_eq!(
                peaks,
                ebur128_true_peaks(rate, &blocks),
                "case {case} at {rate} Hz"
            );
            decided_by_filter += usize::from(by_filter);
        }
        assert!(decided_by_filter > 100, "{decided_by_filter} of 200");
    }

    #[test]
    fn finds_the_inter_sample_peak_of_a_quarter_rate_sine() {
        // fs/4 sine at 45° phase: every sample at ±0.5·√2·A, the waveform peaks at A.
        let n = 4800;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                (std::f64::consts::FRAC_PI_2 * i as f64 + std::f64::consts::FRAC_PI_4).sin() as f32
                    * 0.5
            })
            .collect();
        let mut m = TruePeakMeter::new(48_000);
        m.add(&x, &x);
        let sample = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
        assert!((sample - 0.3536).abs() < 1e-3, "{sample}");
        let tp = m.peaks()[0];
        assert!(
            (tp - 0.5).abs() < 0.01,
            "true peak {tp}, expected about 0.5"
        );
    }
}
