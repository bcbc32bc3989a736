//! Writing 2-D NumPy arrays (`.npy`) whole, through [`crate::outputs::write_file`]: a
//! temporary file in the same directory, then a rename, so an existing file is never
//! left half-written (and, without `force`, never replaced).

use std::path::Path;

use npyz::{AutoSerialize, WriterBuilder};

/// Writes a `rows × cols` array given row by row; `force` allows replacing an existing
/// file (the caller has checked it is a `.npy` file, see [`crate::outputs::check`]).
pub fn write_2d<T: AutoSerialize>(
    path: &Path,
    rows: usize,
    cols: usize,
    values: impl IntoIterator<Item = T>,
    force: bool,
) -> Result<(), String> {
    crate::outputs::write_file(path, force, |out| {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[rows as u64, cols as u64])
            .writer(out)
            .begin_nd()?;
        for v in values {
            w.push(&v)?;
        }
        w.finish()
    })
}
