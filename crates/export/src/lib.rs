//! Stemdeck's offline renderer: every stem of a session to its own stereo file, all the
//! same length and starting at sample 0, plus the master and the mix variants if asked,
//! and the song information sheet — a delivery a producer can send as it is.
//!
//! One module per step, dependencies running one way (delivery → render → null → plan
//! → options; report ← sheet ← pdf):
//! - `options`: what to export ([`ExportOptions`], [`DeliveryOptions`]);
//! - `plan`: every file, its name and source, decided before any audio;
//! - `delivery`: [`export_delivery`]: checks, the render, the sheet, the renames;
//! - `render`: the passes over the decoded tracks: the mix kernel, rate conversion,
//!   loudness, the common trim;
//! - `null`: the null test (the stems summed against the master) and its verdict;
//! - `report`: [`Progress`] while it runs, [`ExportReport`] when done;
//! - [`format`](mod@format): the output formats (container × sample type) and their encoders;
//! - [`writer`]: one output file: sample conversion, TPDF dither, peaks,
//!   temp-then-rename;
//! - [`naming`]: the stem folder and file names (template, safe on every OS);
//! - [`sheet`]: the song information sheet (JSON), and its PDF;
//! - [`job`]: a session's saved settings as the options of a run ([`options_for`]), and
//!   the export on its own thread with progress, ETA, cancel and result ([`ExportJob`]):
//!   what the command line and the app both run.

mod delivery;
mod error;
pub mod format;
pub mod job;
pub mod naming;
mod null;
mod options;
mod pdf;
mod plan;
mod render;
mod report;
pub mod sheet;
mod true_peak;
pub mod writer;

pub use delivery::{export, export_delivery};
pub use error::ExportError;
pub use format::{OutputFormat, SampleType};
pub use job::{ExportJob, JobStatus, SettingsError, options_for};
pub use options::{
    BLOCK_FRAMES, DeliveryOptions, ExportOptions, SAMPLE_RATES, TRIM_TARGET_DBFS, settings_for,
};
pub use plan::{planned_files, sheet_base_name};
pub use report::{
    ExportReport, FileKind, FileReport, NullSource, NullTest, PlannedFile, Progress, Stage,
    TrimReport,
};
pub use stemdeck_session::TrimMode;

/// The song information sheet as PDF bytes (for a preview or a re-print).
pub fn sheet_pdf(sheet: &sheet::Sheet) -> Result<Vec<u8>, String> {
    pdf::render(sheet)
}
