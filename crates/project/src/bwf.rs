//! Broadcast Wave positions: where on the day's timeline a recorded file starts, from the
//! `bext` chunk's TimeReference (EBU Tech 3285: samples since midnight, 64-bit) or, in a
//! file without one, iXML's timestamp.
//!
//! hound and symphonia skip the chunks they do not play and keep none of them, and the
//! one crate that reads `bext` (bwavfile) brings an old clap and an unmaintained text
//! encoding crate with it, so this is a small RIFF chunk walker: it reads the chunk
//! headers, seeks over the audio, and reads `fmt `, `bext` and `iXML` only.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::Error;

/// A file's start as a sample count since midnight at a sample rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub samples: u64,
    pub sample_rate: u32,
    pub source: Source,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Bext,
    Ixml,
}

impl Position {
    pub fn seconds(&self) -> f64 {
        self.samples as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// Where the `bext` chunk keeps TimeReference: after Description (256 bytes), Originator
/// (32), OriginatorReference (32), OriginationDate (10) and OriginationTime (8).
const TIME_REFERENCE_AT: usize = 256 + 32 + 32 + 10 + 8;

/// The position a WAV (RIFF, RF64 or BW64) file carries. `Ok(None)` for a file that is
/// not a WAV file, has no position, or whose TimeReference is 0: writers that fill in
/// `bext` without a timecode leave it at 0, and a recording that really started at
/// midnight to the sample is rare enough that treating 0 as "none" is the safer reading.
pub fn position(path: &Path) -> Result<Option<Position>, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let chunks = match read_chunks(&mut BufReader::new(file)) {
        Ok(c) => c,
        // A file that ends inside its header is no WAV file with a position.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let Some(chunks) = chunks else {
        return Ok(None);
    };
    if let (Some(bext), Some(rate)) = (&chunks.bext, chunks.sample_rate) {
        let tr = bext
            .get(TIME_REFERENCE_AT..TIME_REFERENCE_AT + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes);
        if let Some(samples) = tr.filter(|&s| s > 0) {
            return Ok(Some(Position {
                samples,
                sample_rate: rate,
                source: Source::Bext,
            }));
        }
    }
    Ok(chunks
        .ixml
        .as_deref()
        .and_then(|x| ixml_position(x, chunks.sample_rate)))
}

/// Each file's position relative to the earliest file of the import that carries one, in
/// seconds; 0 for files without one (and for files that cannot be read: the import
/// reports those when it decodes them).
pub fn folder_positions<P: AsRef<Path>>(paths: &[P]) -> Vec<f64> {
    let secs: Vec<Option<f64>> = paths
        .iter()
        .map(|p| position(p.as_ref()).ok().flatten().map(|p| p.seconds()))
        .collect();
    let earliest = secs.iter().flatten().copied().reduce(f64::min);
    secs.iter()
        .map(|s| match (s, earliest) {
            (Some(s), Some(e)) => s - e,
            _ => 0.0,
        })
        .collect()
}

struct Chunks {
    sample_rate: Option<u32>,
    bext: Option<Vec<u8>>,
    ixml: Option<String>,
}

/// The most of a `bext` chunk worth reading (the fixed part; the coding history after it
/// can be long and says nothing about time).
const BEXT_FIXED: u64 = 602;
/// iXML documents are small; a larger chunk is not read.
const IXML_MAX: u64 = 1 << 20;

fn read_chunks<R: Read + Seek>(r: &mut R) -> std::io::Result<Option<Chunks>> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head)?;
    let rf64 = match &head[0..4] {
        b"RIFF" => false,
        b"RF64" | b"BW64" => true,
        _ => return Ok(None),
    };
    if &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let mut out = Chunks {
        sample_rate: None,
        bext: None,
        ixml: None,
    };
    let mut data_size_64: Option<u64> = None;
    loop {
        let mut ch = [0u8; 8];
        match r.read_exact(&mut ch) {
            Ok(()) => {}
            // The end of the file, or a chunk cut short: keep what was found.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let id = [ch[0], ch[1], ch[2], ch[3]];
        let mut size = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        if rf64 && size == u64::from(u32::MAX) && &id == b"data" {
            size = data_size_64.unwrap_or(size);
        }
        let start = r.stream_position()?;
        match &id {
            b"fmt " => {
                let body = read_up_to(r, size.min(16))?;
                out.sample_rate = body
                    .get(4..8)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(u32::from_le_bytes)
                    .filter(|&r| r > 0);
            }
            b"ds64" => {
                let body = read_up_to(r, size.min(28))?;
                data_size_64 = body
                    .get(8..16)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_le_bytes);
            }
            b"bext" => out.bext = Some(read_up_to(r, size.min(BEXT_FIXED))?),
            b"iXML" if size <= IXML_MAX => {
                let body = read_up_to(r, size)?;
                out.ixml = Some(String::from_utf8_lossy(&body).into_owned());
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        let next = start.saturating_add(size).saturating_add(size & 1);
        if r.seek(SeekFrom::Start(next))? != next {
            break;
        }
    }
    Ok(Some(out))
}

fn read_up_to<R: Read>(r: &mut R, n: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(n).read_to_end(&mut buf)?;
    Ok(buf)
}

/// iXML's timestamp: `SPEED/TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI|LO` at
/// `SPEED/TIMESTAMP_SAMPLE_RATE` (the file's rate when absent), else its copy of the
/// bext fields, `BEXT/BWF_TIME_REFERENCE_HIGH|LOW`, at the file's rate.
fn ixml_position(text: &str, file_rate: Option<u32>) -> Option<Position> {
    let doc = roxmltree::Document::parse(text.trim_end_matches('\0')).ok()?;
    let find = |parent: &str, name: &str| -> Option<u64> {
        doc.descendants()
            .find(|n| {
                n.has_tag_name(name) && n.parent_element().is_some_and(|p| p.has_tag_name(parent))
            })
            .and_then(|n| n.text())
            .and_then(|t| t.trim().parse::<u64>().ok())
    };
    let pair = |parent: &str, hi: &str, lo: &str| -> Option<u64> {
        let lo = find(parent, lo)?;
        let hi = find(parent, hi).unwrap_or(0);
        Some((hi << 32) | (lo & 0xFFFF_FFFF))
    };
    let speed = pair(
        "SPEED",
        "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI",
        "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO",
    )
    .filter(|&s| s > 0);
    if let Some(samples) = speed {
        let rate = find("SPEED", "TIMESTAMP_SAMPLE_RATE")
            .and_then(|r| u32::try_from(r).ok())
            .filter(|&r| r > 0)
            .or(file_rate)?;
        return Some(Position {
            samples,
            sample_rate: rate,
            source: Source::Ixml,
        });
    }
    let samples =
        pair("BEXT", "BWF_TIME_REFERENCE_HIGH", "BWF_TIME_REFERENCE_LOW").filter(|&s| s > 0)?;
    Some(Position {
        samples,
        sample_rate: file_rate?,
        source: Source::Ixml,
    })
}
