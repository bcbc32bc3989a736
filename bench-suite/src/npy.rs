//! Writing 2-D NumPy arrays (`.npy`) atomically: a temporary file in the same directory,
//! then a rename, so an existing file is never left half-written.

use std::io::BufWriter;
use std::path::Path;

use npyz::{AutoSerialize, WriterBuilder};

/// Writes a `rows × cols` array given row by row.
pub fn write_2d<T: AutoSerialize>(
    path: &Path,
    rows: usize,
    cols: usize,
    values: impl IntoIterator<Item = T>,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| err(&e))?;
    {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[rows as u64, cols as u64])
            .writer(BufWriter::new(tmp.as_file()))
            .begin_nd()
            .map_err(|e| err(&e))?;
        for v in values {
            w.push(&v).map_err(|e| err(&e))?;
        }
        w.finish().map_err(|e| err(&e))?;
    }
    tmp.persist(path).map_err(|e| err(&e.error))?;
    Ok(())
}
