//! `--monitor spikes:WHAT` and `--monitor rate:WHAT:BIN`: spike and population-rate
//! monitors streamed to `.npy` files while the run goes on, so that a run of any length
//! records them in bounded memory. A rate monitor writes `rate-WHAT.npy`, float64, one
//! value per bin of BIN (a multiple of dt) from the run's first step: the population's
//! mean rate in Hz (spikes / (neurons × bin)); a last, shorter bin is divided by its
//! own length.
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
//! A state monitor, `--monitor state:VAR:WHAT:EVERY`, writes `state-VAR-WHAT.npy`,
//! float64, one row per sample (the run's first step, then every EVERY) of one value
//! per neuron watched, in id order: the variable at the start of the step, i.e. at time
//! step·dt (see [`state`]).
//!
//! Memory: per monitor, a batch being filled and at most [`QUEUE`] batches of
//! [`BATCH`] spikes waiting; when the disk is slower than the run, the run waits.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use sim_core::monitor::{SpikeSink, StateSink};
use sim_core::{Network, Spike};

pub mod state;

/// Batches of spikes that may wait for a monitor's writer.
pub const QUEUE: usize = 8;

/// Spikes gathered before a batch goes to the writer (512 KiB of rows). Why batches,
/// not windows: a send wakes the writer thread, and a wake-up every exchange costs more
/// than va's whole step (README, "Performance notes").
pub const BATCH: usize = 32 * 1024;

/// The header's length: magic, version, length and a dictionary padded to 128 bytes,
/// its row count written in a fixed-width field so that it can be completed in place.
const HEADER: usize = 128;

/// One `--monitor` as given.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSpec {
    /// `spikes` or `rate`.
    pub kind: &'static str,
    /// What it watches, as written after the kind (`all`, a population, `A-B`).
    pub what: String,
    /// A rate monitor's bin or a state monitor's sampling interval, seconds, and as
    /// written.
    pub bin: Option<(f64, String)>,
    /// A state monitor's variable.
    pub variable: Option<String>,
}

/// Parses `spikes:all`, `spikes:POP` or `spikes:A-B` (neuron ids A to B, both
/// included), `rate:WHAT:BIN` and `state:VAR:WHAT:EVERY`; other kinds are refused,
/// naming the ones there are.
pub fn parse(spec: &str) -> Result<MonitorSpec, String> {
    let bad = |why: &str| format!("--monitor {spec:?}: {why}");
    let (kind, rest) = spec.split_once(':').ok_or_else(|| {
        bad("expected KIND:WHAT, e.g. spikes:all, spikes:E, rate:E:5ms or state:v:0-99:1ms")
    })?;
    let duration = |what: &str, d: &str| {
        d.strip_suffix("ms")
            .map(|x| (x, 1e-3))
            .or_else(|| d.strip_suffix('s').map(|x| (x, 1.0)))
            .and_then(|(x, unit)| Some(x.parse::<f64>().ok()? * unit))
            .filter(|b| b.is_finite() && *b > 0.0)
            .map(|seconds| (seconds, d.to_string()))
            .ok_or_else(|| {
                bad(&format!(
                    "{what} {d:?}: expected a duration such as 5ms or 1s"
                ))
            })
    };
    let (kind, what, bin, variable) = match kind {
        "spikes" => ("spikes", rest, None, None),
        "rate" => {
            let (what, bin) = rest
                .split_once(':')
                .ok_or_else(|| bad("expected rate:WHAT:BIN, e.g. rate:E:5ms"))?;
            ("rate", what, Some(duration("bin", bin)?), None)
        }
        "state" => {
            let mut parts = rest.splitn(3, ':');
            let (Some(var), Some(what), Some(every)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad(
                    "expected state:VARIABLE:WHAT:EVERY, e.g. state:v:0-99:1ms",
                ));
            };
            // A name, or CONN.TRACE (a plastic connection's postsynaptic trace).
            let word =
                |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let ok = match var.split_once('.') {
                None => word(var),
                Some((conn, trace)) => word(conn) && word(trace),
            };
            if !ok {
                return Err(bad(&format!(
                    "variable {var:?}: expected a state variable's name (v, g_exc, theta, …) \
                     or CONN.TRACE (EE.post_trace, …)"
                )));
            }
            (
                "state",
                what,
                Some(duration("interval", every)?),
                Some(var.to_string()),
            )
        }
        "weights" => {
            return Err(bad(
                "weight monitors are not available yet; spike, rate and state monitors are \
                 (spikes:WHAT, rate:WHAT:BIN, state:VAR:WHAT:EVERY)",
            ))
        }
        _ => {
            return Err(bad(&format!(
                "unknown kind {kind:?}: expected spikes, rate or state"
            )))
        }
    };
    let ok = !what.is_empty()
        && what
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(bad(
            "expected all, a population's name or an id range A-B (letters, digits, _ and -)",
        ));
    }
    Ok(MonitorSpec {
        kind,
        what: what.into(),
        bin,
        variable,
    })
}

