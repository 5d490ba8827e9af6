//! The effects panel: the insert chain of one track, one stem or the master, opened
//! from its "FX" button. Effects are added, removed, moved, bypassed and edited here
//! (sliders and typed values, an EQ curve with draggable band handles).
//!
//! Widgets edit the session in place like every other part of the window, so a slider
//! drag or a typed value is one undo step (`Document::checkpoint`), and the engine
//! hears it through the usual `Engine::set_mix` sync after the frame. Every range here
//! lies inside what `Effect::problem` accepts, so the UI never writes a value the
//! session check would refuse; values outside the UI's range that a file holds are
//! shown as they are, never clamped just by being displayed.

use std::ops::RangeInclusive;

use egui::{Color32, Pos2, Rect, Sense, Stroke, pos2, vec2};
use stemdeck_session::effects::{
    BandShape, Compressor, Delay, Effect, EffectKind, Eq, EqBand, Limiter, MAX_DELAY_MS,
    MAX_LOOKAHEAD_MS, MAX_PREDELAY_MS, Reverb,
};
use stemdeck_session::{Session, StemId, TrackId};

use crate::app::StemdeckApp;

/// The most bands the panel offers on one EQ (the processor holds more; eight is what
/// a mixing EQ needs and what fits on screen).
pub const MAX_EQ_BANDS: usize = 8;

/// The EQ curve's frequency axis (log) and gain axis.
const CURVE_HZ: RangeInclusive<f32> = 20.0..=20_000.0;
const CURVE_DB: f32 = 24.0;

/// Whose insert chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChainOwner {
    Track(TrackId),
    Stem(StemId),
    #[default]
    Master,
}

impl ChainOwner {
    pub fn chain(self, s: &Session) -> Option<&Vec<Effect>> {
        match self {
            ChainOwner::Track(id) => s.track(id).map(|t| &t.effects),
            ChainOwner::Stem(id) => s.stem(id).map(|t| &t.effects),
            ChainOwner::Master => Some(&s.master.effects),
        }
    }

    pub fn chain_mut(self, s: &mut Session) -> Option<&mut Vec<Effect>> {
        match self {
            ChainOwner::Track(id) => s.track_mut(id).map(|t| &mut t.effects),
            ChainOwner::Stem(id) => s.stem_mut(id).map(|t| &mut t.effects),
            ChainOwner::Master => Some(&mut s.master.effects),
        }
    }

    /// "Kick", "Drums", "Master" (None when the track or stem is gone).
    pub fn name(self, s: &Session) -> Option<String> {
        match self {
            ChainOwner::Track(id) => s.track(id).map(|t| t.name.clone()),
            ChainOwner::Stem(id) => s.stem(id).map(|t| t.name.clone()),
            ChainOwner::Master => Some("Master".to_owned()),
        }
    }
}

/// A new effect of each kind, with the model's defaults. A new EQ starts with three
/// flat bands (low shelf, peak, high shelf): transparent until a band is moved, and
/// something to grab on the curve.
pub fn new_effect(kind: usize) -> Option<Effect> {
    let k = match kind {
        0 => EffectKind::Eq(Eq {
            bands: vec![
                band(BandShape::Lowshelf, 100.0),
                band(BandShape::Peak, 1000.0),
                band(BandShape::Highshelf, 8000.0),
            ],
        }),
        1 => EffectKind::Compressor(Compressor::default()),
        2 => EffectKind::Limiter(Limiter::default()),
        3 => EffectKind::Delay(Delay::default()),
        4 => EffectKind::Reverb(Reverb::default()),
        _ => return None,
    };
    Some(Effect::new(k))
}

/// The kinds in the "Add" menu, in `new_effect`'s order.
pub const KIND_LABELS: [&str; 5] = ["EQ", "Compressor", "Limiter", "Delay", "Reverb"];

fn band(shape: BandShape, freq_hz: f32) -> EqBand {
    EqBand {
        shape,
        freq_hz,
        gain_db: 0.0,
        q: std::f32::consts::FRAC_1_SQRT_2,
    }
}

