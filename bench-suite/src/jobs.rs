//! The one job runner behind `snn-bench suite`, `figures` and `sweep`: a list of runs,
//! each one `snn-bench run` in a child process appending one record to its records file;
//! resumable by configuration *and* artifacts.
//!
//! # What counts as done
//!
//! A run is done when its records file holds a record of its configuration (the same
//! [`Key`] as `snn-bench sweep` has always used: network, plasticity, precision, threads,
//! ranks, hosts, delay, latency, model time, seed, repetition, dt, timers, initial
//! potentials, weights; and the Poisson generator where the record has one) **and** every
//! artifact the run names (`--spikes`, `--exchange-trace` files) exists, is not empty and
//! starts with a `.npy` header that parses. A run with a record but a missing or broken
//! artifact runs again (a fresh clone has the committed records but not the spike files);
//! its new record is appended beside the old one (records files are append-only), which
//! the report reads as one more repetition.
//!
//! Only records of *this* machine count ([`analysis::records::machine_label`]: CPU model,
//! cores, memory, kernel; not the host name, which many VMs share): a fresh clone on
//! another machine has the committed records of the machine that measured them, and
//! skipping their configurations would leave this machine's report without its own
//! numbers. (On a cluster, where rank 0 may run on another kind of node than the runner,
//! a run whose record names another machine is therefore run again on resume.) Likewise
//! only records of a build that vectorised as this binary does count
//! ([`analysis::records::vectorised`] of `build.rustflags`): `make bench-novec`'s
//! unvectorised runs (Fig. 10) and the vectorised ones of the same configuration are
//! different measurements, not repetitions of one.
//!
//! # Specs as data
//!
//! The suite and the figures are job specs (`scripts/jobs/workstation.toml`,
//! `scripts/jobs/figures.toml`; see [`crate::jobspec::JobSpec`]); sweeps keep their own spec
//! (`scripts/sweeps/*.toml`, [`crate::sweep`]), expanded into the same runs.
//!
//! # One runner per records file
//!
//! For its whole duration the runner holds an exclusive advisory lock (fs4) on a lock
//! file beside each records file it appends to, `.NAME.lock` in the directory of the
//! records file with every symlink resolved, so a second runner on the same file — also
//! through a symlink, under `timeout`, `nice` or a batch system — waits up to `--wait`
//! seconds and then stops with a message naming the file. (Two runners on one file would
//! each run what the other has not finished.) The lock dies with the process, so a
//! killed sweep never leaves a stale lock behind. Each `snn-bench run` holds a shared lock
//! on its records file from before its simulation until it has appended its record
//! ([`crate::jsonl::Appender`]); a runner starting on that file first waits (the same
//! `--wait`) until it can take an exclusive lock on it, so a run that outlived a killed
//! sweep — an MPI rank whose `mpirun` died — is waited for, not run twice.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;

use crate::child::{self, ChildReport, End};
use crate::jsonl;
use crate::record::{Config, Record};
use crate::sweep::{shell_words, Key};

/// One run: the command, where it records, what its record and artifacts must be.
#[derive(Debug, Clone)]
pub struct Run {
    /// How listings and messages name it.
    pub label: String,
    /// The command line, program first (`snn-bench run …`, or `mpirun … snn-bench run …`).
    pub command: Vec<OsString>,
    /// The records file the run appends to (`--out`).
    pub records: PathBuf,
    /// The configuration key its record will have.
    pub key: Key,
    /// The Poisson generator it runs with (compared where a record names one).
    pub generator: Option<String>,
    /// Files the run writes besides its record (spike files, exchange traces).
    pub artifacts: Vec<PathBuf>,
    pub timeout_s: f64,
    /// Allow Open MPI to run as root (the run is under mpirun and we are root).
    pub mpi_as_root: bool,
}

/// What to run, and how to name it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The first word of the summary line ("sweep scripts/sweeps/x.toml").
    pub title: String,
    /// Added after the configuration count (e.g. pairs a sweep left out).
    pub note: String,
    pub runs: Vec<Run>,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The records of the runs that ran now.
    pub ran: Vec<Record>,
    /// The records of every run of the plan (already there or new), in plan order.
    pub all: Vec<Record>,
    /// How many runs were already done.
    pub skipped: usize,
}

/// Runner options every front-end takes.
#[derive(Debug, Clone, clap::Args)]
pub struct RunnerArgs {
    /// List the runs, each marked "run" or "skip", and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for another sweep, suite or figures run that appends to the same
    /// records file before giving up.
    #[arg(long, default_value_t = 10.0)]
    pub wait: f64,
}

