//! Why a checkpoint could not be written or read. Every error names the file (or
//! directory) concerned and what did not match, so a user can find the damage.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("no checkpoint at {} (nor a complete one left by an interrupted write)", path.display())]
    NotFound { path: PathBuf },
    #[error("{} is not a checkpoint: it has no manifest.json", path.display())]
    MissingManifest { path: PathBuf },
    #[error("{} is not valid: {problem}", path.display())]
    Manifest { path: PathBuf, problem: String },
    #[error("{} is not an snn-limits checkpoint manifest: `format` is {found}, expected \"{expected}\"", path.display())]
    Format {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    #[error("{} has checkpoint format version {found}; this snn-limits reads version {supported}", path.display())]
    Version {
        path: PathBuf,
        found: String,
        supported: u32,
    },
    #[error("{}: array `{array}` names the file `{file}`, which is not a plain file name inside the checkpoint", path.display())]
    UnsafeFileName {
        path: PathBuf,
        array: String,
        file: String,
    },
    #[error("{}: the file of array `{array}` is missing", path.display())]
    MissingFile { path: PathBuf, array: String },
    #[error("{}: not a valid .npy file: {problem}", path.display())]
    Npy { path: PathBuf, problem: String },
    #[error("{}: the file says {field} {file}, the manifest says {manifest}", path.display())]
    Mismatch {
        path: PathBuf,
        field: &'static str,
        file: String,
        manifest: String,
    },
    #[error("{}: {found} bytes, but its header needs {expected} ({})", path.display(),
        if (*found as u128) < *expected { "truncated" } else { "trailing bytes" })]
    Size {
        path: PathBuf,
        expected: u128,
        found: u64,
    },
    #[error("{}: another rank could not write the checkpoint (its error is in that rank's output)", path.display())]
    OtherRank { path: PathBuf },
    #[error("{}: checksum mismatch (CRC-32 {found:08x}, the manifest says {expected:08x}): the file is damaged", path.display())]
    Checksum {
        path: PathBuf,
        expected: u32,
        found: u32,
    },
    /// An argument of [`super::write`] that cannot be stored (`what`: `meta`, or
    /// array `name`).
    #[error("{what}: {problem}")]
    Invalid { what: String, problem: String },
    #[error("{}: {problem}", path.display())]
    Path { path: PathBuf, problem: String },
    #[error("refusing to write a checkpoint at {}: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },
}

impl CheckpointError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| CheckpointError::Io {
            action,
            path,
            source,
        }
    }
}
