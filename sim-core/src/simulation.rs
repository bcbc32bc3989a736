//! A built network that runs any number of times: continue, change, save, restore.
//!
//! The model / execution split (as Arbor's recipe, context, decomposition and
//! simulation): the [`Network`] says what runs and knows no thread counts; the
//! [`Context`] says on what (threads of this process, how many partitions, the
//! communicator between processes); the [`Decomposition`] (from a
//! [`crate::partition::Partitioner`]: block, round-robin or balanced) says which
//! partition owns which neurons; the `Simulation` holds this process's partitions'
//! state and steps it. Threads in one process, MPI ranks and both together are one
//! code path: the ranks differ only in the communicator.
//! `run(steps)` may be called again and again: a run of T1 steps and then T2 steps
//! gives the spikes of one run of T1 + T2 steps, bit for bit (an exchange at the end
//! of a run only makes spikes available earlier than a delay needs them).

use std::sync::Arc;
use std::time::{Duration, Instant};

mod probe;
mod save;
pub use probe::WeightProbe;
pub use save::RestoreError;

use crate::comm::{Communicator, Delayed, Local};
use crate::engine::pool::Pool;
use crate::engine::{assemble, per_thread, Observer, Outcome, RunResult, SimError, WorkerReport};
use crate::model::Network;
use crate::partition::Decomposition;
use crate::real::Real;
use crate::timers::Clock;

/// How a simulation executes: nothing here changes what the network is (or its
/// spikes: they are the same for any context).
#[derive(Debug, Clone)]
pub struct Context {
    /// Threads of this process that step its partitions.
    pub threads: usize,
    /// Partitions of this process (fewer than the threads means one per thread); any
    /// free thread takes a partition's next exchange window. Every rank has as many.
    pub partitions: usize,
    /// A fixed wait added to every exchange (in `sync`), standing in for a slower
    /// interconnect: the communicator is wrapped in a [`Delayed`].
    pub injected_latency: Duration,
    /// The exchange between processes ([`Local`] for one process).
    pub comm: Arc<dyn Communicator>,
}

impl Context {
    /// `threads` threads in this one process.
    pub fn threads(threads: usize) -> Context {
        Context {
            threads,
            partitions: 0,
            injected_latency: Duration::ZERO,
            comm: Arc::new(Local),
        }
    }

    /// Partitions of this process.
    pub fn local_partitions(&self) -> usize {
        self.partitions.max(self.threads)
    }

    /// Partitions of the whole run, every rank's.
    pub fn total_partitions(&self) -> usize {
        self.local_partitions() * self.comm.size()
    }
}

/// What one run records beyond the counts and phase times.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Call [`Observer::progress`] about every this many steps (0: never).
    pub progress_every: u64,
    /// Keep each thread's arrival time at every exchange (needs timers).
    pub trace_exchanges: bool,
}

/// A network built once, as partitions in this process (this rank's share under MPI),
/// run as often as wanted. Under MPI every rank makes the same calls in the same order
/// (each run, save and restore is collective).
pub struct Simulation<R: Real, K: Clock> {
    net: Network,
    pool: Pool<R, K>,
    /// Steps done since the network was built (the next step's number).
    step: u64,
    /// Building the network, seconds of wall time.
    setup_wall: f64,
}

impl<R: Real, K: Clock> Simulation<R, K> {
    /// Builds `net` for `ctx` in near-equal blocks ([`Decomposition::block`]), keeping
    /// every spike of each run if `record_spikes`.
    pub fn new(
        net: &Network,
        ctx: &Context,
        clock: K,
        record_spikes: bool,
    ) -> Result<Self, SimError> {
        // Every partition gets a neuron (with_decomposition checks the rest).
        net.check_split(ctx.total_partitions())?;
        let decomposition = Decomposition::block(net, ctx.total_partitions());
        Self::with_decomposition(net, ctx, &decomposition, clock, record_spikes)
    }

