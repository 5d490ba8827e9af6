//! Export faults through the real binary: an export folder that cannot be made, a full
//! disk (a file-size limit: `ulimit -f` with SIGXFSZ ignored, so a write fails with EFBIG
//! as on a full disk — the tests run as root, where permissions stop nothing), and a
//! source file cut short while the export reads it, and a source whose damaged packet
//! claims hours of audio. Each gives one line naming the file
//! and the problem, leaves no partial file behind, and never touches the session file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use stemdeck_e2e::*;

const RATE: u32 = 48_000;

/// A session of two stereo 16-bit tracks (a `seconds` long kick, a bass twice as long)
/// saved as `song.json`; returns (session, its bytes).
fn session(dir: &Path, seconds: usize) -> (PathBuf, Vec<u8>) {
    let audio = dir.join("Song");
    std::fs::create_dir(&audio).unwrap();
    for (name, secs, freq) in [("Kick", seconds, 60.0), ("Bass", 2 * seconds, 110.0)] {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(audio.join(format!("{name}.wav")), spec).unwrap();
        let mut i16w = w.get_i16_writer(secs as u32 * RATE * 2);
        for v in sine(secs * RATE as usize, RATE, freq, 0.3, 0.0) {
            let s = (v * 32767.0) as i16;
            i16w.write_sample(s);
            i16w.write_sample(s);
        }
        i16w.flush().unwrap();
        w.finalize().unwrap();
    }
    let file = dir.join("song.json");
    run_ok(stemdeck().arg("group").arg(&audio).arg("-o").arg(&file));
    let bytes = std::fs::read(&file).unwrap();
    (file, bytes)
}

/// One line, "stemdeck: error: …", naming `file`, saying `what`; no panic.
fn assert_one_line(out: &Output, file: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded:\n{stderr}");
    assert_eq!(lines(&out.stderr).len(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("stemdeck: error: "), "{stderr}");
    assert!(
        stderr.contains(file) && stderr.contains(what),
        "{stderr} should name {file:?} and say {what:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Nothing left in `dir` (it may be gone: the export removes a folder it made).
fn assert_nothing_left(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        let left: Vec<String> = entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
    }
}

#[test]
fn an_export_folder_that_cannot_be_made_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, before) = session(tmp.path(), 1);
    // A regular file where a folder should be (root ignores permissions, not this).
    let blocker = tmp.path().join("delivery");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let out = run(stemdeck()
        .arg("export")
        .arg(&file)
        .arg("--out")
        .arg(blocker.join("stems")));
    assert_one_line(
        &out,
        "delivery/stems: cannot make the export folder",
        "(a file stands where a folder should be)",
    );
    assert_eq!(std::fs::read(&blocker).unwrap(), b"not a folder");
    // A file system that takes no new folders.
    let out = run(stemdeck()
        .arg("export")
        .arg(&file)
        .args(["--out", "/proc/stemdeck-stems"]));
    assert_one_line(
        &out,
        "/proc/stemdeck-stems: cannot make the export folder",
        "No such file or directory",
    );
    assert_eq!(std::fs::read(&file).unwrap(), before, "the session changed");
}

/// `stemdeck export` under a file-size limit of `kib` KiB: every write past it fails with
/// EFBIG, as on a full disk.
fn export_with_size_limit(session: &Path, out_dir: &Path, kib: u64, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {kib}; exec \"$0\" export \"$1\" --out \"$2\" \"${{@:3}}\""
        ))
        .arg(stemdeck_path())
        .arg(session)
        .arg(out_dir)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null());
    run(&mut cmd)
}

#[test]
fn a_full_disk_stops_the_export_naming_the_file_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, before) = session(tmp.path(), 4);
    // WAV: the first stem (4 s of 24-bit stereo is 1.1 MiB) hits a 512 KiB limit.
    let out_dir = tmp.path().join("wav");
    let out = export_with_size_limit(&file, &out_dir, 512, &["--master"]);
    assert_one_line(
        &out,
        "wav/01 Song - Drums.wav: File too large",
        "(the disk is full, or a file-size limit was reached)",
    );
    assert_nothing_left(&out_dir);
    // FLAC: through the streaming encoder's writes.
    let out_dir = tmp.path().join("flac");
    let out = export_with_size_limit(&file, &out_dir, 16, &["--format", "flac24"]);
    assert_one_line(&out, "flac/01 Song - ", "File too large");
    assert_nothing_left(&out_dir);
    // Into a folder that already holds the user's files: they stay, nothing is added.
    let kept = tmp.path().join("kept");
    std::fs::create_dir(&kept).unwrap();
    std::fs::write(kept.join("notes.txt"), b"mine").unwrap();
    let out = export_with_size_limit(&file, &kept, 512, &["--force"]);
    assert_one_line(&out, "kept/01 Song - Drums.wav", "File too large");
    let left: Vec<_> = std::fs::read_dir(&kept).unwrap().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(std::fs::read(kept.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read(&file).unwrap(), before, "the session changed");
}

