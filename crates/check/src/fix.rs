//! The repair: a new folder with every stem (and the master) moved to its found
//! alignment, polarity put right, padded to one length, converted to one rate and one
//! format, with a song information sheet saying what was done. The package checked is
//! only read; the copy is written with the export's writer (temporary names, renamed when
//! everything is complete) and then checked again.

use std::path::{Path, PathBuf};

use serde::Serialize;
use stemdeck_audio::import::track_name;
use stemdeck_audio::stream::TrackStream;
use stemdeck_export::OutputFormat;
use stemdeck_export::naming::safe_file_name;
use stemdeck_export::sheet::{
    AudioFacts, FileFacts, NullFacts, STEMDECK_VERSION, Sheet, SongFacts, TrimFacts, now_rfc3339,
};
use stemdeck_export::writer::{PendingFile, StemWriter};
use stemdeck_export::{BLOCK_FRAMES, FileKind as SheetKind, NullSource};
use stemdeck_session::units::format_time;

use crate::driver::{CheckOptions, check};
use crate::error::CheckError;
use crate::null::null_test;
use crate::report::{FileCheck, FileKind, Report};
use crate::text::describe_frames;
use crate::thresholds::ALIGN_TOLERANCE_FRAMES;

/// What one file of the copy is and what was done to it.
#[derive(Clone, Debug, Serialize)]
pub struct FixedFile {
    /// The file in the package.
    pub from: String,
    /// The file in the copy.
    pub file: String,
    pub kind: FileKind,
    /// Frames dropped from its start (it was late; negative: silence added, it was early).
    pub shift_samples: i64,
    /// Its polarity was turned back.
    pub polarity_restored: bool,
    /// Converted from this rate.
    pub converted_from: Option<u32>,
    /// Frames of silence added at its end to reach the common length.
    pub padded_frames: u64,
    /// Everything done, for people.
    pub actions: Vec<String>,
}

/// The result of a repair.
#[derive(Clone, Debug, Serialize)]
pub struct FixReport {
    pub out: PathBuf,
    pub sample_rate: u32,
    /// "wav24" or "wav32f".
    pub format: String,
    pub frames: u64,
    pub files: Vec<FixedFile>,
    /// The song information sheet's files in the copy.
    pub sheet_files: Vec<String>,
    /// The copy, checked again (its null test is the repair's).
    pub recheck: Report,
}

/// The sheet as the repair writes it: the usual song information sheet plus what the
/// repair did.
#[derive(Serialize)]
struct RepairSheet<'a> {
    #[serde(flatten)]
    sheet: &'a Sheet,
    repair: RepairFacts<'a>,
}

#[derive(Serialize)]
struct RepairFacts<'a> {
    /// The package repaired.
    from: String,
    files: &'a [FixedFile],
}