    /// As [`Simulation::new`], with the partitions of `decomposition` (every rank's,
    /// `ctx.total_partitions()` of them; rank r builds the r-th run of
    /// `ctx.local_partitions()`). The spikes are the same for any decomposition.
    pub fn with_decomposition(
        net: &Network,
        ctx: &Context,
        decomposition: &Decomposition,
        clock: K,
        record_spikes: bool,
    ) -> Result<Self, SimError> {
        net.validate()?;
        if ctx.threads == 0 {
            return Err(SimError::NoThreads(0));
        }
        let total = ctx.total_partitions();
        if decomposition.partitions.len() != total {
            return Err(SimError::Decomposition(format!(
                "{} partitions, expected {total} (partitions per rank × ranks)",
                decomposition.partitions.len()
            )));
        }
        decomposition.check(net).map_err(SimError::Decomposition)?;
        let per_rank = ctx.local_partitions();
        let first = ctx.comm.rank() * per_rank;
        let mine = &decomposition.partitions[first..first + per_rank];
        let start = Instant::now();
        let comm: Arc<dyn Communicator> = match ctx.injected_latency.is_zero() {
            true => ctx.comm.clone(),
            false => Arc::new(Delayed {
                inner: ctx.comm.clone(),
                latency: ctx.injected_latency,
            }),
        };
        let pool = Pool::build(net, ctx.threads, mine, clock, record_spikes, comm);
        // Every rank has built its share: the setup time is the slowest rank's.
        pool.comm().barrier();
        Ok(Simulation {
            net: net.clone(),
            pool,
            step: 0,
            setup_wall: start.elapsed().as_secs_f64(),
        })
    }

    pub fn network(&self) -> &Network {
        &self.net
    }

    /// The number of the next step (steps done since the network was built).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Seconds of wall time it took to build the network.
    pub fn setup_wall(&self) -> f64 {
        self.setup_wall
    }

    /// Partitions of this process.
    pub fn partitions(&self) -> usize {
        self.pool.partitions()
    }

    /// Streams the spikes of every exchange from now on to `sink` (see
    /// [`crate::monitor`]; None stops), and returns the sink it replaces, so the caller
    /// can finish it. Under MPI give it on rank 0 only (the others' is never called
    /// with anything but what rank 0 gets, and would write the same again).
    pub fn set_spike_sink(
        &mut self,
        sink: Option<Box<dyn crate::monitor::SpikeSink>>,
    ) -> Option<Box<dyn crate::monitor::SpikeSink>> {
        self.pool.set_sink(sink)
    }

    /// Samples the state probes `probes` from now on (replacing any before; see
    /// [`crate::monitor`]), their rows going to `sink`, and returns the sink it
    /// replaces. Under MPI every rank gives the same probes, and rank 0 alone a sink.
    /// Nothing changes on an error, which names the probe and what was expected.
    pub fn set_state_probes(
        &mut self,
        probes: Vec<crate::monitor::StateProbe>,
        sink: Option<Box<dyn crate::monitor::StateSink>>,
    ) -> Result<Option<Box<dyn crate::monitor::StateSink>>, String> {
        for probe in &probes {
            probe.check(&self.net)?;
        }
        Ok(self.pool.set_probes(&self.net, probes, sink))
    }

    /// The exchange between processes (to agree with the other ranks between runs).
    pub fn comm(&self) -> &dyn Communicator {
        self.pool.comm()
    }

    /// Runs `steps` more steps. The result counts this run only (its spikes, phase
    /// times, statistics); the state carries on. A run after a NaN or infinite state
    /// (`result.failure`) steps nothing. Under MPI rank 0's result is the whole run's
    /// (every rank's threads, neurons and spikes); another rank's is its own share.
    pub fn run(&mut self, steps: u64, opts: &RunOptions, observer: &dyn Observer) -> RunResult {
        let never = |_: &mut Self| -> Result<bool, std::convert::Infallible> { Ok(true) };
        match self.run_with_pauses(steps, opts, observer, 0, never) {
            Ok(r) => r,
            Err(e) => match e {},
        }
    }

    /// As [`Simulation::run`], pausing after every `every` steps (0: never) to call
    /// `pause(self)`, e.g. to write a checkpoint; `pause` returns whether to go on (a
    /// signal may end the run early: the result then counts the steps done). The time
    /// spent in `pause` is not the run's. Pausing changes no spike. Under MPI `pause`
    /// must return the same on every rank (see [`Communicator::all_agree`]).
    pub fn run_with_pauses<E>(
        &mut self,
        steps: u64,
        opts: &RunOptions,
        observer: &dyn Observer,
        every: u64,
        pause: impl FnMut(&mut Self) -> Result<bool, E>,
    ) -> Result<RunResult, E> {
        let next = |step: u64| (every > 0).then(|| step + every);
        self.run_pausing_at(steps, opts, observer, next, pause)
    }

