//! Soak test of the live engine on a real output device: play for a long time while
//! hammering it with random mute / solo / seek / regroup commands, and watch for panics,
//! memory growth and xruns.
//!
//!     cargo run -p stemdeck_engine --example soak -- [SECONDS] [--rate N] [--tracks N]
//!         [--max-growth-mb MB] [--device NAME]
//!
//! * SECONDS (default 600): how long to play.
//! * --rate (default 100): commands per second, each one of: mute or solo a random track
//!   or stem (Engine::set_mix), seek to a random frame (Engine::seek), move a random track
//!   to a random stem or out of every stem (regroup, Engine::set_mix); now and then also
//!   pause and play again, a loop region on or off. Engine::poll runs after each command.
//! * --tracks (default 12): a session of synthesized 30-second WAV files (a third of them
//!   at 44.1 kHz, so those are resampled), auto-grouped, on a loop so playback never ends.
//! * RSS (VmRSS) is sampled every second. "Flat" means: at the end, no more than
//!   --max-growth-mb (default 24) above what it was once warmed up (after the first
//!   quarter of the run, at most 30 s in): the rings, decoders and resamplers are all
//!   allocated by then.
//!
//! Prints a summary (commands, callbacks, xruns, device errors, starved callbacks, engine
//! events, RSS at start, min, max, end) and exits 0, or 1 on a panic on any thread, RSS growth beyond the limit, a
//! device that never started, or an engine that stopped calling back.
//! bench/soak.sh runs it for ten minutes through a PulseAudio null sink;
//! tests/tests/soak.rs runs it for 20 seconds in the test suite.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use stemdeck_engine::{Engine, EngineEvent};
use stemdeck_session::grouping::auto_group;
use stemdeck_session::{Session, Song, StemId, Track, TrackId};

const RATE: u32 = 48_000;
const SONG_SECONDS: f64 = 30.0;

/// Track names (auto-grouped into Drums, Bass, Vocals, Instruments, FX) and channels.
const NAMES: [(&str, u16); 12] = [
    ("Kick In", 1),
    ("Snare Top", 1),
    ("Overheads", 2),
    ("Bass DI", 1),
    ("Lead Vox", 1),
    ("BGVs", 2),
    ("Keys", 2),
    ("Gtr L", 1),
    ("Pad", 2),
    ("FX Riser", 2),
    ("Tom 1", 1),
    ("Harmony Vox", 1),
];

struct Args {
    seconds: f64,
    rate: f64,
    tracks: usize,
    max_growth_mb: f64,
    device: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 600.0,
        rate: 100.0,
        tracks: 12,
        max_growth_mb: 24.0,
        device: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let num = |v: String, name: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or_else(|| format!("{name}: not a positive number: {v}"))
        };
        match arg.as_str() {
            "--rate" => a.rate = num(value("--rate")?, "--rate")?,
            "--tracks" => a.tracks = num(value("--tracks")?, "--tracks")? as usize,
            "--max-growth-mb" => {
                a.max_growth_mb = num(value("--max-growth-mb")?, "--max-growth-mb")?
            }
            "--device" => a.device = Some(value("--device")?),
            s if !s.starts_with('-') => a.seconds = num(s.to_owned(), "SECONDS")?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(a)
}

/// VmRSS of this process in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A small deterministic generator (the run is reproducible for a seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Write one track: a tone with a tremolo, 16-bit, at `rate`.
fn write_track(path: &Path, rate: u32, channels: u16, freq: f64) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(|e| e.to_string())?;
    let frames = (SONG_SECONDS * f64::from(rate)) as usize;
    for i in 0..frames {
        let t = i as f64 / f64::from(rate);
        let x = 0.2
            * (2.0 * std::f64::consts::PI * freq * t).sin()
            * (0.6 + 0.4 * (2.0 * std::f64::consts::PI * 0.5 * t).sin());
        for _ in 0..channels {
            w.write_sample((x * 32767.0) as i16)
                .map_err(|e| e.to_string())?;
        }
    }
    w.finalize().map_err(|e| e.to_string())
}

