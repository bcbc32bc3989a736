//! Which neurons each partition owns: the decomposition of a run.
//!
//! A partition is a contiguous block of every population; it owns those neurons and
//! every synapse onto them (so `propagate` only writes local memory). A
//! [`Decomposition`] lists every partition of the run, all ranks' in rank order; a
//! [`Partitioner`] makes it: block, round-robin or balanced by estimated cost
//! ([`cost`]). Contiguous blocks are what the rest relies on: a checkpoint's per-neuron
//! arrays are the partitions' pieces joined in order, the spike history finds a
//! population's spikes by id range, and the NaN watch names a neuron by its block. Every
//! partitioner therefore gives each partition one contiguous block (possibly empty) of
//! each population, partition k's right after partition k − 1's; they differ only in
//! where the blocks are cut. Spikes do not depend on it (see [`crate::rng`]).

use std::ops::Range;

use crate::model::Network;

pub mod cost;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    pub index: usize,
    pub count: usize,
    /// For each population, the owned indices within that population.
    pub ranges: Vec<Range<usize>>,
}

impl Partition {
    /// Worker `index` of `count` gets the `index`-th of `count` near-equal blocks of each
    /// population (sizes differ by at most one neuron).
    pub fn block(net: &Network, index: usize, count: usize) -> Partition {
        assert!(index < count, "worker {index} of {count}");
        let ranges = net
            .populations
            .iter()
            .map(|p| (p.size * index / count)..(p.size * (index + 1) / count))
            .collect();
        Partition {
            index,
            count,
            ranges,
        }
    }

    pub fn neuron_count(&self) -> usize {
        self.ranges.iter().map(|r| r.len()).sum()
    }
}

/// Every partition of a run, in order: partition k owns, of every population, the
/// block after partition k − 1's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decomposition {
    pub partitions: Vec<Partition>,
}

impl Decomposition {
    /// `count` near-equal blocks of each population (sizes differ by at most one).
    pub fn block(net: &Network, count: usize) -> Decomposition {
        Decomposition {
            partitions: (0..count)
                .map(|k| Partition::block(net, k, count))
                .collect(),
        }
    }

    /// Whether the partitions cover every neuron of `net` exactly once, in order, and
    /// are numbered 0, 1, …; the message says where not.
    pub fn check(&self, net: &Network) -> Result<(), String> {
        let n = self.partitions.len();
        for (k, part) in self.partitions.iter().enumerate() {
            if (part.index, part.count, part.ranges.len()) != (k, n, net.populations.len()) {
                return Err(format!(
                    "partition {k}: numbered {} of {} over {} populations, expected {k} of \
                     {n} over {}",
                    part.index,
                    part.count,
                    part.ranges.len(),
                    net.populations.len()
                ));
            }
        }
        for (p, pop) in net.populations.iter().enumerate() {
            let mut next = 0;
            for part in &self.partitions {
                let r = &part.ranges[p];
                if r.start != next || r.end < r.start {
                    return Err(format!(
                        "population {}: partition {} owns {r:?}, expected a block from {next}",
                        pop.name, part.index
                    ));
                }
                next = r.end;
            }
            if next != pop.size {
                return Err(format!(
                    "population {}: the partitions own {next} of its {} neurons",
                    pop.name, pop.size
                ));
            }
        }
        Ok(())
    }
}

/// How a run's neurons are split into partitions (`--partitioner`). Every partitioner
/// gives the same spikes; they differ in how evenly the work is spread.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Partitioner {
    /// Near-equal blocks of every population, by neuron count ([`Decomposition::block`]):
    /// every partition gets a 1/P share of each population, whatever its cost.
    #[default]
    Block,
    /// Whole populations dealt to the partitions in turn, population i to partition
    /// i mod P, as nengo_mpi's round-robin partitioner deals its components (ensembles,
    /// nodes) to processes. It deals populations, not single neurons as NEST does (NEST
    /// gives neuron g to virtual process g mod P, so every process holds every model
    /// in a statistically equal share, and keeps per-neuron lookup tables to find them):
    /// here each partition owns one contiguous block of each population, which the
    /// engine's structure-of-arrays state, the checkpoint layout (per-neuron arrays as
    /// the partitions' pieces joined in order), the spike history (spikes found by id
    /// range) and the NaN watch rely on. Dealing single neurons would break all four, and
    /// whole populations are what a model-aware user places by hand. It needs at least
    /// as many populations as partitions (no partition is left empty).
    RoundRobin,
    /// Each population cut into P contiguous blocks at the quantiles of its neurons'
    /// estimated cost ([`cost::Costs`]: the neuron model's update, the expected synaptic
    /// events onto the neuron, plastic ones weighted more), so that the partitions'
    /// estimated costs are nearly equal: each within the sum over populations of the
    /// largest single neuron's cost of the mean ([`Decomposition::balanced`]). Where
    /// every neuron of a population costs the same (random connectivity) the cut is the
    /// block one; it differs where the in-degree varies within a population (explicit
    /// synapses, `--load-weights` or a network file's `synapses`).
    Balanced,
}

