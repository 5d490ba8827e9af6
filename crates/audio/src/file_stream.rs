//! One track's whole file from its first sample, converted to the session rate: what
//! [`crate::stream::TrackStream`] reads for a track without clips, and
//! [`crate::clips`] for each clip's file.

use std::path::Path;

use crate::AudioError;
use crate::decode::{Decoder, FileInfo};
use crate::resample::{RateConverter, converted_len};

/// One file from its first sample, at the session rate.
pub(crate) struct FileStream {
    decoder: Decoder,
    converter: Option<RateConverter>,
    /// Length at the session rate.
    len: u64,
    /// Frames handed out so far.
    pos: u64,
    /// Converted frames not handed out yet.
    carry: Vec<Vec<f32>>,
    carry_pos: usize,
    source_done: bool,
    session_rate: u32,
}

impl FileStream {
    /// Open `path` for playback at `session_rate`.
    pub fn open(path: &Path, session_rate: u32) -> Result<FileStream, AudioError> {
        let decoder = Decoder::open(path)?;
        let info = decoder.info();
        let converter = if info.sample_rate == session_rate {
            None
        } else {
            Some(RateConverter::new(
                path,
                info.sample_rate,
                session_rate,
                info.channels,
            )?)
        };
        let len = converted_len(info.frames, info.sample_rate, session_rate);
        let channels = info.channels;
        Ok(FileStream {
            decoder,
            converter,
            len,
            pos: 0,
            carry: vec![Vec::new(); channels],
            carry_pos: 0,
            source_done: false,
            session_rate,
        })
    }

    pub fn info(&self) -> &FileInfo {
        self.decoder.info()
    }

    /// 1 (mono) or 2 (stereo).
    pub fn channels(&self) -> usize {
        self.decoder.info().channels
    }

    /// Length in frames at the session rate.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Move to `frame` (session rate): the next [`Self::read`] starts there, with what
    /// reading from the start would give there (bit for bit at the file's own rate and,
    /// resampled, measured in tests/seek.rs). Fast: no decoding from the start (see
    /// [`Decoder::seek`]). Past the end, silence.
    ///
    /// Resampled, the converter restarts (reset) on one of its FFT blocks two blocks before
    /// the target: the source seeks to that block's first input frame, and the converted
    /// frames up to the target are dropped. A block's output depends on its input and the
    /// block before only, so from the target on the output is what the sequential stream
    /// gives (see [`RateConverter::block_frames`]).
    pub fn seek(&mut self, frame: u64) -> Result<(), AudioError> {
        for ch in &mut self.carry {
            ch.clear();
        }
        self.carry_pos = 0;
        self.pos = frame;
        self.source_done = false;
        if frame >= self.len {
            self.source_done = true;
            return Ok(());
        }
        let Some(conv) = self.converter.as_mut() else {
            return self.decoder.seek(frame);
        };
        let (block_in, block_out) = conv.block_frames();
        let (block_in, block_out) = (block_in.max(1) as u64, block_out.max(1) as u64);
        // Raw converter output index of `frame` (before the delay is dropped).
        let raw = frame.saturating_add(conv.delay() as u64);
        let first_block = (raw / block_out).saturating_sub(2);
        let discard = (raw - first_block * block_out).saturating_sub(conv.delay() as u64);
        conv.reset(usize::try_from(discard).unwrap_or(usize::MAX));
        self.decoder.seek(first_block * block_in)
    }

    /// Fill every channel slice of `out` (one per track channel, equal lengths) with the
    /// next frames: audio up to [`Self::len`], silence after it.
    pub fn read(&mut self, out: &mut [&mut [f32]]) -> Result<(), AudioError> {
        let want = out.iter().map(|c| c.len()).min().unwrap_or(0);
        // A shorter channel would leave the others' ends silent and the position wrong.
        debug_assert!(out.iter().all(|c| c.len() == want));
        let audible = (self.len.saturating_sub(self.pos)).min(want as u64) as usize;
        let got = if self.converter.is_some() {
            self.read_converted(out, audible)?
        } else {
            self.read_direct(out, audible)?
        };
        for ch in out.iter_mut() {
            if let Some(rest) = ch.get_mut(got..) {
                rest.fill(0.0);
            }
        }
        self.pos += want as u64;
        Ok(())
    }

    fn read_direct(&mut self, out: &mut [&mut [f32]], frames: usize) -> Result<usize, AudioError> {
        if self.source_done || frames == 0 {
            return Ok(0);
        }
        // Reborrow only the audible part, so a file longer than it claimed is cut.
        let n = out.len().min(2);
        let mut parts: [&mut [f32]; 2] = [&mut [], &mut []];
        for (dst, src) in parts.iter_mut().zip(out.iter_mut()) {
            let len = src.len().min(frames);
            *dst = src.get_mut(..len).unwrap_or_default();
        }
        let got = self.decoder.read(parts.get_mut(..n).unwrap_or_default())?;
        if got < frames {
            self.source_done = true;
        }
        Ok(got)
    }

    fn read_converted(
        &mut self,
        out: &mut [&mut [f32]],
        frames: usize,
    ) -> Result<usize, AudioError> {
        let mut done = 0;
        while done < frames {
            let carried = self.carry.first().map_or(0, |c| c.len()) - self.carry_pos;
            if carried > 0 {
                let n = carried.min(frames - done);
                for (dst, src) in out.iter_mut().zip(&self.carry) {
                    if let (Some(d), Some(s)) = (
                        dst.get_mut(done..done + n),
                        src.get(self.carry_pos..self.carry_pos + n),
                    ) {
                        d.copy_from_slice(s);
                    }
                }
                self.carry_pos += n;
                done += n;
                continue;
            }
            let Some(conv) = self.converter.as_mut() else {
                break;
            };
            // Feed the next chunk; after the source ends, silence flushes the filter.
            let chunk = conv.chunk_frames();
            let valid = if self.source_done {
                0
            } else {
                let mut chans: Vec<&mut [f32]> = conv
                    .input_mut()
                    .iter_mut()
                    .map(|c| c.get_mut(..chunk).unwrap_or_default())
                    .collect();
                let got = self.decoder.read(&mut chans)?;
                if got < chunk {
                    self.source_done = true;
                }
                got
            };
            let info = self.decoder.info();
            let (bufs, range) = conv.process(valid).map_err(|reason| AudioError::Resample {
                path: info.path.clone(),
                from: info.sample_rate,
                to: self.session_rate,
                reason,
            })?;
            debug_assert!(bufs.iter().all(|b| b.len() >= range.end));
            for (dst, src) in self.carry.iter_mut().zip(bufs) {
                dst.clear();
                dst.extend_from_slice(src.get(range.clone()).unwrap_or_default());
            }
            self.carry_pos = 0;
        }
        Ok(done)
    }
}
