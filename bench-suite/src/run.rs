//! `snn-bench run`: build a network, simulate it, report and record what happened.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sim_core::{Network, Observer, Partitioner, Precision, Real, RunConfig, RunResult};

use crate::conditions::{Conditions, Snapshot};
use crate::host::{self, Build, Host, Usage};
use crate::networks::{self, Generator, InitV, Traces};
use crate::record::{Config, Marks, Outcome, RankUsage, Record, SCHEMA};
use crate::{jsonl, limits, weights};

mod here;

/// The arguments of a run. A checkpoint keeps them (serde), so that `snn-bench resume`
/// builds the same network again.
#[derive(Debug, Clone, clap::Args, serde::Serialize, serde::Deserialize)]
#[command(after_help = crate::limits::table())]
pub struct RunArgs {
    /// Built-in network to simulate: va, brunel, zenke25k, poisson or hetero (their
    /// files are networks/*.toml). With --network-file it may be left out; if given, it
    /// must be the name that file gives its network.
    #[arg(required_unless_present = "network_file")]
    pub network: Option<String>,
    /// A network file (TOML, README "Network files") to simulate instead of a built-in
    /// network; read when the command line is parsed, and kept whole in checkpoints.
    #[arg(long, value_name = "FILE", value_parser = networks::UserFile::read)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_file: Option<networks::UserFile>,
    /// Model time to simulate, in seconds.
    #[arg(long, default_value_t = 60.0, allow_negative_numbers = true)]
    pub simtime: f64,
    /// Worker threads in this process (each owns one partition).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: u32,
    /// Partitions the threads step (default: one per thread). More partitions than
    /// threads let the work of a descheduled thread move to the others at a finer grain;
    /// spikes are the same for any count.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub partitions: Option<u32>,
    /// How the neurons are split into the partitions: block (near-equal blocks of every
    /// population), round-robin (whole populations dealt in turn; at most one partition
    /// per population) or balanced (every population cut at the quantiles of the
    /// neurons' estimated cost). Spikes are the same for any.
    #[arg(long, default_value = "block", value_parser = parse_partitioner)]
    #[serde(default)]
    pub partitioner: Partitioner,
    #[arg(long, default_value = "f32", value_parser = parse_precision)]
    pub precision: Precision,
    /// Axonal delay in ms of every connection (of a network file: every connection
    /// without a delay of its own): a multiple of dt, at least dt.
    #[arg(long, default_value_t = 0.8, allow_negative_numbers = true)]
    pub delay: f64,
    /// Integration time step in ms.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub dt: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Initial membrane potentials.
    #[arg(long, value_enum, default_value_t = InitV::Uniform)]
    pub init_v: InitV,
    /// Poisson generator of networks with Poisson sources (poisson).
    #[arg(long, value_enum, default_value_t = Generator::Lattice)]
    pub generator: Generator,
    /// Run the plastic variant (brunel: E→E pair STDP; zenke25k: E→E triplet STDP with
    /// homeostasis, after a priming run of 3·τ_hom with fixed weights; hetero: P→S pair
    /// STDP).
    #[arg(long)]
    pub plastic: bool,
    /// Presynaptic traces of plastic runs.
    #[arg(long, value_enum, default_value_t = Traces::Continuous)]
    pub traces: Traces,
    /// Learning rate of plastic runs: brunel λ (default 0.01), zenke25k η with
    /// A3+ = 6.5e-3·η (default 1).
    #[arg(long, allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,
    /// zenke25k plastic: homeostatic time constant τ_hom in seconds (default 10, the
    /// paper's benchmarks; its model runs use 50).
    #[arg(long, allow_negative_numbers = true)]
    pub tau_hom: Option<f64>,
    /// Plastic runs: seconds of model time run with fixed weights before the measured
    /// run (default: zenke25k 3·τ_hom, brunel 0). Not timed in the record's run.
    #[arg(long, allow_negative_numbers = true)]
    pub priming: Option<f64>,
    /// Rate of the Poisson input in Hz: poisson sources (default 5), zenke25k inputs
    /// (2), brunel external drive per neuron (20000).
    #[arg(long, allow_negative_numbers = true)]
    pub input_rate: Option<f64>,
    /// Recurrent excitatory weight: va 0.4, zenke25k 0.16 (units of the leak
    /// conductance), brunel J in mV (0.1).
    #[arg(long, allow_negative_numbers = true)]
    pub w_exc: Option<f64>,
    /// Recurrent inhibitory weight (magnitude): va 5.1, zenke25k 1.0, brunel g·J in mV
    /// (0.5).
    #[arg(long, allow_negative_numbers = true)]
    pub w_inh: Option<f64>,
    /// Append the results record (JSON Lines) to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write every spike to this .npy file (int64, columns step and neuron id),
    /// streamed while the run goes on (a spike monitor of all neurons: bounded memory).
    #[arg(long)]
    pub spikes: Option<PathBuf>,
    /// A monitor, streamed to --monitor-dir while the run goes on (bounded memory):
    /// spikes:all, spikes:POPULATION or spikes:A-B (neuron ids A to B), written as
    /// spikes-WHAT.npy in the layout of --spikes (spikes:WHAT:ras: spikes-WHAT.ras,
    /// Auryn's text format); rate:WHAT:BIN (e.g. rate:E:5ms), the mean rate per bin in
    /// Hz, written as rate-WHAT.npy (float64); weights:CONN:N:INTERVAL (e.g.
    /// weights:EE:1000:10s), N sampled weights of a plastic connection and a histogram
    /// of all its weights every INTERVAL (weights-CONN.npy, weights-CONN-synapses.npy,
    /// weights-CONN-hist.npy). Repeatable.
    #[arg(long = "monitor", requires = "monitor_dir")]
    #[serde(default)]
    pub monitors: Vec<String>,
    /// Where the monitors write their files.
    #[arg(long)]
    #[serde(default)]
    pub monitor_dir: Option<PathBuf>,
    /// Write each worker's arrival time at every exchange to this .npy file (float64,
    /// shape (exchanges, workers), seconds since the common start barrier): the data of
    /// the load-balance figure (paper Fig. 7). Needs timers on.
    #[arg(long)]
    pub exchange_trace: Option<PathBuf>,
    /// Save the weight matrices at the end of the run (Matrix Market, one file per
    /// pathway) to this directory: the learnt weights of a plastic run.
    #[arg(long)]
    pub save_weights: Option<PathBuf>,
    /// Save the weight matrices as built, before the run, to this directory.
    #[arg(long, conflicts_with = "save_weights")]
    pub save_initial_weights: Option<PathBuf>,
    /// Write a checkpoint (the whole state, spikes in flight included) to this
    /// directory at the end of the run, every --checkpoint-every seconds of model time,
    /// and when interrupted (SIGINT, SIGTERM); continue it with `snn-bench resume`.
    /// Replaces an earlier checkpoint there only with --force (or when resuming it).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Seconds of model time between checkpoints (needs --checkpoint).
    #[arg(long, requires = "checkpoint", allow_negative_numbers = true)]
    pub checkpoint_every: Option<f64>,
    /// The checkpoint this run continues (set by `snn-bench resume`).
    #[arg(skip)]
    #[serde(default)]
    pub resume_from: Option<PathBuf>,
    /// Write a flamegraph of the command (network construction and the run, every
    /// thread) to this SVG file, sampled 997 times a second (pprof). One process only:
    /// not under mpirun with more than one rank.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Keep only the samples of one phase's code in the --profile flamegraph.
    #[arg(long, requires = "profile", value_enum)]
    pub profile_phase: Option<crate::profile::Phase>,
    /// Let --spikes, --exchange-trace, --save-weights and --profile replace existing
    /// files of their own kind (.npy arrays, Matrix Market files, SVG images); nothing
    /// else is ever replaced.
    #[arg(long)]
    pub force: bool,
    /// Load the weight matrices from this directory instead of drawing them.
    #[arg(long)]
    pub load_weights: Option<PathBuf>,
    /// Phase timers; "off" only to measure their overhead.
    #[arg(long, default_value = "on", value_parser = ["on", "off"])]
    pub timers: String,
    /// A fixed wait added to every spike exchange, in µs (emulates a slower interconnect).
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub comm_latency_us: f64,
    /// Fail unless the job has exactly this many MPI ranks (sweeps use it to catch an
    /// mpirun that started the wrong number of processes, or a build without MPI).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub expect_ranks: Option<u32>,
    /// Repetition index, recorded so that sweeps can tell repeated runs apart.
    #[arg(long, default_value_t = 0)]
    pub repetition: u32,
    /// No progress bar and no summary table on stdout.
    #[arg(long)]
    pub quiet: bool,
}

