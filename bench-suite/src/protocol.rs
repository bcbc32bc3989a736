//! `snn-bench protocol FILE.toml`: a sequence of segments run on one network, built
//! once: e.g. prime with learning off, learn, probe with other input rates. Each
//! segment appends one results record (the schema of `snn-bench run`'s, with
//! `config.segment` saying which segment it is and what changed at its start).
//!
//! ```toml
//! [run]                    # the flags of `snn-bench run` (`_` or `-` in names)
//! network = "zenke25k"
//! plastic = true
//! out = "protocol.jsonl"   # or --out on the command line
//!
//! [[segment]]
//! name = "prime"
//! duration = 30.0          # seconds of model time
//! learning = false         # plasticity off/on from this segment on
//! [[segment]]
//! name = "learn"
//! duration = 100.0
//! learning = true
//! learning_rate = 2.0      # factor on every plastic connection's amplitudes
//! [[segment]]
//! name = "probe"
//! duration = 10.0
//! input_rate = { P = 5.0 } # Hz, per Poisson population
//! save_weights = "w-after-probe"
//! checkpoint = "ck-probe"
//! spikes = "probe-spikes.npy"
//! ```
//!
//! Changes apply before the segment's first step and persist. There is no implicit
//! priming: a segment with `learning = false` primes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde::Deserialize;
use sim_core::model::NeuronModel;
use sim_core::state::Values;
use sim_core::timers::{Clock, Off, On};
use sim_core::{Context, Precision, Real, RunOptions, Simulation};

use crate::conditions::Conditions;
use crate::host::{Host, Usage};
use crate::record::{Marks, RankUsage, Record, Segment};
use crate::run::{Progress, RunArgs};
use crate::{jsonl, limits, networks, outputs, spikes, weights};

/// Most segments in one protocol.
pub const MAX_SEGMENTS: usize = 10_000;
/// Largest protocol file read, bytes.
const MAX_FILE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, clap::Args)]
pub struct ProtocolArgs {
    /// The protocol (TOML): a [run] table with the flags of `snn-bench run`, and
    /// [[segment]] tables (name, duration; optional learning, learning_rate,
    /// input_rate, save_weights, checkpoint, spikes).
    pub file: PathBuf,
    /// Append the records here (default: [run] out).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Let the segments' spikes, weights and checkpoints replace existing ones.
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no summary lines.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    run: toml::Table,
    #[serde(default)]
    segment: Vec<SegmentSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentSpec {
    name: String,
    duration: f64,
    learning: Option<bool>,
    learning_rate: Option<f64>,
    input_rate: Option<BTreeMap<String, f64>>,
    save_weights: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    spikes: Option<PathBuf>,
}

impl SegmentSpec {
    /// The changes applied at the segment's start, as written.
    fn changes(&self) -> BTreeMap<String, serde_json::Value> {
        let mut c = BTreeMap::new();
        if let Some(on) = self.learning {
            c.insert("learning".into(), on.into());
        }
        if let Some(r) = self.learning_rate {
            c.insert("learning_rate".into(), r.into());
        }
        if let Some(rates) = &self.input_rate {
            c.insert(
                "input_rate".into(),
                serde_json::to_value(rates).expect("rates serialise"),
            );
        }
        c
    }
}

/// `snn-bench run`'s arguments, parsed from an argv made of the [run] table.
#[derive(clap::Parser)]
#[command(name = "protocol-run")]
struct RunCli {
    #[command(flatten)]
    run: RunArgs,
}

/// [run] keys a protocol gives per segment or not at all.
const REFUSED: [(&str, &str); 9] = [
    ("simtime", "the segments' durations give the model time"),
    (
        "priming",
        "a protocol primes only where a segment says so: write a segment with learning = false",
    ),
    ("spikes", "give spikes = \"FILE.npy\" in the segments"),
    (
        "save_weights",
        "give save_weights = \"DIR\" in the segments",
    ),
    ("checkpoint", "give checkpoint = \"DIR\" in the segments"),
    (
        "checkpoint_every",
        "give checkpoint = \"DIR\" in the segments",
    ),
    ("save_initial_weights", "not available in a protocol"),
    ("exchange_trace", "not available in a protocol"),
    ("expect_ranks", "a protocol runs in one process"),
];

fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// The argv of `[run] key = value` (without the program name and network).
fn flag_argv(file: &Path, key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    let err = |why: &str| format!("{}: [run] {key} = {}: {why}", file.display(), show(value));
    if let Some((_, why)) = REFUSED
        .iter()
        .find(|(k, _)| k.replace('_', "-") == key.replace('_', "-"))
    {
        return Err(err(&format!("not a [run] key of a protocol: {why}")));
    }
    let long = key.replace('_', "-");
    let cmd = RunCli::command();
    let Some(arg) = cmd
        .get_arguments()
        .find(|a| a.get_long() == Some(long.as_str()) && a.get_id() != "resume_from")
    else {
        let mut known: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long())
            .filter(|l| !matches!(*l, "help"))
            .map(|l| l.replace('-', "_"))
            .filter(|k| !REFUSED.iter().any(|(r, _)| r == k))
            .collect();
        known.insert(0, "network".into());
        return Err(format!(
            "{}: [run] {key}: unknown key (expected one of: {})",
            file.display(),
            known.join(", ")
        ));
    };
    let flag = format!("--{long}");
    Ok(match value {
        toml::Value::Boolean(b) if !arg.get_action().takes_values() => match b {
            true => vec![flag],
            false => vec![],
        },
        toml::Value::Boolean(_) => return Err(err("expected a value, not true or false")),
        toml::Value::String(s) => vec![flag, s.clone()],
        toml::Value::Integer(i) if arg.get_action().takes_values() => vec![flag, i.to_string()],
        toml::Value::Float(x) if arg.get_action().takes_values() => vec![flag, x.to_string()],
        _ if !arg.get_action().takes_values() => return Err(err("expected true or false")),
        _ => return Err(err("expected a string or a number")),
    })
}

