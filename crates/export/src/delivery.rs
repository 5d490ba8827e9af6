//! The delivery: check the plan and the names, open the tracks, render
//! ([`crate::render`]), write the song information sheet, and give every file its real
//! name at once. On an error or a cancel, nothing is left behind (not even the folder,
//! if the export created it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use stemdeck_audio::resample::converted_len;
use stemdeck_audio::stream::TrackStream;
use stemdeck_session::{Session, TrimMode};

use crate::ExportError;
use crate::options::{DeliveryOptions, ExportOptions};
use crate::plan::{Layout, check_names};
use crate::render::{Job, open_streams, stage_time};
use crate::report::{ExportReport, PlannedFile, Progress};
use crate::writer::PendingFile;

/// Render every stem with tracks (and the master if asked) into `opts.out_dir`: the
/// one-click export, at the session rate, with the song information sheet, no variants,
/// no tail, and automatic trim (a mix that would clip an integer format gets one common
/// gain rather than failing; the report says so).
///
/// Files appear only when complete; on any error or on `cancel`, nothing is left behind.
pub fn export(
    session: &Session,
    opts: &ExportOptions,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    let delivery = DeliveryOptions {
        trim: TrimMode::Auto,
        ..DeliveryOptions::default()
    };
    export_delivery(session, opts, &delivery, progress, cancel)
}

/// Render the whole delivery: every stem with tracks, the master and the variants if
/// asked, the song information sheet, checked by the null test (see the module docs).
///
/// Files appear only when complete; on any error or on `cancel`, nothing is left behind.
pub fn export_delivery(
    session: &Session,
    opts: &ExportOptions,
    delivery: &DeliveryOptions,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let exported_at = crate::sheet::now_rfc3339();
    let layout = Layout::new(session, opts, delivery)?;
    let planned = layout.planned();
    check_names(&planned)?;
    check_existing(&planned, opts.force)?;

    let mut streams = open_streams(session, &layout.plan, &layout.variant_plans)?;
    stage_time("open", started);
    let song_frames = streams
        .iter()
        .flatten()
        .map(TrackStream::len)
        .max()
        .unwrap_or(0);
    if song_frames == 0 {
        return Err(ExportError::NothingToExport);
    }
    let frames =
        converted_len(song_frames, layout.session_rate, layout.out_rate) + layout.tail_frames;

    let created_dir = !opts.out_dir.exists();
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| ExportError::OutDir {
        path: opts.out_dir.clone(),
        source,
    })?;
    let job = Job {
        session,
        layout: &layout,
        song_frames,
        frames,
        progress,
        cancel,
    };
    let result = job.run(&mut streams, delivery.trim);
    let (files, trim, null_test, dry_null_test, pending) = match result {
        Ok(r) => r,
        Err(e) => {
            if created_dir {
                // Only removes the folder if it is still empty.
                std::fs::remove_dir(&opts.out_dir).ok();
            }
            return Err(e);
        }
    };

    let mut report = ExportReport {
        dir: opts.out_dir.clone(),
        files,
        frames,
        sample_rate: layout.out_rate,
        format: opts.format,
        elapsed: Duration::ZERO,
        empty_stems: layout.empty_stems.clone(),
        unassigned: layout.unassigned.clone(),
        session_rate: layout.session_rate,
        tail_frames: layout.tail_frames,
        trim,
        null_test,
        dry_null_test,
        sheet_files: Vec::new(),
        exported_at,
    };
    let finish = || -> Result<Vec<PathBuf>, ExportError> {
        let mut pending = pending;
        if let (Some(pdf), Some(json)) = (&layout.sheet_pdf, &layout.sheet_json) {
            let sheet = crate::sheet::Sheet::new(session, &report);
            let bytes = crate::pdf::render(&sheet).map_err(|reason| ExportError::Pdf {
                path: pdf.clone(),
                reason,
            })?;
            pending.push(PendingFile::write_all(pdf.clone(), &bytes)?);
            pending.push(PendingFile::write_all(
                json.clone(),
                sheet.to_json().as_bytes(),
            )?);
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        commit_all(pending)
    };
    let sheet_started = Instant::now();
    let finished = finish();
    stage_time("sheet + rename", sheet_started);
    match finished {
        Ok(paths) => {
            report.sheet_files = paths
                .into_iter()
                .filter(|p| {
                    Some(p) == layout.sheet_pdf.as_ref() || Some(p) == layout.sheet_json.as_ref()
                })
                .collect();
        }
        Err(e) => {
            if created_dir {
                std::fs::remove_dir(&opts.out_dir).ok();
            }
            return Err(e);
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Rename every pending file; if one fails, the ones already renamed are removed.
fn commit_all(pending: Vec<PendingFile>) -> Result<Vec<PathBuf>, ExportError> {
    let mut done = Vec::new();
    for p in pending {
        match p.commit() {
            Ok(path) => done.push(path),
            Err(e) => {
                for path in done {
                    std::fs::remove_file(path).ok();
                }
                return Err(e);
            }
        }
    }
    Ok(done)
}

fn check_existing(planned: &[PlannedFile], force: bool) -> Result<(), ExportError> {
    if force {
        return Ok(());
    }
    let existing: Vec<&PathBuf> = planned
        .iter()
        .map(|f| &f.path)
        .filter(|p| p.exists())
        .collect();
    if let Some(first) = existing.first() {
        return Err(ExportError::WouldOverwrite {
            first: (*first).clone(),
            more: existing.len() - 1,
        });
    }
    Ok(())
}
