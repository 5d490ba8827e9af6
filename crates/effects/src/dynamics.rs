//! Gain-based processing: a compressor and a brick-wall limiter, each split into a
//! *gain stage* (a gain curve computed from a key signal) and the multiplication.
//!
//! The split is what lets the master bus keep its promise: the master's gain curve is
//! computed once from the full mix and multiplied into the master and every stem alike,
//! so the processed stems still add up to the processed master. An insert on a track or
//! a stem simply keys the stage from its own signal.

use stemdeck_session::effects::{Compressor as CompressorParams, Limiter as LimiterParams};

use crate::smooth::{Ramp, db_to_gain, glide_frames, time_coefficient};

/// The frames one call of a gain stage handles at most (the callers' chunk).
pub const CHUNK: usize = 256;

/// A gain stage: the gain to multiply each frame by, computed from a key signal. The
/// master bus keys one from the full mix and applies its curve to every stem.
pub trait GainStage {
    fn gain_curve(&mut self, key_l: &[f32], key_r: &[f32], gains: &mut [f32]);
}

/// An insert keyed from its own signal: in chunks, the stage's curve from the input,
/// then (for a look-ahead) the input delayed, then the curve multiplied in.
fn process_self_keyed(
    stage: &mut impl GainStage,
    mut delay: Option<&mut LookaheadDelay>,
    left: &mut [f32],
    right: &mut [f32],
) {
    let mut gains = [0f32; CHUNK];
    for (l, r) in left.chunks_mut(CHUNK).zip(right.chunks_mut(CHUNK)) {
        let g = &mut gains[..l.len()];
        stage.gain_curve(l, r, g);
        if let Some(d) = delay.as_deref_mut() {
            d.process(l, r);
        }
        apply_gain(l, r, g);
    }
}

/// Multiply `gains` into a stereo block.
#[inline]
pub fn apply_gain(left: &mut [f32], right: &mut [f32], gains: &[f32]) {
    for ((l, r), g) in left.iter_mut().zip(right.iter_mut()).zip(gains) {
        *l *= g;
        *r *= g;
    }
}

/// 20·log10(2): dB per doubling.
const DB_PER_LOG2: f32 = 6.020_6;

/// The stereo-linked peak of one frame.
#[inline]
fn peak(l: f32, r: f32) -> f32 {
    l.abs().max(r.abs())
}

/// Feed-forward compressor gain stage (Giannoulis, Massberg & Reiss, "Digital Dynamic
/// Range Compressor Design", JAES 2012): a soft-knee static curve on the stereo-linked
/// peak level in dB, then branching attack/release smoothing of the gain reduction.
#[derive(Clone, Debug)]
pub struct CompressorStage {
    threshold_db: f64,
    ratio: f64,
    knee_db: f64,
    attack: f64,
    release: f64,
    /// The smoothed gain reduction, dB (≤ 0).
    reduction_db: f64,
    makeup: Ramp,
    /// Below this linear level the static curve does not act at all (saves a log).
    quiet_below: f32,
    sample_rate: f64,
    glide: u32,
}

impl CompressorStage {
    pub fn new(p: &CompressorParams, sample_rate: f64) -> Self {
        let mut stage = Self {
            threshold_db: 0.0,
            ratio: 1.0,
            knee_db: 0.0,
            attack: 0.0,
            release: 0.0,
            reduction_db: 0.0,
            makeup: Ramp::new(db_to_gain(p.makeup_db)),
            quiet_below: 0.0,
            sample_rate,
            glide: glide_frames(sample_rate),
        };
        stage.set(p);
        stage.makeup.reset(db_to_gain(p.makeup_db));
        stage
    }

    /// New settings. The gain reduction they cause arrives through the attack and
    /// release smoothing, and the make-up gain glides, so no change clicks.
    pub fn set(&mut self, p: &CompressorParams) {
        self.threshold_db = f64::from(p.threshold_db);
        self.ratio = f64::from(p.ratio).max(1.0);
        self.knee_db = f64::from(p.knee_db).max(0.0);
        self.attack = time_coefficient(f64::from(p.attack_ms), self.sample_rate);
        self.release = time_coefficient(f64::from(p.release_ms), self.sample_rate);
        self.makeup.set(db_to_gain(p.makeup_db), self.glide);
        self.quiet_below = db_to_gain((self.threshold_db - self.knee_db / 2.0) as f32) as f32;
    }

