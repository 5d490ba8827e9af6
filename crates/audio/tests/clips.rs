//! Tracks made of clips, against ffmpeg placing the same pieces: atrim (offset and
//! length), afade (fades), volume (clip gain), adelay (position), summed with amix's
//! arithmetic done here (a plain sum). Sample for sample, read in odd blocks and after
//! a seek.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use stemdeck_audio::stream::TrackStream;
use stemdeck_session::{Clip, Track, TrackId};

const RATE: u32 = 48_000;

fn write_f32(path: &Path, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn signal(len: usize, f: f32, seed: f32) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            0.4 * (t * f * std::f32::consts::TAU + seed).sin() + 0.1 * (t * 3.1 * f).cos()
        })
        .collect()
}

/// One clip placed by ffmpeg, `total` frames long, `channels` channels (a mono file
/// into a stereo track: ffmpeg's pan duplicates it, as Stemdeck does).
fn ffmpeg_clip(
    path: &Path,
    clip: &Clip,
    length: u64,
    total: u64,
    channels: usize,
    mono_source: bool,
) -> Vec<Vec<f32>> {
    let mut af = format!(
        "atrim=start_sample={}:end_sample={},asetpts=N/SR/TB",
        clip.offset,
        clip.offset + length
    );
    if clip.fade_in > 0 {
        af += &format!(",afade=t=in:ss=0:ns={}", clip.fade_in);
    }
    if clip.fade_out > 0 {
        af += &format!(
            ",afade=t=out:ss={}:ns={}",
            length - clip.fade_out,
            clip.fade_out
        );
    }
    af += &format!(
        ",volume=volume={}dB:precision=double,adelay=delays={}S:all=1,apad=whole_len={total}",
        clip.gain_db, clip.position
    );
    if channels == 2 && mono_source {
        af += ",pan=stereo|c0=c0|c1=c0";
    }
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-af", &af, "-f", "f32le", "-acodec", "pcm_f32le", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {af}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut planar = vec![Vec::new(); channels];
    for (i, b) in out.stdout.chunks_exact(4).enumerate() {
        planar[i % channels].push(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    }
    for c in &mut planar {
        c.truncate(total as usize);
    }
    planar
}

fn read_all(stream: &mut TrackStream, from: u64, total: u64, block: usize) -> Vec<Vec<f32>> {
    stream.seek(from).unwrap();
    let ch = stream.channels();
    let mut out = vec![Vec::new(); ch];
    let mut done = from;
    while done < total {
        let n = block.min((total - done) as usize);
        let mut bufs: Vec<Vec<f32>> = vec![vec![0.0; n]; ch];
        let mut slices: Vec<&mut [f32]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        stream.read(&mut slices).unwrap();
        for (o, b) in out.iter_mut().zip(bufs) {
            o.extend(b);
        }
        done += n as u64;
    }
    out
}

#[test]
fn clips_land_where_ffmpeg_places_them() {
    let dir = tempfile::tempdir().unwrap();
    let stereo = dir.path().join("take.wav");
    let mono = dir.path().join("overdub.wav");
    write_f32(
        &stereo,
        &[signal(48_000, 220.0, 0.0), signal(48_000, 330.0, 1.0)],
    );
    write_f32(&mono, &[signal(30_000, 550.0, 2.0)]);

    let clips = vec![
        Clip {
            position: 1_000,
            offset: 500,
            length: Some(20_000),
            fade_in: 300,
            fade_out: 700,
            gain_db: -3.0,
            path: None,
        },
        // Overlapping the first: the two are summed.
        Clip {
            path: Some(mono.clone()),
            position: 15_000,
            offset: 2_000,
            length: Some(10_000),
            fade_out: 10_000,
            ..Clip::default()
        },
        // To the end of the file (no length), late on the timeline.
        Clip {
            position: 40_000,
            offset: 40_000,
            fade_in: 1,
            ..Clip::default()
        },
    ];
    let track = Track {
        clips: clips.clone(),
        ..Track::new(TrackId(1), "Gtr", &stereo)
    };
    let mut stream = TrackStream::for_track(&track, RATE).unwrap();
    assert_eq!(stream.channels(), 2);
    let total = 48_000u64;
    assert_eq!(stream.len(), total);

    let lengths = [20_000, 10_000, 8_000];
    let mut want = vec![vec![0f32; total as usize]; 2];
    for (clip, len) in clips.iter().zip(lengths) {
        let path = clip.path.clone().unwrap_or_else(|| stereo.clone());
        let placed = ffmpeg_clip(&path, clip, len, total, 2, clip.path.is_some());
        for (w, p) in want.iter_mut().zip(&placed) {
            assert_eq!(p.len(), total as usize);
            for (a, b) in w.iter_mut().zip(p) {
                *a += b;
            }
        }
    }

    for (from, block) in [(0, 777), (12_345, 4096), (39_999, 1)] {
        let got = read_all(&mut stream, from, total, block);
        for c in 0..2 {
            for (i, (g, w)) in got[c].iter().zip(&want[c][from as usize..]).enumerate() {
                assert!(
                    (g - w).abs() < 2e-7,
                    "channel {c} frame {}: {g} vs ffmpeg {w} (from {from}, blocks of {block})",
                    from as usize + i
                );
            }
        }
    }
    // Before the first clip and between clips: exact silence.
    let got = read_all(&mut stream, 0, total, 1000);
    assert!(got[0][..1_000].iter().all(|&s| s == 0.0));
    assert!(got[1][25_000..40_000].iter().all(|&s| s == 0.0));
}

#[test]
fn a_whole_file_clip_at_zero_is_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.wav");
    write_f32(&path, &[signal(10_000, 440.0, 0.5)]);
    let plain = Track::new(TrackId(1), "A", &path);
    let spelled = Track {
        clips: vec![Clip::default()],
        ..plain.clone()
    };
    assert!(spelled.whole_file());
    let a = read_all(
        &mut TrackStream::for_track(&plain, RATE).unwrap(),
        0,
        10_000,
        999,
    );
    let b = read_all(
        &mut TrackStream::for_track(&spelled, RATE).unwrap(),
        0,
        10_000,
        999,
    );
    assert_eq!(a, b);
}
