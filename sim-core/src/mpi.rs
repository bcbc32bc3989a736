//! MPI processes × threads (hybrid): one rank per process, T worker threads per rank.
//!
//! An exchange gathers the spikes of the rank's threads into the rank's leader (thread
//! 0, the thread that initialised MPI: MPI is used with `Threading::Funneled`), which
//! runs an `MPI_Iallgather` of the counts and an `MPI_Iallgatherv` of the spikes across
//! ranks and hands the result back to its threads. Worker `w = rank · T + thread` owns
//! partition `w` of `ranks · T`, so the partition — and, since every neuron sums its
//! inputs in one fixed order, the spike output — is the same as with `ranks · T`
//! threads in one process.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mpi::datatype::PartitionMut;
use mpi::request::{Request, Scope};
use mpi::topology::Communicator as _;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::comm::{Barrier, Communicator, Spike, WaitPolicy};
use crate::engine::{
    assemble, run_threads, run_worker, Observer, Outcome, RunConfig, RunResult, SimError,
};
use crate::model::Network;
use crate::real::Real;
use crate::timers::{Clock, Off, On};

/// The threads of one rank.
#[derive(Debug)]
struct RankGroup {
    barrier: Barrier,
    slots: Vec<Mutex<Vec<Spike>>>,
    /// Every rank's spikes of the current exchange, written by the leader.
    global: Mutex<Vec<Spike>>,
}

impl RankGroup {
    /// `busy`: worker threads of every rank on this machine.
    fn new(threads: usize, busy: usize) -> Arc<Self> {
        Arc::new(RankGroup {
            barrier: Barrier::with_policy(threads, WaitPolicy::for_cores(busy)),
            slots: (0..threads).map(|_| Mutex::new(Vec::new())).collect(),
            global: Mutex::new(Vec::new()),
        })
    }

    fn put(&self, thread: usize, local: &[Spike]) {
        let mut slot = self.slots[thread].lock().unwrap_or_else(|e| e.into_inner());
        slot.clear();
        slot.extend_from_slice(local);
    }

    fn take_global(&self, all: &mut Vec<Spike>) {
        all.clear();
        all.extend_from_slice(&self.global.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Spin on `MPI_Test` this long before yielding the core between tests.
const MPI_SPIN: Duration = Duration::from_micros(20);

/// Waits for a non-blocking collective without holding a core another process needs.
///
/// Why: Open MPI's blocking collectives busy-poll for as long as they wait, so a rank
/// waiting for a descheduled rank on the same machine burns the core that rank needs
/// (the barrier problem of `crate::barrier`, across processes). Here a waiter tests the
/// request in a spin for [`MPI_SPIN`] (an exchange between ranks that all run completes
/// that fast), then yields its core between tests (`sched_yield`: a rank waiting for a
/// core on this CPU gets it; with nothing else runnable it returns at once), as Open
/// MPI's `mpi_yield_when_idle` does. It never sleeps: `MPI_Test` drives Open MPI's
/// progress engine, and a collective over shared memory takes several message rounds,
/// each needing every rank to test; sleeping 50 µs between tests made va on 2 ranks
/// 40× slower.
fn wait_politely<'a, D: ?Sized, S: Scope<'a>>(mut request: Request<'a, D, S>) {
    let start = Instant::now();
    loop {
        match request.test() {
            Ok(_) => return,
            Err(r) => request = r,
        }
        if start.elapsed() < MPI_SPIN {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Where a rank sits among all workers.
#[derive(Debug, Clone, Copy)]
struct Place {
    rank: usize,
    ranks: usize,
    thread: usize,
    threads: usize,
}

/// Thread 0 of a rank: talks to the other ranks.
pub struct Leader<'w> {
    world: &'w SimpleCommunicator,
    group: Arc<RankGroup>,
    place: Place,
    send: Vec<u64>,
    recv: Vec<u64>,
    counts: Vec<i32>,
}

/// Threads 1.. of a rank.
pub struct Member {
    group: Arc<RankGroup>,
    place: Place,
}

impl Communicator for Leader<'_> {
    fn rank(&self) -> usize {
        self.place.rank * self.place.threads
    }
    fn size(&self) -> usize {
        self.place.ranks * self.place.threads
    }
    fn barrier(&mut self) {
        self.group.barrier.wait();
        wait_politely(self.world.immediate_barrier());
        self.group.barrier.wait();
    }
    #[inline]
    fn beat(&self, step: u64) {
        self.group.barrier.beat(self.place.thread, step);
    }
    fn allgather(&mut self, local: &[Spike], all: &mut Vec<Spike>) {
        self.group.put(0, local);
        self.group.barrier.wait();
        // Spikes travel as (step, gid) pairs of u64: a plain MPI type, no derived one.
        self.send.clear();
        for slot in &self.group.slots {
            for s in slot.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                self.send.extend_from_slice(&[s.step, s.gid as u64]);
            }
        }
        let mine = self.send.len() as i32;
        mpi::request::scope(|scope| {
            wait_politely(
                self.world
                    .immediate_all_gather_into(scope, &mine, &mut self.counts[..]),
            )
        });
        let displs: Vec<i32> = self
            .counts
            .iter()
            .scan(0, |acc, &c| {
                let d = *acc;
                *acc += c;
                Some(d)
            })
            .collect();
        let total = self.counts.iter().map(|&c| c as usize).sum();
        self.recv.resize(total, 0);
        {
            let mut part = PartitionMut::new(&mut self.recv[..], &self.counts[..], &displs[..]);
            let send = &self.send[..];
            let world = self.world;
            mpi::request::scope(|scope| {
                wait_politely(world.immediate_all_gather_varcount_into(scope, send, &mut part))
            });
        }
        {
            let mut global = self.group.global.lock().unwrap_or_else(|e| e.into_inner());
            global.clear();
            global.extend(self.recv.chunks_exact(2).map(|p| Spike {
                step: p[0],
                gid: p[1] as u32,
            }));
        }
        self.group.barrier.wait();
        self.group.take_global(all);
    }
    fn leads_process(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        if self.place.threads > 1 {
            "mpi+shared-memory"
        } else {
            "mpi"
        }
    }
}

impl Communicator for Member {
    fn rank(&self) -> usize {
        self.place.rank * self.place.threads + self.place.thread
    }
    fn size(&self) -> usize {
        self.place.ranks * self.place.threads
    }
    fn barrier(&mut self) {
        self.group.barrier.wait();
        self.group.barrier.wait();
    }
    #[inline]
    fn beat(&self, step: u64) {
        self.group.barrier.beat(self.place.thread, step);
    }
    fn allgather(&mut self, local: &[Spike], all: &mut Vec<Spike>) {
        self.group.put(self.place.thread, local);
        self.group.barrier.wait();
        self.group.barrier.wait();
        self.group.take_global(all);
    }
    fn name(&self) -> &'static str {
        "mpi+shared-memory"
    }
}

/// Poisons the rank's thread barrier if a worker unwinds.
struct PoisonOnPanic(Arc<RankGroup>);

impl Drop for PoisonOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.barrier.poison();
        }
    }
}

