//! One output file: conversion to the file's sample type (TPDF dither for 16-bit),
//! peak and clip counting, and the temp-then-rename rule: a file only appears under its
//! real name once it is complete. The container's [`Encoder`] (crate::format) lays the
//! converted samples out.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::ExportError;
use crate::format::{Block, Encoder, OutputFormat};

/// A stereo file being written under a temporary name.
pub struct StemWriter {
    format: OutputFormat,
    final_path: PathBuf,
    temp_path: PathBuf,
    encoder: Option<Box<dyn Encoder>>,
    rng: fastrand::Rng,
    peak: f32,
    written_peak: f32,
    clipped: u64,
    /// The values of the last block as they are in the file (planar, as floats).
    last: [Vec<f32>; 2],
    /// The block interleaved, as the encoder takes it (integer or float formats).
    ints: Vec<i32>,
    floats: Vec<f32>,
    /// Planar integer scratch (left, right) for [`Self::write_undithered`].
    planar_ints: [Vec<i32>; 2],
}

/// The hidden name a file is written under until it is complete.
pub fn temp_path_for(final_path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(final_path.file_name().unwrap_or_default());
    name.push(".partial");
    final_path.with_file_name(name)
}

impl StemWriter {
    /// Start writing; `seed` makes the dither reproducible (same export, same bytes).
    pub fn create(
        final_path: PathBuf,
        format: OutputFormat,
        sample_rate: u32,
        seed: u64,
    ) -> Result<Self, ExportError> {
        let temp_path = temp_path_for(&final_path);
        let encoder = format.create(&temp_path, sample_rate)?;
        Ok(Self {
            format,
            final_path,
            temp_path,
            encoder: Some(encoder),
            rng: fastrand::Rng::with_seed(seed),
            peak: 0.0,
            written_peak: 0.0,
            clipped: 0,
            last: [Vec::new(), Vec::new()],
            ints: Vec::new(),
            floats: Vec::new(),
            planar_ints: [Vec::new(), Vec::new()],
        })
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Where the file is while it is written.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Highest absolute sample value written so far (before conversion).
    pub fn peak(&self) -> f32 {
        self.peak
    }

    /// Highest absolute sample value as stored in the file (after dither and rounding),
    /// 1.0 = full scale: what a reader of the file finds.
    pub fn written_peak(&self) -> f32 {
        self.written_peak
    }

    /// Samples that did not fit the integer range and were clipped.
    pub fn clipped(&self) -> u64 {
        self.clipped
    }

    /// The last block written, as the file holds it (left, right), as floats.
    pub fn last_written(&self) -> (&[f32], &[f32]) {
        let [l, r] = &self.last;
        (l, r)
    }

    /// Append one planar stereo block.
    pub fn write(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
        let Some(encoder) = self.encoder.as_mut() else {
            return Ok(());
        };
        // Channels of different lengths would lose the longer one's end.
        debug_assert_eq!(left.len(), right.len());
        let n = left.len().min(right.len());
        let (left, right) = (
            left.get(..n).unwrap_or_default(),
            right.get(..n).unwrap_or_default(),
        );
        let [last_l, last_r] = &mut self.last;
        last_l.clear();
        last_l.resize(n, 0.0);
        last_r.clear();
        last_r.resize(n, 0.0);
        if self.format.is_integer() && !self.format.is_dithered() {
            return self.write_undithered(left, right);
        }
        let scale = self.format.full_scale();
        let mut q = Quantizer {
            dither: self.format.is_dithered(),
            scale,
            inv_scale: 1.0 / scale,
            max: scale - 1.0,
            rng: &mut self.rng,
            peak: self.peak,
            written_peak: self.written_peak,
            clipped: 0,
        };
        let frames = left
            .iter()
            .zip(right)
            .zip(last_l.iter_mut().zip(last_r.iter_mut()));
        // In file order (left, right, left, …): the dither's random numbers are drawn
        // in that order. Fixed-size chunks, so each frame is a plain store.
        let block = if self.format.is_integer() {
            self.ints.clear();
            self.ints.resize(n * 2, 0);
            frames
                .zip(self.ints.as_chunks_mut::<2>().0)
                .for_each(|(((l, r), (sl, sr)), o)| *o = [q.int(*l, sl), q.int(*r, sr)]);
            Block::Int(&self.ints)
        } else {
            self.floats.clear();
            self.floats.resize(n * 2, 0.0);
            frames
                .zip(self.floats.as_chunks_mut::<2>().0)
                .for_each(|(((l, r), (sl, sr)), o)| *o = [q.float(*l, sl), q.float(*r, sr)]);
            Block::Float(&self.floats)
        };
        self.peak = q.peak;
        self.written_peak = q.written_peak;
        self.clipped += q.clipped;
        encoder.write(block)
    }

    /// [`Self::write`] for the undithered integer formats (24-bit): each channel is
    /// converted on its own in a loop the compiler turns into SIMD (no random numbers to
    /// draw in file order, no running maximum carried from sample to sample), then
    /// interleaved. The same integers, peaks and clip count as [`Quantizer::int`] gives
    /// sample by sample (a test compares them); about a quarter of its time.
    fn write_undithered(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
        let Some(encoder) = self.encoder.as_mut() else {
            return Ok(());
        };
        // `quantize_undithered` is exact up to 24 bits (full scale at most 2^24).
        debug_assert!(self.format.bits() <= 24);
        let n = left.len();
        let scale = self.format.full_scale();
        let max = scale - 1.0;
        let [ints_l, ints_r] = &mut self.planar_ints;
        let [last_l, last_r] = &mut self.last;
        for (src, ints, stored) in [(left, &mut *ints_l, last_l), (right, &mut *ints_r, last_r)] {
            ints.clear();
            ints.resize(n, 0);
            let levels = quantize_undithered(src, scale, max, ints, stored);
            self.peak = self.peak.max(levels.peak);
            self.written_peak = self.written_peak.max(levels.top as f32 * (1.0 / scale));
            self.clipped += levels.clipped;
        }
        self.ints.clear();
        self.ints.resize(n * 2, 0);
        ints_l
            .iter()
            .zip(ints_r.iter())
            .zip(self.ints.as_chunks_mut::<2>().0)
            .for_each(|((&a, &b), o)| *o = [a, b]);
        encoder.write(Block::Int(&self.ints))
    }

    /// Complete the file under its temporary name; it appears under its real name when
    /// the returned [`PendingFile`] is committed (and is deleted if it is dropped).
    pub fn complete(mut self) -> Result<PendingFile, ExportError> {
        if let Some(encoder) = self.encoder.take() {
            encoder.finish()?;
        }
        Ok(PendingFile {
            temp_path: std::mem::take(&mut self.temp_path),
            final_path: self.final_path.clone(),
        })
    }

    /// Complete the file and give it its real name.
    pub fn finish(self) -> Result<PathBuf, ExportError> {
        self.complete()?.commit()
    }
}

impl Drop for StemWriter {
    /// A writer dropped before [`StemWriter::complete`] (error, cancel, panic) takes its
    /// half-written file with it.
    fn drop(&mut self) {
        drop(self.encoder.take());
        if !self.temp_path.as_os_str().is_empty() {
            std::fs::remove_file(&self.temp_path).ok();
        }
    }
}

/// A complete file still under its temporary name. Dropped without
/// [`PendingFile::commit`], it is deleted.
#[derive(Debug)]
pub struct PendingFile {
    temp_path: PathBuf,
    final_path: PathBuf,
}

impl PendingFile {
    /// Write `bytes` to a new pending file for `final_path`.
    pub fn write_all(final_path: PathBuf, bytes: &[u8]) -> Result<Self, ExportError> {
        let temp_path = temp_path_for(&final_path);
        let pending = Self {
            temp_path,
            final_path,
        };
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = File::create(&pending.temp_path)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        write().map_err(|source| ExportError::Io {
            path: pending.temp_path.clone(),
            source,
        })?;
        Ok(pending)
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Give the file its real name.
    pub fn commit(mut self) -> Result<PathBuf, ExportError> {
        let temp = std::mem::take(&mut self.temp_path);
        std::fs::rename(&temp, &self.final_path).map_err(|source| {
            std::fs::remove_file(&temp).ok();
            ExportError::Io {
                path: self.final_path.clone(),
                source,
            }
        })?;
        Ok(self.final_path.clone())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.temp_path.as_os_str().is_empty() {
            std::fs::remove_file(&self.temp_path).ok();
        }
    }
}

/// One sample at a time, in file order (left, right, left, …: the dither's random
/// numbers are drawn in that order): the peaks before and after conversion, clipping.
struct Quantizer<'a> {
    /// TPDF dither (16-bit).
    dither: bool,
    scale: f32,
    /// 1 / `scale`, a power of two.
    inv_scale: f32,
    max: f32,
    rng: &'a mut fastrand::Rng,
    peak: f32,
    written_peak: f32,
    clipped: u64,
}

impl Quantizer<'_> {
    /// The integer the file stores for `x`; `stored` gets it back as a float.
    #[inline(always)]
    fn int(&mut self, x: f32, stored: &mut f32) -> i32 {
        self.peak = self.peak.max(x.abs());
        // TPDF for 16-bit: the sum of two uniform values, ±1 LSB, decorrelates the
        // rounding error from the signal.
        let d = if self.dither {
            self.rng.f32() - self.rng.f32()
        } else {
            0.0
        };
        let (v, clip) = quantize_int(x * self.scale + d, self.max);
        self.clipped += u64::from(clip);
        // Exact: `scale` is a power of two.
        let s = v as f32 * self.inv_scale;
        self.written_peak = self.written_peak.max(s.abs());
        *stored = s;
        v
    }

