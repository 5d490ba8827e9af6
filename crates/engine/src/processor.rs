//! The real-time part: what runs inside the audio callback.
//!
//! Discipline (tested under assert_no_alloc): no allocation or freeing, no locks, no
//! I/O, no panicking paths. Commands arrive over an SPSC ring; a replaced routing (with
//! the effects it replaced) and spent effect parameters go back over another ring to be
//! freed on a normal thread.
//!
//! Effects: the kernel runs the track and stem chains, the master bus runs after it, as
//! in the wet export. Their latency (a limiter's look-ahead) is compensated: after a
//! seek the chains are reset and first run over that many frames of input without
//! playing them (the pre-roll), so what is heard from a position is what the export has
//! at that position, and the playhead reports the frame being heard.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use ringbuf::traits::{Consumer as _, Producer as _};
use ringbuf::{HeapCons, HeapProd};
use stemdeck_audio::kernel::{StereoBuf, channel_gains, mix_block_with};

use crate::CHUNK;
use crate::feed::FeedConsumer;
use crate::feedback::{Feedback, MAX_METERED_STEMS};
use crate::fx::{EffectParams, Fx};
use crate::patch::PatchPlayer;
use crate::routing::Routing;

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
    /// A new routing, built off the audio thread (with new effects processing when the
    /// effects changed shape).
    Routing(Box<Routing>),
    /// New parameters for the running effects (same shapes), built off the audio thread.
    Effects(Box<EffectParams>),
    /// The song's new length in frames (a clip moved).
    Length(u64),
}

/// What the audio thread hands back to be freed on the control thread (held only to be
/// dropped there).
#[allow(dead_code)]
pub(crate) enum Garbage {
    Routing(Box<Routing>),
    Effects(Box<EffectParams>),
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
    garbage: HeapProd<Garbage>,
    seeks: HeapProd<u64>,
    routing: Box<Routing>,
    /// The running effects (None only if even an empty bus could not be built).
    fx: Option<Box<Fx>>,
    /// A routing whose effects have another latency, waiting for the fade-out: it is
    /// swapped in like a seek to the frame then heard (reset, pre-roll, fade-in).
    parked: Option<Box<Routing>>,
    feedback: Arc<Feedback>,
    looping: Arc<LoopRegion>,
    rate: u32,
    len: u64,
    /// Per track, per channel, CHUNK frames.
    inputs: Vec<Vec<Vec<f32>>>,
    master: StereoBuf,
    /// The next frame to take from the feed (input). The frame being heard is
    /// `behind` frames earlier (see `heard_position`).
    pos: u64,
    /// Input frames inside the effects' delay lines, not yet heard: the latency once
    /// the pre-roll is done, less while it runs or while the end of the song flushes.
    behind: usize,
    /// Frames of pre-roll still to run before anything is heard (after a reset).
    preroll: usize,
    /// The chunk being mixed holds the song's last frames: stop after it.
    ends: bool,
    playing: bool,
    /// What the last play/pause asked for. `playing` stays true through a fade-out (a
    /// pause's, or a seek's) and a seek waiting for its fade-out; this says whether to
    /// fade back in after it.
    wants_play: bool,
    /// Frames left of the block being played, and its length.
    block_left: usize,
    block_frames: usize,
    /// Clip edits made while playing, played in place of what the feed holds.
    patches: PatchPlayer,
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
    pub garbage: HeapProd<Garbage>,
    pub seeks: HeapProd<u64>,
    pub routing: Box<Routing>,
    pub fx: Option<Box<Fx>>,
    pub feedback: Arc<Feedback>,
    pub looping: Arc<LoopRegion>,
    pub channels: Vec<usize>,
    pub patches: PatchPlayer,
    pub rate: u32,
    pub len: u64,
}

