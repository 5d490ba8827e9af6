//! The offline renderer: every track streamed block by block through the shared mix
//! kernel, each stem to its own stereo file, all exactly the session length from
//! sample 0. Memory is bounded by the block size (never whole decoded tracks), and the
//! decoding and file writing of each block are spread over every core with rayon.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use stemdeck_audio::kernel::{StereoBuf, mix_block};
use stemdeck_audio::stream::TrackStream;
use stemdeck_session::Session;
use stemdeck_session::routing::MixMode;

use crate::ExportError;
use crate::naming::{DEFAULT_TEMPLATE, file_stem};
use crate::writer::{SampleFormat, StemWriter};

/// Frames per block: large enough that per-block overhead vanishes, small enough that
/// 32 tracks stay within a few MB.
pub const BLOCK_FRAMES: usize = 16_384;

/// What to export and where.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The folder the files go into (created if missing).
    pub out_dir: PathBuf,
    pub format: SampleFormat,
    /// File-name template, see [`crate::naming`].
    pub template: String,
    /// Also write the master mix (the sum of the stems) in the same run.
    pub include_master: bool,
    /// Replace files that already exist.
    pub force: bool,
}

impl ExportOptions {
    pub fn new(out_dir: PathBuf) -> Self {
        Self {
            out_dir,
            format: SampleFormat::Wav24,
            template: DEFAULT_TEMPLATE.to_owned(),
            include_master: false,
            force: false,
        }
    }
}

/// How far an export has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub done_frames: u64,
    pub total_frames: u64,
}

/// One written file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The stem's name, or "Master".
    pub name: String,
    pub path: PathBuf,
    /// Highest absolute sample value (1.0 = 0 dBFS).
    pub peak: f32,
    /// Samples clipped by an integer format.
    pub clipped: u64,
    /// Names of the member tracks.
    pub tracks: Vec<String>,
    pub is_master: bool,
}

/// What an export did.
#[derive(Clone, Debug)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub files: Vec<FileReport>,
    pub frames: u64,
    pub sample_rate: u32,
    pub format: SampleFormat,
    pub elapsed: Duration,
    /// Stems with no tracks: nothing to write.
    pub empty_stems: Vec<String>,
    /// Tracks in no stem: left out of the stems and the master.
    pub unassigned: Vec<String>,
}

impl ExportReport {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// The file a stem (index from 1) or the master (index 0) is written to.
fn target(opts: &ExportOptions, session: &Session, index: usize, name: &str) -> PathBuf {
    let stem = file_stem(&opts.template, &session.song, index, name);
    opts.out_dir
        .join(format!("{stem}.{}", opts.format.extension()))
}

/// Render every stem with tracks (and the master if asked) into `opts.out_dir`.
///
/// Files appear only when complete; on any error or on `cancel`, nothing is left behind.
pub fn export(
    session: &Session,
    opts: &ExportOptions,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let plan = session.mix_plan(MixMode::Stems);
    let unassigned: Vec<String> = session
        .unassigned_tracks()
        .map(|t| t.name.clone())
        .collect();

    // What gets written: stems that have tracks, in order, then the master.
    let mut jobs: Vec<(usize, FileReport)> = Vec::new(); // (index into plan.stems, report)
    let mut empty_stems = Vec::new();
    let mut index = 0;
    for (i, stem) in session.stems.iter().enumerate() {
        if stem.tracks.is_empty() {
            empty_stems.push(stem.name.clone());
            continue;
        }
        index += 1;
        let tracks = stem
            .tracks
            .iter()
            .filter_map(|id| session.track(*id))
            .map(|t| t.name.clone())
            .collect();
        jobs.push((
            i,
            FileReport {
                name: stem.name.clone(),
                path: target(opts, session, index, &stem.name),
                peak: 0.0,
                clipped: 0,
                tracks,
                is_master: false,
            },
        ));
    }
    if jobs.is_empty() {
        return Err(ExportError::NothingToExport);
    }
    if opts.include_master {
        jobs.push((
            usize::MAX,
            FileReport {
                name: "Master".into(),
                path: target(opts, session, 0, "Master"),
                peak: 0.0,
                clipped: 0,
                tracks: Vec::new(),
                is_master: true,
            },
        ));
    }
    check_targets(&jobs, opts.force)?;

    // Open every track that is in a stem, in parallel (opening may scan a whole MP3).
    let rate = session.sample_rate;
    let wanted: Vec<usize> = plan
        .stems
        .iter()
        .flat_map(|s| s.tracks.iter().map(|t| t.track))
        .collect();
    let mut streams: Vec<Option<TrackStream>> = session
        .tracks
        .par_iter()
        .enumerate()
        .map(|(i, t)| {
            wanted
                .contains(&i)
                .then(|| TrackStream::open(&t.path, rate))
                .transpose()
        })
        .collect::<Result<_, _>>()?;
    let total = streams
        .iter()
        .flatten()
        .map(TrackStream::len)
        .max()
        .unwrap_or(0);
    if total == 0 {
        return Err(ExportError::NothingToExport);
    }

    let created_dir = !opts.out_dir.exists();
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| ExportError::Io {
        path: opts.out_dir.clone(),
        source,
    })?;
    let result = render_files(
        session,
        opts,
        &plan,
        &mut streams,
        &mut jobs,
        total,
        progress,
        cancel,
    );
    if result.is_err() && created_dir {
        // Only removes the folder if it is still empty.
        std::fs::remove_dir(&opts.out_dir).ok();
    }
    result?;

