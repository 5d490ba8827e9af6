use std::path::Path;

use stemdeck_audio::import::session_len;
use stemdeck_session::UNASSIGNED_NOTE;
use stemdeck_session::units::format_time;

use crate::input::load;

pub fn run(input: &Path) -> anyhow::Result<()> {
    let loaded = load(input)?;
    super::print_problems(&loaded);
    let s = &loaded.session;
    let len = session_len(s, &loaded.infos);
    println!(
        "{} — {} Hz, {} ({len} frames), {} tracks, {} stems",
        if s.song.title.is_empty() {
            "Untitled"
        } else {
            &s.song.title
        },
        s.sample_rate,
        format_time(len, s.sample_rate),
        s.tracks.len(),
        s.stems.len()
    );
    if !s.song.artist.is_empty() || s.song.bpm.is_some() || !s.song.key.is_empty() {
        let bpm = s.song.bpm.map(|b| format!("{b} BPM")).unwrap_or_default();
        println!("{} {} {}", s.song.artist, bpm, s.song.key);
    }
    println!();
    println!(
        "  {:>3}  {:<28} {:<20} {:<26} {:>6} {:>3} {:>11}  Stem",
        "#", "Track", "Format", "Position", "Rate", "Ch", "Length"
    );
    for (i, (t, info)) in s.tracks.iter().zip(&loaded.infos).enumerate() {
        let stem = s
            .stem_of(t.id)
            .map_or("(unassigned)", |st| st.name.as_str());
        let position = super::format_position(t, s.sample_rate);
        match info {
            Some(f) => {
                let bits = f
                    .bits_per_sample
                    .map(|b| format!(" {b}-bit"))
                    .unwrap_or_default();
                println!(
                    "  {:>3}  {:<28} {:<20} {position:<26} {:>6} {:>3} {:>11}  {stem}",
                    i + 1,
                    t.name,
                    format!("{}/{}{bits}", f.container, f.codec),
                    f.sample_rate,
                    f.channels,
                    format_time(f.frames, f.sample_rate),
                )
            }
            None => println!(
                "  {:>3}  {:<28} {:<20} {position:<26} {:>6} {:>3} {:>11}  {stem}",
                i + 1,
                t.name,
                "(unreadable)",
                "-",
                "-",
                "-"
            ),
        }
    }
    println!();
    for stem in &s.stems {
        let names: Vec<&str> = stem
            .tracks
            .iter()
            .filter_map(|id| s.track(*id))
            .map(|t| t.name.as_str())
            .collect();
        let flags = [(stem.mute, " [muted]"), (stem.solo, " [solo]")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| *f)
            .collect::<String>();
        println!(
            "  {:<14} {} {:+.1} dB{flags}: {}",
            stem.name,
            stem.color,
            stem.gain_db,
            if names.is_empty() {
                "(empty)".into()
            } else {
                names.join(", ")
            }
        );
    }
    let unassigned: Vec<&str> = s.unassigned_tracks().map(|t| t.name.as_str()).collect();
    if !unassigned.is_empty() {
        println!(
            "  Unassigned: {} ({UNASSIGNED_NOTE})",
            unassigned.join(", ")
        );
    }
    Ok(())
}
