//! Job specs: the suite's and the figures' runs as data (`scripts/jobs/*.toml`), expanded
//! into runs of the job runner ([`crate::jobs`]).

use std::ffi::OsString;
use std::path::Path;

use serde::Deserialize;

use crate::jobs::{Plan, Run};
use crate::run::RunArgs;
use crate::sweep::Key;

/// A job spec (TOML): jobs, each a `snn-bench run` template expanded over the values of
/// `vary` (first key outermost) and `repetitions` (outermost of all, so slow drifts of a
/// shared machine hit every configuration alike). Paths are relative to the results
/// directory. Unknown fields are errors.
///
/// ```toml
/// records = "figures/{job}.jsonl"     # default records file of every job
///
/// [[job]]
/// name = "fig1-poisson"
/// run = "poisson --simtime 100 --generator {generator}"
/// spikes = "figures/poisson-{generator}.npy"     # optional: --spikes, an artifact
/// # exchange_trace = "…"                         # optional: --exchange-trace, an artifact
/// # monitor = ["spikes:all", "rate:E:5ms"]       # optional: --monitor …, written under
/// # monitor_dir = "figures/poisson-{generator}"  #   monitor_dir: their files are artifacts
/// # records = "…", repetitions = 1, timeout_s = 600
/// vary = { generator = ["lattice", "per-step"] }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// Default records file of every job (`{job}` is the job's name).
    pub records: Option<String>,
    #[serde(rename = "job")]
    pub jobs: Vec<Job>,
}

/// One job of a [`JobSpec`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub name: String,
    /// `snn-bench run` arguments, words separated by spaces, `{name}` replaced by the
    /// values of `vary`.
    #[serde(default)]
    pub run: Option<String>,
    /// Instead of `run`: `snn-bench peer` arguments (`nest va --simtime 10 --threads
    /// 1`), a peer simulator's run on snn-limits' network; `spikes` is then required
    /// (the peer's spike file; its meta file beside it is an artifact too).
    #[serde(default)]
    pub peer: Option<String>,
    pub records: Option<String>,
    pub spikes: Option<String>,
    pub exchange_trace: Option<String>,
    /// `--monitor` specs (`{name}` replaced), written under `monitor_dir`.
    #[serde(default)]
    pub monitor: Vec<String>,
    pub monitor_dir: Option<String>,
    #[serde(default)]
    pub vary: toml::Table,
    pub repetitions: Option<u32>,
    pub timeout_s: Option<f64>,
}

