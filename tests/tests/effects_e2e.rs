//! End to end, effects in `stemdeck export`: a stem's EQ against ffmpeg's filters on the
//! dry stem, and a master limiter whose ceiling holds on every wet file while the wet
//! stems still sum to the master.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::json;
use stemdeck_e2e::*;

const RATE: u32 = 48_000;

/// A session file with one stem per track (`tracks`: name, file), the given effects on
/// the tracks, stems and master, written beside the tracks.
fn write_session(
    dir: &Path,
    tracks: &[(&str, &str)],
    track_fx: serde_json::Value,
    stem_fx: serde_json::Value,
    master: serde_json::Value,
) -> std::path::PathBuf {
    let tracks_json: Vec<_> = tracks
        .iter()
        .enumerate()
        .map(|(i, (name, file))| {
            json!({"id": i + 1, "name": name, "path": file, "effects": track_fx[i].clone()})
        })
        .collect();
    let stems_json: Vec<_> = tracks
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            json!({"id": i + 1, "name": name, "color": "#3E63DD", "tracks": [i + 1],
                   "effects": stem_fx[i].clone()})
        })
        .collect();
    let session = json!({
        "format": "stemdeck-session", "version": 2, "sample_rate": RATE,
        "song": {"title": "FX"},
        "tracks": tracks_json, "stems": stems_json, "master": master,
    });
    let path = dir.join("fx.stemdeck.json");
    std::fs::write(&path, serde_json::to_string_pretty(&session).unwrap()).unwrap();
    path
}

/// Noise-like material: a sum of tones at unrelated frequencies, so every band has work.
fn material(frames: usize, seed: f64, amp: f64) -> Vec<f32> {
    let mut x = vec![0.0f32; frames];
    for (k, f) in [97.0, 431.0, 1013.0, 2351.0, 5003.0, 9011.0, 13007.0]
        .iter()
        .enumerate()
    {
        add(
            &mut x,
            &sine(
                frames,
                RATE,
                f * (1.0 + seed * 0.01),
                amp / 7.0,
                k as f64 + seed,
            ),
        );
    }
    x
}

#[test]
fn a_stem_eq_nulls_against_ffmpeg_on_the_dry_stem() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 3 * RATE as usize;
    let (l, r) = (material(frames, 0.0, 0.5), material(frames, 1.0, 0.5));
    write_wav_f32(&dir.path().join("Keys.wav"), RATE, &[l, r]);
    let eq = json!([{"type": "eq", "bypass": false, "bands": [
        {"shape": "peak", "freq_hz": 1000, "gain_db": -6, "q": 1.4},
        {"shape": "highshelf", "freq_hz": 6000, "gain_db": 3, "q": 0.8}]}]);
    let session = write_session(
        dir.path(),
        &[("Keys", "Keys.wav")],
        json!([[]]),
        json!([eq]),
        json!({"gain_db": 0, "effects": []}),
    );
    let out = dir.path().join("out");
    let stdout = run_ok(
        stemdeck()
            .arg("export")
            .arg(&session)
            .args(["--format", "wav32f", "--effects", "both", "--out"])
            .arg(&out),
    );
    assert!(stdout.contains("Null test (dry)"), "{stdout}");
    let wet = read_wav(&out.join("01 FX - Keys.wav"));
    let dry_path = out.join("01 FX - Keys (Dry).wav");
    let dry = read_wav(&dry_path);
    assert_eq!(wet.frames(), dry.frames());
    // The same two bands as ffmpeg filters (the syntax crates/effects/tests checks).
    let theirs = ffmpeg_decode(
        &dry_path,
        2,
        Some("equalizer=f=1000:t=q:w=1.4:g=-6,highshelf=f=6000:t=q:w=0.8:g=3"),
    );
    for (c, theirs) in theirs.iter().enumerate() {
        let residual = peak(&diff(&wet.channels[c], theirs));
        assert!(
            dbfs(residual) < -90.0,
            "channel {c}: {:.1} dBFS against ffmpeg",
            dbfs(residual)
        );
        // And the EQ did something audible.
        assert!(dbfs(peak(&diff(&wet.channels[c], &dry.channels[c]))) > -30.0);
    }
    // The sheet says which processing each file includes.
    let sheet: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("FX - Song Info.json")).unwrap())
            .unwrap();
    let stems = sheet["stems"].as_array().unwrap();
    assert_eq!(stems[0]["processing"]["chains"][0]["on"], "stem \"Keys\"");
    assert_eq!(stems[1]["processing"]["dry"], true);
}

