//! The Stemdeck session model: what a multitrack session is (tracks, stems, song
//! metadata), how it is stored (versioned JSON, paths relative to the file) and how
//! tracks are sorted into stems by name. It knows nothing of audio or GUI, so every
//! front end and back end can share it.

pub mod effects;
mod error;
pub mod grouping;
mod io;
mod model;
mod recovery;
pub mod routing;
pub mod units;

pub use error::SessionError;
pub use io::{AUDIO_EXTENSIONS, FORMAT_NAME, FORMAT_VERSION, SESSION_EXTENSION};
pub use model::{
    Clip, DEFAULT_EXPORT_TEMPLATE, DEFAULT_STEM_COLORS, EffectsMode, ExportSettings,
    MAX_MASTER_GAIN_DB, Master, MixVariant, Session, Song, Stem, StemId, Track, TrackId, TrimMode,
    UNASSIGNED_NOTE, VariantStem,
};
pub use recovery::{RECOVERY_FORMAT, Recovery};
