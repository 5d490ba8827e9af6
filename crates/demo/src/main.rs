//! `make-demo`: synthesize Stemdeck's demo session, "Neon Harbour", into `assets/demo/`.
//!
//! Every sound is generated here (drum synthesis, an additive plucked bass, an FM electric
//! piano, a saw pad, a formant-filter singing voice): no samples, no recordings. The
//! output is the same bytes on every run: fixed seeds, no dither, no time stamps.
//!
//! ```text
//! cargo run --release -p stemdeck_demo                  # writes assets/demo/
//! cargo run --release -p stemdeck_demo -- OUT_DIR --mix mix.wav
//! ```

mod dsp;
mod song;
mod tempo;
mod voice;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use stemdeck_session::grouping::{self, Role};
use stemdeck_session::{Session, Song, Track, TrackId};

use crate::dsp::SR;
use crate::song::{PARTS, Part};

/// The file the app opens: the session, beside its tracks.
const SESSION_FILE: &str = "demo.stemdeck.json";
/// Where the full mix peaks (dBFS) after the common scaling.
const MIX_PEAK_DB: f64 = -3.0;
/// No single track may peak above this (dBFS).
const TRACK_PEAK_LIMIT_DB: f64 = -1.0;

struct Args {
    out_dir: PathBuf,
    mix: Option<PathBuf>,
}

fn usage() -> String {
    "usage: make-demo [OUT_DIR] [--mix MIX.wav]\n\
     Writes the demo multitrack (FLAC), demo.stemdeck.json into OUT_DIR \
     (default: the workspace's assets/demo). --mix also writes the stereo mix as a WAV."
        .to_owned()
}

fn parse_args() -> anyhow::Result<Option<Args>> {
    let mut out_dir = None;
    let mut mix = None;
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("-h" | "--help") => {
                println!("{}", usage());
                return Ok(None);
            }
            Some("--mix") => {
                let Some(path) = args.next() else {
                    bail!("--mix needs a file name\n{}", usage());
                };
                mix = Some(PathBuf::from(path));
            }
            Some(s) if s.starts_with('-') => bail!("unknown option {s}\n{}", usage()),
            _ if out_dir.is_none() => out_dir = Some(PathBuf::from(a)),
            _ => bail!("only one output folder, please\n{}", usage()),
        }
    }
    let out_dir =
        out_dir.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo"));
    Ok(Some(Args { out_dir, mix }))
}

/// A rendered track: one or two channels of float samples.
struct Rendered<'a> {
    part: &'a Part,
    channels: Vec<Vec<f64>>,
}

fn stem_name(role: Role) -> &'static str {
    role.stem_name()
}

/// The gains of a track in the stereo mix, as Stemdeck applies them (docs/mixing.md):
/// constant-power pan for mono, balance for stereo.
fn pan_gains(channels: usize, pan: f32) -> [f64; 2] {
    let pan = f64::from(pan);
    if channels == 1 {
        let theta = (pan + 1.0) * std::f64::consts::FRAC_PI_4;
        [
            std::f64::consts::SQRT_2 * theta.cos(),
            std::f64::consts::SQRT_2 * theta.sin(),
        ]
    } else {
        [(1.0 - pan).min(1.0), (1.0 + pan).min(1.0)]
    }
}

/// The stereo sum of the tracks, panned.
fn mix(tracks: &[(Vec<Vec<f64>>, f32)], len: usize) -> [Vec<f64>; 2] {
    let mut out = [vec![0.0; len], vec![0.0; len]];
    for (channels, pan) in tracks {
        let g = pan_gains(channels.len(), *pan);
        for (side, out_side) in out.iter_mut().enumerate() {
            let src = &channels[side.min(channels.len() - 1)];
            for (y, x) in out_side.iter_mut().zip(src) {
                *y += g[side] * x;
            }
        }
    }
    out
}

