//! Waveform overviews: exact peaks of known signals, peaks of a resampled track on the
//! session timeline, drawing columns, the byte encoding (and garbage in it), the disk
//! cache (hit, miss after the source changes, damaged entry), cancelling.
//!
//! `timing_4min_stereo` prints how long computing the peaks of a 4-minute stereo 48 kHz
//! WAV takes against loading them from the cache: run with `-- --nocapture` to see it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use stemdeck_audio::peaks::{FORMAT_VERSION, MAGIC, PeakCache, Peaks, PeaksError};

/// Write planar `channels` as a 32-bit float WAV (exact values through the decoder).
fn write_f32(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for ch in channels {
            w.write_sample(ch[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Write planar `channels` as a 16-bit WAV.
fn write_i16(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut i16w = w.get_i16_writer((channels[0].len() * channels.len()) as u32);
    for i in 0..channels[0].len() {
        for ch in channels {
            i16w.write_sample((ch[i] * 32767.0).round() as i16);
        }
    }
    i16w.flush().unwrap();
    w.finalize().unwrap();
}

fn sine(frames: usize, rate: u32, hz: f32, amp: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| amp * (std::f32::consts::TAU * hz * i as f32 / rate as f32).sin())
        .collect()
}

/// Reference min/max of `x[from..to]` (with 0 when the range runs past the end).
fn minmax(x: &[f32], from: usize, to: usize) -> [f32; 2] {
    let mut r = [f32::INFINITY, f32::NEG_INFINITY];
    for &s in &x[from.min(x.len())..to.min(x.len())] {
        r[0] = r[0].min(s);
        r[1] = r[1].max(s);
    }
    if to > x.len() {
        r[0] = r[0].min(0.0);
        r[1] = r[1].max(0.0);
    }
    if r[0] > r[1] { [0.0, 0.0] } else { r }
}

fn compute(path: &Path, rate: u32, bucket: u32) -> Peaks {
    let progress = AtomicU64::new(0);
    let peaks = Peaks::compute(path, rate, bucket, &progress, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        progress.load(Ordering::Relaxed),
        peaks.frames,
        "progress ends at the length"
    );
    peaks
}

/// A stereo test signal: left a 0.5 sine with a +0.9 spike, right a ramp -1 → 1 with a
/// -0.95 spike. Frame counts chosen so neither blocks nor buckets divide it.
fn test_signal(frames: usize, spikes: [usize; 2]) -> Vec<Vec<f32>> {
    let mut l = sine(frames, 48_000, 441.0, 0.5);
    let mut r: Vec<f32> = (0..frames)
        .map(|i| -1.0 + 2.0 * i as f32 / frames as f32)
        .map(|x| x * 0.8)
        .collect();
    l[spikes[0]] = 0.9;
    r[spikes[1]] = -0.95;
    vec![l, r]
}

#[test]
fn peaks_of_known_signal_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known.wav");
    let frames = 100_003;
    let spikes = [70_001, 33_333];
    let sig = test_signal(frames, spikes);
    write_f32(&path, 48_000, &sig);

    for bucket in [1u32, 7, 256, 1000, 32_768, 65_536, 200_000] {
        let p = compute(&path, 48_000, bucket);
        assert_eq!(p.bucket, bucket);
        assert_eq!(p.session_rate, 48_000);
        assert_eq!(p.frames, frames as u64);
        assert_eq!(p.channels.len(), 2);
        let b = bucket as usize;
        let n = frames.div_ceil(b);
        for (ch, x) in p.channels.iter().zip(&sig) {
            assert_eq!(ch.len(), n, "bucket {bucket}");
            for (k, pair) in ch.iter().enumerate() {
                // The last bucket is partial: the stream's silence past the end is not in it.
                let want = minmax(x, k * b, ((k + 1) * b).min(frames));
                assert_eq!(*pair, want, "bucket size {bucket}, bucket {k}");
            }
        }
        // The spikes are where they were written.
        let spike_l = p.channels[0].iter().position(|&[_, hi]| hi == 0.9).unwrap();
        assert_eq!(spike_l, spikes[0] / b);
        let spike_r = p.channels[1]
            .iter()
            .position(|&[lo, _]| lo == -0.95)
            .unwrap();
        assert_eq!(spike_r, spikes[1] / b);
    }

    // Mono.
    let mono = dir.path().join("mono.wav");
    write_f32(&mono, 48_000, &sig[..1]);
    let p = compute(&mono, 48_000, 100);
    assert_eq!(p.channels.len(), 1);
    assert_eq!(p.channels[0][spikes[0] / 100][1], 0.9);

    // An empty file: no buckets, no panic.
    let empty = dir.path().join("empty.wav");
    write_f32(&empty, 48_000, &[Vec::new()]);
    let p = compute(&empty, 48_000, 256);
    assert_eq!(p.frames, 0);
    assert_eq!(p.channels, vec![Vec::<[f32; 2]>::new()]);
    let mut out = Vec::new();
    p.columns(0, 48_000, 10, true, &mut out);
    assert_eq!(out, vec![[0.0, 0.0]; 10]);
    assert_eq!(Peaks::from_bytes(&p.to_bytes()), Some(p));
}

#[test]
fn resampled_track_lines_up_with_session_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cd.wav");
    // 3 s at 44.1 kHz: silence with clicks at 1.0 s and 2.25 s, and a 0.5 sine burst
    // from 1.5 s to 2.0 s.
    let frames = 3 * 44_100;
    let mut x = vec![0.0f32; frames];
    x[44_100] = 0.9;
    x[99_225] = -0.9;
    let burst = sine(22_050, 44_100, 500.0, 0.5);
    x[66_150..88_200].copy_from_slice(&burst);
    write_f32(&path, 44_100, &[x]);

    let bucket = 240; // 5 ms at 48 kHz
    let p = compute(&path, 48_000, bucket);
    assert_eq!(p.session_rate, 48_000);
    assert_eq!(p.frames, 3 * 48_000, "length at the session rate");
    let ch = &p.channels[0];
    assert_eq!(ch.len(), 600);

    // The loudest bucket of each click is the one holding its session-rate time.
    let loudest = |range: std::ops::Range<usize>, f: fn([f32; 2]) -> f32| {
        range
            .max_by(|&a, &b| f(ch[a]).total_cmp(&f(ch[b])))
            .unwrap()
    };
    let click1 = loudest(100..300, |[_, hi]| hi);
    assert_eq!(click1, 48_000 / 240, "click at 1.0 s");
    assert!(ch[click1][1] > 0.5, "{:?}", ch[click1]);
    let click2 = loudest(420..500, |[lo, _]| -lo);
    assert_eq!(click2, 108_000 / 240, "click at 2.25 s");
    assert!(ch[click2][0] < -0.5, "{:?}", ch[click2]);

    // The burst: 1.5 s..2.0 s = buckets 300..400 at 48 kHz. Inside it (away from its
    // edges) the peaks are the sine's; well away from it and the clicks, silence.
    for (k, &[lo, hi]) in ch.iter().enumerate() {
        let t = k as f64 * 0.005;
        if (1.51..1.99).contains(&t) {
            assert!(
                (hi - 0.5).abs() < 0.01 && (lo + 0.5).abs() < 0.01,
                "bucket {k}: {lo} {hi}"
            );
        } else if ![1.0, 1.5, 2.0, 2.25].iter().any(|e| (t - e).abs() < 0.03) {
            assert!(
                lo.abs() < 1e-3 && hi.abs() < 1e-3,
                "bucket {k} (t {t}): {lo} {hi}"
            );
        }
    }
    // The burst edges are on the session timeline too.
    assert!(
        ch[299][1] < 0.01 && ch[301][1] > 0.45,
        "{:?} {:?}",
        ch[299],
        ch[301]
    );
    assert!(
        ch[398][1] > 0.45 && ch[401][1] < 0.01,
        "{:?} {:?}",
        ch[398],
        ch[401]
    );
}

#[test]
fn columns_whole_song_and_zoomed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.wav");
    let frames = 100_003;
    let spikes = [70_001, 33_333];
    let sig = test_signal(frames, spikes);
    write_f32(&path, 48_000, &sig);
    let bucket = 64u32;
    let p = compute(&path, 48_000, bucket);
    let b = bucket as u64;

    // Reference: column i covers [start + span*i/n, start + span*(i+1)/n), widened to
    // whole buckets, at least one; silence past the end.
    let reference = |chans: &[&[f32]], start: u64, end: u64, n: usize| -> Vec<[f32; 2]> {
        let span = end - start;
        (0..n)
            .map(|i| {
                let f0 = start + span * i as u64 / n as u64;
                let f1 = start + span * (i as u64 + 1) / n as u64;
                let b0 = f0 / b;
                let b1 = f1.div_ceil(b).max(b0 + 1);
                let (s0, s1) = ((b0 * b) as usize, ((b1 * b) as usize).min(frames));
                let mut r = [f32::INFINITY, f32::NEG_INFINITY];
                for x in chans {
                    let [lo, hi] = minmax(x, s0, s1);
                    if s0 < s1 {
                        r = [r[0].min(lo), r[1].max(hi)];
                    }
                }
                if f1 > frames as u64 {
                    r = [r[0].min(0.0), r[1].max(0.0)];
                }
                if r[0] > r[1] { [0.0, 0.0] } else { r }
            })
            .collect()
    };
    let l: &[f32] = &sig[0];
    let r: &[f32] = &sig[1];

    let mut out = Vec::with_capacity(4096);
    for (start, end, n) in [
        (0, frames as u64, 800), // whole song, 800 px
        (0, frames as u64, 3),   // whole song, tiny
        (0, 150_000, 1000),      // whole song plus room after the end
        (69_000, 71_000, 500),   // zoomed on the spike: 4 frames per column
        (70_000, 70_010, 40),    // zoomed past one bucket per column
        (99_000, 101_000, 100),  // across the end
        (200_000, 300_000, 50),  // all past the end
    ] {
        p.columns(start, end, n, true, &mut out);
        assert_eq!(
            out,
            reference(&[l, r], start, end, n),
            "merged {start}..{end} / {n}"
        );
        p.columns(start, end, n, false, &mut out);
        assert_eq!(out.len(), 2 * n);
        assert_eq!(
            &out[..n],
            reference(&[l], start, end, n),
            "left {start}..{end} / {n}"
        );
        assert_eq!(
            &out[n..],
            reference(&[r], start, end, n),
            "right {start}..{end} / {n}"
        );
    }

    // Whole song: the spike's column has it, and the merged one spans both channels.
    let n = 1000;
    p.columns(0, frames as u64, n, true, &mut out);
    let col = spikes[0] * n / frames;
    assert_eq!(out[col][1], 0.9);
    assert_eq!(out[spikes[1] * n / frames][0], -0.95);
    assert!(out[0][0] < -0.79 && out[n - 1][1] > 0.79, "the ramp's ends");
    // Zoomed on the spike: exactly one bucket-wide run of columns shows it.
    p.columns(69_888, 70_144, 256, false, &mut out);
    let showing: Vec<usize> = (0..256).filter(|&i| out[i][1] == 0.9).collect();
    assert_eq!(
        showing,
        (64..128).collect::<Vec<_>>(),
        "bucket 1093 = frames 69952..70016"
    );

    // Empty range and n = 0.
    p.columns(500, 500, 4, true, &mut out);
    assert_eq!(out, vec![[0.0, 0.0]; 4]);
    p.columns(500, 100, 4, false, &mut out);
    assert_eq!(out, vec![[0.0, 0.0]; 8]);
    p.columns(0, 1000, 0, true, &mut out);
    assert!(out.is_empty());

    // No allocation once `out` is big enough.
    let ptr = out.as_ptr();
    let cap = out.capacity();
    for n in [10, 800, 2000, 1] {
        p.columns(0, frames as u64, n, false, &mut out);
    }
    assert_eq!((out.as_ptr(), out.capacity()), (ptr, cap));

    // With bucket 1 a zoomed view is the samples themselves.
    let p1 = compute(&path, 48_000, 1);
    p1.columns(70_000, 70_010, 10, false, &mut out);
    for i in 0..10 {
        assert_eq!(out[i], [l[70_000 + i]; 2]);
        assert_eq!(out[10 + i], [r[70_000 + i]; 2]);
    }
}

