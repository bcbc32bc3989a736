//! NumPy arrays (`.npy`): 2-D arrays written whole (spikes), and 1-D arrays of state
//! written and read (a protocol's `save_state`, `set`, `input_rate_file`).
//!
//! Writing goes through [`crate::outputs::write_file`]: a temporary file in the same
//! directory, then a rename, so an existing file is never left half-written (and,
//! without `force`, never replaced).
//!
//! Reading ([`inspect_1d`], [`read_1d`]) is bounded: only a regular file is opened
//! ([`sim_core::input::open`]), the header is at most 64 KiB, and the length the header
//! claims must be what the file holds after it (checked arithmetic) before anything is
//! allocated for the values. The format is the one checkpoints use
//! ([`sim_core::checkpoint::npy`], versions 1.0 to 3.0): a file `numpy.save` writes
//! for a 1-D little-endian `float32`, `float64`, `uint32` or `uint64` array, or a
//! checkpoint's `pop.E.v.npy`, reads; Fortran order, another dtype or more dimensions
//! are refused. Every message names the file and what was expected.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use npyz::{AutoSerialize, WriterBuilder};
use sim_core::checkpoint::npy as ck;
use sim_core::state::Values;

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

/// Writes `values` as a 1-D array of their own type (`<f4`, `<f8`, `<u4`, `<u8`), in
/// the format of a checkpoint's arrays; `force` as for [`write_2d`].
pub fn write_1d(path: &Path, values: &Values, force: bool) -> Result<(), String> {
    crate::outputs::write_file(path, force, |mut out| {
        out.write_all(&ck::header(values.kind(), values.len() as u64))?;
        match values {
            Values::F32(v) => ck::write_data(&mut out, v),
            Values::F64(v) => ck::write_data(&mut out, v),
            Values::U32(v) => ck::write_data(&mut out, v),
            Values::U64(v) => ck::write_data(&mut out, v),
        }
    })
}

/// Largest 1-D `.npy` file read, bytes (zenke25k's E→E weights in f64 are ≈ 160 MB).
pub const MAX_FILE_BYTES: u64 = 8 << 30;
/// The header is at most this long (the checkpoint reader's bound), plus the prefix.
const MAX_HEAD_BYTES: u64 = 12 + (1 << 16);

/// The element types read, as NumPy spells them, with their names and sizes.
const DTYPES: [(&str, &str, u64); 4] = [
    ("<f4", "float32", 4),
    ("<f8", "float64", 8),
    ("<u4", "uint32", 4),
    ("<u8", "uint64", 8),
];

fn dtype_name(descr: &str) -> &'static str {
    DTYPES
        .iter()
        .find(|d| d.0 == descr)
        .map_or("unknown", |d| d.1)
}

fn is_float(descr: &str) -> bool {
    matches!(descr, "<f4" | "<f8")
}

/// What a 1-D file's header says, checked against the file's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header1d {
    /// `<f4`, `<f8`, `<u4` or `<u8`.
    pub descr: String,
    /// Elements.
    pub len: u64,
}

/// Opens `path` and checks its header: a 1-D C-order array of a supported dtype whose
/// data are exactly the bytes after the header. Reads no values.
pub fn inspect_1d(path: &Path) -> Result<Header1d, String> {
    open_1d(path).map(|(h, _)| h)
}

