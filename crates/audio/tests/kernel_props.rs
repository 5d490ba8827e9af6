//! Property tests of the mix kernel with plans from the session's routing rules: for
//! random sessions (mono and stereo tracks, gains, pans, track and stem mutes and solos,
//! any grouping, tracks left unassigned) and random audio, in both mix modes and across a
//! ramp from one random mix to another (what live playback does on every toggle):
//! - the stems sum to the master;
//! - every stem is what the rules say, computed here independently in f64 from the
//!   session itself (not from the plan): who is heard, track gain × stem gain, the pan law;
//! - tracks in no stem contribute nothing, and nothing is NaN.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

use proptest::prelude::*;
use stemdeck_audio::kernel::{StereoBuf, mix_block};
use stemdeck_session::routing::MixMode;
use stemdeck_session::{Session, Song, StemId, Track, TrackId};

const FRAMES: usize = 96;

#[derive(Clone, Debug)]
struct TrackSpec {
    stereo: bool,
    gain_db: f32,
    pan: f32,
    mute: bool,
    solo: bool,
    /// Index of the stem it belongs to (`None`: unassigned).
    stem: Option<usize>,
}

#[derive(Clone, Debug)]
struct StemSpec {
    gain_db: f32,
    mute: bool,
    solo: bool,
}

fn gain_db() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -60.0f32..12.0,
        1 => Just(0.0f32),
        1 => Just(-200.0f32), // silence (db_to_gain gives 0)
    ]
}

fn pan() -> impl Strategy<Value = f32> {
    prop_oneof![3 => -1.0f32..=1.0, 1 => Just(0.0f32), 1 => Just(-1.0f32), 1 => Just(1.0f32)]
}

fn session_spec() -> impl Strategy<Value = (Vec<StemSpec>, Vec<TrackSpec>)> + use<> {
    (1usize..5).prop_flat_map(|stems| {
        let stem = (gain_db(), any::<bool>(), prop::bool::weighted(0.2)).prop_map(
            |(gain_db, mute, solo)| StemSpec {
                gain_db,
                mute,
                solo,
            },
        );
        let track = (
            any::<bool>(),
            gain_db(),
            pan(),
            prop::bool::weighted(0.25),
            prop::bool::weighted(0.15),
            prop::option::weighted(0.85, 0..stems),
        )
            .prop_map(|(stereo, gain_db, pan, mute, solo, stem)| TrackSpec {
                stereo,
                gain_db,
                pan,
                mute,
                solo,
                stem,
            });
        (
            prop::collection::vec(stem, stems),
            prop::collection::vec(track, 1..9),
        )
    })
}

/// The same stems and tracks (same grouping, same channel counts) with other switches
/// and levels: the mix a toggle ramps to.
fn remix(
    stems: &[StemSpec],
    tracks: &[TrackSpec],
) -> impl Strategy<Value = (Vec<StemSpec>, Vec<TrackSpec>)> + use<> {
    let stems = stems.to_vec();
    let tracks = tracks.to_vec();
    let n_stems = stems.len();
    let n_tracks = tracks.len();
    (
        prop::collection::vec(
            (gain_db(), any::<bool>(), prop::bool::weighted(0.2)),
            n_stems,
        ),
        prop::collection::vec(
            (
                gain_db(),
                pan(),
                prop::bool::weighted(0.25),
                prop::bool::weighted(0.15),
            ),
            n_tracks,
        ),
    )
        .prop_map(move |(s, t)| {
            let stems = s
                .into_iter()
                .map(|(gain_db, mute, solo)| StemSpec {
                    gain_db,
                    mute,
                    solo,
                })
                .collect();
            let tracks = tracks
                .iter()
                .zip(t)
                .map(|(old, (gain_db, pan, mute, solo))| TrackSpec {
                    gain_db,
                    pan,
                    mute,
                    solo,
                    ..old.clone()
                })
                .collect();
            (stems, tracks)
        })
}

