//! From files on disk to a session: scan a folder, read what every file is, pick the
//! session rate, name the tracks and auto-group them into stems.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use stemdeck_session::{Clip, Session, Song, Track, TrackId, grouping};

use crate::AudioError;
use crate::decode::{Decoder, FileInfo, is_audio_path};
use crate::resample::converted_len;
pub use crate::resample::majority_rate;

/// The result of importing: the session, what each track's file is (same order as
/// `session.tracks`, `None` where the file could not be read), and the files that were
/// passed over with the reason.
pub struct Import {
    pub session: Session,
    pub infos: Vec<Option<FileInfo>>,
    pub problems: Vec<AudioError>,
}

/// The audio files directly inside `dir` (not its subfolders, so an export folder made
/// inside it is never read back as tracks), in natural order ("2 Snare" before "10 Gtr").
/// Hidden files are passed over. Anything else with an audio extension that is not a
/// folder is listed, even a link that leads nowhere (a dangling link, a symlink loop), so
/// that opening it says what is wrong with it instead of it silently missing.
pub fn scan_folder(dir: &Path) -> Result<Vec<PathBuf>, AudioError> {
    let folder_err = |reason: String| AudioError::Folder {
        path: dir.to_owned(),
        reason,
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| folder_err(format!("cannot read folder: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| is_audio_path(p) && !p.is_dir())
        .filter(|p| {
            !p.file_name()
                .map(|n| n.as_encoded_bytes().starts_with(b"."))
                .unwrap_or(false)
        })
        .collect();
    // Names equal but for case ("Kick.wav", "kick.WAV") in byte order, so the order never
    // depends on the order the file system lists them in.
    files.sort_by(|a, b| {
        natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()).then_with(|| a.cmp(b))
    });
    if files.is_empty() {
        return Err(folder_err(format!(
            "no audio files in this folder (looked for {})",
            crate::decode::AUDIO_EXTENSIONS.join(", ")
        )));
    }
    Ok(files)
}

/// Why a file cannot be a track whatever it holds: a name a session file cannot store.
fn unusable_name(path: &Path) -> Option<AudioError> {
    if path.to_str().is_some() {
        return None;
    }
    Some(AudioError::Unusable {
        path: path.to_owned(),
        reason: "the file name is not valid UTF-8 (a session file cannot store it); \
                 rename the file to use it"
            .into(),
    })
}

/// Import every audio file in a folder; the song title is the folder's name.
pub fn import_folder(dir: &Path) -> Result<Import, AudioError> {
    let files = scan_folder(dir)?;
    let abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let title = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    import_files(&files, &title)
}

/// Import the given files into a new auto-grouped session. Files that cannot be read
/// are reported in `problems` and left out; the rest still make a session.
pub fn import_files(files: &[PathBuf], title: &str) -> Result<Import, AudioError> {
    let mut infos = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        if let Some(e) = unusable_name(path) {
            problems.push(e);
            continue;
        }
        match Decoder::open(path) {
            Ok(d) => infos.push(d.info().clone()),
            Err(e) => problems.push(e),
        }
    }
    if infos.is_empty() {
        return Err(match problems.into_iter().next() {
            Some(first) => first,
            None => AudioError::Folder {
                path: PathBuf::from(title),
                reason: "no audio files given".into(),
            },
        });
    }
    let rate = majority_rate(infos.iter().map(|i| i.sample_rate));
    let mut session = Session::new(
        rate,
        Song {
            title: title.to_owned(),
            ..Song::default()
        },
    );
    let positions = recorded_positions(&infos, rate);
    let mut taken: HashMap<String, usize> = HashMap::new();
    for ((i, info), position) in infos.iter().enumerate().zip(positions) {
        let base = track_name(&info.path);
        // Two files with the same name (kick.wav, kick.flac) get "kick (2)".
        let n = taken.entry(base.to_lowercase()).or_insert(0);
        *n += 1;
        let name = if *n == 1 {
            base
        } else {
            format!("{base} ({n})")
        };
        let path = std::path::absolute(&info.path).unwrap_or_else(|_| info.path.clone());
        let mut track = Track::new(TrackId(i as u32 + 1), name, path);
        if position > 0 {
            track.clips = vec![Clip::at(position)];
        }
        session.tracks.push(track);
    }
    grouping::auto_group(&mut session);
    Ok(Import {
        session,
        infos: infos.into_iter().map(Some).collect(),
        problems,
    })
}

/// Where each file was recorded, in frames at `session_rate` after the earliest file
/// of the import that says (its Broadcast Wave `bext` TimeReference or iXML position):
/// files recorded together land where they were played. 0 for files without one.
fn recorded_positions(infos: &[FileInfo], session_rate: u32) -> Vec<u64> {
    let frames: Vec<Option<u64>> = infos
        .iter()
        .map(|i| {
            let p = stemdeck_project::bwf::position(&i.path).ok().flatten()?;
            // Exact in integers: samples at the file's rate to frames at the session's.
            let f =
                u128::from(p.samples) * u128::from(session_rate) / u128::from(p.sample_rate.max(1));
            u64::try_from(f).ok()
        })
        .collect();
    let earliest = frames.iter().flatten().min().copied().unwrap_or(0);
    frames
        .into_iter()
        .map(|f| f.map_or(0, |f| f - earliest))
        .collect()
}

/// Read every track's file of a loaded session (same order as `session.tracks`), on
/// every core.
pub fn probe_session(session: &Session) -> Vec<Result<FileInfo, AudioError>> {
    crate::par_map(&session.tracks, |t| {
        Decoder::open(&t.path).map(|d| d.info().clone())
    })
}

/// Session length in frames at the session rate: the end of the longest track that is
/// in a stem (tracks left out of the stems do not stretch them). Muted tracks count, so
/// auditioning never changes the length.
pub fn session_len(session: &Session, infos: &[Option<FileInfo>]) -> u64 {
    session
        .tracks
        .iter()
        .zip(infos)
        .filter(|(t, _)| session.stem_of(t.id).is_some())
        .filter_map(|(t, i)| Some(track_end(t, i.as_ref()?, session.sample_rate)))
        .max()
        .unwrap_or(0)
}

/// Where a track ends on the timeline, in frames at `session_rate`: its file's length,
/// or the end of its last clip. `info` is the track's own file (a clip of another file
/// always states its length: the session check requires it).
pub fn track_end(track: &stemdeck_session::Track, info: &FileInfo, session_rate: u32) -> u64 {
    let file_len = converted_len(info.frames, info.sample_rate, session_rate);
    if track.whole_file() {
        return file_len;
    }
    track
        .clips
        .iter()
        .map(|c| {
            let len = c
                .length
                .unwrap_or_else(|| file_len.saturating_sub(c.offset));
            c.position.saturating_add(len)
        })
        .max()
        .unwrap_or(0)
}

/// A track's display name: the file name without its extension.
pub fn track_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// Compare strings with digit runs as numbers, case-insensitively.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let num = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| {
                    let mut s = String::new();
                    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
                        s.push(c);
                        it.next();
                    }
                    s
                };
                let (na, nb) = (num(&mut a), num(&mut b));
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                let ord = x.to_lowercase().cmp(y.to_lowercase());
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a.next();
                b.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["10 Gtr", "2 Snare", "1 Kick", "02b", "bass"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["1 Kick", "2 Snare", "02b", "10 Gtr", "bass"]);
    }
}

