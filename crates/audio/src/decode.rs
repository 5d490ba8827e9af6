//! Decoding any file a producer receives into planar f32 at the file's own rate.
//!
//! symphonia does the work; this module adds what a mixer needs on top: an exact frame
//! count up front (so every stem can be cut to the session length before rendering),
//! gapless trimming (symphonia's decoders trim MP3/Vorbis/AAC encoder delay and padding
//! from the container's gapless info), and damaged-stream tolerance that never loses
//! sync: a packet that fails to decode becomes silence of the same length.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

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
        let frames = match num_frames {
            Some(n) => n,
            None => count_frames(path, track_id)?,
        };
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
        let mut done = 0;
        while done < want {
            let avail = self.pending.first().map_or(0, |p| p.len()) - self.pending_pos;
            if avail == 0 {
                if self.ended || !self.decode_next()? {
                    break;
                }
                continue;
            }
            let n = avail.min(want - done);
            for (ch, dst) in out.iter_mut().enumerate() {
                let src = self.pending.get(ch).or(self.pending.first());
                if let (Some(src), Some(dst)) = (src, dst.get_mut(done..done + n)) {
                    if let Some(src) = src.get(self.pending_pos..self.pending_pos + n) {
                        dst.copy_from_slice(src);
                    }
                }
            }
            self.pending_pos += n;
            done += n;
        }
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
                    let trim = packet.trim_start.get().saturating_add(packet.trim_end.get());
                    let frames = packet.dur.get().saturating_sub(trim) as usize;
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
    let mut frames: u64 = 0;
    loop {
        match reader.next_packet() {
            Ok(Some(p)) if p.track_id == track_id => {
                let dur = p.dur.get();
                let trim = p.trim_start.get().saturating_add(p.trim_end.get());
                frames += dur.saturating_sub(trim);
            }
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

/// Whether a path's extension is one Stemdeck opens.
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
