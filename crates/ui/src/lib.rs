//! Stemdeck's desktop front end, in egui.
//!
//! The app state ([`StemdeckApp`]) owns the open [`document::Document`] (the session
//! plus undo history), the live [`stemdeck_engine::Engine`] and the background jobs
//! (waveform overviews, export). Each part of the window is drawn by a `*_ui` function
//! in its own module. The eframe glue lives in the `stemdeck` binary. Commands (menus,
//! keys) are one list in [`actions`]; [`instance`] hands `stemdeck open FILE` to the
//! running app.

pub mod actions;
mod app;
mod check_ui;
mod commands;
pub mod document;
mod effect_params_ui;
mod effects_ui;
mod eq_ui;
mod export_ui;
mod files;
pub mod help_ui;
pub mod instance;
mod lanes_ui;
mod menu_ui;
mod mixer_ui;
mod notices;
mod notices_ui;
pub mod pacing;
mod recovery_ui;
mod settings;
mod song_ui;
mod state;
mod theme;
mod timeline;
mod timeline_ui;
mod transport_ui;
mod variants_ui;
mod waveforms;

pub use actions::Action;
pub use app::{AppOptions, Startup, StemdeckApp};
pub use pacing::Renderer;
pub use settings::Settings;
pub use state::ChainOwner;
pub use state::PeakHold;
pub use state::Pending;
pub use state::{AUTOSAVE_AFTER, recovery_dir};
pub use timeline::TimelineView;
