use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use stemdeck_export::naming::stems_folder_name;
use stemdeck_export::sheet::format_level;
use stemdeck_export::{
    DeliveryOptions, ExportJob, ExportOptions, ExportReport, JobStatus, OutputFormat, PlannedFile,
    SAMPLE_RATES, SettingsError, TrimMode, options_for, planned_files, settings_for,
};
use stemdeck_session::units::{format_time, level_db};
use stemdeck_session::{EffectsMode, ExportSettings, Session, UNASSIGNED_NOTE};

use crate::input::{Loaded, load};

/// Every option defaults to the export settings saved in the session (see
/// docs/session-format.md); a flag overrides them for this run (and with
/// --save-settings, in the session too).
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Session files or folders of audio files. Several are exported one after another
    /// (an album), each song's files in its own folder; a song that fails does not stop
    /// the others.
    #[arg(required = true, value_name = "SESSION|FOLDER")]
    inputs: Vec<PathBuf>,
    /// The folder to write the files into [default: the session's, else "<title> - Stems"
    /// beside the session]. With several inputs, each song's "<title> - Stems" folder
    /// inside it.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Sample format of the files [default: the session's, else wav24].
    #[arg(long, value_parser = format_parser())]
    format: Option<OutputFormat>,
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
    /// Stems with their effects (track and stem inserts, the master bus), without
    /// ("dry": no inserts, no master processing, the master fader only), or both in one
    /// pass (the dry files named "… (Dry)"). The master and the variants are always wet
    /// [default: the session's, else wet].
    #[arg(long, value_enum, value_name = "wet|dry|both")]
    effects: Option<EffectsArg>,
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

/// `--format`: the ids of the export crate's format table.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = OutputFormat> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(OutputFormat::ALL.map(OutputFormat::id))
        .try_map(|id| OutputFormat::from_id(&id).ok_or("not an output format"))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EffectsArg {
    Wet,
    Dry,
    Both,
}

