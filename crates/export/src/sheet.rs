//! The song information sheet: the facts a producer needs beside the stems — song,
//! format, length, and per file its member tracks, sample peak, true peak and loudness,
//! the common trim and the null-test result. Written as JSON (this module) and as a PDF
//! ([`crate::pdf`]) from the same [`Sheet`].

use serde::Serialize;
use stemdeck_session::Session;
use stemdeck_session::units::{format_time, level_db};

pub use crate::report::{ChainFacts, ProcessingFacts};
use crate::report::{ExportReport, FileKind, FileReport, NullSource, NullTest};

/// The Stemdeck version that made the export.
pub const STEMDECK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Now, UTC, RFC 3339 to the second ("2025-05-04T12:34:56Z").
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Everything on the sheet.
#[derive(Clone, Debug, Serialize)]
pub struct Sheet {
    /// "stemdeck-song-info".
    pub format: &'static str,
    pub stemdeck_version: &'static str,
    /// UTC, RFC 3339.
    pub exported_at: String,
    pub song: SongFacts,
    pub audio: AudioFacts,
    pub trim: TrimFacts,
    /// For the stems with their effects (or, with `--effects dry`, the dry stems).
    pub null_test: Option<NullFacts>,
    /// With `--effects both`: the dry stems against their own sum (made in memory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub null_test_dry: Option<NullFacts>,
    pub stems: Vec<FileFacts>,
    pub master: Option<FileFacts>,
    pub variants: Vec<FileFacts>,
    /// Tracks in no stem (left out of every file).
    pub unassigned_tracks: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SongFacts {
    pub title: String,
    pub artist: String,
    pub bpm: Option<f64>,
    pub key: String,
    pub notes: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AudioFacts {
    /// The format id ("wav24", "flac16", …).
    pub format: String,
    /// "WAV 24-bit", …
    pub format_name: String,
    /// "WAV" or "FLAC".
    pub container: String,
    pub bit_depth: u16,
    /// "integer" or "float".
    pub sample_type: String,
    /// Whether TPDF dither was added (16-bit).
    pub dither: bool,
    pub sample_rate: u32,
    /// The session's rate (the files were converted from it when it differs).
    pub session_sample_rate: u32,
    pub channels: u16,
    /// Frames in every file.
    pub frames: u64,
    pub length_seconds: f64,
    /// "m:ss.mmm".
    pub length: String,
    /// Seconds of silence at the end of every file (included in the length).
    pub tail_seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TrimFacts {
    /// "none" or "auto".
    pub mode: String,
    /// The common gain applied to every file, dB (0: none).
    pub gain_db: f64,
    /// The highest sample peak of all files before any trim, dBFS.
    pub loudest_before_dbfs: Option<f64>,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct NullFacts {
    /// "files" (the written stems against the written master) or "memory" (against
    /// the master summed in memory: no master file).
    pub compared: NullSource,
    /// The residual's sample peak, dBFS; null when it is exactly zero.
    pub residual_peak_dbfs: Option<f64>,
    pub bit_exact: bool,
    pub passed: bool,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileFacts {
    pub kind: FileKind,
    pub name: String,
    /// The file name (in the same folder as the sheet).
    pub file: String,
    /// Stems: the member tracks. Master: the stems. Variants: the stems heard.
    pub tracks: Vec<String>,
    /// Sample peak, dBFS (null for silence).
    pub peak_dbfs: Option<f64>,
    /// True peak, dBTP (null for silence).
    pub true_peak_dbtp: Option<f64>,
    /// Integrated loudness, LUFS (null for silence).
    pub loudness_lufs: Option<f64>,
    /// The stem's lane colour, "#RRGGBB" (stems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The processing the file includes (its effect chains, or dry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing: Option<ProcessingFacts>,
}

fn null_facts(n: &NullTest) -> NullFacts {
    NullFacts {
        compared: n.source,
        residual_peak_dbfs: db2(n.residual_peak).map(|d| (d * 10.0).round() / 10.0),
        bit_exact: n.residual_peak == 0.0,
        passed: n.passed,
        message: n.message.clone(),
    }
}

/// dB rounded to 0.01, `None` for silence.
fn db2(linear: f64) -> Option<f64> {
    level_db(linear).map(round2)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A level in dB as people see it on the sheet and the command line: rounded like the
/// JSON sheet (0.01 dB), shown to 0.1 dB with its unit ("-5.9 dBFS", "+1.2 dBTP"), or
/// `silence` when there is no level.
pub fn format_level(db: Option<f64>, unit: &str, silence: &str) -> String {
    match db.filter(|v| v.is_finite()) {
        Some(v) => {
            let v = round2(v);
            if v > 0.0 {
                format!("+{v:.1} {unit}")
            } else {
                format!("{v:.1} {unit}")
            }
        }
        None => silence.to_owned(),
    }
}

impl Sheet {
    pub fn new(session: &Session, report: &ExportReport) -> Self {
        let song = &session.song;
        let format = report.format;
        // A stem's colour, by its index among the stems with tracks (a dry twin has
        // its stem's colour).
        let colors: Vec<String> = session
            .stems
            .iter()
            .filter(|s| !s.tracks.is_empty())
            .map(|s| s.color.clone())
            .collect();
        let facts = |f: &FileReport, color: Option<String>| FileFacts {
            kind: f.kind,
            name: f.name.clone(),
            file: f
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            tracks: f.tracks.clone(),
            peak_dbfs: db2(f64::from(f.peak)),
            true_peak_dbtp: db2(f.true_peak),
            loudness_lufs: f.loudness.map(round2),
            color,
            processing: Some(f.processing.clone()),
        };
        let mut stems = Vec::new();
        let mut master = None;
        let mut variants = Vec::new();
        for f in &report.files {
            match f.kind {
                FileKind::Stem => {
                    let color = f.stem_index.and_then(|i| colors.get(i)).cloned();
                    stems.push(facts(f, color));
                }
                FileKind::Master => master = Some(facts(f, None)),
                FileKind::Variant => variants.push(facts(f, None)),
            }
        }
        let rate = report.sample_rate;
        Sheet {
            format: "stemdeck-song-info",
            stemdeck_version: STEMDECK_VERSION,
            exported_at: report.exported_at.clone(),
            song: SongFacts {
                title: song.title.trim().to_owned(),
                artist: song.artist.trim().to_owned(),
                bpm: song.bpm,
                key: song.key.trim().to_owned(),
                notes: song.notes.trim().to_owned(),
            },
            audio: AudioFacts {
                format: format.id().to_owned(),
                format_name: format.describe().to_owned(),
                container: format.container().name.to_owned(),
                bit_depth: format.bits(),
                sample_type: format.sample().kind().to_owned(),
                dither: format.is_dithered(),
                sample_rate: rate,
                session_sample_rate: report.session_rate,
                channels: 2,
                frames: report.frames,
                length_seconds: report.frames as f64 / f64::from(rate.max(1)),
                length: format_time(report.frames, rate),
                tail_seconds: report.tail_frames as f64 / f64::from(rate.max(1)),
            },
            trim: TrimFacts {
                mode: report.trim.mode.id().to_owned(),
                gain_db: round2(report.trim.gain_db),
                loudest_before_dbfs: report
                    .trim
                    .loudest_before_db
                    .is_finite()
                    .then(|| round2(report.trim.loudest_before_db)),
                message: report.trim.message.clone(),
            },
            null_test: report.null_test.as_ref().map(null_facts),
            null_test_dry: report.dry_null_test.as_ref().map(null_facts),
            stems,
            master,
            variants,
            unassigned_tracks: report.unassigned.clone(),
        }
    }

    /// The JSON sheet (pretty, with a final newline).
    pub fn to_json(&self) -> String {
        // Plain data with string keys and finite numbers: cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
