//! The files monitors stream to: rows appended by a writer thread to `FILE.partial`
//! while the run goes on, then (at the end) the header completed, the file synced and
//! moved into place; and the repair of a `.partial` file a killed run left.
//!
//! Two layouts: `.npy` arrays with a 128-byte header whose row count is written in a
//! fixed-width field, so that it can be completed in place (int64 or float64, shape
//! (rows,) or (rows, cols)); and text (Auryn's `.ras`, see [`super::ras`]), whose
//! writer turns (step, id) rows into lines.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Batches that may wait for a writer (see [`super::QUEUE`]).
const QUEUE: usize = super::QUEUE;

/// The header's length: magic, version, length and a dictionary padded to 128 bytes.
pub const HEADER: usize = 128;

/// An `.npy` element type: little-endian 8-byte integers or floats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descr {
    I8,
    F8,
}

impl Descr {
    fn text(self) -> &'static str {
        match self {
            Descr::I8 => "<i8",
            Descr::F8 => "<f8",
        }
    }
}

/// How an `.npy` header spells its shape: the monitors' own, the row count
/// right-aligned in 20 characters (`(                  12, 2)`), or as npyz writes it
/// (`(12, 2, )`, padded after the dictionary), which `--spikes` files have always had:
/// both are 128 bytes for any row count, so either is completed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Monitor,
    Npyz,
}

/// What a monitor's file holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layout {
    /// An `.npy` array of shape (rows,) (`cols` None) or (rows, cols).
    Npy {
        descr: Descr,
        cols: Option<u64>,
        style: Style,
    },
    /// Auryn's `.ras` text, one line `TIME ID` per (step, id) row it is sent (int64
    /// pairs), time = step × `dt` with `decimals` decimals.
    Ras { dt: f64, decimals: usize },
}

impl Layout {
    /// Spike rows: int64 (step, id).
    pub const SPIKES: Layout = Layout::Npy {
        descr: Descr::I8,
        cols: Some(2),
        style: Style::Monitor,
    };
    /// Spike rows with the header `--spikes` files have always had (byte for byte the
    /// file [`crate::spikes::write_npy`] writes).
    pub const SPIKE_FILE: Layout = Layout::Npy {
        descr: Descr::I8,
        cols: Some(2),
        style: Style::Npyz,
    };
    /// Float64 values, one per row (rates).
    pub const VALUES: Layout = Layout::Npy {
        descr: Descr::F8,
        cols: None,
        style: Style::Monitor,
    };

    /// A (rows, cols) matrix of `descr` values with the monitors' header.
    pub fn matrix(descr: Descr, cols: u64) -> Layout {
        Layout::Npy {
            descr,
            cols: Some(cols),
            style: Style::Monitor,
        }
    }

    /// Bytes of one row as it is sent to the writer.
    fn row_bytes(self) -> u64 {
        match self {
            Layout::Npy { cols, .. } => 8 * cols.unwrap_or(1),
            Layout::Ras { .. } => 16,
        }
    }
}

/// The header of an `.npy` monitor file of `rows` rows.
pub fn header(descr: Descr, cols: Option<u64>, rows: u64) -> [u8; HEADER] {
    styled(descr, cols, rows, Style::Monitor)
}

/// The header of an `.npy` file of `rows` rows in `style`.
pub fn styled(descr: Descr, cols: Option<u64>, rows: u64, style: Style) -> [u8; HEADER] {
    let shape = match (cols, style) {
        (None, Style::Monitor) => format!("({rows:>20},)"),
        (Some(c), Style::Monitor) => format!("({rows:>20}, {c})"),
        (None, Style::Npyz) => format!("({rows}, )"),
        (Some(c), Style::Npyz) => format!("({rows}, {c}, )"),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        descr.text()
    );
    let mut out = [b' '; HEADER];
    out[..6].copy_from_slice(b"\x93NUMPY");
    out[6..8].copy_from_slice(&[1, 0]);
    out[8..10].copy_from_slice(&((HEADER - 10) as u16).to_le_bytes());
    out[10..10 + dict.len()].copy_from_slice(dict.as_bytes());
    out[HEADER - 1] = b'\n';
    out
}