impl From<EffectsArg> for EffectsMode {
    fn from(e: EffectsArg) -> Self {
        match e {
            EffectsArg::Wet => EffectsMode::Wet,
            EffectsArg::Dry => EffectsMode::Dry,
            EffectsArg::Both => EffectsMode::Both,
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

/// The session's saved settings with this run's flags on top; `out` is the folder this
/// song's files go into when the command line says so.
fn effective_settings(
    saved: &ExportSettings,
    args: &ExportArgs,
    out: Option<&Path>,
) -> ExportSettings {
    let mut s = saved.clone();
    if let Some(out) = out {
        s.out_dir = Some(std::path::absolute(out).unwrap_or_else(|_| out.to_owned()));
    }
    if let Some(f) = args.format {
        s.format = f.id().to_owned();
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
    if let Some(e) = args.effects {
        s.effects = e.into();
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

/// One song, loaded and checked, ready to export.
struct Song {
    session: Session,
    opts: ExportOptions,
    delivery: DeliveryOptions,
    planned: Vec<PlannedFile>,
}

/// The song's title, else the input's file name: how a batch names the song.
fn song_name(session: &Session, input: &Path) -> String {
    let title = session.song.title.trim();
    if title.is_empty() {
        file_name(input)
    } else {
        title.to_owned()
    }
}

/// Where --out puts a song's files.
#[derive(Clone, Copy)]
enum Out<'a> {
    /// No --out: the session's saved folder, else "<title> - Stems" beside it.
    Saved,
    /// One song: exactly this folder.
    Exactly(&'a Path),
    /// Several songs: each song's "<title> - Stems" folder inside this one.
    SongFolderIn(&'a Path),
}

/// Work out what the export of `input` (`loaded`) writes; saves the settings with
/// --save-settings.
fn prepare(args: &ExportArgs, input: &Path, loaded: &Loaded, out: Out<'_>) -> anyhow::Result<Song> {
    let out = match out {
        Out::Saved => None,
        Out::Exactly(dir) => Some(dir.to_owned()),
        Out::SongFolderIn(dir) => Some(dir.join(stems_folder_name(&loaded.session.song))),
    };
    let mut session = loaded.session.clone();
    // A track of a stem that cannot be read would make the stems wrong: stop, naming the
    // session file, the track and the problem. A folder's unreadable files are not tracks
    // and a track in no stem is not exported: those are warnings.
    if let Some(first) = loaded.problems_in_stems().first() {
        anyhow::bail!(
            "{first} (the stems would miss it: relink the file or take the track out of its stem)"
        );
    }
    super::print_problems(loaded);
    let where_from = loaded
        .session_file
        .clone()
        .unwrap_or_else(|| input.to_owned());
    let settings = effective_settings(&session.export, args, out.as_deref());
    let (opts, delivery) = match options_for(&session, &settings, &loaded.base_dir, args.force) {
        Ok(options) => options,
        Err(SettingsError::Invalid(message)) => {
            anyhow::bail!("{}: {message}", where_from.display())
        }
        Err(SettingsError::Format(e)) => {
            return Err(anyhow::Error::new(e)
                .context(format!("{}: the export settings", where_from.display())));
        }
    };
    let planned = planned_files(&session, &opts, &delivery)
        .with_context(|| format!("export of {} failed", input.display()))?;

    if args.save_settings {
        let Some(file) = &loaded.session_file else {
            anyhow::bail!(
                "{}: --save-settings needs a session file (this is a folder; save one with `stemdeck group -o`)",
                input.display()
            );
        };
        session.export = settings_for(&opts, &delivery, settings.out_dir.clone());
        session.save(file)?;
        println!("Saved the export settings in {}", file.display());
    }
    Ok(Song {
        session,
        opts,
        delivery,
        planned,
    })
}

fn print_dry_run(song: &Song) {
    println!("Would write to {}:", song.opts.out_dir.display());
    for f in &song.planned {
        let exists = if f.path.exists() { "  (exists)" } else { "" };
        println!("  {}{exists}", file_name(&f.path));
    }
}

fn print_unassigned(song: &Song) {
    for name in song.session.unassigned_tracks().map(|t| &t.name) {
        eprintln!("stemdeck: note: \"{name}\" is {UNASSIGNED_NOTE}");
    }
}

/// Ctrl-C stops at the next block and removes the partial files.
fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).ok();
    cancel
}

/// How often the progress bar follows a running export (indicatif draws at 20 Hz).
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Export `song` (read from `input`) on its job's thread and wait for the report,
/// showing the progress with `show` (from the first block on) and cancelling when
/// `cancel` is set (Ctrl-C).
fn run_job(
    song: Song,
    input: &Path,
    cancel: &AtomicBool,
    show: impl Fn(&JobStatus),
) -> anyhow::Result<ExportReport> {
    let failed = || format!("export of {} failed", input.display());
    let mut job = ExportJob::start(song.session, song.opts, song.delivery).with_context(failed)?;
    loop {
        if let Some(result) = job.wait_timeout(PROGRESS_EVERY) {
            return result.with_context(failed);
        }
        if cancel.load(Ordering::Relaxed) {
            job.cancel();
        }
        let status = job.status();
        if status.total_frames > 0 {
            show(&status);
        }
    }
}

fn progress_bar(template: &str) -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    match args.inputs.as_slice() {
        [input] => run_one(args, input),
        _ => run_batch(args),
    }
}

fn run_one(args: &ExportArgs, input: &Path) -> anyhow::Result<()> {
    let out = args.out.as_deref().map_or(Out::Saved, Out::Exactly);
    let song = prepare(args, input, &load(input)?, out)?;
    if args.dry_run {
        print_dry_run(&song);
        return Ok(());
    }
    print_unassigned(&song);

    let cancel = cancel_on_ctrl_c();
    let bar = progress_bar("{spinner} {msg:9} [{bar:40}] {percent:>3}%  {elapsed} (ETA {eta})");
    let on_progress = |p: &JobStatus| {
        bar.set_message(p.stage.describe());
        bar.set_length(p.total_frames);
        bar.set_position(p.done_frames);
    };
    let result = run_job(song, input, &cancel, on_progress);
    bar.finish_and_clear();
    let report = result?;
    print_report(&report);
    for null in [&report.null_test, &report.dry_null_test]
        .into_iter()
        .flatten()
    {
        if !null.passed {
            anyhow::bail!("{}: {}", report.dir.display(), null.message);
        }
    }
    Ok(())
}

/// The files written, with their levels, the trim, the null test and the time taken.
fn print_report(report: &ExportReport) {
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
    if let Some(null) = &report.dry_null_test {
        println!("Null test (dry): {}", null.message);
    }
    if !report.sheet_files.is_empty() {
        let names: Vec<String> = report.sheet_files.iter().map(|p| file_name(p)).collect();
        println!("Song information: {}", names.join(", "));
    }
    println!(
        "{} frames each, all starting at sample 0{}. Took {:.2} s ({:.1}x realtime).",
        report.frames,
        if report.tail_frames > 0 {
            // Effects ring on into the tail (a reverb is not cut before the file ends).
            let ringing = report.files.iter().any(|f| !f.processing.chains.is_empty());
            format!(
                " (the last {} {})",
                format_time(report.tail_frames, report.sample_rate),
                if ringing {
                    "the tail: silence after the effects' tails"
                } else {
                    "silence"
                }
            )
        } else {
            String::new()
        },
        took,
        if took > 0.0 { secs / took } else { 0.0 }
    );
}

/// How one song of a batch ended.
enum Outcome {
    Exported {
        files: usize,
        seconds: f64,
        dir: PathBuf,
        /// The null test's residual, e.g. "-132.5 dBFS".
        null_test: Option<String>,
    },
    /// Exported, but the stems do not add up to the master.
    NullTestFailed {
        dir: PathBuf,
        message: String,
    },
    Failed(String),
}

/// Several songs (an album), one after another: all are loaded and checked first, so
/// a song that cannot be read is named before the first export, and two songs that
/// would write the same file are caught; then one progress bar over every song,
/// each song's report as it finishes, and one summary at the end. A song that fails
/// does not stop the others; the exit code says that one failed.
fn run_batch(args: &ExportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let total = args.inputs.len();
    let mut songs: Vec<(String, Result<Song, String>)> = Vec::with_capacity(total);
    // Which song writes each file, to catch two songs writing the same one (the same
    // input twice, or two songs with the same title into one --out).
    let mut writers: HashMap<PathBuf, String> = HashMap::new();
    let out = args.out.as_deref().map_or(Out::Saved, Out::SongFolderIn);
    for input in &args.inputs {
        let prepared = match load(input) {
            Ok(loaded) => {
                let name = song_name(&loaded.session, input);
                (name, prepare(args, input, &loaded, out))
            }
            // Not even its title: the path names it.
            Err(e) => (input.display().to_string(), Err(e)),
        };
        let entry = match prepared {
            (name, Ok(song)) => {
                let key = |f: &PlannedFile| {
                    std::path::absolute(&f.path).unwrap_or_else(|_| f.path.clone())
                };
                let clash = song
                    .planned
                    .iter()
                    .find_map(|f| writers.get(&key(f)).map(|other| (f, other)));
                if let Some((file, other)) = clash {
                    let message = format!(
                        "{}: would write {} as \"{other}\" does (give the songs different titles, or export them separately)",
                        input.display(),
                        file.path.display()
                    );
                    (name, Err(message))
                } else {
                    for f in &song.planned {
                        writers.insert(key(f), name.clone());
                    }
                    (name, Ok(song))
                }
            }
            (name, Err(e)) => (name, Err(crate::one_line(&e))),
        };
        if let Err(message) = &entry.1 {
            eprintln!("stemdeck: error: {message}");
        }
        songs.push(entry);
    }

    if args.dry_run {
        let mut failed = Vec::new();
        for (i, (name, song)) in songs.iter().enumerate() {
            println!("Song {}/{total}: {name}", i + 1);
            match song {
                Ok(song) => print_dry_run(song),
                Err(message) => {
                    println!("  cannot be exported: {message}");
                    failed.push(name.clone());
                }
            }
        }
        return batch_result(&failed, total);
    }

    let cancel = cancel_on_ctrl_c();
    // One bar over the whole batch: each song is an equal share, filled as its passes go.
    const SHARE: u64 = 1_000_000;
    let bar = progress_bar("{spinner} {msg:22} [{bar:40}] {percent:>3}%  {elapsed} (ETA {eta})");
    bar.set_length(SHARE * total as u64);
    let mut outcomes: Vec<(String, Outcome)> = Vec::with_capacity(total);
    for (i, ((name, song), input)) in songs.into_iter().zip(&args.inputs).enumerate() {
        let base = SHARE * i as u64;
        bar.set_position(base);
        let outcome = match song {
            Err(message) => Outcome::Failed(message),
            Ok(_) if cancel.load(Ordering::Relaxed) => Outcome::Failed("cancelled (Ctrl-C)".into()),
            Ok(song) => {
                bar.suspend(|| {
                    println!("Song {}/{total}: {name} ({})", i + 1, input.display());
                    print_unassigned(&song);
                });
                let on_progress = |p: &JobStatus| {
                    bar.set_message(format!("{}/{total} {}", i + 1, p.stage.describe()));
                    let done = SHARE * p.done_frames.min(p.total_frames) / p.total_frames.max(1);
                    bar.set_position(base + done);
                };
                let result = run_job(song, input, &cancel, on_progress);
                match result {
                    Ok(report) => {
                        bar.suspend(|| print_report(&report));
                        let failed = [&report.null_test, &report.dry_null_test]
                            .into_iter()
                            .flatten()
                            .find(|n| !n.passed);
                        let level = |n: &stemdeck_export::NullTest| {
                            format_level(level_db(n.residual_peak), "dBFS", "bit-exact")
                        };
                        match failed {
                            Some(null) => Outcome::NullTestFailed {
                                dir: report.dir.clone(),
                                message: null.message.clone(),
                            },
                            None => Outcome::Exported {
                                files: report.files.len(),
                                seconds: report.elapsed.as_secs_f64(),
                                dir: report.dir.clone(),
                                // Both residuals when wet and dry stems were written.
                                null_test: report.null_test.as_ref().map(|n| {
                                    match &report.dry_null_test {
                                        Some(d) => format!("wet {}, dry {}", level(n), level(d)),
                                        None => level(n),
                                    }
                                }),
                            },
                        }
                    }
                    Err(e) => {
                        let message = crate::one_line(&e);
                        bar.suspend(|| eprintln!("stemdeck: error: {message}"));
                        Outcome::Failed(message)
                    }
                }
            }
        };
        outcomes.push((name, outcome));
    }
    bar.finish_and_clear();
    print_summary(&outcomes, started.elapsed().as_secs_f64());
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Exported { .. }))
        .map(|(name, _)| name.clone())
        .collect();
    batch_result(&failed, total)
}

fn print_summary(outcomes: &[(String, Outcome)], took: f64) {
    let exported = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Exported { .. }))
        .count();
    println!();
    println!(
        "Summary: {exported} of {} songs exported in {took:.2} s",
        outcomes.len()
    );
    let width = outcomes
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    for (name, outcome) in outcomes {
        match outcome {
            Outcome::Exported {
                files,
                seconds,
                dir,
                null_test,
            } => {
                let null = null_test
                    .as_ref()
                    .map_or("not run".to_owned(), |n| format!("passed ({n})"));
                println!(
                    "  ok      {name:<width$}  {files:>2} files  {seconds:>6.2} s  null test {null}  -> {}",
                    dir.display()
                );
            }
            Outcome::NullTestFailed { dir, message } => println!(
                "  FAILED  {name:<width$}  null test failed: {message} ({})",
                dir.display()
            ),
            Outcome::Failed(message) => println!("  FAILED  {name:<width$}  {message}"),
        }
    }
}

fn batch_result(failed: &[String], total: usize) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} of {total} songs failed: {}",
        failed.len(),
        failed.join(", ")
    )
}
