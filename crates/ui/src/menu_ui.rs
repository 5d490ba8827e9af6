//! The menu bar, drawn from the one list of actions ([`crate::actions::Action`]).

use crate::actions::Action;
use crate::app::StemdeckApp;

impl StemdeckApp {
    /// One menu item for an action: its label, shortcut, tooltip and enabled-ness.
    fn action_item_ui(&mut self, ui: &mut egui::Ui, action: Action) {
        self.button_item_ui(ui, action, egui::Button::new(action.label()));
    }

    /// A menu item for an action that shows or hides a part of the window: ticked
    /// while shown, with its shortcut.
    fn toggle_item_ui(&mut self, ui: &mut egui::Ui, action: Action, on: bool) {
        // `selected` makes it a toggle for accessibility too: only for these items.
        self.button_item_ui(ui, action, egui::Button::new(action.label()).selected(on));
    }

    /// `button` with the action's shortcut, tooltip and enabled-ness; runs it when clicked.
    fn button_item_ui(&mut self, ui: &mut egui::Ui, action: Action, mut button: egui::Button<'_>) {
        if let Some(s) = action.shortcut() {
            button = button.shortcut_text(ui.ctx().format_shortcut(&s));
        }
        if ui
            .add_enabled(action.enabled(self), button)
            .on_hover_text(action.help())
            .clicked()
        {
            let ctx = ui.ctx().clone();
            self.run_action(&ctx, action);
        }
    }

    fn actions_ui(&mut self, ui: &mut egui::Ui, actions: &[Action]) {
        for a in actions {
            self.action_item_ui(ui, *a);
        }
    }

    /// File ▸ Open Recent: the last sessions and folders, gone ones pruned.
    fn recent_menu_ui(&mut self, ui: &mut egui::Ui) {
        if self.settings.prune_recent() {
            self.settings.save().ok();
        }
        let recent = self.settings.recent.clone();
        ui.add_enabled_ui(!recent.is_empty(), |ui| {
            ui.menu_button("Open Recent", |ui| {
                for path in recent {
                    if ui
                        .button(recent_label(&path))
                        .on_hover_text(path.display().to_string())
                        .clicked()
                    {
                        self.open(vec![path]);
                    }
                }
                ui.separator();
                if ui.button("Clear Recent").clicked() {
                    self.settings.recent.clear();
                    self.settings.save().ok();
                }
            });
        });
    }

    pub(crate) fn menu_ui(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                self.actions_ui(ui, &[Action::NewSession, Action::Open, Action::OpenFolder]);
                self.recent_menu_ui(ui);
                self.action_item_ui(ui, Action::AddFiles);
                ui.separator();
                self.actions_ui(ui, &[Action::Save, Action::SaveAs]);
                ui.separator();
                self.actions_ui(ui, &[Action::ExportStems, Action::ExportOptions]);
                ui.separator();
                self.actions_ui(ui, &[Action::CloseSession, Action::Quit]);
            });
            ui.menu_button("Edit", |ui| {
                self.actions_ui(ui, &[Action::Undo, Action::Redo]);
                ui.separator();
                self.actions_ui(
                    ui,
                    &[
                        Action::RemoveTrack,
                        Action::DuplicateStem,
                        Action::DeleteStem,
                        Action::RegroupAll,
                    ],
                );
                ui.separator();
                self.actions_ui(ui, &[Action::MuteSelection, Action::SoloSelection]);
            });
            ui.menu_button("Transport", |ui| {
                self.actions_ui(
                    ui,
                    &[Action::PlayPause, Action::GoToStart, Action::ToggleLoop],
                );
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.show_song, Action::SongInfo.label())
                    .on_hover_text(Action::SongInfo.help());
                self.toggle_item_ui(ui, Action::ShowEffects, self.show_effects);
                self.toggle_item_ui(ui, Action::ShowMaster, self.show_master);
                ui.separator();
                self.actions_ui(ui, &[Action::ZoomIn, Action::ZoomOut, Action::ZoomToFit]);
                ui.separator();
                self.action_item_ui(ui, Action::Diagnostics);
            });
            ui.menu_button("Help", |ui| {
                self.actions_ui(ui, &[Action::KeyboardShortcuts, Action::About]);
            });
        });
    }
}

/// "song.stemdeck — /home/me/Sessions": the name first, then where it is.
pub(crate) fn recent_label(path: &std::path::Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => format!("{name} — {}", dir.display()),
        None => name,
    }
}
