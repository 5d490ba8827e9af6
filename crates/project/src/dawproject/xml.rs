//! Values read out of `project.xml`: child elements, numbers (the format writes `inf`
//! for unbounded ones), parameter elements with their units, and time units.

use roxmltree::Node;

use crate::linear_to_db;

/// The unit of a time attribute: a timeline, a clip's content or its fades.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    Beats,
    Seconds,
}

impl Unit {
    pub(super) fn of(attr: Option<&str>) -> Option<Unit> {
        match attr? {
            "beats" => Some(Unit::Beats),
            "seconds" => Some(Unit::Seconds),
            _ => None,
        }
    }
}

pub(super) fn child<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

pub(super) fn num(n: Node, attr: &str) -> Option<f64> {
    let v = n.attribute(attr)?.trim();
    match v {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => v.parse().ok(),
    }
}

/// A parameter element's value and unit (`<Volume unit="linear" value="0.5"/>`).
pub(super) fn param<'a>(n: Node<'a, '_>, tag: &str) -> Option<(f64, &'a str)> {
    let p = child(n, tag)?;
    Some((num(p, "value")?, p.attribute("unit").unwrap_or("")))
}

pub(super) fn bool_param(n: Node, tag: &str) -> Option<bool> {
    match child(n, tag)?.attribute("value")? {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

pub(super) fn to_db(v: f64, unit: &str) -> Option<f32> {
    match unit {
        "decibel" => Some((v as f32).max(crate::MIN_GAIN_DB)),
        "linear" => Some(linear_to_db(v)),
        _ => None,
    }
}
