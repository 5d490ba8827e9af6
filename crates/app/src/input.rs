//! What the user points a command at: a session file, a folder, or audio files.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use stemdeck_audio::AudioError;
use stemdeck_audio::decode::{FileInfo, is_audio_path};
use stemdeck_audio::import::{import_files, import_folder, probe_session};
use stemdeck_session::Session;

/// A session ready to use, with what every track's file is.
pub struct Loaded {
    pub session: Session,
    /// The folder the session lives in: the folder given or the session file's folder.
    pub base_dir: PathBuf,
    /// Per track (same order as `session.tracks`).
    pub infos: Vec<Option<FileInfo>>,
    /// Files that could not be read; the rest of the session still loads.
    pub problems: Vec<AudioError>,
}

/// Load one path: a `.json` session, a folder of audio files, or one audio file.
pub fn load(path: &Path) -> anyhow::Result<Loaded> {
    load_many(std::slice::from_ref(&path.to_path_buf()))
}

/// Load a session file, a folder, or a list of audio files.
pub fn load_many(paths: &[PathBuf]) -> anyhow::Result<Loaded> {
    let [first, ..] = paths else {
        bail!("no input given")
    };
    if !first.exists() {
        bail!("{}: no such file or folder", first.display());
    }
    if paths.len() == 1 && first.is_dir() {
        let import = import_folder(first)?;
        return Ok(Loaded {
            session: import.session,
            base_dir: first.clone(),
            infos: import.infos,
            problems: import.problems,
        });
    }
    if paths.len() == 1 && !is_audio_path(first) {
        let session = Session::load(first)?;
        let mut infos = Vec::new();
        let mut problems = Vec::new();
        for r in probe_session(&session) {
            match r {
                Ok(i) => infos.push(Some(i)),
                Err(e) => {
                    infos.push(None);
                    problems.push(e);
                }
            }
        }
        let base_dir = first
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        return Ok(Loaded {
            session,
            base_dir,
            infos,
            problems,
        });
    }
    for p in paths {
        if p.is_dir() {
            bail!(
                "{}: give either one folder or a list of audio files",
                p.display()
            );
        }
    }
    let base_dir = std::path::absolute(first)
        .with_context(|| format!("{}: cannot resolve path", first.display()))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let title = base_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let import = import_files(paths, &title)?;
    Ok(Loaded {
        session: import.session,
        base_dir,
        infos: import.infos,
        problems: import.problems,
    })
}
