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
//! (see `mp4_edit`, which reads the edit list with Mozilla's `mp4parse`). Whatever the format, [`Decoder::read`] never delivers more than
//! [`FileInfo::frames`], so the count known up front is what a read yields.
//!
//! Seeking ([`Decoder::seek`]) is exact: after `seek(n)`, reading gives what reading from
//! the start and dropping `n` frames gives. See that method for how.

use std::fs::File;
use std::io::{BufReader, Seek as _};
use std::path::{Path, PathBuf};

use stemdeck_session::units::format_time;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::packet::Packet;
use symphonia::core::units::Timestamp;

use crate::{AudioError, repair};

/// File extensions of the audio files the decoder reads, lower case: what the Open and
/// Add Files dialogs list, a folder scan picks up and [`is_audio_path`] accepts. Defined
/// in the session crate (auto-grouping drops them from track names too), listed here
/// with the decoder it describes.
pub use stemdeck_session::AUDIO_EXTENSIONS;

/// After this many packets in a row fail to decode, the file is given up on.
const MAX_BAD_PACKETS_IN_A_ROW: u32 = 64;

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
    /// What is wrong with the file though it still plays (a truncated file, a WAV header
    /// a crashed recorder left): `frames` is what is really there (see `repair.rs`).
    pub warning: Option<String>,
}

impl FileInfo {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }

    /// The warning with the file's path, for the user: "<path>: <problem>".
    pub fn warning_message(&self) -> Option<String> {
        self.warning
            .as_ref()
            .map(|w| format!("{}: {w}", self.path.display()))
    }
}

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

fn open_reader(path: &Path) -> Result<Box<dyn FormatReader>, AudioError> {
    open_reader_fixed(path).map(|(reader, _)| reader)
}

/// Open the format reader, through [`repair::Patched`] when the file is a WAV whose
/// header claims more than the file holds (then also returning what was fixed).
fn open_reader_fixed(
    path: &Path,
) -> Result<(Box<dyn FormatReader>, Option<repair::WavFix>), AudioError> {
    // Never open a pipe or a device: opening a FIFO would wait for a writer forever.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return Err(AudioError::Unsupported {
            path: path.to_owned(),
            reason: "not a regular file: a pipe, socket or device".into(),
        });
    }
    let mut file = File::open(path).map_err(|source| AudioError::Open {
        path: path.to_owned(),
        source,
    })?;
    let meta = file.metadata().ok();
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(AudioError::Unsupported {
            path: path.to_owned(),
            reason: "it is a folder".into(),
        });
    }
    let len = meta.map_or(0, |m| m.len());
    if len == 0 {
        return Err(AudioError::Unsupported {
            path: path.to_owned(),
            reason: "empty: 0 bytes".into(),
        });
    }
    let fix = repair::wav_sizes(&mut file, len);
    file.rewind().map_err(|source| AudioError::Open {
        path: path.to_owned(),
        source,
    })?;
    let source: Box<dyn symphonia::core::io::MediaSource> = match &fix {
        Some(fix) => Box::new(repair::Patched::new(file, len, fix)),
        None => Box::new(file),
    };
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    // symphonia's readers can panic on some damage (an overflow in its WAVE channel mask
    // fix-up, found by fuzzing, panics in builds with overflow checks): a panic while
    // probing means a damaged header, not a crash.
    let probed = guarded(|| {
        symphonia::default::get_probe().probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
    })
    .map_err(|_| AudioError::Unsupported {
        path: path.to_owned(),
        reason: "its header is malformed".into(),
    })?;
    let reader = probed.map_err(|e| AudioError::Unsupported {
        path: path.to_owned(),
        reason: describe(&e),
    })?;
    Ok((reader, fix))
}

thread_local! {
    /// How many [`guarded`] calls this thread is inside.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Run symphonia code that may panic on damaged data; a panic comes back as `Err` and the
/// caller reports a damaged file. Panic hooks can stay quiet about such a panic (see
/// [`panic_is_guarded`]): it is an error message, not a crash.
fn guarded<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    GUARDED.with(|g| g.set(g.get().saturating_add(1)));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    result
}

/// Whether the current thread is inside symphonia code whose panics are caught and
/// reported as a damaged file. For a panic hook: the `stemdeck` binary prints nothing
/// for these, so the user sees only the one-line error naming the file.
pub fn panic_is_guarded() -> bool {
    GUARDED.with(|g| g.get() > 0)
}

fn describe(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends too early: truncated, or only a header".into()
        }
        SymError::Unsupported(what) if what.contains("no suitable format reader") => {
            "its contents are not audio in any format Stemdeck reads (WAV, AIFF, FLAC, MP3, \
             Ogg Vorbis, MP4/M4A)"
                .into()
        }
        SymError::Unsupported(what) => format!("unrecognised format or codec: {what}"),
        other => other.to_string(),
    }
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
        let mut warning = None;
        let mut frames = match num_frames {
            Some(n) => n,
            None => count_frames(path, track_id)?,
        };
        if let Some(fix) = &wav_fix {
            if frames == 0 {
                return Err(unsupported(
                    "the file holds only a header, no audio (a copy or recording that stopped at its start)",
                ));
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

/// Count playable frames by reading packet headers only (for streams whose header does
/// not say, such as MP3 without a Xing/LAME tag).
fn count_frames(path: &Path, track_id: u32) -> Result<u64, AudioError> {
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

/// Whether a format reader's packet `dur` still includes the frames its `trim_start` /
/// `trim_end` remove. symphonia's `Packet` docs say `dur` excludes them, and its Ogg
/// reader does so; in 0.6.1 its MPEG audio reader does not (`PacketBuilder::trimmed_dur`
/// computes the trims but leaves `dur` whole). The test `counted_frames_match_the_header`
/// fails if that changes.
fn trims_in_dur(container: &str) -> bool {
    matches!(container, "mp1" | "mp2" | "mp3")
}

/// Whether a codec (symphonia's short name) decodes each packet on its own, so a decoder
/// needs no pre-roll after a seek.
fn is_lossless(codec: &str) -> bool {
    codec.starts_with("pcm") || matches!(codec, "flac" | "alac")
}

/// The playable (untrimmed) frames of a packet.
fn playable_frames(packet: &Packet, trims_in_dur: bool) -> u64 {
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

/// Read the edit list of track `track_id` of an MP4 file (with Mozilla's `mp4parse`).
/// `None` when there is none, the file cannot be parsed, or the list starts with an empty
/// edit: the track is then played whole, as symphonia gives it. `mp4parse` keeps the
/// first media edit of a list (its media time and segment duration), which is the one
/// audio files use.
fn mp4_edit(path: &Path, track_id: u32) -> Option<Mp4Edit> {
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
        Mp4Edit {
            movie_timescale,
            media_timescale: 44100,
            segment_duration,
            media_time,
        }
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
            let Some(header) = track.num_frames else {
                continue;
            };
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
