//! The state each part of the window keeps between frames, held by `StemdeckApp`, apart
//! from the code that draws it (the `*_ui` modules): plain data and its rules, so the app
//! struct depends on this module and the parts depend on the app, never in a circle.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::Receiver;
use stemdeck_check::{FixReport, Report};
use stemdeck_export::{ExportJob, ExportReport};
use stemdeck_session::effects::Effect;
use stemdeck_session::units::db_to_amplitude;
use stemdeck_session::{Recovery, Session, StemId, TrackId};

use crate::Settings;

/// The check's state: the offer, the running job, the report.
#[derive(Default)]
pub(crate) struct CheckState {
    /// A folder that looks like a stem package, offered for the check.
    pub(crate) offer: Option<PathBuf>,
    /// The check running on a worker thread.
    pub(crate) job: Option<Receiver<Result<Report, String>>>,
    /// The repair running on a worker thread.
    pub(crate) fix_job: Option<Receiver<Result<FixReport, String>>>,
    pub(crate) report: Option<Report>,
    /// The last repair's outcome, for the panel.
    pub(crate) fixed: Option<Result<FixReport, String>>,
    pub(crate) error: Option<String>,
    pub(crate) show: bool,
}

/// Whose insert chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChainOwner {
    Track(TrackId),
    Stem(StemId),
    #[default]
    Master,
}

impl ChainOwner {
    pub fn chain(self, s: &Session) -> Option<&Vec<Effect>> {
        match self {
            ChainOwner::Track(id) => s.track(id).map(|t| &t.effects),
            ChainOwner::Stem(id) => s.stem(id).map(|t| &t.effects),
            ChainOwner::Master => Some(&s.master.effects),
        }
    }

    pub fn chain_mut(self, s: &mut Session) -> Option<&mut Vec<Effect>> {
        match self {
            ChainOwner::Track(id) => s.track_mut(id).map(|t| &mut t.effects),
            ChainOwner::Stem(id) => s.stem_mut(id).map(|t| &mut t.effects),
            ChainOwner::Master => Some(&mut s.master.effects),
        }
    }

    /// "Kick", "Drums", "Master" (None when the track or stem is gone).
    pub fn name(self, s: &Session) -> Option<String> {
        match self {
            ChainOwner::Track(id) => s.track(id).map(|t| t.name.clone()),
            ChainOwner::Stem(id) => s.stem(id).map(|t| t.name.clone()),
            ChainOwner::Master => Some("Master".to_owned()),
        }
    }
}

/// A question the export asks before it writes anything.
#[derive(Clone, Debug, PartialEq)]
pub enum ExportPrompt {
    /// An integer file would clip: offer one common trim for every file.
    Clip { message: String, trim_db: f64 },
    /// Files of the same names exist: offer to replace them.
    Overwrite { message: String },
}

/// The running job, the last result and the open windows. The settings themselves live
/// in the session (`Session::export`), so they are saved with it and undoable.
#[derive(Default)]
pub struct ExportState {
    pub show_options: bool,
    pub(crate) job: Option<ExportJob>,
    pub last_report: Option<ExportReport>,
    pub show_summary: bool,
    pub prompt: Option<ExportPrompt>,
}

impl ExportState {
    pub fn running(&self) -> bool {
        self.job.is_some()
    }
}

/// Which of these windows are open.
#[derive(Clone, Debug, Default)]
pub struct Windows {
    pub about: bool,
    pub shortcuts: bool,
    pub diagnostics: bool,
    /// The About window's licence filter.
    pub(crate) license_filter: String,
}

/// How long a peak is held before it falls.
pub const PEAK_HOLD: Duration = Duration::from_millis(1500);
/// How fast a held peak falls once the hold is over.
pub(crate) const FALL_DB_PER_SECOND: f32 = 20.0;
/// The fader's lowest setting (the session accepts any finite number of dB; below
/// this a fader has no useful travel).
pub const MIN_FADER_DB: f32 = -60.0;

