//! One pass over a file: levels, clipping runs, whether its channels are identical, and a
//! mono copy at the common rate for the correlations.

use std::path::Path;

use stemdeck_audio::AudioError;
use stemdeck_audio::decode::{Decoder, FileInfo};
use stemdeck_audio::stream::TrackStream;

use crate::thresholds::CLIP_RUN;

const BLOCK: usize = 16_384;

pub(crate) struct Scan {
    /// Frames at the file's own rate.
    pub frames: u64,
    pub peak: f32,
    pub sumsq: f64,
    /// Samples (all channels).
    pub samples: u64,
    pub clip_runs: u64,
    pub clip_longest: u64,
    /// Frame where the first clipping run starts.
    pub clip_first: Option<u64>,
    pub identical_channels: bool,
    /// (L + R) / 2 at the common rate.
    pub mono: Vec<f32>,
}

/// A run of full-scale samples in one channel.
#[derive(Default)]
struct Run {
    len: u64,
    start: u64,
}

/// Whether the samples are floating point (their full scale is 1.0, not an integer's).
pub(crate) fn is_float(info: &FileInfo) -> bool {
    info.codec.contains("f32") || info.codec.contains("f64")
}

pub(crate) fn scan(path: &Path, rate: u32) -> Result<Scan, AudioError> {
    let mut dec = Decoder::open(path)?;
    let info = dec.info().clone();
    let ch = info.channels.clamp(1, 2);
    // Full scale as the file can hold it: the largest integer is one LSB under 1.0.
    let full = match info.bits_per_sample {
        Some(b) if (2..=32).contains(&b) && !is_float(&info) => {
            1.0 - 1.0 / (1u64 << (b - 1)) as f32
        }
        _ => 1.0 - 1.0e-6,
    };
    let same_rate = info.sample_rate == rate;
    let mut s = Scan {
        frames: 0,
        peak: 0.0,
        sumsq: 0.0,
        samples: 0,
        clip_runs: 0,
        clip_longest: 0,
        clip_first: None,
        identical_channels: ch == 2,
        mono: Vec::with_capacity(if same_rate {
            usize::try_from(info.frames).unwrap_or(0)
        } else {
            0
        }),
    };
    let mut bufs = vec![vec![0.0f32; BLOCK]; ch];
    let mut runs: Vec<Run> = (0..ch).map(|_| Run::default()).collect();
    loop {
        let got = {
            let mut chans: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
            dec.read(&mut chans)?
        };
        if got == 0 {
            break;
        }
        for (c, (buf, run)) in bufs.iter().zip(&mut runs).enumerate() {
            for (i, &x) in buf.iter().take(got).enumerate() {
                let a = x.abs();
                s.peak = s.peak.max(a);
                s.sumsq += f64::from(x) * f64::from(x);
                if a >= full {
                    if run.len == 0 {
                        run.start = s.frames + i as u64;
                    }
                    run.len += 1;
                } else {
                    end_run(&mut s, run);
                }
            }
            if c == 1
                && let (Some(l), Some(r)) = (bufs.first(), bufs.get(1))
                && l.get(..got) != r.get(..got)
            {
                s.identical_channels = false;
            }
        }
        if same_rate {
            push_mono(&mut s.mono, &bufs, got);
        }
        s.samples += (got * ch) as u64;
        s.frames += got as u64;
    }
    for run in &mut runs {
        end_run(&mut s, run);
    }
    if !same_rate {
        let mut st = TrackStream::open(path, rate)?;
        let len = usize::try_from(st.len()).unwrap_or(0);
        s.mono.reserve(len);
        let mut done = 0;
        while done < len {
            let n = BLOCK.min(len - done);
            {
                let mut chans: Vec<&mut [f32]> = bufs
                    .iter_mut()
                    .map(|b| b.get_mut(..n).unwrap_or_default())
                    .collect();
                st.read(&mut chans)?;
            }
            push_mono(&mut s.mono, &bufs, n);
            done += n;
        }
    }
    Ok(s)
}

fn end_run(s: &mut Scan, run: &mut Run) {
    if run.len >= u64::from(CLIP_RUN) {
        s.clip_runs += 1;
        s.clip_longest = s.clip_longest.max(run.len);
        s.clip_first = Some(s.clip_first.map_or(run.start, |f| f.min(run.start)));
    }
    run.len = 0;
}

fn push_mono(mono: &mut Vec<f32>, bufs: &[Vec<f32>], n: usize) {
    match bufs {
        [l, r] => mono.extend(l.iter().zip(r).take(n).map(|(a, b)| 0.5 * (a + b))),
        [m] => mono.extend(m.iter().take(n)),
        _ => {}
    }
}
