//! The DSP cost of the effects issue's live workload, measured without a device:
//! 128 tracks each with a 4-band EQ and a compressor, 8 stems each with a reverb, and a
//! master compressor and limiter keyed from the mix and applied to every stem, at 512
//! frames and 48 kHz on one core. Prints the cost of a block as a share of its real-time
//! budget (mean, p99, max). A benchmark: it prints figures, it asserts nothing.
//!
//!     cargo run --release -p stemdeck_effects --example effects_bench [-- SECONDS]

use std::time::Instant;

use stemdeck_effects::Chain;
use stemdeck_effects::dynamics::{
    CompressorStage, GainStage as _, LimiterStage, LookaheadDelay, apply_gain,
};
use stemdeck_session::effects::*;

const RATE: u32 = 48_000;
const BLOCK: usize = 512;
const TRACKS: usize = 128;
const STEMS: usize = 8;

fn track_chain() -> Vec<Effect> {
    let band = |shape, freq_hz, gain_db, q| EqBand {
        shape,
        freq_hz,
        gain_db,
        q,
    };
    vec![
        Effect::new(EffectKind::Eq(Eq {
            bands: vec![
                band(BandShape::Highpass, 60.0, 0.0, 0.707),
                band(BandShape::Lowshelf, 200.0, 2.0, 0.707),
                band(BandShape::Peak, 2_500.0, -3.0, 1.4),
                band(BandShape::Highshelf, 9_000.0, 1.5, 0.707),
            ],
        })),
        Effect::new(EffectKind::Compressor(Compressor::default())),
    ]
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20.0);
    let mut tracks: Vec<Chain> = (0..TRACKS)
        .map(|_| Chain::new(&track_chain(), RATE).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let reverb = [Effect::new(EffectKind::Reverb(Reverb::default()))];
    let mut stems: Vec<Chain> = (0..STEMS)
        .map(|_| Chain::new(&reverb, RATE).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let sr = f64::from(RATE);
    let mut master_comp = CompressorStage::new(&Compressor::default(), sr);
    let mut master_limit = LimiterStage::new(&Limiter::default(), sr);
    let mut delays: Vec<LookaheadDelay> = (0..=STEMS)
        .map(|_| LookaheadDelay::new(master_limit.latency()))
        .collect();

    // Inputs: a block of noise-like material per track, shifted every block.
    let mut seed = 1u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let source: Vec<f32> = (0..BLOCK * 64).map(|_| next() * 0.5).collect();
    let mut tl = vec![vec![0f32; BLOCK]; TRACKS];
    let mut tr = vec![vec![0f32; BLOCK]; TRACKS];
    let mut sl = vec![vec![0f32; BLOCK]; STEMS];
    let mut sr_ = vec![vec![0f32; BLOCK]; STEMS];
    let (mut ml, mut mr) = (vec![0f32; BLOCK], vec![0f32; BLOCK]);
    let (mut g1, mut g2) = (vec![0f32; BLOCK], vec![0f32; BLOCK]);

    let budget = BLOCK as f64 / sr;
    let blocks = (seconds / budget) as usize;
    let mut costs = Vec::with_capacity(blocks);
    let mut cpu_costs = Vec::with_capacity(blocks);
    for b in 0..blocks {
        for (i, (l, r)) in tl.iter_mut().zip(tr.iter_mut()).enumerate() {
            let at = ((b * 7 + i * 13) % 63) * BLOCK;
            l.copy_from_slice(&source[at..at + BLOCK]);
            r.copy_from_slice(&source[at + 1..at + 1 + BLOCK]);
        }
        let start = Instant::now();
        let cpu_start = thread_cpu_ns();
        for s in sl.iter_mut().chain(sr_.iter_mut()) {
            s.fill(0.0);
        }
        for (i, chain) in tracks.iter_mut().enumerate() {
            chain.process(&mut tl[i], &mut tr[i]);
            let s = i % STEMS;
            for k in 0..BLOCK {
                sl[s][k] += tl[i][k] * 0.2;
                sr_[s][k] += tr[i][k] * 0.2;
            }
        }
        ml.fill(0.0);
        mr.fill(0.0);
        for s in 0..STEMS {
            stems[s].process(&mut sl[s], &mut sr_[s]);
            for k in 0..BLOCK {
                ml[k] += sl[s][k];
                mr[k] += sr_[s][k];
            }
        }
        // The master's gain curves from the mix, applied to the mix and every stem.
        for (cl, (cr, (c1, c2))) in ml.chunks(256).zip(
            mr.chunks(256)
                .zip(g1.chunks_mut(256).zip(g2.chunks_mut(256))),
        ) {
            master_comp.gain_curve(cl, cr, c1);
            let (mut kl, mut kr) = ([0f32; 256], [0f32; 256]);
            for k in 0..cl.len() {
                kl[k] = cl[k] * c1[k];
                kr[k] = cr[k] * c1[k];
            }
            master_limit.gain_curve(&kl[..cl.len()], &kr[..cl.len()], c2);
        }
        for k in 0..BLOCK {
            g1[k] *= g2[k];
        }
        for (s, d) in delays.iter_mut().enumerate() {
            let (l, r) = if s < STEMS {
                (&mut sl[s], &mut sr_[s])
            } else {
                (&mut ml, &mut mr)
            };
            d.process(l, r);
            apply_gain(l, r, &g1);
        }
        costs.push(start.elapsed().as_secs_f64() / budget);
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            cpu_costs.push((b - a) as f64 * 1e-9 / budget);
        }
    }
    println!(
        "effects_bench: {TRACKS} tracks (4-band EQ + compressor), {STEMS} stems (reverb), master compressor + limiter keyed from the mix; {BLOCK} frames at {RATE} Hz, {} blocks",
        costs.len()
    );
    report("wall time", costs);
    // On a shared machine the wall time includes waiting for a core; the thread's own
    // CPU time is what the callback would cost on a core of its own.
    report("thread CPU time", cpu_costs);
}

fn report(what: &str, mut costs: Vec<f64>) {
    if costs.is_empty() {
        return;
    }
    costs.sort_by(f64::total_cmp);
    let mean = costs.iter().sum::<f64>() / costs.len() as f64;
    println!(
        "{what}: budget used mean {:.1} %, p99 {:.1} %, max {:.1} %",
        mean * 100.0,
        costs[costs.len() * 99 / 100] * 100.0,
        costs[costs.len() - 1] * 100.0
    );
}

/// This thread's CPU time in ns (Linux: /proc/thread-self/schedstat, first field).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