/// The run arguments of the [run] table, every flag checked as `snn-bench run` checks it.
fn run_args(file: &Path, table: &toml::Table) -> Result<RunArgs, String> {
    let network = match table.get("network") {
        Some(toml::Value::String(s)) => s.clone(),
        Some(v) => {
            return Err(format!(
                "{}: [run] network = {}: expected a network's name (a string)",
                file.display(),
                show(v)
            ))
        }
        None => {
            return Err(format!(
                "{}: [run] network: missing (e.g. network = \"brunel\")",
                file.display()
            ))
        }
    };
    let mut flags = Vec::new();
    for (key, value) in table.iter().filter(|(k, _)| *k != "network") {
        flags.push((key, value, flag_argv(file, key, value)?));
    }
    let parse = |extra: &mut dyn Iterator<Item = &String>| {
        let argv = ["protocol-run".to_string(), network.clone()]
            .into_iter()
            .chain(extra.cloned());
        <RunCli as clap::Parser>::try_parse_from(argv)
    };
    match parse(&mut flags.iter().flat_map(|(_, _, a)| a)) {
        Ok(cli) => Ok(cli.run),
        Err(e) => {
            let first = |e: clap::Error| {
                e.to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string()
            };
            // Name the key: the first that fails on its own (else the combination).
            for (key, value, argv) in &flags {
                if let Err(e) = parse(&mut argv.iter()) {
                    return Err(format!(
                        "{}: [run] {key} = {}: {}",
                        file.display(),
                        show(value),
                        first(e)
                    ));
                }
            }
            Err(format!("{}: [run]: {}", file.display(), first(e)))
        }
    }
}

/// A protocol read and checked, before the network is built.
struct Protocol {
    file: PathBuf,
    args: RunArgs,
    segments: Vec<SegmentSpec>,
}

impl Protocol {
    fn at(&self, i: usize) -> String {
        format!(
            "{}: segment {i} ('{}')",
            self.file.display(),
            self.segments[i].name
        )
    }
}

