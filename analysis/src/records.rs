//! Reading results records (JSON Lines, one run per line, as `snn-bench run` writes
//! them) and grouping them by configuration.
//!
//! Records are read as JSON values with typed accessors rather than into the writer's
//! structs: files hold records of older layouts and runs cut short, and a reader that
//! demanded every field would drop them. A line that is not JSON, or lacks what every
//! use needs (network, model time, run wall time), is skipped with a [`Warning`] naming
//! the file and line; a missing optional field shows as "missing" where it is used.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::stats::{spread, Spread};

/// The newest record layout this reader knows (`schema` in each record).
pub const SCHEMA: u64 = 1;

/// The machine a record was measured on (its `host`), as the report and the job runner
/// tell machines apart: CPU model, cores, memory and kernel release, never the host name
/// alone (many VMs share one; ours are all `vm`). Memory is rounded to 0.1 GiB, so the few
/// MiB a kernel reserves differently on two boots of one machine do not split it.
pub fn machine_label(host: &Value) -> String {
    let Some(h) = host.as_object() else {
        return "unknown machine".into();
    };
    let text = |k: &str| h.get(k).and_then(Value::as_str).unwrap_or("unknown");
    let logical = h.get("logical_cores").and_then(Value::as_u64);
    let physical = h.get("physical_cores").and_then(Value::as_u64);
    let cores = match (logical, physical) {
        (Some(l), Some(p)) if p != l => format!("{l} cores ({p} physical)"),
        (Some(l), _) => format!("{l} cores"),
        (None, _) => "unknown cores".into(),
    };
    let memory = match h.get("memory_bytes").and_then(Value::as_u64) {
        Some(b) => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        None => "unknown memory".into(),
    };
    format!(
        "{}, {cores}, {memory}, kernel {}",
        text("cpu_model"),
        text("kernel")
    )
}

/// One run, as recorded.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Where it came from (file, 1-based line), for messages.
    pub file: PathBuf,
    pub line: usize,
    pub value: Value,
}

/// A record that was skipped or is suspect, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // About the whole file (it could not be read).
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

/// The fields every record must have to be used at all, and whether each is a string
/// (else a number).
const REQUIRED: [(&str, bool); 4] = [
    ("config.network", true),
    ("config.simtime_s", false),
    ("result.run.wall_s", false),
    ("result.rtf", false),
];

/// Largest records file read, bytes.
pub const MAX_FILE_BYTES: u64 = 4 << 30;
/// Longest line parsed, bytes (a record of 4096 workers is ≈ 1 MB).
pub const MAX_LINE_BYTES: usize = 16 << 20;
/// Characters of a bad line quoted in a warning.
pub const EXCERPT_CHARS: usize = 80;

