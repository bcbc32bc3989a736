//! `--monitor spikes:WHAT`: spike monitors streamed to `.npy` files while the run goes
//! on, so that a run of any length records its spikes in bounded memory.
//!
//! Each exchange's spikes (network-wide, sorted by step then id: see
//! `sim_core::monitor`) are filtered by each monitor and sent, over a bounded channel,
//! to the monitor's writer thread, which appends them to `DIR/spikes-WHAT.npy.partial`
//! (int64 rows (step, id), the layout of `--spikes`). When the run ends, the writer
//! completes the header's row count, syncs the file and renames it to
//! `spikes-WHAT.npy`; an existing file of that name is replaced only with `--force`,
//! and only then. A run killed on the way leaves the `.partial` file with a header of
//! 0 rows and every row written so far: `snn-bench repair-npy FILE` sets the header
//! from the file's length (or, in NumPy,
//! `np.fromfile(FILE, dtype='<i8', offset=128).reshape(-1, 2)`).
//!
//! Memory: per monitor, a batch being filled and at most [`QUEUE`] batches of
//! [`BATCH`] spikes waiting; when the disk is slower than the run, the run waits.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use sim_core::monitor::SpikeSink;
use sim_core::{Network, Spike};

/// Batches of spikes that may wait for a monitor's writer.
pub const QUEUE: usize = 8;

/// Spikes gathered before a batch goes to the writer (512 KiB of rows). Why batches,
/// not windows: a send wakes the writer thread, and waking it every exchange (every
/// 0.8 ms of va's model time) made va on one thread 1.37× slower (measured, 20 runs).
pub const BATCH: usize = 32 * 1024;

/// The header's length: magic, version, length and a dictionary padded to 128 bytes,
/// its row count written in a fixed-width field so that it can be completed in place.
const HEADER: usize = 128;

/// One `--monitor` as given.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSpec {
    /// What it watches, as written after `spikes:` (`all`, a population, `A-B`).
    pub what: String,
}

/// Parses `spikes:all`, `spikes:POP` or `spikes:A-B` (neuron ids A to B, both
/// included); other kinds are refused, naming the ones there are.
pub fn parse(spec: &str) -> Result<MonitorSpec, String> {
    let bad = |why: &str| format!("--monitor {spec:?}: {why}");
    let (kind, what) = spec
        .split_once(':')
        .ok_or_else(|| bad("expected KIND:WHAT, e.g. spikes:all, spikes:E or spikes:0-99"))?;
    match kind {
        "spikes" => {}
        "state" | "rate" | "weights" => {
            return Err(bad(&format!(
                "{kind} monitors are not available yet; spike monitors are \
                 (spikes:all, spikes:POPULATION, spikes:A-B)"
            )))
        }
        _ => return Err(bad(&format!("unknown kind {kind:?}: expected spikes"))),
    }
    let ok = !what.is_empty()
        && what
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(bad(
            "expected all, a population's name or an id range A-B (letters, digits, _ and -)",
        ));
    }
    Ok(MonitorSpec { what: what.into() })
}

impl MonitorSpec {
    /// The file it writes in the monitor directory.
    pub fn file_name(&self) -> String {
        format!("spikes-{}.npy", self.what)
    }

    /// The neuron ids it keeps in `net`.
    pub fn ids(&self, net: &Network) -> Result<Range<u32>, String> {
        let n = net.neuron_count() as u32;
        if self.what == "all" {
            return Ok(0..n);
        }
        let offsets = net.offsets();
        if let Some(p) = net.populations.iter().position(|p| p.name == self.what) {
            let start = offsets[p] as u32;
            return Ok(start..start + net.populations[p].size as u32);
        }
        let range = self.what.split_once('-').and_then(|(a, b)| {
            let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
            (a <= b).then_some(a..b.checked_add(1)?)
        });
        match range {
            Some(r) if r.end <= n => Ok(r),
            Some(r) => Err(format!(
                "--monitor spikes:{}: ids up to {}, but {} has {n} neurons (0-{})",
                self.what,
                r.end - 1,
                net.name,
                n - 1
            )),
            None => {
                let names: Vec<&str> = net.populations.iter().map(|p| p.name.as_str()).collect();
                Err(format!(
                    "--monitor spikes:{}: expected all, a population of {} ({}) or ids A-B \
                     with A <= B",
                    self.what,
                    net.name,
                    names.join(", ")
                ))
            }
        }
    }
}

