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
        if closed_stdout(info) {
            // `stemdeck info … | head`: the reader has gone, as for any Unix tool that
            // is killed by SIGPIPE (Rust ignores the signal, so println! panics instead).
            std::process::exit(141);
        }
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

/// Whether a panic is println!'s on a closed pipe.
fn closed_stdout(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    message.starts_with("failed printing to stdout") && message.contains("Broken pipe")
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
