//! The stem-package check in the window, driven with egui_kittest: opening a folder
//! that looks like a stem package offers the check; the check runs on a worker thread
//! and its report (with the misaligned stem named) shows beside the lanes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use stemdeck_ui::{AppOptions, Startup, StemdeckApp};

const RATE: u32 = 48_000;

/// Deterministic broadband "instrument": noise bursts on a beat, so offsets show.
fn instrument(seed: u64, frames: usize) -> Vec<f32> {
    let mut s = seed;
    (0..frames)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            let beat = (i % 12_000) as f32 / 12_000.0;
            noise * 0.3 * (1.0 - beat).powi(3)
        })
        .collect()
}

fn write(path: &Path, x: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for v in x {
        w.write_sample(*v).unwrap();
    }
    w.finalize().unwrap();
}

#[test]
fn opening_a_stem_package_offers_the_check_and_shows_its_report() {
    let scratch = tempfile::tempdir().unwrap();
    // SAFETY: the only test in this process; set before the app reads them.
    unsafe {
        std::env::set_var("STEMDECK_CONFIG_DIR", scratch.path().join("config"));
        std::env::set_var("STEMDECK_CACHE_DIR", scratch.path().join("cache"));
    }
    let dir = scratch.path().join("Night Drive stems");
    std::fs::create_dir_all(&dir).unwrap();
    let frames = 2 * RATE as usize;
    let stems: Vec<(&str, Vec<f32>)> = ["Drums", "Bass", "Vocals", "Keys"]
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, instrument(i as u64 + 1, frames)))
        .collect();
    let mut mix = vec![0.0f32; frames];
    for (_, x) in &stems {
        for (m, v) in mix.iter_mut().zip(x) {
            *m += v;
        }
    }
    write(&dir.join("Mix.wav"), &mix);
    for (name, x) in &stems {
        let mut x = x.clone();
        if *name == "Vocals" {
            // 480 samples (10 ms) late, same length.
            x.splice(0..0, std::iter::repeat_n(0.0, 480));
            x.truncate(frames);
        }
        write(&dir.join(format!("{name}.wav")), &x);
    }

    let app = StemdeckApp::new(AppOptions {
        audio: false,
        startup: Startup::Open(vec![dir.clone()]),
        demo: None,
        open_requests: None,
    });
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(12)
        .build_ui_state(|ui, app: &mut StemdeckApp| app.ui(ui), app);
    h.run_steps(2);
    assert_eq!(h.state().check_offered(), Some(dir.as_path()));
    h.get_by_label_contains("looks like a stem package");
    h.get_by_label("Check stem package").click();
    // The click returns at once: the check runs on a worker thread.
    h.run_steps(2);
    h.state_mut().wait_for_check();
    h.run_steps(3);
    let report = h.state().check_report().expect("a report");
    assert!(!report.usable);
    assert_eq!(
        report.failing_files(),
        vec!["Vocals.wav"],
        "{}",
        report.text()
    );
    // The panel shows the verdict and the problem, naming the file.
    h.get_by_label_contains("NOT usable: Vocals.wav");
    h.get_by_label_contains("Vocals.wav: misaligned: 480 samples (10.00 ms) late");
    h.get_by_label("Repair…");
    // The offer is gone once the report is there.
    assert!(h.state().check_offered().is_none());
    assert!(h.query_by_label("Check stem package").is_none());
}
