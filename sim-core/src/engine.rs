//! A partition's step pipeline: its state, its counters and the phases of one step.
//!
//! A [`Worker`] is one partition as the pipeline steps it: its `PartitionState` (what a
//! checkpoint saves: populations, connections, offsets, step), its `Counters` (plain
//! measured numbers, cleared at the start of a run) and the scratch buffers of a step.
//! One step (`Worker::advance_reading`): `evolve` (integrate the local neurons, collect
//! their spikes) → `propagate` (deliver the spikes emitted one delay ago through the
//! local synapses) → `plasticity`. The spikes of earlier steps are read from the
//! process's spike history (`history`).
//!
//! The run drivers are elsewhere: the pooled scheduler (`pool`) steps a process's
//! partitions on its threads and, every `min_delay` steps, exchanges their spikes with
//! the other ranks (its waits count as `barrier`, the exchange as `sync`); a
//! [`Simulation`] owns the pool, in one process or as one MPI rank. Here are the
//! one-shot entry point for one process ([`simulate`], with [`RunConfig`]) and the
//! assembly of a run's result. ([`Worker::step`] steps a partition that is the whole
//! network on its own, for tests.)
//!
//! A spike emitted at step s reaches its target's input at step s + delay (in that
//! step's `propagate`), i.e. it acts on the membrane from step s + delay + 1 on. Since
//! every delay is at least `min_delay`, a window's spikes are exchanged before any
//! partition needs them.

use std::time::Instant;

use crate::comm::Spike;
use crate::connection::Connection;
use crate::health::{NonFinite, Watch, ALARM};
use crate::model::{ModelError, Network};
use crate::neuron::Population;
use crate::partition::Partition;
use crate::real::Real;
use crate::rng::CounterRng;
use crate::simulation::{Context, RunOptions, Simulation};
use crate::stats::SpikeStats;
use crate::timers::{Clock, Off, On, PhaseTimes};
use history::History;

mod history;
pub(crate) mod pool;

/// How a run is executed (nothing here changes what the network is).
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Threads of this process (of each rank, under MPI).
    pub threads: usize,
    /// Partitions the threads step (at least one per thread; fewer means one per
    /// thread): any free thread takes a partition's next window.
    pub partitions: usize,
    /// Steps of the measured run.
    pub steps: u64,
    /// Steps run first with the weights fixed (plastic connections keep their traces
    /// going), e.g. the zenke25k network's 3·τ_hom, so that the homeostatic trace has
    /// settled when learning starts. Not timed, not counted, spikes not recorded.
    pub priming_steps: u64,
    /// Phase timers; `false` only to measure the timers' own overhead.
    pub timers: bool,
    /// Keep every spike (step, gid) for output.
    pub record_spikes: bool,
    /// Call [`Observer::progress`] about every this many steps (0: never).
    pub progress_every: u64,
    /// A fixed wait added to every exchange (in `sync`), standing in for a slower
    /// interconnect: these VMs have no netem.
    pub injected_latency: std::time::Duration,
    /// Keep each worker's arrival time at every exchange (needs timers).
    pub trace_exchanges: bool,
    /// How the neurons are split into the partitions (spikes are the same for any).
    pub partitioner: crate::partition::Partitioner,
}

impl RunConfig {
    /// Where the run executes: this process, whose ranks `comm` connects.
    pub fn context(&self, comm: std::sync::Arc<dyn crate::comm::Communicator>) -> Context {
        Context {
            threads: self.threads,
            partitions: self.partitions,
            injected_latency: self.injected_latency,
            comm,
        }
    }

    /// What the measured run records.
    pub fn options(&self) -> RunOptions {
        RunOptions {
            progress_every: self.progress_every,
            trace_exchanges: self.trace_exchanges,
        }
    }
}

