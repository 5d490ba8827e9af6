//! What the check found, as data: the [`Report`] and everything in it. Types and their
//! small accessors only; finding the facts is elsewhere.

use std::path::PathBuf;

use serde::Serialize;

/// Everything the check found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub folder: PathBuf,
    /// The rate the files were compared at (the rate most of them have).
    pub sample_rate: u32,
    /// What most files have; a file that differs is named in `problems`.
    pub common: Common,
    /// The master's file name, if there is one.
    pub master: Option<String>,
    /// What the offsets are measured against: "master" or "sum of the other stems".
    pub aligned_against: String,
    pub files: Vec<FileCheck>,
    /// Audio files that could not be read, with the reason.
    pub unreadable: Vec<Unreadable>,
    pub null_test: Option<NullTest>,
    pub sheet: SheetCheck,
    /// Every problem, worst first.
    pub problems: Vec<Problem>,
    /// No problem that makes the package unusable (misaligned, another length or rate,
    /// the stems do not add up, unreadable).
    pub usable: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Common {
    pub sample_rate: u32,
    pub bit_depth: Option<u32>,
    pub channels: usize,
    /// Frames at `sample_rate`.
    pub frames: u64,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Unreadable {
    pub file: String,
    pub error: String,
}

/// What one file is and what was found in it.
#[derive(Clone, Debug, Serialize)]
pub struct FileCheck {
    /// The file name (in the folder).
    pub file: String,
    pub path: PathBuf,
    /// "stem", "master" or "other" (a mix or print that is not a stem: left out).
    pub kind: FileKind,
    /// The stem the name points to ("Drums"…), by the auto-grouping rules; `None` for a
    /// name that points to no stem.
    pub stem: Option<String>,
    /// The keyword of the name that decided it, or "(no rule matched)".
    pub rule: String,
    /// "wav/pcm_s24le", "flac/flac", …
    pub format: String,
    pub sample_rate: u32,
    pub bit_depth: Option<u32>,
    pub float: bool,
    pub channels: usize,
    /// Frames at the file's own rate.
    pub frames: u64,
    pub seconds: f64,
    /// Frames at the report's rate.
    pub frames_at_common_rate: u64,
    /// Sample peak, dBFS (`None`: digital silence).
    pub peak_dbfs: Option<f64>,
    /// RMS over all channels, dBFS.
    pub rms_dbfs: Option<f64>,
    pub clipping: Clipping,
    /// Stereo with both channels identical.
    pub mono_as_stereo: bool,
    /// The offset against the reference (stems with sound only).
    pub alignment: Option<Alignment>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Stem,
    Master,
    Other,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Clipping {
    /// Runs of at least [`CLIP_RUN`](crate::CLIP_RUN) full-scale samples in a channel.
    pub runs: u64,
    /// The longest run, in samples.
    pub longest: u64,
    /// Where the first run starts, in seconds.
    pub first_at_seconds: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Alignment {
    /// Frames (at the report's rate) the stem is late by; negative: early.
    pub offset_samples: i64,
    pub offset_ms: f64,
    /// Normalised correlation at that offset (-1..1).
    pub correlation: f64,
    /// The stem is upside down against the master (negative correlation peak).
    pub inverted: bool,
    /// The correlation was too weak, or the peak did not stand out enough, for the
    /// offset to be trusted.
    pub reliable: bool,
    /// How far the peak stands out from the next best lag (more than 10 ms away).
    pub distinctness: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct NullTest {
    /// The master file compared with.
    pub master: String,
    /// The residual's sample peak, dBFS (`None`: exactly zero).
    pub residual_peak_dbfs: Option<f64>,
    /// The residual's RMS against the master's, dB.
    pub residual_vs_master_db: Option<f64>,
    pub passed: bool,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    Unreadable,
    Misaligned,
    Length,
    SampleRate,
    NullTest,
    PolarityInverted,
    BitDepth,
    Channels,
    Clipping,
    Silent,
    NearSilent,
    MonoAsStereo,
    Duplicate,
    NotInMaster,
    AlignmentUnknown,
    Name,
    Sheet,
}

impl ProblemKind {
    /// Whether this makes the package unusable (a non-zero exit).
    pub fn is_fatal(self) -> bool {
        self.severity() == Severity::Error
    }

    pub fn severity(self) -> Severity {
        match self {
            Self::Unreadable
            | Self::Misaligned
            | Self::Length
            | Self::SampleRate
            | Self::NullTest => Severity::Error,
            // A centred mono source in a stereo stem is normal; only worth knowing.
            Self::MonoAsStereo | Self::AlignmentUnknown => Severity::Note,
            _ => Severity::Warning,
        }
    }
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The package is not usable as it is.
    Error,
    /// Worth a look, the package still works.
    Warning,
    /// A fact, not a fault.
    Note,
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    /// The file it is about (the folder for the null test without a single culprit).
    pub file: String,
    pub kind: ProblemKind,
    pub severity: Severity,
    /// Makes the package unusable.
    pub fatal: bool,
    pub message: String,
}

impl Report {
    /// The files that make the package unusable, each once, in report order.
    pub fn failing_files(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in self.problems.iter().filter(|p| p.fatal) {
            if !out.contains(&p.file.as_str()) {
                out.push(&p.file);
            }
        }
        out
    }

    /// The JSON report (pretty, with a final newline).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The file checked by that name.
    pub fn file(&self, name: &str) -> Option<&FileCheck> {
        self.files.iter().find(|f| f.file == name)
    }

    /// The problems about one file.
    pub fn problems_of<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a Problem> + 'a {
        self.problems.iter().filter(move |p| p.file == file)
    }
}

/// What the sheet says, and where it disagrees with the files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SheetCheck {
    /// The JSON sheet's file name, if there is one.
    pub json: Option<String>,
    /// The PDF sheet's file name, if there is one.
    pub pdf: Option<String>,
    pub says: Option<SheetSays>,
    pub findings: Vec<SheetFinding>,
    /// Whether it agrees with the files (`None`: no JSON sheet to compare).
    pub agrees: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SheetSays {
    pub title: String,
    pub sample_rate: Option<u64>,
    pub bit_depth: Option<u64>,
    pub frames: Option<u64>,
    pub length: Option<String>,
    /// Every file it lists (stems, master, variants).
    pub files: Vec<String>,
    pub null_test_passed: Option<bool>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SheetFinding {
    /// The file it is about (the sheet itself for song-wide facts).
    pub file: String,
    pub message: String,
}