/// Checks, before the run, every monitor of `specs` in `dir`: its selection exists in
/// `net`, no two write one file, and none replaces a file without `force`.
pub fn check(specs: &[MonitorSpec], dir: &Path, net: &Network, force: bool) -> Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    for s in specs {
        s.ids(net)?;
        let name = s.file_name();
        if !names.insert(name.clone()) {
            return Err(format!("--monitor spikes:{}: given twice", s.what));
        }
        let path = dir.join(&name);
        if path.exists() && !force {
            return Err(format!(
                "--monitor spikes:{}: {} exists; pass --force to replace it",
                s.what,
                path.display()
            ));
        }
        if path.is_dir() {
            return Err(format!(
                "--monitor spikes:{}: {} is a directory",
                s.what,
                path.display()
            ));
        }
    }
    if dir.exists() && !dir.is_dir() {
        return Err(format!(
            "--monitor-dir {}: exists and is not a directory",
            dir.display()
        ));
    }
    Ok(())
}

/// The header of an int64 array of `rows` × 2.
fn header(rows: u64) -> [u8; HEADER] {
    let dict = format!("{{'descr': '<i8', 'fortran_order': False, 'shape': ({rows:>20}, 2), }}");
    let mut out = [b' '; HEADER];
    out[..6].copy_from_slice(b"\x93NUMPY");
    out[6..8].copy_from_slice(&[1, 0]);
    out[8..10].copy_from_slice(&((HEADER - 10) as u16).to_le_bytes());
    out[10..10 + dict.len()].copy_from_slice(dict.as_bytes());
    out[HEADER - 1] = b'\n';
    out
}

/// The running monitors: the sink the simulation streams to, and their writers.
pub struct Monitors {
    writers: Vec<(PathBuf, JoinHandle<Result<u64, String>>)>,
}

/// Gathers each window's spikes for every monitor, and sends them on in batches.
struct Fanout {
    to: Vec<Feed>,
}

/// One monitor's side of the fan-out: what it keeps, its batch, its writer.
struct Feed {
    ids: Range<u32>,
    batch: Vec<Spike>,
    tx: SyncSender<Vec<Spike>>,
}

impl Feed {
    fn send(&mut self) {
        if !self.batch.is_empty() {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            // A writer that failed has hung up: its error comes at the end.
            let _ = self.tx.send(full);
        }
    }
}

impl SpikeSink for Fanout {
    fn window(&mut self, spikes: &[Spike]) {
        for f in &mut self.to {
            let ids = f.ids.clone();
            f.batch
                .extend(spikes.iter().filter(|s| ids.contains(&s.gid)));
            if f.batch.len() >= BATCH {
                f.send();
            }
        }
    }
}

impl Drop for Fanout {
    /// The end of the run (the simulation drops its sink): the last batches go out.
    fn drop(&mut self) {
        for f in &mut self.to {
            f.send();
        }
    }
}

/// Starts a writer per monitor (files `dir/spikes-WHAT.npy.partial`) and returns the
/// sink for `Simulation::set_spike_sink` and the monitors to [`Monitors::finish`].
pub fn start(
    specs: &[MonitorSpec],
    dir: &Path,
    net: &Network,
    force: bool,
) -> Result<(Box<dyn SpikeSink>, Monitors), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("--monitor-dir {}: cannot create it: {e}", dir.display()))?;
    let mut to = Vec::new();
    let mut writers = Vec::new();
    for s in specs {
        let path = dir.join(s.file_name());
        let partial = partial_of(&path);
        let mut file = File::create(&partial)
            .map_err(|e| format!("--monitor spikes:{}: {}: {e}", s.what, partial.display()))?;
        file.write_all(&header(0))
            .map_err(|e| format!("{}: {e}", partial.display()))?;
        let (tx, rx) = sync_channel(QUEUE);
        to.push(Feed {
            ids: s.ids(net)?,
            batch: Vec::with_capacity(BATCH),
            tx,
        });
        let target = path.clone();
        let handle = std::thread::spawn(move || write_rows(file, rx, &partial, &target, force));
        writers.push((path, handle));
    }
    Ok((Box::new(Fanout { to }), Monitors { writers }))
}

