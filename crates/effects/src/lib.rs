//! Stemdeck's insert effects: parametric EQ, compressor, limiter, delay and reverb.
//!
//! The shape follows kira's effects: each effect is *built* off the audio thread from
//! its parameters (`Chain::new`, which allocates every buffer it will ever need), then
//! *runs* on the audio thread (`Chain::process` never allocates, frees, locks, does I/O
//! or panics), and a parameter change arrives as new parameters (`Chain::update`) that
//! glide in over a few milliseconds, so every move is click-free. A change the running
//! chain cannot take in place (an effect added, removed or moved, an EQ band of another
//! shape, a new limiter look-ahead) returns `NeedsRebuild`: the caller builds a new chain
//! off the audio thread and swaps it in.
//!
//! The same processors serve playback and export, so what you hear is what you export.
//! Gain-based effects expose their gain stage (`dynamics`), which the master bus keys
//! from the full mix and applies to every stem.

pub mod delay;
pub mod dynamics;
pub mod eq;
mod error;
mod master;
mod mix;
pub mod reverb;
mod smooth;

pub use error::EffectError;
pub use master::MasterBus;
pub use mix::MixInserts;
pub use smooth::GLIDE_SECONDS;

use stemdeck_session::effects::{Effect, EffectKind};

use crate::smooth::{Ramp, glide_frames};

/// One effect's processor.
#[derive(Clone, Debug)]
pub enum Processor {
    // Boxed: sixteen bands of state would make every other variant as large.
    Eq(Box<eq::Equalizer>),
    Compressor(dynamics::Compressor),
    Limiter(dynamics::Limiter),
    Delay(delay::Delay),
    Reverb(reverb::Reverb),
}

impl Processor {
    /// Build the processor for `kind` (allocates; never on the audio thread).
    pub fn new(kind: &EffectKind, sample_rate: f64) -> Self {
        match kind {
            EffectKind::Eq(p) => Processor::Eq(Box::new(eq::Equalizer::new(&p.bands, sample_rate))),
            EffectKind::Compressor(p) => {
                Processor::Compressor(dynamics::Compressor::new(p, sample_rate))
            }
            EffectKind::Limiter(p) => Processor::Limiter(dynamics::Limiter::new(p, sample_rate)),
            EffectKind::Delay(p) => Processor::Delay(delay::Delay::new(p, sample_rate)),
            EffectKind::Reverb(p) => Processor::Reverb(reverb::Reverb::new(p, sample_rate)),
        }
    }

    /// Whether `kind` can be taken in place (same effect; for an EQ the same band
    /// shapes, for a limiter the same look-ahead).
    fn accepts(&self, kind: &EffectKind) -> bool {
        match (self, kind) {
            (Processor::Eq(eq), EffectKind::Eq(p)) => eq.accepts(&p.bands),
            (Processor::Limiter(l), EffectKind::Limiter(p)) => l.accepts(p),
            (Processor::Compressor(_), EffectKind::Compressor(_))
            | (Processor::Delay(_), EffectKind::Delay(_))
            | (Processor::Reverb(_), EffectKind::Reverb(_)) => true,
            _ => false,
        }
    }

    /// Glide to new parameters (only after `accepts`).
    fn update(&mut self, kind: &EffectKind) {
        match (self, kind) {
            (Processor::Eq(eq), EffectKind::Eq(p)) => eq.set(&p.bands),
            (Processor::Compressor(c), EffectKind::Compressor(p)) => c.set(p),
            (Processor::Limiter(l), EffectKind::Limiter(p)) => l.set(p),
            (Processor::Delay(d), EffectKind::Delay(p)) => d.set(p),
            (Processor::Reverb(r), EffectKind::Reverb(p)) => r.set(p),
            _ => {}
        }
    }

    /// Frames of delay the processor adds (the limiter's look-ahead).
    pub fn latency(&self) -> usize {
        match self {
            Processor::Limiter(l) => l.latency(),
            _ => 0,
        }
    }

    pub fn reset(&mut self) {
        match self {
            Processor::Eq(p) => p.reset(),
            Processor::Compressor(p) => p.reset(),
            Processor::Limiter(p) => p.reset(),
            Processor::Delay(p) => p.reset(),
            Processor::Reverb(p) => p.reset(),
        }
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        match self {
            Processor::Eq(p) => p.process(left, right),
            Processor::Compressor(p) => p.process(left, right),
            Processor::Limiter(p) => p.process(left, right),
            Processor::Delay(p) => p.process(left, right),
            Processor::Reverb(p) => p.process(left, right),
        }
    }
}

