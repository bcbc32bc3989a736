//! Neuron populations at run time: state as structure-of-arrays, one `Vec` per variable.

pub mod ampa_nmda;
pub mod coba;
pub mod delta;
pub mod poisson;

use crate::model::{Channel, InitialV, NeuronModel, PopulationSpec};
use crate::real::Real;
use crate::rng::{stream, CounterRng};
use crate::state::{take_exact, Array, Layout, Source, StateError, Values};

pub use ampa_nmda::AmpaNmda;
pub use coba::Coba;
pub use delta::Delta;
pub use poisson::Poisson;

/// The floating-point state variables of COBA, AMPA/NMDA and delta neurons, by name.
const VARIABLES: [&[&str]; 3] = [
    &["v", "g_exc", "g_inh", "refractory"],
    &["v", "g_ampa", "g_nmda", "g_gaba", "theta"],
    &["v", "input", "refractory"],
];

/// The state variables a population of `model` has (none for Poisson sources), known
/// before anything is built, so that a state monitor is checked before the run.
pub fn variables_of(model: &NeuronModel) -> &'static [&'static str] {
    match model {
        NeuronModel::Coba(_) => VARIABLES[0],
        NeuronModel::AmpaNmda(_) => VARIABLES[1],
        NeuronModel::Delta(_) => VARIABLES[2],
        NeuronModel::Poisson(_) => &[],
    }
}

/// The local slice of one population that a worker integrates.
#[derive(Debug, Clone)]
pub enum Population<R: Real> {
    Coba(Coba<R>),
    AmpaNmda(AmpaNmda<R>),
    Delta(Delta<R>),
    Poisson(Poisson),
}