impl Partitioner {
    /// Every partitioner, as `--partitioner` spells them.
    pub const ALL: [Partitioner; 3] = [
        Partitioner::Block,
        Partitioner::RoundRobin,
        Partitioner::Balanced,
    ];

    /// The name in flags, records and spec files.
    pub fn name(self) -> &'static str {
        match self {
            Partitioner::Block => "block",
            Partitioner::RoundRobin => "round-robin",
            Partitioner::Balanced => "balanced",
        }
    }

    /// The names, "block, round-robin, balanced".
    pub fn names() -> String {
        Partitioner::ALL.map(Partitioner::name).join(", ")
    }

    /// The `count` partitions of `net`; the error says why there are none (more
    /// partitions than neurons, or for round-robin than populations) and what to do.
    pub fn decompose(self, net: &Network, count: usize) -> Result<Decomposition, String> {
        if count == 0 {
            return Err("0 partitions: expected at least 1".into());
        }
        let d = match self {
            Partitioner::Block => {
                net.check_split(count).map_err(|e| e.to_string())?;
                Decomposition::block(net, count)
            }
            Partitioner::RoundRobin => Decomposition::round_robin(net, count)?,
            Partitioner::Balanced => {
                net.check_split(count).map_err(|e| e.to_string())?;
                Decomposition::balanced(net, &cost::Costs::estimate(net), count)
            }
        };
        debug_assert_eq!(d.check(net), Ok(()));
        Ok(d)
    }
}

impl std::fmt::Display for Partitioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Partitioner {
    type Err = String;
    /// The error names the value and the choices (the caller adds the flag or key).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Partitioner::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown partitioner '{s}': expected one of {}",
                    Partitioner::names()
                )
            })
    }
}

impl Decomposition {
    /// Population i whole to partition i mod `count`, nothing of it to the others (see
    /// [`Partitioner::RoundRobin`]). More partitions than populations is an error: some
    /// partitions would own nothing.
    pub fn round_robin(net: &Network, count: usize) -> Result<Decomposition, String> {
        let pops = net.populations.len();
        if count > pops {
            return Err(format!(
                "--partitioner round-robin: {count} partitions but network '{}' has only \
                 {pops} population(s); round-robin deals whole populations, so every \
                 partition needs one: use at most {pops} partitions (threads or \
                 partitions per rank × ranks), or --partitioner block or balanced",
                net.name
            ));
        }
        let partitions: Vec<Partition> = (0..count)
            .map(|k| Partition {
                index: k,
                count,
                ranges: net
                    .populations
                    .iter()
                    .enumerate()
                    .map(|(i, p)| match i % count == k {
                        true => 0..p.size,
                        // Empty, at the place the block order expects it.
                        false if i % count > k => 0..0,
                        false => p.size..p.size,
                    })
                    .collect(),
            })
            .collect();
        if let Some(empty) = partitions.iter().find(|p| p.neuron_count() == 0) {
            return Err(format!(
                "--partitioner round-robin: partition {} of {count} would own no neuron \
                 (its populations of network '{}' are empty): use --partitioner block or \
                 balanced",
                empty.index, net.name
            ));
        }
        Ok(Decomposition { partitions })
    }

