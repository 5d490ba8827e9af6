//! The stem-package check in the window. Opening a folder that looks like a stem
//! package (files named after stems, with or without a master) offers the check in a
//! bar (not a modal: the session works as usual meanwhile); the check and the repair
//! run on worker threads; the report shows in a panel beside the lanes, and each stem's
//! offset and problems are marked on its waveform.

use std::path::{Path, PathBuf};

use crossbeam_channel::bounded;
use egui::{Color32, Rect, Stroke, pos2};
use stemdeck_check::{CheckOptions, FileKind, FixReport, Report, Severity};

use crate::app::StemdeckApp;
use crate::notices::Level;
use crate::state::CheckState;

const WARN: Color32 = Color32::from_rgb(240, 170, 50);
const BAD: Color32 = Color32::from_rgb(235, 80, 70);
const GOOD: Color32 = Color32::from_rgb(110, 200, 110);

impl StemdeckApp {
    /// After opening `paths`: offer the check when they are one folder that looks like
    /// a stem package.
    pub(crate) fn offer_check(&mut self, paths: &[PathBuf]) {
        self.check = CheckState::default();
        if let [dir] = paths
            && dir.is_dir()
            && stemdeck_check::looks_like_stem_package(dir)
        {
            self.check.offer = Some(dir.clone());
        }
    }

    /// The folder offered for the check, if any.
    pub fn check_offered(&self) -> Option<&Path> {
        self.check.offer.as_deref()
    }

    /// The last check's report.
    pub fn check_report(&self) -> Option<&Report> {
        self.check.report.as_ref()
    }

    /// Check `dir` on a worker thread; the report arrives in [`Self::poll_check`].
    pub fn start_check(&mut self, dir: PathBuf) {
        if self.check.job.is_some() {
            return;
        }
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let (tx, rx) = bounded(1);
        self.check.job = Some(rx);
        self.check.show = true;
        self.check.error = None;
        std::thread::spawn(move || {
            let r =
                stemdeck_check::check(&dir, &CheckOptions::default()).map_err(|e| e.to_string());
            tx.send(r).ok();
        });
    }

    /// Block until the running check (and repair) is done: for tests.
    pub fn wait_for_check(&mut self) {
        if let Some(rx) = self.check.job.take()
            && let Ok(r) = rx.recv()
        {
            self.finish_check(r);
        }
        if let Some(rx) = self.check.fix_job.take()
            && let Ok(r) = rx.recv()
        {
            self.finish_fix(r);
        }
    }

    pub(crate) fn poll_check(&mut self) {
        if let Some(rx) = &self.check.job
            && let Ok(r) = rx.try_recv()
        {
            self.check.job = None;
            self.finish_check(r);
        }
        if let Some(rx) = &self.check.fix_job
            && let Ok(r) = rx.try_recv()
        {
            self.check.fix_job = None;
            self.finish_fix(r);
        }
    }

    fn finish_check(&mut self, r: Result<Report, String>) {
        match r {
            Ok(report) => {
                self.check.offer = None;
                self.check.report = Some(report);
            }
            Err(e) => {
                self.notify(Level::Error, format!("Check: {e}"));
                self.check.error = Some(e);
            }
        }
    }

    /// Repair the checked package into `out` on a worker thread.
    pub fn start_fix(&mut self, out: PathBuf) {
        let Some(report) = self.check.report.clone() else {
            return;
        };
        if self.check.fix_job.is_some() {
            return;
        }
        let (tx, rx) = bounded(1);
        self.check.fix_job = Some(rx);
        self.check.fixed = None;
        std::thread::spawn(move || {
            tx.send(stemdeck_check::fix(&report, &out).map_err(|e| e.to_string()))
                .ok();
        });
    }

    fn finish_fix(&mut self, r: Result<FixReport, String>) {
        match &r {
            Ok(f) => self.notify(
                Level::Info,
                format!("Repaired copy written to {}", f.out.display()),
            ),
            Err(e) => self.notify(Level::Error, format!("Repair: {e}")),
        }
        self.check.fixed = Some(r);
    }

