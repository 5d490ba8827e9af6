//! Output formats: a container (how the file is laid out: `wav`, `flac`) with a
//! sample type (how each sample is stored: 16-bit dithered, 24-bit, 32-bit float),
//! behind one [`Encoder`] interface (write a block, finish), and the one table,
//! [`OutputFormat::ALL`], that the command line, the options window and the session's
//! export settings all list from.
//!
//! A new container is one new file here (a [`Container`] value whose `create` returns
//! its [`Encoder`]) plus one line per sample type in [`OutputFormat::ALL`]; a new sample
//! type also needs its conversion in the writer and its layout in each container (see
//! docs/architecture.md, "Where to add things").

pub(crate) mod flac;
pub(crate) mod wav;

use std::path::Path;

use crate::ExportError;

/// How a sample is stored. The writer converts the mix to it (dither, rounding,
/// clipping); the container only lays the values out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// 16-bit integer with TPDF dither.
    Int16,
    /// 24-bit integer, rounded (its noise floor is below any converter's).
    Int24,
    /// 32-bit float: the mix exactly, never clipped.
    Float32,
}

impl SampleType {
    pub fn bits(self) -> u16 {
        match self {
            Self::Int16 => 16,
            Self::Int24 => 24,
            Self::Float32 => 32,
        }
    }

    pub fn is_integer(self) -> bool {
        self != Self::Float32
    }

    /// "integer" or "float", as the song information sheet says.
    pub fn kind(self) -> &'static str {
        if self.is_integer() {
            "integer"
        } else {
            "float"
        }
    }

    /// Whether TPDF dither is added (16-bit only).
    pub fn is_dithered(self) -> bool {
        self == Self::Int16
    }

    /// Full scale of the integer type (2^(bits−1)); 1.0 for float.
    pub fn full_scale(self) -> f32 {
        match self {
            Self::Int16 => 32_768.0,
            Self::Int24 => 8_388_608.0,
            Self::Float32 => 1.0,
        }
    }
}

/// One block of stereo samples, interleaved (left, right, left, …), as the file stores
/// them: integers already in the sample type's range, or floats.
#[derive(Clone, Copy, Debug)]
pub enum Block<'a> {
    Int(&'a [i32]),
    Float(&'a [f32]),
}

/// A stereo file being encoded, block by block.
pub trait Encoder: Send {
    /// Append a block (its variant matches the sample type the encoder was created for).
    fn write(&mut self, block: Block<'_>) -> Result<(), ExportError>;
    /// Write what is left and complete the headers; the file is then whole.
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// A file container.
pub struct Container {
    /// As the song information sheet names it ("WAV", "FLAC").
    pub name: &'static str,
    /// The file name extension, without the dot.
    pub extension: &'static str,
    /// Create a stereo file at `path` for `sample_rate` and the sample type.
    pub create: CreateEncoder,
}

/// A container's constructor: (path, sample rate, sample type) to its encoder.
pub type CreateEncoder =
    fn(path: &Path, sample_rate: u32, sample: SampleType) -> Result<Box<dyn Encoder>, ExportError>;

/// One output format: a container with a sample type, under the id the command line and
/// session files use.
#[derive(Clone, Copy)]
pub struct OutputFormat {
    id: &'static str,
    label: &'static str,
    container: &'static Container,
    sample: SampleType,
}

impl OutputFormat {
    pub const WAV16: Self = Self::new(
        "wav16",
        "WAV 16-bit (TPDF dither)",
        &wav::WAV,
        SampleType::Int16,
    );
    pub const WAV24: Self = Self::new("wav24", "WAV 24-bit", &wav::WAV, SampleType::Int24);
    pub const WAV32F: Self =
        Self::new("wav32f", "WAV 32-bit float", &wav::WAV, SampleType::Float32);
    pub const FLAC16: Self = Self::new(
        "flac16",
        "FLAC 16-bit (TPDF dither)",
        &flac::FLAC,
        SampleType::Int16,
    );
    pub const FLAC24: Self = Self::new("flac24", "FLAC 24-bit", &flac::FLAC, SampleType::Int24);

    /// Every format Stemdeck writes, in the order menus and help list them.
    pub const ALL: [Self; 5] = [
        Self::WAV16,
        Self::WAV24,
        Self::WAV32F,
        Self::FLAC16,
        Self::FLAC24,
    ];

    const fn new(
        id: &'static str,
        label: &'static str,
        container: &'static Container,
        sample: SampleType,
    ) -> Self {
        Self {
            id,
            label,
            container,
            sample,
        }
    }

    /// The name used on the command line and in session files.
    pub fn id(self) -> &'static str {
        self.id
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.id == id)
    }

    /// For people: "WAV 24-bit".
    pub fn describe(self) -> &'static str {
        self.label
    }

    pub fn container(self) -> &'static Container {
        self.container
    }

    pub fn sample(self) -> SampleType {
        self.sample
    }

    pub fn extension(self) -> &'static str {
        self.container.extension
    }

    pub fn bits(self) -> u16 {
        self.sample.bits()
    }

    pub fn is_integer(self) -> bool {
        self.sample.is_integer()
    }

    /// Whether 16-bit TPDF dither is added.
    pub fn is_dithered(self) -> bool {
        self.sample.is_dithered()
    }

    /// Full scale of the integer format (2^(bits−1)); 1.0 for float.
    pub fn full_scale(self) -> f32 {
        self.sample.full_scale()
    }

    /// One least significant bit as a linear level (0 for float).
    pub fn lsb(self) -> f32 {
        if self.is_integer() {
            1.0 / self.full_scale()
        } else {
            0.0
        }
    }

    /// Start encoding a stereo file.
    pub(crate) fn create(
        self,
        path: &Path,
        sample_rate: u32,
    ) -> Result<Box<dyn Encoder>, ExportError> {
        (self.container.create)(path, sample_rate, self.sample)
    }
}

/// Formats are equal when their ids are (the id names the pair).
impl PartialEq for OutputFormat {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for OutputFormat {}

impl std::hash::Hash for OutputFormat {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl std::fmt::Debug for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        for f in OutputFormat::ALL {
            assert_eq!(OutputFormat::from_id(f.id()), Some(f));
            let same = OutputFormat::ALL
                .iter()
                .filter(|g| g.id() == f.id())
                .count();
            assert_eq!(same, 1, "{f:?}");
        }
        assert_eq!(OutputFormat::from_id("mp3"), None);
    }

    #[test]
    fn the_table_pairs_containers_with_sample_types() {
        let f = OutputFormat::FLAC16;
        assert_eq!(
            (f.extension(), f.bits(), f.is_dithered()),
            ("flac", 16, true)
        );
        let f = OutputFormat::WAV32F;
        assert_eq!(
            (f.container().name, f.is_integer(), f.lsb()),
            ("WAV", false, 0.0)
        );
        assert_eq!(OutputFormat::WAV24.lsb(), 1.0 / 8_388_608.0);
    }
}