/// Hooks for a progress bar and CPU-time marks. `run_started`/`run_finished` are called
/// once per process (under MPI, on every rank), `progress` by worker 0 only.
pub trait Observer: Sync {
    /// All workers have built their partitions; the timed run starts now.
    fn run_started(&self) {}
    /// `spikes` is the number of spikes exchanged so far, network-wide.
    fn progress(&self, _step: u64, _spikes: u64) {}
    fn run_finished(&self) {}
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// What one worker did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WorkerReport {
    pub neurons: usize,
    pub synapses: usize,
    pub phases: PhaseTimes,
    pub spikes: u64,
    /// Synaptic events, through every connection.
    pub events: u64,
    /// The part of `events` through plastic connections (timed under plasticity).
    #[serde(default)]
    pub plastic_events: u64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub steps: u64,
    /// The number of the run's first step (steps done before it on the same
    /// simulation, or in the run a checkpoint was taken from).
    pub first_step: u64,
    pub min_delay_steps: usize,
    pub communicator: &'static str,
    /// Building the network (connectivity, state), seconds of wall time.
    pub setup_wall: f64,
    /// The priming run (weights fixed), seconds of wall time.
    pub priming_wall: f64,
    /// The step loop, seconds of wall time.
    pub run_wall: f64,
    /// One per worker: thread (of every rank), or partition where a thread owns one.
    pub workers: Vec<WorkerReport>,
    /// Partitions the network was split into (at least the workers).
    pub partitions: usize,
    /// What each partition owned (every rank's, under MPI at rank 0).
    pub decomposition: crate::partition::Decomposition,
    /// Spike exchanges in the run (each ends a window of at most min-delay steps).
    pub exchanges: u64,
    /// Per-neuron statistics, indexed by global id.
    pub stats: SpikeStats,
    /// Every spike, sorted by (step, gid), if recorded.
    pub spikes: Option<Vec<Spike>>,
    /// If traced: for each worker, its arrival at every exchange, in seconds since it
    /// left the barrier that starts the run (the same moment for every worker, so
    /// the times compare across workers, ranks and hosts without synchronised clocks).
    pub arrivals: Option<Vec<Vec<f64>>>,
    /// Mean number of threads that took work per exchange window (the pooled scheduler
    /// runs fewer while other processes need the cores); None where every thread
    /// always works (one thread, MPI).
    pub threads_active_mean: Option<f64>,
    /// The run stopped early: a neuron's state became NaN or infinite.
    pub failure: Option<NonFinite>,
}

impl RunResult {
    pub fn synapses(&self) -> usize {
        self.workers.iter().map(|w| w.synapses).sum()
    }
    pub fn spike_count(&self) -> u64 {
        self.workers.iter().map(|w| w.spikes).sum()
    }
    pub fn events(&self) -> u64 {
        self.workers.iter().map(|w| w.events).sum()
    }
    pub fn plastic_events(&self) -> u64 {
        self.workers.iter().map(|w| w.plastic_events).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("threads = {0}: expected at least 1")]
    NoThreads(usize),
    #[error("decomposition: {0}")]
    Decomposition(String),
}

const EVOLVE: usize = 0;
const PROPAGATE: usize = 1;
const PLASTICITY: usize = 2;
const BARRIER: usize = 3;
const SYNC: usize = 4;

/// One partition of the network as the pipeline steps it: its state, the counters the
/// steps add to, what it records, and the scratch buffers of a step. (The phases of a
/// step are [`Worker::advance_reading`]; the exchange between partitions is the
/// scheduler's, see [`pool`].)
pub struct Worker<R: Real, K: Clock> {
    state: PartitionState<R>,
    counters: Counters,
    /// The spikes of the last steps (this worker's own, when it is stepped alone; the
    /// pooled scheduler's partitions read their process's instead).
    history: History,
    /// First step of the block since the last exchange.
    block_start: u64,
    /// Scratch: this block's spikes, the last exchange's, and each population's local
    /// indices that spiked in the current step.
    emitted: Vec<Spike>,
    received: Vec<Spike>,
    fired: Vec<Vec<u32>>,
    clock: K,
    /// When the current compute interval began (ticks).
    block_t0: u64,
    /// Per-neuron spike statistics and, if recording, every spike of this partition.
    stats: SpikeStats,
    record: Option<Vec<Spike>>,
    /// The NaN/inf watch over the state (see [`crate::health`]).
    watch: Watch,
}

/// Everything that determines a partition's future: what a checkpoint saves (with
/// the spikes in flight, which are the process's).
pub(crate) struct PartitionState<R: Real> {
    partition: Partition,
    /// Global id of each population's first local neuron.
    pop_offsets: Vec<u32>,
    /// Index into the local statistics of each population's first local neuron.
    local_offsets: Vec<usize>,
    populations: Vec<Population<R>>,
    connections: Vec<Connection<R>>,
    min_delay: u64,
    /// The next step's number.
    step: u64,
    /// Whether any connection is plastic.
    plastic: bool,
}

/// What a partition measured since the last reset: plain numbers (as rapier's
/// `Counters`) that the steps add to, a report reads and a reset clears.
///
/// Aligned to lines of their own (128 bytes: two 64-byte lines, for the adjacent-line
/// prefetcher): the counters are written at every sampled step and every window, and
/// left to the layout they shared a line with data the other thread writes (the pool
/// keeps the partitions side by side), which made 2-thread va 6–7 % slower with timers
/// on than off (README, performance notes).
#[derive(Debug, Clone, Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    /// Sampled evolve/propagate/plasticity ticks, exact barrier/sync ticks.
    ticks: [u64; 5],
    /// Exact ticks spent between exchanges.
    compute_ticks: u64,
    spikes: u64,
    /// Synaptic events, and the part of them through plastic connections.
    events: u64,
    plastic_events: u64,
    /// Spikes exchanged, network-wide.
    exchanged: u64,
    /// Arrival ticks at each exchange since `trace_t0`, when tracing.
    arrivals: Option<Vec<u64>>,
    trace_t0: u64,
}

