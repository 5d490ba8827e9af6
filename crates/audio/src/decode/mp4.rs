//! The MP4 edit list, which symphonia's MP4 reader ignores: it says how many priming
//! frames to drop (1024 for ffmpeg's AAC encoder, 2112 for Apple's) and how long the
//! audio really is.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// An MP4 track's edit list, reduced to the one case audio files use: a single edit that
/// plays the media from `media_time` for `segment_duration` at normal speed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Mp4Edit {
    /// Movie timescale (ticks per second of `segment_duration`).
    movie_timescale: u32,
    /// Track media timescale (ticks per second of `media_time`).
    media_timescale: u32,
    segment_duration: u64,
    media_time: u64,
}

impl Mp4Edit {
    /// Given the track's decoded length in frames (symphonia's count: the sum of the
    /// sample durations, priming included), return (frames to drop at the start,
    /// playable frames).
    pub(super) fn apply(&self, frames: u64, sample_rate: u32) -> (u64, u64) {
        let to_frames = |ticks: u64, timescale: u32| -> u64 {
            let ts = u128::from(timescale.max(1));
            ((u128::from(ticks) * u128::from(sample_rate) + ts / 2) / ts) as u64
        };
        let skip = to_frames(self.media_time, self.media_timescale).min(frames);
        let after_skip = frames - skip;
        if self.segment_duration == 0 {
            return (skip, after_skip);
        }
        // The segment duration is in movie ticks, often milliseconds: it pins the length
        // only to a tick. Muxers that trim the end (ffmpeg) also shorten the last sample's
        // duration, which is exact, so within a tick the sample durations win.
        let segment = to_frames(self.segment_duration, self.movie_timescale);
        let tick = u64::from(sample_rate).div_ceil(u64::from(self.movie_timescale.max(1)));
        let playable = if after_skip > segment.saturating_add(tick) {
            segment
        } else {
            after_skip
        };
        (skip, playable)
    }
}

/// Read the edit list of track `track_id` of an MP4 file (with Mozilla's `mp4parse`).
/// `None` when there is none, the file cannot be parsed, or the list starts with an empty
/// edit: the track is then played whole, as symphonia gives it. `mp4parse` keeps the
/// first media edit of a list (its media time and segment duration), which is the one
/// audio files use.
pub(super) fn mp4_edit(path: &Path, track_id: u32) -> Option<Mp4Edit> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    let context = mp4parse::read_mp4(&mut reader).ok()?;
    let movie_timescale = u32::try_from(context.timescale?.0)
        .ok()
        .filter(|t| *t > 0)?;
    let track = context
        .tracks
        .iter()
        .find(|t| t.track_id == Some(track_id))?;
    let media_timescale = u32::try_from(track.timescale?.0).ok().filter(|t| *t > 0)?;
    if track.empty_duration?.0 != 0 {
        return None;
    }
    Some(Mp4Edit {
        movie_timescale,
        media_timescale,
        segment_duration: track.edited_duration?.0,
        media_time: track.media_time?.0,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn edit(movie_timescale: u32, segment_duration: u64, media_time: u64) -> Mp4Edit {
        Mp4Edit {
            movie_timescale,
            media_timescale: 44100,
            segment_duration,
            media_time,
        }
    }

    #[test]
    fn mp4_edit_trims_priming_and_padding() {
        // ffmpeg: 1024 priming frames, last sample shortened so the table ends on time;
        // the segment is 250 ms in a 1000 Hz movie timescale.
        assert_eq!(edit(1000, 250, 1024).apply(12049, 44100), (1024, 11025));
        // Segment rounded to the tick (11024.xx frames): the exact sample table wins.
        assert_eq!(edit(1000, 250, 1024).apply(12050, 44100), (1024, 11026));
        // Apple style: 2112 priming frames, every sample a full 1024 frames; only the
        // segment (here in a 600 Hz movie timescale) says where the audio ends.
        assert_eq!(edit(600, 150, 2112).apply(13312, 44100), (2112, 11025));
        // No segment duration: play to the end of the table.
        assert_eq!(edit(1000, 0, 1024).apply(12049, 44100), (1024, 11025));
        // Nonsense never underflows.
        assert_eq!(edit(1000, 250, 99_999).apply(12049, 44100), (12049, 0));
    }

    #[test]
    fn mp4_edit_reads_ffmpeg_files_and_survives_damage() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let aac = dir.join("aac_44100_stereo.m4a");
        let e = mp4_edit(&aac, 1).expect("ffmpeg writes an edit list");
        assert_eq!((e.movie_timescale, e.media_timescale), (1000, 44100));
        assert_eq!((e.segment_duration, e.media_time), (250, 1024));
        assert_eq!(mp4_edit(&aac, 2), None, "no such track");
        assert_eq!(mp4_edit(&dir.join("wav_s16_44100_mono.wav"), 1), None);

        // Every truncation of the file: no panic, and no edit list from a cut moov (ffmpeg
        // writes it last).
        let bytes = std::fs::read(&aac).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let cut = tmp.path().join("cut.m4a");
        for len in (0..bytes.len()).step_by(97) {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            assert_eq!(mp4_edit(&cut, 1), None, "cut at {len}");
        }

        // Every byte of the moov (and the mdat header) damaged, two ways: no panic.
        let moov = bytes.windows(4).position(|w| w == b"moov").unwrap() - 4;
        let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap() - 4;
        let damaged = tmp.path().join("damaged.m4a");
        let mut parsed = 0;
        for at in (mdat..mdat + 16).chain(moov..bytes.len()) {
            for byte in [bytes[at] ^ 0xff, 0] {
                let mut copy = bytes.clone();
                copy[at] = byte;
                std::fs::write(&damaged, &copy).unwrap();
                parsed += usize::from(mp4_edit(&damaged, 1).is_some());
            }
        }
        assert!(parsed > 0);
    }
}