    pub fn reset(&mut self) {
        self.reduction_db = 0.0;
    }

    /// The static curve: the gain change (dB, ≤ 0) for an input level of `x_db`.
    pub fn static_reduction_db(&self, x_db: f64) -> f64 {
        let over = x_db - self.threshold_db;
        let slope = 1.0 / self.ratio - 1.0;
        if 2.0 * over < -self.knee_db {
            0.0
        } else if 2.0 * over.abs() <= self.knee_db && self.knee_db > 0.0 {
            slope * (over + self.knee_db / 2.0).powi(2) / (2.0 * self.knee_db)
        } else {
            slope * over
        }
    }
}

impl GainStage for CompressorStage {
    /// The gain to multiply each frame by, keyed from `key_l`/`key_r`.
    fn gain_curve(&mut self, key_l: &[f32], key_r: &[f32], gains: &mut [f32]) {
        for ((l, r), g) in key_l.iter().zip(key_r).zip(gains.iter_mut()) {
            let x = peak(*l, *r);
            // f32 log2/exp2 here: the per-sample level and gain are the compressor's
            // whole cost, and f32 is far finer than anyone hears in a gain.
            let target = if x < self.quiet_below {
                0.0
            } else {
                self.static_reduction_db(f64::from(DB_PER_LOG2 * x.log2()))
            };
            let coeff = if target < self.reduction_db {
                self.attack
            } else {
                self.release
            };
            self.reduction_db = coeff * self.reduction_db + (1.0 - coeff) * target;
            let makeup = self.makeup.next();
            *g = if self.reduction_db > -1e-6 {
                makeup as f32
            } else {
                (self.reduction_db as f32 / DB_PER_LOG2).exp2() * makeup as f32
            };
        }
    }
}

/// The compressor insert: its stage keyed from its own input.
#[derive(Clone, Debug)]
pub struct Compressor {
    stage: CompressorStage,
}

impl Compressor {
    pub fn new(p: &CompressorParams, sample_rate: f64) -> Self {
        Self {
            stage: CompressorStage::new(p, sample_rate),
        }
    }

    pub fn set(&mut self, p: &CompressorParams) {
        self.stage.set(p);
    }

    pub fn reset(&mut self) {
        self.stage.reset();
    }

    pub fn stage(&mut self) -> &mut CompressorStage {
        &mut self.stage
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        process_self_keyed(&mut self.stage, None, left, right);
    }
}

/// A fixed delay of a stereo signal by `len` frames (the limiter's look-ahead). Each
/// stem gets one of these on the master bus, so every signal the master's gain curve is
/// applied to is delayed alike.
#[derive(Clone, Debug)]
pub struct LookaheadDelay {
    left: Vec<f32>,
    right: Vec<f32>,
    pos: usize,
}

impl LookaheadDelay {
    pub fn new(len: usize) -> Self {
        Self {
            left: vec![0.0; len],
            right: vec![0.0; len],
            pos: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.left.len()
    }

    pub fn is_empty(&self) -> bool {
        self.left.is_empty()
    }

    pub fn reset(&mut self) {
        self.left.fill(0.0);
        self.right.fill(0.0);
        self.pos = 0;
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        if self.left.is_empty() {
            return;
        }
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let (Some(dl), Some(dr)) = (self.left.get_mut(self.pos), self.right.get_mut(self.pos))
            else {
                return;
            };
            std::mem::swap(l, dl);
            std::mem::swap(r, dr);
            self.pos += 1;
            if self.pos == self.left.len() {
                self.pos = 0;
            }
        }
    }
}

/// Headroom kept under the ceiling so rounding in the multiplication (and in summing
/// stems that were each multiplied by the gain) cannot carry a sample over it.
const CEILING_MARGIN: f64 = 1.0 - 1.0 / 4096.0;

