//! Chains as the engine runs them: no allocation on the audio thread, glides and bypass
//! without clicks, the limiter's ceiling, and the master's keyed gain applied to stems.

use assert_no_alloc::{AllocDisabler, assert_no_alloc};
use stemdeck_effects::dynamics::{GainStage as _, LimiterStage, LookaheadDelay, apply_gain};
use stemdeck_effects::{Chain, NeedsRebuild};
use stemdeck_session::effects::*;

#[global_allocator]
static ALLOCATOR: AllocDisabler = AllocDisabler;

const RATE: u32 = 48_000;

fn every_effect() -> Vec<Effect> {
    vec![
        Effect::new(EffectKind::Eq(Eq {
            bands: vec![
                EqBand {
                    shape: BandShape::Highpass,
                    freq_hz: 80.0,
                    gain_db: 0.0,
                    q: 0.707,
                },
                EqBand {
                    shape: BandShape::Peak,
                    freq_hz: 2_000.0,
                    gain_db: 4.0,
                    q: 1.0,
                },
            ],
        })),
        Effect::new(EffectKind::Compressor(Compressor::default())),
        Effect::new(EffectKind::Delay(Delay::default())),
        Effect::new(EffectKind::Reverb(Reverb::default())),
        Effect::new(EffectKind::Limiter(Limiter::default())),
    ]
}

struct Noise(u64);
impl Noise {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

fn signal(n: usize, amp: f32, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut noise = Noise(seed);
    let l = (0..n)
        .map(|i| amp * ((i as f32 * 0.031).sin() * 0.7 + 0.3 * noise.next()))
        .collect();
    let r = (0..n)
        .map(|i| amp * ((i as f32 * 0.017).cos() * 0.7 + 0.3 * noise.next()))
        .collect();
    (l, r)
}

#[test]
fn processing_updating_and_bypassing_never_allocate() {
    let mut effects = every_effect();
    let mut chain = Chain::new(&effects, RATE).unwrap();
    let (mut l, mut r) = signal(RATE as usize, 1.5, 7);
    // Everything the audio thread would be handed is made before it runs.
    let mut versions = Vec::new();
    for round in 0..8 {
        if let EffectKind::Eq(eq) = &mut effects[0].kind {
            eq.bands[1].gain_db = -6.0 + round as f32;
            eq.bands[1].freq_hz = 500.0 * (round + 1) as f32;
        }
        if let EffectKind::Delay(d) = &mut effects[2].kind {
            d.time_ms = 100.0 + 40.0 * round as f32;
        }
        effects[round % 5].bypass = !effects[round % 5].bypass;
        versions.push(effects.clone());
    }
    let mut at = 0;
    let mut round = 0;
    assert_no_alloc(|| {
        for len in [512usize, 17, 1024, 333, 2048].iter().cycle() {
            if at + len > l.len() {
                break;
            }
            if let Some(v) = versions.get(round) {
                assert_eq!(chain.update(v), Ok(()));
            }
            round += 1;
            chain.process(&mut l[at..at + len], &mut r[at..at + len]);
            at += len;
        }
    });
    assert!(l.iter().chain(&r).all(|s| s.is_finite()));
}

#[test]
fn changes_of_shape_need_a_new_chain() {
    let effects = every_effect();
    let mut chain = Chain::new(&effects, RATE).unwrap();
    assert_eq!(chain.update(&effects[..4]), Err(NeedsRebuild));
    let mut moved = effects.clone();
    moved.swap(1, 2);
    assert_eq!(chain.update(&moved), Err(NeedsRebuild));
    let mut lookahead = effects.clone();
    if let EffectKind::Limiter(l) = &mut lookahead[4].kind {
        l.lookahead_ms = 2.0;
    }
    assert_eq!(chain.update(&lookahead), Err(NeedsRebuild));
    assert_eq!(chain.latency(), 240);
    let mut bad = effects.clone();
    if let EffectKind::Compressor(c) = &mut bad[1].kind {
        c.ratio = 0.0;
    }
    let err = Chain::new(&bad, RATE).unwrap_err().to_string();
    assert_eq!(err, "effect 2 (Compressor): ratio: must be 1 or more");
}

#[test]
fn the_limiter_never_exceeds_its_ceiling() {
    for lookahead_ms in [0.0, 0.5, 5.0, 20.0] {
        for ceiling_db in [-0.1f32, -1.0, -6.0] {
            let p = Limiter {
                ceiling_db,
                release_ms: 30.0,
                lookahead_ms,
            };
            let effects = [Effect::new(EffectKind::Limiter(p))];
            let mut chain = Chain::new(&effects, RATE).unwrap();
            let (mut l, mut r) = signal(RATE as usize, 4.0, 99);
            // Isolated spikes too: the hardest case for a look-ahead.
            for i in (1000..l.len()).step_by(7919) {
                l[i] = 9.0;
                r[i + 1] = -12.0;
            }
            for (cl, cr) in l.chunks_mut(700).zip(r.chunks_mut(700)) {
                chain.process(cl, cr);
            }
            let ceiling = 10f32.powf(ceiling_db / 20.0);
            let peak = l.iter().chain(&r).fold(0f32, |m, s| m.max(s.abs()));
            assert!(
                peak <= ceiling,
                "{lookahead_ms} ms, {ceiling_db} dB: peak {peak}"
            );
            // And it does limit rather than mute: the loud parts sit near the ceiling.
            assert!(peak > ceiling * 0.9);
        }
    }
}

#[test]
fn a_quiet_signal_passes_the_limiter_unchanged_but_delayed_by_the_lookahead() {
    let p = Limiter {
        ceiling_db: -1.0,
        release_ms: 50.0,
        lookahead_ms: 5.0,
    };
    let mut chain = Chain::new(&[Effect::new(EffectKind::Limiter(p))], RATE).unwrap();
    let (l0, r0) = signal(10_000, 0.5, 3);
    let (mut l, mut r) = (l0.clone(), r0.clone());
    chain.process(&mut l, &mut r);
    let lat = chain.latency();
    assert_eq!(lat, 240);
    assert!(l[..lat].iter().all(|s| *s == 0.0));
    assert_eq!(&l[lat..], &l0[..l0.len() - lat]);
    assert_eq!(&r[lat..], &r0[..r0.len() - lat]);
}

#[test]
fn the_master_gain_keyed_from_the_mix_makes_stems_that_add_up_under_the_ceiling() {
    let p = Limiter {
        ceiling_db: -1.0,
        release_ms: 60.0,
        lookahead_ms: 3.0,
    };
    let stems: Vec<(Vec<f32>, Vec<f32>)> = (0..4).map(|i| signal(20_000, 1.2, 11 + i)).collect();
    let mix_l: Vec<f32> = (0..20_000)
        .map(|i| stems.iter().map(|s| s.0[i]).sum())
        .collect();
    let mix_r: Vec<f32> = (0..20_000)
        .map(|i| stems.iter().map(|s| s.1[i]).sum())
        .collect();
    let mut stage = LimiterStage::new(&p, f64::from(RATE));
    let mut gains = vec![0f32; 20_000];
    for ((kl, kr), g) in mix_l
        .chunks(256)
        .zip(mix_r.chunks(256))
        .zip(gains.chunks_mut(256))
    {
        stage.gain_curve(kl, kr, g);
    }
    let mut wet_sum_l = vec![0f32; 20_000];
    let mut wet_sum_r = vec![0f32; 20_000];
    for (sl, sr) in &stems {
        let (mut l, mut r) = (sl.clone(), sr.clone());
        let mut delay = LookaheadDelay::new(stage.latency());
        delay.process(&mut l, &mut r);
        apply_gain(&mut l, &mut r, &gains);
        for i in 0..20_000 {
            wet_sum_l[i] += l[i];
            wet_sum_r[i] += r[i];
        }
    }
    // The same curve applied to the mix itself.
    let (mut ml, mut mr) = (mix_l.clone(), mix_r.clone());
    LookaheadDelay::new(stage.latency()).process(&mut ml, &mut mr);
    apply_gain(&mut ml, &mut mr, &gains);
    let ceiling = 10f32.powf(-1.0 / 20.0);
    let peak = wet_sum_l
        .iter()
        .chain(&wet_sum_r)
        .fold(0f32, |m, s| m.max(s.abs()));
    assert!(peak <= ceiling, "stems add up to {peak}");
    let worst = wet_sum_l
        .iter()
        .zip(&ml)
        .chain(wet_sum_r.iter().zip(&mr))
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-5, "stems and master differ by {worst}");
}

