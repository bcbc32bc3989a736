//! Spike exchange between the processes (ranks) of a run.
//!
//! Inside a process the threads share one spike history (see `engine::pool`); between
//! processes the [`Communicator`] carries every exchange: the process's spikes of the
//! window go in, every rank's come out, ordered by rank (an allgather, as Auryn's
//! MPI_Allgather). Backends: [`Local`] (one process), MPI (`crate::mpi`, with the
//! feature), and [`Delayed`], which wraps either and adds a fixed wait to every
//! exchange (a slower interconnect, emulated).

use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// How the processes of a run talk. One process calls it from one thread at a time:
/// the exchange from whichever thread completes a window, the rest from the thread
/// that drives the simulation. Every rank makes the same calls in the same order.
pub trait Communicator: Send + Sync + std::fmt::Debug {
    /// This process's rank, 0-based.
    fn rank(&self) -> usize;
    /// Number of processes.
    fn size(&self) -> usize;
    /// Processes on this machine, this one included: their threads share its cores
    /// (how long a waiting thread may spin depends on it).
    fn local_ranks(&self) -> usize {
        1
    }
    /// Returns once every rank has called it.
    fn barrier(&self);
    /// Every rank's `local` spikes, in rank order: `local` itself where this is the
    /// only rank, else gathered into `buf`.
    fn allgather<'a>(&self, local: &'a [Spike], buf: &'a mut Vec<Spike>) -> &'a [Spike];
    /// Whether `yes` holds on every rank (a logical and; a barrier too).
    fn all_agree(&self, yes: bool) -> bool;
    /// Every rank's `bytes` at rank 0, in rank order; `None` on the other ranks.
    fn gather_bytes(&self, bytes: &[u8]) -> Option<Vec<Vec<u8>>>;
    /// A short name for records ("shared-memory": threads of one process; "mpi").
    fn name(&self) -> &'static str;
}

/// One process: its own spikes are everyone's.
#[derive(Debug, Default, Clone, Copy)]
pub struct Local;

impl Communicator for Local {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn barrier(&self) {}
    fn allgather<'a>(&self, local: &'a [Spike], _buf: &'a mut Vec<Spike>) -> &'a [Spike] {
        local
    }
    fn all_agree(&self, yes: bool) -> bool {
        yes
    }
    fn gather_bytes(&self, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        Some(vec![bytes.to_vec()])
    }
    fn name(&self) -> &'static str {
        "shared-memory"
    }
}

/// Another communicator with a fixed wait before every exchange, standing in for a
/// slower interconnect (these VMs have no netem). The wait is busy: sleeping has a
/// granularity of ~50 µs, far above the latencies of interest (0–200 µs).
#[derive(Debug)]
pub struct Delayed {
    pub inner: Arc<dyn Communicator>,
    pub latency: Duration,
}

impl Communicator for Delayed {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn local_ranks(&self) -> usize {
        self.inner.local_ranks()
    }
    fn barrier(&self) {
        self.inner.barrier()
    }
    fn allgather<'a>(&self, local: &'a [Spike], buf: &'a mut Vec<Spike>) -> &'a [Spike] {
        let until = Instant::now() + self.latency;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        self.inner.allgather(local, buf)
    }
    fn all_agree(&self, yes: bool) -> bool {
        self.inner.all_agree(yes)
    }
    fn gather_bytes(&self, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        self.inner.gather_bytes(bytes)
    }
    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_gathers_its_own_spikes_and_delayed_waits_first() {
        let spikes = [Spike { step: 3, gid: 7 }, Spike { step: 4, gid: 1 }];
        let mut buf = Vec::new();
        assert_eq!(Local.allgather(&spikes, &mut buf), spikes);
        let slow = Delayed {
            inner: Arc::new(Local),
            latency: Duration::from_millis(2),
        };
        let t0 = Instant::now();
        assert_eq!(slow.allgather(&spikes[..1], &mut buf), &spikes[..1]);
        assert!(t0.elapsed() >= Duration::from_millis(2));
        assert_eq!(slow.gather_bytes(b"x"), Some(vec![b"x".to_vec()]));
    }
}
