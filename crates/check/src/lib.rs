//! The stem-package check: for the people who *receive* stems. Given a folder of stem
//! files (with or without the master mix), it tells whether they are usable:
//!
//! - [`check`]: every file's rate, bit depth, channels and length, and the odd ones out;
//!   each stem's offset against the master (or the sum of the other stems), by FFT
//!   cross-correlation ([`align`]); the null test (the stems summed against the master);
//!   clipping, silence, mono-as-stereo, duplicates, inverted polarity, names that say
//!   nothing of the content (the auto-grouping rules of `stemdeck_session::grouping`);
//!   and the song information sheet, if there is one, against what was found
//!   ([`sheet`]). The result is a [`Report`]: text for people ([`Report::text`]), JSON for
//!   programs (it is `Serialize`). The checked folder is only read.
//! - [`fix()`]: the repair, into a new folder: every stem moved to its found alignment,
//!   padded to one length, converted to one rate and format, with a song information
//!   sheet saying what was done; the copy is checked again.

pub mod align;
mod error;
pub mod fix;
mod scan;
pub mod sheet;
mod text;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use stemdeck_audio::decode::{Decoder, FileInfo};
use stemdeck_audio::import::{majority_rate, scan_folder, track_name};
use stemdeck_audio::resample::converted_len;
use stemdeck_session::grouping;
use stemdeck_session::units::{format_time, level_db, power_to_db};

pub use error::CheckError;
pub use fix::{FixReport, fix};

use crate::align::{Lag, MAX_LAG_SECONDS, WINDOW_SECONDS, Weighting, find_lag};
use crate::scan::Scan;

/// A stem off by more than this many frames is misaligned (one frame is rounding: a
/// stem converted from another rate can land half a frame either way).
pub const ALIGN_TOLERANCE_FRAMES: i64 = 1;
/// The stems add up when the residual's sample peak is at most this (dBFS): far above
/// the rounding and dither of any integer format (16-bit TPDF dither over a dozen files
/// stays below -70 dBFS), far below anything audible a misaligned, missing or inverted
/// stem leaves.
pub const NULL_PASS_DBFS: f64 = -60.0;
/// A stem whose sample peak is below this (dBFS) is near-silent.
pub const NEAR_SILENT_DBFS: f64 = -60.0;
/// Consecutive full-scale samples that count as clipping.
pub const CLIP_RUN: u32 = 3;
/// Correlation (absolute) below which an offset against the master is not trusted (the
/// stem is not in the master), and the stem is reported as such instead.
pub const MIN_MASTER_CORRELATION: f64 = 0.05;
/// The same against the sum of the other stems, which only share timing with the stem.
pub const MIN_OTHERS_CORRELATION: f64 = 0.01;
/// Against the other stems, the peak must also stand out this much from any other lag
/// (see [`align::Lag::distinctness`]): stems of different instruments share no waveform,
/// and a rhythm repeats, so often no lag is clearly the right one. Then the offset is
/// reported as not determined rather than guessed.
pub const MIN_OTHERS_DISTINCTNESS: f64 = 1.5;

/// What to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The master mix (inside the folder or not); `None`: the file whose name says
    /// master or mix (or the one the song information sheet names), if any.
    pub master: Option<PathBuf>,
}

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
    pub sheet: sheet::SheetCheck,
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
    /// Runs of at least [`CLIP_RUN`] full-scale samples in a channel.
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

/// Whether a folder looks like a stem package: at least two audio files, and either a
/// master among them or names that mostly point to stems ("Drums", "Bass", "Vox"), with
/// no session file beside them. Cheap: names only, nothing is decoded.
pub fn looks_like_stem_package(dir: &Path) -> bool {
    let Ok(files) = scan_folder(dir) else {
        return false;
    };
    if files.len() < 2 {
        return false;
    }
    let has_session = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".stemdeck.json"))
        })
        .unwrap_or(false);
    if has_session {
        return false;
    }
    let names: Vec<String> = files.iter().map(|p| track_name(p)).collect();
    let masters = names.iter().filter(|n| master_rank(n).is_some()).count();
    // A stem package's files are named after stems, not instruments: "Drums", not "Kick".
    let stem_named = names.iter().filter(|n| names_a_stem(n)).count();
    let stems = names.len() - masters;
    stems >= 2 && (masters > 0 || stem_named * 2 > stems) && stem_named * 2 >= stems
}

