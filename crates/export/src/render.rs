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

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use stemdeck_audio::decode::Decoder;
use stemdeck_audio::kernel::{StereoBuf, mix_block, mix_block_with};
use stemdeck_audio::resample::{RateConverter, converted_len};
use stemdeck_audio::stream::TrackStream;
use stemdeck_effects::dynamics::LookaheadDelay;
use stemdeck_effects::{MasterBus, MixInserts};
use stemdeck_session::effects::Effect;
use stemdeck_session::routing::{MixMode, MixPlan};
use stemdeck_session::units::{db_to_amplitude_f64, level_db};
use stemdeck_session::{EffectsMode, ExportSettings, Master, Session, TrimMode};

use crate::ExportError;
use crate::format::OutputFormat;
use crate::naming::{DEFAULT_TEMPLATE, file_stem, safe_file_name};
use crate::sheet::{ChainFacts, ProcessingFacts};
use crate::true_peak::TruePeakMeter;
use crate::writer::{PendingFile, StemWriter, temp_path_for};

/// Frames per block: large enough that per-block overhead vanishes, small enough that
/// 32 tracks stay within a few MB.
pub const BLOCK_FRAMES: usize = 16_384;

/// Where `--trim auto` puts the highest sample peak: −0.1 dBFS.
pub const TRIM_TARGET_DBFS: f64 = -0.1;

/// Output rates offered on the command line and in the app.
pub const SAMPLE_RATES: [u32; 4] = [44_100, 48_000, 88_200, 96_000];

/// What to export and where.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The folder the files go into (created if missing).
    pub out_dir: PathBuf,
    pub format: OutputFormat,
    /// File-name template, see [`crate::naming`].
    pub template: String,
    /// Also write the master mix (the sum of the stems) in the same run.
    pub include_master: bool,
    /// Replace files that already exist.
    pub force: bool,
}

impl ExportOptions {
    pub fn new(out_dir: PathBuf) -> Self {
        Self {
            out_dir,
            format: OutputFormat::WAV24,
            template: DEFAULT_TEMPLATE.to_owned(),
            include_master: false,
            force: false,
        }
    }

    /// The options saved in a session (`out_dir` when it names none: `default_dir`).
    pub fn from_settings(
        settings: &ExportSettings,
        default_dir: PathBuf,
    ) -> Result<Self, ExportError> {
        let format = OutputFormat::from_id(&settings.format).ok_or_else(|| {
            let ids: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.id()).collect();
            ExportError::BadOption(format!(
                "unknown export format \"{}\" (expected one of {})",
                settings.format,
                ids.join(", ")
            ))
        })?;
        Ok(Self {
            out_dir: settings.out_dir.clone().unwrap_or(default_dir),
            format,
            template: settings.template.clone(),
            include_master: settings.master,
            force: false,
        })
    }
}

/// Everything a delivery adds to the stems: output rate, variants, tail, headroom,
/// the song information sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryOptions {
    /// Output rate; `None`: the session's rate.
    pub sample_rate: Option<u32>,
    /// Also write every saved mix variant as a full mix.
    pub variants: bool,
    /// Seconds of silence added to the end of every file.
    pub tail_seconds: f64,
    /// Write "<title> - Song Info.pdf" and ".json" beside the stems.
    pub sheet: bool,
    /// What to do when an integer file would clip.
    pub trim: TrimMode,
    /// Stems with their effects (wet), without (dry), or both (`--effects`).
    pub effects: EffectsMode,
}

impl Default for DeliveryOptions {
    /// The defaults of a new session's export settings.
    fn default() -> Self {
        Self::from_settings(&ExportSettings::default())
    }
}

impl DeliveryOptions {
    pub fn from_settings(settings: &ExportSettings) -> Self {
        Self {
            sample_rate: settings.sample_rate,
            variants: settings.variants,
            tail_seconds: settings.tail_seconds,
            sheet: settings.sheet,
            trim: settings.trim,
            effects: settings.effects,
        }
    }
}

/// The settings to save in a session for these options (`out_dir` as given: `None`
/// for the default folder).
pub fn settings_for(
    opts: &ExportOptions,
    delivery: &DeliveryOptions,
    out_dir: Option<PathBuf>,
) -> ExportSettings {
    ExportSettings {
        format: opts.format.id().to_owned(),
        sample_rate: delivery.sample_rate,
        template: opts.template.clone(),
        master: opts.include_master,
        variants: delivery.variants,
        tail_seconds: delivery.tail_seconds,
        sheet: delivery.sheet,
        trim: delivery.trim,
        effects: delivery.effects,
        out_dir,
    }
}

/// Which pass an export is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Decoding, mixing, measuring and writing.
    Render,
    /// Writing every file again with the common trim (some file would have clipped).
    Trim,
    /// Reading the written files back for the null test.
    Verify,
}

impl Stage {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Render => "exporting",
            Self::Trim => "trimming",
            Self::Verify => "checking",
        }
    }
}

/// How far an export has got. `total_frames` covers every pass (it grows if a trim
/// pass turns out to be needed); `done_frames` only ever grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub done_frames: u64,
    pub total_frames: u64,
    pub stage: Stage,
}

/// What a written file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Stem,
    Master,
    Variant,
}

/// One written file.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The stem's name, "Master", or the variant's name.
    pub name: String,
    pub path: PathBuf,
    /// Highest absolute sample value in the file (1.0 = 0 dBFS).
    pub peak: f32,
    /// Samples clipped by an integer format (always 0: clipping files are never written).
    pub clipped: u64,
    /// Stems: the member tracks. Variants: the stems heard. Master: every stem.
    pub tracks: Vec<String>,
    pub is_master: bool,
    pub kind: FileKind,
    /// True peak (ITU-R BS.1770, 4× oversampled), linear (1.0 = 0 dBTP).
    pub true_peak: f64,
    /// Integrated loudness (EBU R128), LUFS; `None` for silence.
    pub loudness: Option<f64>,
    /// A stem without its effects (`--effects dry` or `both`).
    pub dry: bool,
    /// Stems: the stem's place among the stems with tracks (a dry twin shares it).
    pub stem_index: Option<usize>,
    /// The processing in the file: its effect chains, or dry.
    pub processing: ProcessingFacts,
}