fn read(a: &ProtocolArgs) -> Result<Protocol, String> {
    let file = a.file.clone();
    let (mut f, _) = sim_core::input::open(&file, MAX_FILE_BYTES, "a protocol (TOML) file")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut f, &mut text)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let spec: Spec = toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut args = run_args(&file, &spec.run)?;
    let segments = spec.segment;
    if segments.is_empty() {
        return Err(format!(
            "{}: no [[segment]]: expected at least one (name, duration)",
            file.display()
        ));
    }
    if segments.len() > MAX_SEGMENTS {
        return Err(format!(
            "{}: {} segments: expected at most {MAX_SEGMENTS}",
            file.display(),
            segments.len()
        ));
    }
    let mut names = BTreeSet::new();
    for (i, s) in segments.iter().enumerate() {
        let at = format!("{}: segment {i} ('{}')", file.display(), s.name);
        if s.name.trim().is_empty() {
            return Err(format!("{at}: name = {:?}: expected a name", s.name));
        }
        if !names.insert(s.name.as_str()) {
            return Err(format!(
                "{at}: name = {:?}: a duplicate name: give each segment its own",
                s.name
            ));
        }
        if !s.duration.is_finite() || s.duration <= 0.0 {
            return Err(format!(
                "{at}: duration = {}: expected a positive number of seconds",
                s.duration
            ));
        }
        limits::SIMTIME
            .check(s.duration)
            .map_err(|e| format!("{at}: duration: {e}"))?;
        if let Some(r) = s.learning_rate {
            if !r.is_finite() || r <= 0.0 {
                return Err(format!(
                    "{at}: learning_rate = {r}: expected a positive factor (1 = as built)"
                ));
            }
        }
        for (pop, &hz) in s.input_rate.iter().flatten() {
            if !hz.is_finite() || hz < 0.0 {
                return Err(format!(
                    "{at}: input_rate.{pop} = {hz}: expected a non-negative rate in Hz"
                ));
            }
        }
    }
    if !args.comm_latency_us.is_finite() || args.comm_latency_us < 0.0 {
        return Err(format!(
            "{}: [run] comm_latency_us = {}: expected a non-negative number of microseconds",
            file.display(),
            args.comm_latency_us
        ));
    }
    limits::COMM_LATENCY
        .check(args.comm_latency_us)
        .map_err(|e| format!("{}: [run] {e}", file.display()))?;
    // No implicit priming (only plastic runs take the flag).
    if args.plastic {
        args.priming = Some(0.0);
    }
    args.simtime = segments.iter().map(|s| s.duration).sum();
    args.out = a.out.clone().or(args.out);
    args.force |= a.force;
    args.quiet |= a.quiet;
    if args.out.is_none() {
        return Err(format!(
            "{}: [run] out: missing: give the records file there or with --out",
            file.display()
        ));
    }
    Ok(Protocol {
        file,
        args,
        segments,
    })
}

/// Runs the protocol in `a.file`; returns its records (also appended to the out file).
pub fn execute(a: &ProtocolArgs) -> Result<Vec<Record>, String> {
    let p = read(a)?;
    let start = Usage::now();
    let built =
        crate::run::network(&p.args).map_err(|e| format!("{}: [run]: {e}", p.file.display()))?;
    let net = &built.net;
    let plastic: Vec<&str> = net
        .connections
        .iter()
        .filter(|c| c.plasticity.is_some())
        .map(|c| c.name.as_str())
        .collect();
    let poisson: Vec<&str> = net
        .populations
        .iter()
        .filter(|q| matches!(q.model, NeuronModel::Poisson(_)))
        .map(|q| q.name.as_str())
        .collect();
    let mut steps = Vec::new();
    for (i, s) in p.segments.iter().enumerate() {
        let at = p.at(i);
        if plastic.is_empty() && (s.learning.is_some() || s.learning_rate.is_some()) {
            return Err(format!(
                "{at}: learning settings on network '{}' without plastic connections \
                 (set plastic = true in [run], on brunel or zenke25k)",
                net.name
            ));
        }
        for pop in s.input_rate.iter().flat_map(|m| m.keys()) {
            if !poisson.contains(&pop.as_str()) {
                return Err(format!(
                    "{at}: input_rate.{pop}: not a Poisson population of '{}' (expected {})",
                    net.name,
                    match poisson.is_empty() {
                        true => "none: this network has no Poisson population".to_string(),
                        false => format!("one of: {}", poisson.join(", ")),
                    }
                ));
            }
        }
        let n = limits::steps(&format!("{at}: duration"), s.duration, net.dt)?;
        if n == 0 {
            return Err(format!(
                "{at}: duration = {}: expected at least one time step (dt = {} ms)",
                s.duration, p.args.dt
            ));
        }
        steps.push(n);
    }
    let total = steps.iter().try_fold(0u64, |t, &n| t.checked_add(n));
    if total.is_none_or(|t| t > limits::MAX_STEPS) {
        return Err(format!(
            "{}: the segments' durations make more than {} steps in all",
            p.file.display(),
            limits::MAX_STEPS
        ));
    }
    let args = &p.args;
    limits::check_plan(
        net,
        args.precision,
        args.threads as usize,
        args.partitions
            .map_or(0, |q| q as usize)
            .max(args.threads as usize),
        total.unwrap_or(0),
        0,
        false,
    )
    .map_err(|e| format!("{}: [run]: {e}", p.file.display()))?;
    check_outputs(&p, net)?;
    match (args.precision, args.timers == "on") {
        (Precision::F32, true) => run_in::<f32, On>(&p, &built, &steps, start, On::default()),
        (Precision::F32, false) => run_in::<f32, Off>(&p, &built, &steps, start, Off),
        (Precision::F64, true) => run_in::<f64, On>(&p, &built, &steps, start, On::default()),
        (Precision::F64, false) => run_in::<f64, Off>(&p, &built, &steps, start, Off),
    }
}

