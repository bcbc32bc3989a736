//! The study's networks, built from the paper's parameters (README, "Networks").

use std::collections::BTreeMap;

use crate::limits;

use sim_core::model::{
    AmpaNmdaParams, CobaParams, DeltaParams, NeuronModel, PoissonGenerator, PoissonParams,
};
use sim_core::{
    Channel, ConnectionSpec, Connectivity, InitialV, Network, PairStdp, Plasticity, PopulationSpec,
    TraceMode, TripletStdp,
};

/// Names accepted by `snn-bench run`.
pub const NAMES: [&str; 4] = ["va", "brunel", "zenke25k", "poisson"];

/// The networks with a plastic variant (`snn-bench run --plastic`).
pub const PLASTIC: [&str; 2] = ["brunel", "zenke25k"];

/// Model time of the priming run before a plastic run without overrides, seconds:
/// zenke25k 3·τ_hom, the others none.
pub fn default_priming_s(network: &str) -> f64 {
    if network == "zenke25k" {
        3.0 * ZENKE_TAU_HOM
    } else {
        0.0
    }
}

/// How membrane potentials start (recorded in every result).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
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
    /// The plastic variant (brunel: E→E pair STDP; zenke25k: E→E triplet STDP with
    /// homeostasis), with these presynaptic traces.
    pub plastic: Option<Traces>,
    pub overrides: Overrides,
}

/// Network parameters changed from the command line; `None` keeps the paper's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// brunel: λ of pair STDP (0.01); zenke25k: η, with A3+ = 6.5·10⁻³·η (1).
    pub learning_rate: Option<f64>,
    /// zenke25k: τ_hom in seconds (10 s, the paper's benchmark value; 50 s in its
    /// model runs).
    pub tau_hom: Option<f64>,
    /// Priming run in seconds of model time before learning starts (zenke25k: 3·τ_hom;
    /// brunel: 0).
    pub priming: Option<f64>,
    /// poisson: rate of each source (5 Hz); zenke25k: rate of each input neuron (2 Hz);
    /// brunel: rate of each neuron's external drive (20 kHz).
    pub input_rate: Option<f64>,
    /// Recurrent excitatory weight: va 0.4, zenke25k 0.16 (units of the leak
    /// conductance), brunel J = 0.1 mV.
    pub w_exc: Option<f64>,
    /// Recurrent inhibitory weight (magnitude): va 5.1, zenke25k 1.0, brunel g·J = 0.5 mV.
    pub w_inh: Option<f64>,
}

/// A network ready to run, the length of its priming run, and the values of the
/// parameters a user can change (as the record lists them).
#[derive(Debug, Clone)]
pub struct Built {
    pub net: Network,
    /// Seconds of model time with the weights fixed before the measured run.
    pub priming_s: f64,
    pub parameters: BTreeMap<String, f64>,
}

/// How presynaptic traces are kept in plastic runs (paper Fig. 8C vs 8D).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Traces {
    /// Every worker decays all presynaptic traces every step (Auryn's default).
    Continuous,
    /// Traces decayed exactly when read or incremented.
    EventBased,
}

impl Traces {
    fn mode(self) -> TraceMode {
        match self {
            Traces::Continuous => TraceMode::Continuous,
            Traces::EventBased => TraceMode::EventBased,
        }
    }
}

/// Poisson generator (for networks with Poisson sources).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
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

