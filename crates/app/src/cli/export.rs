use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use stemdeck_export::naming::{DEFAULT_TEMPLATE, stems_folder_name};
use stemdeck_export::{ExportOptions, Progress, SampleFormat, export};
use stemdeck_session::UNASSIGNED_NOTE;

use super::{format_dbfs, format_time};
use crate::input::load;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// A session file or a folder of audio files.
    #[arg(value_name = "SESSION.json|FOLDER")]
    input: PathBuf,
    /// The folder to write the stems into [default: "<title> - Stems" beside the session].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Sample format of the files.
    #[arg(long, value_enum, default_value_t = FormatArg::Wav24)]
    format: FormatArg,
    /// Also write the master mix (the sum of the stems).
    #[arg(long)]
    master: bool,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Wav16,
    Wav24,
    Wav32f,
}

impl From<FormatArg> for SampleFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Wav16 => SampleFormat::Wav16,
            FormatArg::Wav24 => SampleFormat::Wav24,
            FormatArg::Wav32f => SampleFormat::Wav32f,
        }
    }
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let loaded = load(&args.input)?;
    let s = &loaded.session;
    // A track that cannot be read would make the stems wrong: stop, naming the file.
    if let Some(first) = loaded.problems.first() {
        anyhow::bail!("{first}");
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| loaded.base_dir.join(stems_folder_name(&s.song)));
    let opts = ExportOptions {
        out_dir,
        format: args.format.into(),
        template: DEFAULT_TEMPLATE.to_owned(),
        include_master: args.master,
        force: args.force,
    };
    for name in s.unassigned_tracks().map(|t| &t.name) {
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
            "{spinner} exporting [{bar:40}] {percent:>3}%  {elapsed} (ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let on_progress = |p: Progress| {
        bar.set_length(p.total_frames);
        bar.set_position(p.done_frames);
    };
    let result = export(s, &opts, &on_progress, &cancel);
    bar.finish_and_clear();
    let report = result.with_context(|| format!("export of {} failed", args.input.display()))?;

    let secs = report.seconds();
    let took = report.elapsed.as_secs_f64();
    println!(
        "Exported {} files ({}, {} Hz, {}) to {}",
        report.files.len(),
        report.format.describe(),
        report.sample_rate,
        format_time(report.frames, report.sample_rate),
        report.dir.display()
    );
    for f in &report.files {
        let clip = if f.clipped > 0 {
            format!("  CLIPPED {} samples", f.clipped)
        } else {
            String::new()
        };
        let name = f
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("  {:<40} peak {:>11}{clip}", name, format_dbfs(f.peak));
    }
    for name in &report.empty_stems {
        println!("  (stem \"{name}\" has no tracks: not written)");
    }
    println!(
        "{} frames each, all starting at sample 0. Took {:.2} s ({:.1}x realtime).",
        report.frames,
        took,
        if took > 0.0 { secs / took } else { 0.0 }
    );
    Ok(())
}
