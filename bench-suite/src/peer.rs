//! `snn-bench peer`: one run of a peer simulator (NEST, Brian2) on *the same network* as
//! snn-limits' — its weight matrices and its initial membrane potentials — recorded in
//! snn-limits' own record schema, so that the report reads a peer's run as it reads
//! snn-limits' (README, "Peers").
//!
//! The steps: (1) snn-limits writes the inputs once per network, seed and dt: a one-step
//! run with `--save-initial-weights` (Matrix Market) and a state monitor of V on all
//! neurons, whose first row is V at step 0; (2) the peer's runner
//! (`scripts/peers/SIM_run.py`, in the virtual environment `.venv-peers/SIM` made by
//! `scripts/peers/setup.sh`) loads them, simulates, and writes its spikes (the layout of
//! `--spikes`) and a small meta file (its own loop timer, versions, solver); (3) this
//! reads both, times the whole process from outside, takes the conditions (load, other
//! processes' CPU) around it, computes the rates as for snn-limits' runs, and appends the
//! record (`config.simulator`). The meta file is the only thing a runner writes by hand;
//! the record goes through the typed schema ([`crate::record`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Deserialize;
use sim_core::stats::SpikeStats;
use sim_core::{PhaseStats, PhaseTimes};

use crate::child::{self, End};
use crate::conditions::{Conditions, Snapshot};
use crate::host::{self, Build, Host};
use crate::record::{Config, Outcome, RankUsage, Record, Simulator, Times, SCHEMA};
use crate::sweep::Key;

/// The peers snn-bench knows, with the networks each runner can build.
pub const PEERS: &[(&str, &[&str])] = &[
    ("nest", &["va", "brunel"]),
    ("brian2", &["va", "brunel", "zenke25k"]),
];

/// The plastic networks whose final weights a peer writes (every synapse's, as Matrix
/// Market text, for the report's Fig. 9E). zenke25k's 20 M E→E weights would take the
/// runner minutes to write and 1 GB of disk per run, so its plastic runs write none.
const FINAL_WEIGHTS: &[&str] = &["brunel"];

/// `snn-bench peer SIMULATOR NETWORK …`.
#[derive(Debug, Clone, clap::Args)]
pub struct PeerArgs {
    /// The peer: nest or brian2.
    pub simulator: String,
    /// The network (va, brunel; brian2 also zenke25k).
    pub network: String,
    /// Model time of the measured run, seconds.
    #[arg(long, allow_negative_numbers = true)]
    pub simtime: f64,
    /// The peer's threads (NEST's local_num_threads, Brian2's OpenMP threads).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: u32,
    /// The plastic variant.
    #[arg(long)]
    pub plastic: bool,
    /// Model time (s) run with plasticity off before the measured run (default: the
    /// network's, as for `snn-bench run`: zenke25k plastic 30 s); the spikes' steps
    /// count from its start, as snn-limits' do.
    #[arg(long)]
    pub priming: Option<f64>,
    /// snn-limits' seed of the network (connectivity, initial V); the peer's own
    /// random numbers (Poisson input) use it too.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Time step in ms.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub dt: f64,
    /// Delay of every connection in ms.
    #[arg(long, default_value_t = 0.8, allow_negative_numbers = true)]
    pub delay: f64,
    /// Repetition index (as for `snn-bench run`).
    #[arg(long, default_value_t = 0)]
    pub repetition: u32,
    /// The peer's spikes (.npy, the layout of `--spikes`); its meta file is beside it
    /// (`.json`), a plastic run's final weights in a directory beside it (`-weights`).
    #[arg(long)]
    pub spikes: PathBuf,
    /// Where snn-limits' inputs (weights, initial V) are kept, one directory per
    /// network, seed and dt; default: `inputs` beside the spike file.
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// The Python interpreter; default `.venv-peers/SIMULATOR/bin/python` (made by
    /// `scripts/peers/setup.sh`).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The runners' directory (default `scripts/peers`).
    #[arg(long, default_value = "scripts/peers")]
    pub runners: PathBuf,
    /// Records file the record is appended to.
    #[arg(long)]
    pub out: PathBuf,
    /// Seconds before the peer's process group is killed.
    #[arg(long, default_value_t = 3600.0)]
    pub timeout_s: f64,
    /// Replace the peer's earlier output files (spikes, meta, final weights).
    #[arg(long)]
    pub force: bool,
}