/// Whether a name says a whole stem ("Drums", "Vocals", "Bass", "Instruments", "FX",
/// or the stem names people use: "Keys", "Synths", "Guitars", "Music").
fn names_a_stem(name: &str) -> bool {
    const STEM_WORDS: &[&str] = &[
        "drums",
        "drum",
        "percussion",
        "perc",
        "bass",
        "vocals",
        "vocal",
        "vox",
        "voice",
        "instruments",
        "instrument",
        "inst",
        "music",
        "keys",
        "synths",
        "synth",
        "guitars",
        "guitar",
        "fx",
        "sfx",
        "effects",
        "strings",
        "brass",
        "pads",
        "other",
        "melody",
        "chords",
        "backing",
        "bvs",
        "bgvs",
        "lead",
    ];
    let lower = name.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| STEM_WORDS.contains(&w))
}

/// How strongly a name says "master": 0 for master, 1 for a mix, `None` for neither
/// (by the auto-grouping rules: a name in no stem, decided by one of these keywords).
fn master_rank(name: &str) -> Option<u8> {
    let m = grouping::explain(name);
    if m.role.is_some() {
        return None;
    }
    match m.rule {
        "master" | "mstr" | "premaster" => Some(0),
        "mix" | "mixdown" | "print" | "bounce" => Some(1),
        _ => None,
    }
}

