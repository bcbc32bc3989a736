//! Spike output as NumPy `.npy`: an int64 array of shape (n, 2), one row per spike,
//! columns (step, neuron id), sorted by step then id. Time in seconds is step · dt.

use std::path::Path;

use sim_core::Spike;

/// Writes atomically (see [`crate::npy`]); `force` allows replacing an existing file.
pub fn write_npy(path: &Path, spikes: &[Spike], force: bool) -> Result<(), String> {
    let values = spikes.iter().flat_map(|s| [s.step as i64, s.gid as i64]);
    crate::npy::write_2d(path, spikes.len(), 2, values, force).map_err(|e| format!("spikes: {e}"))
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
        write_npy(&p, &spikes, false).unwrap();
        assert_eq!(read_npy(&p).unwrap(), spikes);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header = String::from_utf8_lossy(&bytes[..128]);
        // npyz writes "(2, 2, )", which NumPy reads as (2, 2).
        assert!(header.contains("'shape': (2, 2"), "{header}");
        assert!(header.contains("<i8"), "{header}");
    }
}
