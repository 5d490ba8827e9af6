//! Session files: versioned JSON with track paths relative to the file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{ExportSettings, Master, MixVariant, Session, SessionError, Song, Stem, Track};

/// The registered extension of session files (`Night Drive.stemdeck`, MIME type
/// `application/x-stemdeck-session`). The content is the same JSON whatever the name:
/// files named `.json` open too.
pub const SESSION_EXTENSION: &str = "stemdeck";

/// File extensions of the audio files Stemdeck's decoder reads (lower case): WAV and
/// Broadcast Wave, AIFF and AIFF-C, CAF, FLAC, MP3, Ogg Vorbis, MP4/M4A. The one list:
/// `stemdeck_audio::decode` re-exports it for the dialogs and folder scans, and
/// auto-grouping drops these extensions from track names.
pub const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "wave", "bwf", "aif", "aiff", "aifc", "flac", "mp3", "ogg", "oga", "m4a", "mp4", "caf",
];

/// The value of `"format"` in every session file.
pub const FORMAT_NAME: &str = "stemdeck-session";
/// The newest session format this build reads.
///
/// A file is written with the lowest version that holds its meaning, so older builds
/// keep opening what they can render: version 1 for a session without the features
/// below, version 2 when it has effects, a master that is not at 0 dB, or tracks placed
/// as clips (an older build would play it without them, or with every file at 0, so it
/// refuses it with its "please update" message).
pub const FORMAT_VERSION: u32 = 2;
/// The version of a session without effects and with the master at 0 dB.
pub const FORMAT_VERSION_PLAIN: u32 = 1;

#[derive(Serialize, Deserialize)]
struct SessionFile {
    format: String,
    version: u64,
    sample_rate: u32,
    #[serde(default)]
    song: Song,
    #[serde(default)]
    tracks: Vec<Track>,
    #[serde(default)]
    stems: Vec<Stem>,
    #[serde(default)]
    variants: Vec<MixVariant>,
    #[serde(default)]
    export: ExportSettings,
    #[serde(default, skip_serializing_if = "Master::is_default")]
    master: Master,
}

impl Session {
    /// Read a session file. Track paths are resolved against the file's folder.
    pub fn load(path: &Path) -> Result<Session, SessionError> {
        let text = std::fs::read_to_string(path).map_err(|source| SessionError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text, path)
    }

