//! How many frames a file really holds: the header's count checked against the file (a
//! truncated copy plays what is there; a WAV header a crashed recorder left is repaired,
//! see `repair.rs`), packets counted where the header says nothing, and the MP4 edit
//! list's priming and padding taken off.

use std::path::Path;

use stemdeck_session::units::format_time;
use symphonia::core::errors::Error as SymError;
use symphonia::core::packet::Packet;

use super::formats::trims_in_dur;
use super::mp4::mp4_edit;
use super::probe::{MAX_BAD_PACKETS_IN_A_ROW, describe, open_reader};
use crate::{AudioError, repair};

/// What the opened track says of itself.
pub(super) struct Track<'a> {
    pub(super) path: &'a Path,
    pub(super) id: u32,
    /// The format reader's short name ("isomp4", "wave", ...).
    pub(super) container: &'a str,
    pub(super) sample_rate: u32,
    pub(super) channels: usize,
    pub(super) bits_per_sample: Option<u32>,
    /// The frame count the header gives, if any.
    pub(super) header_frames: Option<u64>,
    /// Whether the track's timestamps count frames.
    pub(super) ts_are_frames: bool,
}

/// A track's playable length.
pub(super) struct Length {
    /// Decoded frames to drop at the start (the MP4 edit list's priming).
    pub(super) skip: u64,
    /// Playable frames after them.
    pub(super) frames: u64,
    /// What is wrong with the file though it still plays.
    pub(super) warning: Option<String>,
}

/// The track's playable length; `wav_fix` is what the WAV header repair changed, if it
/// had to.
pub(super) fn measure(
    track: &Track,
    wav_fix: Option<&repair::WavFix>,
) -> Result<Length, AudioError> {
    let Track {
        path,
        id: track_id,
        container,
        sample_rate,
        channels,
        bits_per_sample,
        header_frames: num_frames,
        ts_are_frames,
    } = *track;
    let mut warning = None;
    let mut frames = match num_frames {
        Some(n) => n,
        None => count_frames(path, track_id)?,
    };
    if let Some(fix) = wav_fix {
        if frames == 0 {
            return Err(AudioError::Unsupported {
                path: path.to_owned(),
                reason: "the file holds only a header, no audio (a copy or recording that stopped at its start)".to_owned(),
            });
        }
        let bytes_per_frame =
            u64::from(bits_per_sample.unwrap_or(16).div_ceil(8)) * channels.max(1) as u64;
        if fix.aiff {
            // AIFF gives its length in frames ("COMM"), which the fix leaves alone.
            frames = frames.min(count_frames(path, track_id)?);
        }
        warning = Some(fix.describe(bytes_per_frame, sample_rate, frames));
    } else if num_frames.is_some() && ts_are_frames {
        // A header that gives a length is checked at the file's end: a file cut short
        // plays what is there rather than silence up to the promised length.
        let whole = open_reader(path)
            .map(|mut r| repair::reaches_end(r.as_mut(), track_id, frames))
            .unwrap_or(false);
        if !whole {
            let present = count_frames(path, track_id)?;
            if present < frames {
                warning = Some(format!(
                    "the file ends early: its header promises {} but only {} is there \
                     (a truncated copy?); using what is there",
                    format_time(frames, sample_rate),
                    format_time(present, sample_rate)
                ));
                frames = present;
            }
        }
    }
    // symphonia's MP4 reader plays every decoded frame: apply the edit list here.
    let mut skip = 0;
    if container == "isomp4"
        && let Some(edit) = mp4_edit(path, track_id)
    {
        (skip, frames) = edit.apply(frames, sample_rate);
    }
    Ok(Length {
        skip,
        frames,
        warning,
    })
}

/// Count playable frames by reading packet headers only (for streams whose header does
/// not say, such as MP3 without a Xing/LAME tag).
pub(super) fn count_frames(path: &Path, track_id: u32) -> Result<u64, AudioError> {
    let mut reader = open_reader(path)?;
    let trims_in_dur = trims_in_dur(reader.format_info().short_name);
    let mut frames: u64 = 0;
    // A reader may report the same damage again and again without moving on (symphonia's
    // MP4 reader with a sample table but no chunk offsets: found by fuzzing, it hung
    // here): give up after as many errors in a row as decoding does.
    let mut bad_in_a_row = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(p)) => {
                bad_in_a_row = 0;
                if p.track_id == track_id {
                    frames += playable_frames(&p, trims_in_dur);
                }
            }
            Err(SymError::DecodeError(_)) if bad_in_a_row < MAX_BAD_PACKETS_IN_A_ROW => {
                bad_in_a_row += 1;
            }
            Ok(None) | Err(SymError::ResetRequired) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => {
                return Err(AudioError::Decode {
                    path: path.to_owned(),
                    reason: describe(&e),
                });
            }
        }
    }
    Ok(frames)
}

/// The playable (untrimmed) frames of a packet.
pub(super) fn playable_frames(packet: &Packet, trims_in_dur: bool) -> u64 {
    let dur = packet.dur.get();
    if trims_in_dur {
        dur.saturating_sub(
            packet
                .trim_start
                .get()
                .saturating_add(packet.trim_end.get()),
        )
    } else {
        dur
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use symphonia::core::formats::TrackType;

    use super::*;
    use crate::decode::is_audio_path;

    /// Counting packets gives what the container header says, for every fixture whose
    /// header says it (the count is the fallback for streams whose header does not).
    #[test]
    fn counted_frames_match_the_header() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !is_audio_path(&path) || path.to_string_lossy().contains("3ch") {
                continue;
            }
            let reader = open_reader(&path).unwrap();
            let track = reader.default_track(TrackType::Audio).unwrap();
            let Some(header) = track.num_frames else {
                continue;
            };
            let counted = count_frames(&path, track.id).unwrap();
            assert_eq!(counted, header, "{}", path.display());
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} fixtures checked");
    }
}
