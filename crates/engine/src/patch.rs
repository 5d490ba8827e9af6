//! Clip edits heard at once: a clip moved while playing is heard from the next few
//! milliseconds, not when the audio decoded ahead of it runs out.
//!
//! The reader keeps [`crate::AHEAD_SECONDS`] decoded in the feed. When a track's clips
//! change, the reader decodes the new arrangement again for every feed block the audio
//! thread has not finished (a *patch*: one segment per block and track, tagged with the
//! block's sequence number), and the audio thread plays each segment in place of that
//! track's part of the block, crossfading from what it was playing over [`FADE_MS`] so
//! the move never clicks. A drag sends a batch every few tens of milliseconds: a newer
//! batch voids the older one's segments from its first block on (it patches every track
//! the older one still had segments for).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ringbuf::traits::{Consumer as _, Observer as _, Producer as _, Split as _};
use ringbuf::{HeapCons, HeapProd, HeapRb};

use crate::FADE_MS;
use crate::feed::FEED_BLOCK;

/// One segment: `frames` frames of `channels` interleaved samples for `track`, to play
/// in place of that track's part of feed block `seq`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    pub seq: u64,
    pub run: u64,
    pub track: usize,
    pub frames: usize,
    pub channels: usize,
}

/// What the reader and the audio thread tell each other about patches.
#[derive(Debug, Default)]
pub(crate) struct PatchShared {
    /// The sequence number of the feed block the audio thread is playing.
    pub playing: AtomicU64,
    /// The latest batch …
    pub run: AtomicU64,
    /// … and the first block it patches: older batches' segments from there on are void.
    pub first: AtomicU64,
    /// Clip edits the reader has carried out (patched or not).
    pub done: AtomicU64,
}

/// Patch rings holding `frames` frames of `channels` channels in all.
pub(crate) fn patches(frames: usize, channels: usize) -> (PatchSender, PatchPlayer) {
    let shared = Arc::new(PatchShared::default());
    let (hp, hc) = HeapRb::<Segment>::new(frames / FEED_BLOCK * channels + 16).split();
    let (sp, sc) = HeapRb::<f32>::new(frames * channels).split();
    (
        PatchSender {
            segments: hp,
            samples: sp,
            shared: Arc::clone(&shared),
        },
        PatchPlayer {
            segments: hc,
            samples: sc,
            shared,
            tracks: Vec::new(),
            active: Vec::new(),
            scratch: Vec::new(),
            seq: u64::MAX,
            fade_len: 1,
        },
    )
}

/// The reader's side.
pub(crate) struct PatchSender {
    segments: HeapProd<Segment>,
    samples: HeapProd<f32>,
    pub shared: Arc<PatchShared>,
}

impl PatchSender {
    /// Whether `segments` segments of `samples` samples in all fit now.
    pub fn has_room(&self, segments: usize, samples: usize) -> bool {
        self.segments.vacant_len() >= segments && self.samples.vacant_len() >= samples
    }

    /// Announce batch `run`, which patches blocks from `first` on, once all of its
    /// segments are pushed.
    pub fn begin(&self, run: u64, first: u64) {
        self.shared.first.store(first, Ordering::Relaxed);
        self.shared.run.store(run, Ordering::Release);
    }

    /// Send one segment: `data[channel][..frames]`. Call only after [`Self::has_room`].
    pub fn push(&mut self, seg: Segment, data: &[Vec<f32>]) {
        let frames = seg.frames;
        let samples = (0..frames).flat_map(|i| {
            data.iter()
                .take(seg.channels)
                .map(move |c| c.get(i).copied().unwrap_or(0.0))
        });
        self.samples.push_iter(samples);
        self.segments.try_push(seg).ok();
    }
}

/// Per track, on the audio thread.
struct TrackPatch {
    /// The segment for the block being played, per channel …
    now: Vec<Vec<f32>>,
    /// … and the one it replaced in that block (the crossfade starts from it).
    was: Vec<Vec<f32>>,
    /// The block `now` is for (`u64::MAX`: none).
    seq: u64,
    run: u64,
    /// Fade from `was` (else from the feed's audio).
    from_was: bool,
    /// The start (a fade's length) of the older batch's segment for the next block,
    /// kept when it was voided: a fade from `was` that runs past this block goes on
    /// from it (the feed's audio there is older still: the fade would jump).
    next_was: Vec<Vec<f32>>,
    next_was_seq: u64,
    /// Crossfade frames done (`fade_len`: done).
    faded: usize,
}

/// The audio thread's side. Nothing here allocates after [`Self::prepare`].
pub(crate) struct PatchPlayer {
    segments: HeapCons<Segment>,
    samples: HeapCons<f32>,
    shared: Arc<PatchShared>,
    tracks: Vec<TrackPatch>,
    /// Tracks with a segment for the block being played.
    active: Vec<usize>,
    /// One segment's interleaved samples.
    scratch: Vec<f32>,
    /// The block being played.
    seq: u64,
    fade_len: usize,
}

impl PatchPlayer {
    /// Room for tracks of `channels` channels at `rate` (off the audio thread).
    pub fn prepare(&mut self, channels: &[usize], rate: u32) {
        let max = channels.iter().copied().max().unwrap_or(1).max(1);
        let fade_len = ((rate * FADE_MS / 1000) as usize).clamp(1, FEED_BLOCK);
        self.tracks = channels
            .iter()
            .map(|c| TrackPatch {
                now: vec![vec![0.0; FEED_BLOCK]; (*c).max(1)],
                was: vec![vec![0.0; FEED_BLOCK]; (*c).max(1)],
                seq: u64::MAX,
                run: 0,
                from_was: false,
                next_was: vec![vec![0.0; fade_len]; (*c).max(1)],
                next_was_seq: u64::MAX,
                faded: fade_len,
            })
            .collect();
        self.active = Vec::with_capacity(channels.len());
        self.scratch = vec![0.0; FEED_BLOCK * max];
        self.fade_len = fade_len;
    }