impl Processor {
    pub(crate) fn new(p: ProcessorParts) -> Self {
        let rate = p.rate.max(1);
        let mut patches = p.patches;
        patches.prepare(&p.channels, rate);
        Self {
            patches,
            block_frames: 0,
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
            preroll: p.fx.as_ref().map_or(0, |fx| fx.latency()),
            ends: false,
            fx: p.fx,
            parked: None,
            feedback: p.feedback,
            looping: p.looping,
            rate,
            len: p.len,
            master: StereoBuf::new(CHUNK),
            pos: 0,
            behind: 0,
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

    /// The frame being heard (the input position less what the effects still hold).
    pub fn position(&self) -> u64 {
        self.heard_position()
    }

    /// Frames the effects delay the output by (0 without a limiter anywhere).
    pub fn latency(&self) -> usize {
        self.fx.as_ref().map_or(0, |fx| fx.latency())
    }

    /// Decoded frames the next `frames` frames of output will take from the feed (for
    /// tests and benchmarks that drive the processor by hand and wait for the reader).
    pub fn frames_needed(&self, frames: usize) -> usize {
        let left = self.len.saturating_sub(self.pos) as usize;
        (frames + self.preroll).min(left)
    }

    fn heard_position(&self) -> u64 {
        let behind = self.behind as u64;
        if let Some((start, end)) = self.looping.get()
            && self.pos >= start
            && self.pos - start < behind
            && self.pos <= end
        {
            // The input has wrapped to the loop start; the ear has not yet.
            return end.saturating_sub(behind - (self.pos - start));
        }
        self.pos.saturating_sub(behind)
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
            if self.playing {
                self.run_preroll();
            }
            let got = if self.playing && self.preroll == 0 {
                self.take_input(k)
            } else {
                0
            };
            // Short at the song's end is not starving: the rest of the chunk is silence.
            if self.playing && got < k && !self.ends {
                starved |= self.playing;
                // Resume from silence with a fade, never a click.
                self.fade = 0.0;
            }
            self.silence_inputs(got, k);
            if self.playing && self.preroll == 0 {
                self.mix(k, true);
            } else {
                // Stopped, or waiting for the pre-roll's input: silence, and the effects
                // keep their state (running them over silence would put a gap in their
                // delay lines).
                self.master.left.fill(0.0);
                self.master.right.fill(0.0);
            }
            let span = out
                .get_mut(done * channels..(done + k) * channels)
                .unwrap_or_default();
            self.write_out(span, channels, k);
            self.stop_if_ended();
            done += k;
        }
        let fb = &self.feedback;
        fb.position.store(self.heard_position(), Ordering::Relaxed);
        fb.latency.store(self.latency() as u64, Ordering::Relaxed);
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
                    if self.pending_seek.is_none() && self.parked.is_none() {
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
                Command::Routing(new) => {
                    let relatch = new.fx.as_ref().is_some_and(|fx| {
                        Some(fx.latency()) != self.fx.as_ref().map(|f| f.latency())
                    });
                    if relatch || self.parked.is_some() {
                        self.park(new);
                    } else {
                        self.swap_routing(new);
                    }
                }
                Command::Effects(mut params) => {
                    // Parameters belong to the effects built last: the parked ones if
                    // any, else the running ones; older ones are dropped (a rebuild
                    // already carries the settings they had).
                    let target = match self.parked.as_mut().and_then(|r| r.fx.as_mut()) {
                        Some(fx) => Some(fx),
                        None => self.fx.as_mut(),
                    };
                    if let Some(fx) = target.filter(|fx| fx.generation == params.generation)
                        && !fx.apply(&mut params)
                    {
                        self.feedback.fx_refused.store(true, Ordering::Relaxed);
                    }
                    self.discard(Garbage::Effects(params));
                }
                Command::Length(len) => self.len = len,
            }
        }
    }

    /// Hand something back to the control thread to be freed.
    fn discard(&mut self, g: Garbage) {
        // The control side keeps room in this ring (see Engine::send); should it ever be
        // full, leaking beats freeing here.
        if let Err(g) = self.garbage.try_push(g) {
            std::mem::forget(g);
        }
    }

    /// Swap in a new routing (and its effects), ramping from what is heard right now.
    fn swap_routing(&mut self, mut new: Box<Routing>) {
        let t = self.ramp_fraction(0);
        Routing::lerp_into(
            &self.routing.from,
            &self.routing.target,
            t,
            &mut self.routing.a,
        );
        new.start_from(&self.routing.a);
        self.ramp_pos = 0;
        let mut replaced_fx = None;
        if let Some(mut fx) = new.fx.take() {
            if let Some(running) = self.fx.as_mut() {
                fx.adopt(running);
            }
            replaced_fx = self.fx.replace(fx);
        }
        let mut old = std::mem::replace(&mut self.routing, new);
        // `old.fx` is None (the running effects live in `self.fx`): nothing is freed.
        old.fx = replaced_fx;
        self.discard(Garbage::Routing(old));
    }

    /// Keep a routing whose effects change the latency until the output has faded out,
    /// then swap it in as a seek to the frame being heard.
    fn park(&mut self, mut new: Box<Routing>) {
        if let Some(mut older) = self.parked.take() {
            // The newer routing supersedes it; its effects, if it brings none, are the
            // older one's.
            if new.fx.is_none() {
                new.fx = older.fx.take();
            }
            self.discard(Garbage::Routing(older));
        }
        self.parked = Some(new);
        if self.playing {
            self.fade_target = 0.0;
        }
    }

