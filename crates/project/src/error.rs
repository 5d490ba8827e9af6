use std::path::PathBuf;

/// A project or file that cannot be read at all. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: cannot be read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a {format} project: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error("{}: cannot extract the embedded audio to {}: {source}", path.display(), to.display())]
    Extract {
        path: PathBuf,
        to: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a project Stemdeck reads (a .dawproject or .rpp file)", path.display())]
    UnknownFormat { path: PathBuf },
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn invalid(
        path: &std::path::Path,
        format: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            path: path.to_path_buf(),
            format,
            reason: reason.into(),
        }
    }
}