/// What a runner writes beside its spikes (scripts/peers/common.py, `write_meta`).
#[derive(Debug, Deserialize)]
struct Meta {
    simulator: MetaSimulator,
    setup_wall_s: f64,
    loop_wall_s: f64,
    process_cpu_s: f64,
    peak_rss_bytes: u64,
    synapses: usize,
    neurons: usize,
    #[serde(default)]
    compile_wall_s: Option<f64>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct MetaSimulator {
    name: String,
    version: String,
    solver: String,
    threads: usize,
}

impl PeerArgs {
    /// Checks the values before anything runs; errors name the flag and the value.
    fn check(&self) -> Result<(), String> {
        let Some((_, networks)) = PEERS.iter().find(|(p, _)| *p == self.simulator) else {
            return Err(format!(
                "unknown peer {:?}: expected one of {}",
                self.simulator,
                PEERS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
            ));
        };
        if !networks.contains(&self.network.as_str()) {
            return Err(format!(
                "{} has no runner for network {:?}: expected one of {}",
                self.simulator,
                self.network,
                networks.join(", ")
            ));
        }
        for (flag, v, lo, hi) in [
            ("--simtime", self.simtime, 1e-4, 1e5),
            ("--dt", self.dt, 1e-3, 10.0),
            ("--delay", self.delay, 1e-3, 1e3),
            ("--timeout-s", self.timeout_s, 1.0, 1e7),
            ("--priming", self.priming.unwrap_or(0.0), 0.0, 1e5),
        ] {
            if !(v.is_finite() && (lo..=hi).contains(&v)) {
                return Err(format!(
                    "{flag} {v:?}: expected a number in [{lo:?}, {hi:?}]"
                ));
            }
        }
        let ratio = self.delay / self.dt;
        if (ratio - ratio.round()).abs() > 1e-9 {
            return Err(format!(
                "--delay {} ms: expected a multiple of --dt {} ms",
                self.delay, self.dt
            ));
        }
        Ok(())
    }

    fn dt_s(&self) -> f64 {
        self.dt * 1e-3
    }

    fn steps(&self) -> u64 {
        (self.simtime / self.dt_s()).round() as u64
    }

    /// `NETWORK[-plastic]-seedS-dtDus`: one set of inputs per network, seed and dt:
    /// `weights/` (Matrix Market), `monitors/state-v-all.npy` (V at step 0) and
    /// `inputs.jsonl` (the record of the run that made them: the populations).
    fn inputs_dir(&self) -> PathBuf {
        let base = self.inputs.clone().unwrap_or_else(|| {
            self.spikes
                .parent()
                .unwrap_or(Path::new("."))
                .join("inputs")
        });
        base.join(format!(
            "{}{}-seed{}-dt{}us",
            self.network,
            if self.plastic { "-plastic" } else { "" },
            self.seed,
            (self.dt * 1e3).round() as u64
        ))
    }

    fn meta_path(&self) -> PathBuf {
        self.spikes.with_extension("json")
    }

    fn weights_dir(&self) -> PathBuf {
        let stem = self
            .spikes
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy();
        self.spikes.with_file_name(format!("{stem}-weights"))
    }