fn peak(channels: &[Vec<f64>]) -> f64 {
    channels
        .iter()
        .flatten()
        .fold(0.0_f64, |m, x| m.max(x.abs()))
}

/// How loud a track is while it plays: the RMS over the ~93 ms windows that are within
/// 20 dB of its loudest window (so rests and reverb tails do not count).
fn loudness(channels: &[Vec<f64>]) -> f64 {
    const WINDOW: usize = 4096;
    let len = channels.first().map_or(0, Vec::len);
    let powers: Vec<f64> = (0..len)
        .step_by(WINDOW)
        .map(|start| {
            let end = (start + WINDOW).min(len);
            let sum: f64 = channels
                .iter()
                .flat_map(|c| &c[start..end])
                .map(|x| x * x)
                .sum();
            sum / ((end - start) * channels.len()) as f64
        })
        .collect();
    let loudest = powers.iter().fold(0.0_f64, |m, &p| m.max(p));
    let playing: Vec<f64> = powers.into_iter().filter(|&p| p > loudest * 0.01).collect();
    if playing.is_empty() {
        0.0
    } else {
        (playing.iter().sum::<f64>() / playing.len() as f64).sqrt()
    }
}

fn dbfs(x: f64) -> String {
    if x <= 0.0 {
        "-inf".to_owned()
    } else {
        format!("{:.1}", stemdeck_session::units::amplitude_to_db_f64(x))
    }
}

/// 16-bit samples: round to nearest, no dither (dither would make silence noisy and the
/// files bigger; the synthesis is smooth enough without it).
fn quantize(x: f64) -> i32 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i32
}

fn encode_flac(channels: &[Vec<i32>]) -> anyhow::Result<Vec<u8>> {
    use flacenc::component::BitRepr as _;
    use flacenc::error::Verify as _;

    let frames = channels.first().map_or(0, Vec::len);
    let mut interleaved = Vec::with_capacity(frames * channels.len());
    for i in 0..frames {
        interleaved.extend(channels.iter().map(|c| c[i]));
    }
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| anyhow::anyhow!("FLAC encoder configuration: {e}"))?;
    let source =
        flacenc::source::MemSource::from_samples(&interleaved, channels.len(), 16, SR as usize);
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| anyhow::anyhow!("FLAC encoding failed: {e}"))?;
    // flacenc counts the short last block in STREAMINFO's minimum block size; the FLAC
    // spec excludes it for a fixed-block-size stream, and libFLAC (sox) cannot seek in a
    // file whose minimum and maximum differ. Say what the stream is: fixed-size blocks.
    stream
        .stream_info_mut()
        .set_block_sizes(config.block_size, config.block_size)
        .map_err(|e| anyhow::anyhow!("FLAC stream info: {e}"))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| anyhow::anyhow!("FLAC encoding failed: {e}"))?;
    Ok(sink.as_slice().to_vec())
}

/// The session file: every track, grouped into the stems its name says, with pans.
fn build_session(out_dir: &Path) -> anyhow::Result<Session> {
    let mut session = Session::new(
        SR as u32,
        Song {
            title: song::TITLE.to_owned(),
            artist: "Stemdeck Demo".to_owned(),
            bpm: Some(song::BPM),
            key: song::KEY.to_owned(),
            notes: "An original song, synthesized from scratch (no samples) by \
                    `cargo run --release -p stemdeck_demo` (crates/demo). Free to use."
                .to_owned(),
        },
    );
    for (i, part) in PARTS.iter().enumerate() {
        let id = TrackId(u32::try_from(i + 1)?);
        session.tracks.push(Track {
            pan: part.pan,
            ..Track::new(id, part.name, out_dir.join(format!("{}.flac", part.name)))
        });
    }
    for role in Role::ALL {
        let members: Vec<TrackId> = PARTS
            .iter()
            .zip(&session.tracks)
            .filter(|(p, _)| p.role == role)
            .map(|(_, t)| t.id)
            .collect();
        if members.is_empty() {
            continue;
        }
        let stem = session.add_stem(stem_name(role));
        if let Some(s) = session.stem_mut(stem) {
            s.color = role.color().to_owned();
        }
        session.move_tracks(&members, Some(stem), None);
    }
    session
        .check()
        .map_err(|e| anyhow::anyhow!("the demo session is invalid: {e}"))?;
    Ok(session)
}

