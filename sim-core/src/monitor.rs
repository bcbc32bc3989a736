//! Streaming output: the spikes of every exchange handed to a sink while the run goes
//! on, so that a run of any length records them in bounded memory (the in-memory
//! `record_spikes` keeps them all until the end).
//!
//! The exchange gives every rank every rank's spikes, so rank 0 alone streams them:
//! the output is the same for any thread, partition or rank count.

use crate::comm::Spike;

/// Where a run's spikes go, window by window.
pub trait SpikeSink: Send {
    /// The spikes of one exchange window (every step before `upto` not handed over
    /// yet), network-wide, sorted by (step, gid); windows come in step order. Called by
    /// the thread that completes the window, while the others wait: a sink should hand
    /// the work on (e.g. to a writer thread) rather than block on I/O.
    fn window(&mut self, upto: u64, spikes: &[Spike]);
}
