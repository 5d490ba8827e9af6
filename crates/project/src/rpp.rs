//! REAPER projects (`.rpp`): a text file of nested chunks, `<TAG args` … `>`, each line
//! a keyword and space-separated values (quoted with `"`, `'` or `` ` `` when they hold
//! spaces). Positions are stored in seconds, so no tempo conversion is needed.
//!
//! The one Rust parser on crates.io (rpp-parser) has two releases and a hundred
//! downloads a month; the chunk syntax is a few lines, so it is parsed here.
//!
//! Read: `TEMPO`, `SAMPLERATE`, `MASTER_VOLUME`; each `<TRACK>`'s `NAME`, `VOLPAN`,
//! `MUTESOLO`, `ISBUS` (folder depth); each `<ITEM>`'s `POSITION`, `LENGTH`, `SOFFS`,
//! `FADEIN`, `FADEOUT`, `VOLPAN`, `MUTE`, `PLAYRATE`, its takes (`TAKE`, `TAKE SEL`) and
//! `<SOURCE …>` with `FILE` (through `<SOURCE SECTION>`). Plugins, envelopes, sends,
//! MIDI and stretched items are named in warnings.

use std::path::{Path, PathBuf};

use crate::{Clip, Error, Project, ProjectFolder, ProjectMaster, ProjectTrack, linear_to_db};

const FORMAT: &str = "REAPER";

#[derive(Debug, Default)]
struct Chunk {
    tag: String,
    args: Vec<String>,
    entries: Vec<Entry>,
}

#[derive(Debug)]
enum Entry {
    Line(Vec<String>),
    Chunk(Chunk),
}

impl Chunk {
    fn lines(&self) -> impl Iterator<Item = &Vec<String>> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Line(l) => Some(l),
            Entry::Chunk(_) => None,
        })
    }

    fn chunks(&self) -> impl Iterator<Item = &Chunk> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Chunk(c) => Some(c),
            Entry::Line(_) => None,
        })
    }

    /// The values of the first line with this keyword.
    fn line(&self, key: &str) -> Option<&[String]> {
        self.lines()
            .find(|l| l.first().is_some_and(|k| k == key))
            .map(|l| l.get(1..).unwrap_or_default())
    }

    fn num(&self, key: &str, index: usize) -> Option<f64> {
        self.line(key)?.get(index)?.parse().ok()
    }
}

/// Splits a line into values: spaces separate, a value starting with a quote runs to the
/// same quote.
fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut tok = String::new();
        if matches!(c, '"' | '\'' | '`') {
            chars.next();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                tok.push(d);
            }
        } else {
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                tok.push(d);
                chars.next();
            }
        }
        out.push(tok);
    }
    out
}

fn parse(text: &str, path: &Path) -> Result<Chunk, Error> {
    let mut stack: Vec<Chunk> = Vec::new();
    let mut root: Option<Chunk> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if root.is_some() {
            return Err(Error::invalid(
                path,
                FORMAT,
                format!("line {}: text after the project's closing '>'", n + 1),
            ));
        }
        if let Some(rest) = line.strip_prefix('<') {
            let mut toks = tokenize(rest);
            let tag = if toks.is_empty() {
                String::new()
            } else {
                toks.remove(0)
            };
            if stack.is_empty() && tag != "REAPER_PROJECT" {
                return Err(Error::invalid(
                    path,
                    FORMAT,
                    "it does not start with <REAPER_PROJECT",
                ));
            }
            stack.push(Chunk {
                tag,
                args: toks,
                entries: Vec::new(),
            });
        } else if line == ">" {
            let Some(done) = stack.pop() else {
                return Err(Error::invalid(
                    path,
                    FORMAT,
                    format!("line {}: a '>' closes no chunk", n + 1),
                ));
            };
            match stack.last_mut() {
                Some(parent) => parent.entries.push(Entry::Chunk(done)),
                None => root = Some(done),
            }
        } else {
            let Some(cur) = stack.last_mut() else {
                return Err(Error::invalid(
                    path,
                    FORMAT,
                    "it does not start with <REAPER_PROJECT",
                ));
            };
            cur.entries.push(Entry::Line(tokenize(line)));
        }
    }
    if let Some(open) = stack.last() {
        return Err(Error::invalid(
            path,
            FORMAT,
            format!("it ends inside a <{}> chunk (cut short?)", open.tag),
        ));
    }
    root.ok_or_else(|| Error::invalid(path, FORMAT, "the file is empty"))
}

