//! Stemdeck's live playback engine.
//!
//! ```text
//!  control thread (GUI / CLI)          reader thread                 audio thread (cpal)
//!  Engine ── Command ring ───────────────────────────────────────►  Processor::process
//!         ◄─ garbage ring: old routings, effects, parameters ─────  (mix kernel with the
//!                                                                      inserts, master bus,
//!                                                                      meters)
//!         ◄─ Feedback atomics (position, meters, load, xruns) ────
//!                                      Reader ── feed rings ─────►  (blocks tagged with
//!                                             ◄─ seek ring ───────   their position)
//! ```
//! The audio thread never allocates, frees, locks, does I/O or panics; see
//! docs/architecture.md for the whole design.

mod device;
mod feed;
mod feedback;
mod fx;
mod patch;
mod processor;
mod reader;
mod routing;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringbuf::traits::{Consumer as _, Observer as _, Producer as _, Split as _};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use stemdeck_audio::stream::TrackStream;
use stemdeck_session::routing::{MixMode, MixPlan};
use stemdeck_session::{Clip, Session};

use crate::fx::{Fx, FxSettings};
use crate::patch::PatchShared;
use crate::processor::Garbage;
use crate::reader::ReaderMsg;

pub use device::{DeviceRender, Output, list_devices};
pub use feed::FEED_BLOCK;
pub use feedback::{Feedback, MAX_METERED_STEMS, MAX_METERED_TRACKS, Meter};
pub use fx::EffectParams;
pub use processor::{Command, FADE_MS, LoopRegion, Processor, RAMP_MS};

/// Frames mixed at a time inside a callback (the processor's step, and the size the
/// live effects are built for).
pub const CHUNK: usize = 512;
pub use routing::Routing;

/// Commands in flight at most (the garbage ring is twice as big, so the audio thread can
/// always hand a replaced routing or spent parameters back: one item per command, plus
/// one parked routing).
const COMMAND_CAPACITY: usize = 256;

/// Errors the engine reports. Playback problems never stop editing or export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error("no audio output device found")]
    NoDevice,
    #[error("audio output device \"{0}\" not found (see `stemdeck devices`)")]
    DeviceNotFound(String),
    #[error("audio output: {0}")]
    Device(String),
}

/// Things that happened off the audio thread that the user should hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// A track could not be read during playback; it plays as silence.
    TrackFailed { track: usize, message: String },
    /// The output device stopped (unplugged, taken); playback resumes when it is back.
    DeviceLost(String),
    /// The output device is running again.
    DeviceRestored,
}

/// How much audio the reader keeps decoded ahead, per track.
pub const AHEAD_SECONDS: f32 = 1.5;

/// A clip dragged while playing is sent to the reader at most this often (each edit
/// reopens the track and decodes its look-ahead again).
pub const CLIP_EDIT_INTERVAL: Duration = Duration::from_millis(30);

/// The patch rings hold the look-ahead of this many channels (four stereo tracks): more
/// tracks edited at once are heard when the feed reaches their new audio.
const PATCH_CHANNELS: usize = 8;

/// The control side of the engine: owns the reader thread and (once started) the output.
pub struct Engine {
    commands: HeapProd<Command>,
    garbage: HeapCons<Garbage>,
    feedback: Arc<Feedback>,
    looping: Arc<LoopRegion>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    processor: Option<Processor>,
    output: Option<Output>,
    events: Receiver<EngineEvent>,
    events_tx: std::sync::mpsc::Sender<EngineEvent>,
    plan: MixPlan,
    /// The effect settings last sent (checked: no parameter out of range).
    fx: FxSettings,
    /// Counts effects builds; parameters name the build they are for.
    fx_generation: u64,
    /// Why the last effect edit could not be heard (a parameter out of range).
    fx_problem: Option<String>,
    rate: u32,
    len: u64,
    /// Per track: its clips as playing, the end of its audio and its channel count.
    clips: Vec<Vec<Clip>>,
    ends: Vec<u64>,
    channels: Vec<usize>,
    /// Clip edits for the reader, how many were sent and when the last one went.
    reader_msgs: Sender<ReaderMsg>,
    clip_edits: u64,
    clips_sent: Option<Instant>,
    patches: Arc<PatchShared>,
    /// Commands the ring had no room for (the audio thread is behind, or stalled), in
    /// order, at most one per kind: a later play/pause, seek or routing replaces an
    /// earlier one, since only the last of each decides where playback ends up. Sent
    /// with the next command or [`Engine::poll`].
    backlog: Vec<Command>,
}

