use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::effects::Effect;

/// Stable identity of a track inside one session (not its position).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackId(pub u32);

/// Stable identity of a stem inside one session (not its position).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StemId(pub u32);

impl std::fmt::Display for TrackId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for StemId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What every command that renders says about tracks that are in no stem.
pub const UNASSIGNED_NOTE: &str = "not in any stem: left out of the stems and the master";

/// Lane colours for new stems, in order; a stem keeps its colour once given.
pub const DEFAULT_STEM_COLORS: [&str; 8] = [
    "#E8533F", "#F2A93B", "#4FA3E0", "#7BC96F", "#B57EDC", "#E06FA8", "#4CC2B8", "#C9C56F",
];

/// Facts about the song that go with the stems (the song information sheet).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Song {
    pub title: String,
    pub artist: String,
    /// Beats per minute; `None` when unknown.
    pub bpm: Option<f64>,
    /// Musical key as the producer writes it ("F# minor", "Bbm").
    pub key: String,
    pub notes: String,
}

/// One source file of the multitrack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: TrackId,
    pub name: String,
    /// Absolute (or working-directory relative) in memory; stored relative to the
    /// session file on disk.
    pub path: PathBuf,
    #[serde(default)]
    pub gain_db: f32,
    /// -1 (left) .. +1 (right). Mono tracks are panned, stereo tracks balanced.
    #[serde(default)]
    pub pan: f32,
    #[serde(default)]
    pub mute: bool,
    #[serde(default)]
    pub solo: bool,
    /// Insert effects, in processing order (after gain and pan, before the stem).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
    /// Where the track's audio sits on the timeline. Empty: the whole of `path` from
    /// sample 0 (every session before clips existed), as [`Track::whole_file`] says.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clips: Vec<Clip>,
}

/// A piece of a file placed on the timeline. Every position and length is in frames at
/// the session's rate, so a clip lands exactly on a sample; a file at another rate is
/// converted first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// The file; omitted: the track's file. Absolute in memory, stored relative to the
    /// session file on disk (like track paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The timeline frame the clip starts at.
    #[serde(default)]
    pub position: u64,
    /// The frame of the file the clip starts with.
    #[serde(default)]
    pub offset: u64,
    /// Frames the clip plays; omitted: to the end of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Linear fade from silence over this many frames at the clip's start (gain i/n
    /// at its i-th frame, as ffmpeg's afade draws it).
    #[serde(default)]
    pub fade_in: u64,
    /// Linear fade to silence over this many frames at the clip's end (gain (n−i)/n at
    /// the i-th frame of the fade).
    #[serde(default)]
    pub fade_out: u64,
    /// The clip's own gain.
    #[serde(default)]
    pub gain_db: f32,
}

impl Clip {
    /// The whole file at `position`.
    pub fn at(position: u64) -> Self {
        Self {
            position,
            ..Self::default()
        }
    }
}

impl Track {
    /// Whether the track is its whole file from sample 0, as every track was before
    /// clips (no clips, or that one clip spelled out).
    pub fn whole_file(&self) -> bool {
        match self.clips.as_slice() {
            [] => true,
            [c] => *c == Clip::default(),
            _ => false,
        }
    }

    /// The first frame of the track's first clip on the timeline (0 without clips).
    pub fn position(&self) -> u64 {
        self.clips.iter().map(|c| c.position).min().unwrap_or(0)
    }

    pub fn new(id: TrackId, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            id,
            name: name.into(),
            path: path.into(),
            gain_db: 0.0,
            pan: 0.0,
            mute: false,
            solo: false,
            effects: Vec::new(),
            clips: Vec::new(),
        }
    }
}

/// A group of tracks rendered to one stereo file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stem {
    pub id: StemId,
    pub name: String,
    /// "#RRGGBB".
    #[serde(default = "default_color")]
    pub color: String,
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default)]
    pub mute: bool,
    #[serde(default)]
    pub solo: bool,
    /// Member tracks, in display order.
    #[serde(default)]
    pub tracks: Vec<TrackId>,
    /// Insert effects on the stem's sum, in processing order (before the stem's gain).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