impl RunRecord {
    /// The value at a dotted path (`"result.run.wall_s"`), if present.
    pub fn get(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.value, |v, key| v.get(key))
    }

    pub fn f64(&self, path: &str) -> Option<f64> {
        self.get(path)?.as_f64().filter(|x| x.is_finite())
    }

    pub fn u64(&self, path: &str) -> Option<u64> {
        self.get(path)?.as_u64()
    }

    pub fn str(&self, path: &str) -> Option<&str> {
        self.get(path)?.as_str()
    }

    pub fn bool(&self, path: &str) -> Option<bool> {
        self.get(path)?.as_bool()
    }

    /// The machine it was measured on ([`machine_label`]).
    pub fn machine(&self) -> String {
        machine_label(self.get("host").unwrap_or(&Value::Null))
    }

    /// The source revision of the binary that measured it (first 9 hex digits, "+" if the
    /// tree was dirty), or "unknown".
    pub fn commit(&self) -> String {
        let commit = self.str("build.git_commit").unwrap_or("unknown");
        let short = commit.get(..9).unwrap_or(commit);
        match self.str("build.git_dirty") {
            Some("true") => format!("{short}+"),
            _ => short.to_string(),
        }
    }

    pub fn network(&self) -> &str {
        self.str("config.network").unwrap_or("?")
    }

    /// Workers (partitions) of the run: ranks × threads.
    pub fn workers(&self) -> u64 {
        self.u64("config.partitions")
            .or_else(|| Some(self.u64("config.threads")? * self.u64("config.ranks").unwrap_or(1)))
            .unwrap_or(1)
    }

    /// Run wall time per model second: the paper's T, the real-time factor.
    pub fn rtf(&self) -> Option<f64> {
        self.f64("result.rtf")
    }

    pub fn wall_s(&self) -> f64 {
        self.f64("result.run.wall_s").unwrap_or(f64::NAN)
    }

    /// A phase's time (`evolve`, `propagate`, `plasticity`, `barrier`, `sync`), `stat`
    /// over workers: `min`, `mean` or `max`.
    pub fn phase(&self, phase: &str, stat: &str) -> Option<f64> {
        self.f64(&format!("result.phases.{phase}.{stat}"))
    }

    /// A population's (or `"all"`'s) rate summary field, e.g. `mean_rate_hz`.
    pub fn rate(&self, population: &str, field: &str) -> Option<f64> {
        let rates = self.get("result.rates")?.as_array()?;
        rates.iter().find_map(|pair| {
            let pair = pair.as_array()?;
            (pair.first()?.as_str()? == population)
                .then(|| pair.get(1)?.get(field)?.as_f64())
                .flatten()
        })
    }

    /// The parameters a run may override, as recorded (empty for older records).
    pub fn parameters(&self) -> BTreeMap<String, f64> {
        self.get("config.parameters")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// What identifies this run's configuration (everything but the repetition).
    pub fn key(&self) -> ConfigKey {
        let text = |p: &str| self.str(p).unwrap_or("").to_string();
        // Times in whole nanoseconds (and latency in picoseconds), so that rounding in
        // the last digit does not split a group.
        let nanos = |p: &str| self.f64(p).map_or(-1, |x| (x * 1e9).round() as i64);
        ConfigKey {
            network: self.network().to_string(),
            precision: text("config.precision"),
            plastic: self.bool("config.plastic").unwrap_or(false),
            traces: text("config.traces"),
            generator: text("config.generator"),
            threads: self.u64("config.threads").unwrap_or(1),
            ranks: self.u64("config.ranks").unwrap_or(1),
            hosts: self.u64("config.hosts").unwrap_or(1),
            delay_ns: nanos("config.delay_s"),
            dt_ns: nanos("config.dt_s"),
            simtime_ns: nanos("config.simtime_s"),
            latency_ps: self
                .f64("config.injected_latency_us")
                .map_or(0, |x| (x * 1e6).round() as i64),
            timers: self.bool("config.timers").unwrap_or(true),
            initial_v: text("config.initial_v"),
            parameters: self
                .parameters()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
            partitioner: self
                .str("config.partitioner")
                .unwrap_or("block")
                .to_string(),
            vectorised: vectorised(self.str("build.rustflags").unwrap_or("")),
        }
    }

    /// The record's estimated cost imbalance, the largest partition's estimated cost
    /// over the mean (`config.partition_costs`; 1 is perfect balance); None where the
    /// record has no costs.
    pub fn cost_imbalance(&self) -> Option<f64> {
        let costs: Vec<f64> = (self.get("config.partition_costs")?.as_array()?.iter())
            .map(Value::as_f64)
            .collect::<Option<_>>()?;
        let mean = costs.iter().sum::<f64>() / costs.len() as f64;
        let max = costs.iter().cloned().fold(f64::NAN, f64::max);
        (mean > 0.0 && max.is_finite()).then(|| max / mean)
    }

    /// The mean barrier wait per exchange, seconds: the workers' mean barrier time over
    /// the run's exchanges (`result.exchanges`; None in records without it).
    pub fn barrier_per_exchange(&self) -> Option<f64> {
        let exchanges = self.u64("result.exchanges").filter(|&n| n > 0)?;
        Some(self.phase("barrier", "mean")? / exchanges as f64)
    }
}