/// Open every track of `session` at its rate, in track order, on every core (opening
/// reads headers and may scan a whole MP3: for a big session, most of the time before
/// playback can start).
fn open_all(session: &Session) -> Vec<Result<TrackStream, stemdeck_audio::AudioError>> {
    let rate = session.sample_rate;
    stemdeck_audio::par_map(&session.tracks, |t| TrackStream::for_track(t, rate))
}

/// Like export: the end of the longest track that is in a stem.
fn song_len(session: &Session, ends: &[u64]) -> u64 {
    session
        .tracks
        .iter()
        .zip(ends)
        .filter(|(t, _)| session.stem_of(t.id).is_some())
        .map(|(_, e)| *e)
        .max()
        .unwrap_or(0)
}

/// Which commands replace each other in the backlog.
fn kind(cmd: &Command) -> u8 {
    match cmd {
        Command::Play | Command::Pause => 0,
        Command::Seek(_) => 1,
        Command::Routing(_) => 2,
        Command::Effects(_) => 3,
        Command::Length(_) => 4,
    }
}

impl Engine {
    /// Prepare playback of `session` (not yet on a device). Tracks whose files cannot be
    /// opened play as silence and are reported as events.
    pub fn new(session: &Session) -> Engine {
        let rate = session.sample_rate;
        let (events_tx, events) = channel();
        let mut streams = Vec::with_capacity(session.tracks.len());
        for (i, opened) in open_all(session).into_iter().enumerate() {
            match opened {
                Ok(s) => streams.push(Some(s)),
                Err(e) => {
                    events_tx
                        .send(EngineEvent::TrackFailed {
                            track: i,
                            message: e.to_string(),
                        })
                        .ok();
                    streams.push(None);
                }
            }
        }
        let channels: Vec<usize> = streams
            .iter()
            .map(|s| s.as_ref().map_or(1, TrackStream::channels))
            .collect();
        let ends: Vec<u64> = streams
            .iter()
            .map(|s| s.as_ref().map_or(0, TrackStream::len))
            .collect();
        let len = song_len(session, &ends);
        let ahead = (AHEAD_SECONDS * rate as f32) as usize;
        let (feed_prod, feed_cons) = feed::feed(&channels, ahead);
        let (patch_tx, patch_rx) = patch::patches(
            ahead.max(FEED_BLOCK * 2) + FEED_BLOCK,
            channels.iter().sum::<usize>().clamp(2, PATCH_CHANNELS),
        );
        let patches = Arc::clone(&patch_tx.shared);
        let (reader_msgs, msgs) = channel();
        let (cmd_prod, cmd_cons) = HeapRb::<Command>::new(COMMAND_CAPACITY).split();
        let (garbage_prod, garbage_cons) = HeapRb::<Garbage>::new(COMMAND_CAPACITY * 2).split();
        let (seek_prod, seek_cons) = HeapRb::<u64>::new(64).split();
        let feedback = Arc::new(Feedback::default());
        let looping = Arc::new(LoopRegion::default());
        let stop = Arc::new(AtomicBool::new(false));
        let plan = session.mix_plan(MixMode::Audition);
        let (fx_settings, fx_problem) = FxSettings::from_session(session, &plan, None);
        let (fx, fx_settings) = match Fx::build(fx_settings, rate, 0) {
            Ok(fx) => {
                let settings = fx.settings.clone();
                (Some(fx), settings)
            }
            Err(_) => (None, FxSettings::default()),
        };
        let processor = Processor::new(processor::ProcessorParts {
            feed: feed_cons,
            commands: cmd_cons,
            garbage: garbage_prod,
            seeks: seek_prod,
            routing: Routing::new(plan.clone(), CHUNK),
            fx,
            feedback: Arc::clone(&feedback),
            looping: Arc::clone(&looping),
            channels: channels.clone(),
            patches: patch_rx,
            rate,
            len,
        });
        let reader = reader::Reader {
            streams,
            channels: channels.clone(),
            msgs,
            patches: patch_tx,
            log: std::collections::VecDeque::new(),
            patched: vec![None; session.tracks.len()],
            seq: 0,
            run: 0,
            feed: feed_prod,
            seeks: seek_cons,
            looping: Arc::clone(&looping),
            len,
            stop: Arc::clone(&stop),
            events: events_tx.clone(),
        };
        let reader = std::thread::Builder::new()
            .name("stemdeck-reader".into())
            .spawn(move || reader.run())
            .ok();
        Engine {
            commands: cmd_prod,
            garbage: garbage_cons,
            feedback,
            looping,
            stop,
            reader,
            processor: Some(processor),
            output: None,
            events,
            events_tx,
            plan,
            fx: fx_settings,
            fx_generation: 0,
            fx_problem,
            rate,
            len,
            clips: session.tracks.iter().map(|t| t.clips.clone()).collect(),
            ends,
            channels,
            reader_msgs,
            clip_edits: 0,
            clips_sent: None,
            patches,
            backlog: Vec::new(),
        }
    }