/// Every output of every segment, before the run: a bad one must not cost the run.
fn check_outputs(p: &Protocol, net: &sim_core::Network) -> Result<(), String> {
    let args = &p.args;
    let mut files = Vec::new();
    for (i, s) in p.segments.iter().enumerate() {
        if let Some(path) = &s.spikes {
            files.push(outputs::Output {
                flag: format!("segment {i} ('{}') spikes", s.name),
                path: path.clone(),
                kind: outputs::Kind::Npy,
            });
        }
    }
    outputs::check(&outputs::Request {
        records: args.out.clone(),
        files,
        weights: None,
        force: args.force,
    })
    .map_err(|e| format!("{}: {e}", p.file.display()))?;
    // Directories: each its own, none a file named above.
    let mut named: Vec<(String, PathBuf)> = Vec::new();
    let resolve = |what: &str, path: &Path| {
        outputs::resolve(path).map_err(|e| format!("{what} {}: {e}", path.display()))
    };
    if let Some(out) = &args.out {
        named.push(("out".into(), resolve("out", out)?));
    }
    for (i, s) in p.segments.iter().enumerate() {
        let at = p.at(i);
        if let Some(path) = &s.spikes {
            named.push((format!("{at} spikes"), resolve(&at, path)?));
        }
        if let Some(dir) = &s.save_weights {
            outputs::check(&outputs::Request {
                weights: Some((dir.clone(), weights::file_names(net))),
                force: args.force,
                ..Default::default()
            })
            .map_err(|e| format!("{at}: save_weights: {e}"))?;
            named.push((format!("{at} save_weights"), resolve(&at, dir)?));
        }
        if let Some(dir) = &s.checkpoint {
            crate::run::check_checkpoint_dir(dir, args)
                .map_err(|e| format!("{at}: checkpoint: {e}"))?;
            named.push((format!("{at} checkpoint"), resolve(&at, dir)?));
        }
    }
    for (i, (a, ra)) in named.iter().enumerate() {
        for (b, rb) in &named[i + 1..] {
            if ra == rb || rb.starts_with(ra) || ra.starts_with(rb) {
                return Err(format!(
                    "{a} and {b} name the same path or one inside the other ({}, {}): give \
                     each output its own",
                    ra.display(),
                    rb.display()
                ));
            }
        }
    }
    Ok(())
}