/// A run configuration: records with equal keys are repetitions of one another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigKey {
    pub network: String,
    pub precision: String,
    pub plastic: bool,
    pub traces: String,
    pub generator: String,
    pub threads: u64,
    pub ranks: u64,
    pub hosts: u64,
    pub delay_ns: i64,
    pub dt_ns: i64,
    pub simtime_ns: i64,
    pub latency_ps: i64,
    pub timers: bool,
    pub initial_v: String,
    pub parameters: String,
    /// How the neurons were split: "block" (also for records that do not say),
    /// "round-robin", "balanced".
    pub partitioner: String,
    /// Whether the binary let the compiler vectorise loops ([`vectorised`] of its
    /// `build.rustflags`; records without build information: yes). An unvectorised
    /// build (the paper's Fig. 10 comparison) is another configuration, never pooled.
    pub vectorised: bool,
}

/// Whether a binary built with these rustflags (space separated, as records keep them)
/// had LLVM's loop and SLP vectorisers on: false if either is switched off
/// (`-C llvm-args=-vectorize-loops=false`, `-vectorize-slp=false`), as `make bench-novec`
/// builds.
pub fn vectorised(rustflags: &str) -> bool {
    !rustflags
        .split_whitespace()
        .any(|f| f.ends_with("-vectorize-loops=false") || f.ends_with("-vectorize-slp=false"))
}

impl ConfigKey {
    /// The study's default run settings: delay 0.8 ms, dt 0.1 ms, no injected latency,
    /// timers on, f32 — what the scaling figures and claims compare across workers.
    pub fn is_standard(&self) -> bool {
        self.delay_ns == 800_000
            && self.dt_ns == 100_000
            && self.latency_ps == 0
            && self.timers
            && self.precision == "f32"
            && self.vectorised
    }

    /// Workers: ranks × threads.
    pub fn workers(&self) -> u64 {
        self.ranks * self.threads
    }

    // Divided, not multiplied by 1e-6: 800 000 ns is "0.8" ms, where 800 000 × 1e-6 is
    // 0.7999999999999999, which tables would print.
    pub fn delay_ms(&self) -> f64 {
        self.delay_ns as f64 / 1e6
    }

    pub fn latency_us(&self) -> f64 {
        self.latency_ps as f64 / 1e6
    }

    /// The network as tables name it: `brunel+stdp/event-based`, `poisson/per-step`.
    pub fn label(&self) -> String {
        let mut s = self.network.clone();
        if self.plastic {
            s.push_str("+stdp");
            if !self.traces.is_empty() {
                s.push('/');
                s.push_str(&self.traces);
            }
        } else if !self.generator.is_empty() {
            s.push('/');
            s.push_str(&self.generator);
        }
        s
    }
}

impl fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}r×{}t delay {} ms",
            self.label(),
            self.precision,
            self.ranks,
            self.threads,
            self.delay_ms()
        )?;
        if self.latency_ps != 0 {
            write!(f, " +{} µs", self.latency_us())?;
        }
        if !self.timers {
            write!(f, " timers off")?;
        }
        if self.partitioner != "block" {
            write!(f, " partitioner {}", self.partitioner)?;
        }
        if !self.vectorised {
            write!(f, " not vectorised")?;
        }
        Ok(())
    }
}

/// Repetitions of one configuration.
#[derive(Debug, Clone)]
pub struct Group {
    pub key: ConfigKey,
    pub records: Vec<RunRecord>,
}

impl Group {
    /// Median and spread over repetitions of a per-record value (records lacking it are
    /// left out); None if no record has it.
    pub fn stat(&self, value: impl Fn(&RunRecord) -> Option<f64>) -> Option<Spread> {
        let xs: Vec<f64> = self.records.iter().filter_map(value).collect();
        spread(&xs)
    }

