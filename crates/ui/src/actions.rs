//! Every command of the app in one list: its label, its shortcut and when it is
//! available. The menus, the keyboard and Help ▸ Keyboard Shortcuts all read this list,
//! so a command cannot be in a menu with one shortcut and on the keyboard with another.

use egui::{Key, KeyboardShortcut, Modifiers};

use crate::app::StemdeckApp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    NewSession,
    Open,
    OpenFolder,
    AddFiles,
    Save,
    SaveAs,
    ExportStems,
    ExportOptions,
    CloseSession,
    Quit,
    Undo,
    Redo,
    RemoveTrack,
    DuplicateStem,
    DeleteStem,
    RegroupAll,
    MuteSelection,
    SoloSelection,
    PlayPause,
    GoToStart,
    ToggleLoop,
    SongInfo,
    ShowEffects,
    ShowMaster,
    ZoomIn,
    ZoomOut,
    ZoomToFit,
    Diagnostics,
    KeyboardShortcuts,
    About,
}

const fn cmd(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND, key)
}

const fn cmd_shift(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), key)
}

const fn bare(key: Key) -> KeyboardShortcut {
    KeyboardShortcut::new(Modifiers::NONE, key)
}

impl Action {
    pub const ALL: [Action; 30] = [
        Action::NewSession,
        Action::Open,
        Action::OpenFolder,
        Action::AddFiles,
        Action::Save,
        Action::SaveAs,
        Action::ExportStems,
        Action::ExportOptions,
        Action::CloseSession,
        Action::Quit,
        Action::Undo,
        Action::Redo,
        Action::RemoveTrack,
        Action::DuplicateStem,
        Action::DeleteStem,
        Action::RegroupAll,
        Action::MuteSelection,
        Action::SoloSelection,
        Action::PlayPause,
        Action::GoToStart,
        Action::ToggleLoop,
        Action::SongInfo,
        Action::ShowEffects,
        Action::ShowMaster,
        Action::ZoomIn,
        Action::ZoomOut,
        Action::ZoomToFit,
        Action::Diagnostics,
        Action::KeyboardShortcuts,
        Action::About,
    ];

