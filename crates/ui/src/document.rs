//! The open session with its file, its saved state and its undo history.
//!
//! Widgets edit `session` directly. At quiet moments (no button held, no text being
//! typed) [`Document::checkpoint`] compares it with the last checkpoint and, if it
//! changed, records one undo step — so a fader drag or a name typed is one step, not
//! one per frame or per key.

use std::path::{Path, PathBuf};

use stemdeck_audio::decode::FileInfo;
use stemdeck_audio::import::session_len;
use stemdeck_session::Session;

fn track_paths(session: &Session) -> Vec<PathBuf> {
    session.tracks.iter().map(|t| t.path.clone()).collect()
}

/// How many undo steps are kept.
const UNDO_LIMIT: usize = 500;

pub struct Document {
    pub session: Session,
    /// The session file, once saved or when opened from one.
    pub path: Option<PathBuf>,
    /// Where the tracks came from when imported (for default save/export places).
    pub base_dir: PathBuf,
    /// What each track's file is (same order as `session.tracks`); `None` if unreadable.
    pub infos: Vec<Option<FileInfo>>,
    /// The track paths `infos` were read from (a relink or its undo changes them).
    probed: Vec<PathBuf>,
    saved: Option<Session>,
    checkpoint: Session,
    undo: Vec<Session>,
    redo: Vec<Session>,
}

impl Document {
    pub fn new(
        session: Session,
        path: Option<PathBuf>,
        base_dir: PathBuf,
        infos: Vec<Option<FileInfo>>,
    ) -> Self {
        let saved = path.as_ref().map(|_| session.clone());
        Self {
            probed: track_paths(&session),
            checkpoint: session.clone(),
            session,
            path,
            base_dir,
            infos,
            saved,
            undo: Vec::new(),
            redo: Vec::new(),
        }
    }

    /// A document whose saved state is `saved` (the file on disk), not what it holds:
    /// a recovered session is unsaved until the user saves it.
    pub fn with_saved(mut self, saved: Option<Session>) -> Self {
        self.saved = saved;
        self
    }

    /// Whether track paths changed since the files were read.
    pub fn paths_changed(&self) -> bool {
        self.session.tracks.len() != self.probed.len()
            || self
                .session
                .tracks
                .iter()
                .zip(&self.probed)
                .any(|(t, p)| &t.path != p)
    }

    /// Read every track's file again; returns the problems of files that are there but
    /// cannot be read, one message each. Files that are not there are not in it: the
    /// missing-files banner ([`Self::missing_files`]) reports those.
    pub fn reprobe(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        self.infos = stemdeck_audio::import::probe_session(&self.session)
            .into_iter()
            .zip(&self.session.tracks)
            .map(|(r, track)| {
                r.map_err(|e| {
                    if track.path.exists() {
                        problems.push(e.to_string());
                    }
                })
                .ok()
            })
            .collect();
        self.probed = track_paths(&self.session);
        problems
    }

    /// Tracks whose file is not there (the session still opens; they play silence).
    pub fn missing_files(&self) -> Vec<(usize, PathBuf)> {
        self.session
            .tracks
            .iter()
            .enumerate()
            .filter(|(i, t)| self.infos.get(*i).is_none_or(Option::is_none) && !t.path.exists())
            .map(|(i, t)| (i, t.path.clone()))
            .collect()
    }

    /// Session length in frames (end of the longest stemmed track).
    pub fn len(&self) -> u64 {
        session_len(&self.session, &self.infos)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Unsaved changes?
    pub fn is_dirty(&self) -> bool {
        self.saved.as_ref() != Some(&self.session)
    }

    /// Record an undo step if the session changed since the last one.
    pub fn checkpoint(&mut self) -> bool {
        if self.session == self.checkpoint {
            return false;
        }
        let before = std::mem::replace(&mut self.checkpoint, self.session.clone());
        self.undo.push(before);
        if self.undo.len() > UNDO_LIMIT {
            self.undo.remove(0);
        }
        self.redo.clear();
        true
    }

    /// Apply an edit as one undo step of its own.
    pub fn edit(&mut self, f: impl FnOnce(&mut Session)) {
        self.checkpoint();
        f(&mut self.session);
        self.checkpoint();
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty() || self.session != self.checkpoint
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn undo(&mut self) {
        self.checkpoint();
        if let Some(prev) = self.undo.pop() {
            let now = std::mem::replace(&mut self.session, prev);
            self.redo.push(now);
            self.checkpoint = self.session.clone();
        }
    }

    pub fn redo(&mut self) {
        self.checkpoint();
        if let Some(next) = self.redo.pop() {
            let now = std::mem::replace(&mut self.session, next);
            self.undo.push(now);
            self.checkpoint = self.session.clone();
        }
    }

    /// Save to `path` (atomically, keeping a backup) and remember it as the session file.
    pub fn save_to(&mut self, path: &Path) -> Result<(), stemdeck_session::SessionError> {
        self.session.save(path)?;
        self.path = Some(path.to_owned());
        if let Some(dir) = path.parent() {
            self.base_dir = dir.to_owned();
        }
        self.saved = Some(self.session.clone());
        Ok(())
    }

    /// Forget unsaved changes as changes (the user chose not to save them).
    pub fn save_to_nowhere(&mut self) {
        self.saved = Some(self.session.clone());
    }

    /// A name for the window title and prompts.
    pub fn display_name(&self) -> String {
        if let Some(p) = &self.path {
            return p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        if self.session.song.title.is_empty() {
            "Untitled".into()
        } else {
            self.session.song.title.clone()
        }
    }

    /// Where "Save" writes when the session has no file yet.
    pub fn suggested_path(&self) -> PathBuf {
        let title = if self.session.song.title.trim().is_empty() {
            "Untitled"
        } else {
            self.session.song.title.trim()
        };
        self.base_dir.join(format!(
            "{}.{}",
            stemdeck_export::naming::safe_file_name(title),
            stemdeck_session::SESSION_EXTENSION
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stemdeck_session::Song;

    fn doc() -> Document {
        Document::new(
            Session::new(48_000, Song::default()),
            None,
            PathBuf::from("."),
            Vec::new(),
        )
    }

    #[test]
    fn continuous_changes_are_one_undo_step() {
        let mut d = doc();
        for c in "Night".chars() {
            d.session.song.title.push(c); // typed, frame by frame
        }
        d.checkpoint();
        d.session.song.artist = "X".into();
        d.checkpoint();
        d.undo();
        assert_eq!(d.session.song.title, "Night");
        assert_eq!(d.session.song.artist, "");
        d.undo();
        assert_eq!(d.session.song.title, "");
        assert!(!d.can_undo());
        d.redo();
        d.redo();
        assert_eq!(d.session.song.artist, "X");
        assert!(!d.can_redo());
    }

    #[test]
    fn an_edit_after_undo_drops_the_redo_branch() {
        let mut d = doc();
        d.edit(|s| s.song.bpm = Some(120.0));
        d.undo();
        d.edit(|s| s.song.key = "Am".into());
        assert!(!d.can_redo());
        assert!(d.is_dirty());
    }
}