    pub fn median(&self, value: impl Fn(&RunRecord) -> Option<f64>) -> Option<f64> {
        self.stat(value).map(|s| s.median)
    }

    /// (workers, value) of every repetition that has the value: points for a fit.
    pub fn points(&self, value: impl Fn(&RunRecord) -> Option<f64>) -> Vec<(f64, f64)> {
        let n = self.key.workers() as f64;
        self.records
            .iter()
            .filter_map(|r| Some((n, value(r)?)))
            .collect()
    }
}

/// Groups records by configuration, in key order.
pub fn group(records: &[RunRecord]) -> Vec<Group> {
    let mut groups: BTreeMap<ConfigKey, Vec<RunRecord>> = BTreeMap::new();
    for r in records {
        groups.entry(r.key()).or_default().push(r.clone());
    }
    groups
        .into_iter()
        .map(|(key, records)| Group { key, records })
        .collect()
}

/// Parses the records of one JSON Lines text; `file` names it in warnings.
pub fn parse(file: &Path, text: &str) -> (Vec<RunRecord>, Vec<Warning>) {
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        parse_line(file, i + 1, line, &mut records, &mut warnings);
    }
    (records, warnings)
}

/// Parses line `number` (1-based) of `file`: a record, a warning, or nothing (blank).
fn parse_line(
    file: &Path,
    number: usize,
    line: &str,
    records: &mut Vec<RunRecord>,
    warnings: &mut Vec<Warning>,
) {
    let warn = |message: String| Warning {
        file: file.to_path_buf(),
        line: number,
        message,
    };
    if line.trim().is_empty() {
        return;
    }
    let quoted = sim_core::input::excerpt(line, EXCERPT_CHARS);
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            warnings.push(warn(format!(
                "not a JSON record ({e}); skipped: {quoted:?}"
            )));
            return;
        }
    };
    let record = RunRecord {
        file: file.to_path_buf(),
        line: number,
        value,
    };
    if !record.value.is_object() {
        warnings.push(warn(format!("not a JSON object; skipped: {quoted:?}")));
        return;
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|(p, _)| record.get(p).is_none())
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() {
        warnings.push(warn(format!(
            "record lacks {}; skipped",
            missing.join(", ")
        )));
        return;
    }
    let mistyped: Vec<String> = REQUIRED
        .iter()
        .filter_map(|&(p, text)| {
            let v = record.get(p)?;
            let ok = if text { v.is_string() } else { v.is_number() };
            (!ok).then(|| {
                let kind = if text { "a string" } else { "a number" };
                format!(
                    "{p} = {}, expected {kind}",
                    sim_core::input::excerpt(&v.to_string(), 40)
                )
            })
        })
        .collect();
    if !mistyped.is_empty() {
        warnings.push(warn(format!("{}; skipped", mistyped.join(", "))));
        return;
    }
    if let Some(why) = record.get("result.failure").filter(|v| !v.is_null()) {
        let why = why.as_str().map_or_else(|| why.to_string(), String::from);
        warnings.push(warn(format!(
            "the run failed ({}); skipped",
            sim_core::input::excerpt(&why, 200)
        )));
        return;
    }
    match record.u64("schema") {
        Some(s) if s > SCHEMA => warnings.push(warn(format!(
            "schema {s} is newer than this reader's {SCHEMA}; read as far as it goes"
        ))),
        None => warnings.push(warn("no schema field; read as schema 1".into())),
        _ => {}
    }
    records.push(record);
}