    /// The menu item's text.
    pub fn label(self) -> &'static str {
        match self {
            Action::NewSession => "New Session",
            Action::Open => "Open…",
            Action::OpenFolder => "Open Folder…",
            Action::AddFiles => "Add Files…",
            Action::Save => "Save",
            Action::SaveAs => "Save As…",
            Action::ExportStems => "Export Stems",
            Action::ExportOptions => "Export Options…",
            Action::CloseSession => "Close",
            Action::Quit => "Quit",
            Action::Undo => "Undo",
            Action::Redo => "Redo",
            Action::RemoveTrack => "Remove Track",
            Action::DuplicateStem => "Duplicate Stem",
            Action::DeleteStem => "Delete Stem",
            Action::RegroupAll => "Re-run Auto-grouping",
            Action::MuteSelection => "Mute Selection",
            Action::SoloSelection => "Solo Selection",
            Action::PlayPause => "Play / Pause",
            Action::GoToStart => "Go to Start",
            Action::ToggleLoop => "Loop On / Off",
            Action::SongInfo => "Song Information",
            Action::ShowEffects => "Effects Panel",
            Action::ShowMaster => "Master Strip",
            Action::ZoomIn => "Zoom In",
            Action::ZoomOut => "Zoom Out",
            Action::ZoomToFit => "Zoom to Fit",
            Action::Diagnostics => "Diagnostics",
            Action::KeyboardShortcuts => "Keyboard Shortcuts",
            Action::About => "About Stemdeck",
        }
    }

    /// What it does, for the menu item's tooltip.
    pub fn help(self) -> &'static str {
        match self {
            Action::NewSession => "An empty session; add files to it",
            Action::Open => "A session file, or audio files to group into a new session",
            Action::OpenFolder => "A folder of tracks, grouped into a new session",
            Action::AddFiles => "Audio files into this session, grouped by their names",
            Action::Save => "Save the session file",
            Action::SaveAs => "Save the session under a new name",
            Action::ExportStems => "Export with the session's export settings",
            Action::ExportOptions => "Format, folder, names, master and variants",
            Action::CloseSession => "Close the session",
            Action::Quit => "Quit Stemdeck",
            Action::Undo => "Undo the last change",
            Action::Redo => "Redo what was undone",
            Action::RemoveTrack => "Remove the selected tracks from the session",
            Action::DuplicateStem => "A copy of the selected stem, with copies of its tracks",
            Action::DeleteStem => "Delete the selected stem; its tracks go to Unassigned",
            Action::RegroupAll => "Group every track into stems by its name again",
            Action::MuteSelection => "Mute the selected tracks (or the selected stem)",
            Action::SoloSelection => "Solo the selected tracks (or the selected stem)",
            Action::PlayPause => "Play or pause",
            Action::GoToStart => "Move the playhead to the start",
            Action::ToggleLoop => "Loop the region set on the ruler",
            Action::SongInfo => "Show the song information panel",
            Action::ShowEffects => {
                "Show or hide the effects of the chosen track, stem or master (its FX button)"
            }
            Action::ShowMaster => "Show or hide the master fader, meter and clip light",
            Action::ZoomIn => "Show less of the timeline, larger (also Ctrl+wheel over the lanes)",
            Action::ZoomOut => "Show more of the timeline",
            Action::ZoomToFit => "Show the whole song",
            Action::Diagnostics => "Audio device, engine, waveform and renderer figures",
            Action::KeyboardShortcuts => "Every key Stemdeck knows",
            Action::About => "Version and licences",
        }
    }

    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        Some(match self {
            Action::NewSession => cmd(Key::N),
            Action::Open => cmd(Key::O),
            Action::OpenFolder => cmd_shift(Key::O),
            Action::AddFiles => cmd(Key::I),
            Action::Save => cmd(Key::S),
            Action::SaveAs => cmd_shift(Key::S),
            Action::ExportStems => cmd(Key::E),
            Action::CloseSession => cmd(Key::W),
            Action::Quit => cmd(Key::Q),
            Action::Undo => cmd(Key::Z),
            Action::Redo => cmd_shift(Key::Z),
            Action::RemoveTrack => bare(Key::Delete),
            Action::DuplicateStem => cmd(Key::D),
            Action::DeleteStem => KeyboardShortcut::new(Modifiers::SHIFT, Key::Delete),
            Action::MuteSelection => bare(Key::M),
            Action::SoloSelection => bare(Key::S),
            Action::PlayPause => bare(Key::Space),
            Action::GoToStart => bare(Key::Home),
            Action::ToggleLoop => bare(Key::L),
            Action::KeyboardShortcuts => bare(Key::F1),
            // F for effects; X opens the mixer in Logic Pro, the master strip here.
            Action::ShowEffects => bare(Key::F),
            Action::ShowMaster => bare(Key::X),
            Action::ZoomIn => cmd(Key::Equals),
            Action::ZoomOut => cmd(Key::Minus),
            Action::ZoomToFit => cmd(Key::Num0),
            Action::ExportOptions
            | Action::RegroupAll
            | Action::SongInfo
            | Action::Diagnostics
            | Action::About => return None,
        })
    }

    /// Whether it can be used now.
    pub fn enabled(self, app: &StemdeckApp) -> bool {
        let doc = app.doc.as_ref();
        let stem_selected = app
            .selection
            .stem
            .is_some_and(|id| doc.is_some_and(|d| d.session.stem(id).is_some()));
        match self {
            Action::NewSession
            | Action::Open
            | Action::OpenFolder
            | Action::Quit
            | Action::Diagnostics
            | Action::KeyboardShortcuts
            | Action::About => true,
            Action::AddFiles
            | Action::Save
            | Action::SaveAs
            | Action::ExportStems
            | Action::ExportOptions
            | Action::CloseSession
            | Action::MuteSelection
            | Action::SoloSelection
            | Action::SongInfo
            | Action::ShowEffects
            | Action::ShowMaster
            | Action::ZoomIn
            | Action::ZoomOut
            | Action::ZoomToFit => doc.is_some(),
            Action::RegroupAll => doc.is_some_and(|d| !d.session.tracks.is_empty()),
            Action::Undo => doc.is_some_and(crate::document::Document::can_undo),
            Action::Redo => doc.is_some_and(crate::document::Document::can_redo),
            Action::RemoveTrack => doc.is_some_and(|d| {
                app.selection
                    .tracks
                    .iter()
                    .any(|t| d.session.track(*t).is_some())
            }),
            Action::DuplicateStem | Action::DeleteStem => stem_selected,
            Action::PlayPause | Action::GoToStart | Action::ToggleLoop => app.engine.is_some(),
        }
    }
}