/// The running chain cannot take the new settings in place: build a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedsRebuild;

/// One slot of a chain: a processor and its bypass, which crossfades between the
/// processed and the unprocessed signal (the limiter instead glides its gain to unity,
/// keeping its delay, so the chain's latency never depends on bypass).
#[derive(Clone, Debug)]
struct Insert {
    processor: Processor,
    /// 1 = processed, 0 = bypassed.
    wet: Ramp,
    glide: u32,
}

impl Insert {
    fn set_bypass(&mut self, bypass: bool) {
        let target = if bypass { 0.0 } else { 1.0 };
        if let Processor::Limiter(l) = &mut self.processor {
            l.set_engaged(!bypass);
            self.wet.reset(1.0);
        } else {
            self.wet.set(target, self.glide);
        }
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if !self.wet.is_gliding() {
            if self.wet.value() > 0.5 {
                self.processor.process(left, right);
            }
            // Fully bypassed: untouched (and its state keeps what it held).
            return;
        }
        const N: usize = dynamics::CHUNK;
        let (mut dry_l, mut dry_r) = ([0f32; N], [0f32; N]);
        for (l, r) in left.chunks_mut(N).zip(right.chunks_mut(N)) {
            let (dl, dr) = (&mut dry_l[..l.len()], &mut dry_r[..r.len()]);
            dl.copy_from_slice(l);
            dr.copy_from_slice(r);
            self.processor.process(l, r);
            for (((l, r), dl), dr) in l.iter_mut().zip(r.iter_mut()).zip(dl.iter()).zip(dr.iter()) {
                let w = self.wet.next() as f32;
                *l = dl + (*l - dl) * w;
                *r = dr + (*r - dr) * w;
            }
        }
    }
}

/// An ordered chain of insert effects (a track's, a stem's or the master's).
#[derive(Clone, Debug)]
pub struct Chain {
    inserts: Vec<Insert>,
    sample_rate: f64,
}

impl Chain {
    /// Build the chain for `effects` at `sample_rate` (allocates: not on the audio
    /// thread). An effect with a parameter out of range is an error naming it.
    pub fn new(effects: &[Effect], sample_rate: u32) -> Result<Self, EffectError> {
        let sr = f64::from(sample_rate);
        let inserts = effects
            .iter()
            .enumerate()
            .map(|(i, e)| {
                if let Some(problem) = e.problem() {
                    return Err(EffectError::BadParameter {
                        position: i + 1,
                        effect: e.kind.label(),
                        problem,
                    });
                }
                let wet = if e.bypass { 0.0 } else { 1.0 };
                let mut insert = Insert {
                    processor: Processor::new(&e.kind, sr),
                    wet: Ramp::new(wet),
                    glide: glide_frames(sr),
                };
                if let Processor::Limiter(l) = &mut insert.processor {
                    // Bypass on a limiter is its gain at unity, never a skipped delay.
                    insert.wet = Ramp::new(1.0);
                    l.stage().set_engaged_now(!e.bypass);
                }
                Ok(insert)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            inserts,
            sample_rate: sr,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty()
    }

    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Glide to new settings in place (audio thread: no allocation), or say that the
    /// chain must be rebuilt. Parameters out of range are left out of an in-place update
    /// (the caller's check reports them).
    pub fn update(&mut self, effects: &[Effect]) -> Result<(), NeedsRebuild> {
        if effects.len() != self.inserts.len() {
            return Err(NeedsRebuild);
        }
        // Check every slot first, so a refused update changes nothing.
        let fits = self
            .inserts
            .iter()
            .zip(effects)
            .all(|(insert, e)| insert.processor.accepts(&e.kind) && e.problem().is_none());
        if !fits {
            return Err(NeedsRebuild);
        }
        for (insert, e) in self.inserts.iter_mut().zip(effects) {
            insert.processor.update(&e.kind);
            insert.set_bypass(e.bypass);
        }
        Ok(())
    }

    /// Frames of delay the whole chain adds (bypassed or not).
    pub fn latency(&self) -> usize {
        self.inserts.iter().map(|i| i.processor.latency()).sum()
    }

    /// Forget every tail and envelope (after a seek).
    pub fn reset(&mut self) {
        for insert in &mut self.inserts {
            insert.processor.reset();
        }
    }

    /// Process one stereo block in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let (left, right) = (&mut left[..n], &mut right[..n]);
        for insert in &mut self.inserts {
            insert.process(left, right);
        }
    }
}
