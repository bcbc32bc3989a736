//! Which neurons each partition owns: the decomposition of a run.
//!
//! A partition is a contiguous block of every population; it owns those neurons and
//! every synapse onto them (so `propagate` only writes local memory). A
//! [`Decomposition`] lists every partition of the run, all ranks' in rank order; a
//! partitioner makes it ([`Decomposition::block`] today). Contiguous blocks are what
//! the rest relies on: a checkpoint's per-neuron arrays are the partitions' pieces
//! joined in order, and the spike history finds a population's spikes by id range.

use std::ops::Range;

use crate::model::Network;

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
}
