//! `snn-bench resume DIR`: continue a run from its checkpoint.
//!
//! The checkpoint's manifest keeps the arguments of the run that wrote it, so the
//! network is built again exactly (name, seed, dt, delays, plasticity, overrides, the
//! weights directory it loaded); the state, spikes in flight included, comes from the
//! checkpoint. What is run next (how long, on how many threads and partitions, by
//! which partitioner, where the outputs go) is this command's.

use std::path::PathBuf;

use crate::run::RunArgs;

#[derive(Debug, Clone, clap::Args)]
pub struct ResumeArgs {
    /// The checkpoint directory (`snn-bench run … --checkpoint DIR`). It moves on with
    /// the run: at the end (and every --checkpoint-every) it holds the newest state.
    pub dir: PathBuf,
    /// Model time to simulate from the checkpoint on, in seconds.
    #[arg(long, allow_negative_numbers = true)]
    pub simtime: f64,
    /// Worker threads (default: the original run's); spikes are the same for any.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Partitions the threads step (default: one per thread).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub partitions: Option<u32>,
    /// How the neurons are split into partitions: block, round-robin or balanced
    /// (default: the original run's); spikes are the same for any.
    #[arg(long, value_parser = crate::run::parse_partitioner)]
    pub partitioner: Option<sim_core::Partitioner>,
    /// Seconds of model time between checkpoints (default: the original run's).
    #[arg(long, allow_negative_numbers = true)]
    pub checkpoint_every: Option<f64>,
    /// Write this run's spikes (steps numbered on from the checkpoint) to this .npy file.
    #[arg(long)]
    pub spikes: Option<PathBuf>,
    /// Save the weights at the end of this run to this directory.
    #[arg(long)]
    pub save_weights: Option<PathBuf>,
    /// Append the results record to this file (default: the original run's --out).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Let --spikes and --save-weights replace existing files of their own kind.
    #[arg(long)]
    pub force: bool,
    /// No progress bar and no summary table on stdout.
    #[arg(long)]
    pub quiet: bool,
}

/// The arguments of the run that continues the checkpoint in `a.dir`.
pub fn args(a: &ResumeArgs) -> Result<RunArgs, String> {
    let manifest = sim_core::checkpoint::read_manifest(&a.dir).map_err(|e| e.to_string())?;
    let run = manifest
        .meta
        .get("extra")
        .and_then(|e| e.get("run"))
        .ok_or_else(|| {
            format!(
                "{}: the checkpoint does not say how its network was built (no \
                 meta.extra.run in manifest.json): was it written by `snn-bench run \
                 --checkpoint`?",
                a.dir.display()
            )
        })?;
    let original: RunArgs = serde_json::from_value(run.clone()).map_err(|e| {
        format!(
            "{}: manifest.json meta.extra.run: {e}",
            a.dir.join("manifest.json").display()
        )
    })?;
    Ok(RunArgs {
        simtime: a.simtime,
        threads: a.threads.unwrap_or(original.threads),
        partitions: a.partitions.or(original.partitions),
        partitioner: a.partitioner.unwrap_or(original.partitioner),
        checkpoint: Some(a.dir.clone()),
        checkpoint_every: a.checkpoint_every.or(original.checkpoint_every),
        resume_from: Some(a.dir.clone()),
        spikes: a.spikes.clone(),
        save_weights: a.save_weights.clone(),
        save_initial_weights: None,
        exchange_trace: None,
        // The monitors' files are the first run's: a resumed run writes none.
        monitors: Vec::new(),
        monitor_dir: None,
        out: a.out.clone().or(original.out.clone()),
        force: a.force,
        quiet: a.quiet,
        expect_ranks: None,
        // The first run's profile is its own.
        profile: None,
        profile_phase: None,
        ..original
    })
}