fn run(args: &Args) -> anyhow::Result<()> {
    // The names must sort themselves: the demo shows off auto-grouping.
    for part in &PARTS {
        let got = grouping::classify(part.name);
        if got != Some(part.role) {
            bail!(
                "\"{}\" would be auto-grouped into {:?}, not {}",
                part.name,
                got.map(Role::stem_name),
                part.role.stem_name()
            );
        }
    }

    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("{}: cannot create the folder", args.out_dir.display()))?;
    let out_dir = std::fs::canonicalize(&args.out_dir)
        .with_context(|| format!("{}: cannot open the folder", args.out_dir.display()))?;

    eprintln!("Synthesizing {} tracks…", PARTS.len());
    let rendered: Vec<Rendered> = std::thread::scope(|s| {
        let jobs: Vec<_> = PARTS
            .iter()
            .map(|part| {
                s.spawn(move || Rendered {
                    part,
                    channels: (part.render)(),
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join()
                    .map_err(|_| anyhow::anyhow!("a synthesis thread panicked"))
            })
            .collect::<anyhow::Result<_>>()
    })?;
    let len = song::len();

    // Level each track to its loudness, then scale them all alike so the mix peaks at
    // MIX_PEAK_DB.
    let leveled: Vec<(Vec<Vec<f64>>, f32)> = rendered
        .iter()
        .map(|r| {
            let rms = loudness(&r.channels);
            let g = if rms > 0.0 {
                dsp::db(r.part.level_db) / rms
            } else {
                0.0
            };
            let ch = r
                .channels
                .iter()
                .map(|c| c.iter().map(|x| x * g).collect())
                .collect();
            (ch, r.part.pan)
        })
        .collect();
    let sum = mix(&leveled, len);
    let scale = dsp::db(MIX_PEAK_DB) / peak(&sum);
    // Fade everything over the last second so nothing stops abruptly.
    let fade_from = len - SR as usize;
    let tracks: Vec<(Vec<Vec<i32>>, f32)> = leveled
        .iter()
        .map(|(channels, pan)| {
            let q = channels
                .iter()
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .map(|(k, x)| {
                            let fade = if k >= fade_from {
                                let u = (len - k) as f64 / SR;
                                u * u
                            } else {
                                1.0
                            };
                            quantize(x * scale * fade)
                        })
                        .collect()
                })
                .collect();
            (q, *pan)
        })
        .collect();

    // What the files really hold.
    let as_float = |t: &[Vec<i32>]| -> Vec<Vec<f64>> {
        t.iter()
            .map(|c| c.iter().map(|&x| f64::from(x) / 32768.0).collect())
            .collect()
    };
    let float_tracks: Vec<(Vec<Vec<f64>>, f32)> =
        tracks.iter().map(|(t, pan)| (as_float(t), *pan)).collect();
    let final_mix = mix(&float_tracks, len);

    eprintln!("Encoding FLAC…");
    let encoded: Vec<Vec<u8>> = std::thread::scope(|s| {
        let jobs: Vec<_> = tracks
            .iter()
            .map(|(channels, _)| s.spawn(move || encode_flac(channels)))
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join()
                    .map_err(|_| anyhow::anyhow!("an encoding thread panicked"))?
            })
            .collect::<anyhow::Result<_>>()
    })?;

    println!(
        "{:<16} {:>3} {:>10} {:>10} {:>10}",
        "track", "ch", "peak dBFS", "loud dBFS", "bytes"
    );
    let mut total = 0;
    for ((part, (float, _)), bytes) in PARTS.iter().zip(&float_tracks).zip(&encoded) {
        let path = out_dir.join(format!("{}.flac", part.name));
        std::fs::write(&path, bytes)
            .with_context(|| format!("{}: cannot write", path.display()))?;
        total += bytes.len();
        let p = peak(float);
        println!(
            "{:<16} {:>3} {:>10} {:>10} {:>10}",
            part.name,
            float.len(),
            dbfs(p),
            dbfs(loudness(float)),
            bytes.len()
        );
        if p > dsp::db(TRACK_PEAK_LIMIT_DB) {
            bail!(
                "{} peaks at {} dBFS, above {TRACK_PEAK_LIMIT_DB}",
                part.name,
                dbfs(p)
            );
        }
    }
    let mix_peak = peak(&final_mix);
    println!(
        "{:<16} {:>3} {:>10} {:>10} {:>10}",
        "(mix)",
        2,
        dbfs(mix_peak),
        dbfs(loudness(&final_mix)),
        total
    );
    if mix_peak >= 1.0 {
        bail!("the mix clips ({} dBFS)", dbfs(mix_peak));
    }

    let session = build_session(&out_dir)?;
    let session_path = out_dir.join(SESSION_FILE);
    // A fresh file each run: no `.bak` of the previous one beside it.
    if session_path.exists() {
        std::fs::remove_file(&session_path)
            .with_context(|| format!("{}: cannot replace", session_path.display()))?;
    }
    session
        .save(&session_path)
        .with_context(|| format!("{}: cannot save the session", session_path.display()))?;
    println!(
        "Wrote {} tracks and {} to {}",
        PARTS.len(),
        SESSION_FILE,
        out_dir.display()
    );

    if let Some(path) = &args.mix {
        write_wav(path, &final_mix)?;
        println!("Wrote the mix to {}", path.display());
    }
    Ok(())
}