#[test]
fn a_source_cut_short_during_the_export_is_an_error_not_silence() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, before) = session(tmp.path(), 30);
    let bass = tmp.path().join("Song/Bass.wav");
    let out_dir = tmp.path().join("stems");
    let child = stemdeck()
        .arg("export")
        .arg(&file)
        .arg("--out")
        .arg(&out_dir)
        .arg("--no-sheet")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // As soon as the export writes (its first .partial file appears), cut the 60 s bass
    // (11 MB) to a second: the export is still reading it.
    let started = Instant::now();
    loop {
        let writing = std::fs::read_dir(&out_dir)
            .map(|d| d.count() > 0)
            .unwrap_or(false);
        if writing {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never wrote");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .open(&bass)
        .unwrap()
        .set_len(44 + u64::from(RATE) * 4)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_one_line(
        &out,
        "Song/Bass.wav: the file changed while Stemdeck was reading it (it is now 192044 bytes",
        "try again once it is complete",
    );
    assert_nothing_left(&out_dir);
    assert_eq!(std::fs::read(&file).unwrap(), before, "the session changed");
}

/// A damaged M4A whose undecodable packet claims 3.7 billion frames (the audio fuzzer's
/// find, fuzz/corpus/audio_open/seed-regress-mp4-huge-packet-duration: filling it with
/// silence asked for 15 GB). It opens (its edit list says 50 ms), and the export stops
/// with one line naming it, leaving nothing.
#[test]
fn a_damaged_packet_claiming_hours_is_an_error_not_a_huge_allocation() {
    let tmp = tempfile::tempdir().unwrap();
    session(tmp.path(), 1);
    let find =
        workspace_root().join("fuzz/corpus/audio_open/seed-regress-mp4-huge-packet-duration");
    let bytes = std::fs::read(find).unwrap();
    // The fuzz input's first byte picks the extension; the file is the rest.
    std::fs::write(tmp.path().join("Song/Keys.m4a"), bytes.get(1..).unwrap()).unwrap();
    let folder_session = tmp.path().join("Song");
    let out_dir = tmp.path().join("stems");
    let out = stemdeck()
        .arg("export")
        .arg(&folder_session)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_one_line(
        &out,
        "Song/Keys.m4a: damaged audio: a packet that cannot be decoded claims 3741320192 frames",
        "more than any packet holds",
    );
    assert_nothing_left(&out_dir);
}

/// A folder on a read-only file system (a read-only tmpfs mounted for the test: as root,
/// permissions stop nothing, a read-only mount does). Needs mount rights (root, as in
/// CI); elsewhere it says so and checks nothing.
#[test]
fn an_export_into_a_read_only_folder_is_named_and_leaves_the_session_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, before) = session(tmp.path(), 1);
    let mnt = tmp.path().join("readonly");
    std::fs::create_dir(&mnt).unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "stemdeck-test"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status();
    if !mount.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            std::process::Command::new("umount")
                .arg(&self.0)
                .status()
                .ok();
        }
    }
    let _unmount = Unmount(mnt.clone());
    std::fs::create_dir(mnt.join("stems")).unwrap();
    let remount = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mnt)
        .status()
        .unwrap();
    assert!(remount.success());
    // The folder exists but takes no files.
    let out = run(stemdeck()
        .arg("export")
        .arg(&file)
        .arg("--out")
        .arg(mnt.join("stems")));
    assert_one_line(&out, "readonly/stems/", "Read-only file system");
    assert_nothing_left(&mnt.join("stems"));
    // A folder that would have to be made there.
    let out = run(stemdeck()
        .arg("export")
        .arg(&file)
        .arg("--out")
        .arg(mnt.join("new")));
    assert_one_line(&out, "readonly/new", "Read-only file system");
    assert!(!mnt.join("new").exists());
    assert_eq!(std::fs::read(&file).unwrap(), before, "the session changed");
}
