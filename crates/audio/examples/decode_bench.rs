//! How fast Stemdeck decodes, file by file: the floor under any export, since every
//! export decodes every track once. One thread, files in turn, so the time per file is
//! that file's decoding alone (run it on a quiet machine).
//!
//!     cargo run --release -p stemdeck_audio --example decode_bench -- FILE...
//!
//! Prints, per file and per codec: seconds, frames, and × realtime. `bench/decode-vs-ffmpeg.sh`
//! runs it beside ffmpeg decoding the same files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use stemdeck_audio::decode::Decoder;

const BLOCK: usize = 16_384;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        return Err("usage: decode_bench FILE...".into());
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
