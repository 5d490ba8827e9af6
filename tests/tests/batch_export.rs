//! End-to-end tests of `stemdeck export` with several songs (an album) and of
//! `stemdeck --version`, through the real binary.
//!
//! Three small songs (two tracks each, grouped by `stemdeck group`): "First Light" and
//! "Harbour Lights" are good; "Broken Song" has lost one of its stem's files. An album
//! export delivers both good songs, names the broken one with its reason, and fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use stemdeck_e2e::{lines, read_wav, run, run_ok, sine, stemdeck, tone_level, write_wav_f32};

const RATE: u32 = 48_000;
const FRAMES: usize = RATE as usize; // one second

/// A song folder `<root>/<title>` with a kick and a lead vocal, and its session file
/// `<title>.stemdeck` (grouped into Drums and Vocals) titled `title`.
fn song(root: &Path, title: &str, freq: f64) -> PathBuf {
    let dir = root.join(title);
    std::fs::create_dir_all(&dir).unwrap();
    write_wav_f32(
        &dir.join("Kick.wav"),
        RATE,
        &[sine(FRAMES, RATE, freq / 4.0, 0.3, 0.0)],
    );
    let vox = sine(FRAMES, RATE, freq, 0.2, 0.3);
    write_wav_f32(&dir.join("Lead Vox.wav"), RATE, &[vox.clone(), vox]);
    let session = dir.join(format!("{title}.stemdeck"));
    run_ok(stemdeck().arg("group").arg(&dir).arg("-o").arg(&session));
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    s["song"]["title"] = title.into();
    std::fs::write(&session, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    session
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The summary line of `name` (after the "Summary:" line).
fn summary_line<'a>(out: &'a str, name: &str) -> &'a str {
    let summary = out
        .split_once("Summary:")
        .unwrap_or_else(|| panic!("no summary:\n{out}"))
        .1;
    summary
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("{name} is not in the summary:\n{out}"))
}

#[test]
fn an_album_with_a_broken_song_delivers_the_others_and_names_the_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let first = song(tmp.path(), "First Light", 440.0);
    let broken = song(tmp.path(), "Broken Song", 550.0);
    let harbour = song(tmp.path(), "Harbour Lights", 660.0);
    std::fs::remove_file(tmp.path().join("Broken Song/Lead Vox.wav")).unwrap();
    let album = tmp.path().join("Album");

    let out = run(stemdeck()
        .arg("export")
        .args([&first, &broken, &harbour])
        .arg("--master")
        .arg("--out")
        .arg(&album));
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(
        !out.status.success(),
        "one song failed: the exit code must say so\n{so}\n{se}"
    );
    assert!(!se.contains("panicked"), "{se}");

    // Each song in its own folder inside --out; nothing of the broken one.
    assert_eq!(
        listing(&album),
        ["First Light - Stems", "Harbour Lights - Stems"],
        "{so}\n{se}"
    );
    for (title, freq) in [("First Light", 440.0), ("Harbour Lights", 660.0)] {
        let dir = album.join(format!("{title} - Stems"));
        assert_eq!(
            listing(&dir),
            [
                format!("00 {title} - Master.wav"),
                format!("01 {title} - Drums.wav"),
                format!("02 {title} - Vocals.wav"),
                format!("{title} - Song Info.json"),
                format!("{title} - Song Info.pdf"),
            ]
        );
        // The song's own audio (its vocal at its own frequency, not another song's),
        // one second long.
        let vocals = read_wav(&dir.join(format!("02 {title} - Vocals.wav")));
        assert_eq!(vocals.frames(), FRAMES);
        let own = tone_level(&vocals.channels[0], RATE, freq);
        let other = tone_level(&vocals.channels[0], RATE, 1100.0 - freq);
        assert!(
            own > 0.1 && other < 0.001,
            "{title}: {own} at {freq} Hz, {other} elsewhere"
        );
    }

    // One summary: per song the files, the time and the null test, or why it failed.
    for title in ["First Light", "Harbour Lights"] {
        let line = summary_line(&so, title);
        assert!(line.trim_start().starts_with("ok"), "{line}");
        assert!(line.contains(" 3 files"), "{line}");
        assert!(line.contains(" s  null test passed ("), "{line}");
        assert!(
            line.contains(&format!(
                ")  -> {}",
                album.join(format!("{title} - Stems")).display()
            )),
            "{line}"
        );
    }
    let line = summary_line(&so, "Broken Song");
    assert!(line.trim_start().starts_with("FAILED"), "{line}");
    assert!(
        line.contains("Lead Vox"),
        "the reason names the missing file: {line}"
    );
    assert!(so.contains("Summary: 2 of 3 songs exported"), "{so}");
    let last = lines(&out.stderr).last().cloned().unwrap_or_default();
    assert_eq!(
        last, "stemdeck: error: 1 of 3 songs failed: Broken Song",
        "{se}"
    );
}

