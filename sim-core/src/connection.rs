//! Static synapses at run time, stored by presynaptic neuron (compressed sparse rows).
//!
//! A worker keeps only the synapses onto its own neurons, so `propagate` writes local
//! memory only. Rows are indexed by the presynaptic neuron's index within its population;
//! each row lists local postsynaptic indices in ascending order with their weights.

use std::ops::Range;

use crate::index::{Indices, Local};
use crate::model::{Channel, ConnectionSpec, Connectivity, Network};
use crate::neuron::take_reals;
use crate::plasticity::Stdp;
use crate::real::Real;
use crate::rng::{stream, CounterRng};
use crate::state::{take_exact, Array, Layout, Source, StateError, Values};
use crate::with_indices;

#[derive(Debug, Clone)]
pub struct Connection<R> {
    pub pre: usize,
    pub post: usize,
    pub channel: Channel,
    pub delay_steps: usize,
    /// Global id of the first presynaptic neuron.
    pub pre_offset: u32,
    row_start: Vec<u32>,
    /// Local postsynaptic index of each synapse, row by row (16 bits where the
    /// partition has at most 65 536 postsynaptic neurons: [`crate::index`]).
    targets: Indices,
    weights: Weights<R>,
    /// Plasticity state, for plastic connections.
    stdp: Option<Stdp<R>>,
    /// Postsynaptic neurons of the partition.
    local_posts: usize,
    /// A static connection whose weights were set after the build
    /// ([`Connection::set_weights`]): its weights are state (saved, loaded), no longer
    /// what the network says.
    weights_set: bool,
}

/// The synapses' weights. A static random connection gives every synapse the same
/// weight, so it is stored once: for zenke25k that saves 55 MB (4 bytes per static
/// synapse) and halves the bytes `propagate` streams through.
#[derive(Debug, Clone)]
enum Weights<R> {
    Same(R),
    /// Per synapse, in row-major order (loaded from a file, or plastic).
    Each(Vec<R>),
}

impl<R: Real> Connection<R> {
    /// Builds the synapses of `spec` onto the postsynaptic neurons `post_range` (indices
    /// within the postsynaptic population). The result does not depend on how the
    /// postsynaptic population is split: each neuron's partners are drawn from its own
    /// key (seed, post gid, connection stream).
    pub fn build(net: &Network, index: usize, post_range: Range<usize>, rng: &CounterRng) -> Self {
        let spec = &net.connections[index];
        let offsets = net.offsets();
        let n_pre = net.populations[spec.pre].size;
        let first = post_range.start as u32;
        let local_posts = post_range.len();
        // Counting sort by presynaptic index, in two passes over the synapses (count,
        // then fill), so that no list of all (pre, post, weight) triples is ever held:
        // for 20 M synapses that list alone would take 320 MB. Drawn synapses are drawn
        // twice, identically (counter-based keys); each row stays sorted by post.
        let mut row_start = vec![0u32; n_pre + 1];
        for_each_synapse(
            net,
            spec,
            index,
            post_range.clone(),
            rng,
            &offsets,
            |i, _, _| {
                row_start[i as usize + 1] += 1;
            },
        );
        for i in 0..n_pre {
            row_start[i + 1] += row_start[i];
        }
        let total = row_start[n_pre] as usize;
        let mut fill = row_start.clone();
        let mut targets = Indices::new(total, local_posts);
        let mut weights = match (&spec.connectivity, &spec.plasticity) {
            (Connectivity::FixedProbability { weight, .. }, None) => Weights::Same(R::of(*weight)),
            _ => Weights::Each(vec![R::ZERO; total]),
        };
        for_each_synapse(net, spec, index, post_range, rng, &offsets, |i, j, w| {
            let k = fill[i as usize] as usize;
            fill[i as usize] += 1;
            targets.set(k, j - first);
            if let Weights::Each(all) = &mut weights {
                all[k] = R::of(w);
            }
        });
        let stdp = spec
            .plasticity
            .as_ref()
            .map(|rule| Stdp::new(rule, net.dt, &row_start, &targets, local_posts));
        Connection {
            pre: spec.pre,
            post: spec.post,
            channel: spec.channel,
            delay_steps: net.delay_steps(spec).expect("validated network"),
            pre_offset: offsets[spec.pre] as u32,
            row_start,
            targets,
            weights,
            stdp,
            local_posts,
            weights_set: false,
        }
    }

    /// A plastic connection's postsynaptic trace `name`, one value per local
    /// postsynaptic neuron (see [`crate::plasticity::post_traces_of`]).
    pub fn post_trace(&self, name: &str) -> Option<&[R]> {
        self.stdp.as_ref()?.post_trace(name)
    }