impl<R: Real, K: Clock> Worker<R, K> {
    /// The whole of `net` as one partition, stepped on its own (by [`Worker::step`]:
    /// tests of what one step does). `net` must be validated.
    pub fn new(net: &Network, clock: K, record_spikes: bool) -> Self {
        Self::with_partition(net, Partition::block(net, 0, 1), clock, record_spikes)
    }

    /// Partition `partition` of `net`, to be stepped by the pooled scheduler.
    pub(crate) fn with_partition(
        net: &Network,
        partition: Partition,
        clock: K,
        record_spikes: bool,
    ) -> Self {
        let rng = CounterRng::new(net.seed);
        let offsets = net.offsets();
        let populations: Vec<Population<R>> = net
            .populations
            .iter()
            .zip(&partition.ranges)
            .zip(&offsets)
            .map(|((spec, r), &off)| Population::new(spec, net.dt, off, r.clone(), &rng))
            .collect();
        let connections = (0..net.connections.len())
            .map(|c| {
                let post = net.connections[c].post;
                Connection::build(net, c, partition.ranges[post].clone(), &rng)
            })
            .collect();
        let min_delay = net.min_delay_steps().expect("validated network");
        let ring = net.max_delay_steps().expect("validated network") + min_delay;
        let mut local_offsets = Vec::new();
        let mut acc = 0;
        for r in &partition.ranges {
            local_offsets.push(acc);
            acc += r.len();
        }
        let watch = Watch::new(net, &partition, min_delay as u64);
        Worker {
            watch,
            stats: SpikeStats::new(partition.neuron_count()),
            state: PartitionState {
                pop_offsets: offsets
                    .iter()
                    .zip(&partition.ranges)
                    .map(|(&o, r)| (o + r.start) as u32)
                    .collect(),
                local_offsets,
                partition,
                populations,
                connections,
                min_delay: min_delay as u64,
                step: 0,
                plastic: net.connections.iter().any(|c| c.plasticity.is_some()),
            },
            counters: Counters::default(),
            history: History::new(ring, net.populations.iter().map(|p| p.size)),
            block_start: 0,
            emitted: Vec::new(),
            received: Vec::new(),
            fired: vec![Vec::new(); net.populations.len()],
            block_t0: clock.now(),
            clock,
            record: record_spikes.then(Vec::new),
        }
    }

    /// Advances a partition that is the whole network by one time step (and takes its
    /// spikes into its own history at block ends, as an exchange would).
    pub fn step(&mut self) {
        self.advance();
        if self.state.step % self.state.min_delay == 0 {
            let checked = (self.watch).before_exchange(
                &self.state.populations,
                self.state.step,
                &mut self.emitted,
            );
            self.exchange();
            if checked {
                self.watch.after_exchange(&self.received);
            }
        }
    }

    /// One time step without the exchange that may end it.
    pub(crate) fn advance(&mut self) {
        // Taken out for the step (a move of three words) so that the step may borrow
        // the rest of the worker mutably.
        let history = std::mem::take(&mut self.history);
        self.advance_reading(&history);
        self.history = history;
    }

    /// One time step, reading the spikes of earlier steps from `history`.
    pub(crate) fn advance_reading(&mut self, history: &History) {
        let step = self.state.step;
        // One step per exchange interval, rotating through the interval's positions, is
        // timed phase by phase; see `report` for how that splits the exactly timed
        // compute time between evolve and propagate.
        let sampled =
            step % self.state.min_delay == (step / self.state.min_delay) % self.state.min_delay;
        let t0 = if sampled { self.clock.now() } else { 0 };
        for (p, pop) in self.state.populations.iter_mut().enumerate() {
            let spiked = &mut self.fired[p];
            spiked.clear();
            pop.evolve(spiked);
            let (base, local) = (self.state.pop_offsets[p], self.state.local_offsets[p]);
            for &i in spiked.iter() {
                self.emitted.push(Spike {
                    step,
                    gid: base + i,
                });
                self.stats.record(local + i as usize, step);
            }
            self.counters.spikes += spiked.len() as u64;
        }
        // Plastic connections' traces decay with the neurons (in the evolve phase).
        if self.state.plastic {
            for c in &mut self.state.connections {
                c.begin_step();
            }
        }
        let t1 = if sampled { self.clock.now() } else { 0 };
        for c in 0..self.state.connections.len() {
            if !self.state.connections[c].is_plastic() {
                self.deliver(c, step, history);
            }
        }
        let t2 = if sampled { self.clock.now() } else { 0 };
        // Plasticity: everything a plastic connection does, as the paper's "Triplet":
        // its arrivals (depression, then delivery), then potentiation on this step's
        // postsynaptic spikes. Without plastic connections the phase does no work and its
        // clock is not read.
        if self.state.plastic {
            for c in 0..self.state.connections.len() {
                if self.state.connections[c].is_plastic() {
                    self.deliver(c, step, history);
                    let post = self.state.connections[c].post;
                    self.state.connections[c].potentiate(&self.fired[post], step);
                }
            }
        }
        if sampled {
            let t3 = if self.state.plastic {
                self.clock.now()
            } else {
                t2
            };
            self.counters.ticks[EVOLVE] += t1 - t0;
            self.counters.ticks[PROPAGATE] += t2 - t1;
            self.counters.ticks[PLASTICITY] += t3 - t2;
        }
        self.state.step += 1;
    }