    /// Hand the processor out to drive it without a device (tests, benchmarks).
    pub fn take_processor(&mut self) -> Option<Processor> {
        self.processor.take()
    }

    /// Start playing out of a device (the default one when `device` is `None`).
    ///
    /// A device named but not found is an error and nothing starts. Any other failure
    /// (no device at all, device busy) is returned too, but the engine keeps looking
    /// for the device in [`Engine::poll`] and starts playing when it appears.
    pub fn start_output(&mut self, device: Option<&str>) -> Result<(), EngineError> {
        let processor = match (self.processor.take(), self.output.as_mut()) {
            (Some(p), _) => p,
            (None, Some(out)) => out
                .take_processor()
                .ok_or_else(|| EngineError::Device("output busy".into()))?,
            (None, None) => return Err(EngineError::Device("the processor was taken".into())),
        };
        let (mut out, err) =
            Output::start(processor, device, self.rate, Arc::clone(&self.feedback));
        match err {
            Some(e @ EngineError::DeviceNotFound(_)) => {
                self.processor = out.reclaim();
                Err(e)
            }
            Some(e) => {
                self.output = Some(out);
                Err(e)
            }
            None => {
                self.output = Some(out);
                Ok(())
            }
        }
    }

    /// The device in use, e.g. "default (48000 Hz, 2 ch, f32)".
    pub fn output_description(&self) -> Option<&str> {
        self.output
            .as_ref()
            .filter(|_| self.feedback.device_ok())
            .map(Output::description)
    }

    /// Keep the engine healthy; call a few times a second from the control thread.
    /// Frees replaced routings and rebuilds the output stream after a device loss.
    pub fn poll(&mut self) {
        while self.garbage.try_pop().is_some() {}
        self.flush_backlog();
        if self.feedback.fx_refused.swap(false, Ordering::Relaxed) {
            self.rebuild_fx(self.fx.clone());
        }
        if let Some(out) = self.output.as_mut() {
            match out.poll() {
                Some(device::Health::Lost(msg)) => {
                    self.events_tx.send(EngineEvent::DeviceLost(msg)).ok();
                }
                Some(device::Health::Restored) => {
                    self.events_tx.send(EngineEvent::DeviceRestored).ok();
                }
                None => {}
            }
        }
    }

    /// Events since the last call.
    pub fn events(&self) -> Vec<EngineEvent> {
        self.events.try_iter().collect()
    }