/// A session opened from whatever the user pointed at.
pub struct Opened {
    pub session: Session,
    /// The session file, when one was opened.
    pub session_file: Option<PathBuf>,
    /// The folder the session lives in: the folder given, the session file's folder, or
    /// the folder of the files given.
    pub base_dir: PathBuf,
    /// Per track (same order as `session.tracks`); `None` where the file is unreadable.
    pub infos: Vec<Option<FileInfo>>,
    /// Files that could not be read; the rest of the session still opens.
    pub problems: Vec<AudioError>,
    /// What an opened DAW project holds that Stemdeck does not render, one line per
    /// track and thing (empty for anything else).
    pub project_warnings: Vec<String>,
}

impl Opened {
    /// What is wrong with files that still load (cut short, a header a crashed recorder
    /// left), one message each naming the file: the user should know, but nothing is
    /// missing from the session.
    pub fn warnings(&self) -> Vec<String> {
        self.infos
            .iter()
            .flatten()
            .filter_map(FileInfo::warning_message)
            .chain(self.project_warnings.iter().cloned())
            .collect()
    }

    /// The problems that change what an export renders: unreadable tracks that are in
    /// a stem (a folder's unreadable files are not tracks at all, and a track in no
    /// stem is not exported).
    pub fn problems_in_stems(&self) -> Vec<&AudioError> {
        if self.session_file.is_none() {
            return Vec::new();
        }
        // Opening a session file records one problem per unreadable track, in order.
        let mut problems = self.problems.iter();
        self.session
            .tracks
            .iter()
            .zip(&self.infos)
            .filter(|(_, info)| info.is_none())
            .filter_map(|(t, _)| {
                problems
                    .next()
                    .filter(|_| self.session.stem_of(t.id).is_some())
            })
            .collect()
    }
}

