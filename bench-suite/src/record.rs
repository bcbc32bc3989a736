//! The results record: one JSON object per run (README, "The results record"): what
//! ran, where, and what happened.

use serde::{Deserialize, Serialize};
use sim_core::stats::Summary;
use sim_core::{Network, PhaseStats, PhaseTimes, RunResult};

use crate::conditions::Conditions;
use crate::host::{Build, Host, Usage};

/// Version of this layout; bump when a field changes meaning.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub schema: u32,
    pub date: String,
    pub config: Config,
    pub host: Host,
    pub build: Build,
    pub result: Outcome,
}

/// What ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub network: String,
    pub neurons: usize,
    pub seed: u64,
    pub dt_s: f64,
    pub delay_s: f64,
    pub min_delay_steps: usize,
    pub precision: String,
    pub simtime_s: f64,
    pub steps: u64,
    pub partitions: usize,
    pub threads: usize,
    pub ranks: usize,
    pub hosts: usize,
    pub communicator: String,
    /// How the neurons were split into the partitions: block, round-robin, balanced.
    pub partitioner: String,
    /// Each partition's estimated cost, ns of one core per step, in partition order
    /// (`sim_core::partition::cost`): max / mean is the decomposition's estimated
    /// imbalance. Absent in records of older builds.
    #[serde(default)]
    pub partition_costs: Vec<f64>,
    pub injected_latency_us: f64,
    /// Which repetition of this configuration (sweeps count from 0).
    #[serde(default)]
    pub repetition: u32,
    pub timers: bool,
    pub initial_v: String,
    /// "generated from seed" or the directory the weights were loaded from.
    pub weights: String,
    /// Where the per-exchange arrival trace was written, if it was.
    #[serde(default)]
    pub exchange_trace: Option<String>,
    /// Where the spikes were written (`--spikes`), if they were.
    #[serde(default)]
    pub spikes: Option<String>,
    /// The plastic variant of the network, and its presynaptic traces.
    #[serde(default)]
    pub plastic: bool,
    #[serde(default)]
    pub traces: Option<String>,
    /// Poisson generator ("lattice" / "per-step"), for networks with Poisson sources.
    #[serde(default)]
    pub generator: Option<String>,
    /// The values of the parameters `snn-bench run` can override (learning rate,
    /// τ_hom, priming, input rate, weights), whether overridden or not.
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, f64>,
    /// The network file of a `--network-file` run (absolute path); none for a built-in
    /// network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_file: Option<String>,
    /// The checkpoint the run continued, and the step it continued from (`snn-bench
    /// resume`): its spikes' steps start there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<Resumed>,
    /// Where the run's checkpoint was written (`--checkpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// The segment of a protocol (`snn-bench protocol`) this record is of, and what
    /// changed at its start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    /// The run's monitors (`--monitor`): what each watched and the file it wrote.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<MonitorRecord>,
    /// The peer simulator that ran (`snn-bench peer`: NEST, Brian2) on snn-limits'
    /// connectivity and initial state; absent for snn-limits' own runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<Simulator>,
}

/// A peer simulator's run (`snn-bench peer`). Its record's `result.run.wall_s` (and
/// `rtf`) is the simulator's own timer of the simulation loop; the whole process is here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulator {
    /// `nest`, `brian2`.
    pub name: String,
    pub version: String,
    /// The neuron model and integrator (`iaf_cond_exp, GSL RKF45`; `cpp_standalone, euler`).
    pub solver: String,
    pub threads: usize,
    /// The simulator's own timer of the simulation loop (NEST's `time_simulate`,
    /// Brian2's run time), seconds.
    pub loop_wall_s: f64,
    /// The whole process, interpreter start to exit, measured by `snn-bench peer`.
    pub process_wall_s: f64,
    /// CPU seconds of the process and its children (Brian2's compiler and binary).
    pub process_cpu_s: f64,
    /// Brian2's code generation and compilation, part of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile_wall_s: Option<f64>,
    /// The directory of snn-limits' weights and initial state the peer loaded.
    pub inputs: String,
    /// Anything else the runner reported (its meta file's other fields).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub details: std::collections::BTreeMap<String, serde_json::Value>,
}

