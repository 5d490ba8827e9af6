use std::path::PathBuf;

use stemdeck_audio::AudioError;
use stemdeck_export::ExportError;

/// Everything that can stop a check or a repair. Each variant names the file or folder.
/// (Problems found *in* the package are not errors: they are in the [`crate::Report`].)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// The folder to check cannot be used (missing, not a folder, no audio in it).
    #[error("{path}: {reason}")]
    Folder { path: PathBuf, reason: String },
    /// `--master FILE` names a file that cannot be the master.
    #[error("{path}: cannot be the master: {reason}")]
    Master { path: PathBuf, reason: String },
    /// The repair's output folder cannot be used.
    #[error("{path}: {reason}")]
    Output { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Nothing in the package can be repaired (no readable stem).
    #[error("{path}: nothing to repair: {reason}")]
    NothingToRepair { path: PathBuf, reason: String },
    #[error("{path}: cannot measure the loudness: {reason}")]
    Loudness { path: PathBuf, reason: String },
}
