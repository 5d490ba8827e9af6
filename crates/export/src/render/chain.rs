//! One output's chain: rate conversion, the common gain, the spill, the meters (loudness,
//! true peak) and the file's writer.

use std::path::{Path, PathBuf};

use stemdeck_audio::resample::RateConverter;

use super::spill::Spill;
use crate::ExportError;
use crate::options::BLOCK_FRAMES;
use crate::plan::{Layout, OutputSpec, Source};
use crate::true_peak::TruePeakMeter;
use crate::writer::StemWriter;

/// EBU R128 integrated loudness and the sample peak (the true peak is measured by
/// `TruePeakMeter`: the same values, faster).
pub(crate) fn loudness_meter(path: &Path, rate: u32) -> Result<ebur128::EbuR128, ExportError> {
    let mode = ebur128::Mode::I | ebur128::Mode::SAMPLE_PEAK;
    ebur128::EbuR128::new(2, rate, mode).map_err(|e| ExportError::Loudness {
        path: path.to_owned(),
        reason: format!("cannot measure at {rate} Hz: {e}"),
    })
}

/// A rate converter being fed.
pub(crate) struct Converter {
    pub(crate) rc: RateConverter,
    /// Frames in its input buffers.
    pub(crate) fill: usize,
}

/// One output: rate conversion, the common gain, measurement, the file.
pub(crate) struct Chain {
    /// `None` for the in-memory master.
    pub(crate) spec: Option<OutputSpec>,
    pub(crate) spec_path: PathBuf,
    pub(crate) source: Source,
    pub(crate) conv: Option<Converter>,
    pub(crate) gain: f32,
    /// Pass 1's blocks from the first clip on, kept for the trim (`--trim auto`,
    /// integer formats).
    pub(crate) spill: Option<Spill>,
    /// The blocks before the first clip, rendered again for the trim.
    pub(crate) prefix: Option<Spill>,
    pub(crate) writer: Option<StemWriter>,
    pub(crate) meter: Option<ebur128::EbuR128>,
    pub(crate) true_peak: Option<TruePeakMeter>,
    pub(crate) produced: u64,
    pub(crate) target: u64,
    /// The writer's float peak when it stopped (the file went: a trim is coming).
    pub(crate) written_peak: f32,
    /// This block's output (planar, after the gain).
    pub(crate) out: [Vec<f32>; 2],
}

impl Chain {
    pub(crate) fn new(
        spec: Option<OutputSpec>,
        source: Source,
        layout: &Layout,
        target: u64,
        writer: Option<StemWriter>,
        spill: Option<Spill>,
    ) -> Result<Self, ExportError> {
        let spec_path = spec.as_ref().map(|s| s.path.clone()).unwrap_or_default();
        let conv = if layout.out_rate == layout.session_rate {
            None
        } else {
            let rc = RateConverter::new(&spec_path, layout.session_rate, layout.out_rate, 2)?;
            Some(Converter { rc, fill: 0 })
        };
        let meter = spec
            .is_some()
            .then(|| loudness_meter(&spec_path, layout.out_rate))
            .transpose()?;
        let true_peak = meter.as_ref().map(|_| TruePeakMeter::new(layout.out_rate));
        Ok(Self {
            spec,
            spec_path,
            source,
            conv,
            gain: 1.0,
            spill,
            prefix: None,
            writer,
            meter,
            true_peak,
            produced: 0,
            target,
            written_peak: 0.0,
            out: [
                Vec::with_capacity(BLOCK_FRAMES * 2),
                Vec::with_capacity(BLOCK_FRAMES * 2),
            ],
        })
    }

    pub(crate) fn done(&self) -> bool {
        self.produced >= self.target
    }

    pub(crate) fn clipped(&self) -> u64 {
        self.writer.as_ref().map_or(0, StemWriter::clipped)
    }

    /// The highest absolute value sent to the file (before conversion to integers):
    /// what was written, then what was spilled.
    pub(crate) fn float_peak(&self) -> f32 {
        let written = self
            .writer
            .as_ref()
            .map_or(self.written_peak, StemWriter::peak);
        written.max(self.spill.as_ref().map_or(0.0, |s| s.peak))
    }

    /// Blocks kept for the trim: the first ones, then from the first clip on.
    pub(crate) fn spilled_blocks(&self) -> usize {
        [&self.prefix, &self.spill]
            .iter()
            .filter_map(|s| s.as_ref())
            .map(|s| s.blocks.len())
            .sum()
    }

    /// Only spill from now on: the file (deleted), its meters and its writing go.
    pub(crate) fn stop_delivering(&mut self) {
        if let Some(w) = &self.writer {
            self.written_peak = w.peak();
        }
        self.writer = None;
        self.meter = None;
        self.true_peak = None;
    }