/// Reads a REAPER project. Audio paths are resolved against the project's folder.
pub fn read(path: &Path) -> Result<Project, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    // REAPER writes UTF-8; a stray byte in a name must not make the project unreadable.
    let text = String::from_utf8_lossy(&bytes);
    let root = parse(&text, path)?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    Ok(read_root(&root, &dir, crate::stem_name(path)))
}

/// One open folder while walking the track list.
struct OpenFolder {
    name: String,
    gain_db: f32,
    pan: f32,
    mute: bool,
}

fn read_root(root: &Chunk, dir: &Path, name: String) -> Project {
    let mut warnings = Vec::new();
    let tempo_bpm = root.num("TEMPO", 0).filter(|t| *t > 0.0);
    let sample_rate = root
        .num("SAMPLERATE", 0)
        .filter(|r| *r >= 1.0 && *r <= f64::from(u32::MAX))
        .map(|r| r as u32);
    let master = ProjectMaster {
        gain_db: root.num("MASTER_VOLUME", 0).map_or(0.0, linear_to_db),
        effects: Vec::new(),
    };
    if let Some(fx) = root.chunks().find(|c| c.tag == "MASTERFXLIST") {
        plugin_warnings(fx, "Master", &mut warnings);
    }
    for env in root
        .chunks()
        .filter(|c| is_envelope(&c.tag) && c.tag != "TEMPOENVEX")
    {
        envelope_warning(env, "Master", &mut warnings);
    }

    let track_chunks: Vec<&Chunk> = root.chunks().filter(|c| c.tag == "TRACK").collect();
    let names: Vec<String> = track_chunks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.line("NAME")
                .and_then(|v| v.first())
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("Track {}", i + 1))
        })
        .collect();

    let mut tracks = Vec::new();
    let mut folders = Vec::new();
    let mut open: Vec<OpenFolder> = Vec::new();
    for (i, t) in track_chunks.iter().enumerate() {
        let name = names.get(i).cloned().unwrap_or_default();
        let label = format!("Track \"{name}\"");
        let gain_db = t.num("VOLPAN", 0).map_or(0.0, linear_to_db);
        let pan = t.num("VOLPAN", 1).unwrap_or(0.0).clamp(-1.0, 1.0) as f32;
        let mute = t.num("MUTESOLO", 0).is_some_and(|m| m != 0.0);
        if t.num("MUTESOLO", 1).is_some_and(|s| s != 0.0) {
            warnings.push(format!("{label}: solo is not carried over"));
        }
        if t.num("MAINSEND", 0).is_some_and(|m| m == 0.0) {
            warnings.push(format!(
                "{label}: does not feed its parent or the master in REAPER; it is mixed in"
            ));
        }
        for recv in t
            .lines()
            .filter(|l| l.first().is_some_and(|k| k == "AUXRECV"))
        {
            let src = recv
                .get(1)
                .and_then(|s| s.parse::<usize>().ok())
                .and_then(|s| names.get(s));
            let src = src.map_or("a track".to_string(), |s| format!("Track \"{s}\""));
            warnings.push(format!("{src}: send to \"{name}\" is not rendered"));
        }
        if let Some(fx) = t.chunks().find(|c| c.tag == "FXCHAIN") {
            plugin_warnings(fx, &label, &mut warnings);
        }
        for env in t.chunks().filter(|c| is_envelope(&c.tag)) {
            envelope_warning(env, &label, &mut warnings);
        }
        let depth_change = t
            .line("ISBUS")
            .and_then(|v| v.get(1))
            .and_then(|d| d.parse::<i64>().ok())
            .unwrap_or(0);
        let is_folder = depth_change > 0;

        let mut clips = Vec::new();
        for item in t.chunks().filter(|c| c.tag == "ITEM") {
            if let Some(clip) = read_item(item, dir, &label, &mut warnings) {
                clips.push(clip);
            }
        }

        // The track's place: the top-level folder names the stem; folders nested below
        // it fold their fader and mute into the track.
        let top = open.first().map(|f| f.name.clone());
        let nested = open.get(1..).unwrap_or_default();
        let nested_gain: f32 = nested.iter().map(|f| f.gain_db).sum();
        let nested_mute = nested.iter().any(|f| f.mute);
        for f in nested.iter().filter(|f| f.pan != 0.0) {
            warnings.push(format!(
                "{label}: the pan of folder \"{}\" inside \"{}\" is not rendered",
                f.name,
                top.as_deref().unwrap_or_default()
            ));
        }

        if is_folder {
            let this = OpenFolder {
                name: name.clone(),
                gain_db,
                pan,
                mute,
            };
            if open.is_empty() {
                folders.push(ProjectFolder {
                    name: name.clone(),
                    gain_db,
                    pan,
                    mute,
                    effects: Vec::new(),
                });
                // Its own items play through its fader, which is the stem's.
                if !clips.is_empty() {
                    tracks.push(ProjectTrack {
                        name: name.clone(),
                        folder: Some(name.clone()),
                        gain_db: 0.0,
                        pan: 0.0,
                        mute: false,
                        clips,
                        effects: Vec::new(),
                    });
                }
            } else {
                if this.pan != 0.0 && !clips.is_empty() {
                    warnings.push(format!(
                        "{label}: the pan of folder \"{name}\" is not rendered"
                    ));
                }
                if !clips.is_empty() {
                    tracks.push(ProjectTrack {
                        name: name.clone(),
                        folder: top,
                        gain_db: gain_db + nested_gain,
                        pan: 0.0,
                        mute: mute || nested_mute,
                        clips,
                        effects: Vec::new(),
                    });
                }
            }
            open.push(this);
        } else {
            tracks.push(ProjectTrack {
                name,
                folder: top,
                gain_db: gain_db + nested_gain,
                pan,
                mute: mute || nested_mute,
                clips,
                effects: Vec::new(),
            });
        }
        if depth_change < 0 {
            let close = usize::try_from(depth_change.unsigned_abs()).unwrap_or(usize::MAX);
            let keep = open.len().saturating_sub(close);
            open.truncate(keep);
        }
    }

    Project {
        name,
        sample_rate,
        tempo_bpm,
        tracks,
        folders,
        master,
        warnings,
    }
}