    /// The configuration key its record will have (for the job runner).
    pub fn key(&self) -> Key {
        let dt = self.dt_s();
        Key {
            network: self.network.clone(),
            plastic: self.plastic,
            traces: None,
            precision: "f64".into(),
            threads: self.threads as usize,
            ranks: 1,
            hosts: 1,
            delay_ns: (self.delay * 1e6).round() as i64,
            latency_ps: 0,
            partitioner: "-".into(),
            simtime_ns: (self.steps() as f64 * dt * 1e9).round() as i64,
            seed: self.seed,
            repetition: self.repetition,
            dt_ns: (dt * 1e9).round() as i64,
            timers: false,
            initial_v: INITIAL_V.into(),
            weights: WEIGHTS.into(),
            simulator: self.simulator.clone(),
        }
    }
}

/// The state monitor whose first row is V at step 0 (of the neurons that have a V:
/// zenke25k's Poisson inputs, ids 25000 on, have none), and its file in the inputs
/// directory.
fn v_monitor(network: &str) -> (&'static str, &'static str) {
    match network {
        "zenke25k" => ("state:v:0-24999:1s", "monitors/state-v-0-24999.npy"),
        _ => ("state:v:all:1s", "monitors/state-v-all.npy"),
    }
}

/// The records' description of a peer's initial state and weights.
const INITIAL_V: &str = "snn-limits' (state monitor at step 0)";
const WEIGHTS: &str = "snn-limits' (Matrix Market, generated from seed)";

/// Runs one peer and appends its record; see the module doc.
pub fn execute(exe: &Path, a: &PeerArgs) -> Result<Record, String> {
    a.check()?;
    let python = a.python.clone().unwrap_or_else(|| {
        PathBuf::from(".venv-peers")
            .join(&a.simulator)
            .join("bin/python")
    });
    let python = on_path(&python).unwrap_or(python);
    if !python.is_file() {
        return Err(format!(
            "{}: no Python environment for {}; make it with `bash scripts/peers/setup.sh` \
             (or `make peers`), or give --python",
            python.display(),
            a.simulator
        ));
    }
    let runner = a.runners.join(format!("{}_run.py", a.simulator));
    if !runner.is_file() {
        return Err(format!(
            "{}: the {} runner is missing",
            runner.display(),
            a.simulator
        ));
    }
    let outputs = [a.spikes.clone(), a.meta_path()];
    for f in &outputs {
        if f.exists() && !a.force {
            return Err(format!(
                "{} exists: not replaced without --force",
                f.display()
            ));
        }
    }
    let layout = inputs(exe, a)?;
    let weights_out =
        (a.plastic && FINAL_WEIGHTS.contains(&a.network.as_str())).then(|| a.weights_dir());
    if let Some(d) = &weights_out {
        if d.exists() && !a.force {
            return Err(format!(
                "{} exists: not replaced without --force",
                d.display()
            ));
        }
    }
    if a.force {
        for f in &outputs {
            let _ = std::fs::remove_file(f);
        }
    }
    if let Some(d) = &weights_out {
        if a.force {
            let _ = std::fs::remove_dir_all(d);
        }
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let dir = a.inputs_dir();
    let mut cmd: Vec<OsString> = vec![python.into(), runner.into()];
    let mut arg = |k: &str, v: String| cmd.extend([k.into(), v.into()]);
    arg("--network", a.network.clone());
    arg("--simtime", a.simtime.to_string());
    arg("--dt", a.dt_s().to_string());
    arg("--delay", (a.delay * 1e-3).to_string());
    arg("--threads", a.threads.to_string());
    arg("--seed", a.seed.to_string());
    let priming = match a.priming {
        Some(p) => p,
        None if a.plastic => crate::networks::default_priming_s(&a.network),
        None => 0.0,
    };
    arg("--priming", priming.to_string());
    arg("--weights", dir.join("weights").display().to_string());
    arg(
        "--initial-v",
        dir.join(v_monitor(&a.network).1).display().to_string(),
    );
    arg("--spikes", a.spikes.display().to_string());
    arg("--meta", a.meta_path().display().to_string());
    if let Some(d) = &weights_out {
        arg("--save-weights", d.display().to_string());
    }
    if a.plastic {
        cmd.push("--plastic".into());
    }
    let before = Snapshot::now();
    let t0 = Instant::now();
    let report = child::run(&cmd, false, a.timeout_s)?;
    let process_wall_s = t0.elapsed().as_secs_f64();
    let after = Snapshot::now();
    match report.end {
        End::Exited(s) if s.success() => {}
        End::Exited(s) => {
            return Err(format!(
                "the {} runner failed ({s})\n  command: {}\n{}",
                a.simulator,
                crate::sweep::shell_words(&cmd),
                report.tails()
            ))
        }
        End::TimedOut => {
            return Err(format!(
                "the {} runner did not finish within --timeout-s {} s; its process group \
                 was killed",
                a.simulator, a.timeout_s
            ))
        }
    }
    let meta = read_meta(&a.meta_path())?;
    if meta.simulator.name != a.simulator || meta.simulator.threads != a.threads as usize {
        return Err(format!(
            "{}: the runner says it ran {} on {} thread(s), asked for {} on {}",
            a.meta_path().display(),
            meta.simulator.name,
            meta.simulator.threads,
            a.simulator,
            a.threads
        ));
    }
    if meta.neurons != layout.neurons() {
        return Err(format!(
            "{}: the runner built {} neurons, snn-limits' {} has {}",
            a.meta_path().display(),
            meta.neurons,
            a.network,
            layout.neurons()
        ));
    }
    let first = (priming / a.dt_s()).round() as u64;
    let stats = spike_stats(&a.spikes, layout.neurons(), first, a.steps())?;
    let conditions = match (before, after) {
        (Some(b), Some(e)) => Some(Conditions::between(&b, &e, meta.process_cpu_s, None)),
        _ => None,
    };
    let record = record_of(
        a,
        &layout,
        &meta,
        &stats,
        priming,
        process_wall_s,
        conditions,
    );
    let value = serde_json::to_value(&record).map_err(|e| e.to_string())?;
    crate::jsonl::append(&a.out, &value).map_err(|e| e.to_string())?;
    Ok(record)
}

/// A bare program name (`python3`) as a shell finds it on PATH; None for a path.
fn on_path(p: &Path) -> Option<PathBuf> {
    if p.components().count() != 1 || p.is_file() {
        return None;
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(p))
        .find(|c| c.is_file())
}

/// The populations of the network, in id order (from snn-limits' inputs run's record).
struct Layout {
    populations: Vec<(String, usize)>,
}

impl Layout {
    fn neurons(&self) -> usize {
        self.populations.iter().map(|p| p.1).sum()
    }
}

/// Makes (once) and checks snn-limits' inputs for this network, seed and dt.
fn inputs(exe: &Path, a: &PeerArgs) -> Result<Layout, String> {
    let dir = a.inputs_dir();
    let record = dir.join("inputs.jsonl");
    if !record.is_file() || !dir.join(v_monitor(&a.network).1).is_file() {
        // The inputs appear only whole (the scratch directory is renamed into place), so
        // a directory of this name without them is not ours: never removed.
        if dir.exists() {
            return Err(format!(
                "{} exists but lacks inputs.jsonl or {}: not snn-limits' inputs; move it \
                 away or give --inputs another directory",
                dir.display(),
                v_monitor(&a.network).1
            ));
        }
        let mut name = dir.file_name().unwrap_or_default().to_os_string();
        name.push(".partial");
        let scratch = dir.with_file_name(name);
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch)
            .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
        let mut cmd: Vec<OsString> = vec![exe.into(), "run".into(), a.network.clone().into()];
        let words = [
            "--simtime".to_string(),
            a.dt_s().to_string(),
            "--dt".into(),
            a.dt.to_string(),
            "--delay".into(),
            a.delay.to_string(),
            "--seed".into(),
            a.seed.to_string(),
            "--precision".into(),
            "f64".into(),
            "--save-initial-weights".into(),
            scratch.join("weights").display().to_string(),
            "--monitor".into(),
            // One sample: V at the run's first step (every 1 s > the run's one step).
            v_monitor(&a.network).0.into(),
            "--monitor-dir".into(),
            scratch.join("monitors").display().to_string(),
            "--out".into(),
            scratch.join("inputs.jsonl").display().to_string(),
            "--quiet".into(),
        ];
        cmd.extend(words.iter().map(OsString::from));
        if a.plastic {
            cmd.push("--plastic".into());
            // The peer's run is the measured run: no priming in the inputs.
            cmd.extend(["--priming".into(), "0".into()]);
        }
        let report = child::run(&cmd, false, 1800.0)?;
        if !matches!(report.end, End::Exited(s) if s.success()) {
            return Err(format!(
                "making snn-limits' inputs in {} failed\n  command: {}\n{}",
                scratch.display(),
                crate::sweep::shell_words(&cmd),
                report.tails()
            ));
        }
        std::fs::rename(&scratch, &dir).map_err(|e| {
            format!(
                "cannot move {} to {}: {e}",
                scratch.display(),
                dir.display()
            )
        })?;
    }
    let read = crate::jsonl::read(&record).map_err(|e| e.to_string())?;
    let Some((_, value)) = read.records.last() else {
        return Err(format!("{}: no record in it", record.display()));
    };
    let r: Record = serde_json::from_value(value.clone())
        .map_err(|e| format!("{}: not a results record ({e})", record.display()))?;
    Ok(Layout {
        populations: r
            .result
            .rates
            .iter()
            .skip(1)
            .map(|(name, s)| (name.clone(), s.neurons))
            .collect(),
    })
}

/// Largest meta file read: a runner writes a few hundred bytes.
const MAX_META_BYTES: u64 = 1 << 20;

fn read_meta(path: &Path) -> Result<Meta, String> {
    let (mut file, _) = sim_core::input::open(path, MAX_META_BYTES, "a peer's meta file")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let meta: Meta = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a peer's meta file ({e})", path.display()))?;
    for (field, v) in [
        ("setup_wall_s", meta.setup_wall_s),
        ("loop_wall_s", meta.loop_wall_s),
        ("process_cpu_s", meta.process_cpu_s),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!(
                "{}: {field} = {v}: expected a non-negative number of seconds",
                path.display()
            ));
        }
    }
    Ok(meta)
}