    /// Spilled block `k` (counting the first blocks, then the rest) through the gain,
    /// the meters and the writer.
    pub(crate) fn replay(&mut self, k: usize) -> Result<(), ExportError> {
        let [out_l, out_r] = &mut self.out;
        let first = self.prefix.as_ref().map_or(0, |p| p.blocks.len());
        let (spill, k) = if k < first {
            (self.prefix.as_mut(), k)
        } else {
            (self.spill.as_mut(), k - first)
        };
        debug_assert!(spill.as_ref().is_some_and(|s| k < s.blocks.len()));
        match spill {
            Some(spill) => {
                let n = spill.blocks.get(k).copied().unwrap_or(0);
                spill.read(n, out_l, out_r)?;
            }
            None => {
                out_l.clear();
                out_r.clear();
            }
        }
        self.deliver(false)
    }

    /// Sample peak as stored, clipped samples, true peak (linear), loudness (LUFS).
    pub(crate) fn measurements(&self) -> (f32, u64, f64, Option<f64>) {
        let peak = self.writer.as_ref().map_or(0.0, StemWriter::written_peak);
        let (true_peak, loudness) = match &self.meter {
            Some(m) => {
                // As ebur128's `true_peak()`: the larger of the interpolated and the sample peak.
                let interpolated = self
                    .true_peak
                    .as_ref()
                    .map_or([0.0; 2], TruePeakMeter::peaks);
                let tp = (0..2)
                    .filter_map(|c| m.sample_peak(c).ok())
                    .zip(interpolated)
                    .map(|(s, t)| s.max(f64::from(t)))
                    .fold(0.0f64, f64::max);
                let lufs = m.loudness_global().ok().filter(|l| l.is_finite());
                (tp, lufs)
            }
            None => (0.0, None),
        };
        (peak, self.clipped(), true_peak, loudness)
    }

    /// Take one block at the session rate; produce what it gives at the output rate.
    pub(crate) fn push(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
        debug_assert_eq!(left.len(), right.len());
        let [out_l, out_r] = &mut self.out;
        out_l.clear();
        out_r.clear();
        let room = self.target.saturating_sub(self.produced);
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        match &mut self.conv {
            None => {
                let k = left.len().min(right.len()).min(room);
                out_l.extend_from_slice(left.get(..k).unwrap_or_default());
                out_r.extend_from_slice(right.get(..k).unwrap_or_default());
            }
            Some(conv) => {
                let n = left.len().min(right.len());
                let mut pos = 0;
                while pos < n {
                    let chunk = conv.rc.chunk_frames();
                    let take = chunk.saturating_sub(conv.fill).min(n - pos);
                    for (dst, src) in conv.rc.input_mut().iter_mut().zip([left, right]) {
                        if let (Some(d), Some(s)) = (
                            dst.get_mut(conv.fill..conv.fill + take),
                            src.get(pos..pos + take),
                        ) {
                            d.copy_from_slice(s);
                        }
                    }
                    conv.fill += take;
                    pos += take;
                    if conv.fill >= chunk {
                        conv.fill = 0;
                        let (bufs, range) =
                            conv.rc
                                .process(chunk)
                                .map_err(|reason| ExportError::Resample {
                                    path: self.spec_path.clone(),
                                    reason,
                                })?;
                        let k = range.len().min(room.saturating_sub(out_l.len()));
                        let range = range.start..range.start + k;
                        if let (Some(l), Some(r)) = (bufs.first(), bufs.get(1)) {
                            out_l.extend_from_slice(l.get(range.clone()).unwrap_or_default());
                            out_r.extend_from_slice(r.get(range).unwrap_or_default());
                        }
                    }
                }
            }
        }
        self.deliver(true)
    }