impl Config {
    /// The simulator that ran: `snn-limits` or a peer's name.
    pub fn simulator_name(&self) -> &str {
        self.simulator
            .as_ref()
            .map_or("snn-limits", |s| s.name.as_str())
    }
}

/// One monitor of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorRecord {
    /// `spikes` (every spike of the neurons watched), `rate` (their mean rate per
    /// bin), `state` (a variable of theirs, sampled) or `weights` (a sample of a
    /// plastic connection's weights and their histogram).
    pub kind: String,
    /// `all`, a population, or an id range `A-B`; a weight monitor's connection.
    pub what: String,
    /// Its file (a spike monitor's `.npy` or `.ras`; a weight monitor's weights).
    pub file: String,
    /// A rate monitor's bin, as given (`5ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
    /// A state monitor's variable, and its sampling interval as given (`1ms`): its
    /// rows are the steps `first_step`, `first_step + every / dt`, … of the run. A
    /// weight monitor's interval (`10s`): its rows are those steps and the run's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// The run's first step (after priming): where the rate bins, the state samples
    /// and the weight rows start.
    #[serde(default)]
    pub first_step: u64,
    /// A weight monitor's sample size as asked for (the synapses file holds all of
    /// the connection's synapses when it has fewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u64>,
    /// A weight monitor's other files: the sampled synapses, the histogram.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

impl MonitorRecord {
    /// The record of monitor `m` writing in `dir`, of a run from step `first_step`.
    pub fn of(m: &crate::monitor::MonitorSpec, dir: &std::path::Path, first_step: u64) -> Self {
        let mut files = m
            .file_names()
            .into_iter()
            .map(|f| dir.join(f).display().to_string());
        let written = |b: &Option<(f64, String)>| b.as_ref().map(|(_, w)| w.clone());
        MonitorRecord {
            kind: m.kind.into(),
            what: m.what.clone(),
            file: files.next().unwrap_or_default(),
            bin: (m.kind == "rate").then(|| written(&m.bin)).flatten(),
            variable: m.variable.clone(),
            every: match m.kind {
                "state" => written(&m.bin),
                _ => written(&m.every),
            },
            first_step,
            sample: m.sample,
            also: files.collect(),
        }
    }
}

/// One segment of a protocol: its name, its place, the step it started at, and the
/// changes applied at its start (as written in the protocol file; they persist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub name: String,
    pub index: usize,
    pub first_step: u64,
    #[serde(default)]
    pub changes: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub dir: String,
    pub step: u64,
}

/// Wall and CPU seconds of one part of the run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Times {
    pub wall_s: f64,
    pub cpu_s: f64,
}

/// What happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// Building the network. Its CPU time includes the priming run's.
    pub setup: Times,
    /// Wall seconds of the priming run (weights fixed) before the measured run.
    #[serde(default)]
    pub priming_wall_s: f64,
    pub run: Times,
    /// Real-time factor: run wall time / model time (< 1 is faster than real time).
    pub rtf: f64,
    /// Each phase's min/mean/max over workers, seconds.
    pub phases: PhaseStats,
    pub phases_per_worker: Vec<PhaseTimes>,
    pub synapses: usize,
    pub spikes: u64,
    pub synaptic_events: u64,
    /// Spike exchanges in the run (every min-delay steps, and at the run's end):
    /// `phases.barrier.mean / exchanges` is the mean wait per exchange. 0 in records of
    /// older builds.
    #[serde(default)]
    pub exchanges: u64,
    /// Evolve time summed over workers per neuron update (core-nanoseconds).
    pub ns_per_neuron_step: f64,
    /// Propagate time summed over workers per synaptic event through static
    /// connections (core-nanoseconds; plastic connections are timed under plasticity).
    pub ns_per_synaptic_event: f64,
    /// Synaptic events through plastic connections (part of `synaptic_events`).
    #[serde(default)]
    pub plastic_events: u64,
    /// The largest peak resident memory of any rank.
    pub peak_rss_bytes: u64,
    /// CPU time and peak memory of each rank (one entry without MPI).
    #[serde(default)]
    pub per_rank: Vec<RankUsage>,
    /// Rate and CV-ISI of the whole network and of each population.
    pub rates: Vec<(String, Summary)>,
    /// What else the machine did during the run (absent in records of older builds).
    #[serde(default)]
    pub conditions: Option<Conditions>,
    /// Set when the run failed (its neuron state became NaN or infinite: where and at
    /// which step); the other numbers then describe the part that ran and must not be
    /// used. Absent in records of runs that succeeded (and in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// CPU-time marks taken around the run in one process.
