//! Opening and saving sessions: open requests (dialogs, dropped files, Open Recent),
//! save and save as, and the unsaved-changes prompt that holds an action back.

use std::path::PathBuf;

use stemdeck_engine::Engine;

use crate::app::{Selection, StemdeckApp};
use crate::commands::{SESSION_FILTER, open_filter};
use crate::document::Document;
use crate::notices::{Level, no_output_message};
use crate::state::Pending;

impl StemdeckApp {
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

    /// Files dropped on the window open at once (on a stem lane: audio files join that
    /// stem); hovering shows where they will go.
    pub(crate) fn dropped_files_ui(&mut self, ui: &mut egui::Ui) {
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

    pub(crate) fn close_request(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && !self.close_confirmed
            && self.doc.as_ref().is_some_and(Document::is_dirty)
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(Pending::Close);
        }
    }

    /// The unsaved-changes prompt, for whatever action is pending.
    pub(crate) fn pending_ui(&mut self, ui: &mut egui::Ui) {
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
}
