//! Waveform overviews for the track rows: the min and max of every `bucket` frames at the
//! session rate, per channel, computed from the file's own samples at its own rate (each
//! bucket holds the source frames whose times fall in it, so the overview lines up with
//! what plays on the session timeline, resampled tracks included, without the cost of
//! resampling) on worker threads, and kept in a disk cache ([`PeakCache`]) so reopening
//! a session draws at once.
//!
//! Drawing: [`Peaks::columns`] folds the buckets into as many columns as the row has
//! pixels, for any range of the timeline, into a `Vec` the caller keeps between frames.
//!
//! On disk ([`Peaks::to_bytes`]), little-endian:
//!
//! | bytes | field                                              |
//! |-------|----------------------------------------------------|
//! | 8     | magic `b"STDKPK1\0"`                               |
//! | 4     | format version (u32, [`FORMAT_VERSION`])           |
//! | 4     | bucket (u32, frames per bucket, ≥ 1)               |
//! | 4     | session rate (u32)                                 |
//! | 8     | frames (u64, track length at the session rate)     |
//! | 4     | channels (u32, 1 or 2)                             |
//! | 8 × n | per channel, its `ceil(frames / bucket)` buckets as `[min, max]` f32 pairs |
//!
//! [`Peaks::from_bytes`] checks every field and the exact length before allocating, so
//! garbage (a truncated file, another file, a lying header) gives `None`, never a panic
//! or a huge allocation.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::AudioError;
use crate::decode::Decoder;
use crate::resample::converted_len;

/// The first 8 bytes of an encoded [`Peaks`].
pub const MAGIC: [u8; 8] = *b"STDKPK1\0";
/// Version of the encoding (bumped, old cache files are ignored and recomputed).
pub const FORMAT_VERSION: u32 = 1;
/// Bytes before the pairs: magic, version, bucket, rate, frames, channels.
const HEADER_LEN: usize = 8 + 4 + 4 + 4 + 8 + 4;
/// Most frames [`Peaks::compute`] folds at a time (a decoded packet holds fewer).
const BLOCK_FRAMES: usize = 32 * 1024;

/// Min/max per bucket of `bucket` frames at the session rate, per channel (1 or 2).
///
/// Invariant (kept by [`Peaks::compute`] and checked by [`Peaks::from_bytes`]): every
/// channel has `frames.div_ceil(bucket)` buckets, the last one possibly covering fewer
/// frames; each is `[min, max]` with `min <= max`, finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Peaks {
    /// Frames per bucket (≥ 1).
    pub bucket: u32,
    pub session_rate: u32,
    /// Track length at the session rate ([`crate::stream::TrackStream::len`]).
    pub frames: u64,
    /// Per channel, per bucket, `[min, max]`.
    pub channels: Vec<Vec<[f32; 2]>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeaksError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
}

/// A running `[min, max]`; empty until a sample is folded in.
#[derive(Clone, Copy)]
struct MinMax([f32; 2]);

impl MinMax {
    const EMPTY: MinMax = MinMax([f32::INFINITY, f32::NEG_INFINITY]);

    #[inline]
    fn add(&mut self, s: f32) {
        // f32::min/max skip NaN, so a NaN sample leaves the range alone.
        self.0[0] = self.0[0].min(s);
        self.0[1] = self.0[1].max(s);
    }

    /// Fold a run of samples in: as `add` on each, but in eight independent lanes, so
    /// the compiler vectorises it (one `add` after another is a chain of dependent
    /// min/max; this loop was 15 % of computing an overview).
    fn add_all(&mut self, samples: &[f32]) {
        const LANES: usize = 8;
        let mut lo = [f32::INFINITY; LANES];
        let mut hi = [f32::NEG_INFINITY; LANES];
        let mut chunks = samples.chunks_exact(LANES);
        for c in &mut chunks {
            for ((l, h), &s) in lo.iter_mut().zip(hi.iter_mut()).zip(c) {
                *l = l.min(s);
                *h = h.max(s);
            }
        }
        for &s in chunks.remainder() {
            self.add(s);
        }
        for (l, h) in lo.into_iter().zip(hi) {
            self.merge([l, h]);
        }
    }

