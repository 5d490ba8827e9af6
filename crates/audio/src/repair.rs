//! Files as recorders and copies leave them, read for what they hold.
//!
//! - A WAV file whose `data` chunk claims more bytes than the file has — a truncated copy,
//!   or a recorder that stopped before it could write the sizes (it leaves 0xFFFFFFFF, or
//!   the size of a take that never finished) — is read through [`Patched`], which shows
//!   symphonia a header with the sizes the file really has. symphonia would refuse it
//!   ("chunk length exceeds parent") or promise frames that are not there.
//! - Any other file whose header gives a length is checked at its end ([`frames_present`]):
//!   a FLAC or MP3 file cut short plays what is there, and says so, instead of being
//!   padded with silence to the length its header promised.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use stemdeck_session::units::format_time;
use symphonia::core::formats::{FormatReader, SeekMode, SeekTo};
use symphonia::core::io::MediaSource;
use symphonia::core::units::Timestamp;

/// How far before the claimed end the end check seeks, in frames: one packet of any codec
/// we read ends at or after the claimed end when the file is whole.
const END_CHECK_BACK: u64 = 8192;

/// Packets the end check reads at most before it gives up and counts every packet.
const END_CHECK_PACKETS: usize = 64;

/// What [`wav_sizes`] found wrong with a WAV header.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WavFix {
    /// The `data` size the header gives (0xFFFFFFFF: none).
    pub declared: u32,
    /// An AIFF file (big-endian sizes; its audio is in "SSND", after 8 bytes of offset
    /// and block size; its frame count is in "COMM" and is not corrected here).
    pub aiff: bool,
    /// The bytes of `data` the file really holds.
    pub present: u64,
    /// Byte offset of the `data` chunk's size field.
    data_size_at: u64,
}

impl WavFix {
    /// The bytes to show in place of the header's: the RIFF size and the data size that
    /// match the file.
    fn patches(&self, file_len: u64) -> Vec<(u64, [u8; 4])> {
        let aiff = self.aiff;
        let clamp = |n: u64| {
            let n = u32::try_from(n).unwrap_or(u32::MAX - 1);
            if aiff {
                n.to_be_bytes()
            } else {
                n.to_le_bytes()
            }
        };
        vec![
            (4, clamp(file_len.saturating_sub(8))),
            (self.data_size_at, clamp(self.present)),
        ]
    }

    /// The problem, for the user: what the header says and what is there.
    pub fn describe(&self, bytes_per_frame: u64, rate: u32, present_frames: u64) -> String {
        let have = format_time(present_frames, rate);
        let (format, header_bytes) = if self.aiff { ("AIFF", 8) } else { ("WAV", 0) };
        if self.declared == u32::MAX || self.declared == 0 {
            format!(
                "the {format} header gives no length (as a recorder that stopped unexpectedly \
                 leaves it); using the {have} in the file"
            )
        } else {
            let claimed =
                u64::from(self.declared).saturating_sub(header_bytes) / bytes_per_frame.max(1);
            format!(
                "the file ends early: its header promises {} but only {have} is there \
                 (a truncated copy or an unfinished recording); using what is there",
                format_time(claimed, rate)
            )
        }
    }
}