/// One take of an item: the lines from its `TAKE` line (or the item's start) to the next.
#[derive(Default)]
struct Take<'a> {
    lines: Vec<&'a Vec<String>>,
    source: Option<&'a Chunk>,
    selected: bool,
}

impl Take<'_> {
    fn num(&self, key: &str, index: usize) -> Option<f64> {
        self.lines
            .iter()
            .find(|l| l.first().is_some_and(|k| k == key))
            .and_then(|l| l.get(index + 1))
            .and_then(|v| v.parse().ok())
    }
}

fn read_item(item: &Chunk, dir: &Path, label: &str, warnings: &mut Vec<String>) -> Option<Clip> {
    let position = item.num("POSITION", 0).unwrap_or(0.0);
    let at = format!("{label}: item at {position:.3} s");
    // A muted item is silent in REAPER too.
    if item.num("MUTE", 0).is_some_and(|m| m != 0.0) {
        return None;
    }
    let mut takes: Vec<Take> = vec![Take::default()];
    for e in &item.entries {
        match e {
            Entry::Line(l) if l.first().is_some_and(|k| k == "TAKE") => takes.push(Take {
                selected: l.iter().skip(1).any(|a| a == "SEL"),
                ..Take::default()
            }),
            Entry::Line(l) => {
                if let Some(t) = takes.last_mut() {
                    t.lines.push(l);
                }
            }
            Entry::Chunk(c) if c.tag == "SOURCE" => {
                if let Some(t) = takes.last_mut() {
                    t.source = Some(c);
                }
            }
            Entry::Chunk(c) if c.tag == "TAKEFX" => plugin_warnings(c, &at, warnings),
            Entry::Chunk(c) if is_envelope(&c.tag) => envelope_warning(c, &at, warnings),
            Entry::Chunk(_) => {}
        }
    }
    let take = takes
        .iter()
        .find(|t| t.selected)
        .or(takes.first())
        .filter(|t| t.source.is_some())?;
    let source = take.source?;

    let rate = take.num("PLAYRATE", 0).unwrap_or(1.0);
    if (rate - 1.0).abs() > 1e-9 {
        warnings.push(format!(
            "{at} plays at rate {rate} (time-stretched): placed unstretched"
        ));
    }
    if take.num("PLAYRATE", 2).is_some_and(|p| p != 0.0) {
        warnings.push(format!("{at} is pitch-shifted: placed unshifted"));
    }
    let item_vol = item.num("VOLPAN", 0).unwrap_or(1.0);
    // The first take's volume sits on the item's VOLPAN line (third value); a later
    // take's on its TAKEVOLPAN line (second value).
    let take_vol = if std::ptr::eq(take, &takes[0]) {
        item.num("VOLPAN", 2).unwrap_or(1.0)
    } else {
        take.num("TAKEVOLPAN", 1).unwrap_or(1.0)
    };
    if item_vol * take_vol < 0.0 {
        warnings.push(format!("{at} has its polarity inverted: not rendered"));
    }

    let (file, section_start) = resolve_source(source, &at, warnings)?;
    let mut path = PathBuf::from(&file);
    if path.is_relative() {
        // A project saved on Windows separates with backslashes.
        let local = dir.join(&file);
        path = if !local.exists() && file.contains('\\') {
            dir.join(file.replace('\\', "/"))
        } else {
            local
        };
    }
    Some(Clip {
        path,
        position_s: position,
        source_offset_s: take.num("SOFFS", 0).unwrap_or(0.0) + section_start,
        length_s: item.num("LENGTH", 0).unwrap_or(0.0).max(0.0),
        fade_in_s: item.num("FADEIN", 1).unwrap_or(0.0).max(0.0),
        fade_out_s: item.num("FADEOUT", 1).unwrap_or(0.0).max(0.0),
        gain_db: linear_to_db(item_vol * take_vol),
    })
}

