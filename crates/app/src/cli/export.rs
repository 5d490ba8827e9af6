use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use stemdeck_export::naming::stems_folder_name;
use stemdeck_export::sheet::{format_level, level_db};
use stemdeck_export::{
    DeliveryOptions, ExportOptions, Progress, SAMPLE_RATES, SampleFormat, TrimMode,
    export_delivery, planned_files, settings_for,
};
use stemdeck_session::{ExportSettings, UNASSIGNED_NOTE};

use super::format_time;
use crate::input::load;

/// Every option defaults to the export settings saved in the session (see
/// docs/session-format.md); a flag overrides them for this run (and with
/// --save-settings, in the session too).
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A session file or a folder of audio files.
    #[arg(value_name = "SESSION.json|FOLDER")]
    input: PathBuf,
    /// The folder to write the files into [default: the session's, else "<title> - Stems"
    /// beside the session].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Sample format of the files [default: the session's, else wav24].
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Sample rate of the files: 44100, 48000, 88200, 96000, or "session" [default: the
    /// session's setting, else the session rate].
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    sample_rate: Option<RateArg>,
    /// Also write the master mix (the sum of the stems).
    #[arg(long, overrides_with = "no_master")]
    master: bool,
    /// Do not write the master (when the session's settings say to).
    #[arg(long, overrides_with = "master")]
    no_master: bool,
    /// Also write the mix variants as full mixes: Instrumental and A cappella (when a
    /// stem is the vocals) and every saved variant ("01 <title> - Instrumental", …).
    #[arg(long, overrides_with = "no_variants")]
    variants: bool,
    #[arg(long, overrides_with = "variants", hide = true)]
    no_variants: bool,
    /// Seconds of silence added to the end of every file.
    #[arg(long, value_name = "SECONDS")]
    tail: Option<f64>,
    /// File-name template; tokens: {index} {title} {artist} {stem} {bpm} {key}.
    #[arg(long, value_name = "TEMPLATE")]
    template: Option<String>,
    /// When an integer file would clip: "auto" applies one common gain to every file
    /// (highest sample peak to -0.1 dBFS; the stems still sum to the master), "none"
    /// stops without writing anything.
    #[arg(long, value_enum)]
    trim: Option<TrimArg>,
    /// Do not write the song information sheet (PDF and JSON).
    #[arg(long, overrides_with = "sheet")]
    no_sheet: bool,
    #[arg(long, overrides_with = "no_sheet", hide = true)]
    sheet: bool,
    /// Save these export settings in the session file (atomically).
    #[arg(long)]
    save_settings: bool,
    /// Only list the files the export would write.
    #[arg(long)]
    dry_run: bool,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Wav16,
    Wav24,
    Wav32f,
    Flac16,
    Flac24,
}

impl From<FormatArg> for SampleFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Wav16 => SampleFormat::Wav16,
            FormatArg::Wav24 => SampleFormat::Wav24,
            FormatArg::Wav32f => SampleFormat::Wav32f,
            FormatArg::Flac16 => SampleFormat::Flac16,
            FormatArg::Flac24 => SampleFormat::Flac24,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TrimArg {
    None,
    Auto,
}

#[derive(Clone, Copy, Debug)]
enum RateArg {
    Session,
    Hz(u32),
}

