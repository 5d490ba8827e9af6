//! The reader thread: decodes every track ahead of the audio thread into the feed
//! rings, a block at a time, so memory stays bounded (a couple of seconds per track)
//! whatever the song's length. It follows seeks asked by the audio thread and wraps
//! at the loop end by itself, so a loop plays seamlessly. When a track's clips change it
//! takes the track's new stream and patches what it already decoded ([`crate::patch`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use ringbuf::HeapCons;
use ringbuf::traits::Consumer as _;
use stemdeck_audio::stream::TrackStream;

use crate::EngineEvent;
use crate::feed::{BlockInfo, FEED_BLOCK, FeedProducer};
use crate::patch::{PatchSender, Segment};
use crate::processor::LoopRegion;

/// Messages from the control side.
pub(crate) enum ReaderMsg {
    /// The song's new length (a clip moved past the end, or back).
    Len(u64),
    /// Tracks whose clips changed, with their new streams (opened at the new positions).
    Replace(Vec<(usize, TrackStream)>),
}

pub(crate) struct Reader {
    pub streams: Vec<Option<TrackStream>>,
    pub channels: Vec<usize>,
    pub feed: FeedProducer,
    pub seeks: HeapCons<u64>,
    pub looping: Arc<LoopRegion>,
    pub len: u64,
    pub stop: Arc<AtomicBool>,
    pub events: Sender<EngineEvent>,
    pub msgs: Receiver<ReaderMsg>,
    pub patches: PatchSender,
    /// The blocks pushed that the audio thread may not have finished, oldest first.
    pub log: VecDeque<BlockInfo>,
    /// Per track, the last block a patch covered (`None`: never patched).
    pub patched: Vec<Option<u64>>,
    /// Sequence numbers of the next block and the next batch of patches.
    pub seq: u64,
    pub run: u64,
}

impl Reader {
    pub fn run(mut self) {
        let mut scratch: Vec<Vec<Vec<f32>>> = self
            .channels
            .iter()
            .map(|c| vec![vec![0.0; FEED_BLOCK]; *c])
            .collect();
        let mut next: u64 = 0;
        while !self.stop.load(Ordering::Relaxed) {
            // Only the latest seek matters.
            let mut seek = None;
            while let Some(to) = self.seeks.try_pop() {
                seek = Some(to);
            }
            if let Some(to) = seek {
                self.seek_all(to);
                // What was decoded before the seek is skipped, not played: no patching.
                self.log.clear();
                next = to;
            }
            while let Ok(msg) = self.msgs.try_recv() {
                match msg {
                    ReaderMsg::Len(len) => self.len = len,
                    ReaderMsg::Replace(tracks) => self.replace(tracks, next),
                }
            }
            let region = self.looping.get();
            if let Some((start, end)) = region
                && next == end
            {
                self.seek_all(start);
                next = start;
            }
            let limit = match region {
                Some((_, end)) if next < end => end,
                _ => self.len,
            };
            if next >= limit || !self.feed.has_room(FEED_BLOCK) {
                std::thread::sleep(Duration::from_millis(3));
                continue;
            }
            let frames = (limit - next).min(FEED_BLOCK as u64) as usize;
            for (i, (stream, chans)) in self.streams.iter_mut().zip(scratch.iter_mut()).enumerate()
            {
                let mut parts: Vec<&mut [f32]> = chans
                    .iter_mut()
                    .map(|c| c.get_mut(..frames).unwrap_or_default())
                    .collect();
                let failed = match stream {
                    Some(s) => s.read(&mut parts).err(),
                    None => {
                        parts.iter_mut().for_each(|p| p.fill(0.0));
                        None
                    }
                };
                if let Some(e) = failed {
                    // A file that vanished or broke plays as silence; the user is told once.
                    parts.iter_mut().for_each(|p| p.fill(0.0));
                    *stream = None;
                    self.events
                        .send(EngineEvent::TrackFailed {
                            track: i,
                            message: e.to_string(),
                        })
                        .ok();
                }
            }
            let info = BlockInfo {
                start: next,
                frames: frames as u32,
                seq: self.seq,
            };
            self.feed.push(info, &scratch);
            self.seq += 1;
            self.remember(info);
            next += frames as u64;
        }
    }

