//! MPI: one rank per process, the process's threads stepping its partitions (see
//! `engine::pool`). The thread that completes an exchange window exchanges the
//! process's spikes with the other ranks: an `MPI_Iallgather` of the counts and an
//! `MPI_Iallgatherv` of the spikes. Rank r holds partitions r·P … r·P + P − 1 of R·P,
//! and every neuron sums its inputs in one fixed order, so the spikes are those of
//! R·P partitions in one process, bit for bit.
//!
//! Any thread of a process may complete a window, one at a time: with more than one
//! thread per rank MPI must provide `MPI_THREAD_SERIALIZED` (see [`Mpi::new`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::environment::Threading;
use mpi::request::{Request, Scope};
use mpi::topology::Communicator as _;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::comm::{Communicator, Spike};

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

/// The MPI communicator of one rank.
pub struct Mpi {
    /// Held for the whole of every call: calls are serialised whichever thread makes
    /// them (what `MPI_THREAD_SERIALIZED` asks of the program).
    inner: Mutex<Inner>,
    rank: usize,
    size: usize,
    local_ranks: usize,
}

struct Inner {
    world: SimpleCommunicator,
    send: Vec<u64>,
    recv: Vec<u64>,
    counts: Vec<i32>,
}

// SAFETY: an MPI communicator handle may be used from any thread of the process when
// MPI provides MPI_THREAD_SERIALIZED or more, as long as no two threads call MPI at
// once; `Mpi::new` checks the first (or that the rank has one thread, which then makes
// every call), the mutex around `Inner` guarantees the second.
unsafe impl Send for Inner {}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mpi {{ rank: {}, size: {} }}", self.rank, self.size)
    }
}

impl Mpi {
    /// The communicator of this rank in `world`, for a rank of `threads` threads.
    /// Fails if MPI was initialised with too little thread support for `threads`.
    pub fn new(world: &SimpleCommunicator, threads: usize) -> Result<Mpi, String> {
        let support = mpi::environment::threading_support();
        if threads > 1 && !matches!(support, Threading::Serialized | Threading::Multiple) {
            return Err(format!(
                "{threads} threads per rank need MPI_THREAD_SERIALIZED, but the MPI \
                 library provides only {support:?}: run one thread per rank (--threads 1)"
            ));
        }
        let world = world.duplicate();
        // Ranks on this machine (those sharing its memory): their threads together
        // decide whether a waiting thread may spin.
        let local_ranks = world.split_shared(world.rank()).size() as usize;
        Ok(Mpi {
            rank: world.rank() as usize,
            size: world.size() as usize,
            local_ranks,
            inner: Mutex::new(Inner {
                counts: vec![0; world.size() as usize],
                world,
                send: Vec::new(),
                recv: Vec::new(),
            }),
        })
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Communicator for Mpi {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn local_ranks(&self) -> usize {
        self.local_ranks
    }
    fn barrier(&self) {
        wait_politely(self.inner().world.immediate_barrier());
    }
    fn allgather<'a>(&self, local: &'a [Spike], all: &'a mut Vec<Spike>) -> &'a [Spike] {
        let mut guard = self.inner();
        let Inner {
            world,
            send,
            recv,
            counts,
        } = &mut *guard;
        // Spikes travel as (step, gid) pairs of u64: a plain MPI type, no derived one.
        send.clear();
        for s in local {
            send.extend_from_slice(&[s.step, s.gid as u64]);
        }
        let mine = send.len() as i32;
        mpi::request::scope(|scope| {
            wait_politely(world.immediate_all_gather_into(scope, &mine, &mut counts[..]))
        });
        let displs = displacements(counts);
        recv.resize(counts.iter().map(|&c| c as usize).sum(), 0);
        {
            let mut part = PartitionMut::new(&mut recv[..], &counts[..], &displs[..]);
            let send = &send[..];
            mpi::request::scope(|scope| {
                wait_politely(world.immediate_all_gather_varcount_into(scope, send, &mut part))
            });
        }
        all.clear();
        all.extend(recv.chunks_exact(2).map(|p| Spike {
            step: p[0],
            gid: p[1] as u32,
        }));
        all
    }
    fn all_agree(&self, yes: bool) -> bool {
        let mine = yes as i32;
        let mut all = 0i32;
        self.inner()
            .world
            .all_reduce_into(&mine, &mut all, SystemOperation::min());
        all == 1
    }
    fn gather_bytes(&self, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
        gather_bytes_to_root(&self.inner().world, bytes)
    }
    fn name(&self) -> &'static str {
        "mpi"
    }
}

fn displacements(counts: &[i32]) -> Vec<i32> {
    counts
        .iter()
        .scan(0, |acc, &c| {
            let d = *acc;
            *acc += c;
            Some(d)
        })
        .collect()
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
    let displs = displacements(&lens);
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