impl<R: Real> Population<R> {
    /// State for the owned neurons `owned` (indices within the population) of `spec`,
    /// whose first neuron has global id `pop_gid`.
    pub fn new(
        spec: &PopulationSpec,
        dt: f64,
        pop_gid: usize,
        owned: std::ops::Range<usize>,
        rng: &CounterRng,
    ) -> Self {
        let first_gid = pop_gid + owned.start;
        let v0 = || -> Vec<R> {
            (0..owned.len())
                .map(|i| {
                    R::of(match spec.initial_v {
                        InitialV::Fixed(v) => v,
                        InitialV::Uniform { lo, hi } => rng
                            .sequence((first_gid + i) as u32, stream::INITIAL_V)
                            .uniform_in(lo, hi),
                        InitialV::Normal { mean, sd } => {
                            let mut d = rng.sequence((first_gid + i) as u32, stream::INITIAL_V);
                            mean + sd * d.normal()
                        }
                    })
                })
                .collect()
        };
        match &spec.model {
            NeuronModel::Coba(p) => Population::Coba(Coba::new(p, dt, v0())),
            NeuronModel::AmpaNmda(p) => Population::AmpaNmda(AmpaNmda::new(p, dt, v0())),
            NeuronModel::Delta(p) => Population::Delta(Delta::new(p, dt, v0(), first_gid, rng)),
            NeuronModel::Poisson(p) => {
                Population::Poisson(Poisson::new(p, dt, pop_gid, spec.size, owned, rng))
            }
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Population::Coba(c) => c.v.len(),
            Population::AmpaNmda(a) => a.v.len(),
            Population::Delta(d) => d.v.len(),
            Population::Poisson(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Advances every neuron by one step and appends the local indices of those that spiked.
    /// (Never inlined, for `--profile-phase`: see `Connection::propagate`.)
    #[inline(never)]
    pub fn evolve(&mut self, spiked: &mut Vec<u32>) {
        match self {
            Population::Coba(c) => c.evolve(spiked),
            Population::AmpaNmda(a) => a.evolve(spiked),
            Population::Delta(d) => d.evolve(spiked),
            Population::Poisson(p) => p.evolve(spiked),
        }
    }

    /// The names of the floating-point state variables, in a fixed order.
    pub fn variable_names(&self) -> &'static [&'static str] {
        match self {
            Population::Coba(_) => VARIABLES[0],
            Population::AmpaNmda(_) => VARIABLES[1],
            Population::Delta(_) => VARIABLES[2],
            Population::Poisson(_) => &[],
        }
    }

    /// The owned neurons' values of the state variable `name` (one of
    /// [`Population::variable_names`]), without allocating: state monitors read it
    /// every few steps.
    pub fn variable(&self, name: &str) -> Option<&[R]> {
        Some(match (self, name) {
            (Population::Coba(c), "v") => &c.v,
            (Population::Coba(c), "g_exc") => &c.g_exc,
            (Population::Coba(c), "g_inh") => &c.g_inh,
            (Population::Coba(c), "refractory") => &c.refractory,
            (Population::AmpaNmda(a), "v") => &a.v,
            (Population::AmpaNmda(a), "g_ampa") => &a.g_ampa,
            (Population::AmpaNmda(a), "g_nmda") => &a.g_nmda,
            (Population::AmpaNmda(a), "g_gaba") => &a.g_gaba,
            (Population::AmpaNmda(a), "theta") => &a.theta,
            (Population::Delta(d), "v") => &d.v,
            (Population::Delta(d), "input") => &d.input,
            (Population::Delta(d), "refractory") => &d.refractory,
            _ => return None,
        })
    }

    /// Every floating-point state variable by name (for the NaN/inf watch,
    /// [`crate::health`]); Poisson sources have none.
    pub fn state(&self) -> Vec<(&'static str, &[R])> {
        (self.variable_names().iter())
            .map(|&n| (n, self.variable(n).expect("a listed variable")))
            .collect()
    }

    /// Everything that determines this slice's future beyond what the network spec
    /// gives (see [`crate::state`]): per-neuron state in [`Layout::Neurons`], the
    /// population-wide clocks and walks in [`Layout::Replicated`].
    pub fn save(&self) -> Vec<Array> {
        match self {
            Population::Coba(c) => c.save(),
            Population::AmpaNmda(a) => a.save(),
            Population::Delta(d) => d.save(),
            Population::Poisson(p) => p.save(),
        }
    }

    /// Takes the arrays of [`Population::save`] back, after [`Population::new`] from the
    /// same network (any partition); on an error nothing has changed.
    pub fn load(&mut self, source: &mut Source) -> Result<(), StateError> {
        match self {
            Population::Coba(c) => c.load(source),
            Population::AmpaNmda(a) => a.load(source),
            Population::Delta(d) => d.load(source),
            Population::Poisson(p) => p.load(source),
        }
    }

    /// Poisson sources: the rate in Hz from the next step on (the same in every
    /// partition; see [`Poisson::set_rate`]). Other models have no rate.
    pub fn set_rate(&mut self, hz: f64) -> Result<(), String> {
        match self {
            Population::Poisson(p) => p.set_rate(hz),
            _ => Err("only Poisson sources have a rate".into()),
        }
    }

    /// Poisson sources: a rate per owned neuron (Hz) from the next step on (see
    /// [`Poisson::set_rates`]). Other models have no rate.
    pub fn set_rates(&mut self, hz: &[f64]) -> Result<(), String> {
        match self {
            Population::Poisson(p) => p.set_rates(hz),
            _ => Err("only Poisson sources have a rate".into()),
        }
    }

    /// The input variable that a connection on `channel` adds its weights to.
    #[inline]
    pub fn input(&mut self, channel: Channel) -> &mut [R] {
        match self {
            Population::Coba(c) => match channel {
                Channel::Excitatory => &mut c.g_exc,
                Channel::Inhibitory => &mut c.g_inh,
            },
            Population::AmpaNmda(a) => match channel {
                Channel::Excitatory => &mut a.g_ampa,
                Channel::Inhibitory => &mut a.g_gaba,
            },
            // Delta synapses: one input, the sign is in the weight.
            Population::Delta(d) => &mut d.input,
            // Validation rejects connections onto sources, so nothing is ever delivered.
            Population::Poisson(_) => &mut [],
        }
    }
}

/// An owned-neuron array of reals.
pub(crate) fn neurons<R: Real>(name: &'static str, xs: &[R]) -> Array {
    Array {
        name,
        layout: Layout::Neurons,
        values: Values::of_reals(xs),
    }
}

/// A population-wide counter or position (the same in every partition).
pub(crate) fn replicated_u64(name: &'static str, xs: Vec<u64>) -> Array {
    Array {
        name,
        layout: Layout::Replicated,
        values: Values::U64(xs),
    }
}

/// `len` reals in the run's precision.
pub(crate) fn take_reals<R: Real>(
    source: &mut Source,
    name: &str,
    len: usize,
) -> Result<Vec<R>, StateError> {
    take_exact(source, name, len)?.into_reals(name)
}

pub(crate) fn take_u64(
    source: &mut Source,
    name: &str,
    len: usize,
) -> Result<Vec<u64>, StateError> {
    take_exact(source, name, len)?.into_u64(name)
}

#[cfg(test)]
pub(crate) mod checkpoint;

#[cfg(test)]
mod tests;
