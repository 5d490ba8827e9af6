//! The offline renderer: every track streamed block by block through the shared mix
//! kernel, each stem to its own stereo file, all exactly the same length from sample 0,
//! plus the master and the saved mix variants, in one pass over the decoded tracks.
//! Memory is bounded by the block size (never whole decoded tracks), and the decoding
//! and the per-file work of each block (rate conversion, loudness metering, encoding)
//! are spread over every core with rayon.
//!
//! The passes (all reported through [`Progress`]):
//! 1. **Render**: decode every track once per block, mix the stems, the master and
//!    every variant from the same inputs, convert each to the output rate with its own
//!    (identical) rubato converter, measure it (sample peak, true peak, EBU R128
//!    loudness) and write it under a temporary name.
//! 2. **Trim** (only when an integer file clipped in pass 1): with [`TrimMode::Auto`],
//!    the temporary files are thrown away and every file is written again with ONE
//!    common gain that brings the highest sample peak of all files to −0.1 dBFS, so the
//!    relative levels are kept and the stems still add up to the master. Without it,
//!    the export stops ([`ExportError::WouldClip`]) and leaves nothing behind. Pass 1 is
//!    the analysis pass: when nothing clips (the usual case) its files are the result.
//!    With `--trim auto` and an integer format, once a file clips pass 1 stops writing
//!    and measuring and keeps every output's float blocks (after rate conversion, before
//!    the gain) in a temporary spill file beside the outputs ([`Spill`]); the blocks
//!    before the first clip (usually a few) are rendered again into a second spill, and
//!    the trim requantises the spills with the common gain: the rest of the song is not
//!    decoded twice, and an export that needs no trim spills nothing. The files and
//!    measurements are those a second render with the gain gives, bit for bit (the gain
//!    is applied to the same floats, the meters and the dither see the same samples in
//!    the same order; tests/trim_bytes.rs).
//! 3. **Verify** (the null test): the written stem files and the master are decoded
//!    again, summed and compared. Without a master file, the same comparison is made
//!    during the render against the in-memory master.
//!
//! Then the song information sheet is written, and every file is renamed to its real
//! name. On an error or a cancel, nothing is left behind.

mod chain;
mod mix;
mod spill;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use stemdeck_audio::kernel::StereoBuf;
use stemdeck_audio::resample::converted_len;
use stemdeck_audio::stream::TrackStream;
use stemdeck_session::routing::MixPlan;
use stemdeck_session::units::db_to_amplitude_f64;
use stemdeck_session::{EffectsMode, Session, TrimMode};

use crate::ExportError;
use crate::null::{NullTarget, null_test_files, null_verdict};
use crate::options::{BLOCK_FRAMES, TRIM_TARGET_DBFS};
use crate::plan::{Layout, NullGroup, OutputSpec, Source};
use crate::report::{
    FileKind, FileReport, NullSource, NullTest, Progress, Stage, TrimReport, db, format_db,
};
use crate::true_peak::TruePeakMeter;
use crate::writer::{PendingFile, StemWriter, temp_path_for};
use chain::{Chain, loudness_meter};
use mix::{Mixer, SourceBufs, decode_block, input_blocks};
use spill::Spill;

/// Open every track that is heard in a stem or a variant, in parallel (opening may
/// scan a whole MP3).
pub(crate) fn open_streams(
    session: &Session,
    plan: &MixPlan,
    variants: &[MixPlan],
) -> Result<Vec<Option<TrackStream>>, ExportError> {
    let wanted: std::collections::HashSet<usize> = std::iter::once(plan)
        .chain(variants)
        .flat_map(|p| {
            p.stems
                .iter()
                .flat_map(|s| s.tracks.iter().map(|t| t.track))
        })
        .collect();
    let rate = session.sample_rate;
    Ok(session
        .tracks
        .par_iter()
        .enumerate()
        .map(|(i, t)| {
            wanted
                .contains(&i)
                .then(|| TrackStream::for_track(t, rate))
                .transpose()
        })
        .collect::<Result<_, _>>()?)
}

