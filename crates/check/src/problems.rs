//! The problems: every finding of the report turned into a [`Problem`] with its kind,
//! severity and message, worst first.

use stemdeck_audio::import::track_name;
use stemdeck_session::grouping;
use stemdeck_session::units::{format_time, power_to_db};

use crate::package::names_a_stem;
use crate::report::{FileKind, Problem, ProblemKind, Report};
use crate::text::describe_frames;
use crate::thresholds::{ALIGN_TOLERANCE_FRAMES, NEAR_SILENT_DBFS};

/// Every problem, from the facts (fatal ones first).
pub(crate) fn problems(r: &Report, monos: &[Vec<f32>]) -> Vec<Problem> {
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
