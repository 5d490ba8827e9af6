//! The song information sheet of a package, if it has one ("<title> - Song Info.json"
//! and ".pdf", as `stemdeck export` writes them: see `stemdeck_export::sheet`), and what
//! it says against what the check found in the files.

use std::path::Path;

use serde_json::Value;

use crate::report::{FileCheck, FileKind, NullTest};

// The result types live with the rest of the report (a report holds one); their
// public path stays here.
pub use crate::report::{SheetCheck, SheetFinding, SheetSays};

/// The end of a sheet's file name, before the extension.
pub const SHEET_SUFFIX: &str = " - Song Info";

/// A sheet found in the folder.
#[derive(Clone, Debug)]
pub struct FoundSheet {
    pub json_file: Option<String>,
    pub pdf_file: Option<String>,
    /// The JSON, when it could be read.
    pub json: Option<Value>,
    /// Why the JSON could not be read.
    pub error: Option<String>,
    /// The master's file name, as the sheet gives it.
    pub master_file: Option<String>,
    /// Files the sheet lists as mix variants (not stems).
    pub variant_files: Vec<String>,
}

/// The sheet in `dir`, if any (the first, in name order, when there are several).
pub fn find(dir: &Path) -> Option<FoundSheet> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let with = |ext: &str| {
        names
            .iter()
            .find(|n| {
                n.strip_suffix(ext)
                    .is_some_and(|stem| stem.ends_with(SHEET_SUFFIX))
            })
            .cloned()
    };
    let json_file = with(".json");
    let pdf_file = with(".pdf");
    if json_file.is_none() && pdf_file.is_none() {
        return None;
    }
    let mut found = FoundSheet {
        json_file: json_file.clone(),
        pdf_file,
        json: None,
        error: None,
        master_file: None,
        variant_files: Vec::new(),
    };
    if let Some(f) = json_file {
        match std::fs::read_to_string(dir.join(&f))
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
        {
            Ok(v) => {
                found.master_file = v
                    .pointer("/master/file")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                found.variant_files = files_of(&v, "/variants");
                found.json = Some(v);
            }
            Err(e) => found.error = Some(e),
        }
    }
    Some(found)
}

fn files_of(v: &Value, pointer: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| f.get("file").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Compare a sheet with the files found.
pub fn compare(
    found: Option<&FoundSheet>,
    files: &[FileCheck],
    null: Option<&NullTest>,
) -> SheetCheck {
    let Some(found) = found else {
        return SheetCheck::default();
    };
    let mut out = SheetCheck {
        json: found.json_file.clone(),
        pdf: found.pdf_file.clone(),
        ..SheetCheck::default()
    };
    let sheet_name = found
        .json_file
        .clone()
        .or_else(|| found.pdf_file.clone())
        .unwrap_or_default();
    let Some(v) = &found.json else {
        if let Some(e) = &found.error {
            out.findings.push(SheetFinding {
                file: sheet_name,
                message: format!("the song information sheet cannot be read: {e}"),
            });
            out.agrees = Some(false);
        }
        return out;
    };
    let u = |p: &str| v.pointer(p).and_then(Value::as_u64);
    let mut listed = files_of(v, "/stems");
    listed.extend(found.master_file.clone());
    listed.extend(found.variant_files.iter().cloned());
    let says = SheetSays {
        title: v
            .pointer("/song/title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        sample_rate: u("/audio/sample_rate"),
        bit_depth: u("/audio/bit_depth"),
        frames: u("/audio/frames"),
        length: v
            .pointer("/audio/length")
            .and_then(Value::as_str)
            .map(str::to_owned),
        files: listed.clone(),
        null_test_passed: v.pointer("/null_test/passed").and_then(Value::as_bool),
    };
    let mut add = |file: &str, message: String| {
        out.findings.push(SheetFinding {
            file: file.to_owned(),
            message,
        })
    };
    for name in &listed {
        if !files.iter().any(|f| &f.file == name) {
            add(
                name,
                "listed on the song information sheet but not in the folder".into(),
            );
        }
    }
    let peaks: Vec<(String, Option<f64>)> = ["/stems", "/variants"]
        .iter()
        .flat_map(|p| {
            v.pointer(p)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .chain(v.pointer("/master").cloned().filter(|m| !m.is_null()))
        .filter_map(|f| {
            Some((
                f.get("file")?.as_str()?.to_owned(),
                f.get("peak_dbfs").and_then(Value::as_f64),
            ))
        })
        .collect();
    for f in files {
        if !listed.contains(&f.file) {
            if f.kind != FileKind::Other {
                add(
                    &f.file,
                    "in the folder but not on the song information sheet".into(),
                );
            }
            continue;
        }
        if let Some(r) = says.sample_rate
            && u64::from(f.sample_rate) != r
        {
            add(
                &f.file,
                format!("the sheet says {r} Hz, the file is {} Hz", f.sample_rate),
            );
        }
        if let Some(b) = says.bit_depth
            && let Some(fb) = f.bit_depth
            && u64::from(fb) != b
        {
            add(
                &f.file,
                format!("the sheet says {b}-bit, the file is {fb}-bit"),
            );
        }
        if let Some(frames) = says.frames
            && says.sample_rate == Some(u64::from(f.sample_rate))
            && f.frames != frames
        {
            let r = f.sample_rate;
            add(
                &f.file,
                format!(
                    "the sheet says {} long, the file is {}",
                    stemdeck_session::units::format_time(frames, r),
                    stemdeck_session::units::format_time(f.frames, r)
                ),
            );
        }
        if let Some((_, said)) = peaks.iter().find(|(n, _)| *n == f.file) {
            let differs = match (said, f.peak_dbfs) {
                (Some(a), Some(b)) => (a - b).abs() > 0.1,
                (None, None) => false,
                _ => true,
            };
            if differs {
                let show =
                    |d: Option<f64>| stemdeck_export::sheet::format_level(d, "dBFS", "silence");
                add(
                    &f.file,
                    format!(
                        "the sheet says it peaks at {}, the file at {}",
                        show(*said),
                        show(f.peak_dbfs)
                    ),
                );
            }
        }
    }
    if let (Some(true), Some(n)) = (says.null_test_passed, null)
        && !n.passed
    {
        add(
            &sheet_name,
            "the sheet says the stems add up to the master; they do not".into(),
        );
    }
    out.agrees = Some(out.findings.is_empty());
    out.says = Some(says);
    out
}
