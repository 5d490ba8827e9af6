//! The stem-package check: for the people who *receive* stems. Given a folder of stem
//! files (with or without the master mix), it tells whether they are usable:
//!
//! - [`check`]: every file's rate, bit depth, channels and length, and the odd ones out;
//!   each stem's offset against the master (or the sum of the other stems), by FFT
//!   cross-correlation ([`align`]); the null test (the stems summed against the master);
//!   clipping, silence, mono-as-stereo, duplicates, inverted polarity, names that say
//!   nothing of the content (the auto-grouping rules of `stemdeck_session::grouping`);
//!   and the song information sheet, if there is one, against what was found
//!   ([`sheet`]). The result is a [`Report`]: text for people ([`Report::text`]), JSON for
//!   programs (it is `Serialize`). The checked folder is only read.
//! - [`fix()`]: the repair, into a new folder: every stem moved to its found alignment,
//!   padded to one length, converted to one rate and format, with a song information
//!   sheet saying what was done; the copy is checked again.

pub mod align;
mod driver;
mod error;
pub mod fix;
mod null;
mod package;
mod problems;
mod report;
mod scan;
pub mod sheet;
mod text;
mod thresholds;

// The crate's API is flat: everything public is reachable from the root, whichever
// module holds it.
pub use driver::{CheckOptions, check};
pub use error::CheckError;
pub use fix::{FixReport, fix};
pub use null::null_test;
pub use package::looks_like_stem_package;
pub use report::{
    Alignment, Clipping, Common, FileCheck, FileKind, NullTest, Problem, ProblemKind, Report,
    Severity, Unreadable,
};
pub use text::describe_frames;
pub use thresholds::{
    ALIGN_TOLERANCE_FRAMES, CLIP_RUN, MIN_MASTER_CORRELATION, MIN_OTHERS_CORRELATION,
    MIN_OTHERS_DISTINCTNESS, NEAR_SILENT_DBFS, NULL_PASS_DBFS,
};
