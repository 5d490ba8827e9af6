//! The song information panel: title, artist, BPM, key, notes. They name the stem
//! folder and files and go on the song information sheet.

use crate::app::StemdeckApp;

/// A labelled one-line text field (the label is its accessible name).
fn field_ui(ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str) {
    let l = ui.label(label);
    ui.add(
        egui::TextEdit::singleline(value)
            .desired_width(150.0)
            .hint_text(hint),
    )
    .labelled_by(l.id);
    ui.end_row();
}

impl StemdeckApp {
    pub(crate) fn song_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = self.doc.as_mut() else { return };
        let song = &mut doc.session.song;
        ui.heading("Song");
        egui::Grid::new("song")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                field_ui(ui, "Title", &mut song.title, "Song title");
                field_ui(ui, "Artist", &mut song.artist, "Artist");
                let l = ui.label("BPM");
                let mut known = song.bpm.is_some();
                ui.horizontal(|ui| {
                    if ui
                        .checkbox(&mut known, "")
                        .labelled_by(l.id)
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
                field_ui(ui, "Key", &mut song.key, "e.g. F# minor");
            });
        let l = ui.label("Notes");
        ui.add(
            egui::TextEdit::multiline(&mut song.notes)
                .desired_rows(5)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id)
        .on_hover_text("Notes for whoever receives the stems");
    }
}