#[derive(Debug, Clone, Copy)]
pub struct Marks {
    pub start: Usage,
    pub run_start: Usage,
    pub run_end: Usage,
}

/// What one rank (process) used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RankUsage {
    pub rank: usize,
    pub host: String,
    pub setup_cpu_s: f64,
    pub run_cpu_s: f64,
    pub peak_rss_bytes: u64,
}

impl RankUsage {
    pub fn new(rank: usize, host: String, m: &Marks) -> Self {
        RankUsage {
            rank,
            host,
            setup_cpu_s: m.run_start.cpu_s() - m.start.cpu_s(),
            run_cpu_s: m.run_end.cpu_s() - m.run_start.cpu_s(),
            peak_rss_bytes: m.run_end.peak_rss_bytes,
        }
    }
}

impl Outcome {
    /// `ranks` holds every rank's usage (CPU times are summed, memory is the maximum).
    pub fn new(net: &Network, r: &RunResult, ranks: Vec<RankUsage>) -> Outcome {
        let simtime = r.steps as f64 * net.dt;
        let per_worker: Vec<PhaseTimes> = r.workers.iter().map(|w| w.phases).collect();
        let evolve_sum: f64 = per_worker.iter().map(|p| p.evolve).sum();
        let propagate_sum: f64 = per_worker.iter().map(|p| p.propagate).sum();
        let neuron_steps = net.neuron_count() as f64 * r.steps as f64;
        let events = r.events();
        let static_events = events - r.plastic_events();
        let mut rates = vec![(
            "all".to_string(),
            r.stats.summary(0..net.neuron_count(), simtime),
        )];
        for (p, off) in net.populations.iter().zip(net.offsets()) {
            rates.push((p.name.clone(), r.stats.summary(off..off + p.size, simtime)));
        }
        Outcome {
            setup: Times {
                wall_s: r.setup_wall,
                cpu_s: ranks.iter().map(|u| u.setup_cpu_s).sum(),
            },
            priming_wall_s: r.priming_wall,
            run: Times {
                wall_s: r.run_wall,
                cpu_s: ranks.iter().map(|u| u.run_cpu_s).sum(),
            },
            rtf: r.run_wall / simtime,
            phases: PhaseStats::over(&per_worker),
            phases_per_worker: per_worker,
            synapses: r.synapses(),
            spikes: r.spike_count(),
            synaptic_events: events,
            exchanges: r.exchanges,
            ns_per_neuron_step: 1e9 * evolve_sum / neuron_steps.max(1.0),
            ns_per_synaptic_event: if static_events > 0 {
                1e9 * propagate_sum / static_events as f64
            } else {
                0.0
            },
            plastic_events: r.plastic_events(),
            peak_rss_bytes: ranks.iter().map(|u| u.peak_rss_bytes).max().unwrap_or(0),
            per_rank: ranks,
            rates,
            conditions: None,
            failure: r.failure.as_ref().map(|f| f.to_string()),
        }
    }

    /// Measured on a loaded machine (see [`crate::conditions`]).
    pub fn loaded(&self) -> bool {
        self.conditions.as_ref().is_some_and(|c| c.loaded)
    }

    /// The whole network's rate summary.
    pub fn overall(&self) -> &Summary {
        &self.rates[0].1
    }
}
