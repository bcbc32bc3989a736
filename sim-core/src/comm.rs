//! Spike exchange between workers.
//!
//! Every minimum delay each worker contributes the spikes its neurons emitted and
//! receives everyone's, ordered by worker (an allgather, as Auryn's MPI_Allgather).
//! Backends: a single worker, and shared-memory workers (threads in lockstep).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Spin-loop iterations (≈ 10–50 µs) before a waiting worker starts yielding its core.
const SPINS_BEFORE_YIELD: u32 = 20_000;

/// One spike: the step it was emitted in and the neuron's global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Spike {
    pub step: u64,
    pub gid: u32,
}

/// The communication layer seen by one worker.
pub trait Communicator: Send {
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

/// A barrier that spins (then yields) instead of parking threads.
///
/// Written by hand because `std::sync::Barrier` parks waiters on a futex: waking them
/// costs tens of microseconds, as much as the 8 steps between two exchanges of the
/// Vogels–Abbott network take. Waiters spin and then yield, so oversubscribed runs
/// (more workers than cores) still progress. If a worker panics the barrier is poisoned and the others panic instead of
/// waiting forever.
#[derive(Debug)]
pub struct SpinBarrier {
    n: usize,
    arrived: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    pub fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            arrived: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
        }
    }

    pub fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.arrived.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        // Spin first: between two exchanges of a small network the other workers arrive
        // within microseconds, and yielding to the kernel costs about as much. Only a
        // long wait (an oversubscribed machine) falls back to yielding the core.
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            if self.poisoned.load(Ordering::Relaxed) {
                panic!("another worker panicked; abandoning the barrier");
            }
            if spins < SPINS_BEFORE_YIELD {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::Relaxed);
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
