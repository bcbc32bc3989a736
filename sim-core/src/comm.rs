//! Spike exchange between workers.
//!
//! Every minimum delay each worker contributes the spikes its neurons emitted and
//! receives everyone's, ordered by worker (an allgather, as Auryn's MPI_Allgather).
//! Backends: a single worker, and shared-memory workers (threads in lockstep).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Spin-loop iterations (tens of µs, depending on the CPU's `pause`) before a waiting
/// worker goes to sleep, when every worker has a core of its own. Measured on 2 cores,
/// va 60 s f32, 2 threads: 20 000 spins 1.14–1.29 s, 4 000 spins 1.28–1.56 s.
const SPINS_DEDICATED: u32 = 20_000;
/// With more workers than cores a spinning waiter steals the core of the worker it
/// waits for (3 threads on 2 cores: 6.7 s with 20 000 spins, 1.6 s with 4 000), so it
/// goes to sleep almost at once, as OpenMP runtimes do under oversubscription.
const SPINS_OVERSUBSCRIBED: u32 = 100;

/// One spike: the step it was emitted in and the neuron's global id.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Spike {
    pub step: u64,
    pub gid: u32,
}

/// The communication layer seen by one worker.
pub trait Communicator {
    /// This worker's index, 0-based.
    fn rank(&self) -> usize;
    /// Number of workers.
    fn size(&self) -> usize;
    /// Returns once every worker has called it.
    fn barrier(&mut self);
    /// Replaces `all` with every worker's `local` spikes, in worker order.
    fn allgather(&mut self, local: &[Spike], all: &mut Vec<Spike>);
    /// A short name for records ("single", "shared-memory").
    fn name(&self) -> &'static str;
    /// Whether this worker leads its process (calls the per-process observer hooks):
    /// worker 0 in one process, thread 0 of every rank under MPI.
    fn leads_process(&self) -> bool {
        self.rank() == 0
    }
}

/// The trivial backend: one worker owns the whole network.
#[derive(Debug, Default)]
pub struct SingleWorker;

impl Communicator for SingleWorker {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn barrier(&mut self) {}
    fn allgather(&mut self, local: &[Spike], all: &mut Vec<Spike>) {
        all.clear();
        all.extend_from_slice(local);
    }
    fn name(&self) -> &'static str {
        "single"
    }
}

/// A barrier that spins for a few microseconds, then sleeps.
///
/// Written by hand because `std::sync::Barrier` always parks waiters on a futex: waking
/// them costs tens of microseconds, as much as the 8 steps between two exchanges of the
/// Vogels–Abbott network take. Here a waiter first spins (the others usually arrive
/// within microseconds), and only then sleeps on a condition variable, so that an
/// oversubscribed machine (more workers than cores) gives the core to the worker that
/// is late instead of burning it. If a worker panics the barrier is poisoned and the
/// others panic instead of waiting forever.
#[derive(Debug)]
pub struct SpinBarrier {
    n: usize,
    spins: u32,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    pub fn new(n: usize) -> Self {
        Self::sharing_cores_with(n, n)
    }

    /// A barrier for `n` threads when `busy` threads in all (e.g. of several MPI ranks
    /// on one machine) compete for this machine's cores.
    pub fn sharing_cores_with(n: usize, busy: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        SpinBarrier {
            n,
            spins: if busy <= cores {
                SPINS_DEDICATED
            } else {
                SPINS_OVERSUBSCRIBED
            },
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            poisoned: AtomicBool::new(false),
        }
    }

    pub fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.arrived.store(0, Ordering::Relaxed);
            {
                // Under the lock, so that a waiter about to sleep either sees the new
                // generation or is counted in `sleepers` before we look.
                let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                self.generation.fetch_add(1, Ordering::Release);
            }
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                self.wake.notify_all();
            }
            return;
        }
        for _ in 0..self.spins {
            if self.generation.load(Ordering::Acquire) != generation {
                return;
            }
            std::hint::spin_loop();
        }
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        while self.generation.load(Ordering::Acquire) == generation {
            if self.poisoned.load(Ordering::Relaxed) {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                drop(guard);
                panic!("another worker panicked; abandoning the barrier");
            }
            // The timeout only bounds how late a poisoning is noticed.
            guard = self
                .wake
                .wait_timeout(guard, std::time::Duration::from_millis(10))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::Relaxed);
        self.wake.notify_all();
    }
}

