//! The parameters of the compressor, limiter, delay and reverb as rows of a slider and a
//! typed value, and the units those values are shown and typed in (the EQ's band table
//! uses them too). Every range lies inside what `Effect::problem` accepts.

use std::ops::RangeInclusive;

use stemdeck_session::effects::{
    Compressor, Delay, Limiter, MAX_DELAY_MS, MAX_LOOKAHEAD_MS, MAX_PREDELAY_MS, Reverb,
};

/// How a parameter is shown and typed.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Unit {
    Hz,
    Db,
    Ms,
    Seconds,
    /// Stored 0–1, shown 0–100 %.
    Percent,
    /// "4.0:1".
    Ratio,
    /// Plain number (Q).
    Plain,
}

impl Unit {
    pub(crate) fn text(self, v: f64) -> String {
        match self {
            Unit::Hz if v >= 1000.0 => format!("{:.2} kHz", v / 1000.0),
            Unit::Hz => format!("{v:.0} Hz"),
            Unit::Db => format!("{v:+.1} dB"),
            Unit::Ms => format!("{v:.1} ms"),
            Unit::Seconds => format!("{v:.2} s"),
            Unit::Percent => format!("{:.0} %", v * 100.0),
            Unit::Ratio => format!("{v:.1}:1"),
            Unit::Plain => format!("{v:.2}"),
        }
    }

    /// What was typed, in stored units: the unit may be left out, "k" means ×1000 Hz.
    pub(crate) fn parse(self, s: &str) -> Option<f64> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.trim_end_matches(":1").trim_end_matches('%').trim();
        let (t, scale) = match self {
            Unit::Hz if t.ends_with("khz") || t.ends_with('k') => (
                t.trim_end_matches("khz").trim_end_matches('k').trim(),
                1000.0,
            ),
            Unit::Hz => (t.trim_end_matches("hz").trim(), 1.0),
            Unit::Db => (t.trim_end_matches("db").trim(), 1.0),
            Unit::Ms => (t.trim_end_matches("ms").trim(), 1.0),
            Unit::Seconds => (t.trim_end_matches('s').trim(), 1.0),
            Unit::Percent => (t, 0.01),
            Unit::Ratio | Unit::Plain => (t, 1.0),
        };
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| v * scale)
    }

    pub(crate) fn range_text(self, range: &RangeInclusive<f32>) -> String {
        let (a, b) = (f64::from(*range.start()), f64::from(*range.end()));
        format!("{} to {}", self.text(a), self.text(b))
    }
}

/// One parameter: its name, where it may go, how it is shown.
pub(crate) struct Param {
    label: &'static str,
    pub(crate) range: RangeInclusive<f32>,
    unit: Unit,
    log: bool,
}

pub(crate) const fn p(
    label: &'static str,
    range: RangeInclusive<f32>,
    unit: Unit,
    log: bool,
) -> Param {
    Param {
        label,
        range,
        unit,
        log,
    }
}

/// A value typed or dragged: a slider and a typed field, named `name` for AccessKit
/// (the typed field) and `name` + " slider". Returns whether it changed.
fn param_ui(ui: &mut egui::Ui, value: &mut f32, param: &Param, name: &str) -> bool {
    let unit = param.unit;
    let tip = format!("{name}: {}", unit.range_text(&param.range));
    ui.label(param.label).on_hover_text(&tip);
    let mut v = f64::from(*value);
    let range = f64::from(*param.range.start())..=f64::from(*param.range.end());
    let slider = ui
        .add(
            egui::Slider::new(&mut v, range.clone())
                .logarithmic(param.log)
                .smallest_positive(0.1)
                .clamping(egui::SliderClamping::Edits)
                .show_value(false),
        )
        .accessible_name(format!("{name} slider"))
        .on_hover_text(&tip);
    let typed = ui
        .add(
            egui::DragValue::new(&mut v)
                .range(range)
                .clamp_existing_to_range(false)
                .speed(drag_speed(param))
                .custom_formatter(move |v, _| unit.text(v))
                .custom_parser(move |s| unit.parse(s)),
        )
        .accessible_name(name)
        .on_hover_text(format!("{tip} (drag or type)"));
    let changed = slider.changed() || typed.changed();
    if changed {
        *value = v as f32;
    }
    changed
}

/// Drag speed per point: about the whole range over 300 points, finer for log ranges.
pub(crate) fn drag_speed(param: &Param) -> f64 {
    let span = f64::from(param.range.end() - param.range.start());
    if param.log {
        span / 3000.0
    } else {
        span / 300.0
    }
}

fn params_grid_ui(ui: &mut egui::Ui, id: egui::Id, add: impl FnOnce(&mut egui::Ui)) {
    egui::Grid::new(id)
        .num_columns(3)
        .spacing([6.0, 4.0])
        .show(ui, add);
}