fn run_in<R: Real, K: Clock>(
    p: &Protocol,
    built: &networks::Built,
    steps: &[u64],
    start: Usage,
    clock: K,
) -> Result<Vec<Record>, String> {
    let args = &p.args;
    let net = &built.net;
    let record_spikes = p.segments.iter().any(|s| s.spikes.is_some());
    let ctx = Context {
        threads: args.threads as usize,
        partitions: args.partitions.unwrap_or(0) as usize,
        injected_latency: std::time::Duration::from_secs_f64(args.comm_latency_us * 1e-6),
        comm: std::sync::Arc::new(sim_core::Local),
    };
    let mut sim =
        Simulation::<R, K>::new(net, &ctx, clock, record_spikes).map_err(|e| e.to_string())?;
    let opts = RunOptions {
        progress_every: (0.1 / net.dt).round().max(1.0) as u64,
        trace_exchanges: false,
    };
    let host = Host::detect();
    let mut records = Vec::new();
    for (i, (s, &n)) in p.segments.iter().zip(steps).enumerate() {
        let at = p.at(i);
        let first_step = sim.step();
        if let Some(on) = s.learning {
            sim.set_learning(on);
        }
        if let Some(rate) = s.learning_rate {
            for c in net.connections.iter().filter(|c| c.plasticity.is_some()) {
                sim.set_array(
                    &format!("conn/{}/learning_rate", c.name),
                    Values::F64(vec![rate]),
                )
                .map_err(|e| format!("{at}: learning_rate: {e}"))?;
            }
        }
        for (pop, &hz) in s.input_rate.iter().flatten() {
            sim.set_array(&format!("pop/{pop}/rate"), Values::F64(vec![hz]))
                .map_err(|e| format!("{at}: input_rate.{pop}: {e}"))?;
        }
        let progress = Progress::new(net, first_step + n, args.quiet);
        let mut r = sim.run(n, &opts, &progress);
        progress.bar.finish_and_clear();
        r.setup_wall = if i == 0 { sim.setup_wall() } else { 0.0 };
        r.priming_wall = 0.0;
        let run_start = progress
            .run_start
            .lock()
            .unwrap()
            .unwrap_or_else(Usage::now);
        let marks = Marks {
            // Building the network is the first segment's setup; the others have none.
            start: if i == 0 { start } else { run_start },
            run_start,
            run_end: progress.run_end.lock().unwrap().unwrap_or_else(Usage::now),
        };
        let usage = RankUsage::new(0, host.hostname.clone(), &marks);
        let conditions = match *progress.snapshots.lock().unwrap() {
            (Some(before), Some(after)) => Some(Conditions::between(
                &before,
                &after,
                usage.run_cpu_s,
                r.threads_active_mean,
            )),
            _ => None,
        };
        let failed = r
            .failure
            .as_ref()
            .map(|f| format!("{at}: the run stopped: {f}"));
        if failed.is_none() {
            if let (Some(path), Some(sp)) = (&s.spikes, &r.spikes) {
                spikes::write_npy(path, sp, args.force).map_err(|e| format!("{at}: {e}"))?;
            }
            if let Some(dir) = &s.save_weights {
                weights::save_entries(net, dir, args.force, |c| sim.synapses(c))
                    .map_err(|e| format!("{at}: save_weights: {e}"))?;
            }
            if let Some(dir) = &s.checkpoint {
                let mut saved = args.clone();
                for path in [&mut saved.load_weights, &mut saved.out]
                    .into_iter()
                    .flatten()
                {
                    if let Ok(abs) = std::path::absolute(&*path) {
                        *path = abs;
                    }
                }
                let extra = serde_json::json!({
                    "run": saved,
                    "protocol": {
                        "file": p.file.display().to_string(),
                        "segment": s.name,
                        "index": i,
                    },
                });
                sim.save(dir, extra)
                    .map_err(|e| format!("{at}: checkpoint: {e}"))?;
            }
        }
        let seg_args = RunArgs {
            spikes: s.spikes.clone(),
            checkpoint: s.checkpoint.clone(),
            save_weights: s.save_weights.clone(),
            ..args.clone()
        };
        let mut record = crate::run::make_record(
            &seg_args,
            built,
            R::PRECISION,
            n,
            &r,
            1,
            vec![usage],
            conditions,
            &host,
        );
        record.config.segment = Some(Segment {
            name: s.name.clone(),
            index: i,
            first_step,
            changes: s.changes(),
        });
        let value = serde_json::to_value(&record).map_err(|e| e.to_string())?;
        let out = args.out.as_ref().expect("checked in read");
        jsonl::append(out, &value).map_err(|e| e.to_string())?;
        if let Some(why) = failed {
            return Err(why);
        }
        if !args.quiet {
            let o = &record.result;
            println!(
                "segment {i} '{}': steps {first_step}..{}, {:.3} s model time in {:.3} s \
                 (RTF {:.3}), rate {:.2} Hz, {} spikes{}",
                s.name,
                first_step + n,
                record.config.simtime_s,
                o.run.wall_s,
                o.rtf,
                o.overall().mean_rate_hz,
                o.spikes,
                match record.config.segment.as_ref().map(|g| &g.changes) {
                    Some(c) if !c.is_empty() => format!(
                        "; changed: {}",
                        serde_json::to_string(c).unwrap_or_default()
                    ),
                    _ => String::new(),
                }
            );
        }
        records.push(record);
    }
    Ok(records)
}
