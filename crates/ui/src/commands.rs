//! The everyday commands behind the File and Edit menus: new, close, quit, add files
//! (also by dropping them on a lane), open requests from another `stemdeck open`, and
//! the session edits (remove track, duplicate or delete a stem, auto-group again) — each
//! edit one undo step.

use std::path::{Path, PathBuf};

use stemdeck_audio::decode::{AUDIO_EXTENSIONS, is_audio_path};
use stemdeck_audio::project::PROJECT_EXTENSIONS;
use stemdeck_session::{Session, Song, StemId, TrackId, grouping};

use crate::app::StemdeckApp;
use crate::document::Document;
use crate::notices::Level;
use crate::state::Pending;

/// Session files: the registered extension, and `.json` (older sessions, other tools).
pub(crate) const SESSION_FILTER: [&str; 2] = [stemdeck_session::SESSION_EXTENSION, "json"];

/// What File ▸ Open lists: sessions, DAW projects and every audio file the decoder reads.
pub(crate) fn open_filter() -> Vec<&'static str> {
    [&SESSION_FILTER[..], PROJECT_EXTENSIONS, AUDIO_EXTENSIONS].concat()
}

/// A dialog filter's extensions as it must be given: the file dialogs match them as
/// case-sensitive globs, and recorders and Windows machines write `KICK.WAV`, so each in
/// lower and in upper case.
pub(crate) fn dialog_extensions(extensions: &[&str]) -> Vec<String> {
    extensions
        .iter()
        .flat_map(|e| [e.to_lowercase(), e.to_uppercase()])
        .collect()
}

impl StemdeckApp {
    /// Whether the open session has unsaved changes.
    fn dirty(&self) -> bool {
        self.doc.as_ref().is_some_and(Document::is_dirty)
    }

    /// Files from a dialog, or from [`Self::dialog_answer`] when a test set it.
    pub(crate) fn pick_files(
        &mut self,
        title: &str,
        filters: &[(&str, &[&str])],
    ) -> Option<Vec<PathBuf>> {
        if let Some(answer) = self.dialog_answer.take() {
            return Some(answer);
        }
        let mut dialog = rfd::FileDialog::new().set_title(title);
        for (name, ext) in filters {
            dialog = dialog.add_filter(*name, &dialog_extensions(ext));
        }
        dialog.pick_files()
    }

    /// File ▸ New Session: an empty session (asking about unsaved changes first).
    pub fn new_session(&mut self) {
        if self.dirty() {
            self.pending = Some(Pending::NewSession);
            return;
        }
        let session = Session::new(48_000, Song::default());
        let base = directories::UserDirs::new()
            .map(|u| u.home_dir().to_owned())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let doc = Document::new(session.clone(), None, base, Vec::new()).with_saved(Some(session));
        self.set_document(doc);
    }

    /// File ▸ Close: no session open (asking about unsaved changes first).
    pub fn close_session(&mut self) {
        if self.dirty() {
            self.pending = Some(Pending::CloseSession);
            return;
        }
        self.doc = None;
        self.engine = None;
        self.selection = Default::default();
        self.audio_problem = None;
        self.looping = false;
        self.loop_region = (0, 0);
    }