#[test]
fn bytes_round_trip_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.wav");
    write_f32(&path, 48_000, &test_signal(10_007, [5, 10_000]));
    let p = compute(&path, 48_000, 100);
    let bytes = p.to_bytes();
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(&bytes[8..12], &FORMAT_VERSION.to_le_bytes());
    assert_eq!(bytes.len(), 32 + 2 * 101 * 8);
    assert_eq!(Peaks::from_bytes(&bytes).as_ref(), Some(&p));

    // Every truncation, and one byte too many.
    for len in 0..bytes.len() {
        assert_eq!(Peaks::from_bytes(&bytes[..len]), None, "truncated to {len}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(Peaks::from_bytes(&longer), None);

    // Header fields that do not check out.
    let patched = |at: usize, with: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + with.len()].copy_from_slice(with);
        Peaks::from_bytes(&b)
    };
    assert_eq!(patched(0, b"STDKPK2\0"), None, "magic");
    assert_eq!(patched(8, &2u32.to_le_bytes()), None, "version");
    assert_eq!(patched(12, &0u32.to_le_bytes()), None, "bucket 0");
    assert_eq!(patched(12, &50u32.to_le_bytes()), None, "bucket vs length");
    assert_eq!(patched(20, &u64::MAX.to_le_bytes()), None, "huge frames");
    assert_eq!(
        patched(20, &(1u64 << 40).to_le_bytes()),
        None,
        "frames vs length"
    );
    assert_eq!(patched(28, &0u32.to_le_bytes()), None, "0 channels");
    assert_eq!(patched(28, &3u32.to_le_bytes()), None, "3 channels");
    assert_eq!(
        patched(28, &u32::MAX.to_le_bytes()),
        None,
        "u32::MAX channels"
    );
    assert_eq!(patched(32, &f32::NAN.to_le_bytes()), None, "NaN");
    assert_eq!(patched(32, &1.0f32.to_le_bytes()), None, "min > max");
    // A header claiming a huge body, without it: no allocation, None.
    let mut bomb = bytes[..32].to_vec();
    bomb[12..16].copy_from_slice(&1u32.to_le_bytes());
    bomb[20..28].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    assert_eq!(Peaks::from_bytes(&bomb), None);

    // Pseudo-random garbage, with and without a valid magic.
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..2000 {
        let len = (next() % 300) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 && len >= 8 {
            b[..8].copy_from_slice(&MAGIC);
        }
        let _ = Peaks::from_bytes(&b);
    }
    // Flipping any single byte never panics (it may still decode: the pairs are data).
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0xa5;
        let _ = Peaks::from_bytes(&b);
    }

    // A mono, and an empty, Peaks round trip too.
    let mono = Peaks {
        bucket: 3,
        session_rate: 44_100,
        frames: 7,
        channels: vec![vec![[-0.5, 0.25], [0.0, 0.0], [-1.0, 1.0]]],
    };
    assert_eq!(Peaks::from_bytes(&mono.to_bytes()), Some(mono));
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