/// Check the stem package in `dir` (see the crate docs). Problems found in the package
/// are in the report; an error means the check itself could not be done (no folder, no
/// readable audio).
pub fn check(dir: &Path, opts: &CheckOptions) -> Result<Report, CheckError> {
    if !dir.is_dir() {
        return Err(CheckError::Folder {
            path: dir.to_owned(),
            reason: if dir.exists() {
                "not a folder (give the folder the stems are in)".into()
            } else {
                "no such folder".into()
            },
        });
    }
    let mut paths = scan_folder(dir)?;
    let master_arg = match &opts.master {
        Some(m) => {
            let abs = std::path::absolute(m).unwrap_or_else(|_| m.clone());
            if !abs.is_file() {
                return Err(CheckError::Master {
                    path: m.clone(),
                    reason: "no such file".into(),
                });
            }
            if !paths.iter().any(|p| same_file(p, &abs)) {
                paths.push(abs.clone());
            }
            Some(abs)
        }
        None => None,
    };
    let sheet_found = sheet::find(dir);

    // What each file is (headers only).
    let mut unreadable = Vec::new();
    let mut infos: Vec<FileInfo> = Vec::new();
    for p in &paths {
        match Decoder::open(p) {
            Ok(d) => infos.push(d.info().clone()),
            Err(e) => unreadable.push(Unreadable {
                file: file_name(p),
                error: e.to_string(),
            }),
        }
    }
    if let Some(m) = &master_arg
        && !infos.iter().any(|i| same_file(&i.path, m))
    {
        let why = unreadable
            .iter()
            .find(|u| u.file == file_name(m))
            .map_or_else(|| "cannot be read".to_owned(), |u| u.error.clone());
        return Err(CheckError::Master {
            path: m.clone(),
            reason: why,
        });
    }
    if infos.is_empty() {
        return Err(CheckError::Folder {
            path: dir.to_owned(),
            reason: "no readable audio file in this folder".into(),
        });
    }

    // Which file is the master, which are stems.
    let names: Vec<String> = infos.iter().map(|i| file_name(&i.path)).collect();
    let named = if let Some(m) = &master_arg {
        infos.iter().position(|i| same_file(&i.path, m))
    } else if let Some(f) = sheet_found.as_ref().and_then(|s| s.master_file.clone()) {
        names.iter().position(|n| *n == f)
    } else {
        None
    };
    let master_idx = named.or_else(|| {
        (0..infos.len())
            .filter_map(|i| master_rank(&track_name(&infos.get(i)?.path)).map(|r| (r, i)))
            .min()
            .map(|(_, i)| i)
    });
    let sheet_others: Vec<String> = sheet_found
        .as_ref()
        .map(|s| s.variant_files.clone())
        .unwrap_or_default();
    let kinds: Vec<FileKind> = infos
        .iter()
        .enumerate()
        .map(|(i, info)| {
            let name = file_name(&info.path);
            if Some(i) == master_idx {
                FileKind::Master
            } else if sheet_others.contains(&name)
                || grouping::classify(&track_name(&info.path)).is_none()
            {
                FileKind::Other
            } else {
                FileKind::Stem
            }
        })
        .collect();

    let rate = majority_rate(
        infos
            .iter()
            .zip(&kinds)
            .filter(|(_, k)| **k != FileKind::Other)
            .map(|(i, _)| i.sample_rate),
    );

    // Decode everything once (in parallel): levels, clipping, channels, and a mono copy
    // at the common rate for the correlations.
    let scans: Vec<Result<Scan, stemdeck_audio::AudioError>> = infos
        .par_iter()
        .map(|i| scan::scan(&i.path, rate))
        .collect();
    let mut files = Vec::new();
    let mut monos: Vec<Vec<f32>> = Vec::new();
    let mut kept_kinds = Vec::new();
    for ((info, kind), scan) in infos.iter().zip(&kinds).zip(scans) {
        match scan {
            Ok(s) => {
                files.push(file_check(info, *kind, &s, rate));
                monos.push(s.mono);
                kept_kinds.push(*kind);
            }
            Err(e) => unreadable.push(Unreadable {
                file: file_name(&info.path),
                error: e.to_string(),
            }),
        }
    }
    let kinds = kept_kinds;
    let master = kinds.iter().position(|k| *k == FileKind::Master);

    // Alignment.
    let max_lag = (MAX_LAG_SECONDS * f64::from(rate)) as usize;
    let window = (WINDOW_SECONDS * f64::from(rate)) as usize;
    let stems: Vec<usize> = (0..files.len())
        .filter(|&i| kinds.get(i) == Some(&FileKind::Stem))
        .collect();
    let mut lags: Vec<(usize, Option<Lag>)> = stems
        .par_iter()
        .map(|&i| {
            let Some(stem) = monos.get(i) else {
                return (i, None);
            };
            let lag = match master.and_then(|m| monos.get(m)) {
                Some(m) => find_lag(stem, m, window, max_lag, Weighting::Plain),
                None => {
                    let others = sum_of(&monos, stems.iter().copied().filter(|&j| j != i));
                    find_lag(stem, &others, window, max_lag, Weighting::Phat)
                }
            };
            (i, lag)
        })
        .collect();
    let min_corr = if master.is_some() {
        MIN_MASTER_CORRELATION
    } else {
        MIN_OTHERS_CORRELATION
    };
    let trusted = |lag: &Lag| {
        lag.correlation.abs() >= min_corr
            && (master.is_some() || lag.distinctness >= MIN_OTHERS_DISTINCTNESS)
    };
    // Without a master, several stems found off against the sum of the others cannot
    // all be right: with two stems, or one loud stem that dominates the sum, each is
    // "late" against the other. Offsets are then only relative: measure every stem
    // against one reference, the loudest, which keeps its place.
    let moved = lags
        .iter()
        .filter(|(_, l)| {
            l.as_ref()
                .is_some_and(|l| trusted(l) && l.offset.abs() > ALIGN_TOLERANCE_FRAMES)
        })
        .count();
    if master.is_none() && moved >= 2 {
        let energy = |i: usize| -> f64 {
            monos.get(i).map_or(0.0, |m| {
                m.iter().map(|&x| f64::from(x) * f64::from(x)).sum()
            })
        };
        let reference = stems
            .iter()
            .copied()
            .max_by(|&a, &b| energy(a).total_cmp(&energy(b)));
        if let Some(r) = reference
            && let Some(ref_mono) = monos.get(r)
        {
            lags = stems
                .par_iter()
                .map(|&i| {
                    let lag = monos.get(i).and_then(|stem| {
                        if i == r {
                            // The reference against the rest, for its correlation.
                            find_lag(stem, stem, window, 0, Weighting::Phat)
                        } else {
                            find_lag(stem, ref_mono, window, max_lag, Weighting::Phat)
                        }
                    });
                    (i, lag)
                })
                .collect();
        }
    }
    for (i, lag) in lags {
        if let (Some(f), Some(lag)) = (files.get_mut(i), lag) {
            f.alignment = Some(Alignment {
                offset_samples: lag.offset,
                offset_ms: round2(lag.offset as f64 * 1000.0 / f64::from(rate)),
                correlation: round4(lag.correlation),
                inverted: master.is_some() && lag.correlation < -min_corr,
                reliable: trusted(&lag),
                distinctness: round2(lag.distinctness.min(1e6)),
            });
        }
    }

    // The null test: the stems as they are, summed, against the master.
    let null_test = match master.and_then(|m| files.get(m)) {
        Some(m) => {
            let stem_paths: Vec<PathBuf> = stems
                .iter()
                .filter_map(|&i| files.get(i).map(|f| f.path.clone()))
                .collect();
            Some(null_test(&stem_paths, &m.path, &m.file, rate)?)
        }
        None => None,
    };

    let sheet = sheet::compare(sheet_found.as_ref(), &files, null_test.as_ref());
    let mut report = Report {
        folder: dir.to_owned(),
        sample_rate: rate,
        common: common_of(&files, rate),
        master: master.and_then(|m| files.get(m)).map(|f| f.file.clone()),
        aligned_against: if master.is_some() {
            "master".into()
        } else {
            "sum of the other stems".into()
        },
        files,
        unreadable,
        null_test,
        sheet,
        problems: Vec::new(),
        usable: true,
    };
    report.problems = problems(&report, &monos);
    report.usable = !report.problems.iter().any(|p| p.fatal);
    Ok(report)
}

