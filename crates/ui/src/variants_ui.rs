//! The mix variants bar: Full mix, Instrumental, A cappella and the user's own saved
//! mute/solo states. Clicking one applies it at once, while playing.

use stemdeck_session::{MixVariant, Session};

use crate::app::StemdeckApp;

impl StemdeckApp {
    /// Apply a variant (one undo step).
    pub fn apply_variant(&mut self, variant: &MixVariant) {
        if let Some(doc) = self.doc.as_mut() {
            doc.edit(|s| s.apply_variant(variant));
        }
    }

    pub(crate) fn variants_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = self.doc.as_ref() else { return };
        let session = doc.session.clone();
        let builtins = session.builtin_variants();
        let saved = session.variants.clone();
        let renaming = self.renaming_variant;
        let mut renamed: Option<(usize, String, bool)> = None;
        let mut start_rename = None;
        let mut apply = None;
        let mut delete = None;
        let mut add = false;
        ui.horizontal_wrapped(|ui| {
            ui.label("Mix:");
            for v in &builtins {
                let on = session.matches_variant(v);
                if ui
                    .selectable_label(on, &v.name)
                    .on_hover_text(describe(&session, v))
                    .clicked()
                {
                    apply = Some(v.clone());
                }
            }
            ui.separator();
            for (i, v) in saved.iter().enumerate() {
                if renaming == Some(i) {
                    let mut name = v.name.clone();
                    let label = ui.label("Name:");
                    let r = ui
                        .add(egui::TextEdit::singleline(&mut name).desired_width(100.0))
                        .labelled_by(label.id);
                    let done = r.lost_focus();
                    if !done {
                        r.request_focus();
                    }
                    renamed = Some((i, name, done));
                    continue;
                }
                let on = session.matches_variant(v);
                let r = ui.selectable_label(on, &v.name).on_hover_text(format!(
                    "{}\nRight-click to rename or delete",
                    describe(&session, v)
                ));
                if r.clicked() {
                    apply = Some(v.clone());
                }
                r.context_menu(|ui| {
                    if ui.button("Rename").clicked() {
                        start_rename = Some(i);
                    }
                    if ui.button("Delete").clicked() {
                        delete = Some(i);
                    }
                });
            }
            if ui
                .button("+ Save current")
                .on_hover_text("Save the stems' current mute/solo state as a variant")
                .clicked()
            {
                add = true;
            }
        });
        if let Some(i) = start_rename {
            self.renaming_variant = Some(i);
        }
        if let Some((i, name, done)) = renamed {
            if let Some(var) = self
                .doc
                .as_mut()
                .and_then(|d| d.session.variants.get_mut(i))
            {
                var.name = name;
            }
            if done {
                self.renaming_variant = None;
            }
        }
        if let Some(v) = apply {
            self.apply_variant(&v);
        }
        if let Some(doc) = self.doc.as_mut() {
            if let Some(i) = delete {
                doc.edit(|s| {
                    if i < s.variants.len() {
                        s.variants.remove(i);
                    }
                });
            }
            if add {
                let n = doc.session.variants.len() + 1;
                doc.edit(|s| {
                    let v = s.capture_variant(format!("Variant {n}"));
                    s.variants.push(v);
                });
                self.renaming_variant = Some(n - 1);
            }
        }
    }
}

/// "Vocals muted", "Vocals soloed", "everything on".
fn describe(session: &Session, v: &MixVariant) -> String {
    let parts: Vec<String> = v
        .stems
        .iter()
        .filter_map(|vs| {
            let name = &session.stem(vs.stem)?.name;
            match (vs.mute, vs.solo) {
                (_, true) => Some(format!("{name} soloed")),
                (true, false) => Some(format!("{name} muted")),
                _ => None,
            }
        })
        .collect();
    if parts.is_empty() {
        "Every stem on".into()
    } else {
        parts.join(", ")
    }
}
