//! What a stem package looks like by its file names: whether a folder is one, which names
//! say a stem and which say master or mix. Names only; nothing is decoded here.

use std::path::Path;

use stemdeck_audio::import::{scan_folder, track_name};
use stemdeck_session::grouping;

/// Whether a folder looks like a stem package: at least two audio files, and either a
/// master among them or names that mostly point to stems ("Drums", "Bass", "Vox"), with
/// no session file beside them. Cheap: names only, nothing is decoded.
pub fn looks_like_stem_package(dir: &Path) -> bool {
    let Ok(files) = scan_folder(dir) else {
        return false;
    };
    if files.len() < 2 {
        return false;
    }
    let has_session = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".stemdeck.json"))
        })
        .unwrap_or(false);
    if has_session {
        return false;
    }
    let names: Vec<String> = files.iter().map(|p| track_name(p)).collect();
    let masters = names.iter().filter(|n| master_rank(n).is_some()).count();
    // A stem package's files are named after stems, not instruments: "Drums", not "Kick".
    let stem_named = names.iter().filter(|n| names_a_stem(n)).count();
    let stems = names.len() - masters;
    stems >= 2 && (masters > 0 || stem_named * 2 > stems) && stem_named * 2 >= stems
}

/// Whether a name says a whole stem ("Drums", "Vocals", "Bass", "Instruments", "FX",
/// or the stem names people use: "Keys", "Synths", "Guitars", "Music").
pub(crate) fn names_a_stem(name: &str) -> bool {
    const STEM_WORDS: &[&str] = &[
        "drums",
        "drum",
        "percussion",
        "perc",
        "bass",
        "vocals",
        "vocal",
        "vox",
        "voice",
        "instruments",
        "instrument",
        "inst",
        "music",
        "keys",
        "synths",
        "synth",
        "guitars",
        "guitar",
        "fx",
        "sfx",
        "effects",
        "strings",
        "brass",
        "pads",
        "other",
        "melody",
        "chords",
        "backing",
        "bvs",
        "bgvs",
        "lead",
    ];
    let lower = name.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| STEM_WORDS.contains(&w))
}

/// How strongly a name says "master": 0 for master, 1 for a mix, `None` for neither
/// (by the auto-grouping rules: a name in no stem, decided by one of these keywords).
pub(crate) fn master_rank(name: &str) -> Option<u8> {
    let m = grouping::explain(name);
    if m.role.is_some() {
        return None;
    }
    match m.rule {
        "master" | "mstr" | "premaster" => Some(0),
        "mix" | "mixdown" | "print" | "bounce" => Some(1),
        _ => None,
    }
}