fn build(stems: &[StemSpec], tracks: &[TrackSpec]) -> Session {
    let mut s = Session::new(48_000, Song::default());
    for (i, t) in tracks.iter().enumerate() {
        s.tracks.push(Track {
            gain_db: t.gain_db,
            pan: t.pan,
            mute: t.mute,
            solo: t.solo,
            ..Track::new(TrackId(i as u32 + 1), format!("t{i}"), format!("t{i}.wav"))
        });
    }
    for (i, st) in stems.iter().enumerate() {
        let id = s.add_stem(format!("S{i}"));
        let stem = s.stem_mut(id).unwrap();
        stem.gain_db = st.gain_db;
        stem.mute = st.mute;
        stem.solo = st.solo;
    }
    for (i, t) in tracks.iter().enumerate() {
        if let Some(k) = t.stem {
            s.move_tracks(&[TrackId(i as u32 + 1)], Some(StemId(k as u32 + 1)), None);
        }
    }
    s.check().unwrap();
    s
}

fn audio(tracks: &[TrackSpec], seed: u64) -> Vec<Vec<Vec<f32>>> {
    let mut rng = seed;
    let mut next = move || {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((rng >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    tracks
        .iter()
        .map(|t| {
            let channels = if t.stereo { 2 } else { 1 };
            (0..channels)
                .map(|_| (0..FRAMES).map(|_| next()).collect())
                .collect()
        })
        .collect()
}

fn db(x: f32) -> f64 {
    if x <= -144.0 {
        0.0
    } else {
        10f64.powf(f64::from(x) / 20.0)
    }
}

/// Stem `k` of session `s`, frame by frame, by the rules of docs/mixing.md, in f64.
fn reference(s: &Session, mode: MixMode, inputs: &[Vec<Vec<f32>>], k: usize) -> Vec<(f64, f64)> {
    let stem = &s.stems[k];
    let in_stem = |t: &Track| s.stem_of(t.id).is_some();
    let any_solo = mode == MixMode::Audition
        && (s.stems.iter().any(|st| st.solo) || s.tracks.iter().any(|t| t.solo && in_stem(t)));
    let mut out = vec![(0.0, 0.0); FRAMES];
    for id in &stem.tracks {
        let i = s.track_index(*id).unwrap();
        let t = &s.tracks[i];
        let heard = match mode {
            MixMode::Stems => !t.mute,
            MixMode::Audition if any_solo => t.solo || (stem.solo && !t.mute),
            MixMode::Audition => !t.mute && !stem.mute,
        };
        if !heard {
            continue;
        }
        let g = db(t.gain_db) * db(stem.gain_db);
        let p = f64::from(t.pan);
        let input = &inputs[i];
        let (gl, gr) = if input.len() == 2 {
            ((1.0 - p).min(1.0), (1.0 + p).min(1.0))
        } else if p == 0.0 {
            (1.0, 1.0)
        } else {
            let th = (p + 1.0) * std::f64::consts::FRAC_PI_4;
            (2f64.sqrt() * th.cos(), 2f64.sqrt() * th.sin())
        };
        let r_in = input.get(1).unwrap_or(&input[0]);
        for f in 0..FRAMES {
            out[f].0 += f64::from(input[0][f]) * g * gl;
            out[f].1 += f64::from(r_in[f]) * g * gr;
        }
    }
    out
}

fn run(
    from: &Session,
    to: &Session,
    mode: MixMode,
    inputs: &[Vec<Vec<f32>>],
) -> (Vec<StereoBuf>, StereoBuf) {
    let (pf, pt) = (from.mix_plan(mode), to.mix_plan(mode));
    // Garbage in the buffers: the kernel must overwrite, not accumulate into, them.
    let junk = StereoBuf {
        left: vec![7.0; FRAMES],
        right: vec![-7.0; FRAMES],
    };
    let mut stems = vec![junk.clone(); pt.stems.len()];
    let mut master = junk;
    mix_block(&pf, &pt, inputs, &mut stems, &mut master, FRAMES);
    (stems, master)
}

/// |a - b| within float rounding of a sum of `terms` values of size up to `scale`.
fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-5 * scale.max(1.0)
}

fn check_sum(stems: &[StereoBuf], master: &StereoBuf) -> Result<(), TestCaseError> {
    for f in 0..FRAMES {
        let (mut l, mut r, mut scale) = (0.0f64, 0.0f64, 0.0f64);
        for s in stems {
            l += f64::from(s.left[f]);
            r += f64::from(s.right[f]);
            scale += f64::from(s.left[f].abs() + s.right[f].abs());
        }
        prop_assert!(master.left[f].is_finite() && master.right[f].is_finite());
        prop_assert!(
            close(l, f64::from(master.left[f]), scale)
                && close(r, f64::from(master.right[f]), scale),
            "frame {f}: stems sum to ({l}, {r}), master ({}, {})",
            master.left[f],
            master.right[f]
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// One mix (export, or playback between toggles): stems sum to the master, and each
    /// stem is what the rules say.
    #[test]
    fn stems_follow_the_rules_and_sum_to_the_master(
        (stems, tracks) in session_spec(),
        seed in any::<u64>(),
    ) {
        let s = build(&stems, &tracks);
        let inputs = audio(&tracks, seed);
        for mode in [MixMode::Audition, MixMode::Stems] {
            let (out, master) = run(&s, &s, mode, &inputs);
            prop_assert_eq!(out.len(), s.stems.len());
            check_sum(&out, &master)?;
            for k in 0..s.stems.len() {
                let want = reference(&s, mode, &inputs, k);
                let scale = 16.0 * db(12.0) * db(12.0) * 2f64.sqrt() * tracks.len() as f64;
                for f in 0..FRAMES {
                    prop_assert!(
                        close(f64::from(out[k].left[f]), want[f].0, scale / 10.0)
                            && close(f64::from(out[k].right[f]), want[f].1, scale / 10.0),
                        "{:?} stem {} frame {}: kernel ({}, {}), rules ({}, {})",
                        mode, k, f, out[k].left[f], out[k].right[f], want[f].0, want[f].1
                    );
                }
            }
        }
    }

    /// A toggle while playing: the kernel ramps from one mix to the other across the
    /// block. The stems still sum to the master at every frame, the block starts near the
    /// old mix and ends exactly on the new one.
    #[test]
    fn ramps_between_mixes_keep_the_sum((from, to, tracks_len, seed) in session_spec()
        .prop_flat_map(|(stems, tracks)| {
            let n = tracks.len();
            (Just((stems.clone(), tracks.clone())), remix(&stems, &tracks), Just(n), any::<u64>())
        }))
    {
        let (stems_a, tracks_a) = from;
        let (stems_b, tracks_b) = to;
        prop_assert_eq!(tracks_a.len(), tracks_len);
        let a = build(&stems_a, &tracks_a);
        let b = build(&stems_b, &tracks_b);
        let inputs = audio(&tracks_a, seed);
        for mode in [MixMode::Audition, MixMode::Stems] {
            let (out, master) = run(&a, &b, mode, &inputs);
            check_sum(&out, &master)?;
            let scale = 16.0 * db(12.0) * db(12.0) * 2f64.sqrt() * tracks_len as f64;
            for k in 0..b.stems.len() {
                let want = reference(&b, mode, &inputs, k);
                let f = FRAMES - 1;
                prop_assert!(
                    close(f64::from(out[k].left[f]), want[f].0, scale / 10.0)
                        && close(f64::from(out[k].right[f]), want[f].1, scale / 10.0),
                    "{:?} stem {}: last frame ({}, {}), new mix ({}, {})",
                    mode, k, out[k].left[f], out[k].right[f], want[f].0, want[f].1
                );
            }
        }
    }
}