    /// As [`Simulation::run_with_pauses`], pausing at the steps `next` gives:
    /// `next(step)` is the first step after `step` to pause at (None: none), e.g. the
    /// union of a checkpoint schedule and a monitor's intervals. No pause at the run's
    /// end.
    pub fn run_pausing_at<E>(
        &mut self,
        steps: u64,
        opts: &RunOptions,
        observer: &dyn Observer,
        mut next: impl FnMut(u64) -> Option<u64>,
        mut pause: impl FnMut(&mut Self) -> Result<bool, E>,
    ) -> Result<RunResult, E> {
        let start = self.step;
        self.pool.each_worker(|w| {
            w.reset_measurements();
            if opts.trace_exchanges {
                w.trace_exchanges();
            }
        });
        self.pool.reset_threads();
        let d = self.net.min_delay_steps().expect("validated network") as u64;
        let (mut windows, mut run_wall) = (0, 0.0);
        // The ranks start the run together, so that their walls and traces compare.
        self.pool.comm().barrier();
        observer.run_started();
        while self.step < start + steps {
            let end = start + steps;
            let n = next(self.step).map_or(end, |p| p.clamp(self.step + 1, end)) - self.step;
            windows += crate::engine::pool::window_count(self.step, n, d);
            let t0 = Instant::now();
            self.pool
                .run_segment(self.step, n, true, observer, start, opts.progress_every);
            run_wall += t0.elapsed().as_secs_f64();
            self.step = self.pool.step();
            if self.pool.stopped() || (self.step < start + steps && !pause(self)?) {
                break;
            }
        }
        observer.run_finished();
        let (mut outcomes, threads) = self.pool.outcomes(windows);
        outcomes[0].walls = Some((0.0, 0.0, run_wall));
        let reports: Vec<WorkerReport> = outcomes.iter().map(|o| o.report.clone()).collect();
        let mut workers = per_thread(&reports, threads);
        if self.pool.comm().size() > 1 {
            if let Some(all) = gather_to_root(self.pool.comm(), &outcomes, &workers) {
                (outcomes, workers) = all;
            }
        }
        let mut r = assemble(
            &self.net,
            self.step - start,
            outcomes,
            self.pool.comm().name(),
        );
        r.workers = workers;
        r.first_step = start;
        r.exchanges = windows;
        Ok(r)
    }

    /// Every synapse of connection `c` as (pre, post, weight), pre and post indices
    /// within their populations, ordered by (post, pre): the same list for any
    /// partitioning (synapses between the same pair keep the order they were built in).
    /// Under MPI every rank calls it; rank 0 gets every rank's synapses, the others
    /// their own.
    pub fn synapses(&mut self, c: usize) -> Vec<(u32, u32, f64)> {
        let post = self.net.connections[c].post;
        let mut all = Vec::new();
        self.pool.each_worker(|w| {
            let first = w.partition().ranges[post].start as u32;
            all.extend(
                w.connection(c)
                    .entries()
                    .map(|(i, j, x)| (i, first + j, x.to_f64())),
            );
        });
        let comm = self.pool.comm();
        if comm.size() > 1 {
            // (pre, post, weight) as 16 little-endian bytes each.
            let bytes: Vec<u8> = all
                .iter()
                .flat_map(|&(i, j, w)| {
                    [i.to_le_bytes(), j.to_le_bytes()]
                        .concat()
                        .into_iter()
                        .chain(w.to_le_bytes())
                })
                .collect();
            if let Some(parts) = comm.gather_bytes(&bytes) {
                all = parts
                    .iter()
                    .flat_map(|p| p.chunks_exact(16))
                    .map(|b| {
                        let u = |k: usize| u32::from_le_bytes(b[k..k + 4].try_into().unwrap());
                        (u(0), u(4), f64::from_le_bytes(b[8..16].try_into().unwrap()))
                    })
                    .collect();
            }
        }
        // Stable: a pair's synapses stay in build order (pre-major within a partition,
        // partitions and ranks in order).
        all.sort_by_key(|&(i, j, _)| (j, i));
        all
    }