/// Look at a RIFF/WAVE header: `Some` when its `data` chunk claims more than the file
/// holds (or nothing, 0 or 0xFFFFFFFF, with audio after it). Plain, consistent files and
/// anything that is not a WAV file give `None` and are read as they are.
pub(crate) fn wav_sizes(file: &mut File, file_len: u64) -> Option<WavFix> {
    let mut head = [0u8; 12];
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_exact(&mut head).ok()?;
    let aiff = match (&head[0..4], &head[8..12]) {
        (b"RIFF", b"WAVE") => false,
        (b"FORM", b"AIFF" | b"AIFC") => true,
        _ => return None,
    };
    let u32_at = |b: [u8; 4]| {
        if aiff {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let data_id: &[u8] = if aiff { b"SSND" } else { b"data" };
    let riff = u32_at([head[4], head[5], head[6], head[7]]);
    // Walk the chunks up to "data" (a header is small: give up after 64 chunks).
    let mut at: u64 = 12;
    for _ in 0..64 {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(at)).ok()?;
        file.read_exact(&mut chunk).ok()?;
        let size = u32_at([chunk[4], chunk[5], chunk[6], chunk[7]]);
        let body = at + 8;
        let left = file_len.saturating_sub(body);
        if &chunk[0..4] == data_id {
            let unset = size == 0 && (riff == 0 || riff == u32::MAX) && left > 0;
            if u64::from(size) > left || unset {
                // 0xFFFFFFFF with a RIFF size of 0xFFFFFFFF too is a stream of unknown
                // length (ffmpeg writing to a pipe), which symphonia reads as such — but
                // one size without the other is not: fix both.
                if size == u32::MAX && riff == u32::MAX {
                    return None;
                }
                return Some(WavFix {
                    declared: size,
                    aiff,
                    present: left,
                    data_size_at: at + 4,
                });
            }
            return None;
        }
        // Chunks are padded to an even length.
        at = body
            .checked_add(u64::from(size))?
            .checked_add(u64::from(size & 1))?;
        if at >= file_len {
            return None;
        }
    }
    None
}

/// A file with a few bytes of its header replaced (see [`WavFix`]).
pub(crate) struct Patched {
    file: File,
    len: u64,
    pos: u64,
    patches: Vec<(u64, [u8; 4])>,
}

impl Patched {
    pub fn new(file: File, len: u64, fix: &WavFix) -> Patched {
        Patched {
            file,
            len,
            pos: 0,
            patches: fix.patches(len),
        }
    }
}

impl Read for Patched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        let start = self.pos;
        for (at, bytes) in &self.patches {
            for (i, b) in bytes.iter().enumerate() {
                let p = at + i as u64;
                if let Some(dst) = p
                    .checked_sub(start)
                    .and_then(|k| usize::try_from(k).ok())
                    .filter(|k| *k < n)
                    .and_then(|k| buf.get_mut(k))
                {
                    *dst = *b;
                }
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Patched {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.file.seek(to)?;
        Ok(self.pos)
    }
}

impl MediaSource for Patched {
    fn is_seekable(&self) -> bool {
        true
    }
    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// Whether the stream really reaches the `claimed` frame count its header gives, checked
/// by seeking near the end and reading a few packets (cheap). `true` when it does, or
/// when this cannot tell (then the slow count decides, see the caller).
pub(crate) fn reaches_end(reader: &mut dyn FormatReader, track_id: u32, claimed: u64) -> bool {
    let target = claimed.saturating_sub(END_CHECK_BACK);
    let Ok(ts) = i64::try_from(target) else {
        return false;
    };
    let to = SeekTo::Timestamp {
        ts: Timestamp::new(ts),
        track_id,
    };
    if reader.seek(SeekMode::Coarse, to).is_err() {
        return false;
    }
    for _ in 0..END_CHECK_PACKETS {
        match reader.next_packet() {
            Ok(Some(p)) if p.track_id == track_id => {
                let end = p.pts.get().saturating_add_unsigned(p.dur.get());
                if u64::try_from(end).is_ok_and(|e| e >= claimed) {
                    return true;
                }
            }
            Ok(Some(_)) => {}
            Err(symphonia::core::errors::Error::DecodeError(_)) => {}
            Ok(None) | Err(_) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::io::Write as _;

    /// A 16-bit mono WAV header with the given RIFF and data sizes, an extra chunk before
    /// "data" (odd length, so padded), and `frames` frames of audio.
    fn wav(riff: u32, data: u32, frames: u16) -> Vec<u8> {
        let mut v = b"RIFF".to_vec();
        v.extend(riff.to_le_bytes());
        v.extend(b"WAVEfmt ");
        v.extend(16u32.to_le_bytes());
        v.extend(1u16.to_le_bytes()); // PCM
        v.extend(1u16.to_le_bytes()); // mono
        v.extend(8000u32.to_le_bytes());
        v.extend(16000u32.to_le_bytes());
        v.extend(2u16.to_le_bytes());
        v.extend(16u16.to_le_bytes());
        v.extend(b"note");
        v.extend(3u32.to_le_bytes());
        v.extend(b"abc\0");
        v.extend(b"data");
        v.extend(data.to_le_bytes());
        for i in 0..frames {
            v.extend(i.to_le_bytes());
        }
        v
    }

    fn fix_of(bytes: &[u8]) -> Option<WavFix> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        wav_sizes(&mut f, bytes.len() as u64)
    }

    #[test]
    fn consistent_and_foreign_files_are_left_alone() {
        let ok = wav(4 + 24 + 12 + 8 + 200, 200, 100);
        assert_eq!(fix_of(&ok), None);
        // ffmpeg writing to a pipe: both sizes unknown, which symphonia reads as such.
        assert_eq!(fix_of(&wav(u32::MAX, u32::MAX, 100)), None);
        assert_eq!(fix_of(b"fLaC\0\0\0\x22"), None);
        assert_eq!(fix_of(b""), None);
        assert_eq!(fix_of(b"RIFF\xff\xff\xff\xffWAVE"), None);
    }

    #[test]
    fn data_sizes_beyond_the_file_are_fixed() {
        let data_at = 12 + 24 + 12 + 4;
        for (riff, data) in [
            (u32::MAX, 1_000_000),
            (500, u32::MAX),
            (0, 0),
            (u32::MAX, 0),
        ] {
            let bytes = wav(riff, data, 100);
            let fix = fix_of(&bytes).unwrap_or_else(|| panic!("{riff} {data}"));
            assert_eq!(fix.declared, data);
            assert_eq!(fix.present, 200);
            assert_eq!(fix.data_size_at, data_at as u64);
        }
        // A data size of 0 in an otherwise finished file is an empty take.
        let empty = wav(4 + 24 + 12 + 8, 0, 0);
        assert_eq!(fix_of(&empty), None);
    }

    #[test]
    fn aiff_sizes_are_big_endian_and_fixed_too() {
        let mut v = b"FORM".to_vec();
        v.extend(u32::MAX.to_be_bytes());
        v.extend(b"AIFFCOMM");
        v.extend(18u32.to_be_bytes());
        v.extend([0u8; 18]);
        v.extend(b"SSND");
        v.extend(1_000_000u32.to_be_bytes());
        v.extend([0u8; 8 + 200]);
        let fix = fix_of(&v).unwrap();
        assert!(fix.aiff);
        assert_eq!((fix.declared, fix.present), (1_000_000, 208));
        assert_eq!(fix.data_size_at, 12 + 26 + 4);
        let patches = fix.patches(v.len() as u64);
        assert_eq!(patches[1].1, 208u32.to_be_bytes());
        assert!(fix.describe(2, 8000, 100).contains("promises 1:02.499"));
        // A whole AIFF is left alone.
        let n = v.len() as u32;
        v[4..8].copy_from_slice(&(n - 8).to_be_bytes());
        v[42..46].copy_from_slice(&208u32.to_be_bytes());
        assert_eq!(fix_of(&v), None);
    }

    #[test]
    fn the_patched_header_is_read_in_any_pieces() {
        let bytes = wav(u32::MAX, 7_000_000, 100);
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        let len = bytes.len() as u64;
        let fix = wav_sizes(&mut f, len).unwrap();
        let mut expect = bytes.clone();
        expect[4..8].copy_from_slice(&((len - 8) as u32).to_le_bytes());
        expect[52..56].copy_from_slice(&200u32.to_le_bytes());
        for piece in [1, 3, 5, 7, 64, 4096] {
            let mut p = Patched::new(f.try_clone().unwrap(), len, &fix);
            p.seek(SeekFrom::Start(0)).unwrap();
            let mut got = Vec::new();
            let mut buf = vec![0; piece];
            loop {
                let n = p.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, expect, "pieces of {piece}");
        }
        let mut p = Patched::new(f, len, &fix);
        p.seek(SeekFrom::Start(53)).unwrap();
        let mut two = [0; 2];
        p.read_exact(&mut two).unwrap();
        assert_eq!(two, [0, 0]);
        assert_eq!(p.byte_len(), Some(len));
    }

    #[test]
    fn messages_say_what_the_header_claims_and_what_is_there() {
        let fix = WavFix {
            declared: 96_000,
            present: 16_000,
            data_size_at: 40,
            aiff: false,
        };
        assert_eq!(
            fix.describe(2, 8000, 8000),
            "the file ends early: its header promises 0:06.000 but only 0:01.000 is there \
             (a truncated copy or an unfinished recording); using what is there"
        );
        let fix = WavFix {
            declared: u32::MAX,
            ..fix
        };
        assert!(fix.describe(2, 8000, 8000).contains("gives no length"));
    }
}
