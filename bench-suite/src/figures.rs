//! `snn-bench figures`: the runs whose records and spike files the report's figures are
//! drawn from (paper Fig. 1–10), sized for a workstation (about 7 minutes on 2 cores).
//!
//! The runs are data: the job spec `scripts/jobs/figures.toml` (built into the binary;
//! `--spec FILE` runs another), run by the job runner ([`crate::jobs`]). Each run's
//! records go to `DIR/figures/JOB.jsonl`, its monitors' files (spike trains, population
//! rates) to a monitor directory beside them, its exchange trace beside them. A run is
//! skipped only when its record is there *and* every such file exists and parses, so an
//! interrupted `make bench` picks up where it stopped and a fresh clone (records
//! committed, spike files not) runs what the figures lack. The scaling figures
//! also use the workstation suite's records (`DIR/runs.jsonl`) and any sweep in `DIR`.

use std::path::{Path, PathBuf};

use crate::jobs::{self, RunnerArgs};
use crate::jobspec::{self, JobSpec};

/// `snn-bench figures` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct FiguresArgs {
    /// Results directory; default results/<host>.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Job spec (TOML); default: the built-in copy of scripts/jobs/figures.toml.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// `NAME=V1,V2`: the values of `vary.NAME` in every job that varies it (for example
    /// `--set simulator=nest` runs only NEST's jobs of scripts/jobs/peers.toml); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUES")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub runner: RunnerArgs,
}

/// Loads `spec` or the built-in one; returns it with the name messages use.
pub fn load_spec(
    spec: Option<&Path>,
    built_in: &str,
    name: &str,
) -> Result<(JobSpec, String), String> {
    match spec {
        Some(p) => Ok((JobSpec::load(p)?, p.display().to_string())),
        None => Ok((JobSpec::parse(built_in, name)?, name.to_string())),
    }
}

/// Runs every figure run not done yet into `dir`; `exe` is `snn-bench`.
pub fn execute(exe: &Path, dir: &Path, args: &FiguresArgs) -> Result<(), String> {
    let (spec, origin) = load_spec(
        args.spec.as_deref(),
        jobspec::FIGURES_SPEC,
        "scripts/jobs/figures.toml (built in)",
    )?;
    let mut spec = spec;
    for s in &args.set {
        let Some((name, values)) = s.split_once('=') else {
            return Err(format!("--set {s:?}: expected NAME=V1,V2"));
        };
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(format!("--set {s:?}: an empty value"));
        }
        if !spec.jobs.iter().any(|j| j.vary.contains_key(name)) {
            return Err(format!("--set {s:?}: no job of {origin} varies {name:?}"));
        }
        spec.set(name, &values);
    }
    let plan = spec.plan("figures", &origin, dir, exe, None)?;
    let outcome = jobs::execute(&plan, &args.runner)?;
    if !args.runner.dry_run {
        println!(
            "figures: {} run(s) now, {} already done; records in {}",
            outcome.ran.len(),
            outcome.skipped,
            dir.display()
        );
    }
    Ok(())
}