#[derive(Debug)]
struct Shared {
    barrier: SpinBarrier,
    /// Two sets of per-worker slots used alternately, so one barrier per exchange is
    /// enough: a worker writing set p at exchange k+1 has passed exchange k's barrier,
    /// which every reader of set p (exchange k-1) had finished reading before reaching.
    slots: [Vec<Mutex<Vec<Spike>>>; 2],
}

/// Shared-memory backend: one endpoint per worker thread, all in one process.
#[derive(Debug)]
pub struct SharedMemory {
    shared: Arc<Shared>,
    rank: usize,
    parity: usize,
}

impl SharedMemory {
    /// Endpoints for `n` workers, to be moved into their threads.
    pub fn endpoints(n: usize) -> Vec<SharedMemory> {
        let slots = || (0..n).map(|_| Mutex::new(Vec::new())).collect();
        let shared = Arc::new(Shared {
            barrier: SpinBarrier::new(n),
            slots: [slots(), slots()],
        });
        (0..n)
            .map(|rank| SharedMemory {
                shared: shared.clone(),
                rank,
                parity: 0,
            })
            .collect()
    }

    /// A handle that can poison this group's barrier (used when a worker panics).
    pub fn poison_handle(&self) -> PoisonHandle {
        PoisonHandle(self.shared.clone())
    }
}

/// Makes every worker's next barrier wait panic instead of hanging.
#[derive(Debug, Clone)]
pub struct PoisonHandle(Arc<Shared>);

impl PoisonHandle {
    pub fn poison(&self) {
        self.0.barrier.poison();
    }
}

impl Communicator for SharedMemory {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.shared.slots[0].len()
    }
    fn barrier(&mut self) {
        self.shared.barrier.wait();
    }
    fn allgather(&mut self, local: &[Spike], all: &mut Vec<Spike>) {
        let slots = &self.shared.slots[self.parity];
        {
            let mut mine = slots[self.rank].lock().unwrap_or_else(|e| e.into_inner());
            mine.clear();
            mine.extend_from_slice(local);
        }
        self.shared.barrier.wait();
        all.clear();
        for slot in slots {
            all.extend_from_slice(&slot.lock().unwrap_or_else(|e| e.into_inner()));
        }
        self.parity ^= 1;
    }
    fn name(&self) -> &'static str {
        "shared-memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allgather_orders_by_worker_over_many_rounds() {
        let n = 3;
        let results: Vec<Vec<Vec<Spike>>> = std::thread::scope(|s| {
            let handles: Vec<_> = SharedMemory::endpoints(n)
                .into_iter()
                .map(|mut ep| {
                    s.spawn(move || {
                        let mut rounds = Vec::new();
                        for round in 0..200u64 {
                            let local: Vec<Spike> = (0..=ep.rank() as u32)
                                .map(|k| Spike {
                                    step: round,
                                    gid: 10 * ep.rank() as u32 + k,
                                })
                                .collect();
                            ep.barrier();
                            let mut all = Vec::new();
                            ep.allgather(&local, &mut all);
                            rounds.push(all);
                        }
                        rounds
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (round, all) in results[0].iter().enumerate() {
            let expected: Vec<Spike> = [0u32, 10, 11, 20, 21, 22]
                .iter()
                .map(|&gid| Spike {
                    step: round as u64,
                    gid,
                })
                .collect();
            assert_eq!(all, &expected, "round {round}");
            for r in &results[1..] {
                assert_eq!(&r[round], all);
            }
        }
    }

    #[test]
    fn a_poisoned_barrier_does_not_hang() {
        let b = Arc::new(SpinBarrier::new(2));
        let b2 = b.clone();
        let waiter = std::thread::spawn(move || b2.wait());
        std::thread::sleep(std::time::Duration::from_millis(20));
        b.poison();
        assert!(
            waiter.join().is_err(),
            "the waiter panics instead of hanging"
        );
    }
}
