//! `snn-bench sweep SPEC`: a declarative, resumable scaling sweep.
//!
//! # The specification
//!
//! SPEC is a TOML (`.toml`) or JSON (`.json`) file. Every field is optional; each list field
//! also takes a single value (`threads = 4` means `threads = [4]`):
//!
//! ```toml
//! network = "va"             # or networks = ["va"]
//! plasticity = ["static"]    # static / continuous / event-based (plastic variants)
//! simtime = 10.0             # model time of each run, seconds
//! threads = [1, 2]           # worker threads per rank
//! ranks = [1]                # MPI processes; > 1 runs under `mpirun`
//! hosts = [1]                # hosts to spread the ranks over (> 1 needs `hostfile`)
//! hostfile = "hosts.txt"     # passed as `mpirun --hostfile`
//! delay = [0.8]              # axonal delay, ms: 0.2 … 20, a multiple of dt = 0.1 ms
//! precision = ["f32"]        # f32 / f64
//! latency_us = [0.0]         # injected wait per spike exchange, µs
//! partitioner = ["block"]    # block / round-robin / balanced (`snn-bench run --partitioner`)
//! repetitions = 1
//! seed = 1
//! out = "results/<host>/sweep.jsonl"   # `--out` overrides
//! mpirun = "mpirun"
//! mpirun_args = ["--bind-to", "none"]
//! timeout_s = 560.0          # per run; default 60 s + 50 × simtime (+ priming)
//! ```
//!
//! `plasticity` chooses between a network's static variant (`"static"`) and its plastic
//! one (`snn-bench run --plastic`: brunel E→E pair STDP, zenke25k E→E triplet STDP,
//! hetero P→S pair STDP) with continuous or event-based presynaptic traces (`--traces
//! continuous|event-based`). Only brunel, zenke25k and hetero have a plastic variant: a
//! plastic value in a spec that lists another network is an error (sweep those networks
//! in a spec of their own).
//! `scripts/sweeps/brunel-plastic.toml` compares the three on brunel. The default
//! `timeout_s` of a plastic zenke25k run adds its priming run (3 · τ_hom = 30 s of model
//! time, run before the measured one) to `simtime`.
//!
//! A sweep varies none of the network parameters `snn-bench run` can override
//! (`--learning-rate`, `--tau-hom`, `--priming`, `--input-rate`, `--w-exc`, `--w-inh`);
//! its runs use the defaults. The configuration key (below) does not compare the
//! `parameters` a record lists, so **records of runs with overridden parameters must not
//! share a sweep's output file**: such a record would be taken for the sweep's run of its
//! configuration, which would then be skipped.
//!
//! Unknown fields are errors. Paths (`out`, `hostfile`) are relative to the working
//! directory, like every other path `snn-bench` takes. Everything is validated before the
//! first run, so a typo never surfaces hours into a sweep.
//!
//! `mpirun_args` defaults to `--bind-to none`: Open MPI binds each rank to one core when
//! it starts two ranks or fewer, which would stack all of a rank's worker threads on that
//! core. Give `mpirun_args = []` to drop it. In `mpirun_args`, `{ranks}`, `{hosts}`,
//! `{threads}` and `{ranks_per_host}` (ranks / hosts, rounded up) are replaced by the
//! configuration's values, e.g. `["--map-by", "ppr:{ranks_per_host}:node"]` to make
//! Open MPI really use `hosts` hosts.
//!
//! # What runs
//!
//! The sweep is the cartesian product network × plasticity × precision × delay ×
//! latency × partitioner × ranks × hosts × threads, repeated `repetitions` times with the
//! repetition outermost (so slow drifts of a shared machine hit every configuration
//! alike). Pairs with more hosts than ranks are left out (a `hosts` value larger than
//! every `ranks` value is an error).
//! Each configuration runs as ONE child process:
//!
//! * one rank: `snn-bench run NET [--plastic --traces X] --quiet --simtime S --threads T
//!   --precision P --delay D --comm-latency-us L --seed SEED --repetition K
//!   [--partitioner X] --out OUT` (`--partitioner` unless X is block);
//! * more ranks: `MPIRUN MPIRUN_ARGS… -np R [--hostfile F] snn-bench run … --expect-ranks R`
//!   (the run checks that the MPI world really has R processes).
//!
//! Each child runs in a process group of its own, under a time limit: a child that has not
//! finished in time (an MPI start that hangs, say) gets its whole process group killed.
//! A child that fails or times out stops the sweep with a message naming the
//! configuration, the exit status and the last lines of the child's stderr.
//!
//! # Why a sweep can be killed at any point and resumed without loss or duplicates
//!
//! * **The record is the only state.** A configuration is done exactly when `OUT` holds a
//!   record of it; there is no separate progress file that could disagree with `OUT`. On
//!   start the sweep reads `OUT` and computes each record's configuration key from its
//!   `config` (network, plastic and traces, precision, threads, ranks, hosts, delay rounded
//!   to 1 ns, injected latency, partitioner, simulated time, seed, repetition, and the
//!   settings a sweep never varies: dt, timers, initial potentials and weights; not
//!   `parameters`, see above). A configuration whose key is present is skipped; every
//!   other one runs.
//! * **Records are written whole or not at all.** Each run appends its own record with one
//!   `write` to a file opened with `O_APPEND`, under `flock`, after the simulation has
//!   finished ([`crate::jsonl::append`]). A run killed before that write leaves no record,
//!   so its configuration runs again on resume. The only partial state possible is a torn
//!   last line (a kill in the middle of a multi-page write): [`crate::jsonl::read`] reports
//!   it as a warning and it counts as no record (the configuration runs again), and the
//!   next append starts on a fresh line, so the file stays readable.
//! * **Nothing outlives a killed sweep.** A record could still appear after the sweep died
//!   if its child went on running, and a resumed sweep that ran the same configuration
//!   would then write a duplicate. So each child is started with
//!   `PR_SET_PDEATHSIG = SIGKILL` ([`crate::child`]): when the sweep dies, even by
//!   `SIGKILL` (from `timeout -s KILL`, say), the kernel kills the child it was waiting
//!   for. A child run under `mpirun` is `mpirun` itself, and its ranks are not our
//!   children: Open MPI ends them some seconds after `mpirun` died, but until then rank 0
//!   could still finish and append. So every run holds a shared lock on the records file
//!   until it has appended ([`crate::jsonl::Appender`]), and a sweep starting on that
//!   file waits (`--wait`, 10 s) until it can lock it exclusively, and otherwise refuses
//!   to start, naming the file. (Ranks on other hosts hold their locks there, where the
//!   file system may not pass them on: after killing a multi-host sweep, make sure its
//!   job is gone.)
//! * **One sweep per records file.** The job runner ([`crate::jobs`]) holds an advisory
//!   lock (fs4) on `.NAME.lock` beside the records file, symlinks resolved, for the whole
//!   sweep; a second sweep on the same file (through any path, under `timeout`, `nice` or
//!   a batch system) waits `--wait` seconds, then stops with a message naming the file.
//! * **A record is checked as soon as it is written.** After each successful child the
//!   sweep re-reads `OUT` and fails at once if the configuration's key is not there (a run
//!   that recorded, say, other ranks or hosts than asked for). Otherwise the mismatch would
//!   only show on resume, as configurations that run again and again.
//!
//! So after a kill at any instant, `OUT` holds exactly the records of the runs that
//! finished, and a resumed sweep runs exactly the configurations that have no record.
//! Two sweeps must not write one file at the same time (each would run what the other has
//! not finished yet); the lock above refuses the second one.

