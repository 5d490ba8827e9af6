//! The song information panel: title, artist, BPM, key, notes. They name the stem
//! folder and files and go on the song information sheet.

use crate::app::StemdeckApp;

impl StemdeckApp {
    pub(crate) fn song_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = self.doc.as_mut() else { return };
        let song = &mut doc.session.song;
        ui.heading("Song");
        egui::Grid::new("song")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                ui.label("Title");
                ui.add(egui::TextEdit::singleline(&mut song.title).desired_width(150.0))
                    .on_hover_text("Song title");
                ui.end_row();
                ui.label("Artist");
                ui.add(egui::TextEdit::singleline(&mut song.artist).desired_width(150.0))
                    .on_hover_text("Artist");
                ui.end_row();
                ui.label("BPM");
                let mut known = song.bpm.is_some();
                ui.horizontal(|ui| {
                    if ui
                        .checkbox(&mut known, "")
                        .on_hover_text("Tempo known")
                        .changed()
                    {
                        song.bpm = known.then_some(120.0);
                    }
                    if let Some(bpm) = song.bpm.as_mut() {
                        ui.add(
                            egui::DragValue::new(bpm)
                                .range(20.0..=400.0)
                                .speed(0.1)
                                .max_decimals(2),
                        )
                        .on_hover_text("Tempo in BPM");
                    }
                });
                ui.end_row();
                ui.label("Key");
                ui.add(
                    egui::TextEdit::singleline(&mut song.key)
                        .desired_width(150.0)
                        .hint_text("e.g. F# minor"),
                )
                .on_hover_text("Musical key");
                ui.end_row();
            });
        ui.label("Notes");
        ui.add(
            egui::TextEdit::multiline(&mut song.notes)
                .desired_rows(5)
                .desired_width(f32::INFINITY),
        )
        .on_hover_text("Notes for whoever receives the stems");
    }
}
