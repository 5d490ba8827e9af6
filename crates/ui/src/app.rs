//! The app state and the root `ui`: the panels, the engine following the session, and the
//! background work (files: `files`; notifications and the status line: `notices_ui`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use stemdeck_engine::{Engine, EngineEvent};
use stemdeck_session::{StemId, TrackId};

use crate::document::Document;
use crate::notices::{Level, Notice, sentence_body};
use crate::settings::Settings;
use crate::state::{
    ChainOwner, CheckState, ExportState, PeakHold, Pending, RecoveryState, Windows,
};
use crate::timeline::{ClipDrag, TimelineView};
use crate::waveforms::Waveforms;

/// What to open at launch.
#[derive(Clone, Debug, PartialEq)]
pub enum Startup {
    /// The last session, or the bundled demo the first time (or if the last is gone).
    LastOrDemo,
    /// These paths (a session file, a folder, or audio files).
    Open(Vec<PathBuf>),
    /// Nothing.
    Empty,
}

#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Open an audio output (off in tests that must not touch a device).
    pub audio: bool,
    pub startup: Startup,
    /// Where the bundled demo session is (its `.json`), if installed.
    pub demo: Option<PathBuf>,
    /// Paths another `stemdeck open` handed over (see [`crate::instance`]).
    pub open_requests: Option<crossbeam_channel::Receiver<Vec<PathBuf>>>,
}

/// Tracks and stems the keyboard acts on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub tracks: BTreeSet<TrackId>,
    pub stem: Option<StemId>,
}

pub struct StemdeckApp {
    pub doc: Option<Document>,
    pub engine: Option<Engine>,
    pub settings: Settings,
    pub selection: Selection,
    pub(crate) waveforms: Waveforms,
    pub notices: Vec<Notice>,
    pub(crate) audio: bool,
    /// Why there is no sound (no device), shown as a banner.
    pub audio_problem: Option<String>,
    pub pending: Option<Pending>,
    pub(crate) close_confirmed: bool,
    pub show_song: bool,
    /// The effects panel, and whose chain it shows.
    pub show_effects: bool,
    pub fx_owner: ChainOwner,
    /// The master strip (fader, meter, clip light) beside the lanes.
    pub show_master: bool,
    /// The master meter's held peak and clip latch.
    pub master_hold: PeakHold,
    pub(crate) export: ExportState,
    pub(crate) recovery: RecoveryState,
    /// The stem-package check (offer, report, repair).
    pub(crate) check: CheckState,
    /// Where a ruler drag started (frames).
    pub(crate) loop_drag_from: Option<u64>,
    /// The part of the timeline shown (zoom and scroll).
    pub view: TimelineView,
    /// The clip being dragged in time.
    pub(crate) clip_drag: Option<ClipDrag>,
    /// Loop region and whether looping is on (kept here so it survives engine rebuilds).
    pub loop_region: (u64, u64),
    pub looping: bool,
    pub(crate) renaming_variant: Option<usize>,
    /// Meter levels shown (decaying), per stem then the master.
    pub(crate) meter_display: Vec<f32>,
    /// Per track (session order), the level shown (decaying).
    pub track_meter_display: Vec<f32>,
    /// The window title last sent (sent again only when it changes).
    title: String,
    /// About, Keyboard Shortcuts, Diagnostics.
    pub windows: Windows,
    /// Where each stem lane was drawn last frame (files dropped there join that stem).
    pub(crate) lane_rects: Vec<(StemId, egui::Rect)>,
    /// Paths handed over by another `stemdeck open`.
    pub(crate) open_requests: Option<crossbeam_channel::Receiver<Vec<PathBuf>>>,
    /// Tests answer the next file dialog with these paths instead of showing it.
    pub dialog_answer: Option<Vec<PathBuf>>,
    /// `STEMDECK_TIMING` set: print how long the waveforms took (for bench/).
    timing_log: bool,
    /// What draws the window (set by the binary once the window exists).
    pub(crate) renderer: crate::pacing::Renderer,
}