    #[inline]
    fn merge(&mut self, [lo, hi]: [f32; 2]) {
        self.0[0] = self.0[0].min(lo);
        self.0[1] = self.0[1].max(hi);
    }

    /// The range, `[0, 0]` when nothing (or only NaN) was added, clamped to finite values.
    #[inline]
    fn get(self) -> [f32; 2] {
        let [lo, hi] = self.0;
        if lo > hi {
            [0.0, 0.0]
        } else {
            [lo.clamp(f32::MIN, f32::MAX), hi.clamp(f32::MIN, f32::MAX)]
        }
    }
}

impl Peaks {
    /// Compute from the file's own samples, decoded straight at its rate (no rate
    /// conversion: an overview needs none), packet by packet where the decoder keeps
    /// them, with bounded memory (a packet plus the result). Bucket `b` holds the source frames
    /// whose times fall in session frames `b × bucket .. (b + 1) × bucket`, so the
    /// overview lines up with what plays on the session timeline ([`crate::stream::TrackStream::len`]
    /// frames at the session rate); at the session's own rate the buckets hold exactly
    /// the frames that play. `progress` is set to the frames done (Relaxed, session
    /// frames) as it goes, out of that length; `cancel` is checked before every packet
    /// ([`PeaksError::Cancelled`]). A `bucket` of 0 is taken as 1.
    pub fn compute(
        path: &Path,
        session_rate: u32,
        bucket: u32,
        progress: &AtomicU64,
        cancel: &AtomicBool,
    ) -> Result<Peaks, PeaksError> {
        let bucket = bucket.max(1);
        progress.store(0, Ordering::Relaxed);
        if cancel.load(Ordering::Relaxed) {
            return Err(PeaksError::Cancelled);
        }
        let mut decoder = Decoder::open(path)?;
        let (source_frames, source_rate, n_channels) = {
            let info = decoder.info();
            (info.frames, info.sample_rate.max(1), info.channels)
        };
        let session = session_rate.max(1);
        let frames = converted_len(source_frames, source_rate, session);
        let n_buckets = frames.div_ceil(u64::from(bucket));
        // The first source frame of bucket `b` (the first whose time is at or after the
        // bucket's start).
        let start_of = |b: u64| -> u64 {
            let num = u128::from(b) * u128::from(bucket) * u128::from(source_rate);
            u64::try_from(num.div_ceil(u128::from(session))).unwrap_or(u64::MAX)
        };
        let to_session = |f: u64| -> u64 {
            let t = u128::from(f) * u128::from(session) / u128::from(source_rate);
            u64::try_from(t).unwrap_or(u64::MAX).min(frames)
        };
        // Only a capacity hint: a file claiming absurd lengths must not abort here.
        let hint = usize::try_from(n_buckets).unwrap_or(0).min(1 << 24);
        let mut channels: Vec<Vec<[f32; 2]>> = vec![Vec::with_capacity(hint); n_channels];
        let mut acc = vec![MinMax::EMPTY; n_channels];
        // The bucket being filled, the source frame it ends at, frames in it so far.
        let mut b = 0u64;
        let mut end = start_of(1);
        let mut in_bucket = 0u64;
        // Source frames read.
        let mut pos = 0u64;

        while b < n_buckets {
            if cancel.load(Ordering::Relaxed) {
                return Err(PeaksError::Cancelled);
            }
            // Folded where the decoder keeps the frames (no copy).
            let read = decoder.read_with(BLOCK_FRAMES, |bufs, range| {
                let n = range.len();
                let mut i = 0usize;
                while i < n && b < n_buckets {
                    let left = end.saturating_sub(pos + i as u64);
                    let take = usize::try_from(left).unwrap_or(usize::MAX).min(n - i);
                    let from = range.start + i;
                    for (a, buf) in acc.iter_mut().zip(bufs) {
                        a.add_all(buf.get(from..from + take).unwrap_or_default());
                    }
                    in_bucket += take as u64;
                    i += take;
                    if pos + i as u64 >= end {
                        for (a, out) in acc.iter_mut().zip(&mut channels) {
                            out.push(a.get());
                            *a = MinMax::EMPTY;
                        }
                        in_bucket = 0;
                        b += 1;
                        end = start_of(b + 1);
                    }
                }
                n
            })?;
            let Some(n) = read else { break };
            pos += n as u64;
            progress.store(to_session(pos), Ordering::Relaxed);
        }
        if b < n_buckets {
            // The last bucket (partial), or a file that ends before its header said
            // (playback gives silence there, as here).
            let short = pos < source_frames;
            for (a, out) in acc.iter_mut().zip(&mut channels) {
                if in_bucket > 0 || short {
                    if short {
                        a.add(0.0);
                    }
                    out.push(a.get());
                }
                out.resize(usize::try_from(n_buckets).unwrap_or(0), [0.0, 0.0]);
            }
        }
        progress.store(frames, Ordering::Relaxed);
        Ok(Peaks {
            bucket,
            session_rate,
            frames,
            channels,
        })
    }

