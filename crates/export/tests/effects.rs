//! Effects in the export: wet and dry stems in one pass, the look-ahead taken off the
//! start, the master bus keeping the stems' sum, the variants' master buses, the sheet.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use stemdeck_export::{
    DeliveryOptions, ExportOptions, ExportReport, FileKind, NullSource, OutputFormat, TrimMode,
    export_delivery, planned_files,
};
use stemdeck_session::effects::{
    BandShape, Compressor, Effect, EffectKind, Eq, EqBand, Limiter, Reverb,
};
use stemdeck_session::{EffectsMode, Master, Session, Song, Track, TrackId};

const RATE: u32 = 48_000;

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

/// A sine with a little noise-like wobble so compressors and reverbs have work to do.
fn tone(freq: f64, amp: f64) -> impl Fn(usize, usize) -> f32 {
    move |i, c| {
        let t = i as f64 / f64::from(RATE);
        let env = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 1.5 * t).sin();
        (amp * env * (2.0 * std::f64::consts::PI * (freq + c as f64) * t).sin()) as f32
    }
}

/// Drums, Bass, Vocals (one track each), `secs` long; a saved "Instrumental".
fn session(dir: &Path, secs: f64) -> Session {
    let frames = (secs * f64::from(RATE)) as usize;
    let mut s = Session::new(
        RATE,
        Song {
            title: "Night Drive".into(),
            artist: "The Examples".into(),
            ..Song::default()
        },
    );
    for (i, (name, freq)) in [("Kick", 60.0), ("Bass DI", 110.0), ("Lead Vox", 1000.0)]
        .iter()
        .enumerate()
    {
        let path = dir.join(format!("{name}.wav"));
        write_wav(&path, frames, tone(*freq, 0.3));
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

fn eq() -> Effect {
    Effect::new(EffectKind::Eq(Eq {
        bands: vec![
            EqBand {
                shape: BandShape::Peak,
                freq_hz: 1000.0,
                gain_db: 4.0,
                q: 1.2,
            },
            EqBand {
                shape: BandShape::Highshelf,
                freq_hz: 6000.0,
                gain_db: -3.0,
                q: 0.7,
            },
        ],
    }))
}

fn limiter(ceiling_db: f32, lookahead_ms: f32) -> Effect {
    Effect::new(EffectKind::Limiter(Limiter {
        ceiling_db,
        release_ms: 60.0,
        lookahead_ms,
    }))
}

/// Effects everywhere: a track EQ and compressor, a stem reverb, a bypassed stem
/// compressor, a master compressor and limiter.
fn with_effects(mut s: Session) -> Session {
    s.tracks[0].effects = vec![
        eq(),
        Effect::new(EffectKind::Compressor(Compressor::default())),
    ];
    s.stems[1].effects = vec![
        Effect::new(EffectKind::Reverb(Reverb::default())),
        Effect {
            kind: EffectKind::Compressor(Compressor::default()),
            bypass: true,
        },
    ];
    s.master = Master {
        gain_db: -1.0,
        effects: vec![
            Effect::new(EffectKind::Compressor(Compressor {
                threshold_db: -20.0,
                ratio: 3.0,
                ..Compressor::default()
            })),
            limiter(-3.0, 5.0),
        ],
    };
    s
}

fn run(
    s: &Session,
    out: PathBuf,
    format: OutputFormat,
    master: bool,
    variants: bool,
    effects: EffectsMode,
) -> ExportReport {
    let mut opts = ExportOptions::new(out);
    opts.format = format;
    opts.include_master = master;
    let delivery = DeliveryOptions {
        sample_rate: None,
        variants,
        tail_seconds: 0.5,
        sheet: true,
        trim: TrimMode::Auto,
        effects,
    };
    export_delivery(s, &opts, &delivery, &|_| {}, &AtomicBool::new(false)).unwrap()
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

fn file<'a>(report: &'a ExportReport, name: &str) -> &'a Path {
    &report
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no file {name}"))
        .path
}

#[test]
fn both_on_a_session_without_effects_writes_dry_files_identical_to_the_wet_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2.0);
    // 16-bit: the dither must be the same too (a dry twin shares its file's seed).
    for format in [OutputFormat::WAV16, OutputFormat::FLAC24] {
        let both = run(
            &s,
            dir.path().join(format!("both-{}", format.id())),
            format,
            true,
            true,
            EffectsMode::Both,
        );
        let wet = run(
            &s,
            dir.path().join(format!("wet-{}", format.id())),
            format,
            true,
            true,
            EffectsMode::Wet,
        );
        let dry = run(
            &s,
            dir.path().join(format!("dry-{}", format.id())),
            format,
            true,
            true,
            EffectsMode::Dry,
        );
        let ext = format.extension();
        for stem in ["Drums", "Bass", "Vocals"] {
            let index = ["Drums", "Bass", "Vocals"]
                .iter()
                .position(|n| *n == stem)
                .unwrap()
                + 1;
            let wet_name = format!("{index:02} Night Drive - {stem}.{ext}");
            let dry_name = format!("{index:02} Night Drive - {stem} (Dry).{ext}");
            let b_wet = std::fs::read(both.dir.join(&wet_name)).unwrap();
            let b_dry = std::fs::read(both.dir.join(&dry_name)).unwrap();
            assert_eq!(b_wet, b_dry, "{dry_name}");
            // And each is exactly what a wet-only and a dry-only export write.
            assert_eq!(b_wet, std::fs::read(wet.dir.join(&wet_name)).unwrap());
            assert_eq!(b_dry, std::fs::read(dry.dir.join(&wet_name)).unwrap());
        }
        for other in ["Master", "Instrumental", "A cappella"] {
            let w = std::fs::read(file(&wet, other)).unwrap();
            assert_eq!(w, std::fs::read(file(&both, other)).unwrap(), "{other}");
            assert_eq!(w, std::fs::read(file(&dry, other)).unwrap(), "{other}");
        }
        assert_eq!(both.files.iter().filter(|f| f.dry).count(), 3);
        let wet_null = both.null_test.as_ref().unwrap();
        let dry_null = both.dry_null_test.as_ref().unwrap();
        assert!(
            wet_null.passed && dry_null.passed,
            "{wet_null:?} {dry_null:?}"
        );
        assert_eq!(wet_null.source, NullSource::Files);
        assert_eq!(dry_null.source, NullSource::Memory);
        // Without effects a dry-only export checks its stems against the master file,
        // as before.
        assert_eq!(dry.null_test.as_ref().unwrap().source, NullSource::Files);
        assert!(dry.dry_null_test.is_none());
    }
}

