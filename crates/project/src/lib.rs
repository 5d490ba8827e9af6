//! What a real session brings, read into plain data: the Broadcast Wave position of a
//! recorded file (`bwf`), DAWproject files (`dawproject`) and REAPER projects (`rpp`).
//!
//! Everything comes out in seconds (tempo conversion happens here); turning seconds into
//! frames, decoding the audio and building a session are the caller's business. This
//! crate knows nothing of the session model beyond the effect parameter types, so the
//! readers can be tested on their own and integrated later.

pub mod bwf;
pub mod dawproject;
mod error;
pub mod rpp;
mod tempo;

use std::path::{Path, PathBuf};

use stemdeck_session::units::amplitude_to_db_f64;

pub use error::Error;
pub use stemdeck_session::effects::Effect;
pub use tempo::TempoMap;

/// The quietest gain a reader reports: a fader at zero (silence, −∞ dB) comes out as
/// this, because the session stores finite numbers only. 144 dB is below the floor of a
/// 24-bit file, so it is silence for every output Stemdeck writes.
pub const MIN_GAIN_DB: f32 = -144.0;

/// A project as read: its tracks with their clips, the folders they belong to, the master,
/// and a warning for everything the project holds that Stemdeck cannot render.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// The song's title when the project names one, else the file name without extension.
    pub name: String,
    pub sample_rate: Option<u32>,
    /// The tempo at the start of the song, when the project has one.
    pub tempo_bpm: Option<f64>,
    pub tracks: Vec<ProjectTrack>,
    /// Top-level folder (group, submix) tracks, in project order: each becomes a stem.
    pub folders: Vec<ProjectFolder>,
    pub master: ProjectMaster,
    /// One line per track and thing that cannot be rendered ("Track \"Bass\": plugin
    /// \"Foo\" is not rendered"); the rest of the project still loads.
    pub warnings: Vec<String>,
}

/// One audio track. A folder track that has clips of its own appears here too (its
/// `folder` is its own name).
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectTrack {
    pub name: String,
    /// The top-level folder or group the track is in (None: outside any folder).
    pub folder: Option<String>,
    /// The track's fader, with the faders of any folders nested below the top level
    /// multiplied in (a gain before a sum is the same as a gain after it).
    pub gain_db: f32,
    /// −1 (left) to 1 (right).
    pub pan: f32,
    /// Muted itself or through a nested folder.
    pub mute: bool,
    pub clips: Vec<Clip>,
    /// The built-in effects Stemdeck renders, in order.
    pub effects: Vec<Effect>,
}

/// A top-level folder, group or submix track: its own fader and effects apply to the sum
/// of its tracks, as a stem's do.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectFolder {
    pub name: String,
    pub gain_db: f32,
    pub pan: f32,
    pub mute: bool,
    pub effects: Vec<Effect>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectMaster {
    pub gain_db: f32,
    pub effects: Vec<Effect>,
}

/// A piece of an audio file placed on the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Clip {
    pub path: PathBuf,
    /// Where the clip starts on the timeline.
    pub position_s: f64,
    /// Where in the file the clip starts.
    pub source_offset_s: f64,
    pub length_s: f64,
    pub fade_in_s: f64,
    pub fade_out_s: f64,
    pub gain_db: f32,
}

/// The kinds of project file this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Dawproject,
    Reaper,
}

impl Format {
    /// By extension (case-insensitive): `.dawproject` or `.rpp`.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "dawproject" => Some(Format::Dawproject),
            "rpp" => Some(Format::Reaper),
            _ => None,
        }
    }
}

/// Reads a project file of either kind. Audio embedded in a DAWproject is extracted
/// under `cache_dir` (see [`dawproject::read`]).
pub fn open(path: &Path, cache_dir: &Path) -> Result<Project, Error> {
    match Format::of(path) {
        Some(Format::Dawproject) => dawproject::read(path, cache_dir),
        Some(Format::Reaper) => rpp::read(path),
        None => Err(Error::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// Linear gain to dB, silence clamped to [`MIN_GAIN_DB`].
pub(crate) fn linear_to_db(v: f64) -> f32 {
    let v = v.abs();
    if v <= 0.0 || !v.is_finite() {
        return MIN_GAIN_DB;
    }
    (amplitude_to_db_f64(v) as f32).max(MIN_GAIN_DB)
}

/// The file name without its extension, as a project name.
pub(crate) fn stem_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
