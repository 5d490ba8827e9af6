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

mod archive;
mod arrangement;
mod assemble;
mod devices;
mod structure;
mod tempo_lane;
mod xml;

use std::collections::HashMap;
use std::path::Path;

use roxmltree::Document;

use crate::{Error, Project};
use archive::{Archive, FORMAT};
use structure::Structure;
use xml::{Unit, child};

/// Reads a DAWproject file. Audio embedded in it is extracted under `cache_dir`, in a
/// folder named by the entry's checksum and size, so opening the project again reuses
/// the files and two projects never share one by mistake.
pub fn read(path: &Path, cache_dir: &Path) -> Result<Project, Error> {
    let mut archive = Archive::open(path, cache_dir)?;
    let project_xml = archive
        .text("project.xml")?
        .ok_or_else(|| Error::invalid(path, FORMAT, "the archive holds no project.xml"))?;
    let metadata_xml = archive.text("metadata.xml")?;
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

    let structure = Structure::read(root);
    let mut warnings = Vec::new();
    let (tempo, tempo_bpm) = tempo_lane::read(root, &mut warnings);
    let clips = match child(root, "Arrangement") {
        Some(arr) => {
            let unit = Unit::of(arr.attribute("timeUnit")).unwrap_or(Unit::Beats);
            arrangement::read(arr, unit, &structure, &tempo, &mut archive, &mut warnings)?
        }
        None => HashMap::new(),
    };
    let name = title.unwrap_or_else(|| crate::stem_name(path));
    let mut project = assemble::project(&structure, clips, warnings, name);
    project.tempo_bpm = tempo_bpm;
    Ok(project)
}