    /// The offer bar and the report panel (call before the central panel).
    pub(crate) fn check_ui(&mut self, ui: &mut egui::Ui) {
        self.poll_check();
        if self.check.job.is_some() || self.check.fix_job.is_some() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        if let Some(dir) = self.check.offer.clone() {
            let mut start = false;
            let mut dismiss = false;
            egui::Panel::top("check-offer").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.colored_label(WARN, "!");
                    ui.label(
                        "This folder looks like a stem package. Check that the stems line up, \
                         have one length and rate, and add up to the master?",
                    );
                    if self.check.job.is_some() {
                        ui.spinner();
                        ui.label("Checking…");
                    } else {
                        start = ui.button("Check stem package").clicked();
                        dismiss = ui.button("Not now").clicked();
                    }
                });
            });
            if start {
                self.start_check(dir);
            } else if dismiss {
                self.check.offer = None;
            }
        }
        if !self.check.show || (self.check.report.is_none() && self.check.job.is_none()) {
            return;
        }
        egui::Panel::right("check-report")
            .resizable(true)
            .min_size(300.0)
            .default_size(380.0)
            .show(ui, |ui| self.check_report_ui(ui));
    }

    fn check_report_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("Stem package check");
            if ui
                .small_button("x")
                .on_hover_text("Close the report")
                .clicked()
            {
                self.check.show = false;
            }
        });
        let Some(report) = self.check.report.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Checking the stems…");
            });
            return;
        };
        if report.usable {
            ui.colored_label(
                GOOD,
                "Usable: no stem misaligned, every length and rate alike",
            );
        } else {
            ui.colored_label(
                BAD,
                format!("NOT usable: {}", report.failing_files().join("; ")),
            );
        }
        if let Some(n) = &report.null_test {
            ui.label(format!("Null test: {}", n.message));
        }
        ui.horizontal(|ui| {
            let busy = self.check.fix_job.is_some();
            if ui
                .add_enabled(!busy, egui::Button::new("Repair…"))
                .on_hover_text(
                    "Write a repaired copy into a new folder: stems moved to their found \
                     alignment, one length, rate and format; the originals are not touched",
                )
                .clicked()
                && let Some(out) = rfd::FileDialog::new()
                    .set_title("Folder for the repaired copy (new or empty)")
                    .pick_folder()
            {
                self.start_fix(out);
            }
            if busy {
                ui.spinner();
                ui.label("Repairing…");
            }
            if ui.button("Check again").clicked() {
                self.start_check(report.folder.clone());
            }
        });
        match &self.check.fixed {
            Some(Ok(f)) => {
                let n = &f.recheck;
                ui.colored_label(
                    if n.usable { GOOD } else { WARN },
                    format!(
                        "Repaired copy in {}: {}",
                        f.out.display(),
                        n.null_test.as_ref().map_or(
                            "no master to null-test".to_owned(),
                            |t| format!("null test {}", t.message)
                        )
                    ),
                );
            }
            Some(Err(e)) => {
                ui.colored_label(BAD, format!("Repair failed: {e}"));
            }
            None => {}
        }
        ui.separator();
        egui::ScrollArea::vertical().show(ui, |ui| {
            if !report.problems.is_empty() {
                ui.strong("Problems");
                for p in &report.problems {
                    ui.horizontal_wrapped(|ui| {
                        let (color, word) = match p.severity {
                            Severity::Error => (BAD, "error"),
                            Severity::Warning => (WARN, "warning"),
                            Severity::Note => (Color32::GRAY, "note"),
                        };
                        ui.colored_label(color, word);
                        ui.label(format!("{}: {}", p.file, p.message));
                    });
                }
                ui.separator();
            }
            ui.strong("Files");
            for f in &report.files {
                let offset = f.alignment.as_ref().map_or_else(
                    || {
                        if f.kind == FileKind::Master {
                            "reference".to_owned()
                        } else {
                            "-".to_owned()
                        }
                    },
                    |a| format!("{:+} smp ({:+.2} ms)", a.offset_samples, a.offset_ms),
                );
                ui.label(format!(
                    "{} — {} Hz, {} ch, {:.3} s, offset {offset}",
                    f.file, f.sample_rate, f.channels, f.seconds
                ));
            }
            ui.separator();
            ui.collapsing("Full report", |ui| {
                ui.add(egui::Label::new(egui::RichText::new(report.text()).monospace()).wrap());
            });
        });
    }
}