    /// Whether a worker found a NaN or infinite state: every worker sees it after the
    /// same exchange, and the run stops there.
    pub fn stopped(&self) -> bool {
        self.watch.stop
    }

    /// The NaN or infinite value this worker found, scanning its state now if it has
    /// not found one yet (at the end of a run, no need for all workers to agree).
    pub fn check_state(&mut self) -> Option<&NonFinite> {
        self.watch.scan(&self.state.populations, self.state.step);
        self.watch.failure.as_ref()
    }

    /// Delivers to connection `c`'s targets the spikes emitted one delay before `step`.
    fn deliver(&mut self, c: usize, step: u64, history: &History) {
        let conn = &mut self.state.connections[c];
        let Some(emitted_at) = step.checked_sub(conn.delay_steps as u64) else {
            return;
        };
        let input = self.state.populations[conn.post].input(conn.channel);
        let offset = conn.pre_offset;
        let spikes = history
            .of_population(emitted_at, conn.pre)
            .iter()
            .map(move |&g| g - offset);
        if conn.is_plastic() {
            let n = conn.propagate_plastic(spikes, input, step);
            self.counters.events += n;
            self.counters.plastic_events += n;
        } else {
            self.counters.events += conn.propagate(spikes, input);
        }
    }

    /// Takes the spikes of the current block into the worker's own history: called
    /// every `min_delay` steps by [`Worker::step`], and once more by [`Worker::flush`]
    /// for a partial last block.
    fn exchange(&mut self) {
        let t0 = self.end_block();
        self.received.clear();
        self.received.extend_from_slice(&self.emitted);
        self.ingest();
        let t1 = self.clock.now();
        self.counters.ticks[SYNC] += t1 - t0;
        self.block_t0 = t1;
    }

    /// The block's compute is over: counts its time (and the arrival, if tracing) and
    /// returns the tick it ended at.
    pub(crate) fn end_block(&mut self) -> u64 {
        let t0 = self.clock.now();
        self.counters.compute_ticks += t0 - self.block_t0;
        if let Some(a) = &mut self.counters.arrivals {
            a.push(t0 - self.counters.trace_t0);
        }
        t0
    }

    /// Puts the gathered spikes (`received`, in worker order) of the block that just
    /// ended into the delay ring, and starts the next block.
    pub(crate) fn ingest(&mut self) {
        self.history.take_in(&self.received, self.state.step);
        self.end_exchange(self.received.len());
    }

    /// The exchange of `received` spikes (network-wide) is taken in: starts the next
    /// block.
    pub(crate) fn end_exchange(&mut self, received: usize) {
        self.counters.exchanged += received as u64;
        if let Some(rec) = &mut self.record {
            rec.extend_from_slice(&self.emitted);
        }
        self.emitted.clear();
        self.block_start = self.state.step;
    }

    /// Exchanges the spikes of an unfinished block (end of a run whose length is not a
    /// multiple of the minimum delay), so that every spike is gathered.
    pub fn flush(&mut self) {
        if self.state.step > self.block_start {
            self.exchange();
        }
    }

    /// Switches weight updates of every plastic connection on or off.
    pub fn set_learning(&mut self, on: bool) {
        for c in &mut self.state.connections {
            c.set_learning(on);
        }
    }

    /// Forgets what was measured so far (counters, exchange trace, statistics,
    /// recorded spikes): the start of a run. The state of the network is kept.
    pub fn reset_measurements(&mut self) {
        self.counters = Counters::default();
        self.stats = SpikeStats::new(self.stats.len());
        if let Some(r) = &mut self.record {
            r.clear();
        }
    }

    /// Starts recording this worker's arrival time at every exchange, from now on.
    pub fn trace_exchanges(&mut self) {
        self.counters.trace_t0 = self.clock.now();
        self.counters.arrivals = Some(Vec::new());
    }

    /// Arrival times (seconds since [`Worker::trace_exchanges`]), if tracing.
    pub fn arrivals(&self) -> Option<Vec<f64>> {
        let a = self.counters.arrivals.as_ref()?;
        Some(
            a.iter()
                .map(|&t| self.clock.nanos(t) as f64 * 1e-9)
                .collect(),
        )
    }

    pub fn steps_done(&self) -> u64 {
        self.state.step
    }

    /// Spikes exchanged so far, network-wide.
    pub fn spikes_exchanged(&self) -> u64 {
        self.counters.exchanged
    }

    pub fn partition(&self) -> &Partition {
        &self.state.partition
    }

    /// The local slice of population `p` (for probes and tests).
    pub fn population(&self, p: usize) -> &Population<R> {
        &self.state.populations[p]
    }

