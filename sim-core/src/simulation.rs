//! A built network that runs any number of times: continue, change, save, restore.
//!
//! The model / execution split (as Arbor's recipe, context, decomposition and
//! simulation): the [`Network`] says what runs and knows no thread counts; the
//! [`Context`] says on what (threads of this process, how many partitions); the
//! decomposition (today [`crate::partition::Partition::block`]) says which partition
//! owns which neurons; the `Simulation` holds the partitions' state and steps it.
//! `run(steps)` may be called again and again: a run of T1 steps and then T2 steps
//! gives the spikes of one run of T1 + T2 steps, bit for bit (an exchange at the end
//! of a run only makes spikes available earlier than a delay needs them).

use std::time::{Duration, Instant};

mod save;
pub use save::RestoreError;

use crate::engine::pool::Pool;
use crate::engine::{assemble, per_thread, Observer, RunResult, SimError};
use crate::model::Network;
use crate::real::Real;
use crate::timers::Clock;

/// How a simulation executes: nothing here changes what the network is.
#[derive(Debug, Clone)]
pub struct Context {
    /// Threads of this process that step the partitions.
    pub threads: usize,
    /// Partitions the network is split into (fewer than the threads means one per
    /// thread); any free thread takes a partition's next exchange window.
    pub partitions: usize,
    /// A fixed wait added to every exchange (in `sync`), standing in for a slower
    /// interconnect.
    pub injected_latency: Duration,
}

impl Context {
    pub fn threads(threads: usize) -> Context {
        Context {
            threads,
            partitions: 0,
            injected_latency: Duration::ZERO,
        }
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

/// A network built once, as partitions in this process, run as often as wanted.
pub struct Simulation<R: Real, K: Clock> {
    net: Network,
    pool: Pool<R, K>,
    /// Steps done since the network was built (the next step's number).
    step: u64,
    /// Building the network, seconds of wall time.
    setup_wall: f64,
}

impl<R: Real, K: Clock> Simulation<R, K> {
    /// Builds `net` for `ctx`, keeping every spike of each run if `record_spikes`.
    pub fn new(
        net: &Network,
        ctx: &Context,
        clock: K,
        record_spikes: bool,
    ) -> Result<Self, SimError> {
        net.validate()?;
        if ctx.threads == 0 {
            return Err(SimError::NoWorkers(0));
        }
        net.check_split(ctx.partitions.max(ctx.threads))?;
        let start = Instant::now();
        let pool = Pool::build(
            net,
            ctx.threads,
            ctx.partitions,
            clock,
            record_spikes,
            ctx.injected_latency,
        );
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

    pub fn partitions(&self) -> usize {
        self.pool.partitions()
    }

    /// Runs `steps` more steps. The result counts this run only (its spikes, phase
    /// times, statistics); the state carries on. A run after a NaN or infinite state
    /// (`result.failure`) steps nothing.
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
    /// spent in `pause` is not the run's. Pausing changes no spike.
    pub fn run_with_pauses<E>(
        &mut self,
        steps: u64,
        opts: &RunOptions,
        observer: &dyn Observer,
        every: u64,
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
        observer.run_started();
        while self.step < start + steps {
            let left = start + steps - self.step;
            let n = if every == 0 { left } else { every.min(left) };
            windows += crate::engine::pool::window_count(self.step, n, d);
            let t0 = Instant::now();
            self.pool
                .run_segment(self.step, n, true, observer, start, opts.progress_every);
            run_wall += t0.elapsed().as_secs_f64();
            self.step += n;
            if self.step < start + steps && !pause(self)? {
                break;
            }
        }
        observer.run_finished();
        let (mut outcomes, threads) = self.pool.outcomes(windows);
        outcomes[0].walls = Some((0.0, 0.0, run_wall));
        let mut r = assemble(&self.net, self.step - start, outcomes, "pooled");
        r.workers = per_thread(&r.workers, threads);
        r.first_step = start;
        Ok(r)
    }

    /// Every synapse of connection `c` as (pre, post, weight), pre and post indices
    /// within their populations, ordered by (post, pre): the same list for any
    /// partitioning (synapses between the same pair keep the order they were built in).
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
        // Stable: a pair's synapses stay in build order (pre-major within a partition).
        all.sort_by_key(|&(i, j, _)| (j, i));
        all
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

    /// Switches weight updates of every plastic connection on or off, from the next
    /// step on.
    pub fn set_learning(&mut self, on: bool) {
        self.pool.each_worker(|w| w.set_learning(on));
    }
}
