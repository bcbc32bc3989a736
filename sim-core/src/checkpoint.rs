//! A simulation checkpoint on disk: a directory anyone can read without snn-limits.
//!
//! ```text
//! DIR/manifest.json    {"format": "snn-limits-checkpoint", "version": 1,
//!                       "meta": {…the caller's object…},
//!                       "arrays": [{"name": "pop/E/v", "file": "pop.E.v.npy",
//!                                   "dtype": "<f4", "shape": [n],
//!                                   "layout": "neurons", "crc32": 123456789}, …]}
//! DIR/pop.E.v.npy      NumPy 1.0, little-endian, 1-D: `numpy.load` reads it
//! ```
//!
//! `crc32` is zlib's CRC-32 of the whole `.npy` file, so
//! `zlib.crc32(open(f, "rb").read())` checks it; [`read`] checks it, and every header,
//! type, shape and size, before handing anything back. A write replaces the previous
//! checkpoint atomically (see [`place`]): a crash at any moment leaves the previous
//! checkpoint or the new one readable, never a mixture.
//!
//! - [`npy`]: the array files; [`manifest`]: the manifest's schema and checks;
//!   [`place`]: the temporary directory and the swap; `error`: what went wrong.

mod error;
pub mod manifest;
pub mod npy;
pub mod place;
#[cfg(test)]
mod tests;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub use error::CheckpointError;
pub use manifest::{Entry, Manifest};

use crate::state::{Layout, Values};
use place::{sync_dir, Place};

/// A checkpoint read back whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The directory read: the one asked for, or the previous checkpoint an
    /// interrupted write left beside it.
    pub path: PathBuf,
    pub meta: serde_json::Value,
    /// In the order they were written.
    pub arrays: Vec<Stored>,
}

/// One array of a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub name: String,
    pub layout: Option<Layout>,
    pub values: Values,
}

impl Checkpoint {
    pub fn get(&self, name: &str) -> Option<&Stored> {
        self.arrays.iter().find(|a| a.name == name)
    }

    /// Moves the array `name` out (restoring need not copy 80 MB of state).
    pub fn take(&mut self, name: &str) -> Option<Stored> {
        let i = self.arrays.iter().position(|a| a.name == name)?;
        Some(self.arrays.remove(i))
    }
}

/// Writes a checkpoint of `arrays` (name, layout if any, values) described by `meta`
/// (a JSON object) at `dir`, atomically replacing the checkpoint there. Refuses to
/// replace anything that is not a checkpoint written here (a directory holding other
/// files, a file), leaving it untouched.
pub fn write<N: AsRef<str>>(
    dir: &Path,
    meta: &serde_json::Value,
    arrays: &[(N, Option<Layout>, &Values)],
) -> Result<(), CheckpointError> {
    let place = Place::new(dir)?;
    let tmp = prepare(&place, meta, arrays)?;
    place.commit(&tmp.0, &tmp.1)
}

/// Everything but the swap: the checks, the strays' removal and the complete,
/// synced temporary (its path and suffix).
fn prepare<N: AsRef<str>>(
    place: &Place,
    meta: &serde_json::Value,
    arrays: &[(N, Option<Layout>, &Values)],
) -> Result<(PathBuf, String), CheckpointError> {
    if !meta.is_object() {
        return Err(CheckpointError::Invalid {
            what: "meta".into(),
            problem: "must be a JSON object".into(),
        });
    }
    let files = manifest::file_names(arrays.iter().map(|a| a.0.as_ref()))?;
    place.check_replaceable()?;
    place.remove_strays()?;
    let (tmp, suffix) = place.fresh_temp();
    fs::create_dir(&tmp).map_err(CheckpointError::io("creating", &tmp))?;
    match fill(&tmp, meta, arrays, files) {
        Ok(()) => Ok((tmp, suffix)),
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// Writes the arrays, then the manifest, into the empty directory `tmp`, and syncs
/// them all.
fn fill<N: AsRef<str>>(
    tmp: &Path,
    meta: &serde_json::Value,
    arrays: &[(N, Option<Layout>, &Values)],
    files: Vec<String>,
) -> Result<(), CheckpointError> {
    let mut entries = Vec::with_capacity(arrays.len());
    for ((name, layout, values), file) in arrays.iter().zip(files) {
        let path = tmp.join(&file);
        let crc32 = write_npy(&path, values).map_err(CheckpointError::io("writing", &path))?;
        entries.push(Entry {
            name: name.as_ref().into(),
            file,
            dtype: values.kind().into(),
            shape: vec![values.len() as u64],
            layout: *layout,
            crc32,
        });
    }
    let manifest = Manifest {
        format: manifest::FORMAT.into(),
        version: manifest::VERSION,
        meta: meta.clone(),
        arrays: entries,
    };
    let path = tmp.join(manifest::FILE);
    let mut text = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
    text.push(b'\n');
    File::create(&path)
        .and_then(|mut f| {
            f.write_all(&text)?;
            f.sync_all()
        })
        .map_err(CheckpointError::io("writing", &path))?;
    sync_dir(tmp)
}

/// Writes one array's `.npy` file, synced; returns its CRC-32.
fn write_npy(path: &Path, values: &Values) -> std::io::Result<u32> {
    // The data goes out in 1 MiB chunks of its own; the BufWriter only joins the
    // header to the first of them.
    let mut w = npy::Hashed::new(BufWriter::new(File::create(path)?));
    w.write_all(&npy::header(values.kind(), values.len() as u64))?;
    match values {
        Values::F32(v) => npy::write_data(&mut w, v)?,
        Values::F64(v) => npy::write_data(&mut w, v)?,
        Values::U32(v) => npy::write_data(&mut w, v)?,
        Values::U64(v) => npy::write_data(&mut w, v)?,
    }
    let file = w.inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(w.crc.finalize())
}

/// The manifest of the checkpoint at `dir` (or of the previous one an interrupted
/// write left), checked but without reading or verifying any array: a cheap look at
/// `meta` and at what is stored.
pub fn read_manifest(dir: &Path) -> Result<Manifest, CheckpointError> {
    let from = Place::new(dir)?.resolve()?;
    load_manifest(&from)
}

fn load_manifest(from: &Path) -> Result<Manifest, CheckpointError> {
    let path = from.join(manifest::FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CheckpointError::MissingManifest { path: from.into() })
        }
        Err(e) => return Err(CheckpointError::io("reading", &path)(e)),
    };
    manifest::parse(&path, &text)
}

