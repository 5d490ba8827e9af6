//! One-click export: the Export button runs the export on a worker thread (results
//! come back over a crossbeam channel) while the UI and playback carry on; a progress
//! bar with ETA and Cancel; a summary with "Show folder"; and the options window.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, bounded};
use stemdeck_export::naming::{DEFAULT_TEMPLATE, file_stem, stems_folder_name};
use stemdeck_export::{ExportOptions, ExportReport, Progress, SampleFormat};

use crate::app::{Level, StemdeckApp};

struct Job {
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    rx: Receiver<Result<ExportReport, String>>,
    started: Instant,
}

/// Export settings and the running job.
pub struct ExportState {
    pub show_options: bool,
    /// `None`: "<title> - Stems" beside the session.
    pub out_dir: Option<PathBuf>,
    pub format: SampleFormat,
    pub template: String,
    pub include_master: bool,
    pub force: bool,
    job: Option<Job>,
    pub last_report: Option<ExportReport>,
    pub show_summary: bool,
}

impl Default for ExportState {
    fn default() -> Self {
        Self {
            show_options: false,
            out_dir: None,
            format: SampleFormat::Wav24,
            template: DEFAULT_TEMPLATE.to_owned(),
            include_master: true,
            force: false,
            job: None,
            last_report: None,
            show_summary: false,
        }
    }
}

impl ExportState {
    pub fn running(&self) -> bool {
        self.job.is_some()
    }
}

impl StemdeckApp {
    fn export_dir(&self) -> Option<PathBuf> {
        let doc = self.doc.as_ref()?;
        Some(
            self.export
                .out_dir
                .clone()
                .unwrap_or_else(|| doc.base_dir.join(stems_folder_name(&doc.session.song))),
        )
    }

    /// Export every stem now, with the current settings, on a worker thread.
    pub fn start_export(&mut self) {
        if self.export.running() {
            return;
        }
        let (Some(doc), Some(out_dir)) = (self.doc.as_ref(), self.export_dir()) else {
            return;
        };
        let session = doc.session.clone();
        let opts = ExportOptions {
            out_dir,
            format: self.export.format,
            template: self.export.template.clone(),
            include_master: self.export.include_master,
            force: self.export.force,
        };
        let done = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = bounded(1);
        let (d, t, c) = (Arc::clone(&done), Arc::clone(&total), Arc::clone(&cancel));
        let spawned = std::thread::Builder::new()
            .name("stemdeck-export".into())
            .spawn(move || {
                let progress = |p: Progress| {
                    t.store(p.total_frames, Ordering::Relaxed);
                    d.store(p.done_frames, Ordering::Relaxed);
                };
                let result = stemdeck_export::export(&session, &opts, &progress, &c)
                    .map_err(|e| e.to_string());
                tx.send(result).ok();
            });
        match spawned {
            Ok(_) => {
                self.export.job = Some(Job {
                    done,
                    total,
                    cancel,
                    rx,
                    started: Instant::now(),
                })
            }
            Err(e) => self.notify(Level::Error, format!("Cannot start the export: {e}")),
        }
    }

    /// The last finished export, if any.
    pub fn export_report(&self) -> Option<&ExportReport> {
        self.export.last_report.as_ref()
    }

    pub fn cancel_export(&mut self) {
        if let Some(job) = &self.export.job {
            job.cancel.store(true, Ordering::Relaxed);
        }
    }

    /// Block until the running export (if any) ends — for tests and scripted use.
    pub fn wait_for_export(&mut self) {
        if let Some(job) = &self.export.job
            && let Ok(result) = job.rx.recv()
        {
            self.export.job = None;
            self.finish_export(result);
        }
    }

    pub(crate) fn poll_export(&mut self) {
        let Some(job) = &self.export.job else { return };
        let Ok(result) = job.rx.try_recv() else {
            return;
        };
        self.export.job = None;
        self.finish_export(result);
    }

    fn finish_export(&mut self, result: Result<ExportReport, String>) {
        match result {
            Ok(report) => {
                self.notify(
                    Level::Info,
                    format!(
                        "Exported {} files to {}",
                        report.files.len(),
                        report.dir.display()
                    ),
                );
                self.export.last_report = Some(report);
                self.export.show_summary = true;
            }
            Err(e) => self.notify(Level::Error, format!("Export failed: {e}")),
        }
    }