    /// Down-sample to `n` columns for drawing the frames `[start, end)` (session rate):
    /// each column's `[min, max]` over the buckets it covers. With `merge`, `out` gets `n`
    /// columns, the channels merged; without, `n` columns per channel, channel after
    /// channel (`out[ch * n + i]`). Frames past the end of the track are silence (a column
    /// entirely past it is `[0, 0]`); an empty range gives `[0, 0]` columns.
    ///
    /// Column `i` covers frames `start + span*i/n .. start + span*(i+1)/n`, widened to
    /// whole buckets (a bucket straddling two columns counts in both, so no peak is ever
    /// lost between pixels); zoomed in past one bucket per column, a column shows the
    /// bucket it lies in. Cost: the buckets in the range, whatever `n`; no allocation
    /// beyond growing `out` (`out.clear()` first, so a `Vec` kept between frames is
    /// reused).
    pub fn columns(&self, start: u64, end: u64, n: usize, merge: bool, out: &mut Vec<[f32; 2]>) {
        out.clear();
        if n == 0 {
            return;
        }
        let span = end.saturating_sub(start);
        let bucket = u64::from(self.bucket.max(1));
        let groups = if merge { 1 } else { self.channels.len() };
        out.reserve(n * groups);
        for g in 0..groups {
            let chans = if merge {
                self.channels.as_slice()
            } else {
                self.channels.get(g..=g).unwrap_or_default()
            };
            out.extend((0..n).map(|i| {
                if span == 0 {
                    return [0.0, 0.0];
                }
                let at = |k: usize| -> u64 {
                    let off = u128::from(span) * k as u128 / n as u128;
                    start.saturating_add(u64::try_from(off).unwrap_or(u64::MAX))
                };
                let (f0, f1) = (at(i), at(i + 1));
                let b0 = f0 / bucket;
                let b1 = f1.div_ceil(bucket).max(b0 + 1);
                let mut mm = MinMax::EMPTY;
                for ch in chans {
                    let len = ch.len() as u64;
                    let (lo, hi) = (b0.min(len) as usize, b1.min(len) as usize);
                    for &pair in ch.get(lo..hi).unwrap_or_default() {
                        mm.merge(pair);
                    }
                }
                if f1 > self.frames {
                    mm.add(0.0);
                }
                mm.get()
            }));
        }
    }

