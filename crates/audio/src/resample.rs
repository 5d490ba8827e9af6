//! Sample-rate conversion to the session rate, with rubato.
//!
//! Quality: rubato's synchronous FFT resampler (`rubato::Fft`), the right tool for a
//! fixed ratio such as 44.1 → 48 kHz: a Blackman-Harris² anti-aliasing window, a cutoff
//! just below the lower Nyquist frequency (see [`RateConverter::cutoff`]), linear phase.
//! A test measures it: a 1 kHz sine resampled 44.1 → 48 kHz keeps everything outside
//! the tone more than 100 dB down. The resampler's own delay is removed, so a resampled
//! track lines up with the others to the sample.
//!
//! That delay is half of rubato's output FFT size. rubato reports it rounded down, so
//! when that size is odd (e.g. 96 → 44.1 kHz, 32 → 44.1 kHz with rubato's default block
//! layout) half a frame of delay would stay in. `block_layout` picks a layout whose
//! output FFT size is even, so the delay removed is exact.

use std::collections::HashMap;
use std::path::Path;

use audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler as _, WindowFunction};

use crate::AudioError;

/// Input frames per resampler call (unless [`block_layout`] has to pick another size).
const CHUNK: usize = 1024;
/// rubato's default FFT sub-block target: about 256 frames, for a low delay.
const SUB_BLOCK: usize = 256;

/// The sample rates converted from and to (Hz): from telephone-grade files to 768 kHz.
pub const SUPPORTED_RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// A streaming converter from one fixed rate to another.
pub struct RateConverter {
    resampler: Fft<f32>,
    channels: usize,
    input: Vec<Vec<f32>>,
    output: Vec<Vec<f32>>,
    /// Output frames still to discard: the resampler's delay.
    delay_left: usize,
    /// Input and output frames of one FFT sub-block (see [`Self::block_frames`]).
    block: (usize, usize),
}

impl RateConverter {
    pub fn new(path: &Path, from: u32, to: u32, channels: usize) -> Result<Self, AudioError> {
        // The FFT sizes grow with the rates over their common divisor: a nonsense rate in
        // a damaged header (1 Hz, 1 GHz) would ask for gigabytes.
        if !SUPPORTED_RATES.contains(&from) || !SUPPORTED_RATES.contains(&to) {
            return Err(AudioError::Resample {
                path: path.to_owned(),
                from,
                to,
                reason: format!(
                    "sample rates from {} Hz to {} Hz are supported",
                    SUPPORTED_RATES.start(),
                    SUPPORTED_RATES.end()
                ),
            });
        }
        let (chunk, sub_chunks) = block_layout(from as usize, to as usize);
        let resampler = Fft::<f32>::new_custom(
            from as usize,
            to as usize,
            chunk,
            sub_chunks,
            channels,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| AudioError::Resample {
            path: path.to_owned(),
            from,
            to,
            reason: e.to_string(),
        })?;
        let out_max = resampler.output_frames_max();
        Ok(Self {
            delay_left: resampler.output_delay(),
            block: fft_block(from as usize, to as usize, chunk, sub_chunks),
            channels,
            input: vec![vec![0.0; resampler.input_frames_next()]; channels],
            output: vec![vec![0.0; out_max]; channels],
            resampler,
        })
    }

    /// How many input frames the next call to [`Self::process`] takes.
    pub fn chunk_frames(&self) -> usize {
        self.resampler.input_frames_next()
    }

    /// The input buffers to fill (one per channel, [`Self::chunk_frames`] long).
    pub fn input_mut(&mut self) -> &mut [Vec<f32>] {
        &mut self.input
    }

    /// Input and output frames of one of rubato's FFT sub-blocks. The resampler works on
    /// these blocks whatever the chunking: an output block depends only on its input block
    /// and the one before (overlap-add). So after [`Self::reset`], fed from an input frame
    /// that is a multiple of the input block, the output from the second block on is the
    /// same, bit for bit, as a converter fed from the start gives (tests/seek.rs checks).
    pub fn block_frames(&self) -> (usize, usize) {
        self.block
    }

    /// The resampler's delay in output frames (dropped at the start of the output).
    pub fn delay(&self) -> usize {
        self.resampler.output_delay()
    }

    /// Forget all input, as if new, and drop the first `discard` output frames (on top of
    /// the resampler's delay, which is dropped again): for a seek.
    pub fn reset(&mut self, discard: usize) {
        self.resampler.reset();
        self.delay_left = self.resampler.output_delay().saturating_add(discard);
    }