impl StemdeckApp {
    pub fn new(options: AppOptions) -> Self {
        let settings = Settings::load();
        let mut app = Self {
            doc: None,
            engine: None,
            settings,
            selection: Selection::default(),
            waveforms: Waveforms::default(),
            notices: Vec::new(),
            audio: options.audio,
            audio_problem: None,
            pending: None,
            close_confirmed: false,
            show_song: true,
            show_effects: false,
            fx_owner: ChainOwner::Master,
            show_master: true,
            master_hold: PeakHold::default(),
            export: ExportState::default(),
            recovery: RecoveryState::new(),
            check: Default::default(),
            loop_drag_from: None,
            view: Default::default(),
            clip_drag: None,
            loop_region: (0, 0),
            looping: false,
            renaming_variant: None,
            meter_display: Vec::new(),
            track_meter_display: Vec::new(),
            title: String::new(),
            windows: Windows::default(),
            lane_rects: Vec::new(),
            open_requests: options.open_requests,
            dialog_answer: None,
            timing_log: std::env::var_os("STEMDECK_TIMING").is_some(),
            renderer: Default::default(),
        };
        match options.startup {
            Startup::Open(paths) => app.open_now(&paths),
            Startup::Empty => {}
            Startup::LastOrDemo => {
                let last = app.settings.last_session.clone().filter(|p| p.exists());
                match (last, options.demo) {
                    (Some(last), _) => app.open_now(&[last]),
                    (None, Some(demo)) => {
                        app.open_now(&[demo]);
                    }
                    (None, None) => {}
                }
            }
        }
        app.find_recovery();
        app
    }

    /// Whether every waveform overview is computed.
    pub fn waveforms_ready(&self) -> bool {
        self.waveforms.progress().is_none()
    }

    pub fn undo(&mut self) {
        if let Some(d) = self.doc.as_mut() {
            d.undo();
        }
    }

    pub fn redo(&mut self) {
        if let Some(d) = self.doc.as_mut() {
            d.redo();
        }
    }

    pub fn toggle_play(&mut self) {
        if let Some(e) = self.engine.as_mut() {
            if e.feedback().is_playing() {
                e.pause();
            } else {
                e.play();
            }
        }
    }

    pub fn seek(&mut self, frame: u64) {
        if let Some(e) = self.engine.as_mut() {
            e.seek(frame);
        }
    }

    pub fn toggle_loop(&mut self) {
        self.looping = !self.looping;
        self.sync_loop();
    }

    pub(crate) fn sync_loop(&mut self) {
        let (a, b) = self.loop_region;
        if let Some(e) = self.engine.as_mut() {
            e.set_loop(a, b, self.looping && b > a);
        }
    }

    /// M or S on the selection: tracks if any are selected, else the selected stem.
    pub fn toggle_selected(&mut self, solo: bool) {
        let Some(doc) = self.doc.as_mut() else { return };
        let tracks = self.selection.tracks.clone();
        let stem = self.selection.stem;
        doc.edit(|s| {
            if !tracks.is_empty() {
                let on = !tracks
                    .iter()
                    .filter_map(|id| s.track(*id))
                    .all(|t| if solo { t.solo } else { t.mute });
                for id in &tracks {
                    if let Some(t) = s.track_mut(*id) {
                        if solo { t.solo = on } else { t.mute = on }
                    }
                }
            } else if let Some(st) = stem.and_then(|id| s.stem_mut(id)) {
                if solo {
                    st.solo = !st.solo
                } else {
                    st.mute = !st.mute
                }
            }
        });
    }

    /// Keep the engine in step with the session and take its news.
    fn sync_engine(&mut self) {
        let Some(doc) = self.doc.as_ref() else { return };
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        engine.set_mix(&doc.session);
        engine.poll();
        let has_output = engine.has_output();
        let mut news = Vec::new();
        for e in engine.events() {
            match e {
                EngineEvent::TrackFailed { track, message } => {
                    let name = doc
                        .session
                        .tracks
                        .get(track)
                        .map_or("?", |t| t.name.as_str());
                    news.push((
                        Level::Warning,
                        format!("Track \"{name}\" plays as silence: {message}"),
                    ));
                }
                EngineEvent::DeviceLost(msg) => {
                    self.audio_problem =
                        Some(format!("Audio output lost: {}.", sentence_body(&msg)))
                }
                EngineEvent::DeviceRestored => {
                    self.audio_problem = None;
                    news.push((Level::Info, "Audio output is back".to_owned()));
                }
            }
        }
        if has_output && self.audio {
            self.audio_problem = None;
        }
        for (level, text) in news {
            self.notify(level, text);
        }
    }

