//! Benchmark of the live engine, fed by its real reader thread (no device).
//!
//!     cargo run --release -p stemdeck_engine --example engine_bench \
//!         [all|cost|cost-fast|cost-paced|effects|reader|rss|device [seconds]]
//!
//! * `cost`   — time of `Processor::process` per 512-frame block at 48 kHz for 16, 64,
//!   128 and 256 tracks (mono and stereo, auto-grouped into 5 stems); only the `process`
//!   call is timed. Two ways: back to back (`cost-fast`: each block as soon as the reader
//!   has queued it, caches warm) and paced like a device (`cost-paced`: one block every
//!   10.67 ms, the feed full, caches cold between callbacks — what the audio thread sees).
//! * `effects` — the same timing (both paces) for the effects session of issue 12:
//!   128 tracks in 8 stems, each track with a 4-band EQ and a compressor, each stem with
//!   a reverb, a compressor and a limiter on the master; and the same session without
//!   effects beside it.
//! * `device` — that effects session played for 60 s (or `seconds`) through the real
//!   cpal output (the default device: bench/engine-device.sh points it at a PulseAudio
//!   null sink), printing xruns, starved callbacks, device errors and the callback load.
//! * `reader` — frames per second the reader thread delivers for 64 tracks when the
//!   processor consumes as fast as it can.
//! * `rss`    — VmRSS / VmHWM of a 64-track × 10-minute session: right after opening, with
//!   the feed full, and while playing as fast as the reader allows (run in a child process
//!   by `all`, so the peak is that session's own).
//!
//! Sources are 24-bit WAV files generated once into $STEMDECK_BENCH_DIR (default: the
//! system temp dir); a few distinct files are shared by all tracks (each track still has
//! its own decoder). This is a benchmark: it prints, it never asserts timings.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stemdeck_engine::{AHEAD_SECONDS, Engine, FEED_BLOCK, Processor};
use stemdeck_session::{Session, Song, Track, TrackId};

const RATE: u32 = 48_000;
const BLOCK: usize = 512;
const BUDGET_US: f64 = BLOCK as f64 * 1e6 / RATE as f64;
const TIMED_BLOCKS: usize = 3000;
const WARMUP_BLOCKS: usize = 32;
/// Set in the child process `all` starts for the memory figures.
const CHILD: &str = "STEMDECK_ENGINE_BENCH_CHILD";

