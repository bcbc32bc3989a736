//! Weight matrices in Matrix Market coordinate format, one file per pathway ("EE", "EI", ...).
//!
//! The files are what `scipy.io.mmread` and Auryn's `--fee/--fei/--fie/--fii` loaders read:
//!
//! ```text
//! %%MatrixMarket matrix coordinate real general
//! % pathway EE
//! % written by snn-limits
//! rows cols nnz
//! row col value        (nnz lines, 1-based, row = presynaptic, col = postsynaptic)
//! ```
//!
//! This is written by hand rather than with a Matrix Market crate for two reasons: every
//! error names the file and the 1-based line (a bad weight file is usually hand-edited or
//! produced by another tool, and "parse error" alone is useless), and files with tens of
//! millions of entries are streamed line by line into one `Vec` without an intermediate
//! representation.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// One synapse: 0-based presynaptic index, 0-based postsynaptic index, weight.
pub type Entry = (u32, u32, f64);

/// A loaded matrix (0-based entries, sorted by (pre, post)).
#[derive(Debug, Clone, PartialEq)]
pub struct Coo {
    pub rows: usize,
    pub cols: usize,
    /// From a `% pathway XX` comment, if the file has one.
    pub pathway: Option<String>,
    pub entries: Vec<Entry>,
}

const SUPPORTED: &str =
    "`%%MatrixMarket matrix coordinate real general` (or `integer` in place of `real`)";

#[derive(Debug, thiserror::Error)]
pub enum MtxError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path}:{line}: unsupported Matrix Market header {found:?}: only {SUPPORTED} is supported"
    )]
    Header {
        path: PathBuf,
        line: u64,
        found: String,
    },
    #[error("{path}:{line}: bad size line {found:?}: expected {expected}")]
    Size {
        path: PathBuf,
        line: u64,
        found: String,
        expected: String,
    },
    #[error("{path}:{line}: bad entry {found:?}: expected {expected}")]
    Entry {
        path: PathBuf,
        line: u64,
        found: String,
        expected: String,
    },
    #[error("{path}:{line}: {axis} index {index} out of range: expected 1..={len} (1-based)")]
    OutOfRange {
        path: PathBuf,
        line: u64,
        axis: &'static str,
        index: u64,
        len: usize,
    },
    #[error("{path}:{line}: weight {value:?} is not finite: expected a finite real number")]
    NonFinite {
        path: PathBuf,
        line: u64,
        value: String,
    },
    #[error("{path}:{first_line}: duplicate entry row {row}, column {col} (1-based) on lines {first_line} and {second_line}: expected each (row, column) at most once")]
    Duplicate {
        path: PathBuf,
        row: u64,
        col: u64,
        first_line: u64,
        second_line: u64,
    },
    #[error("{path}:{line}: size line declares {declared} entries but the file has {found}")]
    Count {
        path: PathBuf,
        line: u64,
        declared: usize,
        found: usize,
    },
    #[error("{path}: pathway {pathway} weights are {rows}x{cols} but the network expects {expected_rows}x{expected_cols}")]
    Shape {
        path: PathBuf,
        pathway: String,
        rows: usize,
        cols: usize,
        expected_rows: usize,
        expected_cols: usize,
    },
    #[error("{path}: file says `% pathway {found}` but was loaded as pathway {expected}")]
    Pathway {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path}:{line}: {reason}")]
    Line {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error("{path}: not written: {reason}")]
    InvalidInput { path: PathBuf, reason: String },
}

