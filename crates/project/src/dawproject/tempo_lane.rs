//! The song's tempo: the transport's (`Transport/Tempo`) and the tempo lane
//! (`Arrangement/TempoAutomation`), held or ramped, as the map beats are converted with.

use roxmltree::Node;

use super::xml::{Unit, child, num, param};
use crate::tempo::{TempoMap, TempoPoint};

/// The tempo map (120 bpm when the project gives none) and the song's starting tempo
/// when it gives one. A tempo change that cannot be used is left out with a warning.
pub(super) fn read(root: Node, warnings: &mut Vec<String>) -> (TempoMap, Option<f64>) {
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
                warnings.push("Tempo: a tempo change without a time or a value is left out".into());
                continue;
            };
            if !(bpm.is_finite() && bpm > 0.0) {
                warnings.push(format!("Tempo: a tempo of {bpm} bpm is left out"));
                continue;
            }
            points.push(TempoPoint {
                time,
                bpm,
                linear: p.attribute("interpolation") == Some("linear"),
            });
        }
    }
    let tempo = TempoMap::from_points(transport.unwrap_or(120.0), &points, in_seconds);
    let initial = if transport.is_some() || !points.is_empty() {
        Some(tempo.initial_bpm())
    } else {
        None
    };
    (tempo, initial)
}
