//! A DAW project (DAWproject, REAPER) opened as a session: its tracks with their clips
//! where the project places them, folder and group tracks as stems named after them (the
//! top level of nesting), the other tracks auto-grouped, and one warning for everything
//! the project holds that Stemdeck cannot render. The reading is `stemdeck_project`'s.

use std::collections::HashMap;
use std::path::Path;

use stemdeck_project::Project;
use stemdeck_session::{Clip, Master, Session, Song, Track, TrackId, grouping};

use crate::AudioError;
use crate::decode::{Decoder, FileInfo};
use crate::resample::majority_rate;

/// The extensions of the project files Stemdeck opens (for Open dialogs).
pub const PROJECT_EXTENSIONS: &[&str] = &["dawproject", "rpp"];

/// Whether `path` names a project file Stemdeck opens (`.dawproject`, `.rpp`).
pub fn is_project_path(path: &Path) -> bool {
    stemdeck_project::Format::of(path).is_some()
}

/// A project made into a session, with what each track's file is and the warnings.
pub struct ProjectImport {
    pub session: Session,
    pub infos: Vec<Option<FileInfo>>,
    pub problems: Vec<AudioError>,
    pub warnings: Vec<String>,
}

/// Where a DAWproject's embedded audio is extracted: beside the peak cache.
fn extract_dir() -> std::path::PathBuf {
    crate::peaks::PeakCache::default_dir()
        .map(|d| d.join("projects"))
        .unwrap_or_else(|| std::env::temp_dir().join("stemdeck-projects"))
}

/// Read `path` as a project and build its session.
pub fn import_project(path: &Path) -> Result<ProjectImport, stemdeck_project::Error> {
    let project = stemdeck_project::open(path, &extract_dir())?;
    Ok(build(project))
}

fn seconds_to_frames(s: f64, rate: u32) -> u64 {
    let f = (s.max(0.0) * f64::from(rate)).round();
    if f.is_finite() { f as u64 } else { 0 }
}

fn build(project: Project) -> ProjectImport {
    let mut warnings = project.warnings.clone();
    // Every file the clips play, read once.
    let mut files: HashMap<std::path::PathBuf, Result<FileInfo, AudioError>> = HashMap::new();
    for clip in project.tracks.iter().flat_map(|t| &t.clips) {
        files
            .entry(clip.path.clone())
            .or_insert_with(|| Decoder::open(&clip.path).map(|d| d.info().clone()));
    }
    let rate = project
        .sample_rate
        .unwrap_or_else(|| majority_rate(files.values().flatten().map(|i| i.sample_rate)));
    let mut session = Session::new(
        rate,
        Song {
            title: project.name.clone(),
            bpm: project.tempo_bpm,
            ..Song::default()
        },
    );
    session.master = Master {
        gain_db: project
            .master
            .gain_db
            .min(stemdeck_session::MAX_MASTER_GAIN_DB),
        effects: project.master.effects.clone(),
    };
    let mut infos = Vec::new();
    let mut problems = Vec::new();
    let mut reported = std::collections::HashSet::new();
    let mut folder_of = Vec::new();
    for pt in &project.tracks {
        // The track's file: the first clip whose file reads.
        let Some(first) = pt
            .clips
            .iter()
            .find(|c| matches!(files.get(&c.path), Some(Ok(_))))
        else {
            for c in &pt.clips {
                if let Some(Err(e)) = files.get(&c.path)
                    && reported.insert(c.path.clone())
                {
                    problems.push(AudioError::Unusable {
                        path: c.path.clone(),
                        reason: format!("track \"{}\": {e}", pt.name),
                    });
                }
            }
            if pt.clips.is_empty() {
                warnings.push(format!("Track \"{}\": no audio clips, left out", pt.name));
            }
            continue;
        };
        let info = files
            .get(&first.path)
            .and_then(|r| r.as_ref().ok())
            .cloned();
        let clips = pt
            .clips
            .iter()
            .filter(|c| {
                let ok = matches!(files.get(&c.path), Some(Ok(_)));
                if !ok && reported.insert(c.path.clone()) {
                    warnings.push(format!(
                        "Track \"{}\": the clip's file {} cannot be read, left out",
                        pt.name,
                        c.path.display()
                    ));
                }
                ok
            })
            .map(|c| {
                let length = seconds_to_frames(c.length_s, rate).max(1);
                let fade_in = seconds_to_frames(c.fade_in_s, rate).min(length);
                Clip {
                    path: (c.path != first.path).then(|| c.path.clone()),
                    position: seconds_to_frames(c.position_s, rate),
                    offset: seconds_to_frames(c.source_offset_s, rate),
                    length: Some(length),
                    fade_in,
                    fade_out: seconds_to_frames(c.fade_out_s, rate).min(length - fade_in),
                    gain_db: c.gain_db,
                }
            })
            .collect();
        let id = TrackId(session.tracks.len() as u32 + 1);
        let mut track = Track::new(id, pt.name.clone(), first.path.clone());
        track.gain_db = pt.gain_db;
        track.pan = pt.pan.clamp(-1.0, 1.0);
        track.mute = pt.mute;
        track.effects = pt.effects.clone();
        track.clips = clips;
        session.tracks.push(track);
        infos.push(info);
        folder_of.push((id, pt.folder.clone()));
    }
    // Folders become stems (in project order), the rest are grouped by name.
    for folder in &project.folders {
        let members: Vec<TrackId> = folder_of
            .iter()
            .filter(|(_, f)| f.as_deref() == Some(folder.name.as_str()))
            .map(|(id, _)| *id)
            .collect();
        if members.is_empty() {
            continue;
        }
        let stem = session.add_stem(folder.name.clone());
        if let Some(s) = session.stem_mut(stem) {
            s.gain_db = folder.gain_db;
            s.mute = folder.mute;
            s.effects = folder.effects.clone();
            if folder.pan != 0.0 {
                warnings.push(format!(
                    "Folder \"{}\": its pan is not rendered (a stem has no pan)",
                    folder.name
                ));
            }
        }
        session.move_tracks(&members, Some(stem), None);
    }
    let loose: Vec<TrackId> = folder_of
        .iter()
        .filter(|(_, f)| f.is_none())
        .map(|(id, _)| *id)
        .collect();
    grouping::group_tracks(&mut session, &loose);
    ProjectImport {
        session,
        infos,
        problems,
        warnings,
    }
}