/// Per-neuron spike counts and ISIs of a peer's spike file; every id must be a neuron of
/// the network and every step one of the measured run's (`first` to `first + steps`).
fn spike_stats(path: &Path, neurons: usize, first: u64, steps: u64) -> Result<SpikeStats, String> {
    let spikes = crate::spikes::read_npy(path)?;
    let mut stats = SpikeStats::new(neurons);
    let mut last = first;
    let end = first + steps;
    for (row, s) in spikes.iter().enumerate() {
        if s.gid as usize >= neurons || s.step >= end || s.step < last {
            return Err(format!(
                "{}: row {row}: spike (step {}, id {}): expected ids below {neurons}, steps \
                 from {first} to below {end}, in step order",
                path.display(),
                s.step,
                s.gid
            ));
        }
        last = s.step;
        stats.record(s.gid as usize, s.step);
    }
    Ok(stats)
}

fn record_of(
    a: &PeerArgs,
    layout: &Layout,
    meta: &Meta,
    stats: &SpikeStats,
    priming_s: f64,
    process_wall_s: f64,
    conditions: Option<Conditions>,
) -> Record {
    let host = Host::detect();
    let simtime = a.steps() as f64 * a.dt_s();
    let neurons = layout.neurons();
    let mut rates = vec![("all".to_string(), stats.summary(0..neurons, simtime))];
    let mut off = 0;
    for (name, n) in &layout.populations {
        rates.push((name.clone(), stats.summary(off..off + n, simtime)));
        off += n;
    }
    let spikes = rates[0].1.spikes;
    // What the record holds elsewhere is not repeated in the details.
    let mut details = meta.rest.clone();
    for k in [
        "network",
        "plastic",
        "simtime_s",
        "priming_s",
        "dt_s",
        "delay_s",
        "seed",
        "weights",
        "initial_v",
        "spikes",
        "process_wall_s",
        "neurons",
    ] {
        details.remove(k);
    }
    Record {
        schema: SCHEMA,
        date: host::now_rfc3339(),
        config: Config {
            network: a.network.clone(),
            neurons,
            seed: a.seed,
            dt_s: a.dt_s(),
            delay_s: a.delay * 1e-3,
            min_delay_steps: (a.delay / a.dt).round() as usize,
            precision: "f64".into(),
            simtime_s: simtime,
            steps: a.steps(),
            partitions: a.threads as usize,
            threads: a.threads as usize,
            ranks: 1,
            hosts: 1,
            communicator: "peer".into(),
            partitioner: "-".into(),
            partition_costs: Vec::new(),
            injected_latency_us: 0.0,
            repetition: a.repetition,
            timers: false,
            initial_v: INITIAL_V.into(),
            weights: WEIGHTS.into(),
            exchange_trace: None,
            spikes: Some(a.spikes.display().to_string()),
            plastic: a.plastic,
            traces: None,
            generator: None,
            parameters: BTreeMap::from([("priming_s".to_string(), priming_s)]),
            network_file: None,
            resumed_from: None,
            checkpoint: None,
            segment: None,
            monitors: Vec::new(),
            simulator: Some(Simulator {
                name: meta.simulator.name.clone(),
                version: meta.simulator.version.clone(),
                solver: meta.simulator.solver.clone(),
                threads: meta.simulator.threads,
                loop_wall_s: meta.loop_wall_s,
                process_wall_s,
                process_cpu_s: meta.process_cpu_s,
                compile_wall_s: meta.compile_wall_s,
                inputs: a.inputs_dir().display().to_string(),
                details,
            }),
        },
        build: Build::current(),
        result: Outcome {
            setup: Times {
                wall_s: meta.setup_wall_s,
                cpu_s: 0.0,
            },
            priming_wall_s: 0.0,
            // The loop alone by the simulator's timer; its CPU time is not measured
            // apart from the whole process's (config.simulator.process_cpu_s).
            run: Times {
                wall_s: meta.loop_wall_s,
                cpu_s: meta.process_cpu_s,
            },
            rtf: meta.loop_wall_s / simtime,
            phases: PhaseStats::over(&[PhaseTimes::default()]),
            phases_per_worker: Vec::new(),
            synapses: meta.synapses,
            spikes,
            synaptic_events: 0,
            exchanges: 0,
            ns_per_neuron_step: 0.0,
            ns_per_synaptic_event: 0.0,
            plastic_events: 0,
            peak_rss_bytes: meta.peak_rss_bytes,
            per_rank: vec![RankUsage {
                rank: 0,
                host: host.hostname.clone(),
                setup_cpu_s: 0.0,
                run_cpu_s: meta.process_cpu_s,
                peak_rss_bytes: meta.peak_rss_bytes,
            }],
            rates,
            conditions,
            failure: None,
        },
        host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> PeerArgs {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            a: PeerArgs,
        }
        let mut argv = vec!["peer", "nest", "va", "--spikes", "/x/s.npy"];
        argv.extend(["--out", "/x/r.jsonl"]);
        if !extra.contains(&"--simtime") {
            argv.extend(["--simtime", "1"]);
        }
        argv.extend(extra);
        <P as clap::Parser>::parse_from(argv).a
    }

    #[test]
    fn bad_values_are_named() {
        let bad = |extra: &[&str], want: &str| {
            let e = args(extra).check().unwrap_err();
            assert!(e.contains(want), "{e}");
        };
        bad(&["--simtime", "1e300"], "--simtime");
        bad(&["--dt", "0"], "--dt");
        bad(&["--delay", "0.85"], "multiple of --dt");
        let mut a = args(&[]);
        a.simulator = "neuron".into();
        assert!(a.check().unwrap_err().contains("unknown peer \"neuron\""));
        a.simulator = "nest".into();
        a.network = "zenke25k".into();
        assert!(a.check().unwrap_err().contains("nest has no runner"));
    }

    /// The job runner finds a peer's record by this key: it must be the key of the
    /// record the run writes, or every resume would run it again.
    #[test]
    fn the_key_is_the_records_key() {
        let a = args(&["--threads", "2", "--repetition", "3", "--plastic"]);
        let layout = Layout {
            populations: vec![("E".into(), 3), ("I".into(), 1)],
        };
        let meta: Meta = serde_json::from_str(
            r#"{"simulator": {"name": "nest", "version": "3.10.0", "solver": "x", "threads": 2},
                "setup_wall_s": 1, "loop_wall_s": 2, "process_cpu_s": 3,
                "peak_rss_bytes": 4, "synapses": 5, "neurons": 4, "extra": "kept",
                "network": "va"}"#,
        )
        .unwrap();
        let mut stats = SpikeStats::new(4);
        stats.record(0, 5);
        stats.record(3, 9);
        let r = record_of(&a, &layout, &meta, &stats, 0.0, 7.0, None);
        assert_eq!(Key::of_record(&r.config), a.key());
        assert_eq!(r.result.spikes, 2);
        assert_eq!(r.result.rates[2].1.neurons, 1);
        assert_eq!(r.result.rates[2].1.spikes, 1);
        let s = r.config.simulator.as_ref().unwrap();
        assert_eq!(s.details["extra"], "kept");
        assert!(
            !s.details.contains_key("network"),
            "repeated in the details"
        );
        assert_eq!(s.process_wall_s, 7.0);
        // Round trip through the schema.
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.config.simulator, r.config.simulator);
    }
}
