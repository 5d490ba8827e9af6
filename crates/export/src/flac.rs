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

use crate::ExportError;

/// Frames per FLAC frame (flacenc's default, libFLAC's too).
const BLOCK: usize = 4096;
const CHANNELS: usize = 2;

pub(crate) struct FlacFile {
    path: PathBuf,
    out: BufWriter<File>,
    config: flacenc::error::Verified<flacenc::config::Encoder>,
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
        let config = config.into_verified().map_err(|(_, e)| flac_err(path, e))?;
        let info =
            StreamInfo::new(sample_rate as usize, CHANNELS, bits).map_err(|e| flac_err(path, e))?;
        let frame_buf = FrameBuf::with_size(CHANNELS, BLOCK).map_err(|e| flac_err(path, e))?;
        let file = File::create(path).map_err(|e| io_err(path, e))?;
        let mut me = Self {
            path: path.to_owned(),
            out: BufWriter::with_capacity(1 << 20, file),
            config,
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
        let frame = flacenc::encode_fixed_size_frame(
            &self.config,
            &self.frame_buf,
            self.frame_number,
            &self.info,
        )
        .map_err(|e| flac_err(&path, e))?;
        self.info.update_frame_info(&frame);
        self.sink.clear();
        frame
            .write(&mut self.sink)
            .map_err(|e| flac_err(&path, e))?;
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
