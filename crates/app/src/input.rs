//! What the user points a command at: a session file, a folder, or audio files.

use std::path::{Path, PathBuf};

pub use stemdeck_audio::import::Opened as Loaded;

/// Load one path: a `.json` session, a folder of audio files, or one audio file.
pub fn load(path: &Path) -> anyhow::Result<Loaded> {
    load_many(std::slice::from_ref(&path.to_path_buf()))
}

/// Load a session file, a folder, or a list of audio files.
pub fn load_many(paths: &[PathBuf]) -> anyhow::Result<Loaded> {
    Ok(stemdeck_audio::import::open(paths)?)
}
