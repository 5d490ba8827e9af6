//! The master bus: processing keyed from the full mix and applied to every stem, so the
//! wet stems still add up to the processed master.
//!
//! - A gain-based effect (compressor, limiter) computes one gain curve from the full mix
//!   at its place in the chain and multiplies that same curve into every stem.
//! - A linear effect (EQ, delay, reverb) runs once per stem, with its own state.
//! - The fader multiplies every stem.
//!
//! The processed master is then the sum of the processed stems, summed in the kernel's
//! order, so the stems add up to it exactly, bit for bit in the float mix.

use stemdeck_audio::kernel::{StereoBuf, sum_stems};
use stemdeck_session::Master;
use stemdeck_session::effects::{Effect, EffectKind};

use crate::dynamics::{
    CHUNK, CompressorStage, GainStage, LimiterStage, LookaheadDelay, apply_gain,
};
use crate::smooth::{Ramp, db_to_gain, glide_frames};
use crate::{EffectError, NeedsRebuild, Processor};

#[derive(Clone, Debug)]
enum Stage {
    /// One processor per stem.
    Linear(Vec<Processor>),
    Compressor(CompressorStage),
    /// The stage, and one look-ahead delay per stem.
    Limiter(LimiterStage, Vec<LookaheadDelay>),
}

#[derive(Clone, Debug)]
struct Slot {
    stage: Stage,
    /// 1 = processed, 0 = bypassed (the limiter glides its own gain instead).
    wet: Ramp,
}

impl Slot {
    fn new(effect: &Effect, stems: usize, sample_rate: f64) -> Self {
        let stage = match &effect.kind {
            EffectKind::Compressor(p) => Stage::Compressor(CompressorStage::new(p, sample_rate)),
            EffectKind::Limiter(p) => {
                let mut stage = LimiterStage::new(p, sample_rate);
                stage.set_engaged_now(!effect.bypass);
                let delays = (0..stems)
                    .map(|_| LookaheadDelay::new(stage.latency()))
                    .collect();
                Stage::Limiter(stage, delays)
            }
            kind => Stage::Linear(
                (0..stems)
                    .map(|_| Processor::new(kind, sample_rate))
                    .collect(),
            ),
        };
        let wet = match stage {
            Stage::Limiter(..) => 1.0,
            _ if effect.bypass => 0.0,
            _ => 1.0,
        };
        Self {
            stage,
            wet: Ramp::new(wet),
        }
    }

    fn accepts(&self, kind: &EffectKind) -> bool {
        match (&self.stage, kind) {
            (Stage::Linear(procs), kind) => {
                !kind.is_gain_based() && procs.first().is_none_or(|p| p.accepts(kind))
            }
            (Stage::Compressor(_), EffectKind::Compressor(_)) => true,
            (Stage::Limiter(stage, _), EffectKind::Limiter(p)) => stage.accepts(p),
            _ => false,
        }
    }

    fn update(&mut self, effect: &Effect, glide: u32) {
        match (&mut self.stage, &effect.kind) {
            (Stage::Linear(procs), kind) => procs.iter_mut().for_each(|p| p.update(kind)),
            (Stage::Compressor(stage), EffectKind::Compressor(p)) => stage.set(p),
            (Stage::Limiter(stage, _), EffectKind::Limiter(p)) => {
                stage.set(p);
                stage.set_engaged(!effect.bypass);
                return;
            }
            _ => {}
        }
        self.wet.set(if effect.bypass { 0.0 } else { 1.0 }, glide);
    }

    fn latency(&self) -> usize {
        match &self.stage {
            Stage::Limiter(stage, _) => stage.latency(),
            _ => 0,
        }
    }

    fn reset(&mut self) {
        match &mut self.stage {
            Stage::Linear(procs) => procs.iter_mut().for_each(Processor::reset),
            Stage::Compressor(stage) => stage.reset(),
            Stage::Limiter(stage, delays) => {
                stage.reset();
                delays.iter_mut().for_each(LookaheadDelay::reset);
            }
        }
    }

