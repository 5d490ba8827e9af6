//! Chains inside the mix kernel: a processed track is the track processed alone, then
//! added to its stem; a stem's chain acts on its sum before the stem's gain.

use stemdeck_audio::kernel::{StereoBuf, mix_block, mix_block_with};
use stemdeck_effects::{Chain, MixInserts};
use stemdeck_session::StemId;
use stemdeck_session::effects::*;
use stemdeck_session::routing::{MixPlan, StemGain, TrackGain};

const N: usize = 4096;
const RATE: u32 = 48_000;

fn plan() -> MixPlan {
    let track = |track, gain, pan| TrackGain { track, gain, pan };
    MixPlan {
        stems: vec![
            StemGain {
                stem: StemId(1),
                gain: 0.8,
                tracks: vec![track(0, 1.0, 0.0), track(1, 0.7, -0.5)],
            },
            StemGain {
                stem: StemId(2),
                gain: 1.0,
                tracks: vec![track(2, 0.9, 0.3)],
            },
        ],
    }
}

fn inputs() -> Vec<Vec<Vec<f32>>> {
    (0..3)
        .map(|t| {
            vec![
                (0..N)
                    .map(|i| ((i * (t + 3)) as f32 * 0.013).sin() * 0.5)
                    .collect(),
            ]
        })
        .collect()
}

fn eq() -> Vec<Effect> {
    vec![Effect::new(EffectKind::Eq(Eq {
        bands: vec![EqBand {
            shape: BandShape::Peak,
            freq_hz: 1_000.0,
            gain_db: 9.0,
            q: 0.8,
        }],
    }))]
}

#[test]
fn a_track_chain_processes_that_track_alone() {
    let p = plan();
    let inputs = inputs();
    let mut inserts = MixInserts::new(
        vec![None, Some(Chain::new(&eq(), RATE).unwrap()), None],
        vec![None, None],
        N,
    );
    let mut stems = vec![StereoBuf::new(N); 2];
    let mut master = StereoBuf::new(N);
    mix_block_with(&p, &p, &inputs, &mut stems, &mut master, N, &mut inserts);

    // By hand: track 1 panned and scaled, through the same EQ, plus track 0, × stem gain.
    let (gl, gr) = stemdeck_audio::kernel::channel_gains(1, 0.7, -0.5);
    let mut l: Vec<f32> = inputs[1][0].iter().map(|s| s * gl).collect();
    let mut r: Vec<f32> = inputs[1][0].iter().map(|s| s * gr).collect();
    Chain::new(&eq(), RATE).unwrap().process(&mut l, &mut r);
    for i in 0..N {
        let want_l = (inputs[0][0][i] + l[i]) * 0.8;
        let want_r = (inputs[0][0][i] + r[i]) * 0.8;
        assert!((stems[0].left[i] - want_l).abs() < 1e-6, "frame {i}");
        assert!((stems[0].right[i] - want_r).abs() < 1e-6, "frame {i}");
    }
    // The other stem is untouched, and the master is still the sum of the stems.
    let mut plain = vec![StereoBuf::new(N); 2];
    let mut plain_master = StereoBuf::new(N);
    mix_block(&p, &p, &inputs, &mut plain, &mut plain_master, N);
    assert_eq!(stems[1].left, plain[1].left);
    for i in 0..N {
        assert!((master.left[i] - stems[0].left[i] - stems[1].left[i]).abs() < 1e-6);
    }
}

#[test]
fn empty_inserts_mix_to_the_same_bits() {
    let p = plan();
    let inputs = inputs();
    let mut inserts = MixInserts::new(vec![None; 3], vec![None, None], N);
    assert!(inserts.is_empty());
    let mut a = vec![StereoBuf::new(N); 2];
    let mut am = StereoBuf::new(N);
    mix_block_with(&p, &p, &inputs, &mut a, &mut am, N, &mut inserts);
    let mut b = vec![StereoBuf::new(N); 2];
    let mut bm = StereoBuf::new(N);
    mix_block(&p, &p, &inputs, &mut b, &mut bm, N);
    assert_eq!(am.left, bm.left);
    assert_eq!(am.right, bm.right);
}

fn limiter(lookahead_ms: f32) -> Vec<Effect> {
    vec![Effect::new(EffectKind::Limiter(Limiter {
        ceiling_db: -1.0,
        release_ms: 50.0,
        lookahead_ms,
    }))]
}

/// A limiter on one track (5 ms look-ahead) must not put that track late against the
/// others: every other track and stem is delayed alike, so the mix is the plain mix
/// `latency` frames later (the limiter here never acts: the signal is quiet).
#[test]
fn delay_compensation_keeps_every_track_in_place() {
    let p = plan();
    let inputs: Vec<Vec<Vec<f32>>> = inputs()
        .into_iter()
        .map(|t| vec![t[0].iter().map(|s| s * 0.1).collect()])
        .collect();
    let mut inserts = MixInserts::new(
        vec![None, Some(Chain::new(&limiter(5.0), RATE).unwrap()), None],
        vec![None, None],
        N,
    );
    let latency = inserts.latency();
    assert_eq!(latency, 240);
    let mut stems = vec![StereoBuf::new(N); 2];
    let mut master = StereoBuf::new(N);
    mix_block_with(&p, &p, &inputs, &mut stems, &mut master, N, &mut inserts);
    let mut plain = vec![StereoBuf::new(N); 2];
    let mut plain_master = StereoBuf::new(N);
    mix_block(&p, &p, &inputs, &mut plain, &mut plain_master, N);
    for s in 0..2 {
        assert!(stems[s].left[..latency].iter().all(|&v| v == 0.0));
        for i in latency..N {
            let want = plain[s].left[i - latency];
            assert!((stems[s].left[i] - want).abs() < 1e-6, "stem {s} frame {i}");
        }
    }
}
