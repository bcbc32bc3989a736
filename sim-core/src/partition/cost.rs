//! The estimated cost of each neuron per time step, in nanoseconds of one core: what the
//! balanced partitioner cuts populations by, and what the record reports per partition
//! (`config.partition_costs`) so that a decomposition's imbalance can be read off.
//!
//! A neuron's cost is the work done for it in one step, where it lives:
//!
//! - **the neuron update** (`evolve`): a per-model constant, every neuron every step;
//!   Poisson sources on the lattice generator cost per spike instead (Auryn's walk is
//!   O(spikes)), so theirs is the cost of a spike times the expected spikes per step;
//! - **the synaptic events onto it** (`propagate`): its partition holds every synapse
//!   onto it, and each presynaptic spike costs one event per synapse. Expected events per
//!   step = in-synapses × presynaptic rate × dt. The in-synapses are the expected
//!   in-degree p·N_pre for random connectivity (the same for every neuron of the
//!   population, so a block cut is already balanced) and the real per-neuron count for
//!   explicit synapses (which may vary by orders of magnitude within a population);
//! - **plasticity**: a plastic synapse costs more per arrival (depression, then
//!   delivery) and is visited again on every postsynaptic spike (potentiation, a
//!   scattered walk through the weights). At equal pre- and postsynaptic rates a plastic
//!   synapse weighs [`PAIR_FACTOR`] (pair STDP) or [`TRIPLET_FACTOR`] (triplet STDP)
//!   static ones.
//!
//! Rates are not known before the run: a Poisson source's is its configured rate; every
//! other population is taken to fire at [`NOMINAL_RATE_HZ`]. The rate only weighs
//! synaptic work against neuron updates, and across populations; the balanced cut of a
//! population with equal in-degrees does not depend on it.
//!
//! Left out, because they are the same for every partition and no cut can move them:
//! each partition's exchange of all spikes, its look-up of every presynaptic spike's
//! row, and (continuous presynaptic traces) the decay of every presynaptic trace.
//!
//! Also left out: a plastic connection's per-step trace decay (`begin_step`, 0.4–0.7 ns
//! per neuron, under half a neuron update).
//!
//! The constants are f32 medians of `cargo bench -p sim-core --bench kernels --
//! 'evolve/f32|propagate/f32|poisson|plasticity/.*/f32/continuous'` (criterion,
//! `target-cpu=native`) on this project's 2-core VM (AMD EPYC, KVM; load average 3.4–4.4
//! from builds outside the benchmark lock, so the absolute values may be high; what the
//! cuts use is their ratios), README "Performance notes". f64
//! costs more, by a similar factor for every term, which leaves the cut unchanged.

use std::ops::Range;

use crate::model::{Connectivity, Network, NeuronModel, Plasticity, PoissonGenerator};

use super::{Decomposition, Partition};