/// One more than the highest id (1 when there is none); when the highest is `u32::MAX`
/// (a session file may say anything), the lowest id not in use.
fn next_free_id(ids: impl Iterator<Item = u32> + Clone) -> u32 {
    match ids.clone().max() {
        None => 1,
        Some(max) => max.checked_add(1).unwrap_or_else(|| {
            let used: std::collections::HashSet<u32> = ids.collect();
            (1..=u32::MAX).find(|i| !used.contains(i)).unwrap_or(0)
        }),
    }
}

fn default_color() -> String {
    DEFAULT_STEM_COLORS[0].to_owned()
}

impl Stem {
    pub fn new(id: StemId, name: impl Into<String>, color: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            color: color.into(),
            gain_db: 0.0,
            mute: false,
            solo: false,
            tracks: Vec::new(),
            effects: Vec::new(),
        }
    }
}

/// One stem's switches in a mix variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantStem {
    pub stem: StemId,
    #[serde(default)]
    pub mute: bool,
    #[serde(default)]
    pub solo: bool,
}

/// A named mute/solo state of the stems ("TV mix", "No drums"), saved by the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixVariant {
    pub name: String,
    /// Stems not listed are neither muted nor soloed.
    #[serde(default)]
    pub stems: Vec<VariantStem>,
}

/// The default file-name template of an export: "01 Night Drive - Drums".
pub const DEFAULT_EXPORT_TEMPLATE: &str = "{index} {title} - {stem}";

/// How an export deals with files that would clip in an integer format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrimMode {
    /// Refuse to write clipped files (and say how to avoid it).
    #[default]
    None,
    /// One common gain for every file, bringing the highest sample peak to −0.1 dBFS.
    Auto,
}

impl TrimMode {
    /// The name used on the command line and in session files.
    pub fn id(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Auto => "auto",
        }
    }
}

/// How the stems of this session are exported, saved with it (see docs/session-format.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportSettings {
    /// Sample format id: "wav16", "wav24", "wav32f", "flac16" or "flac24".
    pub format: String,
    /// Output rate in Hz; `None`: the session's rate.
    pub sample_rate: Option<u32>,
    /// File-name template (tokens: {index} {title} {artist} {stem} {bpm} {key}).
    pub template: String,
    /// Also write the master mix.
    pub master: bool,
    /// Also write every saved mix variant as a full mix.
    pub variants: bool,
    /// Seconds of silence added at the end of every file.
    pub tail_seconds: f64,
    /// Write the song information sheet (PDF and JSON) beside the stems.
    pub sheet: bool,
    pub trim: TrimMode,
    /// Stems with their effects, without, or both (`--effects`).
    #[serde(skip_serializing_if = "EffectsMode::is_wet")]
    pub effects: EffectsMode,
    /// Where the files go; `None`: "<title> - Stems" beside the session. Absolute in
    /// memory, stored relative to the session file on disk (like track paths).
    pub out_dir: Option<PathBuf>,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            format: "wav24".to_owned(),
            sample_rate: None,
            template: DEFAULT_EXPORT_TEMPLATE.to_owned(),
            master: false,
            variants: false,
            tail_seconds: 0.0,
            sheet: true,
            trim: TrimMode::None,
            effects: EffectsMode::Wet,
            out_dir: None,
        }
    }
}

impl ExportSettings {
    /// Check what the session file can get wrong; the message says what.
    pub fn check(&self) -> Result<(), String> {
        if !self.tail_seconds.is_finite() || !(0.0..=3600.0).contains(&self.tail_seconds) {
            return Err("export.tail_seconds must be a number of seconds from 0 to 3600".into());
        }
        if self.sample_rate == Some(0) {
            return Err("export.sample_rate must be above 0 (or null for the session's)".into());
        }
        Ok(())
    }
}