    /// Sets every weight of connection `c`, static or plastic, from the next step on:
    /// `w` in the order of [`Simulation::synapses`] ((post, pre)). In one process
    /// (under MPI a rank does not know where its synapses begin in the list). Nothing
    /// changes on an error.
    pub fn set_weights(&mut self, c: usize, w: &[f64]) -> Result<(), String> {
        let name = &self.net.connections[c].name;
        if self.pool.comm().size() > 1 {
            return Err(format!("{name}: weights are set in one process only"));
        }
        let mut n = 0;
        self.pool
            .each_worker(|wk| n += wk.connection(c).synapse_count());
        if w.len() != n {
            return Err(format!("{name}: {} weights for {n} synapses", w.len()));
        }
        if let Some((m, x)) = w.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(format!(
                "{name}: synapse {m}: weight {x}, expected a finite number"
            ));
        }
        let mut first = 0;
        let mut result = Ok(());
        self.pool.each_worker(|wk| {
            let k = wk.connection(c).synapse_count();
            if result.is_ok() {
                result = wk.connection_mut(c).set_weights(&w[first..first + k]);
            }
            first += k;
        });
        result.map_err(|e| format!("{name}: {e}"))
    }

    /// The weights of connection `c`, in the order of [`Simulation::synapses`].
    pub fn weights(&mut self, c: usize) -> Vec<f64> {
        self.synapses(c).into_iter().map(|(_, _, w)| w).collect()
    }

    /// A priming run of `steps` steps: the weights fixed (plastic connections keep
    /// their traces going), its measurements dropped, learning on afterwards.
    pub fn prime(&mut self, steps: u64) {
        if steps > 0 {
            self.set_learning(false);
            self.run(steps, &RunOptions::default(), &crate::engine::Quiet);
            self.set_learning(true);
        }
    }

    /// Fires the Poisson population `pop` at `hz` (Hz) from the next step on, every
    /// neuron alike (rates set per neuron end). Nothing changes on an error.
    pub fn set_input_rate(&mut self, pop: &str, hz: f64) -> Result<(), String> {
        let p = self.poisson(pop)?;
        if !(hz.is_finite() && hz >= 0.0) {
            return Err(format!("{pop}: rate {hz} Hz: expected a finite rate >= 0"));
        }
        let mut result = Ok(());
        self.pool.each_worker(|w| {
            if result.is_ok() {
                result = w.population_mut(p).set_rate(hz);
            }
        });
        result.map_err(|e| format!("{pop}: {e}"))
    }

    /// The index of Poisson population `pop`.
    fn poisson(&self, pop: &str) -> Result<usize, String> {
        let p = (self.net.populations.iter())
            .position(|s| s.name == pop)
            .ok_or_else(|| format!("{pop}: no such population"))?;
        match self.net.populations[p].model {
            crate::model::NeuronModel::Poisson(_) => Ok(p),
            _ => Err(format!("{pop}: only Poisson sources have a rate")),
        }
    }

    /// Fires the Poisson population `pop` at one rate per neuron (`hz`, Hz, in the
    /// population's order) from the next step on; the neurons draw per step (see
    /// `neuron::poisson`), until [`Simulation::set_input_rate`]. They are state: a
    /// checkpoint keeps them (`pop/<pop>/neuron_rate`). Nothing changes on an error.
    pub fn set_input_rates(&mut self, pop: &str, hz: &[f64]) -> Result<(), String> {
        let p = self.poisson(pop)?;
        let size = self.net.populations[p].size;
        if hz.len() != size {
            return Err(format!(
                "{pop}: {} rates, expected one per neuron ({size})",
                hz.len()
            ));
        }
        if let Some((i, r)) = hz
            .iter()
            .enumerate()
            .find(|(_, r)| !(r.is_finite() && **r >= 0.0))
        {
            return Err(format!(
                "{pop}: neuron {i}: rate {r} Hz: expected a finite rate >= 0"
            ));
        }
        let mut result = Ok(());
        self.pool.each_worker(|w| {
            let owned = w.partition().ranges[p].clone();
            if result.is_ok() {
                result = w.population_mut(p).set_rates(&hz[owned]);
            }
        });
        result.map_err(|e| format!("{pop}: {e}"))
    }

    /// Switches weight updates of every plastic connection on or off, from the next
    /// step on.
    pub fn set_learning(&mut self, on: bool) {
        self.pool.each_worker(|w| w.set_learning(on));
    }
}

/// Every rank's partition outcomes and thread reports at rank 0, in rank order (as JSON:
/// they are sent once per run, and this keeps the exchange to plain byte buffers);
/// `None` on the other ranks.
fn gather_to_root(
    comm: &dyn Communicator,
    outcomes: &[Outcome],
    workers: &[WorkerReport],
) -> Option<(Vec<Outcome>, Vec<WorkerReport>)> {
    let bytes = serde_json::to_vec(&(outcomes, workers)).expect("outcomes serialise");
    let parts = comm.gather_bytes(&bytes)?;
    let (mut all_o, mut all_w) = (Vec::new(), Vec::new());
    for part in parts {
        let (o, w): (Vec<Outcome>, Vec<WorkerReport>) =
            serde_json::from_slice(&part).expect("outcomes from another rank deserialise");
        all_o.extend(o);
        all_w.extend(w);
    }
    Some((all_o, all_w))
}
