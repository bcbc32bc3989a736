//! Appending and reading JSON Lines records (one JSON value per line).
//!
//! # Why appends do not tear or interleave
//!
//! [`append`] serialises the record *and* its newline into one buffer and hands it to the
//! kernel in a single `write` on a file opened with `O_APPEND`:
//!
//! * On Linux, for a regular file opened with `O_APPEND`, positioning at end-of-file and the
//!   write happen as one atomic step, and the inode lock is held for the whole write, so two
//!   processes (or threads) appending at once each get their own contiguous range: lines
//!   never interleave and never overwrite each other.
//! * `write_all` only issues a second `write` if the first one was short, which for a
//!   regular file means an error condition (disk full, file size limit, a fatal signal
//!   arriving between pages of a multi-page record). As a second line of defence the write
//!   is done under an exclusive advisory `flock` that all appenders of this module take, so
//!   even a completed short write is never interleaved with another appender's record. The
//!   lock also makes appends from several NFS clients consistent (O_APPEND alone is not
//!   atomic over NFS). If the file system does not support locks we carry on without one.
//! * After the write we `sync_data`, so a record that [`append`] reported as written
//!   survives a crash of the machine.
//!
//! What remains possible is a *torn final line*: a process killed while writing a large
//! record, or a machine that loses power before `sync_data`. [`read`] reports such a line
//! as a warning instead of dropping it silently, and [`append`] first terminates an
//! unterminated last line, so the next record starts on a line of its own and stays
//! readable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Errors of [`append`] and [`read`]; each names the file (or directory) concerned.
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    /// The parent directory could not be created.
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    /// The file could not be opened (or created).
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    /// The record could not be serialised.
    #[error("cannot serialise a record for {}: {source}", path.display())]
    Serialize {
        path: PathBuf,
        source: serde_json::Error,
    },
    /// Writing (or syncing) the record failed.
    #[error("cannot append to {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
}

/// Appends one JSON value as one line to `path`, creating parent directories. The line is
/// serialised in memory first and written with a single write_all on a file opened with
/// O_APPEND (so concurrent appenders and a process killed mid-run never produce a torn or
/// interleaved line: see the module documentation for the reasoning — on Linux a single
/// write to an O_APPEND regular file is atomic w.r.t. the file offset, and we fsync
/// (sync_data) after). Errors name the path.
pub fn append(path: &Path, value: &serde_json::Value) -> Result<(), JsonlError> {
    Appender::open(path)?.append(value)
}

/// A records file held open by a run that will append to it. From [`Appender::open`] to
/// the append it holds a *shared* advisory lock (fs4) on the file, so that a job runner
/// starting on the same file can tell that a writer is still at work — a run of a killed
/// sweep, say, or an MPI rank whose `mpirun` died — and wait for it instead of running
/// that configuration again (see [`crate::jobs`]). The append converts the lock to an
/// exclusive one for its single write (a conversion drops the shared lock first, so two
/// appenders never wait on each other's shared locks), then drops it.
pub struct Appender {
    path: PathBuf,
    file: File,
}

impl Appender {
    /// Opens (creating it and its directories) `path` for appending.
    pub fn open(path: &Path) -> Result<Appender, JsonlError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|source| JsonlError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let file = OpenOptions::new()
            .read(true) // to look at the last byte (torn line repair)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| JsonlError::Open {
                path: path.to_owned(),
                source,
            })?;
        // (A file system without locks: appends still work, unannounced.)
        loop {
            match fs4::fs_std::FileExt::lock_shared(&file) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        Ok(Appender {
            path: path.to_owned(),
            file,
        })
    }

    /// Appends one value as one line (see [`append`]).
    pub fn append(self, value: &serde_json::Value) -> Result<(), JsonlError> {
        let path = &self.path;
        // Compact serialisation never contains a raw newline (newlines in strings are
        // escaped).
        let mut line = serde_json::to_vec(value).map_err(|source| JsonlError::Serialize {
            path: path.to_owned(),
            source,
        })?;
        line.push(b'\n');
        let write_err = |source| JsonlError::Write {
            path: path.to_owned(),
            source,
        };
        let file = &self.file;
        let lock = FileLock::exclusive(file);
        if !ends_with_newline_or_empty(file) {
            // An earlier writer died mid-line: end that line so this record stays
            // parseable.
            line.insert(0, b'\n');
        }
        let mut writer: &File = file;
        writer.write_all(&line).map_err(write_err)?;
        drop(lock); // other appenders may go on while this record is flushed
        file.sync_data().map_err(write_err)
    }
}

