//! Stemdeck's audio core. Everything here is shared by live playback and export, so
//! what the user hears is what they export:
//! - [`decode`]: any file a producer receives, as planar f32 at its own rate (symphonia);
//! - [`resample`]: to the session rate (rubato);
//! - [`stream`]: one track as an endless block source at the session rate, exact length;
//! - [`kernel`]: the mix kernel (gain, pan law, tracks into stems, stems into the master);
//! - [`peaks`]: waveform overviews (min/max per bucket at the session rate) and their disk cache;
//! - [`import`]: a folder or a list of files into an auto-grouped session;
//! - [`relink`]: finding moved track files again in a folder the user picks.

pub mod decode;
mod error;
pub mod import;
pub mod kernel;
pub mod peaks;
pub mod relink;
mod repair;
pub mod resample;
pub mod stream;

pub use error::AudioError;
