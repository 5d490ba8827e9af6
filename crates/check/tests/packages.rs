//! Stem packages made from a real recording — the demo session (assets/demo), exported
//! by Stemdeck's own export with and without the master — then broken one way each
//! (a stem late, short, at another rate, inverted, silent, clipping) with hound or sox.
//! Each problem must be found and named on the right file, and nothing on the others;
//! the good packages must give no problem at all. The folder checked is never written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use stemdeck_check::{CheckOptions, FileKind, Problem, ProblemKind, Report, Severity, check, fix};
use stemdeck_export::{DeliveryOptions, ExportOptions, export_delivery};
use stemdeck_session::Session;

const RATE: u32 = 44_100;

fn demo_session() -> Session {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo/demo.stemdeck.json");
    Session::load(&root).unwrap()
}

/// The demo exported once per process (24-bit WAV, 44.1 kHz, the sheet), with or
/// without the master.
fn exported(master: bool) -> &'static Path {
    static WITH: OnceLock<tempfile::TempDir> = OnceLock::new();
    static WITHOUT: OnceLock<tempfile::TempDir> = OnceLock::new();
    let cell = if master { &WITH } else { &WITHOUT };
    cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = ExportOptions::new(dir.path().join("pkg"));
        opts.include_master = master;
        export_delivery(
            &demo_session(),
            &opts,
            &DeliveryOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        dir
    })
    .path()
}

/// A fresh copy of an exported package.
fn package(master: bool) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("Neon Harbour - Stems");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(exported(master).join("pkg")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    (tmp, dst)
}