/// With `STEMDECK_EXPORT_TIMING` set, print how long a pass took (on stderr): for
/// profiling, see docs/performance.md.
pub(crate) fn stage_time(what: &str, started: Instant) {
    if std::env::var_os("STEMDECK_EXPORT_TIMING").is_some() {
        eprintln!("[timing] {what}: {:.3} s", started.elapsed().as_secs_f64());
    }
}

/// One export run over the decoded tracks.
pub(crate) struct Job<'a> {
    pub(crate) session: &'a Session,
    pub(crate) layout: &'a Layout,
    pub(crate) song_frames: u64,
    /// Frames in every file.
    pub(crate) frames: u64,
    pub(crate) progress: &'a (dyn Fn(Progress) + Sync),
    pub(crate) cancel: &'a AtomicBool,
}

pub(crate) type RunResult = (
    Vec<FileReport>,
    TrimReport,
    Option<NullTest>,
    Option<NullTest>,
    Vec<PendingFile>,
);

impl Job<'_> {
    pub(crate) fn run(
        &self,
        streams: &mut Vec<Option<TrackStream>>,
        trim: TrimMode,
    ) -> Result<RunResult, ExportError> {
        let layout = self.layout;
        let verify = layout.has_master_file();
        let mut counter = Counter {
            done: 0,
            total: self.frames * if verify { 2 } else { 1 },
        };
        let started = Instant::now();
        // Only an integer file can clip, and only `--trim auto` goes on when one does.
        let spill = trim == TrimMode::Auto && layout.format.is_integer();
        let mut pass = self.render(streams, Render::Deliver { spill }, &mut counter)?;
        stage_time("render", started);

        // The analysis: did any integer file clip, and how loud is the loudest file?
        let loudest = pass
            .chains
            .iter()
            .filter(|c| c.spec.is_some())
            .map(Chain::float_peak)
            .fold(0.0f32, f32::max);
        let loudest_db = db(f64::from(loudest));
        let needed_db = TRIM_TARGET_DBFS - loudest_db;
        let clipping: Vec<(PathBuf, f32, u64)> = pass
            .chains
            .iter()
            .filter(|c| c.clipped() > 0)
            .map(|c| (c.spec_path.clone(), c.float_peak(), c.clipped()))
            .collect();
        let mut gain_db = 0.0;
        let trim_message;
        if pass.would_clip || !clipping.is_empty() {
            if let (TrimMode::None, Some((worst, worst_peak, _))) =
                (trim, clipping.iter().max_by(|a, b| a.1.total_cmp(&b.1)))
            {
                return Err(ExportError::WouldClip {
                    first: worst.clone(),
                    files: clipping.len(),
                    clipped: clipping.iter().map(|c| c.2).sum(),
                    peak_db: db(f64::from(*worst_peak)),
                    trim_db: needed_db,
                });
            }
            // Every file again, from pass 1's spilled floats, with the common gain
            // (pass 1's files, if any are left, are deleted).
            gain_db = needed_db;
            let started = Instant::now();
            if let Some(blocks) = pass.spilled_from.filter(|b| *b > 0) {
                // The blocks written before the first clip: rendered again, spilled.
                *streams = open_streams(self.session, &layout.plan, &layout.variant_plans)?;
                counter.total += pass.delivered;
                let prefix = self.render(streams, Render::Prefix { blocks }, &mut counter)?;
                debug_assert_eq!(pass.chains.len(), prefix.chains.len());
                for (c, p) in pass.chains.iter_mut().zip(prefix.chains) {
                    c.prefix = p.spill;
                }
            }
            counter.total += self.frames;
            let gain = db_to_amplitude_f64(gain_db) as f32;
            pass = self.requantise(pass, gain, &mut counter)?;
            stage_time("trim (requantise)", started);
            trim_message = format!(
                "trimmed every file by {gain_db:+.2} dB (one common gain): the loudest file peaked at {} dBFS \
                 and would have clipped; now the highest sample peak is {TRIM_TARGET_DBFS:.1} dBFS and the \
                 stems still add up to the master",
                format_db(loudest_db)
            );
        } else {
            trim_message = match (trim, layout.format.is_integer()) {
                (_, false) => "no trim: 32-bit float files never clip".to_owned(),
                (TrimMode::Auto, true) => format!(
                    "no trim needed: the loudest file peaks at {} dBFS, nothing clips",
                    format_db(loudest_db)
                ),
                (TrimMode::None, true) => format!(
                    "no trim: the loudest file peaks at {} dBFS, nothing clips",
                    format_db(loudest_db)
                ),
            };
        }
        // The trim is a further move of the master fader: say it so.
        let fader_db = f64::from(layout.master.gain_db);
        let trim_message = if fader_db == 0.0 {
            trim_message
        } else if gain_db != 0.0 {
            format!(
                "master {:+.1} dB: {fader_db:+.1} dB fader, {gain_db:+.1} dB automatic trim; {trim_message}",
                fader_db + gain_db
            )
        } else {
            format!("master {fader_db:+.1} dB (fader); {trim_message}")
        };
        let trim_report = TrimReport {
            mode: trim,
            gain_db,
            fader_db,
            loudest_before_db: loudest_db,
            message: trim_message,
        };

        // Complete every file under its temporary name (the spills go: not needed now).
        for chain in &mut pass.chains {
            chain.spill = None;
            chain.prefix = None;
        }
        let memory_null = pass.memory_null;
        let mut reports = Vec::new();
        let mut pending = Vec::new();
        let mut stem_paths = Vec::new();
        let mut master_path = None;
        let files_group = layout.files_null_group();
        let mut counts = [0usize; 2];
        for chain in pass.chains {
            let Some(spec) = chain.spec.clone() else {
                continue;
            };
            let (peak, clipped, true_peak, loudness) = chain.measurements();
            debug_assert_eq!(
                chain.produced,
                self.frames,
                "{}: a file of the wrong length",
                chain.spec_path.display()
            );
            let Some(writer) = chain.writer else { continue };
            let file = writer.complete()?;
            let group = if spec.dry {
                NullGroup::Dry
            } else {
                NullGroup::Wet
            };
            match spec.kind {
                FileKind::Stem => {
                    counts[group as usize] += 1;
                    if files_group == Some(group) {
                        stem_paths.push(file.temp_path().to_owned());
                    }
                }
                FileKind::Master => master_path = Some(file.temp_path().to_owned()),
                FileKind::Variant => {}
            }
            pending.push(file);
            reports.push(FileReport {
                name: spec.name.clone(),
                path: spec.path.clone(),
                peak,
                clipped,
                tracks: spec.members.clone(),
                is_master: spec.kind == FileKind::Master,
                kind: spec.kind,
                true_peak,
                loudness,
                dry: spec.dry,
                stem_index: spec.stem_index,
                processing: spec.processing.clone(),
            });
        }

        let effects = self.session.has_effects();
        let mut nulls = Vec::new();
        for group in [NullGroup::Wet, NullGroup::Dry] {
            if !layout.has_stems(group) {
                continue;
            }
            let stems = counts[group as usize];
            let target = NullTarget {
                group,
                effects,
                both: layout.effects == EffectsMode::Both,
            };
            let verdict = match (&master_path, files_group == Some(group)) {
                (Some(master), true) => {
                    let started = Instant::now();
                    let residual = null_test_files(
                        &stem_paths,
                        master,
                        self.frames,
                        layout.out_rate,
                        self.cancel,
                        |n| {
                            counter.done += n;
                            (self.progress)(Progress {
                                done_frames: counter.done,
                                total_frames: counter.total,
                                stage: Stage::Verify,
                            });
                        },
                    )?;
                    stage_time("null test", started);
                    null_verdict(NullSource::Files, residual, layout.format, stems, target)
                }
                _ => null_verdict(
                    NullSource::Memory,
                    memory_null[group as usize],
                    layout.format,
                    stems,
                    target,
                ),
            };
            nulls.push(verdict);
        }
        let mut nulls = nulls.into_iter();
        let (null, dry_null) = (nulls.next(), nulls.next());
        Ok((reports, trim_report, null, dry_null, pending))
    }

    /// One pass over the decoded tracks. [`Render::Deliver`]: every output rendered,
    /// measured and written; with `spill`, once a file has clipped (a trim is then
    /// certain) nothing more is measured or written: every output's blocks go to its
    /// [`Spill`] instead, for [`Self::requantise`]. [`Render::Prefix`]: only the first
    /// `blocks` blocks, into spills (the blocks written before that clip).
    fn render(
        &self,
        streams: &mut [Option<TrackStream>],
        mode: Render,
        counter: &mut Counter,
    ) -> Result<Pass, ExportError> {
        let layout = self.layout;
        let (spill, prefix, stage) = match mode {
            Render::Deliver { spill } => (spill, None, Stage::Render),
            Render::Prefix { blocks } => (true, Some(blocks), Stage::Trim),
        };
        let suffix = if prefix.is_some() { "f32-first" } else { "f32" };
        let spill_path = |spec: Option<&OutputSpec>| match spec {
            Some(spec) => temp_path_for(&spec.path.with_extension(suffix)),
            None => layout
                .out_dir
                .join(format!(".stemdeck-master.{suffix}.partial")),
        };
        let mut chains = Vec::new();
        for spec in &layout.outputs {
            let writer = match prefix {
                None => Some(StemWriter::create(
                    spec.path.clone(),
                    layout.format,
                    layout.out_rate,
                    spec.seed,
                )?),
                Some(_) => None,
            };
            chains.push(Chain::new(
                Some(spec.clone()),
                spec.source,
                layout,
                self.frames,
                writer,
                None,
            )?);
        }
        // Stems not compared with a master file are compared with their sum rendered in
        // memory (the processed master for wet stems, the dry sum for dry ones).
        let memory_groups = layout.memory_null_groups();
        for group in &memory_groups {
            chains.push(Chain::new(
                None,
                Source::memory_master(*group),
                layout,
                self.frames,
                None,
                None,
            )?);
        }
        let memory_master = !memory_groups.is_empty();
        if prefix.is_some() {
            for c in &mut chains {
                c.stop_delivering();
                c.spill = Some(Spill::create(spill_path(c.spec.as_ref()))?);
            }
        }
        // Set once a file has clipped in a spilling pass; the blocks delivered before.
        let mut would_clip = false;
        let mut spilled_from = None;
        let mut blocks = 0usize;
        let mut delivered = 0u64;

        // Two sets of input blocks: while block k is mixed, converted, measured and
        // written from one, block k+1 is decoded into the other (see `decode_block`).
        let mut inputs = input_blocks(streams);
        let mut next_inputs = input_blocks(streams);
        let mut mixer = Mixer::new(self.session, layout, streams)?;
        // The look-ahead of the effects: that many more frames are mixed, and dropped
        // from the start of every output, so every file still starts at sample 0.
        let latency = mixer.latency as u64;
        let silence = StereoBuf::new(BLOCK_FRAMES);
        let mut memory_null = [0.0f64; 2];

        // Frames of block k: audio up to the song's end, then whole blocks of silence
        // (the tail, and the converters' flush).
        let song_frames = self.song_frames;
        let block_at = |fed: u64| -> (bool, usize) {
            let audible = song_frames.saturating_sub(fed);
            if audible > 0 {
                (true, audible.min(BLOCK_FRAMES as u64) as usize)
            } else {
                (false, BLOCK_FRAMES)
            }
        };
        let mut fed: u64 = 0;
        // Input frames after which every output must be complete (a generous bound on
        // the converters' flush; reaching it would be a bug, reported, never a hang).
        let limit = converted_len(self.frames, layout.out_rate, layout.session_rate)
            + 4 * BLOCK_FRAMES as u64
            + 1_000_000;
        let mut produced_before = 0;
        // The first block, decoded up front; each later one during the one before.
        if let (true, n) = block_at(0) {
            decode_block(streams, &mut inputs, n)?;
        }
        while !chains.iter().all(Chain::done) && prefix.is_none_or(|p| blocks < p) {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(ExportError::Cancelled);
            }
            if fed > limit {
                return Err(ExportError::Internal(
                    "the rate converter stopped producing audio".into(),
                ));
            }
            let (audible, n) = block_at(fed);
            let (next_audible, next_n) = block_at(fed + n as u64);
            let current = &inputs;
            // The first `latency` frames mixed are the effects' look-ahead: not output.
            let skip = latency.saturating_sub(fed).min(n as u64) as usize;
            let (decoded, pushed) = rayon::join(
                || {
                    if next_audible {
                        decode_block(streams, &mut next_inputs, next_n)
                    } else {
                        Ok(())
                    }
                },
                || {
                    let sources: SourceBufs<'_> = if audible || mixer.effects {
                        // After the song, effects still ring: silence goes through them.
                        mixer.mix(layout, audible.then_some(current.as_slice()), n);
                        mixer.sources()
                    } else {
                        // The tail, and the converters' flush: silence.
                        SourceBufs {
                            stems: &[],
                            master: None,
                            variants: Vec::new(),
                            dry_stems: &[],
                            dry_master: None,
                            silence: Some(&silence),
                        }
                    };
                    chains.par_iter_mut().try_for_each(|c| {
                        let buf = sources.get(c.source, &silence);
                        debug_assert!(buf.left.len() >= n && buf.right.len() >= n);
                        let (l, r) = (
                            buf.left.get(skip..n).unwrap_or_default(),
                            buf.right.get(skip..n).unwrap_or_default(),
                        );
                        c.push(l, r)
                    })
                },
            );
            pushed?;
            decoded?;
            std::mem::swap(&mut inputs, &mut next_inputs);
            fed += n as u64;
            blocks += 1;
            if spill && prefix.is_none() && !would_clip && chains.iter().any(|c| c.clipped() > 0) {
                // The trim will write every file again: from here on, spill only.
                would_clip = true;
                spilled_from = Some(blocks);
                delivered = chains.first().map_or(0, |c| c.produced);
                for c in &mut chains {
                    c.stop_delivering();
                    c.spill = Some(Spill::create(spill_path(c.spec.as_ref()))?);
                }
            }
            if memory_master && !would_clip {
                for group in &memory_groups {
                    let k = *group as usize;
                    memory_null[k] = memory_null[k].max(block_null(&chains, *group));
                }
            }
            let produced = chains.first().map_or(0, |c| c.produced);
            counter.done += produced - produced_before;
            produced_before = produced;
            (self.progress)(Progress {
                done_frames: counter.done,
                total_frames: counter.total,
                stage,
            });
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        // A whole pass made every output exactly as long as planned; a prefix, its blocks.
        debug_assert!(match prefix {
            None => chains.iter().all(|c| c.produced == c.target),
            Some(p) => blocks == p,
        });
        Ok(Pass {
            chains,
            memory_null,
            would_clip,
            spilled_from,
            delivered,
        })
    }

    /// The trim without decoding again: every output's spilled blocks, in the order they
    /// were rendered, through the common `gain`, the meters and a new writer (same seed:
    /// the same dither), and the in-memory null test, as a second render would do them.
    fn requantise(
        &self,
        pass: Pass,
        gain: f32,
        counter: &mut Counter,
    ) -> Result<Pass, ExportError> {
        let layout = self.layout;
        let mut chains = pass.chains;
        for c in &mut chains {
            c.stop_delivering();
            if let Some(spec) = &c.spec {
                c.writer = Some(StemWriter::create(
                    spec.path.clone(),
                    layout.format,
                    layout.out_rate,
                    spec.seed,
                )?);
                c.meter = Some(loudness_meter(&c.spec_path, layout.out_rate)?);
                c.true_peak = Some(TruePeakMeter::new(layout.out_rate));
            }
            c.gain = gain;
            c.produced = 0;
            c.conv = None;
            match &mut c.spill {
                Some(spill) => spill.rewind()?,
                None => {
                    return Err(ExportError::Internal(
                        "a trim without the first pass's audio".into(),
                    ));
                }
            }
            if let Some(prefix) = &mut c.prefix {
                prefix.rewind()?;
            }
        }
        let blocks = chains.first().map_or(0, Chain::spilled_blocks);
        // Every output replays the same blocks: one with fewer would end in silence.
        debug_assert!(chains.iter().all(|c| c.spilled_blocks() == blocks));
        let memory_groups = layout.memory_null_groups();
        let mut memory_null = [0.0f64; 2];
        for k in 0..blocks {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(ExportError::Cancelled);
            }
            chains.par_iter_mut().try_for_each(|c| c.replay(k))?;
            for group in &memory_groups {
                let g = *group as usize;
                memory_null[g] = memory_null[g].max(block_null(&chains, *group));
            }
            let n = chains.first().map_or(0, |c| c.out[0].len());
            counter.done += n as u64;
            (self.progress)(Progress {
                done_frames: counter.done,
                total_frames: counter.total,
                stage: Stage::Trim,
            });
        }
        if self.cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        debug_assert!(chains.iter().all(|c| c.produced == c.target));
        Ok(Pass {
            chains,
            memory_null,
            would_clip: false,
            spilled_from: None,
            delivered: 0,
        })
    }
}