impl RunArgs {
    /// The network's name: the one given, else the one its network file gives.
    pub fn network_name(&self) -> String {
        match (&self.network, &self.network_file) {
            (Some(n), _) => n.clone(),
            (None, Some(f)) => f.name(),
            (None, None) => String::new(),
        }
    }
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    s.parse()
}

/// `--partitioner`'s value (clap names the flag and the value in front of the message).
pub(crate) fn parse_partitioner(s: &str) -> Result<Partitioner, String> {
    s.parse()
}

/// Checks a time given in ms and returns it in seconds.
fn seconds_from_ms(flag: &str, ms: f64, dt_ms: Option<f64>) -> Result<f64, String> {
    if !ms.is_finite() || ms <= 0.0 {
        return Err(format!(
            "--{flag} {ms}: expected a positive number of milliseconds"
        ));
    }
    if let Some(dt) = dt_ms {
        let ratio = ms / dt;
        if ratio < 1.0 - 1e-9 {
            return Err(format!("--{flag} {ms} ms: expected at least dt = {dt} ms"));
        }
        if (ratio - ratio.round()).abs() > 1e-6 * ratio {
            return Err(format!(
                "--{flag} {ms} ms: expected a multiple of dt = {dt} ms"
            ));
        }
    }
    Ok(ms * 1e-3)
}