    pub fn is_plastic(&self) -> bool {
        self.stdp.is_some()
    }

    /// Plastic connections: switches weight updates on or off (priming runs keep the
    /// traces going with fixed weights).
    pub fn set_learning(&mut self, on: bool) {
        if let Some(s) = &mut self.stdp {
            s.set_learning(on);
        }
    }

    /// Plastic connections: scales the rule's amplitudes by `factor` from the next step
    /// on (see [`Stdp::set_learning_rate`]); static connections have none.
    pub fn set_learning_rate(&mut self, factor: f64) -> Result<(), String> {
        match &mut self.stdp {
            Some(s) => s.set_learning_rate(factor),
            None => Err("a static connection has no learning rate".into()),
        }
    }

    /// The state of a plastic connection (a static one has none: everything follows
    /// from the network). Its [`Layout::Neurons`] arrays are over the postsynaptic
    /// population, [`Layout::Replicated`] traces over the presynaptic one.
    ///
    /// Per synapse, ordered by (post, pre): `weight`, and `pre` (the presynaptic index
    /// within its population); with `post_synapse_count` (per postsynaptic neuron)
    /// they describe the synapses without the network, and loading checks that they
    /// are this network's. `pre` costs 4 bytes a synapse, as much as an f32 weight; it
    /// is saved only here, where weights are per synapse anyway.
    ///
    /// A static connection whose weights were set after the build saves
    /// `post_synapse_count` and `weight` (in (post, pre) order) only.
    pub fn save(&self) -> Vec<Array> {
        if let (None, Weights::Each(weights), true) = (&self.stdp, &self.weights, self.weights_set)
        {
            let (order, counts) = self.by_post();
            let ordered: Vec<R> = order.iter().map(|&k| weights[k as usize]).collect();
            return vec![
                Array {
                    name: "post_synapse_count",
                    layout: Layout::Neurons,
                    values: Values::U32(counts),
                },
                Array {
                    name: "weight",
                    layout: Layout::Synapses,
                    values: Values::of_reals(&ordered),
                },
            ];
        }
        let (Some(stdp), Weights::Each(weights)) = (&self.stdp, &self.weights) else {
            return Vec::new();
        };
        // by_post_synapse lists the synapses by post, pre ascending within each post
        // (it is filled in row order): the (post, pre) order.
        let ordered: Vec<R> = stdp
            .by_post_synapse
            .iter()
            .map(|&k| weights[k as usize])
            .collect();
        let mut out = vec![
            Array {
                name: "post_synapse_count",
                layout: Layout::Neurons,
                values: Values::U32(stdp.post_synapse_counts()),
            },
            Array {
                name: "pre",
                layout: Layout::Synapses,
                values: Values::U32(stdp.by_post_pre.to_u32()),
            },
            Array {
                name: "weight",
                layout: Layout::Synapses,
                values: Values::of_reals(&ordered),
            },
        ];
        out.extend(stdp.save());
        out
    }

    /// Takes the arrays of [`Connection::save`] after [`Connection::build`] from the
    /// same network (onto any postsynaptic range); on an error nothing has changed.
    pub fn load(&mut self, source: &mut Source) -> Result<(), StateError> {
        if self.stdp.is_none() {
            return self.load_static(source);
        }
        let (Some(stdp), Weights::Each(weights)) = (&mut self.stdp, &mut self.weights) else {
            return Ok(());
        };
        let counts = stdp.post_synapse_counts();
        let found = take_exact(source, "post_synapse_count", counts.len())?
            .into_u32("post_synapse_count")?;
        let other = |name: &str| StateError::Invalid {
            name: name.into(),
            problem: "not this network's synapses (another network or seed?)".into(),
        };
        if found != counts {
            return Err(other("post_synapse_count"));
        }
        let n = self.targets.len();
        let pre = take_exact(source, "pre", n)?.into_u32("pre")?;
        if !pre
            .iter()
            .enumerate()
            .all(|(m, &i)| stdp.by_post_pre.get(m) == i)
        {
            return Err(other("pre"));
        }
        let ordered: Vec<R> = take_reals(source, "weight", n)?;
        stdp.load(source)?;
        for (&k, w) in stdp.by_post_synapse.iter().zip(ordered) {
            weights[k as usize] = w;
        }
        Ok(())
    }