/// Repair the package `report` describes (from [`check`]) into the new folder `out`.
pub fn fix(report: &Report, out: &Path) -> Result<FixReport, CheckError> {
    check_out_dir(&report.folder, out)?;
    let rate = report.sample_rate;
    let files: Vec<&FileCheck> = report
        .files
        .iter()
        .filter(|f| f.kind != FileKind::Other)
        .collect();
    if !files.iter().any(|f| f.kind == FileKind::Stem) {
        return Err(CheckError::NothingToRepair {
            path: report.folder.clone(),
            reason: "no readable stem".into(),
        });
    }
    let format = if files.iter().any(|f| f.float) {
        OutputFormat::WAV32F
    } else {
        OutputFormat::WAV24
    };
    let shift = |f: &FileCheck| -> i64 {
        f.alignment
            .as_ref()
            .filter(|a| a.reliable && a.offset_samples.abs() > ALIGN_TOLERANCE_FRAMES)
            .map_or(0, |a| a.offset_samples)
    };
    let frames = files
        .iter()
        .map(|f| (f.frames_at_common_rate as i64 - shift(f)).max(0) as u64)
        .max()
        .unwrap_or(0);
    std::fs::create_dir_all(out).map_err(|source| CheckError::Io {
        path: out.to_owned(),
        source,
    })?;

    let mut fixed = Vec::new();
    let mut pending: Vec<PendingFile> = Vec::new();
    let mut facts = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let base = safe_file_name(&track_name(&f.path));
        let mut name = format!("{base}.wav");
        let mut n = 1;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            n += 1;
            name = format!("{base} ({n}).wav");
        }
        taken.push(name.clone());
        let s = shift(f);
        let invert = f.kind == FileKind::Stem
            && f.alignment
                .as_ref()
                .is_some_and(|a| a.inverted && a.reliable);
        let aligned_len = (f.frames_at_common_rate as i64 - s).max(0) as u64;
        let (file, levels) = write_one(
            &f.path,
            &out.join(&name),
            format,
            rate,
            s,
            invert,
            frames,
            i,
        )?;
        pending.push(file);
        let mut actions = Vec::new();
        if s > 0 {
            actions.push(format!(
                "moved {} earlier (it was late)",
                describe_frames(s.unsigned_abs(), rate)
            ));
        } else if s < 0 {
            actions.push(format!(
                "moved {} later (it was early)",
                describe_frames(s.unsigned_abs(), rate)
            ));
        }
        if invert {
            actions.push("polarity turned back (it was inverted)".into());
        }
        if f.sample_rate != rate {
            actions.push(format!("converted from {} Hz to {rate} Hz", f.sample_rate));
        }
        if frames > aligned_len {
            actions.push(format!(
                "padded with {} of silence at the end",
                describe_frames(frames - aligned_len, rate)
            ));
        }
        if f.channels == 1 {
            actions.push("mono made stereo (the same on both sides)".into());
        }
        facts.push(FileFacts {
            kind: if f.kind == FileKind::Master {
                SheetKind::Master
            } else {
                SheetKind::Stem
            },
            name: f.stem.clone().unwrap_or_else(|| "Master".into()),
            file: name.clone(),
            tracks: vec![f.file.clone()],
            peak_dbfs: levels.peak,
            true_peak_dbtp: levels.true_peak,
            loudness_lufs: levels.loudness,
            color: None,
            // A received package does not say what processing its files include.
            processing: None,
        });
        fixed.push(FixedFile {
            from: f.file.clone(),
            file: name,
            kind: f.kind,
            shift_samples: s,
            polarity_restored: invert,
            converted_from: (f.sample_rate != rate).then_some(f.sample_rate),
            padded_frames: frames - aligned_len.min(frames),
            actions,
        });
    }

    // The null test on the copy, before anything gets its real name.
    let master = fixed
        .iter()
        .zip(&pending)
        .find(|(f, _)| f.kind == FileKind::Master);
    let null = match master {
        Some((m, p)) => {
            let stems: Vec<PathBuf> = fixed
                .iter()
                .zip(&pending)
                .filter(|(f, _)| f.kind == FileKind::Stem)
                .map(|(_, p)| p.temp_path().to_owned())
                .collect();
            Some(null_test(&stems, p.temp_path(), &m.file, rate)?)
        }
        None => None,
    };

    let found = crate::sheet::find(&report.folder);
    let song_json = found.as_ref().and_then(|s| s.json.as_ref());
    let text = |p: &str| {
        song_json
            .and_then(|v| v.pointer(p))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut title = text("/song/title");
    if title.trim().is_empty() {
        title = std::path::absolute(&report.folder)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "Untitled".into());
    }
    let notes = repair_notes(report, &fixed);
    let (mut stems, mut master_facts) = (Vec::new(), None);
    for f in facts {
        if f.kind == SheetKind::Master {
            master_facts = Some(f);
        } else {
            stems.push(f);
        }
    }
    let sheet = Sheet {
        format: "stemdeck-song-info",
        stemdeck_version: STEMDECK_VERSION,
        exported_at: now_rfc3339(),
        song: SongFacts {
            title: title.trim().to_owned(),
            artist: text("/song/artist"),
            bpm: song_json
                .and_then(|v| v.pointer("/song/bpm"))
                .and_then(|v| v.as_f64()),
            key: text("/song/key"),
            notes,
        },
        audio: AudioFacts {
            format: format.id().to_owned(),
            format_name: format.describe().to_owned(),
            container: format.container().name.into(),
            bit_depth: format.bits(),
            sample_type: format.sample().kind().into(),
            dither: false,
            sample_rate: rate,
            session_sample_rate: rate,
            channels: 2,
            frames,
            length_seconds: frames as f64 / f64::from(rate.max(1)),
            length: format_time(frames, rate),
            tail_seconds: 0.0,
        },
        trim: TrimFacts {
            mode: "none".into(),
            gain_db: 0.0,
            loudest_before_dbfs: None,
            message: "no trim: the levels are those of the package".into(),
        },
        null_test: null.as_ref().map(|n| NullFacts {
            compared: NullSource::Files,
            residual_peak_dbfs: n.residual_peak_dbfs,
            bit_exact: n.residual_peak_dbfs.is_none(),
            passed: n.passed,
            message: n.message.clone(),
        }),
        null_test_dry: None,
        stems,
        master: master_facts,
        variants: Vec::new(),
        unassigned_tracks: Vec::new(),
    };
    let base = safe_file_name(&format!("{} - Song Info", sheet.song.title));
    let mut json = serde_json::to_string_pretty(&RepairSheet {
        sheet: &sheet,
        repair: RepairFacts {
            from: report.folder.display().to_string(),
            files: &fixed,
        },
    })
    .unwrap_or_default();
    json.push('\n');
    let json_path = out.join(format!("{base}.json"));
    let pdf_path = out.join(format!("{base}.pdf"));
    let pdf = stemdeck_export::sheet_pdf(&sheet).map_err(|reason| {
        CheckError::Export(stemdeck_export::ExportError::Pdf {
            path: pdf_path.clone(),
            reason,
        })
    })?;
    pending.push(PendingFile::write_all(json_path, json.as_bytes())?);
    pending.push(PendingFile::write_all(pdf_path, &pdf)?);
    for p in pending {
        p.commit()?;
    }
    let recheck = check(out, &CheckOptions::default())?;
    Ok(FixReport {
        out: out.to_owned(),
        sample_rate: rate,
        format: format.id().to_owned(),
        frames,
        files: fixed,
        sheet_files: vec![format!("{base}.json"), format!("{base}.pdf")],
        recheck,
    })
}