    /// This block's output (in `self.out`, at the output rate) through the spill (when
    /// `spill` and there is one), the gain, the meters and the writer.
    pub(crate) fn deliver(&mut self, spill: bool) -> Result<(), ExportError> {
        let [out_l, out_r] = &mut self.out;
        if out_l.is_empty() {
            return Ok(());
        }
        if let (true, Some(s)) = (spill, &mut self.spill) {
            s.write(out_l, out_r)?;
        }
        if self.gain != 1.0 {
            for x in out_l.iter_mut().chain(out_r.iter_mut()) {
                *x *= self.gain;
            }
        }
        if let Some(meter) = &mut self.meter {
            meter
                .add_frames_planar_f32(&[out_l.as_slice(), out_r.as_slice()])
                .map_err(|e| ExportError::Loudness {
                    path: self.spec_path.clone(),
                    reason: e.to_string(),
                })?;
        }
        if let Some(tp) = &mut self.true_peak {
            tp.add(out_l, out_r);
        }
        if let Some(w) = &mut self.writer {
            w.write(out_l, out_r)?;
        }
        self.produced += out_l.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use stemdeck_audio::resample::converted_len;
    use stemdeck_session::{Session, Song, Track, TrackId};

    use super::*;
    use crate::format::OutputFormat;
    use crate::options::{DeliveryOptions, ExportOptions};

    /// One stem of one track (never opened: the chain only needs the plan's rates).
    fn layout(dir: &Path, out_rate: Option<u32>) -> Layout {
        let mut s = Session::new(48_000, Song::default());
        s.tracks
            .push(Track::new(TrackId(1), "Kick", dir.join("kick.wav")));
        let id = s.add_stem("Drums");
        s.move_tracks(&[TrackId(1)], Some(id), None);
        let mut opts = ExportOptions::new(dir.to_path_buf());
        opts.format = OutputFormat::WAV32F;
        let delivery = DeliveryOptions {
            sample_rate: out_rate,
            sheet: false,
            ..DeliveryOptions::default()
        };
        Layout::new(&s, &opts, &delivery).unwrap()
    }

    fn chain(layout: &Layout, target: u64) -> Chain {
        let spec = layout.outputs.first().unwrap().clone();
        let writer =
            StemWriter::create(spec.path.clone(), layout.format, layout.out_rate, spec.seed)
                .unwrap();
        Chain::new(
            Some(spec),
            Source::Stem(0),
            layout,
            target,
            Some(writer),
            None,
        )
        .unwrap()
    }

    fn read(path: &Path) -> Vec<f32> {
        let mut r = hound::WavReader::open(path).unwrap();
        r.samples::<f32>().map(Result::unwrap).collect()
    }

    /// At the session rate the chain passes blocks through the gain to the file, stops at
    /// the planned length, and measures what it wrote.
    #[test]
    fn the_chain_applies_the_gain_and_ends_at_the_planned_length() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path(), None);
        // One second: long enough for the loudness meter's 400 ms gating blocks.
        let mut c = chain(&layout, 48_000);
        c.gain = 0.5;
        let ramp: Vec<f32> = (0..30_000).map(|i| i as f32 / 30_000.0).collect();
        c.push(&ramp, &ramp).unwrap();
        assert!(!c.done());
        c.push(&ramp, &ramp).unwrap();
        assert!(c.done());
        assert_eq!(c.produced, 48_000);
        let (peak, clipped, true_peak, loudness) = c.measurements();
        assert_eq!((peak, clipped), (0.5 * 29_999.0 / 30_000.0, 0));
        assert!(true_peak >= f64::from(peak));
        assert!(loudness.is_some_and(|l| l < 0.0), "{loudness:?}");
        let path = c.writer.take().unwrap().finish().unwrap();
        let samples = read(&path);
        assert_eq!(samples.len(), 96_000);
        // Interleaved: frame 30,100 is the second block's 100th sample.
        assert_eq!(samples[2 * 30_100], 0.5 * 100.0 / 30_000.0);
    }

    /// Converted to 44.1 kHz, the chain gives exactly the converted length once the
    /// converter is flushed with silence.
    #[test]
    fn a_converted_chain_gives_exactly_the_converted_length() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path(), Some(44_100));
        let input = 10_000u64;
        let target = converted_len(input, 48_000, 44_100);
        let mut c = chain(&layout, target);
        let sine: Vec<f32> = (0..input as usize)
            .map(|i| (i as f32 * 0.05).sin() * 0.5)
            .collect();
        c.push(&sine, &sine).unwrap();
        let silence = vec![0.0; 4096];
        for _ in 0..100 {
            if c.done() {
                break;
            }
            c.push(&silence, &silence).unwrap();
        }
        assert_eq!(c.produced, target);
        let path = c.writer.take().unwrap().finish().unwrap();
        let samples = read(&path);
        assert_eq!(samples.len() as u64, 2 * target);
        let peak = samples.iter().fold(0.0f32, |p, x| p.max(x.abs()));
        assert!((peak - 0.5).abs() < 0.02, "{peak}");
    }

    /// Spilled blocks replay through a new gain and writer as the same samples.
    #[test]
    fn spilled_blocks_replay_through_the_gain() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path(), None);
        let mut c = chain(&layout, 900);
        c.spill = Some(Spill::create(dir.path().join("spill.f32")).unwrap());
        let block: Vec<f32> = (0..300).map(|i| i as f32 / 300.0).collect();
        for _ in 0..3 {
            c.push(&block, &block).unwrap();
        }
        c.stop_delivering();
        assert_eq!(c.spilled_blocks(), 3);
        let spec = c.spec.clone().unwrap();
        c.writer = Some(
            StemWriter::create(spec.path.clone(), layout.format, layout.out_rate, spec.seed)
                .unwrap(),
        );
        c.gain = 0.25;
        c.produced = 0;
        c.spill.as_mut().unwrap().rewind().unwrap();
        for k in 0..3 {
            c.replay(k).unwrap();
        }
        assert_eq!(c.produced, 900);
        let samples = read(&c.writer.take().unwrap().finish().unwrap());
        assert_eq!(samples[2 * 450], 0.25 * 150.0 / 300.0);
        assert_eq!(samples.len(), 1800);
    }
}
