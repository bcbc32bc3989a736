//! A run on a [`Simulation`], in this process or as one rank of an MPI job: priming,
//! the measured run with its checkpoints, the learnt weights. Under MPI every rank
//! runs this; rank 0 writes what is written.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use sim_core::timers::{Clock, Off, On};
use sim_core::{Communicator, Network, Observer, Real, RunConfig, RunResult, Simulation};

use super::RunArgs;
use crate::monitor::weights::Weights;
use crate::weights;

/// Longest stretch of model time between two looks at the interrupt flag when
/// checkpointing (each look starts the threads again: ~50 µs, under 1 % of a second
/// of model time of any network here).
const LOOK_EVERY_S: f64 = 1.0;

pub(super) fn run<R: Real>(
    args: &RunArgs,
    net: &Network,
    cfg: &RunConfig,
    comm: Arc<dyn Communicator>,
    observer: &dyn Observer,
) -> Result<RunResult, String> {
    if cfg.timers {
        run_with::<R, On>(args, net, cfg, comm, observer, On::default())
    } else {
        run_with::<R, Off>(args, net, cfg, comm, observer, Off)
    }
}

fn run_with<R: Real, K: Clock>(
    args: &RunArgs,
    net: &Network,
    cfg: &RunConfig,
    comm: Arc<dyn Communicator>,
    observer: &dyn Observer,
    clock: K,
) -> Result<RunResult, String> {
    let start = Instant::now();
    let root = comm.rank() == 0;
    let ctx = cfg.context(comm);
    // The same on every rank (it depends on the network and the counts only).
    let decomposition = cfg.partitioner.decompose(net, ctx.total_partitions())?;
    let mut sim = match &args.resume_from {
        Some(dir) => Simulation::<R, K>::restore_onto(
            dir,
            net,
            &ctx,
            &decomposition,
            clock,
            cfg.record_spikes,
        )
        .map_err(|e| e.to_string())?,
        None => Simulation::<R, K>::with_decomposition(
            net,
            &ctx,
            &decomposition,
            clock,
            cfg.record_spikes,
        )
        .map_err(|e| e.to_string())?,
    };
    let setup_end = Instant::now();
    sim.prime(cfg.priming_steps);
    let priming_end = Instant::now();
    // After the priming run: rank 0 streams the spike, rate and state monitors and
    // --spikes (it gets every rank's spikes and samples); every rank samples its own
    // neurons for the state monitors and probes its own synapses for the weight
    // monitors (rank 0 writes them).
    let specs = super::monitor_specs(args)?;
    let probes = crate::monitor::state::probes(&specs, net, sim.step())?;
    let streams = args.monitor_dir.is_some() || args.spikes.is_some();
    let monitors = match (streams, root) {
        (true, true) => {
            let (sink, state, monitors) = crate::monitor::start(
                &specs,
                args.monitor_dir.as_deref(),
                args.spikes.as_deref(),
                net,
                sim.step(),
                args.force,
            )?;
            sim.set_spike_sink(Some(sink));
            sim.set_state_probes(probes, state)?;
            Some(monitors)
        }
        _ => {
            sim.set_state_probes(probes, None)?;
            None
        }
    };
    let mut weights = match &args.monitor_dir {
        Some(dir) => Weights::start(&specs, Some(dir), &mut sim, root, args.force)?,
        None => Weights::default(),
    };
    let opts = cfg.options();
    // Paths as absolute: `resume` may be started from another directory.
    let mut saved = args.clone();
    for path in [&mut saved.load_weights, &mut saved.out]
        .into_iter()
        .flatten()
    {
        if let Ok(abs) = std::path::absolute(&*path) {
            *path = abs;
        }
    }
    let extra = serde_json::json!({ "run": saved });
    let interrupted = Arc::new(AtomicBool::new(false));
    let (mut look, mut every) = (0, 0);
    if args.checkpoint.is_some() {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&interrupted))
                .map_err(|e| format!("--checkpoint: cannot catch signal {signal}: {e}"))?;
        }
        let steps_of = |s: f64| ((s / net.dt).round() as u64).max(1);
        every = args.checkpoint_every.map_or(0, steps_of);
        look = steps_of(LOOK_EVERY_S).min(if every > 0 { every } else { u64::MAX });
    }
    let first = sim.step();
    let mut due = first + every;
    let save = |sim: &mut Simulation<R, K>| match &args.checkpoint {
        Some(dir) => sim
            .save(dir, extra.clone())
            .map_err(|e| format!("--checkpoint: {e}")),
        None => Ok(()),
    };
    // Pauses at the union of the looks at the interrupt flag (every `look` steps from
    // the first) and the weight monitors' rows.
    let weights_due = Cell::new(weights.next_due());
    let next = |step: u64| {
        let look_at = (look > 0).then(|| first + ((step - first) / look + 1) * look);
        look_at.into_iter().chain(weights_due.get()).min()
    };
    let mut r = sim.run_pausing_at(cfg.steps, &opts, observer, next, |sim| {
        weights.at_pause(sim)?;
        weights_due.set(weights.next_due());
        if args.checkpoint.is_none() {
            return Ok(true);
        }
        // Every rank stops at the same step if any was signalled.
        let stop = !sim.comm().all_agree(!interrupted.load(Ordering::Relaxed));
        if stop || (every > 0 && sim.step() >= due) {
            save(sim)?;
            due = sim.step() + every;
        }
        Ok::<bool, String>(!stop)
    })?;
    // The monitors' files are complete up to here, whatever comes next (the weight
    // monitors' last row is of this step).
    drop(sim.set_spike_sink(None));
    drop(sim.set_state_probes(Vec::new(), None)?);
    let weights_done = weights.finish(&mut sim);
    if let Some(m) = monitors {
        m.finish()?;
    }
    weights_done?;
    if sim.step() < r.first_step + cfg.steps && r.failure.is_none() {
        // Interrupted. Nothing is lost: the spikes so far are written (the spike file
        // is a monitor), the rest continues from the checkpoint.
        let dir = args
            .checkpoint
            .as_ref()
            .expect("only a checkpointed run is interrupted");
        return Err(format!(
            "interrupted at step {} ({:.3} s of model time): checkpoint written to {}{}; \
             continue with `snn-bench resume {} --simtime S`",
            sim.step(),
            sim.step() as f64 * net.dt,
            dir.display(),
            args.spikes
                .as_ref()
                .map(|p| format!(", the spikes so far to {}", p.display()))
                .unwrap_or_default(),
            dir.display()
        ));
    }
    if r.failure.is_none() {
        save(&mut sim)?;
        if let Some(dir) = &args.save_weights {
            // Collective: every rank hands its synapses to rank 0, which writes them.
            let mut all: Vec<_> = (0..net.connections.len())
                .map(|c| sim.synapses(c))
                .collect();
            if root {
                weights::save_entries(net, dir, args.force, |c| std::mem::take(&mut all[c]))?;
            }
        }
    }
    r.setup_wall = (setup_end - start).as_secs_f64();
    r.priming_wall = (priming_end - setup_end).as_secs_f64();
    Ok(r)
}