/// How a parameter is shown and typed.
#[derive(Clone, Copy, PartialEq)]
enum Unit {
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
    fn text(self, v: f64) -> String {
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
    fn parse(self, s: &str) -> Option<f64> {
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

    fn range_text(self, range: &RangeInclusive<f32>) -> String {
        let (a, b) = (f64::from(*range.start()), f64::from(*range.end()));
        format!("{} to {}", self.text(a), self.text(b))
    }
}

/// One parameter: its name, where it may go, how it is shown.
struct Param {
    label: &'static str,
    range: RangeInclusive<f32>,
    unit: Unit,
    log: bool,
}

const fn p(label: &'static str, range: RangeInclusive<f32>, unit: Unit, log: bool) -> Param {
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
fn drag_speed(param: &Param) -> f64 {
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

fn compressor_ui(ui: &mut egui::Ui, c: &mut Compressor, tag: &str) {
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

fn limiter_ui(ui: &mut egui::Ui, l: &mut Limiter, tag: &str) {
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

fn delay_ui(ui: &mut egui::Ui, d: &mut Delay, tag: &str) {
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

fn reverb_ui(ui: &mut egui::Ui, r: &mut Reverb, tag: &str) {
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

fn eq_ui(ui: &mut egui::Ui, eq: &mut Eq, bypass: bool, sample_rate: u32, tag: &str) {
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

/// A small button that shows an effects chain: "FX" when empty, "FX 2" with two
/// effects (lit), amber when any is bypassed; its tooltip lists the chain.
pub fn fx_button_ui(
    ui: &mut egui::Ui,
    chain: &[Effect],
    owner: &str,
    open: bool,
) -> egui::Response {
    let bypassed = chain.iter().filter(|e| e.bypass).count();
    let text = if chain.is_empty() {
        "FX".to_owned()
    } else {
        format!("FX {}", chain.len())
    };
    let (fill, color) = if chain.is_empty() {
        (
            ui.visuals().widgets.inactive.weak_bg_fill,
            ui.visuals().text_color(),
        )
    } else if bypassed > 0 {
        (Color32::from_rgb(170, 120, 40), Color32::BLACK)
    } else {
        (Color32::from_rgb(90, 160, 230), Color32::BLACK)
    };
    let r = ui.add(
        egui::Button::new(egui::RichText::new(text).color(color).strong())
            .fill(fill)
            .selected(open)
            .min_size(vec2(26.0, 20.0)),
    );
    let list = if chain.is_empty() {
        "no effects".to_owned()
    } else {
        chain
            .iter()
            .map(|e| {
                if e.bypass {
                    format!("{} (bypassed)", e.kind.label())
                } else {
                    e.kind.label().to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = format!("Effects on {owner}");
    let value = list.clone();
    r.widget_info(|| {
        let mut info = egui::WidgetInfo::selected(egui::Role::Button, true, open, &name);
        info.current_text_value = Some(value.clone());
        info
    });
    r.on_hover_text(format!("{owner}: {list}. Click to edit the effects"))
}

/// What a card asks its chain to do after the frame.
enum CardAction {
    Remove(usize),
    Move(usize, usize),
}

impl StemdeckApp {
    /// Open `owner`'s chain in the effects panel, or close the panel if it shows it.
    pub(crate) fn toggle_chain(&mut self, owner: ChainOwner) {
        if self.show_effects && self.fx_owner == owner {
            self.show_effects = false;
        } else {
            self.fx_owner = owner;
            self.show_effects = true;
        }
    }

    /// The effects panel (a bottom panel, like a DAW's device chain).
    pub(crate) fn effects_panel_ui(&mut self, ui: &mut egui::Ui) {
        if !self.show_effects {
            return;
        }
        let Some(doc) = self.doc.as_mut() else { return };
        // A track or stem that is gone (deleted, undone) shows the master instead.
        if self.fx_owner.chain(&doc.session).is_none() {
            self.fx_owner = ChainOwner::Master;
        }
        let owner = self.fx_owner;
        let mut close = false;
        egui::Panel::bottom("effects")
            .resizable(true)
            .default_size(300.0)
            .min_size(160.0)
            .show(ui, |ui| {
                let rate = doc.session.sample_rate;
                let name = owner.name(&doc.session).unwrap_or_default();
                ui.horizontal(|ui| {
                    ui.heading(format!("Effects — {name}"));
                    let mut add = None;
                    ui.menu_button("Add effect", |ui| {
                        for (k, label) in KIND_LABELS.iter().enumerate() {
                            if ui.button(format!("Add {label}")).clicked() {
                                add = Some(k);
                            }
                        }
                    })
                    .response
                    .on_hover_text("Add an effect at the end of the chain");
                    if let Some(effect) = add.and_then(new_effect) {
                        doc.edit(|s| {
                            if let Some(chain) = owner.chain_mut(s) {
                                chain.push(effect);
                            }
                        });
                    }
                    if owner == ChainOwner::Master {
                        ui.weak(
                            "Compressor and limiter follow the full mix and act on every \
                             stem alike, so the stems still add up to the master.",
                        );
                    } else {
                        ui.weak("Processed in order, left to right.");
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .button("×")
                            .accessible_name("Close effects")
                            .on_hover_text("Close the effects panel")
                            .clicked()
                        {
                            close = true;
                        }
                    });
                });
                ui.separator();
                let mut action = None;
                // Both ways: a long chain runs off to the right, an EQ with eight
                // bands off the bottom of a short panel.
                egui::ScrollArea::both()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        ui.horizontal_top(|ui| {
                            let Some(chain) = owner.chain_mut(&mut doc.session) else {
                                return;
                            };
                            if chain.is_empty() {
                                ui.weak("No effects yet: use Add effect (EQ, Compressor, Limiter, Delay or Reverb).");
                            }
                            let n = chain.len();
                            for (i, effect) in chain.iter_mut().enumerate() {
                                if let Some(a) = effect_card_ui(ui, effect, i, n, rate) {
                                    action = Some(a);
                                }
                            }
                        });
                    });
                if let Some(a) = action {
                    doc.edit(|s| {
                        let Some(chain) = owner.chain_mut(s) else { return };
                        match a {
                            CardAction::Remove(i) if i < chain.len() => {
                                chain.remove(i);
                            }
                            CardAction::Move(from, to) if from < chain.len() && to < chain.len() => {
                                chain.swap(from, to);
                            }
                            _ => {}
                        }
                    });
                }
            });
        if close {
            self.show_effects = false;
        }
    }
}

/// One effect: its header (name, bypass, move, remove) and its parameters.
fn effect_card_ui(
    ui: &mut egui::Ui,
    effect: &mut Effect,
    i: usize,
    n: usize,
    rate: u32,
) -> Option<CardAction> {
    let label = effect.kind.label();
    let tag = format!("{label} {}", i + 1);
    let mut action = None;
    let stroke = if effect.bypass {
        Stroke::new(1.0, Color32::from_gray(70))
    } else {
        Stroke::new(1.0, Color32::from_rgb(90, 160, 230))
    };
    egui::Frame::new()
        .stroke(stroke)
        .fill(ui.visuals().faint_bg_color)
        .corner_radius(4.0)
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new(format!("{}. {label}", i + 1)).strong());
                    let on = !effect.bypass;
                    let r = ui
                        .add(egui::Button::new(if on { "On" } else { "Bypassed" }).selected(on))
                        .on_hover_text("Bypass: hear it without this effect");
                    if r.clicked() {
                        effect.bypass = !effect.bypass;
                    }
                    let name = format!("Bypass {tag}");
                    let bypass = effect.bypass;
                    r.widget_info(|| {
                        egui::WidgetInfo::selected(egui::Role::Button, true, bypass, &name)
                    });
                    if ui
                        .add_enabled(i > 0, egui::Button::new("<").small())
                        .accessible_name(format!("Move {tag} earlier"))
                        .on_hover_text("Earlier in the chain")
                        .clicked()
                    {
                        action = Some(CardAction::Move(i, i - 1));
                    }
                    if ui
                        .add_enabled(i + 1 < n, egui::Button::new(">").small())
                        .accessible_name(format!("Move {tag} later"))
                        .on_hover_text("Later in the chain")
                        .clicked()
                    {
                        action = Some(CardAction::Move(i, i + 1));
                    }
                    if ui
                        .small_button("×")
                        .accessible_name(format!("Remove {tag}"))
                        .on_hover_text("Remove this effect")
                        .clicked()
                    {
                        action = Some(CardAction::Remove(i));
                    }
                });
                let bypass = effect.bypass;
                ui.scope(|ui| {
                    if bypass {
                        ui.multiply_opacity(0.55);
                    }
                    match &mut effect.kind {
                        EffectKind::Eq(eq) => eq_ui(ui, eq, bypass, rate, &tag),
                        EffectKind::Compressor(c) => compressor_ui(ui, c, &tag),
                        EffectKind::Limiter(l) => limiter_ui(ui, l, &tag),
                        EffectKind::Delay(d) => delay_ui(ui, d, &tag),
                        EffectKind::Reverb(r) => reverb_ui(ui, r, &tag),
                    }
                });
            });
        });
    action
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

    #[test]
    fn new_effects_pass_the_session_check_and_a_new_eq_is_flat() {
        for (k, label) in KIND_LABELS.iter().enumerate() {
            let e = new_effect(k).unwrap();
            assert_eq!(e.kind.label(), *label);
            assert!(e.problem().is_none(), "{:?}", e.problem());
        }
        let Some(Effect {
            kind: EffectKind::Eq(eq),
            ..
        }) = new_effect(0)
        else {
            panic!("not an eq")
        };
        for hz in [20.0, 100.0, 1000.0, 15_000.0] {
            let db = stemdeck_effects::eq::response_db(&eq.bands, 48_000.0, hz);
            assert!(db.abs() < 1e-6, "{hz} Hz: {db} dB");
        }
        assert!(new_effect(5).is_none());
    }

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
