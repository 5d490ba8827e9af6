//! Decoding any file a producer receives into planar f32 at the file's own rate.
//!
//! symphonia does the work; this module adds what a mixer needs on top: an exact frame
//! count up front (so every stem can be cut to the session length before rendering),
//! gapless trimming, and damaged-stream tolerance that never loses sync: a packet that
//! fails to decode becomes silence of the same length.
//!
//! Gapless trimming: symphonia trims MP3 (LAME/Xing tag) and Vorbis (granule positions)
//! encoder delay and padding itself. Its MP4 reader ignores the edit list, which is where
//! MP4/M4A files (AAC above all) say how many priming frames to drop (1024 for ffmpeg's
//! AAC encoder, 2112 for Apple's) and how long the audio really is; that is done here
//! (see `mp4.rs`, which reads the edit list with Mozilla's `mp4parse`). Whatever the
//! format, [`Decoder::read`] never delivers more than [`FileInfo::frames`], so the count
//! known up front is what a read yields.
//!
//! The parts, each depending only on those after it: `decoder` (the [`Decoder`]),
//! `length` (how many frames a file really holds), `probe` (opening the format reader),
//! `mp4` (the edit list), `formats` (extensions and per-format quirks), `info`
//! ([`FileInfo`]), `guard` (symphonia's panics caught).
//!
//! Seeking ([`Decoder::seek`]) is exact: after `seek(n)`, reading gives what reading from
//! the start and dropping `n` frames gives. See that method for how.

mod decoder;
mod formats;
mod guard;
mod info;
mod length;
mod mp4;
mod probe;

pub use decoder::{Decoder, MAX_SAMPLE};
pub use formats::{AUDIO_EXTENSIONS, is_audio_path};
pub use guard::panic_is_guarded;
pub use info::FileInfo;
