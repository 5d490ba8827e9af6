//! Shared test fixtures: small generated sessions and an offline reference render.
#![allow(dead_code)]

use std::path::Path;
use std::time::{Duration, Instant};

use stemdeck_audio::kernel::{StereoBuf, mix_block};
use stemdeck_audio::stream::TrackStream;
use stemdeck_engine::{Engine, Processor};
use stemdeck_session::routing::MixMode;
use stemdeck_session::{Session, Song, Track, TrackId};

pub const RATE: u32 = 48_000;

/// Write a WAV of `channels` channels from a per-frame function.
pub fn write_wav(
    path: &Path,
    rate: u32,
    channels: u16,
    frames: usize,
    f: impl Fn(usize, usize) -> f32,
) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames {
        for c in 0..channels as usize {
            w.write_sample(f(i, c)).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Drums {kick, hat(stereo)}, Bass {bass}, Vocals {vox, 44.1 kHz}, Instruments {keys}:
/// distinct tones, `seconds` long, each track with its own shape so mistakes show.
pub fn session(dir: &Path, seconds: f32) -> Session {
    let n = (seconds * RATE as f32) as usize;
    let tone = |f: f32, a: f32| {
        move |i: usize, _c: usize| a * (i as f32 * f * std::f32::consts::TAU / RATE as f32).sin()
    };
    write_wav(&dir.join("Kick.wav"), RATE, 1, n, tone(55.0, 0.5));
    write_wav(&dir.join("Hat.wav"), RATE, 2, n, |i, c| {
        0.1 * ((i * (7 + c)) as f32 * 0.9).sin()
    });
    write_wav(&dir.join("Bass.wav"), RATE, 1, n * 9 / 10, tone(110.0, 0.4));
    let n44 = (seconds * 44_100.0) as usize;
    write_wav(&dir.join("Vox.wav"), 44_100, 1, n44, |i, _| {
        0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / 44_100.0).sin()
    });
    write_wav(&dir.join("Keys.wav"), RATE, 2, n, |i, c| {
        0.2 * (i as f32 * (660.0 + 3.0 * c as f32) * std::f32::consts::TAU / RATE as f32).sin()
    });
    let mut s = Session::new(
        RATE,
        Song {
            title: "Engine test".into(),
            ..Song::default()
        },
    );
    for (i, name) in ["Kick", "Hat", "Bass", "Vox", "Keys"].iter().enumerate() {
        s.tracks.push(Track::new(
            TrackId(i as u32 + 1),
            *name,
            dir.join(format!("{name}.wav")),
        ));
    }
    s.tracks[1].pan = -0.3;
    s.tracks[2].gain_db = -3.0;
    s.tracks[4].pan = 0.6;
    for (name, ids) in [
        ("Drums", vec![1, 2]),
        ("Bass", vec![3]),
        ("Vocals", vec![4]),
        ("Instruments", vec![5]),
    ] {
        let id = s.add_stem(name);
        let ids: Vec<TrackId> = ids.into_iter().map(TrackId).collect();
        s.move_tracks(&ids, Some(id), None);
    }
    s
}

/// The offline render of the master (audition rules) as interleaved stereo, from `start`.
pub fn offline(session: &Session, start: u64, frames: usize) -> Vec<f32> {
    let plan = session.mix_plan(MixMode::Audition);
    let mut streams: Vec<TrackStream> = session
        .tracks
        .iter()
        .map(|t| TrackStream::open(&t.path, session.sample_rate).unwrap())
        .collect();
    for s in &mut streams {
        s.seek(start).unwrap();
    }
    let mut inputs: Vec<Vec<Vec<f32>>> = streams
        .iter()
        .map(|s| vec![vec![0.0; frames]; s.channels()])
        .collect();
    for (s, buf) in streams.iter_mut().zip(inputs.iter_mut()) {
        let mut parts: Vec<&mut [f32]> = buf.iter_mut().map(|c| c.as_mut_slice()).collect();
        s.read(&mut parts).unwrap();
    }
    let mut stems = vec![StereoBuf::new(frames); plan.stems.len()];
    let mut master = StereoBuf::new(frames);
    mix_block(&plan, &plan, &inputs, &mut stems, &mut master, frames);
    master
        .left
        .iter()
        .zip(&master.right)
        .flat_map(|(l, r)| [*l, *r])
        .collect()
}

/// An engine whose processor is driven by the test (no device).
pub fn engine(session: &Session) -> (Engine, Processor) {
    let mut e = Engine::new(session);
    let p = e.take_processor().unwrap();
    (e, p)
}

/// Wait until the reader has `frames` queued (it runs on its own thread).
pub fn wait_for(p: &Processor, frames: usize) {
    let t = Instant::now();
    while p.queued() < frames {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "reader too slow: {} queued",
            p.queued()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Run the processor for `frames` stereo frames in callbacks of `block` frames, waiting
/// for the reader before each one so the output is deterministic.
pub fn render(p: &mut Processor, frames: usize, block: usize) -> Vec<f32> {
    let mut out = vec![0.0; frames * 2];
    for chunk in out.chunks_mut(block * 2) {
        let left = p.len().saturating_sub(p.position()) as usize;
        // The reader keeps AHEAD_SECONDS queued, far more than any test block.
        wait_for(p, (chunk.len() / 2).min(left));
        p.process(chunk, 2);
    }
    out
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
