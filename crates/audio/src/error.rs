use std::path::PathBuf;

/// Everything that can go wrong reading audio. Each variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a supported audio file ({reason})")]
    Unsupported { path: PathBuf, reason: String },
    #[error(
        "{path}: {channels} channels; Stemdeck takes mono and stereo files (split or downmix it first)"
    )]
    TooManyChannels { path: PathBuf, channels: usize },
    #[error("{path}: damaged audio: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("{path}: cannot resample from {from} Hz to {to} Hz: {reason}")]
    Resample {
        path: PathBuf,
        from: u32,
        to: u32,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Folder { path: PathBuf, reason: String },
    /// The file was cut short or replaced while it was being read.
    #[error(
        "{path}: the file changed while Stemdeck was reading it ({reason}); try again once it is complete"
    )]
    Changed { path: PathBuf, reason: String },
    /// A file that is audio but cannot be a track (its name cannot be stored).
    #[error("{path}: {reason}")]
    Unusable { path: PathBuf, reason: String },
    /// A track of a session file whose audio cannot be read.
    #[error("{session}: track \"{track}\": {source}")]
    Track {
        session: PathBuf,
        track: String,
        #[source]
        source: Box<AudioError>,
    },
}
