//! The report as people read it (`stemdeck check`, and the window's panel).

use std::fmt::Write as _;

use stemdeck_export::sheet::format_level;
use stemdeck_session::units::format_time;

use crate::report::{FileKind, Report, Severity};

impl Report {
    /// The readable report: a table of the files, the null test, the sheet, the
    /// problems and the verdict.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let stems = self
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Stem)
            .count();
        let _ = writeln!(s, "Stem package: {}", self.folder.display());
        let _ = writeln!(
            s,
            "{} stems{}; compared at {} Hz, {} ({} frames); offsets against the {}",
            stems,
            self.master.as_ref().map_or_else(
                || ", no master".to_owned(),
                |m| format!(" and the master \"{m}\"")
            ),
            self.sample_rate,
            format_time(self.common.frames, self.sample_rate),
            self.common.frames,
            self.aligned_against
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  {:<36} {:<12} {:<16} {:>6} {:>3} {:>10} {:>11} {:>22}",
            "File", "Stem", "Format", "Rate", "Ch", "Length", "Peak", "Offset"
        );
        for f in &self.files {
            let stem = match f.kind {
                FileKind::Master => "(master)".to_owned(),
                FileKind::Other => "(not a stem)".to_owned(),
                FileKind::Stem => f.stem.clone().unwrap_or_default(),
            };
            let bits = match (f.bit_depth, f.float) {
                (Some(b), true) => format!(" {b}f"),
                (Some(b), false) => format!(" {b}-bit"),
                (None, _) => String::new(),
            };
            let offset = match &f.alignment {
                Some(a) => format!(
                    "{}{:+} ({:+.2} ms)",
                    if a.inverted { "inv " } else { "" },
                    a.offset_samples,
                    a.offset_ms
                ),
                None if f.kind == FileKind::Master => "reference".to_owned(),
                None => "-".to_owned(),
            };
            let _ = writeln!(
                s,
                "  {:<36} {:<12} {:<16} {:>6} {:>3} {:>10} {:>11} {:>22}",
                clip(&f.file, 36),
                stem,
                clip(&format!("{}{bits}", container_name(&f.format)), 16),
                f.sample_rate,
                f.channels,
                format_time(f.frames, f.sample_rate),
                format_level(f.peak_dbfs, "dBFS", "silence"),
                offset
            );
        }
        for u in &self.unreadable {
            let _ = writeln!(s, "  {:<36} (unreadable)", clip(&u.file, 36));
        }
        let _ = writeln!(s);
        match &self.null_test {
            Some(n) => {
                let _ = writeln!(s, "Null test: {}", n.message);
            }
            None => {
                let _ = writeln!(s, "Null test: not possible: no master in the package");
            }
        }
        let sheet = &self.sheet;
        match (&sheet.json, &sheet.pdf, sheet.agrees) {
            (None, None, _) => {
                let _ = writeln!(s, "Song information sheet: none");
            }
            (j, p, agrees) => {
                let names: Vec<&str> = [j, p].into_iter().flatten().map(|x| x.as_str()).collect();
                let verdict = match agrees {
                    Some(true) => "it agrees with the files".to_owned(),
                    Some(false) => format!(
                        "{} disagreement{} with the files (below)",
                        sheet.findings.len(),
                        if sheet.findings.len() == 1 { "" } else { "s" }
                    ),
                    None => "no JSON sheet to compare".to_owned(),
                };
                let _ = writeln!(s, "Song information sheet: {}: {verdict}", names.join(", "));
            }
        }
        let _ = writeln!(s);
        let (notes, problems): (Vec<_>, Vec<_>) = self
            .problems
            .iter()
            .partition(|p| p.severity == Severity::Note);
        if problems.is_empty() {
            let _ = writeln!(s, "No problems found.");
        } else {
            let _ = writeln!(s, "Problems:");
            for p in &problems {
                let _ = writeln!(
                    s,
                    "  {} {}: {}",
                    if p.fatal { "ERROR  " } else { "warning" },
                    p.file,
                    p.message
                );
            }
        }
        if !notes.is_empty() {
            let _ = writeln!(s, "Notes:");
            for p in &notes {
                let _ = writeln!(s, "  {}: {}", p.file, p.message);
            }
        }
        let _ = writeln!(s);
        if self.usable {
            let _ = writeln!(s, "Verdict: usable");
        } else {
            let _ = writeln!(
                s,
                "Verdict: NOT usable: {}",
                self.failing_files().join("; ")
            );
        }
        s
    }
}

/// "WAV", "FLAC", "MP3"… from "wave/pcm_s24le", "flac/flac".
fn container_name(format: &str) -> String {
    match format.split('/').next().unwrap_or_default() {
        "wave" | "riff" => "WAV".to_owned(),
        other => other.to_uppercase(),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

/// "1.000 s" or "300 samples (6.80 ms)".
pub fn describe_frames(frames: u64, rate: u32) -> String {
    let ms = frames as f64 * 1000.0 / f64::from(rate.max(1));
    if ms >= 1000.0 {
        format!("{:.3} s", ms / 1000.0)
    } else {
        format!("{frames} samples ({ms:.2} ms)")
    }
}