/// Builds the network the arguments describe (loading weights if asked).
pub fn network(args: &RunArgs) -> Result<networks::Built, String> {
    let dt = seconds_from_ms("dt", args.dt, None)?;
    limits::DT.check(args.dt)?;
    let delay = seconds_from_ms("delay", args.delay, Some(args.dt))?;
    limits::DELAY.check(args.delay)?;
    let opts = networks::Options {
        dt,
        delay,
        seed: args.seed,
        init_v: args.init_v,
        generator: args.generator,
        plastic: args.plastic.then_some(args.traces),
        overrides: networks::Overrides {
            learning_rate: args.learning_rate,
            tau_hom: args.tau_hom,
            priming: args.priming,
            input_rate: args.input_rate,
            w_exc: args.w_exc,
            w_inh: args.w_inh,
        },
    };
    let mut built = match (&args.network, &args.network_file) {
        (name, Some(file)) => {
            let built = networks::from_file(file, &opts)?;
            if let Some(name) = name.as_ref().filter(|n| **n != built.net.name) {
                return Err(format!(
                    "network '{name}' and --network-file {}: the file's network is named \
                     '{}': expected that name, or none",
                    file.path.display(),
                    built.net.name
                ));
            }
            built
        }
        (Some(name), None) => networks::by_name(name, &opts)?,
        (None, None) => {
            return Err(format!(
                "no network: expected one of {} or --network-file FILE",
                networks::NAMES.join(", ")
            ))
        }
    };
    let net = &mut built.net;
    if args.plastic && net.connections.iter().all(|c| c.plasticity.is_none()) {
        return Err(format!(
            "--plastic: network '{}' has no plastic connection (its [plastic] section gives \
             no rule)",
            net.name
        ));
    }
    if let Some(dir) = &args.load_weights {
        weights::load(net, dir).map_err(|e| e.to_string())?;
    }
    net.validate().map_err(|e| e.to_string())?;
    Ok(built)
}

/// Runs and returns the record (also appended to `--out` and printed unless quiet).
pub fn execute(args: &RunArgs) -> Result<Record, String> {
    Ok(execute_on(args, None)?.expect("a single process is rank 0"))
}

/// The MPI world of this process (a stand-in type that cannot exist without MPI).
#[cfg(feature = "mpi")]
pub type World = mpi::topology::SimpleCommunicator;
#[cfg(not(feature = "mpi"))]
pub type World = std::convert::Infallible;

