//! The real-time part: what runs inside the audio callback.
//!
//! Discipline (tested under assert_no_alloc): no allocation or freeing, no locks, no
//! I/O, no panicking paths. Commands arrive over an SPSC ring; a replaced routing goes
//! back over another ring to be freed on a normal thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use ringbuf::traits::{Consumer as _, Producer as _};
use ringbuf::{HeapCons, HeapProd};
use stemdeck_audio::kernel::{StereoBuf, channel_gains, mix_block};

use crate::feed::FeedConsumer;
use crate::feedback::{Feedback, MAX_METERED_STEMS};
use crate::routing::Routing;

/// Frames mixed at a time inside a callback.
pub const CHUNK: usize = 512;
/// Gain, mute, solo and pan changes ramp over this long.
pub const RAMP_MS: u32 = 5;
/// Pause, resume and seek fade over this long.
pub const FADE_MS: u32 = 5;

/// Messages to the audio thread.
pub enum Command {
    Play,
    Pause,
    /// Jump to a frame (session rate).
    Seek(u64),
    /// A new routing, built off the audio thread.
    Routing(Box<Routing>),
}

/// Loop region shared by the control side, the audio thread and the reader.
#[derive(Debug, Default)]
pub struct LoopRegion {
    pub(crate) start: AtomicU64,
    pub(crate) end: AtomicU64,
    pub(crate) enabled: AtomicBool,
}

impl LoopRegion {
    /// `(start, end)` when looping over a non-empty region.
    pub fn get(&self) -> Option<(u64, u64)> {
        let (s, e) = (
            self.start.load(Ordering::Acquire),
            self.end.load(Ordering::Acquire),
        );
        (self.enabled.load(Ordering::Acquire) && e > s).then_some((s, e))
    }

    pub fn set(&self, start: u64, end: u64, enabled: bool) {
        self.start.store(start, Ordering::Release);
        self.end.store(end, Ordering::Release);
        self.enabled.store(enabled, Ordering::Release);
    }
}

pub struct Processor {
    feed: FeedConsumer,
    commands: HeapCons<Command>,
    garbage: HeapProd<Box<Routing>>,
    seeks: HeapProd<u64>,
    routing: Box<Routing>,
    feedback: Arc<Feedback>,
    looping: Arc<LoopRegion>,
    rate: u32,
    len: u64,
    /// Per track, per channel, CHUNK frames.
    inputs: Vec<Vec<Vec<f32>>>,
    master: StereoBuf,
    pos: u64,
    playing: bool,
    /// What the last play/pause asked for. `playing` stays true through a fade-out (a
    /// pause's, or a seek's) and a seek waiting for its fade-out; this says whether to
    /// fade back in after it.
    wants_play: bool,
    /// Frames left of the block being played.
    block_left: usize,
    /// The position the reader was last asked to go to.
    asked: Option<u64>,
    pending_seek: Option<u64>,
    ramp_pos: usize,
    ramp_len: usize,
    fade: f32,
    fade_target: f32,
    fade_step: f32,
}

pub(crate) struct ProcessorParts {
    pub feed: FeedConsumer,
    pub commands: HeapCons<Command>,
    pub garbage: HeapProd<Box<Routing>>,
    pub seeks: HeapProd<u64>,
    pub routing: Box<Routing>,
    pub feedback: Arc<Feedback>,
    pub looping: Arc<LoopRegion>,
    pub channels: Vec<usize>,
    pub rate: u32,
    pub len: u64,
}

impl Processor {
    pub(crate) fn new(p: ProcessorParts) -> Self {
        let rate = p.rate.max(1);
        Self {
            inputs: p
                .channels
                .iter()
                .map(|c| vec![vec![0.0; CHUNK]; (*c).max(1)])
                .collect(),
            feed: p.feed,
            commands: p.commands,
            garbage: p.garbage,
            seeks: p.seeks,
            routing: p.routing,
            feedback: p.feedback,
            looping: p.looping,
            rate,
            len: p.len,
            master: StereoBuf::new(CHUNK),
            pos: 0,
            playing: false,
            wants_play: false,
            block_left: 0,
            asked: Some(0),
            pending_seek: None,
            ramp_pos: 0,
            ramp_len: (rate * RAMP_MS / 1000).max(1) as usize,
            fade: 0.0,
            fade_target: 0.0,
            fade_step: 1.0 / (rate * FADE_MS / 1000).max(1) as f32,
        }
    }

