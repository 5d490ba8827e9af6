//! One export job for every front end: the session's saved settings turned into the
//! options of a run ([`options_for`]), and the run itself on its own thread
//! ([`ExportJob`]): its progress with the pass and an ETA, cancel, and the result.
//! The command line (`stemdeck export`) and the app both export through it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use stemdeck_session::{ExportSettings, Session};

use crate::naming::stems_folder_name;
use crate::{
    DeliveryOptions, ExportError, ExportOptions, ExportReport, Progress, Stage, export_delivery,
};

/// Why a session's export settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value out of range ([`ExportSettings::check`]'s message).
    #[error("{0}")]
    Invalid(String),
    /// A sample format this version does not know.
    #[error(transparent)]
    Format(ExportError),
}

/// The options of one export run from export settings (the session's saved ones, with
/// whatever the front end changes for this run on top): the files go into
/// `settings.out_dir`, else "<title> - Stems" in `base_dir` (the session file's folder,
/// or the imported folder); `force` replaces files that exist.
pub fn options_for(
    session: &Session,
    settings: &ExportSettings,
    base_dir: &Path,
    force: bool,
) -> Result<(ExportOptions, DeliveryOptions), SettingsError> {
    settings.check().map_err(SettingsError::Invalid)?;
    let default_dir = base_dir.join(stems_folder_name(&session.song));
    let mut opts =
        ExportOptions::from_settings(settings, default_dir).map_err(SettingsError::Format)?;
    opts.force = force;
    Ok((opts, DeliveryOptions::from_settings(settings)))
}

/// The fraction done after which the ETA is given: the first blocks (opening the
/// files, the converters starting) say little about the rest.
const ETA_AFTER: f64 = 0.02;

/// How far a running export has got.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JobStatus {
    /// The pass it is in ([`Stage::Render`] until the first block is done).
    pub stage: Stage,
    /// Frames done over every pass; only ever grows.
    pub done_frames: u64,
    /// Frames of every pass; 0 until the first block is done, and it grows when a trim
    /// pass turns out to be needed.
    pub total_frames: u64,
    /// `done_frames / total_frames`, 0 to 1 (0 until the first block is done).
    pub fraction: f64,
    /// Since the job started.
    pub elapsed: Duration,
    /// Time left, from the time taken so far and the fraction done; `None` until the
    /// fraction says enough.
    pub eta: Option<Duration>,
    /// The export has ended (its result is ready, or was taken).
    pub finished: bool,
}

type JobResult = Result<ExportReport, ExportError>;

/// What the export thread and the job share.
struct Shared {
    state: Mutex<State>,
    ended: Condvar,
    cancel: AtomicBool,
}

#[derive(Default)]
struct State {
    progress: Option<Progress>,
    result: Option<JobResult>,
    finished: bool,
}

impl Shared {
    /// The state, also after a panic on the export thread (it holds plain values).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One export ([`export_delivery`]) running on its own thread, so the caller (the UI,
/// the command line's progress bar) carries on. Files appear only when complete; on an
/// error or a cancel nothing is left behind.
///
/// Dropping the job does not stop the export: [`Self::cancel`] does.
pub struct ExportJob {
    shared: Arc<Shared>,
    started: Instant,
}

impl ExportJob {
    /// Start exporting `session` on a thread named "stemdeck-export". The error is the
    /// system's refusal of a new thread.
    pub fn start(
        session: Session,
        opts: ExportOptions,
        delivery: DeliveryOptions,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            ended: Condvar::new(),
            cancel: AtomicBool::new(false),
        });
        let worker = Arc::clone(&shared);
        let started = Instant::now();
        std::thread::Builder::new()
            .name("stemdeck-export".into())
            .spawn(move || {
                let progress = |p: Progress| worker.lock().progress = Some(p);
                let run = || export_delivery(&session, &opts, &delivery, &progress, &worker.cancel);
                // A panic (a bug) ends the job with an error rather than leaving it
                // running for ever; the files it was writing are removed as it unwinds.
                let result = catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    Err(ExportError::Internal(format!("the export stopped: {what}")))
                });
                let mut state = worker.lock();
                state.result = Some(result);
                state.finished = true;
                worker.ended.notify_all();
            })?;
        Ok(Self { shared, started })
    }

    /// Where the export is now.
    pub fn status(&self) -> JobStatus {
        let state = self.shared.lock();
        let elapsed = self.started.elapsed();
        let (stage, done_frames, total_frames) =
            state.progress.map_or((Stage::Render, 0, 0), |p| {
                (p.stage, p.done_frames, p.total_frames)
            });
        let fraction = if total_frames > 0 {
            (done_frames as f64 / total_frames as f64).min(1.0)
        } else {
            0.0
        };
        let eta = (fraction > ETA_AFTER).then(|| elapsed.mul_f64((1.0 - fraction) / fraction));
        JobStatus {
            stage,
            done_frames,
            total_frames,
            fraction,
            elapsed,
            eta,
            finished: state.finished,
        }
    }

    /// Stop the export at its next block; it then ends with [`ExportError::Cancelled`]
    /// and leaves no file behind.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Relaxed);
    }

    /// The result once the export has ended (given once), else `None` at once.
    pub fn try_result(&mut self) -> Option<JobResult> {
        self.shared.lock().result.take()
    }

    /// The result once the export has ended (given once), waiting at most `timeout` for
    /// it: for a caller that shows the progress between waits.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<JobResult> {
        let state = self.shared.lock();
        let (mut state, _) = self
            .shared
            .ended
            .wait_timeout_while(state, timeout, |s| !s.finished)
            .unwrap_or_else(PoisonError::into_inner);
        state.result.take()
    }

    /// Wait for the export to end and return its result (an internal error when
    /// [`Self::try_result`] or [`Self::wait_timeout`] has already taken it).
    pub fn wait(self) -> JobResult {
        let state = self.shared.lock();
        let mut state = self
            .shared
            .ended
            .wait_while(state, |s| !s.finished)
            .unwrap_or_else(PoisonError::into_inner);
        state.result.take().unwrap_or_else(|| {
            Err(ExportError::Internal(
                "the export's result was already taken".into(),
            ))
        })
    }
}
