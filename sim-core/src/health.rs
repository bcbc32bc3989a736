//! Stopping a run whose neuron state became NaN or infinite.
//!
//! A state that blew up (a weight far too large for forward Euler, say) goes on running
//! silently otherwise: comparisons with NaN are false, so the neuron just never spikes
//! again, and the record would report a plausible-looking run. So every worker scans its
//! state vectors every [`CHECK_STEPS`] steps (at an exchange), with a branch-free pass
//! that vectorises like `evolve` itself: at the default min-delay of 8 steps that is one
//! pass over the state per 32 exchanges, well under 1 % of the step loop.
//!
//! All workers must stop at the same step, or the others would wait at the next barrier
//! forever. A worker that found a bad value adds an *alarm* (a spike from the impossible
//! neuron id [`ALARM`]) to the spikes of the exchange; the exchange gives every worker,
//! on any communicator (threads, MPI ranks), the same spikes, so every worker sees the
//! alarm after the same exchange and stops there. No change to the communicators is
//! needed. Alarm spikes never reach a synapse (no connection has that presynaptic id) and
//! are removed from recorded spikes.

use crate::comm::Spike;
use crate::neuron::Population;
use crate::real::Real;

/// Steps between two scans of the state (rounded up to whole exchanges).
pub const CHECK_STEPS: u64 = 256;

/// The neuron id of an alarm spike: above every real id (networks have fewer neurons).
pub const ALARM: u32 = u32::MAX;

/// Where a non-finite value was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NonFinite {
    pub population: String,
    /// Index of the neuron within its population (0-based).
    pub neuron: usize,
    /// Global neuron id (as in spike files).
    pub gid: u64,
    /// The state variable, e.g. "v", "g_exc".
    pub variable: String,
    /// The step at which the scan found it (the value went bad at most
    /// [`CHECK_STEPS`] steps earlier).
    pub step: u64,
}

impl std::fmt::Display for NonFinite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "neuron state is not finite (NaN or infinite): population {}, neuron {} \
             (global id {}), variable {}, detected at step {}",
            self.population, self.neuron, self.gid, self.variable, self.step
        )
    }
}

/// 0 for a finite `x`, NaN for NaN or ±inf (IEEE: 0·inf = NaN; the compiler may not fold
/// it away without fast-math).
#[inline(always)]
fn poison<R: Real>(x: R) -> R {
    x * R::ZERO
}

/// Whether every value is finite, in one branch-free pass: the sum of [`poison`] is 0
/// unless a value is not finite, and eight independent sums let the compiler use vector
/// lanes (a float sum in one accumulator may not be reordered, so would not vectorise).
pub fn all_finite<R: Real>(xs: &[R]) -> bool {
    let mut acc = [R::ZERO; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..8 {
            acc[j] += poison(c[j]);
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a += poison(x);
    }
    acc.iter().fold(R::ZERO, |s, &a| s + a) == R::ZERO
}

/// The first non-finite value of a population's local state: (local index, variable).
pub fn first_non_finite<R: Real>(pop: &Population<R>) -> Option<(usize, &'static str)> {
    pop.state().into_iter().find_map(|(name, xs)| {
        if all_finite(xs) {
            return None;
        }
        // Only on the failure path: find which neuron.
        xs.iter()
            .position(|&x| poison(x) != R::ZERO)
            .map(|i| (i, name))
    })
}

/// One worker's watch over its populations.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    /// Check at every this many exchanges.
    every: u64,
    exchanges: u64,
    /// Name, global id of the first local neuron, index within the population of the
    /// first local neuron, of each population.
    pops: Vec<(String, u64, usize)>,
    /// What this worker found first.
    pub failure: Option<NonFinite>,
    /// Some worker raised the alarm: stop stepping.
    pub stop: bool,
}

impl Watch {
    pub fn new(
        net: &crate::model::Network,
        partition: &crate::partition::Partition,
        min_delay: u64,
    ) -> Self {
        let offsets = net.offsets();
        Watch {
            every: CHECK_STEPS.div_ceil(min_delay.max(1)),
            exchanges: 0,
            pops: net
                .populations
                .iter()
                .zip(&partition.ranges)
                .zip(offsets)
                .map(|((p, r), off)| (p.name.clone(), (off + r.start) as u64, r.start))
                .collect(),
            failure: None,
            stop: false,
        }
    }

    /// Scans every population; records the first bad value found at `step`.
    pub fn scan<R: Real>(&mut self, pops: &[Population<R>], step: u64) -> bool {
        if self.failure.is_some() {
            return true;
        }
        for (p, pop) in pops.iter().enumerate() {
            if let Some((i, var)) = first_non_finite(pop) {
                let (name, gid, first) = &self.pops[p];
                self.failure = Some(NonFinite {
                    population: name.clone(),
                    neuron: first + i,
                    gid: gid + i as u64,
                    variable: var.to_string(),
                    step,
                });
                return true;
            }
        }
        false
    }

    /// Before an exchange that ends at `step`: whether this exchange is a check, and, if
    /// this worker's state is bad, an alarm added to the spikes it sends.
    pub fn before_exchange<R: Real>(
        &mut self,
        pops: &[Population<R>],
        step: u64,
        emitted: &mut Vec<Spike>,
    ) -> bool {
        self.exchanges += 1;
        if self.exchanges % self.every != 0 {
            return false;
        }
        if self.scan(pops, step) {
            // Within the block just ended, so the ring slot it lands in is cleared later.
            emitted.push(Spike {
                step: step - 1,
                gid: ALARM,
            });
        }
        true
    }

    /// After a checked exchange: stop if any worker raised the alarm.
    pub fn after_exchange(&mut self, received: &[Spike]) {
        self.stop |= received.iter().any(|s| s.gid == ALARM);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nan_and_inf_anywhere() {
        for n in [0usize, 1, 7, 8, 9, 100] {
            let ok = vec![1.5f32; n];
            assert!(all_finite(&ok), "{n}");
            for i in 0..n {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut v = ok.clone();
                    v[i] = bad;
                    assert!(!all_finite(&v), "{n} {i} {bad}");
                }
            }
        }
        assert!(!all_finite(&[0.0f64, f64::NAN]));
        assert!(all_finite(&[f64::MAX, f64::MIN_POSITIVE, -0.0]));
    }
}