/// A record with its key and its Poisson generator (if it names one).
type Keyed = (Key, Option<String>, serde_json::Value);

/// This machine, as [`analysis::records::machine_label`] names the machine of a record.
fn this_machine() -> &'static str {
    static MACHINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MACHINE.get_or_init(|| {
        let host = serde_json::to_value(crate::host::Host::detect()).unwrap_or_default();
        analysis::records::machine_label(&host)
    })
}

/// Which records of a file count.
#[derive(Clone, Copy, PartialEq)]
enum Machines {
    /// Only this machine's (whether a run is done; the outcome).
    This,
    /// Any (whether a run just made wrote its record at all).
    Any,
}

/// Records of a file with their keys and generators; lines that are not records are
/// reported (when `warn`) and left out, and so are records of other machines than this
/// one unless `machines` is [`Machines::Any`].
fn recorded(out: &Path, warn: bool, machines: Machines) -> Result<Vec<Keyed>, String> {
    let outcome = jsonl::read(out).map_err(|e| e.to_string())?;
    if warn {
        for w in &outcome.warnings {
            eprintln!("warning: {w} (not counted as a finished run)");
        }
    }
    let mut keys = Vec::new();
    let mut others: BTreeMap<String, usize> = BTreeMap::new();
    let vectorised = analysis::records::vectorised(&crate::host::Build::current().rustflags);
    for (line, value) in outcome.records {
        if machines == Machines::This {
            let machine = analysis::records::machine_label(&value["host"]);
            if machine != this_machine() {
                *others.entry(machine).or_default() += 1;
                continue;
            }
            let flags = value["build"]["rustflags"].as_str().unwrap_or("");
            if analysis::records::vectorised(flags) != vectorised {
                continue;
            }
        }
        if let Some(why) = value["result"]["failure"].as_str() {
            if warn {
                eprintln!(
                    "warning: {}:{line}: the run failed ({why}); not counted as a finished run",
                    out.display()
                );
            }
            continue;
        }
        match Config::deserialize(&value["config"]) {
            Ok(c) => keys.push((Key::of_record(&c), c.generator.clone(), value)),
            Err(e) if warn => eprintln!(
                "warning: {}:{line}: not a results record ({e}); not counted as a finished run",
                out.display()
            ),
            Err(_) => {}
        }
    }
    if warn {
        for (machine, n) in others {
            eprintln!(
                "note: {}: {n} record(s) of another machine ({machine}) not counted: this \
                 machine is {}",
                out.display(),
                this_machine()
            );
        }
    }
    Ok(keys)
}

fn matches(run: &Run, key: &Key, generator: &Option<String>) -> bool {
    *key == run.key
        && match (generator, &run.generator) {
            (Some(g), Some(want)) => g == want,
            _ => true,
        }
}

/// Why an artifact does not count, or None if it does: it must exist, be non-empty and
/// begin with a `.npy` header that parses.
pub fn artifact_problem(path: &Path) -> Option<String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Some(format!("{}: {e}", path.display())),
    };
    match file.metadata() {
        Ok(m) if m.len() == 0 => return Some(format!("{}: empty", path.display())),
        Ok(_) => {}
        Err(e) => return Some(format!("{}: {e}", path.display())),
    }
    if path.extension().is_some_and(|e| e == "npy") {
        if let Err(e) = npyz::NpyFile::new(std::io::BufReader::new(file)) {
            return Some(format!(
                "{}: not a readable .npy file ({e})",
                path.display()
            ));
        }
    }
    None
}

/// An exclusive lock on `.NAME.lock` beside a records file, held while alive.
struct RecordsLock {
    _file: File,
}