    /// The encoding described in the module docs. A channel holding more or fewer than
    /// `frames.div_ceil(bucket)` buckets (not something [`Peaks::compute`] makes) is cut
    /// or padded with `[0, 0]`, so whatever this returns decodes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let bucket = self.bucket.max(1);
        let count = usize::try_from(self.frames.div_ceil(u64::from(bucket))).unwrap_or(0);
        let nch = self.channels.len();
        let mut b = Vec::with_capacity(HEADER_LEN + nch * count * 8);
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&bucket.to_le_bytes());
        b.extend_from_slice(&self.session_rate.to_le_bytes());
        b.extend_from_slice(&self.frames.to_le_bytes());
        b.extend_from_slice(&u32::try_from(nch).unwrap_or(u32::MAX).to_le_bytes());
        for ch in &self.channels {
            let pairs = ch
                .iter()
                .copied()
                .chain(std::iter::repeat([0.0, 0.0]))
                .take(count);
            for [lo, hi] in pairs {
                b.extend_from_slice(&lo.to_le_bytes());
                b.extend_from_slice(&hi.to_le_bytes());
            }
        }
        b
    }

    /// Decode [`Peaks::to_bytes`]. `None` (never a panic) unless the magic, version,
    /// bucket (≥ 1), channels (1 or 2), exact length and every pair (finite, min ≤ max)
    /// check out.
    pub fn from_bytes(b: &[u8]) -> Option<Peaks> {
        let (header, body) = b.split_at_checked(HEADER_LEN)?;
        let mut r = Reader(header);
        if r.take::<8>()? != MAGIC {
            return None;
        }
        let version = u32::from_le_bytes(r.take()?);
        let bucket = u32::from_le_bytes(r.take()?);
        let session_rate = u32::from_le_bytes(r.take()?);
        let frames = u64::from_le_bytes(r.take()?);
        let nch = u32::from_le_bytes(r.take()?);
        if version != FORMAT_VERSION || bucket == 0 || !(1..=2).contains(&nch) {
            return None;
        }
        let count = frames.div_ceil(u64::from(bucket));
        let need = count.checked_mul(u64::from(nch))?.checked_mul(8)?;
        if body.len() as u64 != need {
            return None;
        }
        let count = usize::try_from(count).ok()?;
        let mut channels = Vec::with_capacity(nch as usize);
        for ch_bytes in body
            .chunks_exact(count.checked_mul(8)?.max(1))
            .take(nch as usize)
        {
            let mut ch = Vec::with_capacity(count);
            for p in ch_bytes.chunks_exact(8) {
                let mut r = Reader(p);
                let lo = f32::from_le_bytes(r.take()?);
                let hi = f32::from_le_bytes(r.take()?);
                if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                    return None;
                }
                ch.push([lo, hi]);
            }
            channels.push(ch);
        }
        // count == 0 (an empty track): the loop above saw no chunks.
        channels.resize(nch as usize, Vec::new());
        Some(Peaks {
            bucket,
            session_rate,
            frames,
            channels,
        })
    }
}

/// Takes fixed-size little-endian fields off the front of a slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
}

/// A disk cache of [`Peaks`], one file per (source file, session rate, bucket), named
/// `<hash>.peaks` after the source's canonical path, size and modification time, the rate,
/// the bucket, the encoding version and this crate's version (a rebuilt decoder or
/// resampler may give other peaks). A source file changed in place gets a new name, so
/// stale entries are never read (they stay on disk until the folder is cleared: the
/// platform cache folder is the user's and the OS's to clear).
///
/// Writes go to a unique temporary file in the folder and are renamed into place, so a
/// reader never sees a half-written file; what is read is also fully checked
/// ([`Peaks::from_bytes`]), so a damaged file is a miss, recomputed and replaced.
#[derive(Clone, Debug)]
pub struct PeakCache {
    dir: PathBuf,
}

