//! The plan of an export, decided before any audio is touched ([`Layout`]): the output
//! rate, the tail, every file with its name, its source (a stem, the master, a variant,
//! a dry stem) and its dither seed, the mix plans, the null tests to make, and the
//! sheet's names.

use std::path::PathBuf;

use stemdeck_session::effects::Effect;
use stemdeck_session::routing::{MixMode, MixPlan};
use stemdeck_session::{EffectsMode, Master, Session};

use crate::ExportError;
use crate::format::OutputFormat;
use crate::naming::{file_stem, safe_file_name};
use crate::options::{DeliveryOptions, ExportOptions};
use crate::report::{ChainFacts, FileKind, PlannedFile, ProcessingFacts};

/// Where one output's audio comes from in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
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
pub(crate) struct OutputSpec {
    pub(crate) kind: FileKind,
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) members: Vec<String>,
    pub(crate) source: Source,
    pub(crate) seed: u64,
    pub(crate) dry: bool,
    pub(crate) stem_index: Option<usize>,
    pub(crate) processing: ProcessingFacts,
}

/// The null tests an export makes: which stems are compared with what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NullGroup {
    Wet,
    Dry,
}

impl Source {
    /// The in-memory master a null group compares against.
    pub(crate) fn memory_master(group: NullGroup) -> Self {
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
pub(crate) struct Layout {
    pub(crate) out_dir: PathBuf,
    pub(crate) format: OutputFormat,
    pub(crate) session_rate: u32,
    pub(crate) out_rate: u32,
    pub(crate) tail_frames: u64,
    pub(crate) plan: MixPlan,
    pub(crate) variant_plans: Vec<MixPlan>,
    pub(crate) outputs: Vec<OutputSpec>,
    pub(crate) empty_stems: Vec<String>,
    pub(crate) unassigned: Vec<String>,
    pub(crate) sheet_pdf: Option<PathBuf>,
    pub(crate) sheet_json: Option<PathBuf>,
    pub(crate) effects: EffectsMode,
    /// No effect anywhere: the dry stems are the wet ones (the fader applies to both),
    /// so they are not mixed twice.
    pub(crate) dry_is_wet: bool,
    /// The master bus and the fader (for the wet mixes; the dry stems get the fader only).
    pub(crate) master: Master,
}

impl Layout {
    pub(crate) fn new(
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

    pub(crate) fn has_master_file(&self) -> bool {
        self.outputs.iter().any(|o| o.kind == FileKind::Master)
    }

    pub(crate) fn has_stems(&self, group: NullGroup) -> bool {
        self.outputs
            .iter()
            .any(|o| o.kind == FileKind::Stem && o.dry == (group == NullGroup::Dry))
    }

    /// The group whose stem files are compared with the master file, if any: the wet
    /// stems; with `--effects dry` and no effect anywhere, the dry stems (they are the
    /// wet ones), as before effects existed.
    pub(crate) fn files_null_group(&self) -> Option<NullGroup> {
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
    pub(crate) fn memory_null_groups(&self) -> Vec<NullGroup> {
        [NullGroup::Wet, NullGroup::Dry]
            .into_iter()
            .filter(|g| self.has_stems(*g) && self.files_null_group() != Some(*g))
            .collect()
    }

    /// Whether the wet mix of the stems plan is needed in the pass (for wet files, the
    /// master, the variants, or dry stems that are the wet ones).
    pub(crate) fn needs_wet_mix(&self) -> bool {
        self.has_stems(NullGroup::Wet)
            || self.has_master_file()
            || !self.variant_plans.is_empty()
            || self.dry_is_wet
    }

    pub(crate) fn planned(&self) -> Vec<PlannedFile> {
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
/// [`crate::export_delivery`] does, but touches no file.
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

pub(crate) fn check_names(planned: &[PlannedFile]) -> Result<(), ExportError> {
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