fn session(dir: &Path, tracks: usize) -> Result<Session, String> {
    let mut s = Session::new(
        RATE,
        Song {
            title: "Soak".into(),
            ..Song::default()
        },
    );
    for i in 0..tracks {
        let (name, channels) = NAMES[i % NAMES.len()];
        let rate = if i % 3 == 2 { 44_100 } else { RATE };
        let path: PathBuf = dir.join(format!("{i:02} {name}.wav"));
        write_track(&path, rate, channels, 110.0 * (1.0 + i as f64 * 0.37))?;
        s.tracks.push(Track::new(
            TrackId(i as u32 + 1),
            format!("{name} {i}"),
            path,
        ));
    }
    auto_group(&mut s);
    Ok(s)
}

/// One random command. Returns its kind, for the summary.
fn command(engine: &mut Engine, s: &mut Session, rng: &mut Rng) -> usize {
    let kind = rng.below(100);
    match kind {
        // Mute or unmute a track.
        0..=24 => {
            let i = rng.below(s.tracks.len());
            if let Some(t) = s.tracks.get_mut(i) {
                t.mute = !t.mute;
            }
            engine.set_mix(s);
            0
        }
        // Solo or unsolo a track or a stem (never many at once: a few solos on at most).
        25..=44 => {
            if rng.below(2) == 0 {
                let i = rng.below(s.tracks.len());
                if let Some(t) = s.tracks.get_mut(i) {
                    t.solo = !t.solo && rng.below(3) == 0;
                }
            } else if !s.stems.is_empty() {
                let i = rng.below(s.stems.len());
                if let Some(st) = s.stems.get_mut(i) {
                    st.solo = !st.solo && rng.below(3) == 0;
                }
            }
            engine.set_mix(s);
            1
        }
        // Stem mute.
        45..=54 => {
            if !s.stems.is_empty() {
                let i = rng.below(s.stems.len());
                if let Some(st) = s.stems.get_mut(i) {
                    st.mute = !st.mute;
                }
            }
            engine.set_mix(s);
            0
        }
        // Seek.
        55..=74 => {
            let to = rng.next() % engine.len().max(1);
            engine.seek(to);
            2
        }
        // Regroup: a track to another stem, sometimes out of every stem, sometimes a new
        // stem (at most 8).
        75..=94 => {
            let id = TrackId(rng.below(s.tracks.len()) as u32 + 1);
            let to: Option<StemId> = match rng.below(10) {
                0 => None,
                1 if s.stems.len() < 8 => Some(s.add_stem("New")),
                _ => s.stems.get(rng.below(s.stems.len())).map(|st| st.id),
            };
            s.move_tracks(&[id], to, Some(rng.below(4)));
            // Empty stems go, as a user would delete them.
            s.stems.retain(|st| !st.tracks.is_empty());
            engine.set_mix(s);
            3
        }
        // Pause and play, a loop on or off.
        _ => {
            if rng.below(2) == 0 {
                engine.pause();
                engine.play();
            } else {
                let len = engine.len();
                let start = rng.next() % len.max(1);
                let end = (start + u64::from(RATE) * 4).min(len);
                engine.set_loop(start, end, rng.below(2) == 0);
            }
            4
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    // A panic on any thread (audio, reader, this one) fails the run.
    let panics = Arc::new(AtomicU64::new(0));
    {
        let panics = Arc::clone(&panics);
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            panics.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    }
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("soak: no temp dir: {e}");
            std::process::exit(2);
        }
    };
    let mut s = match session(dir.path(), args.tracks) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("soak: cannot write the session: {e}");
            std::process::exit(2);
        }
    };
    let rss_start = rss_kib();
    let mut engine = Engine::new(&s);
    let len = engine.len();
    // Loop the whole song: playback never runs out.
    engine.set_loop(0, len, true);
    if let Err(e) = engine.start_output(args.device.as_deref()) {
        eprintln!("soak: output: {e}");
        std::process::exit(1);
    }
    println!(
        "soak: {} tracks ({} stems), {:.0} s song on a loop, device {}, {} s at {} commands/s",
        s.tracks.len(),
        s.stems.len(),
        len as f64 / f64::from(RATE),
        engine.output_description().unwrap_or("(starting)"),
        args.seconds,
        args.rate
    );
    engine.play();

    let mut rng = Rng(0x5eed_50a4_u64 ^ args.seconds.to_bits());
    let started = Instant::now();
    let total = Duration::from_secs_f64(args.seconds);
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let warm_at = Duration::from_secs_f64((args.seconds / 4.0).min(30.0));
    let mut next = started;
    let mut next_sample = started;
    let mut kinds = [0u64; 5];
    let mut commands = 0u64;
    let (mut rss_min, mut rss_max) = (u64::MAX, 0u64);
    let mut rss_warm = None;
    let mut last_callbacks = 0u64;
    let mut stalled_seconds = 0u32;
    let mut worst_stall = 0u32;
    let mut events: Vec<String> = Vec::new();
    while started.elapsed() < total {
        kinds[command(&mut engine, &mut s, &mut rng)] += 1;
        commands += 1;
        engine.poll();
        for e in engine.events() {
            let kind = match e {
                EngineEvent::TrackFailed { .. } => "track failed",
                EngineEvent::DeviceLost(_) => "device lost",
                EngineEvent::DeviceRestored => "device restored",
            };
            events.push(kind.to_owned());
        }
        let now = Instant::now();
        if now >= next_sample {
            next_sample += Duration::from_secs(1);
            let rss = rss_kib();
            rss_min = rss_min.min(rss);
            rss_max = rss_max.max(rss);
            if rss_warm.is_none() && now - started >= warm_at {
                rss_warm = Some(rss);
            }
            let cb = engine.feedback().callbacks();
            if cb == last_callbacks {
                stalled_seconds += 1;
                worst_stall = worst_stall.max(stalled_seconds);
            } else {
                stalled_seconds = 0;
            }
            last_callbacks = cb;
            let secs = (now - started).as_secs();
            if secs > 0 && secs.is_multiple_of(60) {
                let fb = engine.feedback();
                println!(
                    "soak: {secs:>4} s  commands {commands}  callbacks {}  xruns {}  device errors {}  starved {}  RSS {:.1} MB",
                    fb.callbacks(),
                    fb.xruns(),
                    fb.device_errors(),
                    fb.starved(),
                    mb(rss)
                );
            }
        }
        next += period;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        } else if Instant::now() - next > Duration::from_secs(1) {
            next = Instant::now(); // fell far behind (machine busy): do not burst
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = rss_kib();
    let fb = Arc::clone(engine.feedback());
    let device = engine.output_description().unwrap_or("(none)").to_owned();
    drop(engine);

    let rss_warm = rss_warm.unwrap_or(rss_start);
    let growth = mb(rss_end) - mb(rss_warm);
    let panics = panics.load(Ordering::SeqCst);
    println!("soak: summary");
    println!("  played              {elapsed:.1} s on {device}");
    println!(
        "  commands            {commands} ({:.1}/s): mute {} solo {} seek {} regroup {} transport/loop {}",
        commands as f64 / elapsed,
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3],
        kinds[4]
    );
    println!(
        "  callbacks           {} ({:.1}/s)",
        fb.callbacks(),
        fb.callbacks() as f64 / elapsed
    );
    println!("  xruns               {}", fb.xruns());
    println!(
        "  device errors       {} (backend errors while the sound went on)",
        fb.device_errors()
    );
    println!(
        "  starved callbacks   {} (reader behind after seeks: silence, never stale audio)",
        fb.starved()
    );
    let mut counted: Vec<(String, usize)> = Vec::new();
    for e in &events {
        match counted.iter_mut().find(|(k, _)| k == e) {
            Some((_, n)) => *n += 1,
            None => counted.push((e.clone(), 1)),
        }
    }
    let listed: Vec<String> = counted.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "  engine events       {}{}",
        events.len(),
        if listed.is_empty() {
            String::new()
        } else {
            format!(" ({})", listed.join(", "))
        }
    );
    println!(
        "  RSS MB              start {:.1}  warm {:.1}  min {:.1}  max {:.1}  end {:.1}  (growth after warm-up {:+.1}, limit {:.0})",
        mb(rss_start),
        mb(rss_warm),
        mb(rss_min.min(rss_end)),
        mb(rss_max.max(rss_end)),
        mb(rss_end),
        growth,
        args.max_growth_mb
    );
    println!("  longest stall       {worst_stall} s without a callback");
    println!("  panics              {panics}");
    let mut failed = Vec::new();
    if panics > 0 {
        failed.push(format!("{panics} panic(s)"));
    }
    if growth > args.max_growth_mb {
        failed.push(format!(
            "RSS grew {growth:.1} MB after warm-up (limit {:.0} MB)",
            args.max_growth_mb
        ));
    }
    if fb.callbacks() == 0 {
        failed.push("the device never called back".into());
    } else if worst_stall >= 3 {
        failed.push(format!("no callback for {worst_stall} s"));
    }
    if failed.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL: {}", failed.join("; "));
        std::process::exit(1);
    }
}