    pub fn population_mut(&mut self, p: usize) -> &mut Population<R> {
        &mut self.state.populations[p]
    }

    pub fn connection(&self, c: usize) -> &Connection<R> {
        &self.state.connections[c]
    }

    pub fn connection_mut(&mut self, c: usize) -> &mut Connection<R> {
        &mut self.state.connections[c]
    }

    /// Continues from `step` (a restored checkpoint's: its populations and connections
    /// are loaded, every spike before it is exchanged).
    pub(crate) fn set_step(&mut self, step: u64) {
        self.state.step = step;
        self.block_start = step;
        self.emitted.clear();
    }

    /// Phase times so far.
    ///
    /// Timing every phase of every step costs three clock reads per step (≈ 14 ns each
    /// on a VM), over 1 % of a 2-µs step. So the compute time between two exchanges
    /// (evolve + propagate + plasticity) is timed exactly, once per interval, and its
    /// split is measured on one step per interval, rotating through the interval's
    /// positions; evolve and propagate are the exact compute time shared out in the
    /// sampled proportions. Barrier and sync are timed exactly at every exchange.
    pub fn report(&self) -> WorkerReport {
        WorkerReport {
            neurons: self.state.partition.neuron_count(),
            synapses: self
                .state
                .connections
                .iter()
                .map(|c| c.synapse_count())
                .sum(),
            phases: phases(
                &self.clock,
                &self.counters.ticks,
                self.counters.compute_ticks,
            ),
            spikes: self.counters.spikes,
            events: self.counters.events,
            plastic_events: self.counters.plastic_events,
        }
    }

    /// What this worker did since its measurements were last reset, handed over; its
    /// measurements start again from zero (the state of the network is kept).
    pub(crate) fn take_outcome(&mut self) -> Outcome {
        let o = Outcome {
            failure: self.check_state().cloned(),
            report: self.report(),
            spikes: self.record.as_mut().map(std::mem::take),
            stats: std::mem::replace(
                &mut self.stats,
                SpikeStats::new(self.state.partition.neuron_count()),
            ),
            partition: self.state.partition.clone(),
            arrivals: self.arrivals(),
            threads_active: None,
            walls: None,
        };
        self.reset_measurements();
        o
    }

    /// Spikes recorded by this worker (its own neurons), if recording.
    pub fn recorded(&self) -> Option<&[Spike]> {
        self.record.as_deref()
    }
}

/// Phase times from sampled evolve/propagate/plasticity ticks, the exact compute ticks
/// they share out (see [`Worker::report`]), and exact barrier/sync ticks.
pub(crate) fn phases<K: Clock>(clock: &K, ticks: &[u64; 5], compute_ticks: u64) -> PhaseTimes {
    let s = |t: u64| clock.nanos(t) as f64 * 1e-9;
    let compute = s(compute_ticks);
    let (e, p, l) = (s(ticks[EVOLVE]), s(ticks[PROPAGATE]), s(ticks[PLASTICITY]));
    let share = |x: f64| {
        if e + p + l > 0.0 {
            x / (e + p + l)
        } else {
            0.0
        }
    };
    PhaseTimes {
        evolve: compute * share(e),
        propagate: compute * share(p),
        plasticity: compute * share(l),
        barrier: s(ticks[BARRIER]),
        sync: s(ticks[SYNC]),
    }
}

/// Runs `net` for `cfg.steps` steps on `cfg.threads` threads of this process.
pub fn simulate<R: Real>(
    net: &Network,
    cfg: &RunConfig,
    observer: &dyn Observer,
) -> Result<RunResult, SimError> {
    net.validate()?;
    if cfg.threads == 0 {
        return Err(SimError::NoThreads(0));
    }
    let decomposition = cfg
        .partitioner
        .decompose(net, cfg.partitions.max(cfg.threads))
        .map_err(SimError::Decomposition)?;
    Ok(if cfg.timers {
        run_with::<R, On>(net, cfg, &decomposition, observer, On::default())
    } else {
        run_with::<R, Off>(net, cfg, &decomposition, observer, Off)
    })
}

/// What one worker hands back at the end of a run (serialisable, so MPI ranks can send
/// it to rank 0).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    pub(crate) report: WorkerReport,
    pub(crate) stats: SpikeStats,
    pub(crate) partition: Partition,
    pub(crate) spikes: Option<Vec<Spike>>,
    /// (setup, priming, run) wall in seconds, measured by worker 0 only.
    pub(crate) walls: Option<(f64, f64, f64)>,
    pub(crate) arrivals: Option<Vec<f64>>,
    /// See [`RunResult::threads_active_mean`]; set on the first partition only.
    #[serde(default)]
    pub(crate) threads_active: Option<f64>,
    /// A NaN or infinite state this worker found.
    #[serde(default)]
    pub(crate) failure: Option<NonFinite>,
}

