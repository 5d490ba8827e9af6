//! End-to-end tests of the stem delivery (`stemdeck export` with formats, sample rates,
//! variants, tail, trim, the song information sheet and saved settings), run on the
//! real binary and checked with independent tools: ffprobe/ffmpeg decode every file,
//! ffmpeg's ebur128 filter measures the loudness, pdftotext reads the PDF.
//!
//! The session: four tracks at 48 kHz, grouped by `stemdeck group` into Drums (a 24-bit
//! mono kick tone), Bass (a 16-bit mono FLAC, panned), Vocals (a 1 kHz sine at −20 dBFS
//! in both channels: −20.0 LUFS) and Instruments (a 1 kHz sine at −20 dBFS in the left
//! channel only: −23.0 LUFS), with two saved variants, "Instrumental" (Vocals muted) and
//! "A cappella" (Vocals soloed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use serde_json::Value;
use stemdeck_e2e::{
    add, dbfs, diff, ffmpeg, ffmpeg_decode, lines, peak, read_wav, run, run_ok, sine, stemdeck,
    tone_level, tremolo, write_wav_f32,
};

const RATE: u32 = 48_000;
const SECONDS: f64 = 6.0;
const FRAMES: usize = (SECONDS as usize) * RATE as usize;
const TITLE: &str = "Night Drive";
const STEMS: [&str; 4] = ["Drums", "Bass", "Vocals", "Instruments"];

struct Fixture {
    dir: tempfile::TempDir,
    session: PathBuf,
}

