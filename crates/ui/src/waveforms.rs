//! Waveform overviews, computed off the UI thread (one worker, track after track) and
//! cached on disk, so opening a session is instant and reopening it faster still.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossbeam_channel::{Receiver, unbounded};
use stemdeck_audio::peaks::{PeakCache, Peaks};
use stemdeck_session::Session;

/// Frames per overview bucket at the session rate.
pub const BUCKET: u32 = 256;

pub struct Waveforms {
    peaks: HashMap<PathBuf, Arc<Peaks>>,
    rx: Option<Receiver<(PathBuf, Option<Peaks>)>>,
    progress: Arc<AtomicU64>,
    total: u64,
    cancel: Arc<AtomicBool>,
    pending: usize,
}

impl Default for Waveforms {
    fn default() -> Self {
        Self {
            peaks: HashMap::new(),
            rx: None,
            progress: Arc::new(AtomicU64::new(0)),
            total: 0,
            cancel: Arc::new(AtomicBool::new(false)),
            pending: 0,
        }
    }
}

impl Waveforms {
    /// Start computing the overviews of every track of `session` not known yet.
    pub fn load(&mut self, session: &Session, lengths: &[u64]) {
        self.cancel.store(true, Ordering::Relaxed);
        self.cancel = Arc::new(AtomicBool::new(false));
        let rate = session.sample_rate;
        self.peaks.retain(|_, p| p.session_rate == rate);
        let todo: Vec<(PathBuf, u64)> = session
            .tracks
            .iter()
            .zip(lengths.iter().copied().chain(std::iter::repeat(0)))
            .filter(|(t, _)| !self.peaks.contains_key(&t.path))
            .map(|(t, len)| (t.path.clone(), len))
            .collect();
        self.total = todo.iter().map(|(_, l)| *l).sum::<u64>().max(1);
        self.progress = Arc::new(AtomicU64::new(0));
        self.pending = todo.len();
        if todo.is_empty() {
            self.rx = None;
            return;
        }
        let (tx, rx) = unbounded();
        self.rx = Some(rx);
        let cancel = Arc::clone(&self.cancel);
        let progress = Arc::clone(&self.progress);
        std::thread::Builder::new()
            .name("stemdeck-waveforms".into())
            .spawn(move || {
                let cache = PeakCache::default_dir().map(PeakCache::new);
                let mut done_before = 0;
                for (path, len) in todo {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let track_progress = AtomicU64::new(0);
                    let result = match &cache {
                        Some(c) => c.get_or_compute(&path, rate, BUCKET, &track_progress, &cancel),
                        None => Peaks::compute(&path, rate, BUCKET, &track_progress, &cancel),
                    };
                    done_before += len;
                    progress.store(done_before, Ordering::Relaxed);
                    if tx.send((path, result.ok())).is_err() {
                        return;
                    }
                }
            })
            .ok();
    }

    /// Take finished overviews; true when something new arrived.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.rx else { return false };
        let mut got = false;
        for (path, peaks) in rx.try_iter() {
            self.pending = self.pending.saturating_sub(1);
            if let Some(p) = peaks {
                self.peaks.insert(path, Arc::new(p));
            }
            got = true;
        }
        if self.pending == 0 {
            self.rx = None;
        }
        got
    }

    pub fn get(&self, path: &PathBuf) -> Option<&Arc<Peaks>> {
        self.peaks.get(path)
    }

    /// 0..1 while computing, `None` when idle.
    pub fn progress(&self) -> Option<f32> {
        self.rx.as_ref()?;
        Some((self.progress.load(Ordering::Relaxed) as f32 / self.total as f32).clamp(0.0, 1.0))
    }
}

impl Drop for Waveforms {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}
