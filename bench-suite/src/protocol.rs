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
//! save_state = { "pop/E/v" = "v-after-probe.npy" }
//! checkpoint = "ck-probe"
//! spikes = "probe-spikes.npy"
//! [[segment]]
//! name = "replay"
//! duration = 10.0
//! load_weights = "w-after-probe"           # a weight set, as --load-weights reads it
//! set = { "pop/E/v" = "v-after-probe.npy" } # any state array, from a 1-D .npy
//! ```
//!
//! Changes apply before the segment's first step and persist; the segment's record
//! lists them (`config.segment.changes`, paths as written). There is no implicit
//! priming: a segment with `learning = false` primes.
//!
//! - `set = { "ARRAY" = "FILE.npy", … }` replaces a state array (the names of a
//!   checkpoint: `pop/E/v`, `pop/E/g_exc`, `conn/EE/weight` in (post, pre) order,
//!   `conn/EE/post_trace`, `pop/P/rate`, …; an unknown name is refused with the list)
//!   from a 1-D `.npy` of its length. A floating-point array takes `float32` or
//!   `float64` (converted to its own type; NaN, infinities and values beyond the
//!   range of `float32` for an f32 array are refused), an integer array only its own
//!   type. A checkpoint's `pop.E.v.npy` reads.
//! - `save_state = { "ARRAY" = "FILE.npy", … }` writes arrays at the segment's end,
//!   1-D in their own type (`<f4`/`<f8` as the run's precision, `<u4`, `<u8`), so a
//!   later `set` takes them back bit for bit.
//! - `load_weights = "DIR"` reads a weight set (`ee.mtx`, …, every pathway) as
//!   `snn-bench run --load-weights` does, and sets the weights of every pathway,
//!   static or plastic (a static pathway then keeps one weight per synapse, saved in
//!   checkpoints). Each file must list exactly the built synapses (the connectivity
//!   stays; a set of another seed or network is refused naming the file and the first
//!   differing synapse: build from it with `[run] load_weights`). A `save_weights` of
//!   this protocol, or of a run of the same network, loads.
//! - `input_rate_file = { P = "FILE.npy" }` gives a Poisson population one rate per
//!   neuron (Hz, `float32` or `float64`, its size long, finite and >= 0), from the
//!   segment on, until an `input_rate` for it (`Simulation::set_input_rates`: the
//!   neurons then draw per step; a checkpoint keeps the rates as `pop/P/neuron_rate`).
//!
//! Everything is checked before the first segment runs, so a bad file in the fifth
//! segment costs nothing: the `.npy` headers (1-D, dtype, the length against the
//! file's size, C order) when the protocol is read; rate files' length and values
//! once the network is described; array names, types and lengths, every `set` file's
//! values and every `load_weights` set against the built synapses once the network is
//! built. A file that an earlier segment writes (its `save_state` file, its
//! `save_weights` directory, a file in its checkpoint) is checked when read, and for a
//! `save_state` file, up front, that the arrays match; a file there before the run is
//! read twice (checked, then read at its segment). The outputs (spikes, weights,
//! `save_state` files, checkpoints) are checked before the run as `snn-bench run`
//! checks its own: none replaces a file without `--force`.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde::Deserialize;
use sim_core::model::NeuronModel;
use sim_core::monitor::SpikeSink;
use sim_core::mtx::Entry;
use sim_core::state::Values;
use sim_core::timers::{Clock, Off, On};
use sim_core::{Connectivity, Context, Precision, Real, RunOptions, Simulation};

use crate::conditions::Conditions;
use crate::host::{Host, Usage};
use crate::monitor::weights::Weights;
use crate::record::{Marks, RankUsage, Record, Segment};
use crate::run::{Progress, RunArgs};
use crate::{jsonl, limits, monitor, networks, npy, outputs, weights};