    /// The whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        // Ctrl+=, Ctrl+− and Ctrl+0 zoom the timeline (View menu), not the whole window.
        ctx.options_mut(|o| o.zoom_with_keyboard = false);
        // The overviews that arrived since the last frame are drawn by this one (a worker
        // woke it for them).
        self.waveforms.poll();
        if self.waveforms.frame_drawn() && self.timing_log {
            let t = self.waveforms.timing();
            let secs = t.drawn_after.unwrap_or_default().as_secs_f64();
            eprintln!(
                "stemdeck: timing: {} waveform overviews drawn {secs:.3} s after opening",
                t.tracks
            );
        }
        self.shortcuts(&ctx);
        self.close_request(&ctx);
        egui::Panel::top("menu").show(ui, |ui| self.menu_ui(ui));
        egui::Panel::top("transport").show(ui, |ui| self.transport_ui(ui));
        if let Some(problem) = self.audio_problem.clone() {
            egui::Panel::top("audio-banner").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.colored_label(egui::Color32::from_rgb(240, 180, 60), "!");
                    ui.label(problem);
                });
            });
        }
        self.missing_files_ui(ui);
        egui::Panel::top("variants").show(ui, |ui| self.variants_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_ui(ui));
        if self.show_song && self.doc.is_some() {
            egui::Panel::right("song")
                .resizable(true)
                .default_size(240.0)
                .show(ui, |ui| self.song_ui(ui));
        }
        if self.show_master && self.doc.is_some() {
            egui::Panel::right("master-strip")
                .resizable(false)
                .exact_size(96.0)
                .show(ui, |ui| self.master_strip_ui(ui));
        }
        self.effects_panel_ui(ui);
        self.check_ui(ui);
        egui::CentralPanel::default().show(ui, |ui| {
            if self.doc.is_some() {
                self.lanes_ui(ui);
            } else {
                ui.centered_and_justified(|ui| {
                    ui.label(
                        "Open a session or a folder of tracks (File > Open), or drop them here.",
                    );
                });
            }
        });
        self.export_windows_ui(ui);
        self.help_windows_ui(ui);
        self.pending_ui(ui);
        self.recovery_offer_ui(ui);
        self.notices_ui(ui);
        self.dropped_files_ui(ui);
        // Quiet moment: record an undo step for whatever widgets changed.
        let busy = ctx.input(|i| i.pointer.any_down()) || ctx.egui_wants_keyboard_input();
        if !busy && let Some(d) = self.doc.as_mut() {
            d.checkpoint();
        }
        self.background(&ctx);
    }

    /// The OpenGL renderer the window draws with (View ▸ Diagnostics; a software one
    /// draws fewer frames while overviews are computed, see [`crate::pacing`]).
    pub fn set_renderer(&mut self, renderer: crate::pacing::Renderer) {
        self.renderer = renderer;
    }

    /// The interval between frames while the playhead or a meter moves.
    pub fn animation_interval(&self) -> Duration {
        self.renderer
            .animation_interval(self.waveforms.progress().is_some())
    }

    /// The work that is not drawing: open requests, the waveform and export jobs, the
    /// engine following the session, the autosave, the window title, and when to come
    /// back. [`Self::ui`] runs it after each frame's widgets; while the window is hidden
    /// (minimised) eframe runs no ui pass and `logic` runs it instead, so playback
    /// follows the session, an export finishes and the autosave happens all the same.
    pub fn background(&mut self, ctx: &egui::Context) {
        self.poll_open_requests(ctx);
        let exporting = self.export.running();
        self.poll_export();
        self.waveforms.wake(ctx);
        // Overviews that arrived during this frame: the workers asked for the repaint
        // already, unless they came before the window existed.
        if self.waveforms.poll() {
            crate::waveforms::repaint_for_arrival(ctx, self.waveforms.progress().is_none());
        }
        if exporting && !self.export.running() {
            // New results to show.
            ctx.request_repaint();
        }
        self.refresh_audio();
        self.sync_engine();
        self.autosave_tick(ctx);
        let title = match &self.doc {
            Some(d) => format!(
                "{}{} — Stemdeck",
                d.display_name(),
                if d.is_dirty() { " •" } else { "" }
            ),
            None => "Stemdeck".into(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        if self
            .engine
            .as_ref()
            .is_some_and(|e| e.feedback().is_playing())
        {
            ctx.request_repaint_after(self.animation_interval());
        } else if self.waveforms.progress().is_some() {
            // Only the progress moves: two frames a second (see `ARRIVAL_REPAINT`).
            ctx.request_repaint_after(Duration::from_millis(500));
        }
        if self.export.running() {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        // A clip edit the engine has not taken yet (it takes one per interval): come
        // back for it even if nothing else moves.
        if let (Some(e), Some(d)) = (&self.engine, &self.doc)
            && e.clip_edits_waiting(&d.session)
        {
            ctx.request_repaint_after(stemdeck_engine::CLIP_EDIT_INTERVAL);
        }
    }
}

impl eframe::App for StemdeckApp {
    /// Runs before every ui pass, and alone while the window is hidden: then it does the
    /// work that is not drawing (when shown, [`StemdeckApp::ui`] does it after the
    /// widgets, so what they changed this frame is followed this frame).
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let hidden = ctx.input(|i| {
            let v = i.viewport();
            v.minimized == Some(true) || v.occluded == Some(true)
        });
        if hidden {
            self.background(ctx);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        StemdeckApp::ui(self, ui);
    }
}
