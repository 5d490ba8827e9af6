use std::path::PathBuf;

/// Everything that can go wrong loading, saving or validating a session.
/// Every variant names the file, so the message alone tells the user what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid session JSON (line {line}, column {column}): {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: not a Stemdeck session (expected \"format\": \"stemdeck-session\")")]
    WrongFormat { path: PathBuf },
    #[error(
        "{path}: written by a newer Stemdeck (session format version {found}; this build reads up to {supported}). Update Stemdeck to open it."
    )]
    NewerVersion {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}