/// Everything [`read`] found in a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOutcome {
    /// The parsed records with their 1-based line numbers, in file order.
    pub records: Vec<(usize, serde_json::Value)>,
    /// One message per line that did not parse: `<path>:<line>: <error>`.
    pub warnings: Vec<String>,
}

/// Largest records file read, bytes (a record is ≈ 10 kB: this is 10^5 runs and more).
pub const MAX_FILE_BYTES: u64 = 4 << 30;
/// Longest line parsed, bytes: a record of 4096 workers' phases is ≈ 1 MB.
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Characters of a bad line quoted in its warning.
pub const EXCERPT_CHARS: usize = 80;

/// Reads all records. A line that does not parse is NOT silently dropped: it is returned as
/// a warning naming the file and the 1-based line number, the serde error and the line's
/// first [`EXCERPT_CHARS`] characters; blank lines are skipped. A final line without
/// trailing newline that fails to parse (a torn write) is reported the same way, and so
/// is a line longer than [`MAX_LINE_BYTES`] (skipped without being stored). A missing
/// file reads as empty; a FIFO, device or directory, or a file over [`MAX_FILE_BYTES`],
/// is an error naming it.
pub fn read(path: &Path) -> Result<ReadOutcome, JsonlError> {
    let read_err = |source| JsonlError::Read {
        path: path.to_owned(),
        source,
    };
    let file = match sim_core::input::open(path, MAX_FILE_BYTES, "a records file") {
        Ok((file, _)) => file,
        Err(e) if e.is_not_found() => return Ok(ReadOutcome::default()),
        Err(e) => return Err(read_err(io::Error::other(e.to_string()))),
    };
    let mut input = io::BufReader::new(file);
    let mut outcome = ReadOutcome::default();
    let mut buf = Vec::new();
    let mut number = 0;
    while let Some(line) =
        sim_core::input::next_line(&mut input, &mut buf, MAX_LINE_BYTES).map_err(read_err)?
    {
        number += 1;
        let warn = |why: String| {
            let text = String::from_utf8_lossy(&buf);
            format!(
                "{}:{number}: {why}: {:?}",
                path.display(),
                sim_core::input::excerpt(&text, EXCERPT_CHARS)
            )
        };
        if line.too_long {
            let w = warn(format!(
                "line of {} bytes, longer than the {MAX_LINE_BYTES} accepted; skipped",
                line.len
            ));
            outcome.warnings.push(w);
            continue;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Err(e) = std::str::from_utf8(&buf) {
            let w = warn(format!("not UTF-8 text ({e})"));
            outcome.warnings.push(w);
            continue;
        }
        match serde_json::from_slice(&buf) {
            Ok(value) => outcome.records.push((number, value)),
            Err(e) => {
                let torn = if line.newline {
                    ""
                } else {
                    " (last line has no trailing newline: torn write?)"
                };
                let w = warn(format!("{e}{torn}"));
                outcome.warnings.push(w);
            }
        }
    }
    Ok(outcome)
}

/// Whether the file is empty or its last byte is a newline (also `true` if unknown).
fn ends_with_newline_or_empty(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let len = match file.metadata() {
        Ok(m) if m.is_file() => m.len(),
        _ => return true,
    };
    if len == 0 {
        return true;
    }
    let mut last = [0u8; 1];
    match file.read_at(&mut last, len - 1) {
        Ok(1) => last[0] == b'\n',
        _ => true,
    }
}

/// An exclusive advisory lock (`flock`, through fs4) held until dropped; a no-op if the
/// file system refuses locks.
struct FileLock<'a> {
    file: Option<&'a File>,
}

