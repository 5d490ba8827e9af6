//! The streaming decoder: planar f32 in file order, packets that fail to decode kept as
//! silence of their length, exact seeking.

use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::units::Timestamp;

use super::formats::{is_lossless, trims_in_dur};
use super::guard::guarded;
use super::info::FileInfo;
use super::length::{self, Length, Track, playable_frames};
use super::probe::{MAX_BAD_PACKETS_IN_A_ROW, describe, open_reader, open_reader_fixed};
use crate::AudioError;

/// The most frames a packet that fails to decode may stand for as silence when its
/// codec states no maximum. No codec we read has longer packets (FLAC's largest block is
/// 65535 frames); a damaged MP4 sample table can claim billions (found by fuzzing: a
/// 15 GB allocation).
const MAX_SILENT_PACKET_FRAMES: u64 = 1 << 17;

/// Frames a lossy decoder is started before a seek target, to be decoded and dropped: its
/// output depends on earlier packets (MP3: bit reservoir, MDCT overlap and synthesis
/// filterbank, about 3 frames of 1152; AAC and Vorbis: the MDCT overlap, one packet), so
/// right after a reset it is wrong for a packet or so. 8192 frames covers them all with
/// room to spare (a few dozen microseconds of decoding). tests/seek.rs checks that the
/// output after a seek equals the sequential decode.
const LOSSY_PREROLL: u64 = 8192;

/// When a format reader's seek lands after the target (symphonia issue #261, FLAC), it is
/// asked again this much earlier (on top of the pre-roll), then the file is decoded from
/// its start.
const SEEK_RETRY_BACKOFF: [u64; 3] = [0, 1 << 16, 1 << 20];

/// A streaming decoder: planar f32 frames in file order, bounded memory.
pub struct Decoder {
    path: PathBuf,
    /// The file's size and modification time when opened: a stream that ends before its
    /// length while these changed was cut short or replaced under us (see [`Self::finish`]).
    opened_as: (u64, Option<std::time::SystemTime>),
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    /// What `decoder` was made from (to make a fresh one, see [`Self::fresh_decoder`]).
    codec_params: AudioCodecParameters,
    track_id: u32,
    info: FileInfo,
    /// Decoded frames not handed out yet, one Vec per channel.
    pending: Vec<Vec<f32>>,
    pending_pos: usize,
    ended: bool,
    /// Decoded frames still to drop before the next one delivered: the MP4 edit list's
    /// encoder priming at the start, the way to the target after a seek.
    skip_left: u64,
    /// Frames still to deliver: `info.frames` minus the position.
    remaining: u64,
    /// Whether this reader's packet durations include the trims (see [`playable_frames`]).
    trims_in_dur: bool,
    /// Decoded frames dropped at the start (MP4 edit list), before frame 0.
    start_skip: u64,
    /// Timestamp (track time base) of the first decoded frame in `pending`.
    pending_ts: i64,
    /// Timestamp just after the last packet decoded (`i64::MIN` before the first).
    decoded_end_ts: i64,
    /// Timestamp of the first decoded frame of the stream, once seen (see [`Self::seek`]).
    first_ts: Option<i64>,
    /// Whether the track's timestamps count frames (time base 1 / sample rate), which
    /// [`Self::seek`] needs to use the format reader's seek.
    ts_are_frames: bool,
    /// Frames to decode and drop before a seek target (see [`LOSSY_PREROLL`]).
    preroll: u64,
}

impl Decoder {
    /// Open a file and find out exactly what it holds.
    pub fn open(path: &Path) -> Result<Decoder, AudioError> {
        // Opening probes, counts packets and seeks near the end to check the length, all
        // in symphonia, which can panic on damaged files (fuzzing found a division by
        // zero in its MP3 seek): a panic here means a damaged file, never a crash.
        guarded(|| Self::open_unguarded(path)).map_err(|_| AudioError::Unsupported {
            path: path.to_owned(),
            reason: "it is damaged: its data makes no sense as audio".into(),
        })?
    }