    /// Log a pushed block, forgetting those the audio thread has finished.
    fn remember(&mut self, info: BlockInfo) {
        self.forget_played();
        self.log.push_back(info);
    }

    /// Drop the logged blocks the audio thread has finished; returns the one it plays.
    fn forget_played(&mut self) -> u64 {
        let playing = self.patches.shared.playing.load(Ordering::Relaxed);
        while self.log.front().is_some_and(|b| b.seq < playing) {
            self.log.pop_front();
        }
        playing
    }

    /// Take the new streams of tracks whose clips changed, and patch the blocks already
    /// pushed that the audio thread has not finished: for those tracks and for those an
    /// earlier batch still patches (a newer batch voids the older one's segments). `next`
    /// is where the feed goes on, with the new streams. Should the patch not fit its ring
    /// (many tracks edited at once), the edit is heard once the feed reaches new audio.
    fn replace(&mut self, new: Vec<(usize, TrackStream)>, next: u64) {
        let playing = self.forget_played();
        let mut tracks: Vec<usize> = Vec::new();
        for (i, stream) in new {
            if let Some(slot) = self.streams.get_mut(i) {
                *slot = Some(stream);
                tracks.push(i);
            }
        }
        for (i, last) in self.patched.iter().enumerate() {
            if last.is_some_and(|l| l >= playing) && !tracks.contains(&i) {
                tracks.push(i);
            }
        }
        let frames: usize = self.log.iter().map(|b| b.frames as usize).sum();
        let samples: usize = tracks
            .iter()
            .map(|i| self.channels.get(*i).copied().unwrap_or(1))
            .sum::<usize>()
            * frames;
        let first = self.log.front().map(|b| b.seq);
        if let Some(first) = first
            && self
                .patches
                .has_room(tracks.len() * self.log.len(), samples)
        {
            self.run += 1;
            // Decoded whole before any of it is sent, and announced only once all of it
            // is in the ring: from the moment the audio thread sees the new batch it
            // voids the older one's segments, and the new one's must be there to take
            // their place (else a block would play the feed's old audio: a click).
            let mut segments: Vec<(Segment, Vec<Vec<f32>>)> = Vec::new();
            // Where each stream is, so contiguous blocks read on without a seek.
            let mut at: Vec<Option<u64>> = vec![None; tracks.len()];
            for b in &self.log {
                let n = b.frames as usize;
                for (&i, at) in tracks.iter().zip(at.iter_mut()) {
                    let (Some(Some(stream)), Some(chans)) =
                        (self.streams.get_mut(i), self.channels.get(i))
                    else {
                        continue;
                    };
                    let mut data = vec![vec![0.0; n]; (*chans).max(1)];
                    let mut parts: Vec<&mut [f32]> =
                        data.iter_mut().map(Vec::as_mut_slice).collect();
                    let read = if *at == Some(b.start) {
                        stream.read(&mut parts)
                    } else {
                        stream.seek(b.start).and_then(|()| stream.read(&mut parts))
                    };
                    *at = Some(b.start + n as u64);
                    if read.is_err() {
                        // Silence here; the feed's next read reports the problem.
                        parts.iter_mut().for_each(|p| p.fill(0.0));
                        *at = None;
                    }
                    let seg = Segment {
                        seq: b.seq,
                        run: self.run,
                        track: i,
                        frames: n,
                        channels: data.len(),
                    };
                    segments.push((seg, data));
                    if let Some(p) = self.patched.get_mut(i) {
                        *p = Some(b.seq);
                    }
                }
            }
            for (seg, data) in &segments {
                self.patches.push(*seg, data);
            }
            self.patches.begin(self.run, first);
        }
        for i in tracks {
            self.seek_track(i, next);
        }
        self.patches.shared.done.fetch_add(1, Ordering::Release);
    }

    fn seek_all(&mut self, to: u64) {
        for i in 0..self.streams.len() {
            self.seek_track(i, to);
        }
    }

    /// Move track `i` to `to`; a track that cannot seek plays as silence from then on,
    /// and the user is told once.
    fn seek_track(&mut self, i: usize, to: u64) {
        if let Some(slot) = self.streams.get_mut(i)
            && let Some(s) = slot
            && let Err(e) = s.seek(to)
        {
            *slot = None;
            self.events
                .send(EngineEvent::TrackFailed {
                    track: i,
                    message: e.to_string(),
                })
                .ok();
        }
    }
}