    pub fn position(&self) -> u64 {
        self.pos
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    /// Song length in frames.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Frames decoded ahead and waiting in the feed (whatever their position).
    pub fn queued(&self) -> usize {
        self.feed.queued()
    }

    /// Fill an interleaved output buffer of `channels` channels. This is the whole of the
    /// audio callback's work.
    pub fn process(&mut self, out: &mut [f32], channels: usize) {
        let started = Instant::now();
        let channels = channels.max(1);
        self.drain_commands();
        let frames = out.len() / channels;
        let mut starved = false;
        let mut done = 0;
        while done < frames {
            let mut k = (frames - done).min(CHUNK);
            if self.ramp_pos < self.ramp_len {
                // End the chunk where the ramp ends, so every ramp lasts exactly RAMP_MS.
                k = k.min(self.ramp_len - self.ramp_pos);
            }
            self.apply_pending_seek();
            let got = if self.playing { self.pull(k) } else { 0 };
            if self.playing && got < k {
                starved |= self.playing;
                // Resume from silence with a fade, never a click.
                self.fade = 0.0;
            }
            for ch in self.inputs.iter_mut().flatten() {
                if let Some(rest) = ch.get_mut(got..k) {
                    rest.fill(0.0);
                }
            }
            self.mix(k);
            let span = out
                .get_mut(done * channels..(done + k) * channels)
                .unwrap_or_default();
            self.write_out(span, channels, k);
            done += k;
        }
        let fb = &self.feedback;
        fb.position.store(self.pos, Ordering::Relaxed);
        fb.playing.store(self.playing, Ordering::Relaxed);
        if starved {
            fb.starved.fetch_add(1, Ordering::Relaxed);
        }
        fb.callbacks.fetch_add(1, Ordering::Relaxed);
        let budget = frames as f32 / self.rate as f32;
        if budget > 0.0 {
            let load = started.elapsed().as_secs_f32() / budget;
            fb.load.store(load.to_bits(), Ordering::Relaxed);
        }
    }

    fn drain_commands(&mut self) {
        while let Some(cmd) = self.commands.try_pop() {
            match cmd {
                Command::Play => {
                    if self.pos >= self.len && self.looping.get().is_none() {
                        self.pending_seek = Some(0);
                    }
                    self.playing = true;
                    self.wants_play = true;
                    // A seek waiting for its fade-out keeps fading out; it fades back in
                    // once it is done (see apply_pending_seek).
                    if self.pending_seek.is_none() {
                        self.fade_target = 1.0;
                    }
                }
                Command::Pause => {
                    self.wants_play = false;
                    self.fade_target = 0.0;
                }
                Command::Seek(to) => {
                    self.pending_seek = Some(to.min(self.len));
                    if self.playing {
                        self.fade_target = 0.0;
                    }
                }
                Command::Routing(mut new) => {
                    // Ramp from what is heard right now.
                    let t = self.ramp_fraction(0);
                    Routing::lerp_into(
                        &self.routing.from,
                        &self.routing.target,
                        t,
                        &mut self.routing.a,
                    );
                    new.start_from(&self.routing.a);
                    self.ramp_pos = 0;
                    let old = std::mem::replace(&mut self.routing, new);
                    // The control side keeps room in this ring (see Engine::send).
                    if let Err(old) = self.garbage.try_push(old) {
                        std::mem::forget(old);
                    }
                }
            }
        }
    }

    /// Carry out a seek once the fade-out has reached silence (at once when paused).
    fn apply_pending_seek(&mut self) {
        let Some(to) = self.pending_seek else { return };
        if self.playing && self.fade > 0.0 {
            return;
        }
        self.pending_seek = None;
        self.pos = to;
        self.feed.skip(self.block_left);
        self.block_left = 0;
        self.ask_reader(to);
        if self.playing && self.wants_play {
            self.fade_target = 1.0;
        }
    }

    fn ask_reader(&mut self, to: u64) {
        if self.asked != Some(to) && self.seeks.try_push(to).is_ok() {
            self.asked = Some(to);
        }
    }

    /// Move up to `k` frames of the right audio into `inputs`; returns how many.
    fn pull(&mut self, k: usize) -> usize {
        let region = self.looping.get();
        let mut got = 0;
        while got < k {
            if self.pos >= self.len && region.is_none_or(|(_, e)| self.pos >= e) {
                // The end of the song: stop there.
                self.playing = false;
                self.wants_play = false;
                self.fade = 0.0;
                self.fade_target = 0.0;
                break;
            }
            if self.block_left == 0 {
                let Some(block) = self.feed.next_block() else {
                    break;
                };
                if block.start == self.pos {
                    self.block_left = block.frames as usize;
                    self.asked = None;
                } else {
                    // Audio for another position (before a seek or loop change).
                    self.feed.skip(block.frames as usize);
                    self.ask_reader(self.pos);
                }
                continue;
            }
            let mut n = self.block_left.min(k - got);
            if let Some((_, end)) = region
                && self.pos < end
            {
                n = n.min((end - self.pos) as usize);
            }
            self.feed.pop_into(&mut self.inputs, got, n);
            self.pos += n as u64;
            self.block_left -= n;
            got += n;
            if let Some((start, end)) = region
                && self.pos == end
            {
                self.pos = start;
                self.feed.skip(self.block_left);
                self.block_left = 0;
            }
        }
        got
    }

    fn ramp_fraction(&self, ahead: usize) -> f32 {
        ((self.ramp_pos + ahead) as f32 / self.ramp_len as f32).min(1.0)
    }

    fn mix(&mut self, k: usize) {
        let (t0, t1) = (self.ramp_fraction(0), self.ramp_fraction(k));
        let r = &mut *self.routing;
        Routing::lerp_into(&r.from, &r.target, t0, &mut r.a);
        Routing::lerp_into(&r.from, &r.target, t1, &mut r.b);
        mix_block(&r.a, &r.b, &self.inputs, &mut r.stems, &mut self.master, k);
        self.ramp_pos = (self.ramp_pos + k).min(self.ramp_len);
        for (i, s) in r.stems.iter().enumerate().take(MAX_METERED_STEMS) {
            if let Some(m) = self.feedback.meters.get(i) {
                let (p, rms) = peak_rms(&s.left, &s.right, k);
                m.store(p, rms);
            }
        }
        // Per-track meters: each input's peak times the gain it is heard at (the end of
        // this chunk's ramp). Tracks in no stem are not heard and not metered.
        for t in r.b.stems.iter().flat_map(|s| s.tracks.iter()) {
            let (Some(m), Some(input)) =
                (self.feedback.tracks.get(t.track), self.inputs.get(t.track))
            else {
                continue;
            };
            let (gl, gr) = channel_gains(input.len(), t.gain, t.pan);
            let peak = match input.as_slice() {
                [mono] => block_peak(mono, k) * gl.max(gr),
                [l, r, ..] => (block_peak(l, k) * gl).max(block_peak(r, k) * gr),
                [] => 0.0,
            };
            m.store_peak(peak);
        }
    }

    /// Apply the transport fade and write interleaved samples.
    fn write_out(&mut self, out: &mut [f32], channels: usize, k: usize) {
        let (l, r) = (
            self.master.left.get(..k).unwrap_or_default(),
            self.master.right.get(..k).unwrap_or_default(),
        );
        let mut peak = 0f32;
        let mut sum = 0f32;
        for ((frame, l), r) in out.chunks_exact_mut(channels).zip(l).zip(r) {
            if self.fade != self.fade_target {
                self.fade = if self.fade < self.fade_target {
                    (self.fade + self.fade_step).min(self.fade_target)
                } else {
                    (self.fade - self.fade_step).max(self.fade_target)
                };
            }
            let (l, r) = (l * self.fade, r * self.fade);
            peak = peak.max(l.abs()).max(r.abs());
            sum += l * l + r * r;
            match frame {
                [mono] => *mono = 0.5 * (l + r),
                [a, b, rest @ ..] => {
                    *a = l;
                    *b = r;
                    rest.fill(0.0);
                }
                [] => {}
            }
        }
        if self.fade == 0.0 && self.fade_target == 0.0 && self.pending_seek.is_none() {
            self.playing = false;
        }
        let rms = (sum / (2 * k.max(1)) as f32).sqrt();
        self.feedback.master_meter().store(peak, rms);
    }
}

fn block_peak(x: &[f32], k: usize) -> f32 {
    x.iter().take(k).fold(0f32, |p, v| p.max(v.abs()))
}

fn peak_rms(l: &[f32], r: &[f32], k: usize) -> (f32, f32) {
    let mut peak = 0f32;
    let mut sum = 0f32;
    for (a, b) in l.iter().take(k).zip(r.iter().take(k)) {
        peak = peak.max(a.abs()).max(b.abs());
        sum += a * a + b * b;
    }
    (peak, (sum / (2 * k.max(1)) as f32).sqrt())
}
