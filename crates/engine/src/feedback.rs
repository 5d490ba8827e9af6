//! Engine → GUI feedback without locks: plain atomics the audio thread stores into and
//! any thread reads. f32 values are stored as their bit patterns.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// Meters kept for this many stems (more stems play, unmetered).
pub const MAX_METERED_STEMS: usize = 64;
/// Meters kept for this many tracks (by session track index; more tracks play, unmetered).
pub const MAX_METERED_TRACKS: usize = 512;

/// Peak and RMS of one signal over the last callback(s).
#[derive(Debug, Default)]
pub struct Meter {
    peak: AtomicU32,
    rms: AtomicU32,
}

impl Meter {
    /// Keep the highest peak until a reader takes it (non-negative floats order like
    /// their bit patterns, so `fetch_max` on the bits is a float max).
    pub(crate) fn store(&self, peak: f32, rms: f32) {
        self.peak
            .fetch_max(peak.max(0.0).to_bits(), Ordering::Relaxed);
        self.rms.store(rms.max(0.0).to_bits(), Ordering::Relaxed);
    }

    /// Like [`Self::store`] for a meter that only shows peaks.
    pub(crate) fn store_peak(&self, peak: f32) {
        self.peak
            .fetch_max(peak.max(0.0).to_bits(), Ordering::Relaxed);
    }

    /// The peak since the last call (linear) and the latest RMS (linear).
    pub fn take(&self) -> (f32, f32) {
        let peak = f32::from_bits(self.peak.swap(0, Ordering::Relaxed));
        (peak, f32::from_bits(self.rms.load(Ordering::Relaxed)))
    }
}

/// Everything the engine reports.
#[derive(Debug)]
pub struct Feedback {
    /// Playhead in frames at the session rate.
    pub(crate) position: AtomicU64,
    pub(crate) playing: AtomicBool,
    /// One per stem (in plan order), then the master last.
    pub(crate) meters: Vec<Meter>,
    /// One per session track (by index): the track after its own gain, pan, mute and
    /// solo, before its stem's gain. Peaks only.
    pub(crate) tracks: Vec<Meter>,
    /// Share of the callback's real-time budget spent processing (f32 bits, 1.0 = 100 %).
    pub(crate) load: AtomicU32,
    /// Device buffer under/overruns reported by the output.
    pub(crate) xruns: AtomicU64,
    /// Other errors the output backend reported while the stream kept running (e.g.
    /// ALSA's pulse plugin failing a delay query under load). Kept apart from xruns:
    /// the audio itself was delivered.
    pub(crate) device_errors: AtomicU64,
    /// Callbacks that found the reader behind (played silence for part of the buffer).
    pub(crate) starved: AtomicU64,
    /// Callbacks processed.
    pub(crate) callbacks: AtomicU64,
    /// Whether an output device is running.
    pub(crate) device_ok: AtomicBool,
    /// Frames the effects delay the output by (compensated: see `Processor`).
    pub(crate) latency: AtomicU64,
    /// From the callback to the device playing what it wrote, as the device reports it
    /// (microseconds; 0 until a callback has told).
    pub(crate) output_latency_us: AtomicU64,
    /// The audio thread could not take effect parameters in place: rebuild.
    pub(crate) fx_refused: AtomicBool,
}

impl Default for Feedback {
    fn default() -> Self {
        Self {
            position: AtomicU64::new(0),
            playing: AtomicBool::new(false),
            meters: (0..=MAX_METERED_STEMS).map(|_| Meter::default()).collect(),
            tracks: (0..MAX_METERED_TRACKS).map(|_| Meter::default()).collect(),
            load: AtomicU32::new(0),
            xruns: AtomicU64::new(0),
            device_errors: AtomicU64::new(0),
            starved: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            device_ok: AtomicBool::new(false),
            latency: AtomicU64::new(0),
            output_latency_us: AtomicU64::new(0),
            fx_refused: AtomicBool::new(false),
        }
    }
}

impl Feedback {
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    pub fn is_playing(&self) -> bool {
        self.playing.load(Ordering::Relaxed)
    }

    /// Meter of stem `i` (plan order).
    pub fn stem_meter(&self, i: usize) -> Option<&Meter> {
        (i < MAX_METERED_STEMS)
            .then(|| self.meters.get(i))
            .flatten()
    }

    /// Meter of session track `i` (its index in `Session::tracks`); peaks only.
    pub fn track_meter(&self, i: usize) -> Option<&Meter> {
        self.tracks.get(i)
    }

    pub fn master_meter(&self) -> &Meter {
        // The vector is built with MAX_METERED_STEMS + 1 entries and never resized.
        &self.meters[MAX_METERED_STEMS]
    }

    /// Callback load, 0.0 – 1.0+ of the real-time budget.
    pub fn load(&self) -> f32 {
        f32::from_bits(self.load.load(Ordering::Relaxed))
    }

    pub fn xruns(&self) -> u64 {
        self.xruns.load(Ordering::Relaxed)
    }

    pub fn device_errors(&self) -> u64 {
        self.device_errors.load(Ordering::Relaxed)
    }

    pub fn starved(&self) -> u64 {
        self.starved.load(Ordering::Relaxed)
    }

    pub fn callbacks(&self) -> u64 {
        self.callbacks.load(Ordering::Relaxed)
    }

    /// Frames the effects delay the output by (a limiter's look-ahead). Playback makes
    /// up for it (a pre-roll after every seek), so it is not added to the position; it
    /// is the time an edit takes to be heard, beyond the device's buffer.
    pub fn latency(&self) -> u64 {
        self.latency.load(Ordering::Relaxed)
    }

    /// How long the device takes to play what a callback wrote (its buffer), as it last
    /// reported: the time from Play, or any change, to hearing it. `None` before the
    /// first callback, or when the device gives no timing.
    pub fn output_latency(&self) -> Option<std::time::Duration> {
        match self.output_latency_us.load(Ordering::Relaxed) {
            0 => None,
            us => Some(std::time::Duration::from_micros(us)),
        }
    }

    pub fn device_ok(&self) -> bool {
        self.device_ok.load(Ordering::Relaxed)
    }

    pub(crate) fn count_xrun(&self) {
        self.xruns.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_device_error(&self) {
        self.device_errors.fetch_add(1, Ordering::Relaxed);
    }
}
