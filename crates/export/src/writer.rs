//! One output file: conversion to the file's sample format (TPDF dither for 16-bit),
//! peak and clip counting, and the temp-then-rename rule: a file only appears under its
//! real name once it is complete.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use hound::{SampleFormat as HoundFormat, WavSpec, WavWriter};

use crate::ExportError;

/// The sample formats Stemdeck writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// WAV, 16-bit integer with TPDF dither.
    Wav16,
    /// WAV, 24-bit integer (rounded; its noise floor is below any converter's).
    Wav24,
    /// WAV, 32-bit float: the mix exactly, never clipped.
    Wav32f,
}

impl SampleFormat {
    pub const ALL: [SampleFormat; 3] = [Self::Wav16, Self::Wav24, Self::Wav32f];

    /// The name used on the command line and in session files.
    pub fn id(self) -> &'static str {
        match self {
            Self::Wav16 => "wav16",
            Self::Wav24 => "wav24",
            Self::Wav32f => "wav32f",
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
        }
    }

    pub fn extension(self) -> &'static str {
        "wav"
    }

    pub fn bits(self) -> u16 {
        match self {
            Self::Wav16 => 16,
            Self::Wav24 => 24,
            Self::Wav32f => 32,
        }
    }

    pub fn is_integer(self) -> bool {
        self != Self::Wav32f
    }
}

/// A stereo file being written under a temporary name.
pub struct StemWriter {
    format: SampleFormat,
    final_path: PathBuf,
    temp_path: PathBuf,
    wav: Option<WavWriter<BufWriter<File>>>,
    rng: fastrand::Rng,
    peak: f32,
    clipped: u64,
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
        let wav = WavWriter::create(&temp_path, spec).map_err(|e| wav_err(&temp_path, e))?;
        Ok(Self {
            format,
            final_path,
            temp_path,
            wav: Some(wav),
            rng: fastrand::Rng::with_seed(seed),
            peak: 0.0,
            clipped: 0,
        })
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Highest absolute sample value written so far (before conversion).
    pub fn peak(&self) -> f32 {
        self.peak
    }

    /// Samples that did not fit the integer range and were clipped.
    pub fn clipped(&self) -> u64 {
        self.clipped
    }

    /// Append one planar stereo block.
    pub fn write(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
        let Some(wav) = self.wav.as_mut() else {
            return Ok(());
        };
        let path = &self.temp_path;
        for (l, r) in left.iter().zip(right) {
            for x in [*l, *r] {
                let a = x.abs();
                if a > self.peak {
                    self.peak = a;
                }
                match self.format {
                    SampleFormat::Wav32f => wav.write_sample(x),
                    SampleFormat::Wav16 => {
                        // TPDF: the sum of two uniform values, ±1 LSB, decorrelates the
                        // rounding error from the signal.
                        let d = self.rng.f32() - self.rng.f32();
                        let (v, clip) = quantize(x * 32768.0 + d, 32767.0);
                        self.clipped += u64::from(clip);
                        wav.write_sample(v as i16)
                    }
                    SampleFormat::Wav24 => {
                        let (v, clip) = quantize(x * 8_388_608.0, 8_388_607.0);
                        self.clipped += u64::from(clip);
                        wav.write_sample(v as i32)
                    }
                }
                .map_err(|e| wav_err(path, e))?;
            }
        }
        Ok(())
    }

    /// Complete the file and give it its real name.
    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        if let Some(wav) = self.wav.take() {
            wav.finalize().map_err(|e| wav_err(&self.temp_path, e))?;
        }
        std::fs::rename(&self.temp_path, &self.final_path).map_err(|source| ExportError::Io {
            path: self.final_path.clone(),
            source,
        })?;
        Ok(self.final_path.clone())
    }
}

impl Drop for StemWriter {
    /// A writer dropped before [`StemWriter::finish`] (error, cancel, panic) takes its
    /// half-written file with it.
    fn drop(&mut self) {
        if self.wav.take().is_some() || self.temp_path.exists() {
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