fn io_err(path: &Path, source: io::Error) -> MtxError {
    MtxError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The conventional file name for a pathway inside a weights directory: "EE" -> "ee.mtx".
pub fn file_name(pathway: &str) -> String {
    format!("{}.mtx", pathway.to_ascii_lowercase())
}

/// Writes `entries` (0-based, sorted by (pre, post), no duplicates) to `path`.
///
/// Unsorted or duplicate entries, indices outside `rows` x `cols`, non-finite weights and a
/// pathway that is not one word are returned as [`MtxError::InvalidInput`] before anything
/// touches the disk: a `debug_assert` would let release builds write files that `read`
/// (and Auryn) reject, and the check costs little next to formatting.
///
/// The file is written to a temporary file in the same directory, synced, then renamed
/// over `path`, so an existing file is never left half-written. Weights use the shortest
/// decimal that parses back to the same `f64` (`{}`, or `{:e}` for magnitudes outside
/// 1e-5..1e16 so that 1e-300 is not 300 digits long), so write -> read is lossless.
pub fn write(
    path: &Path,
    pathway: &str,
    rows: usize,
    cols: usize,
    entries: &[Entry],
) -> Result<(), MtxError> {
    check_input(pathway, rows, cols, entries).map_err(|reason| MtxError::InvalidInput {
        path: path.to_path_buf(),
        reason,
    })?;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        io_err(
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        )
    })?;
    let tmp = path.with_file_name(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    // `create_new` so that we never clobber (or later delete) a file we did not create.
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io_err(path, e))?;
    let result =
        write_body(file, pathway, rows, cols, entries).and_then(|()| fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(path, e)
    })
}

/// Why `entries` cannot be written, if they cannot.
fn check_input(pathway: &str, rows: usize, cols: usize, entries: &[Entry]) -> Result<(), String> {
    if pathway.is_empty() || pathway.contains(char::is_whitespace) {
        return Err(format!("pathway {pathway:?} must be one non-empty word"));
    }
    if rows > u32::MAX as usize || cols > u32::MAX as usize {
        return Err(format!("shape {rows}x{cols} exceeds the u32 index range"));
    }
    let mut prev: Option<(u32, u32)> = None;
    for (i, &(pre, post, w)) in entries.iter().enumerate() {
        if pre as usize >= rows || post as usize >= cols {
            return Err(format!(
                "entry {i} ({pre}, {post}) is outside the {rows}x{cols} matrix"
            ));
        }
        if !w.is_finite() {
            return Err(format!(
                "entry {i} ({pre}, {post}) has non-finite weight {w}"
            ));
        }
        if let Some((a, b)) = prev.filter(|&p| p >= (pre, post)) {
            return Err(format!(
                "entry {i} ({pre}, {post}) does not come after ({a}, {b}): \
                 entries must be sorted by (pre, post) without duplicates"
            ));
        }
        prev = Some((pre, post));
    }
    Ok(())
}