/// The common gain applied to every file.
#[derive(Clone, Debug, PartialEq)]
pub struct TrimReport {
    pub mode: TrimMode,
    /// Applied gain in dB (0 when none was needed or asked for).
    pub gain_db: f64,
    /// The master fader (`session.master.gain_db`), applied to every file before the
    /// trim; the trim is a further move of the same fader.
    pub fader_db: f64,
    /// The highest sample peak of all files before the trim, dBFS.
    pub loudest_before_db: f64,
    /// One line for people: what was done and why.
    pub message: String,
}

/// What the null test compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NullSource {
    /// The written stem files summed against the written master file.
    Files,
    /// The written stem files' samples summed against the in-memory master (no master
    /// file was exported).
    Memory,
}

/// The stems summed minus the master.
#[derive(Clone, Debug, PartialEq)]
pub struct NullTest {
    pub source: NullSource,
    /// Highest absolute residual sample (linear; 0 = bit-exact).
    pub residual_peak: f64,
    /// Whether the residual is within what the format's rounding or dither explains.
    pub passed: bool,
    /// One line for people, e.g. "-143.2 dBFS: the stems add up to the master".
    pub message: String,
}

/// What an export did.
#[derive(Clone, Debug)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub files: Vec<FileReport>,
    /// Frames in every file (at `sample_rate`, the tail included).
    pub frames: u64,
    /// The rate of the files.
    pub sample_rate: u32,
    pub format: OutputFormat,
    pub elapsed: Duration,
    /// Stems with no tracks: nothing to write.
    pub empty_stems: Vec<String>,
    /// Tracks in no stem: left out of the stems and the master.
    pub unassigned: Vec<String>,
    /// The session's rate (the files' rate differs when converted).
    pub session_rate: u32,
    /// Frames of silence at the end of every file.
    pub tail_frames: u64,
    pub trim: TrimReport,
    /// The stems with the normal names (wet, or dry with `--effects dry`) against the
    /// master.
    pub null_test: Option<NullTest>,
    /// With `--effects both`: the dry stems against the dry sum, made in memory in the
    /// same pass.
    pub dry_null_test: Option<NullTest>,
    /// The song information sheet (PDF, JSON) when written.
    pub sheet_files: Vec<PathBuf>,
    /// When the export was made, UTC, RFC 3339.
    pub exported_at: String,
}

impl ExportReport {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// A file an export would write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedFile {
    /// The stem's or variant's name, "Master", or "Song Info (PDF)" / "(JSON)".
    pub name: String,
    pub path: PathBuf,
    /// `None` for the sheet.
    pub kind: Option<FileKind>,
}

/// Where one output's audio comes from in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// Index into the stems plan: the stem with its inserts and the master processing.
    Stem(usize),
    /// The processed master (the sum of the wet stems).
    Master,
    /// Index into the variant plans.
    Variant(usize),
    /// Index into the stems plan: the stem as it was before effects (master fader only).
    DryStem(usize),
    /// The sum of the dry stems (in memory only, for their null test).
    DryMaster,
}

#[derive(Clone, Debug)]
struct OutputSpec {
    kind: FileKind,
    name: String,
    path: PathBuf,
    members: Vec<String>,
    source: Source,
    seed: u64,
    dry: bool,
    stem_index: Option<usize>,
    processing: ProcessingFacts,
}

/// The null tests an export makes: which stems are compared with what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NullGroup {
    Wet,
    Dry,
}

impl Source {
    /// The in-memory master a null group compares against.
    fn memory_master(group: NullGroup) -> Self {
        match group {
            NullGroup::Wet => Source::Master,
            NullGroup::Dry => Source::DryMaster,
        }
    }
}

/// The chains of the tracks of `stems` (indices into `session.stems`) and of those
/// stems, then the master's: the processing a wet file includes.
fn wet_processing(session: &Session, stems: &[usize]) -> ProcessingFacts {
    fn labels(effects: &[Effect]) -> Vec<String> {
        effects
            .iter()
            .map(|e| {
                let label = e.kind.label();
                if e.bypass {
                    format!("{label} (bypassed)")
                } else {
                    label.to_owned()
                }
            })
            .collect()
    }
    let mut chains = Vec::new();
    for stem in stems.iter().filter_map(|i| session.stems.get(*i)) {
        for t in stem.tracks.iter().filter_map(|id| session.track(*id)) {
            if !t.effects.is_empty() {
                chains.push(ChainFacts {
                    on: format!("track \"{}\"", t.name),
                    effects: labels(&t.effects),
                });
            }
        }
        if !stem.effects.is_empty() {
            chains.push(ChainFacts {
                on: format!("stem \"{}\"", stem.name),
                effects: labels(&stem.effects),
            });
        }
    }
    if !session.master.effects.is_empty() {
        chains.push(ChainFacts {
            on: "master".to_owned(),
            effects: labels(&session.master.effects),
        });
    }
    ProcessingFacts { dry: false, chains }
}

/// Everything decided before any audio is touched.
struct Layout {
    out_dir: PathBuf,
    format: OutputFormat,
    session_rate: u32,
    out_rate: u32,
    tail_frames: u64,
    plan: MixPlan,
    variant_plans: Vec<MixPlan>,
    outputs: Vec<OutputSpec>,
    empty_stems: Vec<String>,
    unassigned: Vec<String>,
    sheet_pdf: Option<PathBuf>,
    sheet_json: Option<PathBuf>,
    effects: EffectsMode,
    /// No effect anywhere: the dry stems are the wet ones (the fader applies to both),
    /// so they are not mixed twice.
    dry_is_wet: bool,
    /// The master bus and the fader (for the wet mixes; the dry stems get the fader only).
    master: Master,
}

