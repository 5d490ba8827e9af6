use std::path::PathBuf;

use stemdeck_audio::AudioError;

/// Everything that can stop an export. Each variant names the file or folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write WAV: {reason}")]
    Wav { path: PathBuf, reason: String },
    #[error(
        "{} already exists (and {} more); pass --force to overwrite",
        first.display(),
        more
    )]
    WouldOverwrite { first: PathBuf, more: usize },
    #[error("nothing to export: the session has no stem with tracks in it")]
    NothingToExport,
    #[error("{path}: two stems would be written to this same file; rename one of them")]
    DuplicateName { path: PathBuf },
    #[error("export cancelled; no files were left behind")]
    Cancelled,
}
