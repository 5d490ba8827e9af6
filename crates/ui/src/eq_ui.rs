//! The EQ card: the magnitude curve with a draggable handle per band, and the band table
//! (shape, frequency, gain, Q).

use std::ops::RangeInclusive;

use egui::{Color32, Pos2, Rect, Sense, Stroke, pos2, vec2};
use stemdeck_session::effects::{BandShape, Eq, EqBand};

use crate::effect_params_ui::{Unit, drag_speed, p};

/// The most bands the panel offers on one EQ (the processor holds more; eight is what
/// a mixing EQ needs and what fits on screen).
pub const MAX_EQ_BANDS: usize = 8;

/// The EQ curve's frequency axis (log) and gain axis.
const CURVE_HZ: RangeInclusive<f32> = 20.0..=20_000.0;
const CURVE_DB: f32 = 24.0;

/// A flat band of `shape` at `freq_hz` (Q 0.707).
pub(crate) fn band(shape: BandShape, freq_hz: f32) -> EqBand {
    EqBand {
        shape,
        freq_hz,
        gain_db: 0.0,
        q: std::f32::consts::FRAC_1_SQRT_2,
    }
}

/// Band colours on the curve and in the table (the same band, the same colour).
fn band_color(i: usize) -> Color32 {
    const COLORS: [Color32; MAX_EQ_BANDS] = [
        Color32::from_rgb(232, 83, 63),
        Color32::from_rgb(240, 170, 50),
        Color32::from_rgb(200, 220, 70),
        Color32::from_rgb(80, 200, 120),
        Color32::from_rgb(60, 190, 220),
        Color32::from_rgb(90, 130, 240),
        Color32::from_rgb(170, 110, 230),
        Color32::from_rgb(230, 100, 180),
    ];
    COLORS[i % MAX_EQ_BANDS]
}

/// Maps the curve's axes to its rectangle.
#[derive(Clone, Copy)]
struct CurveAxes {
    rect: Rect,
}

impl CurveAxes {
    fn x(&self, hz: f32) -> f32 {
        let (lo, hi) = (CURVE_HZ.start().ln(), CURVE_HZ.end().ln());
        self.rect.left() + self.rect.width() * (hz.max(1.0).ln() - lo) / (hi - lo)
    }
    fn hz(&self, x: f32) -> f32 {
        let (lo, hi) = (CURVE_HZ.start().ln(), CURVE_HZ.end().ln());
        let t = ((x - self.rect.left()) / self.rect.width()).clamp(0.0, 1.0);
        (lo + t * (hi - lo)).exp()
    }
    fn y(&self, db: f32) -> f32 {
        let t = (db.clamp(-CURVE_DB, CURVE_DB) + CURVE_DB) / (2.0 * CURVE_DB);
        self.rect.bottom() - self.rect.height() * t
    }
    fn db(&self, y: f32) -> f32 {
        let t = ((self.rect.bottom() - y) / self.rect.height()).clamp(0.0, 1.0);
        t * 2.0 * CURVE_DB - CURVE_DB
    }
}