    /// Carry out a seek once the fade-out has reached silence (at once when paused).
    fn apply_pending_seek(&mut self) {
        if self.pending_seek.is_none() && self.parked.is_none() {
            return;
        }
        if self.playing && self.fade > 0.0 {
            return;
        }
        // A parked routing without a seek: carry on from the frame heard now.
        let to = self
            .pending_seek
            .take()
            .unwrap_or_else(|| self.heard_position());
        if let Some(parked) = self.parked.take() {
            self.swap_routing(parked);
        }
        // A new position: the effects forget their tails (heard only as the fade-out
        // that came before) and pre-roll again.
        if let Some(fx) = self.fx.as_mut() {
            fx.reset();
        }
        self.behind = 0;
        self.preroll = self.latency();
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

    /// Whether the input has reached the end of the song (and no loop brings it back).
    fn at_end(&self) -> bool {
        self.pos >= self.len && self.looping.get().is_none_or(|(_, e)| self.pos >= e)
    }

    /// Zero `inputs[from..to]`.
    fn silence_inputs(&mut self, from: usize, to: usize) {
        for ch in self.inputs.iter_mut().flatten() {
            if let Some(rest) = ch.get_mut(from..to) {
                rest.fill(0.0);
            }
        }
    }

    /// After a reset, run the effects over `latency` frames of input without playing
    /// them, so the first frame heard is the one at the playhead, as in the export.
    /// Waits (plays silence) while the reader is behind.
    fn run_preroll(&mut self) {
        while self.preroll > 0 {
            let n = self.preroll.min(CHUNK);
            let mut got = self.pull(n);
            if got < n && self.at_end() {
                // Past the end the input is silence, as in the export's extra frames.
                self.silence_inputs(got, n);
                got = n;
            }
            if got == 0 {
                return;
            }
            self.mix(got, false);
            self.preroll -= got;
            self.behind += got;
        }
    }

    /// The input for the next `k` frames heard; returns how many are there. Past the end
    /// of the song, silence pushes out what the effects still hold, then playback stops.
    fn take_input(&mut self, k: usize) -> usize {
        let mut got = self.pull(k);
        if got < k && self.at_end() {
            let n = (k - got).min(self.behind);
            self.silence_inputs(got, got + n);
            self.behind -= n;
            got += n;
            if self.behind == 0 {
                // The end of the song: stop once this chunk is out (its frames are the
                // song's last, and must be heard).
                self.ends = true;
            }
        }
        got
    }

    /// After the chunk holding the song's last frames went out: stop there.
    fn stop_if_ended(&mut self) {
        if std::mem::take(&mut self.ends) {
            self.playing = false;
            self.wants_play = false;
            self.fade = 0.0;
            self.fade_target = 0.0;
        }
    }

    /// Move up to `k` frames of the right audio into `inputs`; returns how many.
    fn pull(&mut self, k: usize) -> usize {
        let region = self.looping.get();
        let mut got = 0;
        while got < k {
            if self.pos >= self.len && region.is_none_or(|(_, e)| self.pos >= e) {
                break;
            }
            if self.block_left == 0 {
                let Some(block) = self.feed.next_block() else {
                    break;
                };
                if block.start == self.pos {
                    self.block_left = block.frames as usize;
                    self.block_frames = self.block_left;
                    self.patches.start_block(block.seq);
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
            let offset = self.block_frames - self.block_left;
            self.patches.apply(&mut self.inputs, got, offset, n);
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

    /// Mix `k` frames: the kernel with the track and stem chains, then the master bus
    /// (keyed from what is heard: the audition plan). `meter`: false for the pre-roll,
    /// which is never heard.
    fn mix(&mut self, k: usize, meter: bool) {
        let (t0, t1) = (self.ramp_fraction(0), self.ramp_fraction(k));
        let r = &mut *self.routing;
        Routing::lerp_into(&r.from, &r.target, t0, &mut r.a);
        Routing::lerp_into(&r.from, &r.target, t1, &mut r.b);
        match self.fx.as_deref_mut() {
            Some(fx) => {
                mix_block_with(
                    &r.a,
                    &r.b,
                    &self.inputs,
                    &mut r.stems,
                    &mut self.master,
                    k,
                    &mut fx.inserts,
                );
                fx.bus.process(&mut r.stems, &mut self.master, k);
            }
            None => mix_block_with(
                &r.a,
                &r.b,
                &self.inputs,
                &mut r.stems,
                &mut self.master,
                k,
                &mut stemdeck_audio::kernel::NoInserts,
            ),
        }
        self.ramp_pos = (self.ramp_pos + k).min(self.ramp_len);
        if !meter {
            return;
        }
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
        if self.fade == 0.0
            && self.fade_target == 0.0
            && self.pending_seek.is_none()
            && self.parked.is_none()
        {
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