/// The master bus: its insert effects (keyed from the full mix and applied to every
/// stem alike, so the wet stems add up to the processed master) and its fader, which
/// applies to every exported file, dry ones too.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Master {
    #[serde(default)]
    pub gain_db: f32,
    #[serde(default)]
    pub effects: Vec<Effect>,
}

impl Master {
    /// The master at 0 dB with no effects: a session saved exactly as before the
    /// master existed.
    pub fn is_default(&self) -> bool {
        self.gain_db == 0.0 && self.effects.is_empty()
    }
}

/// Which stems an export writes: with their effects (wet), without (dry), or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EffectsMode {
    #[default]
    Wet,
    Dry,
    Both,
}

impl EffectsMode {
    pub const ALL: [EffectsMode; 3] = [EffectsMode::Wet, EffectsMode::Dry, EffectsMode::Both];

    /// The id used on the command line and in session files.
    pub fn id(self) -> &'static str {
        match self {
            EffectsMode::Wet => "wet",
            EffectsMode::Dry => "dry",
            EffectsMode::Both => "both",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.id() == id)
    }

    pub fn is_wet(&self) -> bool {
        *self == EffectsMode::Wet
    }
}

/// A multitrack session: the tracks, how they group into stems, and the song.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// The rate every track is rendered at (the rate most tracks share).
    pub sample_rate: u32,
    pub song: Song,
    pub tracks: Vec<Track>,
    pub stems: Vec<Stem>,
    /// Mix variants the user saved, in order.
    pub variants: Vec<MixVariant>,
    /// How this session's stems are exported.
    pub export: ExportSettings,
    /// The master bus (fader and effects).
    pub master: Master,
}

impl Session {
    pub fn new(sample_rate: u32, song: Song) -> Self {
        Self {
            sample_rate,
            song,
            tracks: Vec::new(),
            stems: Vec::new(),
            variants: Vec::new(),
            export: ExportSettings::default(),
            master: Master::default(),
        }
    }

    /// Whether any track, stem or the master has an effect (bypassed ones count: they
    /// are part of the session).
    /// Whether any track is placed other than as its whole file from sample 0.
    pub fn has_clips(&self) -> bool {
        self.tracks.iter().any(|t| !t.whole_file())
    }

    pub fn has_effects(&self) -> bool {
        !self.master.effects.is_empty()
            || self.tracks.iter().any(|t| !t.effects.is_empty())
            || self.stems.iter().any(|s| !s.effects.is_empty())
    }

