//! Beats to seconds through a tempo map: a starting tempo and tempo changes, held or
//! ramped linearly. A ramp linear in beats integrates to a logarithm, a ramp linear in
//! seconds to a quadratic; both are solved exactly, so a position in beats lands on the
//! same sample whatever the number of changes before it.

/// A tempo change: from `time` on, the tempo is `bpm`; with `linear`, it ramps to the
/// next point's tempo instead of holding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TempoPoint {
    pub time: f64,
    pub bpm: f64,
    pub linear: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Hold,
    /// The tempo is linear in beats over `len` beats, from `bpm` to `to`.
    RampBeats {
        to: f64,
        len: f64,
    },
    /// The tempo is linear in seconds over `len` seconds, from `bpm` to `to`.
    RampSeconds {
        to: f64,
        len: f64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    beat: f64,
    sec: f64,
    bpm: f64,
    shape: Shape,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TempoMap {
    segments: Vec<Segment>,
}

impl TempoMap {
    /// One tempo throughout.
    pub fn constant(bpm: f64) -> Self {
        Self::from_points(bpm, &[], false)
    }

    /// `initial` until the first point; then the points, whose times are in seconds when
    /// `in_seconds`, else in beats. Points with a tempo that is not a positive number are
    /// left out (the caller warns).
    pub fn from_points(initial: f64, points: &[TempoPoint], in_seconds: bool) -> Self {
        let initial = if initial.is_finite() && initial > 0.0 {
            initial
        } else {
            120.0
        };
        let mut points: Vec<TempoPoint> = points
            .iter()
            .copied()
            .filter(|p| p.bpm.is_finite() && p.bpm > 0.0 && p.time.is_finite())
            .collect();
        points.sort_by(|a, b| a.time.total_cmp(&b.time));
        let Some(first) = points.first().copied() else {
            return Self {
                segments: vec![Segment {
                    beat: 0.0,
                    sec: 0.0,
                    bpm: initial,
                    shape: Shape::Hold,
                }],
            };
        };
        // Before the first change the tempo is the first point's (an automation lane's
        // value before its first point), measured from the song's start.
        let mut segments = Vec::with_capacity(points.len() + 1);
        let start = first.time.min(0.0);
        segments.push(Segment {
            beat: start * if in_seconds { first.bpm / 60.0 } else { 1.0 },
            sec: start * if in_seconds { 1.0 } else { 60.0 / first.bpm },
            bpm: first.bpm,
            shape: Shape::Hold,
        });
        for (i, p) in points.iter().enumerate() {
            let next = points.get(i + 1);
            let shape = match next {
                Some(n) if p.linear && n.time > p.time && n.bpm != p.bpm => {
                    if in_seconds {
                        Shape::RampSeconds {
                            to: n.bpm,
                            len: n.time - p.time,
                        }
                    } else {
                        Shape::RampBeats {
                            to: n.bpm,
                            len: n.time - p.time,
                        }
                    }
                }
                _ => Shape::Hold,
            };
            let Some(prev) = segments.last().copied() else {
                break;
            };
            let (beat, sec) = if in_seconds {
                (prev.beat + prev.beats_in(p.time - prev.sec), p.time)
            } else {
                (p.time, prev.sec + prev.seconds_in(p.time - prev.beat))
            };
            segments.push(Segment {
                beat,
                sec,
                bpm: p.bpm,
                shape,
            });
        }
        Self { segments }
    }

    /// The time in seconds of a position in beats.
    pub fn seconds(&self, beat: f64) -> f64 {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.beat <= beat)
            .or(self.segments.first());
        match seg {
            Some(s) => s.sec + s.seconds_in(beat - s.beat),
            None => beat * 0.5,
        }
    }

    /// The position in beats of a time in seconds.
    pub fn beats(&self, sec: f64) -> f64 {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.sec <= sec)
            .or(self.segments.first());
        match seg {
            Some(s) => s.beat + s.beats_in(sec - s.sec),
            None => sec * 2.0,
        }
    }

    /// The tempo at the song's start.
    pub fn initial_bpm(&self) -> f64 {
        self.segments.first().map_or(120.0, |s| s.bpm)
    }
}

