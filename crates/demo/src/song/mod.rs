//! "Neon Harbour": the demo song. 110 BPM, A minor, 4/4, 30 seconds.
//!
//! | bars  | section | chords          | what plays |
//! |-------|---------|-----------------|------------|
//! | 1–2   | intro   | Am  G           | keys and pad; hats, kick and a riser in bar 2 |
//! | 3–6   | verse   | Am  F  C  G     | drums, bass, lead vocal; riser and snare fill into the chorus |
//! | 7–10  | chorus  | F  G  Em  Am    | four-on-the-floor, 16th hats, crash, driving bass, backing vocals |
//! | 11–12 | outro   | F  G            | half-time drums, the vocal's last phrase, a reverse swell |
//! | 13    | end     | Am              | the final chord rings out |

use stemdeck_session::grouping::Role;

use crate::dsp::{SR, smoothstep};

pub use crate::tempo::{BEAT, BPM};

mod drums;
mod fx;
mod instruments;
mod vocals;

use drums::*;
use fx::*;
use instruments::*;
use vocals::*;

pub const KEY: &str = "A minor";
pub const TITLE: &str = "Neon Harbour";
/// The song's length in seconds (13 bars, the last one left to ring).
pub const SECONDS: f64 = 30.0;

/// The song's length in samples.
pub fn len() -> usize {
    (SECONDS * SR).round() as usize
}

/// The sample at a beat (from the start of the song).
fn at(beat: f64) -> usize {
    (beat * BEAT * SR).round() as usize
}

/// Gain that takes a note's envelope to exactly zero over its last 20 ms, so nothing is
/// cut off mid-wave.
fn tail(t: f64, len: f64) -> f64 {
    1.0 - smoothstep(len - 0.02, len, t)
}

/// Add `f(k, t)` for `seconds` from sample `start` (k: sample index, t: time in seconds).
fn add(buf: &mut [f64], start: usize, seconds: f64, mut f: impl FnMut(f64) -> f64) {
    let n = (seconds * SR) as usize;
    for (k, y) in buf.iter_mut().skip(start).take(n).enumerate() {
        let t = k as f64 / SR;
        *y += f(t) * tail(t, seconds);
    }
}

// ---------------------------------------------------------------------------------------
// Harmony

struct Chord {
    bass: i32,
    keys: [i32; 4],
    pad: [i32; 3],
    bgv: [i32; 3],
}

const AM: Chord = Chord {
    bass: 33,
    keys: [57, 60, 64, 67],
    pad: [57, 64, 72],
    bgv: [64, 69, 72],
};
const F: Chord = Chord {
    bass: 29,
    keys: [53, 57, 60, 64],
    pad: [53, 60, 69],
    bgv: [65, 69, 72],
};
const C: Chord = Chord {
    bass: 36,
    keys: [55, 60, 62, 64],
    pad: [55, 64, 72],
    bgv: [64, 67, 72],
};
const G: Chord = Chord {
    bass: 31,
    keys: [55, 59, 62, 64],
    pad: [55, 62, 71],
    bgv: [67, 71, 74],
};
const EM: Chord = Chord {
    bass: 28,
    keys: [52, 55, 59, 62],
    pad: [52, 59, 67],
    bgv: [64, 67, 71],
};

/// One chord a bar.
const PROGRESSION: [&Chord; 13] = [&AM, &G, &AM, &F, &C, &G, &F, &G, &EM, &AM, &F, &G, &AM];
const LAST_BAR: usize = 12;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Intro,
    Verse,
    Chorus,
    Outro,
    End,
}

fn section(bar: usize) -> Section {
    match bar {
        0..=1 => Section::Intro,
        2..=5 => Section::Verse,
        6..=9 => Section::Chorus,
        10..=11 => Section::Outro,
        _ => Section::End,
    }
}

/// Pitch classes of A natural minor.
const SCALE: [i32; 7] = [9, 11, 0, 2, 4, 5, 7];

fn in_scale(note: i32) -> bool {
    SCALE.contains(&note.rem_euclid(12))
}

/// The scale tone next to `target`, on the side we come from: a walking bass's approach note.
fn approach(from: i32, target: i32) -> i32 {
    if from == target {
        return from + 7;
    }
    let step = if target > from { -1 } else { 1 };
    let mut n = target + step;
    while !in_scale(n) {
        n += step;
    }
    n
}

// ---------------------------------------------------------------------------------------
// The multitrack

/// One track of the demo session.
pub struct Part {
    /// The file name without extension, and the track's name in the session.
    pub name: &'static str,
    /// The stem it belongs in (and its name must say so to auto-grouping).
    pub role: Role,
    pub pan: f32,
    /// Loudness while playing (RMS of its loud windows), dB before the final scaling.
    pub level_db: f64,
    pub render: fn() -> Vec<Vec<f64>>,
}

pub const PARTS: [Part; 9] = [
    Part {
        name: "01 Kick",
        role: Role::Drums,
        pan: 0.0,
        level_db: -13.0,
        render: kick,
    },
    Part {
        name: "02 Snare",
        role: Role::Drums,
        pan: 0.05,
        level_db: -21.0,
        render: snare,
    },
    Part {
        name: "03 Hats",
        role: Role::Drums,
        pan: 0.3,
        level_db: -26.0,
        render: hats,
    },
    Part {
        name: "04 Bass DI",
        role: Role::Bass,
        pan: 0.0,
        level_db: -15.0,
        render: bass,
    },
    Part {
        name: "05 Lead Vox",
        role: Role::Vocals,
        pan: 0.0,
        level_db: -15.0,
        render: lead_vox,
    },
    Part {
        name: "06 BGV",
        role: Role::Vocals,
        pan: -0.35,
        level_db: -22.0,
        render: bgv,
    },
    Part {
        name: "07 Keys",
        role: Role::Instruments,
        pan: -0.25,
        level_db: -20.0,
        render: keys,
    },
    Part {
        name: "08 Pad",
        role: Role::Instruments,
        pan: 0.2,
        level_db: -24.0,
        render: pad,
    },
    Part {
        name: "09 Riser FX",
        role: Role::Fx,
        pan: 0.0,
        level_db: -24.0,
        render: riser_fx,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_song_is_in_a_minor_and_fits() {
        const { assert!(SECONDS >= 25.0 && SECONDS <= 32.0) };
        // The last bar's chord starts well before the end, so it can ring.
        assert!(at(4.0 * LAST_BAR as f64) + (3.0 * SR) as usize <= len());
        for c in PROGRESSION {
            let all = c.keys.iter().chain(&c.pad).chain(&c.bgv).chain([&c.bass]);
            assert!(all.into_iter().all(|&n| in_scale(n)));
        }
        for (_, _, n, _, _) in LEAD {
            assert!(in_scale(n));
        }
        for n in bass_line() {
            assert!(in_scale(n.note), "{}", n.note);
        }
    }

    #[test]
    fn approach_notes_step_onto_the_next_root() {
        assert_eq!(approach(33, 29), 31); // A → F from above: G
        assert_eq!(approach(29, 36), 35); // F → C from below: B
        assert_eq!(approach(33, 33), 40); // same root: the fifth
    }

    #[test]
    fn the_melody_is_in_order_and_never_overlaps() {
        for w in LEAD.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "{:?}", w[1]);
        }
    }
}