impl StemdeckApp {
    /// Carry out a command (from a menu, a key, or a test).
    pub fn run_action(&mut self, ctx: &egui::Context, action: Action) {
        if !action.enabled(self) {
            return;
        }
        match action {
            Action::NewSession => self.new_session(),
            Action::Open => self.open_dialog(false),
            Action::OpenFolder => self.open_dialog(true),
            Action::AddFiles => self.add_files_dialog(),
            Action::Save => self.save(),
            Action::SaveAs => self.save_as(),
            Action::ExportStems => self.start_export(),
            Action::ExportOptions => self.export.show_options = true,
            Action::CloseSession => self.close_session(),
            Action::Quit => self.quit(ctx),
            Action::Undo => self.undo(),
            Action::Redo => self.redo(),
            Action::RemoveTrack => self.remove_selected_tracks(),
            Action::DuplicateStem => self.duplicate_selected_stem(),
            Action::DeleteStem => self.delete_selected_stem(),
            Action::RegroupAll => self.regroup_all(),
            Action::MuteSelection => self.toggle_selected(false),
            Action::SoloSelection => self.toggle_selected(true),
            Action::PlayPause => self.toggle_play(),
            Action::GoToStart => self.seek(0),
            Action::ToggleLoop => self.toggle_loop(),
            Action::SongInfo => self.show_song = !self.show_song,
            Action::ShowEffects => self.show_effects = !self.show_effects,
            Action::ShowMaster => self.show_master = !self.show_master,
            Action::ZoomIn => self.zoom_timeline(1),
            Action::ZoomOut => self.zoom_timeline(-1),
            Action::ZoomToFit => self.zoom_timeline(0),
            Action::Diagnostics => self.windows.diagnostics = true,
            Action::KeyboardShortcuts => self.windows.shortcuts = true,
            Action::About => self.windows.about = true,
        }
    }

    /// The keyboard: every action's shortcut. Keys without Ctrl/Cmd are left to a text
    /// field being typed in.
    pub(crate) fn shortcuts(&mut self, ctx: &egui::Context) {
        let typing = ctx.egui_wants_keyboard_input();
        // egui matches modifiers loosely (Ctrl+Shift+Z also matches Ctrl+Z): the
        // shortcuts with more modifiers go first.
        let mut keyed: Vec<(Action, KeyboardShortcut)> = Action::ALL
            .iter()
            .filter_map(|a| a.shortcut().map(|s| (*a, s)))
            .collect();
        keyed.sort_by_key(|(_, s)| {
            std::cmp::Reverse(u8::from(s.modifiers.command) + u8::from(s.modifiers.shift))
        });
        for (action, shortcut) in keyed {
            if typing && !shortcut.modifiers.command {
                continue;
            }
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.run_action(ctx, action);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shortcut_belongs_to_one_action() {
        let mut seen = Vec::new();
        for a in Action::ALL {
            if let Some(s) = a.shortcut() {
                assert!(!seen.contains(&s), "{a:?}: {s:?} is taken");
                seen.push(s);
            }
            assert!(!a.label().is_empty() && !a.help().is_empty());
        }
    }
}
