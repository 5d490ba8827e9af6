//! Track and stem chains inside the mix kernel (`stemdeck_audio::kernel::Inserts`).

use stemdeck_audio::kernel::Inserts;
use stemdeck_session::Session;
use stemdeck_session::effects::Effect;
use stemdeck_session::routing::MixPlan;

use crate::dynamics::LookaheadDelay;
use crate::{Chain, EffectError};

/// A track's or a stem's place in the mix: its chain, if any, and the delay that lines
/// it up with the slowest chain of its level (delay compensation).
#[derive(Debug)]
struct Slot {
    chain: Option<Chain>,
    pad: LookaheadDelay,
}

impl Slot {
    fn is_active(&self) -> bool {
        self.chain.as_ref().is_some_and(|c| !c.is_empty()) || !self.pad.is_empty()
    }

    fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if let Some(chain) = &mut self.chain {
            chain.process(left, right);
        }
        self.pad.process(left, right);
    }

    fn reset(&mut self) {
        if let Some(chain) = &mut self.chain {
            chain.reset();
        }
        self.pad.reset();
    }

    /// Take over `running`'s state: its chain when it can glide to `effects` in place,
    /// its compensation delay when it is as long. What this slot had goes to `running`.
    fn adopt(&mut self, running: &mut Slot, effects: &[Effect]) {
        if let (Some(mine), Some(theirs)) = (&mut self.chain, &mut running.chain)
            && theirs.update(effects).is_ok()
        {
            std::mem::swap(mine, theirs);
        }
        if self.pad.len() == running.pad.len() {
            std::mem::swap(&mut self.pad, &mut running.pad);
        }
    }
}

/// Pad every slot to the largest latency among them; returns that latency.
fn compensate(chains: Vec<Option<Chain>>) -> (Vec<Slot>, usize) {
    let latency = |c: &Option<Chain>| c.as_ref().map_or(0, Chain::latency);
    let max = chains.iter().map(latency).max().unwrap_or(0);
    let slots = chains
        .into_iter()
        .map(|chain| Slot {
            pad: LookaheadDelay::new(max - latency(&chain)),
            chain,
        })
        .collect();
    (slots, max)
}

/// The processing of one mix: a chain per track (indexed like `Session::tracks`) and
/// per stem (in the plan's stem order), `None` where there is none, and the scratch
/// buffer a processed track is mixed through. Built off the audio thread; the kernel
/// runs it without allocating.
///
/// Delay compensation: a chain with latency (a limiter's look-ahead) would put its
/// track or stem late, so every other track (stem) is delayed to the slowest track
/// (stem) chain. Every stem then comes out exactly [`MixInserts::latency`] frames late,
/// which the caller takes off (export drops those first frames), so every stem still
/// starts at sample 0.
#[derive(Debug, Default)]
pub struct MixInserts {
    tracks: Vec<Slot>,
    stems: Vec<Slot>,
    latency: usize,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl MixInserts {
    /// `max_frames`: the largest block the kernel will be asked to mix.
    pub fn new(tracks: Vec<Option<Chain>>, stems: Vec<Option<Chain>>, max_frames: usize) -> Self {
        let (tracks, track_latency) = compensate(tracks);
        let (stems, stem_latency) = compensate(stems);
        Self {
            tracks,
            stems,
            latency: track_latency + stem_latency,
            left: vec![0.0; max_frames],
            right: vec![0.0; max_frames],
        }
    }

    /// The chains of `session`'s tracks and of the stems of `plan` (in the plan's order),
    /// at `sample_rate`. An effect with a parameter out of range is an error naming the
    /// track or stem.
    pub fn for_session(
        session: &Session,
        plan: &MixPlan,
        sample_rate: u32,
        max_frames: usize,
    ) -> Result<Self, EffectError> {
        let chain = |effects: &[stemdeck_session::effects::Effect], owner: String| {
            if effects.is_empty() {
                return Ok(None);
            }
            Chain::new(effects, sample_rate)
                .map(Some)
                .map_err(|e| e.within(owner))
        };
        let tracks = session
            .tracks
            .iter()
            .map(|t| chain(&t.effects, format!("track \"{}\"", t.name)))
            .collect::<Result<Vec<_>, _>>()?;
        let stems = plan
            .stems
            .iter()
            .map(|sg| match session.stem(sg.stem) {
                Some(s) => chain(&s.effects, format!("stem \"{}\"", s.name)),
                None => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(tracks, stems, max_frames))
    }

    /// No chain anywhere: the plain mix.
    pub fn is_empty(&self) -> bool {
        self.tracks
            .iter()
            .chain(&self.stems)
            .all(|s| s.chain.is_none())
    }

    /// Frames every stem comes out late (the slowest track chain plus the slowest stem
    /// chain), the same for all stems.
    pub fn latency(&self) -> usize {
        self.latency
    }

    pub fn track_chain_mut(&mut self, track: usize) -> Option<&mut Chain> {
        self.tracks.get_mut(track)?.chain.as_mut()
    }

    pub fn stem_chain_mut(&mut self, stem: usize) -> Option<&mut Chain> {
        self.stems.get_mut(stem)?.chain.as_mut()
    }

    /// Take over the running state of track `from` of `running` (another mix's inserts,
    /// being replaced) for track `to`: its chain, gliding to `effects`, when it can take
    /// them in place, and its delay compensation when it is as long; this mix's own
    /// (fresh) ones go to `running`. So a chain that did not change shape carries on
    /// through a rebuild, tail and all. No allocation (audio thread).
    pub fn adopt_track(
        &mut self,
        to: usize,
        running: &mut MixInserts,
        from: usize,
        effects: &[Effect],
    ) {
        if let (Some(mine), Some(theirs)) = (self.tracks.get_mut(to), running.tracks.get_mut(from))
        {
            mine.adopt(theirs, effects);
        }
    }

    /// [`Self::adopt_track`] for stem `to` (plan order) from stem `from` of `running`.
    pub fn adopt_stem(
        &mut self,
        to: usize,
        running: &mut MixInserts,
        from: usize,
        effects: &[Effect],
    ) {
        if let (Some(mine), Some(theirs)) = (self.stems.get_mut(to), running.stems.get_mut(from)) {
            mine.adopt(theirs, effects);
        }
    }

    /// Forget every tail and envelope (after a seek).
    pub fn reset(&mut self) {
        for slot in self.tracks.iter_mut().chain(self.stems.iter_mut()) {
            slot.reset();
        }
    }
}

impl Inserts for MixInserts {
    fn has_track_inserts(&self, track: usize) -> bool {
        self.tracks.get(track).is_some_and(Slot::is_active)
    }

    fn track_scratch(&mut self, frames: usize) -> Option<(&mut [f32], &mut [f32])> {
        Some((self.left.get_mut(..frames)?, self.right.get_mut(..frames)?))
    }

    fn process_track(&mut self, track: usize, frames: usize) {
        if let (Some(slot), Some(l), Some(r)) = (
            self.tracks.get_mut(track),
            self.left.get_mut(..frames),
            self.right.get_mut(..frames),
        ) {
            slot.process(l, r);
        }
    }

    fn process_stem(&mut self, stem: usize, left: &mut [f32], right: &mut [f32]) {
        if let Some(slot) = self.stems.get_mut(stem) {
            slot.process(left, right);
        }
    }
}
