//! The `Project` put together from the track tree and the clips: top-level buses become
//! folders, the faders and mutes of buses nested below the top level fold into their
//! tracks, and what cannot fold (their pan and effects, sends) is named in a warning.

use std::collections::HashMap;

use roxmltree::Node;

use super::devices;
use super::structure::Structure;
use super::xml::{bool_param, child, param, to_db};
use crate::{Clip, Effect, Project, ProjectFolder, ProjectMaster, ProjectTrack};

/// The project named `name`, its warnings deduplicated (the first of each kept).
pub(super) fn project(
    structure: &Structure,
    clips: HashMap<usize, Vec<Clip>>,
    warnings: Vec<String>,
    name: String,
) -> Project {
    Assembly {
        structure,
        clips,
        warnings,
    }
    .finish(name)
}

struct Assembly<'s, 'a, 'i> {
    structure: &'s Structure<'a, 'i>,
    /// Clips found in the arrangement, by track index.
    clips: HashMap<usize, Vec<Clip>>,
    warnings: Vec<String>,
}

impl Assembly<'_, '_, '_> {
    /// A channel's devices as Stemdeck effects (see [`devices::effects`]).
    fn effects(&mut self, channel: Option<Node>, label: &str) -> Vec<Effect> {
        devices::effects(channel, label, &mut self.warnings)
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
                .and_then(|id| self.structure.track_by_id(id))
                .and_then(|t| self.structure.tracks.get(t))
                .map_or("another channel".to_string(), |t| format!("\"{}\"", t.name));
            self.warnings
                .push(format!("{label}: send to {to} is not rendered"));
        }
    }

    fn fader(&mut self, i: usize) -> (f32, f32, bool) {
        let Some(t) = self.structure.tracks.get(i) else {
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
        let structure = self.structure;
        let infos = &structure.tracks;
        let n = infos.len();
        let is_bus: Vec<bool> = (0..n)
            .map(|i| {
                let t = &infos[i];
                t.has_children
                    || matches!(t.role(), "submix" | "master")
                    || (0..n).any(|j| {
                        j != i && structure.bus_of(j) == Some(i) && infos[j].parent.is_none()
                    })
            })
            .collect();
        let master = infos.iter().position(|t| t.role() == "master");
        let mut project_master = ProjectMaster::default();
        if let Some(m) = master {
            let (g, _, _) = self.fader(m);
            project_master.gain_db = g;
            project_master.effects = self.effects(infos[m].channel, "Master");
            self.sends_warnings(infos[m].channel, "Master");
        }
        let mut folders = Vec::new();
        let mut tracks = Vec::new();
        let mut top_folder = vec![None; n];
        for i in 0..n {
            if Some(i) == master {
                continue;
            }
            let label = infos[i].label();
            let (gain_db, pan, mute) = self.fader(i);
            let effects = self.effects(infos[i].channel, &label);
            self.sends_warnings(infos[i].channel, &label);
            let chain = structure.buses(i);
            let top = chain.last().copied();
            top_folder[i] = top;
            let is_top_bus = is_bus[i] && top.is_none();
            if is_top_bus {
                folders.push(ProjectFolder {
                    name: infos[i].name.clone(),
                    gain_db,
                    pan,
                    mute,
                    effects: effects.clone(),
                });
            }
            let clips = self.clips.remove(&i).unwrap_or_default();
            let audio_track = infos[i]
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
                let bus = infos[b].name.clone();
                if bp != 0.0 {
                    self.warnings.push(format!(
                        "{label}: the pan of group \"{bus}\" is not rendered"
                    ));
                }
                let bus_channel = infos[b].channel;
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
                name: infos[i].name.clone(),
                folder: if is_top_bus {
                    Some(infos[i].name.clone())
                } else {
                    top.and_then(|t| infos.get(t)).map(|t| t.name.clone())
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
