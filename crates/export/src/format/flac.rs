//! A FLAC file written as it goes, with bounded memory: samples are encoded one FLAC
//! frame (4096 frames) at a time with flacenc's frame encoder, and the STREAMINFO
//! header (length, MD5, frame sizes) is filled in at the end.
//!
//! flacenc's one-call `encode_with_fixed_block_size` keeps the whole encoded stream in
//! memory; here each frame goes to the file as soon as it is encoded. Like crates/demo,
//! the header says min = max block size (a fixed-block-size stream, as the FLAC spec
//! wants; flacenc would count the short last block as the minimum, and libFLAC tools
//! cannot seek in such a file).

use std::fs::File;
use std::io::{BufWriter, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr as _, Stream, StreamInfo};
use flacenc::error::Verify as _;
use flacenc::source::{Context, Fill as _, FrameBuf};

use super::{Block, Container, Encoder};
use crate::ExportError;

pub(crate) const FLAC: Container = Container {
    name: "FLAC",
    extension: "flac",
    create: |path, sample_rate, sample| {
        if !sample.is_integer() {
            return Err(flac_err(path, "FLAC stores integer samples only"));
        }
        let file = FlacFile::create(path, sample_rate, usize::from(sample.bits()))?;
        Ok(Box::new(file))
    },
};

/// Frames per FLAC frame (flacenc's default, libFLAC's too).
const BLOCK: usize = 4096;
const CHANNELS: usize = 2;

pub(crate) struct FlacFile {
    path: PathBuf,
    out: BufWriter<File>,
    config: flacenc::error::Verified<flacenc::config::Encoder>,
    /// Verbatim subframes only: the fallback for a frame that prediction made bigger.
    verbatim: flacenc::error::Verified<flacenc::config::Encoder>,
    /// Bytes of a whole block stored verbatim (plus frame header room).
    verbatim_bytes: usize,
    info: StreamInfo,
    frame_buf: FrameBuf,
    context: Context,
    /// Interleaved samples not encoded yet (less than one block).
    pending: Vec<i32>,
    frame_number: usize,
    sink: ByteSink,
}

