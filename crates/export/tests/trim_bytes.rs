//! The automatic trim writes exactly what it wrote when it rendered the whole session a
//! second time (the design before the float spill): the same bytes in every file and the
//! same measurements (sample peak, true peak, loudness, the null test), for the integer
//! formats, with and without rate conversion, with and without a master and variants.
//! An export that needs no trim, and every float export, writes what it always did: every
//! format of the table is exported here.
//!
//! The hashes below were recorded from the two-pass code (commit 70e4529) on x86-64;
//! `STEMDECK_PRINT_HASHES=1` prints the current ones. The rate-converted cases go
//! through rustfft, which picks its SIMD path at run time: on another kind of CPU those
//! hashes may need recording again from that commit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use stemdeck_export::{
    DeliveryOptions, ExportError, ExportOptions, ExportReport, OutputFormat, Stage, TrimMode,
    export_delivery,
};
use stemdeck_session::{Session, Song, Track, TrackId};

const RATE: u32 = 48_000;

/// FNV-1a, 64-bit: a stable hash (std's hashers may change between Rust versions).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A 24-bit WAV of deterministic content (integers: no float maths that could differ
/// between machines): noise from an LCG plus a triangle wave.
fn write_track(path: &Path, frames: usize, channels: u16, seed: u32, period: i32) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut state = seed;
    for i in 0..frames {
        let phase = (i as i32) % period;
        let tri = (4 * phase - 2 * period).abs() - period; // -period..period
        let tri = tri * (2_000_000 / period);
        for _ in 0..channels {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = ((state >> 8) as i32 - (1 << 23)) / 4;
            w.write_sample(tri + noise).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Drums (a stereo and a mono track), Bass, Vocals, at `stem_gain_db`; a saved
/// "Instrumental" (vocals muted).
fn session(dir: &Path, stem_gain_db: f32) -> Session {
    let frames = 120_000;
    let mut s = Session::new(
        RATE,
        Song {
            title: "Trim".into(),
            ..Song::default()
        },
    );
    for (i, (name, ch, period)) in [
        ("Kick", 2, 800),
        ("Snare", 1, 333),
        ("Bass DI", 2, 436),
        ("Lead Vox", 1, 109),
    ]
    .iter()
    .enumerate()
    {
        let path = dir.join(format!("{name}.wav"));
        if !path.exists() {
            write_track(&path, frames, *ch, i as u32 + 7, *period);
        }
        s.tracks
            .push(Track::new(TrackId(i as u32 + 1), *name, path));
    }
    for (stem, tracks) in [
        ("Drums", vec![1, 2]),
        ("Bass", vec![3]),
        ("Vocals", vec![4]),
    ] {
        let id = s.add_stem(stem);
        let ids: Vec<TrackId> = tracks.into_iter().map(TrackId).collect();
        s.move_tracks(&ids, Some(id), None);
    }
    for st in &mut s.stems {
        st.gain_db = stem_gain_db;
    }
    s.stems[2].mute = true;
    let v = s.capture_variant("Instrumental");
    s.variants.push(v);
    s.stems[2].mute = false;
    s
}

/// Every file's name and bytes, and every measurement the report holds.
fn digest(report: &ExportReport) -> u64 {
    let mut h = Fnv::new();
    h.add(&report.trim.gain_db.to_bits().to_le_bytes());
    h.add(&report.frames.to_le_bytes());
    for f in &report.files {
        h.add(f.path.file_name().unwrap().as_encoded_bytes());
        h.add(&std::fs::read(&f.path).unwrap());
        h.add(&f.peak.to_bits().to_le_bytes());
        h.add(&f.clipped.to_le_bytes());
        h.add(&f.true_peak.to_bits().to_le_bytes());
        h.add(&f.loudness.unwrap_or(0.0).to_bits().to_le_bytes());
    }
    let null = report.null_test.as_ref().unwrap();
    h.add(&null.residual_peak.to_bits().to_le_bytes());
    h.0
}

fn options(
    out: &Path,
    format: OutputFormat,
    rate: Option<u32>,
    full: bool,
) -> (ExportOptions, DeliveryOptions) {
    let mut opts = ExportOptions::new(out.to_path_buf());
    opts.format = format;
    opts.include_master = full;
    opts.force = true;
    let delivery = DeliveryOptions {
        sample_rate: rate,
        variants: full,
        tail_seconds: 0.25,
        sheet: false,
        trim: TrimMode::Auto,
        effects: Default::default(),
    };
    (opts, delivery)
}

/// (format, output rate, master and variants, stem gain dB) -> hash from the two-pass code.
/// wav32f (never trimmed: a float file does not clip) was recorded at 9817654, before the
/// formats became container × sample type.
const RECORDED: &[(OutputFormat, Option<u32>, bool, f32, u64)] = &[
    (OutputFormat::WAV32F, None, true, 12.0, 0xd4b8287e52ba7315),
    (OutputFormat::WAV32F, None, true, -12.0, 0x4c17c3f23f744143),
    (OutputFormat::WAV32F, None, false, 12.0, 0xdc763e1ad2605411),
    (
        OutputFormat::WAV32F,
        Some(44100),
        true,
        12.0,
        0xb04ea42873adb079,
    ),
    (
        OutputFormat::WAV32F,
        Some(44100),
        false,
        12.0,
        0x074b2b535f4fefff,
    ),
    (OutputFormat::WAV16, None, true, 12.0, 0xfe3a8380f9956c5c),
    (OutputFormat::WAV16, None, true, -12.0, 0xd35f81f121a82cc3),
    (OutputFormat::WAV16, None, false, 12.0, 0x72c8e182e02a637c),
    (
        OutputFormat::WAV16,
        Some(44100),
        true,
        12.0,
        0x13f875024606d04a,
    ),
    (
        OutputFormat::WAV16,
        Some(44100),
        false,
        12.0,
        0x9ca3327c7f1bbb77,
    ),
    (OutputFormat::WAV24, None, true, 12.0, 0x22a8581a7477f27d),
    (OutputFormat::WAV24, None, true, -12.0, 0xe5a5881c4e31099b),
    (OutputFormat::WAV24, None, false, 12.0, 0xf3569dc678862f44),
    (
        OutputFormat::WAV24,
        Some(44100),
        true,
        12.0,
        0xaff9e5c3f30c52fd,
    ),
    (
        OutputFormat::WAV24,
        Some(44100),
        false,
        12.0,
        0x60a10bcc281f49d3,
    ),
    (OutputFormat::FLAC16, None, true, 12.0, 0x4040ea2c30177aec),
    (OutputFormat::FLAC16, None, true, -12.0, 0xc4b065088984e786),
    (OutputFormat::FLAC16, None, false, 12.0, 0xa4c8101a453a5dd8),
    (
        OutputFormat::FLAC16,
        Some(44100),
        true,
        12.0,
        0x7bf02617a9b4f884,
    ),
    (
        OutputFormat::FLAC16,
        Some(44100),
        false,
        12.0,
        0x68a8eec838ff589d,
    ),
    (OutputFormat::FLAC24, None, true, 12.0, 0x046bf53112f57636),
    (OutputFormat::FLAC24, None, true, -12.0, 0x6d65d2ab9ae33599),
    (OutputFormat::FLAC24, None, false, 12.0, 0x81308a2fec805a19),
    (
        OutputFormat::FLAC24,
        Some(44100),
        true,
        12.0,
        0x3b0622e4e68c0834,
    ),
    (
        OutputFormat::FLAC24,
        Some(44100),
        false,
        12.0,
        0xb6a6bab2639c6132,
    ),
];

#[test]
fn the_trim_writes_what_the_two_pass_export_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let print = std::env::var_os("STEMDECK_PRINT_HASHES").is_some();
    let mut failures = Vec::new();
    for format in OutputFormat::ALL {
        for rate in [None, Some(44_100)] {
            for full in [true, false] {
                // +12 dB clips every file; -12 dB is the quiet case (no trim).
                for gain in [12.0, -12.0] {
                    if gain < 0.0 && (rate.is_some() || !full) {
                        continue;
                    }
                    let s = session(dir.path(), gain);
                    let out = dir.path().join("out");
                    let (opts, delivery) = options(&out, format, rate, full);
                    let report =
                        export_delivery(&s, &opts, &delivery, &|_| {}, &AtomicBool::new(false))
                            .unwrap();
                    let trimmed = gain > 0.0 && format.is_integer();
                    assert_eq!(report.trim.gain_db != 0.0, trimmed, "{:?}", report.trim);
                    assert!(report.files.iter().all(|f| f.clipped == 0));
                    let got = digest(&report);
                    if print {
                        println!(
                            "    (OutputFormat::{}, {rate:?}, {full}, {gain:.1}, {got:#018x}),",
                            format.id().to_uppercase()
                        );
                    }
                    let want = RECORDED
                        .iter()
                        .find(|r| r.0 == format && r.1 == rate && r.2 == full && r.3 == gain)
                        .map(|r| r.4);
                    if want != Some(got) {
                        failures.push(format!(
                            "{format:?} rate {rate:?} full {full} gain {gain}: {got:#018x}, recorded {want:x?}"
                        ));
                    }
                    std::fs::remove_dir_all(&out).unwrap();
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A cancel while the trimmed files are being written leaves nothing: no file, no
/// temporary file, no spill.
#[test]
fn cancel_while_trimming_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 12.0);
    for (format, rate, full) in [
        (OutputFormat::WAV24, None, true),
        (OutputFormat::FLAC16, Some(44_100), false),
    ] {
        let out = dir.path().join("cancelled");
        let (opts, delivery) = options(&out, format, rate, full);
        let cancel = AtomicBool::new(false);
        let calls = AtomicUsize::new(0);
        let progress = |p: stemdeck_export::Progress| {
            if p.stage == Stage::Trim && calls.fetch_add(1, Ordering::Relaxed) == 2 {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let err = export_delivery(&s, &opts, &delivery, &progress, &cancel).unwrap_err();
        assert!(matches!(err, ExportError::Cancelled), "{err}");
        assert!(
            calls.load(Ordering::Relaxed) >= 3,
            "the trim was never reached"
        );
        assert!(!out.exists(), "left behind: {:?}", std::fs::read_dir(&out));
    }
}
