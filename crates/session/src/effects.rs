//! Insert effects as the session file stores them (docs/session-format.md): an ordered
//! chain per track, per stem and on the master, each effect a `"type"`, a `"bypass"` flag
//! and its parameters. Plain data only: the processing is `stemdeck_effects`.
//!
//! Field names are a contract other tools rely on: keep them exactly.

use serde::{Deserialize, Serialize};

/// One insert effect: what it is, its parameters, and whether it is bypassed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    #[serde(flatten)]
    pub kind: EffectKind,
    #[serde(default)]
    pub bypass: bool,
}

impl Effect {
    pub fn new(kind: EffectKind) -> Self {
        Self {
            kind,
            bypass: false,
        }
    }

    /// The first parameter out of range, as "field: problem" (None when all are usable).
    pub fn problem(&self) -> Option<String> {
        self.kind.problem()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EffectKind {
    Eq(Eq),
    Compressor(Compressor),
    Limiter(Limiter),
    Delay(Delay),
    Reverb(Reverb),
}

impl EffectKind {
    /// The name shown to people ("EQ", "Compressor", …).
    pub fn label(&self) -> &'static str {
        match self {
            EffectKind::Eq(_) => "EQ",
            EffectKind::Compressor(_) => "Compressor",
            EffectKind::Limiter(_) => "Limiter",
            EffectKind::Delay(_) => "Delay",
            EffectKind::Reverb(_) => "Reverb",
        }
    }

    /// Gain-based processing (a gain curve computed from a key signal and multiplied
    /// in), as opposed to linear filtering. On the master bus the gain curve is keyed
    /// from the full mix and applied to every stem, so the wet stems still add up.
    pub fn is_gain_based(&self) -> bool {
        matches!(self, EffectKind::Compressor(_) | EffectKind::Limiter(_))
    }

    fn problem(&self) -> Option<String> {
        fn check(ok: bool, field: &str, what: &str) -> Option<String> {
            (!ok).then(|| format!("{field}: {what}"))
        }
        let finite = |v: f32| v.is_finite();
        match self {
            EffectKind::Eq(eq) => eq.bands.iter().find_map(|b| {
                check(
                    finite(b.freq_hz) && b.freq_hz > 0.0,
                    "freq_hz",
                    "must be above 0 Hz",
                )
                .or_else(|| check(finite(b.q) && b.q > 0.0, "q", "must be above 0"))
                .or_else(|| check(finite(b.gain_db), "gain_db", "must be a number"))
            }),
            EffectKind::Compressor(c) => {
                check(finite(c.threshold_db), "threshold_db", "must be a number")
                    .or_else(|| {
                        check(
                            finite(c.ratio) && c.ratio >= 1.0,
                            "ratio",
                            "must be 1 or more",
                        )
                    })
                    .or_else(|| {
                        check(
                            finite(c.knee_db) && c.knee_db >= 0.0,
                            "knee_db",
                            "must be 0 or more",
                        )
                    })
                    .or_else(|| {
                        check(
                            finite(c.attack_ms) && c.attack_ms >= 0.0,
                            "attack_ms",
                            "must be 0 or more",
                        )
                    })
                    .or_else(|| {
                        check(
                            finite(c.release_ms) && c.release_ms >= 0.0,
                            "release_ms",
                            "must be 0 or more",
                        )
                    })
                    .or_else(|| check(finite(c.makeup_db), "makeup_db", "must be a number"))
            }
            EffectKind::Limiter(l) => check(
                finite(l.ceiling_db) && l.ceiling_db <= 0.0,
                "ceiling_db",
                "must be 0 dB or less",
            )
            .or_else(|| {
                check(
                    finite(l.release_ms) && l.release_ms >= 0.0,
                    "release_ms",
                    "must be 0 or more",
                )
            })
            .or_else(|| {
                check(
                    finite(l.lookahead_ms) && (0.0..=MAX_LOOKAHEAD_MS).contains(&l.lookahead_ms),
                    "lookahead_ms",
                    "must be from 0 to 20 ms",
                )
            }),
            EffectKind::Delay(d) => check(
                finite(d.time_ms) && d.time_ms > 0.0 && d.time_ms <= MAX_DELAY_MS,
                "time_ms",
                "must be above 0 and at most 4000 ms",
            )
            .or_else(|| {
                check(
                    finite(d.feedback) && (0.0..1.0).contains(&d.feedback),
                    "feedback",
                    "must be from 0 to below 1",
                )
            })
            .or_else(|| {
                check(
                    finite(d.mix) && (0.0..=1.0).contains(&d.mix),
                    "mix",
                    "must be from 0 to 1",
                )
            }),
            EffectKind::Reverb(r) => check(
                finite(r.decay_s) && r.decay_s > 0.0 && r.decay_s <= 30.0,
                "decay_s",
                "must be above 0 and at most 30 s",
            )
            .or_else(|| {
                check(
                    finite(r.predelay_ms) && (0.0..=MAX_PREDELAY_MS).contains(&r.predelay_ms),
                    "predelay_ms",
                    "must be from 0 to 500 ms",
                )
            })
            .or_else(|| {
                check(
                    finite(r.damping) && (0.0..=1.0).contains(&r.damping),
                    "damping",
                    "must be from 0 to 1",
                )
            })
            .or_else(|| {
                check(
                    finite(r.mix) && (0.0..=1.0).contains(&r.mix),
                    "mix",
                    "must be from 0 to 1",
                )
            }),
        }
    }
}

/// The longest limiter look-ahead (its latency).
pub const MAX_LOOKAHEAD_MS: f32 = 20.0;
/// The longest delay time.
pub const MAX_DELAY_MS: f32 = 4000.0;
/// The longest reverb pre-delay.
pub const MAX_PREDELAY_MS: f32 = 500.0;

/// Parametric EQ: bands in series, each an RBJ Audio EQ Cookbook biquad (the same
/// definitions of frequency, gain and Q as ffmpeg's filters of the same names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Eq {
    pub bands: Vec<EqBand>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EqBand {
    pub shape: BandShape,
    pub freq_hz: f32,
    /// Ignored by the high- and low-pass shapes.
    #[serde(default)]
    pub gain_db: f32,
    pub q: f32,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BandShape {
    Highpass,
    Lowpass,
    Peak,
    Lowshelf,
    Highshelf,
}

impl BandShape {
    pub const ALL: [BandShape; 5] = [
        BandShape::Highpass,
        BandShape::Lowpass,
        BandShape::Peak,
        BandShape::Lowshelf,
        BandShape::Highshelf,
    ];

    pub fn label(self) -> &'static str {
        match self {
            BandShape::Highpass => "High-pass",
            BandShape::Lowpass => "Low-pass",
            BandShape::Peak => "Peak",
            BandShape::Lowshelf => "Low shelf",
            BandShape::Highshelf => "High shelf",
        }
    }

    /// Whether the band's gain means anything (pass filters have none).
    pub fn has_gain(self) -> bool {
        !matches!(self, BandShape::Highpass | BandShape::Lowpass)
    }
}

/// Feed-forward compressor: a soft-knee gain computer on the stereo-linked peak level,
/// attack and release smoothing of the gain reduction, make-up gain.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compressor {
    pub threshold_db: f32,
    pub ratio: f32,
    pub knee_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    pub makeup_db: f32,
}