#[test]
fn the_planned_files_name_the_dry_twins() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 0.2);
    let opts = ExportOptions::new(dir.path().join("out"));
    let delivery = DeliveryOptions {
        effects: EffectsMode::Both,
        ..DeliveryOptions::default()
    };
    let names: Vec<String> = planned_files(&s, &opts, &delivery)
        .unwrap()
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        &names[..4],
        [
            "01 Night Drive - Drums.wav",
            "01 Night Drive - Drums (Dry).wav",
            "02 Night Drive - Bass.wav",
            "02 Night Drive - Bass (Dry).wav"
        ]
    );
    let dry = DeliveryOptions {
        effects: EffectsMode::Dry,
        ..DeliveryOptions::default()
    };
    let dry_names = planned_files(&s, &opts, &dry).unwrap();
    assert!(dry_names.iter().all(|f| !f.name.contains("(Dry)")));
    assert_eq!(dry_names.len(), 3 + 2);
}

#[test]
fn a_click_lands_on_the_same_sample_in_every_file_whatever_the_look_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 30_000;
    let click_at = 12_345;
    let click = |i: usize, _c: usize| if i == click_at { 0.5 } else { 0.0 };
    let mut s = Session::new(RATE, Song::default());
    for (i, name) in ["Kick", "Snare"].iter().enumerate() {
        let path = dir.path().join(format!("{name}.wav"));
        write_wav(&path, frames, click);
        s.tracks
            .push(Track::new(TrackId(i as u32 + 1), *name, path));
        let id = s.add_stem(*name);
        s.move_tracks(&[TrackId(i as u32 + 1)], Some(id), None);
    }
    // Look-ahead on a track (7 ms), on a stem (3 ms) and on the master (5 ms); the
    // limiters do not touch a 0.5 click (ceilings at 0 dB), so it stays one sample.
    s.tracks[0].effects = vec![limiter(0.0, 7.0)];
    s.stems[1].effects = vec![limiter(0.0, 3.0)];
    s.master.effects = vec![limiter(0.0, 5.0)];
    let report = run(
        &s,
        dir.path().join("out"),
        OutputFormat::WAV32F,
        true,
        false,
        EffectsMode::Both,
    );
    let lengths: Vec<usize> = report
        .files
        .iter()
        .map(|f| read_f32(&f.path).len())
        .collect();
    assert!(lengths.iter().all(|l| *l == lengths[0]), "{lengths:?}");
    assert_eq!(lengths[0], 2 * (frames + RATE as usize / 2));
    for f in &report.files {
        let samples = read_f32(&f.path);
        let loudest = samples
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0
            / 2;
        assert_eq!(loudest, click_at, "{}", f.name);
    }
    assert!(report.null_test.as_ref().unwrap().passed);
    assert!(report.dry_null_test.as_ref().unwrap().passed);
}

