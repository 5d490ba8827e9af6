//! A track made of clips: pieces of files placed on the timeline, each with its offset
//! into the file, its length, linear fades and gain, summed where they overlap. Exact to
//! the sample: every clip's file is read through the same [`FileStream`] a whole-file
//! track uses (converted to the session rate first, seeked exactly), so a clip at frame
//! `p` with offset `o` gives, at timeline frame `p + k`, the file's frame `o + k`.

use stemdeck_session::units::db_to_gain;
use stemdeck_session::{Clip, Track};

use crate::AudioError;
use crate::decode::FileInfo;
use crate::file_stream::FileStream;

struct Placed {
    stream: FileStream,
    position: u64,
    length: u64,
    offset: u64,
    fade_in: u64,
    fade_out: u64,
    gain: f64,
    /// The timeline frame the stream delivers next (`None`: it must seek first).
    next: Option<u64>,
}

impl Placed {
    /// The clip's gain at its `k`-th frame: its own gain times the fades (the same
    /// curves as ffmpeg's afade: i/n in, (n − i)/n out).
    fn gain_at(&self, k: u64) -> f64 {
        let mut g = self.gain;
        if k < self.fade_in {
            g *= k as f64 / self.fade_in as f64;
        }
        let fade_from = self.length - self.fade_out;
        if k >= fade_from && self.fade_out > 0 {
            g *= (self.fade_out - (k - fade_from)) as f64 / self.fade_out as f64;
        }
        g
    }
}

pub(crate) struct ClipStream {
    /// The first clip's file (what `stemdeck info` shows for the track).
    info: FileInfo,
    clips: Vec<Placed>,
    channels: usize,
    len: u64,
    pos: u64,
    scratch: [Vec<f32>; 2],
}

impl ClipStream {
    pub(crate) fn open(track: &Track, session_rate: u32) -> Result<ClipStream, AudioError> {
        let mut clips = Vec::with_capacity(track.clips.len());
        let mut info = None;
        for clip in &track.clips {
            let path = clip.path.as_deref().unwrap_or(&track.path);
            let stream = FileStream::open(path, session_rate)?;
            info.get_or_insert_with(|| stream.info().clone());
            if let Some(placed) = place(clip, stream) {
                clips.push(placed);
            }
        }
        let channels = clips
            .iter()
            .map(|c| c.stream.channels())
            .max()
            .unwrap_or(1)
            .clamp(1, 2);
        let len = clips
            .iter()
            .map(|c| c.position + c.length)
            .max()
            .unwrap_or(0);
        let info = match info {
            Some(info) => info,
            // No clips at all: the track's file stands for it.
            None => FileStream::open(&track.path, session_rate)?.info().clone(),
        };
        Ok(ClipStream {
            info,
            clips,
            channels,
            len,
            pos: 0,
            scratch: [Vec::new(), Vec::new()],
        })
    }

    pub(crate) fn info(&self) -> &FileInfo {
        &self.info
    }

    pub(crate) fn channels(&self) -> usize {
        self.channels
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn seek(&mut self, frame: u64) {
        self.pos = frame;
        for c in &mut self.clips {
            c.next = None;
        }
    }

    pub(crate) fn read(&mut self, out: &mut [&mut [f32]]) -> Result<(), AudioError> {
        let want = out.iter().map(|c| c.len()).min().unwrap_or(0);
        for ch in out.iter_mut() {
            ch.fill(0.0);
        }
        let (from, to) = (self.pos, self.pos + want as u64);
        for clip in &mut self.clips {
            let start = from.max(clip.position);
            let end = to.min(clip.position + clip.length);
            if start >= end {
                continue;
            }
            if clip.next != Some(start) {
                clip.stream.seek(clip.offset + (start - clip.position))?;
            }
            let n = (end - start) as usize;
            let src_channels = clip.stream.channels().clamp(1, 2);
            for s in self.scratch.iter_mut().take(src_channels) {
                s.resize(n, 0.0);
            }
            {
                let [a, b] = &mut self.scratch;
                let mut bufs: [&mut [f32]; 2] = [a.as_mut_slice(), b.as_mut_slice()];
                clip.stream
                    .read(bufs.get_mut(..src_channels).unwrap_or_default())?;
            }
            clip.next = Some(end);
            let at = (start - from) as usize;
            let k0 = start - clip.position;
            for (c, dst) in out.iter_mut().enumerate() {
                let (Some(src), Some(dst)) = (
                    self.scratch.get(c.min(src_channels - 1)),
                    dst.get_mut(at..at + n),
                ) else {
                    continue;
                };
                for (i, (d, s)) in dst.iter_mut().zip(src).enumerate() {
                    *d += (f64::from(*s) * clip.gain_at(k0 + i as u64)) as f32;
                }
            }
        }
        self.pos = to;
        Ok(())
    }
}

/// A clip as it will play: its length resolved against its file (a clip reaching past
/// the file's end plays silence there), `None` when it plays nothing.
fn place(clip: &Clip, stream: FileStream) -> Option<Placed> {
    let file_left = stream.len().saturating_sub(clip.offset);
    let length = clip.length.unwrap_or(file_left);
    if length == 0 {
        return None;
    }
    Some(Placed {
        position: clip.position,
        length,
        offset: clip.offset,
        fade_in: clip.fade_in.min(length),
        fade_out: clip.fade_out.min(length - clip.fade_in.min(length)),
        gain: f64::from(db_to_gain(clip.gain_db)),
        next: None,
        stream,
    })
}
