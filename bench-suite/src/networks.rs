//! The study's networks, built from the paper's parameters (shared/DESIGN.md).

use sim_core::model::{
    AmpaNmdaParams, CobaParams, DeltaParams, NeuronModel, PoissonGenerator, PoissonParams,
};
use sim_core::{
    Channel, ConnectionSpec, Connectivity, InitialV, Network, PairStdp, PopulationSpec, TraceMode,
};

/// Names accepted by `snn-bench run`.
pub const NAMES: [&str; 4] = ["va", "brunel", "zenke25k", "poisson"];

/// How membrane potentials start (recorded in every result).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InitV {
    /// Drawn from the seed: uniform in [E_L, θ) (va, brunel), N(−60 mV, 10 mV)
    /// (zenke25k). The network starts asynchronous.
    Uniform,
    /// Every neuron at E_L, as Auryn's sim_coba_benchmark: a synchronous first volley.
    Rest,
}

/// What can be chosen about a network from the command line.
#[derive(Debug, Clone)]
pub struct Options {
    pub dt: f64,
    /// Axonal delay of every connection, seconds.
    pub delay: f64,
    pub seed: u64,
    pub init_v: InitV,
    pub generator: Generator,
    /// The plastic variant (brunel: E→E pair STDP), with these presynaptic traces.
    pub plastic: Option<Traces>,
}

/// How presynaptic traces are kept in plastic runs (paper Fig. 8C vs 8D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Traces {
    /// Every worker decays all presynaptic traces every step (Auryn's default).
    Continuous,
    /// Traces decayed exactly when read or incremented.
    EventBased,
}

/// Poisson generator (for networks with Poisson sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Generator {
    /// Auryn's lattice walk: O(spikes).
    Lattice,
    /// One draw per neuron and step.
    PerStep,
}

fn population(name: &str, size: usize, model: NeuronModel, initial_v: InitialV) -> PopulationSpec {
    PopulationSpec {
        name: name.into(),
        size,
        model,
        initial_v,
    }
}

/// A static connection drawn with probability `p` per pair, all weights equal.
fn random(
    name: &str,
    (pre, post): (usize, usize),
    channel: Channel,
    delay: f64,
    p: f64,
    weight: f64,
) -> ConnectionSpec {
    ConnectionSpec {
        name: name.into(),
        pre,
        post,
        channel,
        delay,
        connectivity: Connectivity::FixedProbability { p, weight },
        plasticity: None,
    }
}

/// Builds a network by name.
pub fn by_name(name: &str, o: &Options) -> Result<Network, String> {
    match name {
        "va" => Ok(vogels_abbott(o)),
        "poisson" => Ok(poisson(o)),
        "brunel" => Ok(brunel(o)),
        "zenke25k" => Ok(zenke25k(o)),
        other => Err(format!(
            "unknown network '{other}': expected one of {}",
            NAMES.join(", ")
        )),
    }
}

/// The Vogels–Abbott COBA benchmark as in the paper (§2.3.1): 3200 E + 800 I
/// conductance-based integrate-and-fire neurons, p = 0.02 in all four pathways
/// (≈ 320 k synapses), w_e = 0.4, w_i = 5.1 in units of the leak conductance.
pub fn vogels_abbott(o: &Options) -> Network {
    let neuron = CobaParams::vogels_abbott();
    let initial_v = match o.init_v {
        InitV::Uniform => InitialV::Uniform {
            lo: neuron.e_leak,
            hi: neuron.threshold,
        },
        InitV::Rest => InitialV::Fixed(neuron.e_leak),
    };
    let pop = |name, size| population(name, size, NeuronModel::Coba(neuron), initial_v);
    let conn = |name, pre, post, channel, weight| {
        random(name, (pre, post), channel, o.delay, 0.02, weight)
    };
    use Channel::{Excitatory as Exc, Inhibitory as Inh};
    Network {
        name: "va".into(),
        dt: o.dt,
        seed: o.seed,
        populations: vec![pop("E", 3200), pop("I", 800)],
        connections: vec![
            conn("EE", 0, 0, Exc, 0.4),
            conn("EI", 0, 1, Exc, 0.4),
            conn("IE", 1, 0, Inh, 5.1),
            conn("II", 1, 1, Inh, 5.1),
        ],
    }
}

/// The input-generation benchmark of the paper's Fig. 1: 1000 independent Poisson
/// neurons at 5 Hz (run it for 100 s), no connections.
pub fn poisson(o: &Options) -> Network {
    Network {
        name: "poisson".into(),
        dt: o.dt,
        seed: o.seed,
        populations: vec![population(
            "P",
            1000,
            poisson_source(5.0, o.generator),
            InitialV::Fixed(0.0),
        )],
        connections: vec![],
    }
}

