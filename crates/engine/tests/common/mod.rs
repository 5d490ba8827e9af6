//! Shared test fixtures: small generated sessions and an offline reference render.
#![allow(dead_code)]
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use stemdeck_audio::kernel::{StereoBuf, mix_block_with};
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

/// The offline render of the master (audition rules) as interleaved stereo, from `start`,
/// done the way the wet export does it: the kernel with the track and stem chains
/// (`MixInserts`), then the master bus, in blocks; the effects' latency is rendered on
/// and dropped at the start, so frame 0 is the frame at `start`. Without effects this is
/// the plain kernel mix, bit for bit.
pub fn offline(session: &Session, start: u64, frames: usize) -> Vec<f32> {
    offline_in_blocks(session, start, frames, 1024)
}

pub fn offline_in_blocks(session: &Session, start: u64, frames: usize, block: usize) -> Vec<f32> {
    let plan = session.mix_plan(MixMode::Audition);
    let mut inserts =
        stemdeck_effects::MixInserts::for_session(session, &plan, session.sample_rate, block)
            .unwrap();
    let mut bus =
        stemdeck_effects::MasterBus::new(&session.master, plan.stems.len(), session.sample_rate)
            .unwrap();
    let latency = inserts.latency() + bus.latency();
    let total = frames + latency;
    let mut streams: Vec<TrackStream> = session
        .tracks
        .iter()
        .map(|t| TrackStream::for_track(t, session.sample_rate).unwrap())
        .collect();
    for s in &mut streams {
        s.seek(start).unwrap();
    }
    let mut inputs: Vec<Vec<Vec<f32>>> = streams
        .iter()
        .map(|s| vec![vec![0.0; block]; s.channels()])
        .collect();
    let mut stems = vec![StereoBuf::new(block); plan.stems.len()];
    let mut master = StereoBuf::new(block);
    let mut out = Vec::with_capacity(total * 2);
    let mut done = 0;
    while done < total {
        let n = block.min(total - done);
        for (s, buf) in streams.iter_mut().zip(inputs.iter_mut()) {
            let mut parts: Vec<&mut [f32]> = buf.iter_mut().map(|c| &mut c[..n]).collect();
            s.read(&mut parts).unwrap();
        }
        mix_block_with(
            &plan,
            &plan,
            &inputs,
            &mut stems,
            &mut master,
            n,
            &mut inserts,
        );
        bus.process(&mut stems, &mut master, n);
        out.extend(
            master.left[..n]
                .iter()
                .zip(&master.right[..n])
                .flat_map(|(l, r)| [*l, *r]),
        );
        done += n;
    }
    out.drain(..latency * 2);
    out
}

/// An engine whose processor is driven by the test (no device).
pub fn engine(session: &Session) -> (Engine, Processor) {
    let mut e = Engine::new(session);
    let p = e.take_processor().unwrap();
    (e, p)
}

/// Send `session` to the engine until its clip edits are all with the reader and carried
/// out (edits go at most every CLIP_EDIT_INTERVAL).
pub fn follow(e: &mut Engine, session: &Session) {
    let t = Instant::now();
    loop {
        e.set_mix(session);
        if !e.clip_edits_waiting(session) {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "clip edit never done"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
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
        // The reader keeps AHEAD_SECONDS queued, far more than any test block.
        wait_for(p, p.frames_needed(chunk.len() / 2));
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

/// Effects everywhere on [`session`]: EQ, compressor, delay and a limiter on tracks (so
/// track chains have latency to compensate), a compressor, reverb and limiter on stems,
/// and EQ, compressor and limiter on the master with its fader at -1.5 dB. Thresholds
/// low enough that every compressor and limiter works on these tones.
pub fn with_effects(s: &mut Session) {
    use stemdeck_session::effects::{
        BandShape, Compressor, Delay, Effect, EffectKind, Eq, EqBand, Limiter, Reverb,
    };
    let eq = |bands: &[(BandShape, f32, f32)]| {
        Effect::new(EffectKind::Eq(Eq {
            bands: bands
                .iter()
                .map(|(shape, freq_hz, gain_db)| EqBand {
                    shape: *shape,
                    freq_hz: *freq_hz,
                    gain_db: *gain_db,
                    q: 0.9,
                })
                .collect(),
        }))
    };
    let comp = |threshold_db: f32| {
        Effect::new(EffectKind::Compressor(Compressor {
            threshold_db,
            ratio: 4.0,
            attack_ms: 3.0,
            release_ms: 60.0,
            makeup_db: 2.0,
            ..Compressor::default()
        }))
    };
    let limiter = |ceiling_db: f32, lookahead_ms: f32| {
        Effect::new(EffectKind::Limiter(Limiter {
            ceiling_db,
            release_ms: 50.0,
            lookahead_ms,
        }))
    };
    s.tracks[0].effects = vec![
        eq(&[
            (BandShape::Highpass, 30.0, 0.0),
            (BandShape::Peak, 60.0, 4.0),
        ]),
        comp(-16.0),
    ];
    s.tracks[1].effects = vec![Effect::new(EffectKind::Delay(Delay {
        time_ms: 40.0,
        feedback: 0.4,
        mix: 0.3,
    }))];
    s.tracks[2].effects = vec![comp(-20.0)];
    s.tracks[4].effects = vec![
        eq(&[(BandShape::Highshelf, 4000.0, -3.0)]),
        limiter(-12.0, 2.0),
    ];
    s.stems[0].effects = vec![comp(-18.0)];
    s.stems[2].effects = vec![Effect::new(EffectKind::Reverb(Reverb {
        decay_s: 0.8,
        predelay_ms: 10.0,
        damping: 0.4,
        mix: 0.3,
    }))];
    s.stems[3].effects = vec![limiter(-10.0, 1.0)];
    s.master.gain_db = -1.5;
    s.master.effects = vec![
        eq(&[(BandShape::Lowshelf, 120.0, 2.0)]),
        comp(-14.0),
        limiter(-3.0, 4.0),
    ];
}
