//! What the app tells the user without stopping them: notifications (bottom right,
//! gone after a few seconds; errors stay longer) and the status line.

use std::time::{Duration, Instant};

use crate::app::StemdeckApp;
use crate::notices::{Level, Notice};

impl StemdeckApp {
    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        let text = text.into();
        // The same news again refreshes the one shown instead of stacking up.
        self.notices.retain(|n| n.text != text);
        self.notices.push(Notice {
            text,
            level,
            at: Instant::now(),
        });
    }

    pub(crate) fn notices_ui(&mut self, ui: &mut egui::Ui) {
        let ttl = Duration::from_secs(8);
        self.notices.retain(|n| {
            n.at.elapsed() < ttl || n.level == Level::Error && n.at.elapsed() < ttl * 2
        });
        if self.notices.is_empty() {
            return;
        }
        let mut dismiss = None;
        egui::Area::new(egui::Id::unique("notices"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -36.0))
            .order(egui::Order::Foreground)
            .show(ui.ctx(), |ui| {
                for (i, n) in self.notices.iter().enumerate().rev().take(5) {
                    let color = match n.level {
                        Level::Info => egui::Color32::from_rgb(60, 90, 140),
                        Level::Warning => egui::Color32::from_rgb(150, 110, 30),
                        Level::Error => egui::Color32::from_rgb(160, 50, 50),
                    };
                    egui::Frame::new()
                        .fill(color)
                        .corner_radius(6.0)
                        .inner_margin(8.0)
                        .show(ui, |ui| {
                            ui.set_max_width(420.0);
                            ui.horizontal(|ui| {
                                ui.colored_label(egui::Color32::WHITE, &n.text);
                                if ui.small_button("x").on_hover_text("Dismiss").clicked() {
                                    dismiss = Some(i);
                                }
                            });
                        });
                    ui.add_space(4.0);
                }
            });
        if let Some(i) = dismiss {
            self.notices.remove(i);
        }
        ui.ctx().request_repaint_after(Duration::from_millis(500));
    }

    pub(crate) fn status_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(doc) = &self.doc {
                let s = &doc.session;
                ui.label(format!(
                    "{} Hz · {} tracks · {} stems · {}",
                    s.sample_rate,
                    s.tracks.len(),
                    s.stems.len(),
                    stemdeck_session::units::format_minutes(doc.len(), s.sample_rate)
                ));
                let unassigned = s.unassigned_tracks().count();
                if unassigned > 0 {
                    ui.separator();
                    ui.label(format!(
                        "{unassigned} unassigned (left out of stems and master)"
                    ));
                }
            }
            if let Some(p) = self.waveforms.progress() {
                ui.separator();
                ui.add(
                    egui::ProgressBar::new(p)
                        .desired_width(160.0)
                        .text("Waveforms"),
                );
            }
            // Backend figures (load, xruns, device errors) are in View ▸ Diagnostics,
            // not in front of every user.
        });
    }
}