/// Levels of a written file for the sheet.
struct Levels {
    peak: Option<f64>,
    true_peak: Option<f64>,
    loudness: Option<f64>,
}

/// Write one file of the copy: `shift` frames dropped from the start (negative: that
/// much silence first), inverted if asked, `frames` long, stereo.
#[allow(clippy::too_many_arguments)]
fn write_one(
    src: &Path,
    dst: &Path,
    format: OutputFormat,
    rate: u32,
    shift: i64,
    invert: bool,
    frames: u64,
    seed: usize,
) -> Result<(PendingFile, Levels), CheckError> {
    let mut st = TrackStream::open(src, rate)?;
    if shift > 0 {
        st.seek(shift.unsigned_abs())?;
    }
    let mut w = StemWriter::create(dst.to_owned(), format, rate, seed as u64)?;
    let mut meter = ebur128::EbuR128::new(
        2,
        rate,
        ebur128::Mode::I | ebur128::Mode::SAMPLE_PEAK | ebur128::Mode::TRUE_PEAK,
    )
    .map_err(|e| loudness_err(dst, e))?;
    let mut silence_left = if shift < 0 { shift.unsigned_abs() } else { 0 };
    let mut buf = [vec![0.0f32; BLOCK_FRAMES], vec![0.0f32; BLOCK_FRAMES]];
    let mut done = 0u64;
    while done < frames {
        let len = BLOCK_FRAMES.min(usize::try_from(frames - done).unwrap_or(BLOCK_FRAMES));
        let [l, r] = &mut buf;
        let (l, r) = (
            l.get_mut(..len).unwrap_or_default(),
            r.get_mut(..len).unwrap_or_default(),
        );
        let quiet = usize::try_from(silence_left).unwrap_or(len).min(len);
        l.get_mut(..quiet).unwrap_or_default().fill(0.0);
        r.get_mut(..quiet).unwrap_or_default().fill(0.0);
        silence_left -= quiet as u64;
        let (l_rest, r_rest) = (
            l.get_mut(quiet..).unwrap_or_default(),
            r.get_mut(quiet..).unwrap_or_default(),
        );
        if !l_rest.is_empty() {
            if st.channels() == 1 {
                st.read(&mut [&mut *l_rest])?;
                r_rest.copy_from_slice(l_rest);
            } else {
                st.read(&mut [&mut *l_rest, &mut *r_rest])?;
            }
        }
        if invert {
            l.iter_mut().chain(r.iter_mut()).for_each(|x| *x = -*x);
        }
        meter
            .add_frames_planar_f32(&[l, r])
            .map_err(|e| loudness_err(dst, e))?;
        w.write(l, r)?;
        done += len as u64;
    }
    let peak = (0..2)
        .filter_map(|c| meter.sample_peak(c).ok())
        .fold(0.0f64, f64::max);
    let true_peak = (0..2)
        .filter_map(|c| meter.true_peak(c).ok())
        .fold(0.0f64, f64::max);
    let loudness = meter.loudness_global().ok().filter(|l| l.is_finite());
    // dB to 0.01, scaled in one multiplication (2000·log10, not units::level_db's
    // 20·log10 then ×100: the last bit can differ), kept so repaired sheets keep their bytes.
    let db2 = |x: f64| (x > 0.0).then(|| (2000.0 * x.log10()).round() / 100.0);
    Ok((
        w.complete()?,
        Levels {
            peak: db2(peak),
            true_peak: db2(true_peak),
            loudness: loudness.map(|l| (l * 100.0).round() / 100.0),
        },
    ))
}

