//! What to export and how: the options both front ends fill in (from a session's saved
//! export settings, the command line's flags, or the options window), and the settings
//! saved back.

use std::path::PathBuf;

use stemdeck_session::{EffectsMode, ExportSettings, TrimMode};

use crate::ExportError;
use crate::format::OutputFormat;
use crate::naming::DEFAULT_TEMPLATE;

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