/// Brick-wall limiter gain stage with look-ahead `L` frames. The gain for the frame
/// that plays at `n` (input frame `n − L`) is:
/// 1. the gain each input frame needs, `need[k] = min(1, ceiling / peak[k])`;
/// 2. the minimum of `need` over the last `L + 1` frames (a monotonic queue);
/// 3. a release: the gain falls at once and recovers with the release time;
/// 4. the mean over the last `L + 1` frames, a linear fade into each peak.
///
/// Every term of that mean covers input frame `n − L`, so the gain is never above
/// `need[n − L]` and the output never exceeds the ceiling; the gain is still clamped to
/// `need[n − L]` against rounding.
#[derive(Clone, Debug)]
pub struct LimiterStage {
    lookahead: usize,
    ceiling: Ramp,
    release: f64,
    sample_rate: f64,
    glide: u32,
    frame: u64,
    /// Monotonic queue (frame, need): a ring of `L + 1` entries.
    queue: Vec<(u64, f32)>,
    q_head: usize,
    q_len: usize,
    /// `need` of the last `L + 1` input frames (to clamp against `need[n − L]`).
    needs: Vec<f32>,
    /// The released gain of the last `L + 1` frames and their running sum.
    window: Vec<f64>,
    sum: f64,
    pos: usize,
    held: f64,
    engaged: Ramp,
}

impl LimiterStage {
    pub fn new(p: &LimiterParams, sample_rate: f64) -> Self {
        let lookahead = lookahead_frames(p.lookahead_ms, sample_rate);
        let size = lookahead + 1;
        let mut stage = Self {
            lookahead,
            ceiling: Ramp::new(db_to_gain(p.ceiling_db.min(0.0)) * CEILING_MARGIN),
            release: 0.0,
            sample_rate,
            glide: glide_frames(sample_rate),
            frame: 0,
            queue: vec![(0, 1.0); size],
            q_head: 0,
            q_len: 0,
            needs: vec![1.0; size],
            window: vec![1.0; size],
            sum: size as f64,
            pos: 0,
            held: 1.0,
            engaged: Ramp::new(1.0),
        };
        stage.set(p);
        stage
    }

    /// The look-ahead in frames: the latency of the limiter.
    pub fn latency(&self) -> usize {
        self.lookahead
    }

    /// Whether `p` can be applied in place (a new look-ahead changes the latency and
    /// the buffers, so it needs a new stage).
    pub fn accepts(&self, p: &LimiterParams) -> bool {
        lookahead_frames(p.lookahead_ms, self.sample_rate) == self.lookahead
    }

    pub fn set(&mut self, p: &LimiterParams) {
        self.ceiling.set(
            db_to_gain(p.ceiling_db.min(0.0)) * CEILING_MARGIN,
            self.glide,
        );
        self.release = time_coefficient(f64::from(p.release_ms), self.sample_rate);
    }

    /// Bypassing glides the gain to unity while the look-ahead delay stays in place, so
    /// the latency (and the alignment with everything else) never changes.
    pub fn set_engaged(&mut self, on: bool) {
        self.engaged
            .set(if on { 1.0 } else { 0.0 }, glide_frames(self.sample_rate));
    }

    /// Engaged or bypassed at once (a chain being built).
    pub fn set_engaged_now(&mut self, on: bool) {
        self.engaged.reset(if on { 1.0 } else { 0.0 });
    }

    pub fn reset(&mut self) {
        self.frame = 0;
        self.q_head = 0;
        self.q_len = 0;
        self.needs.fill(1.0);
        self.window.fill(1.0);
        self.sum = self.window.len() as f64;
        self.pos = 0;
        self.held = 1.0;
    }
}

impl GainStage for LimiterStage {
    fn gain_curve(&mut self, key_l: &[f32], key_r: &[f32], gains: &mut [f32]) {
        let size = self.window.len();
        for ((l, r), g) in key_l.iter().zip(key_r).zip(gains.iter_mut()) {
            let ceiling = self.ceiling.next();
            let x = f64::from(peak(*l, *r));
            let need = if x > ceiling {
                (ceiling / x) as f32
            } else {
                1.0
            };
            let n = self.frame;
            self.frame += 1;
            // The queue: expired frames leave the front (first, so the new one fits),
            // larger needs the back.
            while let Some(&(k, _)) = self.queue.get(self.q_head) {
                if self.q_len > 0 && k + (self.lookahead as u64) < n {
                    self.q_head = (self.q_head + 1) % size;
                    self.q_len -= 1;
                } else {
                    break;
                }
            }
            while self.q_len > 0 {
                let back = (self.q_head + self.q_len - 1) % size;
                match self.queue.get(back) {
                    Some(&(_, v)) if v >= need => self.q_len -= 1,
                    _ => break,
                }
            }
            if let Some(slot) = self.queue.get_mut((self.q_head + self.q_len) % size) {
                *slot = (n, need);
                self.q_len += 1;
            }
            let min = self
                .queue
                .get(self.q_head)
                .map_or(1.0, |&(_, v)| f64::from(v));
            // Release: fall at once, recover smoothly (never above the window's minimum).
            self.held = if min < self.held {
                min
            } else {
                min + self.release * (self.held - min)
            };
            // The mean over the window, and need[n − L] (the frame that plays now).
            let (Some(w), Some(needed)) =
                (self.window.get_mut(self.pos), self.needs.get_mut(self.pos))
            else {
                continue;
            };
            self.sum += self.held - *w;
            *w = self.held;
            *needed = need;
            // The ring now holds frames n−L ..= n; the oldest, n − L, plays now.
            let plays_need = self
                .needs
                .get((self.pos + 1) % size)
                .copied()
                .unwrap_or(need);
            self.pos += 1;
            if self.pos == size {
                self.pos = 0;
                // Re-add from scratch once a window, so rounding cannot drift.
                self.sum = self.window.iter().sum();
            }
            let mean = self.sum / size as f64;
            let gain = mean.min(f64::from(plays_need));
            let amount = self.engaged.next();
            *g = (1.0 + amount * (gain - 1.0)) as f32;
        }
    }
}

