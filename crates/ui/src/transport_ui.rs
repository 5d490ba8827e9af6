//! The transport bar: play/pause, stop, position, loop, master meter, Export.

use egui::{Color32, Sense, vec2};
use stemdeck_session::units::{amplitude_to_db, format_minutes};

use crate::actions::Action;
use crate::app::StemdeckApp;
use crate::theme::{self, meter_fraction};

/// A meter's colour: green, yellow near the top, red at or over 0 dBFS.
fn meter_color(level: f32) -> Color32 {
    if level >= 1.0 {
        Color32::from_rgb(230, 60, 50)
    } else if meter_fraction(level) > 0.9 {
        Color32::from_rgb(230, 200, 60)
    } else {
        Color32::from_rgb(80, 200, 110)
    }
}

fn dbfs_text(level: f32) -> String {
    if level > 0.0 {
        format!("{:.1} dBFS", amplitude_to_db(level))
    } else {
        "-inf dBFS".into()
    }
}

/// Draw a horizontal level meter for a linear peak (with a 0 dBFS clip mark).
pub fn meter_ui(ui: &mut egui::Ui, level: f32, width: f32, label: &str) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(width, 10.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(30));
    let mut bar = rect;
    bar.set_width(rect.width() * meter_fraction(level));
    painter.rect_filled(bar, 2.0, meter_color(level));
    response.on_hover_text(format!("{label}: {}", dbfs_text(level)))
}

/// A vertical level meter in `rect` (a track's, beside its row); its accessible name
/// is `label` and its value the linear peak.
pub fn vertical_meter_ui(
    ui: &mut egui::Ui,
    id: egui::Id,
    rect: egui::Rect,
    level: f32,
    label: &str,
) -> egui::Response {
    let response = ui.interact(rect, id, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 1.0, Color32::from_gray(30));
    let mut bar = rect;
    bar.set_top(rect.bottom() - rect.height() * meter_fraction(level));
    painter.rect_filled(bar, 1.0, meter_color(level));
    let name = label.to_owned();
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::labeled(egui::Role::Meter, true, &name);
        info.value = Some(f64::from(level));
        info
    });
    response.on_hover_text(format!("{label}: {}", dbfs_text(level)))
}

impl StemdeckApp {
    /// Read the engine's meters (peak since last frame) into decaying display levels.
    pub(crate) fn update_meters(&mut self) -> (Vec<f32>, f32) {
        let n = self.doc.as_ref().map_or(0, |d| d.session.stems.len());
        let Some(engine) = &self.engine else {
            return (vec![0.0; n], 0.0);
        };
        let fb = engine.feedback();
        let decay = 0.85;
        let mut stems = Vec::with_capacity(n);
        for i in 0..n {
            let (p, _) = fb
                .stem_meter(i)
                .map_or((0.0, 0.0), stemdeck_engine::Meter::take);
            let old = self.meter_display.get(i).copied().unwrap_or(0.0);
            stems.push(p.max(old * decay));
        }
        let (m, _) = fb.master_meter().take();
        self.master_hold.feed(m, std::time::Instant::now());
        let master = m.max(self.meter_display.last().copied().unwrap_or(0.0) * decay);
        self.meter_display = stems.clone();
        self.meter_display.push(master);
        let tracks = self.doc.as_ref().map_or(0, |d| d.session.tracks.len());
        self.track_meter_display.resize(tracks, 0.0);
        for (i, shown) in self.track_meter_display.iter_mut().enumerate() {
            let (p, _) = fb
                .track_meter(i)
                .map_or((0.0, 0.0), stemdeck_engine::Meter::take);
            *shown = p.max(*shown * decay);
        }
        (stems, master)
    }

    pub(crate) fn transport_ui(&mut self, ui: &mut egui::Ui) {
        let (_, master) = self.update_meters();
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 8.0;
            let playing = self
                .engine
                .as_ref()
                .is_some_and(|e| e.feedback().is_playing());
            let has_doc = self.doc.is_some();
            let play = ui
                .add_enabled(
                    has_doc,
                    egui::Button::new(if playing { "Pause" } else { "Play" })
                        .min_size(vec2(84.0, 26.0)),
                )
                .on_hover_text("Play / pause (Space)");
            if play.clicked() {
                self.toggle_play();
            }
            if ui
                .add_enabled(
                    has_doc,
                    egui::Button::new("Stop").min_size(vec2(64.0, 26.0)),
                )
                .on_hover_text("Stop and go to the start (Home goes to the start while playing)")
                .clicked()
                && let Some(e) = self.engine.as_mut()
            {
                e.pause();
                e.seek(0);
            }
            let (pos, rate) = match (&self.engine, &self.doc) {
                (Some(e), Some(d)) => (e.feedback().position(), d.session.sample_rate),
                _ => (0, 48_000),
            };
            ui.label(
                egui::RichText::new(format_minutes(pos, rate))
                    .monospace()
                    .size(18.0),
            )
            .on_hover_text("Position (minutes:seconds.milliseconds)");
            let loop_btn = ui
                .add_enabled(has_doc, egui::Button::new("Loop").selected(self.looping))
                .on_hover_text("Loop the region dragged on the ruler (L)");
            if loop_btn.clicked() {
                self.toggle_loop();
            }
            // Beside the lanes the master strip has the master meter; without it, here.
            if !self.show_master {
                ui.label("Master");
                meter_ui(ui, master, 160.0, "Master peak");
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let shortcut = Action::ExportStems
                    .shortcut()
                    .map(|s| ui.ctx().format_shortcut(&s))
                    .unwrap_or_default();
                let busy = self.export.running();
                let export = ui
                    .add_enabled(
                        has_doc && !busy,
                        egui::Button::new("Export stems")
                            .fill(theme::parse_color("#2E6FD8"))
                            .min_size(vec2(120.0, 26.0)),
                    )
                    .on_hover_text(format!(
                        "Export every stem with the last settings ({shortcut})"
                    ));
                if export.clicked() {
                    self.start_export();
                }
                if ui
                    .add_enabled(has_doc, egui::Button::new("Options…"))
                    .on_hover_text("Export options")
                    .clicked()
                {
                    self.export.show_options = true;
                }
                self.export_progress_ui(ui);
            });
        });
    }
}