/// Most segments in one protocol.
pub const MAX_SEGMENTS: usize = 10_000;
/// Largest protocol file read, bytes.
const MAX_FILE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, clap::Args)]
pub struct ProtocolArgs {
    /// The protocol (TOML): a [run] table with the flags of `snn-bench run`, and
    /// [[segment]] tables (name, duration; optional learning, learning_rate,
    /// input_rate, input_rate_file, set, load_weights, save_weights, save_state,
    /// checkpoint, spikes).
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
    input_rate_file: Option<BTreeMap<String, PathBuf>>,
    set: Option<BTreeMap<String, PathBuf>>,
    load_weights: Option<PathBuf>,
    save_weights: Option<PathBuf>,
    save_state: Option<BTreeMap<String, PathBuf>>,
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
        let paths = |m: &BTreeMap<String, PathBuf>| {
            serde_json::Value::Object(
                m.iter()
                    .map(|(k, p)| (k.clone(), p.display().to_string().into()))
                    .collect(),
            )
        };
        if let Some(files) = &self.input_rate_file {
            c.insert("input_rate_file".into(), paths(files));
        }
        if let Some(dir) = &self.load_weights {
            c.insert("load_weights".into(), dir.display().to_string().into());
        }
        if let Some(files) = &self.set {
            c.insert("set".into(), paths(files));
        }
        c
    }

    /// The files read at the segment's start: (key, path, what it is).
    fn inputs(&self) -> Vec<(String, &Path, Reads)> {
        let mut v = Vec::new();
        for (pop, path) in self.input_rate_file.iter().flatten() {
            v.push((format!("input_rate_file.{pop}"), path.as_path(), Reads::Npy));
        }
        if let Some(dir) = &self.load_weights {
            v.push(("load_weights".into(), dir.as_path(), Reads::WeightSet));
        }
        for (name, path) in self.set.iter().flatten() {
            v.push((set_key(name), path.as_path(), Reads::Npy));
        }
        v
    }

    /// What the segment writes: (key, path, what it is).
    fn outputs(&self) -> Vec<(String, &Path, Writes)> {
        let mut v = Vec::new();
        if let Some(path) = &self.spikes {
            v.push(("spikes".into(), path.as_path(), Writes::Spikes));
        }
        if let Some(dir) = &self.save_weights {
            v.push(("save_weights".into(), dir.as_path(), Writes::WeightSet));
        }
        for (name, path) in self.save_state.iter().flatten() {
            v.push((
                save_state_key(name),
                path.as_path(),
                Writes::State(name.clone()),
            ));
        }
        if let Some(dir) = &self.checkpoint {
            v.push(("checkpoint".into(), dir.as_path(), Writes::Checkpoint));
        }
        v
    }
}

fn set_key(array: &str) -> String {
    format!("set.{array:?}")
}

fn save_state_key(array: &str) -> String {
    format!("save_state.{array:?}")
}

/// What a segment's input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reads {
    /// A 1-D `.npy` array (`set`, `input_rate_file`).
    Npy,
    /// A directory of Matrix Market files (`load_weights`).
    WeightSet,
}

/// What a segment's output is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Writes {
    Spikes,
    WeightSet,
    /// A `save_state` file of this array.
    State(String),
    Checkpoint,
}

/// An input that an earlier segment writes: checked when it is read.
#[derive(Debug, Clone)]
struct Earlier {
    segment: usize,
    /// The array a `save_state` file holds (None: a file in a checkpoint, a weight set).
    array: Option<String>,
}

/// `snn-bench run`'s arguments, parsed from an argv made of the [run] table.
#[derive(clap::Parser)]
#[command(name = "protocol-run")]
struct RunCli {
    #[command(flatten)]
    run: RunArgs,
}

