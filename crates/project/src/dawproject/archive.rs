//! The project file as a zip archive: its text entries, and the audio it names, next to
//! it or embedded in it (extracted to a cache folder).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::Error;

/// The format's name in errors.
pub(super) const FORMAT: &str = "DAWproject";

/// An open project file.
pub(super) struct Archive<'p> {
    path: &'p Path,
    cache_dir: &'p Path,
    zip: zip::ZipArchive<File>,
}

impl<'p> Archive<'p> {
    pub(super) fn open(path: &'p Path, cache_dir: &'p Path) -> Result<Self, Error> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let zip = zip::ZipArchive::new(file)
            .map_err(|e| Error::invalid(path, FORMAT, format!("not a zip archive ({e})")))?;
        Ok(Archive {
            path,
            cache_dir,
            zip,
        })
    }

    /// A text entry (`project.xml`, `metadata.xml`); `None` when the archive has none.
    pub(super) fn text(&mut self, name: &str) -> Result<Option<String>, Error> {
        let path = self.path;
        let mut entry = match self.zip.by_name(name) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => {
                return Err(Error::invalid(
                    path,
                    FORMAT,
                    format!("{name} cannot be read ({e})"),
                ));
            }
        };
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| Error::invalid(path, FORMAT, format!("{name} cannot be read ({e})")))?;
        Ok(Some(text))
    }

    /// The audio file a `File` element names: a path next to the project (`external`)
    /// or an entry of the archive, extracted to the cache. The inner `Err` says why the
    /// file cannot be had (the clip is then left out with a warning).
    pub(super) fn audio(
        &mut self,
        rel: &str,
        external: bool,
    ) -> Result<Result<PathBuf, &'static str>, Error> {
        if external {
            let p = PathBuf::from(rel);
            let dir = self.path.parent().unwrap_or(Path::new(""));
            return Ok(Ok(if p.is_absolute() { p } else { dir.join(p) }));
        }
        extract(&mut self.zip, self.cache_dir, self.path, rel)
    }
}

/// Extracts an archive entry to the cache (or finds it there): its path, or why not.
/// The entry's folder is named by its checksum and size, so opening the project again
/// reuses the files and two projects never share one by mistake.
fn extract(
    zip: &mut zip::ZipArchive<File>,
    cache_dir: &Path,
    project: &Path,
    rel: &str,
) -> Result<Result<PathBuf, &'static str>, Error> {
    let Ok(mut entry) = zip.by_name(rel) else {
        return Ok(Err("is not in the project file"));
    };
    let Some(name) = entry
        .enclosed_name()
        .and_then(|p| p.file_name().map(|n| n.to_os_string()))
    else {
        return Ok(Err("has an unsafe name"));
    };
    let folder = cache_dir.join(format!("{:08x}-{}", entry.crc32(), entry.size()));
    let to = folder.join(name);
    if std::fs::metadata(&to).is_ok_and(|m| m.len() == entry.size()) {
        return Ok(Ok(to));
    }
    let extract_err = |e| Error::Extract {
        path: project.to_path_buf(),
        to: to.clone(),
        source: e,
    };
    std::fs::create_dir_all(&folder).map_err(extract_err)?;
    // Written to a temporary file and renamed, so a cut-short extraction is never taken
    // for the audio next time.
    let mut tmp = tempfile::NamedTempFile::new_in(&folder).map_err(extract_err)?;
    std::io::copy(&mut entry, &mut tmp).map_err(extract_err)?;
    tmp.persist(&to).map_err(|e| extract_err(e.error))?;
    Ok(Ok(to))
}
