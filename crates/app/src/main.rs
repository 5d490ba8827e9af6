//! The `stemdeck` binary: the desktop app (no arguments, or `open`) and the command
//! line (group, info, export, play, devices).

mod cli;
mod gui;
mod input;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // symphonia can panic on damaged files; Stemdeck catches those panics and reports the
    // file as damaged in one line. Rust's default hook would print the panic as well.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !stemdeck_audio::decode::panic_is_guarded() {
            default_hook(info);
        }
    }));
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One clear line: what failed and why, naming the file. No backtrace.
            eprintln!("stemdeck: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without repeating a cause the message
/// already includes.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}