    Ok(ExportReport {
        dir: opts.out_dir.clone(),
        files: jobs.into_iter().map(|(_, r)| r).collect(),
        frames: total,
        sample_rate: rate,
        format: opts.format,
        elapsed: started.elapsed(),
        empty_stems,
        unassigned,
    })
}

fn check_targets(jobs: &[(usize, FileReport)], force: bool) -> Result<(), ExportError> {
    let mut seen = std::collections::HashSet::new();
    for (_, r) in jobs {
        // Case-insensitive: the same file on macOS and Windows.
        if !seen.insert(r.path.to_string_lossy().to_lowercase()) {
            return Err(ExportError::DuplicateName {
                path: r.path.clone(),
            });
        }
    }
    if !force {
        let existing: Vec<&PathBuf> = jobs
            .iter()
            .map(|(_, r)| &r.path)
            .filter(|p| p.exists())
            .collect();
        if let Some(first) = existing.first() {
            return Err(ExportError::WouldOverwrite {
                first: (*first).clone(),
                more: existing.len() - 1,
            });
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn render_files(
    session: &Session,
    opts: &ExportOptions,
    plan: &stemdeck_session::routing::MixPlan,
    streams: &mut [Option<TrackStream>],
    jobs: &mut [(usize, FileReport)],
    total: u64,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<(), ExportError> {
    let mut writers: Vec<StemWriter> = jobs
        .iter()
        .enumerate()
        .map(|(k, (_, r))| {
            StemWriter::create(
                r.path.clone(),
                opts.format,
                session.sample_rate,
                k as u64 + 1,
            )
        })
        .collect::<Result<_, _>>()?;
    let mut inputs: Vec<Vec<Vec<f32>>> = streams
        .iter()
        .map(|s| match s {
            Some(s) => vec![vec![0.0; BLOCK_FRAMES]; s.channels()],
            None => Vec::new(),
        })
        .collect();
    let mut stem_bufs = vec![StereoBuf::new(BLOCK_FRAMES); plan.stems.len()];
    let mut master = StereoBuf::new(BLOCK_FRAMES);

    let mut done: u64 = 0;
    while done < total {
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        let n = (total - done).min(BLOCK_FRAMES as u64) as usize;
        streams
            .par_iter_mut()
            .zip(inputs.par_iter_mut())
            .try_for_each(|(stream, buf)| match stream {
                Some(stream) => {
                    let mut chans: Vec<&mut [f32]> = buf
                        .iter_mut()
                        .map(|c| c.get_mut(..n).unwrap_or_default())
                        .collect();
                    stream.read(&mut chans)
                }
                None => Ok(()),
            })?;
        mix_block(plan, plan, &inputs, &mut stem_bufs, &mut master, n);
        writers
            .par_iter_mut()
            .zip(jobs.par_iter())
            .try_for_each(|(w, (stem, _))| {
                let buf = stem_bufs.get(*stem).unwrap_or(&master);
                let (l, r) = (
                    buf.left.get(..n).unwrap_or_default(),
                    buf.right.get(..n).unwrap_or_default(),
                );
                w.write(l, r)
            })?;
        done += n as u64;
        progress(Progress {
            done_frames: done,
            total_frames: total,
        });
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(ExportError::Cancelled);
    }
    // Rename only once every file is complete, so an error leaves no stem behind.
    for ((_, report), w) in jobs.iter_mut().zip(&writers) {
        report.peak = w.peak();
        report.clipped = w.clipped();
    }
    let mut finished = Vec::new();
    for w in writers {
        match w.finish() {
            Ok(p) => finished.push(p),
            Err(e) => {
                for p in finished {
                    std::fs::remove_file(p).ok();
                }
                return Err(e);
            }
        }
    }
    Ok(())
}
