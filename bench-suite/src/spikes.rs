//! Spike output as NumPy `.npy`: an int64 array of shape (n, 2), one row per spike,
//! columns (step, neuron id), sorted by step then id. Time in seconds is step · dt.

use std::io::BufWriter;
use std::path::Path;

use npyz::WriterBuilder;
use sim_core::Spike;

/// Writes atomically (temporary file in the same directory, then rename), so an
/// existing file is never left half-written.
pub fn write_npy(path: &Path, spikes: &[Spike]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot write spikes to {}: {e}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| err(&e))?;
    {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[spikes.len() as u64, 2])
            .writer(BufWriter::new(tmp.as_file()))
            .begin_nd()
            .map_err(|e| err(&e))?;
        for s in spikes {
            w.push(&(s.step as i64)).map_err(|e| err(&e))?;
            w.push(&(s.gid as i64)).map_err(|e| err(&e))?;
        }
        w.finish().map_err(|e| err(&e))?;
    }
    tmp.persist(path).map_err(|e| err(&e.error))?;
    Ok(())
}

/// Reads a file written by [`write_npy`] (for tests and tools).
pub fn read_npy(path: &Path) -> Result<Vec<Spike>, String> {
    let err =
        |e: &dyn std::fmt::Display| format!("cannot read spikes from {}: {e}", path.display());
    let bytes = std::fs::read(path).map_err(|e| err(&e))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| err(&e))?;
    if npy.shape().len() != 2 || npy.shape()[1] != 2 {
        return Err(err(&format!("shape {:?}, expected (n, 2)", npy.shape())));
    }
    let flat: Vec<i64> = npy.into_vec().map_err(|e| err(&e))?;
    Ok(flat
        .chunks_exact(2)
        .map(|c| Spike {
            step: c[0] as u64,
            gid: c[1] as u32,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.npy");
        let spikes = vec![
            Spike { step: 3, gid: 7 },
            Spike {
                step: 600_000,
                gid: 3999,
            },
        ];
        write_npy(&p, &spikes).unwrap();
        assert_eq!(read_npy(&p).unwrap(), spikes);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[..128]);
        // npyz writes "(2, 2, )", which NumPy reads as (2, 2).
        assert!(header.contains("'shape': (2, 2"), "{header}");
        assert!(header.contains("<i8"), "{header}");
    }
}
