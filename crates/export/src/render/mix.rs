//! Everything one render pass mixes per block, through the shared mix kernel: the wet
//! stems and master (track and stem inserts, the master bus), the dry stems, and every
//! variant with its own master bus; and the decoding of the next block.

use rayon::prelude::*;
use stemdeck_audio::kernel::{StereoBuf, mix_block, mix_block_with, sum_stems};
use stemdeck_audio::stream::TrackStream;
use stemdeck_effects::dynamics::LookaheadDelay;
use stemdeck_effects::{MasterBus, MixInserts};
use stemdeck_session::routing::MixPlan;
use stemdeck_session::{Master, Session};

use crate::ExportError;
use crate::options::BLOCK_FRAMES;
use crate::plan::{Layout, NullGroup, Source};

/// One silent input block per stream (its channels of `BLOCK_FRAMES` frames; nothing
/// for a track not heard).
pub(crate) fn input_blocks(streams: &[Option<TrackStream>]) -> Vec<Vec<Vec<f32>>> {
    streams
        .iter()
        .map(|s| match s {
            Some(s) => vec![vec![0.0; BLOCK_FRAMES]; s.channels()],
            None => Vec::new(),
        })
        .collect()
}

/// Decode the next `n` frames of every stream into its input block, in parallel.
pub(crate) fn decode_block(
    streams: &mut [Option<TrackStream>],
    inputs: &mut [Vec<Vec<f32>>],
    n: usize,
) -> Result<(), ExportError> {
    streams
        .par_iter_mut()
        .zip(inputs.par_iter_mut())
        .try_for_each(|(stream, buf)| match stream {
            Some(stream) => {
                debug_assert!(buf.iter().all(|c| c.len() >= n));
                let mut chans: Vec<&mut [f32]> = buf
                    .iter_mut()
                    .map(|c| c.get_mut(..n).unwrap_or_default())
                    .collect();
                stream.read(&mut chans)
            }
            None => Ok(()),
        })?;
    Ok(())
}

/// The wet mix of one plan: its track and stem inserts (`None`: no effect, the plain
/// kernel), its master bus, its stems and master.
pub(crate) struct WetMix {
    pub(crate) inserts: Option<MixInserts>,
    pub(crate) bus: MasterBus,
    pub(crate) stems: Vec<StereoBuf>,
    pub(crate) master: StereoBuf,
}

impl WetMix {
    pub(crate) fn new(
        session: &Session,
        plan: &MixPlan,
        master: &Master,
        rate: u32,
    ) -> Result<Self, ExportError> {
        let inserts = MixInserts::for_session(session, plan, rate, BLOCK_FRAMES)?;
        Ok(Self {
            inserts: (!inserts.is_empty()).then_some(inserts),
            bus: MasterBus::new(master, plan.stems.len(), rate)?,
            stems: vec![StereoBuf::new(BLOCK_FRAMES); plan.stems.len()],
            master: StereoBuf::new(BLOCK_FRAMES),
        })
    }

    /// Frames the mix comes out late (the inserts' and the bus's look-ahead).
    pub(crate) fn latency(&self) -> usize {
        self.inserts.as_ref().map_or(0, MixInserts::latency) + self.bus.latency()
    }

    /// The kernel (with the inserts), stems and master before the master bus.
    pub(crate) fn mix(&mut self, plan: &MixPlan, inputs: &[Vec<Vec<f32>>], n: usize) {
        match &mut self.inserts {
            Some(inserts) => mix_block_with(
                plan,
                plan,
                inputs,
                &mut self.stems,
                &mut self.master,
                n,
                inserts,
            ),
            None => mix_block(plan, plan, inputs, &mut self.stems, &mut self.master, n),
        }
    }

    pub(crate) fn process_bus(&mut self, n: usize) {
        self.bus.process(&mut self.stems, &mut self.master, n);
    }
}

/// How a variant's stems are made.
pub(crate) enum VariantStems {
    /// From the stems plan's wet stems before the master bus: a variant that only
    /// silences whole stems (mute/solo of stems: the usual case) hears each stem either
    /// exactly as the stems plan does or not at all, so its track and stem inserts need
    /// not run again. `true`: the stem is heard.
    Reuse(Vec<bool>),
    /// Its own mix (a soloed track makes a stem differ from the stems plan's).
    Own,
}

pub(crate) struct VariantMix {
    pub(crate) how: VariantStems,
    pub(crate) mix: WetMix,
}

/// Everything one render pass mixes per block: the wet stems and master (inserts and the
/// master bus), the dry stems (no inserts, the fader only) and the variants, each variant
/// with its own master bus. Built fresh for every pass, so every pass starts from the
/// same state and renders the same bits.
pub(crate) struct Mixer {
    pub(crate) wet: Option<WetMix>,
    /// Dry stems mixed on their own (`None`: none wanted, or they are the wet ones), and
    /// the delays that line them up with the wet mix's latency.
    pub(crate) dry: Option<(WetMix, Vec<LookaheadDelay>)>,
    pub(crate) variants: Vec<VariantMix>,
    /// Frames every wet output comes out late; dropped at the start of every output.
    pub(crate) latency: usize,
    /// Some effect runs: its tail (a reverb, a delay, the look-ahead) is mixed through the
    /// silence after the song instead of being cut.
    pub(crate) effects: bool,
    /// Silent inputs for the blocks after the song.
    pub(crate) zeros: Vec<Vec<Vec<f32>>>,
}

