//! Poisson spike sources: every neuron fires independently with a fixed rate.
//!
//! Two generators, compared in the paper's Fig. 1:
//! - **lattice walk** (Auryn's): the (step × neuron) grid is scanned column by column
//!   and the distance to the next spiking cell is drawn directly (geometric with the
//!   per-cell probability p = rate · dt), so every random number yields a spike and the
//!   cost is O(spikes). Every worker walks the whole population's lattice (cheap: it is
//!   O(spikes)) from the population's own key and keeps the cells it owns, so the spikes
//!   do not depend on the partition.
//! - **per step**: one uniform draw per neuron and step, keyed by (seed, gid, stream,
//!   step): O(neurons) per step.
//!
//! Both give, per cell, a spike with probability p independently: ISIs are geometric
//! in steps (CV = √(1 − p) ≈ 1).

use std::ops::Range;

use crate::model::{PoissonGenerator, PoissonParams};
use crate::rng::{stream, CounterRng, Draws};

#[derive(Debug, Clone)]
pub struct Poisson {
    generator: PoissonGenerator,
    /// Spike probability per neuron and step.
    p: f64,
    /// ln(1 − p), for geometric jumps.
    log_q: f64,
    /// Owned neurons (indices within the population).
    owned: Range<usize>,
    pop_size: u64,
    first_gid: u32,
    rng: CounterRng,
    step: u64,
    /// Lattice walk: the next spiking cell, numbered step · N + neuron, and its draws.
    next_cell: u64,
    walk: Draws,
}

impl Poisson {
    pub fn new(
        params: &PoissonParams,
        dt: f64,
        pop_first_gid: usize,
        pop_size: usize,
        owned: Range<usize>,
        rng: &CounterRng,
    ) -> Self {
        let p = (params.rate * dt).min(1.0);
        let mut walk = rng.sequence(pop_first_gid as u32, stream::POISSON_LATTICE);
        let log_q = (1.0 - p).ln();
        // The first spiking cell is preceded by a geometric number of empty ones.
        let first = if p > 0.0 {
            jump(&mut walk, log_q) - 1
        } else {
            u64::MAX
        };
        Poisson {
            generator: params.generator,
            p,
            log_q,
            owned,
            pop_size: pop_size as u64,
            first_gid: pop_first_gid as u32,
            rng: *rng,
            step: 0,
            next_cell: first,
            walk,
        }
    }

    pub fn len(&self) -> usize {
        self.owned.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owned.is_empty()
    }

    /// Emits this step's spikes (local indices) and moves to the next step.
    pub fn evolve(&mut self, spiked: &mut Vec<u32>) {
        match self.generator {
            PoissonGenerator::Lattice => self.walk_column(spiked),
            PoissonGenerator::PerStep => self.draw_each(spiked),
        }
        self.step += 1;
    }

    fn walk_column(&mut self, spiked: &mut Vec<u32>) {
        let column_end = (self.step + 1) * self.pop_size;
        let (lo, hi) = (self.owned.start as u64, self.owned.end as u64);
        while self.next_cell < column_end {
            let neuron = self.next_cell - self.step * self.pop_size;
            if (lo..hi).contains(&neuron) {
                spiked.push((neuron - lo) as u32);
            }
            self.next_cell = self
                .next_cell
                .saturating_add(jump(&mut self.walk, self.log_q));
        }
    }

    fn draw_each(&mut self, spiked: &mut Vec<u32>) {
        for (k, i) in self.owned.clone().enumerate() {
            let w = self
                .rng
                .block(self.first_gid + i as u32, stream::POISSON_STEP, self.step);
            let bits = ((w[0] as u64) << 32 | w[1] as u64) >> 11;
            let u = bits as f64 * (1.0 / (1u64 << 53) as f64);
            if u < self.p {
                spiked.push(k as u32);
            }
        }
    }
}

/// Cells to the next spiking one (≥ 1): 1 + a geometric number of empty cells.
#[inline]
fn jump(draws: &mut Draws, log_q: f64) -> u64 {
    if log_q == f64::NEG_INFINITY {
        return 1; // p = 1: every cell spikes
    }
    let skip = (draws.uniform_open().ln() / log_q).floor();
    1 + if skip >= u64::MAX as f64 {
        u64::MAX / 2
    } else {
        skip as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::SpikeStats;

    fn run(generator: PoissonGenerator, n: usize, owned: Range<usize>, steps: u64) -> SpikeStats {
        let params = PoissonParams {
            rate: 5.0,
            generator,
        };
        let mut src = Poisson::new(&params, 1e-4, 100, n, owned.clone(), &CounterRng::new(7));
        let mut stats = SpikeStats::new(owned.len());
        let mut spiked = Vec::new();
        for step in 0..steps {
            spiked.clear();
            src.evolve(&mut spiked);
            for &i in &spiked {
                stats.record(i as usize, step);
            }
        }
        stats
    }

    /// 5 Hz ± 0.1 and CV-ISI ≈ 1 (paper Fig. 1D) for both generators.
    #[test]
    fn rates_and_regularity_are_poisson() {
        for (generator, n) in [
            (PoissonGenerator::Lattice, 1000),
            (PoissonGenerator::PerStep, 300),
        ] {
            let seconds = 20.0;
            let s = run(generator, n, 0..n, (seconds / 1e-4) as u64);
            let sum = s.summary(0..n, seconds);
            assert!(
                (sum.mean_rate_hz - 5.0).abs() < 0.1,
                "{generator:?}: {} Hz",
                sum.mean_rate_hz
            );
            let cv = sum.mean_cv_isi.unwrap();
            assert!((0.9..=1.1).contains(&cv), "{generator:?}: CV {cv}");
            assert_eq!(sum.active_fraction, 1.0);
        }
    }

    /// Each worker walks the whole lattice and keeps its cells: splitting the population
    /// does not change any neuron's spikes.
    #[test]
    fn spikes_do_not_depend_on_the_split() {
        for generator in [PoissonGenerator::Lattice, PoissonGenerator::PerStep] {
            let whole = run(generator, 90, 0..90, 20_000);
            let mut parts = SpikeStats::new(90);
            for r in [0..31, 31..60, 60..90] {
                let part = run(generator, 90, r.clone(), 20_000);
                parts.place(r.start, &part, 0..r.len());
            }
            assert_eq!(whole, parts, "{generator:?}");
        }
    }

    #[test]
    fn zero_and_saturated_rates() {
        let zero = PoissonParams {
            rate: 0.0,
            generator: PoissonGenerator::Lattice,
        };
        let mut src = Poisson::new(&zero, 1e-4, 0, 10, 0..10, &CounterRng::new(1));
        let mut s = Vec::new();
        for _ in 0..1000 {
            src.evolve(&mut s);
        }
        assert!(s.is_empty());
        for generator in [PoissonGenerator::Lattice, PoissonGenerator::PerStep] {
            let full = PoissonParams {
                rate: 1e4,
                generator,
            };
            let mut src = Poisson::new(&full, 1e-4, 0, 10, 0..10, &CounterRng::new(1));
            src.evolve(&mut s);
            assert_eq!(s.len(), 10, "{generator:?}: p = 1 fires every neuron");
            s.clear();
        }
    }
}
