//! Keeping the user's work: an autosaved recovery copy of a session with unsaved
//! changes (offered back at the next launch if Stemdeck died), and relinking tracks
//! whose files moved.
//!
//! The rule is simple: a recovery file exists exactly while the open session has unsaved
//! changes (written a moment after they stop changing, so typing does not write on every
//! key). Saving, or choosing "Don't save", makes the session clean and deletes it; a
//! crash leaves it behind.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use stemdeck_session::{Recovery, Session};

use crate::app::StemdeckApp;
use crate::document::Document;
use crate::notices::Level;
use crate::state::{AUTOSAVE_AFTER, SUFFIX, recovery_dir};

/// Whether the process that wrote a recovery file is still running (then it is not a
/// crash: another Stemdeck window is editing that session).
fn still_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return false; // an earlier app in this same process (tests)
    }
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn age_text(saved_unix: u64) -> String {
    let secs = unix_now().saturating_sub(saved_unix);
    match secs {
        0..60 => "less than a minute ago".to_owned(),
        60..7200 => format!("{} minutes ago", secs / 60),
        7200..172_800 => format!("{} hours ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

impl StemdeckApp {
    /// This run's recovery file (it exists only while there are unsaved changes).
    pub fn recovery_file(&self) -> Option<&Path> {
        self.recovery.file.as_deref()
    }

    /// The autosave of a crashed run offered at startup, if any.
    pub fn recovery_offer(&self) -> Option<&Recovery> {
        self.recovery.offer.as_ref().map(|(_, r)| r)
    }

    /// Look for a recovery file a crashed run left; the newest is offered.
    pub(crate) fn find_recovery(&mut self) {
        let Some(dir) = recovery_dir() else { return };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let mut found: Vec<(PathBuf, Recovery)> = Vec::new();
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if !path.to_string_lossy().ends_with(SUFFIX) {
                continue;
            }
            match Recovery::read(&path) {
                Ok(r) if !still_running(r.pid) => found.push((path, r)),
                Ok(_) => {}
                Err(e) => self.notify(
                    Level::Warning,
                    format!("An autosaved session could not be read: {e}"),
                ),
            }
        }
        found.sort_by_key(|(_, r)| r.saved_unix);
        self.recovery.offer = found.pop();
    }

    /// Write the recovery file now if the session has unsaved changes not yet in it.
    pub fn autosave_now(&mut self) {
        let Some(doc) = self.doc.as_ref() else { return };
        let Some(file) = self.recovery.file.clone() else {
            return;
        };
        if !doc.is_dirty() || self.recovery.written.as_ref() == Some(&doc.session) {
            return;
        }
        let r = Recovery {
            session: doc.session.clone(),
            session_file: doc.path.clone(),
            base_dir: doc.base_dir.clone(),
            pid: std::process::id(),
            saved_unix: unix_now(),
        };
        match r.write(&file) {
            Ok(()) => self.recovery.written = Some(r.session),
            Err(e) => {
                // Said once: the next attempt waits for the next change.
                self.recovery.written = Some(r.session);
                self.notify(Level::Warning, format!("Autosave failed: {e}"));
            }
        }
    }

    /// Called every frame: autosave shortly after changes stop; delete the recovery file
    /// once there is nothing unsaved.
    pub(crate) fn autosave_tick(&mut self, ctx: &egui::Context) {
        let dirty = self.doc.as_ref().is_some_and(Document::is_dirty);
        if !dirty {
            if self.recovery.written.take().is_some()
                && let Some(file) = &self.recovery.file
            {
                std::fs::remove_file(file).ok();
            }
            self.recovery.seen = None;
            return;
        }
        let Some(doc) = self.doc.as_ref() else { return };
        if self.recovery.written.as_ref() == Some(&doc.session) {
            return;
        }
        let quiet_since = match &self.recovery.seen {
            Some((s, at)) if *s == doc.session => *at,
            _ => {
                self.recovery.seen = Some((doc.session.clone(), Instant::now()));
                Instant::now()
            }
        };
        let waited = quiet_since.elapsed();
        if waited >= AUTOSAVE_AFTER {
            self.autosave_now();
        } else {
            ctx.request_repaint_after(AUTOSAVE_AFTER - waited);
        }
    }

    /// Open the offered recovery as an unsaved session.
    pub fn recover(&mut self) {
        let Some((old_file, r)) = self.recovery.offer.take() else {
            return;
        };
        let saved = r.session_file.as_ref().and_then(|f| Session::load(f).ok());
        let mut doc =
            Document::new(r.session, r.session_file, r.base_dir, Vec::new()).with_saved(saved);
        for problem in doc.reprobe() {
            self.notify(Level::Warning, problem);
        }
        self.set_document(doc);
        // This run's own recovery file takes over before the old one goes.
        self.autosave_now();
        std::fs::remove_file(&old_file).ok();
        self.notify(
            Level::Info,
            "Recovered the unsaved changes. Save to keep them.",
        );
    }

    /// Throw the offered recovery away.
    pub fn discard_recovery(&mut self) {
        if let Some((file, _)) = self.recovery.offer.take() {
            std::fs::remove_file(file).ok();
        }
    }

    pub(crate) fn recovery_offer_ui(&mut self, ui: &mut egui::Ui) {
        let Some((_, r)) = &self.recovery.offer else {
            return;
        };
        let name = r
            .session_file
            .as_ref()
            .and_then(|f| f.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| {
                let t = r.session.song.title.trim();
                if t.is_empty() {
                    "Untitled".into()
                } else {
                    t.to_owned()
                }
            });
        let age = age_text(r.saved_unix);
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("recover-session")).show(ui.ctx(), |ui| {
            ui.heading("Recover unsaved changes?");
            ui.label(format!(
                "Stemdeck closed without saving \"{name}\". Its changes were autosaved {age}."
            ));
            ui.horizontal(|ui| {
                if ui.button("Recover").clicked() {
                    choice = Some(true);
                }
                if ui.button("Discard").clicked() {
                    choice = Some(false);
                }
            });
        });
        match choice {
            Some(true) => self.recover(),
            Some(false) => self.discard_recovery(),
            None => {}
        }
    }

    /// Point missing tracks at files of the same name under `folder` (one undo step).
    /// Returns how many were relinked.
    pub fn relink_from(&mut self, folder: &Path) -> usize {
        let Some(doc) = self.doc.as_mut() else {
            return 0;
        };
        let missing = doc.missing_files();
        let paths: Vec<PathBuf> = missing.iter().map(|(_, p)| p.clone()).collect();
        let found = stemdeck_audio::relink::find_relinks(&paths, folder);
        let moves: Vec<(usize, PathBuf)> = missing
            .iter()
            .zip(found)
            .filter_map(|((i, _), f)| f.map(|f| (*i, f)))
            .collect();
        let n = moves.len();
        if n > 0 {
            doc.edit(|s| {
                for (i, path) in moves {
                    if let Some(t) = s.tracks.get_mut(i) {
                        t.path = path;
                    }
                }
            });
        }
        self.refresh_audio();
        let left = self.doc.as_ref().map_or(0, |d| d.missing_files().len());
        let text = match (n, left) {
            (0, _) => format!("No missing file was found in {}", folder.display()),
            (n, 0) => format!("Relinked {n} files. Save to keep the new locations."),
            (n, left) => format!("Relinked {n} files; {left} still missing."),
        };
        self.notify(if n == 0 { Level::Warning } else { Level::Info }, text);
        n
    }

    /// Read the files again and rebuild playback if track paths changed (a relink, or
    /// its undo or redo).
    pub(crate) fn refresh_audio(&mut self) {
        if !self.doc.as_ref().is_some_and(Document::paths_changed) {
            return;
        }
        let Some(mut doc) = self.doc.take() else {
            return;
        };
        let problems = doc.reprobe();
        let (region, looping, view) = (self.loop_region, self.looping, self.view);
        self.set_document(doc);
        (self.loop_region, self.looping, self.view) = (region, looping, view);
        for p in problems {
            self.notify(Level::Warning, p);
        }
    }

    /// The banner shown while tracks are missing their files, with "Relink…".
    pub(crate) fn missing_files_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = self.doc.as_ref() else { return };
        let missing = doc.missing_files();
        if missing.is_empty() {
            return;
        }
        let names: Vec<String> = missing
            .iter()
            .take(4)
            .map(|(_, p)| {
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let more = missing.len().saturating_sub(names.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        egui::Panel::top("missing-banner").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.colored_label(egui::Color32::from_rgb(240, 180, 60), "!");
                ui.label(format!(
                    "{} track files are missing ({}{more}): they play as silence.",
                    missing.len(),
                    names.join(", ")
                ));
                if ui
                    .button("Relink…")
                    .on_hover_text("Choose a folder; files are matched by name")
                    .clicked()
                    && let Some(folder) = rfd::FileDialog::new()
                        .set_title("Where are the missing files?")
                        .pick_folder()
                {
                    self.relink_from(&folder);
                }
            });
        });
    }
}
