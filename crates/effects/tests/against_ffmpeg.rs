//! Each EQ band against ffmpeg's filter of the same name and settings (the RBJ cookbook
//! as ffmpeg implements it, in double precision): the difference is float rounding.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use stemdeck_effects::eq::Equalizer;
use stemdeck_session::effects::{BandShape, EqBand};

const RATE: u32 = 48_000;

/// Two seconds of stereo noise plus a sweep, reproducible.
fn source() -> (Vec<f32>, Vec<f32>) {
    let n = RATE as usize * 2;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut l = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / f64::from(RATE);
        let sweep = (std::f64::consts::TAU * (20.0 * t + 2_000.0 * t * t)).sin() as f32;
        l.push(0.4 * noise() + 0.3 * sweep);
        r.push(0.4 * noise() - 0.3 * sweep);
    }
    (l, r)
}

fn write_wav(path: &Path, l: &[f32], r: &[f32]) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (a, b) in l.iter().zip(r) {
        w.write_sample(*a).unwrap();
        w.write_sample(*b).unwrap();
    }
    w.finalize().unwrap();
}

fn ffmpeg(input: &Path, filter: &str, output: &Path) -> (Vec<f32>, Vec<f32>) {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(input)
        .args(["-af", filter, "-c:a", "pcm_f32le"])
        .arg(output)
        .status()
        .expect("ffmpeg is needed for this test (scripts/setup.sh installs it)");
    assert!(status.success(), "ffmpeg failed on {filter}");
    let mut reader = hound::WavReader::open(output).unwrap();
    let s: Vec<f32> = reader.samples::<f32>().map(|s| s.unwrap()).collect();
    (
        s.iter().step_by(2).copied().collect(),
        s.iter().skip(1).step_by(2).copied().collect(),
    )
}

fn residual_db(ours: &[f32], theirs: &[f32]) -> f64 {
    assert_eq!(ours.len(), theirs.len());
    let diff = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .fold(0.0, f64::max);
    20.0 * diff.max(1e-300).log10()
}

#[test]
fn every_band_shape_nulls_against_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let (l, r) = source();
    write_wav(&input, &l, &r);
    let cases = [
        (
            BandShape::Highpass,
            120.0,
            0.0,
            0.707,
            "highpass=f=120:p=2:t=q:w=0.707",
        ),
        (
            BandShape::Lowpass,
            4_500.0,
            0.0,
            1.3,
            "lowpass=f=4500:p=2:t=q:w=1.3",
        ),
        (
            BandShape::Peak,
            1_000.0,
            -7.5,
            1.4,
            "equalizer=f=1000:t=q:w=1.4:g=-7.5",
        ),
        (
            BandShape::Peak,
            3_150.0,
            6.0,
            0.5,
            "equalizer=f=3150:t=q:w=0.5:g=6",
        ),
        (
            BandShape::Lowshelf,
            200.0,
            4.0,
            0.707,
            "lowshelf=f=200:t=q:w=0.707:g=4",
        ),
        (
            BandShape::Highshelf,
            6_000.0,
            -3.0,
            0.9,
            "highshelf=f=6000:t=q:w=0.9:g=-3",
        ),
    ];
    for (i, (shape, freq_hz, gain_db, q, filter)) in cases.into_iter().enumerate() {
        let band = EqBand {
            shape,
            freq_hz,
            gain_db,
            q,
        };
        let mut eq = Equalizer::new(&[band], f64::from(RATE));
        let (mut ol, mut or) = (l.clone(), r.clone());
        // In uneven blocks, as the engine calls it.
        let mut at = 0;
        for len in [1, 511, 4096, 333].iter().cycle() {
            if at >= ol.len() {
                break;
            }
            let end = (at + len).min(ol.len());
            eq.process(&mut ol[at..end], &mut or[at..end]);
            at = end;
        }
        let out = dir.path().join(format!("out{i}.wav"));
        let (fl, fr) = ffmpeg(&input, &format!("{filter}:r=f64"), &out);
        let worst = residual_db(&ol, &fl).max(residual_db(&or, &fr));
        assert!(worst < -120.0, "{filter}: residual {worst:.1} dBFS");
    }
}