    /// Relative cutoff frequency of the anti-aliasing filter (1.0 = the lower Nyquist).
    pub fn cutoff(&self) -> f32 {
        self.resampler.cutoff()
    }

    /// Resample the filled input (`valid` frames of it; the rest counts as silence) and
    /// return the new output frames, one slice per channel, with the delay removed.
    pub fn process(
        &mut self,
        valid: usize,
    ) -> Result<(&[Vec<f32>], std::ops::Range<usize>), String> {
        let frames_in = self.resampler.input_frames_next();
        // More valid frames than one chunk holds would be dropped, unheard.
        debug_assert!(
            valid <= frames_in,
            "{valid} frames for a chunk of {frames_in}"
        );
        let out_frames = self.output.first().map_or(0, |c| c.len());
        let input = SequentialSliceOfVecs::new(&self.input, self.channels, frames_in)
            .map_err(|e| e.to_string())?;
        let mut output =
            SequentialSliceOfVecs::new_mut(&mut self.output, self.channels, out_frames)
                .map_err(|e| e.to_string())?;
        let indexing = Indexing::new().partial_len(valid.min(frames_in));
        let (_, produced) = self
            .resampler
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| e.to_string())?;
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        Ok((&self.output, skip..produced))
    }
}

/// Input chunk and FFT sub-chunk count for rubato's `Fft` (FixedSync::Input) such that
/// its output FFT size is even, so that its delay (half that size) is a whole number of
/// frames and `Fft::output_delay` (which rounds down) is exact.
///
/// rubato (5.0) sizes its FFTs as `n * from/g` in and `n * to/g` out (g = gcd(from, to))
/// with `n = ceil((chunk / sub_chunks) / (from/g))`. When `to/g` is odd, `n` must be
/// even. Prefers rubato's default (1024-frame chunk, ~256-frame sub-blocks), then fewer,
/// longer sub-blocks (a longer filter: only latency is given up, and it is removed), then
/// a chunk of exactly two units. tests/resample_quality.rs measures the delay left
/// (`no_half_frame_delay_for_odd_fft_sizes`), so a change in rubato's sizing shows.
fn block_layout(from: usize, to: usize) -> (usize, usize) {
    let g = gcd(from, to).max(1);
    let (unit_in, unit_out) = ((from / g).max(1), to / g);
    let default = (CHUNK, (CHUNK / SUB_BLOCK).max(1));
    if unit_out % 2 == 0 {
        return default;
    }
    for sub_chunks in (1..=default.1).rev() {
        if (CHUNK / sub_chunks).div_ceil(unit_in).max(1) % 2 == 0 {
            return (CHUNK, sub_chunks);
        }
    }
    // One sub-block of exactly two units.
    (2 * unit_in, 1)
}

/// The FFT sub-block sizes (input, output frames) rubato (5.0) uses for a layout: `n`
/// units of `from/g` and `to/g` frames (see [`block_layout`]).
fn fft_block(from: usize, to: usize, chunk: usize, sub_chunks: usize) -> (usize, usize) {
    let g = gcd(from, to).max(1);
    let (unit_in, unit_out) = ((from / g).max(1), (to / g).max(1));
    let n = (chunk / sub_chunks.max(1)).div_ceil(unit_in).max(1);
    (n * unit_in, n * unit_out)
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Frames a track of `frames` at `from` Hz lasts at `to` Hz (rounded up, so nothing
/// the source holds is cut).
pub fn converted_len(frames: u64, from: u32, to: u32) -> u64 {
    if from == to || from == 0 {
        return frames;
    }
    (u128::from(frames) * u128::from(to)).div_ceil(u128::from(from)) as u64
}

/// The rate most files share; on a tie, the higher one.
pub fn majority_rate(rates: impl Iterator<Item = u32>) -> u32 {
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for r in rates {
        *counts.entry(r).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(rate, n)| (*n, *rate))
        .map_or(48_000, |(rate, _)| rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_rate_prefers_the_common_then_the_higher() {
        assert_eq!(majority_rate([44_100, 48_000, 48_000].into_iter()), 48_000);
        assert_eq!(majority_rate([44_100, 44_100, 96_000].into_iter()), 44_100);
        assert_eq!(majority_rate([44_100, 48_000].into_iter()), 48_000);
    }
}