#[test]
fn bypass_and_parameter_moves_do_not_click() {
    // A 200 Hz tone through a +12 dB peak at 200 Hz: bypass halves... quarters the level.
    let tone = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|i| {
                (std::f64::consts::TAU * 200.0 * i as f64 / f64::from(RATE)).sin() as f32 * 0.2
            })
            .collect()
    };
    let mut effects = vec![Effect::new(EffectKind::Eq(Eq {
        bands: vec![EqBand {
            shape: BandShape::Peak,
            freq_hz: 200.0,
            gain_db: 12.0,
            q: 1.0,
        }],
    }))];
    let mut chain = Chain::new(&effects, RATE).unwrap();
    let mut l = tone(48_000);
    let mut r = l.clone();
    chain.process(&mut l[..24_000], &mut r[..24_000]);
    effects[0].bypass = true;
    chain.update(&effects).unwrap();
    chain.process(&mut l[24_000..], &mut r[24_000..]);
    // The largest step between samples stays that of the loudest tone (no jump).
    let max_step = 0.8 * (std::f64::consts::TAU * 200.0 / f64::from(RATE)) as f32 * 1.05;
    let worst = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0f32, f32::max);
    assert!(worst <= max_step, "step {worst} > {max_step}");
    let tail_peak = l[40_000..].iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(
        (tail_peak - 0.2).abs() < 0.002,
        "bypassed level {tail_peak}"
    );
}
