use std::path::{Path, PathBuf};

use anyhow::Context as _;
use stemdeck_session::{Session, UNASSIGNED_NOTE, grouping};

use crate::input::load_many;

pub fn run(inputs: &[PathBuf], output: Option<&Path>) -> anyhow::Result<()> {
    let loaded = load_many(inputs)?;
    super::print_problems(&loaded);
    let s = &loaded.session;
    println!(
        "{} — {} tracks at {} Hz",
        if s.song.title.is_empty() {
            "Untitled"
        } else {
            &s.song.title
        },
        s.tracks.len(),
        s.sample_rate
    );
    print_grouping(s);
    match output {
        Some(path) => {
            s.save(path)
                .with_context(|| format!("{}: cannot save the session", path.display()))?;
            println!("Saved {}", path.display());
        }
        None => println!("(not saved: add -o SESSION.json to keep this grouping)"),
    }
    Ok(())
}

/// Each stem with its tracks and the rule that put each one there.
pub fn print_grouping(s: &Session) {
    let line = |t: &stemdeck_session::Track| {
        println!(
            "    {:<32} {:<26} [{}]",
            t.name,
            super::format_position(t, s.sample_rate),
            grouping::explain(&t.name).rule
        );
    };
    for stem in &s.stems {
        println!("{} ({} tracks)", stem.name, stem.tracks.len());
        for t in stem.tracks.iter().filter_map(|id| s.track(*id)) {
            line(t);
        }
    }
    let unassigned: Vec<_> = s.unassigned_tracks().collect();
    if !unassigned.is_empty() {
        println!(
            "Unassigned ({} tracks, {UNASSIGNED_NOTE})",
            unassigned.len()
        );
        for t in unassigned {
            line(t);
        }
    }
}
