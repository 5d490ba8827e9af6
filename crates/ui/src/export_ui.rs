//! One-click export: the Export button runs the whole delivery (stems, master, variants,
//! song information sheet, null test) as an [`ExportJob`] (its own thread) with the
//! settings saved in the session, while the UI and playback carry on. A progress bar
//! with stage and ETA, Cancel, a headroom prompt when a file would clip (one common
//! trim, never per-stem normalising), a summary with the levels and the null test, and
//! the "Export options" window with a live preview of the names.

use stemdeck_export::{
    DeliveryOptions, ExportError, ExportJob, ExportOptions, ExportReport, OutputFormat,
    SAMPLE_RATES, SettingsError, Stage, TRIM_TARGET_DBFS, TrimMode, options_for, planned_files,
};
use stemdeck_session::units::level_db;
use stemdeck_session::{EffectsMode, ExportSettings};

use crate::app::StemdeckApp;
use crate::notices::Level;
use crate::state::ExportPrompt;

/// What one export run does beyond the saved settings (answers to the prompts).
#[derive(Clone, Copy, Default)]
struct RunOverrides {
    force: bool,
    trim: bool,
}

/// The effects choice as the options window says it.
fn effects_text(mode: EffectsMode) -> &'static str {
    match mode {
        EffectsMode::Wet => "Wet (with effects)",
        EffectsMode::Dry => "Dry (without effects)",
        EffectsMode::Both => "Both (wet and dry)",
    }
}

fn rate_text(rate: u32) -> String {
    let khz = f64::from(rate) / 1000.0;
    if rate.is_multiple_of(1000) {
        format!("{khz:.0} kHz")
    } else {
        format!("{khz:.1} kHz")
    }
}

fn db_text(linear: f64, unit: &str) -> String {
    match level_db(linear) {
        Some(db) => format!("{db:+.1} {unit}"),
        None => "silent".into(),
    }
}

impl StemdeckApp {
    /// The export options for the open session, from its saved settings.
    fn export_options(&self) -> Option<(ExportOptions, DeliveryOptions)> {
        let doc = self.doc.as_ref()?;
        options_for(&doc.session, &doc.session.export, &doc.base_dir, false).ok()
    }

    /// The progress of the running export: fraction done and the pass it is in.
    pub fn export_progress(&self) -> Option<(f32, Stage)> {
        let status = self.export.job.as_ref()?.status();
        Some((status.fraction as f32, status.stage))
    }

    /// Export now with the session's saved settings, on a worker thread.
    pub fn start_export(&mut self) {
        self.start_export_with(RunOverrides::default());
    }

    fn start_export_with(&mut self, run: RunOverrides) {
        if self.export.running() {
            return;
        }
        self.export.prompt = None;
        let Some(doc) = self.doc.as_ref() else { return };
        let mut settings = doc.session.export.clone();
        if run.trim {
            settings.trim = TrimMode::Auto;
        }
        let (opts, delivery) = match options_for(&doc.session, &settings, &doc.base_dir, run.force)
        {
            Ok(options) => options,
            Err(SettingsError::Invalid(e)) => {
                self.notify(Level::Error, format!("Export settings: {e}"));
                return;
            }
            Err(SettingsError::Format(_)) => {
                let format = settings.format;
                self.notify(
                    Level::Error,
                    format!("Export settings: unknown format \"{format}\""),
                );
                return;
            }
        };
        match ExportJob::start(doc.session.clone(), opts, delivery) {
            Ok(job) => self.export.job = Some(job),
            Err(e) => self.notify(Level::Error, format!("Cannot start the export: {e}")),
        }
    }

    /// The last finished export, if any.
    pub fn export_report(&self) -> Option<&ExportReport> {
        self.export.last_report.as_ref()
    }

    pub fn cancel_export(&mut self) {
        if let Some(job) = &self.export.job {
            job.cancel();
        }
    }

    /// Block until the running export (if any) ends — for tests and scripted use.
    pub fn wait_for_export(&mut self) {
        if let Some(job) = self.export.job.take() {
            self.finish_export(job.wait());
        }
    }

