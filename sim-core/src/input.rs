//! Opening a user's input file safely: only regular files, never blocking, and no larger
//! than the caller is willing to read.
//!
//! Readers of weight, spike, record, spec and host files all go through [`open`], so that a
//! FIFO, a device (`/dev/zero` behind a symlink), a directory or a sparse multi-gigabyte
//! file is refused with a message naming the path before a single byte is read, instead
//! of blocking forever or growing a buffer until the machine runs out of memory.
//!
//! Hand-written because it is a dozen lines over `std` (metadata, then an `O_NONBLOCK`
//! open re-checked with `fstat`, which closes the race of a file swapped for a FIFO
//! between the two); no crate does exactly this.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why an input file was refused.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        source: io::Error,
    },
    #[error("{}: {kind}, expected a regular file", path.display())]
    NotRegular {
        path: std::path::PathBuf,
        kind: &'static str,
    },
    #[error("{}: {size} bytes, larger than the {max} bytes accepted for {what}", path.display())]
    TooLarge {
        path: std::path::PathBuf,
        size: u64,
        max: u64,
        what: &'static str,
    },
}

impl InputError {
    /// Whether the file does not exist (some readers treat that as empty).
    pub fn is_not_found(&self) -> bool {
        matches!(self, InputError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

fn kind(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading if it is a regular file (symlinks followed) of at most
/// `max_bytes`; returns the file and its size. `what` says what kind of file it is, for
/// the message.
pub fn open(path: &Path, max_bytes: u64, what: &'static str) -> Result<(File, u64), InputError> {
    let io_err = |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let check = |meta: std::fs::Metadata| {
        if !meta.file_type().is_file() {
            return Err(InputError::NotRegular {
                path: path.to_path_buf(),
                kind: kind(meta.file_type()),
            });
        }
        if meta.len() > max_bytes {
            return Err(InputError::TooLarge {
                path: path.to_path_buf(),
                size: meta.len(),
                max: max_bytes,
                what,
            });
        }
        Ok(meta.len())
    };
    check(std::fs::metadata(path).map_err(io_err)?)?;
    // O_NONBLOCK: should the path have become a FIFO since the check, the open returns
    // at once instead of waiting for a writer; on a regular file it changes nothing.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_err)?;
    let size = check(file.metadata().map_err(io_err)?)?;
    Ok((file, size))
}

/// Reads a whole regular file of at most `max_bytes` (see [`open`]).
pub fn read(path: &Path, max_bytes: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    use std::io::Read;
    let (file, size) = open(path, max_bytes, what)?;
    let mut bytes = Vec::with_capacity(size as usize);
    // `take`: a file that grows while being read still stops at the cap.
    file.take(max_bytes)
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(bytes)
}

/// One line read by [`next_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Bytes the line had (without its newline), even those not kept.
    pub len: usize,
    /// Whether it ended with a newline (false: the last line of a file, maybe torn).
    pub newline: bool,
    /// Whether it was longer than the limit: only the first `max` bytes were kept.
    pub too_long: bool,
}

/// Reads the next line into `buf` (cleared first), keeping at most `max` bytes of it and
/// skipping the rest without storing it, so one enormous line (or a file without
/// newlines) costs no more memory than `max`. `None` at end of input.
pub fn next_line(
    r: &mut impl io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<Line>> {
    buf.clear();
    let mut len = 0;
    loop {
        let chunk = match r.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((len > 0).then_some(Line {
                len,
                newline: false,
                too_long: len > max,
            }));
        }
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        let room = max.saturating_sub(buf.len());
        buf.extend_from_slice(&part[..part.len().min(room)]);
        len += part.len();
        let used = done.unwrap_or(chunk.len());
        r.consume(used);
        if done.is_some() {
            return Ok(Some(Line {
                len,
                newline: true,
                too_long: len > max,
            }));
        }
    }
}

/// The first `max` characters of `text` on one line, for quoting a bad input in a
/// message: control characters escaped, an ellipsis if cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_small_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = open(dir.path(), 10, "tests").unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let dev = open(Path::new("/dev/zero"), 10, "tests").unwrap_err();
        assert!(dev.to_string().contains("character device"), "{dev}");
        let f = dir.path().join("f");
        std::fs::write(&f, b"0123456789abc").unwrap();
        let big = open(&f, 10, "tests").unwrap_err();
        assert!(big.to_string().contains("13 bytes"), "{big}");
        assert_eq!(read(&f, 13, "tests").unwrap().len(), 13);
        assert!(open(&dir.path().join("nope"), 1, "tests")
            .unwrap_err()
            .is_not_found());
    }

    #[test]
    fn lines_are_capped_and_the_rest_skipped() {
        let text = format!("ab\n{}\ncd", "x".repeat(100));
        let mut r = io::BufReader::with_capacity(7, text.as_bytes());
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(l) = next_line(&mut r, &mut buf, 10).unwrap() {
            got.push((String::from_utf8(buf.clone()).unwrap(), l));
        }
        let line = |len, newline, too_long| Line {
            len,
            newline,
            too_long,
        };
        assert_eq!(
            got,
            [
                ("ab".into(), line(2, true, false)),
                ("x".repeat(10), line(100, true, true)),
                ("cd".into(), line(2, false, false)),
            ]
        );
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("ab\ncd", 10), "ab\\ncd");
        assert_eq!(excerpt(&"x".repeat(100), 5), "xxxxx…");
    }
}