fn file_check(info: &FileInfo, kind: FileKind, s: &Scan, rate: u32) -> FileCheck {
    let name = track_name(&info.path);
    let m = grouping::explain(&name);
    let samples = s.samples.max(1) as f64;
    FileCheck {
        file: file_name(&info.path),
        path: info.path.clone(),
        kind,
        stem: m.role.map(|r| r.stem_name().to_owned()),
        rule: m.rule.to_owned(),
        format: format!("{}/{}", info.container, info.codec),
        sample_rate: info.sample_rate,
        bit_depth: info.bits_per_sample,
        float: is_float(info),
        channels: info.channels,
        frames: s.frames,
        seconds: round3(s.frames as f64 / f64::from(info.sample_rate.max(1))),
        frames_at_common_rate: converted_len(s.frames, info.sample_rate, rate),
        peak_dbfs: level_db(f64::from(s.peak)).map(round2),
        rms_dbfs: level_db((s.sumsq / samples).sqrt()).map(round2),
        clipping: Clipping {
            runs: s.clip_runs,
            longest: s.clip_longest,
            first_at_seconds: s
                .clip_first
                .map(|f| round3(f as f64 / f64::from(info.sample_rate.max(1)))),
        },
        mono_as_stereo: info.channels == 2 && s.identical_channels && s.peak > 0.0,
        alignment: None,
    }
}

fn is_float(info: &FileInfo) -> bool {
    info.codec.contains("f32") || info.codec.contains("f64")
}

/// The common format: what most stems and the master have.
fn common_of(files: &[FileCheck], rate: u32) -> Common {
    let considered: Vec<&FileCheck> = files.iter().filter(|f| f.kind != FileKind::Other).collect();
    let frames = mode(considered.iter().map(|f| f.frames_at_common_rate)).unwrap_or(0);
    Common {
        sample_rate: rate,
        bit_depth: mode(considered.iter().map(|f| f.bit_depth)).flatten(),
        channels: mode(considered.iter().map(|f| f.channels)).unwrap_or(2),
        frames,
        seconds: round3(frames as f64 / f64::from(rate.max(1))),
    }
}

