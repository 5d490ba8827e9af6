//! The app state and the root `ui`: panels, shortcuts, file handling, notifications.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use stemdeck_engine::{Engine, EngineEvent};
use stemdeck_session::{StemId, TrackId};

use crate::commands::{SESSION_FILTER, open_filter};
use crate::document::Document;
use crate::export_ui::ExportState;
use crate::help_ui::Windows;
use crate::recovery_ui::RecoveryState;
use crate::settings::Settings;
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

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// A non-blocking notification.
#[derive(Clone, Debug)]
pub struct Notice {
    pub text: String,
    pub level: Level,
    pub at: Instant,
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
    pub fx_owner: crate::effects_ui::ChainOwner,
    /// The master strip (fader, meter, clip light) beside the lanes.
    pub show_master: bool,
    /// The master meter's held peak and clip latch.
    pub master_hold: crate::mixer_ui::PeakHold,
    pub(crate) export: ExportState,
    pub(crate) recovery: RecoveryState,
    /// The stem-package check (offer, report, repair).
    pub(crate) check: crate::check_ui::CheckState,
    /// Where a ruler drag started (frames).
    pub(crate) loop_drag_from: Option<u64>,
    /// The part of the timeline shown (zoom and scroll).
    pub view: crate::timeline_ui::TimelineView,
    /// The clip being dragged in time.
    pub(crate) clip_drag: Option<crate::timeline_ui::ClipDrag>,
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
            fx_owner: crate::effects_ui::ChainOwner::Master,
            show_master: true,
            master_hold: crate::mixer_ui::PeakHold::default(),
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

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        // The same news again refreshes the one shown instead of stacking up.
        self.notices.retain(|n| n.text != text);
        self.notices.push(Notice {
            text,
            level,
            at: Instant::now(),
        });
    }

    /// Open now, without asking about unsaved changes.
    pub fn open_now(&mut self, paths: &[PathBuf]) {
        match stemdeck_audio::import::open(paths) {
            Ok(opened) => {
                for p in &opened.problems {
                    self.notify(Level::Warning, p.to_string());
                }
                // Files that load but are damaged (cut short, a crashed recorder's header).
                for w in opened.warnings() {
                    self.notify(Level::Warning, w);
                }
                let last = opened.session_file.clone().or_else(|| match paths {
                    [one] => Some(one.clone()),
                    _ => None,
                });
                let doc = Document::new(
                    opened.session,
                    opened.session_file,
                    opened.base_dir,
                    opened.infos,
                );
                self.set_document(doc);
                if let Some(last) = &last {
                    self.settings.add_recent(last);
                }
                self.offer_check(paths);
                self.settings.last_session = last;
                self.settings.save().ok();
            }
            Err(e) => self.notify(Level::Error, e.to_string()),
        }
    }

    /// Open, asking first when there are unsaved changes.
    pub fn open(&mut self, paths: Vec<PathBuf>) {
        if self.doc.as_ref().is_some_and(Document::is_dirty) {
            self.pending = Some(Pending::Open(paths));
        } else {
            self.open_now(&paths);
        }
    }

    pub(crate) fn set_document(&mut self, doc: Document) {
        self.engine = None;
        self.selection = Selection::default();
        self.view = Default::default();
        self.clip_drag = None;
        self.looping = false;
        self.loop_region = (0, 0);
        let lengths: Vec<u64> = doc
            .infos
            .iter()
            .map(|i| {
                i.as_ref().map_or(0, |i| {
                    stemdeck_audio::resample::converted_len(
                        i.frames,
                        i.sample_rate,
                        doc.session.sample_rate,
                    )
                })
            })
            .collect();
        self.waveforms.load(&doc.session, &lengths);
        let mut engine = Engine::new(&doc.session);
        self.audio_problem = None;
        if self.audio {
            if let Err(e) = engine.start_output(None) {
                self.audio_problem = Some(no_output_message(&e.to_string()));
            }
        } else {
            self.audio_problem = Some("Audio output is off.".into());
        }
        self.engine = Some(engine);
        self.doc = Some(doc);
    }

    /// Save to the session file, or ask where (Save As) when there is none yet.
    pub fn save(&mut self) {
        let Some(doc) = self.doc.as_mut() else { return };
        match doc.path.clone() {
            Some(path) => self.save_to(path),
            None => self.save_as(),
        }
    }

    pub fn save_as(&mut self) {
        let Some(doc) = self.doc.as_ref() else { return };
        let suggested = doc.suggested_path();
        let mut dialog = rfd::FileDialog::new().add_filter(
            "Stemdeck session",
            &crate::commands::dialog_extensions(&SESSION_FILTER),
        );
        if let Some(dir) = suggested.parent() {
            dialog = dialog.set_directory(dir);
        }
        if let Some(name) = suggested.file_name() {
            dialog = dialog.set_file_name(name.to_string_lossy());
        }
        if let Some(path) = dialog.save_file() {
            self.save_to(path);
        }
    }

    /// Save to a given file.
    pub fn save_to(&mut self, path: PathBuf) {
        let Some(doc) = self.doc.as_mut() else { return };
        match doc.save_to(&path) {
            Ok(()) => {
                self.settings.last_session = Some(path.clone());
                self.remember_recent(&path);
                self.notify(Level::Info, format!("Saved {}", path.display()));
            }
            Err(e) => self.notify(Level::Error, format!("Not saved: {e}")),
        }
    }

    pub(crate) fn open_dialog(&mut self, folder: bool) {
        if self.doc.as_ref().is_some_and(Document::is_dirty) {
            self.pending = Some(Pending::OpenDialog(folder));
            return;
        }
        let picked = if folder {
            rfd::FileDialog::new()
                .set_title("Open a folder of tracks")
                .pick_folder()
                .map(|p| vec![p])
        } else {
            rfd::FileDialog::new()
                .set_title("Open a session, a DAW project or audio files")
                .add_filter(
                    "Sessions, projects and audio",
                    &crate::commands::dialog_extensions(&open_filter()),
                )
                .pick_files()
        };
        if let Some(paths) = picked {
            self.open_now(&paths);
        }
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

    /// Files dropped on the window open at once (on a stem lane: audio files join that
    /// stem); hovering shows where they will go.
    fn dropped_files_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            let at = ctx.input(|i| i.pointer.latest_pos());
            self.drop_paths(dropped, at);
        }
        let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
        if hovering {
            let rect = ctx.content_rect();
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop-overlay"),
            ));
            // Over a stem lane, audio files join that stem (see `drop_paths`).
            let lane = ctx
                .input(|i| i.pointer.latest_pos())
                .and_then(|p| self.lane_rects.iter().find(|(_, r)| r.contains(p)))
                .and_then(|(id, r)| {
                    let doc = self.doc.as_ref()?;
                    Some((doc.session.stem(*id)?.name.clone(), *r))
                });
            painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(180));
            let text = match &lane {
                Some((name, r)) => {
                    painter.rect_stroke(
                        *r,
                        4.0,
                        egui::Stroke::new(3.0, egui::Color32::WHITE),
                        egui::StrokeKind::Inside,
                    );
                    format!("Drop audio files to add them to {name}")
                }
                None => "Drop a folder, audio files or a session to open them".to_owned(),
            };
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                text,
                egui::FontId::proportional(22.0),
                egui::Color32::WHITE,
            );
        }
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

    fn close_request(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && !self.close_confirmed
            && self.doc.as_ref().is_some_and(Document::is_dirty)
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(Pending::Close);
        }
    }

    /// The unsaved-changes prompt, for whatever action is pending.
    fn pending_ui(&mut self, ui: &mut egui::Ui) {
        let Some(pending) = self.pending.clone() else {
            return;
        };
        let name = self
            .doc
            .as_ref()
            .map(Document::display_name)
            .unwrap_or_default();
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("unsaved-changes")).show(ui.ctx(), |ui| {
            ui.heading("Unsaved changes");
            ui.label(format!("Save the changes to \"{name}\" first?"));
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    choice = Some(0);
                }
                if ui.button("Don't save").clicked() {
                    choice = Some(1);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(2);
                }
            });
        });
        let Some(choice) = choice else { return };
        self.pending = None;
        if choice == 2 {
            return;
        }
        if choice == 0 {
            self.save();
            if self.doc.as_ref().is_some_and(Document::is_dirty) {
                return; // not saved (cancelled or failed): stay
            }
        }
        if let Some(d) = self.doc.as_mut() {
            // Dropping the changes: treat the document as clean from here.
            d.save_to_nowhere();
        }
        match pending {
            Pending::Open(paths) => self.open_now(&paths),
            Pending::OpenDialog(folder) => self.open_dialog(folder),
            Pending::Close => {
                self.close_confirmed = true;
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Pending::NewSession => self.new_session(),
            Pending::CloseSession => self.close_session(),
        }
    }

    fn notices_ui(&mut self, ui: &mut egui::Ui) {
        let ttl = Duration::from_secs(8);
        self.notices.retain(|n| {
            n.at.elapsed() < ttl || n.level == Level::Error && n.at.elapsed() < ttl * 2
        });
        if self.notices.is_empty() {
            return;
        }
        let mut dismiss = None;
        egui::Area::new(egui::Id::unique("notices"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -36.0))
            .order(egui::Order::Foreground)
            .show(ui.ctx(), |ui| {
                for (i, n) in self.notices.iter().enumerate().rev().take(5) {
                    let color = match n.level {
                        Level::Info => egui::Color32::from_rgb(60, 90, 140),
                        Level::Warning => egui::Color32::from_rgb(150, 110, 30),
                        Level::Error => egui::Color32::from_rgb(160, 50, 50),
                    };
                    egui::Frame::new()
                        .fill(color)
                        .corner_radius(6.0)
                        .inner_margin(8.0)
                        .show(ui, |ui| {
                            ui.set_max_width(420.0);
                            ui.horizontal(|ui| {
                                ui.colored_label(egui::Color32::WHITE, &n.text);
                                if ui.small_button("x").on_hover_text("Dismiss").clicked() {
                                    dismiss = Some(i);
                                }
                            });
                        });
                    ui.add_space(4.0);
                }
            });
        if let Some(i) = dismiss {
            self.notices.remove(i);
        }
        ui.ctx().request_repaint_after(Duration::from_millis(500));
    }

    /// The whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        // Ctrl+=, Ctrl+− and Ctrl+0 zoom the timeline (View menu), not the whole window.
        ctx.options_mut(|o| o.zoom_with_keyboard = false);
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

    /// The work that is not drawing: open requests, the waveform and export jobs, the
    /// engine following the session, the autosave, the window title, and when to come
    /// back. [`Self::ui`] runs it after each frame's widgets; while the window is hidden
    /// (minimised) eframe runs no ui pass and `logic` runs it instead, so playback
    /// follows the session, an export finishes and the autosave happens all the same.
    pub fn background(&mut self, ctx: &egui::Context) {
        self.poll_open_requests(ctx);
        let exporting = self.export.running();
        self.poll_export();
        if self.waveforms.poll() || (exporting && !self.export.running()) {
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
            || self.waveforms.progress().is_some()
        {
            ctx.request_repaint_after(Duration::from_millis(16));
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

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(doc) = &self.doc {
                let s = &doc.session;
                ui.label(format!(
                    "{} Hz · {} tracks · {} stems · {}",
                    s.sample_rate,
                    s.tracks.len(),
                    s.stems.len(),
                    stemdeck_session::units::format_minutes(doc.len(), s.sample_rate)
                ));
                let unassigned = s.unassigned_tracks().count();
                if unassigned > 0 {
                    ui.separator();
                    ui.label(format!(
                        "{unassigned} unassigned (left out of stems and master)"
                    ));
                }
            }
            if let Some(p) = self.waveforms.progress() {
                ui.separator();
                ui.add(
                    egui::ProgressBar::new(p)
                        .desired_width(160.0)
                        .text("Waveforms"),
                );
            }
            // Backend figures (load, xruns, device errors) are in View ▸ Diagnostics,
            // not in front of every user.
        });
    }
}

/// An error's text as the middle of a sentence: without the full stop it may end with
/// (the caller adds its own).
fn sentence_body(text: &str) -> &str {
    text.trim_end().trim_end_matches('.')
}

/// The no-device banner: one full stop per sentence, "audio output" said once.
fn no_output_message(error: &str) -> String {
    let reason = sentence_body(error);
    let reason = reason.strip_prefix("audio output: ").unwrap_or(reason);
    format!(
        "No audio output: {reason}. Editing and export still work; playback starts when a device appears."
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_no_device_banner_never_doubles_a_full_stop() {
        for e in [
            "no audio output device found",
            "audio output: The requested device is no longer available.",
            "audio output: busy. ",
        ] {
            let m = no_output_message(e);
            assert!(!m.contains(".."), "{m}");
            assert!(!m.contains("output: audio output"), "{m}");
            assert!(m.ends_with("when a device appears."), "{m}");
        }
        assert_eq!(sentence_body("lost."), "lost");
    }
}