    /// A float file stores `x` as it is.
    #[inline(always)]
    fn float(&mut self, x: f32, stored: &mut f32) -> f32 {
        let a = x.abs();
        if a > self.peak {
            self.peak = a;
        }
        if a > self.written_peak {
            self.written_peak = a;
        }
        *stored = x;
        x
    }
}

/// A sample rounded to the nearest integer (half away from zero) and clamped to ±`max`
/// (−`max`−1 at the bottom), the way the file stores it, and whether it clipped; NaN
/// gives 0. For the integer formats (`max` far below 2^30: 16 and 24 bits). No branches
/// and no `roundf` call, so loops over it vectorise (and with noise, which way a sample
/// rounds is a coin toss a branch predictor cannot call).
#[inline(always)]
fn quantize_int(v: f32, max: f32) -> (i32, bool) {
    // Anything beyond ±2^30 clips either way: it is limited to that first.
    const LIMIT: f32 = (1u32 << 30) as f32;
    let v = if v.is_nan() {
        0.0
    } else {
        v.clamp(-LIMIT, LIMIT)
    };
    // SAFETY: `v` is neither NaN nor beyond ±2^30, so it truncates to an i32. (`as`
    // would check that again per sample, which keeps loops from being vectorised.)
    let t: i32 = unsafe { v.to_int_unchecked() };
    // Round half away from zero: `v - t` is exact.
    let frac = v - t as f32;
    let r = t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5);
    let m = max as i32;
    let clip = (r > m) | (r < -m - 1);
    (r.min(m).max(-m - 1), clip)
}

