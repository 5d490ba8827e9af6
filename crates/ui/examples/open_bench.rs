//! Benchmark: how soon a big session is usable after opening it, through the real app
//! (`StemdeckApp`: import, waveform overviews, playback engine), headless: the engine's
//! processor is driven in real time from a thread standing in for the device (512-frame
//! callbacks), and UI frames are run with egui (no window) as the app would.
//!
//!     cargo run --release -p stemdeck_ui --example open_bench -- SESSION [PLAY_SECONDS]
//!
//! Prints, cold (empty peak cache) and then warm (the cache filled by the cold run):
//! the time to open, the time from pressing Play to the first non-silent output of the
//! processor, the time from opening until every waveform overview is ready (and
//! drawn by the next frame), and the peak RSS of the process. Then plays on for
//! PLAY_SECONDS (default 5) and prints the peak RSS again. `bench/open.sh` runs it.
//! Figures only: nothing is asserted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use stemdeck_ui::{AppOptions, Startup, StemdeckApp};

/// Peak resident memory since the last reset, MB (Linux: VmHWM).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time used by the whole process so far (user + system), seconds (Linux).
fn process_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which is in parentheses): utime is 14th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// Start the peak RSS again from the current RSS (Linux: clear_refs 5).
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").ok();
}

struct Run {
    open: Duration,
    first_sound: Option<Duration>,
    overviews: Duration,
    /// Process CPU time from opening until every overview was in.
    overviews_cpu: f64,
    peak_mb: f64,
    played_mb: f64,
}

fn run(session: &Path, play_secs: f64) -> Run {
    reset_peak_rss();
    let cpu0 = process_cpu_s();
    let t0 = Instant::now();
    let mut app = StemdeckApp::new(AppOptions {
        audio: false,
        startup: Startup::Open(vec![session.to_path_buf()]),
        demo: None,
        open_requests: None,
    });
    let open = t0.elapsed();
    let mut processor = app
        .engine
        .as_mut()
        .and_then(|e| e.take_processor())
        .unwrap_or_else(|| {
            eprintln!("open_bench: the session did not open");
            std::process::exit(1)
        });
    // The device: a 512-frame callback every 10.7 ms; notes when sound first comes.
    let stop = Arc::new(AtomicBool::new(false));
    let first_sound_ns = Arc::new(AtomicU64::new(0));
    let played = Arc::new(AtomicBool::new(false));
    let play_at = Instant::now();
    let device = {
        let (stop, first, played) = (
            Arc::clone(&stop),
            Arc::clone(&first_sound_ns),
            Arc::clone(&played),
        );
        std::thread::spawn(move || {
            let mut buf = vec![0.0f32; 512 * 2];
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                processor.process(&mut buf, 2);
                if played.load(Ordering::Relaxed)
                    && first.load(Ordering::Relaxed) == 0
                    && buf.iter().any(|x| *x != 0.0)
                {
                    first.store(
                        play_at.elapsed().as_nanos().max(1) as u64,
                        Ordering::Relaxed,
                    );
                }
                next += Duration::from_micros(10_667);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        })
    };
    // Press Play at once, as a user who opens a session and plays it.
    let play_at = Instant::now();
    app.toggle_play();
    played.store(true, Ordering::Relaxed);
    let ctx = egui::Context::default();
    let input = |t: f64| egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        time: Some(t),
        ..Default::default()
    };
    let frame = |app: &mut StemdeckApp| {
        let out = ctx.run_ui(input(t0.elapsed().as_secs_f64()), |ui| app.ui(ui));
        std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
    };
    // UI frames at 60 Hz until every overview is in (drawn by the frame that took it).
    let overviews = loop {
        frame(&mut app);
        if app.waveforms_ready() {
            break t0.elapsed();
        }
        if t0.elapsed() > Duration::from_secs(600) {
            eprintln!("open_bench: overviews not ready after 600 s");
            break t0.elapsed();
        }
        std::thread::sleep(Duration::from_millis(16));
    };
    let overviews_cpu = process_cpu_s() - cpu0;
    let peak_mb = peak_rss_mb();
    let played_until = Instant::now() + Duration::from_secs_f64(play_secs);
    while Instant::now() < played_until {
        frame(&mut app);
        std::thread::sleep(Duration::from_millis(16));
    }
    let played_mb = peak_rss_mb();
    stop.store(true, Ordering::Relaxed);
    device.join().ok();
    let first = first_sound_ns.load(Ordering::Relaxed);
    let _ = play_at;
    Run {
        open,
        first_sound: (first > 0).then(|| Duration::from_nanos(first)),
        overviews,
        overviews_cpu,
        peak_mb,
        played_mb,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(session) = args.get(1).map(PathBuf::from) else {
        eprintln!("usage: open_bench SESSION [PLAY_SECONDS]");
        std::process::exit(2);
    };
    let play_secs: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let scratch = std::env::temp_dir().join(format!("stemdeck-open-bench-{}", std::process::id()));
    std::fs::remove_dir_all(&scratch).ok();
    // SAFETY: single-threaded at this point.
    unsafe {
        std::env::set_var("STEMDECK_CONFIG_DIR", scratch.join("config"));
        std::env::set_var("STEMDECK_CACHE_DIR", scratch.join("cache"));
    }
    for what in ["cold", "warm"] {
        let r = run(&session, play_secs);
        let first = r
            .first_sound
            .map_or("none".to_owned(), |d| format!("{:.3} s", d.as_secs_f64()));
        println!(
            "{what}: open {:.3} s; first sound {first} after Play; every overview ready {:.3} s after opening began \
             ({:.2} s of CPU); peak RSS {:.1} MB until then, {:.1} MB after {play_secs} s of playback",
            r.open.as_secs_f64(),
            r.overviews.as_secs_f64(),
            r.overviews_cpu,
            r.peak_mb,
            r.played_mb,
        );
    }
    std::fs::remove_dir_all(&scratch).ok();
}