impl PeakCache {
    /// A cache in `dir` (created on the first store).
    pub fn new(dir: PathBuf) -> Self {
        PeakCache { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The platform cache folder for Stemdeck's peaks: `$STEMDECK_CACHE_DIR` as is if set
    /// (and not empty), else the platform's cache folder for Stemdeck
    /// (`directories::ProjectDirs::from("", "", "Stemdeck")`, e.g. `~/.cache/stemdeck`,
    /// `~/Library/Caches/Stemdeck`, `%LOCALAPPDATA%\Stemdeck\cache`) + `/peaks`. `None`
    /// when there is no home folder to put it in.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("STEMDECK_CACHE_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("", "", "Stemdeck").map(|d| d.cache_dir().join("peaks"))
    }

    /// The cache file for `path` at `session_rate` and `bucket` as the file is now.
    /// Errors if the file cannot be found or examined.
    pub fn entry_path(
        &self,
        path: &Path,
        session_rate: u32,
        bucket: u32,
    ) -> Result<PathBuf, PeaksError> {
        let io = |source| PeaksError::Io {
            path: path.to_path_buf(),
            source,
        };
        let canonical = fs::canonicalize(path).map_err(io)?;
        let meta = fs::metadata(&canonical).map_err(io)?;
        let modified = meta.modified().map_err(io)?;
        let mut h = DefaultHasher::new();
        FORMAT_VERSION.hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        canonical.hash(&mut h);
        meta.len().hash(&mut h);
        modified.hash(&mut h);
        session_rate.hash(&mut h);
        bucket.max(1).hash(&mut h);
        Ok(self.dir.join(format!("{:016x}.peaks", h.finish())))
    }

    /// The cached peaks of `path` as it is now, if any (any problem reading is a miss).
    pub fn load(&self, path: &Path, session_rate: u32, bucket: u32) -> Option<Peaks> {
        let entry = self.entry_path(path, session_rate, bucket).ok()?;
        Self::load_entry(&entry, session_rate, bucket)
    }

    fn load_entry(entry: &Path, session_rate: u32, bucket: u32) -> Option<Peaks> {
        let bytes = fs::read(entry).ok()?;
        Peaks::from_bytes(&bytes)
            .filter(|p| p.session_rate == session_rate && p.bucket == bucket.max(1))
    }

    /// Store `peaks` as those of `path` as it is now (its current size and time). To
    /// store what was computed from an earlier state of the file, [`Self::get_or_compute`]
    /// takes the key before computing.
    pub fn store(&self, path: &Path, peaks: &Peaks) -> Result<(), PeaksError> {
        let entry = self.entry_path(path, peaks.session_rate, peaks.bucket)?;
        self.store_entry(&entry, peaks)
    }

    fn store_entry(&self, entry: &Path, peaks: &Peaks) -> Result<(), PeaksError> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PeaksError::Io { path, source }
        };
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let name = entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self.dir.join(format!(
            ".{name}.{}.{nanos}.{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let written = fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(&peaks.to_bytes()))
            .map_err(io(&tmp))
            .and_then(|()| fs::rename(&tmp, entry).map_err(io(entry)));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Load from the cache, else compute ([`Peaks::compute`]) and store. Store failures
    /// (read-only or full disk…) are not errors: the overview still shows. The entry is
    /// keyed on the file as it was when computing started, so a file rewritten meanwhile
    /// is recomputed next time. On a hit, `progress` stays 0.
    pub fn get_or_compute(
        &self,
        path: &Path,
        session_rate: u32,
        bucket: u32,
        progress: &AtomicU64,
        cancel: &AtomicBool,
    ) -> Result<Peaks, PeaksError> {
        let entry = self.entry_path(path, session_rate, bucket).ok();
        if let Some(peaks) = entry
            .as_deref()
            .and_then(|e| Self::load_entry(e, session_rate, bucket))
        {
            return Ok(peaks);
        }
        let peaks = Peaks::compute(path, session_rate, bucket, progress, cancel)?;
        if let Some(entry) = entry {
            let _ = self.store_entry(&entry, &peaks);
        }
        Ok(peaks)
    }
}

#[cfg(test)]
mod tests {
    use super::MinMax;

    /// The lane-wise fold gives what folding one sample after another gives: every
    /// length (a whole number of lanes or not), NaN skipped, nothing folded = empty.
    #[test]
    fn add_all_is_add_one_by_one() {
        let mut x = 0x2545_f491_u32;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32) * 4.0 - 2.0
        };
        for len in 0..40 {
            let mut samples: Vec<f32> = (0..len).map(|_| next()).collect();
            if len > 3 {
                samples[len / 2] = f32::NAN;
            }
            let mut one = MinMax::EMPTY;
            for &s in &samples {
                one.add(s);
            }
            let mut all = MinMax::EMPTY;
            all.add_all(&samples);
            assert_eq!(one.get(), all.get(), "{len} samples");
        }
        let mut nan = MinMax::EMPTY;
        nan.add_all(&[f32::NAN; 9]);
        assert_eq!(nan.get(), [0.0, 0.0]);
    }
}