#[test]
fn cache_hits_then_misses_when_source_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache").join("peaks");
    let cache = PeakCache::new(cache_dir.clone());
    let path = dir.path().join("track.wav");
    write_i16(
        &path,
        44_100,
        &[
            sine(50_000, 44_100, 220.0, 0.5),
            sine(50_000, 44_100, 330.0, 0.25),
        ],
    );
    let no = AtomicBool::new(false);

    assert_eq!(cache.load(&path, 48_000, 256), None);
    let progress = AtomicU64::new(0);
    let first = cache
        .get_or_compute(&path, 48_000, 256, &progress, &no)
        .unwrap();
    assert_eq!(progress.load(Ordering::Relaxed), first.frames, "computed");
    let entries = files_in(&cache_dir, ".peaks");
    assert_eq!(entries.len(), 1, "one cache file");
    assert!(entries[0].file_name().unwrap().to_string_lossy().len() == 16 + 6);
    assert!(
        files_in(&cache_dir, ".tmp").is_empty(),
        "no temporary file left"
    );
    assert_eq!(
        Peaks::from_bytes(&std::fs::read(&entries[0]).unwrap()).as_ref(),
        Some(&first)
    );

    // Second call: from the cache (nothing streamed), the same peaks.
    let progress = AtomicU64::new(0);
    let second = cache
        .get_or_compute(&path, 48_000, 256, &progress, &no)
        .unwrap();
    assert_eq!(
        progress.load(Ordering::Relaxed),
        0,
        "cache hit: nothing computed"
    );
    assert_eq!(second, first);
    assert_eq!(cache.load(&path, 48_000, 256).as_ref(), Some(&first));
    // Through another path to the same file (canonical path): a hit as well.
    let other = dir.path().join(".").join("track.wav");
    assert_eq!(cache.load(&other, 48_000, 256).as_ref(), Some(&first));

    // Another bucket or rate: misses, their own entries.
    assert_eq!(cache.load(&path, 48_000, 512), None);
    assert_eq!(cache.load(&path, 44_100, 256), None);
    let at_file_rate = cache
        .get_or_compute(&path, 44_100, 256, &AtomicU64::new(0), &no)
        .unwrap();
    assert_eq!(at_file_rate.frames, 50_000);
    assert_eq!(files_in(&cache_dir, ".peaks").len(), 2);

    // The source file rewritten (new size and time): recomputed, not the stale entry.
    write_i16(
        &path,
        44_100,
        &[
            sine(60_000, 44_100, 110.0, 0.9),
            sine(60_000, 44_100, 110.0, 0.1),
        ],
    );
    let later = std::time::SystemTime::now() + Duration::from_secs(10);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(cache.load(&path, 48_000, 256), None, "stale entry not used");
    let progress = AtomicU64::new(0);
    let third = cache
        .get_or_compute(&path, 48_000, 256, &progress, &no)
        .unwrap();
    assert_eq!(progress.load(Ordering::Relaxed), third.frames, "recomputed");
    assert_ne!(third, first);
    assert_eq!(
        third,
        Peaks::compute(&path, 48_000, 256, &AtomicU64::new(0), &no).unwrap()
    );
    assert_eq!(files_in(&cache_dir, ".peaks").len(), 3);

    // Same size, only the time changed: recomputed too.
    let later = later + Duration::from_secs(10);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(cache.load(&path, 48_000, 256), None);

    // A damaged cache entry is a miss, recomputed and replaced.
    let progress = AtomicU64::new(0);
    let fresh = cache
        .get_or_compute(&path, 48_000, 256, &progress, &no)
        .unwrap();
    assert!(progress.load(Ordering::Relaxed) > 0);
    let entry = cache.entry_path(&path, 48_000, 256).unwrap();
    assert_eq!(entry.parent(), Some(cache_dir.as_path()));
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(
        cache.load(&path, 48_000, 256),
        None,
        "half a file is a miss"
    );
    let progress = AtomicU64::new(0);
    assert_eq!(
        cache
            .get_or_compute(&path, 48_000, 256, &progress, &no)
            .unwrap(),
        fresh
    );
    assert!(progress.load(Ordering::Relaxed) > 0, "recomputed");
    assert_eq!(std::fs::read(&entry).unwrap(), bytes, "and replaced");

    // store() by hand, and a cache that cannot be written: still the peaks.
    let other_cache = PeakCache::new(dir.path().join("other"));
    other_cache.store(&path, &fresh).unwrap();
    assert_eq!(other_cache.load(&path, 48_000, 256), Some(fresh.clone()));
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"x").unwrap();
    let unwritable = PeakCache::new(blocker.join("peaks"));
    assert!(matches!(
        unwritable.store(&path, &fresh),
        Err(PeaksError::Io { .. })
    ));
    assert_eq!(
        unwritable
            .get_or_compute(&path, 48_000, 256, &AtomicU64::new(0), &no)
            .unwrap(),
        fresh
    );

    // A missing source: an audio error naming it, nothing cached.
    let missing = dir.path().join("missing.wav");
    let err = cache
        .get_or_compute(&missing, 48_000, 256, &AtomicU64::new(0), &no)
        .unwrap_err();
    assert!(matches!(err, PeaksError::Audio(_)), "{err:?}");
    assert!(err.to_string().contains("missing.wav"), "{err}");
}