fn write_body(
    file: File,
    pathway: &str,
    rows: usize,
    cols: usize,
    entries: &[Entry],
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, file);
    writeln!(out, "%%MatrixMarket matrix coordinate real general")?;
    writeln!(out, "% pathway {pathway}")?;
    writeln!(out, "% written by snn-limits")?;
    writeln!(out, "{rows} {cols} {}", entries.len())?;
    for &(pre, post, w) in entries {
        // check_input bounds pre < rows <= u32::MAX, so +1 cannot overflow.
        let (r, c) = (pre + 1, post + 1);
        if w == 0.0 || (1e-5..1e16).contains(&w.abs()) {
            writeln!(out, "{r} {c} {w}")?;
        } else {
            writeln!(out, "{r} {c} {w:e}")?;
        }
    }
    // Sync before the rename so a crash cannot leave an empty file under the final name.
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Reads a file line by line. Accepts `%%MatrixMarket matrix coordinate real general` (keywords
/// case-insensitive) and the `integer` field. Blank lines and `%` comments are skipped; a
/// `% pathway XX` comment is returned in [`Coo::pathway`]. Entries may be in any order and are
/// returned sorted by (pre, post); duplicates are an error.
pub fn read(path: &Path) -> Result<Coo, MtxError> {
    read_checked(path, MAX_FILE_BYTES, None, |_| Ok(()))
}

/// [`read`], calling `check` on the header (shape, pathway) before any entry is read, so
/// that a file of the wrong shape is refused before its entries are stored.
fn read_checked(
    path: &Path,
    max_bytes: u64,
    weights: Option<(RangeInclusive<f64>, &str)>,
    check: impl Fn(&Reader) -> Result<(), MtxError>,
) -> Result<Coo, MtxError> {
    let mut reader = Reader::open(path, max_bytes)?;
    if let Some((range, what)) = weights {
        reader.weights = (range, what.to_string());
    }
    check(&reader)?;
    // A size line may lie: reserve no more entries than the file could hold (the
    // shortest entry line, `1 1 1\n`, is 6 bytes).
    let mut entries = Vec::with_capacity(reader.nnz.min((reader.bytes / 6) as usize));
    while let Some((_, entry)) = reader.next_entry()? {
        entries.push(entry);
    }
    // Nearly free on the usual, already sorted input.
    entries.sort_unstable_by_key(|&(pre, post, _)| (pre, post));
    if let Some(w) = entries
        .windows(2)
        .find(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
    {
        let (pre, post) = (w[0].0, w[0].1);
        let lines = duplicate_lines(path, pre, post)?;
        return Err(MtxError::Duplicate {
            path: path.to_path_buf(),
            row: pre as u64 + 1,
            col: post as u64 + 1,
            first_line: lines[0],
            second_line: lines[1],
        });
    }
    Ok(Coo {
        rows: reader.rows,
        cols: reader.cols,
        pathway: reader.pathway,
        entries,
    })
}

/// The lines of the first two entries at (pre, post), found by reading the file again: this
/// is only on the error path, so `read` need not keep a line number per entry.
fn duplicate_lines(path: &Path, pre: u32, post: u32) -> Result<[u64; 2], MtxError> {
    let mut reader = Reader::open(path, MAX_FILE_BYTES)?;
    let mut lines = [0; 2]; // stays 0 only if the file changed under us
    let mut found = 0;
    while let Some((line, (p, q, _))) = reader.next_entry()? {
        if (p, q) == (pre, post) {
            lines[found] = line;
            found += 1;
            if found == 2 {
                break;
            }
        }
    }
    Ok(lines)
}

/// Reads `path`, then checks it against what the network expects: the file's pathway comment
/// (if any) must be `pathway`, and its shape must be `expected_rows` x `expected_cols`.
pub fn read_expecting(
    path: &Path,
    pathway: &str,
    expected_rows: usize,
    expected_cols: usize,
) -> Result<Coo, MtxError> {
    read_pathway(
        path,
        pathway,
        expected_rows,
        expected_cols,
        (-f64::MAX..=f64::MAX, "a finite real number"),
    )
}

/// [`read_expecting`], also requiring every weight to lie in `weights.0` (`weights.1`
/// says what that range means, for the message naming the line).
pub fn read_pathway(
    path: &Path,
    pathway: &str,
    expected_rows: usize,
    expected_cols: usize,
    weights: (RangeInclusive<f64>, &str),
) -> Result<Coo, MtxError> {
    // The largest file this shape can come as: every cell an entry of the longest line.
    let max_bytes = (expected_rows as u64)
        .saturating_mul(expected_cols as u64)
        .saturating_mul(MAX_LINE_BYTES as u64)
        .saturating_add(MAX_HEADER_BYTES)
        .min(MAX_FILE_BYTES);
    read_checked(path, max_bytes, Some(weights), |r| {
        if let Some(found) = r.pathway.as_ref().filter(|&p| p != pathway) {
            return Err(MtxError::Pathway {
                path: path.to_path_buf(),
                expected: pathway.to_string(),
                found: found.clone(),
            });
        }
        if (r.rows, r.cols) != (expected_rows, expected_cols) {
            return Err(MtxError::Shape {
                path: path.to_path_buf(),
                pathway: pathway.to_string(),
                rows: r.rows,
                cols: r.cols,
                expected_rows,
                expected_cols,
            });
        }
        Ok(())
    })
}

/// Longest line accepted, bytes: an entry is two indices and a weight (< 60 bytes); a
/// comment longer than this is not something we wrote or SciPy writes. A file without
/// newlines (a device, a sparse file of zeros) stops here instead of filling memory.
pub const MAX_LINE_BYTES: usize = 1024;
/// Room for the banner and comments before the size line, bytes.
const MAX_HEADER_BYTES: u64 = 1 << 20;
/// Largest weight file read at all, bytes: zenke25k's E→E (20 M synapses) is ≈ 0.5 GB.
pub const MAX_FILE_BYTES: u64 = 8 << 30;

/// Streaming parser: `open` reads the banner, comments and size line; `next_entry` yields
/// one checked entry at a time.
struct Reader {
    path: PathBuf,
    input: BufReader<File>,
    /// Size of the file, bytes.
    bytes: u64,
    /// Weights accepted, and what that range means.
    weights: (RangeInclusive<f64>, String),
    buf: String,
    raw: Vec<u8>,
    line: u64,
    integer: bool,
    pathway: Option<String>,
    rows: usize,
    cols: usize,
    nnz: usize,
    size_line: u64,
    seen: usize,
}

impl Reader {
    fn open(path: &Path, max_bytes: u64) -> Result<Self, MtxError> {
        let (file, bytes) = crate::input::open(path, max_bytes, "a weight file of this shape")?;
        let mut r = Reader {
            path: path.to_path_buf(),
            input: BufReader::with_capacity(1 << 20, file),
            bytes,
            weights: (-f64::MAX..=f64::MAX, "a finite real number".into()),
            buf: String::new(),
            raw: Vec::new(),
            line: 0,
            integer: false,
            pathway: None,
            rows: 0,
            cols: 0,
            nnz: 0,
            size_line: 0,
            seen: 0,
        };
        if !r.advance()? {
            return Err(MtxError::Header {
                path: path.to_path_buf(),
                line: 1,
                found: "end of file".into(),
            });
        }
        r.banner()?;
        loop {
            if !r.advance()? {
                return Err(r.size_err("end of file", "`rows cols nnz`".into()));
            }
            let text = r.buf.trim();
            if let Some(comment) = text.strip_prefix('%') {
                let mut words = comment.split_whitespace();
                if let (Some("pathway"), Some(name), None) =
                    (words.next(), words.next(), words.next())
                {
                    r.pathway.get_or_insert_with(|| name.to_string());
                }
            } else if !text.is_empty() {
                return r.size().map(|()| r);
            }
        }
    }

    /// Reads the next line into `buf`; false at end of file. A line longer than
    /// [`MAX_LINE_BYTES`] or not UTF-8 is an error naming its number.
    fn advance(&mut self) -> Result<bool, MtxError> {
        use std::io::Read;
        self.buf.clear();
        self.raw.clear();
        self.line += 1;
        let n = (&mut self.input)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.raw)
            .map_err(|e| io_err(&self.path, e))?;
        let bad = |reason: String| MtxError::Line {
            path: self.path.clone(),
            line: self.line,
            reason,
        };
        if self.raw.len() > MAX_LINE_BYTES {
            return Err(bad(format!(
                "line longer than {MAX_LINE_BYTES} bytes (starts {:?}): expected a Matrix \
                 Market text line",
                crate::input::excerpt(&String::from_utf8_lossy(&self.raw[..40]), 40)
            )));
        }
        match std::str::from_utf8(&self.raw) {
            Ok(t) => self.buf.push_str(t),
            Err(e) => {
                return Err(bad(format!(
                    "not UTF-8 text ({e}): {:?}",
                    crate::input::excerpt(&String::from_utf8_lossy(&self.raw), 80)
                )))
            }
        }
        Ok(n > 0)
    }

    fn banner(&mut self) -> Result<(), MtxError> {
        let text = self.buf.trim();
        let words: Vec<&str> = text.split_whitespace().collect();
        let allowed: [&[&str]; 5] = [
            &["%%matrixmarket"],
            &["matrix"],
            &["coordinate"],
            &["real", "integer"],
            &["general"],
        ];
        // The offending word, or the whole line if it is not five words.
        let bad = match words.len() {
            5 => words
                .iter()
                .zip(allowed)
                .find(|(w, ok)| !ok.contains(&w.to_ascii_lowercase().as_str()))
                .map(|(w, _)| *w),
            _ => Some(text),
        };
        if let Some(found) = bad {
            return Err(MtxError::Header {
                path: self.path.clone(),
                line: self.line,
                found: found.into(),
            });
        }
        self.integer = words[3].eq_ignore_ascii_case("integer");
        Ok(())
    }

    fn size_err(&self, found: &str, expected: String) -> MtxError {
        MtxError::Size {
            path: self.path.clone(),
            line: self.line,
            found: found.into(),
            expected,
        }
    }

    fn size(&mut self) -> Result<(), MtxError> {
        let text = self.buf.trim();
        let nums: Option<Vec<usize>> = text.split_whitespace().map(|w| w.parse().ok()).collect();
        let Some(&[rows, cols, nnz]) = nums.as_deref() else {
            return Err(self.size_err(
                text,
                "`rows cols nnz` as three non-negative integers".into(),
            ));
        };
        if rows > u32::MAX as usize || cols > u32::MAX as usize {
            return Err(self.size_err(text, format!("rows and cols at most {}", u32::MAX)));
        }
        let cells = rows as u128 * cols as u128;
        if nnz as u128 > cells {
            return Err(self.size_err(text, format!("nnz at most rows*cols = {cells}")));
        }
        (self.rows, self.cols, self.nnz, self.size_line) = (rows, cols, nnz, self.line);
        Ok(())
    }

    /// The next entry and its line number; `None` at end of file, once the count is checked.
    fn next_entry(&mut self) -> Result<Option<(u64, Entry)>, MtxError> {
        loop {
            if !self.advance()? {
                if self.seen != self.nnz {
                    return Err(MtxError::Count {
                        path: self.path.clone(),
                        line: self.size_line,
                        declared: self.nnz,
                        found: self.seen,
                    });
                }
                return Ok(None);
            }
            let text = self.buf.trim();
            if !text.is_empty() && !text.starts_with('%') {
                self.seen += 1;
                return self.entry(text).map(|e| Some((self.line, e)));
            }
        }
    }

    fn entry(&self, text: &str) -> Result<Entry, MtxError> {
        let bad = |found: &str, expected: &str| MtxError::Entry {
            path: self.path.clone(),
            line: self.line,
            found: found.into(),
            expected: expected.into(),
        };
        let mut words = text.split_whitespace();
        let (Some(r), Some(c), Some(v), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(bad(text, "3 fields `row col value`"));
        };
        let pre = self.index(r, "row", self.rows)?;
        let post = self.index(c, "column", self.cols)?;
        let w = if self.integer {
            v.parse::<i64>()
                .ok()
                .map(|i| i as f64)
                .ok_or_else(|| bad(v, "an integer value"))?
        } else {
            v.parse::<f64>().map_err(|_| bad(v, "a real value"))?
        };
        if !w.is_finite() {
            return Err(MtxError::NonFinite {
                path: self.path.clone(),
                line: self.line,
                value: v.into(),
            });
        }
        if !self.weights.0.contains(&w) {
            return Err(bad(v, &self.weights.1));
        }
        Ok((pre, post, w))
    }

    /// A 1-based index token, checked against `1..=len` and returned 0-based.
    fn index(&self, word: &str, axis: &'static str, len: usize) -> Result<u32, MtxError> {
        let index: u64 = word.parse().map_err(|_| MtxError::Entry {
            path: self.path.clone(),
            line: self.line,
            found: word.into(),
            expected: format!("a 1-based {axis} index"),
        })?;
        if index == 0 || index > len as u64 {
            return Err(MtxError::OutOfRange {
                path: self.path.clone(),
                line: self.line,
                axis,
                index,
                len,
            });
        }
        // len <= u32::MAX (checked on the size line), so this fits.
        Ok((index - 1) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries_bits(entries: &[Entry]) -> Vec<(u32, u32, u64)> {
        entries
            .iter()
            .map(|&(p, q, w)| (p, q, w.to_bits()))
            .collect()
    }

    /// Writes `text` to `dir/name` and returns the path.
    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    const BANNER: &str = "%%MatrixMarket matrix coordinate real general\n";

    #[test]
    fn round_trip_is_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name("EE"));
        let entries = vec![
            (0, 0, 0.1),
            (0, 2, 1e-300),
            (0, 4, -3.25),
            (1, 1, 0.1 + 0.2), // 0.30000000000000004: needs 17 digits
            (1, 3, 1.0 / 3.0),
            (2, 0, 5e-324), // smallest subnormal
            (2, 4, f64::MAX),
            (3, 1, -0.0),
            (3, 2, 123456789.12345679),
            (4, 4, 2.0),
        ];
        write(&path, "EE", 5, 6, &entries).unwrap();
        let coo = read(&path).unwrap();
        assert_eq!(
            (coo.rows, coo.cols, coo.pathway.as_deref()),
            (5, 6, Some("EE"))
        );
        assert_eq!(entries_bits(&coo.entries), entries_bits(&entries));
        let again = read_expecting(&path, "EE", 5, 6).unwrap();
        assert_eq!(again, coo);
    }

    #[test]
    fn written_text_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ei.mtx");
        write(
            &path,
            "EI",
            3,
            4,
            &[(0, 1, 0.5), (0, 3, -3.25), (2, 0, 1e-300), (2, 3, 7.0)],
        )
        .unwrap();
        let expected = "%%MatrixMarket matrix coordinate real general\n\
                        % pathway EI\n\
                        % written by snn-limits\n\
                        3 4 4\n\
                        1 2 0.5\n\
                        1 4 -3.25\n\
                        3 1 1e-300\n\
                        3 4 7\n";
        assert_eq!(fs::read_to_string(&path).unwrap(), expected);
        // Empty matrices are valid too.
        write(&path, "EI", 3, 4, &[]).unwrap();
        assert!(fs::read_to_string(&path).unwrap().ends_with("\n3 4 0\n"));
        assert!(read(&path).unwrap().entries.is_empty());
    }

    #[test]
    fn read_sorts_and_accepts_variants() {
        let dir = tempfile::tempdir().unwrap();
        let text = "%%MATRIXMARKET Matrix Coordinate INTEGER General\n% a comment\n\n\
                    3 3 4\n3 1 -2\n1 3 5\n\n2 2 1\n1 1 4\n";
        let coo = read(&file(dir.path(), "x.mtx", text)).unwrap();
        let expected = Coo {
            rows: 3,
            cols: 3,
            pathway: None,
            entries: vec![(0, 0, 4.0), (0, 2, 5.0), (1, 1, 1.0), (2, 0, -2.0)],
        };
        assert_eq!(coo, expected);
        // No pathway comment: any expected pathway is accepted.
        assert_eq!(
            read_expecting(&dir.path().join("x.mtx"), "II", 3, 3).unwrap(),
            expected
        );
    }

    /// Reads a crafted file and checks the error variant and that the message names the file,
    /// the line and each of `wanted`.
    fn check_err(text: &str, line: u64, wanted: &[&str], is: fn(&MtxError) -> bool) {
        let dir = tempfile::tempdir().unwrap();
        let path = file(dir.path(), "crafted.mtx", text);
        let err = read(&path).unwrap_err();
        let msg = err.to_string();
        assert!(is(&err), "wrong variant for {text:?}: {err:?}");
        let at = format!("{}:{line}:", path.display());
        assert!(msg.contains(&at), "{msg:?} lacks {at:?}");
        for w in wanted {
            assert!(msg.contains(w), "{msg:?} lacks {w:?}");
        }
    }

    #[test]
    fn header_errors() {
        let header = |e: &MtxError| matches!(e, MtxError::Header { .. });
        for bad in ["array", "complex", "symmetric", "pattern", "vector"] {
            let banner = match bad {
                "array" => "%%MatrixMarket matrix array real general",
                "complex" => "%%MatrixMarket matrix coordinate complex general",
                "symmetric" => "%%MatrixMarket matrix coordinate real symmetric",
                "pattern" => "%%MatrixMarket matrix coordinate pattern general",
                _ => "%%MatrixMarket vector coordinate real general",
            };
            check_err(
                &format!("{banner}\n1 1 0\n"),
                1,
                &[bad, "coordinate real general"],
                header,
            );
        }
        check_err("1 1 0\n", 1, &["1 1 0"], header);
        check_err("", 1, &["end of file"], header);
    }

    #[test]
    fn size_errors() {
        let size = |e: &MtxError| matches!(e, MtxError::Size { .. });
        check_err(
            &format!("{BANNER}% c\n3 3\n"),
            3,
            &["\"3 3\"", "rows cols nnz"],
            size,
        );
        check_err(&format!("{BANNER}3 x 1\n"), 2, &["3 x 1"], size);
        check_err(
            &format!("{BANNER}2 2 5\n"),
            2,
            &["2 2 5", "at most rows*cols = 4"],
            size,
        );
        check_err(
            &format!("{BANNER}% only comments\n"),
            3,
            &["end of file"],
            size,
        );
    }

    #[test]
    fn entry_errors() {
        let entry = |e: &MtxError| matches!(e, MtxError::Entry { .. });
        check_err(
            &format!("{BANNER}3 3 2\n1 1 1.0\n1 2\n"),
            4,
            &["\"1 2\"", "3 fields"],
            entry,
        );
        check_err(
            &format!("{BANNER}3 3 1\n1 2 3 4\n"),
            3,
            &["1 2 3 4", "3 fields"],
            entry,
        );
        check_err(
            &format!("{BANNER}3 3 1\n1 2 abc\n"),
            3,
            &["abc", "real value"],
            entry,
        );
        check_err(
            &format!("{BANNER}3 3 1\nx 2 1.0\n"),
            3,
            &["\"x\"", "row index"],
            entry,
        );
        check_err(
            &format!("{BANNER}3 3 1\n1 -2 1.0\n"),
            3,
            &["\"-2\"", "column index"],
            entry,
        );
        let int = "%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 2 1.5\n";
        check_err(int, 3, &["1.5", "integer value"], entry);
    }

    #[test]
    fn range_and_value_errors() {
        let range = |e: &MtxError| matches!(e, MtxError::OutOfRange { .. });
        check_err(
            &format!("{BANNER}3 4 2\n1 1 1\n4 1 1.0\n"),
            4,
            &["row index 4", "1..=3"],
            range,
        );
        check_err(
            &format!("{BANNER}3 4 1\n1 0 1.0\n"),
            3,
            &["column index 0", "1..=4"],
            range,
        );
        check_err(
            &format!("{BANNER}3 4 1\n1 5 1.0\n"),
            3,
            &["column index 5", "1..=4"],
            range,
        );
        let finite = |e: &MtxError| matches!(e, MtxError::NonFinite { .. });
        for v in ["NaN", "inf", "-infinity", "1e400"] {
            check_err(
                &format!("{BANNER}3 4 1\n1 1 {v}\n"),
                3,
                &[v, "finite"],
                finite,
            );
        }
    }

    #[test]
    fn duplicate_and_count_errors() {
        let dup = |e: &MtxError| matches!(e, MtxError::Duplicate { .. });
        let text = format!("{BANNER}% c\n3 3 4\n2 3 1.0\n1 1 2.0\n2 3 0.5\n3 3 1\n");
        check_err(&text, 4, &["row 2, column 3", "lines 4 and 6"], dup);
        let adjacent = format!("{BANNER}3 3 2\n1 2 1.0\n1 2 1.0\n");
        check_err(&adjacent, 3, &["row 1, column 2", "lines 3 and 4"], dup);
        let count = |e: &MtxError| matches!(e, MtxError::Count { .. });
        check_err(
            &format!("{BANNER}3 3 3\n1 1 1\n2 2 2\n"),
            2,
            &["declares 3", "has 2"],
            count,
        );
        check_err(
            &format!("{BANNER}3 3 1\n1 1 1\n2 2 2\n"),
            2,
            &["declares 1", "has 2"],
            count,
        );
    }

    #[test]
    fn missing_file_is_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.mtx");
        let err = read(&path).unwrap_err();
        assert!(
            matches!(&err, MtxError::Input(e) if e.is_not_found()),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn read_expecting_checks_shape_and_pathway() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ie.mtx");
        write(&path, "IE", 3, 4, &[(0, 0, 1.0)]).unwrap();
        let shown = path.display().to_string();

        let err = read_expecting(&path, "IE", 4, 4).unwrap_err();
        assert!(matches!(err, MtxError::Shape { .. }), "{err:?}");
        let msg = err.to_string();
        for w in [shown.as_str(), "IE", "3x4", "4x4"] {
            assert!(msg.contains(w), "{msg:?} lacks {w:?}");
        }

        let err = read_expecting(&path, "EI", 3, 4).unwrap_err();
        assert!(matches!(err, MtxError::Pathway { .. }), "{err:?}");
        let msg = err.to_string();
        for w in [shown.as_str(), "pathway IE", "pathway EI"] {
            assert!(msg.contains(w), "{msg:?} lacks {w:?}");
        }
    }

    #[test]
    fn failed_write_leaves_existing_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ii.mtx");
        write(&path, "II", 2, 2, &[(0, 1, 0.25)]).unwrap();
        let before = fs::read(&path).unwrap();

        let bad: [(&str, usize, Vec<Entry>, &str); 5] = [
            ("II", 2, vec![(1, 0, 1.0), (0, 1, 1.0)], "sorted"),
            (
                "II",
                2,
                vec![(0, 1, 1.0), (0, 1, 2.0)],
                "without duplicates",
            ),
            ("II", 2, vec![(0, 2, 1.0)], "outside the 2x2"),
            ("II", 2, vec![(0, 0, f64::NAN)], "non-finite"),
            ("I I", 2, vec![], "one non-empty word"),
        ];
        for (pathway, n, entries, why) in bad {
            let err = write(&path, pathway, n, n, &entries).unwrap_err();
            assert!(matches!(err, MtxError::InvalidInput { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(
                msg.contains(why) && msg.contains(&path.display().to_string()),
                "{msg}"
            );
        }
        assert_eq!(fs::read(&path).unwrap(), before);

        // An I/O failure after the temporary file exists (rename onto a directory) cleans up.
        let target = dir.path().join("subdir");
        fs::create_dir(&target).unwrap();
        let err = write(&target, "II", 2, 2, &[(0, 0, 1.0)]).unwrap_err();
        assert!(matches!(err, MtxError::Io { .. }), "{err:?}");

        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["ii.mtx", "subdir"], "temporary files left behind");
        assert_eq!(fs::read(&path).unwrap(), before);
    }

    #[test]
    fn shape_and_size_are_checked_before_entries_are_read() {
        let dir = tempfile::tempdir().unwrap();
        // Wrong shape, then garbage: the shape is what is reported.
        let path = file(
            dir.path(),
            "ee.mtx",
            &format!(
                "{BANNER}3 3 1
not an entry
"
            ),
        );
        let err = read_expecting(&path, "EE", 4, 4).unwrap_err();
        assert!(matches!(err, MtxError::Shape { .. }), "{err:?}");
        // A file larger than any 2x2 pathway can be is refused unread.
        let big = file(dir.path(), "big.mtx", &"%\n".repeat(600_000));
        let err = read_expecting(&big, "EE", 2, 2).unwrap_err();
        assert!(err.to_string().contains("bytes, larger than"), "{err}");
        // A line without end (a device, a sparse file of zeros) stops at the cap.
        let zeros = dir.path().join("zeros.mtx");
        File::create(&zeros).unwrap().set_len(1 << 30).unwrap();
        let err = read(&zeros).unwrap_err();
        assert!(
            err.to_string().contains("zeros.mtx:1: line longer than"),
            "{err}"
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name("EE"), "ee.mtx");
        assert_eq!(file_name("IE"), "ie.mtx");
    }
}