    fn open_unguarded(path: &Path) -> Result<Decoder, AudioError> {
        let opened_as = file_stamp(path).unwrap_or((0, None));
        let (reader, wav_fix) = open_reader_fixed(path)?;
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
        let codec_params = params.clone();
        let ts_are_frames = track.time_base.is_some_and(|tb| {
            u64::from(tb.numer.get()) * u64::from(sample_rate) == u64::from(tb.denom.get())
        });
        let track_id = track.id;
        let num_frames = track.num_frames;
        let bits_per_sample = params.bits_per_sample;
        let container = reader.format_info().short_name.to_owned();
        let Length {
            skip,
            frames,
            warning,
        } = length::measure(
            &Track {
                path,
                id: track_id,
                container: &container,
                sample_rate,
                channels,
                bits_per_sample,
                header_frames: num_frames,
                ts_are_frames,
            },
            wav_fix.as_ref(),
        )?;
        let info = FileInfo {
            path: path.to_owned(),
            container,
            codec,
            sample_rate,
            channels: channels.max(1),
            frames,
            bits_per_sample,
            warning,
        };
        Ok(Decoder {
            path: path.to_owned(),
            opened_as,
            reader,
            decoder,
            codec_params,
            track_id,
            pending: vec![Vec::new(); info.channels],
            pending_pos: 0,
            ended: false,
            skip_left: skip,
            remaining: frames,
            trims_in_dur: trims_in_dur(&info.container),
            start_skip: skip,
            pending_ts: 0,
            decoded_end_ts: i64::MIN,
            first_ts: None,
            ts_are_frames,
            preroll: if is_lossless(&info.codec) {
                0
            } else {
                LOSSY_PREROLL
            },
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
            let copied = self.read_with(want - done, |pending, range| {
                let n = range.len();
                for (ch, dst) in out.iter_mut().enumerate() {
                    let src = pending.get(ch).or(pending.first());
                    if let (Some(src), Some(dst)) = (src, dst.get_mut(done..done + n))
                        && let Some(src) = src.get(range.clone())
                    {
                        dst.copy_from_slice(src);
                    }
                }
                n
            })?;
            match copied {
                Some(n) => done += n,
                None => break,
            }
        }
        Ok(done)
    }

    /// The next decoded frames where the decoder keeps them, without a copy: `f` gets
    /// one buffer per file channel and the range of them that comes next (at most `max`
    /// frames, at least one). `None` at the end of the file.
    pub fn read_with<R>(
        &mut self,
        max: usize,
        f: impl FnOnce(&[Vec<f32>], std::ops::Range<usize>) -> R,
    ) -> Result<Option<R>, AudioError> {
        // Never more than the file's playable length (codec padding after it is dropped).
        let max = max.min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        if max == 0 {
            return Ok(None);
        }
        loop {
            let avail = self.pending.first().map_or(0, |p| p.len()) - self.pending_pos;
            if avail == 0 {
                if self.ended || !self.decode_next()? {
                    return Ok(None);
                }
                continue;
            }
            if self.skip_left > 0 {
                let n = avail.min(usize::try_from(self.skip_left).unwrap_or(usize::MAX));
                self.pending_pos += n;
                self.skip_left -= n as u64;
                continue;
            }
            let n = avail.min(max);
            let range = self.pending_pos..self.pending_pos + n;
            self.pending_pos += n;
            self.remaining -= n as u64;
            return Ok(Some(f(&self.pending, range)));
        }
    }

    /// Move to `frame` (at the file's rate): the next [`Self::read`] starts there, with
    /// exactly what reading from the start and dropping `frame` frames gives. At or past
    /// the end, reading gives nothing (until a seek back).
    ///
    /// How: the format reader seeks (symphonia's accurate mode) to the packet holding a
    /// point a little before the target (lossy codecs: [`LOSSY_PREROLL`] frames before, so
    /// the decoder, reset, has settled by the target), and the frames from there up to the
    /// target are decoded and dropped. Where the frames are counted from: frame 0 is the
    /// first frame the stream decodes to (symphonia's MP3 and Ogg readers already trim
    /// encoder delay from their timestamps), plus the MP4 edit list's priming skip. Should
    /// the reader fail to seek, or land after the target (symphonia #261), it is asked
    /// again further back, then the file is reopened and decoded from its start: slow, but
    /// never wrong.
    pub fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        self.clear_pending();
        if frame >= self.info.frames {
            self.skip_left = 0;
            self.remaining = 0;
            return Ok(());
        }
        if self.ts_are_frames && self.seek_reader(frame)? {
            self.remaining = self.info.frames - frame;
            return Ok(());
        }
        self.rewind(frame)
    }