impl Layout {
    fn new(
        session: &Session,
        opts: &ExportOptions,
        delivery: &DeliveryOptions,
    ) -> Result<Self, ExportError> {
        let out_rate = delivery.sample_rate.unwrap_or(session.sample_rate);
        if !(8_000..=384_000).contains(&out_rate) {
            return Err(ExportError::BadOption(format!(
                "sample rate {out_rate} Hz is out of range (8000 to 384000 Hz)"
            )));
        }
        if !delivery.tail_seconds.is_finite() || !(0.0..=3600.0).contains(&delivery.tail_seconds) {
            return Err(ExportError::BadOption(format!(
                "tail of {} seconds: give 0 to 3600 seconds",
                delivery.tail_seconds
            )));
        }
        let tail_frames = (delivery.tail_seconds * f64::from(out_rate)).round() as u64;
        let target = |index: usize, name: &str| {
            let stem = file_stem(&opts.template, &session.song, index, name);
            opts.out_dir
                .join(format!("{stem}.{}", opts.format.extension()))
        };

        let mode = delivery.effects;
        let (wet, dry) = (mode != EffectsMode::Dry, mode != EffectsMode::Wet);
        let dry_processing = ProcessingFacts {
            dry: true,
            chains: Vec::new(),
        };
        let mut outputs = Vec::new();
        let mut empty_stems = Vec::new();
        let mut stem_names = Vec::new();
        let mut stemmed = Vec::new();
        // Dither seeds count the files without the dry twins, so a wet export's bytes do
        // not depend on the effects mode, and a dry twin shares its wet file's seed (a
        // session without effects gives identical files).
        let mut seeds = 0u64;
        for (i, stem) in session.stems.iter().enumerate() {
            if stem.tracks.is_empty() {
                empty_stems.push(stem.name.clone());
                continue;
            }
            let index = stem_names.len() + 1;
            stem_names.push(stem.name.clone());
            stemmed.push(i);
            seeds += 1;
            let members: Vec<String> = stem
                .tracks
                .iter()
                .filter_map(|id| session.track(*id))
                .map(|t| t.name.clone())
                .collect();
            let spec = OutputSpec {
                kind: FileKind::Stem,
                name: stem.name.clone(),
                path: target(index, &stem.name),
                members,
                source: Source::Stem(i),
                seed: seeds,
                dry: false,
                stem_index: Some(index - 1),
                processing: wet_processing(session, &[i]),
            };
            if dry {
                let mut twin = spec.clone();
                twin.source = Source::DryStem(i);
                twin.dry = true;
                twin.processing = dry_processing.clone();
                if wet {
                    // "01 Song - Drums (Dry).wav" beside "01 Song - Drums.wav".
                    twin.name = format!("{} (Dry)", stem.name);
                    let base = file_stem(&opts.template, &session.song, index, &stem.name);
                    twin.path = opts.out_dir.join(format!(
                        "{}.{}",
                        safe_file_name(&format!("{base} (Dry)")),
                        opts.format.extension()
                    ));
                    outputs.push(spec);
                }
                outputs.push(twin);
            } else {
                outputs.push(spec);
            }
        }
        if outputs.is_empty() {
            return Err(ExportError::NothingToExport);
        }
        if opts.include_master {
            seeds += 1;
            outputs.push(OutputSpec {
                kind: FileKind::Master,
                name: "Master".into(),
                path: target(0, "Master"),
                members: stem_names,
                source: Source::Master,
                seed: seeds,
                dry: false,
                stem_index: None,
                processing: wet_processing(session, &stemmed),
            });
        }
        let mut variant_plans = Vec::new();
        if delivery.variants {
            for (k, variant) in session.delivery_variants().iter().enumerate() {
                let mut s = session.clone();
                s.apply_variant(variant);
                let plan = s.mix_plan(MixMode::Audition);
                let heard = plan
                    .stems
                    .iter()
                    .filter(|sg| sg.gain > 0.0 && sg.tracks.iter().any(|t| t.gain > 0.0))
                    .filter_map(|sg| session.stem(sg.stem).map(|s| s.name.clone()))
                    .collect();
                let heard_stems: Vec<usize> = plan
                    .stems
                    .iter()
                    .enumerate()
                    .filter(|(_, sg)| sg.gain > 0.0 && sg.tracks.iter().any(|t| t.gain > 0.0))
                    .map(|(i, _)| i)
                    .collect();
                seeds += 1;
                outputs.push(OutputSpec {
                    kind: FileKind::Variant,
                    name: variant.name.clone(),
                    path: target(k + 1, &variant.name),
                    members: heard,
                    source: Source::Variant(variant_plans.len()),
                    seed: seeds,
                    dry: false,
                    stem_index: None,
                    processing: wet_processing(session, &heard_stems),
                });
                variant_plans.push(plan);
            }
        }
        let (sheet_pdf, sheet_json) = if delivery.sheet {
            let base = sheet_base_name(session);
            (
                Some(opts.out_dir.join(format!("{base}.pdf"))),
                Some(opts.out_dir.join(format!("{base}.json"))),
            )
        } else {
            (None, None)
        };
        Ok(Self {
            out_dir: opts.out_dir.clone(),
            format: opts.format,
            session_rate: session.sample_rate,
            out_rate,
            tail_frames,
            plan: session.mix_plan(MixMode::Stems),
            variant_plans,
            outputs,
            empty_stems,
            unassigned: session
                .unassigned_tracks()
                .map(|t| t.name.clone())
                .collect(),
            sheet_pdf,
            sheet_json,
            effects: mode,
            dry_is_wet: !session.has_effects(),
            master: session.master.clone(),
        })
    }

    fn has_master_file(&self) -> bool {
        self.outputs.iter().any(|o| o.kind == FileKind::Master)
    }

    fn has_stems(&self, group: NullGroup) -> bool {
        self.outputs
            .iter()
            .any(|o| o.kind == FileKind::Stem && o.dry == (group == NullGroup::Dry))
    }

    /// The group whose stem files are compared with the master file, if any: the wet
    /// stems; with `--effects dry` and no effect anywhere, the dry stems (they are the
    /// wet ones), as before effects existed.
    fn files_null_group(&self) -> Option<NullGroup> {
        if !self.has_master_file() {
            None
        } else if self.has_stems(NullGroup::Wet) {
            Some(NullGroup::Wet)
        } else if self.dry_is_wet {
            Some(NullGroup::Dry)
        } else {
            None
        }
    }

    /// The groups whose stems are compared with a master summed in memory.
    fn memory_null_groups(&self) -> Vec<NullGroup> {
        [NullGroup::Wet, NullGroup::Dry]
            .into_iter()
            .filter(|g| self.has_stems(*g) && self.files_null_group() != Some(*g))
            .collect()
    }

    /// Whether the wet mix of the stems plan is needed in the pass (for wet files, the
    /// master, the variants, or dry stems that are the wet ones).
    fn needs_wet_mix(&self) -> bool {
        self.has_stems(NullGroup::Wet)
            || self.has_master_file()
            || !self.variant_plans.is_empty()
            || self.dry_is_wet
    }

