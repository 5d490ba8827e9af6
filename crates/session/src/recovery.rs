//! Crash recovery: an autosaved copy of a session with unsaved changes, written beside
//! nothing the user owns (the app keeps it in its own folder) and deleted once the
//! session is saved or closed on purpose. If Stemdeck dies, the next launch finds it
//! and offers it back.
//!
//! The file wraps the session JSON (track paths relative to `base_dir`, as in a session
//! file) with where it came from: `{"format": "stemdeck-recovery", "version": 1,
//! "session_file", "base_dir", "pid", "saved_unix", "session": {…}}`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::io::write_atomic;
use crate::{Session, SessionError};

pub const RECOVERY_FORMAT: &str = "stemdeck-recovery";
const RECOVERY_VERSION: u32 = 1;

/// An autosaved session and where it belongs.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovery {
    pub session: Session,
    /// The session file it was opened from or last saved to; `None`: never saved.
    pub session_file: Option<PathBuf>,
    /// The folder relative track paths are resolved against.
    pub base_dir: PathBuf,
    /// The process that wrote it (a live one is still editing it).
    pub pid: u32,
    /// When it was written, seconds since the Unix epoch.
    pub saved_unix: u64,
}

#[derive(Serialize, Deserialize)]
struct RecoveryFile {
    format: String,
    version: u32,
    session_file: Option<PathBuf>,
    base_dir: PathBuf,
    pid: u32,
    saved_unix: u64,
    session: serde_json::Value,
}

/// The path session JSON is written "at" so its track paths are relative to `base_dir`.
fn anchor(base_dir: &Path) -> PathBuf {
    base_dir.join(".stemdeck-recovery")
}

impl Recovery {
    /// Write atomically (a crash while autosaving cannot spoil the previous copy).
    pub fn write(&self, path: &Path) -> Result<(), SessionError> {
        let io_err = |source| SessionError::Io {
            path: path.to_owned(),
            source,
        };
        // A session that cannot be stored (a track path that is not UTF-8) is an error
        // naming the track, never an empty recovery file.
        let session_json = self
            .session
            .try_to_json(&anchor(&self.base_dir))
            .map_err(|e| SessionError::Invalid {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        let session = serde_json::from_str(&session_json).map_err(|e| SessionError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let file = RecoveryFile {
            format: RECOVERY_FORMAT.to_owned(),
            version: RECOVERY_VERSION,
            session_file: self.session_file.clone(),
            base_dir: self.base_dir.clone(),
            pid: self.pid,
            saved_unix: self.saved_unix,
            session,
        };
        let text = serde_json::to_string_pretty(&file).map_err(|e| SessionError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_err)?;
        }
        write_atomic(path, &text, false).map_err(io_err)
    }

    /// Read a recovery file; the message names the file and what is wrong with it.
    pub fn read(path: &Path) -> Result<Recovery, SessionError> {
        let text = std::fs::read_to_string(path).map_err(|source| SessionError::Io {
            path: path.to_owned(),
            source,
        })?;
        let file: RecoveryFile = serde_json::from_str(&text).map_err(|e| SessionError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if file.format != RECOVERY_FORMAT {
            return Err(SessionError::WrongFormat {
                path: path.to_owned(),
            });
        }
        if file.version > RECOVERY_VERSION {
            return Err(SessionError::NewerVersion {
                path: path.to_owned(),
                found: u64::from(file.version),
                supported: RECOVERY_VERSION,
            });
        }
        let session = Session::from_json(&file.session.to_string(), &anchor(&file.base_dir))
            .map_err(|e| SessionError::Invalid {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Recovery {
            session,
            session_file: file.session_file,
            base_dir: file.base_dir,
            pid: file.pid,
            saved_unix: file.saved_unix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Song, Track, TrackId};

    #[test]
    fn a_recovery_round_trips_with_its_track_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("songs");
        let mut s = Session::new(
            48_000,
            Song {
                title: "Lost and found".into(),
                ..Song::default()
            },
        );
        s.tracks
            .push(Track::new(TrackId(1), "Kick", base.join("drums/Kick.wav")));
        let id = s.add_stem("Drums");
        s.move_tracks(&[TrackId(1)], Some(id), None);
        let r = Recovery {
            session: s,
            session_file: Some(base.join("song.stemdeck.json")),
            base_dir: base.clone(),
            pid: 42,
            saved_unix: 1_790_000_000,
        };
        let file = dir.path().join("recovery/x.json");
        r.write(&file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("\"drums/Kick.wav\""),
            "relative paths: {text}"
        );
        assert_eq!(Recovery::read(&file).unwrap(), r);
    }

    #[test]
    fn a_damaged_recovery_file_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.json");
        std::fs::write(&file, "{\"format\": \"stemdeck-recovery\", \"vers").unwrap();
        let e = Recovery::read(&file).unwrap_err().to_string();
        assert!(e.contains("r.json"), "{e}");
        std::fs::write(&file, "{\"format\": \"other\"}").unwrap();
        assert!(Recovery::read(&file).is_err());
    }
}