/// Runs in one process (`world` = None) or as one rank of an MPI job; returns the
/// record on rank 0 (which alone writes the record and the spike file), None elsewhere.
pub fn execute_on(args: &RunArgs, world: Option<&World>) -> Result<Option<Record>, String> {
    if let Some(n) = args.expect_ranks {
        let size = world_size(world);
        if size != n as usize {
            return Err(format!(
                "--expect-ranks {n}: this job has {size} rank(s); start it with `mpirun -np {n}` and an MPI build (make build-mpi)"
            ));
        }
    }
    if !args.simtime.is_finite() || args.simtime <= 0.0 {
        return Err(format!(
            "--simtime {}: expected a positive number of seconds",
            args.simtime
        ));
    }
    if args.exchange_trace.is_some() && args.timers == "off" {
        return Err(
            "--exchange-trace needs --timers on: arrivals are read off the timers' clock".into(),
        );
    }
    if !args.comm_latency_us.is_finite() || args.comm_latency_us < 0.0 {
        return Err(format!(
            "--comm-latency-us {}: expected a non-negative number of microseconds",
            args.comm_latency_us
        ));
    }
    limits::SIMTIME.check(args.simtime)?;
    limits::COMM_LATENCY.check(args.comm_latency_us)?;
    if let Some(s) = args.checkpoint_every {
        limits::CHECKPOINT_EVERY.check(s)?;
    }
    if let Some(dir) = &args.checkpoint {
        check_checkpoint_dir(dir, args)?;
    }
    if let (Some(path), n @ 2..) = (&args.profile, world_size(world)) {
        return Err(format!(
            "--profile {}: profiles one process, and this job has {n} ranks; run it without \
             mpirun (threads in one process), or profile each rank with perf",
            path.display()
        ));
    }
    if let (Some(path), Some(out)) = (&args.profile, &args.out) {
        return Err(format!(
            "--profile {} with --out {}: a profiled run's times include the sampling's \
             cost, and its record would join the benchmarks; profile without --out",
            path.display(),
            out.display()
        ));
    }
    // From before the network is built: its construction is part of the profile.
    let profiler = match &args.profile {
        Some(path) => Some(crate::profile::Profiler::start(
            path,
            args.profile_phase,
            args.force,
        )?),
        None => None,
    };
    let start = Usage::now();
    let built = network(args)?;
    let net = &built.net;
    let monitors = monitor_specs(args)?;
    if let Some(dir) = &args.monitor_dir {
        crate::monitor::check(&monitors, dir, net, args.force)?;
    }
    // Every output path, before the run: a bad one must not cost the run.
    crate::outputs::check(&crate::outputs::Request::of_run(args, net))?;
    if let Some(path) = &args.spikes {
        crate::monitor::check_spike_file("--spikes", path, args.force)?;
    }
    if let Some(dir) = &args.monitor_dir {
        let others: Vec<(&str, &std::path::Path)> = [
            ("--spikes", &args.spikes),
            ("--exchange-trace", &args.exchange_trace),
            ("--out", &args.out),
            ("--save-weights", &args.save_weights),
            ("--save-initial-weights", &args.save_initial_weights),
            ("--checkpoint", &args.checkpoint),
            ("--profile", &args.profile),
        ]
        .into_iter()
        .filter_map(|(flag, p)| Some((flag, p.as_deref()?)))
        .collect();
        crate::monitor::check_distinct(&monitors, dir, &others)?;
    }
    // Model time is rounded to whole steps; the record gives the time actually simulated.
    let steps = limits::steps("--simtime", args.simtime, net.dt)?;
    if steps == 0 {
        return Err(format!(
            "--simtime {:?} s: expected at least one time step (dt = {} ms)",
            args.simtime, args.dt
        ));
    }
    let priming_steps = limits::steps("--priming", built.priming_s, net.dt)?;
    let partitions = args
        .partitions
        .map_or(0, |p| p as usize)
        .max(args.threads as usize)
        * world_size(world);
    // Before the run: round-robin needs a population per partition.
    args.partitioner.decompose(net, partitions)?;
    limits::check_plan(
        net,
        args.precision,
        args.threads as usize,
        // Partitions, not threads, hold the per-partition state.
        partitions,
        steps,
        priming_steps,
        args.exchange_trace.is_some(),
    )
    .map_err(|e| match &args.network_file {
        Some(f) => format!("{}: {e}", f.path.display()),
        None => e,
    })?;
    // Held from here to the append: a job runner on the same file sees this run at work.
    let records = match (&args.out, world_rank(world)) {
        (Some(path), 0) => Some(jsonl::Appender::open(path).map_err(|e| e.to_string())?),
        _ => None,
    };
    let record = match args.precision {
        Precision::F32 => run_in::<f32>(args, &built, steps, start, world, records),
        Precision::F64 => run_in::<f64>(args, &built, steps, start, world, records),
    }?;
    if let Some(p) = profiler {
        eprintln!("{}", p.finish()?);
    }
    Ok(record)
}