fn partial_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// A writer thread: appends the rows it receives, then completes the header, syncs and
/// moves the file into place. Returns the rows written.
fn write_rows(
    file: File,
    rx: Receiver<Vec<Spike>>,
    partial: &Path,
    target: &Path,
    force: bool,
) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", partial.display());
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rows = 0u64;
    let mut failed = None;
    for window in rx {
        if failed.is_some() {
            continue; // keep receiving, so the run never waits on a dead writer
        }
        for s in &window {
            let written = out
                .write_all(&(s.step as i64).to_le_bytes())
                .and_then(|()| out.write_all(&(s.gid as i64).to_le_bytes()));
            if let Err(e) = written {
                failed = Some(err(e));
                break;
            }
            rows += 1;
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let mut file = out.into_inner().map_err(|e| err(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(err)?;
    file.write_all(&header(rows)).map_err(err)?;
    file.sync_all().map_err(err)?;
    if target.exists() && !force {
        return Err(format!(
            "{} appeared during the run; the spikes are in {}",
            target.display(),
            partial.display()
        ));
    }
    std::fs::rename(partial, target).map_err(err)?;
    Ok(rows)
}

impl Monitors {
    /// Waits for every writer (after the sink was dropped) and returns each file with
    /// its row count, or the first writer's error.
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>, String> {
        let mut done = Vec::new();
        for (path, h) in self.writers {
            let rows = h
                .join()
                .map_err(|_| format!("{}: the writer panicked", path.display()))??;
            done.push((path, rows));
        }
        Ok(done)
    }
}

/// `snn-bench repair-npy FILE`: sets the row count in the header of a monitor's file
/// left by a killed run from the file's length (whole rows only; a torn last row is
/// cut off). Returns the rows.
pub fn repair(path: &Path) -> Result<u64, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| err(&e))?;
    let mut head = [0u8; HEADER];
    std::io::Read::read_exact(&mut file, &mut head).map_err(|e| err(&e))?;
    if !looks_like_ours(&head) {
        return Err(err(
            &"not a spike monitor's file (its header is not the one monitors write)",
        ));
    }
    let len = file.metadata().map_err(|e| err(&e))?.len();
    let rows = (len - HEADER as u64) / 16;
    file.set_len(HEADER as u64 + rows * 16)
        .map_err(|e| err(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| err(&e))?;
    file.write_all(&header(rows)).map_err(|e| err(&e))?;
    file.sync_all().map_err(|e| err(&e))?;
    Ok(rows)
}

/// Whether `head` is a header [`header`] wrote, for any row count.
fn looks_like_ours(head: &[u8; HEADER]) -> bool {
    let text = String::from_utf8_lossy(&head[10..]);
    head[..10] == header(0)[..10]
        && text.starts_with("{'descr': '<i8', 'fortran_order': False, 'shape': (")
        && text.trim_end().ends_with(", 2), }")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        assert_eq!(parse("spikes:all").unwrap().file_name(), "spikes-all.npy");
        assert_eq!(parse("spikes:0-99").unwrap().what, "0-99");
        for (bad, says) in [
            ("spikes", "KIND:WHAT"),
            ("state:v:0-9:1ms", "not available yet"),
            ("volts:all", "unknown kind"),
            ("spikes:", "expected all"),
            ("spikes:../x", "expected all"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn the_header_is_128_bytes_that_numpy_and_our_reader_read() {
        let h = header(12345);
        assert_eq!(h.len(), HEADER);
        assert_eq!(h[HEADER - 1], b'\n');
        assert!(looks_like_ours(&h));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.npy");
        let mut bytes = header(2).to_vec();
        for v in [3i64, 7, 600_000, 3999] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(&p, &bytes).unwrap();
        let spikes = crate::spikes::read_npy(&p).unwrap();
        assert_eq!(
            spikes,
            vec![
                Spike { step: 3, gid: 7 },
                Spike {
                    step: 600_000,
                    gid: 3999
                }
            ]
        );
    }

    #[test]
    fn repair_counts_whole_rows_and_refuses_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.npy.partial");
        let mut bytes = header(0).to_vec();
        for v in [1i64, 2, 3, 4, 5] {
            bytes.extend_from_slice(&v.to_le_bytes()); // two rows and a torn third
        }
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(repair(&p).unwrap(), 2);
        let s = crate::spikes::read_npy(&p).unwrap();
        assert_eq!(
            s,
            vec![Spike { step: 1, gid: 2 }, Spike { step: 3, gid: 4 }]
        );
        let other = dir.path().join("o.npy");
        std::fs::write(&other, vec![b'x'; 200]).unwrap();
        assert!(repair(&other).unwrap_err().contains("not a spike monitor"));
    }
}