    /// Parse session JSON as if it had been read from `path` (used for messages and to
    /// resolve relative track paths).
    pub fn from_json(text: &str, path: &Path) -> Result<Session, SessionError> {
        let parse_err = |e: serde_json::Error| SessionError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        // Look at format and version before the rest, so a newer file is refused for
        // what it is rather than for a field this build does not know.
        let value: serde_json::Value = serde_json::from_str(text).map_err(parse_err)?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(SessionError::WrongFormat {
                path: path.to_owned(),
            });
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v > u64::from(FORMAT_VERSION) => {
                return Err(SessionError::NewerVersion {
                    path: path.to_owned(),
                    found: v,
                    supported: FORMAT_VERSION,
                });
            }
            Some(v) if v >= 1 => {}
            _ => {
                return Err(SessionError::Invalid {
                    path: path.to_owned(),
                    message: "\"version\" must be a whole number from 1".into(),
                });
            }
        }
        let file: SessionFile = serde_json::from_str(text).map_err(parse_err)?;
        let base = base_dir(path);
        let mut session = Session {
            sample_rate: file.sample_rate,
            song: file.song,
            tracks: file.tracks,
            stems: file.stems,
            variants: file.variants,
            export: file.export,
            master: file.master,
        };
        for t in &mut session.tracks {
            t.path = base.join(&t.path);
            for c in &mut t.clips {
                if let Some(p) = &mut c.path {
                    *p = base.join(&*p);
                }
            }
        }
        if let Some(dir) = &mut session.export.out_dir {
            *dir = base.join(&*dir);
        }
        session.check().map_err(|message| SessionError::Invalid {
            path: path.to_owned(),
            message,
        })?;
        Ok(session)
    }

    /// The JSON this session is saved as at `path`: track paths relative to its folder.
    /// Empty when a path cannot be stored (see [`Self::try_to_json`], which says which).
    pub fn to_json(&self, path: &Path) -> String {
        self.try_to_json(path).unwrap_or_default()
    }

    /// The JSON this session is saved as at `path`, or why it cannot be: a track file or
    /// export folder whose name is not valid UTF-8 (JSON strings are Unicode).
    pub fn try_to_json(&self, path: &Path) -> Result<String, SessionError> {
        let invalid = |message: String| SessionError::Invalid {
            path: path.to_owned(),
            message,
        };
        for t in &self.tracks {
            let paths =
                std::iter::once(&t.path).chain(t.clips.iter().filter_map(|c| c.path.as_ref()));
            for path in paths {
                if path.to_str().is_none() {
                    return Err(invalid(format!(
                        "track \"{}\": the name of its file {} is not valid UTF-8, which a \
                         session file cannot store; rename the file and add it again",
                        t.name,
                        path.display()
                    )));
                }
            }
        }
        if let Some(dir) = self
            .export
            .out_dir
            .as_ref()
            .filter(|d| d.to_str().is_none())
        {
            return Err(invalid(format!(
                "the export folder {} is not valid UTF-8, which a session file cannot store",
                dir.display()
            )));
        }
        let base = std::path::absolute(base_dir(path)).unwrap_or_else(|_| base_dir(path));
        let tracks = self
            .tracks
            .iter()
            .map(|t| Track {
                path: relative_to(&t.path, &base),
                clips: t
                    .clips
                    .iter()
                    .map(|c| crate::Clip {
                        path: c.path.as_ref().map(|p| relative_to(p, &base)),
                        ..c.clone()
                    })
                    .collect(),
                ..t.clone()
            })
            .collect();
        let file = SessionFile {
            format: FORMAT_NAME.to_owned(),
            version: u64::from(self.format_version()),
            sample_rate: self.sample_rate,
            song: self.song.clone(),
            tracks,
            stems: self.stems.clone(),
            variants: self.variants.clone(),
            export: ExportSettings {
                out_dir: self.export.out_dir.as_ref().map(|d| relative_to(d, &base)),
                ..self.export.clone()
            },
            master: self.master.clone(),
        };
        // Plain data with string keys and UTF-8 paths (checked above): this cannot fail,
        // but should it, nothing is written rather than an empty file.
        let mut text = serde_json::to_string_pretty(&file).map_err(|e| invalid(e.to_string()))?;
        text.push('\n');
        Ok(text)
    }

    /// The format version this session is written with: the lowest that holds what it
    /// uses (see [`FORMAT_VERSION`]).
    pub fn format_version(&self) -> u32 {
        if self.has_effects() || !self.master.is_default() || self.has_clips() {
            FORMAT_VERSION
        } else {
            FORMAT_VERSION_PLAIN
        }
    }

    /// Save atomically: the JSON goes to a temporary file in the same folder, is flushed
    /// to disk, and replaces the old file in one rename. The previous version is kept
    /// beside it as `<name>.bak`, so a bad save never costs the user their session.
    pub fn save(&self, path: &Path) -> Result<(), SessionError> {
        let io_err = |source| SessionError::Io {
            path: path.to_owned(),
            source,
        };
        write_atomic(path, &self.try_to_json(path)?, true).map_err(io_err)
    }
}

/// Write `text` to a temporary file beside `path`, flush it to disk and rename it over
/// `path` (keeping the previous version as `<name>.bak` when asked): a crash or a full
/// disk leaves either the old file or the new one, never half of one.
pub(crate) fn write_atomic(path: &Path, text: &str, keep_backup: bool) -> std::io::Result<()> {
    let tmp = sibling(path, ".tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if keep_backup && path.exists() {
            std::fs::copy(path, sibling(path, ".bak"))?;
        }
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        std::fs::remove_file(&tmp).ok();
    })
}

/// `<path><suffix>` in the same folder (so a rename never crosses file systems).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn base_dir(session_path: &Path) -> PathBuf {
    match session_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `path` relative to `base` where that is possible (same drive), else absolute.
fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    pathdiff::diff_paths(&abs, base).unwrap_or(abs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{StemId, TrackId};

    fn sample(dir: &Path) -> Session {
        let mut s = Session::new(
            44_100,
            Song {
                title: "Night Drive".into(),
                artist: "The Examples".into(),
                bpm: Some(122.0),
                key: "F# minor".into(),
                notes: "rough mix 3".into(),
            },
        );
        s.tracks.push(Track::new(
            TrackId(1),
            "Kick",
            dir.join("audio/01 Kick.wav"),
        ));
        s.tracks.push(Track {
            gain_db: -3.5,
            pan: 0.25,
            mute: true,
            ..Track::new(TrackId(2), "Bass DI", dir.join("audio/bass.flac"))
        });
        let drums = s.add_stem("Drums");
        s.move_tracks(&[TrackId(1)], Some(drums), None);
        s.stems[0].mute = true;
        let v = s.capture_variant("No drums");
        s.variants.push(v);
        s.stems[0].mute = false;
        s
    }

    #[test]
    fn save_and_load_round_trip_with_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample(dir.path());
        let file = dir.path().join("song.stemdeck.json");
        s.save(&file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("\"format\": \"stemdeck-session\""));
        assert!(text.contains("\"path\": \"audio/01 Kick.wav\""), "{text}");
        let back = Session::load(&file).unwrap();
        assert_eq!(back.song, s.song);
        assert_eq!(back.stems, s.stems);
        assert_eq!(back.variants, s.variants);
        assert!(text.contains("\"variants\""));
        assert_eq!(back.tracks[1].gain_db, -3.5);
        assert!(back.tracks[1].mute);
        assert!(back.tracks[0].path.ends_with("audio/01 Kick.wav"));
        assert!(std::fs::metadata(&back.tracks[0].path).is_err()); // never created; resolved only
    }

    #[test]
    fn a_session_without_effects_is_saved_as_version_1_without_the_new_fields() {
        let dir = tempfile::tempdir().unwrap();
        let s = sample(dir.path());
        let text = s.to_json(&dir.path().join("s.stemdeck"));
        assert!(text.contains("\"version\": 1,"), "{text}");
        for field in ["effects", "\"master\": {"] {
            assert!(!text.contains(field), "{field} in {text}");
        }
    }

    #[test]
    fn effects_and_the_master_round_trip_as_version_2() {
        use crate::effects::{Compressor, Effect, EffectKind, Limiter, Reverb};
        use crate::{EffectsMode, Master};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.stemdeck");
        let mut s = sample(dir.path());
        s.master.gain_db = -2.0;
        assert_eq!(s.format_version(), 2);
        s.master = Master::default();
        assert_eq!(s.format_version(), 1);
        s.tracks[0].effects = vec![Effect::new(EffectKind::Compressor(Compressor::default()))];
        s.stems[0].effects = vec![Effect {
            bypass: true,
            ..Effect::new(EffectKind::Reverb(Reverb::default()))
        }];
        s.master = Master {
            gain_db: -1.5,
            effects: vec![Effect::new(EffectKind::Limiter(Limiter::default()))],
        };
        s.export.effects = EffectsMode::Both;
        let text = s.to_json(&path);
        assert!(text.contains("\"version\": 2,"), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["master"]["gain_db"], -1.5);
        assert_eq!(value["master"]["effects"][0]["type"], "limiter");
        assert_eq!(value["tracks"][0]["effects"][0]["type"], "compressor");
        assert_eq!(value["stems"][0]["effects"][0]["bypass"], true);
        assert_eq!(value["export"]["effects"], "both");
        let back = Session::from_json(&text, &path).unwrap();
        assert_eq!(back.master, s.master);
        assert_eq!(back.tracks[0].effects, s.tracks[0].effects);
        assert_eq!(back.stems, s.stems);
        assert_eq!(back.export.effects, EffectsMode::Both);
    }

    #[test]
    fn an_effect_out_of_range_is_named_with_its_owner() {
        let text = r#"{"format":"stemdeck-session","version":2,"sample_rate":48000,
            "tracks":[{"id":1,"name":"Kick","path":"k.wav","effects":[
              {"type":"delay","bypass":false,"time_ms":9000,"feedback":0.2,"mix":0.3}]}]}"#;
        let msg = Session::from_json(text, Path::new("x/s.stemdeck"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("x/s.stemdeck")
                && msg.contains("track 1 (\"Kick\"): effect 1 (Delay): time_ms"),
            "{msg}"
        );
        let text = r#"{"format":"stemdeck-session","version":2,"sample_rate":48000,
            "master":{"gain_db":40,"effects":[]}}"#;
        let msg = Session::from_json(text, Path::new("s.stemdeck"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("master.gain_db"), "{msg}");
    }

    /// Every number reads back exactly as saved, however it was written (fuzzing found a
    /// BPM of 1.1e50 that serde_json's default, approximate float parser read back one
    /// unit in the last place off: saving and loading changed the session).
    #[test]
    fn numbers_read_back_exactly_as_saved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.json");
        let mut s = sample(dir.path());
        for text in [
            "111111111111111111111111111111111111111111111111122.0",
            "1.111111111111111e+50",
            "0.1",
            "122.00000000000001",
            "3.0000000000000004e-300",
        ] {
            s.song.bpm = Some(text.parse().unwrap());
            let json = s.to_json(&path);
            let back = Session::from_json(&json, &path).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                back.song.bpm.map(f64::to_bits),
                s.song.bpm.map(f64::to_bits),
                "{text}"
            );
        }
    }

    #[test]
    fn export_settings_round_trip_with_a_relative_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sample(dir.path());
        s.export.format = "flac24".into();
        s.export.sample_rate = Some(96_000);
        s.export.trim = crate::TrimMode::Auto;
        s.export.tail_seconds = 2.5;
        s.export.out_dir = Some(dir.path().join("delivery/stems"));
        let file = dir.path().join("s.json");
        s.save(&file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("\"out_dir\": \"delivery/stems\""), "{text}");
        assert!(text.contains("\"trim\": \"auto\""), "{text}");
        let back = Session::load(&file).unwrap();
        assert_eq!(back.export, s.export);
        // Older files have no "export": the defaults.
        let old = r#"{"format":"stemdeck-session","version":1,"sample_rate":48000}"#;
        let s = Session::from_json(old, Path::new("s.json")).unwrap();
        assert_eq!(s.export, ExportSettings::default());
        let bad = r#"{"format":"stemdeck-session","version":1,"sample_rate":48000,"export":{"tail_seconds":-1}}"#;
        let msg = Session::from_json(bad, Path::new("s.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("tail_seconds"), "{msg}");
    }

    #[test]
    fn saving_again_keeps_a_backup_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = sample(dir.path());
        let file = dir.path().join("s.json");
        s.save(&file).unwrap();
        s.song.title = "Second".into();
        s.save(&file).unwrap();
        let bak = std::fs::read_to_string(dir.path().join("s.json.bak")).unwrap();
        assert!(bak.contains("Night Drive"));
        assert!(Session::load(&file).unwrap().song.title == "Second");
        assert!(!dir.path().join("s.json.tmp").exists());
    }

    /// A file name JSON cannot hold: saving refuses, naming the track, and the file on
    /// disk is untouched (it used to be replaced by an empty file).
    #[cfg(unix)]
    #[test]
    fn non_utf8_paths_refuse_to_save_and_keep_the_old_file() {
        use std::os::unix::ffi::OsStrExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mut s = sample(dir.path());
        let file = dir.path().join("s.json");
        s.save(&file).unwrap();
        let before = std::fs::read(&file).unwrap();
        s.tracks[0].path = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9 kick.wav"));
        let msg = s.save(&file).unwrap_err().to_string();
        assert!(
            msg.contains("s.json") && msg.contains("\"Kick\"") && msg.contains("UTF-8"),
            "{msg}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), before);
        assert!(s.try_to_json(&file).is_err());
    }

    #[test]
    fn newer_versions_are_refused_by_name() {
        let text = r#"{"format":"stemdeck-session","version":7,"sample_rate":48000,"future":1}"#;
        let err = Session::from_json(text, Path::new("x/s.json")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("x/s.json") && msg.contains("version 7") && msg.contains("newer"),
            "{msg}"
        );
    }

    #[test]
    fn other_json_is_not_a_session() {
        let err = Session::from_json(r#"{"a":1}"#, Path::new("s.json")).unwrap_err();
        assert!(matches!(err, SessionError::WrongFormat { .. }));
    }

    #[test]
    fn malformed_and_mistyped_json_give_positions() {
        let err = Session::from_json("{\"format\": ", Path::new("s.json")).unwrap_err();
        assert!(matches!(err, SessionError::Parse { line: 1, .. }), "{err}");
        let text = r#"{"format":"stemdeck-session","version":1,"sample_rate":"fast"}"#;
        let msg = Session::from_json(text, Path::new("s.json"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("s.json") && msg.contains("invalid type"),
            "{msg}"
        );
    }

    #[test]
    fn broken_invariants_are_reported() {
        let text = r#"{"format":"stemdeck-session","version":1,"sample_rate":48000,
            "tracks":[{"id":1,"name":"a","path":"a.wav"}],
            "stems":[{"id":1,"name":"A","tracks":[1]},{"id":2,"name":"B","tracks":[1]}]}"#;
        let msg = Session::from_json(text, Path::new("s.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("two stems"), "{msg}");
        let _ = StemId(1);
    }
}