#[test]
fn wet_stems_add_up_to_the_limited_master_and_dry_stems_to_the_dry_sum() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_effects(session(dir.path(), 3.0));
    for (format, master) in [(OutputFormat::WAV32F, true), (OutputFormat::WAV24, false)] {
        let report = run(
            &s,
            dir.path().join(format!("out-{}-{master}", format.id())),
            format,
            master,
            true,
            EffectsMode::Both,
        );
        let wet = report.null_test.as_ref().unwrap();
        let dry = report.dry_null_test.as_ref().unwrap();
        assert!(wet.passed, "{wet:?}");
        assert!(dry.passed, "{dry:?}");
        assert!(wet.message.contains("processed master"), "{}", wet.message);
        assert!(dry.message.contains("dry"), "{}", dry.message);
        // The limiter's ceiling (-3 dBFS) holds on the master, every wet stem and the
        // variants, though the dry stems sum well above it.
        let ceiling = 10f32.powf(-3.0 / 20.0) * 1.0001;
        let dry_sum: Vec<f32> = ["Drums (Dry)", "Bass (Dry)", "Vocals (Dry)"]
            .iter()
            .map(|n| read_f32(file(&report, n)))
            .reduce(|a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect())
            .unwrap();
        let dry_peak = dry_sum.iter().fold(0f32, |p, x| p.max(x.abs()));
        assert!(dry_peak > ceiling * 1.1, "dry sum peaks at {dry_peak}");
        for f in &report.files {
            let peak = read_f32(&f.path).iter().fold(0f32, |p, x| p.max(x.abs()));
            if f.dry {
                assert!(f.processing.dry);
            } else {
                assert!(peak <= ceiling, "{} peaks at {peak}", f.name);
                assert!(!f.processing.dry);
            }
        }
        // The wet stems differ from the dry ones (the effects did something).
        let wet_drums = read_f32(file(&report, "Drums"));
        let dry_drums = read_f32(file(&report, "Drums (Dry)"));
        assert_ne!(wet_drums, dry_drums);
    }
}

#[test]
fn a_variant_runs_its_own_master_bus_on_the_same_wet_stems() {
    // The Instrumental (vocals muted) must be exactly the master of the same session
    // without the vocals stem: the master bus keyed from the stems heard, with the track
    // and stem effects as in the stems.
    let dir = tempfile::tempdir().unwrap();
    let s = with_effects(session(dir.path(), 3.0));
    let report = run(
        &s,
        dir.path().join("with-variants"),
        OutputFormat::WAV32F,
        true,
        true,
        EffectsMode::Wet,
    );
    let mut no_vocals = s.clone();
    let vocals = no_vocals.stems[2].id;
    no_vocals.move_tracks(&[TrackId(3)], None, None);
    no_vocals.stems.retain(|st| st.id != vocals);
    no_vocals.variants.clear();
    let reference = run(
        &no_vocals,
        dir.path().join("reference"),
        OutputFormat::WAV32F,
        true,
        false,
        EffectsMode::Wet,
    );
    let instrumental = read_f32(file(&report, "Instrumental"));
    let want = read_f32(file(&reference, "Master"));
    assert_eq!(instrumental.len(), want.len());
    let worst = instrumental
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert_eq!(worst, 0.0, "the variant differs from its reference");
    // The A cappella (vocals soloed) has its own bus too: not the Instrumental's audio.
    assert_ne!(read_f32(file(&report, "A cappella")), instrumental);
}

#[test]
fn the_sheet_says_which_processing_each_file_includes() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_effects(session(dir.path(), 1.0));
    let report = run(
        &s,
        dir.path().join("out"),
        OutputFormat::WAV24,
        true,
        false,
        EffectsMode::Both,
    );
    let json_path = report
        .sheet_files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let sheet: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json_path).unwrap()).unwrap();
    let stems = sheet["stems"].as_array().unwrap();
    let by_name = |name: &str| {
        stems
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(by_name("Drums (Dry)")["processing"]["dry"], true);
    let drums = &by_name("Drums")["processing"]["chains"];
    assert_eq!(drums[0]["on"], "track \"Kick\"");
    assert_eq!(drums[0]["effects"], serde_json::json!(["EQ", "Compressor"]));
    assert_eq!(drums[1]["on"], "master");
    assert_eq!(
        drums[1]["effects"],
        serde_json::json!(["Compressor", "Limiter"])
    );
    let bass = &by_name("Bass")["processing"]["chains"];
    assert_eq!(
        bass[0]["effects"],
        serde_json::json!(["Reverb", "Compressor (bypassed)"])
    );
    // A dry twin has its stem's colour.
    assert_eq!(by_name("Drums (Dry)")["color"], by_name("Drums")["color"]);
    assert_eq!(
        sheet["master"]["processing"]["chains"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(sheet["null_test_dry"]["passed"].as_bool().unwrap());
    // The trim line says the master fader.
    let trim = sheet["trim"]["message"].as_str().unwrap();
    assert!(trim.starts_with("master -1.0 dB"), "{trim}");
    assert!(report.files.iter().any(|f| f.kind == FileKind::Master));
}
