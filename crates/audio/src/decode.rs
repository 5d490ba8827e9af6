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
//! (see `mp4_edit`). Whatever the format, [`Decoder::read`] never delivers more than
//! [`FileInfo::frames`], so the count known up front is what a read yields.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;

use crate::AudioError;

/// File extensions Stemdeck offers to open (lower case).
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "aif", "aiff", "aifc", "flac", "mp3", "ogg", "oga", "m4a", "mp4",
    "caf",
];

/// After this many packets in a row fail to decode, the file is given up on.
const MAX_BAD_PACKETS_IN_A_ROW: u32 = 64;

/// What a file is, as `stemdeck info` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct FileInfo {
    pub path: PathBuf,
    /// Container, e.g. "wave", "flac", "ogg".
    pub container: String,
    /// Codec, e.g. "pcm_s24le", "flac", "mp3", "vorbis".
    pub codec: String,
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: usize,
    /// Playable frames at `sample_rate` (encoder delay and padding excluded).
    pub frames: u64,
    /// Bits per sample of the source where the format has one.
    pub bits_per_sample: Option<u32>,
}

impl FileInfo {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// A streaming decoder: planar f32 frames in file order, bounded memory.
pub struct Decoder {
    path: PathBuf,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: FileInfo,
    /// Decoded frames not handed out yet, one Vec per channel.
    pending: Vec<Vec<f32>>,
    pending_pos: usize,
    ended: bool,
    /// Decoded frames still to drop at the start (MP4 edit list: encoder priming).
    skip_left: u64,
    /// Frames still to deliver: `info.frames` minus what `read` has returned.
    remaining: u64,
    /// Whether this reader's packet durations include the trims (see [`playable_frames`]).
    trims_in_dur: bool,
}

fn open_reader(path: &Path) -> Result<Box<dyn FormatReader>, AudioError> {
    let file = File::open(path).map_err(|source| AudioError::Open {
        path: path.to_owned(),
        source,
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(AudioError::Unsupported {
            path: path.to_owned(),
            reason: "it is a folder".into(),
        });
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| AudioError::Unsupported {
            path: path.to_owned(),
            reason: describe(&e),
        })
}

fn describe(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends too early (truncated or empty)".into()
        }
        SymError::Unsupported(what) => format!("unrecognised format or codec: {what}"),
        other => other.to_string(),
    }
}

