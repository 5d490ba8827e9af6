//! Inputs the fuzzers (fuzz/, scripts/fuzz.sh) found crashing, kept as tests: each must
//! now open, play and resample without a panic. The crashing inputs themselves are in
//! the fuzz seed corpus (fuzz/corpus/audio_open/seed-regress-*).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use stemdeck_audio::decode::Decoder;
use stemdeck_audio::stream::TrackStream;

/// A 32-bit float WAV holding NaN and infinities (fuzz: audio_open, the resampler's FFT
/// panicked on NaN). They decode as silence; the rest of the file is kept.
#[test]
fn float_wav_with_nan_and_infinity_plays_and_resamples() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    let frames = 10_000;
    for i in 0..frames {
        let x = match i % 7 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            _ => 0.25,
        };
        w.write_sample(x).unwrap();
        w.write_sample(-0.5f32).unwrap();
    }
    w.finalize().unwrap();

    let mut dec = Decoder::open(&path).unwrap();
    let mut l = vec![1.0f32; frames];
    let mut r = vec![1.0f32; frames];
    let n = dec.read(&mut [&mut l[..], &mut r[..]]).unwrap();
    assert_eq!(n, frames);
    for (i, x) in l.iter().enumerate() {
        let want = if i % 7 < 3 { 0.0 } else { 0.25 };
        assert_eq!(*x, want, "frame {i}");
    }
    assert!(r.iter().all(|x| *x == -0.5));

    // 44.1 → 48 kHz through the FFT resampler, and after a seek.
    let mut stream = TrackStream::open(&path, 48_000).unwrap();
    let len = stream.len() as usize;
    let mut l = vec![0.0f32; len + 100];
    let mut r = vec![0.0f32; len + 100];
    stream.read(&mut [&mut l[..], &mut r[..]]).unwrap();
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
    stream.seek(len as u64 / 2).unwrap();
    stream.read(&mut [&mut l[..], &mut r[..]]).unwrap();
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
}