    /// Send a command to the audio thread; when its ring is full, keep it (replacing an
    /// older one of its kind) for later, so the last command of each kind always arrives.
    fn send(&mut self, cmd: Command) {
        while self.garbage.try_pop().is_some() {}
        self.flush_backlog();
        let cmd = if self.backlog.is_empty() {
            match self.commands.try_push(cmd) {
                Ok(()) => return,
                Err(cmd) => cmd,
            }
        } else {
            cmd
        };
        let k = kind(&cmd);
        let mut cmd = cmd;
        if let Command::Routing(new) = &mut cmd
            && let Some(at) = self
                .backlog
                .iter()
                .position(|c| matches!(c, Command::Routing(_)))
        {
            // A routing replaces the one waiting here in its place (parameters queued
            // after it are for its effects), taking over the effects it brought.
            if let Some(Command::Routing(waiting)) = self.backlog.get_mut(at)
                && new.fx.is_none()
            {
                new.fx = waiting.fx.take();
            }
            if let Some(slot) = self.backlog.get_mut(at) {
                *slot = cmd;
            }
            return;
        }
        // Parameters waiting here for the same effects are changes too: the newer ones
        // win, the others are kept.
        if let Command::Effects(new) = &mut cmd {
            for c in &mut self.backlog {
                if let Command::Effects(waiting) = c
                    && waiting.generation == new.generation
                {
                    waiting.merge_into(new);
                }
            }
        }
        self.backlog.retain(|c| kind(c) != k);
        self.backlog.push(cmd);
    }

    /// Move what the ring now has room for from the backlog into it, oldest first.
    fn flush_backlog(&mut self) {
        while !self.backlog.is_empty() && self.commands.vacant_len() > 0 {
            let cmd = self.backlog.remove(0);
            if let Err(cmd) = self.commands.try_push(cmd) {
                self.backlog.insert(0, cmd);
                break;
            }
        }
    }

    pub fn play(&mut self) {
        self.send(Command::Play);
    }

    pub fn pause(&mut self) {
        self.send(Command::Pause);
    }

    /// Jump to a frame at the session rate.
    pub fn seek(&mut self, frame: u64) {
        self.send(Command::Seek(frame.min(self.len)));
    }

    /// Loop between two frames (when `enabled` and `end > start`).
    pub fn set_loop(&mut self, start: u64, end: u64, enabled: bool) {
        self.looping
            .set(start.min(self.len), end.min(self.len), enabled);
    }

    pub fn loop_region(&self) -> Option<(u64, u64)> {
        self.looping.get()
    }

    /// Follow the session's gains, pans, mutes, solos, grouping, effects and master.
    /// Nothing is sent when nothing changed. A new routing is built here and swapped in
    /// whole by the audio thread. Effect parameters, bypass and the master fader go as
    /// parameters the running chains glide to; a change of shape (an effect added,
    /// removed or moved, stems added or removed) builds new chains here, and the audio
    /// thread keeps every running chain that can take its new settings in place. An
    /// effect with a parameter out of range is not sent (its chain keeps playing as it
    /// was) and [`Engine::effects_problem`] says why.
    pub fn set_mix(&mut self, session: &Session) {
        self.follow_clips(session);
        let plan = session.mix_plan(MixMode::Audition);
        if self.fx_problem.is_none() && self.fx.matches(session, &plan) {
            // The effects are as sent (the usual case, every frame): no copy.
            if plan != self.plan {
                self.plan = plan.clone();
                self.send(Command::Routing(Routing::new(plan, CHUNK)));
            }
            return;
        }
        let (fx, problem) = FxSettings::from_session(session, &plan, Some(&self.fx));
        self.fx_problem = problem;
        if fx != self.fx && !self.fx.same_shape(&fx) {
            self.plan = plan;
            self.rebuild_fx(fx);
            return;
        }
        if plan != self.plan {
            self.plan = plan.clone();
            self.send(Command::Routing(Routing::new(plan, CHUNK)));
        }
        if fx != self.fx {
            let params = self.fx.changes(&fx, self.fx_generation);
            self.fx = fx;
            self.send(Command::Effects(Box::new(params)));
        }
    }

