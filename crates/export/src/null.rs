//! The null test: the stems summed minus the master. Read back from the written files
//! ([`null_test_files`]), or made block by block in memory during the render; and its
//! verdict, within what the format's rounding or dither explains.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use stemdeck_audio::decode::Decoder;

use crate::ExportError;
use crate::format::OutputFormat;
use crate::options::BLOCK_FRAMES;
use crate::plan::NullGroup;
use crate::report::{NullSource, NullTest, db};

/// Decode the written stems and master, sum the stems, subtract the master: the
/// highest absolute residual. Also checks every file has `frames` frames, stereo at
/// `rate`. `on_block` gets the frames of each block compared.
pub(crate) fn null_test_files(
    stems: &[PathBuf],
    master: &Path,
    frames: u64,
    rate: u32,
    cancel: &AtomicBool,
    mut on_block: impl FnMut(u64),
) -> Result<f64, ExportError> {
    let master = master.to_path_buf();
    let mut decoders: Vec<(PathBuf, Decoder)> = stems
        .iter()
        .chain(std::iter::once(&master))
        .map(|p| Decoder::open(p).map(|d| (p.clone(), d)))
        .collect::<Result<_, _>>()?;
    for (path, d) in &decoders {
        let info = d.info();
        if info.frames != frames || info.channels != 2 || info.sample_rate != rate {
            return Err(ExportError::Read {
                path: path.clone(),
                reason: format!(
                    "reads back as {} frames, {} channels at {} Hz; expected {} frames, stereo at {} Hz",
                    info.frames, info.channels, info.sample_rate, frames, rate
                ),
            });
        }
    }
    // Two sets of blocks: block k+1 is read while block k is compared.
    let mut bufs = vec![[vec![0.0f32; BLOCK_FRAMES], vec![0.0f32; BLOCK_FRAMES]]; decoders.len()];
    let mut next_bufs = bufs.clone();
    let mut sum = vec![0.0f32; BLOCK_FRAMES];
    let mut residual = 0.0f64;
    let mut done = 0u64;
    let block_at = |done: u64| (frames.saturating_sub(done)).min(BLOCK_FRAMES as u64) as usize;
    read_back_block(&mut decoders, &mut bufs, block_at(0), 0)?;
    while done < frames {
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        let n = block_at(done);
        let next_n = block_at(done + n as u64);
        let current = &bufs;
        let (read, block_residual) = rayon::join(
            || read_back_block(&mut decoders, &mut next_bufs, next_n, done + n as u64),
            || null_residual(current, &mut sum, n),
        );
        read?;
        residual = residual.max(block_residual);
        std::mem::swap(&mut bufs, &mut next_bufs);
        done += n as u64;
        on_block(n as u64);
    }
    Ok(residual)
}

/// Read the next `n` frames (from frame `at`) of every written file, in parallel.
fn read_back_block(
    decoders: &mut [(PathBuf, Decoder)],
    bufs: &mut [[Vec<f32>; 2]],
    n: usize,
    at: u64,
) -> Result<(), ExportError> {
    if n == 0 {
        return Ok(());
    }
    decoders
        .par_iter_mut()
        .zip(bufs.par_iter_mut())
        .try_for_each(|((path, d), [l, r])| {
            let mut chans: [&mut [f32]; 2] = [
                l.get_mut(..n).unwrap_or_default(),
                r.get_mut(..n).unwrap_or_default(),
            ];
            let got = d.read(&mut chans)?;
            if got < n {
                return Err(ExportError::Read {
                    path: path.clone(),
                    reason: format!("ends early, after {} frames", at + got as u64),
                });
            }
            Ok(())
        })
}

/// The highest absolute difference, over the first `n` frames, between the sum of the
/// stems (every buffer but the last, added in order) and the master (the last buffer).
fn null_residual(bufs: &[[Vec<f32>; 2]], sum: &mut [f32], n: usize) -> f64 {
    let Some((master, stems)) = bufs.split_last() else {
        return 0.0;
    };
    let sum = sum.get_mut(..n).unwrap_or_default();
    let mut residual = 0.0f64;
    for (c, m) in master.iter().enumerate() {
        sum.fill(0.0);
        for stem in stems {
            let s = stem.get(c).and_then(|ch| ch.get(..n)).unwrap_or_default();
            for (acc, x) in sum.iter_mut().zip(s) {
                *acc += *x;
            }
        }
        let m = m.get(..n).unwrap_or_default();
        // Per block in f32, then widened: the same maximum, found with vector code.
        let worst = sum
            .iter()
            .zip(m)
            .map(|(s, m)| (s - m).abs())
            .fold(0.0f32, f32::max);
        residual = residual.max(f64::from(worst));
    }
    residual
}

