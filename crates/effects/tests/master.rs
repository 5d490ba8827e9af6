//! The master bus: keyed from the full mix and applied to every stem, so the wet stems
//! add up to the processed master; the limiter's ceiling holds; nothing allocates.

use assert_no_alloc::{AllocDisabler, assert_no_alloc};
use stemdeck_audio::kernel::StereoBuf;
use stemdeck_effects::MasterBus;
use stemdeck_session::Master;
use stemdeck_session::effects::*;

#[global_allocator]
static ALLOC: AllocDisabler = AllocDisabler;

const N: usize = 48_000;
const RATE: u32 = 48_000;

/// Three loud stems (their sum peaks far above 0 dBFS) and their sum.
fn stems() -> (Vec<StereoBuf>, StereoBuf) {
    let mut stems = vec![StereoBuf::new(N); 3];
    for (k, s) in stems.iter_mut().enumerate() {
        for i in 0..N {
            let t = i as f32 / RATE as f32;
            let env = if (i / 6000) % 2 == 0 { 0.9 } else { 0.2 };
            s.left[i] = env * (t * 110.0 * (k + 1) as f32 * std::f32::consts::TAU).sin();
            s.right[i] = env * (t * 170.0 * (k + 1) as f32 * std::f32::consts::TAU).cos();
        }
    }
    let mut master = StereoBuf::new(N);
    for s in &stems {
        for i in 0..N {
            master.left[i] += s.left[i];
            master.right[i] += s.right[i];
        }
    }
    (stems, master)
}

fn master_bus() -> Master {
    Master {
        gain_db: -0.5,
        effects: vec![
            Effect::new(EffectKind::Eq(Eq {
                bands: vec![EqBand {
                    shape: BandShape::Highpass,
                    freq_hz: 60.0,
                    gain_db: 0.0,
                    q: 0.707,
                }],
            })),
            Effect::new(EffectKind::Compressor(Compressor {
                threshold_db: -12.0,
                ratio: 3.0,
                ..Compressor::default()
            })),
            Effect::new(EffectKind::Reverb(Reverb::default())),
            Effect::new(EffectKind::Limiter(Limiter {
                ceiling_db: -1.0,
                release_ms: 60.0,
                lookahead_ms: 5.0,
            })),
        ],
    }
}

#[test]
fn the_wet_stems_add_up_to_the_processed_master_to_the_bit() {
    let (mut s, mut m) = stems();
    let mut bus = MasterBus::new(&master_bus(), 3, RATE).unwrap();
    assert_eq!(bus.latency(), 240);
    // In blocks of an awkward size, as a device would ask.
    let mut at = 0;
    while at < N {
        let n = 1000.min(N - at);
        let mut bs: Vec<StereoBuf> = s
            .iter()
            .map(|b| StereoBuf {
                left: b.left[at..at + n].to_vec(),
                right: b.right[at..at + n].to_vec(),
            })
            .collect();
        let mut bm = StereoBuf::new(n);
        bus.process(&mut bs, &mut bm, n);
        for (dst, src) in s.iter_mut().zip(&bs) {
            dst.left[at..at + n].copy_from_slice(&src.left);
            dst.right[at..at + n].copy_from_slice(&src.right);
        }
        m.left[at..at + n].copy_from_slice(&bm.left);
        m.right[at..at + n].copy_from_slice(&bm.right);
        at += n;
    }
    let ceiling = 10f32.powf(-1.0 / 20.0) * 10f32.powf(-0.5 / 20.0);
    let mut peak = 0f32;
    for i in 0..N {
        let sum_l = s[0].left[i] + s[1].left[i] + s[2].left[i];
        let sum_r = s[0].right[i] + s[1].right[i] + s[2].right[i];
        assert_eq!(sum_l.to_bits(), m.left[i].to_bits(), "frame {i}");
        assert_eq!(sum_r.to_bits(), m.right[i].to_bits(), "frame {i}");
        peak = peak.max(m.left[i].abs()).max(m.right[i].abs());
    }
    // The limiter held the mix under its ceiling (then the fader at −0.5 dB).
    assert!(peak <= ceiling, "{peak} > {ceiling}");
    assert!(peak > ceiling * 0.8, "the limiter did nothing: {peak}");
}

#[test]
fn a_gain_stage_applies_one_curve_to_every_stem() {
    let (mut s, mut m) = stems();
    let (orig, _) = stems();
    let master = Master {
        gain_db: 0.0,
        effects: vec![Effect::new(EffectKind::Compressor(Compressor {
            threshold_db: -20.0,
            ratio: 4.0,
            ..Compressor::default()
        }))],
    };
    MasterBus::new(&master, 3, RATE)
        .unwrap()
        .process(&mut s, &mut m, N);
    let mut reduced = false;
    for i in (0..N).step_by(97) {
        let g: Vec<f32> = (0..3)
            .filter(|&k| orig[k].left[i].abs() > 1e-3)
            .map(|k| s[k].left[i] / orig[k].left[i])
            .collect();
        for w in g.windows(2) {
            assert!((w[0] - w[1]).abs() < 1e-5, "frame {i}: {g:?}");
        }
        reduced |= g.first().is_some_and(|g| *g < 0.7);
    }
    assert!(reduced, "the compressor never acted");
}

#[test]
fn no_effects_and_unity_leaves_the_mix_untouched() {
    let (mut s, mut m) = stems();
    let (s0, m0) = stems();
    let mut bus = MasterBus::new(&Master::default(), 3, RATE).unwrap();
    assert!(bus.is_transparent());
    bus.process(&mut s, &mut m, N);
    assert_eq!(m.left, m0.left);
    assert_eq!(s[2].right, s0[2].right);
}

#[test]
fn the_bus_runs_and_updates_without_allocating() {
    let (mut s, mut m) = stems();
    let mut bus = MasterBus::new(&master_bus(), 3, RATE).unwrap();
    let mut quieter = master_bus();
    quieter.gain_db = -6.0;
    quieter.effects[1].bypass = true;
    if let EffectKind::Reverb(r) = &mut quieter.effects[2].kind {
        r.mix = 0.5;
    }
    assert_no_alloc(|| {
        bus.process(&mut s, &mut m, 4096);
        assert!(bus.update(&quieter).is_ok());
        bus.process(&mut s, &mut m, 4096);
        bus.reset();
    });
    // A new look-ahead cannot be taken in place.
    if let EffectKind::Limiter(l) = &mut quieter.effects[3].kind {
        l.lookahead_ms = 10.0;
    }
    assert!(bus.update(&quieter).is_err());
}