impl MonitorSpec {
    /// The file it writes in the monitor directory.
    pub fn file_name(&self) -> String {
        match &self.variable {
            Some(var) => format!("{}-{var}-{}.npy", self.kind, self.what),
            None => format!("{}-{}.npy", self.kind, self.what),
        }
    }

    /// How it is written on the command line (for messages).
    pub fn written(&self) -> String {
        match (&self.variable, &self.bin) {
            (Some(var), Some((_, every))) => format!("{}:{var}:{}:{every}", self.kind, self.what),
            (None, Some((_, bin))) => format!("{}:{}:{bin}", self.kind, self.what),
            _ => format!("{}:{}", self.kind, self.what),
        }
    }

    /// A rate monitor's bin or a state monitor's interval in steps of `dt`: a whole
    /// number of them.
    fn bin_steps(&self, dt: f64) -> Result<Option<u64>, String> {
        let Some((bin, _)) = &self.bin else {
            return Ok(None);
        };
        let steps = (bin / dt).round();
        // At most 2^32 steps a bin (over a day of model time at dt = 10 µs), so that
        // the bins' step arithmetic cannot overflow.
        if steps > u32::MAX as f64 {
            return Err(format!(
                "--monitor {}: {} steps; expected at most 2^32 − 1",
                self.written(),
                steps
            ));
        }
        if steps < 1.0 || (bin / dt - steps).abs() > 1e-6 * steps {
            return Err(format!(
                "--monitor {}: expected a whole number of steps (dt = {} ms)",
                self.written(),
                dt * 1e3
            ));
        }
        Ok(Some(steps as u64))
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
                "--monitor {}: ids up to {}, but {} has {n} neurons (0-{})",
                self.written(),
                r.end - 1,
                net.name,
                n - 1
            )),
            None => {
                let names: Vec<&str> = net.populations.iter().map(|p| p.name.as_str()).collect();
                Err(format!(
                    "--monitor {}: expected all, a population of {} ({}) or ids A-B \
                     with A <= B",
                    self.written(),
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
        s.bin_steps(net.dt)?;
        for probe in state::probes(std::slice::from_ref(s), net, 0)? {
            probe
                .check(net)
                .map_err(|e| format!("--monitor {}: {e}", s.written()))?;
        }
        let name = s.file_name();
        if !names.insert(name.clone()) {
            return Err(format!("--monitor {}: given twice", s.written()));
        }
        let path = dir.join(&name);
        if path.exists() && !force {
            return Err(format!(
                "--monitor {}: {} exists; pass --force to replace it",
                s.written(),
                path.display()
            ));
        }
        if path.is_dir() {
            return Err(format!(
                "--monitor {}: {} is a directory",
                s.written(),
                path.display()
            ));
        }
        // A killed run's file, perhaps not repaired yet: the run would truncate it.
        let partial = partial_of(&path);
        if partial.exists() && !force {
            return Err(format!(
                "--monitor {}: {} is there (left by an interrupted run: \
                 `snn-bench repair-npy` completes it); pass --force to replace it",
                s.written(),
                partial.display()
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

/// What a monitor's file holds: spike rows (int64 step, id), rate values (float64),
/// or rows of a number of float64 values (a state monitor's samples).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rows {
    Spikes,
    Rates,
    Values(u32),
}

impl Rows {
    fn bytes(self) -> u64 {
        match self {
            Rows::Spikes => 16,
            Rows::Rates => 8,
            Rows::Values(n) => 8 * n as u64,
        }
    }
}

/// The header of a monitor's file of `rows` rows.
fn header(kind: Rows, rows: u64) -> [u8; HEADER] {
    let dict = match kind {
        Rows::Spikes => {
            format!("{{'descr': '<i8', 'fortran_order': False, 'shape': ({rows:>20}, 2), }}")
        }
        Rows::Rates => {
            format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows:>20},), }}")
        }
        Rows::Values(n) => {
            format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows:>20}, {n}), }}")
        }
    };
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
    writers: Vec<Writer>,
}

/// Gathers each window's spikes for every monitor, and sends them on in batches.
struct Fanout {
    to: Vec<Feed>,
}