#[test]
fn default_dir() {
    // Only reads the environment (setting it would race with other tests).
    let dir = PeakCache::default_dir();
    match std::env::var_os("STEMDECK_CACHE_DIR").filter(|d| !d.is_empty()) {
        Some(env) => assert_eq!(dir, Some(PathBuf::from(env))),
        None => {
            if std::env::var_os("HOME").is_some() {
                let dir = dir.unwrap();
                assert!(dir.ends_with("peaks"), "{}", dir.display());
                assert!(
                    dir.to_string_lossy().to_lowercase().contains("stemdeck"),
                    "{}",
                    dir.display()
                );
            }
        }
    }
}

#[test]
fn cancel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    let frames = 60 * 48_000;
    write_i16(
        &path,
        48_000,
        &[
            sine(frames, 48_000, 100.0, 0.5),
            sine(frames, 48_000, 150.0, 0.5),
        ],
    );

    // Cancelled before it starts.
    let progress = AtomicU64::new(0);
    let yes = AtomicBool::new(true);
    assert!(matches!(
        Peaks::compute(&path, 48_000, 256, &progress, &yes),
        Err(PeaksError::Cancelled)
    ));
    assert_eq!(progress.load(Ordering::Relaxed), 0);

    // Cancelled midway (from another thread, once it has started), through the cache:
    // an error, and nothing stored. Resampled, so it takes a while.
    let cache_dir = dir.path().join("cache");
    let cache = PeakCache::new(cache_dir.clone());
    let progress = AtomicU64::new(0);
    let cancel = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            while progress.load(Ordering::Relaxed) == 0 {
                std::thread::yield_now();
            }
            cancel.store(true, Ordering::Relaxed);
        });
        cache.get_or_compute(&path, 44_100, 256, &progress, &cancel)
    });
    assert!(matches!(result, Err(PeaksError::Cancelled)), "{result:?}");
    let done = progress.load(Ordering::Relaxed);
    assert!(done > 0 && done < 60 * 44_100, "stopped midway: {done}");
    assert!(files_in(&cache_dir, ".peaks").is_empty(), "nothing cached");

    // And afterwards it computes normally.
    let p = cache
        .get_or_compute(
            &path,
            44_100,
            256,
            &AtomicU64::new(0),
            &AtomicBool::new(false),
        )
        .unwrap();
    assert_eq!(p.frames, 60 * 44_100);
}

