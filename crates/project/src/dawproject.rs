//! DAWproject files (`.dawproject`, the open exchange format of Bitwig, Studio One and
//! Cubase): a zip archive holding `project.xml` (the schema is `Project.xsd` of the
//! format's reference implementation) and `metadata.xml`, with audio referenced by path
//! or embedded in the archive.
//!
//! Read: the track tree (`Structure`: `Track`s nested in folder/group tracks, each with a
//! `Channel` carrying `Volume`, `Pan`, `Mute`, `Devices`, `Sends` and a `destination`),
//! the tempo (`Transport/Tempo` and `Arrangement/TempoAutomation`), and the arrangement's
//! audio clips (`Clips/Clip` with `time`, `duration`, `playStart`, `playStop`,
//! `loopStart`/`loopEnd`, `fadeInTime`/`fadeOutTime` and their time units, holding an
//! `Audio` or a `Warps` over one). The built-in `Equalizer`, `Compressor` and `Limiter`
//! devices become Stemdeck effects. The format has no clip gain: clips come out at 0 dB.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use roxmltree::{Document, Node};
use stemdeck_session::effects::{
    BandShape, Compressor, Effect, EffectKind, Eq, EqBand, Limiter, MAX_LOOKAHEAD_MS,
};

use crate::tempo::{TempoMap, TempoPoint};
use crate::{Clip, Error, Project, ProjectFolder, ProjectMaster, ProjectTrack, linear_to_db};

const FORMAT: &str = "DAWproject";

/// Reads a DAWproject file. Audio embedded in it is extracted under `cache_dir`, in a
/// folder named by the entry's checksum and size, so opening the project again reuses
/// the files and two projects never share one by mistake.
pub fn read(path: &Path, cache_dir: &Path) -> Result<Project, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::invalid(path, FORMAT, format!("not a zip archive ({e})")))?;
    let project_xml = read_entry(&mut zip, "project.xml", path)?
        .ok_or_else(|| Error::invalid(path, FORMAT, "the archive holds no project.xml"))?;
    let metadata_xml = read_entry(&mut zip, "metadata.xml", path)?;
    let doc = Document::parse(&project_xml)
        .map_err(|e| Error::invalid(path, FORMAT, format!("project.xml is not valid XML: {e}")))?;
    let root = doc.root_element();
    if !root.has_tag_name("Project") {
        return Err(Error::invalid(
            path,
            FORMAT,
            format!(
                "project.xml holds <{}>, not <Project>",
                root.tag_name().name()
            ),
        ));
    }
    let title = metadata_xml.as_deref().and_then(|m| {
        let doc = Document::parse(m).ok()?;
        let t = doc
            .descendants()
            .find(|n| n.has_tag_name("Title"))?
            .text()?
            .trim()
            .to_string();
        (!t.is_empty()).then_some(t)
    });

    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut reader = Reader {
        path,
        dir,
        cache_dir,
        zip: &mut zip,
        ids: root
            .descendants()
            .filter_map(|n| n.attribute("id").map(|id| (id, n)))
            .collect(),
        tempo: TempoMap::constant(120.0),
        warnings: Vec::new(),
        tracks: Vec::new(),
        clips: HashMap::new(),
    };
    let tempo_bpm = reader.read_tempo(root);
    reader.read_structure(root);
    if let Some(arr) = child(root, "Arrangement") {
        let unit = Unit::of(arr.attribute("timeUnit")).unwrap_or(Unit::Beats);
        reader.walk_lanes(arr, None, unit)?;
    }
    let mut project = reader.finish(title.unwrap_or_else(|| crate::stem_name(path)));
    project.tempo_bpm = tempo_bpm;
    Ok(project)
}

fn read_entry(
    zip: &mut zip::ZipArchive<File>,
    name: &str,
    path: &Path,
) -> Result<Option<String>, Error> {
    let mut entry = match zip.by_name(name) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(Error::invalid(
                path,
                FORMAT,
                format!("{name} cannot be read ({e})"),
            ));
        }
    };
    let mut text = String::new();
    entry
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid(path, FORMAT, format!("{name} cannot be read ({e})")))?;
    Ok(Some(text))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Beats,
    Seconds,
}

impl Unit {
    fn of(attr: Option<&str>) -> Option<Unit> {
        match attr? {
            "beats" => Some(Unit::Beats),
            "seconds" => Some(Unit::Seconds),
            _ => None,
        }
    }
}

fn child<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

