//! A channel's devices: the built-in `Equalizer`, `Compressor` and `Limiter` become
//! Stemdeck effects; every other device, and every setting of those three that Stemdeck
//! cannot render, is named in a warning.

use roxmltree::Node;
use stemdeck_session::effects::{
    BandShape, Compressor, Effect, EffectKind, Eq, EqBand, Limiter, MAX_LOOKAHEAD_MS,
};

use super::xml::{bool_param, child, param, to_db};

/// A channel's devices as Stemdeck effects, with a warning (labelled `label`) for each
/// one that is not.
pub(super) fn effects(
    channel: Option<Node>,
    label: &str,
    warnings: &mut Vec<String>,
) -> Vec<Effect> {
    Devices { warnings }.effects(channel, label)
}

struct Devices<'w> {
    warnings: &'w mut Vec<String>,
}

impl Devices<'_> {
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
}
