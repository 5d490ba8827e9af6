//! The check itself: reads the folder, decodes every file once, measures the offsets,
//! runs the null test and the sheet, and puts it all in a [`Report`].

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use stemdeck_audio::decode::{Decoder, FileInfo};
use stemdeck_audio::import::{majority_rate, scan_folder, track_name};
use stemdeck_audio::resample::converted_len;
use stemdeck_session::grouping;
use stemdeck_session::units::level_db;

use crate::align::{Lag, MAX_LAG_SECONDS, WINDOW_SECONDS, Weighting, find_lag};
use crate::error::CheckError;
use crate::null::null_test;
use crate::package::master_rank;
use crate::problems::problems;
use crate::report::{Alignment, Clipping, Common, FileCheck, FileKind, Report, Unreadable};
use crate::scan::{self, Scan, is_float};
use crate::sheet;
use crate::thresholds::{
    ALIGN_TOLERANCE_FRAMES, MIN_MASTER_CORRELATION, MIN_OTHERS_CORRELATION, MIN_OTHERS_DISTINCTNESS,
};

/// What to check.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The master mix (inside the folder or not); `None`: the file whose name says
    /// master or mix (or the one the song information sheet names), if any.
    pub master: Option<PathBuf>,
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
