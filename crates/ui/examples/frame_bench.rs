//! Benchmark: CPU time per UI frame with 64 tracks, waveforms shown, while playing,
//! measured headless (egui without a window: layout, painting and tessellation).
//!
//!     cargo run --release -p stemdeck_ui --example frame_bench [TRACKS] [SECONDS]
// A benchmark program: a failure ends the run, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use stemdeck_session::{Session, Song, Track, TrackId};
use stemdeck_ui::{AppOptions, Startup, StemdeckApp};

/// CPU time of this thread, ms (what a frame costs, whatever else the machine runs).
#[cfg(unix)]
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

#[cfg(not(unix))]
fn thread_cpu_ms() -> f64 {
    0.0
}

fn summary(what: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "UI frame {what} over {} frames: mean {:.2} ms, median {:.2} ms, p95 {:.2} ms, max {:.2} ms (goal < 4 ms)",
        v.len(),
        mean,
        v[v.len() / 2],
        v[v.len() * 95 / 100],
        v[v.len() - 1]
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tracks: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(64);
    let seconds: f32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(180.0);
    let dir = std::env::temp_dir().join(format!("stemdeck-frame-bench-{tracks}-{seconds}"));
    std::fs::create_dir_all(&dir).ok();
    // SAFETY: single-threaded at this point.
    unsafe {
        std::env::set_var("STEMDECK_CONFIG_DIR", dir.join("config"));
        std::env::set_var("STEMDECK_CACHE_DIR", dir.join("cache"));
    }
    let names = [
        "Kick", "Snare", "Hat", "Tom", "Bass", "Sub", "Lead Vox", "BGV", "Gtr", "Keys", "Pad",
        "Strings", "Synth", "Piano", "Organ", "FX",
    ];
    let mut s = Session::new(
        48_000,
        Song {
            title: "Frame bench".into(),
            ..Song::default()
        },
    );
    let frames = (seconds * 48_000.0) as usize;
    for i in 0..tracks {
        let name = format!("{} {}", names[i % names.len()], i / names.len() + 1);
        let path = dir.join(format!("{i:02} {name}.wav"));
        if !path.exists() {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 48_000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::create(&path, spec).expect("write wav");
            let f = 50.0 + 37.0 * i as f32;
            for n in 0..frames {
                let env = 0.5 + 0.5 * (n as f32 * 0.0003 * (1.0 + i as f32 * 0.1)).sin();
                let v = (n as f32 * f * std::f32::consts::TAU / 48_000.0).sin() * 0.2 * env;
                w.write_sample((v * 32767.0) as i16).expect("write sample");
            }
            w.finalize().expect("finalize wav");
        }
        s.tracks.push(Track::new(TrackId(i as u32 + 1), name, path));
    }
    stemdeck_session::grouping::auto_group(&mut s);
    let file = dir.join("bench.stemdeck.json");
    s.save(&file).expect("save session");

    let mut app = StemdeckApp::new(AppOptions {
        audio: false,
        startup: Startup::Open(vec![file]),
        demo: None,
        open_requests: None,
    });
    // Drive the engine's processor in real time from another thread, like a device.
    let mut processor = app
        .engine
        .as_mut()
        .and_then(|e| e.take_processor())
        .expect("processor");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let device = std::thread::spawn(move || {
        let mut buf = vec![0.0f32; 512 * 2];
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            processor.process(&mut buf, 2);
            std::thread::sleep(Duration::from_micros(10_667));
        }
    });
    app.toggle_play();

    let ctx = egui::Context::default();
    let input = |t: f64| egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        time: Some(t),
        ..Default::default()
    };
    // Warm up and wait for every waveform to be computed (and cached).
    let start = Instant::now();
    loop {
        let out = ctx.run_ui(input(start.elapsed().as_secs_f64()), |ui| app.ui(ui));
        ctx.tessellate(out.shapes, out.pixels_per_point);
        if app.waveforms_ready() || start.elapsed() > Duration::from_secs(300) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let ready = start.elapsed();
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..300 {
        let (t0, c0) = (Instant::now(), thread_cpu_ms());
        let out = ctx.run_ui(input(start.elapsed().as_secs_f64()), |ui| app.ui(ui));
        let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
        std::hint::black_box(prims);
        cpu.push(thread_cpu_ms() - c0);
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(4));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    device.join().ok();
    let playing = app
        .engine
        .as_ref()
        .map(|e| e.feedback().position())
        .unwrap_or(0);
    println!(
        "tracks {tracks}, song {seconds} s, waveforms ready after {:.2} s, playhead at {:.1} s",
        ready.as_secs_f64(),
        playing as f64 / 48_000.0
    );
    summary("CPU time (this thread)", cpu);
    summary("wall time", times);
}