/// Marks on a track's waveform from the check: the found offset (the stretch it is late
/// or early by, shaded, with its value), where it ends short, where it first clips, and
/// its problems as a badge. `view` is the first frame shown and the frames across, at
/// `rate`.
pub(crate) fn waveform_marks_ui(
    painter: &egui::Painter,
    wave: Rect,
    view: (u64, u64),
    rate: u32,
    path: &Path,
    check: &CheckState,
) {
    let Some(report) = &check.report else { return };
    let Some(f) = report.files.iter().find(|f| same_path(&f.path, path)) else {
        return;
    };
    let x = |frames_at_report_rate: f64| {
        let at_session =
            frames_at_report_rate * f64::from(rate) / f64::from(report.sample_rate.max(1));
        let across = (at_session - view.0 as f64) / view.1.max(1) as f64;
        wave.left() + wave.width() * across.clamp(-1.0, 2.0) as f32
    };
    let font = egui::FontId::proportional(11.0);
    if let Some(a) = f
        .alignment
        .as_ref()
        .filter(|a| a.reliable && a.offset_samples.abs() > stemdeck_check::ALIGN_TOLERANCE_FRAMES)
    {
        let to = x(a.offset_samples.unsigned_abs() as f64);
        let shade = Rect::from_min_max(
            wave.left_top(),
            pos2(to.max(wave.left() + 2.0), wave.bottom()),
        );
        painter.rect_filled(shade, 0.0, BAD.gamma_multiply(0.35));
        painter.line_segment(
            [pos2(to, wave.top()), pos2(to, wave.bottom())],
            Stroke::new(2.0, BAD),
        );
        painter.text(
            pos2(to + 4.0, wave.top() + 2.0),
            egui::Align2::LEFT_TOP,
            format!(
                "{} {} smp ({:.2} ms)",
                if a.offset_samples > 0 {
                    "late"
                } else {
                    "early"
                },
                a.offset_samples.abs(),
                a.offset_ms.abs()
            ),
            font.clone(),
            BAD,
        );
    }
    // Short of the common length: the missing end, shaded.
    if f.frames_at_common_rate + 1 < report.common.frames {
        let from = x(f.frames_at_common_rate as f64);
        let to = x(report.common.frames as f64);
        painter.rect_filled(
            Rect::from_min_max(
                pos2(from, wave.top()),
                pos2(to.max(from + 2.0), wave.bottom()),
            ),
            0.0,
            BAD.gamma_multiply(0.35),
        );
    }
    if let Some(at) = f.clipping.first_at_seconds {
        let cx = x(at * f64::from(report.sample_rate));
        painter.line_segment(
            [pos2(cx, wave.top()), pos2(cx, wave.bottom())],
            Stroke::new(1.5, WARN),
        );
    }
    let words = problem_words(report, &f.file);
    if !words.is_empty() {
        let fatal = report.problems_of(&f.file).any(|p| p.fatal);
        painter.text(
            wave.right_top() + egui::vec2(-4.0, 2.0),
            egui::Align2::RIGHT_TOP,
            format!("! {words}"),
            font,
            if fatal { BAD } else { WARN },
        );
    }
}

/// The kinds of problem of a file, as short words ("misaligned, clipping").
fn problem_words(report: &Report, file: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    for p in report
        .problems_of(file)
        .filter(|p| p.severity != Severity::Note)
    {
        let w = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default();
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words.join(", ")
}

/// Both are absolute (the check is started on an absolute folder, and imported track
/// paths are absolute): no file-system call per frame.
fn same_path(a: &Path, b: &Path) -> bool {
    a == b
}
