//! Stemdeck's audio core. Everything here is shared by live playback and export, so
//! what the user hears is what they export:
//! - [`decode`]: any file a producer receives, as planar f32 at its own rate (symphonia);
//! - [`resample`]: to the session rate (rubato);
//! - [`stream`]: one track as an endless block source at the session rate, exact length;
//! - [`kernel`]: the mix kernel (gain, pan law, tracks into stems, stems into the master);
//! - [`peaks`]: waveform overviews (min/max per bucket at the session rate) and their disk cache;
//! - [`import`]: a folder or a list of files into an auto-grouped session;
//! - [`relink`]: finding moved track files again in a folder the user picks.

pub mod clips;
pub mod decode;
mod error;
mod file_stream;
pub mod import;
pub mod kernel;
pub mod peaks;
pub mod project;
pub mod relink;
mod repair;
pub mod resample;
pub mod stream;

pub use error::AudioError;

/// `f` over `items` on every core (one contiguous share per core), results in order.
/// For opening or probing a session's files: each reads headers and may scan a whole
/// file, so a big session opens in a fraction of the time. A panic in `f` is passed on.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, items.len().max(1));
    let per = items.len().div_ceil(workers).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}