/// What a null test compares, for its message.
#[derive(Clone, Copy)]
pub(crate) struct NullTarget {
    pub(crate) group: NullGroup,
    /// The session has effects (wet and dry differ).
    pub(crate) effects: bool,
    /// Both kinds of stems were written.
    pub(crate) both: bool,
}

/// The null test's verdict and message for a residual.
pub(crate) fn null_verdict(
    source: NullSource,
    residual: f64,
    format: OutputFormat,
    stems: usize,
    target: NullTarget,
) -> NullTest {
    let mut test = null_verdict_plain(source, residual, format, stems);
    let (what, sum) = match target.group {
        NullGroup::Wet if target.effects => ("wet stems", "processed master"),
        NullGroup::Dry if target.effects || target.both => ("dry stems", "dry sum"),
        _ => return test,
    };
    test.message = test
        .message
        .replace("the stems", &format!("the {what}"))
        .replace("the master sum in memory", &format!("the {sum} in memory"))
        .replace("the master", &format!("the {sum}"));
    if target.group == NullGroup::Dry {
        test.message = test.message.replace(
            ": no master file was exported",
            ", rendered in the same pass",
        );
    }
    test
}

pub(crate) fn null_verdict_plain(
    source: NullSource,
    residual: f64,
    format: OutputFormat,
    stems: usize,
) -> NullTest {
    let files = stems as f64 + f64::from(u8::from(source == NullSource::Files));
    // Each integer file is off by at most half an LSB (24-bit rounding) or 1.5 LSB
    // (16-bit TPDF dither plus rounding); float files by float rounding only.
    let lsb = f64::from(format.lsb());
    let bound = if format.is_dithered() {
        1.5 * lsb * files
    } else if format.is_integer() {
        0.5 * lsb * files + 1e-6
    } else {
        1e-5
    };
    let passed = residual <= bound;
    let level = if residual > 0.0 {
        format!("{:.1} dBFS", db(residual))
    } else {
        "-inf dBFS".to_owned()
    };
    let against = match source {
        NullSource::Files => "",
        NullSource::Memory => {
            " (checked against the master sum in memory: no master file was exported)"
        }
    };
    let message = if !passed {
        format!(
            "{level}: the stems do NOT add up to the master (expected at most {:.1} dBFS){against}",
            db(bound)
        )
    } else if residual == 0.0 {
        format!("{level}: the stems add up to the master bit for bit{against}")
    } else if format.is_dithered() {
        format!(
            "{level}: the stems add up to the master; the residual is the 16-bit dither noise of the files \
             (about -90 dBFS each){against}"
        )
    } else if format.is_integer() {
        format!("{level}: the stems add up to the master (24-bit rounding){against}")
    } else {
        format!("{level}: the stems add up to the master{against}")
    };
    NullTest {
        source,
        residual_peak: residual,
        passed,
        message,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::writer::StemWriter;

    fn stereo(l: Vec<f32>, r: Vec<f32>) -> [Vec<f32>; 2] {
        [l, r]
    }

    #[test]
    fn the_residual_is_the_largest_difference_between_the_stem_sum_and_the_master() {
        let a = stereo(vec![0.25, -0.5, 0.125], vec![0.0, 0.5, 0.5]);
        let b = stereo(vec![0.25, 0.25, 0.0], vec![0.125, 0.0, -0.25]);
        let sum = stereo(vec![0.5, -0.25, 0.125], vec![0.125, 0.5, 0.25]);
        let mut scratch = vec![0.0; 3];
        let bufs = [a.clone(), b.clone(), sum.clone()];
        assert_eq!(null_residual(&bufs, &mut scratch, 3), 0.0);
        let mut off = sum;
        off[1][2] += 0.375;
        let bufs = [a, b, off];
        assert_eq!(null_residual(&bufs, &mut scratch, 3), 0.375);
        // Only the first `n` frames count.
        assert_eq!(null_residual(&bufs, &mut scratch, 2), 0.0);
    }

    #[test]
    fn the_verdict_allows_what_rounding_and_dither_explain() {
        let int24 = OutputFormat::WAV24.lsb() as f64;
        let exact = null_verdict_plain(NullSource::Files, 0.0, OutputFormat::WAV24, 4);
        assert!(exact.passed);
        assert!(exact.message.contains("bit for bit"), "{}", exact.message);
        // Five files (four stems and the master), half an LSB each, plus float rounding
        // (1e-6) in the sum.
        let rounding = null_verdict_plain(NullSource::Files, 2.5 * int24, OutputFormat::WAV24, 4);
        assert!(rounding.passed, "{}", rounding.message);
        let off = null_verdict_plain(
            NullSource::Files,
            2.5 * int24 + 2e-6,
            OutputFormat::WAV24,
            4,
        );
        assert!(!off.passed);
        assert!(off.message.contains("do NOT add up"), "{}", off.message);
        // 16-bit dither: 1.5 LSB per file; the in-memory master is no file.
        let lsb16 = OutputFormat::FLAC16.lsb() as f64;
        let dither = null_verdict_plain(NullSource::Memory, 6.0 * lsb16, OutputFormat::FLAC16, 4);
        assert!(dither.passed);
        assert!(dither.message.contains("in memory"), "{}", dither.message);
        assert!(
            !null_verdict_plain(NullSource::Memory, 6.1 * lsb16, OutputFormat::FLAC16, 4).passed
        );
        assert!(!null_verdict_plain(NullSource::Files, 1e-4, OutputFormat::WAV32F, 2).passed);
    }

    #[test]
    fn the_verdict_names_wet_and_dry_stems_when_effects_make_them_differ() {
        let target = |group, effects| NullTarget {
            group,
            effects,
            both: true,
        };
        let wet = null_verdict(
            NullSource::Files,
            0.0,
            OutputFormat::WAV32F,
            2,
            target(NullGroup::Wet, true),
        );
        assert!(
            wet.message
                .contains("the wet stems add up to the processed master"),
            "{}",
            wet.message
        );
        let dry = null_verdict(
            NullSource::Memory,
            0.0,
            OutputFormat::WAV32F,
            2,
            target(NullGroup::Dry, true),
        );
        assert!(
            dry.message.contains("dry stems add up to the dry sum"),
            "{}",
            dry.message
        );
        assert!(
            dry.message.contains("rendered in the same pass"),
            "{}",
            dry.message
        );
    }

    /// Two stems and their sum written as files read back to a residual of 0; a master of
    /// another length is reported, naming the file.
    #[test]
    fn written_files_are_read_back_and_compared() {
        let dir = tempfile::tempdir().unwrap();
        let frames = BLOCK_FRAMES + 1000;
        let wave =
            |k: f32| -> Vec<f32> { (0..frames).map(|i| ((i as f32) * k).sin() * 0.25).collect() };
        let (a, b) = (wave(0.01), wave(0.037));
        let sum: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let write = |name: &str, x: &[f32]| {
            let path = dir.path().join(name);
            let mut w = StemWriter::create(path, OutputFormat::WAV32F, 48_000, 1).unwrap();
            w.write(x, x).unwrap();
            w.finish().unwrap()
        };
        let stems = [write("a.wav", &a), write("b.wav", &b)];
        let master = write("master.wav", &sum);
        let mut seen = 0;
        let residual = null_test_files(
            &stems,
            &master,
            frames as u64,
            48_000,
            &AtomicBool::new(false),
            |n| seen += n,
        )
        .unwrap();
        assert_eq!(residual, 0.0);
        assert_eq!(seen, frames as u64);

        let short = write("short.wav", &sum[..frames - 1]);
        let err = null_test_files(
            &stems,
            &short,
            frames as u64,
            48_000,
            &AtomicBool::new(false),
            |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(&err, ExportError::Read { path, .. } if path == &short),
            "{err}"
        );
        let cancelled = null_test_files(
            &stems,
            &master,
            frames as u64,
            48_000,
            &AtomicBool::new(true),
            |_| {},
        );
        assert!(matches!(cancelled, Err(ExportError::Cancelled)));
    }
}
