//! Neuron populations at run time: state as structure-of-arrays, one `Vec` per variable.

pub mod coba;

use crate::model::{Channel, InitialV, NeuronModel, PopulationSpec};
use crate::real::Real;
use crate::rng::{stream, CounterRng};

pub use coba::Coba;

/// The local slice of one population that a worker integrates.
#[derive(Debug, Clone)]
pub enum Population<R: Real> {
    Coba(Coba<R>),
}

impl<R: Real> Population<R> {
    /// State for the neurons `first_gid .. first_gid + len` of `spec`.
    pub fn new(
        spec: &PopulationSpec,
        dt: f64,
        first_gid: usize,
        len: usize,
        rng: &CounterRng,
    ) -> Self {
        let v0: Vec<R> = (0..len)
            .map(|i| {
                R::of(match spec.initial_v {
                    InitialV::Fixed(v) => v,
                    InitialV::Uniform { lo, hi } => rng
                        .sequence((first_gid + i) as u32, stream::INITIAL_V)
                        .uniform_in(lo, hi),
                })
            })
            .collect();
        match &spec.model {
            NeuronModel::Coba(p) => Population::Coba(Coba::new(p, dt, v0)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Population::Coba(c) => c.v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Advances every neuron by one step and appends the local indices of those that spiked.
    #[inline]
    pub fn evolve(&mut self, spiked: &mut Vec<u32>) {
        match self {
            Population::Coba(c) => c.evolve(spiked),
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
        }
    }

    /// Membrane potentials (for probes and tests).
    pub fn v(&self) -> &[R] {
        match self {
            Population::Coba(c) => &c.v,
        }
    }
}
