//! The small windows: Help ▸ About (version, the licences of the bundled dependencies),
//! Help ▸ Keyboard Shortcuts, and View ▸ Diagnostics (what the audio backend reports,
//! kept out of the status bar).

use std::sync::OnceLock;

use serde::Deserialize;

use crate::actions::Action;
use crate::app::StemdeckApp;

/// One third-party package built into the `stemdeck` binary.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ThirdParty {
    pub name: String,
    pub version: String,
    /// The SPDX expression from its Cargo.toml (`None` if it gives a licence file only).
    pub license: Option<String>,
}

/// `assets/third-party-licenses.json`, written by `scripts/licenses.sh` from
/// `cargo metadata` (a test checks it still matches Cargo.lock).
pub const THIRD_PARTY_JSON: &str = include_str!("../../../assets/third-party-licenses.json");

/// The bundled packages, read once.
pub fn third_party() -> &'static [ThirdParty] {
    static LIST: OnceLock<Vec<ThirdParty>> = OnceLock::new();
    LIST.get_or_init(|| serde_json::from_str(THIRD_PARTY_JSON).unwrap_or_default())
}

/// Stemdeck's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

impl StemdeckApp {
    pub(crate) fn help_windows_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.about_ui(&ctx);
        self.shortcuts_ui(&ctx);
        self.diagnostics_ui(&ctx);
    }

    fn about_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.windows.about;
        let filter = &mut self.windows.license_filter;
        egui::Window::new("About Stemdeck")
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .collapsible(false)
            .default_size([520.0, 480.0])
            .show(ctx, |ui| {
                ui.heading("Stemdeck");
                ui.label(format!("Version {VERSION}"));
                ui.label("Turn a multitrack session into stems.");
                ui.label(format!(
                    "Stemdeck is free software under {}.",
                    env!("CARGO_PKG_LICENSE")
                ));
                ui.separator();
                let list = third_party();
                ui.label(format!(
                    "Built with {} open-source packages, under these licences:",
                    list.len()
                ));
                ui.horizontal(|ui| {
                    let l = ui.label("Find");
                    ui.add(
                        egui::TextEdit::singleline(filter)
                            .hint_text("package or licence")
                            .desired_width(200.0),
                    )
                    .labelled_by(l.id);
                });
                let needle = filter.trim().to_lowercase();
                egui::ScrollArea::vertical()
                    .max_height(320.0)
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        egui::Grid::new("licences")
                            .striped(true)
                            .num_columns(3)
                            .show(ui, |ui| {
                                for p in list {
                                    let license =
                                        p.license.as_deref().unwrap_or("see its licence file");
                                    if !needle.is_empty()
                                        && !p.name.to_lowercase().contains(&needle)
                                        && !license.to_lowercase().contains(&needle)
                                    {
                                        continue;
                                    }
                                    ui.label(&p.name);
                                    ui.label(&p.version);
                                    ui.label(license);
                                    ui.end_row();
                                }
                            });
                    });
            });
        self.windows.about = open;
    }

    fn shortcuts_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.windows.shortcuts;
        egui::Window::new("Keyboard Shortcuts")
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .collapsible(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for a in Action::ALL {
                        if let Some(s) = a.shortcut() {
                            ui.strong(ctx.format_shortcut(&s));
                            ui.label(a.label());
                            ui.end_row();
                        }
                    }
                });
                ui.weak("Keys without Ctrl/Cmd act when no text field is being edited.");
            });
        self.windows.shortcuts = open;
    }

    fn diagnostics_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.windows.diagnostics;
        egui::Window::new("Diagnostics")
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .collapsible(false)
            .show(ctx, |ui| {
                ui.weak("What the audio device, the playback engine, the waveforms and the renderer report.");
                let Some(engine) = &self.engine else {
                    ui.label("No session is open.");
                    return;
                };
                let fb = engine.feedback();
                egui::Grid::new("diagnostics").striped(true).show(ui, |ui| {
                    let row = |ui: &mut egui::Ui, k: &str, v: String, tip: &str| {
                        ui.label(k).on_hover_text(tip);
                        ui.monospace(v);
                        ui.end_row();
                    };
                    row(
                        ui,
                        "Output device",
                        engine.output_description().unwrap_or("none").into(),
                        "The audio output in use: device, rate, channels, sample format",
                    );
                    row(
                        ui,
                        "Output latency",
                        fb.output_latency().map_or_else(
                            || "–".into(),
                            |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0),
                        ),
                        "How long the device takes to play what the mixer hands it (its \
                         buffer), as the device reports it: the delay from Play, a mute or \
                         a fader move to hearing it",
                    );
                    let t = self.waveforms.timing();
                    row(
                        ui,
                        "Waveforms",
                        match t.drawn_after {
                            Some(_) if t.tracks == 0 => "all were in memory".into(),
                            Some(d) => {
                                format!("{} drawn {:.2} s after opening", t.tracks, d.as_secs_f64())
                            }
                            None => format!("{} of {} ready", self.waveforms.arrived(), t.tracks),
                        },
                        "The tracks' overviews this session needed when it opened (computed, \
                         or read from the cache of earlier openings), and how long until the \
                         window showed all of them",
                    );
                    row(
                        ui,
                        "Renderer",
                        self.renderer.describe(),
                        "What draws this window (OpenGL). A software renderer draws on the \
                         processor: while waveforms are computed, the playhead and meters \
                         then move 10 times a second, to leave the processor to them",
                    );
                    row(
                        ui,
                        "Callback load",
                        format!("{:.1} %", fb.load() * 100.0),
                        "Share of each audio callback's time budget spent mixing",
                    );
                    row(
                        ui,
                        "Xruns",
                        fb.xruns().to_string(),
                        "Buffer under/overruns the output device reported (audible dropouts)",
                    );
                    row(
                        ui,
                        "Device errors",
                        fb.device_errors().to_string(),
                        "Other errors the audio backend reported while the sound kept playing",
                    );
                    row(
                        ui,
                        "Late reads",
                        fb.starved().to_string(),
                        "Callbacks that found the file reader behind (played silence)",
                    );
                    row(
                        ui,
                        "Callbacks",
                        fb.callbacks().to_string(),
                        "Audio callbacks processed",
                    );
                });
                if let Some(p) = &self.audio_problem {
                    ui.separator();
                    ui.label(p);
                }
            });
        if open {
            ctx.request_repaint_after(std::time::Duration::from_millis(250));
        }
        self.windows.diagnostics = open;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_licence_list_reads_and_names_our_dependencies() {
        let list = third_party();
        assert!(list.len() > 50, "{} packages", list.len());
        let egui = list.iter().find(|p| p.name == "egui").unwrap();
        assert_eq!(egui.license.as_deref(), Some("MIT OR Apache-2.0"));
        assert!(
            !list.iter().any(|p| p.name.starts_with("stemdeck")),
            "our own crates are not third-party"
        );
    }

    /// The committed list is what cargo resolves from Cargo.lock today: a dependency
    /// added, removed or updated without `bash scripts/licenses.sh` fails here.
    #[test]
    fn the_licence_list_matches_cargo_lock() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out = std::process::Command::new("bash")
            .arg("scripts/licenses.sh")
            .arg("--check")
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let committed =
            std::fs::read_to_string(root.join("assets/third-party-licenses.json")).unwrap();
        assert_eq!(
            committed, THIRD_PARTY_JSON,
            "the binary embeds the committed file"
        );
    }
}