fn flac_err(path: &Path, reason: impl std::fmt::Display) -> ExportError {
    ExportError::Flac {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn io_err(path: &Path, source: std::io::Error) -> ExportError {
    ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

impl FlacFile {
    pub(crate) fn create(path: &Path, sample_rate: u32, bits: usize) -> Result<Self, ExportError> {
        let mut config = flacenc::config::Encoder::default();
        config.block_size = BLOCK;
        let mut verbatim = config.clone();
        verbatim.subframe_coding.use_fixed = false;
        verbatim.subframe_coding.use_lpc = false;
        let config = config.into_verified().map_err(|(_, e)| flac_err(path, e))?;
        let verbatim = verbatim
            .into_verified()
            .map_err(|(_, e)| flac_err(path, e))?;
        let info =
            StreamInfo::new(sample_rate as usize, CHANNELS, bits).map_err(|e| flac_err(path, e))?;
        let frame_buf = FrameBuf::with_size(CHANNELS, BLOCK).map_err(|e| flac_err(path, e))?;
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let mut me = Self {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 20, file),
            config,
            verbatim,
            // Side channel: one bit more; 32 bytes for the frame header and footer.
            verbatim_bytes: BLOCK * CHANNELS * (bits + 1) / 8 + 32,
            context: Context::new(bits, CHANNELS),
            info,
            frame_buf,
            pending: Vec::with_capacity(BLOCK * CHANNELS),
            frame_number: 0,
            sink: ByteSink::new(),
        };
        // A placeholder header of the final size; rewritten by `finish`.
        let header = me.header()?;
        me.out.write_all(&header).map_err(|e| io_err(path, e))?;
        Ok(me)
    }

    /// "fLaC" and the STREAMINFO block for what has been written so far.
    fn header(&self) -> Result<Vec<u8>, ExportError> {
        let stream = Stream::with_stream_info(self.info.clone());
        let mut sink = ByteSink::new();
        stream
            .write(&mut sink)
            .map_err(|e| flac_err(&self.path, e))?;
        Ok(sink.as_slice().to_vec())
    }

    /// Append interleaved stereo samples (already in the file's integer range).
    pub(crate) fn write_interleaved(&mut self, samples: &[i32]) -> Result<(), ExportError> {
        let block = BLOCK * CHANNELS;
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (block - self.pending.len()).min(rest.len());
            let (now, later) = rest.split_at(take);
            self.pending.extend_from_slice(now);
            rest = later;
            if self.pending.len() == block {
                self.encode_pending()?;
            }
        }
        Ok(())
    }

    fn encode_pending(&mut self) -> Result<(), ExportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        (&mut self.frame_buf, &mut self.context)
            .fill_interleaved(&self.pending)
            .map_err(|e| flac_err(&path, e))?;
        let encode = |config, sink: &mut ByteSink| {
            let frame = flacenc::encode_fixed_size_frame(
                config,
                &self.frame_buf,
                self.frame_number,
                &self.info,
            )
            .map_err(|e| flac_err(&path, e))?;
            sink.clear();
            frame.write(sink).map_err(|e| flac_err(&path, e))?;
            Ok::<_, ExportError>(frame)
        };
        let mut frame = encode(&self.config, &mut self.sink)?;
        // flacenc 0.5 can pick a predictor whose Rice-coded residual is far bigger than
        // the samples themselves (loud 24-bit noise: frames of 500 KB where 25 KB
        // would do, which decoders such as symphonia and ffmpeg refuse). Such a frame
        // is stored verbatim instead, as the FLAC format intends.
        if self.sink.as_slice().len() > self.verbatim_bytes {
            frame = encode(&self.verbatim, &mut self.sink)?;
        }
        self.info.update_frame_info(&frame);
        self.out
            .write_all(self.sink.as_slice())
            .map_err(|e| io_err(&path, e))?;
        self.frame_number += 1;
        self.pending.clear();
        Ok(())
    }

    /// Encode what is left and fill in the header.
    pub(crate) fn finish(mut self) -> Result<(), ExportError> {
        self.encode_pending()?;
        let path = self.path.clone();
        self.info
            .set_block_sizes(BLOCK, BLOCK)
            .map_err(|e| flac_err(&path, e))?;
        self.info.set_md5_digest(&self.context.md5_digest());
        let header = self.header()?;
        let out = &mut self.out;
        let mut rewrite = || -> std::io::Result<()> {
            out.flush()?;
            out.seek(SeekFrom::Start(0))?;
            out.write_all(&header)?;
            out.flush()?;
            out.get_ref().sync_all()
        };
        rewrite().map_err(|e| io_err(&path, e))
    }
}

impl Encoder for FlacFile {
    fn write(&mut self, block: Block<'_>) -> Result<(), ExportError> {
        match block {
            Block::Int(samples) => self.write_interleaved(samples),
            // The table pairs FLAC with integer sample types only.
            Block::Float(_) => Err(flac_err(&self.path, "FLAC stores integer samples only")),
        }
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        FlacFile::finish(*self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Loud 24-bit noise, one whole block and a short one ending in silence (the case
    /// the export property test found): every frame decodes, none is oversized.
    #[test]
    fn loud_noise_is_never_stored_bigger_than_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("noise.flac");
        let mut f = FlacFile::create(&path, 48_000, 24).unwrap();
        let (frames, noisy) = (6974usize, 5534usize);
        let mut x: u32 = 12_345;
        let samples: Vec<i32> = (0..frames * 2)
            .map(|i| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if i / 2 < noisy {
                    ((x >> 8) as i32 - (1 << 23)) / 4
                } else {
                    0
                }
            })
            .collect();
        f.write_interleaved(&samples).unwrap();
        f.finish().unwrap();
        let size = std::fs::metadata(&path).unwrap().len() as usize;
        assert!(size <= frames * 2 * 3 + 4096, "{size} bytes");
        let mut d = stemdeck_audio::decode::Decoder::open(&path).unwrap();
        assert_eq!(d.info().frames, frames as u64);
        assert!(d.info().warning_message().is_none());
        let mut got = vec![vec![0.0f32; frames]; 2];
        let mut out: Vec<&mut [f32]> = got.iter_mut().map(|c| c.as_mut_slice()).collect();
        assert_eq!(d.read(&mut out).unwrap(), frames);
        let scale = 1.0 / (1u32 << 23) as f32;
        for (i, pair) in samples.chunks(2).enumerate() {
            for c in 0..2 {
                assert!(
                    (got[c][i] - pair[c] as f32 * scale).abs() < 1e-6,
                    "frame {i}"
                );
            }
        }
    }
}
