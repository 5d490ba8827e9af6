//! One output file: conversion to the file's sample format (TPDF dither for 16-bit),
//! peak and clip counting, and the temp-then-rename rule: a file only appears under its
//! real name once it is complete. WAV through hound, FLAC through flacenc (streamed).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use hound::{SampleFormat as HoundFormat, WavSpec, WavWriter};

use crate::ExportError;
use crate::flac::FlacFile;

/// The sample formats Stemdeck writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// WAV, 16-bit integer with TPDF dither.
    Wav16,
    /// WAV, 24-bit integer (rounded; its noise floor is below any converter's).
    Wav24,
    /// WAV, 32-bit float: the mix exactly, never clipped.
    Wav32f,
    /// FLAC (lossless), 16-bit with TPDF dither.
    Flac16,
    /// FLAC (lossless), 24-bit.
    Flac24,
}

impl SampleFormat {
    pub const ALL: [SampleFormat; 5] = [
        Self::Wav16,
        Self::Wav24,
        Self::Wav32f,
        Self::Flac16,
        Self::Flac24,
    ];

    /// The name used on the command line and in session files.
    pub fn id(self) -> &'static str {
        match self {
            Self::Wav16 => "wav16",
            Self::Wav24 => "wav24",
            Self::Wav32f => "wav32f",
            Self::Flac16 => "flac16",
            Self::Flac24 => "flac24",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.id() == id)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::Wav16 => "WAV 16-bit (TPDF dither)",
            Self::Wav24 => "WAV 24-bit",
            Self::Wav32f => "WAV 32-bit float",
            Self::Flac16 => "FLAC 16-bit (TPDF dither)",
            Self::Flac24 => "FLAC 24-bit",
        }
    }

    pub fn extension(self) -> &'static str {
        if self.is_flac() { "flac" } else { "wav" }
    }

    pub fn bits(self) -> u16 {
        match self {
            Self::Wav16 | Self::Flac16 => 16,
            Self::Wav24 | Self::Flac24 => 24,
            Self::Wav32f => 32,
        }
    }

    pub fn is_integer(self) -> bool {
        self != Self::Wav32f
    }

    pub fn is_flac(self) -> bool {
        matches!(self, Self::Flac16 | Self::Flac24)
    }

    /// Whether 16-bit TPDF dither is added.
    pub fn is_dithered(self) -> bool {
        self.bits() == 16
    }

    /// Full scale of the integer format (2^(bits−1)); 1.0 for float.
    pub fn full_scale(self) -> f32 {
        match self.bits() {
            16 => 32_768.0,
            24 => 8_388_608.0,
            _ => 1.0,
        }
    }

    /// One least significant bit as a linear level (0 for float).
    pub fn lsb(self) -> f32 {
        if self.is_integer() {
            1.0 / self.full_scale()
        } else {
            0.0
        }
    }
}

enum Backend {
    Wav(WavWriter<BufWriter<File>>),
    Flac(Box<FlacFile>),
}