/// Builds a network by name, after checking the overrides make sense for it.
pub fn by_name(name: &str, o: &Options) -> Result<Built, String> {
    if !NAMES.contains(&name) {
        return Err(format!(
            "unknown network '{name}': expected one of {}",
            NAMES.join(", ")
        ));
    }
    check_overrides(name, o)?;
    let v = &o.overrides;
    let mut parameters = BTreeMap::new();
    let mut priming_s = 0.0;
    let net = match name {
        "va" => vogels_abbott(o),
        "poisson" => poisson(o),
        "brunel" => brunel(o),
        _ => zenke25k(o),
    };
    let value = |x: Option<f64>, default: f64| x.unwrap_or(default);
    match name {
        "va" => {
            parameters.insert("w_exc".into(), value(v.w_exc, 0.4));
            parameters.insert("w_inh".into(), value(v.w_inh, 5.1));
        }
        "poisson" => {
            parameters.insert("input_rate_hz".into(), value(v.input_rate, 5.0));
        }
        "brunel" => {
            parameters.insert("w_exc_mv".into(), value(v.w_exc, 0.1));
            parameters.insert("w_inh_mv".into(), value(v.w_inh, 0.5));
            parameters.insert("input_rate_hz".into(), value(v.input_rate, BRUNEL_DRIVE));
            if o.plastic.is_some() {
                parameters.insert("learning_rate".into(), value(v.learning_rate, 0.01));
                priming_s = value(v.priming, default_priming_s(name));
            }
        }
        _ => {
            parameters.insert("w_exc".into(), value(v.w_exc, 0.16));
            parameters.insert("w_inh".into(), value(v.w_inh, 1.0));
            parameters.insert("input_rate_hz".into(), value(v.input_rate, 2.0));
            if o.plastic.is_some() {
                let tau_hom = value(v.tau_hom, ZENKE_TAU_HOM);
                parameters.insert("learning_rate".into(), value(v.learning_rate, 1.0));
                parameters.insert("tau_hom_s".into(), tau_hom);
                priming_s = value(v.priming, 3.0 * tau_hom);
            }
        }
    }
    if o.plastic.is_some() {
        parameters.insert("priming_s".into(), priming_s);
    }
    Ok(Built {
        net,
        priming_s,
        parameters,
    })
}

/// The external drive of each brunel neuron, Hz: η·ν_thr·C_E with η = 2 and
/// ν_thr = θ / (J·C_E·τ_m) per external synapse and C_E = 800 of them: 20 kHz.
const BRUNEL_DRIVE: f64 = 2.0 * 20e-3 / (0.1e-3 * 800.0 * 20e-3) * 800.0;

/// τ_hom of the zenke25k benchmarks, seconds (the paper's model runs use 50 s).
const ZENKE_TAU_HOM: f64 = 10.0;