    /// Progress with ETA and Cancel, in the transport bar while an export runs.
    pub(crate) fn export_progress_ui(&mut self, ui: &mut egui::Ui) {
        let Some(job) = &self.export.job else { return };
        let (done, total) = (
            job.done.load(Ordering::Relaxed),
            job.total.load(Ordering::Relaxed),
        );
        let f = if total > 0 {
            done as f32 / total as f32
        } else {
            0.0
        };
        let elapsed = job.started.elapsed().as_secs_f32();
        let eta = if f > 0.02 {
            format!(" · {:.0} s left", elapsed / f - elapsed)
        } else {
            String::new()
        };
        if ui
            .button("Cancel")
            .on_hover_text("Stop the export; no files are left behind")
            .clicked()
        {
            self.cancel_export();
        }
        ui.add(
            egui::ProgressBar::new(f)
                .desired_width(180.0)
                .text(format!("Exporting {:.0}%{eta}", f * 100.0)),
        );
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }

    pub(crate) fn export_windows_ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if self.export.show_options {
            let mut open = true;
            egui::Window::new("Export options")
                .open(&mut open)
                .resizable(false)
                .show(&ctx, |ui| self.export_options_ui(ui));
            self.export.show_options &= open;
        }
        if self.export.show_summary
            && let Some(report) = self.export.last_report.clone()
        {
            let mut open = true;
            egui::Window::new("Export finished")
                .open(&mut open)
                .show(&ctx, |ui| {
                    ui.label(format!(
                        "{} files · {} · {} Hz · {:.1} s of audio in {:.1} s",
                        report.files.len(),
                        report.format.describe(),
                        report.sample_rate,
                        report.seconds(),
                        report.elapsed.as_secs_f64()
                    ));
                    egui::Grid::new("export-summary")
                        .striped(true)
                        .show(ui, |ui| {
                            for f in &report.files {
                                ui.label(
                                    f.path
                                        .file_name()
                                        .map(|n| n.to_string_lossy().into_owned())
                                        .unwrap_or_default(),
                                );
                                let db = if f.peak > 0.0 {
                                    format!("{:+.1} dBFS", 20.0 * f.peak.log10())
                                } else {
                                    "silent".into()
                                };
                                ui.label(db);
                                ui.end_row();
                            }
                        });
                    if !report.unassigned.is_empty() {
                        ui.weak(format!(
                            "Left out (in no stem): {}",
                            report.unassigned.join(", ")
                        ));
                    }
                    if ui.button("Show folder").clicked() {
                        show_folder(&report.dir);
                    }
                });
            self.export.show_summary &= open;
        }
    }

    fn export_options_ui(&mut self, ui: &mut egui::Ui) {
        let folder = self
            .export_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        egui::Grid::new("export-options")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                ui.label("Folder");
                ui.horizontal(|ui| {
                    ui.label(folder);
                    if ui.button("Choose…").clicked()
                        && let Some(dir) = rfd::FileDialog::new().pick_folder()
                    {
                        self.export.out_dir = Some(dir);
                    }
                    if self.export.out_dir.is_some() && ui.button("Default").clicked() {
                        self.export.out_dir = None;
                    }
                });
                ui.end_row();
                ui.label("Format");
                egui::ComboBox::from_id_salt("format")
                    .selected_text(self.export.format.describe())
                    .show_ui(ui, |ui| {
                        for f in SampleFormat::ALL {
                            ui.selectable_value(&mut self.export.format, f, f.describe());
                        }
                    });
                ui.end_row();
                ui.label("File names");
                ui.text_edit_singleline(&mut self.export.template)
                    .on_hover_text("Tokens: {index} {title} {artist} {stem} {bpm} {key}");
                ui.end_row();
                ui.label("");
                if let Some(doc) = &self.doc {
                    let preview: Vec<String> = doc
                        .session
                        .stems
                        .iter()
                        .filter(|s| !s.tracks.is_empty())
                        .enumerate()
                        .map(|(i, s)| {
                            format!(
                                "{}.{}",
                                file_stem(&self.export.template, &doc.session.song, i + 1, &s.name),
                                self.export.format.extension()
                            )
                        })
                        .collect();
                    ui.vertical(|ui| {
                        for p in preview.iter().take(6) {
                            ui.monospace(p);
                        }
                    });
                }
                ui.end_row();
                ui.label("Also");
                ui.checkbox(
                    &mut self.export.include_master,
                    "Master mix (the sum of the stems)",
                );
                ui.end_row();
                ui.label("");
                ui.checkbox(&mut self.export.force, "Overwrite existing files");
                ui.end_row();
            });
        ui.separator();
        if ui
            .add_enabled(!self.export.running(), egui::Button::new("Export now"))
            .clicked()
        {
            self.export.show_options = false;
            self.start_export();
        }
    }
}

/// Open the folder in the system's file manager.
fn show_folder(dir: &std::path::Path) {
    #[cfg(target_os = "macos")]
    let cmd = "open";
    #[cfg(target_os = "windows")]
    let cmd = "explorer";
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let cmd = "xdg-open";
    std::process::Command::new(cmd).arg(dir).spawn().ok();
}
