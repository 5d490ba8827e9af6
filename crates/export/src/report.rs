//! What an export reports while it runs ([`Progress`], [`Stage`]) and when it is done
//! ([`ExportReport`]: every file with its measurements, the trim, the null tests), and
//! the files it would write ([`PlannedFile`]). Plain data: the song information sheet
//! and both front ends read it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use stemdeck_session::TrimMode;
use stemdeck_session::units::level_db;

use crate::format::OutputFormat;

/// Which pass an export is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Decoding, mixing, measuring and writing.
    Render,
    /// Writing every file again with the common trim (some file would have clipped).
    Trim,
    /// Reading the written files back for the null test.
    Verify,
}

impl Stage {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Render => "exporting",
            Self::Trim => "trimming",
            Self::Verify => "checking",
        }
    }
}

/// How far an export has got. `total_frames` covers every pass (it grows if a trim
/// pass turns out to be needed); `done_frames` only ever grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub done_frames: u64,
    pub total_frames: u64,
    pub stage: Stage,
}

/// What a written file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Stem,
    Master,
    Variant,
}

/// One written file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The stem's name, "Master", or the variant's name.
    pub name: String,
    pub path: PathBuf,
    /// Highest absolute sample value in the file (1.0 = 0 dBFS).
    pub peak: f32,
    /// Samples clipped by an integer format (always 0: clipping files are never written).
    pub clipped: u64,
    /// Stems: the member tracks. Variants: the stems heard. Master: every stem.
    pub tracks: Vec<String>,
    pub is_master: bool,
    pub kind: FileKind,
    /// True peak (ITU-R BS.1770, 4× oversampled), linear (1.0 = 0 dBTP).
    pub true_peak: f64,
    /// Integrated loudness (EBU R128), LUFS; `None` for silence.
    pub loudness: Option<f64>,
    /// A stem without its effects (`--effects dry` or `both`).
    pub dry: bool,
    /// Stems: the stem's place among the stems with tracks (a dry twin shares it).
    pub stem_index: Option<usize>,
    /// The processing in the file: its effect chains, or dry.
    pub processing: ProcessingFacts,
}

/// The common gain applied to every file.
#[derive(Clone, Debug, PartialEq)]
pub struct TrimReport {
    pub mode: TrimMode,
    /// Applied gain in dB (0 when none was needed or asked for).
    pub gain_db: f64,
    /// The master fader (`session.master.gain_db`), applied to every file before the
    /// trim; the trim is a further move of the same fader.
    pub fader_db: f64,
    /// The highest sample peak of all files before the trim, dBFS.
    pub loudest_before_db: f64,
    /// One line for people: what was done and why.
    pub message: String,
}

/// What the null test compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NullSource {
    /// The written stem files summed against the written master file.
    Files,
    /// The written stem files' samples summed against the in-memory master (no master
    /// file was exported).
    Memory,
}

/// The stems summed minus the master.
#[derive(Clone, Debug, PartialEq)]
pub struct NullTest {
    pub source: NullSource,
    /// Highest absolute residual sample (linear; 0 = bit-exact).
    pub residual_peak: f64,
    /// Whether the residual is within what the format's rounding or dither explains.
    pub passed: bool,
    /// One line for people, e.g. "-143.2 dBFS: the stems add up to the master".
    pub message: String,
}

/// What an export did.
#[derive(Clone, Debug)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub files: Vec<FileReport>,
    /// Frames in every file (at `sample_rate`, the tail included).
    pub frames: u64,
    /// The rate of the files.
    pub sample_rate: u32,
    pub format: OutputFormat,
    pub elapsed: Duration,
    /// Stems with no tracks: nothing to write.
    pub empty_stems: Vec<String>,
    /// Tracks in no stem: left out of the stems and the master.
    pub unassigned: Vec<String>,
    /// The session's rate (the files' rate differs when converted).
    pub session_rate: u32,
    /// Frames of silence at the end of every file.
    pub tail_frames: u64,
    pub trim: TrimReport,
    /// The stems with the normal names (wet, or dry with `--effects dry`) against the
    /// master.
    pub null_test: Option<NullTest>,
    /// With `--effects both`: the dry stems against the dry sum, made in memory in the
    /// same pass.
    pub dry_null_test: Option<NullTest>,
    /// The song information sheet (PDF, JSON) when written.
    pub sheet_files: Vec<PathBuf>,
    /// When the export was made, UTC, RFC 3339.
    pub exported_at: String,
}

impl ExportReport {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// A file an export would write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFile {
    /// The stem's or variant's name, "Master", or "Song Info (PDF)" / "(JSON)".
    pub name: String,
    pub path: PathBuf,
    /// `None` for the sheet.
    pub kind: Option<FileKind>,
}

/// A linear level in dB, -inf for silence.
pub(crate) fn db(linear: f64) -> f64 {
    level_db(linear).unwrap_or(f64::NEG_INFINITY)
}

/// dBFS as text for messages: "-0.1", "-inf".
pub fn format_db(level_db: f64) -> String {
    if !level_db.is_finite() {
        "-inf".into()
    } else if level_db > 0.05 {
        format!("+{level_db:.1}")
    } else {
        format!("{level_db:.1}")
    }
}

/// Which processing a file includes: "dry" (no inserts, no master processing), or the
/// chains it went through, in order (tracks, stems, master). The master fader and the
/// common trim apply to every file and are on the sheet's trim line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessingFacts {
    pub dry: bool,
    pub chains: Vec<ChainFacts>,
}

/// One effect chain a file went through.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainFacts {
    /// "track \"Kick\"", "stem \"Drums\"" or "master".
    pub on: String,
    /// Effect labels in processing order; a bypassed one ends in " (bypassed)".
    pub effects: Vec<String>,
}

impl ProcessingFacts {
    /// One line for people: "dry", "no effects", or
    /// "track \"Kick\": EQ, Compressor; stem \"Drums\": Reverb; master: Limiter".
    pub fn describe(&self) -> String {
        if self.dry {
            return "dry".to_owned();
        }
        if self.chains.is_empty() {
            return "no effects".to_owned();
        }
        self.chains
            .iter()
            .map(|c| format!("{}: {}", c.on, c.effects.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_as_people_write_them() {
        assert_eq!(format_db(-0.1), "-0.1");
        assert_eq!(format_db(1.0), "+1.0");
        assert_eq!(format_db(0.04), "0.0");
        assert_eq!(format_db(f64::NEG_INFINITY), "-inf");
        assert_eq!(db(0.0), f64::NEG_INFINITY);
        assert!((db(0.5) + 6.0206).abs() < 1e-3);
    }

    #[test]
    fn processing_says_what_each_file_went_through() {
        let dry = ProcessingFacts {
            dry: true,
            chains: Vec::new(),
        };
        assert_eq!(dry.describe(), "dry");
        let none = ProcessingFacts {
            dry: false,
            chains: Vec::new(),
        };
        assert_eq!(none.describe(), "no effects");
        let wet = ProcessingFacts {
            dry: false,
            chains: vec![
                ChainFacts {
                    on: "track \"Kick\"".into(),
                    effects: vec!["EQ".into(), "Compressor".into()],
                },
                ChainFacts {
                    on: "master".into(),
                    effects: vec!["Limiter".into()],
                },
            ],
        };
        assert_eq!(
            wet.describe(),
            "track \"Kick\": EQ, Compressor; master: Limiter"
        );
    }
}
