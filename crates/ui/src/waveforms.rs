//! Waveform overviews, computed off the UI thread (a worker per core, the tracks at the
//! top of the lanes first) and cached on disk, so opening a session is instant and
//! reopening it faster still.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use stemdeck_audio::peaks::{PeakCache, Peaks};
use stemdeck_session::Session;

/// Frames per overview bucket at the session rate.
pub const BUCKET: u32 = 256;

/// Min/max columns of one piece of one file for one width: the costly part of drawing a
/// waveform (a scan of every bucket), kept while the view holds still.
type ColumnsKey = (PathBuf, u64, u64, usize);
type Columns = (Arc<Peaks>, Vec<[f32; 2]>);

/// Column sets kept at most (a zoom or scroll makes new ones every frame).
const COLUMNS_KEPT: usize = 2048;

/// How soon a new overview shows while others are still being computed: fewer frames
/// leave the cores to the workers (with software GL a frame of this window costs 60-70 ms
/// of CPU). The last one shows at once.
pub const ARRIVAL_REPAINT: Duration = Duration::from_millis(250);

pub struct Waveforms {
    peaks: HashMap<PathBuf, Arc<Peaks>>,
    columns: RefCell<HashMap<ColumnsKey, Columns>>,
    rx: Option<Receiver<(PathBuf, Option<Peaks>)>>,
    progress: Arc<AtomicU64>,
    total: u64,
    cancel: Arc<AtomicBool>,
    pending: usize,
    timing: Timing,
    /// The window to wake when an overview arrives; set by [`Self::wake`] once the UI
    /// runs (the first session opens before there is a window).
    waker: Arc<OnceLock<egui::Context>>,
}

/// How long the last [`Waveforms::load`] took to show every overview (View ▸
/// Diagnostics; bench/first-sound.sh reads it from the app's log).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    started: Option<Instant>,
    /// Overviews the load had to compute or read from the disk cache.
    pub tracks: usize,
    /// From the load to the first frame drawn with every overview.
    pub drawn_after: Option<Duration>,
}

impl Default for Waveforms {
    fn default() -> Self {
        Self {
            peaks: HashMap::new(),
            columns: RefCell::new(HashMap::new()),
            rx: None,
            progress: Arc::new(AtomicU64::new(0)),
            total: 0,
            cancel: Arc::new(AtomicBool::new(false)),
            pending: 0,
            waker: Arc::new(OnceLock::new()),
            timing: Timing::default(),
        }
    }
}