use std::collections::{BTreeMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, IntoDeserializer, SeqAccess, Visitor};
use serde::Deserialize;
use sim_core::{Partitioner, Precision};

use crate::networks::{self, InitV};
use crate::record::{Config, Record};
use crate::{host, jobs, table};

/// Integration time step of every sweep run (`snn-bench run`'s default), ms.
pub const DT_MS: f64 = 0.1;
/// Smallest and largest axonal delay a sweep accepts, ms.
pub const DELAY_RANGE_MS: (f64, f64) = (0.2, 20.0);
/// The MPI launcher unless the spec names another.
const DEFAULT_MPIRUN: &str = "mpirun";
/// Most worker threads per rank (as `snn-bench run --threads`).
const MAX_THREADS: i64 = 4096;
/// Most runs one spec may expand to: 10^5 runs of the shortest (≈ 1 s) is a day.
pub const MAX_RUNS: u64 = 100_000;
/// Largest spec file read, bytes (the examples are < 1 kB).
const MAX_SPEC_BYTES: u64 = 1 << 20;
/// Largest hostfile read, bytes (10^4 hosts of 100 bytes).
const MAX_HOSTFILE_BYTES: u64 = 1 << 20;

/// A small regular text file, whole; errors name the file (and the line of bad UTF-8).
fn read_text(path: &Path, max: u64, what: &'static str) -> Result<String, String> {
    let bytes = sim_core::input::read(path, max, what).map_err(|e| format!("cannot read {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{}:{line}: not UTF-8 text", path.display())
    })
}

/// `snn-bench sweep` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SweepArgs {
    /// Sweep specification, TOML (.toml) or JSON (.json).
    pub spec: PathBuf,
    /// Records file (overrides the spec's `out`); default results/<host>/sweep.jsonl.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub runner: jobs::RunnerArgs,
    /// Hostfile for mpirun (overrides the spec's `hostfile`).
    #[arg(long)]
    pub hostfile: Option<PathBuf>,
}

/// A field that takes one value or a list of values.
#[derive(Debug, Clone, PartialEq)]
struct List<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);

        fn one<'de, T: Deserialize<'de>, E: de::Error>(
            d: impl Deserializer<'de, Error = E>,
        ) -> Result<List<T>, E> {
            T::deserialize(d).map(|v| List(vec![v]))
        }

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = List<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = seq.next_element()? {
                    v.push(x);
                }
                Ok(List(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<List<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<List<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<List<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<List<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<List<T>, E> {
                one(v.into_deserializer())
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<List<T>, E> {
                one(v.into_deserializer())
            }
        }

        d.deserialize_any(ListVisitor(PhantomData))
    }
}

/// The specification as written (integers as i64, so that a negative value is reported
/// by our validation, naming the field, rather than as a bare type error).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    network: Option<List<String>>,
    networks: Option<List<String>>,
    plasticity: Option<List<String>>,
    simtime: Option<f64>,
    threads: Option<List<i64>>,
    ranks: Option<List<i64>>,
    hosts: Option<List<i64>>,
    hostfile: Option<PathBuf>,
    delay: Option<List<f64>>,
    precision: Option<List<String>>,
    latency_us: Option<List<f64>>,
    partitioner: Option<List<String>>,
    repetitions: Option<i64>,
    seed: Option<u64>,
    out: Option<PathBuf>,
    mpirun: Option<String>,
    mpirun_args: Option<Vec<String>>,
    timeout_s: Option<f64>,
}

/// A validated sweep specification.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub networks: Vec<String>,
    /// The static and/or plastic variants of each network.
    pub plasticity: Vec<Plasticity>,
    /// Model time of each run as asked for, seconds.
    pub simtime: f64,
    pub threads: Vec<u32>,
    pub ranks: Vec<u32>,
    pub hosts: Vec<u32>,
    pub hostfile: Option<PathBuf>,
    pub delays_ms: Vec<f64>,
    /// "f32" / "f64".
    pub precisions: Vec<String>,
    pub latencies_us: Vec<f64>,
    pub partitioners: Vec<Partitioner>,
    pub repetitions: u32,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub mpirun: String,
    pub mpirun_args: Vec<String>,
    /// Time limit of each run (child process), seconds, as the spec gives it; `None`:
    /// the default of [`Spec::run_timeout_s`].
    pub timeout_s: Option<f64>,
}

/// A network variant a sweep runs: static, or plastic with continuous or event-based
/// presynaptic traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plasticity {
    Static,
    Continuous,
    EventBased,
}

impl Plasticity {
    /// Every variant, as specs spell them.
    pub const ALL: [Plasticity; 3] = [
        Plasticity::Static,
        Plasticity::Continuous,
        Plasticity::EventBased,
    ];

