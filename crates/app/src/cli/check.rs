//! `stemdeck check FOLDER [--master FILE] [--json] [--fix OUT]`: is a stem package that
//! was received usable, and a repaired copy of it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use stemdeck_check::{CheckOptions, Report, check, fix};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The folder of stems (with the master mix, if it came with one).
    #[arg(value_name = "FOLDER")]
    folder: PathBuf,
    /// The master mix the stems should add up to [default: the file whose name says
    /// master or mix, or the one the song information sheet names].
    #[arg(long, value_name = "FILE")]
    master: Option<PathBuf>,
    /// Print the report as JSON (the same facts).
    #[arg(long)]
    json: bool,
    /// Write a repaired copy into this new folder: every stem moved to its found
    /// alignment, padded to one length, one rate and format, with a song information
    /// sheet; the copy is checked again. The package itself is never written to.
    #[arg(long, value_name = "OUT")]
    fix: Option<PathBuf>,
}

pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let opts = CheckOptions {
        master: args.master.clone(),
    };
    eprintln!("Checking {} …", args.folder.display());
    let report = check(&args.folder, &opts)?;
    if let Some(out) = &args.fix {
        return repair(&report, out, args.json);
    }
    if args.json {
        print!("{}", report.to_json());
    } else {
        print!("{}", report.text());
    }
    verdict(&report)
}

/// Exit non-zero, naming every file that makes the package unusable.
fn verdict(report: &Report) -> anyhow::Result<()> {
    if report.usable {
        return Ok(());
    }
    let mut named: Vec<String> = Vec::new();
    for file in report.failing_files() {
        let what: Vec<&str> = report
            .problems_of(file)
            .filter(|p| p.fatal)
            .map(|p| p.message.as_str())
            .collect();
        named.push(format!("{file}: {}", what.join(", ")));
    }
    anyhow::bail!(
        "{}: the stem package is not usable: {}",
        report.folder.display(),
        named.join("; ")
    )
}

fn repair(report: &Report, out: &std::path::Path, json: bool) -> anyhow::Result<()> {
    if !json {
        print!("{}", report.text());
        println!();
        println!("Repairing into {} …", out.display());
    }
    let fixed = fix(report, out).with_context(|| format!("{}: repair failed", out.display()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "check": report,
                "fix": fixed,
            }))?
        );
    } else {
        println!(
            "Wrote {} files ({}, {} Hz, {}) and {}:",
            fixed.files.len(),
            fixed.format,
            fixed.sample_rate,
            stemdeck_session::units::format_time(fixed.frames, fixed.sample_rate),
            fixed.sheet_files.join(", ")
        );
        for f in &fixed.files {
            let did = if f.actions.is_empty() {
                "converted only".to_owned()
            } else {
                f.actions.join("; ")
            };
            println!("  {}  <-  {}: {did}", f.file, f.from);
        }
        println!();
        println!("The repaired copy, checked again:");
        print!("{}", fixed.recheck.text());
    }
    verdict(&fixed.recheck)
}