impl<'a> FileLock<'a> {
    fn exclusive(file: &'a File) -> FileLock<'a> {
        loop {
            match fs4::fs_std::FileExt::lock_exclusive(file) {
                Ok(()) => return FileLock { file: Some(file) },
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return FileLock { file: None },
            }
        }
    }
}

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        if let Some(file) = self.file {
            // (Closing the file would also release the lock.)
            let _ = fs4::fs_std::FileExt::unlock(file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    #[test]
    fn append_twice_then_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        // Parent directories are created.
        let path = dir.path().join("results/host-a/run.jsonl");
        let first = json!({"run": 1, "note": "two\nlines", "x": [1.5, null]});
        let second = json!({"run": 2});
        append(&path, &first).unwrap();
        append(&path, &second).unwrap();

        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text:?}");
        assert!(text.ends_with('\n'));

        let out = read(&path).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.records, vec![(1, first), (2, second)]);
    }

    #[test]
    fn bad_lines_become_warnings_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.jsonl");
        fs::write(
            &path,
            "{\"a\":1}\nnot json at all\n\n   \n{\"b\":2}\n{\"c\": [1, 2",
        )
        .unwrap();

        let out = read(&path).unwrap();
        assert_eq!(
            out.records,
            vec![(1, json!({"a": 1})), (5, json!({"b": 2}))]
        );
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        let name = path.display().to_string();
        assert!(
            out.warnings[0].starts_with(&format!("{name}:2: ")),
            "{}",
            out.warnings[0]
        );
        assert!(
            out.warnings[1].starts_with(&format!("{name}:6: ")),
            "{}",
            out.warnings[1]
        );
        assert!(out.warnings[1].contains("torn"), "{}", out.warnings[1]);
        assert!(!out.warnings[0].contains("torn"), "{}", out.warnings[0]);
    }

    #[test]
    fn append_after_torn_line_starts_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("torn.jsonl");
        fs::write(&path, "{\"a\":1}\n{\"half\": tr").unwrap();
        append(&path, &json!({"b": 2})).unwrap();

        let out = read(&path).unwrap();
        assert_eq!(
            out.records,
            vec![(1, json!({"a": 1})), (3, json!({"b": 2}))]
        );
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].contains(":2: "), "{}", out.warnings[0]);
    }

    #[test]
    fn missing_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let out = read(&dir.path().join("nope.jsonl")).unwrap();
        assert!(out.records.is_empty() && out.warnings.is_empty());
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: opening for append fails.
        let path = dir.path().join("is-a-dir.jsonl");
        fs::create_dir(&path).unwrap();
        let err = append(&path, &json!(1)).unwrap_err();
        assert!(matches!(err, JsonlError::Open { .. }), "{err:?}");
        assert!(err.to_string().contains("is-a-dir.jsonl"), "{err}");
        let err = read(&path).unwrap_err();
        assert!(err.to_string().contains("is-a-dir.jsonl"), "{err}");

        // A file where a parent directory should be.
        let blocker = dir.path().join("blocker");
        fs::write(&blocker, "").unwrap();
        let err = append(&blocker.join("x.jsonl"), &json!(1)).unwrap_err();
        assert!(matches!(err, JsonlError::CreateDir { .. }), "{err:?}");
        assert!(err.to_string().contains("blocker"), "{err}");
    }

    #[test]
    fn concurrent_appends_never_tear_or_interleave() {
        const THREADS: usize = 8;
        const PER_THREAD: usize = 200;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("concurrent.jsonl");
        // Records larger than a page, so a non-atomic write would be likely to interleave.
        let padding = "x".repeat(6000);
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (path, padding) = (&path, &padding);
                s.spawn(move || {
                    for i in 0..PER_THREAD {
                        append(path, &json!({"t": t, "i": i, "pad": padding})).unwrap();
                    }
                });
            }
        });

        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), THREADS * PER_THREAD);
        let out = read(&path).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", &out.warnings[..1]);
        assert_eq!(out.records.len(), THREADS * PER_THREAD);
        // Every record exactly once, each thread's records in the order it wrote them.
        let mut next: HashMap<u64, u64> = HashMap::new();
        for (line, (number, record)) in out.records.iter().enumerate() {
            assert_eq!(*number, line + 1);
            assert_eq!(record["pad"].as_str(), Some(padding.as_str()));
            let t = record["t"].as_u64().unwrap();
            let i = record["i"].as_u64().unwrap();
            let expected = next.entry(t).or_insert(0);
            assert_eq!(i, *expected, "thread {t} out of order");
            *expected += 1;
        }
        assert_eq!(next.len(), THREADS);
        assert!(next.values().all(|&n| n == PER_THREAD as u64));
    }
}