fn num(n: Node, attr: &str) -> Option<f64> {
    let v = n.attribute(attr)?.trim();
    match v {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => v.parse().ok(),
    }
}

/// A parameter element's value and unit (`<Volume unit="linear" value="0.5"/>`).
fn param<'a>(n: Node<'a, '_>, tag: &str) -> Option<(f64, &'a str)> {
    let p = child(n, tag)?;
    Some((num(p, "value")?, p.attribute("unit").unwrap_or("")))
}

fn bool_param(n: Node, tag: &str) -> Option<bool> {
    match child(n, tag)?.attribute("value")? {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn to_db(v: f64, unit: &str) -> Option<f32> {
    match unit {
        "decibel" => Some((v as f32).max(crate::MIN_GAIN_DB)),
        "linear" => Some(linear_to_db(v)),
        _ => None,
    }
}

/// A track in the structure, with where it sits.
struct TrackInfo<'a, 'i> {
    node: Node<'a, 'i>,
    name: String,
    channel: Option<Node<'a, 'i>>,
    /// The track it is nested in.
    parent: Option<usize>,
    has_children: bool,
}

impl TrackInfo<'_, '_> {
    fn label(&self) -> String {
        format!("Track \"{}\"", self.name)
    }

    fn role(&self) -> &str {
        self.channel
            .and_then(|c| c.attribute("role"))
            .unwrap_or("regular")
    }
}

struct Reader<'a, 'i, 'z> {
    path: &'z Path,
    dir: PathBuf,
    cache_dir: &'z Path,
    zip: &'z mut zip::ZipArchive<File>,
    ids: HashMap<&'a str, Node<'a, 'i>>,
    tempo: TempoMap,
    warnings: Vec<String>,
    tracks: Vec<TrackInfo<'a, 'i>>,
    /// Clips found in the arrangement, by track index.
    clips: HashMap<usize, Vec<Clip>>,
}

impl<'a, 'i> Reader<'a, 'i, '_> {
    /// The transport's tempo and the tempo lane; returns the song's starting tempo.
    fn read_tempo(&mut self, root: Node<'a, 'i>) -> Option<f64> {
        let transport = child(root, "Transport")
            .and_then(|t| param(t, "Tempo"))
            .map(|(v, _)| v)
            .filter(|v| v.is_finite() && *v > 0.0);
        let lane = child(root, "Arrangement").and_then(|a| child(a, "TempoAutomation"));
        let mut points = Vec::new();
        let mut in_seconds = false;
        if let Some(lane) = lane {
            in_seconds = Unit::of(lane.attribute("timeUnit")) == Some(Unit::Seconds);
            for p in lane.children().filter(|c| c.has_tag_name("RealPoint")) {
                let (Some(time), Some(bpm)) = (num(p, "time"), num(p, "value")) else {
                    self.warnings
                        .push("Tempo: a tempo change without a time or a value is left out".into());
                    continue;
                };
                if !(bpm.is_finite() && bpm > 0.0) {
                    self.warnings
                        .push(format!("Tempo: a tempo of {bpm} bpm is left out"));
                    continue;
                }
                points.push(TempoPoint {
                    time,
                    bpm,
                    linear: p.attribute("interpolation") == Some("linear"),
                });
            }
        }
        self.tempo = TempoMap::from_points(transport.unwrap_or(120.0), &points, in_seconds);
        if transport.is_some() || !points.is_empty() {
            Some(self.tempo.initial_bpm())
        } else {
            None
        }
    }

    fn read_structure(&mut self, root: Node<'a, 'i>) {
        let Some(structure) = child(root, "Structure") else {
            return;
        };
        for n in structure.children().filter(|n| n.is_element()) {
            self.add_track(n, None);
        }
    }

    fn add_track(&mut self, n: Node<'a, 'i>, parent: Option<usize>) {
        let (channel, kids): (Option<Node>, Vec<Node>) = if n.has_tag_name("Track") {
            (
                child(n, "Channel"),
                n.children().filter(|c| c.has_tag_name("Track")).collect(),
            )
        } else if n.has_tag_name("Channel") {
            (Some(n), Vec::new())
        } else {
            return;
        };
        let name = n
            .attribute("name")
            .or_else(|| channel.and_then(|c| c.attribute("name")))
            .filter(|s| !s.is_empty())
            .map_or_else(
                || format!("Track {}", self.tracks.len() + 1),
                str::to_string,
            );
        let index = self.tracks.len();
        self.tracks.push(TrackInfo {
            node: n,
            name,
            channel,
            parent,
            has_children: !kids.is_empty(),
        });
        for k in kids {
            self.add_track(k, Some(index));
        }
    }

    /// The track a node (a track, its channel, or a parameter inside either) belongs to.
    fn owner(&self, n: Node) -> Option<usize> {
        let mut cur = Some(n);
        while let Some(c) = cur {
            if let Some(i) = self
                .tracks
                .iter()
                .position(|t| t.node == c || t.channel == Some(c))
            {
                return Some(i);
            }
            cur = c.parent_element();
        }
        None
    }

    fn track_by_id(&self, id: &str) -> Option<usize> {
        self.owner(*self.ids.get(id)?)
    }

    /// The bus a track's signal goes to next: the folder it is nested in, else its
    /// channel's destination unless that is the master.
    fn bus_of(&self, i: usize) -> Option<usize> {
        let t = self.tracks.get(i)?;
        if let Some(p) = t.parent {
            return Some(p);
        }
        let dest = t.channel?.attribute("destination")?;
        let j = self.track_by_id(dest)?;
        let to = self.tracks.get(j)?;
        (j != i && to.role() != "master").then_some(j)
    }

    /// The chain of buses from a track up to the top level (nearest first).
    fn buses(&self, i: usize) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut cur = i;
        while let Some(b) = self.bus_of(cur) {
            if chain.contains(&b) || b == i {
                break;
            }
            chain.push(b);
            cur = b;
        }
        chain
    }

    fn walk_lanes(
        &mut self,
        n: Node<'a, 'i>,
        track: Option<usize>,
        unit: Unit,
    ) -> Result<(), Error> {
        for c in n.children().filter(|c| c.is_element()) {
            let track = c
                .attribute("track")
                .and_then(|id| self.track_by_id(id))
                .or(track);
            let unit = Unit::of(c.attribute("timeUnit")).unwrap_or(unit);
            match c.tag_name().name() {
                "Lanes" => self.walk_lanes(c, track, unit)?,
                "Clips" => {
                    for clip in c.children().filter(|k| k.has_tag_name("Clip")) {
                        self.read_clip(clip, track, unit)?;
                    }
                }
                "Points" => self.automation_warning(c, track),
                "Notes" => self.warn_track(track, "MIDI notes are not rendered"),
                "Audio" | "Warps" => self.warn_track(track, "audio outside a clip is not read"),
                "Video" => self.warn_track(track, "video is not rendered"),
                _ => {}
            }
        }
        Ok(())
    }

    fn label(&self, track: Option<usize>) -> String {
        track
            .and_then(|t| self.tracks.get(t))
            .map_or("Project".to_string(), TrackInfo::label)
    }

    fn warn_track(&mut self, track: Option<usize>, what: &str) {
        let label = self.label(track);
        self.warnings.push(format!("{label}: {what}"));
    }

    fn automation_warning(&mut self, points: Node<'a, 'i>, track: Option<usize>) {
        let target = child(points, "Target");
        let param = target
            .and_then(|t| t.attribute("parameter"))
            .and_then(|id| self.ids.get(id).copied());
        let (track, what) = match param {
            Some(p) => {
                let name = p.attribute("name").unwrap_or(p.tag_name().name());
                let device = p
                    .ancestors()
                    .find(|a| a.attribute("deviceName").is_some())
                    .and_then(|d| d.attribute("deviceName"));
                let what = match device {
                    Some(d) => format!("{d} {name}"),
                    None => name.to_string(),
                };
                (self.owner(p).or(track), what)
            }
            None => match target.and_then(|t| t.attribute("expression")) {
                Some(e) => (track, format!("MIDI {e}")),
                None => (track, "a parameter".to_string()),
            },
        };
        self.warn_track(track, &format!("automation of {what} is not rendered"));
    }

    fn read_clip(
        &mut self,
        clip: Node<'a, 'i>,
        track: Option<usize>,
        unit: Unit,
    ) -> Result<(), Error> {
        if clip.attribute("enable") == Some("false") {
            return Ok(());
        }
        let Some(time) = num(clip, "time") else {
            self.warn_track(track, "a clip without a time is left out");
            return Ok(());
        };
        let pos_s = match unit {
            Unit::Beats => self.tempo.seconds(time),
            Unit::Seconds => time,
        };
        let at = format!("clip at {pos_s:.3} s");
        let content = clip.children().find(|c| c.is_element()).or_else(|| {
            clip.attribute("reference")
                .and_then(|r| self.ids.get(r).copied())
        });
        let Some(content) = content else {
            self.warn_track(track, &format!("{at} has no content: left out"));
            return Ok(());
        };
        let (audio, warps) = match content.tag_name().name() {
            "Audio" => (content, None),
            "Warps" => {
                let Some(audio) = child(content, "Audio") else {
                    self.warn_track(
                        track,
                        &format!("{at}: warped content other than audio is not read"),
                    );
                    return Ok(());
                };
                let w: Vec<(f64, f64)> = content
                    .children()
                    .filter(|c| c.has_tag_name("Warp"))
                    .filter_map(|c| Some((num(c, "time")?, num(c, "contentTime")?)))
                    .collect();
                if Unit::of(content.attribute("contentTimeUnit")) == Some(Unit::Beats) {
                    self.warn_track(track, &format!("{at}: audio warped in beats is not read"));
                    return Ok(());
                }
                (audio, Some(w))
            }
            "Notes" => {
                self.warn_track(track, &format!("{at} holds MIDI notes: not rendered"));
                return Ok(());
            }
            "Lanes" if content.descendants().any(|d| d.has_tag_name("Notes")) => {
                self.warn_track(track, &format!("{at} holds MIDI notes: not rendered"));
                return Ok(());
            }
            "Points" => {
                self.automation_warning(content, track);
                return Ok(());
            }
            "Video" => {
                self.warn_track(track, &format!("{at} holds video: not rendered"));
                return Ok(());
            }
            other => {
                self.warn_track(
                    track,
                    &format!("{at} holds nested clips ({other}): not read"),
                );
                return Ok(());
            }
        };
        let Some(file) = self.audio_file(audio, track, &at)? else {
            return Ok(());
        };
        let Some(track) = track else {
            self.warnings
                .push(format!("Project: {at} belongs to no track: left out"));
            return Ok(());
        };

        // Content time (the clip's inside) against timeline seconds and file seconds.
        let content_unit = Unit::of(clip.attribute("contentTimeUnit"))
            .unwrap_or(if warps.is_some() { unit } else { Unit::Seconds });
        let play_start = num(clip, "playStart").unwrap_or(0.0);
        let beat0 = match unit {
            Unit::Beats => time,
            Unit::Seconds => self.tempo.beats(time),
        };
        let tempo = self.tempo.clone();
        // Timeline seconds `e` content units after the clip's start.
        let elapsed_s = |e: f64| match content_unit {
            Unit::Seconds => pos_s + e,
            Unit::Beats => tempo.seconds(beat0 + e),
        };
        let initial_bpm = tempo.initial_bpm();
        let file_s = |c: f64| match &warps {
            Some(w) => warp_map(w, c),
            None => match content_unit {
                Unit::Seconds => c,
                Unit::Beats => c * 60.0 / initial_bpm,
            },
        };
        if let Some(w) = &warps {
            let stretched = w.windows(2).any(|p| {
                let (Some(&(c0, a0)), Some(&(c1, a1))) = (p.first(), p.get(1)) else {
                    return false;
                };
                let timeline = elapsed_s(c1 - play_start) - elapsed_s(c0 - play_start);
                let file = a1 - a0;
                // Within a sample at 48 kHz over the segment, and a millionth of it.
                (timeline - file).abs() > 2e-5 + 1e-6 * file.abs()
            });
            if stretched {
                self.warn_track(
                    Some(track),
                    &format!("{at} is time-stretched (warped): placed unstretched"),
                );
            }
        }
        let end_s = match (num(clip, "duration"), num(clip, "playStop")) {
            (Some(d), _) => match unit {
                Unit::Beats => self.tempo.seconds(time + d),
                Unit::Seconds => time + d,
            },
            (None, Some(stop)) => elapsed_s(stop - play_start),
            (None, None) => {
                let audio_len = num(audio, "duration").unwrap_or(0.0);
                pos_s + (audio_len - file_s(play_start)).max(0.0)
            }
        };
        let fade_unit = Unit::of(clip.attribute("fadeTimeUnit")).unwrap_or(unit);
        let in_beats = |s: f64| self.tempo.beats(s);
        let fade_in_raw = num(clip, "fadeInTime").unwrap_or(0.0);
        let fade_out = num(clip, "fadeOutTime").unwrap_or(0.0).max(0.0);
        let dur_s = |from_s: f64, d: f64| match fade_unit {
            Unit::Seconds => d,
            Unit::Beats => self.tempo.seconds(in_beats(from_s) + d) - from_s,
        };
        let fade_in_s = dur_s(pos_s, fade_in_raw.abs());
        let fade_out_s = match fade_unit {
            Unit::Seconds => fade_out,
            Unit::Beats => end_s - self.tempo.seconds(in_beats(end_s) - fade_out),
        };
        // A negative fade-in is a cross-fade: the clip starts that much earlier.
        let lead_s = if fade_in_raw < 0.0 { fade_in_s } else { 0.0 };

        let loop_range = match (num(clip, "loopStart"), num(clip, "loopEnd")) {
            (Some(s), Some(e)) if e > s && play_start < e => Some((s, e)),
            _ => None,
        };
        let mut pieces = Vec::new();
        match loop_range {
            None => pieces.push(Clip {
                path: file.clone(),
                position_s: pos_s - lead_s,
                source_offset_s: (file_s(play_start) - lead_s).max(0.0),
                length_s: (end_s - pos_s + lead_s).max(0.0),
                fade_in_s,
                fade_out_s,
                gain_db: 0.0,
            }),
            Some((ls, le)) => {
                // A looped clip plays playStart..loopEnd, then loopStart..loopEnd again
                // until it ends: one clip per pass.
                let mut elapsed = 0.0;
                let mut from = play_start;
                while pieces.len() < 100_000 {
                    let start = elapsed_s(elapsed);
                    if start >= end_s - 1e-9 {
                        break;
                    }
                    let stop = elapsed_s(elapsed + (le - from)).min(end_s);
                    pieces.push(Clip {
                        path: file.clone(),
                        position_s: start,
                        source_offset_s: file_s(from).max(0.0),
                        length_s: stop - start,
                        fade_in_s: 0.0,
                        fade_out_s: 0.0,
                        gain_db: 0.0,
                    });
                    elapsed += le - from;
                    from = ls;
                }
                if let Some(first) = pieces.first_mut() {
                    first.fade_in_s = fade_in_s;
                }
                if let Some(last) = pieces.last_mut() {
                    last.fade_out_s = fade_out_s;
                }
            }
        }
        self.clips.entry(track).or_default().extend(pieces);
        Ok(())
    }

    /// The audio file of an `Audio` element: a path next to the project (`external`) or
    /// an entry of the archive, extracted to the cache.
    fn audio_file(
        &mut self,
        audio: Node,
        track: Option<usize>,
        at: &str,
    ) -> Result<Option<PathBuf>, Error> {
        let Some(f) = child(audio, "File") else {
            self.warn_track(track, &format!("{at} names no audio file: left out"));
            return Ok(None);
        };
        let Some(rel) = f.attribute("path") else {
            self.warn_track(track, &format!("{at} names no audio file: left out"));
            return Ok(None);
        };
        if f.attribute("external") == Some("true") {
            let p = PathBuf::from(rel);
            return Ok(Some(if p.is_absolute() { p } else { self.dir.join(p) }));
        }
        match extract(self.zip, self.cache_dir, self.path, rel)? {
            Ok(to) => Ok(Some(to)),
            Err(why) => {
                self.warn_track(track, &format!("{at}: audio \"{rel}\" {why}: left out"));
                Ok(None)
            }
        }
    }

    /// A channel's devices as Stemdeck effects, with a warning for each one that is not.
    fn effects(&mut self, channel: Option<Node>, label: &str) -> Vec<Effect> {
        let mut out = Vec::new();
        let Some(devices) = channel.and_then(|c| child(c, "Devices")) else {
            return out;
        };
        for d in devices.children().filter(|d| d.is_element()) {
            let enabled = bool_param(d, "Enabled").unwrap_or(true);
            let name = d
                .attribute("deviceName")
                .or(d.attribute("name"))
                .unwrap_or(d.tag_name().name())
                .to_string();
            let kind = match d.tag_name().name() {
                "Equalizer" => self.eq(d, label, &name),
                "Compressor" => self.compressor(d, label, &name),
                "Limiter" => self.limiter(d, label, &name),
                "Vst2Plugin" | "Vst3Plugin" | "ClapPlugin" | "AuPlugin" => {
                    if enabled {
                        self.warnings
                            .push(format!("{label}: plugin \"{name}\" is not rendered"));
                    }
                    None
                }
                _ => {
                    if enabled {
                        self.warnings
                            .push(format!("{label}: device \"{name}\" is not rendered"));
                    }
                    None
                }
            };
            if let Some(kind) = kind {
                out.push(Effect {
                    kind,
                    bypass: !enabled,
                });
            }
        }
        out
    }

    fn unit_warning(&mut self, label: &str, device: &str, what: &str) {
        self.warnings
            .push(format!("{label}: {device}: {what} is not rendered"));
    }

    fn gains_warning(&mut self, d: Node, label: &str, device: &str) {
        for g in ["InputGain", "OutputGain"] {
            if let Some((v, u)) = param(d, g) {
                let db = to_db(v, u);
                if db.is_none_or(|db| db.abs() > 1e-3) {
                    self.unit_warning(label, device, &format!("{g} {v} {u}"));
                }
            }
        }
    }

    fn eq(&mut self, d: Node, label: &str, name: &str) -> Option<EffectKind> {
        let mut bands = Vec::new();
        for b in d.children().filter(|b| b.has_tag_name("Band")) {
            if bool_param(b, "Enabled") == Some(false) {
                continue;
            }
            let ty = b.attribute("type").unwrap_or("");
            let shape = match ty {
                "highPass" => BandShape::Highpass,
                "lowPass" => BandShape::Lowpass,
                "highShelf" => BandShape::Highshelf,
                "lowShelf" => BandShape::Lowshelf,
                "bell" => BandShape::Peak,
                _ => {
                    self.unit_warning(label, name, &format!("a {ty} band"));
                    continue;
                }
            };
            let Some((freq_hz, "hertz")) = param(b, "Freq") else {
                self.unit_warning(label, name, "a band without a frequency in hertz");
                continue;
            };
            let gain_db = match param(b, "Gain") {
                Some((v, u)) => to_db(v, u).unwrap_or_else(|| {
                    self.unit_warning(label, name, &format!("a band gain in {u}"));
                    0.0
                }),
                None => 0.0,
            };
            let q = param(b, "Q").map_or(std::f64::consts::FRAC_1_SQRT_2, |(v, _)| v);
            if let Some(order) = b.attribute("order").and_then(|o| o.parse::<u32>().ok())
                && order > 2
                && !shape.has_gain()
            {
                self.unit_warning(
                    label,
                    name,
                    &format!(
                        "the {}-pole slope of a {ty} band (rendered as 2-pole)",
                        order
                    ),
                );
            }
            bands.push(EqBand {
                shape,
                freq_hz: freq_hz as f32,
                gain_db,
                q: q as f32,
            });
        }
        self.gains_warning(d, label, name);
        Some(EffectKind::Eq(Eq { bands }))
    }

    fn compressor(&mut self, d: Node, label: &str, name: &str) -> Option<EffectKind> {
        let mut c = Compressor {
            makeup_db: 0.0,
            ..Compressor::default()
        };
        if let Some((v, u)) = param(d, "Threshold") {
            match to_db(v, u) {
                Some(db) => c.threshold_db = db,
                None => self.unit_warning(label, name, &format!("a threshold in {u}")),
            }
        }
        if let Some((v, _)) = param(d, "Ratio") {
            c.ratio = (v as f32).max(1.0);
        }
        if let Some(ms) = self.ms(d, "Attack", label, name) {
            c.attack_ms = ms;
        }
        if let Some(ms) = self.ms(d, "Release", label, name) {
            c.release_ms = ms;
        }
        if let Some((v, u)) = param(d, "OutputGain") {
            match to_db(v, u) {
                Some(db) => c.makeup_db = db,
                None => self.unit_warning(label, name, &format!("an output gain in {u}")),
            }
        }
        if let Some((v, u)) = param(d, "InputGain")
            && to_db(v, u).is_none_or(|db| db.abs() > 1e-3)
        {
            self.unit_warning(label, name, &format!("InputGain {v} {u}"));
        }
        if bool_param(d, "AutoMakeup") == Some(true) {
            self.unit_warning(label, name, "automatic make-up gain");
        }
        Some(EffectKind::Compressor(c))
    }

    fn limiter(&mut self, d: Node, label: &str, name: &str) -> Option<EffectKind> {
        let mut l = Limiter::default();
        if let Some((v, u)) = param(d, "Threshold") {
            match to_db(v, u) {
                Some(db) if db > 0.0 => {
                    self.unit_warning(
                        label,
                        name,
                        &format!("a threshold above 0 dB ({db} dB, rendered at 0)"),
                    );
                    l.ceiling_db = 0.0;
                }
                Some(db) => l.ceiling_db = db,
                None => self.unit_warning(label, name, &format!("a threshold in {u}")),
            }
        }
        if let Some(ms) = self.ms(d, "Release", label, name) {
            l.release_ms = ms;
        }
        // The look-ahead is how early the gain starts coming down: the attack.
        if let Some(ms) = self.ms(d, "Attack", label, name) {
            if ms > MAX_LOOKAHEAD_MS {
                self.unit_warning(
                    label,
                    name,
                    &format!("an attack of {ms} ms (rendered as {MAX_LOOKAHEAD_MS} ms)"),
                );
            }
            l.lookahead_ms = ms.min(MAX_LOOKAHEAD_MS);
        }
        self.gains_warning(d, label, name);
        Some(EffectKind::Limiter(l))
    }

    fn ms(&mut self, d: Node, tag: &str, label: &str, name: &str) -> Option<f32> {
        let (v, u) = param(d, tag)?;
        match u {
            "seconds" => Some((v * 1000.0).max(0.0) as f32),
            _ => {
                self.unit_warning(label, name, &format!("{tag} in {u}"));
                None
            }
        }
    }

    fn sends_warnings(&mut self, channel: Option<Node>, label: &str) {
        let Some(sends) = channel.and_then(|c| child(c, "Sends")) else {
            return;
        };
        for s in sends.children().filter(|s| s.has_tag_name("Send")) {
            if bool_param(s, "Enable") == Some(false) {
                continue;
            }
            let silent = param(s, "Volume")
                .and_then(|(v, u)| to_db(v, u))
                .is_some_and(|db| db <= crate::MIN_GAIN_DB);
            if silent {
                continue;
            }
            let to = s
                .attribute("destination")
                .and_then(|id| self.track_by_id(id))
                .and_then(|t| self.tracks.get(t))
                .map_or("another channel".to_string(), |t| format!("\"{}\"", t.name));
            self.warnings
                .push(format!("{label}: send to {to} is not rendered"));
        }
    }

    fn fader(&mut self, i: usize) -> (f32, f32, bool) {
        let Some(t) = self.tracks.get(i) else {
            return (0.0, 0.0, false);
        };
        let label = t.label();
        let Some(c) = t.channel else {
            return (0.0, 0.0, false);
        };
        let gain = match param(c, "Volume") {
            Some((v, u)) => to_db(v, u).unwrap_or_else(|| {
                self.warnings
                    .push(format!("{label}: a volume in {u} is not read (0 dB used)"));
                0.0
            }),
            None => 0.0,
        };
        let pan = match param(c, "Pan") {
            Some((v, "normalized")) => (2.0 * v - 1.0) as f32,
            Some((v, "percent")) => (v / 100.0) as f32,
            Some((v, "linear")) => v as f32,
            Some((_, u)) => {
                self.warnings
                    .push(format!("{label}: a pan in {u} is not read (centre used)"));
                0.0
            }
            None => 0.0,
        };
        let mute = bool_param(c, "Mute").unwrap_or(false);
        (gain, pan.clamp(-1.0, 1.0), mute)
    }

    fn finish(mut self, name: String) -> Project {
        let n = self.tracks.len();
        let is_bus: Vec<bool> = (0..n)
            .map(|i| {
                let t = &self.tracks[i];
                t.has_children
                    || matches!(t.role(), "submix" | "master")
                    || (0..n).any(|j| {
                        j != i && self.bus_of(j) == Some(i) && self.tracks[j].parent.is_none()
                    })
            })
            .collect();
        let master = self.tracks.iter().position(|t| t.role() == "master");
        let mut project_master = ProjectMaster::default();
        if let Some(m) = master {
            let (g, _, _) = self.fader(m);
            project_master.gain_db = g;
            project_master.effects = self.effects(self.tracks[m].channel, "Master");
            self.sends_warnings(self.tracks[m].channel, "Master");
        }
        let mut folders = Vec::new();
        let mut tracks = Vec::new();
        let mut top_folder = vec![None; n];
        for i in 0..n {
            if Some(i) == master {
                continue;
            }
            let label = self.tracks[i].label();
            let (gain_db, pan, mute) = self.fader(i);
            let effects = self.effects(self.tracks[i].channel, &label);
            self.sends_warnings(self.tracks[i].channel, &label);
            let chain = self.buses(i);
            let top = chain.last().copied();
            top_folder[i] = top;
            let is_top_bus = is_bus[i] && top.is_none();
            if is_top_bus {
                folders.push(ProjectFolder {
                    name: self.tracks[i].name.clone(),
                    gain_db,
                    pan,
                    mute,
                    effects: effects.clone(),
                });
            }
            let clips = self.clips.remove(&i).unwrap_or_default();
            let audio_track = self.tracks[i]
                .node
                .attribute("contentType")
                .is_some_and(|c| c.split_whitespace().any(|t| t == "audio"));
            if clips.is_empty() && (is_bus[i] || !audio_track) {
                continue;
            }
            // Buses between the track and its top-level folder fold in their fader and
            // mute; what cannot fold is named.
            let nested = chain
                .get(..chain.len().saturating_sub(1))
                .unwrap_or_default()
                .to_vec();
            let mut g = if is_top_bus { 0.0 } else { gain_db };
            let mut m = !is_top_bus && mute;
            for b in nested {
                let (bg, bp, bm) = self.fader(b);
                g += bg;
                m |= bm;
                let bus = self.tracks[b].name.clone();
                if bp != 0.0 {
                    self.warnings.push(format!(
                        "{label}: the pan of group \"{bus}\" is not rendered"
                    ));
                }
                let bus_channel = self.tracks[b].channel;
                let before = self.warnings.len();
                let fx = self.effects(bus_channel, "");
                self.warnings.truncate(before);
                let has_devices = bus_channel
                    .and_then(|c| child(c, "Devices"))
                    .is_some_and(|d| d.children().any(|x| x.is_element()));
                if !fx.is_empty() || has_devices {
                    self.warnings.push(format!(
                        "{label}: the effects of group \"{bus}\" are not rendered"
                    ));
                }
            }
            tracks.push(ProjectTrack {
                name: self.tracks[i].name.clone(),
                folder: if is_top_bus {
                    Some(self.tracks[i].name.clone())
                } else {
                    top.and_then(|t| self.tracks.get(t)).map(|t| t.name.clone())
                },
                gain_db: g,
                pan: if is_top_bus { 0.0 } else { pan },
                mute: m,
                clips,
                effects: if is_top_bus { Vec::new() } else { effects },
            });
        }
        let mut seen = std::collections::HashSet::new();
        let warnings = self
            .warnings
            .into_iter()
            .filter(|w| seen.insert(w.clone()))
            .collect();
        Project {
            name,
            sample_rate: None,
            tempo_bpm: None,
            tracks,
            folders,
            master: project_master,
            warnings,
        }
    }
}