impl Segment {
    /// Seconds from the segment's start to `db` beats after it.
    fn seconds_in(&self, db: f64) -> f64 {
        match self.shape {
            Shape::Hold => db * 60.0 / self.bpm,
            Shape::RampBeats { to, len } => {
                let x = db.min(len);
                let k = (to - self.bpm) / len;
                // 60 ∫ db / (bpm + k b) = 60/k ln((bpm + k db) / bpm); past the ramp
                // (kept total for safety) the target tempo holds.
                60.0 / k * ((self.bpm + k * x) / self.bpm).ln() + (db - x).max(0.0) * 60.0 / to
            }
            Shape::RampSeconds { to, len } => {
                let k = (to - self.bpm) / len;
                let total = len * (self.bpm + to) / 120.0;
                if db > total {
                    return len + (db - total) * 60.0 / to;
                }
                // beats(x) = (bpm x + k x² / 2) / 60: solve for x.
                let disc = self.bpm * self.bpm + 120.0 * k * db;
                (disc.max(0.0).sqrt() - self.bpm) / k
            }
        }
    }

    /// Beats from the segment's start to `ds` seconds after it.
    fn beats_in(&self, ds: f64) -> f64 {
        match self.shape {
            Shape::Hold => ds * self.bpm / 60.0,
            Shape::RampSeconds { to, len } => {
                let x = ds.min(len);
                let k = (to - self.bpm) / len;
                (self.bpm * x + 0.5 * k * x * x) / 60.0 + (ds - x).max(0.0) * to / 60.0
            }
            Shape::RampBeats { to, len } => {
                // Invert seconds_in: b = bpm (e^{k s / 60} − 1) / k.
                let k = (to - self.bpm) / len;
                let ramp_s = self.seconds_in(len);
                if ds > ramp_s {
                    return len + (ds - ramp_s) * to / 60.0;
                }
                self.bpm * ((k * ds / 60.0).exp() - 1.0) / k
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_tempo_is_a_straight_line() {
        let m = TempoMap::constant(120.0);
        assert_eq!(m.seconds(0.0), 0.0);
        assert_eq!(m.seconds(8.0), 4.0);
    }

    #[test]
    fn held_changes_add_up() {
        let pts = [
            TempoPoint {
                time: 0.0,
                bpm: 120.0,
                linear: false,
            },
            TempoPoint {
                time: 4.0,
                bpm: 60.0,
                linear: false,
            },
        ];
        let m = TempoMap::from_points(100.0, &pts, false);
        assert!((m.seconds(4.0) - 2.0).abs() < 1e-12);
        assert!((m.seconds(6.0) - 4.0).abs() < 1e-12);
        assert_eq!(m.initial_bpm(), 120.0);
    }

    #[test]
    fn ramps_match_numerical_integration() {
        let pts = [
            TempoPoint {
                time: 0.0,
                bpm: 100.0,
                linear: true,
            },
            TempoPoint {
                time: 8.0,
                bpm: 140.0,
                linear: false,
            },
        ];
        let m = TempoMap::from_points(100.0, &pts, false);
        // ∫0..8 60/(100 + 5b) db by the midpoint rule, fine steps.
        let n = 200_000;
        let h = 8.0 / n as f64;
        let num: f64 = (0..n)
            .map(|i| 60.0 / (100.0 + 5.0 * (i as f64 + 0.5) * h) * h)
            .sum();
        assert!(
            (m.seconds(8.0) - num).abs() < 1e-9,
            "{} {num}",
            m.seconds(8.0)
        );
        // After the ramp: 140 bpm held.
        assert!((m.seconds(9.0) - num - 60.0 / 140.0).abs() < 1e-9);

        // The same ramp, linear in seconds over 4 s: 100 → 140 bpm is 8 beats.
        let pts_s = [
            TempoPoint {
                time: 0.0,
                bpm: 100.0,
                linear: true,
            },
            TempoPoint {
                time: 4.0,
                bpm: 140.0,
                linear: false,
            },
        ];
        let ms = TempoMap::from_points(100.0, &pts_s, true);
        assert!((ms.seconds(8.0) - 4.0).abs() < 1e-12);
        // Half way in time, 100·2 + 10·4/2... beats(2 s) = (100·2 + 5·4)/60 = 3.666…
        assert!((ms.seconds(220.0 / 60.0) - 2.0).abs() < 1e-12);
        assert!((ms.seconds(8.0 + 7.0 / 3.0) - 5.0).abs() < 1e-12);
    }
}