    pub fn track(&self, id: TrackId) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }

    pub fn track_mut(&mut self, id: TrackId) -> Option<&mut Track> {
        self.tracks.iter_mut().find(|t| t.id == id)
    }

    pub fn track_index(&self, id: TrackId) -> Option<usize> {
        self.tracks.iter().position(|t| t.id == id)
    }

    pub fn stem(&self, id: StemId) -> Option<&Stem> {
        self.stems.iter().find(|s| s.id == id)
    }

    pub fn stem_mut(&mut self, id: StemId) -> Option<&mut Stem> {
        self.stems.iter_mut().find(|s| s.id == id)
    }

    /// The stem a track belongs to, if any (a track is in at most one stem).
    pub fn stem_of(&self, track: TrackId) -> Option<&Stem> {
        self.stems.iter().find(|s| s.tracks.contains(&track))
    }

    /// Tracks in no stem: they are left out of the stems and the master.
    pub fn unassigned_tracks(&self) -> impl Iterator<Item = &Track> {
        self.tracks
            .iter()
            .filter(|t| !self.stems.iter().any(|s| s.tracks.contains(&t.id)))
    }

    pub fn next_track_id(&self) -> TrackId {
        TrackId(next_free_id(self.tracks.iter().map(|t| t.id.0)))
    }

    pub fn next_stem_id(&self) -> StemId {
        StemId(next_free_id(self.stems.iter().map(|s| s.id.0)))
    }

    /// Colour for the next new stem: the first default not already used.
    pub fn next_stem_color(&self) -> String {
        let unused = DEFAULT_STEM_COLORS
            .iter()
            .find(|c| !self.stems.iter().any(|s| s.color.eq_ignore_ascii_case(c)));
        let color =
            unused.unwrap_or(&DEFAULT_STEM_COLORS[self.stems.len() % DEFAULT_STEM_COLORS.len()]);
        (*color).to_owned()
    }

    /// Add a new empty stem at the end and return its id.
    pub fn add_stem(&mut self, name: impl Into<String>) -> StemId {
        let id = self.next_stem_id();
        let color = self.next_stem_color();
        self.stems.push(Stem::new(id, name, color));
        id
    }

    /// Move tracks into `to` (or out of every stem when `None`), keeping the order given,
    /// inserted at `index` in the target stem (appended when `None` or past the end).
    /// Unknown ids are ignored. This is the single regrouping operation the GUI and
    /// scripts use, so a track can never end up in two stems.
    pub fn move_tracks(&mut self, ids: &[TrackId], to: Option<StemId>, index: Option<usize>) {
        let ids: Vec<TrackId> = ids
            .iter()
            .copied()
            .filter(|id| self.track(*id).is_some())
            .collect();
        // Position in the target counted after the moved tracks are taken out.
        let mut insert_at = index;
        if let (Some(target), Some(at)) = (to, index)
            && let Some(stem) = self.stem(target)
        {
            let before = stem
                .tracks
                .iter()
                .take(at)
                .filter(|t| ids.contains(t))
                .count();
            insert_at = Some(at - before);
        }
        for stem in &mut self.stems {
            stem.tracks.retain(|t| !ids.contains(t));
        }
        if let Some(target) = to
            && let Some(stem) = self.stem_mut(target)
        {
            let at = insert_at
                .unwrap_or(stem.tracks.len())
                .min(stem.tracks.len());
            stem.tracks.splice(at..at, ids);
        }
    }

    /// Remove tracks from the session (and from their stems). Unknown ids are ignored.
    pub fn remove_tracks(&mut self, ids: &[TrackId]) {
        self.tracks.retain(|t| !ids.contains(&t.id));
        for stem in &mut self.stems {
            stem.tracks.retain(|t| !ids.contains(t));
        }
    }

    /// Delete a stem; its tracks become unassigned (they stay in the session), and saved
    /// mix variants forget it.
    pub fn delete_stem(&mut self, id: StemId) {
        self.stems.retain(|s| s.id != id);
        for v in &mut self.variants {
            v.stems.retain(|s| s.stem != id);
        }
    }

    /// A copy of a stem, placed right after it: same settings, named "<name> copy", with
    /// copies of its tracks (new ids, same files, gains and pans) — a track belongs to
    /// at most one stem, so the copy cannot share them. Returns the new stem's id.
    pub fn duplicate_stem(&mut self, id: StemId) -> Option<StemId> {
        let at = self.stems.iter().position(|s| s.id == id)?;
        let original = self.stems.get(at)?.clone();
        let mut copies = Vec::with_capacity(original.tracks.len());
        for tid in &original.tracks {
            let Some(track) = self.track(*tid).cloned() else {
                continue;
            };
            let new_id = self.next_track_id();
            self.tracks.push(Track {
                id: new_id,
                ..track
            });
            copies.push(new_id);
        }
        let new_id = self.next_stem_id();
        let color = self.next_stem_color();
        self.stems.insert(
            at + 1,
            Stem {
                id: new_id,
                name: format!("{} copy", original.name),
                color,
                tracks: copies,
                ..original
            },
        );
        Some(new_id)
    }

    /// The stems' current mute/solo switches as a variant called `name`.
    pub fn capture_variant(&self, name: impl Into<String>) -> MixVariant {
        MixVariant {
            name: name.into(),
            stems: self
                .stems
                .iter()
                .filter(|s| s.mute || s.solo)
                .map(|s| VariantStem {
                    stem: s.id,
                    mute: s.mute,
                    solo: s.solo,
                })
                .collect(),
        }
    }

    /// Set every stem's mute/solo to the variant's (stems it does not list: off).
    pub fn apply_variant(&mut self, variant: &MixVariant) {
        for stem in &mut self.stems {
            let v = variant.stems.iter().find(|v| v.stem == stem.id);
            stem.mute = v.is_some_and(|v| v.mute);
            stem.solo = v.is_some_and(|v| v.solo);
        }
    }

    /// The variants every session has: Full mix; and, when a stem is the vocals (by its
    /// name), Instrumental (vocals muted) and A cappella (vocals soloed).
    pub fn builtin_variants(&self) -> Vec<MixVariant> {
        use crate::grouping::{Role, classify};
        let vocals: Vec<StemId> = self
            .stems
            .iter()
            .filter(|s| classify(&s.name) == Some(Role::Vocals))
            .map(|s| s.id)
            .collect();
        let mut v = vec![MixVariant {
            name: "Full mix".into(),
            stems: Vec::new(),
        }];
        if !vocals.is_empty() {
            let switch = |mute, solo| {
                vocals
                    .iter()
                    .map(|&stem| VariantStem { stem, mute, solo })
                    .collect()
            };
            v.push(MixVariant {
                name: "Instrumental".into(),
                stems: switch(true, false),
            });
            v.push(MixVariant {
                name: "A cappella".into(),
                stems: switch(false, true),
            });
        }
        v
    }

    /// The variants a delivery exports as full mixes: the saved ones, then the built-in
    /// Instrumental and A cappella unless a saved one has the same name (Full mix is the
    /// master, exported on its own).
    pub fn delivery_variants(&self) -> Vec<MixVariant> {
        let mut v = self.variants.clone();
        for b in self.builtin_variants().into_iter().skip(1) {
            if !v.iter().any(|s| s.name.eq_ignore_ascii_case(&b.name)) {
                v.push(b);
            }
        }
        v
    }

    /// Whether the stems' switches are exactly the variant's.
    pub fn matches_variant(&self, variant: &MixVariant) -> bool {
        let mut probe = self.clone();
        probe.apply_variant(variant);
        probe.stems == self.stems
    }

    /// Check the invariants the rest of Stemdeck relies on; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.sample_rate == 0 {
            return Err("sample_rate must be above 0".into());
        }
        self.export.check()?;
        let mut seen = std::collections::HashSet::new();
        for t in &self.tracks {
            if !seen.insert(t.id) {
                return Err(format!("track id {} is used twice", t.id));
            }
            if !t.gain_db.is_finite() || !t.pan.is_finite() || !(-1.0..=1.0).contains(&t.pan) {
                return Err(format!(
                    "track {} (\"{}\"): gain_db must be a number and pan between -1 and 1",
                    t.id, t.name
                ));
            }
            check_effects(&t.effects, || format!("track {} (\"{}\")", t.id, t.name))?;
            for (i, c) in t.clips.iter().enumerate() {
                let problem = if !c.gain_db.is_finite() {
                    Some("gain_db must be a number")
                } else if c.path.is_some() && c.length.is_none() {
                    Some("a clip of another file than the track's must give its length")
                } else if c.length == Some(0) {
                    Some("length must be above 0 (or omitted: to the end of the file)")
                } else if c
                    .length
                    .is_some_and(|l| c.fade_in.saturating_add(c.fade_out) > l)
                {
                    Some("fade_in and fade_out together must fit in its length")
                } else if c.position.checked_add(c.length.unwrap_or(0)).is_none()
                    || c.offset.checked_add(c.length.unwrap_or(0)).is_none()
                {
                    Some("position, offset and length are too large")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(format!(
                        "track {} (\"{}\"): clip {}: {problem}",
                        t.id,
                        t.name,
                        i + 1
                    ));
                }
            }
        }
        let mut stem_ids = std::collections::HashSet::new();
        let mut owner = std::collections::HashMap::new();
        for s in &self.stems {
            if !stem_ids.insert(s.id) {
                return Err(format!("stem id {} is used twice", s.id));
            }
            if !s.gain_db.is_finite() {
                return Err(format!(
                    "stem {} (\"{}\"): gain_db must be a number",
                    s.id, s.name
                ));
            }
            check_effects(&s.effects, || format!("stem {} (\"{}\")", s.id, s.name))?;
            for t in &s.tracks {
                if self.track(*t).is_none() {
                    return Err(format!(
                        "stem {} (\"{}\") lists track {t}, which is not in tracks",
                        s.id, s.name
                    ));
                }
                if let Some(other) = owner.insert(*t, &s.name) {
                    return Err(format!(
                        "track {t} is in two stems (\"{other}\" and \"{}\"); a track belongs to at most one stem",
                        s.name
                    ));
                }
            }
        }
        if !self.master.gain_db.is_finite() || self.master.gain_db > MAX_MASTER_GAIN_DB {
            return Err(format!(
                "master.gain_db must be a number of dB up to +{MAX_MASTER_GAIN_DB}"
            ));
        }
        check_effects(&self.master.effects, || "master".to_owned())
    }
}