    /// Seek with the format reader. Returns false if it cannot be used (then nothing is
    /// known about the position).
    fn seek_reader(&mut self, frame: u64) -> Result<bool, AudioError> {
        // The timestamp of frame 0: seen on the first packet (decode it if not read yet).
        let first = match self.first_ts {
            Some(ts) => ts,
            None => {
                if !self.decode_next()? {
                    return Ok(false);
                }
                match self.first_ts {
                    Some(ts) => ts,
                    None => return Ok(false),
                }
            }
        };
        let target = i64::try_from(self.start_skip.saturating_add(frame))
            .ok()
            .and_then(|f| first.checked_add(f));
        let Some(target) = target else {
            return Ok(false);
        };
        for backoff in SEEK_RETRY_BACKOFF {
            let back = i64::try_from(self.preroll.saturating_add(backoff)).unwrap_or(i64::MAX);
            let ts = target.saturating_sub(back).max(first);
            if self.info.container == "flac" && ts < self.decoded_end_ts {
                // symphonia 0.6.1's FLAC reader, seeking back to a frame that starts just
                // where its search starts (the first frame, a seek point), keeps the last
                // frame header it parsed, then takes the frames after the target for damage
                // (their timestamps are not past that header's) and ends the stream there.
                // A fresh reader has no last header. tests/seek.rs catches this.
                self.reader = open_reader(&self.path)?;
                self.decoded_end_ts = i64::MIN;
            }
            let to = SeekTo::Timestamp {
                ts: Timestamp::new(ts),
                track_id: self.track_id,
            };
            // symphonia's MP3 seek divides by the stream's duration, zero in some damaged
            // files (found by fuzzing): a panic is a failed seek, and the fallback reopens
            // the file (this reader is not used again).
            let sought = guarded(|| self.reader.seek(SeekMode::Accurate, to));
            if !matches!(sought, Ok(Ok(_))) {
                return Ok(false);
            }
            if ts == first {
                self.fresh_decoder();
            } else {
                self.decoder.reset();
            }
            self.clear_pending();
            // A fatal error right after a seek: let the fallback decide.
            if !matches!(self.decode_next(), Ok(true)) {
                return Ok(false);
            }
            if self.pending_ts <= target {
                self.skip_left = u64::try_from(target - self.pending_ts).unwrap_or(0);
                return Ok(true);
            }
            if ts == first {
                break;
            }
        }
        Ok(false)
    }

    /// Reopen the file and decode from the start up to `frame` (the slow, sure way).
    fn rewind(&mut self, frame: u64) -> Result<(), AudioError> {
        self.reader = open_reader(&self.path)?;
        self.decoded_end_ts = i64::MIN;
        self.fresh_decoder();
        self.clear_pending();
        self.skip_left = self.start_skip.saturating_add(frame);
        self.remaining = self.info.frames.saturating_sub(frame);
        Ok(())
    }

    /// Start the stream's decoding afresh, exactly as [`Self::open`] did. A reset is not
    /// quite that: symphonia's AAC decoder keeps the state of the random generator of its
    /// perceptual noise substitution (PNS) across a reset, so the noise bands would
    /// differ from a sequential decode's.
    fn fresh_decoder(&mut self) {
        match symphonia::default::get_codecs()
            .make_audio_decoder(&self.codec_params, &AudioDecoderOptions::default())
        {
            Ok(decoder) => self.decoder = decoder,
            Err(_) => self.decoder.reset(),
        }
    }

    fn clear_pending(&mut self) {
        for ch in &mut self.pending {
            ch.clear();
        }
        self.pending_pos = 0;
        self.ended = false;
    }