/// The most frequent value; on a tie, the largest.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut v: Vec<T> = values.collect();
    v.sort();
    let mut best: Option<(usize, T)> = None;
    let mut i = 0;
    while let Some(&x) = v.get(i) {
        let n = v.iter().skip(i).take_while(|&&y| y == x).count();
        if best.is_none_or(|(bn, _)| n >= bn) {
            best = Some((n, x));
        }
        i += n;
    }
    best.map(|(_, x)| x)
}

/// The sum of some mono signals (as long as the longest).
fn sum_of(monos: &[Vec<f32>], which: impl Iterator<Item = usize>) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::new();
    for i in which {
        let Some(m) = monos.get(i) else { continue };
        if out.len() < m.len() {
            out.resize(m.len(), 0.0);
        }
        for (o, x) in out.iter_mut().zip(m) {
            *o += x;
        }
    }
    out
}

/// Stream the stems and the master at `rate`, sum the stems, and compare: the residual's
/// sample peak and RMS. Bounded memory (blocks of [`stemdeck_export::BLOCK_FRAMES`]).
pub fn null_test(
    stems: &[PathBuf],
    master: &Path,
    master_name: &str,
    rate: u32,
) -> Result<NullTest, CheckError> {
    use stemdeck_audio::stream::TrackStream;
    let mut streams: Vec<TrackStream> = stems
        .iter()
        .map(|p| TrackStream::open(p, rate))
        .collect::<Result<_, _>>()?;
    let mut m = TrackStream::open(master, rate)?;
    let frames = streams
        .iter()
        .map(|s| s.len())
        .chain([m.len()])
        .max()
        .unwrap_or(0);
    let n = stemdeck_export::BLOCK_FRAMES;
    let mut buf = [vec![0.0f32; n], vec![0.0f32; n]];
    let mut sum = [vec![0.0f32; n], vec![0.0f32; n]];
    let (mut peak, mut res_sq, mut master_sq) = (0.0f64, 0.0f64, 0.0f64);
    let mut done = 0u64;
    while done < frames {
        let len = n.min(usize::try_from(frames - done).unwrap_or(n));
        for s in &mut sum {
            s.get_mut(..len).unwrap_or_default().fill(0.0);
        }
        for st in &mut streams {
            read_stereo(st, &mut buf, len)?;
            for (s, b) in sum.iter_mut().zip(&buf) {
                for (x, y) in s.iter_mut().zip(b).take(len) {
                    *x += y;
                }
            }
        }
        read_stereo(&mut m, &mut buf, len)?;
        for (s, b) in sum.iter().zip(&buf) {
            for (x, y) in s.iter().zip(b).take(len) {
                let d = f64::from(x - y);
                peak = peak.max(d.abs());
                res_sq += d * d;
                master_sq += f64::from(*y) * f64::from(*y);
            }
        }
        done += len as u64;
    }
    let peak_db = level_db(peak).map(|d| (d * 10.0).round() / 10.0);
    let vs_master = if res_sq > 0.0 && master_sq > 0.0 {
        Some((power_to_db(res_sq / master_sq) * 10.0).round() / 10.0)
    } else {
        None
    };
    let passed = peak_db.is_none_or(|d| d <= NULL_PASS_DBFS);
    let level = peak_db.map_or_else(|| "-inf dBFS".to_owned(), |d| format!("{d:.1} dBFS"));
    let message = if passed {
        if peak == 0.0 {
            format!("{level}: the stems add up to the master bit for bit")
        } else {
            format!("{level}: the stems add up to the master")
        }
    } else {
        let rel =
            vs_master.map_or_else(String::new, |v| format!(" ({v:+.1} dB against the master)"));
        format!(
            "{level}{rel}: the stems do NOT add up to the master (at most {NULL_PASS_DBFS:.0} dBFS expected)"
        )
    };
    Ok(NullTest {
        master: master_name.to_owned(),
        residual_peak_dbfs: peak_db,
        residual_vs_master_db: vs_master,
        passed,
        message,
    })
}

