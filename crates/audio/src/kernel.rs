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
//! - Processing has two places in the kernel (`Inserts`): after a track's gain and pan,
//!   before it joins its stem, and on each stem's sum, before the stem's gain. The
//!   master's processing comes after the kernel, where it can be keyed from the full mix
//!   (stemdeck_effects). Without inserts the kernel does exactly the arithmetic it always
//!   did, so a session without effects mixes to the same bits.
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

    /// The first `frames` frames of both channels, set to silence; `None` beyond the
    /// capacity.
    pub fn silence(&mut self, frames: usize) -> Option<(&mut [f32], &mut [f32])> {
        let (Some(l), Some(r)) = (self.left.get_mut(..frames), self.right.get_mut(..frames)) else {
            return None;
        };
        l.fill(0.0);
        r.fill(0.0);
        Some((l, r))
    }
}

/// `master` = the sum of `stems` over the first `frames` frames, added in order: the
/// kernel's own order, so the same bits as the master it mixes.
pub fn sum_stems(stems: &[StereoBuf], master: &mut StereoBuf, frames: usize) {
    let Some((ml, mr)) = master.silence(frames) else {
        return;
    };
    for stem in stems {
        add(ml, &stem.left);
        add(mr, &stem.right);
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
    let (l, r) = if channels >= 2 {
        balance(pan)
    } else {
        mono_pan(pan)
    };
    (gain * l, gain * r)
}

/// Processing inside the mix: a track's signal after its gain and pan, and a stem's sum
/// before its gain. Called on the audio thread: implementations must not allocate, lock,
/// do I/O or panic. `track`/`stem` are indices into `Session::tracks` / the plan's stems.
pub trait Inserts {
    /// Whether track `track` has processing (false: its audio goes straight into the
    /// stem, the kernel's plain path).
    fn has_track_inserts(&self, track: usize) -> bool;
    /// A scratch stereo buffer of at least `frames` frames for a processed track's
    /// signal (None: no room, the track is mixed unprocessed).
    fn track_scratch(&mut self, frames: usize) -> Option<(&mut [f32], &mut [f32])>;
    /// Process track `track`'s signal, which the kernel left in the scratch buffer.
    fn process_track(&mut self, track: usize, frames: usize);
    /// Process stem `stem`'s sum (before the stem's gain) in place.
    fn process_stem(&mut self, stem: usize, left: &mut [f32], right: &mut [f32]);
}

/// No processing anywhere: the plain mix.
pub struct NoInserts;

impl Inserts for NoInserts {
    fn has_track_inserts(&self, _track: usize) -> bool {
        false
    }
    fn track_scratch(&mut self, _frames: usize) -> Option<(&mut [f32], &mut [f32])> {
        None
    }
    fn process_track(&mut self, _track: usize, _frames: usize) {}
    fn process_stem(&mut self, _stem: usize, _left: &mut [f32], _right: &mut [f32]) {}
}

/// Mix one block of `frames` frames, without processing (see [`mix_block_with`]).
pub fn mix_block(
    from: &MixPlan,
    to: &MixPlan,
    inputs: &[Vec<Vec<f32>>],
    stems: &mut [StereoBuf],
    master: &mut StereoBuf,
    frames: usize,
) {
    mix_block_with(from, to, inputs, stems, master, frames, &mut NoInserts);
}

/// Mix one block of `frames` frames.
///
/// `inputs[i]` is track `i`'s planar audio (1 or 2 channels, at least `frames` long),
/// indexed like `Session::tracks`; tracks in no stem may be left empty. `stems` gets one
/// buffer per stem of `to` (extra buffers are left alone), `master` their sum. Gains
/// ramp from `from` to `to` across the block; when the two plans differ in shape,
/// `to` is used throughout.
/// `inserts` processes each track's signal before it joins its stem and each stem's sum
/// before the stem's gain.
pub fn mix_block_with(
    from: &MixPlan,
    to: &MixPlan,
    inputs: &[Vec<Vec<f32>>],
    stems: &mut [StereoBuf],
    master: &mut StereoBuf,
    frames: usize,
    inserts: &mut impl Inserts,
) {
    let frames = frames.min(master.capacity());
    let Some((ml, mr)) = master.silence(frames) else {
        return;
    };
    let same_shape = from.stems.len() == to.stems.len()
        && from
            .stems
            .iter()
            .zip(&to.stems)
            .all(|(a, b)| a.tracks.len() == b.tracks.len());
    for (i, (stem_to, out)) in to.stems.iter().zip(stems.iter_mut()).enumerate() {
        let stem_from = if same_shape {
            from.stems.get(i).unwrap_or(stem_to)
        } else {
            stem_to
        };
        let n = frames.min(out.capacity());
        let Some((sl, sr)) = out.silence(n) else {
            continue;
        };
        for (j, t_to) in stem_to.tracks.iter().enumerate() {
            let t_from = stem_from.tracks.get(j).unwrap_or(t_to);
            let Some(input) = inputs.get(t_to.track) else {
                continue;
            };
            let channels = input.len();
            let g0 = channel_gains(channels, t_from.gain, t_from.pan);
            let g1 = channel_gains(channels, t_to.gain, t_to.pan);
            // A silent track adds nothing, unless its chain still rings (a reverb or
            // delay tail after a mute): then it runs on silence, as a DAW's would.
            if g0 == (0.0, 0.0) && g1 == (0.0, 0.0) && !inserts.has_track_inserts(t_to.track) {
                continue;
            }
            let Some(l_in) = input.first() else { continue };
            let r_in = input.get(1).unwrap_or(l_in);
            if inserts.has_track_inserts(t_to.track)
                && let Some((xl, xr)) = inserts.track_scratch(n)
                && let (Some(xl), Some(xr)) = (xl.get_mut(..n), xr.get_mut(..n))
            {
                // The track alone, processed, then into the stem.
                xl.fill(0.0);
                xr.fill(0.0);
                accumulate(xl, l_in, g0.0, g1.0);
                accumulate(xr, r_in, g0.1, g1.1);
                inserts.process_track(t_to.track, n);
                if let Some((xl, xr)) = inserts.track_scratch(n) {
                    add(sl, xl);
                    add(sr, xr);
                }
                continue;
            }
            accumulate(sl, l_in, g0.0, g1.0);
            accumulate(sr, r_in, g0.1, g1.1);
        }
        inserts.process_stem(i, sl, sr);
        scale(sl, stem_from.gain, stem_to.gain);
        scale(sr, stem_from.gain, stem_to.gain);
        add(ml, sl);
        add(mr, sr);
    }
}

/// `out += src`.
fn add(out: &mut [f32], src: &[f32]) {
    for (o, s) in out.iter_mut().zip(src) {
        *o += *s;
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

#[cfg(test)]
mod tests {
    use super::*;
    use stemdeck_session::StemId;
    use stemdeck_session::routing::{MixPlan, StemGain, TrackGain};

    const N: usize = 64;

    /// A stem: its gain, and its tracks as (track, gain, pan).
    type StemSpec<'a> = (f32, &'a [(usize, f32, f32)]);

    fn plan(stems: &[StemSpec]) -> MixPlan {
        MixPlan {
            stems: stems
                .iter()
                .enumerate()
                .map(|(i, (gain, tracks))| StemGain {
                    stem: StemId(i as u32 + 1),
                    gain: *gain,
                    tracks: tracks
                        .iter()
                        .map(|(track, gain, pan)| TrackGain {
                            track: *track,
                            gain: *gain,
                            pan: *pan,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn run(p: &MixPlan, inputs: &[Vec<Vec<f32>>]) -> (Vec<StereoBuf>, StereoBuf) {
        let mut stems = vec![StereoBuf::new(N); p.stems.len()];
        let mut master = StereoBuf::new(N);
        mix_block(p, p, inputs, &mut stems, &mut master, N);
        (stems, master)
    }

    fn mono(v: f32) -> Vec<Vec<f32>> {
        vec![vec![v; N]]
    }

    #[test]
    fn mono_at_centre_is_unity_in_both_channels() {
        let (stems, master) = run(&plan(&[(1.0, &[(0, 1.0, 0.0)])]), &[mono(0.5)]);
        assert!(
            stems[0]
                .left
                .iter()
                .chain(&stems[0].right)
                .all(|x| *x == 0.5)
        );
        assert_eq!(master.left, stems[0].left);
    }

    #[test]
    fn pan_law_is_constant_power_normalised_to_centre() {
        assert_eq!(mono_pan(0.0), (1.0, 1.0));
        let (l, r) = mono_pan(-1.0);
        assert!((l - std::f32::consts::SQRT_2).abs() < 1e-6 && r.abs() < 1e-6);
        for p in [-0.9f32, -0.5, -0.1, 0.3, 0.7, 1.0] {
            let (l, r) = mono_pan(p);
            assert!((l * l + r * r - 2.0).abs() < 1e-5, "power at {p}");
        }
        let (l, r) = mono_pan(0.5);
        assert!(r > l);
    }

    #[test]
    fn stereo_pan_is_a_balance() {
        assert_eq!(balance(0.0), (1.0, 1.0));
        assert_eq!(balance(0.5), (0.5, 1.0));
        assert_eq!(balance(-1.0), (1.0, 0.0));
        let input = vec![vec![vec![0.2; N], vec![-0.4; N]]];
        let (stems, _) = run(&plan(&[(1.0, &[(0, 1.0, -0.5)])]), &input);
        assert!((stems[0].left[0] - 0.2).abs() < 1e-7);
        assert!((stems[0].right[0] + 0.2).abs() < 1e-7);
    }

    #[test]
    fn gains_multiply_and_nothing_clips() {
        let p = plan(&[(4.0, &[(0, 2.0, 0.0), (1, 1.0, 0.0)])]);
        let (stems, master) = run(&p, &[mono(0.9), mono(0.5)]);
        // (0.9 × 2 + 0.5) × 4 = 9.2: far past full scale, kept as is in float.
        assert!((stems[0].left[5] - 9.2).abs() < 1e-5);
        assert!((master.right[5] - 9.2).abs() < 1e-5);
    }

    #[test]
    fn silent_tracks_and_missing_inputs_add_nothing() {
        let p = plan(&[
            (1.0, &[(0, 0.0, 0.0), (7, 1.0, 0.0)]),
            (1.0, &[(1, 1.0, 0.0)]),
        ]);
        let (stems, master) = run(&p, &[mono(0.9), mono(0.25)]);
        assert!(stems[0].left.iter().all(|x| *x == 0.0));
        assert!(master.left.iter().all(|x| *x == 0.25));
    }

    #[test]
    fn stems_sum_exactly_to_the_master() {
        let p = plan(&[
            (0.7, &[(0, 0.3, -0.4), (1, 1.2, 0.9)]),
            (1.3, &[(2, 0.8, 0.1)]),
        ]);
        let inputs: Vec<Vec<Vec<f32>>> = (0..3)
            .map(|t| {
                vec![
                    (0..N)
                        .map(|i| ((i * (t + 3)) as f32 * 0.37).sin())
                        .collect(),
                ]
            })
            .collect();
        let (stems, master) = run(&p, &inputs);
        for i in 0..N {
            let l: f32 = stems.iter().map(|s| s.left[i]).sum();
            let r: f32 = stems.iter().map(|s| s.right[i]).sum();
            assert!((l - master.left[i]).abs() <= 1e-6 && (r - master.right[i]).abs() <= 1e-6);
        }
    }

    #[test]
    fn gains_ramp_across_a_block_without_jumps() {
        let from = plan(&[(1.0, &[(0, 1.0, 0.0)])]);
        let to = plan(&[(1.0, &[(0, 0.0, 0.0)])]);
        let mut stems = vec![StereoBuf::new(N)];
        let mut master = StereoBuf::new(N);
        mix_block(&from, &to, &[mono(1.0)], &mut stems, &mut master, N);
        let l = &master.left;
        assert!(
            l[0] < 1.0 && l[0] > 0.95,
            "starts near the old gain: {}",
            l[0]
        );
        assert_eq!(l[N - 1], 0.0, "ends at the new gain");
        for w in l.windows(2) {
            assert!(w[0] >= w[1] && w[0] - w[1] <= 1.0 / N as f32 + 1e-6);
        }
    }

    /// Test inserts: a fixed gain per processed track and per stem.
    struct GainInserts {
        track_gain: Vec<Option<f32>>,
        stem_gain: Vec<f32>,
        l: Vec<f32>,
        r: Vec<f32>,
    }

    impl Inserts for GainInserts {
        fn has_track_inserts(&self, track: usize) -> bool {
            matches!(self.track_gain.get(track), Some(Some(_)))
        }
        fn track_scratch(&mut self, frames: usize) -> Option<(&mut [f32], &mut [f32])> {
            Some((self.l.get_mut(..frames)?, self.r.get_mut(..frames)?))
        }
        fn process_track(&mut self, track: usize, frames: usize) {
            let g = self.track_gain[track].unwrap();
            self.l[..frames]
                .iter_mut()
                .chain(&mut self.r[..frames])
                .for_each(|x| *x *= g);
        }
        fn process_stem(&mut self, stem: usize, left: &mut [f32], right: &mut [f32]) {
            let g = self.stem_gain[stem];
            left.iter_mut()
                .chain(right.iter_mut())
                .for_each(|x| *x *= g);
        }
    }

    #[test]
    fn inserts_process_tracks_before_their_stem_and_stems_before_their_gain() {
        let p = plan(&[
            (0.25, &[(0, 1.0, 0.0), (1, 0.5, -0.3)]),
            (1.0, &[(2, 0.75, 0.2)]),
        ]);
        let inputs: Vec<Vec<Vec<f32>>> = (0..3)
            .map(|t| {
                vec![
                    (0..N)
                        .map(|i| ((i * (t + 2)) as f32 * 0.41).sin())
                        .collect(),
                ]
            })
            .collect();
        let (plain_stems, plain_master) = run(&p, &inputs);
        // Processing that does nothing changes no bit.
        let mut none = GainInserts {
            track_gain: vec![Some(1.0), Some(1.0), Some(1.0)],
            stem_gain: vec![1.0, 1.0],
            l: vec![0.0; N],
            r: vec![0.0; N],
        };
        let mut stems = vec![StereoBuf::new(N); 2];
        let mut master = StereoBuf::new(N);
        mix_block_with(&p, &p, &inputs, &mut stems, &mut master, N, &mut none);
        assert_eq!(master.left, plain_master.left);
        assert_eq!(stems[1].right, plain_stems[1].right);
        // Track 0 halved by its insert = track 0 at half its gain; stem 0 doubled before
        // its gain of 0.25 = the stem at 0.5 (powers of two: exact).
        let mut halve = GainInserts {
            track_gain: vec![Some(0.5), None, None],
            stem_gain: vec![2.0, 1.0],
            l: vec![0.0; N],
            r: vec![0.0; N],
        };
        mix_block_with(&p, &p, &inputs, &mut stems, &mut master, N, &mut halve);
        let expected = plan(&[
            (0.5, &[(0, 0.5, 0.0), (1, 0.5, -0.3)]),
            (1.0, &[(2, 0.75, 0.2)]),
        ]);
        let (_, want) = run(&expected, &inputs);
        assert_eq!(master.left, want.left);
        assert_eq!(master.right, want.right);
    }

    #[test]
    fn the_kernel_follows_the_session_mute_solo_rules() {
        use stemdeck_session::routing::MixMode;
        use stemdeck_session::{Session, Song, Track, TrackId};
        let mut s = Session::new(48_000, Song::default());
        for i in 1..=3 {
            s.tracks
                .push(Track::new(TrackId(i), format!("t{i}"), "x.wav"));
        }
        let a = s.add_stem("Inst");
        let v = s.add_stem("Vocals");
        s.move_tracks(&[TrackId(1), TrackId(2)], Some(a), None);
        s.move_tracks(&[TrackId(3)], Some(v), None);
        let inputs = [mono(0.1), mono(0.2), mono(0.4)];
        let master_at = |s: &Session| run(&s.mix_plan(MixMode::Audition), &inputs).1.left[0];
        assert!((master_at(&s) - 0.7).abs() < 1e-6);
        s.stems[1].mute = true; // instrumental
        assert!((master_at(&s) - 0.3).abs() < 1e-6);
        s.stems[1].mute = false;
        s.stems[1].solo = true; // a cappella
        assert!((master_at(&s) - 0.4).abs() < 1e-6);
        s.tracks[0].solo = true; // solos add up
        assert!((master_at(&s) - 0.5).abs() < 1e-6);
    }
}
