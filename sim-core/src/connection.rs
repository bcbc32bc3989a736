//! Static synapses at run time, stored by presynaptic neuron (compressed sparse rows).
//!
//! A worker keeps only the synapses onto its own neurons, so `propagate` writes local
//! memory only. Rows are indexed by the presynaptic neuron's index within its population;
//! each row lists local postsynaptic indices in ascending order with their weights.

use std::ops::Range;

use crate::model::{Channel, ConnectionSpec, Connectivity, Network};
use crate::neuron::take_reals;
use crate::plasticity::Stdp;
use crate::real::Real;
use crate::rng::{stream, CounterRng};
use crate::state::{take_exact, Array, Layout, Source, StateError, Values};

#[derive(Debug, Clone)]
pub struct Connection<R> {
    pub pre: usize,
    pub post: usize,
    pub channel: Channel,
    pub delay_steps: usize,
    /// Global id of the first presynaptic neuron.
    pub pre_offset: u32,
    row_start: Vec<u32>,
    targets: Vec<u32>,
    weights: Weights<R>,
    /// Plasticity state, for plastic connections.
    stdp: Option<Stdp<R>>,
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
        let mut targets = vec![0u32; total];
        let mut weights = match (&spec.connectivity, &spec.plasticity) {
            (Connectivity::FixedProbability { weight, .. }, None) => Weights::Same(R::of(*weight)),
            _ => Weights::Each(vec![R::ZERO; total]),
        };
        for_each_synapse(net, spec, index, post_range, rng, &offsets, |i, j, w| {
            let k = fill[i as usize] as usize;
            fill[i as usize] += 1;
            targets[k] = j - first;
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
        }
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
    pub fn save(&self) -> Vec<Array> {
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
                values: Values::U32(stdp.by_post_pre.clone()),
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
        if take_exact(source, "pre", n)?.into_u32("pre")? != stdp.by_post_pre {
            return Err(other("pre"));
        }
        let ordered: Vec<R> = take_reals(source, "weight", n)?;
        stdp.load(source)?;
        for (&k, w) in stdp.by_post_synapse.iter().zip(ordered) {
            weights[k as usize] = w;
        }
        Ok(())
    }

    /// Plastic connections: the traces' decay for a new step.
    pub fn begin_step(&mut self) {
        if let Some(s) = &mut self.stdp {
            s.begin_step();
        }
    }

    /// Delivers spikes through a plastic connection: each synapse is first depressed,
    /// then its new weight delivered; then the presynaptic trace jumps. Returns the
    /// number of synaptic events.
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
        for i in spikes {
            let (a, b) = (
                self.row_start[i as usize] as usize,
                self.row_start[i as usize + 1] as usize,
            );
            stdp.arrive(
                i as usize,
                step,
                &self.targets[a..b],
                &mut weights[a..b],
                input,
            );
            events += (b - a) as u64;
        }
        events
    }

    /// Potentiates the synapses onto the local postsynaptic neurons `posts` that spiked
    /// at `step`, then bumps their traces.
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
                (i as u32, self.targets[k], w)
            })
        })
    }

    /// Delivers the spikes of presynaptic neurons (indices within their population) to
    /// `input`, the postsynaptic variable. Returns the number of synaptic events.
    #[inline]
    pub fn propagate(&self, spikes: impl Iterator<Item = u32>, input: &mut [R]) -> u64 {
        let mut events = 0;
        for i in spikes {
            let (a, b) = (
                self.row_start[i as usize] as usize,
                self.row_start[i as usize + 1] as usize,
            );
            let targets = &self.targets[a..b];
            match &self.weights {
                Weights::Same(w) => {
                    for &j in targets {
                        input[j as usize] += *w;
                    }
                }
                Weights::Each(all) => {
                    for (&j, &w) in targets.iter().zip(&all[a..b]) {
                        input[j as usize] += w;
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
            populations: vec![pop("A", 300), pop("B", 200)],
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
