//! `--monitor KIND:WHAT[:OPTIONS]`: monitors streamed to files while the run goes on,
//! so that a run of any length records them in bounded memory.
//!
//! - `spikes:WHAT` (`all`, a population, ids `A-B`): `spikes-WHAT.npy`, int64 rows
//!   (step, id), the layout of `--spikes`; `spikes:WHAT:ras`: `spikes-WHAT.ras`,
//!   Auryn's text format ([`ras`]).
//! - `rate:WHAT:BIN`: `rate-WHAT.npy`, float64, one value per bin of BIN (a multiple of
//!   dt) from the run's first step: the population's mean rate in Hz (spikes /
//!   (neurons × bin)); a last, shorter bin is divided by its own length.
//! - `state:VAR:WHAT:EVERY`: `state-VAR-WHAT.npy`, float64, one row per sample (the
//!   run's first step, then every EVERY) of one value per neuron watched, in id order:
//!   the variable at the start of the step, i.e. at time step·dt ([`state`]).
//! - `weights:CONN:N:INTERVAL`: a sample of N synapses of a plastic connection and a
//!   histogram of all its weights every INTERVAL ([`weights`]).
//! - `--spikes FILE` is a spike monitor of all neurons writing FILE ([`start`]).
//!
//! Each exchange's spikes (network-wide, sorted by step then id: see
//! `sim_core::monitor`) are filtered by each spike or rate monitor and sent, over a
//! bounded channel, to the monitor's writer thread, which appends them to
//! `DIR/KIND-WHAT.EXT.partial` ([`stream`]). When the run ends, the writer completes
//! the header's row count, syncs the file and renames it to `KIND-WHAT.EXT`; an
//! existing file of that name is replaced only with `--force`, and only then. A run
//! killed on the way leaves the `.partial` file with a header of 0 rows and every row
//! written so far: `snn-bench repair-npy FILE` sets the header from the file's length
//! (or, in NumPy, `np.fromfile(FILE, dtype='<i8', offset=128).reshape(-1, 2)`); of a
//! `.ras` file it cuts a torn last line.
//!
//! Memory: per monitor, a batch being filled and at most [`QUEUE`] batches of
//! [`BATCH`] spikes waiting; when the disk is slower than the run, the run waits.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sim_core::monitor::{SpikeSink, StateSink};
use sim_core::{Network, Spike};

pub mod ras;
pub mod state;
pub mod stream;
pub mod weights;

use stream::{partial_of, Layout, Writer};

/// Batches of spikes that may wait for a monitor's writer.
pub const QUEUE: usize = 8;

/// Spikes gathered before a batch goes to the writer (512 KiB of rows). Why batches,
/// not windows: a send wakes the writer thread, and a wake-up every exchange costs more
/// than va's whole step (README, "Performance notes").
pub const BATCH: usize = 32 * 1024;

/// One `--monitor` as given.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSpec {
    /// `spikes`, `rate`, `state` or `weights`.
    pub kind: &'static str,
    /// What it watches, as written after the kind (`all`, a population, `A-B`; a
    /// weight monitor's connection).
    pub what: String,
    /// A rate monitor's bin or a state monitor's sampling interval, seconds, and as
    /// written.
    pub bin: Option<(f64, String)>,
    /// A state monitor's variable.
    pub variable: Option<String>,
    /// A spike monitor's file format: `npy` or `ras`.
    pub format: &'static str,
    /// A weight monitor's sample size (synapses).
    pub sample: Option<u64>,
    /// A weight monitor's interval, seconds, and as written.
    pub every: Option<(f64, String)>,
}

/// A duration such as `5ms` or `10s`, in seconds (finite, > 0).
fn duration(text: &str) -> Option<f64> {
    text.strip_suffix("ms")
        .map(|x| (x, 1e-3))
        .or_else(|| text.strip_suffix('s').map(|x| (x, 1.0)))
        .and_then(|(x, unit)| Some(x.parse::<f64>().ok()? * unit))
        .filter(|b| b.is_finite() && *b > 0.0)
}