fn run_with<R: Real, K: Clock + 'static>(
    net: &Network,
    cfg: &RunConfig,
    decomposition: &crate::partition::Decomposition,
    observer: &dyn Observer,
    clock: K,
) -> RunResult {
    let start = Instant::now();
    let ctx = cfg.context(std::sync::Arc::new(crate::comm::Local));
    let mut sim =
        Simulation::<R, K>::with_decomposition(net, &ctx, decomposition, clock, cfg.record_spikes)
            .expect("simulate validated the network and made the decomposition");
    let setup_end = Instant::now();
    sim.prime(cfg.priming_steps);
    let priming_end = Instant::now();
    let mut r = sim.run(cfg.steps, &cfg.options(), observer);
    r.setup_wall = (setup_end - start).as_secs_f64();
    r.priming_wall = (priming_end - setup_end).as_secs_f64();
    r
}

/// The pooled scheduler's partitions' reports regrouped by thread (the workers of the
/// record): thread t's phases are what it spent stepping any partition and waiting,
/// and it carries the counts of the partitions t, t + T, … so that sums stay right.
pub(crate) fn per_thread(
    partitions: &[WorkerReport],
    threads: Vec<PhaseTimes>,
) -> Vec<WorkerReport> {
    let n = threads.len();
    threads
        .into_iter()
        .enumerate()
        .map(|(t, phases)| {
            let mine = partitions.iter().skip(t).step_by(n);
            let mut r = WorkerReport {
                phases,
                ..WorkerReport::default()
            };
            for p in mine {
                r.neurons += p.neurons;
                r.synapses += p.synapses;
                r.spikes += p.spikes;
                r.events += p.events;
                r.plastic_events += p.plastic_events;
            }
            r
        })
        .collect()
}

