//! The arrangement's lanes: audio clips placed in seconds (through the tempo map for
//! beats), with their fades, loops and warps; a warning for what is not audio.

use std::collections::HashMap;
use std::path::PathBuf;

use roxmltree::Node;

use super::archive::Archive;
use super::structure::Structure;
use super::xml::{Unit, child, num};
use crate::tempo::TempoMap;
use crate::{Clip, Error};

/// The clips of the arrangement `arr`, by track index. `unit` is the time unit where
/// the lanes name none.
pub(super) fn read(
    arr: Node,
    unit: Unit,
    structure: &Structure,
    tempo: &TempoMap,
    archive: &mut Archive,
    warnings: &mut Vec<String>,
) -> Result<HashMap<usize, Vec<Clip>>, Error> {
    let mut reader = Lanes {
        structure,
        tempo,
        archive,
        warnings,
        clips: HashMap::new(),
    };
    reader.walk_lanes(arr, None, unit)?;
    Ok(reader.clips)
}

struct Lanes<'r, 'a, 'i, 'p> {
    structure: &'r Structure<'a, 'i>,
    tempo: &'r TempoMap,
    archive: &'r mut Archive<'p>,
    warnings: &'r mut Vec<String>,
    /// Clips found in the arrangement, by track index.
    clips: HashMap<usize, Vec<Clip>>,
}

impl<'a, 'i> Lanes<'_, 'a, 'i, '_> {
    fn walk_lanes(
        &mut self,
        n: Node<'a, 'i>,
        track: Option<usize>,
        unit: Unit,
    ) -> Result<(), Error> {
        for c in n.children().filter(|c| c.is_element()) {
            let track = c
                .attribute("track")
                .and_then(|id| self.structure.track_by_id(id))
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

    fn warn_track(&mut self, track: Option<usize>, what: &str) {
        let label = self.structure.label(track);
        self.warnings.push(format!("{label}: {what}"));
    }

    fn automation_warning(&mut self, points: Node<'a, 'i>, track: Option<usize>) {
        let target = child(points, "Target");
        let param = target
            .and_then(|t| t.attribute("parameter"))
            .and_then(|id| self.structure.ids.get(id).copied());
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
                (self.structure.owner(p).or(track), what)
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
        let tempo = self.tempo;
        let pos_s = match unit {
            Unit::Beats => tempo.seconds(time),
            Unit::Seconds => time,
        };
        let at = format!("clip at {pos_s:.3} s");
        let content = clip.children().find(|c| c.is_element()).or_else(|| {
            clip.attribute("reference")
                .and_then(|r| self.structure.ids.get(r).copied())
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
            Unit::Seconds => tempo.beats(time),
        };
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
                Unit::Beats => tempo.seconds(time + d),
                Unit::Seconds => time + d,
            },
            (None, Some(stop)) => elapsed_s(stop - play_start),
            (None, None) => {
                let audio_len = num(audio, "duration").unwrap_or(0.0);
                pos_s + (audio_len - file_s(play_start)).max(0.0)
            }
        };
        let fade_unit = Unit::of(clip.attribute("fadeTimeUnit")).unwrap_or(unit);
        let in_beats = |s: f64| tempo.beats(s);
        let fade_in_raw = num(clip, "fadeInTime").unwrap_or(0.0);
        let fade_out = num(clip, "fadeOutTime").unwrap_or(0.0).max(0.0);
        let dur_s = |from_s: f64, d: f64| match fade_unit {
            Unit::Seconds => d,
            Unit::Beats => tempo.seconds(in_beats(from_s) + d) - from_s,
        };
        let fade_in_s = dur_s(pos_s, fade_in_raw.abs());
        let fade_out_s = match fade_unit {
            Unit::Seconds => fade_out,
            Unit::Beats => end_s - tempo.seconds(in_beats(end_s) - fade_out),
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

    /// The audio file of an `Audio` element (see [`Archive::audio`]), or a warning and
    /// `None` when there is none to be had.
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
        match self
            .archive
            .audio(rel, f.attribute("external") == Some("true"))?
        {
            Ok(to) => Ok(Some(to)),
            Err(why) => {
                self.warn_track(track, &format!("{at}: audio \"{rel}\" {why}: left out"));
                Ok(None)
            }
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