impl Waveforms {
    /// Start computing the overviews of every track of `session` not known yet: in the
    /// order the lanes show them (stem by stem, then the unassigned tracks), so the rows
    /// at the top of the window come first, on as many worker threads as there are cores
    /// (each track decoded once at its own rate: see [`Peaks::compute`]).
    pub fn load(&mut self, session: &Session, lengths: &[u64]) {
        self.cancel.store(true, Ordering::Relaxed);
        self.cancel = Arc::new(AtomicBool::new(false));
        let rate = session.sample_rate;
        self.peaks.retain(|_, p| p.session_rate == rate);
        let lane_order = session
            .stems
            .iter()
            .flat_map(|s| s.tracks.iter().copied())
            .chain(session.unassigned_tracks().map(|t| t.id));
        let mut todo: Vec<(PathBuf, u64)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in lane_order.chain(session.tracks.iter().map(|t| t.id)) {
            let Some(i) = session.tracks.iter().position(|t| t.id == id) else {
                continue;
            };
            let path = &session.tracks[i].path;
            if self.peaks.contains_key(path) || !seen.insert(path.clone()) {
                continue;
            }
            todo.push((path.clone(), lengths.get(i).copied().unwrap_or(0)));
        }
        self.total = todo.iter().map(|(_, l)| *l).sum::<u64>().max(1);
        self.progress = Arc::new(AtomicU64::new(0));
        self.pending = todo.len();
        self.timing = Timing {
            started: Some(Instant::now()),
            tracks: todo.len(),
            ..Timing::default()
        };
        if todo.is_empty() {
            self.rx = None;
            return;
        }
        let (tx, rx) = unbounded();
        self.rx = Some(rx);
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(todo.len());
        let todo = Arc::new(todo);
        let next = Arc::new(AtomicUsize::new(0));
        let left = Arc::new(AtomicUsize::new(todo.len()));
        let cache = PeakCache::default_dir().map(PeakCache::new);
        for k in 0..workers {
            let (todo, next, left, tx, cache) = (
                Arc::clone(&todo),
                Arc::clone(&next),
                Arc::clone(&left),
                tx.clone(),
                cache.clone(),
            );
            let waker = Arc::clone(&self.waker);
            let cancel = Arc::clone(&self.cancel);
            let progress = Arc::clone(&self.progress);
            std::thread::Builder::new()
                .name(format!("stemdeck-waveforms-{k}"))
                .spawn(move || {
                    // Tracks in turn, in the order given, shared between the workers.
                    while let Some((path, len)) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if cancel.load(Ordering::Relaxed) {
                            return;
                        }
                        let track_progress = AtomicU64::new(0);
                        let result = match &cache {
                            Some(c) => {
                                c.get_or_compute(path, rate, BUCKET, &track_progress, &cancel)
                            }
                            None => Peaks::compute(path, rate, BUCKET, &track_progress, &cancel),
                        };
                        progress.fetch_add(*len, Ordering::Relaxed);
                        if tx.send((path.clone(), result.ok())).is_err() {
                            return;
                        }
                        // Without this the window would only see it at its next
                        // progress tick, up to half a second later.
                        let last = left.fetch_sub(1, Ordering::AcqRel) == 1;
                        if let Some(ctx) = waker.get() {
                            repaint_for_arrival(ctx, last);
                        }
                    }
                })
                .ok();
        }
    }

    /// From now on the workers wake `ctx` when an overview arrives (the first call
    /// counts; later ones are no-ops).
    pub fn wake(&self, ctx: &egui::Context) {
        if self.waker.get().is_none() {
            self.waker.set(ctx.clone()).ok();
        }
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

    /// A frame is being drawn: the first one with every overview there completes
    /// [`Self::timing`]. Returns true that once.
    pub fn frame_drawn(&mut self) -> bool {
        let t = &mut self.timing;
        match t.started {
            Some(start) if self.rx.is_none() && t.drawn_after.is_none() => {
                t.drawn_after = Some(start.elapsed());
                true
            }
            _ => false,
        }
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Of [`Timing::tracks`], the overviews that have arrived.
    pub fn arrived(&self) -> usize {
        self.timing.tracks.saturating_sub(self.pending)
    }

    /// The overview of frames `from..to` (session rate) of `path`'s file drawn into
    /// `rect`, one column per point of width (a clip's visible piece of its file); `None`
    /// until its overview is computed. The columns are cached, so a frame only builds the
    /// mesh (and only for visible rows).
    pub fn mesh_span(
        &self,
        path: &PathBuf,
        from: u64,
        to: u64,
        rect: egui::Rect,
        color: egui::Color32,
    ) -> Option<egui::Mesh> {
        let peaks = self.peaks.get(path)?;
        let n = rect.width().max(1.0) as usize;
        let mut cache = self.columns.borrow_mut();
        let key = (path.clone(), from, to, n);
        let fresh = cache.get(&key).is_some_and(|(p, _)| Arc::ptr_eq(p, peaks));
        if !fresh {
            if cache.len() >= COLUMNS_KEPT {
                cache.clear();
            }
            let mut cols = Vec::new();
            peaks.columns(from, to, n, true, &mut cols);
            cache.insert(key.clone(), (Arc::clone(peaks), cols));
        }
        let (_, cols) = cache.get(&key)?;
        Some(columns_mesh(cols, rect, color))
    }

    /// The length of `path`'s file at the session rate, once its overview is known.
    pub fn frames(&self, path: &PathBuf) -> Option<u64> {
        self.peaks.get(path).map(|p| p.frames)
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

/// The repaint an arrived overview asks for: within [`ARRIVAL_REPAINT`], or at once
/// when it was the last one.
pub fn repaint_for_arrival(ctx: &egui::Context, last: bool) {
    if last {
        ctx.request_repaint();
    } else {
        ctx.request_repaint_after(ARRIVAL_REPAINT);
    }
}

/// One pixel column per `[min, max]`, from `rect`'s left edge.
fn columns_mesh(cols: &[[f32; 2]], rect: egui::Rect, color: egui::Color32) -> egui::Mesh {
    let mid = rect.center().y;
    let half = rect.height() / 2.0;
    let mut mesh = egui::Mesh::default();
    mesh.reserve_vertices(cols.len() * 4);
    mesh.reserve_triangles(cols.len() * 2);
    for (i, [lo, hi]) in cols.iter().enumerate() {
        let x = rect.left() + i as f32;
        let y0 = mid - hi.clamp(-1.0, 1.0) * half;
        let y1 = (mid - lo.clamp(-1.0, 1.0) * half).max(y0 + 1.0);
        mesh.add_colored_rect(
            egui::Rect::from_min_max(egui::pos2(x, y0), egui::pos2(x + 1.0, y1)),
            color,
        );
    }
    mesh
}
