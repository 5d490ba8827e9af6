//! The master strip at the right edge of the lanes, like a mixer's master channel: the
//! master fader (`session.master.gain_db`), the master meter with peak hold, the clip
//! indicator and the master's effects button.
//!
//! The engine's master meter hands over the peak since the last read, so no peak is
//! missed between frames; holding the peak and latching the clip light are done here.

use std::time::{Duration, Instant};

use egui::{Color32, Rect, Sense, Stroke, pos2, vec2};
use stemdeck_session::MAX_MASTER_GAIN_DB;
use stemdeck_session::units::{amplitude_to_db, db_to_amplitude};

use crate::app::StemdeckApp;
use crate::effects_ui::fx_button_ui;
use crate::state::{ChainOwner, MIN_FADER_DB};
use crate::theme::meter_fraction;

fn db_text(level: f32) -> String {
    if level > 0.0 {
        format!("{:+.1}", amplitude_to_db(level))
    } else {
        "-inf".to_owned()
    }
}

/// A tall meter with a peak-hold line and a 0 dBFS mark.
fn strip_meter_ui(ui: &mut egui::Ui, rect: Rect, level: f32, held: f32) {
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(18));
    painter.rect_stroke(
        rect,
        2.0,
        Stroke::new(1.0, Color32::from_gray(60)),
        egui::StrokeKind::Inside,
    );
    let y = |l: f32| rect.bottom() - rect.height() * meter_fraction(l);
    let bar = Rect::from_min_max(pos2(rect.left(), y(level)), rect.max);
    // Green, then yellow for the top tenth, red over 0 dBFS (like the lanes' meters).
    let yellow_from = rect.bottom() - rect.height() * 0.9;
    let green = Rect::from_min_max(pos2(bar.left(), bar.top().max(yellow_from)), bar.max);
    painter.rect_filled(green, 1.0, Color32::from_rgb(80, 200, 110));
    if bar.top() < yellow_from {
        painter.rect_filled(
            Rect::from_min_max(bar.min, pos2(bar.right(), yellow_from)),
            1.0,
            if level >= 1.0 {
                Color32::from_rgb(230, 60, 50)
            } else {
                Color32::from_rgb(230, 200, 60)
            },
        );
    }
    if held > 0.0 {
        let color = if held > 1.0 {
            Color32::from_rgb(255, 70, 60)
        } else {
            Color32::WHITE
        };
        painter.hline(rect.x_range(), y(held), Stroke::new(2.0, color));
    }
    // Scale: 0, -6, -12, -24, -48 dBFS.
    for db in [0.0f32, -6.0, -12.0, -24.0, -48.0] {
        let yy = y(db_to_amplitude(db));
        painter.hline(
            (rect.right() - 4.0)..=rect.right(),
            yy,
            Stroke::new(1.0, Color32::from_gray(120)),
        );
    }
}

impl StemdeckApp {
    /// The master strip: a right-hand panel beside the lanes.
    pub(crate) fn master_strip_ui(&mut self, ui: &mut egui::Ui) {
        let now = Instant::now();
        let level = self.meter_display.last().copied().unwrap_or(0.0);
        let held = self.master_hold.level(now);
        if self.master_hold.is_moving(now) {
            ui.ctx()
                .request_repaint_after(Duration::from_millis(50).max(self.animation_interval()));
        }
        let fx_open = self.show_effects && self.fx_owner == ChainOwner::Master;
        let Some(doc) = self.doc.as_mut() else { return };
        let mut open_fx = false;
        ui.vertical_centered(|ui| {
            ui.add_space(4.0);
            ui.label(egui::RichText::new("Master").strong());
            if fx_button_ui(ui, &doc.session.master.effects, "Master", fx_open).clicked() {
                open_fx = true;
            }
            // The clip light: lit and latched by any peak over 0 dBFS, cleared by a click.
            let clipped = self.master_hold.clipped;
            let clip = ui
                .add(
                    egui::Button::new(egui::RichText::new("CLIP").strong().small().color(
                        if clipped {
                            Color32::WHITE
                        } else {
                            Color32::GRAY
                        },
                    ))
                    .fill(if clipped {
                        Color32::from_rgb(200, 40, 40)
                    } else {
                        Color32::from_gray(40)
                    })
                    .min_size(vec2(60.0, 18.0)),
                )
                .on_hover_text(if clipped {
                    "The master went over 0 dBFS. Click to clear"
                } else {
                    "Lights when the master goes over 0 dBFS, and stays lit until clicked"
                });
            if clip.clicked() {
                self.master_hold.clipped = false;
            }
            let clipped_now = self.master_hold.clipped;
            clip.widget_info(|| {
                egui::WidgetInfo::selected(egui::Role::Button, true, clipped_now, "Master clip")
            });
            ui.label(
                egui::RichText::new(format!("{} dBFS", db_text(held)))
                    .monospace()
                    .small(),
            )
            .on_hover_text("Highest peak of the last 1.5 s");
            ui.add_space(2.0);
            // Fader and meter side by side, as tall as the strip allows.
            let height = (ui.available_height() - 40.0).clamp(80.0, 600.0);
            ui.horizontal(|ui| {
                ui.add_space(4.0);
                ui.spacing_mut().slider_width = height;
                let gain = &mut doc.session.master.gain_db;
                let fader = ui
                    .add(
                        egui::Slider::new(gain, MIN_FADER_DB..=MAX_MASTER_GAIN_DB)
                            .vertical()
                            .clamping(egui::SliderClamping::Edits)
                            .show_value(false),
                    )
                    .accessible_name("Master fader")
                    .on_hover_text("Master level (applies to every file). Double-click: 0 dB");
                if fader.double_clicked() {
                    *gain = 0.0;
                }
                let (rect, _) = ui.allocate_exact_size(vec2(16.0, height), Sense::hover());
                strip_meter_ui(ui, rect, level, held);
                let name = "Master peak";
                let resp =
                    ui.interact(rect, egui::Id::unique("master-strip-meter"), Sense::hover());
                resp.widget_info(|| {
                    let mut info = egui::WidgetInfo::labeled(egui::Role::Meter, true, name);
                    info.value = Some(f64::from(level));
                    info
                });
            });
            let gain = &mut doc.session.master.gain_db;
            ui.add(
                egui::DragValue::new(&mut *gain)
                    .range(MIN_FADER_DB..=MAX_MASTER_GAIN_DB)
                    .clamp_existing_to_range(false)
                    .speed(0.1)
                    .custom_formatter(|v, _| format!("{v:+.1} dB"))
                    .custom_parser(|s| {
                        let s = s.trim().to_ascii_lowercase();
                        s.trim_end_matches("db").trim().parse::<f64>().ok()
                    }),
            )
            .accessible_name("Master gain")
            .on_hover_text(format!(
                "Master gain: {MIN_FADER_DB} to +{MAX_MASTER_GAIN_DB} dB (drag or type)"
            ));
            if ui
                .small_button("0 dB")
                .on_hover_text("Reset the master fader to 0 dB")
                .clicked()
            {
                *gain = 0.0;
            }
        });
        if open_fx {
            self.toggle_chain(ChainOwner::Master);
        }
    }
}