/// The run's `--monitor`s, parsed.
pub(crate) fn monitor_specs(args: &RunArgs) -> Result<Vec<crate::monitor::MonitorSpec>, String> {
    args.monitors
        .iter()
        .map(|m| crate::monitor::parse(m))
        .collect()
}

/// Refuses, before the run, a checkpoint directory that would destroy something: a
/// directory of other files, or an earlier checkpoint (unless --force, or it is the
/// checkpoint this run resumes).
pub(crate) fn check_checkpoint_dir(dir: &std::path::Path, args: &RunArgs) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return match dir.exists() {
            true => Err(format!(
                "--checkpoint {}: exists and is not a directory",
                dir.display()
            )),
            false => Ok(()),
        };
    };
    if entries.count() == 0 {
        return Ok(());
    }
    if !dir.join("manifest.json").is_file() {
        return Err(format!(
            "--checkpoint {}: the directory holds other files (no manifest.json): \
             expected a new or empty directory, or a checkpoint",
            dir.display()
        ));
    }
    let same = |a: &std::path::Path, b: &std::path::Path| {
        crate::outputs::resolve(a).ok() == crate::outputs::resolve(b).ok()
    };
    let resuming_it = args.resume_from.as_deref().is_some_and(|r| same(r, dir));
    if !args.force && !resuming_it {
        return Err(format!(
            "--checkpoint {}: a checkpoint is already there; pass --force to replace it \
             (or continue it: snn-bench resume {})",
            dir.display(),
            dir.display()
        ));
    }
    Ok(())
}

fn world_size(world: Option<&World>) -> usize {
    match world {
        None => 1,
        #[cfg(feature = "mpi")]
        Some(w) => mpi::topology::Communicator::size(w) as usize,
        #[cfg(not(feature = "mpi"))]
        Some(never) => match *never {},
    }
}

fn world_rank(world: Option<&World>) -> usize {
    match world {
        None => 0,
        #[cfg(feature = "mpi")]
        Some(w) => mpi::topology::Communicator::rank(w) as usize,
        #[cfg(not(feature = "mpi"))]
        Some(never) => match *never {},
    }
}

/// The exchange between this process and the other ranks of the MPI job, if any.
pub(crate) fn communicator(
    world: Option<&World>,
    threads: usize,
) -> Result<std::sync::Arc<dyn sim_core::Communicator>, String> {
    // `threads` only matters to MPI (how much thread support it must give).
    let _ = threads;
    Ok(match world {
        None => std::sync::Arc::new(sim_core::Local),
        #[cfg(feature = "mpi")]
        Some(w) => std::sync::Arc::new(sim_core::mpi::Mpi::new(w, threads)?),
        #[cfg(not(feature = "mpi"))]
        Some(never) => match *never {},
    })
}

/// Every rank's usage, at rank 0 (None elsewhere).
fn gather_usage(world: Option<&World>, mine: RankUsage) -> Option<Vec<RankUsage>> {
    match world {
        None => Some(vec![mine]),
        #[cfg(feature = "mpi")]
        Some(w) => {
            let bytes = serde_json::to_vec(&mine).expect("usage serialises");
            sim_core::mpi::gather_bytes_to_root(w, &bytes).map(|parts| {
                parts
                    .iter()
                    .map(|p| serde_json::from_slice(p).expect("usage from another rank"))
                    .collect()
            })
        }
        #[cfg(not(feature = "mpi"))]
        Some(never) => match *never {},
    }
}