fn lookahead_frames(ms: f32, sample_rate: f64) -> usize {
    let ms = f64::from(ms).clamp(0.0, f64::from(stemdeck_session::effects::MAX_LOOKAHEAD_MS));
    (ms * 0.001 * sample_rate).round() as usize
}

/// The limiter insert: look-ahead delay plus its stage keyed from its own input.
#[derive(Clone, Debug)]
pub struct Limiter {
    stage: LimiterStage,
    delay: LookaheadDelay,
}

impl Limiter {
    pub fn new(p: &LimiterParams, sample_rate: f64) -> Self {
        let stage = LimiterStage::new(p, sample_rate);
        let delay = LookaheadDelay::new(stage.latency());
        Self { stage, delay }
    }

    pub fn accepts(&self, p: &LimiterParams) -> bool {
        self.stage.accepts(p)
    }

    pub fn set(&mut self, p: &LimiterParams) {
        self.stage.set(p);
    }

    pub fn set_engaged(&mut self, on: bool) {
        self.stage.set_engaged(on);
    }

    pub fn latency(&self) -> usize {
        self.stage.latency()
    }

    pub fn reset(&mut self) {
        self.stage.reset();
        self.delay.reset();
    }

    pub fn stage(&mut self) -> &mut LimiterStage {
        &mut self.stage
    }

    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        process_self_keyed(&mut self.stage, Some(&mut self.delay), left, right);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(threshold_db: f32, ratio: f32, knee_db: f32) -> CompressorStage {
        CompressorStage::new(
            &CompressorParams {
                threshold_db,
                ratio,
                knee_db,
                attack_ms: 5.0,
                release_ms: 50.0,
                makeup_db: 0.0,
            },
            48_000.0,
        )
    }

    #[test]
    fn the_static_curve_is_continuous_through_the_knee() {
        let c = comp(-20.0, 4.0, 6.0);
        assert_eq!(c.static_reduction_db(-40.0), 0.0);
        assert!((c.static_reduction_db(-10.0) + 7.5).abs() < 1e-12);
        let mut prev = c.static_reduction_db(-30.0);
        for i in 1..=2000 {
            let x = -30.0 + i as f64 * 0.01;
            let y = c.static_reduction_db(x);
            assert!(y <= prev + 1e-12 && prev - y < 0.01, "{x}: {prev} -> {y}");
            prev = y;
        }
    }

    #[test]
    fn a_steady_tone_settles_on_the_static_curve() {
        let mut c = comp(-20.0, 4.0, 0.0);
        let amp = db_to_gain(-10.0) as f32;
        let key = vec![amp; 48_000];
        let mut g = vec![0f32; 48_000];
        c.gain_curve(&key, &key, &mut g);
        let out_db = 20.0 * f64::from(amp * g[47_999]).log10();
        assert!((out_db + 17.5).abs() < 0.01, "{out_db}");
    }

    #[test]
    fn the_lookahead_delay_delays_exactly() {
        let mut d = LookaheadDelay::new(3);
        let mut l: Vec<f32> = (1..=8).map(|i| i as f32).collect();
        let mut r = l.clone();
        d.process(&mut l[..5], &mut r[..5]);
        d.process(&mut l[5..], &mut r[5..]);
        assert_eq!(l, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }
}