/// What [`quantize_undithered`] measured in a block.
struct Levels {
    /// Highest absolute value before conversion.
    peak: f32,
    /// Highest absolute integer stored.
    top: i32,
    clipped: u64,
}

/// Undithered conversion of one channel to integers of full scale `scale` (at most 2^24,
/// `max` = `scale` − 1, as a float), with the stored values as floats (`stored`) and the block's
/// levels, in one pass the compiler vectorises.
fn quantize_undithered(
    src: &[f32],
    scale: f32,
    max: f32,
    ints: &mut [i32],
    stored: &mut [f32],
) -> Levels {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above).
        return unsafe { quantize_undithered_avx2(src, scale, max, ints, stored) };
    }
    quantize_undithered_portable(src, scale, max, ints, stored)
}

/// [`quantize_undithered_portable`] compiled for AVX2: 8 lanes where the baseline x86-64
/// target (SSE2) has 4.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quantize_undithered_avx2(
    src: &[f32],
    scale: f32,
    max: f32,
    ints: &mut [i32],
    stored: &mut [f32],
) -> Levels {
    quantize_undithered_portable(src, scale, max, ints, stored)
}

#[inline(always)]
fn quantize_undithered_portable(
    src: &[f32],
    scale: f32,
    max: f32,
    ints: &mut [i32],
    stored: &mut [f32],
) -> Levels {
    const INFINITY_BITS: u32 = 0x7f80_0000;
    let inv = 1.0 / scale;
    // Every running value is an integer (the peak as the bits of a non-negative float,
    // which order as the floats do): integer maxima and sums vectorise, float maxima
    // (order-sensitive for NaN) do not.
    let mut peak_bits = 0u32;
    let mut top = 0i32;
    let mut clipped = 0u64;
    for ((x, v), s) in src.iter().zip(ints.iter_mut()).zip(stored.iter_mut()) {
        let bits = x.abs().to_bits();
        // NaN leaves the peak alone, as `f32::max` does.
        peak_bits = peak_bits.max(if bits > INFINITY_BITS { 0 } else { bits });
        let (q, clip) = quantize_int(*x * scale, max);
        clipped += u64::from(clip);
        top = top.max(q.abs());
        *v = q;
        // Exact: `scale` is a power of two.
        *s = q as f32 * inv;
    }
    Levels {
        peak: f32::from_bits(peak_bits),
        top,
        clipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::SampleType;

    /// The reference [`quantize_int`] must match: round to the nearest integer (`roundf`)
    /// and clamp to ±`max` (−`max`−1 at the bottom).
    fn quantize(v: f32, max: f32) -> (f32, bool) {
        let r = v.round();
        if r > max {
            (max, true)
        } else if r < -max - 1.0 {
            (-max - 1.0, true)
        } else {
            (r, false)
        }
    }

    /// The vectorised undithered path gives what the sample-by-sample one gives: the
    /// same integers, stored values, peaks and clip count, on any input (rounding ties,
    /// clipping, NaN, infinity, -0.0, huge values) and any length (any remainder after
    /// the vector loop).
    #[test]
    fn undithered_lanes_match_the_sample_by_sample_quantizer() {
        let mut rng = fastrand::Rng::with_seed(7);
        let special = [
            0.5 / 8_388_608.0,
            -0.5 / 8_388_608.0,
            1.5 / 8_388_608.0,
            -2.5 / 8_388_608.0,
            1.0,
            -1.0,
            0.999_999_9,
            -1.000_000_1,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            1.0e6,
            -1.0e30,
        ];
        for format in [OutputFormat::WAV24, OutputFormat::FLAC24] {
            for len in [0, 1, 7, 8, 9, 100, 4099] {
                let src: Vec<f32> = (0..len)
                    .map(|i| {
                        if rng.u8(..) < 40 {
                            special[i % special.len()]
                        } else {
                            (rng.f32() * 2.0 - 1.0) * 1.2
                        }
                    })
                    .collect();
                let mut ints = vec![0; len];
                let mut stored = vec![0.0; len];
                let scale = format.full_scale();
                let levels = quantize_undithered(&src, scale, scale - 1.0, &mut ints, &mut stored);
                // The portable path (CPUs without AVX2) gives the same.
                let (mut ints2, mut stored2) = (vec![0; len], vec![0.0f32; len]);
                let levels2 = quantize_undithered_portable(
                    &src,
                    scale,
                    scale - 1.0,
                    &mut ints2,
                    &mut stored2,
                );
                assert_eq!(ints, ints2);
                assert!(
                    stored
                        .iter()
                        .zip(&stored2)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                );
                assert_eq!(
                    (levels.peak.to_bits(), levels.top, levels.clipped),
                    (levels2.peak.to_bits(), levels2.top, levels2.clipped)
                );
                let mut unused = fastrand::Rng::with_seed(0);
                let mut q = Quantizer {
                    dither: format.is_dithered(),
                    scale,
                    inv_scale: 1.0 / scale,
                    max: scale - 1.0,
                    rng: &mut unused,
                    peak: 0.0,
                    written_peak: 0.0,
                    clipped: 0,
                };
                for (i, &x) in src.iter().enumerate() {
                    let mut s = 0.0;
                    let v = q.int(x, &mut s);
                    assert_eq!(v, ints[i], "sample {i}: {x}");
                    assert_eq!(s.to_bits(), stored[i].to_bits(), "sample {i}: {x}");
                }
                assert_eq!(q.peak.to_bits(), levels.peak.to_bits());
                assert_eq!(q.written_peak, levels.top as f32 / scale);
                assert_eq!(q.clipped, levels.clipped);
            }
        }
    }

    #[test]
    fn quantize_rounds_and_clips() {
        assert_eq!(quantize(1.4, 32767.0), (1.0, false));
        assert_eq!(quantize(40000.0, 32767.0), (32767.0, true));
        assert_eq!(quantize(-40000.0, 32767.0), (-32768.0, true));
        assert_eq!(quantize(-32768.2, 32767.0), (-32768.0, false));
    }

    #[test]
    fn a_finished_file_appears_and_a_dropped_one_vanishes() {
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("a.wav");
        let mut w = StemWriter::create(done.clone(), OutputFormat::WAV24, 48_000, 1).unwrap();
        w.write(&[0.5, -0.25], &[0.0, 2.0]).unwrap();
        assert!(temp_path_for(&done).exists() && !done.exists());
        assert_eq!(w.peak(), 2.0);
        assert_eq!(w.clipped(), 1);
        w.finish().unwrap();
        let mut r = hound::WavReader::open(&done).unwrap();
        let s: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
        assert_eq!(s, vec![4_194_304, 0, -2_097_152, 8_388_607]);

        let gone = dir.path().join("b.wav");
        let mut w = StemWriter::create(gone.clone(), OutputFormat::WAV16, 48_000, 1).unwrap();
        w.write(&[0.1], &[0.1]).unwrap();
        drop(w);
        assert!(!gone.exists() && !temp_path_for(&gone).exists());
    }

    /// Our WAV files are byte for byte what hound writes for the same samples.
    #[test]
    fn wav_bytes_match_hound() {
        let dir = tempfile::tempdir().unwrap();
        let left: Vec<f32> = (0..1001).map(|i| ((i as f32) * 0.37).sin() * 0.9).collect();
        let right: Vec<f32> = (0..1001).map(|i| ((i as f32) * 0.11).cos() * 1.2).collect();
        for format in [
            OutputFormat::WAV16,
            OutputFormat::WAV24,
            OutputFormat::WAV32F,
        ] {
            let ours = dir.path().join(format!("{}.wav", format.id()));
            let mut w = StemWriter::create(ours.clone(), format, 44_100, 3).unwrap();
            w.write(&left[..600], &right[..600]).unwrap();
            w.write(&left[600..], &right[600..]).unwrap();
            w.finish().unwrap();
            let theirs = dir.path().join(format!("hound-{}.wav", format.id()));
            let spec = hound::WavSpec {
                channels: 2,
                sample_rate: 44_100,
                bits_per_sample: format.bits(),
                sample_format: if format.is_integer() {
                    hound::SampleFormat::Int
                } else {
                    hound::SampleFormat::Float
                },
            };
            let mut h = hound::WavWriter::create(&theirs, spec).unwrap();
            let mut r = hound::WavReader::open(&ours).unwrap();
            match format.sample() {
                SampleType::Int16 => {
                    for s in r.samples::<i16>() {
                        h.write_sample(s.unwrap()).unwrap();
                    }
                }
                SampleType::Int24 => {
                    for s in r.samples::<i32>() {
                        h.write_sample(s.unwrap()).unwrap();
                    }
                }
                _ => {
                    for s in r.samples::<f32>() {
                        h.write_sample(s.unwrap()).unwrap();
                    }
                }
            }
            h.finalize().unwrap();
            assert_eq!(r.duration(), 1001);
            assert_eq!(
                std::fs::read(&ours).unwrap(),
                std::fs::read(&theirs).unwrap(),
                "{format:?}"
            );
        }
    }

    #[test]
    fn fast_quantize_is_quantize() {
        for max in [32_767.0f32, 8_388_607.0] {
            let mut values = vec![
                0.0,
                -0.0,
                0.5,
                -0.5,
                1.5,
                -1.5,
                2.5,
                0.49999997,
                -0.49999997,
                0.50000006,
                max,
                max + 0.5,
                max + 0.49,
                -max - 1.0,
                -max - 1.5,
                -max - 1.49,
                1e9,
                -1e9,
                f32::MAX,
                f32::MIN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                f32::NAN,
                1_073_741_824.0,
                -1_073_741_824.0,
                8_388_607.5,
                -8_388_608.5,
            ];
            let mut x = 0.123_456_7f32;
            for _ in 0..100_000 {
                x = (x * 3.987_654 + 0.1).fract();
                values.push((x - 0.5) * 2.2 * max);
            }
            for v in values {
                let (q, clip) = quantize(v, max);
                assert_eq!(quantize_int(v, max), (q as i32, clip), "{v}");
            }
        }
    }

    #[test]
    fn dither_is_tpdf_and_unbiased() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.wav");
        let mut w = StemWriter::create(path.clone(), OutputFormat::WAV16, 48_000, 7).unwrap();
        // A quarter of an LSB: without dither it would round to 0 everywhere.
        let x = vec![0.25 / 32768.0; 40_000];
        w.write(&x, &x).unwrap();
        w.finish().unwrap();
        let mut r = hound::WavReader::open(&path).unwrap();
        let s: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
        let mean = s.iter().map(|v| f64::from(*v)).sum::<f64>() / s.len() as f64;
        assert!((mean - 0.25).abs() < 0.02, "mean {mean}");
        assert!(s.iter().all(|v| (-1..=2).contains(v)));
    }
}
