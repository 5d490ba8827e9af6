//! Stemdeck's offline renderer: every stem of a session to its own stereo file, all the
//! same length and starting at sample 0, plus the master if asked.
//!
//! - [`naming`]: the stem folder and file names (template, safe on every OS);
//! - [`writer`]: one output file: sample format, TPDF dither, peak, temp-then-rename;
//! - [`render`]: streams every track through the shared mix kernel block by block.

mod error;
pub mod naming;
pub mod render;
pub mod writer;

pub use error::ExportError;
pub use render::{ExportOptions, ExportReport, FileReport, Progress, export};
pub use writer::SampleFormat;
