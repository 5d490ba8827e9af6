//! What the app remembers between launches (not part of any session): the last
//! session opened and the recent ones (File ▸ Open Recent). Stored as JSON in the platform config folder, or in
//! `$STEMDECK_CONFIG_DIR` when set (tests, portable installs).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The session file or folder opened last.
    pub last_session: Option<PathBuf>,
    /// Sessions and folders opened or saved lately, newest first (at most
    /// [`RECENT_LIMIT`]).
    pub recent: Vec<PathBuf>,
}

/// How many recent sessions File ▸ Open Recent keeps.
pub const RECENT_LIMIT: usize = 10;

impl Settings {
    /// The folder settings live in.
    pub fn dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("STEMDECK_CONFIG_DIR") {
            return Some(PathBuf::from(d));
        }
        directories::ProjectDirs::from("", "", "Stemdeck").map(|p| p.config_dir().to_owned())
    }

    fn file() -> Option<PathBuf> {
        Self::dir().map(|d| d.join("settings.json"))
    }

    /// Put `path` first in the recent list (once), keeping the newest ten.
    pub fn add_recent(&mut self, path: &std::path::Path) {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_LIMIT);
    }

    /// Drop recent entries whose file or folder is gone; whether any was dropped.
    pub fn prune_recent(&mut self) -> bool {
        let before = self.recent.len();
        self.recent.retain(|p| p.exists());
        self.recent.len() != before
    }

    /// Read the settings; missing or unreadable settings are the defaults.
    pub fn load() -> Settings {
        Self::file()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Write the settings (temporary file, then rename).
    pub fn save(&self) -> std::io::Result<()> {
        let Some(file) = Self::file() else {
            return Ok(());
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = file.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_the_newest_ten_once_each_and_prunes_the_gone() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Settings::default();
        let paths: Vec<PathBuf> = (0..12)
            .map(|i| dir.path().join(format!("{i}.stemdeck")))
            .collect();
        for p in &paths {
            std::fs::write(p, "{}").unwrap();
            s.add_recent(p);
        }
        s.add_recent(&paths[5]);
        assert_eq!(s.recent.len(), RECENT_LIMIT);
        assert_eq!(s.recent[0], paths[5]);
        assert_eq!(s.recent[1], paths[11]);
        assert_eq!(s.recent.iter().filter(|p| **p == paths[5]).count(), 1);
        std::fs::remove_file(&paths[11]).unwrap();
        assert!(s.prune_recent());
        assert!(!s.recent.contains(&paths[11]));
        assert!(!s.prune_recent());
    }
}