/// The next `len` frames of a stream as stereo (a mono file on both sides).
fn read_stereo(
    st: &mut stemdeck_audio::stream::TrackStream,
    buf: &mut [Vec<f32>; 2],
    len: usize,
) -> Result<(), CheckError> {
    let [l, r] = buf;
    let (l, r) = (
        l.get_mut(..len).unwrap_or_default(),
        r.get_mut(..len).unwrap_or_default(),
    );
    if st.channels() == 1 {
        st.read(&mut [&mut *l])?;
        r.copy_from_slice(l);
    } else {
        st.read(&mut [l, r])?;
    }
    Ok(())
}

/// Every problem, from the facts (fatal ones first).
fn problems(r: &Report, monos: &[Vec<f32>]) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut add = |file: &str, kind: ProblemKind, message: String| {
        out.push(Problem {
            file: file.to_owned(),
            kind,
            severity: kind.severity(),
            fatal: kind.is_fatal(),
            message,
        });
    };
    for u in &r.unreadable {
        add(
            &u.file,
            ProblemKind::Unreadable,
            format!("cannot be read: {}", u.error),
        );
    }
    let rate = r.sample_rate;
    let c = &r.common;
    let against = if r.master.is_some() {
        "the master"
    } else {
        "the other stems"
    };
    for f in r.files.iter().filter(|f| f.kind != FileKind::Other) {
        let name = f.file.as_str();
        if f.sample_rate != c.sample_rate {
            add(
                name,
                ProblemKind::SampleRate,
                format!("{} Hz, the other files {} Hz", f.sample_rate, c.sample_rate),
            );
        }
        let tolerance = u64::from(rate.div_ceil(f.sample_rate.max(1))) + 1;
        if f.frames_at_common_rate.abs_diff(c.frames) > tolerance {
            let diff = f.frames_at_common_rate as i64 - c.frames as i64;
            add(
                name,
                ProblemKind::Length,
                format!(
                    "{} long, the other files {}: {} {}",
                    format_time(f.frames, f.sample_rate),
                    format_time(c.frames, rate),
                    describe_frames(diff.unsigned_abs(), rate),
                    if diff < 0 { "shorter" } else { "longer" }
                ),
            );
        }
        if f.bit_depth != c.bit_depth && f.bit_depth.is_some() && c.bit_depth.is_some() {
            add(
                name,
                ProblemKind::BitDepth,
                format!(
                    "{}-bit, the other files {}-bit",
                    f.bit_depth.unwrap_or(0),
                    c.bit_depth.unwrap_or(0)
                ),
            );
        }
        if f.channels != c.channels {
            add(
                name,
                ProblemKind::Channels,
                format!(
                    "{}, the other files {}",
                    channels_word(f.channels),
                    channels_word(c.channels)
                ),
            );
        }
        if f.clipping.runs > 0 {
            add(
                name,
                ProblemKind::Clipping,
                format!(
                    "clips: {} run{} of full-scale samples (longest {} samples), the first at {}",
                    f.clipping.runs,
                    if f.clipping.runs == 1 { "" } else { "s" },
                    f.clipping.longest,
                    f.clipping
                        .first_at_seconds
                        .map_or_else(String::new, |s| format!("{s:.3} s"))
                ),
            );
        }
        if f.mono_as_stereo {
            add(
                name,
                ProblemKind::MonoAsStereo,
                "mono as stereo: both channels are identical (fine for a centred mono source)"
                    .into(),
            );
        }
        if f.kind != FileKind::Stem {
            continue;
        }
        match f.peak_dbfs {
            None => add(
                name,
                ProblemKind::Silent,
                "silent: every sample is zero".into(),
            ),
            Some(p) if p < NEAR_SILENT_DBFS => add(
                name,
                ProblemKind::NearSilent,
                format!("near-silent: its peak is {p:.1} dBFS"),
            ),
            _ => {}
        }
        if let Some(a) = &f.alignment {
            if !a.reliable {
                if r.master.is_none() {
                    add(
                        name,
                        ProblemKind::AlignmentUnknown,
                        "offset not determined: no lag fits clearly better than the others \
                         against the other stems (they share too little; a master would tell)"
                            .into(),
                    );
                } else {
                    add(
                        name,
                        ProblemKind::NotInMaster,
                        format!(
                            "not found in the master (correlation {:.3}): is it part of this mix?",
                            a.correlation
                        ),
                    );
                }
            } else if a.offset_samples.abs() > ALIGN_TOLERANCE_FRAMES {
                add(
                    name,
                    ProblemKind::Misaligned,
                    format!(
                        "misaligned: {} samples ({:.2} ms) {} against {against}",
                        a.offset_samples.abs(),
                        a.offset_ms.abs(),
                        if a.offset_samples > 0 {
                            "late"
                        } else {
                            "early"
                        }
                    ),
                );
            }
            if a.inverted && a.reliable {
                add(
                    name,
                    ProblemKind::PolarityInverted,
                    format!(
                        "polarity inverted: it correlates negatively with the master ({:.3})",
                        a.correlation
                    ),
                );
            }
        }
        if f.rule == grouping::NO_RULE_MATCHED && !names_a_stem(&track_name(&f.path)) {
            add(
                name,
                ProblemKind::Name,
                "the name says nothing of what it holds (no stem word: drums, bass, vocals…)"
                    .into(),
            );
        }
    }
    // Duplicates: two stems with the same sound (same level, correlation ~1 at lag 0).
    let stems: Vec<usize> = (0..r.files.len())
        .filter(|&i| {
            r.files
                .get(i)
                .is_some_and(|f| f.kind == FileKind::Stem && f.peak_dbfs.is_some())
        })
        .collect();
    for (a_pos, &a) in stems.iter().enumerate() {
        for &b in stems.iter().skip(a_pos + 1) {
            if let (Some(x), Some(y), Some(fa), Some(fb)) =
                (monos.get(a), monos.get(b), r.files.get(a), r.files.get(b))
                && is_duplicate(x, y)
            {
                add(
                    &fb.file,
                    ProblemKind::Duplicate,
                    format!("duplicate: the same audio as {}", fa.file),
                );
            }
        }
    }
    if let Some(n) = &r.null_test
        && !n.passed
    {
        // Name the stems that explain it, if any; else the master.
        let culprits: Vec<&str> = r
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Stem)
            .filter(|f| {
                f.alignment.as_ref().is_some_and(|a| {
                    a.inverted || (a.reliable && a.offset_samples.abs() > ALIGN_TOLERANCE_FRAMES)
                }) || f.peak_dbfs.is_none()
                    || f.clipping.runs > 0
                    || f.sample_rate != c.sample_rate
                    || f.frames_at_common_rate + u64::from(rate / 100) < c.frames
            })
            .map(|f| f.file.as_str())
            .collect();
        let level = n
            .residual_peak_dbfs
            .map_or_else(|| "-inf".to_owned(), |d| format!("{d:.1}"));
        if culprits.is_empty() {
            add(
                &n.master,
                ProblemKind::NullTest,
                format!("null test: {}", n.message),
            );
        }
        for file in culprits {
            add(
                file,
                ProblemKind::NullTest,
                format!(
                    "the stems do not add up to the master (null test: residual {level} dBFS), \
                     this stem among the causes"
                ),
            );
        }
    }
    for finding in &r.sheet.findings {
        add(&finding.file, ProblemKind::Sheet, finding.message.clone());
    }
    out.sort_by_key(|p| (p.severity, p.kind));
    out
}

fn is_duplicate(a: &[f32], b: &[f32]) -> bool {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa <= 0.0 || bb <= 0.0 {
        return false;
    }
    let level_ratio_db = power_to_db(aa / bb);
    ab / (aa * bb).sqrt() > 0.9999 && level_ratio_db.abs() < 0.1
}

fn channels_word(n: usize) -> &'static str {
    match n {
        1 => "mono",
        2 => "stereo",
        _ => "multichannel",
    }
}

/// "1.000 s" or "300 samples (6.80 ms)".
pub fn describe_frames(frames: u64, rate: u32) -> String {
    let ms = frames as f64 * 1000.0 / f64::from(rate.max(1));
    if ms >= 1000.0 {
        format!("{:.3} s", ms / 1000.0)
    } else {
        format!("{frames} samples ({ms:.2} ms)")
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round4(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}