/// A parameter row in a params grid.
fn row_ui(ui: &mut egui::Ui, value: &mut f32, param: &Param, name: &str) {
    param_ui(ui, value, param, name);
    ui.end_row();
}

pub(crate) fn compressor_ui(ui: &mut egui::Ui, c: &mut Compressor, tag: &str) {
    params_grid_ui(ui, egui::Id::unique(("fx-params", tag)), |ui| {
        let name = |n: &str| format!("{tag} {n}");
        row_ui(
            ui,
            &mut c.threshold_db,
            &p("Threshold", -60.0..=0.0, Unit::Db, false),
            &name("threshold"),
        );
        row_ui(
            ui,
            &mut c.ratio,
            &p("Ratio", 1.0..=20.0, Unit::Ratio, true),
            &name("ratio"),
        );
        row_ui(
            ui,
            &mut c.knee_db,
            &p("Knee", 0.0..=24.0, Unit::Db, false),
            &name("knee"),
        );
        row_ui(
            ui,
            &mut c.attack_ms,
            &p("Attack", 0.0..=500.0, Unit::Ms, true),
            &name("attack"),
        );
        row_ui(
            ui,
            &mut c.release_ms,
            &p("Release", 1.0..=5000.0, Unit::Ms, true),
            &name("release"),
        );
        row_ui(
            ui,
            &mut c.makeup_db,
            &p("Make-up", -12.0..=24.0, Unit::Db, false),
            &name("make-up"),
        );
    });
}

pub(crate) fn limiter_ui(ui: &mut egui::Ui, l: &mut Limiter, tag: &str) {
    params_grid_ui(ui, egui::Id::unique(("fx-params", tag)), |ui| {
        let name = |n: &str| format!("{tag} {n}");
        row_ui(
            ui,
            &mut l.ceiling_db,
            &p("Ceiling", -24.0..=0.0, Unit::Db, false),
            &name("ceiling"),
        );
        row_ui(
            ui,
            &mut l.release_ms,
            &p("Release", 1.0..=5000.0, Unit::Ms, true),
            &name("release"),
        );
        row_ui(
            ui,
            &mut l.lookahead_ms,
            &p("Look-ahead", 0.0..=MAX_LOOKAHEAD_MS, Unit::Ms, false),
            &name("look-ahead"),
        );
    });
}

pub(crate) fn delay_ui(ui: &mut egui::Ui, d: &mut Delay, tag: &str) {
    params_grid_ui(ui, egui::Id::unique(("fx-params", tag)), |ui| {
        let name = |n: &str| format!("{tag} {n}");
        row_ui(
            ui,
            &mut d.time_ms,
            &p("Time", 1.0..=MAX_DELAY_MS, Unit::Ms, true),
            &name("time"),
        );
        // Below 1: a feedback of 1 would never die away.
        row_ui(
            ui,
            &mut d.feedback,
            &p("Feedback", 0.0..=0.95, Unit::Percent, false),
            &name("feedback"),
        );
        row_ui(
            ui,
            &mut d.mix,
            &p("Mix", 0.0..=1.0, Unit::Percent, false),
            &name("mix"),
        );
    });
}

pub(crate) fn reverb_ui(ui: &mut egui::Ui, r: &mut Reverb, tag: &str) {
    params_grid_ui(ui, egui::Id::unique(("fx-params", tag)), |ui| {
        let name = |n: &str| format!("{tag} {n}");
        row_ui(
            ui,
            &mut r.decay_s,
            &p("Decay", 0.1..=30.0, Unit::Seconds, true),
            &name("decay"),
        );
        row_ui(
            ui,
            &mut r.predelay_ms,
            &p("Pre-delay", 0.0..=MAX_PREDELAY_MS, Unit::Ms, false),
            &name("pre-delay"),
        );
        row_ui(
            ui,
            &mut r.damping,
            &p("Damping", 0.0..=1.0, Unit::Percent, false),
            &name("damping"),
        );
        row_ui(
            ui,
            &mut r.mix,
            &p("Mix", 0.0..=1.0, Unit::Percent, false),
            &name("mix"),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_what_they_show() {
        for (unit, v) in [
            (Unit::Hz, 80.0),
            (Unit::Hz, 2500.0),
            (Unit::Db, -3.5),
            (Unit::Ms, 12.5),
            (Unit::Seconds, 1.8),
            (Unit::Percent, 0.35),
            (Unit::Ratio, 4.0),
            (Unit::Plain, 0.71),
        ] {
            let back = unit.parse(&unit.text(v)).unwrap();
            assert!((back - v).abs() < 1e-9, "{}: {back}", unit.text(v));
        }
        assert_eq!(Unit::Hz.parse("2k"), Some(2000.0));
        assert_eq!(Unit::Percent.parse("50"), Some(0.5));
        assert_eq!(Unit::Db.parse("-6"), Some(-6.0));
        assert_eq!(Unit::Db.parse("loud"), None);
        assert_eq!(Unit::Db.parse("inf"), None);
    }
}