/// The Brunel (2000) balanced network as in the paper (§2.3.3), static: 8000 E + 2000 I
/// delta-synapse neurons (NEST iaf_psc_delta: τ_m 20 ms, E_L 0, V_reset 10 mV,
/// θ 20 mV, refractory 2 ms), J = 0.1 mV, inhibitory −g·J with g = 5, p = 0.1 in all
/// pathways (≈ 10 M synapses), and an external Poisson drive of η·ν_thr·C_E = 20 kHz
/// of J-sized inputs per neuron (η = 2).
pub fn brunel(o: &Options) -> Network {
    const J: f64 = 0.1e-3;
    const G: f64 = 5.0;
    let (n_e, n_i, p) = (8000, 2000, 0.1);
    let c_e = p * n_e as f64;
    // ν_thr = θ / (J·C_E·τ_m) per external synapse, η = 2, C_E external synapses.
    let neuron = DeltaParams::brunel(2.0 * 20e-3 / (J * c_e * 20e-3) * c_e, J);
    let initial_v = match o.init_v {
        InitV::Uniform => InitialV::Uniform {
            lo: neuron.e_leak,
            hi: neuron.threshold,
        },
        InitV::Rest => InitialV::Fixed(neuron.e_leak),
    };
    let pop = |name, size| population(name, size, NeuronModel::Delta(neuron), initial_v);
    // Delta synapses have one input; inhibition is a negative weight.
    let conn = |name, pre, post, weight| {
        random(name, (pre, post), Channel::Excitatory, o.delay, p, weight)
    };
    let mut connections = vec![
        conn("EE", 0, 0, J),
        conn("EI", 0, 1, J),
        conn("IE", 1, 0, -G * J),
        conn("II", 1, 1, -G * J),
    ];
    // Plastic variant: E→E weight-dependent STDP as NEST's stdp_synapse_hom.
    connections[0].plasticity = o.plastic.map(|traces| PairStdp {
        tau_plus: 20e-3,
        tau_minus: 20e-3,
        lambda: 0.01,
        alpha: 2.02,
        mu_plus: 1.0,
        mu_minus: 1.0,
        w_max: 3.0 * J,
        traces: match traces {
            Traces::Continuous => TraceMode::Continuous,
            Traces::EventBased => TraceMode::EventBased,
        },
    });
    Network {
        name: "brunel".into(),
        dt: o.dt,
        seed: o.seed,
        populations: vec![pop("E", n_e), pop("I", n_i)],
        connections,
    }
}

/// How a network's initial potentials were drawn, as records spell it.
pub fn initial_v_label(network: &str, init: InitV) -> String {
    match (network, init) {
        (_, InitV::Rest) => "rest".into(),
        ("zenke25k", InitV::Uniform) => "normal".into(),
        (_, InitV::Uniform) => "uniform".into(),
    }
}

/// The 25 k network of Zenke et al. 2013 as in the paper (§2.3.2), static: 20 000 E +
/// 5000 I AMPA/NMDA/GABA neurons with a dynamic threshold, p = 0.05 in every pathway,
/// weights 0.16 from E and 1.0 from I (units of the leak conductance), and 2500 Poisson
/// inputs at 2 Hz onto E (p = 0.05, weight 0.16): ≈ 34 M synapses.
pub fn zenke25k(o: &Options) -> Network {
    let neuron = AmpaNmdaParams::zenke2013;
    let initial_v = match o.init_v {
        InitV::Uniform => InitialV::Normal {
            mean: -60e-3,
            sd: 10e-3,
        },
        InitV::Rest => InitialV::Fixed(-70e-3),
    };
    let pop = |name, size, model| population(name, size, model, initial_v);
    let conn = |name, pre, post, channel, weight| {
        random(name, (pre, post), channel, o.delay, 0.05, weight)
    };
    use Channel::{Excitatory as Exc, Inhibitory as Inh};
    Network {
        name: "zenke25k".into(),
        dt: o.dt,
        seed: o.seed,
        populations: vec![
            pop("E", 20_000, NeuronModel::AmpaNmda(neuron(20e-3))),
            pop("I", 5_000, NeuronModel::AmpaNmda(neuron(10e-3))),
            pop("P", 2_500, poisson_source(2.0, o.generator)),
        ],
        connections: vec![
            conn("EE", 0, 0, Exc, 0.16),
            conn("EI", 0, 1, Exc, 0.16),
            conn("IE", 1, 0, Inh, 1.0),
            conn("II", 1, 1, Inh, 1.0),
            conn("PE", 2, 0, Exc, 0.16),
        ],
    }
}

fn poisson_source(rate: f64, generator: Generator) -> NeuronModel {
    NeuronModel::Poisson(PoissonParams {
        rate,
        generator: match generator {
            Generator::Lattice => PoissonGenerator::Lattice,
            Generator::PerStep => PoissonGenerator::PerStep,
        },
    })
}