/// Reads one records file, line by line with bounded memory: a line that is not UTF-8,
/// not JSON, too long or not a usable record is a warning naming the line. Only a file
/// that cannot be opened (missing, not a regular file, too large) is an error.
pub fn read(path: &Path) -> Result<(Vec<RunRecord>, Vec<Warning>), std::io::Error> {
    let (file, _) = sim_core::input::open(path, MAX_FILE_BYTES, "a records file")
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut input = std::io::BufReader::new(file);
    let (mut records, mut warnings) = (Vec::new(), Vec::new());
    let mut buf = Vec::new();
    let mut number = 0;
    while let Some(line) = sim_core::input::next_line(&mut input, &mut buf, MAX_LINE_BYTES)? {
        number += 1;
        let lossy = || sim_core::input::excerpt(&String::from_utf8_lossy(&buf), EXCERPT_CHARS);
        let warn = |message| Warning {
            file: path.to_path_buf(),
            line: number,
            message,
        };
        if line.too_long {
            warnings.push(warn(format!(
                "line of {} bytes, longer than the {MAX_LINE_BYTES} accepted; skipped: {:?}",
                line.len,
                lossy()
            )));
            continue;
        }
        match std::str::from_utf8(&buf) {
            Ok(text) => {
                let before = warnings.len();
                parse_line(path, number, text, &mut records, &mut warnings);
                if !line.newline && warnings.len() > before {
                    warnings[before]
                        .message
                        .push_str(" (last line has no trailing newline: torn write?)");
                }
            }
            Err(e) => warnings.push(warn(format!(
                "not UTF-8 text ({e}); skipped: {:?}",
                lossy()
            ))),
        }
    }
    Ok((records, warnings))
}