impl Decoder {
    /// Open a file and find out exactly what it holds.
    pub fn open(path: &Path) -> Result<Decoder, AudioError> {
        let reader = open_reader(path)?;
        let unsupported = |reason: &str| AudioError::Unsupported {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let track = reader
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported("it has no audio track"))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| unsupported("its audio codec is unknown"))?;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| unsupported(&describe(&e)))?;
        let sample_rate = params
            .sample_rate
            .filter(|r| *r > 0)
            .ok_or_else(|| unsupported("its sample rate is not given"))?;
        let channels = params.channels.as_ref().map(|c| c.count()).unwrap_or(0);
        if channels > 2 {
            return Err(AudioError::TooManyChannels {
                path: path.to_owned(),
                channels,
            });
        }
        let codec = decoder.codec_info().short_name.to_owned();
        let track_id = track.id;
        let num_frames = track.num_frames;
        let bits_per_sample = params.bits_per_sample;
        let container = reader.format_info().short_name.to_owned();
        let mut frames = match num_frames {
            Some(n) => n,
            None => count_frames(path, track_id)?,
        };
        // symphonia's MP4 reader plays every decoded frame: apply the edit list here.
        let mut skip = 0;
        if container == "isomp4"
            && let Some(edit) = mp4_edit(path, track_id)
        {
            (skip, frames) = edit.apply(frames, sample_rate);
        }
        let info = FileInfo {
            path: path.to_owned(),
            container,
            codec,
            sample_rate,
            channels: channels.max(1),
            frames,
            bits_per_sample,
        };
        Ok(Decoder {
            path: path.to_owned(),
            reader,
            decoder,
            track_id,
            pending: vec![Vec::new(); info.channels],
            pending_pos: 0,
            ended: false,
            skip_left: skip,
            remaining: frames,
            trims_in_dur: trims_in_dur(&info.container),
            info,
        })
    }

    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Fill the channel slices in `out` (one per file channel, equal lengths) from the
    /// stream. Returns the frames written: fewer than asked only at the end of the file.
    pub fn read(&mut self, out: &mut [&mut [f32]]) -> Result<usize, AudioError> {
        let want = out.iter().map(|c| c.len()).min().unwrap_or(0);
        // Never more than the file's playable length (codec padding after it is dropped).
        let want = want.min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut done = 0;
        while done < want {
            let avail = self.pending.first().map_or(0, |p| p.len()) - self.pending_pos;
            if avail == 0 {
                if self.ended || !self.decode_next()? {
                    break;
                }
                continue;
            }
            if self.skip_left > 0 {
                let n = avail.min(usize::try_from(self.skip_left).unwrap_or(usize::MAX));
                self.pending_pos += n;
                self.skip_left -= n as u64;
                continue;
            }
            let n = avail.min(want - done);
            for (ch, dst) in out.iter_mut().enumerate() {
                let src = self.pending.get(ch).or(self.pending.first());
                if let (Some(src), Some(dst)) = (src, dst.get_mut(done..done + n))
                    && let Some(src) = src.get(self.pending_pos..self.pending_pos + n)
                {
                    dst.copy_from_slice(src);
                }
            }
            self.pending_pos += n;
            done += n;
        }
        self.remaining -= done as u64;
        Ok(done)
    }

    /// Decode the next packet into `pending`. Returns false at the end of the stream.
    fn decode_next(&mut self) -> Result<bool, AudioError> {
        let mut bad_in_a_row = 0;
        loop {
            let packet = match self.reader.next_packet() {
                Ok(Some(p)) => p,
                // A truncated file ends where its data ends: play what is there.
                Ok(None) | Err(SymError::ResetRequired) => return self.finish(),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.finish();
                }
                Err(SymError::DecodeError(_)) if bad_in_a_row < MAX_BAD_PACKETS_IN_A_ROW => {
                    bad_in_a_row += 1;
                    continue;
                }
                Err(e) => {
                    return Err(AudioError::Decode {
                        path: self.path.clone(),
                        reason: describe(&e),
                    });
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            self.pending_pos = 0;
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    if buf.frames() == 0 {
                        continue;
                    }
                    buf.copy_to_vecs_planar::<f32>(&mut self.pending);
                    // Keep exactly the file's channel count (a codec may report more).
                    self.pending.resize_with(self.info.channels, Vec::new);
                    let frames = buf.frames();
                    for ch in &mut self.pending {
                        ch.resize(frames, 0.0);
                    }
                    return Ok(true);
                }
                Err(SymError::DecodeError(_)) if bad_in_a_row < MAX_BAD_PACKETS_IN_A_ROW => {
                    bad_in_a_row += 1;
                    // Silence of the packet's length keeps the rest of the track in sync.
                    let frames = playable_frames(&packet, self.trims_in_dur) as usize;
                    if frames == 0 {
                        continue;
                    }
                    for ch in &mut self.pending {
                        ch.clear();
                        ch.resize(frames, 0.0);
                    }
                    return Ok(true);
                }
                Err(e) => {
                    return Err(AudioError::Decode {
                        path: self.path.clone(),
                        reason: describe(&e),
                    });
                }
            }
        }
    }

    fn finish(&mut self) -> Result<bool, AudioError> {
        self.ended = true;
        for ch in &mut self.pending {
            ch.clear();
        }
        self.pending_pos = 0;
        Ok(false)
    }
}

/// Count playable frames by reading packet headers only (for streams whose header does
/// not say, such as MP3 without a Xing/LAME tag).
fn count_frames(path: &Path, track_id: u32) -> Result<u64, AudioError> {
    let mut reader = open_reader(path)?;
    let trims_in_dur = trims_in_dur(reader.format_info().short_name);
    let mut frames: u64 = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(p)) if p.track_id == track_id => frames += playable_frames(&p, trims_in_dur),
            Ok(Some(_)) | Err(SymError::DecodeError(_)) => {}
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

/// Whether a format reader's packet `dur` still includes the frames its `trim_start` /
/// `trim_end` remove. symphonia's `Packet` docs say `dur` excludes them, and its Ogg
/// reader does so; in 0.6.1 its MPEG audio reader does not (`PacketBuilder::trimmed_dur`
/// computes the trims but leaves `dur` whole). The test `counted_frames_match_the_header`
/// fails if that changes.
fn trims_in_dur(container: &str) -> bool {
    matches!(container, "mp1" | "mp2" | "mp3")
}

/// The playable (untrimmed) frames of a packet.
fn playable_frames(packet: &Packet, trims_in_dur: bool) -> u64 {
    let dur = packet.dur.get();
    if trims_in_dur {
        dur.saturating_sub(packet.trim_start.get().saturating_add(packet.trim_end.get()))
    } else {
        dur
    }
}