/// The element type, columns and style of `head`, if [`styled`] wrote it (for any
/// row count).
pub fn parse_header(head: &[u8; HEADER]) -> Option<(Descr, Option<u64>, Style)> {
    if head[..10] != header(Descr::I8, None, 0)[..10] || head[HEADER - 1] != b'\n' {
        return None;
    }
    let text = std::str::from_utf8(&head[10..HEADER - 1]).ok()?.trim_end();
    let rest = text.strip_prefix("{'descr': '")?;
    let (descr, rest) = rest.split_once('\'')?;
    let descr = [Descr::I8, Descr::F8]
        .into_iter()
        .find(|d| d.text() == descr)?;
    let rest = rest.strip_prefix(", 'fortran_order': False, 'shape': (")?;
    let padded = rest.starts_with(' ');
    let rest = rest.trim_start_matches(' ');
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    // Monitor: `,), }` or `, C), }`; npyz (never padded): `, ), }` or `, C, ), }`.
    match &rest[digits..] {
        ",), }" => return Some((descr, None, Style::Monitor)),
        ", ), }" if !padded => return Some((descr, None, Style::Npyz)),
        _ => {}
    }
    let r = rest[digits..].strip_prefix(", ")?;
    let c_len = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let cols = r[..c_len].parse::<u64>().ok().filter(|&c| c > 0)?;
    match &r[c_len..] {
        "), }" => Some((descr, Some(cols), Style::Monitor)),
        ", ), }" if !padded => Some((descr, Some(cols), Style::Npyz)),
        _ => None,
    }
}

/// `path` with `.partial` appended.
pub fn partial_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// The sending end of a writer's queue: batches of encoded rows and their count.
pub type Rows = SyncSender<(Vec<u8>, u64)>;

/// A writer thread at work: where its file goes, and how it ends.
pub struct Writer {
    pub path: PathBuf,
    handle: JoinHandle<Result<u64, String>>,
}

impl Writer {
    /// Waits for the writer (after every sender is gone): the rows written, or its error.
    pub fn finish(self) -> Result<(PathBuf, u64), String> {
        let rows = self
            .handle
            .join()
            .map_err(|_| format!("{}: the writer panicked", self.path.display()))??;
        Ok((self.path, rows))
    }
}

/// Starts a writer of `target` in `layout`: creates `target.partial` (with a header of
/// 0 rows), and returns the sender of row batches (bytes, rows) and the writer. At the
/// end (every sender dropped) the writer completes the header, syncs and moves the
/// file to `target`: over an existing file only with `force`. `what` names the file's
/// origin in messages (`--monitor spikes:E`).
pub fn start(
    target: &Path,
    layout: Layout,
    force: bool,
    what: &str,
) -> Result<(Rows, Writer), String> {
    let partial = partial_of(target);
    let mut file =
        File::create(&partial).map_err(|e| format!("{what}: {}: {e}", partial.display()))?;
    if let Layout::Npy { descr, cols, style } = layout {
        file.write_all(&styled(descr, cols, 0, style))
            .map_err(|e| format!("{what}: {}: {e}", partial.display()))?;
    }
    let (tx, rx) = sync_channel(QUEUE);
    let to = target.to_path_buf();
    let handle = std::thread::spawn(move || write_rows(file, layout, rx, &partial, &to, force));
    Ok((
        tx,
        Writer {
            path: target.to_path_buf(),
            handle,
        },
    ))
}

/// A writer thread: appends the rows it receives, then completes the header, syncs and
/// moves the file into place. Returns the rows written.
fn write_rows(
    file: File,
    layout: Layout,
    rx: Receiver<(Vec<u8>, u64)>,
    partial: &Path,
    target: &Path,
    force: bool,
) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", partial.display());
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rows = 0u64;
    let mut failed = None;
    let mut text = Vec::new();
    for (bytes, n) in rx {
        if failed.is_some() {
            continue; // keep receiving, so the run never waits on a dead writer
        }
        let written = match layout {
            Layout::Npy { .. } => out.write_all(&bytes),
            Layout::Ras { dt, decimals } => {
                text.clear();
                super::ras::lines(&mut text, &bytes, dt, decimals);
                out.write_all(&text)
            }
        };
        match written {
            Ok(()) => rows += n,
            Err(e) => failed = Some(err(e)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let mut file = out.into_inner().map_err(|e| err(e.into_error()))?;
    if let Layout::Npy { descr, cols, style } = layout {
        file.seek(SeekFrom::Start(0)).map_err(err)?;
        file.write_all(&styled(descr, cols, rows, style))
            .map_err(err)?;
    }
    file.sync_all().map_err(err)?;
    put_in_place(partial, target, force)?;
    Ok(rows)
}

/// Moves the complete `partial` to `target`: over an existing file only with `force`
/// (without it, linked so that a file that appeared since the check is not replaced).
fn put_in_place(partial: &Path, target: &Path, force: bool) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", target.display());
    if force {
        return std::fs::rename(partial, target).map_err(err);
    }
    match std::fs::hard_link(partial, target) {
        Ok(()) => std::fs::remove_file(partial).map_err(err),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
            "{} appeared during the run: not replaced (give --force to replace it); the \
             monitor's rows are in {}",
            target.display(),
            partial.display()
        )),
        // A file system without hard links.
        Err(_) if !target.exists() => std::fs::rename(partial, target).map_err(err),
        Err(e) => Err(err(e)),
    }
}

