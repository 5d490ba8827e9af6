//! Stemdeck's desktop front end, in egui.
//!
//! The app state ([`StemdeckApp`]) owns the open [`document::Document`] (the session
//! plus undo history), the live [`stemdeck_engine::Engine`] and the background jobs
//! (waveform overviews, export). Each part of the window is drawn by a `*_ui` function
//! in its own module. The eframe glue lives in the `stemdeck` binary.

mod app;
mod check_ui;
pub mod document;
mod export_ui;
mod lanes_ui;
mod recovery_ui;
mod settings;
mod song_ui;
mod theme;
mod transport_ui;
mod variants_ui;
mod waveforms;

pub use app::{AppOptions, Startup, StemdeckApp};
pub use recovery_ui::{AUTOSAVE_AFTER, recovery_dir};
pub use settings::Settings;