pub(crate) struct Counter {
    pub(crate) done: u64,
    pub(crate) total: u64,
}

/// The in-memory null test of the last block: the stems of `group` as written, summed,
/// against their in-memory master.
pub(crate) fn block_null(chains: &[Chain], group: NullGroup) -> f64 {
    let want = Source::memory_master(group);
    let Some(master) = chains.iter().find(|c| c.spec.is_none() && c.source == want) else {
        return 0.0;
    };
    let dry = group == NullGroup::Dry;
    let stems: Vec<(&[f32], &[f32])> = chains
        .iter()
        .filter(|c| {
            c.spec
                .as_ref()
                .is_some_and(|s| s.kind == FileKind::Stem && s.dry == dry)
        })
        .filter_map(|c| c.writer.as_ref().map(StemWriter::last_written))
        .collect();
    let mut worst = 0.0f64;
    for (c, m) in master.out.iter().enumerate() {
        for (i, want) in m.iter().enumerate() {
            let sum = stems.iter().fold(0.0f32, |acc, (l, r)| {
                acc + if c == 0 { l.get(i) } else { r.get(i) }
                    .copied()
                    .unwrap_or(0.0)
            });
            worst = worst.max(f64::from((sum - want).abs()));
        }
    }
    worst
}

/// The result of one render pass.
struct Pass {
    chains: Vec<Chain>,
    /// Per null group (wet, dry): the in-memory null test's residual.
    memory_null: [f64; 2],
    /// A file clipped and the pass stopped writing (spilling on for the trim).
    would_clip: bool,
    /// Blocks of the pass delivered (written) before it went on spilling only.
    spilled_from: Option<usize>,
    /// Frames of each file written before that.
    delivered: u64,
}

/// What a render pass does.
#[derive(Clone, Copy)]
enum Render {
    /// Write and measure every file; with `spill`, spill only once a file clips.
    Deliver { spill: bool },
    /// Only the first `blocks` blocks, into spills.
    Prefix { blocks: usize },
}