fn loudness_err(path: &Path, e: ebur128::Error) -> CheckError {
    CheckError::Loudness {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// The sheet's notes: what was repaired, from where.
fn repair_notes(report: &Report, fixed: &[FixedFile]) -> String {
    let mut lines = vec![format!(
        "Repaired by Stemdeck from the package \"{}\" ({} problem{} found).",
        report.folder.display(),
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" }
    )];
    for f in fixed {
        if !f.actions.is_empty() {
            lines.push(format!("{}: {}.", f.file, f.actions.join("; ")));
        }
    }
    if lines.len() == 1 {
        lines
            .push("Nothing needed moving; every file was converted to one rate and format.".into());
    }
    lines.join("\n")
}

/// The output folder must be new (or empty) and outside the package.
fn check_out_dir(package: &Path, out: &Path) -> Result<(), CheckError> {
    let bad = |reason: String| CheckError::Output {
        path: out.to_owned(),
        reason,
    };
    if out.exists() {
        if !out.is_dir() {
            return Err(bad(
                "exists and is not a folder; give a new folder for the repaired copy".into(),
            ));
        }
        let empty = std::fs::read_dir(out)
            .map(|mut rd| rd.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(bad(
                "already exists and is not empty; give a new folder for the repaired copy \
                 (nothing is ever overwritten)"
                    .into(),
            ));
        }
    }
    let pkg = package.canonicalize().map_err(|source| CheckError::Io {
        path: package.to_owned(),
        source,
    })?;
    let target = resolve(out);
    if target.starts_with(&pkg) {
        return Err(bad(format!(
            "is inside the package being repaired ({}); the originals are never written to: \
             give a folder outside it",
            package.display()
        )));
    }
    Ok(())
}

/// `p` made absolute with links resolved, as far as it exists.
fn resolve(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_owned());
    for name in rest.iter().rev() {
        out.push(name);
    }
    out
}
