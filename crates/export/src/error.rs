use std::path::PathBuf;

use stemdeck_audio::AudioError;

/// Everything that can stop an export. Each variant names the file or folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// Reading or writing a file failed. A temporary `.<name>.partial` file is shown
    /// by the name it was going to have (it is deleted on the error).
    #[error("{}: {}", shown_path(path), describe_io(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot make the export folder: {}", describe_io(source))]
    OutDir {
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
    /// An option that cannot be used (an unknown format, a tail out of range…).
    #[error("{0}")]
    BadOption(String),
    /// The rate converter failed on audio it was given (the rates were accepted when it
    /// was made): an internal failure, not an option to change.
    #[error("{path}: rate conversion failed: {reason}")]
    Resample { path: PathBuf, reason: String },
    /// The EBU R128 loudness meter could not be made for this file or refused its
    /// audio: an internal failure, not an option to change.
    #[error("{path}: loudness meter (EBU R128) failed: {reason}")]
    Loudness { path: PathBuf, reason: String },
    /// A rule the export keeps by construction was broken: a bug in Stemdeck. Nothing is
    /// written rather than a file of the wrong length.
    #[error("internal error: {0}")]
    Internal(String),
    /// An effect in the session cannot be built (a parameter out of range).
    #[error("effects: {0}")]
    Effect(#[from] stemdeck_effects::EffectError),
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

/// The path a user knows: the final name of a temporary `.<name>.partial` file.
fn shown_path(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".partial"))
    {
        Some(real) if !real.is_empty() => path.with_file_name(real).display().to_string(),
        _ => path.display().to_string(),
    }
}

/// An I/O error with what it means for an export.
fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    let hint = match e.kind() {
        K::StorageFull | K::FileTooLarge | K::QuotaExceeded => {
            " (the disk is full, or a file-size limit was reached)"
        }
        K::ReadOnlyFilesystem | K::PermissionDenied => " (choose a folder you can write to)",
        K::NotADirectory => " (a file stands where a folder should be)",
        _ => "",
    };
    format!("{e}{hint}")
}

fn describe_count(files: usize) -> String {
    if files == 1 {
        "1 file".to_owned()
    } else {
        format!("{files} files")
    }
}
