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
//!
//! Per-neuron rates ([`Poisson::set_rates`], e.g. from a file between two runs) draw
//! per step, whatever the generator: a lattice walk needs one probability for every
//! cell.

use std::ops::Range;

use crate::model::{PoissonGenerator, PoissonParams};
use crate::rng::{stream, CounterRng, Draws};
use crate::state::{take_exact, Array, Layout, Source, StateError, Values};

use super::{replicated_u64, take_u64};

#[derive(Debug, Clone)]
pub struct Poisson {
    generator: PoissonGenerator,
    /// The rate in force (Hz): the spec's, or the last [`Poisson::set_rate`].
    rate: f64,
    dt: f64,
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
    /// Per-neuron rates in force (Hz) and spike probabilities, of the owned neurons;
    /// None while the population fires at `rate`.
    neuron_rates: Option<(Vec<f64>, Vec<f64>)>,
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
            rate: params.rate,
            dt,
            p,
            log_q,
            owned,
            pop_size: pop_size as u64,
            first_gid: pop_first_gid as u32,
            rng: *rng,
            step: 0,
            next_cell: first,
            walk,
            neuron_rates: None,
        }
    }

    pub fn len(&self) -> usize {
        self.owned.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owned.is_empty()
    }

    /// Fires at `hz` from the step to be simulated next on. The lattice walk restarts at
    /// that step's first cell with draws keyed by the step (stream `POISSON_RATE`, blocks
    /// from step · 2³², wrapping past 2³² steps), so every partition walks the same new
    /// lattice; the cells stay independent with the new probability (the walk's gaps
    /// are memoryless). Setting the same step's rate twice keeps only the last.
    pub fn set_rate(&mut self, hz: f64) -> Result<(), String> {
        if !(hz.is_finite() && hz >= 0.0) {
            return Err(format!("rate {hz} Hz: expected a finite rate >= 0"));
        }
        self.neuron_rates = None;
        self.set_probability(hz);
        self.walk = self
            .rng
            .sequence_from(self.first_gid, stream::POISSON_RATE, self.step << 32);
        self.next_cell = if self.p > 0.0 {
            (self.step * self.pop_size).saturating_add(jump(&mut self.walk, self.log_q) - 1)
        } else {
            u64::MAX
        };
        Ok(())
    }

    /// Fires each owned neuron at its own rate (`hz[i]` for the i-th owned neuron) from
    /// the step to be simulated next on, with one draw per neuron and step keyed by
    /// (gid, step) as the per-step generator's: the spikes do not depend on the
    /// partition. [`Poisson::set_rate`] goes back to one rate.
    pub fn set_rates(&mut self, hz: &[f64]) -> Result<(), String> {
        if hz.len() != self.owned.len() {
            return Err(format!(
                "{} rates for {} neurons",
                hz.len(),
                self.owned.len()
            ));
        }
        if let Some((i, r)) = hz
            .iter()
            .enumerate()
            .find(|(_, r)| !(r.is_finite() && **r >= 0.0))
        {
            return Err(format!(
                "neuron {}: rate {r} Hz: expected a finite rate >= 0",
                self.owned.start + i
            ));
        }
        let p = hz.iter().map(|r| (r * self.dt).min(1.0)).collect();
        self.neuron_rates = Some((hz.to_vec(), p));
        Ok(())
    }

    /// `p` and `ln(1 − p)` of a rate, computed as [`Poisson::new`] does.
    fn set_probability(&mut self, hz: f64) {
        self.rate = hz;
        self.p = (hz * self.dt).min(1.0);
        self.log_q = (1.0 - self.p).ln();
    }

    /// Replicated (the walk covers the whole population, and every partition takes the
    /// same steps): the step counter, the rate in force, and for the lattice walk its
    /// next spiking cell and the position of its draws (`[stream, block, words used]`);
    /// per neuron, the rates in force if they are set per neuron (`neuron_rate`).
    pub fn save(&self) -> Vec<Array> {
        let mut out = vec![
            replicated_u64("step", vec![self.step]),
            Array {
                name: "rate",
                layout: Layout::Replicated,
                values: Values::F64(vec![self.rate]),
            },
        ];
        if self.generator == PoissonGenerator::Lattice {
            out.push(replicated_u64("next_cell", vec![self.next_cell]));
            out.push(replicated_u64("walk", self.walk.position().to_vec()));
        }
        if let Some((hz, _)) = &self.neuron_rates {
            out.push(Array {
                name: "neuron_rate",
                layout: Layout::Neurons,
                values: Values::F64(hz.clone()),
            });
        }
        out
    }

    pub fn load(&mut self, source: &mut Source) -> Result<(), StateError> {
        let step = take_u64(source, "step", 1)?[0];
        let rate = match take_exact(source, "rate", 1)? {
            Values::F64(v) => v[0],
            other => {
                return Err(StateError::Kind {
                    name: "rate".into(),
                    expected: "<f8",
                    found: other.kind(),
                })
            }
        };
        if !(rate.is_finite() && rate >= 0.0) {
            return Err(StateError::Invalid {
                name: "rate".into(),
                problem: format!("{rate} Hz"),
            });
        }
        let mut walk = self.walk.clone();
        let mut next_cell = self.next_cell;
        if self.generator == PoissonGenerator::Lattice {
            next_cell = take_u64(source, "next_cell", 1)?[0];
            let w = take_u64(source, "walk", 3)?;
            let position = [w[0], w[1], w[2]];
            let known = [stream::POISSON_LATTICE, stream::POISSON_RATE];
            if !known.iter().any(|&s| s as u64 == position[0]) {
                return Err(StateError::Invalid {
                    name: "walk".into(),
                    problem: format!("stream {} is no lattice walk's", position[0]),
                });
            }
            walk.resume(position)
                .map_err(|problem| StateError::Invalid {
                    name: "walk".into(),
                    problem,
                })?;
        }
        // Present only where rates are set per neuron.
        let neuron_rates = match take_exact(source, "neuron_rate", self.owned.len()) {
            Ok(Values::F64(hz)) => Some(hz),
            Ok(other) => {
                return Err(StateError::Kind {
                    name: "neuron_rate".into(),
                    expected: "<f8",
                    found: other.kind(),
                })
            }
            Err(StateError::Missing { .. }) => None,
            Err(e) => return Err(e),
        };
        let before = (self.step, self.neuron_rates.take());
        self.step = step;
        if let Some(hz) = neuron_rates {
            if let Err(problem) = self.set_rates(&hz) {
                (self.step, self.neuron_rates) = before;
                return Err(StateError::Invalid {
                    name: "neuron_rate".into(),
                    problem,
                });
            }
        }
        self.set_probability(rate);
        self.next_cell = next_cell;
        self.walk = walk;
        Ok(())
    }

    /// Emits this step's spikes (local indices) and moves to the next step.
    pub fn evolve(&mut self, spiked: &mut Vec<u32>) {
        match (&self.neuron_rates, self.generator) {
            (Some((_, p)), _) => self.draw_each(spiked, |k| p[k]),
            (None, PoissonGenerator::Lattice) => self.walk_column(spiked),
            (None, PoissonGenerator::PerStep) => self.draw_each(spiked, |_| self.p),
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

    /// One draw per owned neuron: the k-th fires with probability `p(k)`.
    fn draw_each(&self, spiked: &mut Vec<u32>, p: impl Fn(usize) -> f64) {
        for (k, i) in self.owned.clone().enumerate() {
            let w = self
                .rng
                .block(self.first_gid + i as u32, stream::POISSON_STEP, self.step);
            let bits = ((w[0] as u64) << 32 | w[1] as u64) >> 11;
            let u = bits as f64 * (1.0 / (1u64 << 53) as f64);
            if u < p(k) {
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

    /// Per-neuron rates: each neuron fires at its own rate, the spikes do not depend on
    /// the split, and they survive a save/load.
    #[test]
    fn per_neuron_rates_fire_each_neuron_at_its_rate() {
        let params = PoissonParams {
            rate: 5.0,
            generator: PoissonGenerator::Lattice,
        };
        let n = 60;
        let hz: Vec<f64> = (0..n).map(|i| if i < 30 { 0.0 } else { 20.0 }).collect();
        let run = |owned: Range<usize>, steps: u64, reload: bool| {
            let rng = CounterRng::new(3);
            let mut src = Poisson::new(&params, 1e-4, 10, n, owned.clone(), &rng);
            src.set_rates(&hz[owned.clone()]).unwrap();
            let mut stats = SpikeStats::new(owned.len());
            let mut spiked = Vec::new();
            for step in 0..steps {
                if reload && step == steps / 2 {
                    let saved: std::collections::BTreeMap<_, _> =
                        src.save().into_iter().map(|a| (a.name, a.values)).collect();
                    let mut fresh = Poisson::new(&params, 1e-4, 10, n, owned.clone(), &rng);
                    fresh
                        .load(&mut |name: &str| {
                            saved
                                .get(name)
                                .cloned()
                                .ok_or(StateError::Missing { name: name.into() })
                        })
                        .unwrap();
                    src = fresh;
                }
                spiked.clear();
                src.evolve(&mut spiked);
                for &i in &spiked {
                    stats.record(i as usize, step);
                }
            }
            stats
        };
        let steps = 100_000; // 10 s
        let whole = run(0..n, steps, false);
        assert_eq!(whole.summary(0..30, 10.0).mean_rate_hz, 0.0);
        let fast = whole.summary(30..60, 10.0).mean_rate_hz;
        assert!((fast - 20.0).abs() < 1.0, "{fast} Hz");
        let mut parts = SpikeStats::new(n);
        for r in [0..25, 25..60] {
            parts.place(r.start, &run(r.clone(), steps, false), 0..r.len());
        }
        assert_eq!(whole, parts, "split");
        assert_eq!(whole, run(0..n, steps, true), "saved and loaded");
        let mut src = Poisson::new(&params, 1e-4, 10, n, 0..n, &CounterRng::new(3));
        assert!(src.set_rates(&hz[..5]).is_err());
        let mut bad = hz.clone();
        bad[7] = f64::NAN;
        let e = src.set_rates(&bad).unwrap_err();
        assert!(e.contains("neuron 7"), "{e}");
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