/// [run] keys a protocol gives per segment or not at all.
const REFUSED: [(&str, &str); 11] = [
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
    (
        "profile",
        "not available in a protocol (snn-bench run --profile profiles one run)",
    ),
    (
        "profile_phase",
        "not available in a protocol (snn-bench run --profile profiles one run)",
    ),
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
        // A repeatable flag (`monitor = ["spikes:all", "rate:E:5ms"]`).
        toml::Value::Array(items) if matches!(arg.get_action(), clap::ArgAction::Append) => {
            let mut argv = Vec::new();
            for item in items {
                let toml::Value::String(v) = item else {
                    return Err(err(&format!("{}: expected a list of strings", show(item))));
                };
                argv.extend([flag.clone(), v.clone()]);
            }
            argv
        }
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
            // clap's message: its first line and the indented lines under it (the
            // arguments it names), without the usage.
            let first = |e: clap::Error| {
                let text = e.to_string();
                let mut lines = text.lines();
                let mut out = lines
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_string();
                for more in lines.take_while(|l| l.starts_with("  ")) {
                    out.push(' ');
                    out.push_str(more.trim());
                }
                out
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
    /// (segment, input key) of the inputs that an earlier segment writes.
    earlier: BTreeMap<(usize, String), Earlier>,
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
    let earlier = check_inputs(&file, &segments)?;
    Ok(Protocol {
        file,
        args,
        segments,
        earlier,
    })
}

/// Every segment's input files that exist before the run, as far as they can be checked
/// without the network: `.npy` headers, weight directories. Returns the inputs that an
/// earlier segment writes (checked when they are read).
fn check_inputs(
    file: &Path,
    segments: &[SegmentSpec],
) -> Result<BTreeMap<(usize, String), Earlier>, String> {
    // Outputs of the segments so far, resolved: (segment, key, kind).
    let mut written: BTreeMap<PathBuf, (usize, String, Writes)> = BTreeMap::new();
    let mut earlier = BTreeMap::new();
    for (i, s) in segments.iter().enumerate() {
        let at = format!("{}: segment {i} ('{}')", file.display(), s.name);
        for (key, path, reads) in s.inputs() {
            let named = format!("{at}: {key} = {:?}", path.display().to_string());
            let real = outputs::resolve(path).map_err(|e| format!("{named}: {e}"))?;
            // The output it is, or one it is in (a checkpoint's `pop.E.v.npy`).
            let from = real
                .ancestors()
                .find_map(|a| written.get(a).map(|w| (a == real, w.clone())));
            if let Some((itself, (j, okey, kind))) = from {
                let array = match (reads, &kind, itself) {
                    (Reads::Npy, Writes::State(array), true) => Some(array.clone()),
                    (Reads::Npy, Writes::Checkpoint, false)
                    | (Reads::WeightSet, Writes::WeightSet, true) => None,
                    _ => {
                        return Err(format!(
                            "{named}: segment {j} ('{}') writes {} its {okey}: expected {}",
                            segments[j].name,
                            if itself { "it as" } else { "it inside" },
                            match reads {
                                Reads::Npy => "a 1-D .npy array (a save_state file)",
                                Reads::WeightSet => "a weight set (a save_weights directory)",
                            }
                        ))
                    }
                };
                earlier.insert((i, key), Earlier { segment: j, array });
                continue;
            }
            match reads {
                Reads::Npy => {
                    npy::inspect_1d(path).map_err(|e| format!("{at}: {key}: {e}"))?;
                }
                Reads::WeightSet => match std::fs::metadata(path) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(format!(
                            "{named}: not a directory: expected a weight set (a directory \
                             of .mtx files, as save_weights writes)"
                        ))
                    }
                    Err(e) => return Err(format!("{named}: {e}")),
                },
            }
        }
        for (key, path, kind) in s.outputs() {
            if let Ok(real) = outputs::resolve(path) {
                written.insert(real, (i, key, kind));
            }
        }
    }
    Ok(earlier)
}

