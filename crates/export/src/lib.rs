//! Stemdeck's offline renderer: every stem of a session to its own stereo file, all the
//! same length and starting at sample 0, plus the master and the mix variants if asked,
//! and the song information sheet — a delivery a producer can send as it is.
//!
//! - [`naming`]: the stem folder and file names (template, safe on every OS);
//! - [`writer`]: one output file: WAV or FLAC, TPDF dither, peak, temp-then-rename;
//! - [`render`]: streams every track through the shared mix kernel block by block, with
//!   rate conversion, loudness metering, the common trim and the null test;
//! - [`sheet`]: the song information sheet (JSON), and its PDF;
//! - [`job`]: a session's saved settings as the options of a run ([`options_for`]), and
//!   the export on its own thread with progress, ETA, cancel and result ([`ExportJob`]):
//!   what the command line and the app both run.

mod error;
mod flac;
pub mod job;
pub mod naming;
mod pdf;
pub mod render;
pub mod sheet;
mod true_peak;
pub mod writer;

pub use error::ExportError;
pub use job::{ExportJob, JobStatus, SettingsError, options_for};
pub use render::{
    BLOCK_FRAMES, DeliveryOptions, ExportOptions, ExportReport, FileKind, FileReport, NullSource,
    NullTest, PlannedFile, Progress, SAMPLE_RATES, Stage, TRIM_TARGET_DBFS, TrimReport, export,
    export_delivery, planned_files, settings_for, sheet_base_name,
};
pub use stemdeck_session::TrimMode;
pub use writer::SampleFormat;

/// The song information sheet as PDF bytes (for a preview or a re-print).
pub fn sheet_pdf(sheet: &sheet::Sheet) -> Result<Vec<u8>, String> {
    pdf::render(sheet)
}