    /// Process frames `at..at + n` of every stem (n ≤ CHUNK).
    fn process(&mut self, stems: &mut [StereoBuf], at: usize, n: usize) {
        let mut gains = [0f32; CHUNK];
        let gains = &mut gains[..n];
        match &mut self.stage {
            Stage::Linear(procs) => {
                let start = self.wet;
                for (proc, stem) in procs.iter_mut().zip(stems.iter_mut()) {
                    let Some((l, r)) = chunk(stem, at, n) else {
                        continue;
                    };
                    let mut wet = start;
                    process_blended(proc, &mut wet, l, r);
                    self.wet = wet;
                }
                return;
            }
            Stage::Compressor(stage) => {
                key(stems, at, n, |kl, kr| stage.gain_curve(kl, kr, gains));
                if self.wet.is_gliding() || self.wet.value() < 1.0 {
                    for g in gains.iter_mut() {
                        *g = (1.0 + self.wet.next() * (f64::from(*g) - 1.0)) as f32;
                    }
                }
            }
            Stage::Limiter(stage, delays) => {
                key(stems, at, n, |kl, kr| stage.gain_curve(kl, kr, gains));
                for (delay, stem) in delays.iter_mut().zip(stems.iter_mut()) {
                    if let Some((l, r)) = chunk(stem, at, n) {
                        delay.process(l, r);
                    }
                }
            }
        }
        for stem in stems.iter_mut() {
            if let Some((l, r)) = chunk(stem, at, n) {
                apply_gain(l, r, gains);
            }
        }
    }
}

/// A linear processor on one stem's chunk, crossfaded with the unprocessed signal while
/// its bypass glides.
fn process_blended(proc: &mut Processor, wet: &mut Ramp, left: &mut [f32], right: &mut [f32]) {
    if !wet.is_gliding() {
        if wet.value() > 0.5 {
            proc.process(left, right);
        }
        return;
    }
    let (mut dry_l, mut dry_r) = ([0f32; CHUNK], [0f32; CHUNK]);
    let (dl, dr) = (&mut dry_l[..left.len()], &mut dry_r[..right.len()]);
    dl.copy_from_slice(left);
    dr.copy_from_slice(right);
    proc.process(left, right);
    for (((l, r), dl), dr) in left
        .iter_mut()
        .zip(right.iter_mut())
        .zip(dl.iter())
        .zip(dr.iter())
    {
        let w = wet.next() as f32;
        *l = dl + (*l - dl) * w;
        *r = dr + (*r - dr) * w;
    }
}

/// Frames `at..at + n` of a stem.
fn chunk(stem: &mut StereoBuf, at: usize, n: usize) -> Option<(&mut [f32], &mut [f32])> {
    let end = at.checked_add(n)?;
    Some((stem.left.get_mut(at..end)?, stem.right.get_mut(at..end)?))
}

/// The full mix of frames `at..at + n` (the sum of the stems, as the kernel sums them),
/// handed to `f` as the key of a gain stage.
fn key(stems: &[StereoBuf], at: usize, n: usize, f: impl FnOnce(&[f32], &[f32])) {
    let (mut kl, mut kr) = ([0f32; CHUNK], [0f32; CHUNK]);
    let (kl, kr) = (&mut kl[..n], &mut kr[..n]);
    for stem in stems {
        if let (Some(l), Some(r)) = (stem.left.get(at..at + n), stem.right.get(at..at + n)) {
            kl.iter_mut().zip(l).for_each(|(k, s)| *k += *s);
            kr.iter_mut().zip(r).for_each(|(k, s)| *k += *s);
        }
    }
    f(kl, kr);
}

/// The master bus of one mix with `stems` stems. Built off the audio thread
/// ([`MasterBus::new`] allocates every buffer it will use); `process` never allocates.
#[derive(Clone, Debug)]
pub struct MasterBus {
    slots: Vec<Slot>,
    fader: Ramp,
    stems: usize,
    glide: u32,
}

