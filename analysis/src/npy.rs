//! Reading 2-D `.npy` arrays (spike files, exchange traces) with bounded allocation.
//!
//! npyz parses the format, but trusts the file: it allocates whatever header length the
//! file claims (up to 4 GiB) and multiplies the shape without overflow checks. So before
//! npyz sees anything, [`read_2d`] opens only regular files of bounded size, reads the
//! pre-header itself, caps the header length, and checks that the shape's size in bytes
//! (checked arithmetic) is exactly what the file holds after the header: a header that
//! claims 2^60 rows in a small file is refused before any element is read.

use std::io::{Cursor, Read};
use std::path::Path;

/// Largest `.npy` file read, bytes: a 60-s va spike file is ≈ 65 MB, the largest
/// figure run's (dt 0.01 ms) about the same; 8 GiB leaves room without reading a disk.
pub const MAX_FILE_BYTES: u64 = 8 << 30;
/// Largest header accepted, bytes (NumPy writes 128 or a few hundred).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// A 2-D array's values in its stored type.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// A 2-D array (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub rows: usize,
    pub cols: usize,
    pub values: Values,
}

impl Array {
    /// Every value as f64.
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.values {
            Values::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Values::F64(v) => v.clone(),
        }
    }
}

/// Reads a 2-D little-endian int64 (`<i8`) or float64 (`<f8`) array, C order. Errors
/// name the file and what was expected.
pub fn read_2d(path: &Path) -> Result<Array, String> {
    read(path, false)
}

/// As [`read_2d`], also taking a 1-D array (a rate monitor's values), as one column.
pub fn read_columns(path: &Path) -> Result<Array, String> {
    read(path, true)
}

fn read(path: &Path, one_d: bool) -> Result<Array, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let (mut file, size) =
        sim_core::input::open(path, MAX_FILE_BYTES, "a .npy file").map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    let n = read_up_to(&mut file, &mut head).map_err(|e| err(&e))?;
    if n < 10 || &head[..6] != b"\x93NUMPY" {
        return Err(err(
            &"not a .npy file (expected the \\x93NUMPY magic and a version)",
        ));
    }
    let (len_bytes, header_len) = match head[6] {
        1 => (2, u16::from_le_bytes([head[8], head[9]]) as usize),
        2 | 3 if n == 12 => (
            4,
            u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize,
        ),
        v => return Err(err(&format!("format version {v}, expected 1, 2 or 3"))),
    };
    let prefix = 8 + len_bytes;
    if header_len > MAX_HEADER_BYTES || (prefix + header_len) as u64 > size {
        return Err(err(&format!(
            "header of {header_len} bytes in a file of {size}: expected at most \
             {MAX_HEADER_BYTES} bytes within the file"
        )));
    }
    let mut header = head[..n].to_vec();
    header.resize(prefix + header_len, 0);
    file.read_exact(&mut header[n..])
        .map_err(|e| err(&format!("truncated header ({e})")))?;
    let text = String::from_utf8_lossy(&header[prefix..]);
    let shape = shape_of(&text).ok_or_else(|| {
        err(&format!(
            "no readable 'shape' in the header {:?}",
            sim_core::input::excerpt(&text, 80)
        ))
    })?;
    let (rows, cols) = match shape[..] {
        [rows, cols] => (rows, cols),
        [rows] if one_d => (rows, 1),
        _ => {
            return Err(err(&format!(
                "shape {shape:?}: expected 2 dimensions (rows, columns){}",
                if one_d { " or 1" } else { "" }
            )))
        }
    };
    let data_bytes = size - (prefix + header_len) as u64;
    rows.checked_mul(cols)
        .and_then(|n| n.checked_mul(8))
        .filter(|&b| b == data_bytes)
        .ok_or_else(|| {
            err(&format!(
                "shape ({rows}, {cols}) of 8-byte values needs {} data bytes, the file \
                 has {data_bytes} (truncated or a lying header)",
                rows.checked_mul(cols)
                    .and_then(|n| n.checked_mul(8))
                    .map_or("more than 2^64".to_string(), |b| b.to_string())
            ))
        })?;
    let npy = npyz::NpyFile::new(Cursor::new(header).chain(std::io::BufReader::new(file)))
        .map_err(|e| err(&e))?;
    if npy.order() != npyz::Order::C {
        return Err(err(&"Fortran order: expected C order"));
    }
    // `descr` is the Python literal: quoted.
    let descr = npy.dtype().descr();
    let values = match descr.trim_matches('\'') {
        "<i8" => Values::I64(npy.into_vec().map_err(|e| err(&e))?),
        "<f8" => Values::F64(npy.into_vec().map_err(|e| err(&e))?),
        other => {
            return Err(err(&format!(
                "dtype {other}: expected '<i8' (int64) or '<f8' (float64)"
            )))
        }
    };
    Ok(Array {
        rows: rows as usize,
        cols: cols as usize,
        values,
    })
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The `'shape': (a, b, …)` of a header dictionary, as integers.
fn shape_of(header: &str) -> Option<Vec<u64>> {
    let at = header.find("'shape'")?;
    let rest = header[at + 7..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let inner = rest.strip_prefix('(')?;
    let inner = &inner[..inner.find(')')?];
    inner
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, data: &[u8]) -> Vec<u8> {
        let mut h = header.to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        b.extend(data);
        b
    }

    fn read_bytes(bytes: &[u8]) -> Result<Array, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        std::fs::write(&p, bytes).unwrap();
        read_2d(&p)
    }

    #[test]
    fn reads_what_npyz_writes_and_refuses_lies() {
        let ok = npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }",
            &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0],
        );
        let a = read_bytes(&ok).unwrap();
        assert_eq!((a.rows, a.cols, a.values), (1, 2, Values::I64(vec![1, 2])));
        let huge = npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (1152921504606846976, 2), }",
            &[0; 16],
        );
        assert!(read_bytes(&huge).unwrap_err().contains("data bytes"));
        let overflow = npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            &[0; 16],
        );
        assert!(read_bytes(&overflow).unwrap_err().contains("2^64"));
        let f4 = npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
            &[0; 16],
        );
        assert!(read_bytes(&f4).unwrap_err().contains("dtype <f4"));
        let mut long = b"\x93NUMPY\x02\x00".to_vec();
        long.extend(u32::MAX.to_le_bytes());
        assert!(read_bytes(&long)
            .unwrap_err()
            .contains("header of 4294967295"));
        assert!(read_bytes(b"\x93NUMPY").unwrap_err().contains("magic"));
    }
}
