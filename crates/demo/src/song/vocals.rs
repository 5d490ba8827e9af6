//! The lead and backing vocals, sung by crate::voice.

use super::*;
use crate::dsp::{Biquad, add_echo, add_reverb};
use crate::voice::{Onset, Register, Style, Syllable, Vowel, sing};

// ---------------------------------------------------------------------------------------
// Vocals

fn syl(start: f64, beats: f64, note: i32, vowel: Vowel, onset: Onset, velocity: f64) -> Syllable {
    Syllable {
        start,
        beats,
        note,
        vowel,
        onset,
        velocity,
    }
}

/// The lead melody: (beat from the verse, beats, note, vowel, onset).
pub(super) const LEAD: [(f64, f64, i32, Vowel, Onset); 35] = {
    use Onset::{L, M, N, Vowel as Tie};
    use Vowel::{A, E, I, O, U};
    [
        // Verse, phrase 1 (Am | F)
        (0.5, 0.5, 64, I, L),
        (1.0, 0.5, 64, A, N),
        (1.5, 0.5, 62, A, L),
        (2.0, 1.0, 60, O, M),
        (3.0, 0.5, 62, E, L),
        (3.5, 1.5, 64, A, N),
        (5.5, 0.5, 60, U, L),
        (6.0, 1.5, 57, A, Tie),
        // Verse, phrase 2 (C | G)
        (8.5, 0.5, 64, I, M),
        (9.0, 1.0, 67, A, L),
        (10.0, 0.5, 64, E, N),
        (10.5, 0.5, 62, A, L),
        (11.0, 1.0, 60, O, M),
        (12.0, 1.0, 62, A, N),
        (13.0, 0.5, 59, E, L),
        (13.5, 1.5, 62, O, Tie),
        // Chorus (F | G | Em | Am)
        (16.0, 1.5, 69, A, N),
        (17.5, 0.5, 67, A, L),
        (18.0, 1.0, 65, O, M),
        (19.0, 1.0, 64, E, L),
        (20.0, 1.5, 67, A, N),
        (21.5, 0.5, 65, I, L),
        (22.0, 1.0, 64, A, M),
        (23.0, 1.0, 62, O, L),
        (24.0, 1.5, 64, I, N),
        (25.5, 0.5, 62, A, L),
        (26.0, 1.0, 59, O, M),
        (27.0, 0.5, 60, A, L),
        (27.5, 0.5, 62, A, Tie),
        (28.0, 3.0, 64, A, Tie),
        // Outro (F | G) and the last note (Am)
        (32.5, 0.5, 60, U, L),
        (33.0, 2.0, 57, O, Tie),
        (36.5, 0.5, 59, I, L),
        (37.0, 1.0, 62, A, N),
        (38.0, 1.0, 59, O, M),
    ]
};

pub fn lead_vox() -> Vec<Vec<f64>> {
    const VERSE: f64 = 8.0;
    let mut line: Vec<Syllable> = LEAD
        .iter()
        .map(|&(b, beats, note, vowel, onset)| {
            let vel = match b {
                x if x < 16.0 => 0.8,
                x if x < 32.0 => 1.0,
                _ => 0.85,
            };
            // Detached notes are sung a touch shorter than written: breaths between words.
            let tied = LEAD
                .iter()
                .any(|&(b2, _, _, _, o)| o == Onset::Vowel && (b2 - (b + beats)).abs() < 1e-9);
            let beats = if tied { beats } else { beats - 0.08 };
            syl(VERSE + b, beats, note, vowel, onset, vel)
        })
        .collect();
    line.push(syl(VERSE + 40.0, 3.5, 57, Vowel::A, Onset::M, 0.9));
    let style = Style {
        register: Register::Tenor,
        attack: 0.025,
        release: 0.09,
        vibrato: 0.3,
        vibrato_rate: 5.4,
        scoop: 0.7,
        breath: 0.06,
        detune_cents: 0.0,
        seed: 0x1ead,
    };
    let mut buf = sing(&line, &style, len());
    Biquad::highpass(110.0, 0.7).run(&mut buf);
    add_echo(&mut buf, 0.75 * BEAT, 0.3, 0.16);
    add_reverb(&mut buf, 0.75, 0.45, 0.3, 250.0, 0.04);
    vec![buf]
}

pub fn bgv() -> Vec<Vec<f64>> {
    let mut buf = vec![0.0; len()];
    for voice in 0..3 {
        let mut line = Vec::new();
        for bar in (6..=9).chain([LAST_BAR]) {
            let vowel = if bar < 8 { Vowel::U } else { Vowel::A };
            let beats = if bar == LAST_BAR { 3.5 } else { 3.7 };
            let note = PROGRESSION[bar].bgv[voice];
            line.push(syl(
                4.0 * bar as f64 + 0.02 * voice as f64,
                beats,
                note,
                vowel,
                Onset::Vowel,
                0.8,
            ));
        }
        let style = Style {
            register: Register::Soprano,
            attack: 0.16,
            release: 0.25,
            vibrato: 0.18,
            vibrato_rate: 5.0 + 0.35 * voice as f64,
            scoop: 0.3,
            breath: 0.12,
            detune_cents: [-6.0, 5.0, 0.0][voice],
            seed: 0xb6 + voice as u64,
        };
        for (y, v) in buf.iter_mut().zip(sing(&line, &style, len())) {
            *y += v;
        }
    }
    Biquad::highpass(200.0, 0.7).run(&mut buf);
    add_reverb(&mut buf, 0.85, 0.5, 0.4, 300.0, 0.05);
    vec![buf]
}