/// The audio file behind a source and where in it a section starts.
fn resolve_source(src: &Chunk, at: &str, warnings: &mut Vec<String>) -> Option<(String, f64)> {
    let kind = src.args.first().map(String::as_str).unwrap_or_default();
    match kind {
        "WAVE" | "FLAC" | "MP3" | "VORBIS" | "OPUS" | "WAVPACK" | "VIDEO" => {
            let file = src.line("FILE").and_then(|v| v.first()).cloned();
            if file.is_none() {
                warnings.push(format!("{at} names no file: left out"));
            }
            file.map(|f| (f, 0.0))
        }
        "SECTION" => {
            if src.num("MODE", 0).is_some_and(|m| (m as i64) & 2 != 0) {
                warnings.push(format!("{at} plays reversed: placed forwards"));
            }
            let start = src.num("STARTPOS", 0).unwrap_or(0.0);
            let inner = src.chunks().find(|c| c.tag == "SOURCE")?;
            resolve_source(inner, at, warnings).map(|(f, s)| (f, s + start))
        }
        "MIDI" | "MIDIPOOL" => {
            warnings.push(format!("{at} is MIDI: not rendered"));
            None
        }
        "EMPTY" => None,
        other => {
            warnings.push(format!("{at} has a source of type {other}: not read"));
            None
        }
    }
}

fn is_envelope(tag: &str) -> bool {
    tag.ends_with("ENV") || tag.contains("ENV2") || tag.contains("ENV3") || tag == "TEMPOENVEX"
}

/// An active envelope with points changes the sound over time: name it.
fn envelope_warning(env: &Chunk, label: &str, warnings: &mut Vec<String>) {
    let active = env.num("ACT", 0).is_none_or(|a| a != 0.0);
    let has_points = env.lines().any(|l| l.first().is_some_and(|k| k == "PT"));
    if active && has_points {
        let what = env
            .tag
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_end_matches("ENV")
            .to_lowercase();
        warnings.push(format!("{label}: {what} automation is not rendered"));
    }
}

/// Every plugin of an FX chain that is not bypassed (`BYPASS 1` before it).
fn plugin_warnings(fx: &Chunk, label: &str, warnings: &mut Vec<String>) {
    let mut bypassed = false;
    for e in &fx.entries {
        match e {
            Entry::Line(l) if l.first().is_some_and(|k| k == "BYPASS") => {
                bypassed = l.get(1).is_some_and(|b| b != "0");
            }
            Entry::Chunk(c)
                if matches!(c.tag.as_str(), "VST" | "JS" | "AU" | "CLAP" | "DX" | "LV2") =>
            {
                if !bypassed {
                    let name = c.args.first().cloned().unwrap_or_else(|| c.tag.clone());
                    warnings.push(format!("{label}: plugin \"{name}\" is not rendered"));
                }
                bypassed = false;
            }
            Entry::Chunk(c) if is_envelope(&c.tag) => envelope_warning(c, label, warnings),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_on_spaces_and_quotes() {
        assert_eq!(
            tokenize(r#"FILE "my kick.wav" 'a "b"' `c 'd'` 1.5"#),
            vec!["FILE", "my kick.wav", "a \"b\"", "c 'd'", "1.5"]
        );
    }
}