/// One monitor's side of the fan-out: what it keeps, its batch of encoded rows (and
/// how many), its writer, and a rate monitor's bins.
struct Feed {
    ids: Range<u32>,
    batch: Vec<u8>,
    rows: u64,
    tx: SyncSender<(Vec<u8>, u64)>,
    bins: Option<Bins>,
}

/// A rate monitor's running bin: bins of `steps` steps from `start`; `current` is
/// the bin being counted, `upto` the first step not yet seen.
struct Bins {
    start: u64,
    steps: u64,
    current: u64,
    count: u64,
    upto: u64,
    /// neurons × dt: a bin of k steps holding c spikes is c / (k · per_step) Hz.
    per_step: f64,
}

impl Feed {
    fn send(&mut self) {
        if self.rows > 0 {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH * 16));
            // A writer that failed has hung up: its error comes at the end.
            let _ = self.tx.send((full, std::mem::take(&mut self.rows)));
        }
    }

    /// The rate of the current bin, over `steps` steps, as a row; the next bin starts.
    fn close_bin(&mut self, steps: u64) {
        let b = self.bins.as_mut().expect("a rate monitor");
        let hz = b.count as f64 / (steps as f64 * b.per_step);
        b.count = 0;
        b.current += 1;
        self.batch.extend_from_slice(&hz.to_le_bytes());
        self.rows += 1;
    }

    fn take(&mut self, upto: u64, spikes: &[Spike]) {
        let ids = self.ids.clone();
        let mine = spikes.iter().filter(|s| ids.contains(&s.gid));
        if self.bins.is_none() {
            for s in mine {
                self.batch.extend_from_slice(&(s.step as i64).to_le_bytes());
                self.batch.extend_from_slice(&(s.gid as i64).to_le_bytes());
                self.rows += 1;
            }
        } else {
            let (start, steps) = {
                let b = self.bins.as_ref().expect("a rate monitor");
                (b.start, b.steps)
            };
            for s in mine {
                let bin = (s.step - start) / steps;
                while self.bins.as_ref().expect("a rate monitor").current < bin {
                    self.close_bin(steps);
                }
                self.bins.as_mut().expect("a rate monitor").count += 1;
            }
            // Every bin that ends by `upto` has all its spikes.
            loop {
                let b = self.bins.as_mut().expect("a rate monitor");
                b.upto = upto;
                if b.start + (b.current + 1) * b.steps > upto {
                    break;
                }
                let steps = b.steps;
                self.close_bin(steps);
            }
        }
        if self.rows as usize >= BATCH {
            self.send();
        }
    }

    /// The end: a rate monitor's last, shorter bin, then the last batch.
    fn finish(&mut self) {
        if let Some(b) = &self.bins {
            let begun = b.start + b.current * b.steps;
            if b.upto > begun {
                let steps = b.upto - begun;
                self.close_bin(steps);
            }
        }
        self.send();
    }
}

impl SpikeSink for Fanout {
    fn window(&mut self, upto: u64, spikes: &[Spike]) {
        for f in &mut self.to {
            f.take(upto, spikes);
        }
    }
}

impl Drop for Fanout {
    /// The end of the run (the simulation drops its sink): the last batches go out.
    fn drop(&mut self) {
        for f in &mut self.to {
            f.finish();
        }
    }
}

/// What [`start`] returns: the sinks for `Simulation::set_spike_sink` and
/// `Simulation::set_state_probes` (None without state monitors), and the monitors to
/// [`Monitors::finish`].
pub type Started = (Box<dyn SpikeSink>, Option<Box<dyn StateSink>>, Monitors);

/// Starts a writer per monitor (files `dir/KIND-WHAT.npy.partial`); a run's first step
/// `first_step` starts the rate bins.
pub fn start(
    specs: &[MonitorSpec],
    dir: &Path,
    net: &Network,
    first_step: u64,
    force: bool,
) -> Result<Started, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("--monitor-dir {}: cannot create it: {e}", dir.display()))?;
    let mut to = Vec::new();
    let mut writers = Vec::new();
    for s in specs.iter().filter(|s| s.variable.is_none()) {
        let ids = s.ids(net)?;
        let bins = s.bin_steps(net.dt)?.map(|steps| Bins {
            start: first_step,
            steps,
            current: 0,
            count: 0,
            upto: first_step,
            per_step: ids.len() as f64 * net.dt,
        });
        let kind = match bins {
            Some(_) => Rows::Rates,
            None => Rows::Spikes,
        };
        let (tx, writer) = start_writer(s, dir, kind, force)?;
        writers.push(writer);
        to.push(Feed {
            ids,
            batch: Vec::with_capacity(BATCH * 16),
            rows: 0,
            tx,
            bins,
        });
    }
    let state = state::start(specs, dir, net, force, &mut writers)?;
    Ok((Box::new(Fanout { to }), state, Monitors { writers }))
}