/// File seconds at content time `c` through warp markers (content time → file seconds),
/// linear between them and beyond the ends along the nearest segment.
fn warp_map(w: &[(f64, f64)], c: f64) -> f64 {
    match w {
        [] => c,
        [(t, a)] => a + (c - t),
        _ => {
            let i = w
                .windows(2)
                .position(|p| p.get(1).is_some_and(|&(t1, _)| c < t1))
                .unwrap_or(w.len() - 2);
            let (Some(&(t0, a0)), Some(&(t1, a1))) = (w.get(i), w.get(i + 1)) else {
                return c;
            };
            if t1 == t0 {
                return a0;
            }
            a0 + (c - t0) * (a1 - a0) / (t1 - t0)
        }
    }
}

/// Extracts an archive entry to the cache (or finds it there): its path, or why not.
fn extract(
    zip: &mut zip::ZipArchive<File>,
    cache_dir: &Path,
    project: &Path,
    rel: &str,
) -> Result<Result<PathBuf, &'static str>, Error> {
    let Ok(mut entry) = zip.by_name(rel) else {
        return Ok(Err("is not in the project file"));
    };
    let Some(name) = entry
        .enclosed_name()
        .and_then(|p| p.file_name().map(|n| n.to_os_string()))
    else {
        return Ok(Err("has an unsafe name"));
    };
    let folder = cache_dir.join(format!("{:08x}-{}", entry.crc32(), entry.size()));
    let to = folder.join(name);
    if std::fs::metadata(&to).is_ok_and(|m| m.len() == entry.size()) {
        return Ok(Ok(to));
    }
    let extract_err = |e| Error::Extract {
        path: project.to_path_buf(),
        to: to.clone(),
        source: e,
    };
    std::fs::create_dir_all(&folder).map_err(extract_err)?;
    // Written to a temporary file and renamed, so a cut-short extraction is never taken
    // for the audio next time.
    let mut tmp = tempfile::NamedTempFile::new_in(&folder).map_err(extract_err)?;
    std::io::copy(&mut entry, &mut tmp).map_err(extract_err)?;
    tmp.persist(&to).map_err(|e| extract_err(e.error))?;
    Ok(Ok(to))
}
