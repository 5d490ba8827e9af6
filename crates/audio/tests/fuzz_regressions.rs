//! What the fuzzers (fuzz/, scripts/fuzz.sh) found, kept as tests: each input must now
//! open, play and resample without a panic. The crashing inputs themselves are in the
//! fuzz seed corpus (fuzz/corpus/audio_open/seed-regress-*).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use stemdeck_audio::decode::{Decoder, MAX_SAMPLE};
use stemdeck_audio::stream::TrackStream;

/// A 32-bit float WAV holding NaN, infinities and huge values (fuzz: audio_open, the
/// resampler's FFT panicked on NaN, which huge values overflow to). NaN and infinity
/// decode as silence, huge values at `MAX_SAMPLE`; the rest of the file is kept.
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
            3 => 3.0e38,
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
        let want = match i % 7 {
            0..=2 => 0.0,
            3 => MAX_SAMPLE,
            _ => 0.25,
        };
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

/// A header with a nonsense sample rate (resampling 1 Hz to 48 kHz would ask rubato for
/// a multi-million-point FFT per channel; 1 GHz, for gigabytes; such headers are what the
/// audio_open fuzzer makes all day): the file opens, but playing it at the session rate
/// is refused with a message naming it.
#[test]
fn nonsense_sample_rates_are_refused_not_resampled() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [1u32, 999, 768_001, 1_000_000_000] {
        let path = dir.path().join(format!("rate_{rate}.wav"));
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..100 {
            w.write_sample(i as i16).unwrap();
        }
        w.finalize().unwrap();
        let Ok(dec) = Decoder::open(&path) else {
            continue; // refused already when opened: fine too
        };
        assert_eq!(dec.info().sample_rate, rate);
        let msg = TrackStream::open(&path, 48_000).err().unwrap().to_string();
        assert!(
            msg.contains(&*path.to_string_lossy()) && msg.contains("sample rates from"),
            "{msg}"
        );
    }
    // The extremes of real files still convert.
    for rate in [8_000u32, 384_000] {
        let path = dir.path().join(format!("ok_{rate}.wav"));
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for i in 0..1000 {
            w.write_sample(i as i16).unwrap();
        }
        w.finalize().unwrap();
        let s = TrackStream::open(&path, 48_000).unwrap();
        assert_eq!(s.len(), (1000u64 * 48_000).div_ceil(u64::from(rate)));
    }
}

/// Every input the audio fuzzer found crashing or hanging (fuzz/corpus/audio_open/
/// seed-regress-*: the first byte picks the extension, as in fuzz_targets/audio_open.rs):
/// opened, read to the end, sought (where the fuzz target seeks: the control byte's high
/// bits) and resampled in well under a second each, or refused with a message naming the
/// file. Dropping a new find into the corpus adds it here.
#[test]
fn every_fuzz_find_opens_or_is_refused_quickly() {
    const EXTENSIONS: [&str; 6] = ["wav", "flac", "mp3", "ogg", "m4a", "aiff"];
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/audio_open");
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("seed-") {
            continue;
        }
        let data = std::fs::read(entry.path()).unwrap();
        let Some((&control, bytes)) = data.split_first() else {
            continue;
        };
        let ext = EXTENSIONS[usize::from(control) % EXTENSIONS.len()];
        let path = dir.path().join(format!("{name}.{ext}"));
        std::fs::write(&path, bytes).unwrap();
        let started = std::time::Instant::now();
        let named = |e: stemdeck_audio::AudioError| {
            let msg = e.to_string();
            assert!(msg.contains(&*path.to_string_lossy()), "{name}: {msg}");
        };
        // The decoder at the file's rate, read, then sought as the fuzz target does
        // (seed-regress-mp3-seek-zero-duration: symphonia's MP3 seek divided by zero).
        match Decoder::open(&path) {
            Err(e) => named(e),
            Ok(mut dec) => {
                let mut l = vec![0.0f32; 4096];
                let mut r = vec![0.0f32; 4096];
                let mut out: Vec<&mut [f32]> = vec![&mut l[..], &mut r[..]];
                out.truncate(dec.info().channels);
                match dec.read(&mut out) {
                    Err(e) => named(e),
                    Ok(_) => {
                        let to = dec.info().frames / 8 * u64::from(control >> 5);
                        match dec.seek(to) {
                            Err(e) => named(e),
                            Ok(()) => {
                                if let Err(e) = dec.read(&mut out) {
                                    named(e);
                                }
                            }
                        }
                    }
                }
            }
        }
        match TrackStream::open(&path, 48_000) {
            Err(e) => named(e),
            Ok(mut s) => {
                let mut l = vec![0.0f32; 4096];
                let mut r = vec![0.0f32; 4096];
                let mut left = s.len().min(1 << 20);
                while left > 0 {
                    let mut out: Vec<&mut [f32]> = vec![&mut l[..], &mut r[..]];
                    out.truncate(s.channels());
                    if let Err(e) = s.read(&mut out) {
                        named(e);
                        break;
                    }
                    assert!(l.iter().chain(&r).all(|x| x.is_finite()), "{name}");
                    left = left.saturating_sub(4096);
                }
                let to = s.len() / 4 * u64::from(control >> 6);
                match s.seek(to) {
                    Err(e) => named(e),
                    Ok(()) => {
                        let mut out: Vec<&mut [f32]> = vec![&mut l[..], &mut r[..]];
                        out.truncate(s.channels());
                        if let Err(e) = s.read(&mut out) {
                            named(e);
                        }
                    }
                }
            }
        }
        let took = started.elapsed();
        assert!(took.as_secs_f64() < 5.0, "{name}: {took:?}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} corpus files");
}