/// Track names (auto-grouped: 3 Drums, 1 Bass, 2 Vocals, 1 Instruments, 1 FX per 8
/// tracks) and their channel counts.
const NAMES: [(&str, u16); 8] = [
    ("Kick In", 1),
    ("Snare Top", 1),
    ("Overheads", 2),
    ("Bass DI", 1),
    ("Lead Vox", 1),
    ("BGVs", 2),
    ("Keys", 2),
    ("FX Riser", 2),
];

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let dir = std::env::var_os("STEMDECK_BENCH_DIR").map_or_else(
        || std::env::temp_dir().join("stemdeck-engine-bench"),
        PathBuf::from,
    );
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    if std::env::var_os(CHILD).is_none() {
        println!("engine_bench: {}", machine());
    }
    match mode.as_str() {
        "cost" => cost(&dir, &[Pace::Fast, Pace::RealTime]),
        "cost-fast" => cost(&dir, &[Pace::Fast]),
        "cost-paced" => cost(&dir, &[Pace::RealTime]),
        "effects" => cost_effects(&dir),
        "device" => {
            let seconds = std::env::args()
                .nth(2)
                .and_then(|a| a.parse().ok())
                .unwrap_or(60.0);
            device(&dir, seconds);
        }
        "reader" => reader(&dir),
        "rss" => rss(&dir),
        "all" => {
            // First, in a fresh process, so VmHWM is the long session's alone.
            rss_in_child();
            cost(&dir, &[Pace::Fast, Pace::RealTime]);
            cost_effects(&dir);
            reader(&dir);
        }
        other => {
            eprintln!(
                "unknown mode {other:?}: use all, cost, cost-fast, cost-paced, effects, reader, rss or device"
            );
            std::process::exit(2);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Processing cost per block

#[derive(Clone, Copy, PartialEq)]
enum Pace {
    /// Back to back: each block as soon as the reader has queued it.
    Fast,
    /// One block every 10.67 ms, as a device would call: the feed stays full and the
    /// caches go cold between callbacks.
    RealTime,
}

fn cost(dir: &Path, paces: &[Pace]) {
    println!();
    println!(
        "== Callback cost per {BLOCK}-frame block at {} kHz (budget {:.2} ms), {TIMED_BLOCKS} timed blocks after {WARMUP_BLOCKS} warm-up ones, fed by the reader thread",
        RATE / 1000,
        BUDGET_US / 1000.0
    );
    let counts = [16, 64, 128, 256];
    for &pace in paces {
        println!();
        match pace {
            Pace::Fast => println!(
                "-- back to back: before each block wait until queued() >= {BLOCK} + {FEED_BLOCK} (see below), then time process()"
            ),
            Pace::RealTime => println!(
                "-- paced like a device: one block every {:.2} ms (sleep until the next deadline), then time process()",
                BUDGET_US / 1000.0
            ),
        }
        println!(
            "| tracks | channels | stems | mean µs | p50 µs | p99 µs | max µs | mean % | p99 % | max % | blocks switched out | not switched out: p99 µs / max µs / max % | starved | song × RT | steal % | load | thread CPU per block µs / % |"
        );
        println!(
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|"
        );
        for &n in &counts {
            let s = session(dir, n, 40.0, 4);
            if !measure(&s, pace, &n.to_string()) {
                return;
            }
        }
    }
    println!();
    println!(
        "(% = share of the {:.2} ms real-time budget of one block; goal: 128 tracks < 10 %. \
         song × RT = song time played / wall time of the timed loop; steal % = CPU time the \
         hypervisor gave to other guests during it.)",
        BUDGET_US / 1000.0
    );
}

/// The callback's cost with the effects session, beside the same session dry.
fn cost_effects(dir: &Path) {
    println!();
    println!(
        "== Callback cost with effects: 128 tracks in 8 stems, per track a 4-band EQ and a compressor, per stem a reverb, on the master a compressor and a limiter ({BLOCK} frames, {} kHz, one core; budget {:.2} ms)",
        RATE / 1000,
        BUDGET_US / 1000.0
    );
    let wet = effects_session(dir, true);
    let dry = effects_session(dir, false);
    for pace in [Pace::Fast, Pace::RealTime] {
        println!();
        match pace {
            Pace::Fast => println!("-- back to back"),
            Pace::RealTime => println!(
                "-- paced like a device: one block every {:.2} ms",
                BUDGET_US / 1000.0
            ),
        }
        println!(
            "| session | channels | stems | mean µs | p50 µs | p99 µs | max µs | mean % | p99 % | max % | blocks switched out | not switched out: p99 µs / max µs / max % | starved | song × RT | steal % | load | thread CPU per block µs / % |"
        );
        println!(
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|"
        );
        for (label, s) in [("128 + effects", &wet), ("128 dry", &dry)] {
            if !measure(s, pace, label) {
                return;
            }
        }
    }
    println!();
    println!("(goal with effects: mean ≤ 25 % of the budget on one core)");
}

/// The effects session played through the real output device for `seconds`.
fn device(dir: &Path, seconds: f64) {
    println!();
    println!(
        "== {seconds:.0} s of the effects session (128 tracks, 8 stems, EQ + compressor per track, reverb per stem, master compressor + limiter) through the default output device"
    );
    let s = effects_session(dir, true);
    if seconds <= 0.0 {
        // Only make the sources (bench/engine-device.sh does this before recording).
        return;
    }
    let mut engine = Engine::new(&s);
    if let Err(e) = engine.start_output(None) {
        eprintln!("no output: {e}");
        std::process::exit(1);
    }
    println!(
        "device: {}",
        engine.output_description().unwrap_or("(not running)")
    );
    engine.play();
    let fb = std::sync::Arc::clone(engine.feedback());
    let t = Instant::now();
    let mut loads = Vec::new();
    let mut max_load = 0f32;
    while t.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(Duration::from_millis(100));
        engine.poll();
        let load = fb.load();
        loads.push(f64::from(load));
        max_load = max_load.max(load);
    }
    let events = engine.events();
    let played = fb.position() as f64 / RATE as f64;
    let mean_load = loads.iter().sum::<f64>() / loads.len().max(1) as f64;
    println!(
        "played {played:.1} s of song in {:.1} s | callbacks {} | xruns {} | starved {} | device errors {} | effects latency {} frames | callback load: mean of 10 Hz samples {:.1} %, max sampled {:.1} % | events {events:?} | load {}",
        t.elapsed().as_secs_f64(),
        fb.callbacks(),
        fb.xruns(),
        fb.starved(),
        fb.device_errors(),
        fb.latency(),
        mean_load * 100.0,
        f64::from(max_load) * 100.0,
        loadavg()
    );
}

/// Time `process` on `s` at `pace` and print one row of the table (`label` in the first
/// column). False when the engine could not be driven.
fn measure(s: &Session, pace: Pace, label: &str) -> bool {
    let (channels, stems) = shape(s);
    let mut engine = Engine::new(s);
    let Some(mut p) = engine.take_processor() else {
        eprintln!("no processor");
        return false;
    };
    engine.play();
    let mut out = vec![0.0f32; BLOCK * 2];
    for _ in 0..WARMUP_BLOCKS {
        wait_queued(&p, enough(&p));
        p.process(&mut out, 2);
    }
    if pace == Pace::RealTime {
        let full_at = (AHEAD_SECONDS * RATE as f32) as usize - 2 * FEED_BLOCK;
        wait_queued(&p, full_at);
    }
    let starved_before = engine.feedback().starved();
    let mut times = Vec::with_capacity(TIMED_BLOCKS);
    // Blocks during which this thread was switched out (preempted by another
    // job on this shared machine, or a page fault that slept) are also kept
    // apart, to tell the engine's cost from the scheduler's.
    let mut undisturbed = Vec::with_capacity(TIMED_BLOCKS);
    // The thread's own CPU time over the timed loop, per block: what a block costs on a
    // core of its own (on a loaded machine the wall time also holds the wait for a
    // core). Taken over the whole loop: the kernel updates it at context switches, too
    // coarse for one block. Includes the loop's own waiting (sleeps cost nothing; the
    // back-to-back poll of `queued()` a little).
    let cpu_before = thread_cpu_ns();
    let start_pos = p.position();
    let steal_before = cpu_steal();
    let wall = Instant::now();
    let period = Duration::from_secs_f64(BUDGET_US / 1e6);
    let mut deadline = Instant::now();
    for _ in 0..TIMED_BLOCKS {
        match pace {
            Pace::Fast => wait_queued(&p, enough(&p)),
            Pace::RealTime => {
                deadline += period;
                if let Some(d) = deadline.checked_duration_since(Instant::now()) {
                    std::thread::sleep(d);
                }
            }
        }
        let switches = context_switches();
        let t = Instant::now();
        p.process(&mut out, 2);
        let us = t.elapsed().as_secs_f64() * 1e6;
        times.push(us);
        if context_switches() == switches {
            undisturbed.push(us);
        }
        std::hint::black_box(&out);
    }
    let wall = wall.elapsed().as_secs_f64();
    let played = p.position() - start_pos;
    let switched = times.len() - undisturbed.len();
    let st = Stats::of(&mut times);
    let un = Stats::of(&mut undisturbed);
    let cpu_per_block_us = match (cpu_before, thread_cpu_ns()) {
        (Some(a), Some(b)) => b.saturating_sub(a) as f64 / 1e3 / TIMED_BLOCKS as f64,
        _ => f64::NAN,
    };
    println!(
        "| {label} | {channels} | {stems} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {switched} | {:.1} / {:.1} / {:.2} | {} | {:.1} | {:.1} | {} | {:.1} / {:.2} |",
        st.mean,
        st.p50,
        st.p99,
        st.max,
        pct(st.mean),
        pct(st.p99),
        pct(st.max),
        un.p99,
        un.max,
        pct(un.max),
        engine.feedback().starved() - starved_before,
        played as f64 / RATE as f64 / wall,
        steal_pct(steal_before, cpu_steal()),
        loadavg(),
        cpu_per_block_us,
        pct(cpu_per_block_us),
    );
    true
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

/// Voluntary + involuntary context switches of the calling thread so far.
fn context_switches() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .map(|s| {
            s.lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Frames to wait for before a block. `queued()` counts samples already in the rings,
/// but the reader publishes a block's position (which `process` needs) only after all
/// its samples: with just `queued() >= 512` a callback can land in between and play
/// silence (seen: dozens of starved blocks in 3000 on a loaded machine). One more feed
/// block queued guarantees 512 published frames.
fn enough(p: &Processor) -> usize {
    // With effects, a block also takes the pre-roll after a seek; near the end, less.
    p.frames_needed(BLOCK + FEED_BLOCK)
}

fn remaining(p: &Processor) -> usize {
    p.len().saturating_sub(p.position()) as usize
}

/// Wait (sleeping, so the reader has the CPU) until `frames` are queued.
fn wait_queued(p: &Processor, frames: usize) {
    let t = Instant::now();
    while p.queued() < frames {
        if t.elapsed() > Duration::from_secs(60) {
            eprintln!("reader stalled: {} queued, {frames} wanted", p.queued());
            return;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

struct Stats {
    mean: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

impl Stats {
    fn of(v: &mut [f64]) -> Stats {
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            v.get(((v.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        Stats {
            mean: v.iter().sum::<f64>() / v.len().max(1) as f64,
            p50: at(0.5),
            p99: at(0.99),
            max: v.last().copied().unwrap_or(0.0),
        }
    }
}

fn pct(us: f64) -> f64 {
    us / BUDGET_US * 100.0
}

// ---------------------------------------------------------------------------------------
// Reader throughput

fn reader(dir: &Path) {
    println!();
    println!("== Reader throughput, 64 tracks, processor consuming as fast as it can");
    let s = session(dir, 64, 40.0, 4);
    let (channels, stems) = shape(&s);
    for run in 1..=3 {
        let mut engine = Engine::new(&s);
        let Some(mut p) = engine.take_processor() else {
            return;
        };
        // Start from an empty feed: the first blocks are waited for, not pre-read.
        engine.play();
        let mut out = vec![0.0f32; BLOCK * 2];
        let t = Instant::now();
        let mut busy = Duration::ZERO;
        while remaining(&p) > 0 {
            if p.queued() >= enough(&p) {
                let b = Instant::now();
                p.process(&mut out, 2);
                busy += b.elapsed();
            } else {
                std::thread::yield_now();
            }
        }
        let wall = t.elapsed().as_secs_f64();
        let frames = p.position() as f64;
        println!(
            "run {run}: 64 tracks ({channels} channels, {stems} stems), {:.0} s of song in {:.2} s: {:.0} frames/s = {:.1} × real time (processor busy {:.0} % of it) | load {}",
            frames / RATE as f64,
            wall,
            frames / wall,
            frames / wall / RATE as f64,
            busy.as_secs_f64() / wall * 100.0,
            loadavg()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Memory

fn rss_in_child() {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("cannot find own executable; run the `rss` mode by hand");
        return;
    };
    match std::process::Command::new(exe)
        .arg("rss")
        .env(CHILD, "1")
        .status()
    {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("rss run failed: {s}"),
        Err(e) => eprintln!("rss run failed: {e}"),
    }
}

fn rss(dir: &Path) {
    const SECONDS: f32 = 600.0;
    println!();
    println!("== Memory, 64 tracks × 10 minutes, playing as fast as the reader allows");
    let t = Instant::now();
    let s = session(dir, 64, SECONDS, 2);
    let (channels, stems) = shape(&s);
    println!(
        "session: 64 tracks ({channels} channels, {stems} stems) from 4 distinct 24-bit WAV files ({:.1} s to generate/check)",
        t.elapsed().as_secs_f64()
    );
    let before = status_kb("VmRSS");
    println!("VmRSS before opening: {:.1} MB", mb(before));
    let t = Instant::now();
    let mut engine = Engine::new(&s);
    let opened = status_kb("VmRSS");
    println!(
        "VmRSS right after Engine::new ({:.0} ms): {:.1} MB",
        t.elapsed().as_secs_f64() * 1000.0,
        mb(opened)
    );
    let Some(mut p) = engine.take_processor() else {
        return;
    };
    let full_at = (AHEAD_SECONDS * RATE as f32) as usize - 2 * FEED_BLOCK;
    wait_queued(&p, full_at);
    println!(
        "VmRSS with the feed full (not playing yet): {:.1} MB",
        mb(status_kb("VmRSS"))
    );
    engine.play();
    let mut out = vec![0.0f32; BLOCK * 2];
    let wall = Instant::now();
    let mut next_report = 0u64;
    let step = 60 * RATE as u64;
    let two_minutes = 120 * RATE as u64;
    let mut peak_rss = 0u64;
    println!("| song position | wall s | VmRSS MB | VmHWM MB | load |");
    println!("|---:|---:|---:|---:|---|");
    loop {
        let pos = p.position();
        if pos >= next_report {
            let rss = status_kb("VmRSS");
            peak_rss = peak_rss.max(rss);
            println!(
                "| {:.0}:{:02} | {:.1} | {:.1} | {:.1} | {} |",
                (pos / RATE as u64) / 60,
                (pos / RATE as u64) % 60,
                wall.elapsed().as_secs_f64(),
                mb(rss),
                mb(status_kb("VmHWM")),
                loadavg()
            );
            next_report += step;
        }
        if remaining(&p) == 0 {
            break;
        }
        // At least 2 minutes of song; the whole song unless that takes > 2 min of wall time.
        if pos >= two_minutes && wall.elapsed() > Duration::from_secs(120) {
            println!("(stopped after 2 min of wall time)");
            break;
        }
        if p.queued() >= enough(&p) {
            p.process(&mut out, 2);
        } else {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    let pos = p.position();
    let wall = wall.elapsed().as_secs_f64();
    println!(
        "played {:.1} s of song in {:.1} s ({:.1} × real time), starved callbacks {}",
        pos as f64 / RATE as f64,
        wall,
        pos as f64 / RATE as f64 / wall,
        engine.feedback().starved()
    );
    println!(
        "VmRSS: after opening {:.1} MB, highest sampled while playing {:.1} MB, at the end {:.1} MB; VmHWM (peak of this process) {:.1} MB (goal < 200 MB) | load {}",
        mb(opened),
        mb(peak_rss),
        mb(status_kb("VmRSS")),
        mb(status_kb("VmHWM")),
        loadavg()
    );
}

fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------
// Sessions

/// `tracks` tracks of `seconds`, named after [`NAMES`] in turn; `variants` distinct
/// files per channel layout are shared by all tracks. Auto-grouped.
fn session(dir: &Path, tracks: usize, seconds: f32, variants: usize) -> Session {
    let mut s = Session::new(
        RATE,
        Song {
            title: format!("Engine bench {tracks}"),
            ..Song::default()
        },
    );
    for i in 0..tracks {
        let (name, channels) = NAMES[i % NAMES.len()];
        let variant = (i / NAMES.len()) % variants.max(1);
        let path = source(dir, channels, variant, seconds);
        s.tracks.push(Track::new(
            TrackId(i as u32 + 1),
            format!("{name} {}", i / NAMES.len() + 1),
            path,
        ));
    }
    stemdeck_session::grouping::auto_group(&mut s);
    s
}

/// The session: 128 tracks (90 s, so a 60 s device run never reaches the end)
/// in 8 stems of 16; with `effects`, a 4-band EQ and a compressor on every track, a
/// reverb on every stem, a compressor and a limiter on the master.
fn effects_session(dir: &Path, effects: bool) -> Session {
    use stemdeck_session::effects::{
        BandShape, Compressor, Effect, EffectKind, Eq, EqBand, Limiter, Reverb,
    };
    let mut s = session(dir, 128, 90.0, 4);
    s.stems.clear();
    let ids: Vec<TrackId> = s.tracks.iter().map(|t| t.id).collect();
    for (k, group) in ids.chunks(16).enumerate() {
        let stem = s.add_stem(format!("Stem {}", k + 1));
        s.move_tracks(group, Some(stem), None);
    }
    if !effects {
        return s;
    }
    let band = |shape, freq_hz, gain_db| EqBand {
        shape,
        freq_hz,
        gain_db,
        q: 0.8,
    };
    let eq = Effect::new(EffectKind::Eq(Eq {
        bands: vec![
            band(BandShape::Highpass, 40.0, 0.0),
            band(BandShape::Lowshelf, 150.0, 2.0),
            band(BandShape::Peak, 1200.0, -3.0),
            band(BandShape::Highshelf, 6000.0, 1.5),
        ],
    }));
    let comp = |threshold_db| {
        Effect::new(EffectKind::Compressor(Compressor {
            threshold_db,
            ..Compressor::default()
        }))
    };
    for t in &mut s.tracks {
        t.effects = vec![eq.clone(), comp(-24.0)];
    }
    for st in &mut s.stems {
        st.effects = vec![Effect::new(EffectKind::Reverb(Reverb::default()))];
    }
    s.master.effects = vec![
        comp(-12.0),
        Effect::new(EffectKind::Limiter(Limiter::default())),
    ];
    s
}

/// Channel count of all tracks and the number of non-empty stems.
fn shape(s: &Session) -> (usize, usize) {
    let channels = NAMES
        .iter()
        .cycle()
        .take(s.tracks.len())
        .map(|(_, c)| *c as usize)
        .sum();
    (
        channels,
        s.stems.iter().filter(|st| !st.tracks.is_empty()).count(),
    )
}

/// A generated 24-bit WAV (made once, reused while its size is right).
fn source(dir: &Path, channels: u16, variant: usize, seconds: f32) -> PathBuf {
    let frames = (seconds * RATE as f32) as u64;
    let path = dir.join(format!(
        "src-{channels}ch-{variant}-{}s.wav",
        seconds as u32
    ));
    if hound::WavReader::open(&path).is_ok_and(|r| {
        let spec = r.spec();
        u64::from(r.duration()) == frames && spec.channels == channels && spec.bits_per_sample == 24
    }) {
        return path;
    }
    let spec = hound::WavSpec {
        channels,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = path.with_extension("tmp");
    let written = (|| -> Result<(), hound::Error> {
        let mut w = hound::WavWriter::create(&tmp, spec)?;
        // A tone under a slow tremolo plus a little noise: non-trivial samples.
        let f = 55.0 * (1 + variant + 2 * channels as usize) as f32;
        let mut noise = 0x2545_F491_u32 ^ (variant as u32 * 7919 + channels as u32);
        for n in 0..frames {
            let t = n as f32 / RATE as f32;
            let env = 0.6 + 0.4 * (t * 0.7 * std::f32::consts::TAU).sin();
            let tone = (t * f * std::f32::consts::TAU).sin() * 0.3 * env;
            for _ in 0..channels {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                let v = tone + (noise as f32 / u32::MAX as f32 - 0.5) * 0.02;
                w.write_sample((v * 8_388_607.0) as i32)?;
            }
        }
        w.finalize()
    })();
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path).map_err(hound::Error::from))
    {
        eprintln!("cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    path
}

// ---------------------------------------------------------------------------------------
// Machine

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}, load average {}", loadavg())
}

/// (steal, total) jiffies of all CPUs: time the hypervisor gave to other guests.
fn cpu_steal() -> (u64, u64) {
    std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let v: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            Some((v.get(7).copied().unwrap_or(0), v.iter().take(8).sum()))
        })
        .unwrap_or((0, 0))
}

fn steal_pct(before: (u64, u64), after: (u64, u64)) -> f64 {
    let total = after.1.saturating_sub(before.1).max(1);
    after.0.saturating_sub(before.0) as f64 / total as f64 * 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
