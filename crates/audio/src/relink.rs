//! Finding moved files again: for each track whose file is missing, a file in a folder
//! the user points at (and its subfolders) with the same name, or with the same name
//! before the extension and another audio extension (a session converted to FLAC).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::decode::is_audio_path;

/// How deep below the chosen folder files are looked for.
const MAX_DEPTH: usize = 4;
/// Stop listing after this many entries, so a wrong pick (a whole disk) stays quick.
const MAX_ENTRIES: usize = 50_000;

fn lower_name(path: &Path) -> Option<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_lowercase)
}

fn lower_stem(path: &Path) -> Option<String> {
    path.file_stem()
        .and_then(|n| n.to_str())
        .map(str::to_lowercase)
}

/// Every audio file under `folder`, breadth first, nearest first; symlinked folders are
/// not followed (no loops), hidden entries are skipped.
fn audio_files_under(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut level = vec![folder.to_owned()];
    let mut seen = 0usize;
    for _ in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut paths: Vec<(PathBuf, bool)> = entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
                .map(|e| {
                    let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                    (e.path(), is_dir)
                })
                .collect();
            paths.sort();
            for (path, is_dir) in paths {
                seen += 1;
                if seen > MAX_ENTRIES {
                    return found;
                }
                if is_dir {
                    next.push(path);
                } else if is_audio_path(&path) {
                    found.push(path);
                }
            }
        }
        level = next;
    }
    found
}

/// For each of `missing` (the paths a session expects), the file under `folder` that
/// takes its place, or `None`. A file is used for one track at most.
pub fn find_relinks(missing: &[PathBuf], folder: &Path) -> Vec<Option<PathBuf>> {
    let files = audio_files_under(folder);
    let mut by_name: HashMap<String, Vec<&PathBuf>> = HashMap::new();
    let mut by_stem: HashMap<String, Vec<&PathBuf>> = HashMap::new();
    for f in &files {
        if let Some(n) = lower_name(f) {
            by_name.entry(n).or_default().push(f);
        }
        if let Some(s) = lower_stem(f) {
            by_stem.entry(s).or_default().push(f);
        }
    }
    let mut used: HashSet<PathBuf> = HashSet::new();
    let mut pick = |candidates: Option<&Vec<&PathBuf>>| -> Option<PathBuf> {
        let f = candidates?.iter().find(|c| !used.contains(**c))?;
        used.insert((*f).clone());
        Some((*f).clone())
    };
    // Exact names first for every track, so a same-stem match never steals a file
    // that another track has by its full name.
    let mut result: Vec<Option<PathBuf>> = missing
        .iter()
        .map(|m| pick(lower_name(m).as_ref().and_then(|n| by_name.get(n))))
        .collect();
    for (slot, m) in result.iter_mut().zip(missing) {
        if slot.is_none() {
            *slot = pick(lower_stem(m).as_ref().and_then(|s| by_stem.get(s)));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn files_are_found_by_name_then_by_stem_anywhere_below() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        for f in [
            "a/KICK.wav",
            "a/b/Snare.flac",
            "Bass.wav",
            "notes.txt",
            "a/b/Bass.wav",
        ] {
            std::fs::write(root.join(f), b"x").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        let missing = [
            PathBuf::from("/old/Kick.wav"),
            PathBuf::from("/old/Snare.wav"),
            PathBuf::from("/old/Bass.wav"),
            PathBuf::from("/old/Vox.wav"),
        ];
        let found = find_relinks(&missing, root);
        assert_eq!(
            found,
            vec![
                Some(root.join("a/KICK.wav")),
                Some(root.join("a/b/Snare.flac")),
                Some(root.join("Bass.wav")),
                None
            ]
        );
    }
}