/// Runs `net` on every rank of `world` with `cfg.workers` threads per rank. Every rank
/// must call it; rank 0 gets the whole result (every worker's timers, every neuron's
/// statistics, every spike), the others `None`.
pub fn simulate_mpi<R: Real>(
    net: &Network,
    cfg: &RunConfig,
    world: &SimpleCommunicator,
    observer: &dyn Observer,
) -> Result<Option<RunResult>, SimError> {
    net.validate()?;
    if cfg.workers == 0 {
        return Err(SimError::NoWorkers(0));
    }
    if cfg.partitions > cfg.workers {
        return Err(SimError::PartitionsUnderMpi {
            partitions: cfg.partitions,
            threads: cfg.workers,
        });
    }
    net.check_split(cfg.workers * world.size() as usize)?;
    Ok(if cfg.timers {
        run_with::<R, On>(net, cfg, world, observer, On::default())
    } else {
        run_with::<R, Off>(net, cfg, world, observer, Off)
    })
}

fn run_with<R: Real, K: Clock + 'static>(
    net: &Network,
    cfg: &RunConfig,
    world: &SimpleCommunicator,
    observer: &dyn Observer,
    clock: K,
) -> Option<RunResult> {
    let start = Instant::now();
    let threads = cfg.workers;
    let place = |thread| Place {
        rank: world.rank() as usize,
        ranks: world.size() as usize,
        thread,
        threads,
    };
    // Ranks on this machine (a communicator of the ranks sharing its memory): their
    // threads together decide whether a waiting thread may spin.
    let local_ranks = world.split_shared(world.rank()).size() as usize;
    let group = RankGroup::new(threads, threads * local_ranks);
    let leader = Leader {
        world,
        group: group.clone(),
        place: place(0),
        send: Vec::new(),
        recv: Vec::new(),
        counts: vec![0; world.size() as usize],
    };
    let name = leader.name();
    let members: Vec<Member> = (1..threads)
        .map(|t| Member {
            group: group.clone(),
            place: place(t),
        })
        .collect();
    let outcomes = run_threads(
        members,
        |m| {
            // Dropped when the worker ends, by unwinding too: a panic poisons the barrier.
            let _guard = PoisonOnPanic(m.group.clone());
            run_worker::<R, _, K>(net, cfg, m, clock.clone(), observer, start)
        },
        || {
            let _guard = PoisonOnPanic(group.clone());
            run_worker::<R, _, K>(net, cfg, leader, clock.clone(), observer, start)
        },
    );
    let all = gather_to_root(world, &outcomes)?;
    Some(assemble(net, cfg.steps, all, name))
}

/// Sends every rank's outcomes to rank 0 (serialised as JSON: they are sent once per
/// run, and this keeps the MPI side to plain byte buffers).
fn gather_to_root(world: &SimpleCommunicator, mine: &[Outcome]) -> Option<Vec<Outcome>> {
    let bytes = serde_json::to_vec(mine).expect("outcomes serialise");
    let parts = gather_bytes_to_root(world, &bytes)?;
    let mut all = Vec::new();
    for part in parts {
        let outcomes: Vec<Outcome> =
            serde_json::from_slice(&part).expect("outcomes from another rank deserialise");
        all.extend(outcomes);
    }
    Some(all)
}

/// Gathers one byte buffer from every rank at rank 0 (in rank order); `None` elsewhere.
pub fn gather_bytes_to_root(world: &SimpleCommunicator, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let root = world.process_at_rank(0);
    let len = bytes.len() as i32;
    if world.rank() != 0 {
        root.gather_into(&len);
        root.gather_varcount_into(bytes);
        return None;
    }
    let mut lens = vec![0i32; world.size() as usize];
    root.gather_into_root(&len, &mut lens[..]);
    let displs: Vec<i32> = lens
        .iter()
        .scan(0, |acc, &c| {
            let d = *acc;
            *acc += c;
            Some(d)
        })
        .collect();
    let mut buf = vec![0u8; lens.iter().map(|&l| l as usize).sum()];
    {
        let mut part = PartitionMut::new(&mut buf[..], &lens[..], &displs[..]);
        root.gather_varcount_into_root(bytes, &mut part);
    }
    Some(
        displs
            .iter()
            .zip(&lens)
            .map(|(&d, &l)| buf[d as usize..(d + l) as usize].to_vec())
            .collect(),
    )
}