    /// Follow clip edits (a clip dragged or typed to a new position, an undo): the
    /// edited tracks are reopened here and handed to the reader, which patches what it
    /// has decoded ahead, so the edit is heard at once, crossfaded. At most one batch per
    /// [`CLIP_EDIT_INTERVAL`]; a later call sends the rest (see
    /// [`Engine::clip_edits_waiting`]). Tracks added or removed need a new engine.
    fn follow_clips(&mut self, session: &Session) {
        if session.tracks.len() != self.clips.len()
            || self
                .clips_sent
                .is_some_and(|t| t.elapsed() < CLIP_EDIT_INTERVAL)
        {
            return;
        }
        let mut batch = Vec::new();
        for (i, track) in session.tracks.iter().enumerate() {
            if self.clips.get(i) == Some(&track.clips) {
                continue;
            }
            if let Some(c) = self.clips.get_mut(i) {
                c.clone_from(&track.clips);
            }
            let problem = match TrackStream::for_track(track, self.rate) {
                Ok(s) if Some(&s.channels()) == self.channels.get(i) => {
                    if let Some(end) = self.ends.get_mut(i) {
                        *end = s.len();
                    }
                    batch.push((i, s));
                    continue;
                }
                Ok(_) => "its clips changed its channel count; open the session again to hear it"
                    .to_owned(),
                Err(e) => e.to_string(),
            };
            self.events_tx
                .send(EngineEvent::TrackFailed {
                    track: i,
                    message: problem,
                })
                .ok();
        }
        if batch.is_empty() {
            return;
        }
        let len = song_len(session, &self.ends);
        if len != self.len {
            self.len = len;
            self.reader_msgs.send(ReaderMsg::Len(len)).ok();
            self.send(Command::Length(len));
        }
        if self.reader_msgs.send(ReaderMsg::Replace(batch)).is_ok() {
            self.clip_edits += 1;
        }
        self.clips_sent = Some(Instant::now());
    }

    /// Whether a clip edit is waiting for [`CLIP_EDIT_INTERVAL`] to pass (call
    /// [`Engine::set_mix`] again after it) or for the reader to carry it out.
    pub fn clip_edits_waiting(&self, session: &Session) -> bool {
        self.patches.done.load(Ordering::Acquire) < self.clip_edits
            || (session.tracks.len() == self.clips.len()
                && session
                    .tracks
                    .iter()
                    .zip(&self.clips)
                    .any(|(t, c)| &t.clips != c))
    }

    /// Build new effects processing for `fx` and send it with a routing for the current
    /// plan.
    fn rebuild_fx(&mut self, fx: FxSettings) {
        self.fx_generation += 1;
        match Fx::build(fx, self.rate, self.fx_generation) {
            Ok(built) => {
                self.fx = built.settings.clone();
                let routing = Routing::with_fx(self.plan.clone(), CHUNK, built);
                self.send(Command::Routing(routing));
            }
            Err(e) => {
                // Checked settings never get here; keep what plays.
                self.fx_problem = Some(e.to_string());
                self.send(Command::Routing(Routing::new(self.plan.clone(), CHUNK)));
            }
        }
    }

    /// Why the last effect edit is not heard (a parameter out of range, naming the track,
    /// stem or master and the effect), or None.
    pub fn effects_problem(&self) -> Option<&str> {
        self.fx_problem.as_deref()
    }

    /// The routing last sent to the audio thread.
    pub fn plan(&self) -> &MixPlan {
        &self.plan
    }

    pub fn feedback(&self) -> &Arc<Feedback> {
        &self.feedback
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Session length in frames.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn has_output(&self) -> bool {
        self.output.is_some() && self.feedback.device_ok()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.output = None;
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            r.join().ok();
        }
    }
}