/// Reads the checkpoint at `dir` whole, verifying every file against the manifest
/// (header, type, shape, size, checksum). If `dir` is missing but a write was
/// interrupted between its two renames, the previous checkpoint it left beside `dir`
/// is read (`Checkpoint::path` says which).
pub fn read(dir: &Path) -> Result<Checkpoint, CheckpointError> {
    let from = Place::new(dir)?.resolve()?;
    let manifest = load_manifest(&from)?;
    let arrays = manifest
        .arrays
        .iter()
        .map(|entry| {
            Ok(Stored {
                name: entry.name.clone(),
                layout: entry.layout,
                values: read_npy(&from, entry)?,
            })
        })
        .collect::<Result<_, CheckpointError>>()?;
    Ok(Checkpoint {
        path: from,
        meta: manifest.meta,
        arrays,
    })
}

/// Reads and verifies one array file. Sizes are checked against the file's real
/// length before anything is allocated, so a hostile header or manifest cannot make
/// the reader allocate more than the file holds.
fn read_npy(from: &Path, entry: &Entry) -> Result<Values, CheckpointError> {
    let path = from.join(&entry.file);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CheckpointError::MissingFile {
                path,
                array: entry.name.clone(),
            })
        }
        Err(e) => return Err(CheckpointError::io("opening", &path)(e)),
    };
    let file_len = file
        .metadata()
        .map_err(CheckpointError::io("examining", &path))?
        .len();
    let mut file = npy::Hashed::new(file);
    let header = npy::read_header(&mut file, file_len).map_err(|problem| CheckpointError::Npy {
        path: path.clone(),
        problem,
    })?;
    let mismatch = |field, file: String, manifest: String| CheckpointError::Mismatch {
        path: path.clone(),
        field,
        file,
        manifest,
    };
    if header.descr != entry.dtype {
        return Err(mismatch("dtype", header.descr, entry.dtype.clone()));
    }
    if header.shape != entry.shape {
        return Err(mismatch(
            "shape",
            format!("{:?}", header.shape),
            format!("{:?}", entry.shape),
        ));
    }
    let expected =
        header.len as u128 + entry.len() as u128 * manifest::item_size(&entry.dtype) as u128;
    if expected != file_len as u128 {
        return Err(CheckpointError::Size {
            path,
            expected,
            found: file_len,
        });
    }
    let n = entry.len() as usize; // fits: the file holds n elements
    let f = &mut file;
    let values = match entry.dtype.as_str() {
        "<f4" => npy::read_data(f, n).map(Values::F32),
        "<f8" => npy::read_data(f, n).map(Values::F64),
        "<u4" => npy::read_data(f, n).map(Values::U32),
        _ => npy::read_data(f, n).map(Values::U64),
    }
    .map_err(CheckpointError::io("reading", &path))?;
    let found = file.crc.finalize();
    if found != entry.crc32 {
        return Err(CheckpointError::Checksum {
            path,
            expected: entry.crc32,
            found,
        });
    }
    Ok(values)
}