/// `evolve/f32/coba/4000`: one conductance-based LIF neuron's update, ns.
pub const COBA_NS: f64 = 1.03;
/// `evolve/f32/ampa-nmda/25000`: one AMPA/NMDA/GABA neuron with a dynamic threshold, ns.
pub const AMPA_NMDA_NS: f64 = 0.96;
/// `evolve/f32/delta+drive/10000`: one delta-synapse neuron with its external Poisson
/// drive (20 kHz, brunel's), ns.
pub const DELTA_NS: f64 = 8.7;
/// `poisson/1000x5Hz-step/per-step` / 1000: one Poisson source's draw per step, ns.
pub const POISSON_PER_STEP_NS: f64 = 16.0;
/// `poisson/1000x5Hz-step/lattice` / 0.5 expected spikes per step: one spike of the
/// lattice generator, ns.
pub const POISSON_LATTICE_SPIKE_NS: f64 = 72.0;
/// `propagate/f32/va-EE-8-spikes`: one event through a static synapse, ns.
pub const STATIC_EVENT_NS: f64 = 1.82;
/// `plasticity/pair-brunel-EE/f32/continuous/arrive`: one arrival at a pair-STDP
/// synapse (depression, then delivery), ns.
pub const PAIR_ARRIVE_NS: f64 = 4.26;
/// `plasticity/pair-brunel-EE/f32/continuous/potentiate`: one pair-STDP synapse
/// potentiated on a postsynaptic spike, ns.
pub const PAIR_POTENTIATE_NS: f64 = 23.9;
/// `plasticity/triplet-zenke25k-EE/f32/continuous/arrive`, ns.
pub const TRIPLET_ARRIVE_NS: f64 = 8.29;
/// `plasticity/triplet-zenke25k-EE/f32/continuous/potentiate`, ns.
pub const TRIPLET_POTENTIATE_NS: f64 = 23.1;
/// A pair-STDP synapse's cost in static synapses, at equal pre- and postsynaptic rates.
pub const PAIR_FACTOR: f64 = (PAIR_ARRIVE_NS + PAIR_POTENTIATE_NS) / STATIC_EVENT_NS;
/// A triplet-STDP synapse's cost in static synapses, at equal rates.
pub const TRIPLET_FACTOR: f64 = (TRIPLET_ARRIVE_NS + TRIPLET_POTENTIATE_NS) / STATIC_EVENT_NS;
/// The firing rate assumed for populations other than Poisson sources, Hz: within the
/// range of this study's networks (zenke25k ≈ 3 Hz, va ≈ 20 Hz, brunel ≈ 42 Hz).
pub const NOMINAL_RATE_HZ: f64 = 10.0;

/// The estimated cost of one neuron per step, ns, for every population of a network.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pops: Vec<PopulationCosts>,
}

/// One population's neuron costs.
#[derive(Debug, Clone, PartialEq)]
enum PopulationCosts {
    /// Every neuron costs `each` (no explicit synapses onto the population).
    Uniform { each: f64, size: usize },
    /// Neuron i costs `prefix[i + 1] − prefix[i]` (explicit synapses onto it);
    /// `largest` is the largest of them.
    Each { prefix: Vec<f64>, largest: f64 },
}

/// Rate assumed for population `p`, Hz.
fn rate_hz(net: &Network, p: usize) -> f64 {
    match &net.populations[p].model {
        NeuronModel::Poisson(pp) => pp.rate,
        _ => NOMINAL_RATE_HZ,
    }
}

/// One neuron's update per step, ns.
fn update_ns(model: &NeuronModel, dt: f64) -> f64 {
    match model {
        NeuronModel::Coba(_) => COBA_NS,
        NeuronModel::AmpaNmda(_) => AMPA_NMDA_NS,
        NeuronModel::Delta(_) => DELTA_NS,
        NeuronModel::Poisson(p) => match p.generator {
            PoissonGenerator::PerStep => POISSON_PER_STEP_NS,
            PoissonGenerator::Lattice => POISSON_LATTICE_SPIKE_NS * p.rate * dt,
        },
    }
}

impl Costs {
    /// The estimate for `net` (see the module's comment).
    pub fn estimate(net: &Network) -> Costs {
        let dt = net.dt;
        let pops = net
            .populations
            .iter()
            .enumerate()
            .map(|(q, pop)| {
                let update = update_ns(&pop.model, dt);
                let mut each = update;
                let mut explicit: Option<Vec<f64>> = None;
                for c in net.connections.iter().filter(|c| c.post == q) {
                    let pre = rate_hz(net, c.pre) * dt;
                    let post = rate_hz(net, q) * dt;
                    // One synapse's expected work per step.
                    let per_synapse = match &c.plasticity {
                        None => pre * STATIC_EVENT_NS,
                        Some(Plasticity::Pair(_)) => {
                            pre * PAIR_ARRIVE_NS + post * PAIR_POTENTIATE_NS
                        }
                        Some(Plasticity::Triplet(_)) => {
                            pre * TRIPLET_ARRIVE_NS + post * TRIPLET_POTENTIATE_NS
                        }
                    };
                    match &c.connectivity {
                        Connectivity::FixedProbability { p, .. } => {
                            each += p * net.populations[c.pre].size as f64 * per_synapse;
                        }
                        Connectivity::Explicit(entries) => {
                            let costs = explicit.get_or_insert_with(|| vec![0.0; pop.size]);
                            for &(_, j, _) in entries.iter() {
                                if let Some(x) = costs.get_mut(j as usize) {
                                    *x += per_synapse;
                                }
                            }
                        }
                    }
                }
                match explicit {
                    None => PopulationCosts::Uniform {
                        each,
                        size: pop.size,
                    },
                    Some(synaptic) => {
                        let mut prefix = Vec::with_capacity(pop.size + 1);
                        let (mut sum, mut largest) = (0.0, 0.0f64);
                        prefix.push(0.0);
                        for s in synaptic {
                            let x = each + s;
                            largest = largest.max(x);
                            sum += x;
                            prefix.push(sum);
                        }
                        PopulationCosts::Each { prefix, largest }
                    }
                }
            })
            .collect();
        Costs { pops }
    }