/// Parses `spikes:all`, `spikes:POP` or `spikes:A-B` (neuron ids A to B, both
/// included) with an optional format (`spikes:E:ras`), `rate:WHAT:BIN`,
/// `state:VAR:WHAT:EVERY` and `weights:CONN:N:INTERVAL`; other kinds are refused,
/// naming the ones there are.
pub fn parse(spec: &str) -> Result<MonitorSpec, String> {
    let bad = |why: &str| format!("--monitor {spec:?}: {why}");
    let (kind, rest) = spec.split_once(':').ok_or_else(|| {
        bad(
            "expected KIND:WHAT, e.g. spikes:all, spikes:E:ras, rate:E:5ms, \
             state:v:0-99:1ms or weights:EE:1000:10s",
        )
    })?;
    let mut m = MonitorSpec {
        kind: "spikes",
        what: String::new(),
        bin: None,
        variable: None,
        format: "npy",
        sample: None,
        every: None,
    };
    let what = match kind {
        "spikes" => match rest.split_once(':') {
            None => rest,
            Some((what, format)) => {
                m.format = match format {
                    "npy" => "npy",
                    "ras" => "ras",
                    _ => {
                        return Err(bad(&format!(
                            "format {format:?}: expected npy or ras (spikes:WHAT:ras writes \
                             Auryn's text format)"
                        )))
                    }
                };
                what
            }
        },
        "rate" => {
            let (what, bin) = rest
                .split_once(':')
                .ok_or_else(|| bad("expected rate:WHAT:BIN, e.g. rate:E:5ms"))?;
            let seconds = duration(bin).ok_or_else(|| {
                bad(&format!(
                    "bin {bin:?}: expected a duration such as 5ms or 1s"
                ))
            })?;
            m.kind = "rate";
            m.bin = Some((seconds, bin.to_string()));
            what
        }
        "weights" => {
            let parts: Vec<&str> = rest.split(':').collect();
            let [what, n, every] = parts[..] else {
                return Err(bad(
                    "expected weights:CONN:N:INTERVAL (a plastic connection, the synapses \
                     sampled and the interval), e.g. weights:EE:1000:10s",
                ));
            };
            let n = n.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(|| {
                bad(&format!(
                    "N {n:?}: expected a whole number of synapses to sample, at least 1"
                ))
            })?;
            let seconds = duration(every).ok_or_else(|| {
                bad(&format!(
                    "interval {every:?}: expected a duration such as 100ms or 10s"
                ))
            })?;
            m.kind = "weights";
            m.sample = Some(n);
            m.every = Some((seconds, every.to_string()));
            what
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
            let seconds = duration(every).ok_or_else(|| {
                bad(&format!(
                    "interval {every:?}: expected a duration such as 5ms or 1s"
                ))
            })?;
            m.kind = "state";
            m.bin = Some((seconds, every.to_string()));
            m.variable = Some(var.to_string());
            what
        }
        _ => {
            return Err(bad(&format!(
                "unknown kind {kind:?}: expected spikes, rate, state or weights"
            )))
        }
    };
    let ok = !what.is_empty()
        && what
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(bad(match m.kind {
            "weights" => "expected a connection's name (letters, digits, _ and -)",
            _ => "expected all, a population's name or an id range A-B (letters, digits, _ and -)",
        }));
    }
    m.what = what.into();
    Ok(m)
}

/// `seconds` (as `written`) in whole steps of `dt`: the message names `spec` and
/// `what` (`bin`, `interval`).
fn whole_steps(
    spec: &str,
    what: &str,
    seconds: f64,
    written: &str,
    dt: f64,
) -> Result<u64, String> {
    let steps = (seconds / dt).round();
    // At most 2^32 steps (over a day of model time at dt = 10 µs), so that the step
    // arithmetic cannot overflow.
    if steps > u32::MAX as f64 {
        return Err(format!(
            "--monitor {spec}: a {what} of {steps} steps ({written}); expected at most \
             2^32 − 1"
        ));
    }
    if steps < 1.0 || (seconds / dt - steps).abs() > 1e-6 * steps {
        return Err(format!(
            "--monitor {spec}: the {what} {written} must be a whole number of steps \
             (dt = {} ms)",
            dt * 1e3
        ));
    }
    Ok(steps as u64)
}

impl MonitorSpec {
    /// The spec as written (`spikes:E:ras`, `weights:EE:1000:10s`).
    pub fn written(&self) -> String {
        match self.kind {
            "state" => format!(
                "state:{}:{}:{}",
                self.variable.as_deref().unwrap_or_default(),
                self.what,
                self.bin.as_ref().map_or("", |b| &b.1)
            ),
            "rate" => format!(
                "rate:{}:{}",
                self.what,
                self.bin.as_ref().map_or("", |b| &b.1)
            ),
            "weights" => format!(
                "weights:{}:{}:{}",
                self.what,
                self.sample.unwrap_or(0),
                self.every.as_ref().map_or("", |e| &e.1)
            ),
            _ if self.format == "ras" => format!("spikes:{}:ras", self.what),
            _ => format!("spikes:{}", self.what),
        }
    }

