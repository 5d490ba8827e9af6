//! The mix kernel: the one piece of code that turns tracks into stems and stems into the
//! master, used by live playback and by export alike (what you hear is what you export).
//!
//! Rules (docs/mixing.md):
//! - Gains multiply (track gain × stem gain), in 32-bit float; nothing clips inside the
//!   mix, however loud (only integer file formats limit the range, at the very end).
//! - A **mono** track is panned with a constant-power law normalised to unity at centre:
//!   L = √2·cos θ, R = √2·sin θ with θ = (pan + 1)·π/4, so centre is 0 dB in both
//!   channels and a hard pan puts the track +3 dB in one channel and nothing in the other.
//! - A **stereo** track's pan is a balance: L × min(1, 1 − pan), R × min(1, 1 + pan).
//! - Each stem is the sum of its tracks times the stem gain; the master is the sum of
//!   the stems, so the stems always add up to the master.
//! - Gains may ramp linearly across a block (`from` → `to`), which is how the live
//!   engine makes mute, solo and fader moves click-free. Export uses `from == to`.
//!
//! Real-time safe: no allocation, locking, I/O or panicking paths (no indexing).

use stemdeck_session::routing::MixPlan;

/// A stereo block buffer (planar).
#[derive(Clone, Debug, Default)]
pub struct StereoBuf {
    pub left: Vec<f32>,
    pub right: Vec<f32>,
}

impl StereoBuf {
    pub fn new(frames: usize) -> Self {
        Self {
            left: vec![0.0; frames],
            right: vec![0.0; frames],
        }
    }

    pub fn capacity(&self) -> usize {
        self.left.len().min(self.right.len())
    }
}

/// Per-channel gains of a mono track at `pan` (-1 .. +1).
pub fn mono_pan(pan: f32) -> (f32, f32) {
    if pan == 0.0 {
        return (1.0, 1.0);
    }
    let theta = (pan.clamp(-1.0, 1.0) + 1.0) * std::f32::consts::FRAC_PI_4;
    (
        std::f32::consts::SQRT_2 * theta.cos(),
        std::f32::consts::SQRT_2 * theta.sin(),
    )
}

/// Per-channel gains of a stereo track balanced at `pan` (-1 .. +1).
pub fn balance(pan: f32) -> (f32, f32) {
    let p = pan.clamp(-1.0, 1.0);
    ((1.0 - p).min(1.0), (1.0 + p).min(1.0))
}

/// Left/right gains of a track with `channels` channels.
pub fn channel_gains(channels: usize, gain: f32, pan: f32) -> (f32, f32) {
    let (l, r) = if channels >= 2 { balance(pan) } else { mono_pan(pan) };
    (gain * l, gain * r)
}

/// Mix one block of `frames` frames.
///
/// `inputs[i]` is track `i`'s planar audio (1 or 2 channels, at least `frames` long),
/// indexed like `Session::tracks`; tracks in no stem may be left empty. `stems` gets one
/// buffer per stem of `to` (extra buffers are left alone), `master` their sum. Gains
/// ramp from `from` to `to` across the block; when the two plans differ in shape,
/// `to` is used throughout.
pub fn mix_block(
    from: &MixPlan,
    to: &MixPlan,
    inputs: &[Vec<Vec<f32>>],
    stems: &mut [StereoBuf],
    master: &mut StereoBuf,
    frames: usize,
) {
    let frames = frames.min(master.capacity());
    let (Some(ml), Some(mr)) = (master.left.get_mut(..frames), master.right.get_mut(..frames))
    else {
        return;
    };
    ml.fill(0.0);
    mr.fill(0.0);
    let same_shape = from.stems.len() == to.stems.len()
        && from
            .stems
            .iter()
            .zip(&to.stems)
            .all(|(a, b)| a.tracks.len() == b.tracks.len());
    for (i, (stem_to, out)) in to.stems.iter().zip(stems.iter_mut()).enumerate() {
        let stem_from = if same_shape { from.stems.get(i).unwrap_or(stem_to) } else { stem_to };
        let n = frames.min(out.capacity());
        let (Some(sl), Some(sr)) = (out.left.get_mut(..n), out.right.get_mut(..n)) else {
            continue;
        };
        sl.fill(0.0);
        sr.fill(0.0);
        for (j, t_to) in stem_to.tracks.iter().enumerate() {
            let t_from = stem_from.tracks.get(j).unwrap_or(t_to);
            let Some(input) = inputs.get(t_to.track) else { continue };
            let channels = input.len();
            let g0 = channel_gains(channels, t_from.gain, t_from.pan);
            let g1 = channel_gains(channels, t_to.gain, t_to.pan);
            if g0 == (0.0, 0.0) && g1 == (0.0, 0.0) {
                continue;
            }
            let Some(l_in) = input.first() else { continue };
            let r_in = input.get(1).unwrap_or(l_in);
            accumulate(sl, l_in, g0.0, g1.0);
            accumulate(sr, r_in, g0.1, g1.1);
        }
        scale(sl, stem_from.gain, stem_to.gain);
        scale(sr, stem_from.gain, stem_to.gain);
        for (m, s) in ml.iter_mut().zip(sl.iter()) {
            *m += *s;
        }
        for (m, s) in mr.iter_mut().zip(sr.iter()) {
            *m += *s;
        }
    }
}

/// `out += src × gain`, the gain ramping linearly from `g0` to reach `g1` at the last frame.
fn accumulate(out: &mut [f32], src: &[f32], g0: f32, g1: f32) {
    if g0 == g1 {
        for (o, s) in out.iter_mut().zip(src) {
            *o += *s * g1;
        }
    } else {
        let step = (g1 - g0) / out.len().max(1) as f32;
        for (k, (o, s)) in out.iter_mut().zip(src).enumerate() {
            *o += *s * (g0 + step * (k + 1) as f32);
        }
    }
}

/// `out ×= gain`, ramping like [`accumulate`].
fn scale(out: &mut [f32], g0: f32, g1: f32) {
    if g0 == g1 {
        if g1 != 1.0 {
            out.iter_mut().for_each(|o| *o *= g1);
        }
    } else {
        let step = (g1 - g0) / out.len().max(1) as f32;
        for (k, o) in out.iter_mut().enumerate() {
            *o *= g0 + step * (k + 1) as f32;
        }
    }
}
