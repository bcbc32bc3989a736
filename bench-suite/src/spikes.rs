//! Spike output as NumPy `.npy`: an int64 array of shape (n, 2), one row per spike,
//! columns (step, neuron id), sorted by step then id. Time in seconds is step · dt.

use std::path::Path;

use sim_core::Spike;

/// Writes atomically (see [`crate::npy`]); `force` allows replacing an existing file.
pub fn write_npy(path: &Path, spikes: &[Spike], force: bool) -> Result<(), String> {
    let values = spikes.iter().flat_map(|s| [s.step as i64, s.gid as i64]);
    crate::npy::write_2d(path, spikes.len(), 2, values, force).map_err(|e| format!("spikes: {e}"))
}

/// Reads a file written by [`write_npy`] (for tests and tools), with bounded memory
/// (see [`analysis::npy`]); every step and id must fit its type.
pub fn read_npy(path: &Path) -> Result<Vec<Spike>, String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot read spikes from {e}");
    let a = analysis::npy::read_2d(path).map_err(|e| err(&e))?;
    let analysis::npy::Values::I64(flat) = a.values else {
        return Err(err(&format!(
            "{}: float64 values, expected int64",
            path.display()
        )));
    };
    if a.cols != 2 {
        return Err(err(&format!(
            "{}: shape ({}, {}), expected (n, 2)",
            path.display(),
            a.rows,
            a.cols
        )));
    }
    flat.chunks_exact(2)
        .enumerate()
        .map(
            |(row, c)| match (u64::try_from(c[0]), u32::try_from(c[1])) {
                (Ok(step), Ok(gid)) => Ok(Spike { step, gid }),
                _ => Err(err(&format!(
                    "{}: row {row}: step {} or neuron {} out of range",
                    path.display(),
                    c[0],
                    c[1]
                ))),
            },
        )
        .collect()
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