/// The master meter's held peak and its clip latch.
#[derive(Clone, Debug, Default)]
pub struct PeakHold {
    pub(crate) held: f32,
    pub(crate) at: Option<Instant>,
    /// Latched when a peak went over 0 dBFS; cleared only by the user.
    pub clipped: bool,
}

impl PeakHold {
    /// Take the peak read since the last frame.
    pub fn feed(&mut self, peak: f32, now: Instant) {
        if !peak.is_finite() {
            return;
        }
        if peak >= self.level(now) {
            self.held = peak;
            self.at = Some(now);
        }
        if peak > 1.0 {
            self.clipped = true;
        }
    }

    /// The held level now: the peak for `PEAK_HOLD`, then falling.
    pub fn level(&self, now: Instant) -> f32 {
        let Some(at) = self.at else { return 0.0 };
        let since = now.saturating_duration_since(at);
        match since.checked_sub(PEAK_HOLD) {
            None => self.held,
            Some(falling) => {
                let db = FALL_DB_PER_SECOND * falling.as_secs_f32();
                let level = self.held * db_to_amplitude(-db);
                if level < 1e-4 { 0.0 } else { level }
            }
        }
    }

    /// Whether the display still moves without new peaks (to keep repainting).
    pub fn is_moving(&self, now: Instant) -> bool {
        self.level(now) > 0.0
    }
}

/// How long the session must stay unchanged before it is autosaved.
pub const AUTOSAVE_AFTER: Duration = Duration::from_secs(2);
pub(crate) const SUFFIX: &str = ".stemdeck-recovery.json";

/// This instance's recovery file and what was last written to it.
pub struct RecoveryState {
    /// `<pid>-<start>.stemdeck-recovery.json` in the recovery folder.
    pub(crate) file: Option<PathBuf>,
    pub(crate) written: Option<Session>,
    /// The session as last seen, and since when it has not changed.
    pub(crate) seen: Option<(Session, Instant)>,
    /// A recovery left by an earlier run, offered at startup.
    pub offer: Option<(PathBuf, Recovery)>,
}

impl RecoveryState {
    pub fn new() -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Self {
            file: recovery_dir().map(|d| d.join(format!("{}-{start}{SUFFIX}", std::process::id()))),
            written: None,
            seen: None,
            offer: None,
        }
    }
}

/// Where recovery files live: `recovery/` in the settings folder.
pub fn recovery_dir() -> Option<PathBuf> {
    Settings::dir().map(|d| d.join("recovery"))
}

/// An action held back by the unsaved-changes prompt.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    Open(Vec<PathBuf>),
    OpenDialog(bool),
    /// Quit (the window's close button, File ▸ Quit).
    Close,
    NewSession,
    /// File ▸ Close: the session, not the window.
    CloseSession,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peak_is_held_then_falls_and_a_clip_latches() {
        let t0 = Instant::now();
        let mut m = PeakHold::default();
        assert_eq!(m.level(t0), 0.0);
        m.feed(0.5, t0);
        m.feed(0.1, t0 + Duration::from_millis(500));
        assert_eq!(m.level(t0 + Duration::from_millis(1400)), 0.5, "held");
        // One second after the hold: 20 dB lower.
        let later = m.level(t0 + PEAK_HOLD + Duration::from_secs(1));
        assert!((later - 0.05).abs() < 1e-4, "{later}");
        assert!(!m.clipped);
        // A higher peak takes over at once; a lower one waits for the fall.
        m.feed(0.8, t0 + Duration::from_millis(600));
        assert_eq!(m.level(t0 + Duration::from_millis(700)), 0.8);
        m.feed(1.2, t0 + Duration::from_secs(3));
        assert!(m.clipped);
        m.feed(0.1, t0 + Duration::from_secs(10));
        assert!(m.clipped, "stays latched");
        assert!(!m.is_moving(t0 + Duration::from_secs(60)));
        m.clipped = false;
        m.feed(1.0, t0 + Duration::from_secs(61));
        assert!(!m.clipped, "0 dBFS itself is not over");
    }
}