fn open_1d(path: &Path) -> Result<(Header1d, std::fs::File), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let (mut file, size) = sim_core::input::open(path, MAX_FILE_BYTES, "a 1-D .npy array")
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    (&mut file)
        .take(MAX_HEAD_BYTES.min(size))
        .read_to_end(&mut head)
        .map_err(|e| err(&e))?;
    let h = ck::read_header(&mut head.as_slice(), size)
        .map_err(|e| err(&format!("not a readable .npy array: {e}")))?;
    // read_header checked the dictionary; it does not return fortran_order.
    let text = String::from_utf8_lossy(&head[..h.len as usize]);
    if fortran_order(&text) {
        return Err(err(
            &"fortran_order is True: expected a C-order array (as numpy.save writes a \
              1-D array)",
        ));
    }
    let [len] = h.shape[..] else {
        let dims: Vec<String> = h.shape.iter().map(u64::to_string).collect();
        return Err(err(&format!(
            "shape ({}{}): expected a 1-D array (shape (n,))",
            dims.join(", "),
            if dims.len() == 1 { "," } else { "" }
        )));
    };
    let Some(&(_, _, item)) = DTYPES.iter().find(|d| d.0 == h.descr) else {
        return Err(err(&format!(
            "dtype '{}': expected one of {} (little-endian)",
            h.descr,
            DTYPES
                .iter()
                .map(|d| format!("'{}' ({})", d.0, d.1))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let have = size - h.len;
    let need = len.checked_mul(item);
    if need != Some(have) {
        return Err(err(&format!(
            "the header claims {len} values of {item} bytes ({} data bytes); the file has \
             {have} after its header (truncated, or a header that lies)",
            need.map_or("more than 2^64".into(), |b| b.to_string())
        )));
    }
    file.seek(SeekFrom::Start(h.len)).map_err(|e| err(&e))?;
    Ok((
        Header1d {
            descr: h.descr,
            len,
        },
        file,
    ))
}

/// Whether the header's `fortran_order` is `True` (the dictionary is already checked).
fn fortran_order(text: &str) -> bool {
    ["'fortran_order'", "\"fortran_order\""].iter().any(|key| {
        text.find(key).is_some_and(|at| {
            text[at + key.len()..]
                .trim_start()
                .trim_start_matches(':')
                .trim_start()
                .starts_with("True")
        })
    })
}

/// What [`read_1d`] reads into: the target array's type and length, and for floating
/// point values which are acceptable.
pub struct Want<'a> {
    /// The target's type (`<f4`, `<f8`, `<u4`, `<u8`, see [`Values::kind`]).
    pub kind: &'static str,
    pub len: usize,
    /// What the values are for, in messages (`pop/E/v`).
    pub what: &'a str,
    /// Every floating-point value must pass this (on the file's value, as f64).
    pub valid: &'a dyn Fn(f64) -> bool,
    /// What `valid` accepts, in messages (`a finite number`).
    pub expected: &'a str,
}

/// Reads a 1-D array into `want.kind`: a floating-point target takes `<f4` or `<f8`
/// (converted; a value beyond the range of `<f4` is refused, not made infinite), an
/// integer target only its own type. The header, the length and the type are checked
/// before the values are allocated; every value is checked with `want.valid`, the
/// first bad one named by index and value.
pub fn read_1d(path: &Path, want: &Want) -> Result<Values, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let (h, file) = open_1d(path)?;
    let of = |descr: &str| format!("{descr} ({})", dtype_name(descr));
    if h.len != want.len as u64 {
        return Err(err(&format!(
            "{} values, expected {} ({}: {} values of {})",
            h.len,
            want.len,
            want.what,
            want.len,
            of(want.kind)
        )));
    }
    let converts = is_float(want.kind) && is_float(&h.descr);
    if h.descr != want.kind && !converts {
        return Err(err(&format!(
            "dtype {}, expected {} for {}{}",
            of(&h.descr),
            of(want.kind),
            want.what,
            if is_float(want.kind) {
                " (or the other floating-point type)"
            } else {
                " exactly (an integer array takes only its own type)"
            }
        )));
    }
    let mut r = BufReader::new(file);
    let n = want.len;
    let io = |e: std::io::Error| err(&format!("reading the values: {e}"));
    let values = match h.descr.as_str() {
        "<f4" => Values::F32(ck::read_data::<f32>(&mut r, n).map_err(io)?),
        "<f8" => Values::F64(ck::read_data::<f64>(&mut r, n).map_err(io)?),
        "<u4" => Values::U32(ck::read_data::<u32>(&mut r, n).map_err(io)?),
        _ => Values::U64(ck::read_data::<u64>(&mut r, n).map_err(io)?),
    };
    let bad = |i: usize, x: f64, why: &str| {
        err(&format!("index {i}: {x}: expected {why} ({})", want.what))
    };
    let check = |xs: &mut dyn Iterator<Item = f64>| {
        for (i, x) in xs.enumerate() {
            if !(want.valid)(x) {
                return Err(bad(i, x, want.expected));
            }
            if want.kind == "<f4" && x.is_finite() && !(x as f32).is_finite() {
                return Err(bad(
                    i,
                    x,
                    "a value within the range of float32 (the array's type)",
                ));
            }
        }
        Ok(())
    };
    match &values {
        Values::F32(v) => check(&mut v.iter().map(|&x| x as f64))?,
        Values::F64(v) => check(&mut v.iter().copied())?,
        _ => {}
    }
    Ok(match (values, want.kind) {
        (Values::F64(v), "<f4") => Values::F32(v.into_iter().map(|x| x as f32).collect()),
        (Values::F32(v), "<f8") => Values::F64(v.into_iter().map(f64::from).collect()),
        (v, _) => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finite(x: f64) -> bool {
        x.is_finite()
    }

    fn want(kind: &'static str, len: usize) -> Want<'static> {
        Want {
            kind,
            len,
            what: "pop/E/v",
            valid: &finite,
            expected: "a finite number",
        }
    }

    fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut h = dict.to_string();
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn f64s(xs: &[f64]) -> Vec<u8> {
        xs.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn round_trip_in_each_type_and_conversion_between_floats() {
        let dir = tempfile::tempdir().unwrap();
        for v in [
            Values::F32(vec![0.1, -3.5e-7, f32::MIN_POSITIVE]),
            Values::F64(vec![0.1, 1e-300, -0.0]),
            Values::U32(vec![0, 7, u32::MAX]),
            Values::U64(vec![u64::MAX, 3]),
            Values::F64(vec![]),
        ] {
            let p = dir
                .path()
                .join(format!("{}-{}.npy", &v.kind()[1..], v.len()));
            write_1d(&p, &v, false).unwrap();
            let h = inspect_1d(&p).unwrap();
            assert_eq!((h.descr.as_str(), h.len), (v.kind(), v.len() as u64));
            assert_eq!(read_1d(&p, &want(v.kind(), v.len())).unwrap(), v);
        }
        let p = dir.path().join("f4-3.npy");
        assert_eq!(
            read_1d(&p, &want("<f8", 3)).unwrap(),
            Values::F64(vec![
                0.1f32 as f64,
                -3.5e-7f32 as f64,
                f32::MIN_POSITIVE as f64
            ])
        );
        let p = dir.path().join("f8-3.npy");
        assert_eq!(
            read_1d(&p, &want("<f4", 3)).unwrap(),
            Values::F32(vec![0.1, 1e-300f64 as f32, -0.0])
        );
        // Not replaced without force.
        assert!(write_1d(&p, &Values::U32(vec![1]), false).is_err());
    }

    #[test]
    fn refuses_what_does_not_fit_naming_file_and_expectation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let dict = |descr: &str, shape: &str| {
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
        };
        let cases: Vec<(&str, Vec<u8>, Want, &[&str])> = vec![
            (
                "not npy",
                b"hello world, not numpy".to_vec(),
                want("<f8", 2),
                &["magic"],
            ),
            (
                "2-D",
                npy(&dict("<f8", "(1, 2)"), &f64s(&[1.0, 2.0])),
                want("<f8", 2),
                &["shape (1, 2)", "1-D"],
            ),
            (
                "0-D",
                npy(&dict("<f8", "()"), &f64s(&[1.0])),
                want("<f8", 1),
                &["shape ()", "1-D"],
            ),
            (
                "fortran",
                npy(
                    "{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }",
                    &f64s(&[1.0, 2.0]),
                ),
                want("<f8", 2),
                &["fortran_order", "C-order"],
            ),
            (
                "big-endian",
                npy(&dict(">f8", "(2,)"), &f64s(&[1.0, 2.0])),
                want("<f8", 2),
                &["dtype '>f8'", "'<f8' (float64)"],
            ),
            (
                "int64",
                npy(&dict("<i8", "(2,)"), &f64s(&[1.0, 2.0])),
                want("<f8", 2),
                &["dtype '<i8'"],
            ),
            (
                "truncated",
                npy(&dict("<f8", "(3,)"), &f64s(&[1.0, 2.0])),
                want("<f8", 3),
                &["24 data bytes", "has 16", "truncated"],
            ),
            (
                "huge claim",
                npy(&dict("<f8", "(4611686018427387904,)"), &f64s(&[1.0])),
                want("<f8", 1),
                &["4611686018427387904 values", "more than 2^64"],
            ),
            (
                "wrong length",
                npy(&dict("<f8", "(2,)"), &f64s(&[1.0, 2.0])),
                want("<f8", 3),
                &["2 values, expected 3", "pop/E/v"],
            ),
            (
                "integer target",
                npy(&dict("<u8", "(2,)"), &[0u8; 16]),
                want("<u4", 2),
                &["dtype <u8 (uint64), expected <u4 (uint32)", "exactly"],
            ),
            (
                "float into integer",
                npy(&dict("<f8", "(2,)"), &f64s(&[1.0, 2.0])),
                want("<u8", 2),
                &["dtype <f8 (float64), expected <u8"],
            ),
            (
                "NaN",
                npy(&dict("<f8", "(3,)"), &f64s(&[1.0, f64::NAN, 2.0])),
                want("<f8", 3),
                &["index 1: NaN", "a finite number"],
            ),
            (
                "beyond f32",
                npy(&dict("<f8", "(2,)"), &f64s(&[1.0, 1e300])),
                want("<f4", 2),
                &["index 1", "float32"],
            ),
            (
                "header longer than the file",
                {
                    let mut b = b"\x93NUMPY\x01\x00\xff\x7f".to_vec();
                    b.extend_from_slice(b"{'descr'");
                    b
                },
                want("<f8", 1),
                &["header"],
            ),
        ];
        for (i, (what, bytes, want, expected)) in cases.iter().enumerate() {
            let p = file(d, &format!("{i}.npy"), bytes);
            let e = read_1d(&p, want).expect_err(what);
            assert!(e.contains(&*p.to_string_lossy()), "{what}: {e}");
            for x in *expected {
                assert!(e.contains(x), "{what}: expected {x:?} in {e}");
            }
        }
        let e = read_1d(&d.join("missing.npy"), &want("<f8", 1)).unwrap_err();
        assert!(e.contains("missing.npy"), "{e}");
        let e = read_1d(d, &want("<f8", 1)).unwrap_err();
        assert!(e.contains("directory"), "{e}");
    }
}
