//! Opening a file's format reader: what is not a regular file refused, a WAV header a
//! crashed recorder left patched (see `repair.rs`), the format probed, and symphonia's
//! errors put in words for the user.

use std::fs::File;
use std::io::Seek as _;
use std::path::Path;

use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::guard::guarded;
use crate::{AudioError, repair};

/// After this many packets in a row fail to decode, the file is given up on.
pub(super) const MAX_BAD_PACKETS_IN_A_ROW: u32 = 64;

pub(super) fn open_reader(path: &Path) -> Result<Box<dyn FormatReader>, AudioError> {
    open_reader_fixed(path).map(|(reader, _)| reader)
}

/// Open the format reader, through [`repair::Patched`] when the file is a WAV whose
/// header claims more than the file holds (then also returning what was fixed).
pub(super) fn open_reader_fixed(
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

/// A symphonia error in words for the user.
pub(super) fn describe(e: &SymError) -> String {
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