/// The file of a stem ("Vocals" → ".../01 Neon Harbour - Vocals.wav").
fn stem(dir: &Path, name: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&format!(" - {name}.wav"))
        })
        .unwrap_or_else(|| panic!("no {name} stem in {}", dir.display()))
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Rewrite a WAV's samples (planar, as integers) with `f`.
fn modify(path: &Path, f: impl FnOnce(&mut Vec<Vec<i32>>)) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let ch = spec.channels as usize;
    let inter: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
    let mut planar: Vec<Vec<i32>> = (0..ch)
        .map(|c| inter.iter().skip(c).step_by(ch).copied().collect())
        .collect();
    f(&mut planar);
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..planar[0].len() {
        for c in &planar {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Late by `n` frames, same length (the end is cut): what a DAW gives when a region
/// was nudged.
fn delay(path: &Path, n: usize) {
    modify(path, |p| {
        for c in p.iter_mut() {
            let len = c.len();
            c.splice(0..0, std::iter::repeat_n(0, n));
            c.truncate(len);
        }
    });
}

fn sox(args: &[&str]) {
    let st = std::process::Command::new("sox")
        .args(args)
        .status()
        .expect("sox is installed");
    assert!(st.success(), "sox {args:?}");
}

fn run_check(dir: &Path) -> Report {
    check(dir, &CheckOptions::default()).unwrap()
}

/// The findings that are problems (errors and warnings), not notes.
fn issues(r: &Report) -> Vec<&Problem> {
    r.problems
        .iter()
        .filter(|p| p.severity != Severity::Note)
        .collect()
}

/// Both channels of a WAV are the same, read with hound.
fn identical_channels(path: &Path) -> bool {
    let mut r = hound::WavReader::open(path).unwrap();
    let s: Vec<i32> = r.samples::<i32>().map(|s| s.unwrap()).collect();
    s.chunks(2).all(|c| c[0] == c[1])
}

/// The only notes are "mono as stereo", on exactly the stems whose channels hound reads
/// as identical (a stem of centred mono tracks: the demo's Bass and FX).
fn notes_are_true(r: &Report, dir: &Path) {
    for f in r.files.iter().filter(|f| f.kind == FileKind::Stem) {
        let same = identical_channels(&dir.join(&f.file));
        let noted = r
            .problems_of(&f.file)
            .any(|p| p.kind == ProblemKind::MonoAsStereo && p.severity == Severity::Note);
        assert_eq!(same, noted, "{}", f.file);
    }
    assert!(
        r.problems
            .iter()
            .filter(|p| p.severity == Severity::Note)
            .all(|p| matches!(
                p.kind,
                ProblemKind::MonoAsStereo | ProblemKind::AlignmentUnknown
            ))
    );
}

/// Every problem is about `file` (the null test may name it too); prints the report
/// when not.
fn only_about(r: &Report, file: &str) {
    // The sheet's own claim (the stems add up) is about the sheet.
    for p in issues(r)
        .into_iter()
        .filter(|p| Some(&p.file) != r.sheet.json.as_ref())
    {
        assert_eq!(p.file, file, "a problem about another file:\n{}", r.text());
    }
}

fn kinds_of(r: &Report, file: &str) -> Vec<ProblemKind> {
    r.problems_of(file).map(|p| p.kind).collect()
}

/// The folder's names and bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (name(&e.path()), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn a_good_package_with_its_master_has_no_problem() {
    let (_t, dir) = package(true);
    let before = snapshot(&dir);
    let r = run_check(&dir);
    assert!(issues(&r).is_empty(), "{}", r.text());
    notes_are_true(&r, &dir);
    assert!(r.usable);
    assert_eq!(r.master.as_deref(), Some("00 Neon Harbour - Master.wav"));
    assert_eq!(r.aligned_against, "master");
    assert_eq!(
        r.files.iter().filter(|f| f.kind == FileKind::Stem).count(),
        5
    );
    for f in r.files.iter().filter(|f| f.kind == FileKind::Stem) {
        let a = f.alignment.as_ref().expect("an offset");
        assert_eq!(a.offset_samples, 0, "{}", f.file);
        assert!(
            a.correlation > 0.05 && !a.inverted && a.reliable,
            "{}: {a:?}",
            f.file
        );
    }
    let null = r.null_test.as_ref().unwrap();
    assert!(null.passed, "{}", null.message);
    assert!(
        null.residual_peak_dbfs.is_none_or(|d| d < -120.0),
        "{null:?}"
    );
    assert_eq!(
        r.sheet.json.as_deref(),
        Some("Neon Harbour - Song Info.json")
    );
    assert_eq!(r.sheet.pdf.as_deref(), Some("Neon Harbour - Song Info.pdf"));
    assert_eq!(r.sheet.agrees, Some(true), "{:?}", r.sheet.findings);
    assert_eq!(r.common.sample_rate, RATE);
    assert_eq!(
        r.common.frames,
        r.sheet.says.as_ref().unwrap().frames.unwrap()
    );
    assert!(r.text().contains("Verdict: usable"));
    assert_eq!(snapshot(&dir), before, "the check wrote into the package");
}

#[test]
fn a_good_package_without_a_master_lines_up_against_the_other_stems() {
    let (_t, dir) = package(false);
    let r = run_check(&dir);
    assert!(issues(&r).is_empty(), "{}", r.text());
    notes_are_true(&r, &dir);
    assert!(r.master.is_none() && r.null_test.is_none());
    assert_eq!(r.aligned_against, "sum of the other stems");
    // Never a wrong offset claimed: each is either right or reported as not determined
    // (the demo's synthesized instruments share no sound, only timing).
    for f in &r.files {
        let a = f.alignment.as_ref().expect("an offset");
        assert!(
            a.offset_samples.abs() <= 1 || !a.reliable,
            "{}: {a:?}",
            f.file
        );
        if !a.reliable {
            assert!(kinds_of(&r, &f.file).contains(&ProblemKind::AlignmentUnknown));
        }
    }
}

#[test]
fn a_late_stem_is_found_to_the_sample_against_the_master() {
    for master in [true] {
        let (_t, dir) = package(master);
        let vox = stem(&dir, "Vocals");
        delay(&vox, 300);
        let r = run_check(&dir);
        let f = r.file(&name(&vox)).unwrap();
        let a = f.alignment.as_ref().unwrap();
        assert_eq!(a.offset_samples, 300, "master {master}:\n{}", r.text());
        assert!((a.offset_ms - 300.0 * 1000.0 / 44_100.0).abs() < 0.01);
        assert!(kinds_of(&r, &name(&vox)).contains(&ProblemKind::Misaligned));
        assert!(!r.usable);
        assert_eq!(r.failing_files(), vec![name(&vox).as_str()], "{}", r.text());
        if master {
            assert!(!r.null_test.as_ref().unwrap().passed);
            assert!(kinds_of(&r, &name(&vox)).contains(&ProblemKind::NullTest));
        }
        // The others stay at 0 (against the master; or against the sum, which holds the
        // late stem among others).
        for other in r
            .files
            .iter()
            .filter(|x| x.file != name(&vox) && x.kind == FileKind::Stem)
        {
            assert!(
                other.alignment.as_ref().unwrap().offset_samples.abs() <= 1,
                "{}",
                r.text()
            );
        }
        only_about(&r, &name(&vox));
    }
}

#[test]
fn a_short_stem_is_named_with_how_much_is_missing() {
    let (_t, dir) = package(true);
    let bass = stem(&dir, "Bass");
    modify(&bass, |p| {
        for c in p.iter_mut() {
            c.truncate(c.len() - RATE as usize);
        }
    });
    let r = run_check(&dir);
    let kinds = kinds_of(&r, &name(&bass));
    assert!(kinds.contains(&ProblemKind::Length), "{}", r.text());
    let msg = r
        .problems_of(&name(&bass))
        .find(|p| p.kind == ProblemKind::Length)
        .unwrap()
        .message
        .clone();
    assert!(msg.contains("1.000 s shorter"), "{msg}");
    // The sheet said otherwise.
    assert!(kinds.contains(&ProblemKind::Sheet), "{}", r.text());
    assert!(!r.usable);
    only_about(&r, &name(&bass));
}

#[test]
fn a_stem_at_another_rate_is_named_and_still_lines_up() {
    let (_t, dir) = package(true);
    let keys = stem(&dir, "Instruments");
    let tmp = dir.parent().unwrap().join("keys48.wav");
    sox(&[
        keys.to_str().unwrap(),
        "-b",
        "24",
        tmp.to_str().unwrap(),
        "rate",
        "-v",
        "48000",
    ]);
    std::fs::rename(&tmp, &keys).unwrap();
    let r = run_check(&dir);
    let f = r.file(&name(&keys)).unwrap();
    assert_eq!(f.sample_rate, 48_000);
    let kinds = kinds_of(&r, &name(&keys));
    assert!(kinds.contains(&ProblemKind::SampleRate), "{}", r.text());
    assert!(!kinds.contains(&ProblemKind::Misaligned), "{}", r.text());
    assert!(!kinds.contains(&ProblemKind::Length), "{}", r.text());
    assert!(f.alignment.as_ref().unwrap().offset_samples.abs() <= 1);
    assert!(!r.usable);
    only_about(&r, &name(&keys));
}

#[test]
fn an_inverted_stem_is_found_against_the_master() {
    let (_t, dir) = package(true);
    let drums = stem(&dir, "Drums");
    modify(&drums, |p| p.iter_mut().flatten().for_each(|s| *s = -*s));
    let r = run_check(&dir);
    let f = r.file(&name(&drums)).unwrap();
    let a = f.alignment.as_ref().unwrap();
    assert!(
        a.inverted && a.correlation < 0.0 && a.offset_samples == 0,
        "{a:?}"
    );
    let kinds = kinds_of(&r, &name(&drums));
    assert!(
        kinds.contains(&ProblemKind::PolarityInverted),
        "{}",
        r.text()
    );
    assert!(kinds.contains(&ProblemKind::NullTest), "{}", r.text());
    assert!(!r.usable);
    only_about(&r, &name(&drums));
}

#[test]
fn a_silent_stem_is_named() {
    let (_t, dir) = package(true);
    let fx = stem(&dir, "FX");
    modify(&fx, |p| p.iter_mut().flatten().for_each(|s| *s = 0));
    let r = run_check(&dir);
    let kinds = kinds_of(&r, &name(&fx));
    assert!(kinds.contains(&ProblemKind::Silent), "{}", r.text());
    assert!(r.file(&name(&fx)).unwrap().alignment.is_none());
    only_about(&r, &name(&fx));
}

#[test]
fn a_clipping_stem_is_named_with_its_runs() {
    let (_t, dir) = package(true);
    let keys = stem(&dir, "Instruments");
    let max = (1 << 23) - 1;
    modify(&keys, |p| {
        p.iter_mut()
            .flatten()
            .for_each(|s| *s = (*s * 8).clamp(-max - 1, max))
    });
    let r = run_check(&dir);
    let f = r.file(&name(&keys)).unwrap();
    assert!(
        f.clipping.runs > 0 && f.clipping.longest >= 3,
        "{:?}",
        f.clipping
    );
    assert!(
        kinds_of(&r, &name(&keys)).contains(&ProblemKind::Clipping),
        "{}",
        r.text()
    );
    only_about(&r, &name(&keys));
}

#[test]
fn mono_as_stereo_duplicates_and_names_that_say_nothing() {
    let (_t, dir) = package(false);
    let drums = stem(&dir, "Drums");
    assert!(!identical_channels(&drums), "the demo's drums are panned");
    modify(&drums, |p| {
        let l = p[0].clone();
        p[1] = l;
    });
    let vox = stem(&dir, "Vocals");
    let copy = dir.join("Audio 1.wav");
    std::fs::copy(&vox, &copy).unwrap();
    let r = run_check(&dir);
    assert!(
        kinds_of(&r, &name(&drums)).contains(&ProblemKind::MonoAsStereo),
        "{}",
        r.text()
    );
    let copy_kinds = kinds_of(&r, "Audio 1.wav");
    assert!(copy_kinds.contains(&ProblemKind::Duplicate), "{}", r.text());
    assert!(copy_kinds.contains(&ProblemKind::Name), "{}", r.text());
}

#[test]
fn the_repair_aligns_converts_and_adds_up_again() {
    let (t, dir) = package(true);
    delay(&stem(&dir, "Vocals"), 300);
    let drums = stem(&dir, "Drums");
    modify(&drums, |p| p.iter_mut().flatten().for_each(|s| *s = -*s));
    let keys = stem(&dir, "Instruments");
    let tmp = t.path().join("keys48.wav");
    sox(&[
        keys.to_str().unwrap(),
        "-b",
        "24",
        tmp.to_str().unwrap(),
        "rate",
        "-v",
        "48000",
    ]);
    std::fs::rename(&tmp, &keys).unwrap();
    let before = snapshot(&dir);
    let r = run_check(&dir);
    assert!(!r.usable);

    // Never into the package, never over something.
    let inside = fix(&r, &dir.join("fixed")).unwrap_err().to_string();
    assert!(inside.contains("inside the package"), "{inside}");
    let full = t.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("x.txt"), "x").unwrap();
    let not_empty = fix(&r, &full).unwrap_err().to_string();
    assert!(not_empty.contains("not empty"), "{not_empty}");

    let out = t.path().join("Repaired");
    let fixed = fix(&r, &out).unwrap();
    assert_eq!(snapshot(&dir), before, "the repair wrote into the package");
    let again = &fixed.recheck;
    assert!(again.usable, "{}", again.text());
    assert!(issues(again).is_empty(), "{}", again.text());
    assert!(again.null_test.as_ref().unwrap().passed);
    for f in &again.files {
        assert_eq!(f.sample_rate, RATE);
        assert_eq!(f.channels, 2);
        assert_eq!(f.frames, fixed.frames, "{}", f.file);
        if let Some(a) = &f.alignment {
            assert_eq!(a.offset_samples, 0, "{}", f.file);
            assert!(!a.inverted);
        }
    }
    let vox = fixed
        .files
        .iter()
        .find(|f| f.file.ends_with("Vocals.wav"))
        .unwrap();
    assert_eq!(vox.shift_samples, 300);
    let dr = fixed
        .files
        .iter()
        .find(|f| f.file.ends_with("Drums.wav"))
        .unwrap();
    assert!(dr.polarity_restored);
    let ks = fixed
        .files
        .iter()
        .find(|f| f.file.ends_with("Instruments.wav"))
        .unwrap();
    assert_eq!(ks.converted_from, Some(48_000));
    // The sheet says what was done, and the check reads it back as agreeing.
    let sheet: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("Neon Harbour - Song Info.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sheet["format"], "stemdeck-song-info");
    assert_eq!(sheet["repair"]["files"].as_array().unwrap().len(), 6);
    assert!(sheet["song"]["notes"].as_str().unwrap().contains("moved"));
    assert!(out.join("Neon Harbour - Song Info.pdf").exists());
    assert_eq!(again.sheet.agrees, Some(true), "{:?}", again.sheet.findings);
    // Nothing half-written left.
    assert!(
        std::fs::read_dir(&out)
            .unwrap()
            .all(|e| !name(&e.unwrap().path()).starts_with('.'))
    );
}

/// Without a master, a late stem is never given a wrong offset: it is found to the
/// sample, or its offset is reported as not determined (and the others are not blamed).
#[test]
fn without_a_master_a_late_stem_is_never_given_a_wrong_offset() {
    let (_t, dir) = package(false);
    let vox = stem(&dir, "Vocals");
    delay(&vox, 300);
    let r = run_check(&dir);
    for f in &r.files {
        let a = f.alignment.as_ref().unwrap();
        let right = if f.file == name(&vox) { 300 } else { 0 };
        assert!(
            !a.reliable || (a.offset_samples - right).abs() <= 1,
            "{}: {a:?}\n{}",
            f.file,
            r.text()
        );
    }
    assert!(
        r.failing_files().iter().all(|f| *f == name(&vox)),
        "{}",
        r.text()
    );
}

/// Recorded stems share sound (the drums bleed into every microphone): then the sum of
/// the other stems does place a late stem, without a master, to the sample.
#[test]
fn without_a_master_a_late_stem_sharing_sound_with_the_others_is_found() {
    let (_t, dir) = package(false);
    let drums = stem(&dir, "Drums");
    let mut bleed: Vec<Vec<i32>> = Vec::new();
    modify(&drums, |p| bleed = p.clone());
    for other in ["Bass", "Vocals", "Instruments", "FX"] {
        modify(&stem(&dir, other), |p| {
            for (c, b) in p.iter_mut().zip(&bleed) {
                for (s, d) in c.iter_mut().zip(b) {
                    *s += d / 10; // −20 dB of drums in every other stem
                }
            }
        });
    }
    let vox = stem(&dir, "Vocals");
    delay(&vox, 300);
    let r = run_check(&dir);
    let v = r.files.iter().find(|f| f.file == name(&vox)).unwrap();
    let a = v.alignment.as_ref().unwrap();
    assert!(a.reliable && a.offset_samples == 300, "{a:?}\n{}", r.text());
    assert_eq!(r.failing_files(), [name(&vox)], "{}", r.text());
    assert!(
        kinds_of(&r, &name(&vox)).contains(&ProblemKind::Misaligned),
        "{}",
        r.text()
    );
}

/// Two stems and no master: each is "late" against the other, so offsets are only
/// relative. The louder stem keeps its place, the other is measured against it, and the
/// repair moves only that one — the copy lines up.
#[test]
fn without_a_master_two_stems_are_aligned_to_the_louder_one() {
    let (t, dir) = package(false);
    for gone in ["Vocals", "Instruments", "FX"] {
        std::fs::remove_file(stem(&dir, gone)).unwrap();
    }
    let drums = stem(&dir, "Drums");
    let bass = stem(&dir, "Bass");
    let mut bleed: Vec<Vec<i32>> = Vec::new();
    modify(&drums, |p| bleed = p.clone());
    modify(&bass, |p| {
        for (c, b) in p.iter_mut().zip(&bleed) {
            for (s, d) in c.iter_mut().zip(b) {
                *s += d / 10;
            }
        }
    });
    delay(&bass, 300);
    let r = run_check(&dir);
    let offset = |r: &Report, p: &Path| {
        let f = r.files.iter().find(|f| f.file == name(p)).unwrap();
        let a = f.alignment.as_ref().unwrap();
        assert!(a.reliable, "{a:?}\n{}", r.text());
        a.offset_samples
    };
    assert_eq!(offset(&r, &drums), 0, "{}", r.text());
    assert_eq!(offset(&r, &bass), 300, "{}", r.text());
    assert_eq!(r.failing_files(), [name(&bass)], "{}", r.text());

    let out = t.path().join("repaired");
    fix(&r, &out).unwrap();
    let again = run_check(&out);
    for f in &again.files {
        let a = f.alignment.as_ref().unwrap();
        assert!(
            a.offset_samples.abs() <= 1,
            "{}: {a:?}\n{}",
            f.file,
            again.text()
        );
    }
}
