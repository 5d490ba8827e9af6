//! Track and stem chains inside the mix kernel (`stemdeck_audio::kernel::Inserts`).

use stemdeck_audio::kernel::Inserts;

use crate::Chain;

/// The processing of one mix: a chain per track (indexed like `Session::tracks`) and
/// per stem (in the plan's stem order), `None` where there is none, and the scratch
/// buffer a processed track is mixed through. Built off the audio thread; the kernel
/// runs it without allocating.
///
/// Alignment: a chain with latency (a limiter's look-ahead) delays its track or stem;
/// the caller compensates (`latency`) so every stem still starts at sample 0.
#[derive(Debug, Default)]
pub struct MixInserts {
    tracks: Vec<Option<Chain>>,
    stems: Vec<Option<Chain>>,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl MixInserts {
    /// `max_frames`: the largest block the kernel will be asked to mix.
    pub fn new(tracks: Vec<Option<Chain>>, stems: Vec<Option<Chain>>, max_frames: usize) -> Self {
        Self {
            tracks,
            stems,
            left: vec![0.0; max_frames],
            right: vec![0.0; max_frames],
        }
    }

    /// No chain anywhere: the plain mix.
    pub fn is_empty(&self) -> bool {
        self.tracks.iter().chain(&self.stems).all(Option::is_none)
    }

    /// The largest latency of any track or stem chain, in frames.
    pub fn latency(&self) -> usize {
        self.tracks
            .iter()
            .chain(&self.stems)
            .flatten()
            .map(Chain::latency)
            .max()
            .unwrap_or(0)
    }

    pub fn track_chain_mut(&mut self, track: usize) -> Option<&mut Chain> {
        self.tracks.get_mut(track)?.as_mut()
    }

    pub fn stem_chain_mut(&mut self, stem: usize) -> Option<&mut Chain> {
        self.stems.get_mut(stem)?.as_mut()
    }

    /// Forget every tail and envelope (after a seek).
    pub fn reset(&mut self) {
        for chain in self
            .tracks
            .iter_mut()
            .chain(self.stems.iter_mut())
            .flatten()
        {
            chain.reset();
        }
    }
}

impl Inserts for MixInserts {
    fn has_track_inserts(&self, track: usize) -> bool {
        matches!(self.tracks.get(track), Some(Some(c)) if !c.is_empty())
    }

    fn track_scratch(&mut self, frames: usize) -> Option<(&mut [f32], &mut [f32])> {
        Some((self.left.get_mut(..frames)?, self.right.get_mut(..frames)?))
    }

    fn process_track(&mut self, track: usize, frames: usize) {
        if let (Some(Some(chain)), Some(l), Some(r)) = (
            self.tracks.get_mut(track),
            self.left.get_mut(..frames),
            self.right.get_mut(..frames),
        ) {
            chain.process(l, r);
        }
    }

    fn process_stem(&mut self, stem: usize, left: &mut [f32], right: &mut [f32]) {
        if let Some(Some(chain)) = self.stems.get_mut(stem) {
            chain.process(left, right);
        }
    }
}