/// A running writer: the file it makes and its thread.
type Writer = (PathBuf, JoinHandle<Result<u64, String>>);

/// Where a writer's batches go: encoded rows and how many.
type Batches = SyncSender<(Vec<u8>, u64)>;

/// Creates `DIR/FILE.partial` of monitor `s` with a header of 0 rows and starts its
/// writer thread; returns where to send its batches (bytes, rows) and the writer.
fn start_writer(
    s: &MonitorSpec,
    dir: &Path,
    kind: Rows,
    force: bool,
) -> Result<(Batches, Writer), String> {
    let path = dir.join(s.file_name());
    let partial = partial_of(&path);
    let mut file = File::create(&partial)
        .map_err(|e| format!("--monitor {}: {}: {e}", s.written(), partial.display()))?;
    file.write_all(&header(kind, 0))
        .map_err(|e| format!("{}: {e}", partial.display()))?;
    let (tx, rx) = sync_channel(QUEUE);
    let target = path.clone();
    let handle = std::thread::spawn(move || write_rows(file, kind, rx, &partial, &target, force));
    Ok((tx, (path, handle)))
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
    kind: Rows,
    rx: Receiver<(Vec<u8>, u64)>,
    partial: &Path,
    target: &Path,
    force: bool,
) -> Result<u64, String> {
    let err = |e: std::io::Error| format!("{}: {e}", partial.display());
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rows = 0u64;
    let mut failed = None;
    for (bytes, n) in rx {
        if failed.is_some() {
            continue; // keep receiving, so the run never waits on a dead writer
        }
        match out.write_all(&bytes) {
            Ok(()) => rows += n,
            Err(e) => failed = Some(err(e)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let mut file = out.into_inner().map_err(|e| err(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(err)?;
    file.write_all(&header(kind, rows)).map_err(err)?;
    file.sync_all().map_err(err)?;
    if target.exists() && !force {
        return Err(format!(
            "{} appeared during the run; the monitor's rows are in {}",
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
    let Some(kind) = ours(&head) else {
        return Err(err(
            &"not a monitor's file (its header is not the one monitors write)",
        ));
    };
    let len = file.metadata().map_err(|e| err(&e))?.len();
    let rows = (len - HEADER as u64) / kind.bytes();
    file.set_len(HEADER as u64 + rows * kind.bytes())
        .map_err(|e| err(&e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| err(&e))?;
    file.write_all(&header(kind, rows)).map_err(|e| err(&e))?;
    file.sync_all().map_err(|e| err(&e))?;
    Ok(rows)
}

/// What `head` is the header of, if [`header`] wrote it (for any row count).
fn ours(head: &[u8; HEADER]) -> Option<Rows> {
    let text = String::from_utf8_lossy(&head[10..]);
    let text = text.trim_end();
    // A matrix's column count, from the shape's second field.
    let cols = (text.rsplit_once(", "))
        .and_then(|(_, tail)| tail.strip_suffix("), }")?.parse::<u32>().ok())
        .filter(|&n| n > 0);
    let kinds = [Rows::Spikes, Rows::Rates]
        .into_iter()
        .chain(cols.map(Rows::Values));
    kinds.into_iter().find(|&kind| {
        let model = header(kind, 0);
        let model = String::from_utf8_lossy(&model[10..]);
        let (prefix, suffix) = model.trim_end().split_once("(  ").expect("a shape");
        let suffix = suffix.trim_start_matches([' ', '0']);
        head[..10] == header(kind, 0)[..10] && text.starts_with(prefix) && text.ends_with(suffix)
    })
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
            ("rate:E", "rate:WHAT:BIN"),
            ("rate:E:5", "a duration"),
            ("rate:E:-1ms", "a duration"),
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
        let h = header(Rows::Spikes, 12345);
        assert_eq!(h.len(), HEADER);
        assert_eq!(h[HEADER - 1], b'\n');
        assert_eq!(ours(&h), Some(Rows::Spikes));
        assert_eq!(ours(&header(Rows::Rates, 7)), Some(Rows::Rates));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.npy");
        let mut bytes = header(Rows::Spikes, 2).to_vec();
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
        let mut bytes = header(Rows::Spikes, 0).to_vec();
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
        assert!(repair(&other).unwrap_err().contains("not a monitor"));
    }
}