/// The EQ's magnitude response (the processor's own RBJ coefficients) on a log
/// frequency axis, 20 Hz–20 kHz, ±24 dB; each band's handle drags its frequency (and
/// gain, for the shapes that have one). Returns whether a band moved.
fn eq_curve_ui(
    ui: &mut egui::Ui,
    bands: &mut [EqBand],
    bypass: bool,
    sample_rate: u32,
    tag: &str,
) -> bool {
    let size = vec2(ui.available_width().clamp(260.0, 380.0), 128.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let axes = CurveAxes {
        rect: rect.shrink2(vec2(2.0, 6.0)),
    };
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 3.0, ui.visuals().extreme_bg_color);
    let grid = Stroke::new(1.0, Color32::from_gray(55));
    let text = Color32::from_gray(130);
    for hz in [
        50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0,
    ] {
        let x = axes.x(hz);
        painter.vline(x, rect.y_range(), grid);
        let label = if hz >= 1000.0 {
            format!("{}k", hz / 1000.0)
        } else {
            format!("{hz}")
        };
        painter.text(
            pos2(x - 2.0, rect.bottom() - 2.0),
            egui::Align2::RIGHT_BOTTOM,
            label,
            egui::FontId::proportional(9.0),
            text,
        );
    }
    for db in [-24.0f32, -12.0, 0.0, 12.0, 24.0] {
        let y = axes.y(db);
        let stroke = if db == 0.0 {
            Stroke::new(1.0, Color32::from_gray(90))
        } else {
            grid
        };
        painter.hline(rect.x_range(), y, stroke);
        painter.text(
            pos2(rect.left() + 3.0, y),
            egui::Align2::LEFT_CENTER,
            format!("{db:+}"),
            egui::FontId::proportional(9.0),
            text,
        );
    }
    let rate = f64::from(sample_rate.max(1));
    let nyquist = (sample_rate as f32 / 2.0).min(*CURVE_HZ.end());
    let steps = (axes.rect.width() as usize / 2).max(32);
    let points: Vec<Pos2> = (0..=steps)
        .map(|k| {
            let x = axes.rect.left() + axes.rect.width() * k as f32 / steps as f32;
            let hz = axes.hz(x).min(nyquist * 0.999);
            let db = stemdeck_effects::eq::response_db(bands, rate, f64::from(hz)) as f32;
            pos2(x, axes.y(if db.is_finite() { db } else { -CURVE_DB }))
        })
        .collect();
    let curve_color = if bypass {
        Color32::from_gray(120)
    } else {
        Color32::from_rgb(120, 200, 255)
    };
    painter.add(egui::Shape::line(points, Stroke::new(2.0, curve_color)));

    let mut moved = false;
    for (i, b) in bands.iter_mut().enumerate() {
        let y_db = if b.shape.has_gain() { b.gain_db } else { 0.0 };
        let center = pos2(axes.x(b.freq_hz), axes.y(y_db));
        let hit = Rect::from_center_size(center, vec2(16.0, 16.0));
        let id = egui::Id::unique(("eq-handle", tag, i));
        let resp = ui.interact(hit, id, Sense::drag());
        let name = format!("{tag} band {} handle", i + 1);
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
        if resp.dragged()
            && let Some(at) = resp.interact_pointer_pos()
        {
            // Kept inside what the model accepts and what the curve shows.
            b.freq_hz = axes.hz(at.x).clamp(*CURVE_HZ.start(), *CURVE_HZ.end());
            b.freq_hz = (b.freq_hz * 10.0).round() / 10.0;
            if b.shape.has_gain() {
                b.gain_db = (axes.db(at.y) * 10.0).round() / 10.0;
            }
            moved = true;
        }
        let color = band_color(i);
        let r = if resp.hovered() || resp.dragged() {
            7.0
        } else {
            5.5
        };
        painter.circle(
            center,
            r,
            color.gamma_multiply(0.8),
            Stroke::new(1.5, Color32::WHITE),
        );
        painter.text(
            center,
            egui::Align2::CENTER_CENTER,
            format!("{}", i + 1),
            egui::FontId::proportional(9.0),
            Color32::BLACK,
        );
        let resp = resp.on_hover_text(format!(
            "Band {}: {} {} {}; drag to move",
            i + 1,
            b.shape.label(),
            Unit::Hz.text(f64::from(b.freq_hz)),
            if b.shape.has_gain() {
                Unit::Db.text(f64::from(b.gain_db))
            } else {
                String::new()
            }
        ));
        if resp.dragged() {
            ui.ctx().set_cursor_icon(egui::CursorIcon::Grabbing);
        }
    }
    moved
}

