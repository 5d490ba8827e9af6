//! Arbitrary bytes opened as an audio file, the way an import does: the first input
//! byte picks the file extension (the format hint: wav, flac, mp3, ogg, m4a, aiff) and
//! where to seek, the rest is the file. Opening must give a decoder or an error naming
//! the file, never a panic; a decoder must read, seek and resample to the session rate
//! without panicking, and never deliver more frames than it announced.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stemdeck_audio::decode::Decoder;
use stemdeck_audio::stream::TrackStream;

const EXTENSIONS: [&str; 6] = ["wav", "flac", "mp3", "ogg", "m4a", "aiff"];
/// Frames read at most per input (keeps each run short whatever the header claims).
const MAX_FRAMES: usize = 1 << 16;
const BLOCK: usize = 4096;
const SESSION_RATE: u32 = 48_000;

/// One scratch folder per fuzzing process (in memory when /dev/shm is there): the
/// decoder opens files by path, as the app does.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("stemdeck-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    // libFuzzer's panic hook aborts at once, even on a panic the code catches (decode.rs
    // turns a panic inside symphonia's probe into an error); the default hook only
    // prints, and a panic that escapes still aborts the run (libfuzzer-sys catches it).
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let _ = std::panic::take_hook();
    });
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[usize::from(control) % EXTENSIONS.len()];
    let path = scratch().join(format!("input.{ext}"));
    std::fs::write(&path, bytes).expect("write the scratch file");
    let named = |msg: String| {
        assert!(
            msg.contains(&*path.to_string_lossy()),
            "the error does not name the file: {msg}"
        );
    };

    // The decoder at the file's own rate.
    match Decoder::open(&path) {
        Err(e) => named(e.to_string()),
        Ok(mut dec) => {
            let info = dec.info().clone();
            assert!((1..=2).contains(&info.channels), "{info:?}");
            assert!(info.sample_rate > 0, "{info:?}");
            let mut bufs = vec![vec![0.0f32; BLOCK]; info.channels];
            let mut total = 0usize;
            while total < MAX_FRAMES {
                let mut out: Vec<&mut [f32]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
                match dec.read(&mut out) {
                    Ok(0) => break,
                    Ok(n) => total += n,
                    Err(e) => {
                        named(e.to_string());
                        break;
                    }
                }
            }
            assert!(total as u64 <= info.frames, "read {total} of {info:?}");
            // Seek somewhere (the control byte's high bits) and read on.
            let to = info.frames / 8 * u64::from(control >> 5);
            match dec.seek(to) {
                Err(e) => named(e.to_string()),
                Ok(()) => {
                    let mut out: Vec<&mut [f32]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
                    match dec.read(&mut out) {
                        Ok(n) => assert!(n as u64 <= info.frames - to.min(info.frames)),
                        Err(e) => named(e.to_string()),
                    }
                }
            }
        }
    }

    // The track as playback and export pull it: at the session rate (resampled when the
    // file's rate differs), exactly `len` frames, then silence.
    match TrackStream::open(&path, SESSION_RATE) {
        Err(e) => named(e.to_string()),
        Ok(mut stream) => {
            let channels = stream.channels();
            let mut bufs = vec![vec![0.0f32; BLOCK]; channels];
            let blocks = (stream.len().min(MAX_FRAMES as u64) as usize).div_ceil(BLOCK) + 1;
            for _ in 0..blocks.min(MAX_FRAMES / BLOCK) {
                let mut out: Vec<&mut [f32]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
                if let Err(e) = stream.read(&mut out) {
                    named(e.to_string());
                    return;
                }
            }
            let to = stream.len() / 4 * u64::from(control >> 6);
            if let Err(e) = stream.seek(to) {
                named(e.to_string());
                return;
            }
            let mut out: Vec<&mut [f32]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
            if let Err(e) = stream.read(&mut out) {
                named(e.to_string());
            }
        }
    }
});
