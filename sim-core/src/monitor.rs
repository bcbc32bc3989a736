//! Streaming output: the spikes of every exchange handed to a sink while the run goes
//! on, so that a run of any length records them in bounded memory (the in-memory
//! `record_spikes` keeps them all until the end).
//!
//! The exchange gives every rank every rank's spikes, so rank 0 alone streams them:
//! the output is the same for any thread, partition or rank count.
//!
//! State probes sample a variable of chosen neurons every few steps. Each partition
//! keeps the samples of its own neurons during an exchange window; the thread that
//! completes the window joins every partition's (and, under MPI, every rank's, at rank
//! 0) into rows in neuron id order and hands them to the [`StateSink`]: again the same
//! rows for any thread, partition or rank count, in memory bounded by one window.

use crate::comm::Spike;
use crate::model::Network;

/// Where a run's spikes go, window by window.
pub trait SpikeSink: Send {
    /// The spikes of one exchange window (every step before `upto` not handed over
    /// yet), network-wide, sorted by (step, gid); windows come in step order. Called by
    /// the thread that completes the window, while the others wait: a sink should hand
    /// the work on (e.g. to a writer thread) rather than block on I/O.
    fn window(&mut self, upto: u64, spikes: &[Spike]);
}

/// A state variable of a range of neurons, sampled every `every` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateProbe {
    /// A floating-point state variable of every population the neurons are in (see
    /// `Population::variable_names`: `v`, `g_exc`, `theta`, …), or `CONN.TRACE`, a
    /// postsynaptic trace of plastic connection CONN onto the neurons (see
    /// `plasticity::post_traces_of`: `EE.post_trace`, …).
    pub variable: String,
    /// Global neuron ids (populations in order, as in the spikes).
    pub neurons: std::ops::Range<u32>,
    /// Sample at the steps `first`, `first + every`, … (the state at the start of the
    /// step, before its inputs and update: the state at time step·dt).
    pub first: u64,
    pub every: u64,
}

impl StateProbe {
    /// Whether the probe can sample `net`: its neurons exist, it samples at least every
    /// `u64::MAX` steps, and every population its neurons are in has its variable. The
    /// message names the probe and what was expected.
    pub fn check(&self, net: &Network) -> Result<(), String> {
        let n = net.neuron_count() as u32;
        let r = &self.neurons;
        let name = format!(
            "state probe {}:{}-{}",
            self.variable,
            r.start,
            r.end.max(1) - 1
        );
        if r.start >= r.end || r.end > n {
            return Err(format!(
                "{name}: neurons {r:?}, expected a non-empty range within 0..{n}"
            ));
        }
        if self.every == 0 {
            return Err(format!("{name}: every 0 steps, expected at least 1"));
        }
        if let Some((conn, trace)) = self.variable.split_once('.') {
            return self.check_trace(net, &name, conn, trace);
        }
        for (spec, first) in net.populations.iter().zip(net.offsets()) {
            let first = first as u32;
            if r.start >= first + spec.size as u32 || r.end <= first {
                continue;
            }
            let has = crate::neuron::variables_of(&spec.model);
            if !has.contains(&self.variable.as_str()) {
                return Err(format!(
                    "{name}: population {} has no variable {:?}; its variables: {}",
                    spec.name,
                    self.variable,
                    if has.is_empty() {
                        "none".to_string()
                    } else {
                        has.join(", ")
                    }
                ));
            }
        }
        Ok(())
    }

    /// A probe of trace `trace` of connection `conn`: the connection is plastic, keeps
    /// that trace, and its postsynaptic population holds every neuron probed.
    fn check_trace(
        &self,
        net: &Network,
        name: &str,
        conn: &str,
        trace: &str,
    ) -> Result<(), String> {
        let plastic: Vec<&str> = (net.connections.iter())
            .filter(|c| c.plasticity.is_some())
            .map(|c| c.name.as_str())
            .collect();
        let Some(c) = net.connections.iter().find(|c| c.name == conn) else {
            return Err(format!(
                "{name}: no connection {conn:?}; the plastic ones: {}",
                if plastic.is_empty() {
                    "none".to_string()
                } else {
                    plastic.join(", ")
                }
            ));
        };
        let Some(rule) = &c.plasticity else {
            return Err(format!(
                "{name}: connection {conn} is static, only plastic ones have traces ({})",
                if plastic.is_empty() {
                    "none here".to_string()
                } else {
                    plastic.join(", ")
                }
            ));
        };
        let traces = crate::plasticity::post_traces_of(rule);
        if !traces.contains(&trace) {
            return Err(format!(
                "{name}: connection {conn} has no trace {trace:?}; its traces: {}",
                traces.join(", ")
            ));
        }
        let first = net.offsets()[c.post] as u32;
        let post = &net.populations[c.post];
        if self.neurons.start < first || self.neurons.end > first + post.size as u32 {
            return Err(format!(
                "{name}: {conn}'s traces are of population {} (ids {first}-{}), expected \
                 neurons within it",
                post.name,
                first + post.size as u32 - 1
            ));
        }
        Ok(())
    }

    /// Whether `step` is a sampling step.
    #[inline]
    pub fn due(&self, step: u64) -> bool {
        step >= self.first && (step - self.first) % self.every == 0
    }
}

/// Where the probes' samples go.
pub trait StateSink: Send {
    /// The samples of probe `probe` (its index in the list given) taken during one
    /// exchange window: `steps[k]` is the k-th sample's step, and `values` holds the
    /// samples one after another, each one value per probed neuron in id order
    /// (`steps.len()` × neurons, row-major). Windows come in step order. Called by the
    /// thread that completes the window while the others wait (as
    /// [`SpikeSink::window`]).
    fn samples(&mut self, probe: usize, steps: &[u64], values: &[f64]);
}
