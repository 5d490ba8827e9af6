//! What the app remembers between launches (not part of any session): the last
//! session opened. Stored as JSON in the platform config folder, or in
//! `$STEMDECK_CONFIG_DIR` when set (tests, portable installs).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The session file or folder opened last.
    pub last_session: Option<PathBuf>,
}

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