    /// Each population cut into `count` contiguous blocks at the quantiles of `costs`
    /// (see [`Partitioner::Balanced`]): block k of a population ends at the last
    /// neuron boundary whose cost prefix is at most (k + 1)/count of the population's
    /// total. So each block's cost is within the population's largest single-neuron
    /// cost of total/count, and each partition's within the sum of those of the mean
    /// ([`cost::Costs::bound`]). Equal costs give exactly [`Decomposition::block`].
    pub fn balanced(net: &Network, costs: &cost::Costs, count: usize) -> Decomposition {
        let cuts: Vec<Vec<usize>> = (0..net.populations.len())
            .map(|p| costs.cuts(p, count))
            .collect();
        Decomposition {
            partitions: (0..count)
                .map(|k| Partition {
                    index: k,
                    count,
                    ranges: cuts.iter().map(|c| c[k]..c[k + 1]).collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CobaParams, InitialV, NeuronModel, PopulationSpec};

    #[test]
    fn blocks_cover_each_population_once() {
        let pop = |size| PopulationSpec {
            name: "P".into(),
            size,
            model: NeuronModel::Coba(CobaParams::vogels_abbott()),
            initial_v: InitialV::Fixed(0.0),
        };
        let net = Network {
            name: "t".into(),
            dt: 1e-4,
            seed: 1,
            populations: vec![pop(10), pop(3)],
            connections: vec![],
        };
        for count in 1..=5 {
            let parts: Vec<_> = (0..count)
                .map(|w| Partition::block(&net, w, count))
                .collect();
            for p in 0..2 {
                let mut next = 0;
                for part in &parts {
                    assert_eq!(part.ranges[p].start, next);
                    next = part.ranges[p].end;
                }
                assert_eq!(next, net.populations[p].size);
            }
            let total: usize = parts.iter().map(|p| p.neuron_count()).sum();
            assert_eq!(total, 13);
            assert_eq!(Decomposition::block(&net, count).partitions, parts);
            assert_eq!(Decomposition::block(&net, count).check(&net), Ok(()));
        }
        // A gap, an overlap, a short cover and a misnumbering are all refused.
        let mut d = Decomposition::block(&net, 3);
        d.partitions[1].ranges[0].start += 1;
        assert!(d.check(&net).unwrap_err().contains("expected a block from"));
        let mut d = Decomposition::block(&net, 3);
        d.partitions[2].ranges[1].end -= 1;
        assert!(d.check(&net).unwrap_err().contains("own 2 of its 3"));
        let mut d = Decomposition::block(&net, 3);
        d.partitions[0].index = 1;
        assert!(d.check(&net).unwrap_err().contains("partition 0"));
    }

    use crate::model::{
        Channel, ConnectionSpec, Connectivity, PairStdp, Plasticity, PoissonGenerator,
        PoissonParams, TraceMode,
    };

    fn population(name: &str, size: usize, model: NeuronModel) -> PopulationSpec {
        PopulationSpec {
            name: name.into(),
            size,
            model,
            initial_v: InitialV::Fixed(-60e-3),
        }
    }

    fn coba() -> NeuronModel {
        NeuronModel::Coba(CobaParams::vogels_abbott())
    }

    fn random(name: &str, pre: usize, post: usize, p: f64) -> ConnectionSpec {
        ConnectionSpec {
            name: name.into(),
            pre,
            post,
            channel: Channel::Excitatory,
            delay: 8e-4,
            connectivity: Connectivity::FixedProbability { p, weight: 0.1 },
            plasticity: None,
        }
    }

    fn pair() -> Plasticity {
        Plasticity::Pair(PairStdp {
            tau_plus: 20e-3,
            tau_minus: 20e-3,
            lambda: 0.01,
            alpha: 1.0,
            mu_plus: 0.0,
            mu_minus: 0.0,
            w_max: 1.0,
            traces: TraceMode::Continuous,
        })
    }

    /// A small plastic population with a high in-degree beside a large sparse one and a
    /// Poisson input (the shape of networks/hetero.toml).
    fn hetero() -> Network {
        let mut dense = random("PS", 0, 1, 0.5);
        dense.plasticity = Some(pair());
        Network {
            name: "hetero".into(),
            dt: 1e-4,
            seed: 1,
            populations: vec![
                population(
                    "P",
                    300,
                    NeuronModel::Poisson(PoissonParams {
                        rate: 20.0,
                        generator: PoissonGenerator::Lattice,
                    }),
                ),
                population("S", 97, coba()),
                population("L", 1003, coba()),
            ],
            connections: vec![dense, random("SS", 1, 1, 0.3), random("PL", 0, 2, 0.01)],
        }
    }

    /// Explicit synapses onto L whose in-degree grows as the square of the neuron's
    /// index (0 to 199 synapses): a block cut puts most of them in the last partition.
    fn skewed() -> Network {
        let mut net = hetero();
        let n_pre = net.populations[0].size as u32;
        let n_post = net.populations[2].size as u32;
        let mut entries = Vec::new();
        for i in 0..n_pre.min(200) {
            for j in 0..n_post {
                let degree = (j as u64 * j as u64 * 200 / (n_post as u64 * n_post as u64)) as u32;
                if i < degree {
                    entries.push((i, j, 0.1));
                }
            }
        }
        net.connections[2].connectivity = Connectivity::Explicit(std::sync::Arc::new(entries));
        net
    }

    fn va_like() -> Network {
        Network {
            name: "va".into(),
            dt: 1e-4,
            seed: 1,
            populations: vec![population("E", 320, coba()), population("I", 80, coba())],
            connections: vec![
                random("EE", 0, 0, 0.02),
                random("EI", 0, 1, 0.02),
                random("IE", 1, 0, 0.02),
                random("II", 1, 1, 0.02),
            ],
        }
    }

    /// Every partitioner covers every neuron exactly once, in order, for several
    /// networks and counts; round-robin gives every partition whole populations.
    #[test]
    fn every_partitioner_covers_every_neuron_once() {
        for net in [va_like(), hetero(), skewed()] {
            for count in 1..=7 {
                for p in Partitioner::ALL {
                    let d = match p.decompose(&net, count) {
                        Ok(d) => d,
                        Err(e) => {
                            assert!(
                                p == Partitioner::RoundRobin && count > net.populations.len(),
                                "{p} {count}: {e}"
                            );
                            continue;
                        }
                    };
                    assert_eq!(d.partitions.len(), count);
                    assert_eq!(d.check(&net), Ok(()), "{} {p} {count}", net.name);
                    let owned: usize = d.partitions.iter().map(Partition::neuron_count).sum();
                    assert_eq!(owned, net.neuron_count());
                    if p == Partitioner::RoundRobin {
                        for (i, pop) in net.populations.iter().enumerate() {
                            assert_eq!(d.partitions[i % count].ranges[i], 0..pop.size);
                        }
                        assert!(d.partitions.iter().all(|p| p.neuron_count() > 0));
                    }
                }
            }
        }
        assert_eq!(
            Partitioner::Block.decompose(&va_like(), 3).unwrap(),
            Decomposition::block(&va_like(), 3)
        );
    }

    /// Round-robin with more partitions than populations is refused, naming both
    /// numbers and the partitioners that can; so is any partitioner with more
    /// partitions than neurons, or none.
    #[test]
    fn impossible_splits_are_errors_that_say_why() {
        let e = Partitioner::RoundRobin
            .decompose(&va_like(), 3)
            .unwrap_err();
        for part in [
            "--partitioner round-robin",
            "3 partitions",
            "only 2 population(s)",
            "--partitioner block or balanced",
        ] {
            assert!(e.contains(part), "{part}: {e}");
        }
        for p in [Partitioner::Block, Partitioner::Balanced] {
            let e = p.decompose(&va_like(), 401).unwrap_err();
            assert!(
                e.contains("401 partitions") && e.contains("400 neurons"),
                "{e}"
            );
        }
        for p in Partitioner::ALL {
            assert!(p
                .decompose(&va_like(), 0)
                .unwrap_err()
                .contains("0 partitions"));
        }
    }

    #[test]
    fn names_parse_back_and_unknown_ones_list_the_choices() {
        for p in Partitioner::ALL {
            assert_eq!(p.name().parse::<Partitioner>(), Ok(p));
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::String(p.name().into())
            );
        }
        let e = "roundrobin".parse::<Partitioner>().unwrap_err();
        assert_eq!(
            e,
            "unknown partitioner 'roundrobin': expected one of block, round-robin, balanced"
        );
        assert_eq!(Partitioner::default(), Partitioner::Block);
    }

    /// Where every neuron of a population costs the same, balanced is block, exactly.
    #[test]
    fn balanced_is_block_where_costs_are_uniform() {
        for net in [va_like(), hetero()] {
            for count in 1..=6 {
                assert_eq!(
                    Partitioner::Balanced.decompose(&net, count).unwrap(),
                    Decomposition::block(&net, count),
                    "{} {count}",
                    net.name
                );
            }
        }
    }

    /// The stated bound: every partition's estimated cost is within the sum over
    /// populations of the largest single neuron's cost of total / P. On a population
    /// whose in-degree varies strongly the balanced cut differs from the block one and
    /// is better balanced by its own estimate; block breaks the bound there.
    #[test]
    fn balanced_partitions_are_within_the_bound() {
        for net in [va_like(), hetero(), skewed()] {
            let costs = cost::Costs::estimate(&net);
            let bound = costs.bound();
            let total = costs.total();
            for count in 1..=8 {
                let d = Partitioner::Balanced.decompose(&net, count).unwrap();
                let mean = total / count as f64;
                for (k, c) in costs.partitions(&d).into_iter().enumerate() {
                    assert!(
                        (c - mean).abs() <= bound * (1.0 + 1e-9),
                        "{} P = {count}: partition {k} costs {c}, mean {mean}, bound {bound}",
                        net.name
                    );
                }
            }
        }
        let net = skewed();
        let costs = cost::Costs::estimate(&net);
        let spread = |d: &Decomposition| {
            let c = costs.partitions(d);
            let max = c.iter().cloned().fold(f64::MIN, f64::max);
            let min = c.iter().cloned().fold(f64::MAX, f64::min);
            (max - min) / (costs.total() / c.len() as f64)
        };
        for count in [2, 3, 4] {
            let balanced = Partitioner::Balanced.decompose(&net, count).unwrap();
            let block = Decomposition::block(&net, count);
            assert_ne!(balanced, block);
            let (b, k) = (spread(&balanced), spread(&block));
            assert!(b < 0.02 && k > 0.15, "P = {count}: balanced {b}, block {k}");
            // The block cut is outside the bound: the test above can fail.
            let mean = costs.total() / count as f64;
            assert!(costs
                .partitions(&block)
                .iter()
                .any(|c| (c - mean).abs() > costs.bound()));
        }
    }

    /// The terms of the estimate: the model's update, the expected events onto a
    /// neuron (p·N_pre·rate·dt each, or its explicit in-degree), plastic synapses
    /// weighted more, a lattice Poisson source by its rate.
    #[test]
    fn costs_count_updates_events_and_plasticity() {
        use cost::*;
        let dt = 1e-4;
        let net = hetero();
        let c = Costs::estimate(&net);
        let p_rate = 20.0 * dt;
        assert!((c.neuron(0, 0) - POISSON_LATTICE_SPIKE_NS * p_rate).abs() < 1e-12);
        // S: dense plastic input from P, random static from itself.
        let plastic =
            0.5 * 300.0 * (p_rate * PAIR_ARRIVE_NS + NOMINAL_RATE_HZ * dt * PAIR_POTENTIATE_NS);
        let own = 0.3 * 97.0 * NOMINAL_RATE_HZ * dt * STATIC_EVENT_NS;
        assert!((c.neuron(1, 5) - (COBA_NS + plastic + own)).abs() < 1e-9);
        let sparse = 0.01 * 300.0 * p_rate * STATIC_EVENT_NS;
        assert!((c.neuron(2, 0) - (COBA_NS + sparse)).abs() < 1e-9);
        let mut static_net = hetero();
        static_net.connections[0].plasticity = None;
        assert!(Costs::estimate(&static_net).neuron(1, 0) < c.neuron(1, 0));
        // Explicit: neuron j of L gets its own count.
        let s = Costs::estimate(&skewed());
        let per = p_rate * STATIC_EVENT_NS;
        assert!((s.neuron(2, 0) - COBA_NS).abs() < 1e-12);
        let j = 1002usize;
        let degree = (j * j * 200 / (1003 * 1003)) as f64;
        assert!((s.neuron(2, j) - (COBA_NS + degree * per)).abs() < 1e-9);
        assert!((s.largest(2) - s.neuron(2, j)).abs() < 1e-12);
        let sum: f64 = (0..1003).map(|i| s.neuron(2, i)).sum();
        assert!((s.population(2) - sum).abs() < 1e-6 * sum);
        assert!((s.range(2, 10..20) - (10..20).map(|i| s.neuron(2, i)).sum::<f64>()).abs() < 1e-9);
    }
}
