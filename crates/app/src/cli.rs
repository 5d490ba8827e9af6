//! Command-line interface (clap). Each command prints for people on stdout, progress on
//! stderr, and fails with one line naming the file and the problem.

mod check;
mod export;
mod group;
mod info;
mod play;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use stemdeck_session::units::{amplitude_to_db, format_time};

#[derive(Parser, Debug)]
#[command(
    name = "stemdeck",
    version,
    about = "Turn a multitrack session into stems."
)]
pub struct Cli {
    /// With no command, the desktop app opens (the last session, or the demo).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the desktop app on the bundled demo session.
    Demo,
    /// Open the desktop app on a session file, a folder, or audio files.
    Open {
        #[arg(value_name = "SESSION.json|FOLDER|FILES")]
        inputs: Vec<PathBuf>,
    },
    /// Build a session from a folder (or a list of files), auto-grouped into stems, and
    /// print the grouping.
    Group {
        /// A folder of audio files, or audio files.
        #[arg(required = true, value_name = "FOLDER|FILES")]
        inputs: Vec<PathBuf>,
        /// Save the session to this file.
        #[arg(short = 'o', long = "output", value_name = "SESSION.json")]
        output: Option<PathBuf>,
    },
    /// Render every stem to a stereo file, all the same length from sample 0.
    Export(export::ExportArgs),
    /// Play the live mix through the output device, with stems muted or soloed.
    Play(play::PlayArgs),
    /// List the audio output devices.
    Devices,
    /// Check a stem package you received (formats, alignment, null test, clipping,
    /// silence, polarity, names, song information sheet); --fix OUT writes a repaired copy.
    Check(check::CheckArgs),
    /// Show the tracks (format, rate, channels, length) and the stems.
    Info {
        #[arg(value_name = "SESSION.json|FOLDER")]
        input: PathBuf,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        return crate::gui::run(Vec::new());
    };
    match command {
        Command::Demo => {
            let demo = crate::gui::install_demo().ok_or_else(|| {
                anyhow::anyhow!("cannot install the demo session (no writable data folder)")
            })?;
            crate::gui::run(vec![demo])
        }
        Command::Open { inputs } => {
            crate::gui::check_paths(&inputs)?;
            crate::gui::run(inputs)
        }
        Command::Group { inputs, output } => group::run(&inputs, output.as_deref()),
        Command::Export(args) => export::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Info { input } => info::run(&input),
        Command::Play(args) => play::run(&args),
        Command::Devices => play::devices(),
    }
}

/// Where a track starts on the timeline: "at 0:01.500 (72000)" (time and frame at the
/// session rate), with the number of clips when it has several.
pub fn format_position(track: &stemdeck_session::Track, rate: u32) -> String {
    let at = track.position();
    let clips = match track.clips.len() {
        0 | 1 => String::new(),
        n => format!(", {n} clips"),
    };
    format!("at {} ({at}{clips})", format_time(at, rate))
}

/// A linear peak as dBFS text.
pub fn format_dbfs(peak: f32) -> String {
    if peak <= 0.0 {
        "-inf dBFS".into()
    } else {
        format!("{:+.1} dBFS", amplitude_to_db(peak))
    }
}

/// Print the files that could not be read (the rest of the session still loads) and
/// what is wrong with files that still load (cut short, a crashed recorder's header).
fn print_problems(loaded: &crate::input::Loaded) {
    for p in &loaded.problems {
        eprintln!("stemdeck: warning: {p}");
    }
    for w in loaded.warnings() {
        eprintln!("stemdeck: warning: {w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(format_dbfs(0.5), "-6.0 dBFS");
        assert_eq!(format_dbfs(0.0), "-inf dBFS");
    }
}