fn run_in<R: Real>(
    args: &RunArgs,
    built: &networks::Built,
    steps: u64,
    start: Usage,
    world: Option<&World>,
    records: Option<jsonl::Appender>,
) -> Result<Option<Record>, String> {
    let net = &built.net;
    let rank = world_rank(world);
    let ranks = world_size(world);
    if let (Some(dir), 0) = (&args.save_initial_weights, rank) {
        weights::save::<R>(net, dir, args.force)?;
    }
    let cfg = RunConfig {
        threads: args.threads as usize,
        partitions: args.partitions.unwrap_or(0) as usize,
        steps,
        // A resumed run continues a primed one.
        priming_steps: if args.resume_from.is_some() {
            0
        } else {
            (built.priming_s / net.dt).round() as u64
        },
        timers: args.timers == "on",
        // --spikes is a spike monitor (streamed): no spike is kept in memory.
        record_spikes: false,
        progress_every: (0.1 / net.dt).round().max(1.0) as u64,
        injected_latency: std::time::Duration::from_secs_f64(args.comm_latency_us * 1e-6),
        trace_exchanges: args.exchange_trace.is_some(),
        partitioner: args.partitioner,
    };
    let progress = Progress::new(net, steps, args.quiet || rank != 0);
    let comm = communicator(world, cfg.threads)?;
    let result = Some(here::run::<R>(args, net, &cfg, comm, &progress)?);
    progress.bar.finish_and_clear();
    let marks = Marks {
        start,
        run_start: progress.run_start.lock().unwrap().unwrap_or(start),
        run_end: progress.run_end.lock().unwrap().unwrap_or_else(Usage::now),
    };
    let host = Host::detect();
    let usage = gather_usage(world, RankUsage::new(rank, host.hostname.clone(), &marks));
    let (Some(result), Some(usage)) = (result, usage) else {
        return Ok(None);
    };
    // The run's own CPU time on this machine: every rank on this host.
    let own_cpu_s: f64 = usage
        .iter()
        .filter(|u| u.host == host.hostname)
        .map(|u| u.run_cpu_s)
        .sum();
    let snapshots = *progress.snapshots.lock().unwrap();
    let conditions = match snapshots {
        (Some(before), Some(after)) => Some(Conditions::between(
            &before,
            &after,
            own_cpu_s,
            result.threads_active_mean,
        )),
        _ => None,
    };
    let failed = result
        .failure
        .as_ref()
        .map(|f| format!("the run stopped: {f}"));
    if let (Some(path), Some(arrivals), None) = (&args.exchange_trace, &result.arrivals, &failed) {
        let exchanges = arrivals.iter().map(Vec::len).min().unwrap_or(0);
        let values = (0..exchanges).flat_map(|e| arrivals.iter().map(move |w| w[e]));
        crate::npy::write_2d(path, exchanges, arrivals.len(), values, args.force)
            .map_err(|e| format!("exchange trace: {e}"))?;
    }
    let record = make_record(
        args,
        built,
        R::PRECISION,
        steps,
        &result,
        ranks,
        usage,
        conditions,
        &host,
    );
    if let Some(records) = records {
        let value = serde_json::to_value(&record).map_err(|e| e.to_string())?;
        records.append(&value).map_err(|e| e.to_string())?;
    }
    if let Some(why) = failed {
        return Err(why);
    }
    if !args.quiet {
        println!("{}", crate::table::summary(&record));
    }
    Ok(Some(record))
}