/// A stereo file being written under a temporary name.
pub struct StemWriter {
    format: SampleFormat,
    final_path: PathBuf,
    temp_path: PathBuf,
    backend: Option<Backend>,
    rng: fastrand::Rng,
    peak: f32,
    written_peak: f32,
    clipped: u64,
    /// The values of the last block as they are in the file (planar, as floats).
    last: [Vec<f32>; 2],
    /// Interleaved integer scratch for the FLAC encoder.
    ints: Vec<i32>,
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
        format: SampleFormat,
        sample_rate: u32,
        seed: u64,
    ) -> Result<Self, ExportError> {
        let temp_path = temp_path_for(&final_path);
        let backend = if format.is_flac() {
            Backend::Flac(Box::new(FlacFile::create(
                &temp_path,
                sample_rate,
                usize::from(format.bits()),
            )?))
        } else {
            let spec = WavSpec {
                channels: 2,
                sample_rate,
                bits_per_sample: format.bits(),
                sample_format: if format.is_integer() {
                    HoundFormat::Int
                } else {
                    HoundFormat::Float
                },
            };
            Backend::Wav(WavWriter::create(&temp_path, spec).map_err(|e| wav_err(&temp_path, e))?)
        };
        Ok(Self {
            format,
            final_path,
            temp_path,
            backend: Some(backend),
            rng: fastrand::Rng::with_seed(seed),
            peak: 0.0,
            written_peak: 0.0,
            clipped: 0,
            last: [Vec::new(), Vec::new()],
            ints: Vec::new(),
        })
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Where the file is while it is written.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    pub fn format(&self) -> SampleFormat {
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
        let Some(backend) = self.backend.as_mut() else {
            return Ok(());
        };
        let path = &self.temp_path;
        let n = left.len().min(right.len());
        let [last_l, last_r] = &mut self.last;
        last_l.clear();
        last_r.clear();
        self.ints.clear();
        let scale = self.format.full_scale();
        let max = scale - 1.0;
        for (l, r) in left.iter().zip(right).take(n) {
            for (c, x) in [*l, *r].into_iter().enumerate() {
                let a = x.abs();
                if a > self.peak {
                    self.peak = a;
                }
                let stored = if self.format.is_integer() {
                    // TPDF for 16-bit: the sum of two uniform values, ±1 LSB, decorrelates
                    // the rounding error from the signal.
                    let d = if self.format.is_dithered() {
                        self.rng.f32() - self.rng.f32()
                    } else {
                        0.0
                    };
                    let (v, clip) = quantize(x * scale + d, max);
                    self.clipped += u64::from(clip);
                    let v = v as i32;
                    match backend {
                        Backend::Wav(wav) => {
                            if self.format.bits() == 16 {
                                wav.write_sample(v as i16)
                            } else {
                                wav.write_sample(v)
                            }
                            .map_err(|e| wav_err(path, e))?;
                        }
                        Backend::Flac(_) => self.ints.push(v),
                    }
                    v as f32 / scale
                } else {
                    if let Backend::Wav(wav) = backend {
                        wav.write_sample(x).map_err(|e| wav_err(path, e))?;
                    }
                    x
                };
                let a = stored.abs();
                if a > self.written_peak {
                    self.written_peak = a;
                }
                if c == 0 {
                    last_l.push(stored);
                } else {
                    last_r.push(stored);
                }
            }
        }
        if let Backend::Flac(flac) = backend {
            flac.write_interleaved(&self.ints)?;
        }
        Ok(())
    }

    /// Complete the file under its temporary name; it appears under its real name when
    /// the returned [`PendingFile`] is committed (and is deleted if it is dropped).
    pub fn complete(mut self) -> Result<PendingFile, ExportError> {
        match self.backend.take() {
            Some(Backend::Wav(wav)) => wav.finalize().map_err(|e| wav_err(&self.temp_path, e))?,
            Some(Backend::Flac(flac)) => flac.finish()?,
            None => {}
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
        drop(self.backend.take());
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

/// Round to the nearest integer and clamp to ±`max` (−`max`−1 at the bottom).
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

fn wav_err(path: &Path, e: hound::Error) -> ExportError {
    match e {
        hound::Error::IoError(source) => ExportError::Io {
            path: path.to_owned(),
            source,
        },
        other => ExportError::Wav {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut w = StemWriter::create(done.clone(), SampleFormat::Wav24, 48_000, 1).unwrap();
        w.write(&[0.5, -0.25], &[0.0, 2.0]).unwrap();
        assert!(temp_path_for(&done).exists() && !done.exists());
        assert_eq!(w.peak(), 2.0);
        assert_eq!(w.clipped(), 1);
        w.finish().unwrap();
        let mut r = hound::WavReader::open(&done).unwrap();
        let s: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
        assert_eq!(s, vec![4_194_304, 0, -2_097_152, 8_388_607]);

        let gone = dir.path().join("b.wav");
        let mut w = StemWriter::create(gone.clone(), SampleFormat::Wav16, 48_000, 1).unwrap();
        w.write(&[0.1], &[0.1]).unwrap();
        drop(w);
        assert!(!gone.exists() && !temp_path_for(&gone).exists());
    }

    #[test]
    fn dither_is_tpdf_and_unbiased() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.wav");
        let mut w = StemWriter::create(path.clone(), SampleFormat::Wav16, 48_000, 7).unwrap();
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