    /// The name in specs (and, for plastic variants, `snn-bench run --traces`'s value).
    pub fn name(self) -> &'static str {
        match self {
            Plasticity::Static => "static",
            Plasticity::Continuous => "continuous",
            Plasticity::EventBased => "event-based",
        }
    }

    /// The presynaptic traces of a plastic variant (`--traces`, and the record's
    /// `traces`); `None` for the static one.
    pub fn traces(self) -> Option<&'static str> {
        match self {
            Plasticity::Static => None,
            p => Some(p.name()),
        }
    }

    fn parse(s: &str) -> Result<Plasticity, String> {
        Plasticity::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Plasticity::ALL
                    .iter()
                    .map(|p| format!("{:?}", p.name()))
                    .collect();
                format!(
                    "plasticity = {s:?}: unknown value, expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Format of a specification file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Spec {
    /// Reads and validates a specification; the format follows the extension. Errors
    /// name the file (and, for syntax errors, the line and column).
    pub fn load(path: &Path) -> Result<Spec, String> {
        let format = match path.extension().and_then(OsStr::to_str) {
            Some(e) if e.eq_ignore_ascii_case("toml") => Format::Toml,
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => {
                return Err(format!(
                    "{}: expected a sweep specification ending in .toml or .json",
                    path.display()
                ))
            }
        };
        let text = read_text(path, MAX_SPEC_BYTES, "a sweep specification")?;
        Spec::parse(&text, format).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and validates a specification's text.
    pub fn parse(text: &str, format: Format) -> Result<Spec, String> {
        let raw: RawSpec = match format {
            Format::Toml => toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?,
            Format::Json => serde_json::from_str(text).map_err(|e| e.to_string())?,
        };
        Spec::validate(raw)
    }

    fn validate(raw: RawSpec) -> Result<Spec, String> {
        let networks = match (raw.network, raw.networks) {
            (Some(_), Some(_)) => {
                return Err("give `network` or `networks`, not both".into());
            }
            (Some(List(v)), None) => nonempty("network", v)?,
            (None, Some(List(v))) => nonempty("networks", v)?,
            (None, None) => vec!["va".to_string()],
        };
        for n in &networks {
            if !networks::NAMES.contains(&n.as_str()) {
                return Err(format!(
                    "network = {n:?}: unknown network, expected one of {}",
                    networks::NAMES.join(", ")
                ));
            }
        }
        distinct("network", &networks, |n| n.clone())?;

        let plasticity = match raw.plasticity {
            Some(List(v)) => nonempty("plasticity", v)?,
            None => vec![Plasticity::Static.name().to_string()],
        };
        let plasticity = plasticity
            .iter()
            .map(|p| Plasticity::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        distinct("plasticity", &plasticity, |&p| p)?;
        if let Some(p) = plasticity.iter().find(|p| p.traces().is_some()) {
            if let Some(n) = networks
                .iter()
                .find(|n| !networks::PLASTIC.contains(&n.as_str()))
            {
                return Err(format!(
                    "plasticity = {:?}: network {n:?} has no plastic variant (only {} have \
                     one); sweep it in a spec of its own, or with plasticity = \"static\"",
                    p.name(),
                    networks::PLASTIC.join(", ")
                ));
            }
        }

        let simtime = raw.simtime.unwrap_or(10.0);
        if !simtime.is_finite() || simtime <= 0.0 {
            return Err(format!(
                "simtime = {simtime}: expected a positive number of seconds"
            ));
        }
        crate::limits::SIMTIME
            .check(simtime)
            .map_err(|e| format!("simtime = {simtime}: {e}"))?;
        if steps(simtime) == 0 {
            return Err(format!(
                "simtime = {simtime}: expected at least one time step (dt = {DT_MS} ms)"
            ));
        }

        let threads = counts("threads", raw.threads, &[1, 2], MAX_THREADS)?;
        let ranks = counts("ranks", raw.ranks, &[1], i64::from(u32::MAX))?;
        let hosts = counts("hosts", raw.hosts, &[1], i64::from(u32::MAX))?;
        let max_ranks = ranks.iter().copied().max().unwrap_or(1);
        let mpirun = raw.mpirun.unwrap_or_else(|| DEFAULT_MPIRUN.into());
        for &h in &hosts {
            if h > max_ranks {
                return Err(format!(
                    "hosts = {h}: more hosts than ranks (ranks = {ranks:?}); \
                     every host needs at least one rank"
                ));
            }
            // A launcher of one's own (say, one that starts ranks in network namespaces)
            // may know its hosts; whether the ranks really ran on `h` hosts is checked
            // against each record anyway.
            if h > 1 && raw.hostfile.is_none() && mpirun == DEFAULT_MPIRUN {
                return Err(format!(
                    "hosts = {h}: spreading ranks over several hosts needs a `hostfile` \
                     (or, in `mpirun`, a launcher of your own that places them)"
                ));
            }
        }
        if let Some(f) = &raw.hostfile {
            check_hostfile(f)?;
        }

        let delays_ms = match raw.delay {
            Some(List(v)) => nonempty("delay", v)?,
            None => vec![0.8],
        };
        for &d in &delays_ms {
            check_delay(d)?;
        }
        distinct("delay", &delays_ms, |&d| nanos(d * 1e-3))?;

        let precisions = match raw.precision {
            Some(List(v)) => nonempty("precision", v)?,
            None => vec!["f32".to_string()],
        };
        let precisions = precisions
            .iter()
            .map(|p| {
                p.parse::<Precision>()
                    .map(|p| p.name().to_string())
                    .map_err(|e| format!("precision = {p:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        distinct("precision", &precisions, |p| p.clone())?;

        let latencies_us = match raw.latency_us {
            Some(List(v)) => nonempty("latency_us", v)?,
            None => vec![0.0],
        };
        for &l in &latencies_us {
            if !l.is_finite() || l < 0.0 {
                return Err(format!(
                    "latency_us = {l}: expected a non-negative number of microseconds"
                ));
            }
        }
        for &l in &latencies_us {
            crate::limits::COMM_LATENCY
                .check(l)
                .map_err(|e| format!("latency_us = {l}: {e}"))?;
        }
        distinct("latency_us", &latencies_us, |&l| picos(l * 1e-6))?;

        let partitioners = match raw.partitioner {
            Some(List(v)) => nonempty("partitioner", v)?,
            None => vec![Partitioner::Block.name().to_string()],
        };
        let partitioners = partitioners
            .iter()
            .map(|p| {
                p.parse::<Partitioner>()
                    .map_err(|e| format!("partitioner = {p:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        distinct("partitioner", &partitioners, |&p| p)?;

        let repetitions = raw.repetitions.unwrap_or(1);
        if !(1..=i64::from(u32::MAX)).contains(&repetitions) {
            return Err(format!(
                "repetitions = {repetitions}: expected a positive whole number"
            ));
        }

        if mpirun.trim().is_empty() {
            return Err("mpirun = \"\": expected a launcher command".into());
        }
        if let Some(timeout_s) = raw.timeout_s {
            if !timeout_s.is_finite() || timeout_s <= 0.0 {
                return Err(format!(
                    "timeout_s = {timeout_s}: expected a positive number of seconds"
                ));
            }
        }
        // The product's size, with checked arithmetic, before anything is expanded.
        let pairs = ranks
            .iter()
            .map(|&r| hosts.iter().filter(|&&h| h <= r).count() as u64)
            .sum::<u64>();
        let runs = [
            networks.len() as u64,
            plasticity.len() as u64,
            precisions.len() as u64,
            delays_ms.len() as u64,
            latencies_us.len() as u64,
            partitioners.len() as u64,
            pairs,
            threads.len() as u64,
            repetitions as u64,
        ]
        .iter()
        .try_fold(1u64, |n, &k| n.checked_mul(k))
        .filter(|&n| n <= MAX_RUNS);
        if runs.is_none() {
            return Err(format!(
                "the spec expands to more than {MAX_RUNS} runs (networks × plasticity × \
                 precision × delay × latency_us × partitioner × (ranks, hosts) × threads × \
                 repetitions = {} × {} × {} × {} × {} × {} × {pairs} × {} × {repetitions}): \
                 split it into smaller sweeps",
                networks.len(),
                plasticity.len(),
                precisions.len(),
                delays_ms.len(),
                latencies_us.len(),
                partitioners.len(),
                threads.len()
            ));
        }
        Ok(Spec {
            networks,
            plasticity,
            simtime,
            threads,
            ranks,
            hosts,
            hostfile: raw.hostfile,
            delays_ms,
            precisions,
            latencies_us,
            partitioners,
            repetitions: repetitions as u32,
            seed: raw.seed.unwrap_or(1),
            out: raw.out,
            mpirun,
            mpirun_args: raw
                .mpirun_args
                .unwrap_or_else(|| vec!["--bind-to".into(), "none".into()]),
            timeout_s: raw.timeout_s,
        })
    }

    /// The time limit of a configuration's run, seconds: the spec's `timeout_s`, by
    /// default 60 s + 50 × the model time the run simulates (`simtime`, plus the priming
    /// run of plastic zenke25k).
    pub fn run_timeout_s(&self, c: &Configuration) -> f64 {
        self.timeout_s.unwrap_or_else(|| {
            let priming = if c.plasticity != Plasticity::Static {
                networks::default_priming_s(&c.network)
            } else {
                0.0
            };
            60.0 + 50.0 * (self.simtime + priming)
        })
    }

    /// Every configuration, in the order they run (repetition outermost).
    pub fn configurations(&self) -> Vec<Configuration> {
        let mut all = Vec::new();
        for repetition in 0..self.repetitions {
            for network in &self.networks {
                for &plasticity in &self.plasticity {
                    for precision in &self.precisions {
                        for &delay_ms in &self.delays_ms {
                            for &latency_us in &self.latencies_us {
                                for &partitioner in &self.partitioners {
                                    for &ranks in &self.ranks {
                                        for &hosts in self.hosts.iter().filter(|&&h| h <= ranks) {
                                            for &threads in &self.threads {
                                                all.push(Configuration {
                                                    network: network.clone(),
                                                    plasticity,
                                                    precision: precision.clone(),
                                                    delay_ms,
                                                    latency_us,
                                                    partitioner,
                                                    ranks,
                                                    hosts,
                                                    threads,
                                                    repetition,
                                                });
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        all
    }

    /// How many (ranks, hosts) pairs the product leaves out (more hosts than ranks).
    fn pairs_left_out(&self) -> usize {
        self.ranks
            .iter()
            .map(|&r| self.hosts.iter().filter(|&&h| h > r).count())
            .sum()
    }
}

fn nonempty<T>(field: &str, v: Vec<T>) -> Result<Vec<T>, String> {
    if v.is_empty() {
        Err(format!("{field} = []: the list is empty"))
    } else {
        Ok(v)
    }
}

/// Rejects a list that holds one value twice (it would run, and be recorded, twice).
fn distinct<T: fmt::Debug, K: Eq + std::hash::Hash>(
    field: &str,
    v: &[T],
    key: impl Fn(&T) -> K,
) -> Result<(), String> {
    let mut seen = HashSet::new();
    for x in v {
        if !seen.insert(key(x)) {
            return Err(format!("{field}: {x:?} is listed twice"));
        }
    }
    Ok(())
}

/// A list of positive whole numbers up to `max`, distinct.
fn counts(
    field: &str,
    v: Option<List<i64>>,
    default: &[u32],
    max: i64,
) -> Result<Vec<u32>, String> {
    let Some(List(v)) = v else {
        return Ok(default.to_vec());
    };
    let v = nonempty(field, v)?;
    for &x in &v {
        if x < 1 || x > max {
            return Err(format!(
                "{field} = {x}: expected a whole number from 1 to {max}"
            ));
        }
    }
    distinct(field, &v, |&x| x)?;
    Ok(v.into_iter().map(|x| x as u32).collect())
}

fn check_delay(d: f64) -> Result<(), String> {
    let (lo, hi) = DELAY_RANGE_MS;
    let ratio = d / DT_MS;
    let multiple = d.is_finite() && (ratio - ratio.round()).abs() <= 1e-6 * ratio.abs();
    if !d.is_finite() || d < lo - 1e-9 || d > hi + 1e-9 || !multiple {
        return Err(format!(
            "delay = {d}: expected a multiple of dt = {DT_MS} ms from {lo} to {hi} ms"
        ));
    }
    Ok(())
}

/// Time steps `snn-bench run --simtime S` simulates (it rounds to whole steps).
fn steps(simtime_s: f64) -> u64 {
    (simtime_s / dt_s()).round() as u64
}

/// dt in seconds, computed as `snn-bench run` computes it from its ms value.
fn dt_s() -> f64 {
    DT_MS * 1e-3
}

/// Seconds to whole nanoseconds (how keys compare times).
fn nanos(s: f64) -> i64 {
    (s * 1e9).round() as i64
}

/// Seconds to whole picoseconds.
fn picos(s: f64) -> i64 {
    (s * 1e12).round() as i64
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub network: String,
    pub plasticity: Plasticity,
    pub precision: String,
    pub delay_ms: f64,
    pub latency_us: f64,
    pub partitioner: Partitioner,
    pub ranks: u32,
    pub hosts: u32,
    pub threads: u32,
    pub repetition: u32,
}

impl fmt::Display for Configuration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} plasticity={} {} delay={}ms latency={}us partitioner={} ranks={} hosts={} \
             threads={} repetition={}",
            self.network,
            self.plasticity.name(),
            self.precision,
            self.delay_ms,
            self.latency_us,
            self.partitioner,
            self.ranks,
            self.hosts,
            self.threads,
            self.repetition
        )
    }
}

/// What identifies a run in the records file: equal keys, same configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub network: String,
    /// The plastic variant, and its presynaptic traces ("continuous" / "event-based").
    pub plastic: bool,
    pub traces: Option<String>,
    pub precision: String,
    pub threads: usize,
    pub ranks: usize,
    pub hosts: usize,
    pub delay_ns: i64,
    pub latency_ps: i64,
    /// "block", "round-robin", "balanced".
    pub partitioner: String,
    pub simtime_ns: i64,
    pub seed: u64,
    pub repetition: u32,
    /// What a sweep never varies, so that a record of, say, a timers-off run in the same
    /// file is not taken for a sweep's run.
    pub dt_ns: i64,
    pub timers: bool,
    pub initial_v: String,
    pub weights: String,
    /// `snn-limits`, or the peer simulator that ran (`snn-bench peer`).
    pub simulator: String,
}

/// The initial potentials of a sweep run of `network` (`snn-bench run`'s default,
/// spelled as its records spell it).
fn sweep_initial_v(network: &str) -> String {
    crate::networks::initial_v_label(network, InitV::Uniform)
}
const SWEEP_WEIGHTS: &str = "generated from seed";
/// The simulator of a key of snn-limits' own runs.
pub const SNN_LIMITS: &str = "snn-limits";

impl Key {
    /// The key of a record's configuration.
    pub fn of_record(c: &Config) -> Key {
        Key {
            network: c.network.clone(),
            plastic: c.plastic,
            traces: c.traces.clone(),
            precision: c.precision.clone(),
            threads: c.threads,
            ranks: c.ranks,
            hosts: c.hosts,
            delay_ns: nanos(c.delay_s),
            latency_ps: picos(c.injected_latency_us * 1e-6),
            partitioner: c.partitioner.clone(),
            simtime_ns: nanos(c.simtime_s),
            seed: c.seed,
            repetition: c.repetition,
            dt_ns: nanos(c.dt_s),
            timers: c.timers,
            initial_v: c.initial_v.clone(),
            weights: c.weights.clone(),
            simulator: c.simulator_name().into(),
        }
    }

    /// The key the record of a sweep's configuration will have.
    pub fn of_configuration(spec: &Spec, c: &Configuration) -> Key {
        Key {
            network: c.network.clone(),
            plastic: c.plasticity != Plasticity::Static,
            traces: c.plasticity.traces().map(String::from),
            precision: c.precision.clone(),
            threads: c.threads as usize,
            ranks: c.ranks as usize,
            hosts: c.hosts as usize,
            delay_ns: nanos(c.delay_ms * 1e-3),
            latency_ps: picos(c.latency_us * 1e-6),
            partitioner: c.partitioner.name().into(),
            // The run records the time it simulated: whole steps.
            simtime_ns: nanos(steps(spec.simtime) as f64 * dt_s()),
            seed: spec.seed,
            repetition: c.repetition,
            dt_ns: nanos(dt_s()),
            timers: true,
            initial_v: sweep_initial_v(&c.network),
            weights: SWEEP_WEIGHTS.into(),
            simulator: SNN_LIMITS.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{} plasticity={} {} delay={}ms latency={}us partitioner={} ranks={} hosts={} \
             threads={} repetition={} simtime={}s seed={} dt={}ms timers={} initial_v={} \
             weights={:?}{}",
            self.network,
            match (self.plastic, &self.traces) {
                (false, None) => "static".to_string(),
                (true, Some(t)) => t.clone(),
                (p, t) => format!("(plastic={p}, traces={t:?})"),
            },
            self.precision,
            self.delay_ns as f64 / 1e6,
            self.latency_ps as f64 / 1e6,
            self.partitioner,
            self.ranks,
            self.hosts,
            self.threads,
            self.repetition,
            self.simtime_ns as f64 / 1e9,
            self.seed,
            self.dt_ns as f64 / 1e6,
            if self.timers { "on" } else { "off" },
            self.initial_v,
            self.weights,
            if self.simulator == SNN_LIMITS {
                String::new()
            } else {
                format!(" simulator={}", self.simulator)
            }
        )
    }
}

/// The command line (program first) that runs one configuration.
pub fn command(spec: &Spec, c: &Configuration, exe: &Path, out: &Path) -> Vec<OsString> {
    let mut run: Vec<OsString> = vec![exe.into(), "run".into(), c.network.clone().into()];
    if let Some(traces) = c.plasticity.traces() {
        run.extend(["--plastic".into(), "--traces".into(), traces.into()]);
    }
    let flags = [
        ("--simtime", spec.simtime.to_string()),
        ("--threads", c.threads.to_string()),
        ("--precision", c.precision.clone()),
        ("--delay", c.delay_ms.to_string()),
        ("--comm-latency-us", c.latency_us.to_string()),
        ("--seed", spec.seed.to_string()),
        ("--repetition", c.repetition.to_string()),
    ];
    run.push("--quiet".into());
    for (flag, value) in flags {
        run.push(flag.into());
        run.push(value.into());
    }
    // Block is `snn-bench run`'s default (and what older sweeps' command lines meant).
    if c.partitioner != Partitioner::Block {
        run.push("--partitioner".into());
        run.push(c.partitioner.name().into());
    }
    run.push("--out".into());
    run.push(out.into());
    if c.ranks == 1 {
        return run;
    }
    run.push("--expect-ranks".into());
    run.push(c.ranks.to_string().into());

    let per_host = c.ranks.div_ceil(c.hosts);
    let mut cmd: Vec<OsString> = vec![spec.mpirun.clone().into()];
    for a in &spec.mpirun_args {
        let a = a
            .replace("{ranks}", &c.ranks.to_string())
            .replace("{hosts}", &c.hosts.to_string())
            .replace("{threads}", &c.threads.to_string())
            .replace("{ranks_per_host}", &per_host.to_string());
        cmd.push(a.into());
    }
    cmd.push("-np".into());
    cmd.push(c.ranks.to_string().into());
    if let Some(f) = &spec.hostfile {
        cmd.push("--hostfile".into());
        cmd.push(f.into());
    }
    cmd.extend(run);
    cmd
}

/// A command line for display, quoted for a POSIX shell where needed.
pub fn shell_words(cmd: &[OsString]) -> String {
    cmd.iter()
        .map(|a| {
            let s = a.to_string_lossy();
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
            if plain {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks a hostfile in Open MPI's format: `host [slots=N] [max_slots=N]` per line,
/// `#` comments; errors name the file, the line and what was expected.
pub fn check_hostfile(path: &Path) -> Result<(), String> {
    let text =
        read_text(path, MAX_HOSTFILE_BYTES, "a hostfile").map_err(|e| format!("hostfile {e}"))?;
    let mut hosts = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let host = words.next().unwrap_or("");
        let bad_host = host.contains('=')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c));
        if bad_host {
            return Err(format!(
                "hostfile {}:{}: '{host}': expected a host name first",
                path.display(),
                n + 1
            ));
        }
        for w in words {
            let ok = match w.split_once('=') {
                Some(("slots" | "max_slots" | "max-slots", v)) => {
                    v.parse::<u32>().is_ok_and(|v| v > 0)
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "hostfile {}:{}: '{w}': expected slots=N or max_slots=N with N > 0",
                    path.display(),
                    n + 1
                ));
            }
        }
        hosts += 1;
    }
    if hosts == 0 {
        return Err(format!("hostfile {}: no hosts in it", path.display()));
    }
    Ok(())
}

/// `snn-bench sweep`: the spec's configurations as runs of the job runner
/// ([`crate::jobs`]), which skips those already recorded, holds the records file's lock
/// and checks every new record.
pub fn execute(args: &SweepArgs) -> Result<(), String> {
    let mut spec = Spec::load(&args.spec)?;
    if let Some(f) = &args.hostfile {
        check_hostfile(f)?;
        spec.hostfile = Some(f.clone());
    }
    let out = args
        .out
        .clone()
        .or_else(|| spec.out.clone())
        .unwrap_or_else(|| {
            PathBuf::from("results")
                .join(host::host_dir_name(&host::Host::detect().hostname))
                .join("sweep.jsonl")
        });
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let runs = spec
        .configurations()
        .iter()
        .map(|c| jobs::Run {
            label: c.to_string(),
            command: command(&spec, c, &exe, &out),
            records: out.clone(),
            key: Key::of_configuration(&spec, c),
            generator: None,
            artifacts: Vec::new(),
            timeout_s: spec.run_timeout_s(c),
            mpi_as_root: c.ranks > 1 && root,
        })
        .collect();
    let left_out = spec.pairs_left_out();
    let plan = jobs::Plan {
        title: format!("sweep {}", args.spec.display()),
        note: if left_out > 0 {
            format!(" ({left_out} (ranks, hosts) pair(s) with more hosts than ranks left out)")
        } else {
            String::new()
        },
        runs,
    };
    let outcome = jobs::execute(&plan, &args.runner)?;
    if args.runner.dry_run || outcome.ran.is_empty() {
        return Ok(());
    }
    println!(
        "{} run(s) recorded in {} ({} of {} configuration(s) were already there)",
        outcome.ran.len(),
        out.display(),
        outcome.skipped,
        plan.runs.len()
    );
    print_tables(&outcome.ran);
    Ok(())
}

/// `table::table` does not tell runs on different numbers of hosts apart: one table per
/// number of hosts, so that they never share a median.
fn print_tables(records: &[Record]) {
    let mut groups: BTreeMap<usize, Vec<Record>> = BTreeMap::new();
    for r in records {
        groups.entry(r.config.hosts).or_default().push(r.clone());
    }
    for (hosts, rs) in &groups {
        if groups.len() > 1 {
            println!("\non {hosts} host(s):");
        }
        print!("{}", table::table(rs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml(text: &str) -> Result<Spec, String> {
        Spec::parse(text, Format::Toml)
    }

    #[test]
    fn defaults() {
        let s = toml("").unwrap();
        assert_eq!(s.networks, ["va"]);
        assert_eq!(s.simtime, 10.0);
        assert_eq!(s.threads, [1, 2]);
        assert_eq!(
            (s.ranks.as_slice(), s.hosts.as_slice()),
            (&[1][..], &[1][..])
        );
        assert_eq!(s.delays_ms, [0.8]);
        assert_eq!(s.precisions, ["f32"]);
        assert_eq!(s.latencies_us, [0.0]);
        assert_eq!((s.repetitions, s.seed), (1, 1));
        assert_eq!(s.mpirun, "mpirun");
        assert_eq!(s.mpirun_args, ["--bind-to", "none"]);
        assert_eq!(s.plasticity, [Plasticity::Static]);
        assert_eq!(s.timeout_s, None);
        assert_eq!(s.configurations().len(), 2);
        assert_eq!(s.run_timeout_s(&s.configurations()[0]), 60.0 + 50.0 * 10.0);
    }

    #[test]
    fn single_values_stand_for_lists_and_json_matches_toml() {
        let t = toml("network = 'va'\nthreads = 4\ndelay = 1\nprecision = 'double'").unwrap();
        assert_eq!(t.threads, [4]);
        assert_eq!(t.delays_ms, [1.0]);
        assert_eq!(t.precisions, ["f64"]);
        let j = Spec::parse(
            r#"{"network": "va", "threads": 4, "delay": 1, "precision": "double"}"#,
            Format::Json,
        )
        .unwrap();
        assert_eq!(t, j);
    }

    #[test]
    fn product_order_puts_repetition_outermost_and_threads_innermost() {
        let hostfile = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(hostfile.path(), "node1 slots=1\nnode2 slots=1\n").unwrap();
        let s = toml(&format!(
            "threads = [1, 2]\nranks = [1, 2]\nhosts = [1, 2]\nrepetitions = 2\nhostfile = {:?}",
            hostfile.path()
        ))
        .unwrap();
        let cs = s.configurations();
        // (ranks, hosts) pairs (1,1), (2,1), (2,2): 3 pairs × 2 threads × 2 repetitions.
        assert_eq!(cs.len(), 12);
        assert_eq!(s.pairs_left_out(), 1);
        assert!(cs[..6].iter().all(|c| c.repetition == 0));
        assert!(cs[6..].iter().all(|c| c.repetition == 1));
        let t: Vec<_> = cs[..6]
            .iter()
            .map(|c| (c.ranks, c.hosts, c.threads))
            .collect();
        assert_eq!(
            t,
            [
                (1, 1, 1),
                (1, 1, 2),
                (2, 1, 1),
                (2, 1, 2),
                (2, 2, 1),
                (2, 2, 2)
            ]
        );
    }

    fn err(text: &str) -> String {
        let e = toml(text).unwrap_err();
        assert!(!e.is_empty());
        e
    }

    #[test]
    fn bad_values_name_the_field_and_value() {
        for (text, must) in [
            ("delay = [0.8, 0.05]", &["delay", "0.05"][..]),
            ("delay = 0.15", &["delay", "0.15", "multiple"]),
            ("delay = 25", &["delay", "25", "20"]),
            ("threads = []", &["threads", "empty"]),
            ("threads = [0]", &["threads = 0"]),
            ("threads = [-2]", &["threads = -2"]),
            ("threads = [1, 1]", &["threads", "twice"]),
            ("ranks = [1]\nhosts = [2]", &["hosts = 2", "ranks"]),
            ("simtime = 0", &["simtime = 0"]),
            ("simtime = -1.5", &["simtime = -1.5"]),
            ("simtime = 1e-6", &["simtime", "time step"]),
            ("repetitions = 0", &["repetitions = 0"]),
            ("latency_us = -1", &["latency_us = -1"]),
            ("precision = 'f16'", &["precision", "f16"]),
            (
                "partitioner = 'greedy'",
                &["partitioner = \"greedy\"", "block, round-robin, balanced"],
            ),
            (
                "partitioner = ['block', 'block']",
                &["partitioner", "twice"],
            ),
            ("network = 'vb'", &["network", "vb"]),
            (
                "network = 'va'\nnetworks = ['va']",
                &["network", "networks"],
            ),
            ("timeout_s = 0", &["timeout_s = 0"]),
            ("thread = [1]", &["thread", "unknown field"]),
            ("simtime = 1.0\nthreads = [1,, 2]\n", &["line 2"]),
            (
                "ranks = [2]\nhosts = [1]\nhostfile = '/no/such/file'",
                &["/no/such/file"],
            ),
            ("threads = [1.5]", &["threads", "1.5"]),
            (
                "network = 'brunel'\nplasticity = 'stdp'",
                &[
                    "plasticity",
                    "stdp",
                    "\"static\", \"continuous\", \"event-based\"",
                ],
            ),
            (
                "network = 'brunel'\nplasticity = []",
                &["plasticity", "empty"],
            ),
            (
                "network = 'brunel'\nplasticity = ['continuous', 'continuous']",
                &["plasticity", "twice"],
            ),
            (
                "networks = ['brunel', 'va']\nplasticity = ['static', 'event-based']",
                &["plasticity", "event-based", "\"va\"", "no plastic variant"],
            ),
            (
                "network = 'poisson'\nplasticity = 'continuous'",
                &["plasticity", "\"poisson\"", "no plastic variant"],
            ),
        ] {
            let e = err(text);
            for m in must {
                assert!(e.contains(m), "{text:?}: {e:?} lacks {m:?}");
            }
        }
    }

    #[test]
    fn hostfiles_are_checked_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hosts");
        std::fs::write(&f, "# nodes\nnode1 slots=16\nnode-2.example max_slots=4\n").unwrap();
        check_hostfile(&f).unwrap();
        std::fs::write(&f, "node1 slots=16\nnode2 slots=zero\n").unwrap();
        let e = check_hostfile(&f).unwrap_err();
        assert!(e.contains(":2:") && e.contains("slots=zero"), "{e}");
        std::fs::write(&f, "slots=2 node1\n").unwrap();
        let e = check_hostfile(&f).unwrap_err();
        assert!(e.contains(":1:") && e.contains("host name"), "{e}");
        std::fs::write(&f, "# nothing\n\n").unwrap();
        assert!(check_hostfile(&f).unwrap_err().contains("no hosts"));
        let e = check_hostfile(&dir.path().join("missing")).unwrap_err();
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn hosts_above_one_need_a_hostfile_or_a_launcher_of_ones_own() {
        let e = err("ranks = [2]\nhosts = [2]");
        assert!(e.contains("hostfile"), "{e}");
        let s = toml("ranks = [2]\nhosts = [2]\nmpirun = 'my-launcher'").unwrap();
        assert_eq!(s.configurations().len(), 2);
    }

    #[test]
    fn commands() {
        let s = toml("simtime = 0.5\nthreads = 2\nranks = [1, 4]\nprecision = 'f64'\nseed = 7")
            .unwrap();
        let cs = s.configurations();
        let exe = Path::new("/bin/snn-bench");
        let out = Path::new("o.jsonl");
        let one = shell_words(&command(&s, &cs[0], exe, out));
        assert_eq!(
            one,
            "/bin/snn-bench run va --quiet --simtime 0.5 --threads 2 --precision f64 \
             --delay 0.8 --comm-latency-us 0 --seed 7 --repetition 0 --out o.jsonl"
        );
        let mpi = shell_words(&command(&s, &cs[1], exe, out));
        assert_eq!(
            mpi,
            format!("mpirun --bind-to none -np 4 {one} --expect-ranks 4"),
        );
        let mut s = s;
        s.mpirun_args = vec!["--map-by".into(), "ppr:{ranks_per_host}:node".into()];
        s.hostfile = Some("my hosts".into());
        let c = Configuration {
            hosts: 3,
            ..cs[1].clone()
        };
        let mpi = shell_words(&command(&s, &c, exe, out));
        assert!(
            mpi.starts_with("mpirun --map-by ppr:2:node -np 4 --hostfile 'my hosts' /bin/"),
            "{mpi}"
        );
    }

    /// `partitioner` is an axis of the product: each value its own configuration, key
    /// and command line (`--partitioner X`), block when not given.
    #[test]
    fn partitioners_are_a_dimension_of_the_product() {
        let s = toml(
            "threads = 2
partitioner = ['block', 'round-robin', 'balanced']",
        )
        .unwrap();
        let cs = s.configurations();
        assert_eq!(cs.len(), 3);
        let exe = Path::new("/bin/snn-bench");
        let keys: HashSet<Key> = cs.iter().map(|c| Key::of_configuration(&s, c)).collect();
        assert_eq!(keys.len(), 3, "the keys tell the partitioners apart");
        for (c, p) in cs.iter().zip(["block", "round-robin", "balanced"]) {
            assert_eq!(c.partitioner.name(), p);
            assert_eq!(Key::of_configuration(&s, c).partitioner, p);
            let line = shell_words(&command(&s, c, exe, Path::new("o.jsonl")));
            match c.partitioner {
                Partitioner::Block => assert!(!line.contains("--partitioner"), "{line}"),
                _ => assert!(line.contains(&format!("--partitioner {p} --out")), "{line}"),
            }
            assert!(c.to_string().contains(&format!("partitioner={p}")));
        }
        assert_eq!(toml("").unwrap().partitioners, [Partitioner::Block]);
    }

    #[test]
    fn plasticity_is_a_dimension_of_the_product_inside_network() {
        let s = toml(
            "networks = ['brunel', 'zenke25k']\nplasticity = ['static', 'continuous', \
             'event-based']\nprecision = ['f32', 'f64']\nthreads = 1\nsimtime = 2",
        )
        .unwrap();
        let cs = s.configurations();
        assert_eq!(cs.len(), 12);
        let order: Vec<_> = cs
            .iter()
            .map(|c| {
                (
                    c.network.as_str(),
                    c.plasticity.name(),
                    c.precision.as_str(),
                )
            })
            .collect();
        assert_eq!(
            order[..6],
            [
                ("brunel", "static", "f32"),
                ("brunel", "static", "f64"),
                ("brunel", "continuous", "f32"),
                ("brunel", "continuous", "f64"),
                ("brunel", "event-based", "f32"),
                ("brunel", "event-based", "f64"),
            ]
        );
        assert!(order[6..].iter().all(|o| o.0 == "zenke25k"));
        assert!(cs[2]
            .to_string()
            .starts_with("brunel plasticity=continuous f32 "));

        // Only plastic zenke25k has a priming run to allow for.
        let timeouts: Vec<_> = cs.iter().map(|c| s.run_timeout_s(c)).collect();
        assert!(timeouts[..8].iter().all(|&t| t == 60.0 + 50.0 * 2.0));
        assert!(timeouts[8..]
            .iter()
            .all(|&t| t == 60.0 + 50.0 * (2.0 + 30.0)));
        let fixed = Spec {
            timeout_s: Some(7.0),
            ..s.clone()
        };
        assert!(cs.iter().all(|c| fixed.run_timeout_s(c) == 7.0));

        // A single value stands for a list; va alone sweeps statically by default.
        let one = toml("network = 'zenke25k'\nplasticity = 'event-based'").unwrap();
        assert_eq!(one.plasticity, [Plasticity::EventBased]);
        assert_eq!(
            toml("network = 'va'").unwrap().plasticity,
            [Plasticity::Static]
        );
        toml("network = 'va'\nplasticity = 'static'").unwrap();
    }

    #[test]
    fn plastic_commands_and_keys() {
        let s = toml(
            "network = 'brunel'\nplasticity = ['static', 'event-based']\nthreads = 2\n\
             simtime = 0.5",
        )
        .unwrap();
        let cs = s.configurations();
        let exe = Path::new("/bin/snn-bench");
        let out = Path::new("o.jsonl");
        let plain = shell_words(&command(&s, &cs[0], exe, out));
        assert!(
            !plain.contains("--plastic") && !plain.contains("--traces"),
            "{plain}"
        );
        let plastic = shell_words(&command(&s, &cs[1], exe, out));
        assert_eq!(
            plastic,
            plain.replace("run brunel ", "run brunel --plastic --traces event-based ")
        );

        let k0 = Key::of_configuration(&s, &cs[0]);
        let k1 = Key::of_configuration(&s, &cs[1]);
        assert_ne!(k0, k1);
        assert_eq!((k0.plastic, k0.traces.as_deref()), (false, None));
        assert_eq!(
            (k1.plastic, k1.traces.as_deref()),
            (true, Some("event-based"))
        );
        assert!(k1
            .to_string()
            .starts_with("brunel plasticity=event-based f32 "));
    }

    #[test]
    fn configuration_keys_match_record_keys() {
        // What `snn-bench run` records for odd values (delay 0.3 ms = 2.99… steps in
        // floating point, simtime that is not a whole number of steps).
        let s = toml("simtime = 0.30004\ndelay = 0.3\nlatency_us = 1.1\nseed = 3").unwrap();
        let c = &s.configurations()[1];
        let dt = 0.1 * 1e-3;
        let steps = (0.30004_f64 / dt).round() as u64;
        let config = Config {
            network: "va".into(),
            neurons: 4000,
            seed: 3,
            dt_s: dt,
            delay_s: 0.3 * 1e-3,
            min_delay_steps: 3,
            precision: "f32".into(),
            simtime_s: steps as f64 * dt,
            steps,
            partitions: 2,
            threads: 2,
            ranks: 1,
            hosts: 1,
            communicator: "x".into(),
            partitioner: "block".into(),
            partition_costs: Vec::new(),
            injected_latency_us: 1.1,
            repetition: 0,
            timers: true,
            initial_v: "uniform".into(),
            weights: "generated from seed".into(),
            exchange_trace: None,
            spikes: None,
            generator: None,
            plastic: false,
            traces: None,
            parameters: Default::default(),
            network_file: None,
            resumed_from: None,
            checkpoint: None,
            segment: None,
            simulator: None,
            monitors: Vec::new(),
        };
        assert_eq!(Key::of_record(&config), Key::of_configuration(&s, c));
        let other = Config {
            timers: false,
            ..config.clone()
        };
        assert_ne!(Key::of_record(&other), Key::of_configuration(&s, c));

        // Plastic records match plastic configurations only, trace mode included.
        let s = toml(
            "network = 'brunel'\nplasticity = ['static', 'continuous', 'event-based']\n\
             simtime = 0.30004\ndelay = 0.3\nlatency_us = 1.1\nseed = 3\nthreads = 2",
        )
        .unwrap();
        let cs = s.configurations();
        let brunel = Config {
            network: "brunel".into(),
            initial_v: sweep_initial_v("brunel"),
            ..config
        };
        let continuous = Config {
            plastic: true,
            traces: Some("continuous".into()),
            ..brunel.clone()
        };
        let keys: Vec<_> = cs.iter().map(|c| Key::of_configuration(&s, c)).collect();
        assert_eq!(Key::of_record(&brunel), keys[0]);
        assert_eq!(Key::of_record(&continuous), keys[1]);
        assert_ne!(Key::of_record(&continuous), keys[2]);
        assert_ne!(Key::of_record(&continuous), keys[0]);
    }
}