/// Whether `x` is a rate a Poisson source takes (Hz).
fn rate_ok(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

const RATE_EXPECTED: &str = "a finite rate >= 0 (Hz)";

fn finite(x: f64) -> bool {
    x.is_finite()
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
        check_set_once(&at, s, net)?;
        for (pop, path) in s.input_rate_file.iter().flatten() {
            let key = format!("input_rate_file.{pop}");
            let Some(q) = net
                .populations
                .iter()
                .find(|q| q.name == *pop && matches!(q.model, NeuronModel::Poisson(_)))
            else {
                return Err(format!(
                    "{at}: {key}: not a Poisson population of '{}' (expected {})",
                    net.name,
                    match poisson.is_empty() {
                        true => "none: this network has no Poisson population".to_string(),
                        false => format!("one of: {}", poisson.join(", ")),
                    }
                ));
            };
            if !p.earlier.contains_key(&(i, key.clone())) {
                npy::read_1d(
                    path,
                    &npy::Want {
                        kind: "<f8",
                        len: q.size,
                        what: &format!("one rate per neuron of {pop}"),
                        valid: &rate_ok,
                        expected: RATE_EXPECTED,
                    },
                )
                .map_err(|e| format!("{at}: {key}: {e}"))?;
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
    let partitions = args
        .partitions
        .map_or(0, |q| q as usize)
        .max(args.threads as usize);
    args.partitioner
        .decompose(net, partitions)
        .map_err(|e| format!("{}: [run]: {e}", p.file.display()))?;
    limits::check_plan(
        net,
        args.precision,
        args.threads as usize,
        partitions,
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

/// Refuses a segment that sets one array twice at its start (say `input_rate.P` and
/// `input_rate_file.P`, or `load_weights` and `set."conn/EE/weight"`).
fn check_set_once(at: &str, s: &SegmentSpec, net: &sim_core::Network) -> Result<(), String> {
    let plastic = || net.connections.iter().filter(|c| c.plasticity.is_some());
    let mut by: Vec<(String, String)> = Vec::new();
    if s.learning.is_some() {
        by.extend(plastic().map(|c| (format!("conn/{}/learning", c.name), "learning".into())));
    }
    if s.learning_rate.is_some() {
        by.extend(plastic().map(|c| {
            (
                format!("conn/{}/learning_rate", c.name),
                "learning_rate".into(),
            )
        }));
    }
    for pop in s.input_rate.iter().flat_map(|m| m.keys()) {
        by.push((format!("pop/{pop}/rate"), format!("input_rate.{pop}")));
    }
    for pop in s.input_rate_file.iter().flat_map(|m| m.keys()) {
        by.push((format!("pop/{pop}/rate"), format!("input_rate_file.{pop}")));
    }
    if s.load_weights.is_some() {
        by.extend(plastic().map(|c| (format!("conn/{}/weight", c.name), "load_weights".into())));
    }
    by.extend(
        s.set
            .iter()
            .flat_map(|m| m.keys())
            .map(|a| (a.clone(), set_key(a))),
    );
    for (k, (array, key)) in by.iter().enumerate() {
        if let Some((_, first)) = by[..k].iter().find(|(a, _)| a == array) {
            return Err(format!(
                "{at}: {first} and {key} both set {array} at the segment's start: give it once"
            ));
        }
    }
    Ok(())
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
        for (array, path) in s.save_state.iter().flatten() {
            files.push(outputs::Output {
                flag: format!("segment {i} ('{}') {}", s.name, save_state_key(array)),
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
    let monitors = crate::run::monitor_specs(args)
        .map_err(|e| format!("{}: [run] monitor: {e}", p.file.display()))?;
    if let Some(dir) = &args.monitor_dir {
        crate::monitor::check(&monitors, dir, net, args.force)
            .map_err(|e| format!("{}: [run] {e}", p.file.display()))?;
    }
    for (i, s) in p.segments.iter().enumerate() {
        if let Some(path) = &s.spikes {
            crate::monitor::check_spike_file(&format!("{}: spikes", p.at(i)), path, args.force)?;
        }
    }
    // Directories: each its own, none a file named above.
    let mut named: Vec<(String, PathBuf)> = Vec::new();
    let resolve = |what: &str, path: &Path| {
        outputs::resolve(path).map_err(|e| format!("{what} {}: {e}", path.display()))
    };
    if let Some(out) = &args.out {
        named.push(("out".into(), resolve("out", out)?));
    }
    if let Some(dir) = &args.monitor_dir {
        for m in &monitors {
            for f in m.file_names() {
                let what = format!("[run] monitor {}", m.written());
                named.push((what.clone(), resolve(&what, &dir.join(f))?));
            }
        }
    }
    for (i, s) in p.segments.iter().enumerate() {
        let at = p.at(i);
        if let Some(path) = &s.spikes {
            named.push((format!("{at} spikes"), resolve(&at, path)?));
        }
        for (array, path) in s.save_state.iter().flatten() {
            named.push((
                format!("{at} {}", save_state_key(array)),
                resolve(&at, path)?,
            ));
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
    let ctx = Context {
        threads: args.threads as usize,
        partitions: args.partitions.unwrap_or(0) as usize,
        injected_latency: std::time::Duration::from_secs_f64(args.comm_latency_us * 1e-6),
        comm: std::sync::Arc::new(sim_core::Local),
    };
    let decomposition = args
        .partitioner
        .decompose(net, ctx.total_partitions())
        .map_err(|e| format!("{}: [run]: {e}", p.file.display()))?;
    // Spike files (the segments' `spikes`) are monitors: no spike is kept in memory.
    let mut sim = Simulation::<R, K>::with_decomposition(net, &ctx, &decomposition, clock, false)
        .map_err(|e| e.to_string())?;
    let opts = RunOptions {
        progress_every: (0.1 / net.dt).round().max(1.0) as u64,
        trace_exchanges: false,
    };
    let mut shapes = Shapes::default();
    check_arrays(p, net, &mut sim, &mut shapes)?;
    // The protocol's monitors cover every segment: one spike sink shared by the
    // segments' sinks, the state probes kept from the first step on, the weight
    // monitors' rows at every interval of the whole run.
    let at_file = |e: String| format!("{}: [run] {e}", p.file.display());
    let specs = crate::run::monitor_specs(args).map_err(at_file)?;
    let (mut shared, monitors) = match &args.monitor_dir {
        Some(dir) => {
            let (sink, state, m) =
                monitor::start(&specs, Some(dir), None, net, sim.step(), args.force)
                    .map_err(at_file)?;
            let probes = monitor::state::probes(&specs, net, sim.step()).map_err(at_file)?;
            sim.set_state_probes(probes, state).map_err(at_file)?;
            (Some(monitor::Shared::new(sink)), Some(m))
        }
        None => (None, None),
    };
    let mut weights = Weights::start(
        &specs,
        args.monitor_dir.as_deref(),
        &mut sim,
        true,
        args.force,
    )
    .map_err(at_file)?;
    let outcome = segments(
        p,
        built,
        steps,
        start,
        &mut sim,
        &opts,
        &mut shapes,
        shared.as_ref(),
        &mut weights,
    );
    // Every monitor's file is complete up to here, also after a failed segment.
    drop(sim.set_spike_sink(None));
    drop(shared.take());
    let state_done = sim
        .set_state_probes(Vec::new(), None)
        .map(drop)
        .map_err(at_file);
    let weights_done = weights.finish(&mut sim).map_err(at_file);
    let monitors_done = monitors.map(|m| m.finish().map_err(at_file)).transpose();
    let records = outcome?;
    state_done?;
    weights_done?;
    monitors_done?;
    Ok(records)
}

/// The segments of `p`, one after the other, on `sim` (see [`run_in`]).
#[allow(clippy::too_many_arguments)]
fn segments<R: Real, K: Clock>(
    p: &Protocol,
    built: &networks::Built,
    steps: &[u64],
    start: Usage,
    sim: &mut Simulation<R, K>,
    opts: &RunOptions,
    shapes: &mut Shapes,
    shared: Option<&monitor::Shared>,
    weights: &mut Weights,
) -> Result<Vec<Record>, String> {
    let args = &p.args;
    let net = &built.net;
    let host = Host::detect();
    // The protocol's monitors started here.
    let monitors_first = sim.step();
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
            sim.set_input_rate(pop, hz)
                .map_err(|e| format!("{at}: input_rate.{pop}: {e}"))?;
        }
        for (pop, path) in s.input_rate_file.iter().flatten() {
            let key = format!("input_rate_file.{pop}");
            let name = neuron_rate(shapes, net, pop);
            let Values::F64(hz) =
                read_array(sim, shapes, &name, path).map_err(|e| format!("{at}: {key}: {e}"))?
            else {
                unreachable!("rates are read as <f8")
            };
            sim.set_input_rates(pop, &hz)
                .map_err(|e| format!("{at}: {key}: {e}"))?;
        }
        if let Some(dir) = &s.load_weights {
            for (c, w) in
                weight_values(net, dir, sim).map_err(|e| format!("{at}: load_weights: {e}"))?
            {
                sim.set_weights(c, &w)
                    .map_err(|e| format!("{at}: load_weights: {e}"))?;
            }
        }
        for (name, path) in s.set.iter().flatten() {
            let key = set_key(name);
            let v = read_array(sim, shapes, name, path).map_err(|e| format!("{at}: {key}: {e}"))?;
            sim.set_array(name, v)
                .map_err(|e| format!("{at}: {key}: {e}"))?;
        }
        // The segment's spike file is a monitor of its own, beside the protocol's.
        let mut segment_monitors = None;
        let mut sinks: Vec<Box<dyn SpikeSink>> = Vec::new();
        if let Some(sh) = shared {
            sinks.push(Box::new(sh.clone()));
        }
        if let Some(path) = &s.spikes {
            let (sink, _, m) = monitor::start(&[], None, Some(path), net, first_step, args.force)
                .map_err(|e| format!("{at}: spikes: {e}"))?;
            sinks.push(sink);
            segment_monitors = Some(m);
        }
        sim.set_spike_sink(match sinks.len() {
            0 => None,
            1 => sinks.pop(),
            _ => Some(Box::new(monitor::Tee(sinks))),
        });
        let progress = Progress::new(net, first_step + n, args.quiet);
        let weights_due = Cell::new(weights.next_due());
        let run = sim.run_pausing_at(
            n,
            opts,
            &progress,
            |_| weights_due.get(),
            |sim| {
                weights.at_pause(sim)?;
                weights_due.set(weights.next_due());
                Ok::<bool, String>(true)
            },
        );
        progress.bar.finish_and_clear();
        // The segment's spike file is complete (the protocol's monitors go on).
        drop(sim.set_spike_sink(None));
        let spikes_done = segment_monitors.map(|m| m.finish()).transpose();
        let mut r = run.map_err(|e| format!("{at}: {e}"))?;
        spikes_done.map_err(|e| format!("{at}: spikes: {e}"))?;
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
            if let Some(dir) = &s.save_weights {
                weights::save_entries(net, dir, args.force, |c| sim.synapses(c))
                    .map_err(|e| format!("{at}: save_weights: {e}"))?;
            }
            for (name, path) in s.save_state.iter().flatten() {
                let key = save_state_key(name);
                let v = sim.array(name).map_err(|e| format!("{at}: {key}: {e}"))?;
                npy::write_1d(path, &v, args.force).map_err(|e| format!("{at}: {key}: {e}"))?;
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
        for m in &mut record.config.monitors {
            m.first_step = monitors_first;
        }
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

/// The type and length of the arrays asked for so far (joining an array over the
/// partitions copies it: ask once).
#[derive(Default)]
struct Shapes(BTreeMap<String, (&'static str, usize)>);

impl Shapes {
    fn of<R: Real, K: Clock>(
        &mut self,
        sim: &mut Simulation<R, K>,
        name: &str,
    ) -> Result<(&'static str, usize), String> {
        if let Some(&s) = self.0.get(name) {
            return Ok(s);
        }
        let v = sim.array(name)?;
        let s = (v.kind(), v.len());
        self.0.insert(name.to_string(), s);
        Ok(s)
    }
}

/// The name a file of per-neuron rates of population `pop` is read as
/// (`pop/P/neuron_rate`, one f64 per neuron), its shape known to `shapes`: the
/// population holds no such array until its rates are set per neuron.
fn neuron_rate(shapes: &mut Shapes, net: &sim_core::Network, pop: &str) -> String {
    let name = format!("pop/{pop}/neuron_rate");
    let size = net
        .populations
        .iter()
        .find(|q| q.name == pop)
        .map_or(0, |q| q.size);
    shapes.0.entry(name.clone()).or_insert(("<f8", size));
    name
}

/// Whether a file of `from`'s type and length can be read into `to`'s.
fn fits((from, n): (&str, usize), (to, m): (&str, usize)) -> bool {
    let float = |k: &str| matches!(k, "<f4" | "<f8");
    n == m && (from == to || (float(from) && float(to)))
}

/// Reads `path` into array `name` in the array's type and length; rates of a Poisson
/// population (`pop/P/rate`, `pop/P/neuron_rate`) must be finite and >= 0, other
/// floating-point values finite.
fn read_array<R: Real, K: Clock>(
    sim: &mut Simulation<R, K>,
    shapes: &mut Shapes,
    name: &str,
    path: &Path,
) -> Result<Values, String> {
    let (kind, len) = shapes.of(sim, name)?;
    let rate =
        name.starts_with("pop/") && (name.ends_with("/rate") || name.ends_with("/neuron_rate"));
    npy::read_1d(
        path,
        &npy::Want {
            kind,
            len,
            what: name,
            valid: if rate { &rate_ok } else { &finite },
            expected: if rate {
                RATE_EXPECTED
            } else {
                "a finite number"
            },
        },
    )
}

/// After the build, before the first step: every array a segment names exists, every
/// input file there is now fits its array (values included), every `load_weights`
/// set matches the built synapses, and each `save_state` file an input reads holds an
/// array of the right type and length.
fn check_arrays<R: Real, K: Clock>(
    p: &Protocol,
    net: &sim_core::Network,
    sim: &mut Simulation<R, K>,
    shapes: &mut Shapes,
) -> Result<(), String> {
    // Files checked, with the array they were checked for (a file that many segments
    // read is checked once).
    let mut checked = BTreeSet::new();
    let mut first = |name: &str, path: &Path| {
        let real = outputs::resolve(path).unwrap_or_else(|_| path.to_path_buf());
        checked.insert((name.to_string(), real))
    };
    for (i, s) in p.segments.iter().enumerate() {
        let at = p.at(i);
        let mut reads: Vec<(String, String, &Path)> = Vec::new();
        for (pop, path) in s.input_rate_file.iter().flatten() {
            let key = format!("input_rate_file.{pop}");
            reads.push((key, neuron_rate(shapes, net, pop), path));
        }
        for (name, path) in s.set.iter().flatten() {
            reads.push((set_key(name), name.clone(), path));
        }
        for (key, name, path) in reads {
            let shape = shapes
                .of(sim, &name)
                .map_err(|e| format!("{at}: {key}: {e}"))?;
            match p.earlier.get(&(i, key.clone())) {
                None if first(&name, path) => {
                    read_array(sim, shapes, &name, path)
                        .map_err(|e| format!("{at}: {key}: {e}"))?;
                }
                None => {}
                Some(Earlier {
                    segment: j,
                    array: Some(src),
                }) => {
                    let from = shapes
                        .of(sim, src)
                        .map_err(|e| format!("{}: {}: {e}", p.at(*j), save_state_key(src)))?;
                    if !fits(from, shape) {
                        return Err(format!(
                            "{at}: {key} = {:?}: segment {j} ('{}') saves {src} there ({} values \
                             of {}), expected {} values of {} for {name}",
                            path.display().to_string(),
                            p.segments[*j].name,
                            from.1,
                            from.0,
                            shape.1,
                            shape.0
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        for name in s.save_state.iter().flat_map(|m| m.keys()) {
            shapes
                .of(sim, name)
                .map_err(|e| format!("{at}: {}: {e}", save_state_key(name)))?;
        }
        if let Some(dir) = &s.load_weights {
            if !p.earlier.contains_key(&(i, "load_weights".into())) && first("", dir) {
                weight_values(net, dir, sim).map_err(|e| format!("{at}: load_weights: {e}"))?;
            }
        }
    }
    Ok(())
}

/// The weight set in `dir`, read as `snn-bench run --load-weights` reads it (every
/// pathway's file, its shape, pathway comment and weight range), checked against the
/// built synapses: each file must list exactly the synapses `sim.synapses(c)` lists.
/// Returns, for each pathway, its weights in (post, pre) order (for
/// [`Simulation::set_weights`]; static pathways too).
fn weight_values<R: Real, K: Clock>(
    net: &sim_core::Network,
    dir: &Path,
    sim: &mut Simulation<R, K>,
) -> Result<Vec<(usize, Vec<f64>)>, String> {
    let mut out = Vec::new();
    for (c, spec) in net.connections.iter().enumerate() {
        let path = dir.join(sim_core::mtx::file_name(&spec.name));
        // One pathway at a time: at most one file's entries in memory.
        let mut one = net.clone();
        one.connections = vec![spec.clone()];
        weights::load(&mut one, dir).map_err(|e| e.to_string())?;
        let mut file: Vec<Entry> = match &one.connections[0].connectivity {
            Connectivity::Explicit(entries) => entries.to_vec(),
            _ => unreachable!("weights::load makes the connectivity explicit"),
        };
        drop(one);
        file.sort_by_key(|&(pre, post, _)| (post, pre));
        let built = sim.synapses(c);
        let pair = |e: Option<&Entry>| e.map(|&(pre, post, _)| (post, pre));
        let at = |(pre, post, _): Entry| {
            format!(
                "row {}, column {} (1-based)",
                u64::from(pre) + 1,
                u64::from(post) + 1
            )
        };
        if let Some(k) =
            (0..file.len().max(built.len())).find(|&k| pair(file.get(k)) != pair(built.get(k)))
        {
            let first = match (file.get(k), built.get(k)) {
                (Some(&f), b) if b.is_none_or(|&b| pair(Some(&f)) < pair(Some(&b))) => {
                    format!("the file's {} is no synapse of the network", at(f))
                }
                (_, Some(&b)) => format!("the network's synapse at {} is not in the file", at(b)),
                _ => unreachable!("k is below the longer length"),
            };
            return Err(format!(
                "{}: pathway {}: {} entries for the network's {} synapses; {first}. \
                 load_weights sets the weights of the built synapses and keeps the \
                 connectivity: give a weight set of this network (e.g. a save_weights of \
                 it); to run on other synapses, build from them with [run] load_weights",
                path.display(),
                spec.name,
                file.len(),
                built.len()
            ));
        }
        out.push((c, file.iter().map(|&(_, _, w)| w).collect()));
    }
    Ok(out)
}