pub(crate) fn eq_ui(ui: &mut egui::Ui, eq: &mut Eq, bypass: bool, sample_rate: u32, tag: &str) {
    eq_curve_ui(ui, &mut eq.bands, bypass, sample_rate, tag);
    let mut remove = None;
    egui::Grid::new(("eq-bands", tag))
        .num_columns(6)
        .spacing([6.0, 3.0])
        .show(ui, |ui| {
            for (i, b) in eq.bands.iter_mut().enumerate() {
                let bn = format!("{tag} band {}", i + 1);
                ui.colored_label(band_color(i), format!("{}", i + 1));
                let combo = egui::ComboBox::from_id_salt((tag, "shape", i))
                    .selected_text(b.shape.label())
                    .width(88.0)
                    .show_ui(ui, |ui| {
                        for s in BandShape::ALL {
                            ui.selectable_value(&mut b.shape, s, s.label());
                        }
                    });
                let shape_name = format!("{bn} shape");
                combo.response.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, &shape_name)
                });
                band_value_ui(
                    ui,
                    &mut b.freq_hz,
                    20.0..=20_000.0,
                    Unit::Hz,
                    &format!("{bn} frequency"),
                );
                ui.add_enabled_ui(b.shape.has_gain(), |ui| {
                    band_value_ui(
                        ui,
                        &mut b.gain_db,
                        -24.0..=24.0,
                        Unit::Db,
                        &format!("{bn} gain"),
                    );
                });
                band_value_ui(ui, &mut b.q, 0.1..=18.0, Unit::Plain, &format!("{bn} Q"));
                if ui
                    .small_button("×")
                    .accessible_name(format!("Remove {bn}"))
                    .on_hover_text("Remove this band")
                    .clicked()
                {
                    remove = Some(i);
                }
                ui.end_row();
            }
        });
    if let Some(i) = remove {
        eq.bands.remove(i);
    }
    ui.horizontal(|ui| {
        let full = eq.bands.len() >= MAX_EQ_BANDS;
        if ui
            .add_enabled(!full, egui::Button::new("+ Band"))
            .accessible_name(format!("Add a band to {tag}"))
            .on_hover_text(format!("Up to {MAX_EQ_BANDS} bands"))
            .clicked()
        {
            eq.bands.push(band(BandShape::Peak, 1000.0));
        }
        ui.weak("Freq · Gain · Q");
    });
}

/// A band's value: a typed/dragged field (the curve's handles are its slider).
fn band_value_ui(
    ui: &mut egui::Ui,
    value: &mut f32,
    range: RangeInclusive<f32>,
    unit: Unit,
    name: &str,
) {
    let param = p("", range, unit, unit != Unit::Db);
    let mut v = f64::from(*value);
    let speed = if unit == Unit::Hz {
        // Frequency drags in proportion to where it is.
        v.max(20.0) / 200.0
    } else {
        drag_speed(&param)
    };
    let r = ui
        .add(
            egui::DragValue::new(&mut v)
                .range(f64::from(*param.range.start())..=f64::from(*param.range.end()))
                .clamp_existing_to_range(false)
                .speed(speed)
                .custom_formatter(move |v, _| unit.text(v))
                .custom_parser(move |s| unit.parse(s)),
        )
        .accessible_name(name)
        .on_hover_text(format!("{name}: {}", unit.range_text(&param.range)));
    if r.changed() {
        *value = v as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_axes_are_logarithmic_and_invert() {
        let axes = CurveAxes {
            rect: Rect::from_min_size(pos2(10.0, 0.0), vec2(300.0, 100.0)),
        };
        assert!((axes.x(20.0) - 10.0).abs() < 1e-3);
        assert!((axes.x(20_000.0) - 310.0).abs() < 1e-3);
        // A decade is a third of three decades.
        assert!((axes.x(200.0) - 110.0).abs() < 1e-3);
        assert!((axes.hz(axes.x(1234.0)) - 1234.0).abs() < 0.1);
        assert!((axes.y(24.0) - 0.0).abs() < 1e-3 && (axes.y(-24.0) - 100.0).abs() < 1e-3);
        assert!((axes.db(axes.y(-7.5)) + 7.5).abs() < 1e-3);
    }
}