/// Reads every `*.jsonl` file directly in `dir` (sorted by name). A file that cannot be
/// read is a warning, not an error: the other files' records still count.
pub fn read_dir(dir: &Path) -> Result<(Vec<RunRecord>, Vec<Warning>), std::io::Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut records = Vec::new();
    let mut warnings = Vec::new();
    for f in files {
        match read(&f) {
            Ok((r, w)) => {
                records.extend(r);
                warnings.extend(w);
            }
            Err(e) => warnings.push(Warning {
                file: f.clone(),
                line: 0,
                message: format!("cannot read ({e}); skipped"),
            }),
        }
    }
    Ok((records, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(network: &str, threads: u64, rep: u64, wall: f64) -> String {
        serde_json::json!({
            "schema": 1,
            "config": {"network": network, "precision": "f32", "threads": threads,
                       "ranks": 1, "partitions": threads, "delay_s": 0.0008,
                       "dt_s": 0.0001, "simtime_s": 10.0, "repetition": rep},
            "result": {"run": {"wall_s": wall}, "rtf": wall / 10.0,
                       "phases": {"evolve": {"min": 1.0, "mean": 1.5, "max": 2.0}},
                       "rates": [["all", {"mean_rate_hz": 17.0}], ["E", {"mean_rate_hz": 16.0}]]}
        })
        .to_string()
    }

    #[test]
    fn machines_are_told_apart_by_cpu_cores_memory_and_kernel_not_host_name() {
        let host = |name: &str, cpu: &str, mem: u64, kernel: &str| {
            serde_json::json!({"hostname": name, "cpu_model": cpu, "logical_cores": 2,
                               "physical_cores": 2, "memory_bytes": mem, "kernel": kernel})
        };
        let amd = host("vm", "AMD EPYC", 25_276_063_744, "6.18.44-fc-v769");
        assert_eq!(
            machine_label(&amd),
            "AMD EPYC, 2 cores, 23.5 GiB, kernel 6.18.44-fc-v769"
        );
        // Same name, other CPU or kernel: other machines.
        let intel = host(
            "vm",
            "Intel(R) Xeon(R) Processor",
            25_276_063_744,
            "6.18.44-fc-v769",
        );
        let rebuilt = host("vm", "AMD EPYC", 25_276_063_744, "6.18.44-fc-v1045");
        assert_ne!(machine_label(&amd), machine_label(&intel));
        assert_ne!(machine_label(&amd), machine_label(&rebuilt));
        // Another name, a few MiB less memory: the same machine.
        let same = host(
            "node7",
            "AMD EPYC",
            25_276_063_744 - (8 << 20),
            "6.18.44-fc-v769",
        );
        assert_eq!(machine_label(&amd), machine_label(&same));
        let smt = serde_json::json!({"cpu_model": "X", "logical_cores": 4, "physical_cores": 2});
        assert_eq!(
            machine_label(&smt),
            "X, 4 cores (2 physical), unknown memory, kernel unknown"
        );
        assert_eq!(machine_label(&Value::Null), "unknown machine");
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_skipped() {
        let text = [
            line("va", 1, 0, 2.0),
            "{not json".to_string(),
            String::new(),
            r#"{"schema": 1, "config": {"network": "va"}}"#.to_string(),
            "[1, 2]".to_string(),
            line("va", 1, 1, 3.0),
        ]
        .join("\n");
        let (records, warnings) = parse(Path::new("runs.jsonl"), &text);
        assert_eq!(records.len(), 2);
        assert_eq!(
            warnings.iter().map(|w| w.line).collect::<Vec<_>>(),
            vec![2, 4, 5]
        );
        assert!(
            warnings[1].message.contains("result.run.wall_s"),
            "{}",
            warnings[1]
        );
        assert!(warnings[0].to_string().starts_with("runs.jsonl:2: "));
    }

    #[test]
    fn repetitions_group_and_give_medians() {
        let text = [
            line("va", 1, 0, 2.0),
            line("va", 2, 0, 1.0),
            line("va", 1, 1, 4.0),
            line("va", 1, 2, 3.0),
        ]
        .join("\n");
        let (records, _) = parse(Path::new("x"), &text);
        let groups = group(&records);
        assert_eq!(groups.len(), 2);
        let one = &groups[0];
        assert_eq!(one.key.threads, 1);
        assert_eq!(one.records.len(), 3);
        assert_eq!(one.median(|r| Some(r.wall_s())), Some(3.0));
        assert_eq!(one.key.label(), "va");
        let r = &records[0];
        assert_eq!(r.phase("evolve", "max"), Some(2.0));
        assert_eq!(r.rate("E", "mean_rate_hz"), Some(16.0));
        assert_eq!(r.rate("I", "mean_rate_hz"), None);
        assert_eq!(r.workers(), 1);
    }

    /// An unvectorised build's runs (Fig. 10) are their own configuration: they never
    /// join the vectorised build's medians or the standard (scaling) runs.
    #[test]
    fn unvectorised_builds_are_another_configuration() {
        assert!(vectorised("-C target-cpu=native"));
        assert!(vectorised(""));
        for off in [
            "llvm-args=-vectorize-loops=false",
            "llvm-args=-vectorize-slp=false",
        ] {
            assert!(
                !vectorised(&format!("-C target-cpu=native -C {off}")),
                "{off}"
            );
        }
        let with_flags = |flags: &str, wall: f64| {
            let mut v: serde_json::Value = serde_json::from_str(&line("va", 1, 0, wall)).unwrap();
            v["build"] = serde_json::json!({ "rustflags": flags });
            v.to_string()
        };
        let text = [
            line("va", 1, 0, 2.0),
            with_flags("-C target-cpu=native", 2.2),
            with_flags(
                "-C target-cpu=native -C llvm-args=-vectorize-loops=false \
                 -C llvm-args=-vectorize-slp=false",
                5.0,
            ),
        ]
        .join("\n");
        let (records, warnings) = parse(Path::new("x"), &text);
        assert!(warnings.is_empty(), "{warnings:?}");
        let groups = group(&records);
        assert_eq!(groups.len(), 2);
        let (on, off): (Vec<&Group>, Vec<&Group>) = groups.iter().partition(|g| g.key.vectorised);
        assert_eq!(
            on[0].records.len(),
            2,
            "no flags and native flags: one build kind"
        );
        assert_eq!(off[0].median(|r| Some(r.wall_s())), Some(5.0));
        assert!(on[0].key.is_standard() && !off[0].key.is_standard());
        assert!(
            off[0].key.to_string().ends_with(" not vectorised"),
            "{}",
            off[0].key
        );
    }
}
