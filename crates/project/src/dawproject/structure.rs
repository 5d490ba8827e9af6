//! The track tree (`Structure`): tracks nested in folder and group tracks, their
//! channels, and the bus each one's signal goes to next.

use std::collections::HashMap;

use roxmltree::Node;

use super::xml::child;

/// A track in the structure, with where it sits.
pub(super) struct TrackInfo<'a, 'i> {
    pub(super) node: Node<'a, 'i>,
    pub(super) name: String,
    pub(super) channel: Option<Node<'a, 'i>>,
    /// The track it is nested in.
    pub(super) parent: Option<usize>,
    pub(super) has_children: bool,
}

impl TrackInfo<'_, '_> {
    pub(super) fn label(&self) -> String {
        format!("Track \"{}\"", self.name)
    }

    pub(super) fn role(&self) -> &str {
        self.channel
            .and_then(|c| c.attribute("role"))
            .unwrap_or("regular")
    }
}

/// The tracks in project order (a folder before what it holds), and every element by
/// its `id`, which clips, sends and automation refer to.
pub(super) struct Structure<'a, 'i> {
    pub(super) ids: HashMap<&'a str, Node<'a, 'i>>,
    pub(super) tracks: Vec<TrackInfo<'a, 'i>>,
}

impl<'a, 'i> Structure<'a, 'i> {
    pub(super) fn read(root: Node<'a, 'i>) -> Self {
        let mut s = Structure {
            ids: root
                .descendants()
                .filter_map(|n| n.attribute("id").map(|id| (id, n)))
                .collect(),
            tracks: Vec::new(),
        };
        if let Some(structure) = child(root, "Structure") {
            for n in structure.children().filter(|n| n.is_element()) {
                s.add_track(n, None);
            }
        }
        s
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
    pub(super) fn owner(&self, n: Node) -> Option<usize> {
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

    pub(super) fn track_by_id(&self, id: &str) -> Option<usize> {
        self.owner(*self.ids.get(id)?)
    }

    /// The bus a track's signal goes to next: the folder it is nested in, else its
    /// channel's destination unless that is the master.
    pub(super) fn bus_of(&self, i: usize) -> Option<usize> {
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
    pub(super) fn buses(&self, i: usize) -> Vec<usize> {
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

    /// How warnings name a track ("Track \"Bass\""), or the project for no track.
    pub(super) fn label(&self, track: Option<usize>) -> String {
        track
            .and_then(|t| self.tracks.get(t))
            .map_or("Project".to_string(), TrackInfo::label)
    }
}