impl MasterBus {
    pub fn new(master: &Master, stems: usize, sample_rate: u32) -> Result<Self, EffectError> {
        let sr = f64::from(sample_rate);
        let slots = master
            .effects
            .iter()
            .enumerate()
            .map(|(i, e)| match e.problem() {
                Some(problem) => Err(EffectError::BadParameter {
                    position: i + 1,
                    effect: e.kind.label(),
                    problem,
                }
                .within("master".into())),
                None => Ok(Slot::new(e, stems, sr)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            slots,
            fader: Ramp::new(db_to_gain(master.gain_db)),
            stems,
            glide: glide_frames(sr),
        })
    }

    /// The number of stems it was built for.
    pub fn stems(&self) -> usize {
        self.stems
    }

    /// No effects and the fader at unity: the mix passes untouched.
    pub fn is_transparent(&self) -> bool {
        self.slots.is_empty() && !self.fader.is_gliding() && self.fader.value() == 1.0
    }

    /// Frames of delay the bus adds (its limiters' look-ahead), bypassed or not.
    pub fn latency(&self) -> usize {
        self.slots.iter().map(Slot::latency).sum()
    }

    /// Glide to new settings in place (audio thread: no allocation), or say the bus must
    /// be rebuilt (an effect added, removed or moved, a new look-ahead).
    pub fn update(&mut self, master: &Master) -> Result<(), NeedsRebuild> {
        let fits = master.effects.len() == self.slots.len()
            && self
                .slots
                .iter()
                .zip(&master.effects)
                .all(|(s, e)| s.accepts(&e.kind) && e.problem().is_none());
        if !fits {
            return Err(NeedsRebuild);
        }
        for (slot, e) in self.slots.iter_mut().zip(&master.effects) {
            slot.update(e, self.glide);
        }
        self.set_gain_db(master.gain_db);
        Ok(())
    }

    /// Move the fader (glides).
    pub fn set_gain_db(&mut self, gain_db: f32) {
        self.fader.set(db_to_gain(gain_db), self.glide);
    }

    /// Forget every tail and envelope (after a seek).
    pub fn reset(&mut self) {
        self.slots.iter_mut().for_each(Slot::reset);
    }

    /// Process the first `frames` frames of the stems in place and write their sum to
    /// `master`. With nothing to do (see [`Self::is_transparent`]) the buffers are left
    /// exactly as the kernel wrote them.
    pub fn process(&mut self, stems: &mut [StereoBuf], master: &mut StereoBuf, frames: usize) {
        if self.is_transparent() {
            return;
        }
        let count = self.stems.min(stems.len());
        let Some(stems) = stems.get_mut(..count) else {
            return;
        };
        let frames = stems
            .iter()
            .map(StereoBuf::capacity)
            .chain([frames, master.capacity()])
            .min()
            .unwrap_or(0);
        let mut at = 0;
        while at < frames {
            let n = CHUNK.min(frames - at);
            for slot in &mut self.slots {
                slot.process(stems, at, n);
            }
            self.apply_fader(stems, at, n);
            at += n;
        }
        // The master is the sum of the processed stems, in the kernel's order.
        sum_stems(stems, master, frames);
    }

    fn apply_fader(&mut self, stems: &mut [StereoBuf], at: usize, n: usize) {
        if !self.fader.is_gliding() {
            let g = self.fader.value() as f32;
            if g != 1.0 {
                for stem in stems.iter_mut() {
                    if let Some((l, r)) = chunk(stem, at, n) {
                        l.iter_mut().chain(r.iter_mut()).for_each(|s| *s *= g);
                    }
                }
            }
            return;
        }
        let mut gains = [0f32; CHUNK];
        let gains = &mut gains[..n];
        for g in gains.iter_mut() {
            *g = self.fader.next() as f32;
        }
        for stem in stems.iter_mut() {
            if let Some((l, r)) = chunk(stem, at, n) {
                apply_gain(l, r, gains);
            }
        }
    }
}
