//! WAV: the header hound writes (PCM `WAVEFORMAT` for 16-bit, `WAVE_FORMAT_EXTENSIBLE`
//! for 24-bit and 32-bit float; a test in writer.rs compares the bytes with hound's),
//! then every block as one little-endian byte buffer written with one call, instead of
//! one `write_sample` call per sample; the sizes are filled in at the end.

use std::fs::File;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use super::{Block, Container, Encoder, SampleType};
use crate::ExportError;

pub(crate) const WAV: Container = Container {
    name: "WAV",
    extension: "wav",
    create: |path, sample_rate, sample| {
        let file =
            WavFile::create(path, sample_rate, sample).map_err(|source| ExportError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(Box::new(file))
    },
};

/// A stereo WAV file being written.
struct WavFile {
    path: PathBuf,
    sample: SampleType,
    file: File,
    /// Offset of the data chunk's length field (the header's last 4 bytes).
    data_len_offset: u64,
    data_bytes: u64,
    /// This block's samples as bytes, reused.
    bytes: Vec<u8>,
}

/// hound's KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT GUIDs.
const SUBTYPE_PCM: [u8; 16] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];
const SUBTYPE_IEEE_FLOAT: [u8; 16] = [
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

impl WavFile {
    const CHANNELS: u16 = 2;

    fn create(path: &Path, sample_rate: u32, sample: SampleType) -> std::io::Result<Self> {
        let header = Self::header(sample_rate, sample.bits(), !sample.is_integer());
        let mut file = File::create(path)?;
        file.write_all(&header)?;
        Ok(Self {
            path: path.to_owned(),
            sample,
            file,
            data_len_offset: header.len() as u64 - 4,
            data_bytes: 0,
            bytes: Vec::new(),
        })
    }

    /// RIFF, fmt and data chunk headers, sizes 0 (filled in by [`Self::finish`]).
    fn header(sample_rate: u32, bits: u16, float: bool) -> Vec<u8> {
        let bytes_per_sample = bits.div_ceil(8);
        let block_align = bytes_per_sample * Self::CHANNELS;
        let mut h = Vec::with_capacity(68);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        let extensible = bits > 16;
        h.extend_from_slice(&(if extensible { 40u32 } else { 16 }).to_le_bytes());
        let tag: u16 = if extensible {
            0xfffe
        } else if float {
            3
        } else {
            1
        };
        h.extend_from_slice(&tag.to_le_bytes());
        h.extend_from_slice(&Self::CHANNELS.to_le_bytes());
        h.extend_from_slice(&sample_rate.to_le_bytes());
        h.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
        h.extend_from_slice(&block_align.to_le_bytes());
        h.extend_from_slice(&(bytes_per_sample * 8).to_le_bytes());
        if extensible {
            h.extend_from_slice(&22u16.to_le_bytes());
            h.extend_from_slice(&bits.to_le_bytes());
            // Channel mask: front left, front right.
            h.extend_from_slice(&3u32.to_le_bytes());
            h.extend_from_slice(if float {
                &SUBTYPE_IEEE_FLOAT
            } else {
                &SUBTYPE_PCM
            });
        }
        h.extend_from_slice(b"data");
        h.extend_from_slice(&0u32.to_le_bytes());
        h
    }

    /// The block as the file's bytes (interleaved, little-endian) in `self.bytes`.
    /// Fixed-size chunks (arrays), so each sample is a plain store, not a memcpy call.
    fn fill(&mut self, block: Block<'_>) -> Result<(), ExportError> {
        let bytes = &mut self.bytes;
        bytes.clear();
        match (block, self.sample) {
            (Block::Int(ints), SampleType::Int16) => {
                bytes.resize(ints.len() * 2, 0);
                for (v, o) in ints.iter().zip(bytes.as_chunks_mut::<2>().0) {
                    *o = [*v as u8, (*v >> 8) as u8];
                }
            }
            (Block::Int(ints), SampleType::Int24) => {
                bytes.resize(ints.len() * 3, 0);
                for (v, o) in ints.iter().zip(bytes.as_chunks_mut::<3>().0) {
                    *o = [*v as u8, (*v >> 8) as u8, (*v >> 16) as u8];
                }
            }
            (Block::Float(floats), SampleType::Float32) => {
                bytes.resize(floats.len() * 4, 0);
                for (v, o) in floats.iter().zip(bytes.as_chunks_mut::<4>().0) {
                    *o = v.to_le_bytes();
                }
            }
            (Block::Int(_), SampleType::Float32)
            | (Block::Float(_), SampleType::Int16 | SampleType::Int24) => {
                return Err(ExportError::Internal(format!(
                    "{}: a block of the wrong sample type for {:?}",
                    self.path.display(),
                    self.sample
                )));
            }
        }
        Ok(())
    }

    /// Fill in the RIFF and data sizes.
    fn complete(mut self) -> std::io::Result<()> {
        let data = u32::try_from(self.data_bytes)
            .ok()
            .filter(|d| d.checked_add(self.data_len_offset as u32 - 4).is_some())
            .ok_or_else(|| {
                std::io::Error::other("more than 4 GiB of audio: too long for a WAV file")
            })?;
        let riff = data + (self.data_len_offset as u32 + 4 - 8);
        self.file.seek(SeekFrom::Start(4))?;
        self.file.write_all(&riff.to_le_bytes())?;
        self.file.seek(SeekFrom::Start(self.data_len_offset))?;
        self.file.write_all(&data.to_le_bytes())?;
        self.file.flush()
    }
}

impl Encoder for WavFile {
    fn write(&mut self, block: Block<'_>) -> Result<(), ExportError> {
        self.fill(block)?;
        self.file
            .write_all(&self.bytes)
            .map_err(|source| ExportError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.data_bytes += self.bytes.len() as u64;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        let path = self.path.clone();
        self.complete()
            .map_err(|source| ExportError::Io { path, source })
    }
}