    /// Decode the next packet into `pending`. Returns false at the end of the stream.
    fn decode_next(&mut self) -> Result<bool, AudioError> {
        let mut bad_in_a_row = 0;
        loop {
            // symphonia can panic on damaged data (see `open_reader_fixed`): that is a
            // damaged file, reported as such, never a crash of the export or the player.
            let next = guarded(|| self.reader.next_packet()).map_err(|_| self.panicked())?;
            let packet = match next {
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
            // The decoder drops `trim_start` frames at the packet's start.
            let start_ts = packet
                .pts
                .get()
                .saturating_add_unsigned(packet.trim_start.get());
            let decoded = guarded(|| {
                self.decoder.decode(&packet).map(|buf| {
                    if buf.frames() > 0 {
                        buf.copy_to_vecs_planar::<f32>(&mut self.pending);
                    }
                    buf.frames()
                })
            })
            .map_err(|_| self.panicked())?;
            match decoded {
                Ok(frames) => {
                    if frames == 0 {
                        continue;
                    }
                    // Keep exactly the file's channel count (a codec may report more).
                    self.pending.resize_with(self.info.channels, Vec::new);
                    for ch in &mut self.pending {
                        ch.resize(frames, 0.0);
                        sanitize(ch);
                    }
                    self.placed(start_ts);
                    return Ok(true);
                }
                Err(SymError::DecodeError(_)) if bad_in_a_row < MAX_BAD_PACKETS_IN_A_ROW => {
                    bad_in_a_row += 1;
                    // Silence of the packet's length keeps the rest of the track in sync.
                    let frames = playable_frames(&packet, self.trims_in_dur);
                    if frames == 0 {
                        continue;
                    }
                    let most = self
                        .codec_params
                        .max_frames_per_packet
                        .unwrap_or(MAX_SILENT_PACKET_FRAMES)
                        .min(MAX_SILENT_PACKET_FRAMES);
                    if frames > most {
                        return Err(self.damaged(format!(
                            "a packet that cannot be decoded claims {frames} frames, \
                             more than any packet holds"
                        )));
                    }
                    let frames = frames as usize;
                    for ch in &mut self.pending {
                        ch.clear();
                        ch.resize(frames, 0.0);
                    }
                    self.placed(start_ts);
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

    /// Give up on a damaged file (a panic inside symphonia while reading or decoding, or
    /// nonsense in its data): the error saying why.
    fn damaged(&mut self, reason: String) -> AudioError {
        // The reader or decoder may be in any state now: nothing more is read from them.
        self.clear_pending();
        self.ended = true;
        AudioError::Decode {
            path: self.path.clone(),
            reason,
        }
    }

    /// [`Self::damaged`] for a panic inside symphonia.
    fn panicked(&mut self) -> AudioError {
        self.damaged("its audio data is damaged (the decoder could not make sense of it)".into())
    }

    /// Record the timestamp of what `decode_next` just put in `pending`.
    fn placed(&mut self, start_ts: i64) {
        self.pending_ts = start_ts;
        let frames = self.pending.first().map_or(0, Vec::len) as u64;
        self.decoded_end_ts = start_ts.saturating_add_unsigned(frames);
        if self.first_ts.is_none() {
            self.first_ts = Some(start_ts);
        }
    }

    /// The stream has ended. Before the frames it promised (which were checked when it
    /// was opened, see `repair.rs`) and with the file changed on disk since, it was cut
    /// short or replaced while being read: an error, never silence in place of the audio.
    fn finish(&mut self) -> Result<bool, AudioError> {
        if self.remaining > 0 {
            let now = file_stamp(&self.path);
            let reason = match now {
                None => Some("it is gone".to_owned()),
                Some((len, _)) if len != self.opened_as.0 => Some(format!(
                    "it is now {len} bytes, {} when it was opened",
                    self.opened_as.0
                )),
                Some((_, modified)) if modified != self.opened_as.1 => {
                    Some("it was modified".to_owned())
                }
                Some(_) => None,
            };
            if let Some(reason) = reason {
                return Err(AudioError::Changed {
                    path: self.path.clone(),
                    reason,
                });
            }
        }
        self.ended = true;
        for ch in &mut self.pending {
            ch.clear();
        }
        self.pending_pos = 0;
        Ok(false)
    }
}

/// Loudest sample a decoder delivers: +120 dBFS. A float file may hold NaN, infinity or
/// absurd values (damage, a broken plug-in); NaN and infinity become silence and the rest
/// is limited to this, so nothing can poison the resampler (rubato's FFT panics on the
/// NaN that huge values overflow to), the mix, the meters or an export. Real audio, even
/// float audio far over full scale, is never touched.
pub const MAX_SAMPLE: f32 = 1.0e6;

fn sanitize(samples: &mut [f32]) {
    for x in samples {
        *x = if x.is_finite() {
            x.clamp(-MAX_SAMPLE, MAX_SAMPLE)
        } else {
            0.0
        };
    }
}

/// A file's size and modification time (`None` when it is gone).
fn file_stamp(path: &Path) -> Option<(u64, Option<std::time::SystemTime>)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()))
}