/// An MP4 track's edit list, reduced to the one case audio files use: a single edit that
/// plays the media from `media_time` for `segment_duration` at normal speed.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Mp4Edit {
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
    fn apply(&self, frames: u64, sample_rate: u32) -> (u64, u64) {
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

/// Read the edit list of track `track_id` of an MP4 file. `None` when there is none, it
/// cannot be read, or it is anything but a single normal-speed edit (empty edits, several
/// segments): the track is then played whole, as symphonia gives it.
fn mp4_edit(path: &Path, track_id: u32) -> Option<Mp4Edit> {
    use std::io::{Read, Seek, SeekFrom};

    /// A moov box larger than this is not an audio file's.
    const MAX_MOOV: u64 = 64 << 20;
    let mut file = File::open(path).ok()?;
    let file_len = file.metadata().ok()?.len();
    let mut pos = 0u64;
    // Top level: skip everything (mdat may be huge) up to moov, wherever it is.
    let moov = loop {
        if pos.checked_add(8)? > file_len {
            return None;
        }
        file.seek(SeekFrom::Start(pos)).ok()?;
        let mut head = [0u8; 16];
        file.read_exact(head.get_mut(..8)?).ok()?;
        let mut size = u64::from(be_u32(&head, 0)?);
        let mut header = 8;
        if size == 1 {
            file.read_exact(head.get_mut(8..16)?).ok()?;
            size = be_u64(&head, 8)?;
            header = 16;
        } else if size == 0 {
            size = file_len - pos;
        }
        if size < header || pos.checked_add(size)? > file_len {
            return None;
        }
        if head.get(4..8)? == b"moov" {
            if size - header > MAX_MOOV {
                return None;
            }
            let mut body = vec![0u8; usize::try_from(size - header).ok()?];
            file.read_exact(&mut body).ok()?;
            break body;
        }
        pos += size;
    };

    let movie_timescale = timescale(child(&moov, b"mvhd")?)?;
    for trak in children(&moov).filter(|(t, _)| t == b"trak").map(|(_, b)| b) {
        let tkhd = child(trak, b"tkhd")?;
        let id_at = if *tkhd.first()? == 1 { 20 } else { 12 };
        if be_u32(tkhd, id_at)? != track_id {
            continue;
        }
        let media_timescale = timescale(child(child(trak, b"mdia")?, b"mdhd")?)?;
        let elst = child(child(trak, b"edts")?, b"elst")?;
        let version = *elst.first()?;
        if be_u32(elst, 4)? != 1 {
            return None;
        }
        let (segment_duration, media_time, rate_at) = if version == 1 {
            (be_u64(elst, 8)?, be_u64(elst, 16)? as i64, 24)
        } else {
            (u64::from(be_u32(elst, 8)?), i64::from(be_u32(elst, 12)? as i32), 16)
        };
        // Normal speed is 1.0: integer part 1, fraction 0.
        if be_u32(elst, rate_at)? != 0x0001_0000 || media_time < 0 {
            return None;
        }
        return Some(Mp4Edit {
            movie_timescale,
            media_timescale,
            segment_duration,
            media_time: media_time as u64,
        });
    }
    None
}

fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn be_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(be_u32(data, at)?) << 32 | u64::from(be_u32(data, at.checked_add(4)?)?))
}

/// The timescale of an mvhd or mdhd box body (same layout up to it).
fn timescale(body: &[u8]) -> Option<u32> {
    let at = if *body.first()? == 1 { 20 } else { 12 };
    be_u32(body, at).filter(|t| *t > 0)
}

/// The boxes inside `data`, as (type, body). Stops at the first malformed one.
fn children(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let size = be_u32(data, pos)?;
        let kind: [u8; 4] = data.get(pos + 4..pos + 8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, data.len() - pos),
            1 => (16, usize::try_from(be_u64(data, pos + 8)?).ok()?),
            n => (8, usize::try_from(n).ok()?),
        };
        let body = data.get(pos.checked_add(header)?..pos.checked_add(size)?)?;
        pos += size;
        Some((kind, body))
    })
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(data).find(|(k, _)| k == kind).map(|(_, b)| b)
}

/// Whether a path's extension is one Stemdeck opens.
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn edit(movie_timescale: u32, segment_duration: u64, media_time: u64) -> Mp4Edit {
        Mp4Edit { movie_timescale, media_timescale: 44100, segment_duration, media_time }
    }

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
            let Some(header) = track.num_frames else { continue };
            let counted = count_frames(&path, track.id).unwrap();
            assert_eq!(counted, header, "{}", path.display());
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} fixtures checked");
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

        // Every truncation of the file: no panic, and no edit list from a cut moov.
        let bytes = std::fs::read(&aac).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let cut = tmp.path().join("cut.m4a");
        for len in (0..bytes.len()).step_by(97) {
            std::fs::write(&cut, &bytes[..len]).unwrap();
            let _ = mp4_edit(&cut, 1);
        }
    }
}
