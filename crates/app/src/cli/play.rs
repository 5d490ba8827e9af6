use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use stemdeck_engine::{Engine, EngineEvent};
use stemdeck_session::Session;
use stemdeck_session::units::{amplitude_to_db, format_time};

use super::format_dbfs;
use crate::input::load;

#[derive(Args, Debug)]
pub struct PlayArgs {
    /// A session file or a folder of audio files.
    #[arg(value_name = "SESSION.json|FOLDER")]
    input: PathBuf,
    /// Start here (seconds from the top).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    start: f64,
    /// Play this many seconds, then stop [default: to the end].
    #[arg(long, value_name = "N")]
    seconds: Option<f64>,
    /// Mute a stem by name (repeatable): --mute Vocals gives the instrumental.
    #[arg(long = "mute", value_name = "STEM")]
    mute: Vec<String>,
    /// Solo a stem by name (repeatable): --solo Vocals gives the a cappella.
    #[arg(long = "solo", value_name = "STEM")]
    solo: Vec<String>,
    /// Output device name or id (see `stemdeck devices`) [default: the system default].
    #[arg(long, value_name = "NAME")]
    device: Option<String>,
}

/// Set mute/solo on the stems named (case-insensitively), or say which names exist.
fn apply_switches(session: &mut Session, names: &[String], solo: bool) -> anyhow::Result<()> {
    for name in names {
        let Some(stem) = session
            .stems
            .iter_mut()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
        else {
            let known: Vec<&str> = session.stems.iter().map(|s| s.name.as_str()).collect();
            bail!("no stem named \"{name}\" (stems: {})", known.join(", "));
        };
        if solo {
            stem.solo = true
        } else {
            stem.mute = true
        }
    }
    Ok(())
}

pub fn run(args: &PlayArgs) -> anyhow::Result<()> {
    let loaded = load(&args.input)?;
    super::print_problems(&loaded);
    let mut session = loaded.session;
    apply_switches(&mut session, &args.mute, false)?;
    apply_switches(&mut session, &args.solo, true)?;
    let rate = session.sample_rate;

    let mut engine = Engine::new(&session);
    if engine.is_empty() {
        bail!(
            "{}: nothing to play (no stem has a readable track)",
            args.input.display()
        );
    }
    report(&session, &engine.events());
    match engine.start_output(args.device.as_deref()) {
        Ok(()) => {}
        Err(e @ stemdeck_engine::EngineError::DeviceNotFound(_)) => return Err(e.into()),
        // No device yet: say so and keep looking; playback starts when one appears.
        Err(e) => {
            eprintln!("stemdeck: warning: {e}; waiting for an output device (Ctrl-C to stop)")
        }
    }

    let start = ((args.start.max(0.0) * f64::from(rate)) as u64).min(engine.len());
    let end = match args.seconds {
        Some(s) => (start + (s.max(0.0) * f64::from(rate)) as u64).min(engine.len()),
        None => engine.len(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed)).ok();
    }
    engine.seek(start);
    engine.play();
    let fb = Arc::clone(engine.feedback());
    let started = Instant::now();
    let mut err = std::io::stderr();
    // The live line only on a terminal; logs and pipes get the summary alone.
    let live = err.is_terminal();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        engine.poll();
        report(&session, &engine.events());
        let pos = fb.position();
        let (peak, _) = fb.master_meter().take();
        let bar_len =
            ((1.0 + amplitude_to_db(peak.max(1e-6)) / 60.0).clamp(0.0, 1.0) * 20.0) as usize;
        let state = if fb.device_ok() {
            ""
        } else {
            "  (no output device: waiting for one)"
        };
        if live {
            write!(
                err,
                "\r\u{25B6} {} / {}  master [{:<20}] {:>10}  load {:>3.0}%  xruns {}{state}   ",
                format_time(pos, rate),
                format_time(engine.len(), rate),
                "#".repeat(bar_len),
                format_dbfs(peak),
                fb.load() * 100.0,
                fb.xruns()
            )
            .ok();
            err.flush().ok();
        }
        let reached_end = pos >= end && started.elapsed() > Duration::from_millis(200);
        let ended = fb.device_ok() && fb.callbacks() > 10 && !fb.is_playing();
        if stop.load(Ordering::Relaxed) || reached_end || ended {
            break;
        }
    }
    engine.pause();
    std::thread::sleep(Duration::from_millis(60));
    if live {
        eprintln!();
    }
    println!(
        "Played {} from {} ({} callbacks, {} xruns, {} reader underruns{}).",
        format_time(fb.position().saturating_sub(start), rate),
        format_time(start, rate),
        fb.callbacks(),
        fb.xruns(),
        fb.starved(),
        match fb.device_errors() {
            0 => String::new(),
            n => format!(", {n} device errors reported by the audio backend"),
        }
    );
    Ok(())
}

fn report(session: &Session, events: &[EngineEvent]) {
    for e in events {
        match e {
            EngineEvent::TrackFailed { track, message } => {
                let name = session.tracks.get(*track).map_or("?", |t| t.name.as_str());
                eprintln!("\nstemdeck: warning: track \"{name}\" plays as silence: {message}");
            }
            EngineEvent::DeviceLost(msg) => eprintln!("\nstemdeck: warning: {msg}"),
            EngineEvent::DeviceRestored => eprintln!("\nstemdeck: output device is back"),
        }
    }
}

/// `stemdeck devices`.
pub fn devices() -> anyhow::Result<()> {
    for line in stemdeck_engine::list_devices()? {
        println!("{line}");
    }
    Ok(())
}