    /// A static connection's weights, if they were saved (set after the build); else
    /// it keeps the weights it was built with.
    fn load_static(&mut self, source: &mut Source) -> Result<(), StateError> {
        let counts = match take_exact(source, "post_synapse_count", self.local_posts) {
            Ok(v) => v.into_u32("post_synapse_count")?,
            Err(StateError::Missing { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if counts != self.by_post().1 {
            return Err(StateError::Invalid {
                name: "post_synapse_count".into(),
                problem: "not this network's synapses (another network or seed?)".into(),
            });
        }
        let ordered: Vec<R> = take_reals(source, "weight", self.targets.len())?;
        let w: Vec<f64> = ordered.iter().map(|x| x.to_f64()).collect();
        self.set_weights(&w).map_err(|problem| StateError::Invalid {
            name: "weight".into(),
            problem,
        })
    }

    /// The synapses in (post, pre) order (as indices into the row-major arrays; a
    /// pair's synapses in build order) and the count onto each local postsynaptic
    /// neuron.
    fn by_post(&self) -> (Vec<u32>, Vec<u32>) {
        let mut counts = vec![0u32; self.local_posts];
        for j in self.targets.iter() {
            counts[j as usize] += 1;
        }
        // A counting sort by post; rows are visited by ascending pre, so each post's
        // synapses come out by (pre, build order).
        let mut next: Vec<u32> = counts
            .iter()
            .scan(0u32, |acc, &c| {
                let start = *acc;
                *acc += c;
                Some(start)
            })
            .collect();
        let mut order = vec![0u32; self.targets.len()];
        for (k, j) in self.targets.iter().enumerate() {
            order[next[j as usize] as usize] = k as u32;
            next[j as usize] += 1;
        }
        (order, counts)
    }

    /// Replaces every weight of the partition's synapses from the next step on:
    /// `by_post[m]` for the m-th synapse in (post, pre) order (as
    /// [`Connection::entries`] sorted by (post, pre)). A static connection keeps one
    /// weight per synapse from then on, and saves them. Nothing changes on an error.
    pub fn set_weights(&mut self, by_post: &[f64]) -> Result<(), String> {
        let n = self.targets.len();
        if by_post.len() != n {
            return Err(format!("{} weights for {n} synapses", by_post.len()));
        }
        if let Some((m, w)) = by_post.iter().enumerate().find(|(_, w)| !w.is_finite()) {
            return Err(format!("synapse {m} (in (post, pre) order): weight {w}"));
        }
        let order = match &self.stdp {
            Some(stdp) => stdp.by_post_synapse.clone(),
            None => self.by_post().0,
        };
        let mut all = match std::mem::replace(&mut self.weights, Weights::Each(Vec::new())) {
            Weights::Each(all) => all,
            Weights::Same(w) => vec![w; n],
        };
        for (&k, &w) in order.iter().zip(by_post) {
            all[k as usize] = R::of(w);
        }
        self.weights = Weights::Each(all);
        self.weights_set |= self.stdp.is_none();
        Ok(())
    }

    /// Plastic connections: the traces' decay for a new step.
    #[inline(never)]
    pub fn begin_step(&mut self) {
        if let Some(s) = &mut self.stdp {
            s.begin_step();
        }
    }

    /// Delivers spikes through a plastic connection: each synapse is first depressed,
    /// then its new weight delivered; then the presynaptic trace jumps. Returns the
    /// number of synaptic events.
    #[inline(never)]
    pub fn propagate_plastic(
        &mut self,
        spikes: impl Iterator<Item = u32>,
        input: &mut [R],
        step: u64,
    ) -> u64 {
        let (Some(stdp), Weights::Each(weights)) = (&mut self.stdp, &mut self.weights) else {
            return self.propagate(spikes, input);
        };
        let mut events = 0;
        let mut spikes = spikes.peekable();
        while let Some(i) = spikes.next() {
            // As in `propagate_through`: the next row's first targets and weights.
            if let Some(&next) = spikes.peek() {
                let at = self.row_start[next as usize] as usize;
                with_indices!(&self.targets, t => if let Some(x) = t.get(at) {
                    crate::cache::prefetch(x)
                });
                if let Some(w) = weights.get(at) {
                    crate::cache::prefetch(w);
                }
            }
            let (a, b) = (
                self.row_start[i as usize] as usize,
                self.row_start[i as usize + 1] as usize,
            );
            with_indices!(&self.targets, t => {
                stdp.arrive(i as usize, step, &t[a..b], &mut weights[a..b], input)
            });
            events += (b - a) as u64;
        }
        events
    }

    /// Potentiates the synapses onto the local postsynaptic neurons `posts` that spiked
    /// at `step`, then bumps their traces.
    #[inline(never)]
    pub fn potentiate(&mut self, posts: &[u32], step: u64) {
        if let (Some(stdp), Weights::Each(weights)) = (&mut self.stdp, &mut self.weights) {
            stdp.potentiate(posts, step, weights);
        }
    }

    /// Per-synapse weights in row-major order, or None when every synapse has the same
    /// weight (a static random connection; [`Connection::entries`] lists them all).
    pub fn weights(&self) -> Option<&[R]> {
        match &self.weights {
            Weights::Same(_) => None,
            Weights::Each(w) => Some(w),
        }
    }

    /// Plastic connections: the number of synapses onto each local postsynaptic
    /// neuron (None for a static connection).
    pub fn post_counts(&self) -> Option<Vec<u32>> {
        self.stdp.as_ref().map(|s| s.post_synapse_counts())
    }

    /// Plastic connections: the `k`-th synapse onto local postsynaptic neuron `j` in
    /// (pre, build) order, the order of [`Connection::save`]'s arrays, as (pre,
    /// weight); None for a static connection or where there is no such synapse.
    pub fn onto(&self, j: usize, k: usize) -> Option<(u32, R)> {
        let (stdp, Weights::Each(weights)) = (self.stdp.as_ref()?, &self.weights) else {
            return None;
        };
        let (a, b) = (
            *stdp.by_post_start.get(j)? as usize,
            *stdp.by_post_start.get(j + 1)? as usize,
        );
        let at = a.checked_add(k).filter(|&at| at < b)?;
        Some((
            stdp.by_post_pre.get(at),
            weights[stdp.by_post_synapse[at] as usize],
        ))
    }

    /// Size of the presynaptic population.
    pub fn n_pre(&self) -> usize {
        self.row_start.len() - 1
    }

    pub fn synapse_count(&self) -> usize {
        self.targets.len()
    }

    /// Synapses as (pre, local post, weight), in row-major order.
    pub fn entries(&self) -> impl Iterator<Item = (u32, u32, R)> + '_ {
        (0..self.row_start.len() - 1).flat_map(move |i| {
            let row = self.row_start[i] as usize..self.row_start[i + 1] as usize;
            row.map(move |k| {
                let w = match &self.weights {
                    Weights::Same(w) => *w,
                    Weights::Each(all) => all[k],
                };
                (i as u32, self.targets.get(k), w)
            })
        })
    }

    /// Delivers the spikes of presynaptic neurons (indices within their population) to
    /// `input`, the postsynaptic variable. Returns the number of synaptic events.
    // Never inlined, like every phase function: `snn-bench run --profile-phase` gives a
    // sample to a phase by this function's frame, and the symbol of a function of its own
    // is found whatever the optimiser does to the inlining debug info (see bench-suite's
    // profile.rs).
    #[inline(never)]
    pub fn propagate(&self, spikes: impl Iterator<Item = u32>, input: &mut [R]) -> u64 {
        with_indices!(&self.targets, t => self.propagate_through(t, spikes, input))
    }

    /// [`Connection::propagate`] with the targets as they are stored.
    #[inline(always)]
    fn propagate_through<T: Local>(
        &self,
        all_targets: &[T],
        spikes: impl Iterator<Item = u32>,
        input: &mut [R],
    ) -> u64 {
        let mut events = 0;
        let mut spikes = spikes.peekable();
        while let Some(i) = spikes.next() {
            // The next spike's row starts on its way from L2 or memory while this one is
            // delivered: rows are short (va: 8–64 targets per partition) and each one
            // begins at a line of its own, whose miss otherwise stalls every row.
            if let Some(&next) = spikes.peek() {
                if let Some(t) = all_targets.get(self.row_start[next as usize] as usize) {
                    crate::cache::prefetch(t);
                }
            }
            let (a, b) = (
                self.row_start[i as usize] as usize,
                self.row_start[i as usize + 1] as usize,
            );
            let targets = &all_targets[a..b];
            match &self.weights {
                Weights::Same(w) => {
                    for &j in targets {
                        input[j.at()] += *w;
                    }
                }
                Weights::Each(all) => {
                    for (&j, &w) in targets.iter().zip(&all[a..b]) {
                        input[j.at()] += w;
                    }
                }
            }
            events += (b - a) as u64;
        }
        events
    }
}

/// Calls `f(pre, post, weight)` for every synapse of connection `index` onto the
/// postsynaptic neurons in `post_range` (post = index within its population), ordered
/// by post, then pre.
fn for_each_synapse(
    net: &Network,
    spec: &ConnectionSpec,
    index: usize,
    post_range: Range<usize>,
    rng: &CounterRng,
    offsets: &[usize],
    mut f: impl FnMut(u32, u32, f64),
) {
    let n_pre = net.populations[spec.pre].size;
    match &spec.connectivity {
        Connectivity::FixedProbability { p, weight } => {
            if *p <= 0.0 {
                return;
            }
            // Geometric skipping: the gap to the next connected presynaptic neuron is
            // geometric with parameter p, so the cost is O(synapses), not O(pairs).
            let log_q = (1.0 - p).ln();
            for j in post_range {
                let gid = (offsets[spec.post] + j) as u32;
                let mut draws = rng.sequence(gid, stream::CONNECTIVITY + index as u32);
                let mut i: i64 = -1;
                loop {
                    let skip = if *p >= 1.0 {
                        0.0
                    } else {
                        (draws.uniform_open().ln() / log_q).floor()
                    };
                    i += 1 + skip.min(n_pre as f64) as i64;
                    if i >= n_pre as i64 {
                        break;
                    }
                    f(i as u32, j as u32, *weight);
                }
            }
        }
        Connectivity::Explicit(all) => {
            // Entries are sorted by (pre, post); a stable fill keeps rows sorted by post.
            for &(i, j, w) in all.iter() {
                if post_range.contains(&(j as usize)) {
                    f(i, j, w);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CobaParams, InitialV, NeuronModel, PopulationSpec};

    fn net(p: f64) -> Network {
        sized(p, 300, 200)
    }

    fn sized(p: f64, pre: usize, post: usize) -> Network {
        let pop = |name: &str, size| PopulationSpec {
            name: name.into(),
            size,
            model: NeuronModel::Coba(CobaParams::vogels_abbott()),
            initial_v: InitialV::Fixed(-0.06),
        };
        Network {
            name: "t".into(),
            dt: 1e-4,
            seed: 5,
            populations: vec![pop("A", pre), pop("B", post)],
            connections: vec![ConnectionSpec {
                name: "AB".into(),
                pre: 0,
                post: 1,
                channel: Channel::Excitatory,
                delay: 8e-4,
                connectivity: Connectivity::FixedProbability { p, weight: 0.5 },
                plasticity: None,
            }],
        }
    }

    fn global(c: &Connection<f64>, first: u32) -> Vec<(u32, u32, f64)> {
        c.entries().map(|(i, j, w)| (i, j + first, w)).collect()
    }

    #[test]
    fn synapses_do_not_depend_on_the_split() {
        let n = net(0.05);
        let rng = CounterRng::new(n.seed);
        let whole = Connection::<f64>::build(&n, 0, 0..200, &rng);
        let a = Connection::<f64>::build(&n, 0, 0..77, &rng);
        let b = Connection::<f64>::build(&n, 0, 77..200, &rng);
        let mut parts = global(&a, 0);
        parts.extend(global(&b, 77));
        parts.sort_by_key(|&(i, j, _)| (i, j));
        assert_eq!(global(&whole, 0), parts);
    }

    #[test]
    fn targets_in_32_bits_deliver_as_in_16() {
        // 70 000 postsynaptic neurons: the whole population needs 32-bit targets, each
        // half of it 16-bit ones.
        let n = sized(0.001, 300, 70_000);
        let rng = CounterRng::new(n.seed);
        let whole = Connection::<f64>::build(&n, 0, 0..70_000, &rng);
        let (a, b) = (
            Connection::<f64>::build(&n, 0, 0..35_000, &rng),
            Connection::<f64>::build(&n, 0, 35_000..70_000, &rng),
        );
        assert!(matches!(whole.targets, Indices::Wide(_)));
        assert!(matches!(a.targets, Indices::Narrow(_)) && matches!(b.targets, Indices::Narrow(_)));
        let mut parts = global(&a, 0);
        parts.extend(global(&b, 35_000));
        parts.sort_by_key(|&(i, j, _)| (i, j));
        assert_eq!(global(&whole, 0), parts);
        assert!(parts.iter().any(|&(_, j, _)| j > 65_536));
        let spikes = [0u32, 17, 299];
        let mut g = vec![0.0; 70_000];
        let events = whole.propagate(spikes.into_iter(), &mut g);
        let mut halves = vec![0.0; 70_000];
        let (lo, hi) = halves.split_at_mut(35_000);
        let split = a.propagate(spikes.into_iter(), lo) + b.propagate(spikes.into_iter(), hi);
        assert_eq!((events, &g), (split, &halves));
        assert!(events > 0);
    }

    #[test]
    fn connection_probability_is_respected() {
        let n = net(0.05);
        let c = Connection::<f64>::build(&n, 0, 0..200, &CounterRng::new(1));
        let expected = 0.05 * 300.0 * 200.0;
        let sd = (expected * 0.95f64).sqrt();
        let got = c.synapse_count() as f64;
        assert!(
            (got - expected).abs() < 4.0 * sd,
            "{got} synapses, expected {expected}"
        );
        // No pair twice, rows sorted by post.
        let e: Vec<_> = c.entries().map(|(i, j, _)| (i, j)).collect();
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        let full = Connection::<f64>::build(&net(1.0), 0, 0..200, &CounterRng::new(1));
        assert_eq!(full.synapse_count(), 300 * 200);
        let none = Connection::<f64>::build(&net(0.0), 0, 0..200, &CounterRng::new(1));
        assert_eq!(none.synapse_count(), 0);
    }

    #[test]
    fn propagate_adds_weights_of_the_spiking_rows() {
        let n = net(0.05);
        let c = Connection::<f64>::build(&n, 0, 0..200, &CounterRng::new(2));
        let mut g = vec![0.0; 200];
        let events = c.propagate([3u32, 10].into_iter(), &mut g);
        let mut expected = vec![0.0; 200];
        let mut count = 0;
        for (i, j, w) in c.entries() {
            if i == 3 || i == 10 {
                expected[j as usize] += w;
                count += 1;
            }
        }
        assert_eq!(g, expected);
        assert_eq!(events, count);
    }
}

/// Save and load of plastic connections: a run split one way, saved, cut for another
/// split and restored, continues bit for bit as the uninterrupted run.
#[cfg(test)]
mod state_tests {
    use super::*;
    use crate::model::{
        CobaParams, InitialV, NeuronModel, PairStdp, Plasticity, PopulationSpec, TraceMode,
        TripletStdp,
    };
    use crate::neuron::checkpoint::{all_bits, cut, join, split, Pieces};
    use crate::state::{Array, Layout, StateError, Values};

    const N_PRE: usize = 60;
    const N_POST: usize = 40;
    const BEFORE: u64 = 300;
    const AFTER: u64 = 300;

    type Parts<R> = Vec<(Range<usize>, Connection<R>)>;

    fn net(plasticity: Option<Plasticity>, w0: f64, seed: u64) -> Network {
        let pop = |name: &str, size| PopulationSpec {
            name: name.into(),
            size,
            model: NeuronModel::Coba(CobaParams::vogels_abbott()),
            initial_v: InitialV::Fixed(0.0),
        };
        Network {
            name: "t".into(),
            dt: 1e-4,
            seed,
            populations: vec![pop("A", N_PRE), pop("B", N_POST)],
            connections: vec![ConnectionSpec {
                name: "AB".into(),
                pre: 0,
                post: 1,
                channel: Channel::Excitatory,
                delay: 1e-3,
                connectivity: Connectivity::FixedProbability { p: 0.3, weight: w0 },
                plasticity,
            }],
        }
    }

    fn pair(traces: TraceMode, mu: f64) -> Plasticity {
        Plasticity::Pair(PairStdp {
            tau_plus: 20e-3,
            tau_minus: 20e-3,
            lambda: 0.05,
            alpha: 2.02,
            mu_plus: mu,
            mu_minus: mu,
            w_max: 0.3e-3,
            traces,
        })
    }

    fn triplet(traces: TraceMode) -> Plasticity {
        Plasticity::Triplet(TripletStdp::zenke2013(50.0, 0.5, traces))
    }

    fn build<R: Real>(net: &Network, cuts: &[usize]) -> Parts<R> {
        let rng = CounterRng::new(net.seed);
        split(N_POST, cuts)
            .into_iter()
            .map(|r| (r.clone(), Connection::build(net, 0, r, &rng)))
            .collect()
    }

    /// Neurons 0..n of `who` spiking at t, each with probability 1/25.
    fn spikes(who: u32, n: usize, t: u64) -> Vec<u32> {
        let rng = CounterRng::new(99);
        (0..n as u32)
            .filter(|&i| rng.block(who * 1000 + i, 7, t)[0] < u32::MAX / 25)
            .collect()
    }

    /// What the engine may do between steps: learning off for a priming stretch, then
    /// on; off over the checkpoint and on again after it; learning rates changed
    /// before and after it.
    fn between_steps<R: Real>(t: u64, c: &mut Connection<R>) {
        match t {
            0 | 290 => c.set_learning(false),
            40 | 320 => c.set_learning(true),
            _ => {}
        }
        let factor = match t {
            150 => 0.5,
            400 => 2.0,
            _ => return,
        };
        assert_eq!(c.set_learning_rate(factor).is_ok(), c.is_plastic());
    }

    /// Steps `steps` as the engine does; returns each step's delivered input (bits, all
    /// postsynaptic neurons).
    fn advance<R: Real>(parts: &mut Parts<R>, steps: Range<u64>) -> Vec<Vec<u64>> {
        steps
            .map(|t| {
                let (pre, post) = (spikes(1, N_PRE, t), spikes(2, N_POST, t));
                let mut delivered = Vec::new();
                for (r, c) in parts.iter_mut() {
                    between_steps(t, c);
                    let mut input = vec![R::ZERO; r.len()];
                    c.begin_step();
                    c.propagate_plastic(pre.iter().copied(), &mut input, t);
                    let local: Vec<u32> = post
                        .iter()
                        .filter(|&&j| r.contains(&(j as usize)))
                        .map(|&j| j - r.start as u32)
                        .collect();
                    c.potentiate(&local, t);
                    delivered.extend(input.iter().map(|x| x.to_f64().to_bits()));
                }
                delivered
            })
            .collect()
    }

    fn save_all<R: Real>(parts: &Parts<R>) -> Vec<Array> {
        join(&parts.iter().map(|(_, c)| c.save()).collect::<Vec<_>>())
    }

    /// The piece of `whole` for the postsynaptic neurons `r`: its synapses are those
    /// after the earlier neurons', as `post_synapse_count` says.
    fn piece(whole: &[Array], r: Range<usize>) -> Pieces {
        let counts = match whole.iter().find(|a| a.name == "post_synapse_count") {
            Some(Array {
                values: Values::U32(c),
                ..
            }) => c.clone(),
            _ => Vec::new(),
        };
        let upto = |j: usize| counts[..j.min(counts.len())].iter().sum::<u32>() as usize;
        cut(whole, r.clone(), upto(r.start)..upto(r.end))
    }

    fn restore<R: Real>(net: &Network, saved: &[Array], cuts: &[usize]) -> Parts<R> {
        let mut parts = build::<R>(net, cuts);
        for (r, c) in &mut parts {
            let mut pieces = piece(saved, r.clone());
            c.load(&mut |name: &str| pieces.take(name)).unwrap();
            pieces.assert_all_taken();
        }
        parts
    }

    fn restore_continues_exactly<R: Real>(net: &Network, before: &[usize], after: &[usize]) {
        let mut whole = build::<R>(net, &[]);
        let expected = advance(&mut whole, 0..BEFORE + AFTER);
        let mut first = build::<R>(net, before);
        let mut got = advance(&mut first, 0..BEFORE);
        let saved = save_all(&first);
        let mut second = restore::<R>(net, &saved, after);
        got.extend(advance(&mut second, BEFORE..BEFORE + AFTER));
        for (t, (a, b)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(a, b, "{before:?} → {after:?}: input delivered at step {t}");
        }
        assert_eq!(
            all_bits(&save_all(&second)),
            all_bits(&save_all(&whole)),
            "{before:?} → {after:?}: final state"
        );
        if net.connections[0].plasticity.is_some() {
            let fresh = save_all(&build::<R>(net, &[]));
            let moved = |name| {
                let of = |a: &[Array]| all_bits(a).into_iter().find(|x| x.0 == name).unwrap();
                of(&saved) != of(&fresh)
            };
            for name in ["weight", "pre_trace", "post_trace"] {
                assert!(moved(name), "{name}: the run changed it");
            }
        }
    }

    /// Splits before → after: whole to three, two to whole, an empty partition to two.
    const SPLITS: [(&[usize], &[usize]); 3] = [(&[], &[13, 27]), (&[20], &[]), (&[0, 25], &[39])];

    #[test]
    fn plastic_connections_restore_onto_another_split() {
        for traces in [TraceMode::Continuous, TraceMode::EventBased] {
            for (before, after) in SPLITS {
                let multiplicative = net(Some(pair(traces, 1.0)), 0.1e-3, 5);
                restore_continues_exactly::<f32>(&multiplicative, before, after);
                restore_continues_exactly::<f64>(&multiplicative, before, after);
                let general = net(Some(pair(traces, 0.4)), 0.1e-3, 5);
                restore_continues_exactly::<f64>(&general, before, after);
                let tri = net(Some(triplet(traces)), 0.5, 5);
                restore_continues_exactly::<f32>(&tri, before, after);
                restore_continues_exactly::<f64>(&tri, before, after);
            }
        }
    }

    /// A static connection has no state: nothing saved, nothing taken, and it still
    /// delivers as before.
    #[test]
    fn static_connections_have_no_state() {
        let n = net(None, 0.25, 5);
        assert!(build::<f64>(&n, &[])
            .iter()
            .all(|(_, c)| c.save().is_empty()));
        for (before, after) in SPLITS {
            restore_continues_exactly::<f64>(&n, before, after);
        }
    }

    /// The Synapses arrays are in (post, pre) order: the synapses of post 0 by pre,
    /// then of post 1…, across the partitions' pieces.
    #[test]
    fn synapse_arrays_are_ordered_by_post_then_pre() {
        let n = net(Some(triplet(TraceMode::EventBased)), 0.5, 5);
        let mut parts = build::<f64>(&n, &[13, 27]);
        advance(&mut parts, 0..200);
        let mut entries: Vec<(u32, u32, u64)> = parts
            .iter()
            .flat_map(|(r, c)| {
                c.entries()
                    .map(|(i, j, w)| (j + r.start as u32, i, w.to_bits()))
                    .collect::<Vec<_>>()
            })
            .collect();
        entries.sort_by_key(|&(j, i, _)| (j, i));
        let saved = save_all(&parts);
        let get = |name| {
            saved
                .iter()
                .find(|a| a.name == name)
                .unwrap()
                .values
                .clone()
        };
        let (Values::U32(pre), Values::F64(w), Values::U32(counts)) =
            (get("pre"), get("weight"), get("post_synapse_count"))
        else {
            panic!("kinds")
        };
        assert_eq!(counts.len(), N_POST);
        let posts = counts
            .iter()
            .enumerate()
            .flat_map(|(j, &c)| std::iter::repeat_n(j as u32, c as usize));
        let listed: Vec<(u32, u32, u64)> = posts
            .zip(&pre)
            .zip(&w)
            .map(|((j, &i), w)| (j, i, w.to_bits()))
            .collect();
        assert_eq!(listed, entries);
        let layout = |name| saved.iter().find(|a| a.name == name).unwrap().layout;
        assert_eq!(layout("weight"), Layout::Synapses);
        assert_eq!(layout("post_trace_hom"), Layout::Neurons);
        assert_eq!(layout("pre_trace_last"), Layout::Replicated);
    }

    /// A failed load names the array and changes nothing; another network's synapses
    /// are refused.
    #[test]
    fn load_errors_name_the_array_and_change_nothing() {
        let n = net(Some(triplet(TraceMode::EventBased)), 0.5, 5);
        let mut parts = build::<f64>(&n, &[20]);
        advance(&mut parts, 0..100);
        let saved = save_all(&parts);
        let (r, c) = &mut parts[1];
        let before = all_bits(&c.save());
        let mut attempt = |edit: &dyn Fn(&mut Pieces)| {
            let mut pieces = piece(&saved, r.clone());
            edit(&mut pieces);
            let e = c.load(&mut |name: &str| pieces.take(name)).unwrap_err();
            assert_eq!(all_bits(&c.save()), before, "{e}: nothing changed");
            e
        };
        let e = attempt(&|p| {
            p.0.remove("post_trace_hom");
        });
        assert_eq!(
            e,
            StateError::Missing {
                name: "post_trace_hom".into()
            }
        );
        let e = attempt(&|p| {
            p.0.insert("pre_trace".into(), Values::F64(vec![0.0; N_PRE - 1]));
        });
        assert!(
            matches!(&e, StateError::Length { name, .. } if name == "pre_trace"),
            "{e}"
        );
        let e = attempt(&|p| {
            let Some(Values::F64(w)) = p.0.get("weight") else {
                panic!()
            };
            let w32 = w.iter().map(|&x| x as f32).collect();
            p.0.insert("weight".into(), Values::F32(w32));
        });
        assert!(
            matches!(&e, StateError::Kind { name, found: "<f4", .. } if name == "weight"),
            "{e}"
        );
        let e = attempt(&|p| {
            let Some(Values::U32(pre)) = p.0.get_mut("pre") else {
                panic!()
            };
            pre.swap(0, 1);
        });
        assert!(
            matches!(&e, StateError::Invalid { name, .. } if name == "pre"),
            "{e}"
        );
        let e = attempt(&|p| {
            p.0.insert("learning".into(), Values::U32(vec![2]));
        });
        assert!(
            matches!(&e, StateError::Invalid { name, .. } if name == "learning"),
            "{e}"
        );
        let e = attempt(&|p| {
            p.0.insert("learning_rate".into(), Values::F64(vec![-1.0]));
        });
        assert!(
            matches!(&e, StateError::Invalid { name, .. } if name == "learning_rate"),
            "{e}"
        );
        // The same sizes from another seed: other synapses.
        let other = net(Some(triplet(TraceMode::EventBased)), 0.5, 6);
        let mut c = build::<f64>(&other, &[]).remove(0).1;
        let mut pieces = piece(&save_all(&build::<f64>(&n, &[])), 0..N_POST);
        let e = c.load(&mut |name: &str| pieces.take(name)).unwrap_err();
        assert!(e.to_string().contains("another network"), "{e}");
    }
}