/// The highest master fader setting.
pub const MAX_MASTER_GAIN_DB: f32 = 12.0;

/// The first effect of a chain with a parameter out of range, named with its owner,
/// its place in the chain and its field.
fn check_effects(effects: &[Effect], owner: impl Fn() -> String) -> Result<(), String> {
    for (i, e) in effects.iter().enumerate() {
        if let Some(problem) = e.problem() {
            return Err(format!(
                "{}: effect {} ({}): {problem}",
                owner(),
                i + 1,
                e.kind.label()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let mut s = Session::new(48_000, Song::default());
        for i in 1..=4 {
            s.tracks
                .push(Track::new(TrackId(i), format!("t{i}"), format!("t{i}.wav")));
        }
        let a = s.add_stem("A");
        let b = s.add_stem("B");
        s.move_tracks(&[TrackId(1), TrackId(2)], Some(a), None);
        s.move_tracks(&[TrackId(3)], Some(b), None);
        s
    }

    #[test]
    fn a_track_moves_out_of_its_old_stem() {
        let mut s = session();
        s.move_tracks(&[TrackId(1)], Some(StemId(2)), None);
        assert_eq!(s.stems[0].tracks, vec![TrackId(2)]);
        assert_eq!(s.stems[1].tracks, vec![TrackId(3), TrackId(1)]);
        assert!(s.check().is_ok());
    }

    #[test]
    fn moving_within_a_stem_reorders() {
        let mut s = session();
        s.move_tracks(&[TrackId(2)], Some(StemId(1)), Some(0));
        assert_eq!(s.stems[0].tracks, vec![TrackId(2), TrackId(1)]);
        s.move_tracks(&[TrackId(2)], Some(StemId(1)), Some(2));
        assert_eq!(s.stems[0].tracks, vec![TrackId(1), TrackId(2)]);
    }

    #[test]
    fn unassigning_and_listing_unassigned() {
        let mut s = session();
        s.move_tracks(&[TrackId(3), TrackId(99)], None, None);
        let names: Vec<_> = s.unassigned_tracks().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["t3", "t4"]);
        assert!(s.stem_of(TrackId(3)).is_none());
        assert_eq!(s.stem_of(TrackId(1)).map(|s| s.id), Some(StemId(1)));
    }

    #[test]
    fn check_finds_a_track_in_two_stems() {
        let mut s = session();
        s.stems[1].tracks.push(TrackId(1));
        let err = s.check().unwrap_err();
        assert!(err.contains("two stems"), "{err}");
    }

    #[test]
    fn check_finds_unknown_and_duplicate_ids() {
        let mut s = session();
        s.stems[0].tracks.push(TrackId(42));
        assert!(s.check().unwrap_err().contains("track 42"));
        let mut s = session();
        s.tracks.push(Track::new(TrackId(1), "dup", "dup.wav"));
        assert!(s.check().unwrap_err().contains("used twice"));
    }

    #[test]
    fn variants_capture_and_apply_stem_switches() {
        let mut s = session();
        s.stems[1].mute = true;
        let instrumental = s.capture_variant("Instrumental");
        assert_eq!(
            instrumental.stems,
            vec![VariantStem {
                stem: StemId(2),
                mute: true,
                solo: false
            }]
        );
        s.stems[1].mute = false;
        s.stems[0].solo = true;
        assert!(!s.matches_variant(&instrumental));
        s.apply_variant(&instrumental);
        assert!(!s.stems[0].solo && s.stems[1].mute);
        assert!(s.matches_variant(&instrumental));
    }

    #[test]
    fn new_ids_and_colours_are_fresh() {
        let s = session();
        assert_eq!(s.next_track_id(), TrackId(5));
        assert_eq!(s.next_stem_id(), StemId(3));
        assert_eq!(s.next_stem_color(), DEFAULT_STEM_COLORS[2]);
    }

    /// Found by fuzzing (fuzz/, session_json): a session file may use the highest id.
    #[test]
    fn new_ids_after_the_highest_possible_id_do_not_overflow() {
        let mut s = session();
        s.tracks[0].id = TrackId(u32::MAX);
        s.stems[0].id = StemId(u32::MAX);
        assert_eq!(s.next_track_id(), TrackId(1));
        assert_eq!(s.next_stem_id(), StemId(1));
        let id = s.add_stem("New");
        assert!(s.stems.iter().filter(|st| st.id == id).count() == 1);
    }

    #[test]
    fn removing_a_track_takes_it_out_of_its_stem() {
        let mut s = session();
        s.remove_tracks(&[TrackId(1), TrackId(99)]);
        assert_eq!(s.tracks.len(), 3);
        assert_eq!(s.stems[0].tracks, vec![TrackId(2)]);
        assert!(s.check().is_ok());
    }

    #[test]
    fn a_deleted_stem_leaves_its_tracks_unassigned_and_variants_forget_it() {
        let mut s = session();
        s.stems[0].mute = true;
        s.variants.push(s.capture_variant("No A"));
        s.delete_stem(StemId(1));
        assert_eq!(s.stems.len(), 1);
        let unassigned: Vec<TrackId> = s.unassigned_tracks().map(|t| t.id).collect();
        assert_eq!(unassigned, vec![TrackId(1), TrackId(2), TrackId(4)]);
        assert!(s.variants[0].stems.is_empty());
        assert!(s.check().is_ok());
    }

    #[test]
    fn a_duplicated_stem_copies_its_tracks_after_it() {
        let mut s = session();
        s.stems[0].gain_db = -3.0;
        s.tracks[1].pan = 0.5;
        let id = s.duplicate_stem(StemId(1)).unwrap();
        assert_eq!(s.stems.len(), 3);
        let copy = &s.stems[1];
        assert_eq!((copy.id, copy.name.as_str()), (id, "A copy"));
        assert_eq!(copy.gain_db, -3.0);
        assert_eq!(copy.tracks, vec![TrackId(5), TrackId(6)]);
        let t6 = s.track(TrackId(6)).unwrap();
        assert_eq!((t6.name.as_str(), t6.pan), ("t2", 0.5));
        assert_eq!(t6.path, s.track(TrackId(2)).unwrap().path);
        assert_ne!(copy.color, s.stems[0].color);
        assert!(s.check().is_ok());
        assert_eq!(s.duplicate_stem(StemId(42)), None);
    }
}
