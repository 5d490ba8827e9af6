//! What a decoded file is, and what is wrong with it though it still plays.

use std::path::PathBuf;

/// What a file is, as `stemdeck info` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileInfo {
    pub path: PathBuf,
    /// Container, e.g. "wave", "flac", "ogg".
    pub container: String,
    /// Codec, e.g. "pcm_s24le", "flac", "mp3", "vorbis".
    pub codec: String,
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: usize,
    /// Playable frames at `sample_rate` (encoder delay and padding excluded).
    pub frames: u64,
    /// Bits per sample of the source where the format has one.
    pub bits_per_sample: Option<u32>,
    /// What is wrong with the file though it still plays (a truncated file, a WAV header
    /// a crashed recorder left): `frames` is what is really there (see `repair.rs`).
    pub warning: Option<String>,
}

impl FileInfo {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }

    /// The warning with the file's path, for the user: "<path>: <problem>".
    pub fn warning_message(&self) -> Option<String> {
        self.warning
            .as_ref()
            .map(|w| format!("{}: {w}", self.path.display()))
    }
}
