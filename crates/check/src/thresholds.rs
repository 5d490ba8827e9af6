//! The limits the check judges by: how far off, how quiet, how weak a correlation is
//! still fine. One place, so the check, the problems and the repair agree.

/// A stem off by more than this many frames is misaligned (one frame is rounding: a
/// stem converted from another rate can land half a frame either way).
pub const ALIGN_TOLERANCE_FRAMES: i64 = 1;
/// The stems add up when the residual's sample peak is at most this (dBFS): far above
/// the rounding and dither of any integer format (16-bit TPDF dither over a dozen files
/// stays below -70 dBFS), far below anything audible a misaligned, missing or inverted
/// stem leaves.
pub const NULL_PASS_DBFS: f64 = -60.0;
/// A stem whose sample peak is below this (dBFS) is near-silent.
pub const NEAR_SILENT_DBFS: f64 = -60.0;
/// Consecutive full-scale samples that count as clipping.
pub const CLIP_RUN: u32 = 3;
/// Correlation (absolute) below which an offset against the master is not trusted (the
/// stem is not in the master), and the stem is reported as such instead.
pub const MIN_MASTER_CORRELATION: f64 = 0.05;
/// The same against the sum of the other stems, which only share timing with the stem.
pub const MIN_OTHERS_CORRELATION: f64 = 0.01;
/// Against the other stems, the peak must also stand out this much from any other lag
/// (see [`crate::align::Lag::distinctness`]): stems of different instruments share no
/// waveform, and a rhythm repeats, so often no lag is clearly the right one. Then the
/// offset is reported as not determined rather than guessed.
pub const MIN_OTHERS_DISTINCTNESS: f64 = 1.5;