    /// File ▸ Quit: close the window (asking about unsaved changes first).
    pub fn quit(&mut self, ctx: &egui::Context) {
        if self.dirty() {
            self.pending = Some(Pending::Close);
            return;
        }
        self.close_confirmed = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// File ▸ Add Files…
    pub(crate) fn add_files_dialog(&mut self) {
        let filters: [(&str, &[&str]); 1] = [("Audio files", AUDIO_EXTENSIONS)];
        if let Some(paths) = self.pick_files("Add audio files to the session", &filters) {
            self.add_files(&paths, None);
        }
    }

    /// Add audio files (or the audio files of folders) to the open session as new
    /// tracks: into `stem`, or grouped by their names when `None`. One undo step. With
    /// no session open, they open as a new one.
    pub fn add_files(&mut self, paths: &[PathBuf], stem: Option<StemId>) {
        if self.doc.is_none() {
            self.open(paths.to_vec());
            return;
        }
        let mut files = Vec::new();
        for p in paths {
            if p.is_dir() {
                match stemdeck_audio::import::scan_folder(p) {
                    Ok(found) => files.extend(found),
                    Err(e) => self.notify(Level::Warning, e.to_string()),
                }
            } else {
                files.push(p.clone());
            }
        }
        if files.is_empty() {
            return;
        }
        // The import reads each file (skipping the unreadable) and names the tracks.
        let import = match stemdeck_audio::import::import_files(&files, "") {
            Ok(i) => i,
            Err(e) => {
                self.notify(Level::Error, format!("Nothing added: {e}"));
                return;
            }
        };
        for p in &import.problems {
            self.notify(Level::Warning, p.to_string());
        }
        let Some(doc) = self.doc.as_mut() else { return };
        let mut added = Vec::new();
        doc.edit(|s| {
            if s.tracks.is_empty() {
                // An empty session takes the rate of what is added.
                s.sample_rate = import.session.sample_rate;
            }
            for t in import.session.tracks {
                let id = s.next_track_id();
                s.tracks.push(stemdeck_session::Track { id, ..t });
                added.push(id);
            }
            match stem.filter(|id| s.stem(*id).is_some()) {
                Some(id) => s.move_tracks(&added, Some(id), None),
                None => grouping::group_tracks(s, &added),
            }
        });
        let n = added.len();
        let into = stem
            .and_then(|id| doc.session.stem(id))
            .map(|s| format!(" to {}", s.name))
            .unwrap_or_default();
        self.selection.tracks = added.into_iter().collect();
        self.selection.stem = None;
        self.notify(
            Level::Info,
            format!("Added {n} track{}{into}", if n == 1 { "" } else { "s" }),
        );
    }

    /// Paths dropped on the window: onto a stem lane, audio files join that stem;
    /// anything else opens (a session, a folder, or files as a new session).
    pub(crate) fn drop_paths(&mut self, paths: Vec<PathBuf>, at: Option<egui::Pos2>) {
        let onto = at.and_then(|p| {
            self.lane_rects
                .iter()
                .find(|(_, r)| r.contains(p))
                .map(|(id, _)| *id)
        });
        let addable = paths.iter().all(|p| p.is_dir() || is_audio_path(p));
        match onto {
            Some(stem) if self.doc.is_some() && addable => self.add_files(&paths, Some(stem)),
            _ => self.open(paths),
        }
    }

    /// Open requests from another `stemdeck open` (see [`crate::instance`]).
    pub(crate) fn poll_open_requests(&mut self, ctx: &egui::Context) {
        let Some(rx) = &self.open_requests else {
            return;
        };
        if self.pending.is_some() {
            // A prompt is up (Quit, New, another open): the request waits its turn, so
            // "Don't save" does what the prompt asked about.
            return;
        }
        let requests: Vec<Vec<PathBuf>> = rx.try_iter().collect();
        for paths in requests {
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
            if !paths.is_empty() {
                self.open(paths);
            }
        }
    }

    /// Edit ▸ Remove Track: the selected tracks leave the session.
    pub fn remove_selected_tracks(&mut self) {
        let ids: Vec<TrackId> = self.selection.tracks.iter().copied().collect();
        let Some(doc) = self.doc.as_mut() else { return };
        doc.edit(|s| s.remove_tracks(&ids));
        self.selection.tracks.clear();
    }

    /// Edit ▸ Duplicate Stem: a copy of the selected stem (which becomes selected).
    pub fn duplicate_selected_stem(&mut self) {
        let Some(id) = self.selection.stem else {
            return;
        };
        let Some(doc) = self.doc.as_mut() else { return };
        let mut new = None;
        doc.edit(|s| new = s.duplicate_stem(id));
        if new.is_some() {
            self.selection.stem = new;
        }
    }

    /// Edit ▸ Delete Stem: its tracks go to Unassigned.
    pub fn delete_selected_stem(&mut self) {
        let Some(id) = self.selection.stem.take() else {
            return;
        };
        let Some(doc) = self.doc.as_mut() else { return };
        doc.edit(|s| s.delete_stem(id));
    }

    /// Edit ▸ Re-run Auto-grouping: every track grouped by its name again (the stems
    /// are rebuilt; undo brings the old ones back).
    pub fn regroup_all(&mut self) {
        let Some(doc) = self.doc.as_mut() else { return };
        doc.edit(grouping::auto_group);
        self.selection.stem = None;
    }

    /// Remember a session or folder in File ▸ Open Recent.
    pub(crate) fn remember_recent(&mut self, path: &Path) {
        self.settings.add_recent(path);
        self.settings.save().ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Open dialog shows every file Stemdeck opens, the formats users miss first
    /// (CAF, AIFF-C, Ogg's .oga, MP4) among them, and every file it shows opens.
    #[test]
    fn the_open_dialog_lists_every_file_stemdeck_opens() {
        let listed = open_filter();
        for ext in [
            "stemdeck",
            "json",
            "dawproject",
            "rpp",
            "wav",
            "wave",
            "bwf",
            "aif",
            "aiff",
            "aifc",
            "caf",
            "flac",
            "mp3",
            "ogg",
            "oga",
            "m4a",
            "mp4",
        ] {
            assert!(listed.contains(&ext), ".{ext} missing from {listed:?}");
        }
        for ext in AUDIO_EXTENSIONS {
            assert!(listed.contains(ext), ".{ext} missing from {listed:?}");
        }
        for ext in &listed {
            let path = PathBuf::from(format!("Take 1.{}", ext.to_uppercase()));
            let opens = is_audio_path(&path)
                || SESSION_FILTER.contains(ext)
                || stemdeck_audio::project::is_project_path(&path);
            assert!(opens, "{} is listed but does not open", path.display());
        }
    }

    #[test]
    fn dialogs_show_upper_case_names_too() {
        let shown = dialog_extensions(&["wav", "flac"]);
        assert_eq!(shown, ["wav", "WAV", "flac", "FLAC"]);
    }
}
