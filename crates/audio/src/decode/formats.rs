//! What the decoder knows of each format: the file extensions it opens, and the quirks
//! of symphonia's readers and codecs it works around.

use std::path::Path;

/// File extensions of the audio files the decoder reads, lower case: what the Open and
/// Add Files dialogs list, a folder scan picks up and [`is_audio_path`] accepts. Defined
/// in the session crate (auto-grouping drops them from track names too), listed here
/// with the decoder it describes.
pub use stemdeck_session::AUDIO_EXTENSIONS;

/// Whether a path's extension is one Stemdeck opens.
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Whether a format reader's packet `dur` still includes the frames its `trim_start` /
/// `trim_end` remove. symphonia's `Packet` docs say `dur` excludes them, and its Ogg
/// reader does so; in 0.6.1 its MPEG audio reader does not (`PacketBuilder::trimmed_dur`
/// computes the trims but leaves `dur` whole). The test `counted_frames_match_the_header`
/// fails if that changes.
pub(super) fn trims_in_dur(container: &str) -> bool {
    matches!(container, "mp1" | "mp2" | "mp3")
}

/// Whether a codec (symphonia's short name) decodes each packet on its own, so a decoder
/// needs no pre-roll after a seek.
pub(super) fn is_lossless(codec: &str) -> bool {
    codec.starts_with("pcm") || matches!(codec, "flac" | "alac")
}
