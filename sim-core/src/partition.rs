//! Which neurons a worker owns.
//!
//! A partition is a contiguous block of every population; the worker owns those neurons
//! and every synapse onto them (so `propagate` only writes local memory).

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
        }
    }
}