    /// Neuron `i` of population `p`, ns per step.
    pub fn neuron(&self, p: usize, i: usize) -> f64 {
        match &self.pops[p] {
            PopulationCosts::Uniform { each, .. } => *each,
            PopulationCosts::Each { prefix, .. } => prefix[i + 1] - prefix[i],
        }
    }

    /// Neurons `r` of population `p` together, ns per step.
    pub fn range(&self, p: usize, r: Range<usize>) -> f64 {
        match &self.pops[p] {
            PopulationCosts::Uniform { each, .. } => *each * r.len() as f64,
            PopulationCosts::Each { prefix, .. } => prefix[r.end] - prefix[r.start],
        }
    }

    /// The whole of population `p`.
    pub fn population(&self, p: usize) -> f64 {
        match &self.pops[p] {
            PopulationCosts::Uniform { each, size } => *each * *size as f64,
            PopulationCosts::Each { prefix, .. } => *prefix.last().unwrap_or(&0.0),
        }
    }

    /// The whole network, ns per step.
    pub fn total(&self) -> f64 {
        (0..self.pops.len()).map(|p| self.population(p)).sum()
    }

    /// The largest single neuron's cost in population `p`.
    pub fn largest(&self, p: usize) -> f64 {
        match &self.pops[p] {
            PopulationCosts::Uniform { each, size } if *size > 0 => *each,
            PopulationCosts::Uniform { .. } => 0.0,
            PopulationCosts::Each { largest, .. } => *largest,
        }
    }

    /// How far the balanced partitioner's partitions may be from the mean: the sum over
    /// populations of the largest single neuron's cost.
    pub fn bound(&self) -> f64 {
        (0..self.pops.len()).map(|p| self.largest(p)).sum()
    }

    /// One partition's neurons together, ns per step.
    pub fn partition(&self, part: &Partition) -> f64 {
        (part.ranges.iter().enumerate())
            .map(|(p, r)| self.range(p, r.clone()))
            .sum()
    }

    /// Every partition's cost, in order.
    pub fn partitions(&self, d: &Decomposition) -> Vec<f64> {
        d.partitions.iter().map(|p| self.partition(p)).collect()
    }

    /// The `count + 1` cut points of population `p` into `count` blocks of near-equal
    /// cost: 0, then for each k the last neuron boundary whose cost prefix is at most
    /// k/count of the total, then the population's size. Equal costs give the block
    /// cuts, size·k/count.
    pub(super) fn cuts(&self, p: usize, count: usize) -> Vec<usize> {
        let block = |size: usize| (0..=count).map(|k| size * k / count).collect();
        match &self.pops[p] {
            PopulationCosts::Uniform { size, .. } => block(*size),
            PopulationCosts::Each { prefix, .. } => {
                let size = prefix.len() - 1;
                let total = prefix[size];
                if !(total.is_finite() && total > 0.0) {
                    return block(size);
                }
                let mut cuts = vec![0; count + 1];
                for (k, cut) in cuts.iter_mut().enumerate().take(count).skip(1) {
                    let target = total * k as f64 / count as f64;
                    // prefix is non-decreasing: the last j with prefix[j] <= target.
                    *cut = prefix.partition_point(|&x| x <= target).saturating_sub(1);
                }
                cuts[count] = size;
                for k in 1..=count {
                    cuts[k] = cuts[k].max(cuts[k - 1]);
                }
                cuts
            }
        }
    }
}