    fn planned(&self) -> Vec<PlannedFile> {
        let mut v: Vec<PlannedFile> = self
            .outputs
            .iter()
            .map(|o| PlannedFile {
                name: o.name.clone(),
                path: o.path.clone(),
                kind: Some(o.kind),
            })
            .collect();
        for (path, what) in [
            (&self.sheet_pdf, "Song Info (PDF)"),
            (&self.sheet_json, "Song Info (JSON)"),
        ] {
            if let Some(path) = path {
                v.push(PlannedFile {
                    name: what.into(),
                    path: path.clone(),
                    kind: None,
                });
            }
        }
        v
    }
}

/// "<title> - Song Info" (without extension), safe on every OS.
pub fn sheet_base_name(session: &Session) -> String {
    let title = session.song.title.trim();
    let title = if title.is_empty() { "Untitled" } else { title };
    safe_file_name(&format!("{title} - Song Info"))
}

/// The files an export with these options would write, in order (stems, master,
/// variants, sheet): for a live preview of the names. Checks the options like
/// [`export_delivery`] does, but touches no file.
pub fn planned_files(
    session: &Session,
    opts: &ExportOptions,
    delivery: &DeliveryOptions,
) -> Result<Vec<PlannedFile>, ExportError> {
    let layout = Layout::new(session, opts, delivery)?;
    let planned = layout.planned();
    check_names(&planned)?;
    Ok(planned)
}

/// Render every stem with tracks (and the master if asked) into `opts.out_dir`: the
/// one-click export, at the session rate, with the song information sheet, no variants,
/// no tail, and automatic trim (a mix that would clip an integer format gets one common
/// gain rather than failing; the report says so).
///
/// Files appear only when complete; on any error or on `cancel`, nothing is left behind.
pub fn export(
    session: &Session,
    opts: &ExportOptions,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    let delivery = DeliveryOptions {
        trim: TrimMode::Auto,
        ..DeliveryOptions::default()
    };
    export_delivery(session, opts, &delivery, progress, cancel)
}

