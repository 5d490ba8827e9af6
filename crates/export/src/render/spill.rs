//! The trim's spill: one output's float blocks kept on disk, so the trim requantises
//! them instead of decoding the session again.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::PathBuf;

use crate::ExportError;

/// One output's blocks as rendered in pass 1 (after rate conversion, before the gain),
/// raw f32 in native byte order (written and read as they are in memory, no copy),
/// left then right, in a temporary file beside the
/// outputs: the trim reads them back instead of decoding again. Memory stays one block;
/// the file is deleted when this is dropped (done, error, cancel or panic).
pub(crate) struct Spill {
    pub(crate) path: PathBuf,
    pub(crate) file: File,
    /// Frames of every block written, in order.
    pub(crate) blocks: Vec<usize>,
    /// Highest absolute value spilled (what the writer's peak would be at gain 1).
    pub(crate) peak: f32,
}

impl Spill {
    pub(crate) fn create(path: PathBuf) -> Result<Self, ExportError> {
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

    pub(crate) fn write(&mut self, left: &[f32], right: &[f32]) -> Result<(), ExportError> {
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

    pub(crate) fn rewind(&mut self) -> Result<(), ExportError> {
        self.file.seek(SeekFrom::Start(0)).map_err(self.io())?;
        Ok(())
    }

    /// The next block (`n` frames) into `left` and `right`.
    pub(crate) fn read(
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