#[test]
fn timing_4min_stereo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.wav");
    let frames = 4 * 60 * 48_000;
    let t = Instant::now();
    write_i16(
        &path,
        48_000,
        &[
            sine(frames, 48_000, 110.0, 0.7),
            sine(frames, 48_000, 165.0, 0.7),
        ],
    );
    let write_time = t.elapsed();
    let cache = PeakCache::new(dir.path().join("cache"));
    let no = AtomicBool::new(false);
    let bucket = 256;

    let t = Instant::now();
    let computed = cache
        .get_or_compute(&path, 48_000, bucket, &AtomicU64::new(0), &no)
        .unwrap();
    let compute_time = t.elapsed();
    let progress = AtomicU64::new(0);
    let t = Instant::now();
    let loaded = cache
        .get_or_compute(&path, 48_000, bucket, &progress, &no)
        .unwrap();
    let load_time = t.elapsed();
    assert_eq!(progress.load(Ordering::Relaxed), 0);
    assert_eq!(loaded, computed);

    let t = Instant::now();
    let resampled = Peaks::compute(&path, 44_100, bucket, &AtomicU64::new(0), &no).unwrap();
    let resampled_time = t.elapsed();
    assert_eq!(resampled.frames, 4 * 60 * 44_100);

    let mut out = Vec::with_capacity(2 * 2000);
    let t = Instant::now();
    for _ in 0..100 {
        computed.columns(0, computed.frames, 2000, false, &mut out);
    }
    let columns_time = t.elapsed() / 100;

    let size = std::fs::metadata(cache.entry_path(&path, 48_000, bucket).unwrap())
        .unwrap()
        .len();
    println!(
        "4-min stereo 48 kHz 16-bit WAV ({} MB, written in {write_time:.2?}), bucket {bucket}: \
         compute {compute_time:.2?} (at 44.1 kHz, resampled: {resampled_time:.2?}), \
         load from cache {load_time:.2?} ({} KB), whole-song columns (2 × 2000) {columns_time:.2?}",
        std::fs::metadata(&path).unwrap().len() / 1_000_000,
        size / 1000,
    );
}
