//! How fast Stemdeck decodes, file by file: the floor under any export, since every
//! export decodes every track once. By default one thread, files in turn, so the time per
//! file is that file's decoding alone (run it on a quiet machine).
//!
//!     cargo run --release -p stemdeck_audio --example decode_bench -- [--parallel] FILE...
//!
//! Prints, per file and per codec: seconds, frames, and × realtime. With `--parallel`,
//! the files are decoded on every core at once (as an export decodes its tracks), and
//! the wall time of the whole is what counts: the decoding floor on those cores.
//! `bench/export-vs-ffmpeg.sh` runs both beside the export and ffmpeg.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use stemdeck_audio::decode::Decoder;

const BLOCK: usize = 16_384;

/// Decode every file once on every core (a worker per core takes the next file), the
/// longest first so no core is left with a long file at the end. Returns the frames.
fn decode_parallel(files: &[PathBuf]) -> Result<u64, String> {
    let mut sized: Vec<(u64, &PathBuf)> = files
        .iter()
        .map(|p| (std::fs::metadata(p).map_or(0, |m| m.len()), p))
        .collect();
    sized.sort_by_key(|s| std::cmp::Reverse(s.0));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<u64, String> {
                    let mut bufs = [vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]];
                    let mut frames = 0;
                    while let Some((_, path)) =
                        sized.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    {
                        let mut dec = Decoder::open(path).map_err(|e| e.to_string())?;
                        let channels = dec.info().channels;
                        loop {
                            let [l, r] = &mut bufs;
                            let mut chans: Vec<&mut [f32]> =
                                vec![l.as_mut_slice(), r.as_mut_slice()];
                            chans.truncate(channels);
                            let got = dec.read(&mut chans).map_err(|e| e.to_string())?;
                            if got == 0 {
                                break;
                            }
                            frames += got as u64;
                        }
                    }
                    Ok(frames)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a worker panicked".to_owned())?)
            .sum()
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let parallel = files.first().is_some_and(|f| f.as_os_str() == "--parallel");
    if parallel {
        files.remove(0);
    }
    if files.is_empty() {
        return Err("usage: decode_bench [--parallel] FILE...".into());
    }
    if parallel {
        let started = Instant::now();
        let frames = decode_parallel(&files)?;
        println!(
            "{} files, {frames} frames, decoded on every core in {:.3} s",
            files.len(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let mut by_codec: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    let mut total = 0.0;
    let mut audio = 0.0;
    let mut bufs = [vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]];
    for path in &files {
        let started = Instant::now();
        let mut dec = Decoder::open(path)?;
        let info = dec.info().clone();
        let mut frames = 0u64;
        loop {
            let [l, r] = &mut bufs;
            let mut chans: Vec<&mut [f32]> = vec![l.as_mut_slice(), r.as_mut_slice()];
            chans.truncate(info.channels);
            let got = dec.read(&mut chans)?;
            if got == 0 {
                break;
            }
            frames += got as u64;
        }
        let secs = started.elapsed().as_secs_f64();
        let len = frames as f64 / f64::from(info.sample_rate);
        println!(
            "{:<28} {:<10} {}ch {:>6} Hz  {:6.3} s  {:7.0}x",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            info.codec,
            info.channels,
            info.sample_rate,
            secs,
            len / secs
        );
        let e = by_codec.entry(info.codec.clone()).or_default();
        e.0 += secs;
        e.1 += len;
        total += secs;
        audio += len;
    }
    println!();
    for (codec, (secs, len)) in &by_codec {
        println!(
            "{codec:<10} {secs:6.3} s  {len:8.1} s of audio  {:7.0}x",
            len / secs
        );
    }
    println!(
        "total      {total:6.3} s  {audio:8.1} s of audio  {:7.0}x",
        audio / total
    );
    Ok(())
}
