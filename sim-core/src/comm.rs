//! Spike exchange between workers.
//!
//! Every minimum delay each worker contributes the spikes its neurons emitted and
//! receives everyone's, ordered by worker (an allgather, as Auryn's MPI_Allgather).
//! Backends: a single worker, and shared-memory workers (threads in lockstep).

use std::sync::{Arc, Mutex};

pub use crate::barrier::{Barrier, WaitPolicy};

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
    /// This worker made progress (called every step): a barrier's waiters keep spinning
    /// while the workers they wait for beat, and park when they stop.
    #[inline]
    fn beat(&self, _step: u64) {}
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

#[derive(Debug)]
struct Shared {
    barrier: Barrier,
    /// Two sets of per-worker slots used alternately, so one barrier per exchange is
    /// enough: a worker writing set p at exchange k+1 has passed exchange k's barrier,
    /// which every reader of set p (exchange k-1) had finished reading before reaching.
    slots: [Vec<Mutex<Vec<Spike>>>; 2],
}

/// Shared-memory backend: one endpoint per worker thread, all in one process, the
/// workers in lockstep. (`simulate` runs threads with the pooled scheduler instead, in
/// which a partition is not tied to a thread; see `engine::pool`.)
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
            barrier: Barrier::new(n),
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
    #[inline]
    fn beat(&self, step: u64) {
        self.shared.barrier.beat(self.rank, step);
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
}