/// The stereo mix as a 16-bit WAV (for listening and checking).
fn write_wav(path: &Path, mix: &[Vec<f64>; 2]) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SR as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let err = |e: hound::Error| anyhow::anyhow!("{}: {e}", path.display());
    let mut w = hound::WavWriter::create(path, spec).map_err(err)?;
    for (l, r) in mix[0].iter().zip(&mix[1]) {
        w.write_sample(quantize(*l) as i16).map_err(err)?;
        w.write_sample(quantize(*r) as i16).map_err(err)?;
    }
    w.finalize().map_err(err)
}

fn main() -> std::process::ExitCode {
    let result = parse_args().and_then(|args| match args {
        Some(a) => run(&a),
        None => Ok(()),
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make-demo: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_auto_groups_into_its_stem() {
        for part in &PARTS {
            assert_eq!(
                grouping::classify(part.name),
                Some(part.role),
                "{}",
                part.name
            );
        }
    }

    #[test]
    fn the_session_is_valid_and_matches_auto_grouping() {
        let dir = Path::new("/demo");
        let s = build_session(dir).unwrap();
        let mut auto = s.clone();
        grouping::auto_group(&mut auto);
        assert_eq!(s.stems, auto.stems);
        let names: Vec<_> = s.stems.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Drums", "Bass", "Vocals", "Instruments", "FX"]);
        let colors: Vec<_> = s.stems.iter().map(|s| s.color.as_str()).collect();
        assert_eq!(
            colors,
            ["#E8533F", "#F2A93B", "#4FA3E0", "#7BC96F", "#B57EDC"]
        );
        let json = s.to_json(&dir.join(SESSION_FILE));
        assert!(json.contains("\"path\": \"01 Kick.flac\""), "{json}");
    }

    #[test]
    fn pan_law_matches_the_docs() {
        let [l, r] = pan_gains(1, 0.0);
        assert!((l - 1.0).abs() < 1e-12 && (r - 1.0).abs() < 1e-12);
        let [l, r] = pan_gains(1, 1.0);
        assert!(l.abs() < 1e-12 && (r - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(pan_gains(2, 0.5), [0.5, 1.0]);
    }
}
