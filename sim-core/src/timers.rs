//! Phase timers: a small plain struct per worker (as rapier's `Counters`).
//!
//! The step loop times the compute between two exchanges exactly and splits it by
//! phase on one sampled step per exchange interval (see `Worker::report`), plus two
//! reads per exchange. `quanta` reads the TSC (~10 ns) instead of `clock_gettime` (~20–25 ns
//! in a VM), which keeps the timers under 1 % of the run time.

use std::fmt;

/// A clock the engine reads at phase boundaries; `Off` compiles the reads away, to
/// measure the timers' own overhead.
pub trait Clock: Send + Sync + Clone {
    fn now(&self) -> u64;
    fn nanos(&self, ticks: u64) -> u64;
}

/// The TSC-based clock.
#[derive(Clone, Debug)]
pub struct On(quanta::Clock);

impl Default for On {
    fn default() -> Self {
        On(quanta::Clock::new())
    }
}

impl Clock for On {
    #[inline(always)]
    fn now(&self) -> u64 {
        self.0.raw()
    }
    fn nanos(&self, ticks: u64) -> u64 {
        self.0.delta_as_nanos(0, ticks)
    }
}

/// No timing at all.
#[derive(Clone, Debug, Default)]
pub struct Off;

impl Clock for Off {
    #[inline(always)]
    fn now(&self) -> u64 {
        0
    }
    fn nanos(&self, _: u64) -> u64 {
        0
    }
}

/// Seconds one worker spent in each phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseTimes {
    /// Neuron (and trace) integration.
    pub evolve: f64,
    /// Delivering spikes through static synapses.
    pub propagate: f64,
    /// Weight updates.
    pub plasticity: f64,
    /// Waiting for the slowest worker before an exchange.
    pub barrier: f64,
    /// The exchange itself.
    pub sync: f64,
}

impl PhaseTimes {
    pub const NAMES: [&'static str; 5] = ["evolve", "propagate", "plasticity", "barrier", "sync"];

    pub fn values(&self) -> [f64; 5] {
        [
            self.evolve,
            self.propagate,
            self.plasticity,
            self.barrier,
            self.sync,
        ]
    }

    pub fn total(&self) -> f64 {
        self.values().iter().sum()
    }
}

impl fmt::Display for PhaseTimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total().max(f64::MIN_POSITIVE);
        for (name, v) in Self::NAMES.iter().zip(self.values()) {
            writeln!(f, "{name:>10}: {v:9.4} s ({:5.1} %)", 100.0 * v / total)?;
        }
        Ok(())
    }
}

/// Minimum, mean and maximum over workers of one phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

/// Each phase's spread over workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseStats {
    pub evolve: Spread,
    pub propagate: Spread,
    pub plasticity: Spread,
    pub barrier: Spread,
    pub sync: Spread,
}

impl PhaseStats {
    pub fn over(workers: &[PhaseTimes]) -> Self {
        let spread = |k: usize| {
            let xs = workers.iter().map(|w| w.values()[k]);
            let n = workers.len().max(1) as f64;
            Spread {
                min: xs.clone().fold(f64::INFINITY, f64::min),
                mean: xs.clone().sum::<f64>() / n,
                max: xs.fold(f64::NEG_INFINITY, f64::max),
            }
        };
        PhaseStats {
            evolve: spread(0),
            propagate: spread(1),
            plasticity: spread(2),
            barrier: spread(3),
            sync: spread(4),
        }
    }

    pub fn means(&self) -> PhaseTimes {
        PhaseTimes {
            evolve: self.evolve.mean,
            propagate: self.propagate.mean,
            plasticity: self.plasticity.mean,
            barrier: self.barrier.mean,
            sync: self.sync.mean,
        }
    }
}

impl fmt::Display for PhaseStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>10}  {:>9} {:>9} {:>9}",
            "phase", "min s", "mean s", "max s"
        )?;
        for (name, s) in PhaseTimes::NAMES.iter().zip([
            self.evolve,
            self.propagate,
            self.plasticity,
            self.barrier,
            self.sync,
        ]) {
            writeln!(f, "{name:>10}  {:9.4} {:9.4} {:9.4}", s.min, s.mean, s.max)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_over_workers() {
        let a = PhaseTimes {
            evolve: 1.0,
            barrier: 0.5,
            ..Default::default()
        };
        let b = PhaseTimes {
            evolve: 3.0,
            barrier: 0.1,
            ..Default::default()
        };
        let s = PhaseStats::over(&[a, b]);
        assert_eq!(
            s.evolve,
            Spread {
                min: 1.0,
                mean: 2.0,
                max: 3.0
            }
        );
        assert_eq!(s.barrier.max, 0.5);
        assert_eq!(s.means().evolve, 2.0);
        assert!(s.to_string().contains("evolve"));
    }

    #[test]
    fn clock_measures_a_sleep() {
        let c = On::default();
        let t0 = c.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let ns = c.nanos(c.now() - t0);
        assert!((15_000_000..2_000_000_000).contains(&ns), "{ns} ns");
        assert_eq!(Off.nanos(Off.now()), 0);
    }
}