#[test]
fn a_song_in_an_album_is_the_same_bytes_as_exported_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let first = song(tmp.path(), "First Light", 440.0);
    let second = song(tmp.path(), "Second Wind", 330.0);
    let album = tmp.path().join("Album");
    let alone = tmp.path().join("Alone");
    let out = run_ok(
        stemdeck()
            .arg("export")
            .args([&first, &second])
            .args(["--format", "wav16", "--out"])
            .arg(&album),
    );
    assert!(out.contains("Summary: 2 of 2 songs exported"), "{out}");
    run_ok(
        stemdeck()
            .arg("export")
            .arg(&second)
            .args(["--format", "wav16", "--out"])
            .arg(&alone),
    );
    let in_album = album.join("Second Wind - Stems");
    for name in ["01 Second Wind - Drums.wav", "02 Second Wind - Vocals.wav"] {
        assert_eq!(
            std::fs::read(in_album.join(name)).unwrap(),
            std::fs::read(alone.join(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn without_out_each_song_goes_beside_its_session_and_clashes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let first = song(tmp.path(), "First Light", 440.0);
    let second = song(tmp.path(), "Second Wind", 330.0);
    // The same song twice: the second would write the first one's files.
    let out = run(stemdeck()
        .arg("export")
        .args([&first, &second, &first])
        .arg("--no-sheet"));
    let so = stdout(&out);
    assert!(!out.status.success(), "{so}");
    for (session, title) in [(&first, "First Light"), (&second, "Second Wind")] {
        let dir = session.parent().unwrap().join(format!("{title} - Stems"));
        assert_eq!(
            listing(&dir),
            [
                format!("01 {title} - Drums.wav"),
                format!("02 {title} - Vocals.wav")
            ]
        );
    }
    assert!(so.contains("Summary: 2 of 3 songs exported"), "{so}");
    let failed: Vec<&str> = so.lines().filter(|l| l.contains("FAILED")).collect();
    assert_eq!(failed.len(), 1, "{so}");
    assert!(failed[0].contains("First Light"), "{so}");
    assert!(failed[0].contains("as \"First Light\" does"), "{so}");
}

#[test]
fn dry_run_lists_every_song_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let first = song(tmp.path(), "First Light", 440.0);
    let second = song(tmp.path(), "Second Wind", 330.0);
    let album = tmp.path().join("Album");
    let out = run_ok(
        stemdeck()
            .arg("export")
            .args([&first, &second])
            .arg("--dry-run")
            .arg("--out")
            .arg(&album),
    );
    assert!(out.contains("Song 1/2: First Light"), "{out}");
    assert!(out.contains("Song 2/2: Second Wind"), "{out}");
    assert!(
        out.contains(&format!(
            "Would write to {}",
            album.join("Second Wind - Stems").display()
        )),
        "{out}"
    );
    assert!(out.contains("02 Second Wind - Vocals.wav"), "{out}");
    assert!(!album.exists());
}

#[test]
fn version_says_the_name_and_the_version() {
    let expected = format!("stemdeck {}", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let out = run_ok(stemdeck().arg(flag));
        assert_eq!(out.trim_end(), expected, "{flag}");
    }
}