    /// The file it writes in the monitor directory (a weight monitor's first; see
    /// [`MonitorSpec::file_names`]).
    pub fn file_name(&self) -> String {
        match self.kind {
            "weights" => weights::file_names(&self.what)[0].clone(),
            "state" => format!(
                "state-{}-{}.npy",
                self.variable.as_deref().unwrap_or_default(),
                self.what
            ),
            _ => format!("{}-{}.{}", self.kind, self.what, self.format),
        }
    }

    /// Every file it writes in the monitor directory.
    pub fn file_names(&self) -> Vec<String> {
        match self.kind {
            "weights" => weights::file_names(&self.what).to_vec(),
            _ => vec![self.file_name()],
        }
    }

    /// A weight monitor's interval in steps of `dt`: a whole number of them.
    pub fn every_steps(&self, dt: f64) -> Result<u64, String> {
        let (every, written) = self
            .every
            .as_ref()
            .ok_or_else(|| format!("--monitor {}: not a weight monitor", self.written()))?;
        whole_steps(&self.written(), "interval", *every, written, dt)
    }

    /// A rate monitor's bin or a state monitor's interval in steps of `dt`: a whole
    /// number of them.
    fn bin_steps(&self, dt: f64) -> Result<Option<u64>, String> {
        let Some((bin, written)) = &self.bin else {
            return Ok(None);
        };
        let what = if self.kind == "state" {
            "interval"
        } else {
            "bin"
        };
        whole_steps(&self.written(), what, *bin, written, dt).map(Some)
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
        match s.kind {
            "weights" => {
                weights::connection(s, net)?;
                s.every_steps(net.dt)?;
            }
            _ => {
                s.ids(net)?;
                s.bin_steps(net.dt)?;
                for probe in state::probes(std::slice::from_ref(s), net, 0)? {
                    probe
                        .check(net)
                        .map_err(|e| format!("--monitor {}: {e}", s.written()))?;
                }
            }
        }
        let what = format!("--monitor {}", s.written());
        for name in s.file_names() {
            if !names.insert(name.clone()) {
                return Err(format!(
                    "{what}: given twice (another monitor writes {name})"
                ));
            }
            check_target(&what, &dir.join(&name), force)?;
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

/// Refuses a monitor file in `dir` that another output of the command names too
/// (`others`: flag and path, e.g. `--spikes` and its file), through any spelling or
/// symlink: two writers would destroy each other's file.
pub fn check_distinct(
    specs: &[MonitorSpec],
    dir: &Path,
    others: &[(&str, &Path)],
) -> Result<(), String> {
    let resolve = |what: &str, p: &Path| {
        crate::outputs::resolve(p).map_err(|e| format!("{what} {}: {e}", p.display()))
    };
    let others = others
        .iter()
        .map(|&(flag, p)| Ok((flag, p, resolve(flag, p)?)))
        .collect::<Result<Vec<_>, String>>()?;
    for s in specs {
        let what = format!("--monitor {}", s.written());
        for name in s.file_names() {
            let file = dir.join(&name);
            let mine = resolve(&what, &file)?;
            for (flag, path, theirs) in &others {
                if mine == *theirs || theirs.starts_with(&mine) || mine.starts_with(theirs) {
                    return Err(format!(
                        "{what} writes {} and {flag} names {}: the same path or one inside \
                         the other; give each output its own",
                        file.display(),
                        path.display()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A file a monitor will write: not a directory, not replacing a file without `force`,
/// and no `.partial` file of an interrupted run there (the run would truncate it).
fn check_target(what: &str, path: &Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!(
            "{what}: {} exists; pass --force to replace it",
            path.display()
        ));
    }
    if path.is_dir() {
        return Err(format!("{what}: {} is a directory", path.display()));
    }
    let partial = partial_of(path);
    if partial.exists() && !force {
        return Err(format!(
            "{what}: {} is there (left by an interrupted run: `snn-bench repair-npy` \
             completes it); pass --force to replace it",
            partial.display()
        ));
    }
    Ok(())
}

/// `--spikes FILE` (or a protocol segment's `spikes`, named by `flag`): refuses the
/// `.partial` file an interrupted run left beside it, unless `force`. (Everything else
/// about FILE is checked with the other outputs, [`crate::outputs::check`].)
pub fn check_spike_file(flag: &str, path: &Path, force: bool) -> Result<(), String> {
    let target =
        crate::outputs::resolve(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    let partial = partial_of(&target);
    if partial.exists() && !force {
        return Err(format!(
            "{flag} {}: {} is there (left by an interrupted run: `snn-bench repair-npy` \
             completes it); pass --force to replace it",
            path.display(),
            partial.display()
        ));
    }
    Ok(())
}

/// The running monitors' writers (spike, `.ras`, rate and state monitors, `--spikes`).
pub struct Monitors {
    writers: Vec<Writer>,
}

/// Gathers each window's spikes for every monitor, and sends them on in batches.
struct Fanout {
    to: Vec<Feed>,
}

/// One monitor's side of the fan-out: what it keeps, its batch of encoded rows (and
/// how many), its writer, and a rate monitor's bins. (A `.ras` monitor sends (step, id)
/// rows too: its writer thread turns them into text.)
struct Feed {
    ids: Range<u32>,
    batch: Vec<u8>,
    rows: u64,
    tx: stream::Rows,
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

/// A sink that several runs' sinks share: a protocol's monitors across its segments.
/// What it wraps (and so its monitors' last batches) is dropped with the last clone.
#[derive(Clone)]
pub struct Shared(Arc<Mutex<Box<dyn SpikeSink>>>);

impl Shared {
    pub fn new(sink: Box<dyn SpikeSink>) -> Shared {
        Shared(Arc::new(Mutex::new(sink)))
    }
}

impl SpikeSink for Shared {
    fn window(&mut self, upto: u64, spikes: &[Spike]) {
        let mut sink = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sink.window(upto, spikes);
    }
}

/// Sinks fed the same windows, in order.
pub struct Tee(pub Vec<Box<dyn SpikeSink>>);

impl SpikeSink for Tee {
    fn window(&mut self, upto: u64, spikes: &[Spike]) {
        for s in &mut self.0 {
            s.window(upto, spikes);
        }
    }
}

/// What [`start`] returns: the sinks for `Simulation::set_spike_sink` and
/// `Simulation::set_state_probes` (None without state monitors), and the monitors to
/// [`Monitors::finish`].
pub type Started = (Box<dyn SpikeSink>, Option<Box<dyn StateSink>>, Monitors);

/// Starts a writer for each spike, `.ras`, rate and state monitor of `specs` in `dir`
/// (files `dir/KIND-WHAT.EXT.partial`; weight monitors are [`weights::Weights`]'), and
/// for `spike_file` (`--spikes FILE`: every neuron, the `.npy` layout, written as
/// `FILE.partial` beside FILE's target if FILE is a symlink, and moved over it at the
/// end); a run's first step `first_step` starts the rate bins. The monitors are
/// finished ([`Monitors::finish`]) once the sinks are dropped.
pub fn start(
    specs: &[MonitorSpec],
    dir: Option<&Path>,
    spike_file: Option<&Path>,
    net: &Network,
    first_step: u64,
    force: bool,
) -> Result<Started, String> {
    let mut to = Vec::new();
    let mut writers = Vec::new();
    let mut feed = |ids: Range<u32>, bins: Option<Bins>, target: &Path, layout, what: &str| {
        let (tx, writer) = stream::start(target, layout, force, what)?;
        to.push(Feed {
            ids,
            batch: Vec::with_capacity(BATCH * 16),
            rows: 0,
            tx,
            bins,
        });
        writers.push(writer);
        Ok::<(), String>(())
    };
    let streamed: Vec<&MonitorSpec> = specs
        .iter()
        .filter(|s| matches!(s.kind, "spikes" | "rate"))
        .collect();
    if let (Some(dir), false) = (dir, streamed.is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("--monitor-dir {}: cannot create it: {e}", dir.display()))?;
        for s in streamed {
            let ids = s.ids(net)?;
            let bins = s.bin_steps(net.dt)?.map(|steps| Bins {
                start: first_step,
                steps,
                current: 0,
                count: 0,
                upto: first_step,
                per_step: ids.len() as f64 * net.dt,
            });
            let layout = match (&bins, s.format) {
                (Some(_), _) => Layout::VALUES,
                (None, "ras") => Layout::Ras {
                    dt: net.dt,
                    decimals: ras::decimals(net.dt),
                },
                (None, _) => Layout::SPIKES,
            };
            let what = format!("--monitor {}", s.written());
            feed(ids, bins, &dir.join(s.file_name()), layout, &what)?;
        }
    }
    if let Some(path) = spike_file {
        let target = crate::outputs::resolve(path)
            .map_err(|e| format!("--spikes {}: {e}", path.display()))?;
        let all = 0..net.neuron_count() as u32;
        feed(all, None, &target, Layout::SPIKE_FILE, "--spikes")?;
    }
    let state = match dir {
        Some(dir) => state::start(specs, dir, net, force, &mut writers)?,
        None => None,
    };
    Ok((Box::new(Fanout { to }), state, Monitors { writers }))
}

/// Creates `DIR/FILE.partial` of monitor `s` in `layout` with a header of 0 rows and
/// starts its writer thread; returns where to send its batches (bytes, rows) and the
/// writer.
fn start_writer(
    s: &MonitorSpec,
    dir: &Path,
    layout: Layout,
    force: bool,
) -> Result<(stream::Rows, Writer), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("--monitor-dir {}: cannot create it: {e}", dir.display()))?;
    let what = format!("--monitor {}", s.written());
    stream::start(&dir.join(s.file_name()), layout, force, &what)
}

impl Monitors {
    /// Waits for every writer (after the sink was dropped) and returns each file with
    /// its row count, or the first writer's error.
    pub fn finish(self) -> Result<Vec<(PathBuf, u64)>, String> {
        let mut done = Vec::new();
        let mut first_error = None;
        for w in self.writers {
            match w.finish() {
                Ok(d) => done.push(d),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }
}

/// `snn-bench repair-npy FILE`: completes a monitor's file left by a killed run (see
/// [`stream::repair`]): the header's row count from the file's length (whole rows
/// only), or a `.ras` file's torn last line cut.
pub fn repair(path: &Path) -> Result<stream::Repaired, String> {
    stream::repair(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_bad_ones_say_why() {
        assert_eq!(parse("spikes:all").unwrap().file_name(), "spikes-all.npy");
        assert_eq!(parse("spikes:0-99").unwrap().what, "0-99");
        let st = parse("state:EE.post_trace:0-9:1ms").unwrap();
        assert_eq!(st.file_name(), "state-EE.post_trace-0-9.npy");
        assert_eq!(st.written(), "state:EE.post_trace:0-9:1ms");
        for (bad, says) in [
            ("spikes", "KIND:WHAT"),
            ("state:v", "state:VARIABLE:WHAT:EVERY"),
            ("state:v-x:0-9:1ms", "variable"),
            ("state:v:0-9:1", "a duration"),
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
    fn weight_and_ras_specs_parse_and_bad_ones_say_why() {
        let w = parse("weights:EE:1000:10s").unwrap();
        assert_eq!(
            (
                w.kind,
                w.what.as_str(),
                w.sample,
                w.every.as_ref().unwrap().0
            ),
            ("weights", "EE", Some(1000), 10.0)
        );
        assert_eq!(w.written(), "weights:EE:1000:10s");
        assert_eq!(
            w.file_names(),
            [
                "weights-EE.npy",
                "weights-EE-synapses.npy",
                "weights-EE-hist.npy"
            ]
        );
        assert_eq!(w.every_steps(1e-4).unwrap(), 100_000);
        let r = parse("spikes:E:ras").unwrap();
        assert_eq!(
            (r.file_name(), r.written()),
            ("spikes-E.ras".into(), "spikes:E:ras".into())
        );
        assert_eq!(parse("spikes:E:npy").unwrap().file_name(), "spikes-E.npy");
        for (bad, says) in [
            ("weights:EE", "weights:CONN:N:INTERVAL"),
            ("weights:EE:10", "weights:CONN:N:INTERVAL"),
            ("weights:EE:10:1s:x", "weights:CONN:N:INTERVAL"),
            (
                "weights:EE:0:1s",
                "N \"0\": expected a whole number of synapses",
            ),
            ("weights:EE:-3:1s", "N \"-3\""),
            ("weights:EE:10:1", "interval \"1\": expected a duration"),
            ("weights::10:1s", "a connection's name"),
            ("spikes:E:csv", "format \"csv\": expected npy or ras"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
        }
        let e = parse("weights:EE:10:0.33ms")
            .unwrap()
            .every_steps(1e-4)
            .unwrap_err();
        assert!(
            e.contains("weights:EE:10:0.33ms") && e.contains("whole number of steps"),
            "{e}"
        );
    }

    #[test]
    fn the_header_is_128_bytes_that_numpy_and_our_reader_read() {
        let h = stream::header(stream::Descr::I8, Some(2), 2);
        assert_eq!(h.len(), stream::HEADER);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.npy");
        let mut bytes = h.to_vec();
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
        let mut bytes = stream::header(stream::Descr::I8, Some(2), 0).to_vec();
        for v in [1i64, 2, 3, 4, 5] {
            bytes.extend_from_slice(&v.to_le_bytes()); // two rows and a torn third
        }
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(
            repair(&p).unwrap(),
            stream::Repaired {
                rows: 2,
                spikes: true
            }
        );
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
