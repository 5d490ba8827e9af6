//! Bad input, as real sessions arrive: a folder of damaged, odd and hostile files, a
//! one-hour file, and broken session files. Each bad file gives one warning line that
//! names it and says what is wrong, the rest of the session still loads (`info`, `group`,
//! `export`, and the library's `import`), and nothing panics. The messages quoted in
//! docs/reliability.md are the ones asserted here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use stemdeck_audio::decode::Decoder;
use stemdeck_e2e::*;

const RATE: u32 = 48_000;

/// A 16-bit WAV of a quiet sine, `frames` long, on every channel.
fn wav16(path: &Path, rate: u32, channels: u16, frames: usize) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let s = sine(frames, rate, 220.0, 0.05, 0.0);
    for v in s {
        for _ in 0..channels {
            w.write_sample((v * 32767.0) as i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// ffmpeg converts `from` to `to` (the codec from the extension).
fn convert(from: &Path, to: &Path) {
    run_ok(ffmpeg().arg("-i").arg(from).arg(to));
}

/// The first `fraction` of a file, as a copy cut short leaves it.
fn cut(from: &Path, to: &Path, fraction: f64) {
    let bytes = std::fs::read(from).unwrap();
    let n = (bytes.len() as f64 * fraction) as usize;
    std::fs::write(to, &bytes[..n]).unwrap();
}

/// Seeded noise (xorshift): the same "random bytes" every run.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

/// Overwrite the RIFF size and the data size of a plain 44-byte-header WAV.
fn set_wav_sizes(path: &Path, riff: u32, data: u32) {
    let mut b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[36..40],
        b"data",
        "{}: not a plain header",
        path.display()
    );
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    b[40..44].copy_from_slice(&data.to_le_bytes());
    std::fs::write(path, b).unwrap();
}

/// A file the folder holds and what must become of it.
struct Case {
    /// The file name (bytes: one is not UTF-8).
    name: Vec<u8>,
    outcome: Outcome,
}

enum Outcome {
    /// A track of this many frames (at its own rate), with a warning containing the text.
    Loads {
        frames: u64,
        warning: Option<&'static str>,
    },
    /// Left out, with a warning containing the text.
    Refused(&'static str),
}

impl Case {
    fn path(&self, dir: &Path) -> PathBuf {
        dir.join(OsStr::from_bytes(&self.name))
    }
    /// The name as messages show it (lossy).
    fn shown(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// The bad-input folder, built once per test process.
struct Corpus {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    cases: Vec<Case>,
}

const LONG_NAME_LEN: usize = 250;
const NON_AUDIO_FILES: usize = 3000;

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(build_corpus)
}

fn build_corpus() -> Corpus {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Night Drive");
    std::fs::create_dir(&dir).unwrap();
    let scratch = tmp.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let mut cases = Vec::new();
    let mut add = |name: &[u8], outcome| {
        cases.push(Case {
            name: name.to_vec(),
            outcome,
        })
    };
    let loads = |frames| Outcome::Loads {
        frames,
        warning: None,
    };

    // Good tracks, with duplicate names: the same name in two cases and two formats.
    let two_s = 2 * RATE as usize;
    wav16(&dir.join("Kick.wav"), RATE, 2, two_s);
    add(b"Kick.wav", loads(two_s as u64));
    wav16(&dir.join("kick.WAV"), RATE, 2, two_s);
    add(b"kick.WAV", loads(two_s as u64));
    convert(&dir.join("Kick.wav"), &dir.join("kick.flac"));
    add(b"kick.flac", loads(two_s as u64));
    let mono = scratch.join("mono.wav");
    wav16(&mono, RATE, 1, two_s);
    convert(&mono, &dir.join("Lead Vox.mp3"));
    add(b"Lead Vox.mp3", loads(two_s as u64));
    // Extreme rates.
    wav16(&dir.join("Synth 192k.wav"), 192_000, 1, 192_000);
    add(b"Synth 192k.wav", loads(192_000));
    wav16(&dir.join("Room 8k.wav"), 8_000, 1, 16_000);
    add(b"Room 8k.wav", loads(16_000));
    // A 250-byte file name.
    let long = format!("{}.wav", "L".repeat(LONG_NAME_LEN - 4));
    wav16(&dir.join(&long), RATE, 1, RATE as usize);
    add(long.as_bytes(), loads(u64::from(RATE)));

    // Truncated copies: WAV, FLAC, MP3 cut at 60 %.
    let stereo = scratch.join("stereo.wav");
    wav16(&stereo, RATE, 2, two_s);
    cut(&stereo, &dir.join("Cut Gtr.wav"), 0.6);
    let cut_len = std::fs::metadata(dir.join("Cut Gtr.wav")).unwrap().len();
    add(
        b"Cut Gtr.wav",
        Outcome::Loads {
            frames: (cut_len - 44) / 4,
            warning: Some(
                "the file ends early: its header promises 0:02.000 but only 0:01.199 is there",
            ),
        },
    );
    let flac = scratch.join("long.flac");
    convert(&stereo, &flac);
    cut(&flac, &dir.join("Cut Keys.flac"), 0.6);
    add(
        b"Cut Keys.flac",
        Outcome::Loads {
            frames: 0, // checked against decoding
            warning: Some("the file ends early: its header promises 0:02.000 but only"),
        },
    );
    let mp3 = scratch.join("long.mp3");
    convert(&stereo, &mp3);
    cut(&mp3, &dir.join("Cut Pad.mp3"), 0.6);
    add(
        b"Cut Pad.mp3",
        Outcome::Loads {
            frames: 0,
            warning: Some("the file ends early: its header promises 0:02.000 but only"),
        },
    );

    // A damaged MP3 on which symphonia panics (a division by zero in its seek, which
    // opening uses to check the length; found by the audio fuzzer): refused, no panic.
    let fuzz_find =
        workspace_root().join("fuzz/corpus/audio_open/seed-regress-mp3-seek-zero-duration");
    let bytes = std::fs::read(fuzz_find).unwrap();
    // The fuzz input's first byte picks the extension; the file is the rest.
    std::fs::write(dir.join("Damaged Vox.mp3"), bytes.get(1..).unwrap()).unwrap();
    add(
        b"Damaged Vox.mp3",
        Outcome::Refused("it is damaged: its data makes no sense as audio"),
    );

    let aiff = scratch.join("long.aiff");
    convert(&stereo, &aiff);
    cut(&aiff, &dir.join("Cut Strings.aiff"), 0.6);
    add(
        b"Cut Strings.aiff",
        Outcome::Loads {
            frames: 0,
            warning: Some("the file ends early: its header promises 0:02.000 but only"),
        },
    );

    // A data size larger than the file, and the 0xFFFFFFFF a crashed recorder leaves
    // (with a RIFF size of 0: the placeholder it wrote first).
    wav16(&dir.join("Oversize Perc.wav"), RATE, 2, RATE as usize);
    set_wav_sizes(
        &dir.join("Oversize Perc.wav"),
        36 + 40 * RATE * 4,
        40 * RATE * 4,
    );
    add(
        b"Oversize Perc.wav",
        Outcome::Loads {
            frames: u64::from(RATE),
            warning: Some(
                "the file ends early: its header promises 0:40.000 but only 0:01.000 is there (a truncated copy or an unfinished recording); using what is there",
            ),
        },
    );
    wav16(&dir.join("Crashed Take.wav"), RATE, 1, 3 * RATE as usize);
    set_wav_sizes(&dir.join("Crashed Take.wav"), 0, u32::MAX);
    add(
        b"Crashed Take.wav",
        Outcome::Loads {
            frames: 3 * u64::from(RATE),
            warning: Some(
                "the WAV header gives no length (as a recorder that stopped unexpectedly leaves it); using the 0:03.000 in the file",
            ),
        },
    );

    // Files that cannot be tracks.
    let not_audio = "not a supported audio file (its contents are not audio in any format Stemdeck reads (WAV, AIFF, FLAC, MP3, Ogg Vorbis, MP4/M4A))";
    for (i, name) in ["Noise.wav", "Noise.flac", "Noise.mp3"].iter().enumerate() {
        std::fs::write(dir.join(name), noise(20_000, 0x9E37_79B9 + i as u64)).unwrap();
        add(name.as_bytes(), Outcome::Refused(not_audio));
    }
    std::fs::write(dir.join("Empty.wav"), b"").unwrap();
    add(
        b"Empty.wav",
        Outcome::Refused("not a supported audio file (empty: 0 bytes)"),
    );
    std::fs::write(
        dir.join("Header Only.wav"),
        &std::fs::read(&stereo).unwrap()[..44],
    )
    .unwrap();
    add(
        b"Header Only.wav",
        Outcome::Refused(
            "not a supported audio file (the file holds only a header, no audio (a copy or recording that stopped at its start))",
        ),
    );
    std::fs::write(
        dir.join("Header Only.flac"),
        &std::fs::read(&flac).unwrap()[..42],
    )
    .unwrap();
    add(
        b"Header Only.flac",
        Outcome::Refused("the file ends too early: truncated, or only a header"),
    );
    run_ok(
        ffmpeg()
            .args(["-f", "lavfi", "-i", "sine=f=300:d=0.5:r=48000"])
            .args([
                "-af",
                "pan=7.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0|c6=c0|c7=c0",
            ])
            .arg(dir.join("Surround Bed.wav")),
    );
    add(
        b"Surround Bed.wav",
        Outcome::Refused(
            "8 channels; Stemdeck takes mono and stereo files (split or downmix it first)",
        ),
    );
    wav16(
        &dir.join(OsStr::from_bytes(b"Caf\xe9 Bass.wav")),
        RATE,
        1,
        1000,
    );
    add(
        b"Caf\xe9 Bass.wav",
        Outcome::Refused(
            "the file name is not valid UTF-8 (a session file cannot store it); rename the file to use it",
        ),
    );
    std::os::unix::fs::symlink("Loop B.wav", dir.join("Loop A.wav")).unwrap();
    std::os::unix::fs::symlink("Loop A.wav", dir.join("Loop B.wav")).unwrap();
    for name in ["Loop A.wav", "Loop B.wav"] {
        add(
            name.as_bytes(),
            Outcome::Refused("cannot open: Too many levels of symbolic links"),
        );
    }
    std::os::unix::fs::symlink("moved away.wav", dir.join("Gone.wav")).unwrap();
    add(
        b"Gone.wav",
        Outcome::Refused("cannot open: No such file or directory"),
    );

    // Passed over without a word: a folder symlinked to itself (never walked), a folder
    // with an audio name, hidden files, thousands of non-audio files.
    std::os::unix::fs::symlink(".", dir.join("again")).unwrap();
    std::fs::create_dir(dir.join("Bounces.wav")).unwrap();
    std::fs::write(dir.join("._Kick.wav"), noise(100, 7)).unwrap();
    for i in 0..NON_AUDIO_FILES {
        std::fs::write(dir.join(format!("take notes {i:04}.txt")), b"x").unwrap();
    }
    Corpus {
        _tmp: tmp,
        dir,
        cases,
    }
}

/// No panic, no backtrace hint, and the command succeeded.
fn assert_ok_without_panic(what: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{what} panicked:\n{stderr}"
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Every bad file has exactly one warning line, naming it and saying what is wrong.
fn assert_warnings(what: &str, out: &Output, c: &Corpus) {
    let warnings: Vec<String> = lines(&out.stderr)
        .into_iter()
        .filter(|l| l.starts_with("stemdeck: warning: "))
        .collect();
    for case in &c.cases {
        let expect = match &case.outcome {
            Outcome::Refused(text) => *text,
            Outcome::Loads {
                warning: Some(text),
                ..
            } => text,
            Outcome::Loads { warning: None, .. } => continue,
        };
        let shown = case.shown();
        let hits: Vec<&String> = warnings
            .iter()
            .filter(|l| l.contains(&format!("/{shown}: ")))
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "{what}: {shown}: expected one warning, got {hits:?}\nall: {warnings:#?}"
        );
        assert!(
            hits[0].contains(expect),
            "{what}: {shown}: {:?} does not say {expect:?}",
            hits[0]
        );
    }
    let expected = c
        .cases
        .iter()
        .filter(|k| !matches!(k.outcome, Outcome::Loads { warning: None, .. }))
        .count();
    assert_eq!(warnings.len(), expected, "{what}: {warnings:#?}");
}

#[test]
fn a_folder_of_bad_files_still_loads_naming_each_bad_one() {
    let c = corpus();
    let out = run(stemdeck().arg("info").arg(&c.dir));
    assert_ok_without_panic("stemdeck info", &out);
    assert_warnings("stemdeck info", &out, c);
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    let loaded = c
        .cases
        .iter()
        .filter(|k| matches!(k.outcome, Outcome::Loads { .. }))
        .count();
    assert!(
        info.contains(&format!("{loaded} tracks")),
        "{loaded} tracks expected:\n{info}"
    );
    for (name, line_has) in [
        ("Synth 192k", "192000   1    0:01.000"),
        ("Room 8k", "8000   1    0:02.000"),
        ("Crashed Take", "48000   1    0:03.000"),
        ("Oversize Perc", "48000   2    0:01.000"),
        ("Cut Gtr", "48000   2    0:01.199"),
        ("kick", "flac/flac"),
        ("Kick (2)", "wave/pcm_s16le"),
        ("kick (3)", "wave/pcm_s16le"),
    ] {
        let line = info.lines().find(|l| l.contains(&format!(" {name} ")));
        assert!(
            line.is_some_and(|l| l.contains(line_has)),
            "{name}: {line:?} should show {line_has:?}\n{info}"
        );
    }
    assert!(info.contains(&"L".repeat(LONG_NAME_LEN - 4)), "{info}");
}

#[test]
fn group_and_export_of_the_bad_folder_work_on_what_is_there() {
    let c = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let session = tmp.path().join("night.json");
    let out = run(stemdeck().arg("group").arg(&c.dir).arg("-o").arg(&session));
    assert_ok_without_panic("stemdeck group", &out);
    assert_warnings("stemdeck group", &out, c);
    let text = std::fs::read_to_string(&session).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = json["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for n in ["kick", "Kick (2)", "kick (3)", "Cut Gtr", "Crashed Take"] {
        assert!(names.contains(&n), "{n} not in {names:?}");
    }

    // Export straight from the folder, then from the saved session.
    for (input, dir) in [(&c.dir, "from folder"), (&session, "from session")] {
        let out_dir = tmp.path().join(dir);
        let out = run(stemdeck()
            .arg("export")
            .arg(input)
            .arg("--out")
            .arg(&out_dir)
            .args(["--format", "wav16", "--no-sheet", "--master"]));
        assert_ok_without_panic(&format!("stemdeck export {dir}"), &out);
        if input == &c.dir {
            assert_warnings("stemdeck export", &out, c);
        } else {
            // The session holds only the files that load: their warnings remain.
            let n = lines(&out.stderr)
                .iter()
                .filter(|l| l.starts_with("stemdeck: warning: "))
                .count();
            assert_eq!(n, 6, "{}", String::from_utf8_lossy(&out.stderr));
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{files:?}");
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy();
            assert!(!name.contains(".partial"), "left behind: {name}");
            // The longest track: 3 s (the crashed take), at the session rate.
            assert_eq!(read_wav(f).frames(), 3 * RATE as usize, "{name}");
        }
    }
}

/// The library the app is built on gives the same answers: the import leaves out exactly
/// the bad files, and every file that loads decodes to exactly the frames it reports.
#[test]
fn the_library_import_reports_each_file_and_reads_what_is_there() {
    let c = corpus();
    let import = stemdeck_audio::import::import_folder(&c.dir).unwrap();
    let refused: Vec<String> = import.problems.iter().map(|p| p.to_string()).collect();
    for case in &c.cases {
        let path = case.path(&c.dir);
        match &case.outcome {
            Outcome::Refused(text) => {
                let shown = path.display().to_string();
                assert!(
                    refused
                        .iter()
                        .any(|m| m.starts_with(&format!("{shown}: ")) && m.contains(text)),
                    "{shown}: not refused with {text:?}: {refused:#?}"
                );
            }
            Outcome::Loads { frames, warning } => {
                let info = import
                    .infos
                    .iter()
                    .flatten()
                    .find(|i| i.path == path)
                    .unwrap_or_else(|| panic!("{} did not load", case.shown()));
                assert_eq!(
                    info.warning
                        .as_deref()
                        .map(|w| warning.is_some_and(|t| w.contains(t))),
                    warning.map(|_| true),
                    "{}: warning {:?}",
                    case.shown(),
                    info.warning
                );
                if *frames > 0 {
                    assert_eq!(info.frames, *frames, "{}", case.shown());
                }
                // Read to the end: exactly the frames reported, never more or fewer.
                let mut d = Decoder::open(&path).unwrap();
                let mut bufs = vec![vec![0f32; 8192]; info.channels];
                let mut total = 0u64;
                loop {
                    let mut s: Vec<&mut [f32]> =
                        bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
                    let n = d.read(&mut s).unwrap();
                    if n == 0 {
                        break;
                    }
                    total += n as u64;
                }
                assert_eq!(total, info.frames, "{}: frames read", case.shown());
            }
        }
    }
    assert_eq!(
        refused.len(),
        c.cases
            .iter()
            .filter(|k| matches!(k.outcome, Outcome::Refused(_)))
            .count(),
        "{refused:#?}"
    );
}

#[test]
fn a_folder_of_thousands_of_non_audio_files_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..NON_AUDIO_FILES {
        std::fs::write(tmp.path().join(format!("{i}.txt")), b"x").unwrap();
    }
    let out = run(stemdeck().arg("info").arg(tmp.path()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(lines(&out.stderr).len(), 1, "{stderr}");
    assert!(
        stderr.contains(&tmp.path().display().to_string())
            && stderr.contains("no audio files in this folder"),
        "{stderr}"
    );
}

/// One hour of 8 kHz mono (57.6 MB, written sparsely: silence with a burst at the very
/// end): its length is read from the header, the export is one hour long, and the last
/// second is really there in the stem.
#[test]
fn a_one_hour_file_loads_and_exports_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Long Take");
    std::fs::create_dir(&dir).unwrap();
    let rate = 8_000u32;
    let frames = u64::from(rate) * 3600;
    let path = dir.join("Room.wav");
    {
        use std::io::{Seek as _, SeekFrom, Write as _};
        let mut w = hound::WavWriter::create(
            &path,
            hound::WavSpec {
                channels: 1,
                sample_rate: rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
        )
        .unwrap();
        w.write_sample(0i16).unwrap();
        w.finalize().unwrap();
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let data = frames * 2;
        f.seek(SeekFrom::Start(4)).unwrap();
        f.write_all(&(36 + data as u32).to_le_bytes()).unwrap();
        f.seek(SeekFrom::Start(40)).unwrap();
        f.write_all(&(data as u32).to_le_bytes()).unwrap();
        f.set_len(44 + data).unwrap();
        // The last second: a full-scale-ish burst.
        f.seek(SeekFrom::Start(44 + data - u64::from(rate) * 2))
            .unwrap();
        let burst: Vec<u8> = (0..rate).flat_map(|_| 16_000i16.to_le_bytes()).collect();
        f.write_all(&burst).unwrap();
    }
    let info = run_ok(stemdeck().arg("info").arg(&dir));
    assert!(info.contains("1:00:00.000"), "{info}");
    let out_dir = tmp.path().join("stems");
    let out = run(stemdeck()
        .arg("export")
        .arg(&dir)
        .arg("--out")
        .arg(&out_dir)
        .args(["--format", "wav16", "--no-sheet"]));
    assert_ok_without_panic("stemdeck export (one hour)", &out);
    let stem = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "wav"))
        .unwrap();
    let mut r = hound::WavReader::open(&stem).unwrap();
    assert_eq!(u64::from(r.duration()), frames);
    // The burst is in the last second (a mono track at centre plays at unity gain on both
    // sides), silence before.
    r.seek(r.duration() - rate * 2).unwrap();
    let tail: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
    let (before, last) = tail.split_at(tail.len() / 2);
    assert!(
        before.iter().all(|v| v.abs() <= 2),
        "dither only before the burst"
    );
    let mean = last.iter().map(|v| f64::from(*v)).sum::<f64>() / last.len() as f64;
    assert!((mean - 16_000.0).abs() < 2.0, "{mean}");
}

/// One failing command: one line, "stemdeck: error: ", naming the file, saying `what`.
fn assert_fails_naming(out: &Output, file: &str, what: &str) {
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

/// Broken session files (malformed, cut short, mistyped, missing audio, paths out of the
/// session folder): a clear line naming the session file (and the track), the session
/// file itself never touched. Newer versions and other JSON: export_e2e's
/// `bad_inputs_fail_with_one_line_naming_the_file`.
#[test]
fn broken_session_files_name_the_file_and_the_track() {
    let tmp = tempfile::tempdir().unwrap();
    let audio = tmp.path().join("Song");
    std::fs::create_dir(&audio).unwrap();
    wav16(&audio.join("Kick.wav"), RATE, 1, RATE as usize);
    wav16(&audio.join("Bass.wav"), RATE, 1, RATE as usize);
    let good = tmp.path().join("song.json");
    run_ok(stemdeck().arg("group").arg(&audio).arg("-o").arg(&good));
    let text = std::fs::read_to_string(&good).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let written = std::cell::RefCell::new(vec![(good.clone(), text.clone())]);
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        written.borrow_mut().push((p.clone(), text.to_owned()));
        p
    };
    let edited = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut j = json.clone();
        edit(&mut j);
        write(name, &serde_json::to_string_pretty(&j).unwrap())
    };
    let kick = |j: &mut serde_json::Value| -> usize {
        j["tracks"]
            .as_array()
            .unwrap()
            .iter()
            .position(|t| t["name"] == "Kick")
            .unwrap()
    };

    // Refused outright: nothing to open.
    let refused = [
        (
            write("cut.json", &text[..text.len() / 2]),
            "not valid session JSON (line",
        ),
        (
            edited("types.json", &|j| j["tracks"][0]["gain_db"] = "loud".into()),
            "invalid type: string \"loud\", expected f32",
        ),
        (
            edited("shape.json", &|j| j["tracks"] = "all of them".into()),
            "invalid type: string \"all of them\", expected a sequence",
        ),
        (
            edited("rate.json", &|j| j["sample_rate"] = (-48000).into()),
            "invalid value: integer `-48000`, expected u32",
        ),
    ];
    for (file, what) in &refused {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for cmd in ["info", "export"] {
            assert_fails_naming(&run(stemdeck().arg(cmd).arg(file)), &name, what);
        }
    }

    // A missing file: the session still opens, the export refuses (its stem would be
    // wrong), unless the track is in no stem.
    let missing = edited("missing.json", &|j| {
        let k = kick(j);
        j["tracks"][k]["path"] = "Song/Kick (moved).wav".into();
    });
    let problem = "missing.json: track \"Kick\": ";
    let out = run(stemdeck().arg("info").arg(&missing));
    assert_ok_without_panic("info missing.json", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(problem)
            && stderr.contains("Kick (moved).wav: cannot open: No such file or directory"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(unreadable)"));
    let out_dir = tmp.path().join("out");
    let export = |session: &Path| {
        run(stemdeck()
            .arg("export")
            .arg(session)
            .arg("--out")
            .arg(&out_dir)
            .args(["--no-sheet", "--force"]))
    };
    let out = export(&missing);
    assert_fails_naming(
        &out,
        problem,
        "relink the file or take the track out of its stem",
    );
    assert!(!out_dir.exists(), "nothing may be written");
    let unassigned = edited("unassigned.json", &|j| {
        let k = kick(j);
        j["tracks"][k]["path"] = "Song/Kick (moved).wav".into();
        let id = j["tracks"][k]["id"].clone();
        for s in j["stems"].as_array_mut().unwrap() {
            s["tracks"].as_array_mut().unwrap().retain(|t| *t != id);
        }
    });
    let out = export(&unassigned);
    assert_ok_without_panic("export unassigned.json", &out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unassigned.json: track \"Kick\": "));

    // Paths out of the session folder. Policy (docs/reliability.md): allowed — audio
    // often lives beside the session's folder or on another drive — and only ever read,
    // as audio: what is not audio is an unreadable track like any other.
    let climbing = edited("climbing.json", &|j| {
        let k = kick(j);
        j["tracks"][k]["path"] = "../../../../../../../../../../etc/passwd".into();
    });
    let out = run(stemdeck().arg("info").arg(&climbing));
    assert_ok_without_panic("info climbing.json", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("climbing.json: track \"Kick\": ")
            && stderr.contains("/etc/passwd: not a supported audio file"),
        "{stderr}"
    );
    assert_fails_naming(
        &export(&climbing),
        "climbing.json: track \"Kick\"",
        "/etc/passwd",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("Kick from another drive.wav");
    wav16(&outside, RATE, 1, RATE as usize);
    let absolute = edited("absolute.json", &|j| {
        let k = kick(j);
        j["tracks"][k]["path"] = outside.to_str().unwrap().into();
    });
    let out = export(&absolute);
    assert_ok_without_panic("export absolute.json", &out);
    assert!(
        lines(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // No command changed a session file, nor left anything beside it.
    for (file, text) in written.borrow().iter() {
        let now = std::fs::read_to_string(file).unwrap();
        assert!(now == *text, "{} was changed", file.display());
    }
    let mut json_files = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".json"))
        .count();
    json_files -= written.borrow().len();
    assert_eq!(json_files, 0, "files left beside the sessions");
}