/// Why nothing could be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Session(#[from] stemdeck_session::SessionError),
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error(transparent)]
    Project(#[from] stemdeck_project::Error),
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
}

/// Open a session file (`.json` or any non-audio file), a folder of audio files, or a
/// list of audio files.
pub fn open(paths: &[PathBuf]) -> Result<Opened, OpenError> {
    let Some(first) = paths.first() else {
        return Err(OpenError::Input {
            path: PathBuf::new(),
            reason: "nothing to open".into(),
        });
    };
    if !first.exists() {
        return Err(OpenError::Input {
            path: first.clone(),
            reason: "no such file or folder".into(),
        });
    }
    if paths.len() == 1 && first.is_dir() {
        let import = import_folder(first)?;
        return Ok(Opened {
            session: import.session,
            session_file: None,
            base_dir: first.clone(),
            infos: import.infos,
            problems: import.problems,
            project_warnings: Vec::new(),
        });
    }
    if paths.len() == 1 && crate::project::is_project_path(first) {
        let import = crate::project::import_project(first)?;
        let base_dir = std::path::absolute(first)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        return Ok(Opened {
            session: import.session,
            session_file: None,
            base_dir,
            infos: import.infos,
            problems: import.problems,
            project_warnings: import.warnings,
        });
    }
    if paths.len() == 1 && !is_audio_path(first) {
        let session = Session::load(first)?;
        let mut infos = Vec::new();
        let mut problems = Vec::new();
        for (r, track) in probe_session(&session).into_iter().zip(&session.tracks) {
            match r {
                Ok(i) => infos.push(Some(i)),
                Err(e) => {
                    infos.push(None);
                    problems.push(AudioError::Track {
                        session: first.clone(),
                        track: track.name.clone(),
                        source: Box::new(e),
                    });
                }
            }
        }
        let base_dir = first
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        return Ok(Opened {
            session,
            session_file: Some(first.clone()),
            base_dir,
            infos,
            problems,
            project_warnings: Vec::new(),
        });
    }
    if let Some(dir) = paths.iter().find(|p| p.is_dir()) {
        return Err(OpenError::Input {
            path: dir.clone(),
            reason: "give either one folder or a list of audio files".into(),
        });
    }
    let base_dir = std::path::absolute(first)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let title = base_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let import = import_files(paths, &title)?;
    Ok(Opened {
        session: import.session,
        session_file: None,
        base_dir,
        infos: import.infos,
        problems: import.problems,
        project_warnings: Vec::new(),
    })
}