impl Default for Compressor {
    fn default() -> Self {
        Self {
            threshold_db: -18.0,
            ratio: 4.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 120.0,
            makeup_db: 0.0,
        }
    }
}

/// Brick-wall limiter: the output never exceeds the ceiling. The look-ahead delays the
/// signal so the gain can come down before a peak instead of clipping it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limiter {
    pub ceiling_db: f32,
    pub release_ms: f32,
    pub lookahead_ms: f32,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            ceiling_db: -1.0,
            release_ms: 80.0,
            lookahead_ms: 5.0,
        }
    }
}

/// Feedback delay (echo) with a wet/dry mix.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delay {
    pub time_ms: f32,
    pub feedback: f32,
    pub mix: f32,
}

impl Default for Delay {
    fn default() -> Self {
        Self {
            time_ms: 375.0,
            feedback: 0.35,
            mix: 0.25,
        }
    }
}

/// Algorithmic reverb with a wet/dry mix: `decay_s` is the time the tail takes to fall
/// by 60 dB, `damping` (0–1) how much faster the highs die.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reverb {
    pub decay_s: f32,
    pub predelay_ms: f32,
    pub damping: f32,
    pub mix: f32,
}

impl Default for Reverb {
    fn default() -> Self {
        Self {
            decay_s: 1.8,
            predelay_ms: 20.0,
            damping: 0.5,
            mix: 0.2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_use_the_documented_field_names() {
        let json = r#"[
          {"type": "eq", "bypass": false, "bands": [
            {"shape": "highpass", "freq_hz": 80, "gain_db": 0, "q": 0.707},
            {"shape": "peak", "freq_hz": 2500, "gain_db": -3.5, "q": 1.4}]},
          {"type": "compressor", "bypass": true, "threshold_db": -20, "ratio": 4,
           "knee_db": 6, "attack_ms": 10, "release_ms": 120, "makeup_db": 2},
          {"type": "limiter", "bypass": false, "ceiling_db": -1, "release_ms": 80, "lookahead_ms": 5},
          {"type": "delay", "bypass": false, "time_ms": 375, "feedback": 0.35, "mix": 0.25},
          {"type": "reverb", "bypass": false, "decay_s": 1.8, "predelay_ms": 20, "damping": 0.5, "mix": 0.2}
        ]"#;
        let effects: Vec<Effect> = serde_json::from_str(json).unwrap();
        assert_eq!(effects.len(), 5);
        assert!(effects[1].bypass);
        let EffectKind::Eq(eq) = &effects[0].kind else {
            panic!("not an eq")
        };
        assert_eq!(eq.bands[1].shape, BandShape::Peak);
        assert_eq!(eq.bands[1].gain_db, -3.5);
        let EffectKind::Compressor(c) = effects[1].kind else {
            panic!("not a compressor")
        };
        assert_eq!(c.makeup_db, 2.0);
        assert!(effects.iter().all(|e| e.problem().is_none()));
        // And back: the same objects, the same names.
        let again: Vec<Effect> =
            serde_json::from_str(&serde_json::to_string(&effects).unwrap()).unwrap();
        assert_eq!(again, effects);
        let text = serde_json::to_string(&effects[4]).unwrap();
        assert_eq!(
            text,
            r#"{"type":"reverb","decay_s":1.8,"predelay_ms":20.0,"damping":0.5,"mix":0.2,"bypass":false}"#
        );
    }

    #[test]
    fn out_of_range_parameters_are_named() {
        let c = Compressor {
            ratio: 0.5,
            ..Compressor::default()
        };
        let e = Effect::new(EffectKind::Compressor(c));
        assert_eq!(e.problem().as_deref(), Some("ratio: must be 1 or more"));
        let l = Limiter {
            lookahead_ms: 50.0,
            ..Limiter::default()
        };
        assert!(
            Effect::new(EffectKind::Limiter(l))
                .problem()
                .unwrap()
                .starts_with("lookahead_ms")
        );
    }
}