/// The record of a run of `steps` steps of `built` in `precision` with the arguments
/// `args` (`snn-bench run`'s, and each segment of `snn-bench protocol`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn make_record(
    args: &RunArgs,
    built: &networks::Built,
    precision: Precision,
    steps: u64,
    result: &RunResult,
    ranks: usize,
    usage: Vec<RankUsage>,
    conditions: Option<Conditions>,
    host: &Host,
) -> Record {
    let net = &built.net;
    let hosts = usage
        .iter()
        .map(|u| u.host.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let delay = net.connections.first().map_or(net.dt, |c| c.delay);
    Record {
        schema: SCHEMA,
        date: host::now_rfc3339(),
        config: Config {
            network: net.name.clone(),
            neurons: net.neuron_count(),
            seed: net.seed,
            dt_s: net.dt,
            delay_s: delay,
            min_delay_steps: result.min_delay_steps,
            precision: precision.to_string(),
            simtime_s: steps as f64 * net.dt,
            steps,
            partitions: result.partitions,
            threads: args.threads as usize,
            ranks,
            hosts,
            communicator: result.communicator.to_string(),
            partitioner: args.partitioner.name().into(),
            partition_costs: sim_core::partition::cost::Costs::estimate(net)
                .partitions(&result.decomposition),
            injected_latency_us: args.comm_latency_us,
            repetition: args.repetition,
            timers: args.timers == "on",
            initial_v: built.initial_v.clone(),
            weights: match &args.load_weights {
                Some(d) => format!("loaded from {}", d.display()),
                None => "generated from seed".into(),
            },
            exchange_trace: args
                .exchange_trace
                .as_ref()
                .map(|p| p.display().to_string()),
            spikes: args.spikes.as_ref().map(|p| p.display().to_string()),
            plastic: args.plastic,
            traces: args.plastic.then(|| {
                serde_json::to_value(args.traces)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            }),
            parameters: built.parameters.clone(),
            network_file: args
                .network_file
                .as_ref()
                .map(|f| f.path.display().to_string()),
            resumed_from: args.resume_from.as_ref().map(|d| crate::record::Resumed {
                dir: d.display().to_string(),
                step: result.first_step,
            }),
            checkpoint: args.checkpoint.as_ref().map(|d| d.display().to_string()),
            monitors: match &args.monitor_dir {
                Some(dir) => args
                    .monitors
                    .iter()
                    .filter_map(|m| crate::monitor::parse(m).ok())
                    .map(|m| crate::record::MonitorRecord::of(&m, dir, result.first_step))
                    .collect(),
                None => Vec::new(),
            },
            generator: has_poisson(net).then(|| {
                serde_json::to_value(args.generator)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            }),
            segment: None,
            simulator: None,
        },
        host: host.clone(),
        build: Build::current(),
        result: Outcome {
            conditions,
            ..Outcome::new(net, result, usage)
        },
    }
}

/// Progress bar over model time with the recent population rate, and CPU-time marks.
pub(crate) struct Progress {
    pub(crate) bar: ProgressBar,
    neurons: f64,
    dt: f64,
    last: Mutex<(u64, u64)>,
    pub(crate) run_start: Mutex<Option<Usage>>,
    pub(crate) run_end: Mutex<Option<Usage>>,
    /// The machine's counters when the run started and ended.
    pub(crate) snapshots: Mutex<(Option<Snapshot>, Option<Snapshot>)>,
}

impl Progress {
    pub(crate) fn new(net: &Network, steps: u64, quiet: bool) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{bar:40} {msg} [{elapsed_precise}, eta {eta}]")
                    .expect("valid template"),
            );
            b
        };
        Progress {
            bar,
            neurons: net.neuron_count() as f64,
            dt: net.dt,
            last: Mutex::new((0, 0)),
            run_start: Mutex::new(None),
            run_end: Mutex::new(None),
            snapshots: Mutex::new((None, None)),
        }
    }
}

impl Observer for Progress {
    fn run_started(&self) {
        self.snapshots.lock().unwrap().0 = Snapshot::now();
        *self.run_start.lock().unwrap() = Some(Usage::now());
    }
    fn progress(&self, step: u64, spikes: u64) {
        if self.bar.is_hidden() {
            return;
        }
        let mut last = self.last.lock().unwrap();
        let window = (step - last.0) as f64 * self.dt;
        let rate = (spikes - last.1) as f64 / (self.neurons * window.max(f64::MIN_POSITIVE));
        *last = (step, spikes);
        self.bar.set_position(step);
        self.bar.set_message(format!(
            "t = {:.1} s, rate {rate:.1} Hz",
            step as f64 * self.dt
        ));
    }
    fn run_finished(&self) {
        *self.run_end.lock().unwrap() = Some(Usage::now());
        self.snapshots.lock().unwrap().1 = Snapshot::now();
    }
}

pub(crate) fn has_poisson(net: &Network) -> bool {
    net.populations
        .iter()
        .any(|p| matches!(p.model, sim_core::model::NeuronModel::Poisson(_)))
}
