//! One track as a block source at the session rate: decoded, converted to the session
//! rate when needed, exactly [`TrackStream::len`] frames long, then silence forever.
//! This is how export (and the live engine's reader thread) pull audio: block by block,
//! so memory stays bounded whatever the song's length.
//!
//! A track is its whole file from sample 0, or clips placed on the timeline
//! ([`crate::clips`]); both read through the same [`TrackStream`].

use std::path::Path;

use stemdeck_session::Track;

use crate::AudioError;
use crate::clips::ClipStream;
use crate::decode::FileInfo;
use crate::file_stream::FileStream;

/// One track's audio at the session rate.
pub struct TrackStream {
    inner: Inner,
}

// A whole file is the usual track; boxing it would add a pointer chase to every read.
#[allow(clippy::large_enum_variant)]
enum Inner {
    File(FileStream),
    Clips(ClipStream),
}

impl TrackStream {
    /// Open `path` for playback at `session_rate`: the whole file from sample 0.
    pub fn open(path: &Path, session_rate: u32) -> Result<TrackStream, AudioError> {
        Ok(TrackStream {
            inner: Inner::File(FileStream::open(path, session_rate)?),
        })
    }

    /// Open `track` at `session_rate`: its file, or its clips where they are placed.
    pub fn for_track(track: &Track, session_rate: u32) -> Result<TrackStream, AudioError> {
        if track.whole_file() {
            return Self::open(&track.path, session_rate);
        }
        Ok(TrackStream {
            inner: Inner::Clips(ClipStream::open(track, session_rate)?),
        })
    }

    /// The file's facts (a track of clips: its first clip's file).
    pub fn info(&self) -> &FileInfo {
        match &self.inner {
            Inner::File(f) => f.info(),
            Inner::Clips(c) => c.info(),
        }
    }

    /// 1 (mono) or 2 (stereo; a track of clips is stereo when any clip is).
    pub fn channels(&self) -> usize {
        match &self.inner {
            Inner::File(f) => f.channels(),
            Inner::Clips(c) => c.channels(),
        }
    }

    /// Length in frames at the session rate (a track of clips: to the end of its last).
    pub fn len(&self) -> u64 {
        match &self.inner {
            Inner::File(f) => f.len(),
            Inner::Clips(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Move to `frame` (session rate); see [`FileStream::seek`].
    pub fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        match &mut self.inner {
            Inner::File(f) => f.seek(frame),
            Inner::Clips(c) => {
                c.seek(frame);
                Ok(())
            }
        }
    }

    /// Fill every channel slice of `out` (one per track channel, equal lengths) with the
    /// next frames: audio up to [`Self::len`], silence after it.
    pub fn read(&mut self, out: &mut [&mut [f32]]) -> Result<(), AudioError> {
        match &mut self.inner {
            Inner::File(f) => f.read(out),
            Inner::Clips(c) => c.read(out),
        }
    }
}