impl Mixer {
    pub(crate) fn new(
        session: &Session,
        layout: &Layout,
        streams: &[Option<TrackStream>],
    ) -> Result<Self, ExportError> {
        let rate = layout.session_rate;
        let plan = &layout.plan;
        let wet = if layout.needs_wet_mix() {
            Some(WetMix::new(session, plan, &layout.master, rate)?)
        } else {
            None
        };
        let latency = wet.as_ref().map_or(0, WetMix::latency);
        let fader_only = Master {
            gain_db: layout.master.gain_db,
            effects: Vec::new(),
        };
        let dry = if layout.has_stems(NullGroup::Dry) && !layout.dry_is_wet {
            let mut dry = WetMix::new(session, plan, &fader_only, rate)?;
            dry.inserts = None;
            let delays = (0..=plan.stems.len())
                .map(|_| LookaheadDelay::new(latency))
                .collect();
            Some((dry, delays))
        } else {
            None
        };
        let mut variants = Vec::new();
        for vplan in &layout.variant_plans {
            let reuse = wet.as_ref().and_then(|w| {
                w.inserts.as_ref()?;
                vplan
                    .stems
                    .iter()
                    .zip(&plan.stems)
                    .map(|(v, p)| {
                        if v == p {
                            Some(true)
                        } else if v.tracks.iter().all(|t| t.gain == 0.0) {
                            Some(false)
                        } else {
                            None
                        }
                    })
                    .collect::<Option<Vec<bool>>>()
                    .filter(|heard| heard.len() == vplan.stems.len())
            });
            let mut mix = WetMix::new(session, vplan, &layout.master, rate)?;
            let how = match reuse {
                Some(heard) => {
                    mix.inserts = None;
                    VariantStems::Reuse(heard)
                }
                None => VariantStems::Own,
            };
            if mix.latency() != latency && matches!(how, VariantStems::Own) {
                return Err(ExportError::Internal(
                    "a mix variant's effects have another latency".into(),
                ));
            }
            variants.push(VariantMix { how, mix });
        }
        let effects = session.has_effects();
        let zeros = if effects {
            input_blocks(streams)
        } else {
            Vec::new()
        };
        Ok(Self {
            wet,
            dry,
            variants,
            latency,
            effects,
            zeros,
        })
    }

    /// Mix `n` frames of `inputs` (`None`: silence after the song) into every source.
    pub(crate) fn mix(&mut self, layout: &Layout, inputs: Option<&[Vec<Vec<f32>>]>, n: usize) {
        debug_assert_eq!(self.variants.len(), layout.variant_plans.len());
        let inputs = inputs.unwrap_or(&self.zeros);
        if let Some(wet) = &mut self.wet {
            wet.mix(&layout.plan, inputs, n);
        }
        for (v, vplan) in self.variants.iter_mut().zip(&layout.variant_plans) {
            match (&v.how, &self.wet) {
                (VariantStems::Reuse(heard), Some(wet)) => {
                    // The stems plan's stems before its bus, silenced where the variant
                    // does not hear them, summed as the kernel sums them.
                    for ((dst, src), on) in v.mix.stems.iter_mut().zip(&wet.stems).zip(heard) {
                        for (d, s) in [(&mut dst.left, &src.left), (&mut dst.right, &src.right)] {
                            let (Some(d), Some(s)) = (d.get_mut(..n), s.get(..n)) else {
                                continue;
                            };
                            if *on {
                                d.copy_from_slice(s);
                            } else {
                                d.fill(0.0);
                            }
                        }
                    }
                    sum_stems(&v.mix.stems, &mut v.mix.master, n);
                }
                _ => v.mix.mix(vplan, inputs, n),
            }
            v.mix.process_bus(n);
        }
        if let Some(wet) = &mut self.wet {
            wet.process_bus(n);
        }
        if let Some((dry, delays)) = &mut self.dry {
            dry.mix(&layout.plan, inputs, n);
            dry.process_bus(n);
            if self.latency > 0 {
                let bufs = dry.stems.iter_mut().chain(std::iter::once(&mut dry.master));
                for (buf, delay) in bufs.zip(delays.iter_mut()) {
                    if let (Some(l), Some(r)) = (buf.left.get_mut(..n), buf.right.get_mut(..n)) {
                        delay.process(l, r);
                    }
                }
            }
        }
    }

    /// This block's sources.
    pub(crate) fn sources(&self) -> SourceBufs<'_> {
        let empty: &[StereoBuf] = &[];
        let (stems, master) = match &self.wet {
            Some(w) => (w.stems.as_slice(), Some(&w.master)),
            None => (empty, None),
        };
        let (dry_stems, dry_master) = match &self.dry {
            Some((d, _)) => (d.stems.as_slice(), Some(&d.master)),
            None => (stems, master),
        };
        SourceBufs {
            stems,
            master,
            variants: self.variants.iter().map(|v| &v.mix.master).collect(),
            dry_stems,
            dry_master,
            silence: None,
        }
    }
}

/// The audio of one block, by source.
pub(crate) struct SourceBufs<'a> {
    pub(crate) stems: &'a [StereoBuf],
    pub(crate) master: Option<&'a StereoBuf>,
    pub(crate) variants: Vec<&'a StereoBuf>,
    pub(crate) dry_stems: &'a [StereoBuf],
    pub(crate) dry_master: Option<&'a StereoBuf>,
    /// Set when every source is silent (the tail).
    pub(crate) silence: Option<&'a StereoBuf>,
}

impl<'a> SourceBufs<'a> {
    pub(crate) fn get(&self, source: Source, silence: &'a StereoBuf) -> &'a StereoBuf {
        if let Some(s) = self.silence {
            return s;
        }
        let found = match source {
            Source::Stem(i) => self.stems.get(i),
            Source::Master => self.master,
            Source::Variant(i) => self.variants.get(i).copied(),
            Source::DryStem(i) => self.dry_stems.get(i),
            Source::DryMaster => self.dry_master,
        };
        debug_assert!(found.is_some(), "no audio for {source:?}");
        found.unwrap_or(silence)
    }
}
