//! The spike history: which neurons spiked at each of the last steps, network-wide.
//!
//! A partition's propagate reads, for each connection, the spikes emitted one delay
//! ago; the history keeps the last `max_delay + min_delay` steps (the ring). It only
//! changes at an exchange, and then holds the same spikes for every partition of a
//! process, so the pooled scheduler keeps one per process, filled once per exchange by
//! the thread that completes the window, and read by every partition (measured: one
//! history per partition doubled the exchange's cost on one core, see README,
//! "On a busy machine").

use crate::comm::Spike;

#[derive(Debug, Default)]
pub(crate) struct History {
    /// Global ids that spiked at step s, in slot s % len, sorted.
    slots: Vec<Vec<u32>>,
    /// Where each population's spikes begin in each slot: `bounds[slot][k]` for
    /// population k, and one more for the end of the last. Found once per step when an
    /// exchange is taken in, instead of by two binary searches per connection, partition
    /// and step in propagate (measured: half of `deliver`'s time with two partitions).
    bounds: Vec<Vec<u32>>,
    /// Global id of each population's first neuron, and the network's neuron count.
    pop_starts: Vec<u32>,
    /// First step not yet taken in.
    next: u64,
}

impl History {
    /// A history of the last `len` steps (`len` ≥ the largest delay + the exchange
    /// interval, so no slot is overwritten while a delay still reads it) of populations
    /// of the given sizes.
    pub(crate) fn new(len: usize, sizes: impl IntoIterator<Item = usize>) -> Self {
        let mut pop_starts = vec![0u32];
        for n in sizes {
            pop_starts.push(pop_starts.last().unwrap() + n as u32);
        }
        History {
            slots: vec![Vec::new(); len],
            bounds: vec![vec![0; pop_starts.len()]; len],
            pop_starts,
            next: 0,
        }
    }

    /// The neurons of population `pop` that spiked at `step`, as sorted global ids.
    pub(crate) fn of_population(&self, step: u64, pop: usize) -> &[u32] {
        let s = (step % self.slots.len() as u64) as usize;
        let b = &self.bounds[s];
        &self.slots[s][b[pop] as usize..b[pop + 1] as usize]
    }

    /// Takes in the gathered spikes of the steps up to `upto` (exclusive) since the last
    /// call, in any order: each step's ids are sorted, so that every neuron, whatever
    /// the partition, accumulates its inputs in one order.
    pub(crate) fn take_in<'a>(&mut self, spikes: impl IntoIterator<Item = &'a Spike>, upto: u64) {
        let ring = self.slots.len() as u64;
        for s in self.next..upto {
            self.slots[(s % ring) as usize].clear();
        }
        for sp in spikes {
            debug_assert!((self.next..upto).contains(&sp.step), "{sp:?}");
            self.slots[(sp.step % ring) as usize].push(sp.gid);
        }
        for s in self.next..upto {
            let s = (s % ring) as usize;
            let slot = &mut self.slots[s];
            slot.sort_unstable();
            // Ids past the last population (the NaN watch's alarm) belong to none.
            for (b, &start) in self.bounds[s].iter_mut().zip(&self.pop_starts) {
                *b = slot.partition_point(|&g| g < start) as u32;
            }
        }
        self.next = upto;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::ALARM;

    #[test]
    fn keeps_each_step_sorted_by_population_and_forgets_a_ring_later() {
        // Populations of 5 and 6 neurons: ids 0..5 and 5..11.
        let mut h = History::new(4, [5, 6]);
        let sp = |step, gid| Spike { step, gid };
        h.take_in(&[sp(1, 9), sp(0, 3), sp(1, 2), sp(1, 5), sp(1, ALARM)], 2);
        assert_eq!(h.of_population(0, 0), [3]);
        assert!(h.of_population(0, 1).is_empty());
        assert_eq!(h.of_population(1, 0), [2]);
        // The alarm is no population's.
        assert_eq!(h.of_population(1, 1), [5, 9]);
        h.take_in(&[sp(4, 7)], 5);
        // Step 4 reuses step 0's slot; steps 2 and 3 are empty.
        assert_eq!(h.of_population(4, 1), [7]);
        assert!(h.of_population(4, 0).is_empty());
        assert_eq!(h.of_population(1, 1), [5, 9]);
        for pop in [0, 1] {
            assert!(h.of_population(2, pop).is_empty() && h.of_population(3, pop).is_empty());
        }
    }
}