#[test]
fn a_master_limiter_holds_its_ceiling_on_every_wet_file_and_the_stems_still_sum() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 3 * RATE as usize;
    // Three loud stems in phase: their sum is far over the ceiling, and one of them
    // (Drums, with clicks) is over it on its own.
    let mut drums = sine(frames, RATE, 110.0, 0.5, 0.0);
    for k in 0..6 {
        add_click(&mut drums, 10_000 + k * 20_000, 0.45);
    }
    let bass = sine(frames, RATE, 110.0, 0.35, 0.0);
    let keys = sine(frames, RATE, 220.0, 0.3, 0.0);
    for (name, x) in [("Drums", &drums), ("Bass", &bass), ("Keys", &keys)] {
        write_wav_f32(
            &dir.path().join(format!("{name}.wav")),
            RATE,
            &[x.clone(), x.clone()],
        );
    }
    let session = write_session(
        dir.path(),
        &[
            ("Drums", "Drums.wav"),
            ("Bass", "Bass.wav"),
            ("Keys", "Keys.wav"),
        ],
        json!([[{"type": "compressor", "bypass": false, "threshold_db": -12, "ratio": 3,
                  "knee_db": 6, "attack_ms": 5, "release_ms": 80, "makeup_db": 0}], [], []]),
        json!([[], [{"type": "reverb", "bypass": false, "decay_s": 1.2, "predelay_ms": 10,
                     "damping": 0.5, "mix": 0.2}], []]),
        json!({"gain_db": -0.5, "effects": [
            {"type": "compressor", "bypass": false, "threshold_db": -10, "ratio": 2,
             "knee_db": 6, "attack_ms": 20, "release_ms": 150, "makeup_db": 0},
            {"type": "limiter", "bypass": false, "ceiling_db": -2, "release_ms": 60,
             "lookahead_ms": 5}]}),
    );
    let out = dir.path().join("out");
    let stdout = run_ok(
        stemdeck()
            .arg("export")
            .arg(&session)
            .args([
                "--format",
                "wav32f",
                "--master",
                "--effects",
                "both",
                "--tail",
                "1",
                "--out",
            ])
            .arg(&out),
    );
    assert!(stdout.contains("processed master"), "{stdout}");
    let ceiling = 10f64.powf(-2.0 / 20.0) + 1e-6;
    let wet_names = ["01 FX - Drums.wav", "02 FX - Bass.wav", "03 FX - Keys.wav"];
    let wet: Vec<Wav> = wet_names.iter().map(|n| read_wav(&out.join(n))).collect();
    let master = read_wav(&out.join("00 FX - Master.wav"));
    let named = wet_names
        .iter()
        .copied()
        .zip(&wet)
        .chain([("master", &master)]);
    for (name, w) in named {
        for c in &w.channels {
            assert!(peak(c) <= ceiling, "{name}: {:.2} dBFS", dbfs(peak(c)));
        }
    }
    let dry_drums = read_wav(&out.join("01 FX - Drums (Dry).wav"));
    assert!(
        dbfs(peak(&dry_drums.channels[0])) > -2.0 + 0.5,
        "the dry drums are over the ceiling: not limited"
    );
    for c in 0..2 {
        let mut sum = vec![0.0f32; master.frames()];
        for w in &wet {
            add(&mut sum, &w.channels[c]);
        }
        let residual = peak(&diff(&sum, &master.channels[c]));
        assert!(
            dbfs(residual) < -120.0,
            "wet stems vs master: {:.1} dBFS",
            dbfs(residual)
        );
    }
    // The reverb rings on into the tail (not cut at the song's end).
    let bass = &wet[1].channels[0];
    let tail = &bass[frames + RATE as usize / 10..frames + RATE as usize / 2];
    assert!(dbfs(peak(tail)) > -80.0, "the reverb tail was cut");
}