    pub(crate) fn poll_export(&mut self) {
        let Some(job) = &mut self.export.job else {
            return;
        };
        let Some(result) = job.try_result() else {
            return;
        };
        self.export.job = None;
        self.finish_export(result);
    }

    fn finish_export(&mut self, result: Result<ExportReport, ExportError>) {
        match result {
            Ok(report) => {
                let null = report
                    .null_test
                    .as_ref()
                    .map(|n| format!(" · null test {}", n.message))
                    .unwrap_or_default();
                self.notify(
                    Level::Info,
                    format!(
                        "Exported {} files to {}{null}",
                        report.files.len() + report.sheet_files.len(),
                        report.dir.display()
                    ),
                );
                self.export.last_report = Some(report);
                self.export.show_summary = true;
            }
            Err(ExportError::WouldClip {
                first,
                files,
                peak_db,
                trim_db,
                ..
            }) => {
                let name = first
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let others = match files {
                    0 | 1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                self.export.prompt = Some(ExportPrompt::Clip {
                    message: format!(
                        "\"{name}\"{others} would clip: its peak is {peak_db:+.1} dBFS. \
                         Nothing was written."
                    ),
                    trim_db,
                });
            }
            Err(ExportError::WouldOverwrite { first, more }) => {
                let others = if more > 0 {
                    format!(" and {more} more files")
                } else {
                    String::new()
                };
                self.export.prompt = Some(ExportPrompt::Overwrite {
                    message: format!("{}{others} already exist.", first.display()),
                });
            }
            Err(ExportError::Cancelled) => {
                self.notify(Level::Info, "Export cancelled; no files were left behind")
            }
            Err(e) => self.notify(
                Level::Error,
                format!("Export failed: {e}. No files were left behind."),
            ),
        }
    }

    /// Progress with stage, ETA and Cancel, in the transport bar while an export runs.
    pub(crate) fn export_progress_ui(&mut self, ui: &mut egui::Ui) {
        let Some(status) = self.export.job.as_ref().map(ExportJob::status) else {
            return;
        };
        let (f, stage) = (status.fraction as f32, status.stage);
        let eta = status
            .eta
            .map(|eta| format!(" · {:.0} s left", eta.as_secs_f32()))
            .unwrap_or_default();
        if ui
            .button("Cancel")
            .on_hover_text("Stop the export; no files are left behind")
            .clicked()
        {
            self.cancel_export();
        }
        let mut what = stage.describe().to_owned();
        if let Some(first) = what.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        ui.add(
            egui::ProgressBar::new(f)
                .desired_width(200.0)
                .text(format!("{what} {:.0}%{eta}", f * 100.0)),
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
        if let Some(prompt) = self.export.prompt.clone() {
            egui::Window::new("Export")
                .collapsible(false)
                .resizable(false)
                .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
                .show(&ctx, |ui| self.export_prompt_ui(ui, &prompt));
        }
        if self.export.show_summary
            && let Some(report) = self.export.last_report.clone()
        {
            let mut open = true;
            egui::Window::new("Export finished")
                .open(&mut open)
                .show(&ctx, |ui| export_summary_ui(ui, &report));
            self.export.show_summary &= open;
        }
    }

    fn export_prompt_ui(&mut self, ui: &mut egui::Ui, prompt: &ExportPrompt) {
        match prompt {
            ExportPrompt::Clip { message, trim_db } => {
                ui.label(message);
                ui.label(format!(
                    "Stemdeck can lower every file by the same {:.1} dB, so the loudest \
                     peak sits at {TRIM_TARGET_DBFS:.1} dBFS, the stems keep their balance \
                     and still add up to the master. Or export as 32-bit float, which \
                     cannot clip.",
                    trim_db.abs()
                ));
                ui.horizontal(|ui| {
                    if ui
                        .button(format!("Trim all files by {trim_db:+.1} dB and export"))
                        .clicked()
                    {
                        self.start_export_with(RunOverrides {
                            trim: true,
                            force: false,
                        });
                    }
                    if ui.button("Cancel").clicked() {
                        self.export.prompt = None;
                    }
                });
            }
            ExportPrompt::Overwrite { message } => {
                ui.label(message);
                ui.horizontal(|ui| {
                    if ui.button("Replace them").clicked() {
                        self.start_export_with(RunOverrides {
                            force: true,
                            trim: false,
                        });
                    }
                    if ui.button("Choose another folder…").clicked() {
                        self.export.prompt = None;
                        self.export.show_options = true;
                    }
                    if ui.button("Cancel").clicked() {
                        self.export.prompt = None;
                    }
                });
            }
        }
    }

    /// The options window: every field edits the session's saved export settings (one
    /// undo step per change), with a live preview of the files it will write.
    fn export_options_ui(&mut self, ui: &mut egui::Ui) {
        let Some(doc) = self.doc.as_ref() else {
            ui.label("Open a session first.");
            return;
        };
        let session_rate = doc.session.sample_rate;
        let variant_names: Vec<String> = doc
            .session
            .delivery_variants()
            .into_iter()
            .map(|v| v.name)
            .collect();
        let mut s: ExportSettings = doc.session.export.clone();
        let folder = self
            .export_options()
            .map(|(o, _)| o.out_dir.display().to_string())
            .unwrap_or_default();
        egui::Grid::new("export-options")
            .num_columns(2)
            .spacing([12.0, 8.0])
            .show(ui, |ui| {
                ui.label("Folder");
                ui.horizontal(|ui| {
                    ui.label(folder).on_hover_text("Where the files go");
                    if ui.button("Choose…").clicked()
                        && let Some(dir) = rfd::FileDialog::new().pick_folder()
                    {
                        s.out_dir = Some(dir);
                    }
                    if s.out_dir.is_some()
                        && ui
                            .button("Default")
                            .on_hover_text("\"<title> - Stems\" beside the session")
                            .clicked()
                    {
                        s.out_dir = None;
                    }
                });
                ui.end_row();

                let label = ui.label("Format");
                let current = OutputFormat::from_id(&s.format).unwrap_or(OutputFormat::WAV24);
                egui::ComboBox::from_id_salt("format")
                    .selected_text(current.describe())
                    .show_ui(ui, |ui| {
                        for f in OutputFormat::ALL {
                            if ui.selectable_label(f == current, f.describe()).clicked() {
                                s.format = f.id().to_owned();
                            }
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();

                let label = ui.label("Sample rate");
                let rate_label = |r: Option<u32>| match r {
                    None => format!("Session ({})", rate_text(session_rate)),
                    Some(r) => rate_text(r),
                };
                egui::ComboBox::from_id_salt("sample-rate")
                    .selected_text(rate_label(s.sample_rate))
                    .show_ui(ui, |ui| {
                        for r in std::iter::once(None).chain(SAMPLE_RATES.map(Some)) {
                            ui.selectable_value(&mut s.sample_rate, r, rate_label(r));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();

                let label = ui.label("File names");
                ui.add(
                    egui::TextEdit::singleline(&mut s.template)
                        .desired_width(280.0)
                        .hint_text(stemdeck_export::naming::DEFAULT_TEMPLATE),
                )
                .labelled_by(label.id)
                .on_hover_text("Tokens: {index} {title} {artist} {stem} {bpm} {key}");
                ui.end_row();

                let label = ui.label("Effects");
                egui::ComboBox::from_id_salt("effects")
                    .selected_text(effects_text(s.effects))
                    .show_ui(ui, |ui| {
                        for m in EffectsMode::ALL {
                            ui.selectable_value(&mut s.effects, m, effects_text(m));
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text(
                        "Wet stems include their effects and the master processing; dry \
                         stems have none (the master fader applies to both). Both writes \
                         each stem twice, the dry one named \"(Dry)\".",
                    );
                ui.end_row();

                ui.label("Include");
                ui.vertical(|ui| {
                    ui.checkbox(&mut s.master, "Master mix (the sum of the stems)");
                    let variants = if variant_names.is_empty() {
                        "Mix variants (none: no vocal stem or saved variant)".to_owned()
                    } else {
                        format!("Mix variants: {}", variant_names.join(", "))
                    };
                    ui.add_enabled(
                        !variant_names.is_empty(),
                        egui::Checkbox::new(&mut s.variants, variants),
                    );
                    ui.checkbox(&mut s.sheet, "Song information sheet (PDF and JSON)");
                });
                ui.end_row();

                let label = ui.label("Tail");
                ui.add(
                    egui::DragValue::new(&mut s.tail_seconds)
                        .range(0.0..=60.0)
                        .speed(0.05)
                        .fixed_decimals(1)
                        .suffix(" s"),
                )
                .labelled_by(label.id)
                .on_hover_text("Silence added to the end of every file, for reverb tails");
                ui.end_row();

                ui.label("Headroom");
                let mut auto = s.trim == TrimMode::Auto;
                ui.checkbox(
                    &mut auto,
                    "If a file would clip, lower every file by one common trim",
                )
                .on_hover_text(
                    "The stems keep their balance and still add up to the master. \
                     Otherwise the export asks first.",
                );
                s.trim = if auto { TrimMode::Auto } else { TrimMode::None };
                ui.end_row();
            });

        if let Some(doc) = self.doc.as_mut()
            && doc.session.export != s
        {
            doc.edit(|session| session.export = s);
        }

        ui.separator();
        ui.label("Files");
        self.export_preview_ui(ui);
        ui.separator();
        if ui
            .add_enabled(!self.export.running(), egui::Button::new("Export now"))
            .clicked()
        {
            self.export.show_options = false;
            self.start_export();
        }
    }

    /// The names the export would write with the current settings, or why it cannot.
    fn export_preview_ui(&self, ui: &mut egui::Ui) {
        let (Some(doc), Some((opts, delivery))) = (self.doc.as_ref(), self.export_options()) else {
            return;
        };
        match planned_files(&doc.session, &opts, &delivery) {
            Ok(files) => {
                egui::ScrollArea::vertical()
                    .max_height(180.0)
                    .show(ui, |ui| {
                        for f in &files {
                            let name = f
                                .path
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            ui.monospace(name);
                        }
                    });
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
        }
    }
}

/// The summary of a finished export: format, trim, null test, and per file its levels.
fn export_summary_ui(ui: &mut egui::Ui, report: &ExportReport) {
    let rate = if report.sample_rate == report.session_rate {
        rate_text(report.sample_rate)
    } else {
        format!(
            "{} (from {})",
            rate_text(report.sample_rate),
            rate_text(report.session_rate)
        )
    };
    ui.label(format!(
        "{} files · {} · {rate} · {:.1} s of audio in {:.1} s",
        report.files.len(),
        report.format.describe(),
        report.seconds(),
        report.elapsed.as_secs_f64()
    ));
    if report.trim.gain_db != 0.0 {
        ui.colored_label(ui.visuals().warn_fg_color, &report.trim.message);
    }
    if let Some(null) = &report.null_test {
        let text = format!("Null test: {}", null.message);
        if null.passed {
            ui.colored_label(egui::Color32::from_rgb(0x4C, 0xAF, 0x50), text);
        } else {
            ui.colored_label(ui.visuals().error_fg_color, text);
        }
    }
    egui::Grid::new("export-summary")
        .striped(true)
        .show(ui, |ui| {
            for h in ["File", "Peak", "True peak", "Loudness"] {
                ui.strong(h);
            }
            ui.end_row();
            for f in &report.files {
                ui.label(
                    f.path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
                ui.label(db_text(f64::from(f.peak), "dBFS"));
                ui.label(db_text(f.true_peak, "dBTP"));
                ui.label(
                    f.loudness
                        .map_or_else(|| "—".to_owned(), |l| format!("{l:.1} LUFS")),
                );
                ui.end_row();
            }
        });
    for sheet in &report.sheet_files {
        if let Some(name) = sheet.file_name() {
            ui.label(format!("Sheet: {}", name.to_string_lossy()));
        }
    }
    if !report.unassigned.is_empty() {
        ui.weak(format!(
            "Left out (in no stem): {}",
            report.unassigned.join(", ")
        ));
    }
    if ui.button("Show folder").clicked() {
        show_folder(&report.dir);
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