    /// The audio thread starts playing feed block `seq`.
    pub fn start_block(&mut self, seq: u64) {
        self.seq = seq;
        self.active.clear();
        self.shared.playing.store(seq, Ordering::Relaxed);
        self.take();
    }

    /// Take the segments that have arrived for the block being played; drop those for
    /// blocks already played and those a newer batch voided.
    fn take(&mut self) {
        while let Some(&seg) = self.segments.try_peek() {
            let latest = self.shared.run.load(Ordering::Acquire);
            let first = self.shared.first.load(Ordering::Relaxed);
            let stale = seg.seq < self.seq;
            let superseded = seg.run < latest && seg.seq >= first;
            if seg.seq > self.seq && !stale && !superseded {
                break;
            }
            self.segments.try_pop();
            let n = seg.frames * seg.channels;
            let fits = self
                .tracks
                .get(seg.track)
                .is_some_and(|t| t.now.len() == seg.channels && seg.frames <= FEED_BLOCK);
            if !fits || stale {
                self.samples.skip(n);
                continue;
            }
            if superseded {
                // Keep the start of the next block's: a fade from this batch may need it.
                let keep = if seg.seq == self.seq.wrapping_add(1) {
                    self.fade_len.min(seg.frames)
                } else {
                    0
                };
                if let (Some(t), Some(buf)) = (
                    self.tracks.get_mut(seg.track),
                    self.scratch.get_mut(..keep * seg.channels),
                ) && keep > 0
                {
                    let got = self.samples.pop_slice(buf);
                    buf.get_mut(got..).unwrap_or_default().fill(0.0);
                    deinterleave(buf, &mut t.next_was, keep);
                    t.next_was_seq = seg.seq;
                    self.samples.skip(n - keep * seg.channels);
                } else {
                    self.samples.skip(n);
                }
                continue;
            }
            let Some(buf) = self.scratch.get_mut(..n) else {
                self.samples.skip(n);
                continue;
            };
            let got = self.samples.pop_slice(buf);
            buf.get_mut(got..).unwrap_or_default().fill(0.0);
            let Some(t) = self.tracks.get_mut(seg.track) else {
                continue;
            };
            let fading = t.faded < self.fade_len;
            if t.seq == self.seq {
                // A second segment for this block (a newer batch): fade from the first.
                std::mem::swap(&mut t.now, &mut t.was);
                t.from_was = true;
                t.faded = 0;
            } else if t.run == seg.run && fading && t.from_was && t.next_was_seq == self.seq {
                // A fade from the older batch runs on into this block: from the start of
                // that batch's segment for it.
                for (w, kept) in t.was.iter_mut().zip(&t.next_was) {
                    if let Some(w) = w.get_mut(..kept.len()) {
                        w.copy_from_slice(kept);
                    }
                }
            } else {
                // The batch that was already playing carries on as it was (a fade from
                // the feed's audio goes on from the feed's audio, which runs on); a new
                // batch fades in from the feed.
                t.from_was = false;
                if t.run != seg.run {
                    t.faded = 0;
                }
            }
            deinterleave(buf, &mut t.now, seg.frames);
            t.seq = self.seq;
            t.run = seg.run;
            if !self.active.contains(&seg.track) && self.active.len() < self.active.capacity() {
                self.active.push(seg.track);
            }
        }
    }

    /// Put the patches into `inputs[track][channel][at..at + n]`, which hold the feed's
    /// frames `offset..offset + n` of the block being played.
    pub fn apply(&mut self, inputs: &mut [Vec<Vec<f32>>], at: usize, offset: usize, n: usize) {
        self.take();
        for &k in &self.active {
            let (Some(t), Some(dst)) = (self.tracks.get_mut(k), inputs.get_mut(k)) else {
                continue;
            };
            for (c, ch) in dst.iter_mut().enumerate() {
                let (Some(d), Some(new)) = (
                    ch.get_mut(at..at + n),
                    t.now.get(c).and_then(|x| x.get(offset..offset + n)),
                ) else {
                    continue;
                };
                if t.faded >= self.fade_len {
                    d.copy_from_slice(new);
                    continue;
                }
                let was = t.was.get(c).and_then(|x| x.get(offset..offset + n));
                for (i, (d, new)) in d.iter_mut().zip(new).enumerate() {
                    let g = ((t.faded + i) as f32 / self.fade_len as f32).min(1.0);
                    let old = match (t.from_was, was) {
                        (true, Some(w)) => w.get(i).copied().unwrap_or(0.0),
                        _ => *d,
                    };
                    *d = old + (new - old) * g;
                }
            }
            t.faded = (t.faded + n).min(self.fade_len);
        }
    }
}

/// `buf` (frames of `out.len()` interleaved channels) into `out[channel][..frames]`.
fn deinterleave(buf: &[f32], out: &mut [Vec<f32>], frames: usize) {
    let channels = out.len();
    for (c, ch) in out.iter_mut().enumerate() {
        for (i, s) in ch.iter_mut().take(frames).enumerate() {
            *s = buf.get(i * channels + c).copied().unwrap_or(0.0);
        }
    }
}
