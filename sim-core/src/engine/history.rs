//! The spike history: which neurons spiked at each of the last steps, network-wide.
//!
//! A partition's propagate reads, for each connection, the spikes emitted one delay
//! ago; the history keeps the last `max_delay + min_delay` steps (the ring). It only
//! changes at an exchange, and then holds the same spikes for every partition of a
//! process, so the pooled scheduler keeps one per process, filled once per exchange by
//! the thread that completes the window (measured: one history per partition doubled
//! the exchange's cost on one core, see README, "On a busy machine"). Each thread
//! reads its own copy, refreshed from it before each window ([`History::refresh_from`]):
//! lines just written by the other core, read inside propagate, cost more than copying
//! them (README, performance notes).

use crate::comm::Spike;

#[derive(Debug, Default, Clone)]
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

    /// Brings this copy of `src` (a clone of it, refreshed since) level with it, copying
    /// only the steps `src` took in since the last refresh: a thread's own copy of the
    /// process's history (see `engine::pool`).
    pub(crate) fn refresh_from(&mut self, src: &History) {
        if src.next < self.next || self.slots.len() != src.slots.len() {
            self.clone_from(src);
            return;
        }
        let ring = self.slots.len() as u64;
        for s in self.next.max(src.next.saturating_sub(ring))..src.next {
            let i = (s % ring) as usize;
            self.slots[i].clone_from(&src.slots[i]);
            self.bounds[i].clone_from(&src.bounds[i]);
        }
        self.next = src.next;
    }

    /// The spikes that later steps may still read: those of every step the ring holds
    /// before the next one to take in, in (step, gid) order (a checkpoint's spikes in
    /// flight). Ids past the last population (an alarm) are left out.
    pub(crate) fn in_flight(&self) -> Vec<Spike> {
        let neurons = *self.pop_starts.last().expect("at least the end");
        let from = self.next.saturating_sub(self.slots.len() as u64);
        (from..self.next)
            .flat_map(|step| {
                let slot = &self.slots[(step % self.slots.len() as u64) as usize];
                slot.iter()
                    .filter(move |&&gid| gid < neurons)
                    .map(move |&gid| Spike { step, gid })
            })
            .collect()
    }

    /// Starts again from a checkpoint: `spikes` (of steps before `next`, the next step
    /// to run) are in the ring, nothing else. Spikes too old for the ring are dropped
    /// (no delay reads them); one at or after `next`, or of no neuron, is an error.
    pub(crate) fn restore(&mut self, spikes: &[Spike], next: u64) -> Result<(), String> {
        let neurons = *self.pop_starts.last().expect("at least the end");
        if let Some(s) = spikes.iter().find(|s| s.step >= next || s.gid >= neurons) {
            return Err(format!(
                "spike (step {}, neuron {}): expected a step before {next} and a neuron \
                 below {neurons}",
                s.step, s.gid
            ));
        }
        let from = next.saturating_sub(self.slots.len() as u64);
        self.next = from;
        self.take_in(spikes.iter().filter(|s| s.step >= from), next);
        Ok(())
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

    /// Every step the ring holds, of every population.
    fn contents(h: &History) -> Vec<Vec<u32>> {
        (h.next.saturating_sub(h.slots.len() as u64)..h.next)
            .flat_map(|step| (0..2).map(move |pop| h.of_population(step, pop).to_vec()))
            .collect()
    }

    #[test]
    fn a_refreshed_copy_holds_what_its_source_holds() {
        let sp = |step, gid| Spike { step, gid };
        let mut src = History::new(4, [5, 6]);
        src.take_in(&[sp(0, 1), sp(1, 7)], 2);
        let mut copy = src.clone();
        // One exchange since the copy, then two (the second overwriting the ring's
        // slots the first wrote), then none.
        src.take_in(&[sp(3, 2), sp(2, 9), sp(3, 6)], 4);
        copy.refresh_from(&src);
        assert_eq!((copy.next, contents(&copy)), (src.next, contents(&src)));
        src.take_in(&[sp(4, 0)], 6);
        src.take_in(&[sp(7, 10), sp(6, 3)], 8);
        copy.refresh_from(&src);
        assert_eq!((copy.next, contents(&copy)), (src.next, contents(&src)));
        copy.refresh_from(&src);
        assert_eq!(contents(&copy), contents(&src));
        // A source that went back (a restore) is copied whole.
        let mut back = History::new(4, [5, 6]);
        back.take_in(&[sp(0, 4)], 1);
        copy.refresh_from(&back);
        assert_eq!((copy.next, contents(&copy)), (1, contents(&back)));
    }

    #[test]
    fn spikes_in_flight_restore_the_same_history() {
        let sp = |step, gid| Spike { step, gid };
        let mut h = History::new(4, [5, 6]);
        h.take_in(&[sp(0, 1), sp(2, 7), sp(2, 3), sp(3, ALARM)], 4);
        h.take_in(&[sp(5, 10), sp(4, 0)], 6);
        // Steps 2..6 are in the ring; step 0's spike is gone, the alarm left out.
        let flying = h.in_flight();
        assert_eq!(flying, [sp(2, 3), sp(2, 7), sp(4, 0), sp(5, 10)]);
        let mut g = History::new(4, [5, 6]);
        g.restore(&flying, 6).unwrap();
        for step in 2..6 {
            for pop in [0, 1] {
                assert_eq!(g.of_population(step, pop), h.of_population(step, pop));
            }
        }
        assert_eq!(g.in_flight(), flying);
        // And it goes on as the original.
        g.take_in(&[sp(6, 4)], 7);
        h.take_in(&[sp(6, 4)], 7);
        assert_eq!(g.in_flight(), h.in_flight());
        assert!(g.restore(&[sp(6, 1)], 6).unwrap_err().contains("step 6"));
        assert!(g
            .restore(&[sp(1, 11)], 6)
            .unwrap_err()
            .contains("neuron 11"));
    }
}