impl Fixture {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn build() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let multitrack = dir.path().join("Multitrack");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(&multitrack).unwrap();
        let silent = vec![0.0f32; FRAMES];
        // (name, channels, codec args, extension)
        let mut kick = sine(FRAMES, RATE, 100.0, 0.3, 0.0);
        tremolo(&mut kick, RATE, 2.0, 0.8);
        let mut bass = sine(FRAMES, RATE, 220.0, 0.25, 0.4);
        add(&mut bass, &sine(FRAMES, RATE, 330.0, 0.05, 0.0));
        let vox = sine(FRAMES, RATE, 1000.0, 0.1, 0.0);
        let keys = sine(FRAMES, RATE, 1000.0, 0.1, 0.7);
        // A track: its name, its channels, ffmpeg's codec arguments, the extension.
        type Source<'a> = (&'a str, Vec<Vec<f32>>, &'a [&'a str], &'a str);
        let tracks: [Source; 4] = [
            ("Kick", vec![kick], &["-c:a", "pcm_s24le"], "wav"),
            (
                "Bass DI",
                vec![bass],
                &["-c:a", "flac", "-sample_fmt", "s16"],
                "flac",
            ),
            (
                "Lead Vox",
                vec![vox.clone(), vox],
                &["-c:a", "pcm_f32le"],
                "wav",
            ),
            ("Keys", vec![keys, silent], &["-c:a", "pcm_f32le"], "wav"),
        ];
        for (name, chans, codec, ext) in &tracks {
            let wav = src.join(format!("{name}.wav"));
            write_wav_f32(&wav, RATE, chans);
            run_ok(
                ffmpeg()
                    .arg("-i")
                    .arg(&wav)
                    .args(["-ac", &chans.len().to_string()])
                    .args(*codec)
                    .arg(multitrack.join(format!("{name}.{ext}"))),
            );
        }
        let session = dir.path().join("Night Drive.stemdeck.json");
        run_ok(
            stemdeck()
                .arg("group")
                .arg(&multitrack)
                .arg("-o")
                .arg(&session),
        );
        edit_session(&session, |s| {
            let names: Vec<&str> = s["stems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, STEMS, "auto-grouping");
            s["song"] = serde_json::json!({
                "title": TITLE, "artist": "The Examples", "bpm": 122.0, "key": "F# minor",
                "notes": "Rough mix 3, vocals comped"
            });
            for t in s["tracks"].as_array_mut().unwrap() {
                if t["name"] == "Bass DI" {
                    t["pan"] = (-0.3).into();
                }
            }
            let vocals = stem_id(s, "Vocals");
            s["variants"] = serde_json::json!([
                { "name": "Instrumental", "stems": [ { "stem": vocals, "mute": true, "solo": false } ] },
                { "name": "A cappella", "stems": [ { "stem": vocals, "mute": false, "solo": true } ] }
            ]);
        });
        Fixture { dir, session }
    }

    /// Export with `args` into a new folder `name`; must succeed.
    fn export(&self, name: &str, args: &[&str]) -> (PathBuf, String) {
        let out_dir = self.root().join(name);
        let out = run(stemdeck()
            .arg("export")
            .arg(&self.session)
            .args(args)
            .arg("--out")
            .arg(&out_dir));
        assert_ok(&out);
        (out_dir, String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// One fixture per process while some test uses it.
fn fixture() -> Arc<Fixture> {
    static SHARED: Mutex<Weak<Fixture>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(f) = shared.upgrade() {
        return f;
    }
    let f = Arc::new(Fixture::build());
    *shared = Arc::downgrade(&f);
    f
}

fn edit_session(path: &Path, edit: impl FnOnce(&mut Value)) {
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut s);
    std::fs::write(path, serde_json::to_string_pretty(&s).unwrap()).unwrap();
}

fn stem_id(s: &Value, name: &str) -> Value {
    s["stems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()["id"]
        .clone()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "export failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn stem_file(index: usize, name: &str, ext: &str) -> String {
    format!("{index:02} {TITLE} - {name}.{ext}")
}

/// Every audio file of an export with the master and the variants, in listing order.
fn audio_files(ext: &str) -> Vec<String> {
    let mut v: Vec<String> = STEMS
        .iter()
        .enumerate()
        .map(|(i, s)| stem_file(i + 1, s, ext))
        .collect();
    v.push(stem_file(0, "Master", ext));
    v.push(stem_file(1, "Instrumental", ext));
    v.push(stem_file(2, "A cappella", ext));
    v.sort();
    v
}

fn sheet_files() -> [String; 2] {
    [
        format!("{TITLE} - Song Info.json"),
        format!("{TITLE} - Song Info.pdf"),
    ]
}

/// What ffprobe says of the first audio stream.
fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .arg(
            "stream=codec_name,sample_rate,channels,sample_fmt,bits_per_sample,bits_per_raw_sample",
        )
        .args(["-of", "json"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("ffprobe is required (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["streams"][0].clone()
}

/// ffmpeg's EBU R128 measurement of a file: (integrated LUFS, true peak dBTP).
fn ffmpeg_loudness(path: &Path) -> (f64, f64) {
    let out = run(ffmpeg()
        .args(["-loglevel", "info", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"]));
    let text = String::from_utf8_lossy(&out.stderr);
    let summary = text.rsplit("Summary:").next().unwrap_or_default();
    let value = |key: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in ffmpeg's ebur128 summary:\n{text}"))
    };
    (value("I:"), value("Peak:"))
}

/// The null-test line of an export's output.
fn null_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("Null test:"))
        .unwrap_or_else(|| panic!("no null test line:\n{stdout}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------

#[test]
fn every_format_decodes_to_the_right_length_rate_depth_and_content() {
    let f = fixture();
    let tail = 1.5;
    let frames = FRAMES + (tail * f64::from(RATE)) as usize;
    let mut float = Vec::new();
    for format in ["wav32f", "wav16", "wav24", "flac16", "flac24"] {
        let (dir, stdout) = f.export(
            &format!("fmt-{format}"),
            &[
                "--format",
                format,
                "--master",
                "--variants",
                "--tail",
                "1.5",
                "--no-sheet",
            ],
        );
        println!("{format}: {}", null_line(&stdout));
        let ext = if format.starts_with("flac") {
            "flac"
        } else {
            "wav"
        };
        assert_eq!(listing(&dir), audio_files(ext), "{format}");
        let (codec, fmt_bits) = match format {
            "wav16" => ("pcm_s16le", 16),
            "wav24" => ("pcm_s24le", 24),
            "wav32f" => ("pcm_f32le", 32),
            "flac16" => ("flac", 16),
            _ => ("flac", 24),
        };
        let lsb = if fmt_bits == 32 {
            0.0
        } else {
            1.0 / f64::from(1u32 << (fmt_bits - 1))
        };
        for (k, name) in audio_files(ext).iter().enumerate() {
            let path = dir.join(name);
            let probe = ffprobe(&path);
            assert_eq!(probe["codec_name"], codec, "{name}: {probe}");
            assert_eq!(probe["sample_rate"], RATE.to_string(), "{name}: {probe}");
            assert_eq!(probe["channels"], 2, "{name}: {probe}");
            let bits = if codec == "flac" {
                &probe["bits_per_raw_sample"]
            } else {
                &probe["bits_per_sample"]
            };
            assert_eq!(
                bits.as_str().map(str::to_owned).unwrap_or(bits.to_string()),
                fmt_bits.to_string(),
                "{name}: {probe}"
            );
            let audio = ffmpeg_decode(&path, 2, None);
            for ch in &audio {
                assert_eq!(ch.len(), frames, "{format} {name}: length");
            }
            if format == "wav32f" {
                float.push(audio);
                continue;
            }
            // Against the float export: within rounding (24-bit) or dither (16-bit).
            let bound = if fmt_bits == 16 { 2.0 * lsb } else { lsb };
            for c in 0..2 {
                let worst = peak(&diff(&audio[c], &float[k][c]));
                assert!(
                    worst <= bound + 1e-9,
                    "{format} {name}: {:.2} LSB from the float file",
                    worst / lsb
                );
            }
            // The tail is silent (give or take the dither).
            let tail_peak = peak(&audio[0][FRAMES + 10..]);
            assert!(
                tail_peak <= 1.0 * lsb + 1e-9,
                "{format} {name}: tail at {tail_peak}"
            );
        }
        let line = null_line(&stdout);
        assert!(
            line.contains("the stems add up to the master"),
            "{format}: {line}"
        );
        if fmt_bits == 16 {
            assert!(line.contains("dither"), "{format}: {line}");
        }
    }
}

#[test]
fn exports_at_44100_and_96000_are_converted_like_soxr_does() {
    let f = fixture();
    let (float48, _) = f.export("rate-48000", &["--format", "wav32f", "--no-sheet"]);
    for (rate, format) in [(44_100u32, "flac24"), (96_000, "wav32f"), (44_100, "wav16")] {
        let (dir, stdout) = f.export(
            &format!("rate-{rate}-{format}"),
            &[
                "--format",
                format,
                "--sample-rate",
                &rate.to_string(),
                "--master",
                "--no-sheet",
            ],
        );
        assert!(
            stdout.contains(&format!("{rate} Hz, converted from 48000 Hz")),
            "{stdout}"
        );
        println!("{rate} Hz {format}: {}", null_line(&stdout));
        assert!(
            null_line(&stdout).contains("the stems add up to the master"),
            "{stdout}"
        );
        let ext = if format.starts_with("flac") {
            "flac"
        } else {
            "wav"
        };
        let frames = (FRAMES as u64 * u64::from(rate)).div_ceil(u64::from(RATE)) as usize;
        for (i, stem) in STEMS.iter().enumerate() {
            let path = dir.join(stem_file(i + 1, stem, ext));
            let probe = ffprobe(&path);
            assert_eq!(probe["sample_rate"], rate.to_string(), "{stem}: {probe}");
            let ours = ffmpeg_decode(&path, 2, None);
            // The 48 kHz float stem converted by ffmpeg's soxr (very high quality).
            let reference = ffmpeg_decode(
                &float48.join(stem_file(i + 1, stem, "wav")),
                2,
                Some(&format!("aresample={rate}:resampler=soxr:precision=28")),
            );
            for c in 0..2 {
                assert_eq!(ours[c].len(), frames, "{stem} at {rate} Hz: length");
                // Away from the very start and end (the two converters' edges differ).
                let edge = rate as usize / 50;
                let a = &ours[c][edge..frames - edge];
                let b = &reference[c][edge..frames.min(reference[c].len()) - edge];
                let res = peak(&diff(a, b));
                let bound = if format == "wav16" { 1e-4 } else { 1e-5 };
                println!("  {stem} ch{c}: {:.1} dBFS from soxr", dbfs(res));
                assert!(
                    res < bound,
                    "{stem} ch{c} at {rate} Hz: {:.1} dBFS from soxr's conversion",
                    dbfs(res)
                );
            }
        }
        // The vocal tone: 1 kHz at -20 dBFS, where it should be.
        let vox = ffmpeg_decode(&dir.join(stem_file(3, "Vocals", ext)), 2, None);
        let mid = &vox[0][rate as usize..3 * rate as usize];
        assert!((dbfs(tone_level(mid, rate, 1000.0)) - -20.0).abs() < 0.05);
        assert!(tone_level(mid, rate, 1100.0) < 1e-4);
    }
}

#[test]
fn the_sheet_lists_every_file_with_its_measurements_and_they_match_the_files() {
    let f = fixture();
    let (dir, stdout) = f.export("sheet", &["--format", "wav24", "--master", "--variants"]);
    let mut want: Vec<String> = audio_files("wav");
    want.extend(sheet_files());
    want.sort();
    assert_eq!(listing(&dir), want);
    assert!(
        stdout.contains(
            "Song information: Night Drive - Song Info.pdf, Night Drive - Song Info.json"
        ),
        "{stdout}"
    );

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(&sheet_files()[0])).unwrap())
            .unwrap();
    assert_eq!(json["song"]["title"], TITLE);
    assert_eq!(json["song"]["artist"], "The Examples");
    assert_eq!(json["song"]["bpm"], 122.0);
    assert_eq!(json["song"]["key"], "F# minor");
    assert_eq!(json["song"]["notes"], "Rough mix 3, vocals comped");
    assert_eq!(json["audio"]["sample_rate"], RATE);
    assert_eq!(json["audio"]["bit_depth"], 24);
    assert_eq!(json["audio"]["format"], "wav24");
    assert_eq!(json["audio"]["frames"], FRAMES);
    assert_eq!(json["audio"]["length"], "0:06.000");
    assert_eq!(json["stemdeck_version"], env!("CARGO_PKG_VERSION"));
    let at = json["exported_at"].as_str().unwrap();
    assert!(
        at.len() == 20 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
        "not RFC 3339 UTC: {at}"
    );
    assert_eq!(json["trim"]["gain_db"], 0.0);
    assert_eq!(json["null_test"]["compared"], "files");
    assert_eq!(json["null_test"]["passed"], true);
    assert_eq!(json["stems"][0]["tracks"], serde_json::json!(["Kick"]));
    assert_eq!(json["master"]["tracks"], serde_json::json!(STEMS));
    assert_eq!(
        json["variants"][0]["tracks"],
        serde_json::json!(["Drums", "Bass", "Instruments"])
    );

    let mut entries: Vec<&Value> = json["stems"].as_array().unwrap().iter().collect();
    entries.push(&json["master"]);
    entries.extend(json["variants"].as_array().unwrap());
    assert_eq!(entries.len(), 7);
    let pdf_text = {
        let out = Command::new("pdftotext")
            .args(["-layout"])
            .arg(dir.join(&sheet_files()[1]))
            .arg("-")
            .stdin(Stdio::null())
            .output()
            .expect("pdftotext is required (apt-get install poppler-utils)");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for needle in [
        TITLE,
        "The Examples",
        "F# minor",
        "122",
        "Rough mix 3, vocals comped",
        "48000 Hz",
        "24-bit",
    ] {
        assert!(
            pdf_text.contains(needle),
            "the PDF does not show {needle:?}:\n{pdf_text}"
        );
    }
    for e in &entries {
        let name = e["name"].as_str().unwrap();
        let file = dir.join(e["file"].as_str().unwrap());
        // The PDF shows the name and the loudness.
        let lufs = e["loudness_lufs"].as_f64().unwrap();
        let shown = format!("{lufs:.1} LUFS");
        assert!(
            pdf_text.contains(name),
            "the PDF does not name {name}:\n{pdf_text}"
        );
        assert!(
            pdf_text.contains(&shown),
            "the PDF does not show {name}'s {shown}:\n{pdf_text}"
        );
        // The sample peak, recomputed from the file.
        let audio = ffmpeg_decode(&file, 2, None);
        let file_peak = dbfs(audio.iter().map(|c| peak(c)).fold(0.0, f64::max));
        let sheet_peak = e["peak_dbfs"].as_f64().unwrap();
        assert!(
            (file_peak - sheet_peak).abs() < 0.1,
            "{name}: peak {sheet_peak} on the sheet, {file_peak} in the file"
        );
        // Loudness and true peak, measured by ffmpeg.
        let (i, tp) = ffmpeg_loudness(&file);
        let sheet_tp = e["true_peak_dbtp"].as_f64().unwrap();
        println!(
            "{name:<13} sheet {lufs:6.2} LUFS {sheet_tp:6.2} dBTP {sheet_peak:6.2} dBFS | ffmpeg {i:6.1} LUFS {tp:6.1} dBTP | file peak {file_peak:6.2}"
        );
        assert!(
            (i - lufs).abs() <= 0.15,
            "{name}: {lufs} LUFS on the sheet, ffmpeg measures {i}"
        );
        assert!(
            (tp - sheet_tp).abs() <= 0.2,
            "{name}: {sheet_tp} dBTP on the sheet, ffmpeg measures {tp}"
        );
    }
    // The sanity checks: 1 kHz at -20 dBFS in both channels is -20 LUFS; in one channel, -23.
    let lufs_of = |stem: &str| {
        entries.iter().find(|e| e["name"] == stem).unwrap()["loudness_lufs"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (lufs_of("Vocals") - -20.0).abs() < 0.1,
        "{}",
        lufs_of("Vocals")
    );
    assert!(
        (lufs_of("Instruments") - -23.0).abs() < 0.1,
        "{}",
        lufs_of("Instruments")
    );
}

#[test]
fn a_clipping_mix_is_refused_or_trimmed_with_one_common_gain() {
    let f = fixture();
    // +20 dB on every stem, and only three stems (so four files: the stems' rounding
    // errors and the master's add up to at most 2 LSB).
    let session = f.root().join("loud.stemdeck.json");
    std::fs::copy(&f.session, &session).unwrap();
    edit_session(&session, |s| {
        let stems = s["stems"].as_array_mut().unwrap();
        stems.retain(|st| st["name"] != "Instruments");
        for st in stems {
            st["gain_db"] = 20.0.into();
        }
    });
    let export = |name: &str, args: &[&str]| {
        let out_dir = f.root().join(name);
        let out = run(stemdeck()
            .arg("export")
            .arg(&session)
            .args(args)
            .arg("--out")
            .arg(&out_dir));
        (out_dir, out)
    };

    let (dir, out) = export("loud-refused", &["--format", "wav24", "--master"]);
    assert_eq!(out.status.code(), Some(1), "a clipping export did not fail");
    let err = lines(&out.stderr);
    let errors: Vec<&String> = err.iter().filter(|l| !l.contains("note:")).collect();
    assert_eq!(errors.len(), 1, "not one line: {err:?}");
    let msg = errors[0];
    assert!(
        msg.contains("would clip")
            && msg.contains("--trim auto")
            && msg.contains("--format wav32f"),
        "{msg}"
    );
    assert!(!dir.exists(), "a refused export left {:?}", listing(&dir));

    let (float_dir, out) = export(
        "loud-float",
        &["--format", "wav32f", "--master", "--no-sheet"],
    );
    assert_ok(&out);
    let (dir, out) = export(
        "loud-trimmed",
        &["--format", "wav24", "--master", "--trim", "auto"],
    );
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let trim_line = stdout.lines().find(|l| l.starts_with("Headroom:")).unwrap();
    println!("{trim_line}\n{}", null_line(&stdout));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(&sheet_files()[0])).unwrap())
            .unwrap();
    let gain_db = json["trim"]["gain_db"].as_f64().unwrap();
    assert!(gain_db < -10.0, "{json}");
    assert!(
        trim_line.contains(&format!("{gain_db:+.2} dB")),
        "{trim_line}"
    );
    let lsb = 1.0 / 8_388_608.0;
    let names: Vec<String> = ["Drums", "Bass", "Vocals"]
        .iter()
        .enumerate()
        .map(|(i, s)| stem_file(i + 1, s, "wav"))
        .chain([stem_file(0, "Master", "wav")])
        .collect();
    let files: Vec<Vec<Vec<f32>>> = names
        .iter()
        .map(|n| read_wav(&dir.join(n)).channels)
        .collect();
    let floats: Vec<Vec<Vec<f32>>> = names
        .iter()
        .map(|n| read_wav(&float_dir.join(n)).channels)
        .collect();
    // The one gain, measured on the master (least squares), is the one reported...
    let (mut ab, mut bb) = (0.0f64, 0.0f64);
    for c in 0..2 {
        for (a, b) in files[3][c].iter().zip(&floats[3][c]) {
            ab += f64::from(*a) * f64::from(*b);
            bb += f64::from(*b) * f64::from(*b);
        }
    }
    let gain = ab / bb;
    assert!(
        (dbfs(gain) - gain_db).abs() < 0.006,
        "measured {} dB, reported {gain_db} dB",
        dbfs(gain)
    );
    let mut loudest = 0.0f64;
    for ((name, audio), float) in names.iter().zip(&files).zip(&floats) {
        let p = audio.iter().map(|c| peak(c)).fold(0.0, f64::max);
        assert!(
            p <= 10f64.powf(-0.1 / 20.0) + lsb,
            "{name}: peak {:.3} dBFS",
            dbfs(p)
        );
        loudest = loudest.max(p);
        // ...and every file is its float file times that same gain: relative levels kept.
        for c in 0..2 {
            let worst = audio[c]
                .iter()
                .zip(&float[c])
                .map(|(a, b)| (f64::from(*a) - f64::from(*b) * gain).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= 1.01 * lsb,
                "{name}: {:.2} LSB from the trimmed float file",
                worst / lsb
            );
        }
    }
    assert!(
        (dbfs(loudest) - -0.1).abs() < 0.01,
        "the loudest file peaks at {:.3} dBFS",
        dbfs(loudest)
    );
    // The stems still add up to the master.
    for c in 0..2 {
        let mut sum = vec![0.0f32; FRAMES];
        for audio in &files[..3] {
            add(&mut sum, &audio[c]);
        }
        let worst = peak(&diff(&sum, &files[3][c]));
        assert!(
            worst <= 2.0 * lsb + 1e-12,
            "channel {c}: the stems are {:.2} LSB from the master",
            worst / lsb
        );
    }
}

#[test]
fn variants_are_the_mix_under_their_mutes_and_solos() {
    let f = fixture();
    let (dir, _) = f.export(
        "variants",
        &["--format", "wav32f", "--master", "--variants", "--no-sheet"],
    );
    let read =
        |index: usize, name: &str| read_wav(&dir.join(stem_file(index, name, "wav"))).channels;
    let master = read(0, "Master");
    let vocals = read(3, "Vocals");
    let instrumental = read(1, "Instrumental");
    let acappella = read(2, "A cappella");
    for c in 0..2 {
        let without_vocals = diff(&master[c], &vocals[c]);
        let worst = peak(&diff(&instrumental[c], &without_vocals));
        assert!(
            worst < 1e-6,
            "Instrumental differs from master - vocals by {worst:e}"
        );
        assert_eq!(acappella[c], vocals[c], "A cappella is not the vocal stem");
        assert!(peak(&instrumental[c]) > 0.1);
    }
}

#[test]
fn saved_settings_are_the_defaults_and_flags_override_them() {
    let f = fixture();
    let session = f.root().join("settings.stemdeck.json");
    std::fs::copy(&f.session, &session).unwrap();
    let out = run(stemdeck()
        .arg("export")
        .arg(&session)
        .args([
            "--format",
            "flac24",
            "--sample-rate",
            "44100",
            "--master",
            "--tail",
            "0.5",
            "--trim",
            "auto",
            "--no-sheet",
            "--template",
            "{title} ({bpm}) - {stem}",
            "--out",
        ])
        .arg(f.root().join("delivery/saved"))
        .args(["--save-settings", "--dry-run"]));
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Saved the export settings"), "{stdout}");
    assert!(
        stdout.contains("Night Drive (122 BPM) - Drums.flac"),
        "{stdout}"
    );
    assert!(
        !f.root().join("delivery/saved").exists(),
        "--dry-run wrote files"
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    assert_eq!(
        saved["export"],
        serde_json::json!({
            "format": "flac24", "sample_rate": 44100, "template": "{title} ({bpm}) - {stem}",
            "master": true, "variants": false, "tail_seconds": 0.5, "sheet": false, "trim": "auto",
            "out_dir": "delivery/saved"
        })
    );
    // Later runs use them...
    let out = run(stemdeck().arg("export").arg(&session));
    assert_ok(&out);
    let dir = f.root().join("delivery/saved");
    let mut want: Vec<String> = STEMS
        .iter()
        .chain(&["Master"])
        .map(|s| format!("{TITLE} (122 BPM) - {s}.flac"))
        .collect();
    want.sort();
    assert_eq!(listing(&dir), want);
    let probe = ffprobe(&dir.join(&want[0]));
    assert_eq!(probe["sample_rate"], "44100");
    assert_eq!(
        ffmpeg_decode(&dir.join(&want[0]), 2, None)[0].len(),
        264_600 + 22_050
    );
    // ...and flags override them, for one run.
    let out = run(stemdeck().arg("export").arg(&session).args([
        "--format",
        "wav16",
        "--no-master",
        "--dry-run",
    ]));
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Night Drive (122 BPM) - Drums.wav") && !stdout.contains("Master"),
        "{stdout}"
    );
    let again: Value = serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    assert_eq!(
        again["export"], saved["export"],
        "a run without --save-settings changed the session"
    );
}

#[test]
fn without_a_master_the_null_test_is_made_in_memory_and_says_so() {
    let f = fixture();
    let (dir, stdout) = f.export("no-master", &["--format", "wav24"]);
    let line = null_line(&stdout);
    println!("{line}");
    assert!(
        line.contains("add up") && line.contains("in memory"),
        "{line}"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(&sheet_files()[0])).unwrap())
            .unwrap();
    assert_eq!(json["null_test"]["compared"], "memory");
    assert!(json["master"].is_null());
    let mut want: Vec<String> = STEMS
        .iter()
        .enumerate()
        .map(|(i, s)| stem_file(i + 1, s, "wav"))
        .collect();
    want.extend(sheet_files());
    want.sort();
    assert_eq!(listing(&dir), want);
}
