//! The lock-free pipe from the reader thread to the audio thread.
//!
//! Each track channel has its own SPSC ring of samples; all rings advance in lockstep,
//! one block at a time. A separate ring of [`BlockInfo`] says where each block starts
//! in the song. The audio thread only plays a block whose start is the position it
//! expects, so after a seek or loop change it can never play stale audio: mismatching
//! blocks are skipped (and the reader asked to move), and the output is silent until
//! the right audio arrives.

use ringbuf::traits::{Consumer as _, Observer as _, Producer as _, Split as _};
use ringbuf::{HeapCons, HeapProd, HeapRb};

/// Frames per block the reader pushes.
pub const FEED_BLOCK: usize = 2048;

/// Where a block of the rings' contents belongs in the song.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub start: u64,
    pub frames: u32,
    /// Counts the blocks the reader pushed (a clip edit's patch names the block it
    /// replaces by it: see [`crate::patch`]).
    pub seq: u64,
}

/// Reader side.
pub struct FeedProducer {
    pub(crate) tracks: Vec<Vec<HeapProd<f32>>>,
    pub(crate) blocks: HeapProd<BlockInfo>,
}

/// Audio-thread side.
pub struct FeedConsumer {
    pub(crate) tracks: Vec<Vec<HeapCons<f32>>>,
    pub(crate) blocks: HeapCons<BlockInfo>,
}

/// Rings for tracks with the given channel counts, holding `ahead` frames each.
pub fn feed(channels: &[usize], ahead: usize) -> (FeedProducer, FeedConsumer) {
    let ahead = ahead.max(FEED_BLOCK * 2);
    let mut prods = Vec::with_capacity(channels.len());
    let mut conss = Vec::with_capacity(channels.len());
    for &ch in channels {
        let (p, c): (Vec<_>, Vec<_>) = (0..ch.max(1))
            .map(|_| HeapRb::<f32>::new(ahead).split())
            .unzip();
        prods.push(p);
        conss.push(c);
    }
    let (bp, bc) = HeapRb::<BlockInfo>::new(ahead / FEED_BLOCK * 2 + 8).split();
    (
        FeedProducer {
            tracks: prods,
            blocks: bp,
        },
        FeedConsumer {
            tracks: conss,
            blocks: bc,
        },
    )
}

impl FeedProducer {
    /// Whether a block of `frames` fits in every ring.
    pub fn has_room(&self, frames: usize) -> bool {
        self.blocks.vacant_len() > 0
            && self
                .tracks
                .iter()
                .flatten()
                .all(|r| r.vacant_len() >= frames)
    }

    /// Push one block: `data[track][channel]` each at least `info.frames` long.
    /// Call only after [`Self::has_room`].
    pub fn push(&mut self, info: BlockInfo, data: &[Vec<Vec<f32>>]) {
        let n = info.frames as usize;
        for (rings, chans) in self.tracks.iter_mut().zip(data) {
            for (ring, ch) in rings.iter_mut().zip(chans) {
                ring.push_slice(ch.get(..n).unwrap_or_default());
            }
        }
        self.blocks.try_push(info).ok();
    }
}

impl FeedConsumer {
    pub fn next_block(&mut self) -> Option<BlockInfo> {
        self.blocks.try_pop()
    }

    /// Move `frames` of every track into `dst[track][channel][at..at + frames]`.
    pub fn pop_into(&mut self, dst: &mut [Vec<Vec<f32>>], at: usize, frames: usize) {
        for (rings, chans) in self.tracks.iter_mut().zip(dst.iter_mut()) {
            for (ring, ch) in rings.iter_mut().zip(chans.iter_mut()) {
                if let Some(d) = ch.get_mut(at..at + frames) {
                    let got = ring.pop_slice(d);
                    d.get_mut(got..).unwrap_or_default().fill(0.0);
                }
            }
        }
    }

    /// Frames queued in whole blocks not yet started.
    pub fn queued(&self) -> usize {
        self.tracks
            .iter()
            .flatten()
            .map(|r| r.occupied_len())
            .min()
            .unwrap_or(0)
    }

    /// Throw away `frames` of every track.
    pub fn skip(&mut self, frames: usize) {
        for ring in self.tracks.iter_mut().flatten() {
            ring.skip(frames);
        }
    }
}
