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
    #[error("{path}: cannot write FLAC: {reason}")]
    Flac { path: PathBuf, reason: String },
    #[error("{path}: cannot make the PDF: {reason}")]
    Pdf { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{0}")]
    BadOption(String),
    #[error(
        "{} would clip ({}, {} in all): its peak is {:+.1} dBFS. Nothing was written. \
         Export with automatic trim (--trim auto: one common gain of {:+.1} dB for every file, \
         so the stems still add up to the master) or as 32-bit float (--format wav32f)",
        first.display(),
        describe_count(*files),
        format_args!("{clipped} clipped samples"),
        peak_db,
        trim_db
    )]
    WouldClip {
        /// The loudest file that would clip.
        first: PathBuf,
        /// How many files would clip.
        files: usize,
        clipped: u64,
        /// Its sample peak, dBFS.
        peak_db: f64,
        /// The common trim `--trim auto` would apply, dB.
        trim_db: f64,
    },
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

fn describe_count(files: usize) -> String {
    if files == 1 {
        "1 file".to_owned()
    } else {
        format!("{files} files")
    }
}