impl JobSpec {
    /// Parses a spec; errors name `origin` (the file).
    pub fn parse(text: &str, origin: &str) -> Result<JobSpec, String> {
        let spec: JobSpec =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.to_string().trim()))?;
        if spec.jobs.is_empty() {
            return Err(format!("{origin}: no [[job]] in it"));
        }
        Ok(spec)
    }

    /// Reads a spec file.
    pub fn load(path: &Path) -> Result<JobSpec, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        JobSpec::parse(&text, &path.display().to_string())
    }

    /// Sets `name` to `values` in every job that varies it.
    pub fn set(&mut self, name: &str, values: &[String]) {
        for j in &mut self.jobs {
            if let Some(v) = j.vary.get_mut(name) {
                *v = toml::Value::Array(values.iter().cloned().map(toml::Value::String).collect());
            }
        }
    }

    /// The runs, with paths under `dir`; `exe` is `snn-bench`; `records` overrides
    /// every job's records file. Every run line is parsed as `snn-bench run` would,
    /// and two runs of one records file with one configuration are an error.
    pub fn plan(
        &self,
        title: &str,
        origin: &str,
        dir: &Path,
        exe: &Path,
        records: Option<&Path>,
    ) -> Result<Plan, String> {
        let mut runs = Vec::new();
        for job in &self.jobs {
            let fail = |why: String| format!("{origin}: job {:?}: {why}", job.name);
            let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
            for (name, values) in &job.vary {
                let values = match values {
                    toml::Value::Array(a) => a.clone(),
                    one => vec![one.clone()],
                };
                if values.is_empty() {
                    return Err(fail(format!("vary.{name} = []: the list is empty")));
                }
                let words = values
                    .iter()
                    .map(|v| match v {
                        toml::Value::String(s) => Ok(s.clone()),
                        toml::Value::Integer(_) | toml::Value::Float(_) => Ok(v.to_string()),
                        other => Err(fail(format!(
                            "vary.{name}: {other}: expected strings or numbers"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                combos = combos
                    .into_iter()
                    .flat_map(|c| {
                        words.iter().map(move |w| {
                            let mut c = c.clone();
                            c.push((name.clone(), w.clone()));
                            c
                        })
                    })
                    .collect();
            }
            let repetitions = job.repetitions.unwrap_or(1);
            if repetitions == 0 {
                return Err(fail("repetitions = 0: expected at least 1".into()));
            }
            let fill = |template: &str, combo: &[(String, String)]| -> Result<String, String> {
                let mut s = template.replace("{job}", &job.name);
                for (k, v) in combo {
                    s = s.replace(&format!("{{{k}}}"), v);
                }
                if let Some(at) = s.find('{') {
                    return Err(fail(format!(
                        "{template:?}: {} is not in vary",
                        &s[at..=s[at..].find('}').map_or(at, |e| at + e)]
                    )));
                }
                Ok(s)
            };
            let records_t = job
                .records
                .as_deref()
                .or(self.records.as_deref())
                .unwrap_or("{job}.jsonl");
            let template = match (&job.run, &job.peer) {
                (Some(t), None) | (None, Some(t)) => t,
                _ => return Err(fail("expected exactly one of run and peer".into())),
            };
            for repetition in 0..repetitions {
                let rep = (repetitions > 1).then_some(repetition);
                for combo in &combos {
                    let words = fill(template, combo)?;
                    if job.peer.is_some() {
                        let out = match records {
                            Some(r) => r.to_path_buf(),
                            None => dir.join(fill(records_t, combo)?),
                        };
                        let spikes = match &job.spikes {
                            Some(t) => Some(numbered(&dir.join(fill(t, combo)?), rep)),
                            None => None,
                        };
                        runs.push(peer_run(job, &words, spikes, exe, out, rep).map_err(fail)?);
                        continue;
                    }
                    let out = match records {
                        Some(r) => r.to_path_buf(),
                        None => dir.join(fill(records_t, combo)?),
                    };
                    let mut argv: Vec<String> =
                        words.split_whitespace().map(String::from).collect();
                    let mut artifacts = Vec::new();
                    for (flag, t) in [
                        ("--spikes", &job.spikes),
                        ("--exchange-trace", &job.exchange_trace),
                    ] {
                        if let Some(t) = t {
                            let p = numbered(&dir.join(fill(t, combo)?), rep);
                            argv.push(flag.into());
                            argv.push(p.display().to_string());
                            artifacts.push(p);
                        }
                    }
                    match (&job.monitor_dir, job.monitor.is_empty()) {
                        (Some(t), false) => {
                            let d = numbered(&dir.join(fill(t, combo)?), rep);
                            for m in &job.monitor {
                                let m = fill(m, combo)?;
                                let spec = crate::monitor::parse(&m)
                                    .map_err(|e| fail(format!("monitor: {e}")))?;
                                artifacts.extend(spec.file_names().iter().map(|f| d.join(f)));
                                argv.extend(["--monitor".into(), m]);
                            }
                            argv.extend(["--monitor-dir".into(), d.display().to_string()]);
                        }
                        (None, false) => {
                            return Err(fail(
                                "monitor without monitor_dir: give the directory its files \
                                 go to"
                                    .into(),
                            ))
                        }
                        (Some(_), true) => {
                            return Err(fail(
                                "monitor_dir without monitor: give the monitors".into(),
                            ))
                        }
                        (None, true) => {}
                    }
                    if repetitions > 1 {
                        argv.push("--repetition".into());
                        argv.push(repetition.to_string());
                    }
                    let args = parse_run(&argv).map_err(|e| fail(format!("`{words}`: {e}")))?;
                    // A rerun (missing artifact) replaces them: its own files.
                    let mut command: Vec<OsString> = vec![exe.into(), "run".into()];
                    command.extend(argv.iter().map(OsString::from));
                    command.extend(["--quiet".into(), "--out".into(), out.clone().into()]);
                    if !artifacts.is_empty() {
                        command.push("--force".into());
                    }
                    runs.push(Run {
                        label: format!("{}: {}", job.name, argv.join(" ")),
                        command,
                        records: out,
                        key: key_of_args(&args),
                        generator: Some(serde_name(args.generator)),
                        artifacts,
                        timeout_s: job.timeout_s.unwrap_or_else(|| default_timeout_s(&args)),
                        mpi_as_root: false,
                    });
                }
            }
        }
        for (i, a) in runs.iter().enumerate() {
            if let Some(b) = runs[i + 1..]
                .iter()
                .find(|b| b.records == a.records && b.key == a.key && b.generator == a.generator)
            {
                return Err(format!(
                    "{origin}: `{}` and `{}` are one configuration in one records file: their \
                     records could not be told apart",
                    a.label, b.label
                ));
            }
        }
        Ok(Plan {
            title: title.into(),
            note: String::new(),
            runs,
        })
    }
}

/// A repetition's own file or directory: `NAME-rR.EXT` (or `NAME-rR`), so that the
/// repetitions of a job keep each its spikes and monitors; `path` itself for a job run once.
fn numbered(path: &Path, repetition: Option<u32>) -> std::path::PathBuf {
    let Some(r) = repetition else {
        return path.to_path_buf();
    };
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(e) => format!("{stem}-r{r}.{}", e.to_string_lossy()),
        None => format!("{stem}-r{r}"),
    };
    path.with_file_name(name)
}

/// One run of a `peer` job: `snn-bench peer WORDS --spikes SPIKES [--repetition R] --out
/// OUT`.
fn peer_run(
    job: &Job,
    words: &str,
    spikes: Option<std::path::PathBuf>,
    exe: &Path,
    out: std::path::PathBuf,
    repetition: Option<u32>,
) -> Result<Run, String> {
    if job.exchange_trace.is_some() || !job.monitor.is_empty() || job.monitor_dir.is_some() {
        return Err("a peer job takes no exchange_trace, monitor or monitor_dir".into());
    }
    let Some(spikes) = spikes else {
        return Err("a peer job needs spikes (the peer's spike file)".into());
    };
    let mut argv: Vec<String> = words.split_whitespace().map(String::from).collect();
    argv.extend(["--spikes".into(), spikes.display().to_string()]);
    if let Some(r) = repetition {
        argv.extend(["--repetition".into(), r.to_string()]);
    }
    let args = parse_peer(&argv).map_err(|e| format!("`{words}`: {e}"))?;
    let mut command: Vec<OsString> = vec![exe.into(), "peer".into()];
    command.extend(argv.iter().map(OsString::from));
    // A rerun (missing artifact) replaces the peer's own files.
    command.extend(["--force".into(), "--out".into(), out.clone().into()]);
    Ok(Run {
        label: format!("{}: peer {}", job.name, argv.join(" ")),
        command,
        records: out,
        key: args.key(),
        generator: None,
        artifacts: vec![spikes.clone(), spikes.with_extension("json")],
        // The peer's own limit plus the inputs' making.
        timeout_s: job.timeout_s.unwrap_or(args.timeout_s + 1800.0),
        mpi_as_root: false,
    })
}

/// Parses `snn-bench peer` arguments (without `peer`).
pub fn parse_peer(argv: &[String]) -> Result<crate::peer::PeerArgs, String> {
    use clap::Parser;
    #[derive(clap::Parser)]
    #[command(name = "snn-bench peer")]
    struct P {
        #[command(flatten)]
        a: crate::peer::PeerArgs,
    }
    let mut full = vec!["snn-bench peer".to_string()];
    full.extend(argv.iter().cloned());
    // --out is the job's; a placeholder satisfies the parser.
    full.extend(["--out".into(), "-".into()]);
    P::try_parse_from(full)
        .map(|p| p.a)
        .map_err(|e| e.to_string().trim().to_string())
}

/// Parses `snn-bench run` arguments (without `run`).
pub fn parse_run(argv: &[String]) -> Result<RunArgs, String> {
    use clap::Parser;
    #[derive(clap::Parser)]
    #[command(name = "snn-bench run")]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }
    let mut full = vec!["snn-bench run".to_string()];
    full.extend(argv.iter().cloned());
    Cli::try_parse_from(&full)
        .map(|c| c.run)
        .map_err(|e| e.to_string().trim().to_string())
}

fn serde_name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Seconds to whole nanoseconds / picoseconds (as sweep keys compare times).
fn nanos(s: f64) -> i64 {
    (s * 1e9).round() as i64
}
fn picos(s: f64) -> i64 {
    (s * 1e12).round() as i64
}

/// The key the record of `snn-bench run ARGS` (one process) will have.
pub fn key_of_args(a: &RunArgs) -> Key {
    let dt = a.dt * 1e-3;
    let steps = (a.simtime / dt).round();
    // A network without connections (poisson) records dt as its delay.
    let network = a.network_name();
    let delay = if network == "poisson" {
        dt
    } else {
        a.delay * 1e-3
    };
    Key {
        network: network.clone(),
        plastic: a.plastic,
        traces: a.plastic.then(|| serde_name(a.traces)),
        precision: a.precision.name().to_string(),
        threads: a.threads as usize,
        ranks: 1,
        hosts: 1,
        delay_ns: nanos(delay),
        latency_ps: picos(a.comm_latency_us * 1e-6),
        partitioner: a.partitioner.name().into(),
        simtime_ns: nanos(steps * dt),
        seed: a.seed,
        repetition: a.repetition,
        dt_ns: nanos(dt),
        timers: a.timers == "on",
        initial_v: crate::networks::initial_v_label(&network, a.init_v),
        weights: match &a.load_weights {
            Some(d) => format!("loaded from {}", d.display()),
            None => "generated from seed".into(),
        },
        simulator: crate::sweep::SNN_LIMITS.into(),
    }
}

/// 60 s + 50 × the model time the run simulates (with a plastic zenke25k's priming).
fn default_timeout_s(a: &RunArgs) -> f64 {
    let priming = match (a.plastic, a.network_name().as_str()) {
        (true, "zenke25k") => a.priming.unwrap_or(3.0 * a.tau_hom.unwrap_or(10.0)),
        (true, _) => a.priming.unwrap_or(0.0),
        _ => 0.0,
    };
    60.0 + 50.0 * (a.simtime + priming)
}

/// The built-in copy of `scripts/jobs/figures.toml`.
pub const FIGURES_SPEC: &str = include_str!("../../scripts/jobs/figures.toml");
/// The built-in copy of `scripts/jobs/workstation.toml`.
pub const WORKSTATION_SPEC: &str = include_str!("../../scripts/jobs/workstation.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_expands_in_order_with_repetitions_outermost() {
        let spec = JobSpec::parse(
            "records = 'r.jsonl'\n[[job]]\nname = 'j'\nrun = 'va --simtime 0.1 --threads \
             {threads} --precision {precision}'\nrepetitions = 2\n\
             vary = { precision = ['f32', 'f64'], threads = [1, 2] }\n",
            "t.toml",
        )
        .unwrap();
        let plan = spec
            .plan("t", "t.toml", Path::new("d"), Path::new("snn-bench"), None)
            .unwrap();
        let labels: Vec<_> = plan.runs.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels.len(), 8);
        assert_eq!(
            labels[0],
            "j: va --simtime 0.1 --threads 1 --precision f32 --repetition 0"
        );
        assert_eq!(
            labels[1],
            "j: va --simtime 0.1 --threads 2 --precision f32 --repetition 0"
        );
        assert_eq!(
            labels[2],
            "j: va --simtime 0.1 --threads 1 --precision f64 --repetition 0"
        );
        assert!(labels[4].ends_with("--repetition 1"));
        assert!(plan
            .runs
            .iter()
            .all(|r| r.records == Path::new("d/r.jsonl")));
        assert_eq!(plan.runs[1].key.threads, 2);
        assert_eq!(plan.runs[2].key.precision, "f64");
    }

    #[test]
    fn bad_specs_name_the_job_and_the_problem() {
        for (text, must) in [
            ("[[job]]\nname = 'a'\nrun = 'va --threads {t}'\n", "{t}"),
            ("[[job]]\nname = 'a'\nrun = 'va --thread 2'\n", "--thread"),
            ("[[job]]\nname = 'a'\nrun = 'va'\ncolour = 1\n", "colour"),
            (
                "[[job]]\nname = 'a'\nrun = 'va'\nvary = { x = [] }\n",
                "empty",
            ),
            (
                "[[job]]\nname = 'a'\nrun = 'va --simtime {s}'\nvary = { s = ['1', '1.0'] }\n",
                "told apart",
            ),
            (
                "[[job]]\nname = 'a'\nrun = 'va'\nmonitor = ['spikes:all']\n",
                "monitor without monitor_dir",
            ),
            (
                "[[job]]\nname = 'a'\nrun = 'va'\nmonitor = ['spikes:all:csv']\nmonitor_dir = 'm'\n",
                "format \"csv\"",
            ),
            ("[[job]]\nname = 'a'\n", "exactly one of run and peer"),
            (
                "[[job]]\nname = 'a'\nrun = 'va'\npeer = 'nest va --simtime 1'\n",
                "exactly one of run and peer",
            ),
            (
                "[[job]]\nname = 'a'\npeer = 'nest va --simtime 1'\n",
                "needs spikes",
            ),
            (
                "[[job]]\nname = 'a'\npeer = 'nest va'\nspikes = 's.npy'\n",
                "--simtime",
            ),
        ] {
            let e = JobSpec::parse(text, "s.toml")
                .and_then(|s| s.plan("t", "s.toml", Path::new("."), Path::new("x"), None))
                .unwrap_err();
            assert!(e.contains("s.toml") && e.contains(must), "{text}: {e}");
        }
    }

    /// Every spec in scripts/jobs/ plans: its run lines parse as `snn-bench run` (or
    /// `peer`) would take them, and no two runs of one records file share a
    /// configuration. The specs run by hand (spread, fig10-novec) are caught here too.
    #[test]
    fn every_spec_in_scripts_jobs_plans() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/jobs");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let plan = JobSpec::load(&path)
                .and_then(|spec| spec.plan(&name, &name, Path::new("d"), Path::new("x"), None))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!plan.runs.is_empty(), "{name}: no runs");
            seen.push(name);
        }
        for must in [
            "figures.toml",
            "spread.toml",
            "fig10-novec.toml",
            "strong16.toml",
        ] {
            assert!(seen.iter().any(|n| n == must), "{must} not among {seen:?}");
        }
    }

    /// The peers' spec: every peer run's key is the key its record will have (the same
    /// function makes both), its spike file and meta file are its artifacts, and the
    /// snn-limits runs beside them are plain runs.
    #[test]
    fn the_peers_spec_expands_to_peer_runs() {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/jobs/peers.toml"),
        )
        .unwrap();
        let plan = JobSpec::parse(&text, "peers.toml")
            .unwrap()
            .plan("peers", "peers.toml", Path::new("d"), Path::new("x"), None)
            .unwrap();
        let peers: Vec<&Run> = plan
            .runs
            .iter()
            .filter(|r| r.command[1] == "peer")
            .collect();
        assert_eq!(
            peers.len(),
            30,
            "(2 peers × (va on 1, 2 threads + brunel static, plastic) + Brian2's zenke25k \
             static, plastic) × 3 repetitions"
        );
        assert_eq!(plan.runs.len() - peers.len(), 18);
        let zenke = peers
            .iter()
            .find(|r| r.label.contains("brian2 zenke25k --plastic"))
            .unwrap();
        assert_eq!(
            zenke.artifacts[0],
            Path::new("d/peers/brian2-zenke25k--plastic-r0.npy")
        );
        let nest2 = peers
            .iter()
            .find(|r| r.label.contains("nest va") && r.label.contains("--threads 2"))
            .unwrap();
        assert_eq!(nest2.key.simulator, "nest");
        assert_eq!(nest2.key.threads, 2);
        assert_eq!(
            nest2.artifacts,
            [
                Path::new("d/peers/nest-va-t2-r0.npy"),
                Path::new("d/peers/nest-va-t2-r0.json")
            ]
        );
        assert!(plan
            .runs
            .iter()
            .filter(|r| r.command[1] == "run")
            .all(|r| r.key.simulator == crate::sweep::SNN_LIMITS));
    }

    /// Repeated jobs keep each repetition's spikes and monitors apart (they were one
    /// file, rewritten by every repetition, so the records of all but the last pointed at
    /// another run's spikes).
    #[test]
    fn repetitions_get_their_own_spike_files_and_monitor_dirs() {
        let text = r#"
[[job]]
name = "p"
peer = "nest va --simtime 1 --threads 1"
spikes = "peers/nest-va.npy"
repetitions = 2

[[job]]
name = "r"
run = "va --simtime 1"
spikes = "s/va.npy"
monitor = ["rate:E:10ms"]
monitor_dir = "s/va-monitors"
repetitions = 2
"#;
        let plan = JobSpec::parse(text, "t.toml")
            .unwrap()
            .plan("t", "t.toml", Path::new("d"), Path::new("x"), None)
            .unwrap();
        let arts: Vec<Vec<String>> = plan
            .runs
            .iter()
            .map(|r| {
                r.artifacts
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect()
            })
            .collect();
        assert_eq!(
            arts[0],
            ["d/peers/nest-va-r0.npy", "d/peers/nest-va-r0.json"]
        );
        assert_eq!(
            arts[1],
            ["d/peers/nest-va-r1.npy", "d/peers/nest-va-r1.json"]
        );
        assert_eq!(arts[2][0], "d/s/va-r0.npy");
        assert!(
            arts[2][1].starts_with("d/s/va-monitors-r0/"),
            "{:?}",
            arts[2]
        );
        assert_eq!(arts[3][0], "d/s/va-r1.npy");
        assert_eq!(numbered(Path::new("a/b.npy"), None), Path::new("a/b.npy"));
    }

    /// The built-in specs expand, and every figure run parses and builds its network.
    #[test]
    fn built_in_specs_are_valid() {
        let dir = Path::new("results/x");
        let figures = JobSpec::parse(FIGURES_SPEC, "figures.toml")
            .unwrap()
            .plan("figures", "figures.toml", dir, Path::new("snn-bench"), None)
            .unwrap();
        // 47 figure runs, and the partitioners': 2 networks × 3 partitioners × 5.
        assert_eq!(figures.runs.len(), 47 + 30);
        // The figures' spike trains and rates are monitors' files, artifacts of their runs.
        let fig2 = figures
            .runs
            .iter()
            .find(|r| r.label.starts_with("fig2-va"))
            .unwrap();
        let names: Vec<String> = fig2
            .artifacts
            .iter()
            .map(|a| a.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "results/x/figures/va-dt0.1-seed1/spikes-all.npy",
                "results/x/figures/va-dt0.1-seed1/rate-E.npy",
                "results/x/figures/va-dt0.1-seed1/rate-I.npy"
            ]
        );
        for r in &figures.runs {
            let argv: Vec<String> = r.command[2..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let args = parse_run(&argv).unwrap();
            crate::run::network(&args).unwrap_or_else(|e| panic!("{}: {e}", r.label));
        }
        let suite = JobSpec::parse(WORKSTATION_SPEC, "workstation.toml")
            .unwrap()
            .plan(
                "suite",
                "workstation.toml",
                dir,
                Path::new("snn-bench"),
                None,
            )
            .unwrap();
        assert_eq!(suite.runs.len(), 3 * 2 * 2);
    }

    /// scripts/jobs/partitioners.toml runs exactly figures.toml's `partitioners` job
    /// (same runs, same records file), interleaved: the three partitioners in turn.
    #[test]
    fn the_partitioners_spec_is_the_figures_job() {
        let dir = Path::new("results/x");
        let exe = Path::new("snn-bench");
        let alone = JobSpec::parse(
            include_str!("../../scripts/jobs/partitioners.toml"),
            "partitioners.toml",
        )
        .unwrap()
        .plan("p", "partitioners.toml", dir, exe, None)
        .unwrap();
        let figures = JobSpec::parse(FIGURES_SPEC, "figures.toml")
            .unwrap()
            .plan("f", "figures.toml", dir, exe, None)
            .unwrap();
        let of_job: Vec<_> = figures
            .runs
            .iter()
            .filter(|r| r.label.starts_with("partitioners: "))
            .collect();
        assert_eq!(alone.runs.len(), 30);
        assert_eq!(of_job.len(), alone.runs.len());
        for (a, b) in alone.runs.iter().zip(of_job) {
            assert_eq!(
                (&a.command, &a.records, &a.key),
                (&b.command, &b.records, &b.key)
            );
        }
        let order: Vec<_> = alone.runs[..6]
            .iter()
            .map(|r| r.key.partitioner.as_str())
            .collect();
        assert_eq!(order, ["block", "round-robin", "balanced"].repeat(2));
        assert!(alone.runs[0].label.contains("hetero --plastic"));
    }
}