fn parse_rate(s: &str) -> Result<RateArg, String> {
    if s.eq_ignore_ascii_case("session") {
        return Ok(RateArg::Session);
    }
    let list = || {
        SAMPLE_RATES
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match s.parse::<u32>() {
        Ok(hz) if SAMPLE_RATES.contains(&hz) => Ok(RateArg::Hz(hz)),
        _ => Err(format!("expected one of {}, or \"session\"", list())),
    }
}

/// The session's saved settings with this run's flags on top.
fn effective_settings(saved: &ExportSettings, args: &ExportArgs) -> ExportSettings {
    let mut s = saved.clone();
    if let Some(out) = &args.out {
        s.out_dir = Some(std::path::absolute(out).unwrap_or_else(|_| out.clone()));
    }
    if let Some(f) = args.format {
        s.format = SampleFormat::from(f).id().to_owned();
    }
    match args.sample_rate {
        Some(RateArg::Session) => s.sample_rate = None,
        Some(RateArg::Hz(hz)) => s.sample_rate = Some(hz),
        None => {}
    }
    if args.master {
        s.master = true;
    }
    if args.no_master {
        s.master = false;
    }
    if args.variants {
        s.variants = true;
    }
    if args.no_variants {
        s.variants = false;
    }
    if let Some(t) = args.tail {
        s.tail_seconds = t;
    }
    if let Some(t) = &args.template {
        s.template = t.clone();
    }
    match args.trim {
        Some(TrimArg::Auto) => s.trim = TrimMode::Auto,
        Some(TrimArg::None) => s.trim = TrimMode::None,
        None => {}
    }
    if args.no_sheet {
        s.sheet = false;
    }
    if args.sheet {
        s.sheet = true;
    }
    s
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let loaded = load(&args.input)?;
    let mut session = loaded.session.clone();
    // A track of a stem that cannot be read would make the stems wrong: stop, naming the
    // session file, the track and the problem. A folder's unreadable files are not tracks
    // and a track in no stem is not exported: those are warnings.
    if let Some(first) = loaded.problems_in_stems().first() {
        anyhow::bail!(
            "{first} (the stems would miss it: relink the file or take the track out of its stem)"
        );
    }
    super::print_problems(&loaded);
    let where_from = loaded
        .session_file
        .clone()
        .unwrap_or_else(|| args.input.clone());
    let settings = effective_settings(&session.export, args);
    if let Err(message) = settings.check() {
        anyhow::bail!("{}: {message}", where_from.display());
    }
    let default_dir = loaded.base_dir.join(stems_folder_name(&session.song));
    let mut opts = ExportOptions::from_settings(&settings, default_dir)
        .with_context(|| format!("{}: the export settings", where_from.display()))?;
    opts.force = args.force;
    let delivery = DeliveryOptions::from_settings(&settings);
    let planned = planned_files(&session, &opts, &delivery)
        .with_context(|| format!("export of {} failed", args.input.display()))?;

    if args.save_settings {
        let Some(file) = &loaded.session_file else {
            anyhow::bail!(
                "{}: --save-settings needs a session file (this is a folder; save one with `stemdeck group -o`)",
                args.input.display()
            );
        };
        session.export = settings_for(&opts, &delivery, settings.out_dir.clone());
        session.save(file)?;
        println!("Saved the export settings in {}", file.display());
    }
    if args.dry_run {
        println!("Would write to {}:", opts.out_dir.display());
        for f in &planned {
            let exists = if f.path.exists() { "  (exists)" } else { "" };
            println!("  {}{exists}", file_name(&f.path));
        }
        return Ok(());
    }
    for name in session.unassigned_tracks().map(|t| &t.name) {
        eprintln!("stemdeck: note: \"{name}\" is {UNASSIGNED_NOTE}");
    }

    let cancel = Arc::new(AtomicBool::new(false));
    {
        let cancel = Arc::clone(&cancel);
        // Ctrl-C stops at the next block and removes the partial files.
        ctrlc::set_handler(move || cancel.store(true, Ordering::Relaxed)).ok();
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} {msg:9} [{bar:40}] {percent:>3}%  {elapsed} (ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let on_progress = |p: Progress| {
        bar.set_message(p.stage.describe());
        bar.set_length(p.total_frames);
        bar.set_position(p.done_frames);
    };
    let result = export_delivery(&session, &opts, &delivery, &on_progress, &cancel);
    bar.finish_and_clear();
    let report = result.with_context(|| format!("export of {} failed", args.input.display()))?;

    let secs = report.seconds();
    let took = report.elapsed.as_secs_f64();
    let rate = if report.sample_rate == report.session_rate {
        format!("{} Hz", report.sample_rate)
    } else {
        format!(
            "{} Hz, converted from {} Hz",
            report.sample_rate, report.session_rate
        )
    };
    println!(
        "Exported {} files ({}, {rate}, {}) to {}",
        report.files.len(),
        report.format.describe(),
        format_time(report.frames, report.sample_rate),
        report.dir.display()
    );
    let width = report
        .files
        .iter()
        .map(|f| file_name(&f.path).chars().count())
        .max()
        .unwrap_or(0);
    for f in &report.files {
        let clip = if f.clipped > 0 {
            format!("  CLIPPED {} samples", f.clipped)
        } else {
            String::new()
        };
        let level =
            |linear: f64, unit: &str| format_level(level_db(linear), unit, &format!("-inf {unit}"));
        let peak = level(f64::from(f.peak), "dBFS");
        let true_peak = level(f.true_peak, "dBTP");
        let lufs = format_level(f.loudness, "LUFS", "silent");
        println!(
            "  {:<width$}  peak {:>10}  true peak {:>10}  {:>10}{clip}",
            file_name(&f.path),
            peak,
            true_peak,
            lufs
        );
    }
    for name in &report.empty_stems {
        println!("  (stem \"{name}\" has no tracks: not written)");
    }
    println!("Headroom: {}", report.trim.message);
    if let Some(null) = &report.null_test {
        println!("Null test: {}", null.message);
    }
    if !report.sheet_files.is_empty() {
        let names: Vec<String> = report.sheet_files.iter().map(|p| file_name(p)).collect();
        println!("Song information: {}", names.join(", "));
    }
    println!(
        "{} frames each, all starting at sample 0{}. Took {:.2} s ({:.1}x realtime).",
        report.frames,
        if report.tail_frames > 0 {
            format!(
                " (the last {} silence)",
                format_time(report.tail_frames, report.sample_rate)
            )
        } else {
            String::new()
        },
        took,
        if took > 0.0 { secs / took } else { 0.0 }
    );
    if let Some(null) = &report.null_test
        && !null.passed
    {
        anyhow::bail!("{}: {}", report.dir.display(), null.message);
    }
    Ok(())
}
