//! Auryn's `.ras` spike files (`--monitor spikes:WHAT:ras`): text, one line per spike,
//! `TIME ID\n`, time in seconds (step × dt) in fixed-point notation, the neuron's
//! global id (as in the `.npy` monitors; Auryn numbers the neurons of each group from
//! 0), in (step, id) order. Auryn writes `%f` (6 decimals); a finer dt gets more, so
//! that `round(TIME / dt)` is the step exactly ([`decimals`]). Read it in NumPy with
//! `np.loadtxt(f)`, in Auryn's tools as any `.ras` file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

/// Decimals of the time: at least Auryn's 6, and enough that half a unit of the last
/// one is at most dt / 20 (so the step is recovered exactly by rounding).
pub fn decimals(dt: f64) -> usize {
    let need = (-dt.log10()).ceil() + 1.0;
    if need.is_finite() {
        (need.max(6.0) as usize).min(17)
    } else {
        6
    }
}

/// Appends the lines of `rows` (int64 (step, id) pairs, little-endian) to `out`.
pub fn lines(out: &mut Vec<u8>, rows: &[u8], dt: f64, decimals: usize) {
    for r in rows.chunks_exact(16) {
        let step = i64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
        let id = i64::from_le_bytes(r[8..].try_into().expect("8 bytes"));
        // Writing to a Vec cannot fail.
        let _ = writeln!(out, "{:.*} {id}", decimals, step as f64 * dt);
    }
}

/// Cuts a torn last line (bytes after the last newline) off a `.ras` file of `len`
/// bytes; returns the lines kept.
pub fn repair(file: &mut File, len: u64) -> std::io::Result<u64> {
    // From the end, in blocks, to the last newline.
    let mut keep = 0;
    let mut end = len;
    let mut block = vec![0u8; 1 << 16];
    while end > 0 {
        let from = end.saturating_sub(block.len() as u64);
        let n = (end - from) as usize;
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut block[..n])?;
        if let Some(at) = block[..n].iter().rposition(|&b| b == b'\n') {
            keep = from + at as u64 + 1;
            break;
        }
        end = from;
    }
    file.set_len(keep)?;
    file.sync_all()?;
    // Count the lines kept.
    file.seek(SeekFrom::Start(0))?;
    let mut lines = 0;
    let mut left = keep;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        file.read_exact(&mut block[..n])?;
        lines += block[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        left -= n as u64;
    }
    Ok(lines)
}

/// Reads a `.ras` file as (step, id) pairs, each time rounded to its step of `dt`
/// (for tests and tools); a line that is not `TIME ID` is an error naming it.
pub fn read(path: &std::path::Path, dt: f64) -> Result<Vec<(u64, u32)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let bad = || {
                format!(
                    "{}: line {}: {line:?}: expected TIME ID",
                    path.display(),
                    i + 1
                )
            };
            let (t, id) = line.split_once(' ').ok_or_else(bad)?;
            let t: f64 = t.parse().map_err(|_| bad())?;
            let id: u32 = id.parse().map_err(|_| bad())?;
            if !(t.is_finite() && t >= 0.0) {
                return Err(bad());
            }
            Ok(((t / dt).round() as u64, id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_recover_their_step_exactly() {
        for dt in [1e-4, 1e-5, 2.5e-5, 4e-4, 1e-3, 1.25e-4, 1e-6] {
            let d = decimals(dt);
            assert!(d >= 6);
            let mut rows = Vec::new();
            for step in [0i64, 1, 7, 12_345, 36_000_000, 1 << 33] {
                rows.extend_from_slice(&step.to_le_bytes());
                rows.extend_from_slice(&42i64.to_le_bytes());
            }
            let mut out = Vec::new();
            lines(&mut out, &rows, dt, d);
            let text = String::from_utf8(out).unwrap();
            let steps: Vec<u64> = text
                .lines()
                .map(|l| {
                    let (t, id) = l.split_once(' ').unwrap();
                    assert_eq!(id, "42");
                    (t.parse::<f64>().unwrap() / dt).round() as u64
                })
                .collect();
            assert_eq!(steps, [0, 1, 7, 12_345, 36_000_000, 1 << 33], "dt {dt}");
        }
        // Auryn's own format at dt 0.1 ms.
        let mut out = Vec::new();
        let mut row = 12i64.to_le_bytes().to_vec();
        row.extend_from_slice(&3999i64.to_le_bytes());
        lines(&mut out, &row, 1e-4, decimals(1e-4));
        assert_eq!(out, b"0.001200 3999\n");
    }

    #[test]
    fn repair_cuts_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.ras.partial");
        for (content, kept, lines) in [
            (
                &b"0.000100 1\n0.000200 2\n0.0003"[..],
                &b"0.000100 1\n0.000200 2\n"[..],
                2,
            ),
            (b"0.000100 1\n", b"0.000100 1\n", 1),
            (b"0.00", b"", 0),
            (b"", b"", 0),
        ] {
            std::fs::write(&p, content).unwrap();
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&p)
                .unwrap();
            assert_eq!(repair(&mut f, content.len() as u64).unwrap(), lines);
            assert_eq!(std::fs::read(&p).unwrap(), kept);
        }
    }
}
