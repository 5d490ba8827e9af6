//! `stemdeck check` and `stemdeck check --fix` through the real binary, on stem packages
//! made by `stemdeck export --master` from the demo session (assets/demo) and broken
//! with sox; sox (stats, mixing) is the independent judge of the repaired copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use stemdeck_e2e::{run, run_ok, stemdeck, workspace_root};

/// Export the demo with its master into `dir/Neon Harbour - Stems`.
fn export_demo(dir: &Path) -> PathBuf {
    let pkg = dir.join("Neon Harbour - Stems");
    run_ok(
        stemdeck()
            .arg("export")
            .arg(workspace_root().join("assets/demo/demo.stemdeck.json"))
            .arg("--master")
            .arg("--out")
            .arg(&pkg),
    );
    pkg
}

fn stem(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(format!("01 Neon Harbour - {name}.wav"));
    if p.exists() {
        return p;
    }
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(&format!(" - {name}.wav")))
        .unwrap()
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn sox(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("sox")
        .args(args)
        .output()
        .expect("sox is installed");
    assert!(
        out.status.success(),
        "sox {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `stats` prints on stderr.
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Replace `file` by sox's output of it with `effects`.
fn sox_in_place(file: &Path, effects: &[&str]) {
    let tmp = file.with_extension("tmp.wav");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        file.as_os_str(),
        "-b".as_ref(),
        "24".as_ref(),
        tmp.as_os_str(),
    ];
    args.extend(effects.iter().map(|e| std::ffi::OsStr::new(*e)));
    sox(&args);
    std::fs::rename(&tmp, file).unwrap();
}

/// sox's "Pk lev dB" of `inputs` mixed with the given gains (sox -m, no auto-scaling).
fn mixed_peak_db(inputs: &[(f64, &Path)]) -> f64 {
    let gains: Vec<String> = inputs.iter().map(|(g, _)| g.to_string()).collect();
    let mut args: Vec<&std::ffi::OsStr> = vec!["-m".as_ref()];
    for ((_, p), g) in inputs.iter().zip(&gains) {
        args.push("-v".as_ref());
        args.push(g.as_ref());
        args.push(p.as_os_str());
    }
    args.extend(["-n", "stats"].map(std::ffi::OsStr::new));
    let stats = sox(&args);
    let line = stats
        .lines()
        .find(|l| l.starts_with("Pk lev dB"))
        .unwrap_or_else(|| panic!("no peak in {stats}"));
    let v = line.split_whitespace().nth(3).unwrap();
    if v == "-inf" {
        f64::NEG_INFINITY
    } else {
        v.parse().unwrap()
    }
}

/// sox --i: (rate, samples).
fn sox_info(p: &Path) -> (u32, u64) {
    let q = |flag: &str| {
        let out = Command::new("sox")
            .arg("--i")
            .arg(flag)
            .arg(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    (q("-r").parse().unwrap(), q("-s").parse().unwrap())
}

/// The folder's names and contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (file_name(&e.path()), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn check_a_good_package_then_a_broken_one_then_repair_it() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = export_demo(tmp.path());

    // Good: exit 0, the report says so.
    let out = run(stemdeck().arg("check").arg(&pkg));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Verdict: usable"), "{text}");
    assert!(text.contains("No problems found."), "{text}");
    assert!(text.contains("the stems add up to the master"), "{text}");
    assert!(
        text.contains("Neon Harbour - Song Info.json, Neon Harbour - Song Info.pdf: it agrees"),
        "{text}"
    );
    let json: Value =
        serde_json::from_str(&run_ok(stemdeck().arg("check").arg(&pkg).arg("--json"))).unwrap();
    assert_eq!(json["usable"], true);
    assert_eq!(json["files"].as_array().unwrap().len(), 6);
    assert_eq!(json["master"], "00 Neon Harbour - Master.wav");
    // Only notes (the demo's Bass and FX stems are centred mono tracks: L = R).
    let problems = json["problems"].as_array().unwrap();
    assert!(
        problems.iter().all(|p| p["severity"] == "note"),
        "{problems:?}"
    );

    // Broken: drums 400 samples late, vocals inverted, instruments at 48 kHz.
    let good_drums = tmp.path().join("good drums.wav");
    std::fs::copy(stem(&pkg, "Drums"), &good_drums).unwrap();
    let (_, frames) = sox_info(&good_drums);
    let drums = stem(&pkg, "Drums");
    sox_in_place(&drums, &["pad", "400s", "trim", "0", &format!("{frames}s")]);
    let vocals = stem(&pkg, "Vocals");
    sox_in_place(&vocals, &["vol", "-1"]);
    let keys = stem(&pkg, "Instruments");
    sox_in_place(&keys, &["rate", "-v", "48000"]);
    let before = snapshot(&pkg);

    let out = run(stemdeck().arg("check").arg(&pkg));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Verdict: NOT usable"), "{text}");
    assert!(
        text.contains("misaligned: 400 samples (9.07 ms) late against the master"),
        "{text}"
    );
    assert!(text.contains("polarity inverted"), "{text}");
    assert!(
        text.contains("48000 Hz, the other files 44100 Hz"),
        "{text}"
    );
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("stemdeck: error: "), "{err}");
    for f in [&drums, &keys, &vocals] {
        assert!(
            last.contains(&file_name(f)),
            "{} not named in: {last}",
            file_name(f)
        );
    }
    let json: Value =
        serde_json::from_slice(&run(stemdeck().arg("check").arg(&pkg).arg("--json")).stdout)
            .unwrap();
    assert_eq!(json["usable"], false);
    let drums_json = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == file_name(&drums))
        .unwrap();
    assert_eq!(drums_json["alignment"]["offset_samples"], 400);
    assert_eq!(snapshot(&pkg), before, "check wrote into the package");

    // The repair refuses a folder inside the package and a folder with something in it.
    let out = run(stemdeck()
        .arg("check")
        .arg(&pkg)
        .arg("--fix")
        .arg(pkg.join("fixed")));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success() && err.contains("inside the package"),
        "{err}"
    );
    let full = tmp.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("notes.txt"), "mine").unwrap();
    let out = run(stemdeck().arg("check").arg(&pkg).arg("--fix").arg(&full));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && err.contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(full.join("notes.txt")).unwrap(),
        "mine"
    );

    // The repair.
    let fixed = tmp.path().join("Repaired");
    let text = run_ok(stemdeck().arg("check").arg(&pkg).arg("--fix").arg(&fixed));
    assert!(
        text.contains("moved 400 samples (9.07 ms) earlier"),
        "{text}"
    );
    assert!(text.contains("polarity turned back"), "{text}");
    assert!(
        text.contains("converted from 48000 Hz to 44100 Hz"),
        "{text}"
    );
    assert!(text.contains("The repaired copy, checked again:"), "{text}");
    assert_eq!(snapshot(&pkg), before, "the repair wrote into the package");

    // sox, independently: one rate and length; the stems add up to the master; the drums
    // are where the good ones were.
    let wavs: Vec<PathBuf> = std::fs::read_dir(&fixed)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    assert_eq!(wavs.len(), 6, "{wavs:?}");
    let infos: Vec<(u32, u64)> = wavs.iter().map(|p| sox_info(p)).collect();
    assert!(infos.iter().all(|i| *i == (44_100, frames)), "{infos:?}");
    let master = wavs
        .iter()
        .find(|p| file_name(p).contains("Master"))
        .unwrap();
    let mut mix: Vec<(f64, &Path)> = wavs
        .iter()
        .filter(|p| *p != master)
        .map(|p| (1.0, p.as_path()))
        .collect();
    mix.push((-1.0, master));
    let residual = mixed_peak_db(&mix);
    assert!(
        residual < -60.0,
        "the repaired stems do not add up: {residual} dB"
    );
    let drums_fixed = stem(&fixed, "Drums");
    let drift = mixed_peak_db(&[(1.0, &good_drums), (-1.0, &drums_fixed)]);
    assert!(drift < -80.0, "the drums are not back in place: {drift} dB");
    let vocals_fixed = stem(&fixed, "Vocals");
    let original_vocals = tmp.path().join("vocals.wav");
    sox(&[
        vocals.as_os_str(),
        original_vocals.as_os_str(),
        "vol".as_ref(),
        "-1".as_ref(),
    ]);
    let flip = mixed_peak_db(&[(1.0, &original_vocals), (-1.0, &vocals_fixed)]);
    assert!(flip < -100.0, "the vocals' polarity: {flip} dB");
    let sheet: Value = serde_json::from_str(
        &std::fs::read_to_string(fixed.join("Neon Harbour - Song Info.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sheet["null_test"]["passed"], true);
    assert_eq!(sheet["audio"]["frames"], frames);

    // The copy checks clean.
    let text = run_ok(stemdeck().arg("check").arg(&fixed));
    assert!(text.contains("Verdict: usable"), "{text}");
}
