//! The reader thread: decodes every track ahead of the audio thread into the feed
//! rings, a block at a time, so memory stays bounded (a couple of seconds per track)
//! whatever the song's length. It follows seeks asked by the audio thread and wraps
//! at the loop end by itself, so a loop plays seamlessly.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;

use ringbuf::HeapCons;
use ringbuf::traits::Consumer as _;
use stemdeck_audio::stream::TrackStream;

use crate::EngineEvent;
use crate::feed::{BlockInfo, FEED_BLOCK, FeedProducer};
use crate::processor::LoopRegion;

pub(crate) struct Reader {
    pub streams: Vec<Option<TrackStream>>,
    pub channels: Vec<usize>,
    pub feed: FeedProducer,
    pub seeks: HeapCons<u64>,
    pub looping: Arc<LoopRegion>,
    pub len: u64,
    pub stop: Arc<AtomicBool>,
    pub events: Sender<EngineEvent>,
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
                next = to;
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
            self.feed.push(
                BlockInfo {
                    start: next,
                    frames: frames as u32,
                },
                &scratch,
            );
            next += frames as u64;
        }
    }

    fn seek_all(&mut self, to: u64) {
        for (i, slot) in self.streams.iter_mut().enumerate() {
            if let Some(s) = slot
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
}