/// Merges the workers' outcomes (in worker order) into one result.
pub(crate) fn assemble(
    net: &Network,
    steps: u64,
    outcomes: Vec<Outcome>,
    communicator: &'static str,
) -> RunResult {
    let (setup_wall, priming_wall, run_wall) =
        outcomes[0].walls.expect("worker 0 measures the walls");
    let offsets = net.offsets();
    let mut stats = SpikeStats::new(net.neuron_count());
    let mut spikes = outcomes[0].spikes.is_some().then(Vec::new);
    let arrivals = outcomes[0].arrivals.is_some().then(|| {
        outcomes
            .iter()
            .map(|o| o.arrivals.clone().unwrap_or_default())
            .collect()
    });
    for o in &outcomes {
        let mut local = 0;
        for (p, r) in o.partition.ranges.iter().enumerate() {
            stats.place(offsets[p] + r.start, &o.stats, local..local + r.len());
            local += r.len();
        }
        if let (Some(all), Some(mine)) = (&mut spikes, &o.spikes) {
            all.extend_from_slice(mine);
        }
    }
    if let Some(all) = &mut spikes {
        all.retain(|s| s.gid != ALARM);
        all.sort_unstable();
    }
    let failure = outcomes
        .iter()
        .filter_map(|o| o.failure.clone())
        .min_by_key(|f| (f.step, f.gid));
    let decomposition = crate::partition::Decomposition {
        partitions: outcomes.iter().map(|o| o.partition.clone()).collect(),
    };
    RunResult {
        partitions: outcomes.len(),
        decomposition,
        exchanges: 0,
        threads_active_mean: outcomes[0].threads_active,
        steps,
        first_step: 0,
        min_delay_steps: net.min_delay_steps().expect("validated"),
        communicator,
        setup_wall,
        priming_wall,
        run_wall,
        workers: outcomes.into_iter().map(|o| o.report).collect(),
        stats,
        spikes,
        arrivals,
        failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Channel, CobaParams, ConnectionSpec, Connectivity, InitialV, NeuronModel, PopulationSpec,
    };

    fn coba(i_bg: f64) -> NeuronModel {
        NeuronModel::Coba(CobaParams {
            i_bg,
            ..CobaParams::vogels_abbott()
        })
    }

    /// A driven neuron A projects onto B (excitatory, 0.8 ms) and C (inhibitory, 1.5 ms).
    fn chain() -> Network {
        let pop = |name: &str, i_bg| PopulationSpec {
            name: name.into(),
            size: 1,
            model: coba(i_bg),
            initial_v: InitialV::Fixed(-60e-3),
        };
        let conn = |name: &str, post, channel, delay| ConnectionSpec {
            name: name.into(),
            pre: 0,
            post,
            channel,
            delay,
            connectivity: Connectivity::FixedProbability {
                p: 1.0,
                weight: 0.25,
            },
            plasticity: None,
        };
        Network {
            name: "chain".into(),
            dt: 1e-4,
            seed: 3,
            populations: vec![pop("A", 30e-3), pop("B", 0.0), pop("C", 0.0)],
            connections: vec![
                conn("AB", 1, Channel::Excitatory, 0.8e-3),
                conn("AC", 2, Channel::Inhibitory, 1.5e-3),
            ],
        }
    }

    pub(super) fn chain_for_timing() -> Network {
        chain()
    }

    fn inputs(w: &mut Worker<f64, Off>) -> (f64, f64) {
        (
            w.population_mut(1).input(Channel::Excitatory)[0],
            w.population_mut(2).input(Channel::Inhibitory)[0],
        )
    }

    #[test]
    fn a_spike_arrives_exactly_one_delay_later() {
        let net = chain();
        net.validate().unwrap();
        let mut w = Worker::<f64, Off>::new(&net, Off, true);
        let mut ge = Vec::new();
        let mut gi = Vec::new();
        for _ in 0..400 {
            w.step();
            let (e, i) = inputs(&mut w);
            ge.push(e);
            gi.push(i);
        }
        w.flush();
        let spikes = w.recorded().unwrap().to_vec();
        let first = spikes.iter().find(|s| s.gid == 0).expect("A spikes").step as usize;
        // Before arrival the conductances are exactly zero; at step s + 8 (s + 15) the
        // weight is added after that step's decay, so the value is exactly the weight.
        assert!(
            ge[..first + 8].iter().all(|&g| g == 0.0),
            "no early excitation"
        );
        assert_eq!(ge[first + 8], 0.25, "EPSP conductance at s + 8");
        assert!(
            gi[..first + 15].iter().all(|&g| g == 0.0),
            "no early inhibition"
        );
        assert_eq!(gi[first + 15], 0.25, "IPSP conductance at s + 15");
        assert_eq!(ge[first + 9], 0.25 * (-1e-4f64 / 5e-3).exp());
        assert!(spikes.iter().all(|s| s.gid == 0), "B and C never spike");
    }

    /// A NaN put into one partition's state stops every partition after the same
    /// exchange, and the failure names the population, neuron, variable and step.
    #[test]
    fn nan_in_one_partition_stops_every_partition_at_one_step() {
        let net = chain();
        for threads in [1, 3] {
            let ctx = Context::threads(threads);
            let mut sim = Simulation::<f32, Off>::new(&net, &ctx, Off, false).unwrap();
            let opts = RunOptions::default();
            assert!(sim.run(300, &opts, &Quiet).failure.is_none());
            // Populations of one neuron: partition 2 of 3 owns all of them.
            let mut v = sim.array("pop/B/v").unwrap();
            if let crate::state::Values::F32(x) = &mut v {
                x[0] = f32::NAN;
            }
            sim.set_array("pop/B/v", v).unwrap();
            let r = sim.run(10_000, &opts, &Quiet);
            // Checked every 256 steps, rounded up to whole exchanges of 8 steps: 512.
            assert_eq!(sim.step(), 512, "{threads} threads");
            assert_eq!(r.steps, 212);
            let f = r.failure.expect("found");
            assert_eq!((f.population.as_str(), f.neuron, f.gid), ("B", 0, 1));
            assert_eq!((f.variable.as_str(), f.step), ("v", 512));
            let msg = f.to_string();
            for w in ["population B", "neuron 0", "variable v", "step 512"] {
                assert!(msg.contains(w), "{msg}");
            }
            // Nothing runs after a failure.
            assert_eq!(sim.run(100, &opts, &Quiet).steps, 0);
        }
    }

    /// A network whose conductances overflow ends with a failure, early: the largest
    /// f32 weight, arriving again before the last arrival has decayed, gives g = inf.
    #[test]
    fn a_diverging_network_reports_where_it_blew_up() {
        let mut net = chain();
        for c in &mut net.connections {
            c.connectivity = Connectivity::FixedProbability {
                p: 1.0,
                weight: f32::MAX as f64,
            };
        }
        let cfg = RunConfig {
            threads: 2,
            partitions: 0,
            steps: 1_000_000,
            priming_steps: 0,
            timers: false,
            record_spikes: true,
            progress_every: 0,
            injected_latency: std::time::Duration::ZERO,
            trace_exchanges: false,
            partitioner: Default::default(),
        };
        let r = simulate::<f32>(&net, &cfg, &Quiet).unwrap();
        let f = r.failure.expect("diverges");
        assert!(f.step < 10_000, "{f}");
        assert!(["B", "C"].contains(&f.population.as_str()), "{f}");
        assert!(r.spikes.unwrap().iter().all(|s| s.gid != ALARM));
    }

    /// Simulating in one go equals stepping by hand, for 1, 2 and 3 threads.
    #[test]
    fn driver_matches_manual_stepping_for_any_worker_count() {
        let net = chain();
        let mut w = Worker::<f64, Off>::new(&net, Off, true);
        for _ in 0..1003 {
            w.step();
        }
        w.flush();
        let manual = w.recorded().unwrap().to_vec();
        for workers in 1..=3 {
            let cfg = RunConfig {
                threads: workers,
                partitions: 0,
                steps: 1003,
                priming_steps: 0,
                timers: true,
                record_spikes: true,
                progress_every: 0,
                injected_latency: Default::default(),
                trace_exchanges: false,
                partitioner: Default::default(),
            };
            let r = simulate::<f64>(&net, &cfg, &Quiet).unwrap();
            assert_eq!(r.spikes.as_ref().unwrap(), &manual, "{workers} workers");
            assert_eq!(r.spike_count(), manual.len() as u64);
            assert_eq!(r.stats.count[0] as usize, manual.len());
            // More partitions than threads: any thread steps any partition.
            let more = RunConfig {
                partitions: 3,
                ..cfg.clone()
            };
            let r = simulate::<f64>(&net, &more, &Quiet).unwrap();
            assert_eq!(
                r.spikes.as_ref().unwrap(),
                &manual,
                "3 partitions, {workers} threads"
            );
            // Workers are the threads; the partitions are counted apart.
            assert_eq!((r.workers.len(), r.partitions), (workers, 3));
            assert_eq!(r.workers.iter().map(|w| w.neurons).sum::<usize>(), 3);
        }
    }

    #[test]
    fn zero_workers_is_an_error() {
        let cfg = RunConfig {
            threads: 0,
            partitions: 0,
            steps: 1,
            priming_steps: 0,
            timers: true,
            record_spikes: false,
            progress_every: 0,
            injected_latency: Default::default(),
            trace_exchanges: false,
            partitioner: Default::default(),
        };
        let e = simulate::<f32>(&chain(), &cfg, &Quiet).unwrap_err();
        assert!(e.to_string().contains("threads = 0"), "{e}");
        let four = RunConfig { threads: 4, ..cfg };
        let e = simulate::<f32>(&chain(), &four, &Quiet).unwrap_err();
        assert!(
            e.to_string().contains("4 partitions") && e.to_string().contains("only 3 neurons"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod timing_tests {
    use super::*;

    /// The sampled split must still account for the compute time: phases are positive
    /// where work happens and never add up to more than the wall time of the loop.
    /// (A consistency check, not a speed check: no duration is compared with a target.)
    #[test]
    fn phase_times_fit_inside_the_run() {
        let net = super::tests::chain_for_timing();
        for workers in [1, 2] {
            let cfg = RunConfig {
                threads: workers,
                partitions: 0,
                steps: 20_000,
                priming_steps: 0,
                timers: true,
                record_spikes: false,
                progress_every: 0,
                injected_latency: Default::default(),
                trace_exchanges: false,
                partitioner: Default::default(),
            };
            let r = simulate::<f32>(&net, &cfg, &Quiet).unwrap();
            // Some thread did the work; with the pooled scheduler any one of them may
            // have done all of it (a thread descheduled through the whole run, or one
            // retired because other processes took the cores: see `contention`).
            assert!(
                r.workers.iter().any(|w| w.phases.evolve > 0.0),
                "{:?}",
                r.workers
            );
            for w in &r.workers {
                let p = w.phases;
                if p.evolve > 0.0 {
                    assert!(p.propagate > 0.0 && p.sync > 0.0, "{p:?}");
                }
                assert_eq!(p.plasticity, 0.0);
                // 2 %: the phases are read off the TSC (quanta's calibration), the wall
                // off the OS clock; double counting a phase would exceed it by far.
                assert!(
                    p.total() <= r.run_wall * 1.02 + 1e-3,
                    "{} > {}",
                    p.total(),
                    r.run_wall
                );
            }
            let off = simulate::<f32>(
                &net,
                &RunConfig {
                    timers: false,
                    ..cfg
                },
                &Quiet,
            )
            .unwrap();
            assert!(off.workers.iter().all(|w| w.phases.total() == 0.0));
            assert_eq!(off.spike_count(), r.spike_count());
        }
    }
}

#[cfg(test)]
mod trace_tests {
    use super::*;

    #[test]
    fn every_worker_records_every_exchange_in_order() {
        let net = super::tests::chain_for_timing();
        // chain: min delay 8 steps; 1003 steps = 125 full exchanges + 1 flushed.
        let cfg = RunConfig {
            threads: 2,
            partitions: 0,
            steps: 1003,
            priming_steps: 0,
            timers: true,
            record_spikes: false,
            progress_every: 0,
            injected_latency: std::time::Duration::from_micros(20),
            trace_exchanges: true,
            partitioner: Default::default(),
        };
        let r = simulate::<f64>(&net, &cfg, &Quiet).unwrap();
        let a = r.arrivals.expect("traced");
        assert_eq!(a.len(), 2);
        for w in &a {
            assert_eq!(w.len(), 126);
            assert!(w.windows(2).all(|p| p[0] < p[1]), "arrivals increase");
            // Each exchange waits 20 µs, so consecutive arrivals are at least that apart.
            assert!(w.windows(2).all(|p| p[1] - p[0] >= 19e-6), "{:?}", &w[..3]);
            assert!(*w.last().unwrap() <= r.run_wall * 1.02 + 1e-3);
        }
        let untraced = simulate::<f64>(
            &net,
            &RunConfig {
                trace_exchanges: false,
                ..cfg
            },
            &Quiet,
        );
        assert!(untraced.unwrap().arrivals.is_none());
    }
}
