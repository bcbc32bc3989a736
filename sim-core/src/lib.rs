//! The simulator core of snn-limits.
//!
//! The crate keeps the *model* apart from the *execution*, as Arbor separates recipe,
//! context and simulation:
//! - [`model`] says what network runs: populations, connections and their parameters.
//!   It knows nothing of threads or ranks.
//! - [`partition`], [`comm`] and [`engine`] say how it runs: which worker owns which
//!   neurons (and every synapse onto them), how spikes are exchanged every minimum delay,
//!   and the step loop `evolve → propagate → plasticity → barrier → sync`.
//! - [`timers`] measures each phase of that loop per worker.
//!
//! Spike output is bit-identical for any number of workers: random draws come from a
//! counter-based generator keyed by global ids ([`rng`]), and every neuron receives its
//! inputs in the same order whatever the partition.

pub mod barrier;
mod cache;
pub mod checkpoint;
pub mod comm;
pub mod connection;
pub mod contention;
pub mod engine;
pub mod health;
pub mod index;
pub mod input;
pub mod model;
pub mod monitor;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod mtx;
pub mod neuron;
pub mod partition;
pub mod plasticity;
pub mod real;
pub mod rng;
pub mod simulation;
pub mod state;
pub mod stats;
pub mod timers;

pub use comm::{Communicator, Delayed, Local, Spike};
pub use engine::{simulate, Observer, Quiet, RunConfig, RunResult, Worker, WorkerReport};
pub use model::{
    Channel, ConnectionSpec, Connectivity, InitialV, ModelError, Network, PairStdp, Plasticity,
    PopulationSpec, TraceMode, TripletStdp,
};
pub use partition::{Decomposition, Partition, Partitioner};
pub use real::{Precision, Real};
pub use simulation::{Context, RunOptions, Simulation};
pub use timers::{PhaseStats, PhaseTimes};