impl RecordsLock {
    fn acquire(records: &Path, wait: f64) -> Result<RecordsLock, String> {
        let resolved =
            crate::outputs::resolve(records).map_err(|e| format!("{}: {e}", records.display()))?;
        let dir = resolved.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create directory {}: {e}", dir.display()))?;
        let name = resolved.file_name().unwrap_or_default().to_string_lossy();
        let path = dir.join(format!(".{name}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open lock file {}: {e}", path.display()))?;
        let until =
            Instant::now() + Duration::try_from_secs_f64(wait.max(0.0)).unwrap_or(Duration::MAX);
        let mut told = false;
        loop {
            match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
                Ok(true) => return Ok(RecordsLock { _file: file }),
                Ok(false) => {}
                // A file system without locks: go on without one (as appends do).
                Err(e) if e.kind() != std::io::ErrorKind::Interrupted => {
                    eprintln!(
                        "warning: cannot lock {}: {e}; going on without",
                        path.display()
                    );
                    return Ok(RecordsLock { _file: file });
                }
                Err(_) => {}
            }
            if Instant::now() >= until {
                return Err(format!(
                    "another sweep, suite or figures run is appending to {} (it holds the lock \
                     {}); two at once would each run what the other has not finished. Wait for \
                     it to end (or end it) and start again, or give --wait SECONDS",
                    records.display(),
                    path.display()
                ));
            }
            if !told {
                eprintln!(
                    "waiting up to {wait} s for the run that holds {} to end…",
                    path.display()
                );
                told = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Waits (up to `wait` seconds) until no process holds the shared lock every run holds on
/// its records file until it has appended ([`jsonl::Appender`]): a run of a killed sweep
/// that still goes on (an MPI rank whose `mpirun` died) would otherwise append a record
/// of a configuration this runner is about to run again.
fn wait_for_writers(records: &Path, wait: f64) -> Result<(), String> {
    let file = match File::open(records) {
        Ok(f) => f,
        // No file, no writer that could have it open.
        Err(_) => return Ok(()),
    };
    let until =
        Instant::now() + Duration::try_from_secs_f64(wait.max(0.0)).unwrap_or(Duration::MAX);
    let mut told = false;
    loop {
        match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
            // Dropping `file` releases the lock at once.
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(()),
        }
        if Instant::now() >= until {
            return Err(format!(
                "a run still writes to {} (it holds a lock on it until it has appended its \
                 record); running now could run its configuration twice. Wait for it to end \
                 (or end it) and start again, or give --wait SECONDS",
                records.display()
            ));
        }
        if !told {
            eprintln!(
                "waiting up to {wait} s for a run that still writes to {}…",
                records.display()
            );
            told = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether each run is done (see the module doc); for those with a record whose
/// artifacts are missing, why not.
fn status(plan: &Plan, warn: bool) -> Result<Vec<Result<(), Option<String>>>, String> {
    let mut files: HashMap<&Path, Vec<Keyed>> = HashMap::new();
    for r in &plan.runs {
        if !files.contains_key(r.records.as_path()) {
            files.insert(&r.records, recorded(&r.records, warn, Machines::This)?);
        }
    }
    Ok(plan
        .runs
        .iter()
        .map(|r| {
            let has = files[r.records.as_path()]
                .iter()
                .any(|(k, g, _)| matches(r, k, g));
            if !has {
                return Err(None);
            }
            match r.artifacts.iter().find_map(|a| artifact_problem(a)) {
                Some(why) => Err(Some(why)),
                None => Ok(()),
            }
        })
        .collect())
}

fn records_named(plan: &Plan) -> String {
    let mut files: Vec<&Path> = plan.runs.iter().map(|r| r.records.as_path()).collect();
    files.sort();
    files.dedup();
    match files.len() {
        0 => "no file".into(),
        1 | 2 => files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        n => format!(
            "{n} files in {}",
            files[0].parent().unwrap_or(Path::new(".")).display()
        ),
    }
}

/// Runs every run of `plan` that is not done; see the module doc.
pub fn execute(plan: &Plan, opts: &RunnerArgs) -> Result<Outcome, String> {
    let mut locks = Vec::new();
    if !opts.dry_run {
        let mut files: Vec<&Path> = plan.runs.iter().map(|r| r.records.as_path()).collect();
        files.sort();
        files.dedup();
        for f in &files {
            locks.push(RecordsLock::acquire(f, opts.wait)?);
        }
        for f in &files {
            wait_for_writers(f, opts.wait)?;
        }
    }
    let done = status(plan, true)?;
    let skipped = done.iter().filter(|d| d.is_ok()).count();
    let total = plan.runs.len();
    let head = format!(
        "{}: {total} configuration(s){}, records in {}; skipping {skipped} of {total} already \
         recorded",
        plan.title,
        plan.note,
        records_named(plan)
    );
    if opts.dry_run {
        println!("{head}");
        for (r, d) in plan.runs.iter().zip(&done) {
            match d {
                Ok(()) => println!("skip {}", r.label),
                Err(why) => {
                    println!("run  {}", r.label);
                    if let Some(why) = why {
                        println!("     (recorded, but {why})");
                    }
                    println!("     $ {}", shell_words(&r.command));
                }
            }
        }
        return Ok(Outcome::default());
    }
    eprintln!("{head}");
    let todo: Vec<(&Run, &Option<String>)> = plan
        .runs
        .iter()
        .zip(&done)
        .filter_map(|(r, d)| d.as_ref().err().map(|why| (r, why)))
        .collect();
    let mut ran_keys = Vec::new();
    if todo.is_empty() {
        println!(
            "nothing to run: all {total} configuration(s) are recorded in {}",
            records_named(plan)
        );
    } else {
        let bar = progress_bar(todo.len() as u64);
        for (i, (r, why)) in todo.iter().enumerate() {
            if let Some(why) = why {
                bar.suspend(|| eprintln!("{}: recorded, but {why}: running it again", r.label));
            }
            if bar.is_hidden() {
                eprintln!("[{}/{}] {}", i + 1, todo.len(), r.label);
            } else {
                bar.set_message(r.label.clone());
            }
            let report = child::run(&r.command, r.mpi_as_root, r.timeout_s);
            let stopped = |why: String| {
                bar.abandon();
                format!(
                    "{}: {why}\n  command: {}\n{}\
                     stopped; {i} of its {} run(s) finished before, and every record \
                     written stays in {}: run it again to resume",
                    r.label,
                    shell_words(&r.command),
                    report.as_ref().map_or(String::new(), ChildReport::tails),
                    todo.len(),
                    records_named(plan)
                )
            };
            let report = match &report {
                Err(e) => return Err(stopped(e.clone())),
                Ok(rep) => rep,
            };
            match report.end {
                End::Exited(status) if status.success() => {}
                End::Exited(status) => return Err(stopped(format!("the run failed ({status})"))),
                End::TimedOut => {
                    return Err(stopped(format!(
                        "the run did not finish within timeout_s = {} s; its process group \
                         was killed",
                        r.timeout_s
                    )))
                }
            }
            let stderr = String::from_utf8_lossy(&report.stderr);
            if !stderr.trim().is_empty() {
                bar.suspend(|| eprint!("{}: stderr of the run:\n{}", r.label, indent(&stderr)));
            }
            // The record must be there, under this run's key: a run that records other
            // values than asked for would run again on every resume.
            let now = recorded(&r.records, false, Machines::Any)?;
            if !now.iter().any(|(k, g, _)| matches(r, k, g)) {
                let last = now
                    .last()
                    .map_or("no records at all".to_string(), |(k, _, _)| k.to_string());
                bar.abandon();
                return Err(format!(
                    "{}: the run succeeded, but {} has no record of this configuration\n  \
                     expected: {}\n  last record: {last}\n\
                     A run that records other values than asked for would run again on \
                     every resume, so it stops here. (Fewer hosts than asked for: mpirun \
                     placed the ranks on fewer hosts; see `{{ranks_per_host}}` for \
                     mpirun_args.)",
                    r.label,
                    r.records.display(),
                    r.key
                ));
            }
            if let Some(why) = r.artifacts.iter().find_map(|a| artifact_problem(a)) {
                bar.abandon();
                return Err(format!("{}: the run succeeded, but {why}", r.label));
            }
            ran_keys.push((r.records.clone(), r.key.clone()));
            bar.inc(1);
        }
        bar.finish_and_clear();
    }
    drop(locks);

    // The records of the plan's runs: each run's last matching record.
    let mut by_file: BTreeMap<&Path, Vec<Keyed>> = BTreeMap::new();
    for r in &plan.runs {
        if !by_file.contains_key(r.records.as_path()) {
            by_file.insert(&r.records, recorded(&r.records, false, Machines::This)?);
        }
    }
    let mut outcome = Outcome {
        skipped,
        ..Outcome::default()
    };
    for r in &plan.runs {
        let Some((_, _, v)) = by_file[r.records.as_path()]
            .iter()
            .rev()
            .find(|(k, g, _)| matches(r, k, g))
        else {
            continue;
        };
        let Ok(rec) = serde_json::from_value::<Record>(v.clone()) else {
            continue;
        };
        if ran_keys.iter().any(|(f, k)| *f == r.records && *k == r.key) {
            outcome.ran.push(rec.clone());
        }
        outcome.all.push(rec);
    }
    Ok(outcome)
}

fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed_precise}, eta {eta}]")
            .expect("valid template"),
    );
    bar
}

pub(crate) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  | {l}\n")).collect()
}
