//! The delivery through the library, as the app calls it: cancel leaves nothing, the
//! sheet and the measurements, the null test, the common trim.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use stemdeck_export::{
    DeliveryOptions, ExportError, ExportOptions, FileKind, NullSource, OutputFormat, Stage,
    TrimMode, export_delivery, planned_files,
};
use stemdeck_session::{Session, Song, Track, TrackId};

const RATE: u32 = 48_000;

/// A stereo float WAV: `f(frame, channel)`.
fn write_wav(path: &Path, frames: usize, f: impl Fn(usize, usize) -> f32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames {
        for c in 0..2 {
            w.write_sample(f(i, c)).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn sine(freq: f64, amp: f64) -> impl Fn(usize, usize) -> f32 {
    move |i, _| {
        (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(RATE)).sin()) as f32
    }
}

/// Drums (kick), Bass, Vocals: sines at `amp` each, `secs` long; a saved "Instrumental".
fn session(dir: &Path, secs: f64, amp: f64) -> Session {
    let frames = (secs * f64::from(RATE)) as usize;
    let mut s = Session::new(
        RATE,
        Song {
            title: "Night Drive".into(),
            artist: "The Examples".into(),
            bpm: Some(122.0),
            key: "F# minor".into(),
            notes: "Rough mix 3".into(),
        },
    );
    for (i, (name, freq)) in [("Kick", 60.0), ("Bass DI", 110.0), ("Lead Vox", 1000.0)]
        .iter()
        .enumerate()
    {
        let path = dir.join(format!("{name}.wav"));
        write_wav(&path, frames, sine(*freq, amp));
        s.tracks
            .push(Track::new(TrackId(i as u32 + 1), *name, path));
    }
    for (i, stem) in ["Drums", "Bass", "Vocals"].iter().enumerate() {
        let id = s.add_stem(*stem);
        s.move_tracks(&[TrackId(i as u32 + 1)], Some(id), None);
    }
    s.stems[2].mute = true;
    let v = s.capture_variant("Instrumental");
    s.variants.push(v);
    s.stems[2].mute = false;
    s
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

fn read_f32(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    match r.spec().sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (r.spec().bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    }
}

#[test]
fn cancel_in_any_pass_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 12.0, 0.2);
    // Cancel after a few blocks of each pass in turn: render, verify, and the trim pass.
    for (stage, format, amp_gain_db) in [
        (Stage::Render, OutputFormat::FLAC24, 0.0),
        (Stage::Verify, OutputFormat::WAV24, 0.0),
        (Stage::Trim, OutputFormat::WAV16, 20.0),
    ] {
        let mut s = s.clone();
        for st in &mut s.stems {
            st.gain_db = amp_gain_db;
        }
        let out = dir.path().join(format!("out-{stage:?}"));
        let mut opts = ExportOptions::new(out.clone());
        opts.format = format;
        opts.include_master = true;
        let delivery = DeliveryOptions {
            sample_rate: Some(44_100),
            variants: true,
            tail_seconds: 1.0,
            sheet: true,
            trim: TrimMode::Auto,
            effects: Default::default(),
        };
        let cancel = AtomicBool::new(false);
        let calls = AtomicUsize::new(0);
        let progress = |p: stemdeck_export::Progress| {
            if p.stage == stage && calls.fetch_add(1, Ordering::Relaxed) == 3 {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let err = export_delivery(&s, &opts, &delivery, &progress, &cancel).unwrap_err();
        assert!(matches!(err, ExportError::Cancelled), "{stage:?}: {err}");
        assert!(
            calls.load(Ordering::Relaxed) >= 4,
            "{stage:?}: the pass was never reached"
        );
        assert!(!out.exists(), "{stage:?}: left behind: {:?}", listing(&out));

        // Into a folder that exists: it stays, empty.
        std::fs::create_dir_all(&out).unwrap();
        calls.store(0, Ordering::Relaxed);
        cancel.store(false, Ordering::Relaxed);
        let err = export_delivery(&s, &opts, &delivery, &progress, &cancel).unwrap_err();
        assert!(matches!(err, ExportError::Cancelled), "{err}");
        assert_eq!(listing(&out), Vec::<String>::new(), "{stage:?}");
    }
    // Nothing beside the session either.
    let mut left = listing(dir.path());
    left.retain(|n| !n.ends_with(".wav") && !n.starts_with("out-"));
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_full_delivery_with_sheet_variants_and_null_test() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 3.0, 0.1);
    let out = dir.path().join("stems");
    let mut opts = ExportOptions::new(out.clone());
    opts.format = OutputFormat::WAV32F;
    opts.include_master = true;
    let delivery = DeliveryOptions {
        variants: true,
        tail_seconds: 0.5,
        ..DeliveryOptions::default()
    };
    let planned: Vec<String> = planned_files(&s, &opts, &delivery)
        .unwrap()
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        planned,
        [
            "01 Night Drive - Drums.wav",
            "02 Night Drive - Bass.wav",
            "03 Night Drive - Vocals.wav",
            "00 Night Drive - Master.wav",
            "01 Night Drive - Instrumental.wav",
            // Built in when a stem is the vocals (the saved Instrumental replaces the
            // built-in one of the same name).
            "02 Night Drive - A cappella.wav",
            "Night Drive - Song Info.pdf",
            "Night Drive - Song Info.json",
        ]
    );
    let report = export_delivery(&s, &opts, &delivery, &|_| {}, &AtomicBool::new(false)).unwrap();
    let mut want = planned.clone();
    want.sort();
    assert_eq!(listing(&out), want);
    assert_eq!(report.frames, 3 * 48_000 + 24_000);
    let null = report.null_test.as_ref().unwrap();
    assert_eq!(null.source, NullSource::Files);
    assert_eq!(null.residual_peak, 0.0, "{}", null.message);
    assert!(
        null.passed && null.message.contains("bit for bit"),
        "{}",
        null.message
    );

    // The variant is the master without the vocal stem.
    let file = |name: &str| out.join(format!("{name}.wav"));
    let master = read_f32(&file("00 Night Drive - Master"));
    let vocals = read_f32(&file("03 Night Drive - Vocals"));
    let inst = read_f32(&file("01 Night Drive - Instrumental"));
    let worst = master
        .iter()
        .zip(&vocals)
        .zip(&inst)
        .map(|((m, v), i)| (m - v - i).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "Instrumental is not master - vocals: {worst}");
    // The tail is silent.
    assert!(
        master[master.len() - 2 * 24_000..]
            .iter()
            .all(|x| *x == 0.0)
    );

    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("Night Drive - Song Info.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(v["song"]["title"], "Night Drive");
    assert_eq!(v["audio"]["sample_rate"], 48_000);
    assert_eq!(v["stems"].as_array().unwrap().len(), 3);
    assert_eq!(v["stems"][2]["tracks"][0], "Lead Vox");
    assert_eq!(
        v["variants"][0]["tracks"],
        serde_json::json!(["Drums", "Bass"])
    );
    // A 1 kHz sine at -20 dBFS in both channels reads -20.0 LUFS (EBU Tech 3341: at
    // -23 dBFS, -23 LUFS), a little less here with the half second of silence at the
    // end; true peak and sample peak -20 dBFS.
    let vox = &v["stems"][2];
    let lufs = vox["loudness_lufs"].as_f64().unwrap();
    assert!((lufs - -20.0).abs() < 0.3, "{lufs}");
    assert!(
        (vox["peak_dbfs"].as_f64().unwrap() - -20.0).abs() < 0.01,
        "{vox}"
    );
    assert!(
        (vox["true_peak_dbtp"].as_f64().unwrap() - -20.0).abs() < 0.05,
        "{vox}"
    );
    println!(
        "1 kHz sine at -20 dBFS (both channels): {lufs} LUFS, {} dBTP",
        vox["true_peak_dbtp"]
    );
    assert!(report.files.iter().any(|f| f.kind == FileKind::Variant));
    let pdf = std::fs::read(out.join("Night Drive - Song Info.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    if let Ok(keep) = std::env::var("STEMDECK_KEEP_SHEET") {
        std::fs::copy(out.join("Night Drive - Song Info.pdf"), PathBuf::from(keep)).unwrap();
    }
}

#[test]
fn clipping_is_refused_or_trimmed_with_one_common_gain() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 2.0, 0.5);
    for st in &mut s.stems {
        st.gain_db = 20.0;
    }
    let out = dir.path().join("loud");
    let mut opts = ExportOptions::new(out.clone());
    opts.format = OutputFormat::WAV24;
    opts.include_master = true;
    let mut delivery = DeliveryOptions {
        sheet: false,
        ..DeliveryOptions::default()
    };
    let err = export_delivery(&s, &opts, &delivery, &|_| {}, &AtomicBool::new(false)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ExportError::WouldClip { .. }), "{msg}");
    assert!(
        msg.contains("--trim auto") && msg.contains("--format wav32f"),
        "{msg}"
    );
    assert!(!out.exists());

    delivery.trim = TrimMode::Auto;
    delivery.sheet = true;
    opts.format = OutputFormat::FLAC16;
    delivery.sample_rate = Some(44_100);
    let report = export_delivery(&s, &opts, &delivery, &|_| {}, &AtomicBool::new(false)).unwrap();
    if let Ok(keep) = std::env::var("STEMDECK_KEEP_SHEET2") {
        std::fs::copy(&report.sheet_files[0], PathBuf::from(keep)).unwrap();
    }
    // Up to 3 × 0.5 × 10 = 15 (+23.5 dBFS) at the master: trimmed by about -23.5 dB.
    let t = &report.trim;
    assert!(
        t.loudest_before_db > 20.0 && t.loudest_before_db < 23.6,
        "{t:?}"
    );
    assert!(
        (t.gain_db - (-0.1 - t.loudest_before_db)).abs() < 1e-9,
        "{t:?}"
    );
    let loudest = report.files.iter().map(|f| f.peak).fold(0.0f32, f32::max);
    assert!(
        (20.0 * f64::from(loudest).log10() - -0.1).abs() < 0.01,
        "{loudest}"
    );
    assert!(report.null_test.as_ref().unwrap().passed);
}