/// Rejects an override the network does not have, or a value out of range; the message
/// names the flag.
fn check_overrides(name: &str, o: &Options) -> Result<(), String> {
    let v = &o.overrides;
    let plastic = o.plastic.is_some();
    let flags = [
        (
            "learning-rate",
            v.learning_rate,
            0.0,
            plastic,
            "plastic runs (--plastic)",
        ),
        (
            "tau-hom",
            v.tau_hom,
            f64::MIN_POSITIVE,
            plastic && name == "zenke25k",
            "plastic zenke25k runs",
        ),
        (
            "priming",
            v.priming,
            0.0,
            plastic,
            "plastic runs (--plastic)",
        ),
        (
            "input-rate",
            v.input_rate,
            0.0,
            name != "va",
            "poisson, brunel and zenke25k (va has no Poisson input)",
        ),
        (
            "w-exc",
            v.w_exc,
            0.0,
            name != "poisson",
            "networks with connections (not poisson)",
        ),
        (
            "w-inh",
            v.w_inh,
            0.0,
            name != "poisson",
            "networks with connections (not poisson)",
        ),
    ];
    for (flag, value, min, applies, which) in flags {
        let Some(x) = value else { continue };
        if !applies {
            return Err(format!(
                "--{flag}: applies to {which} only, not to this {name} run"
            ));
        }
        if !x.is_finite() || x < min {
            let expected = if min > 0.0 { "> 0" } else { ">= 0" };
            return Err(format!("--{flag} {x}: expected a finite number {expected}"));
        }
        let range = match flag {
            "learning-rate" => limits::LEARNING_RATE,
            "tau-hom" => limits::TAU_HOM,
            "priming" => limits::PRIMING,
            "input-rate" => limits::INPUT_RATE,
            _ => limits::Limit {
                flag,
                ..limits::WEIGHT
            },
        };
        range.check(x)?;
    }
    if let (true, "zenke25k", Some(w)) = (plastic, name, v.w_exc) {
        if w > 1.0 {
            return Err(format!(
                "--w-exc {w}: plastic E→E weights live in [0, 1]; expected at most 1"
            ));
        }
    }
    Ok(())
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
    let w_exc = o.overrides.w_exc.unwrap_or(0.4);
    let w_inh = o.overrides.w_inh.unwrap_or(5.1);
    use Channel::{Excitatory as Exc, Inhibitory as Inh};
    Network {
        name: "va".into(),
        dt: o.dt,
        seed: o.seed,
        populations: vec![pop("E", 3200), pop("I", 800)],
        connections: vec![
            conn("EE", 0, 0, Exc, w_exc),
            conn("EI", 0, 1, Exc, w_exc),
            conn("IE", 1, 0, Inh, w_inh),
            conn("II", 1, 1, Inh, w_inh),
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
            poisson_source(o.overrides.input_rate.unwrap_or(5.0), o.generator),
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
    let v = &o.overrides;
    // J and g·J; the external drive keeps J-sized inputs of the paper's J.
    let j = v.w_exc.map_or(0.1e-3, |mv| mv * 1e-3);
    let gj = v.w_inh.map_or(5.0 * 0.1e-3, |mv| mv * 1e-3);
    let (n_e, n_i, p) = (8000, 2000, 0.1);
    let neuron = DeltaParams::brunel(v.input_rate.unwrap_or(BRUNEL_DRIVE), 0.1e-3);
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
        conn("EE", 0, 0, j),
        conn("EI", 0, 1, j),
        conn("IE", 1, 0, -gj),
        conn("II", 1, 1, -gj),
    ];
    // Plastic variant: E→E weight-dependent STDP as NEST's stdp_synapse_hom.
    connections[0].plasticity = o.plastic.map(|traces| {
        Plasticity::Pair(PairStdp {
            tau_plus: 20e-3,
            tau_minus: 20e-3,
            lambda: v.learning_rate.unwrap_or(0.01),
            alpha: 2.02,
            mu_plus: 1.0,
            mu_minus: 1.0,
            w_max: 3.0 * j,
            traces: traces.mode(),
        })
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
/// inputs at 2 Hz onto E (p = 0.05, weight 0.16): ≈ 34 M synapses. Plastic: E→E minimal
/// triplet STDP with homeostasis (Zenke et al. 2013), ≈ 20 M plastic synapses.
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
    let v = &o.overrides;
    let (w_exc, w_inh) = (v.w_exc.unwrap_or(0.16), v.w_inh.unwrap_or(1.0));
    let mut ee = conn("EE", 0, 0, Exc, w_exc);
    // Plastic variant: E→E minimal triplet STDP with homeostatic depression.
    ee.plasticity = o.plastic.map(|traces| {
        Plasticity::Triplet(TripletStdp::zenke2013(
            v.learning_rate.unwrap_or(1.0),
            v.tau_hom.unwrap_or(ZENKE_TAU_HOM),
            traces.mode(),
        ))
    });
    Network {
        name: "zenke25k".into(),
        dt: o.dt,
        seed: o.seed,
        populations: vec![
            pop("E", 20_000, NeuronModel::AmpaNmda(neuron(20e-3))),
            pop("I", 5_000, NeuronModel::AmpaNmda(neuron(10e-3))),
            pop(
                "P",
                2_500,
                poisson_source(v.input_rate.unwrap_or(2.0), o.generator),
            ),
        ],
        connections: vec![
            ee,
            conn("EI", 0, 1, Exc, w_exc),
            conn("IE", 1, 0, Inh, w_inh),
            conn("II", 1, 1, Inh, w_inh),
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
