//! `manifest.json`: what a checkpoint holds, readable by anyone with a JSON parser.
//! Parsed in steps (JSON, then `format`, then `version`, then the fields) so that a
//! file from something else or from a newer snn-limits is named as such rather than
//! reported as a missing field, and checked so that a hostile manifest cannot point
//! outside the directory.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::CheckpointError;
use crate::state::Layout;

pub const FILE: &str = "manifest.json";
pub const FORMAT: &str = "snn-limits-checkpoint";
pub const VERSION: u32 = 1;
/// The element types stored (NumPy's spelling, as [`crate::state::Values::kind`]).
pub const DTYPES: [&str; 4] = ["<f4", "<f8", "<u4", "<u8"];

/// Bytes per element of one of [`DTYPES`].
pub fn item_size(dtype: &str) -> u64 {
    if matches!(dtype, "<f4" | "<u4") {
        4
    } else {
        8
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The caller's description of the run (a JSON object).
    pub meta: serde_json::Value,
    pub arrays: Vec<Entry>,
}

/// One array: its `.npy` file in the checkpoint directory and what that file must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub file: String,
    pub dtype: String,
    pub shape: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// CRC-32 (zlib's: `zlib.crc32(open(file, "rb").read())`) of the whole file.
    pub crc32: u32,
}

impl Entry {
    /// The number of elements (`shape` is checked to be 1-D by [`parse`]).
    pub fn len(&self) -> u64 {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Parses and checks the manifest text read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Manifest, CheckpointError> {
    let invalid = |problem: String| CheckpointError::Manifest {
        path: path.into(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let format = &value["format"];
    if format.as_str() != Some(FORMAT) {
        return Err(CheckpointError::Format {
            path: path.into(),
            found: if format.is_null() {
                "missing".into()
            } else {
                format.to_string()
            },
            expected: FORMAT,
        });
    }
    let version = &value["version"];
    if version.as_u64() != Some(VERSION as u64) {
        return Err(CheckpointError::Version {
            path: path.into(),
            found: if version.is_null() {
                "missing".into()
            } else {
                version.to_string()
            },
            supported: VERSION,
        });
    }
    let manifest: Manifest = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    if !manifest.meta.is_object() {
        return Err(invalid("`meta` is not a JSON object".into()));
    }
    let mut names = HashSet::new();
    let mut files = HashSet::new();
    for e in &manifest.arrays {
        let problem = if !names.insert(e.name.as_str()) {
            Some("listed twice".to_string())
        } else if !safe_file_name(&e.file) {
            return Err(CheckpointError::UnsafeFileName {
                path: path.into(),
                array: e.name.clone(),
                file: e.file.clone(),
            });
        } else if !files.insert(e.file.to_ascii_lowercase()) {
            Some(format!("its file `{}` is another array's", e.file))
        } else if !DTYPES.contains(&e.dtype.as_str()) {
            Some(format!("unsupported dtype `{}`", e.dtype))
        } else if e.shape.len() != 1 {
            Some(format!("shape {:?} is not 1-D", e.shape))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(invalid(format!("array `{}`: {problem}", e.name)));
        }
    }
    Ok(manifest)
}

/// A file name this format writes, and the only kind it reads: ASCII letters, digits,
/// `-`, `_` and `.`, not starting with `.`, ending in `.npy`. No separator, no `..`,
/// no absolute path: the file is inside the checkpoint directory, whatever the
/// platform.
fn safe_file_name(file: &str) -> bool {
    file.len() <= 255
        && file.len() > ".npy".len()
        && file.ends_with(".npy")
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// File names for the arrays `names` (in order): the name with `/` as `.` and any
/// other unsafe character as `_` (`pop/E/v` → `pop.E.v.npy`), made unique without
/// regard to case (`-2`, `-3`, … appended) for case-insensitive file systems.
pub fn file_names<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<String>, CheckpointError> {
    let mut seen_names = HashSet::new();
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for name in names {
        let problem = if name.is_empty() {
            Some("an empty name")
        } else if !seen_names.insert(name) {
            Some("given twice")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(CheckpointError::Invalid {
                what: format!("array `{name}`"),
                problem: problem.into(),
            });
        }
        let mut stem: String = name
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
                '/' => '.',
                _ => '_',
            })
            .take(200)
            .collect();
        if stem.starts_with('.') {
            stem.insert(0, '_');
        }
        let mut file = format!("{stem}.npy");
        let mut n = 1;
        while !taken.insert(file.to_ascii_lowercase()) {
            n += 1;
            file = format!("{stem}-{n}.npy");
        }
        debug_assert!(safe_file_name(&file), "{file}");
        out.push(file);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_unique() {
        let names = ["pop/E/v", "pop.E.v", "POP/e/V", "../etc/passwd", "w ∑", "a"];
        let files = file_names(names).unwrap();
        assert_eq!(
            files,
            [
                "pop.E.v.npy",
                "pop.E.v-2.npy",
                "POP.e.V-3.npy",
                "_...etc.passwd.npy",
                "w__.npy",
                "a.npy"
            ]
        );
        assert!(files.iter().all(|f| safe_file_name(f)));
        let long = "x".repeat(1000);
        assert!(file_names([long.as_str()]).unwrap()[0].len() < 255);
        assert!(file_names(["a", "a"]).is_err());
        assert!(file_names([""]).is_err());
    }

    #[test]
    fn unsafe_file_names_are_recognised() {
        for bad in [
            "../x.npy",
            "/etc/x.npy",
            "a/b.npy",
            "a\\b.npy",
            ".npy",
            "..npy",
            "x.txt",
            "x\0.npy",
            "C:x.npy",
        ] {
            assert!(!safe_file_name(bad), "{bad}");
        }
    }
}