/// Render the whole delivery: every stem with tracks, the master and the variants if
/// asked, the song information sheet, checked by the null test (see the module docs).
///
/// Files appear only when complete; on any error or on `cancel`, nothing is left behind.
pub fn export_delivery(
    session: &Session,
    opts: &ExportOptions,
    delivery: &DeliveryOptions,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportReport, ExportError> {
    let started = Instant::now();
    let exported_at = crate::sheet::now_rfc3339();
    let layout = Layout::new(session, opts, delivery)?;
    let planned = layout.planned();
    check_names(&planned)?;
    check_existing(&planned, opts.force)?;

    let mut streams = open_streams(session, &layout.plan, &layout.variant_plans)?;
    stage_time("open", started);
    let song_frames = streams
        .iter()
        .flatten()
        .map(TrackStream::len)
        .max()
        .unwrap_or(0);
    if song_frames == 0 {
        return Err(ExportError::NothingToExport);
    }
    let frames =
        converted_len(song_frames, layout.session_rate, layout.out_rate) + layout.tail_frames;

    let created_dir = !opts.out_dir.exists();
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| ExportError::OutDir {
        path: opts.out_dir.clone(),
        source,
    })?;
    let job = Job {
        session,
        layout: &layout,
        song_frames,
        frames,
        progress,
        cancel,
    };
    let result = job.run(&mut streams, delivery.trim);
    let (files, trim, null_test, dry_null_test, pending) = match result {
        Ok(r) => r,
        Err(e) => {
            if created_dir {
                // Only removes the folder if it is still empty.
                std::fs::remove_dir(&opts.out_dir).ok();
            }
            return Err(e);
        }
    };

    let mut report = ExportReport {
        dir: opts.out_dir.clone(),
        files,
        frames,
        sample_rate: layout.out_rate,
        format: opts.format,
        elapsed: Duration::ZERO,
        empty_stems: layout.empty_stems.clone(),
        unassigned: layout.unassigned.clone(),
        session_rate: layout.session_rate,
        tail_frames: layout.tail_frames,
        trim,
        null_test,
        dry_null_test,
        sheet_files: Vec::new(),
        exported_at,
    };
    let finish = || -> Result<Vec<PathBuf>, ExportError> {
        let mut pending = pending;
        if let (Some(pdf), Some(json)) = (&layout.sheet_pdf, &layout.sheet_json) {
            let sheet = crate::sheet::Sheet::new(session, &report);
            let bytes = crate::pdf::render(&sheet).map_err(|reason| ExportError::Pdf {
                path: pdf.clone(),
                reason,
            })?;
            pending.push(PendingFile::write_all(pdf.clone(), &bytes)?);
            pending.push(PendingFile::write_all(
                json.clone(),
                sheet.to_json().as_bytes(),
            )?);
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Cancelled);
        }
        commit_all(pending)
    };
    let sheet_started = Instant::now();
    let finished = finish();
    stage_time("sheet + rename", sheet_started);
    match finished {
        Ok(paths) => {
            report.sheet_files = paths
                .into_iter()
                .filter(|p| {
                    Some(p) == layout.sheet_pdf.as_ref() || Some(p) == layout.sheet_json.as_ref()
                })
                .collect();
        }
        Err(e) => {
            if created_dir {
                std::fs::remove_dir(&opts.out_dir).ok();
            }
            return Err(e);
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Rename every pending file; if one fails, the ones already renamed are removed.
fn commit_all(pending: Vec<PendingFile>) -> Result<Vec<PathBuf>, ExportError> {
    let mut done = Vec::new();
    for p in pending {
        match p.commit() {
            Ok(path) => done.push(path),
            Err(e) => {
                for path in done {
                    std::fs::remove_file(path).ok();
                }
                return Err(e);
            }
        }
    }
    Ok(done)
}

fn check_names(planned: &[PlannedFile]) -> Result<(), ExportError> {
    let mut seen = std::collections::HashSet::new();
    for f in planned {
        // Case-insensitive: the same file on macOS and Windows.
        if !seen.insert(f.path.to_string_lossy().to_lowercase()) {
            return Err(ExportError::DuplicateName {
                path: f.path.clone(),
            });
        }
    }
    Ok(())
}

fn check_existing(planned: &[PlannedFile], force: bool) -> Result<(), ExportError> {
    if force {
        return Ok(());
    }
    let existing: Vec<&PathBuf> = planned
        .iter()
        .map(|f| &f.path)
        .filter(|p| p.exists())
        .collect();
    if let Some(first) = existing.first() {
        return Err(ExportError::WouldOverwrite {
            first: (*first).clone(),
            more: existing.len() - 1,
        });
    }
    Ok(())
}

/// Open every track that is heard in a stem or a variant, in parallel (opening may
/// scan a whole MP3).
fn open_streams(
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
fn stage_time(what: &str, started: Instant) {
    if std::env::var_os("STEMDECK_EXPORT_TIMING").is_some() {
        eprintln!("[timing] {what}: {:.3} s", started.elapsed().as_secs_f64());
    }
}

/// A linear level in dB, -inf for silence.
fn db(linear: f64) -> f64 {
    level_db(linear).unwrap_or(f64::NEG_INFINITY)
}

/// dBFS as text for messages: "-0.1", "-inf".
pub fn format_db(level_db: f64) -> String {
    if !level_db.is_finite() {
        "-inf".into()
    } else if level_db > 0.05 {
        format!("+{level_db:.1}")
    } else {
        format!("{level_db:.1}")
    }
}

/// One export run over the decoded tracks.
struct Job<'a> {
    session: &'a Session,
    layout: &'a Layout,
    song_frames: u64,
    /// Frames in every file.
    frames: u64,
    progress: &'a (dyn Fn(Progress) + Sync),
    cancel: &'a AtomicBool,
}

type RunResult = (
    Vec<FileReport>,
    TrimReport,
    Option<NullTest>,
    Option<NullTest>,
    Vec<PendingFile>,
);

impl Job<'_> {
    fn run(
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
                    let residual = self.null_test_files(&stem_paths, master, &mut counter)?;
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
        let new_inputs = || -> Vec<Vec<Vec<f32>>> {
            streams
                .iter()
                .map(|s| match s {
                    Some(s) => vec![vec![0.0; BLOCK_FRAMES]; s.channels()],
                    None => Vec::new(),
                })
                .collect()
        };
        let mut inputs = new_inputs();
        let mut next_inputs = new_inputs();
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

    /// Decode the written stems and master, sum the stems, subtract the master: the
    /// highest absolute residual. Also checks every file has the right length.
    fn null_test_files(
        &self,
        stems: &[PathBuf],
        master: &Path,
        counter: &mut Counter,
    ) -> Result<f64, ExportError> {
        let master = master.to_path_buf();
        let mut decoders: Vec<(PathBuf, Decoder)> = stems
            .iter()
            .chain(std::iter::once(&master))
            .map(|p| Decoder::open(p).map(|d| (p.clone(), d)))
            .collect::<Result<_, _>>()?;
        for (path, d) in &decoders {
            let info = d.info();
            if info.frames != self.frames
                || info.channels != 2
                || info.sample_rate != self.layout.out_rate
            {
                return Err(ExportError::Read {
                    path: path.clone(),
                    reason: format!(
                        "reads back as {} frames, {} channels at {} Hz; expected {} frames, stereo at {} Hz",
                        info.frames,
                        info.channels,
                        info.sample_rate,
                        self.frames,
                        self.layout.out_rate
                    ),
                });
            }
        }
        // Two sets of blocks: block k+1 is read while block k is compared.
        let mut bufs =
            vec![[vec![0.0f32; BLOCK_FRAMES], vec![0.0f32; BLOCK_FRAMES]]; decoders.len()];
        let mut next_bufs = bufs.clone();
        let mut sum = vec![0.0f32; BLOCK_FRAMES];
        let mut residual = 0.0f64;
        let mut done = 0u64;
        let frames = self.frames;
        let block_at = |done: u64| (frames.saturating_sub(done)).min(BLOCK_FRAMES as u64) as usize;
        read_back_block(&mut decoders, &mut bufs, block_at(0), 0)?;
        while done < self.frames {
            if self.cancel.load(Ordering::Relaxed) {
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
            counter.done += n as u64;
            (self.progress)(Progress {
                done_frames: counter.done,
                total_frames: counter.total,
                stage: Stage::Verify,
            });
        }
        Ok(residual)
    }
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

/// Decode the next `n` frames of every stream into its input block, in parallel.
fn decode_block(
    streams: &mut [Option<TrackStream>],
    inputs: &mut [Vec<Vec<f32>>],
    n: usize,
) -> Result<(), ExportError> {
    streams
        .par_iter_mut()
        .zip(inputs.par_iter_mut())
        .try_for_each(|(stream, buf)| match stream {
            Some(stream) => {
                debug_assert!(buf.iter().all(|c| c.len() >= n));
                let mut chans: Vec<&mut [f32]> = buf
                    .iter_mut()
                    .map(|c| c.get_mut(..n).unwrap_or_default())
                    .collect();
                stream.read(&mut chans)
            }
            None => Ok(()),
        })?;
    Ok(())
}

struct Counter {
    done: u64,
    total: u64,
}

/// The wet mix of one plan: its track and stem inserts (`None`: no effect, the plain
/// kernel), its master bus, its stems and master.
struct WetMix {
    inserts: Option<MixInserts>,
    bus: MasterBus,
    stems: Vec<StereoBuf>,
    master: StereoBuf,
}

impl WetMix {
    fn new(
        session: &Session,
        plan: &MixPlan,
        master: &Master,
        rate: u32,
    ) -> Result<Self, ExportError> {
        let inserts = MixInserts::for_session(session, plan, rate, BLOCK_FRAMES)?;
        Ok(Self {
            inserts: (!inserts.is_empty()).then_some(inserts),
            bus: MasterBus::new(master, plan.stems.len(), rate)?,
            stems: vec![StereoBuf::new(BLOCK_FRAMES); plan.stems.len()],
            master: StereoBuf::new(BLOCK_FRAMES),
        })
    }

    /// Frames the mix comes out late (the inserts' and the bus's look-ahead).
    fn latency(&self) -> usize {
        self.inserts.as_ref().map_or(0, MixInserts::latency) + self.bus.latency()
    }

    /// The kernel (with the inserts), stems and master before the master bus.
    fn mix(&mut self, plan: &MixPlan, inputs: &[Vec<Vec<f32>>], n: usize) {
        match &mut self.inserts {
            Some(inserts) => mix_block_with(
                plan,
                plan,
                inputs,
                &mut self.stems,
                &mut self.master,
                n,
                inserts,
            ),
            None => mix_block(plan, plan, inputs, &mut self.stems, &mut self.master, n),
        }
    }

    fn process_bus(&mut self, n: usize) {
        self.bus.process(&mut self.stems, &mut self.master, n);
    }
}

/// How a variant's stems are made.
enum VariantStems {
    /// From the stems plan's wet stems before the master bus: a variant that only
    /// silences whole stems (mute/solo of stems: the usual case) hears each stem either
    /// exactly as the stems plan does or not at all, so its track and stem inserts need
    /// not run again. `true`: the stem is heard.
    Reuse(Vec<bool>),
    /// Its own mix (a soloed track makes a stem differ from the stems plan's).
    Own,
}

struct VariantMix {
    how: VariantStems,
    mix: WetMix,
}

/// Everything one render pass mixes per block: the wet stems and master (inserts and the
/// master bus), the dry stems (no inserts, the fader only) and the variants, each variant
/// with its own master bus. Built fresh for every pass, so every pass starts from the
/// same state and renders the same bits.
struct Mixer {
    wet: Option<WetMix>,
    /// Dry stems mixed on their own (`None`: none wanted, or they are the wet ones), and
    /// the delays that line them up with the wet mix's latency.
    dry: Option<(WetMix, Vec<LookaheadDelay>)>,
    variants: Vec<VariantMix>,
    /// Frames every wet output comes out late; dropped at the start of every output.
    latency: usize,
    /// Some effect runs: its tail (a reverb, a delay, the look-ahead) is mixed through the
    /// silence after the song instead of being cut.
    effects: bool,
    /// Silent inputs for the blocks after the song.
    zeros: Vec<Vec<Vec<f32>>>,
}

impl Mixer {
    fn new(
        session: &Session,
        layout: &Layout,
        streams: &[Option<TrackStream>],
    ) -> Result<Self, ExportError> {
        let rate = layout.session_rate;
        let plan = &layout.plan;
        let wet = if layout.needs_wet_mix() {
            Some(WetMix::new(session, plan, &layout.master, rate)?)
        } else {
            None
        };
        let latency = wet.as_ref().map_or(0, WetMix::latency);
        let fader_only = Master {
            gain_db: layout.master.gain_db,
            effects: Vec::new(),
        };
        let dry = if layout.has_stems(NullGroup::Dry) && !layout.dry_is_wet {
            let mut dry = WetMix::new(session, plan, &fader_only, rate)?;
            dry.inserts = None;
            let delays = (0..=plan.stems.len())
                .map(|_| LookaheadDelay::new(latency))
                .collect();
            Some((dry, delays))
        } else {
            None
        };
        let mut variants = Vec::new();
        for vplan in &layout.variant_plans {
            let reuse = wet.as_ref().and_then(|w| {
                w.inserts.as_ref()?;
                vplan
                    .stems
                    .iter()
                    .zip(&plan.stems)
                    .map(|(v, p)| {
                        if v == p {
                            Some(true)
                        } else if v.tracks.iter().all(|t| t.gain == 0.0) {
                            Some(false)
                        } else {
                            None
                        }
                    })
                    .collect::<Option<Vec<bool>>>()
                    .filter(|heard| heard.len() == vplan.stems.len())
            });
            let mut mix = WetMix::new(session, vplan, &layout.master, rate)?;
            let how = match reuse {
                Some(heard) => {
                    mix.inserts = None;
                    VariantStems::Reuse(heard)
                }
                None => VariantStems::Own,
            };
            if mix.latency() != latency && matches!(how, VariantStems::Own) {
                return Err(ExportError::Internal(
                    "a mix variant's effects have another latency".into(),
                ));
            }
            variants.push(VariantMix { how, mix });
        }
        let effects = session.has_effects();
        let zeros = if effects {
            streams
                .iter()
                .map(|s| match s {
                    Some(s) => vec![vec![0.0; BLOCK_FRAMES]; s.channels()],
                    None => Vec::new(),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            wet,
            dry,
            variants,
            latency,
            effects,
            zeros,
        })
    }

    /// Mix `n` frames of `inputs` (`None`: silence after the song) into every source.
    fn mix(&mut self, layout: &Layout, inputs: Option<&[Vec<Vec<f32>>]>, n: usize) {
        debug_assert_eq!(self.variants.len(), layout.variant_plans.len());
        let inputs = inputs.unwrap_or(&self.zeros);
        if let Some(wet) = &mut self.wet {
            wet.mix(&layout.plan, inputs, n);
        }
        for (v, vplan) in self.variants.iter_mut().zip(&layout.variant_plans) {
            match (&v.how, &self.wet) {
                (VariantStems::Reuse(heard), Some(wet)) => {
                    // The stems plan's stems before its bus, silenced where the variant
                    // does not hear them, summed as the kernel sums them.
                    let (ml, mr) = (&mut v.mix.master.left, &mut v.mix.master.right);
                    ml.iter_mut().chain(mr.iter_mut()).for_each(|x| *x = 0.0);
                    for ((dst, src), on) in v.mix.stems.iter_mut().zip(&wet.stems).zip(heard) {
                        for (d, s) in [(&mut dst.left, &src.left), (&mut dst.right, &src.right)] {
                            let (Some(d), Some(s)) = (d.get_mut(..n), s.get(..n)) else {
                                continue;
                            };
                            if *on {
                                d.copy_from_slice(s);
                            } else {
                                d.fill(0.0);
                            }
                        }
                        for (m, s) in [(&mut *ml, &dst.left), (&mut *mr, &dst.right)] {
                            m.iter_mut()
                                .zip(s.iter().take(n))
                                .for_each(|(m, s)| *m += *s);
                        }
                    }
                }
                _ => v.mix.mix(vplan, inputs, n),
            }
            v.mix.process_bus(n);
        }
        if let Some(wet) = &mut self.wet {
            wet.process_bus(n);
        }
        if let Some((dry, delays)) = &mut self.dry {
            dry.mix(&layout.plan, inputs, n);
            dry.process_bus(n);
            if self.latency > 0 {
                let bufs = dry.stems.iter_mut().chain(std::iter::once(&mut dry.master));
                for (buf, delay) in bufs.zip(delays.iter_mut()) {
                    if let (Some(l), Some(r)) = (buf.left.get_mut(..n), buf.right.get_mut(..n)) {
                        delay.process(l, r);
                    }
                }
            }
        }
    }

    /// This block's sources.
    fn sources(&self) -> SourceBufs<'_> {
        let empty: &[StereoBuf] = &[];
        let (stems, master) = match &self.wet {
            Some(w) => (w.stems.as_slice(), Some(&w.master)),
            None => (empty, None),
        };
        let (dry_stems, dry_master) = match &self.dry {
            Some((d, _)) => (d.stems.as_slice(), Some(&d.master)),
            None => (stems, master),
        };
        SourceBufs {
            stems,
            master,
            variants: self.variants.iter().map(|v| &v.mix.master).collect(),
            dry_stems,
            dry_master,
            silence: None,
        }
    }
}

/// The audio of one block, by source.
struct SourceBufs<'a> {
    stems: &'a [StereoBuf],
    master: Option<&'a StereoBuf>,
    variants: Vec<&'a StereoBuf>,
    dry_stems: &'a [StereoBuf],
    dry_master: Option<&'a StereoBuf>,
    /// Set when every source is silent (the tail).
    silence: Option<&'a StereoBuf>,
}

impl<'a> SourceBufs<'a> {
    fn get(&self, source: Source, silence: &'a StereoBuf) -> &'a StereoBuf {
        if let Some(s) = self.silence {
            return s;
        }
        let found = match source {
            Source::Stem(i) => self.stems.get(i),
            Source::Master => self.master,
            Source::Variant(i) => self.variants.get(i).copied(),
            Source::DryStem(i) => self.dry_stems.get(i),
            Source::DryMaster => self.dry_master,
        };
        debug_assert!(found.is_some(), "no audio for {source:?}");
        found.unwrap_or(silence)
    }
}

/// The in-memory null test of the last block: the stems of `group` as written, summed,
/// against their in-memory master.
fn block_null(chains: &[Chain], group: NullGroup) -> f64 {
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

/// What a null test compares, for its message.
#[derive(Clone, Copy)]
struct NullTarget {
    group: NullGroup,
    /// The session has effects (wet and dry differ).
    effects: bool,
    /// Both kinds of stems were written.
    both: bool,
}

/// The null test's verdict and message for a residual.
fn null_verdict(
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

fn null_verdict_plain(
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

/// One output's blocks as rendered in pass 1 (after rate conversion, before the gain),
/// raw f32 in native byte order (written and read as they are in memory, no copy),
/// left then right, in a temporary file beside the
/// outputs: the trim reads them back instead of decoding again. Memory stays one block;
/// the file is deleted when this is dropped (done, error, cancel or panic).
struct Spill {
    path: PathBuf,
    file: File,
    /// Frames of every block written, in order.
    blocks: Vec<usize>,
    /// Highest absolute value spilled (what the writer's peak would be at gain 1).
    peak: f32,
}

impl Spill {
    fn create(path: PathBuf) -> Result<Self, ExportError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|source| ExportError::Io {
                path: path.clone(),
                source,
            })?;
        Ok(Self {
            path,
            file,
            blocks: Vec::new(),
            peak: 0.0,
        })
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> ExportError + use<> {
        let path = self.path.clone();
        move |source| ExportError::Io { path, source }
    }

    fn write(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
        debug_assert_eq!(left.len(), right.len());
        let n = left.len().min(right.len());
        let (left, right) = (
            left.get(..n).unwrap_or_default(),
            right.get(..n).unwrap_or_default(),
        );
        // The same maximum the writer keeps (f32::max skips NaN).
        self.peak = left
            .iter()
            .chain(right)
            .fold(self.peak, |p, x| p.max(x.abs()));
        for ch in [left, right] {
            self.file
                .write_all(bytemuck::cast_slice(ch))
                .map_err(self.io())?;
        }
        self.blocks.push(n);
        Ok(())
    }

    fn rewind(&mut self) -> Result<(), ExportError> {
        self.file.seek(SeekFrom::Start(0)).map_err(self.io())?;
        Ok(())
    }

    /// The next block (`n` frames) into `left` and `right`.
    fn read(
        &mut self,
        n: usize,
        left: &mut Vec<f32>,
        right: &mut Vec<f32>,
    ) -> Result<(), ExportError> {
        for out in [left, right] {
            out.clear();
            out.resize(n, 0.0);
            self.file
                .read_exact(bytemuck::cast_slice_mut(out.as_mut_slice()))
                .map_err(self.io())?;
        }
        Ok(())
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        std::fs::remove_file(&self.path).ok();
    }
}

/// EBU R128 integrated loudness and the sample peak (the true peak is measured by
/// `TruePeakMeter`: the same values, faster).
fn loudness_meter(path: &Path, rate: u32) -> Result<ebur128::EbuR128, ExportError> {
    let mode = ebur128::Mode::I | ebur128::Mode::SAMPLE_PEAK;
    ebur128::EbuR128::new(2, rate, mode).map_err(|e| ExportError::Loudness {
        path: path.to_owned(),
        reason: format!("cannot measure at {rate} Hz: {e}"),
    })
}

/// A rate converter being fed.
struct Converter {
    rc: RateConverter,
    /// Frames in its input buffers.
    fill: usize,
}

/// One output: rate conversion, the common gain, measurement, the file.
struct Chain {
    /// `None` for the in-memory master.
    spec: Option<OutputSpec>,
    spec_path: PathBuf,
    source: Source,
    conv: Option<Converter>,
    gain: f32,
    /// Pass 1's blocks from the first clip on, kept for the trim (`--trim auto`,
    /// integer formats).
    spill: Option<Spill>,
    /// The blocks before the first clip, rendered again for the trim.
    prefix: Option<Spill>,
    writer: Option<StemWriter>,
    meter: Option<ebur128::EbuR128>,
    true_peak: Option<TruePeakMeter>,
    produced: u64,
    target: u64,
    /// The writer's float peak when it stopped (the file went: a trim is coming).
    written_peak: f32,
    /// This block's output (planar, after the gain).
    out: [Vec<f32>; 2],
}

impl Chain {
    fn new(
        spec: Option<OutputSpec>,
        source: Source,
        layout: &Layout,
        target: u64,
        writer: Option<StemWriter>,
        spill: Option<Spill>,
    ) -> Result<Self, ExportError> {
        let spec_path = spec.as_ref().map(|s| s.path.clone()).unwrap_or_default();
        let conv = if layout.out_rate == layout.session_rate {
            None
        } else {
            let rc = RateConverter::new(&spec_path, layout.session_rate, layout.out_rate, 2)?;
            Some(Converter { rc, fill: 0 })
        };
        let meter = spec
            .is_some()
            .then(|| loudness_meter(&spec_path, layout.out_rate))
            .transpose()?;
        let true_peak = meter.as_ref().map(|_| TruePeakMeter::new(layout.out_rate));
        Ok(Self {
            spec,
            spec_path,
            source,
            conv,
            gain: 1.0,
            spill,
            prefix: None,
            writer,
            meter,
            true_peak,
            produced: 0,
            target,
            written_peak: 0.0,
            out: [
                Vec::with_capacity(BLOCK_FRAMES * 2),
                Vec::with_capacity(BLOCK_FRAMES * 2),
            ],
        })
    }

    fn done(&self) -> bool {
        self.produced >= self.target
    }

    fn clipped(&self) -> u64 {
        self.writer.as_ref().map_or(0, StemWriter::clipped)
    }

    /// The highest absolute value sent to the file (before conversion to integers):
    /// what was written, then what was spilled.
    fn float_peak(&self) -> f32 {
        let written = self
            .writer
            .as_ref()
            .map_or(self.written_peak, StemWriter::peak);
        written.max(self.spill.as_ref().map_or(0.0, |s| s.peak))
    }

    /// Blocks kept for the trim: the first ones, then from the first clip on.
    fn spilled_blocks(&self) -> usize {
        [&self.prefix, &self.spill]
            .iter()
            .filter_map(|s| s.as_ref())
            .map(|s| s.blocks.len())
            .sum()
    }

    /// Only spill from now on: the file (deleted), its meters and its writing go.
    fn stop_delivering(&mut self) {
        if let Some(w) = &self.writer {
            self.written_peak = w.peak();
        }
        self.writer = None;
        self.meter = None;
        self.true_peak = None;
    }

    /// Spilled block `k` (counting the first blocks, then the rest) through the gain,
    /// the meters and the writer.
    fn replay(&mut self, k: usize) -> Result<(), ExportError> {
        let [out_l, out_r] = &mut self.out;
        let first = self.prefix.as_ref().map_or(0, |p| p.blocks.len());
        let (spill, k) = if k < first {
            (self.prefix.as_mut(), k)
        } else {
            (self.spill.as_mut(), k - first)
        };
        debug_assert!(spill.as_ref().is_some_and(|s| k < s.blocks.len()));
        match spill {
            Some(spill) => {
                let n = spill.blocks.get(k).copied().unwrap_or(0);
                spill.read(n, out_l, out_r)?;
            }
            None => {
                out_l.clear();
                out_r.clear();
            }
        }
        self.deliver(false)
    }

    /// Sample peak as stored, clipped samples, true peak (linear), loudness (LUFS).
    fn measurements(&self) -> (f32, u64, f64, Option<f64>) {
        let peak = self.writer.as_ref().map_or(0.0, StemWriter::written_peak);
        let (true_peak, loudness) = match &self.meter {
            Some(m) => {
                // As ebur128's `true_peak()`: the larger of the interpolated and the sample peak.
                let interpolated = self
                    .true_peak
                    .as_ref()
                    .map_or([0.0; 2], TruePeakMeter::peaks);
                let tp = (0..2)
                    .filter_map(|c| m.sample_peak(c).ok())
                    .zip(interpolated)
                    .map(|(s, t)| s.max(f64::from(t)))
                    .fold(0.0f64, f64::max);
                let lufs = m.loudness_global().ok().filter(|l| l.is_finite());
                (tp, lufs)
            }
            None => (0.0, None),
        };
        (peak, self.clipped(), true_peak, loudness)
    }

    /// Take one block at the session rate; produce what it gives at the output rate.
    fn push(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
        debug_assert_eq!(left.len(), right.len());
        let [out_l, out_r] = &mut self.out;
        out_l.clear();
        out_r.clear();
        let room = self.target.saturating_sub(self.produced);
        let room = usize::try_from(room).unwrap_or(usize::MAX);
        match &mut self.conv {
            None => {
                let k = left.len().min(right.len()).min(room);
                out_l.extend_from_slice(left.get(..k).unwrap_or_default());
                out_r.extend_from_slice(right.get(..k).unwrap_or_default());
            }
            Some(conv) => {
                let n = left.len().min(right.len());
                let mut pos = 0;
                while pos < n {
                    let chunk = conv.rc.chunk_frames();
                    let take = chunk.saturating_sub(conv.fill).min(n - pos);
                    for (dst, src) in conv.rc.input_mut().iter_mut().zip([left, right]) {
                        if let (Some(d), Some(s)) = (
                            dst.get_mut(conv.fill..conv.fill + take),
                            src.get(pos..pos + take),
                        ) {
                            d.copy_from_slice(s);
                        }
                    }
                    conv.fill += take;
                    pos += take;
                    if conv.fill >= chunk {
                        conv.fill = 0;
                        let (bufs, range) =
                            conv.rc
                                .process(chunk)
                                .map_err(|reason| ExportError::Resample {
                                    path: self.spec_path.clone(),
                                    reason,
                                })?;
                        let k = range.len().min(room.saturating_sub(out_l.len()));
                        let range = range.start..range.start + k;
                        if let (Some(l), Some(r)) = (bufs.first(), bufs.get(1)) {
                            out_l.extend_from_slice(l.get(range.clone()).unwrap_or_default());
                            out_r.extend_from_slice(r.get(range).unwrap_or_default());
                        }
                    }
                }
            }
        }
        self.deliver(true)
    }

    /// This block's output (in `self.out`, at the output rate) through the spill (when
    /// `spill` and there is one), the gain, the meters and the writer.
    fn deliver(&mut self, spill: bool) -> Result<(), ExportError> {
        let [out_l, out_r] = &mut self.out;
        if out_l.is_empty() {
            return Ok(());
        }
        if let (true, Some(s)) = (spill, &mut self.spill) {
            s.write(out_l, out_r)?;
        }
        if self.gain != 1.0 {
            for x in out_l.iter_mut().chain(out_r.iter_mut()) {
                *x *= self.gain;
            }
        }
        if let Some(meter) = &mut self.meter {
            meter
                .add_frames_planar_f32(&[out_l.as_slice(), out_r.as_slice()])
                .map_err(|e| ExportError::Loudness {
                    path: self.spec_path.clone(),
                    reason: e.to_string(),
                })?;
        }
        if let Some(tp) = &mut self.true_peak {
            tp.add(out_l, out_r);
        }
        if let Some(w) = &mut self.writer {
            w.write(out_l, out_r)?;
        }
        self.produced += out_l.len() as u64;
        Ok(())
    }
}