/// What [`repair`] found and did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repaired {
    /// Whole rows (`.npy`) or lines (`.ras`) kept.
    pub rows: u64,
    /// Spike rows (int64 (step, id) pairs, or `.ras` lines).
    pub spikes: bool,
}

/// Completes a monitor's file that a killed run left (`FILE.partial`, or any file of
/// these layouts): an `.npy` file's header gets the number of whole rows the file
/// holds (a torn last row is cut off); a `.ras` file (its name ends in `.ras` or
/// `.ras.partial`) loses a torn last line.
pub fn repair(path: &Path) -> Result<Repaired, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| err(&e))?;
    let len = file.metadata().map_err(|e| err(&e))?.len();
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if name.ends_with(".ras") || name.ends_with(".ras.partial") {
        return super::ras::repair(&mut file, len)
            .map(|rows| Repaired { rows, spikes: true })
            .map_err(|e| err(&e));
    }
    let mut head = [0u8; HEADER];
    let parsed = match file.read_exact(&mut head) {
        Ok(()) => parse_header(&head),
        Err(_) => None,
    };
    let Some((descr, cols, style)) = parsed else {
        return Err(err(
            &"not a monitor's file (its header is not the one monitors write, and its name \
              does not end in .ras or .ras.partial)",
        ));
    };
    let row = Layout::Npy { descr, cols, style }.row_bytes();
    let rows = (len - HEADER as u64) / row;
    file.set_len(HEADER as u64 + rows * row)
        .map_err(|e| err(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| err(&e))?;
    file.write_all(&styled(descr, cols, rows, style))
        .map_err(|e| err(&e))?;
    file.sync_all().map_err(|e| err(&e))?;
    Ok(Repaired {
        rows,
        spikes: descr == Descr::I8 && cols == Some(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_every_layout_parse_back_and_others_do_not() {
        for (descr, cols) in [
            (Descr::I8, Some(2)),
            (Descr::F8, None),
            (Descr::F8, Some(1000)),
            (Descr::I8, Some(100)),
        ] {
            for rows in [0, 7, u64::MAX] {
                for style in [Style::Monitor, Style::Npyz] {
                    let h = styled(descr, cols, rows, style);
                    assert_eq!(h.len(), HEADER);
                    assert_eq!(
                        parse_header(&h),
                        Some((descr, cols, style)),
                        "{descr:?} {cols:?} {style:?}"
                    );
                }
            }
        }
        let mut h = header(Descr::F8, Some(3), 5);
        h[60] = b'x';
        assert_eq!(parse_header(&h), None);
        let mut h = header(Descr::F8, Some(3), 5);
        h[8] = 0;
        assert_eq!(parse_header(&h), None);
        // numpy's own header of another layout is not ours.
        let mut other = [b' '; HEADER];
        other[..10].copy_from_slice(&header(Descr::I8, None, 0)[..10]);
        let dict = b"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
        other[10..10 + dict.len()].copy_from_slice(dict);
        other[HEADER - 1] = b'\n';
        assert_eq!(parse_header(&other), None);
    }

    /// The spike layout's header is the one the first spike monitors wrote (files
    /// written before keep reading and repairing).
    #[test]
    fn the_spike_header_is_unchanged() {
        let h = header(Descr::I8, Some(2), 12);
        let text = String::from_utf8_lossy(&h[10..]).trim_end().to_string();
        assert_eq!(
            text,
            "{'descr': '<i8', 'fortran_order': False, 'shape': (                  12, 2), }"
        );
        let h = header(Descr::F8, None, 3);
        assert!(String::from_utf8_lossy(&h).contains("(                   3,), }"));
    }

    /// The spike file's header is npyz's, byte for byte, for any row count.
    #[test]
    fn the_spike_file_header_is_the_one_npyz_writes() {
        let dir = tempfile::tempdir().unwrap();
        for rows in [0usize, 1, 9, 10, 32_615, 1_000_003] {
            let p = dir.path().join(format!("{rows}.npy"));
            let spikes = vec![sim_core::Spike { step: 1, gid: 2 }; rows];
            crate::spikes::write_npy(&p, &spikes, false).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!(
                bytes[..HEADER],
                styled(Descr::I8, Some(2), rows as u64, Style::Npyz),
                "{rows} rows"
            );
        }
    }

    #[test]
    fn repair_cuts_a_torn_row_of_a_matrix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.npy.partial");
        let mut bytes = header(Descr::F8, Some(3), 0).to_vec();
        for v in 0..8 {
            bytes.extend_from_slice(&(v as f64).to_le_bytes()); // 2 rows of 3 and 2 more
        }
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(
            repair(&p).unwrap(),
            Repaired {
                rows: 2,
                spikes: false
            }
        );
        let a = analysis::npy::read_2d(&p).unwrap();
        assert_eq!((a.rows, a.cols), (2, 3));
        assert_eq!(a.to_f64(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }
}
