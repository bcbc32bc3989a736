//! The parameters of each neuron model and plasticity rule a network file can use: key,
//! dimension, range, meaning, default; and the tables of quantities they are read from.

use std::collections::BTreeMap;

use sim_core::model::{
    AmpaNmdaParams, CobaParams, DeltaParams, NeuronModel, PairStdp, Plasticity, TraceMode,
    TripletStdp,
};

use super::expr::Dim;
use super::file::Quantity;
use super::params::{at, at_value, Params, Range};
use crate::limits;

/// What a field's dimension is: fixed, or that of the connection's weights.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Of(Dim),
    Weight,
}

/// One parameter of a model or rule.
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub range: Range,
    pub what: &'static str,
    pub default: Option<f64>,
}

/// Longest time constant, seconds (as `--tau-hom`).
pub const TIME_MAX: f64 = 1e4;
/// Largest membrane potential, reversal potential or jump, in magnitude, volts.
pub const VOLT_MAX: f64 = 1.0;

const fn f(key: &'static str, kind: Kind, range: Range, what: &'static str) -> Field {
    Field {
        key,
        kind,
        range,
        what,
        default: None,
    }
}
const fn time(key: &'static str, what: &'static str) -> Field {
    f(key, Kind::Of(Dim::TIME), Range::above(0.0, TIME_MAX), what)
}
const fn volt(key: &'static str, what: &'static str) -> Field {
    f(
        key,
        Kind::Of(Dim::VOLTAGE),
        Range::closed(-VOLT_MAX, VOLT_MAX),
        what,
    )
}
const fn number(key: &'static str, max: f64, what: &'static str) -> Field {
    f(key, Kind::Of(Dim::NONE), Range::closed(0.0, max), what)
}
const fn with_default(field: Field, default: f64) -> Field {
    Field {
        default: Some(default),
        ..field
    }
}
const REFRACTORY: Field = f(
    "refractory",
    Kind::Of(Dim::TIME),
    Range::closed(0.0, TIME_MAX),
    "the refractory period",
);
const W_MAX: Field = f(
    "w_max",
    Kind::Weight,
    Range::above(0.0, f32::MAX as f64),
    "the largest weight",
);

/// The models of `model = …`, with their parameters in the order of the model's struct.
pub const MODELS: [(&str, &str, &[Field]); 3] = [
    (
        "coba",
        "conductance-based integrate-and-fire (Vogels & Abbott 2005)",
        &[
            time("tau_m", "the membrane time constant"),
            volt("e_leak", "the resting potential E_L"),
            volt("v_reset", "the reset potential"),
            volt("threshold", "the firing threshold"),
            volt("e_exc", "the reversal potential of excitation"),
            volt("e_inh", "the reversal potential of inhibition"),
            time("tau_exc", "the decay time of excitatory conductances"),
            time("tau_inh", "the decay time of inhibitory conductances"),
            REFRACTORY,
            with_default(volt("i_bg", "the background input as a voltage (I·R)"), 0.0),
        ],
    ),
    (
        "ampa_nmda",
        "AMPA/NMDA/GABA conductances and a dynamic threshold (Zenke et al. 2013)",
        &[
            time("tau_m", "the membrane time constant"),
            volt("e_leak", "the resting potential E_L"),
            volt("v_reset", "the reset potential"),
            volt("e_inh", "the reversal potential of GABA"),
            volt("threshold", "the resting firing threshold"),
            number("ampa_share", 1.0, "the AMPA share of excitation"),
            time("tau_ampa", "the AMPA decay time"),
            time("tau_nmda", "the NMDA decay time"),
            time("tau_gaba", "the GABA decay time"),
            time("tau_theta", "the decay time of the dynamic threshold"),
            volt("theta_spike", "the dynamic threshold after a spike"),
        ],
    ),
    (
        "delta",
        "current-based integrate-and-fire with delta synapses (NEST iaf_psc_delta)",
        &[
            time("tau_m", "the membrane time constant"),
            volt("e_leak", "the resting potential E_L"),
            volt("v_reset", "the reset potential"),
            volt("threshold", "the firing threshold"),
            REFRACTORY,
            with_default(
                f(
                    "ext_rate",
                    Kind::Of(Dim::RATE),
                    Range::closed(0.0, limits::INPUT_RATE.max),
                    "the rate of external Poisson input per neuron",
                ),
                0.0,
            ),
            with_default(volt("ext_weight", "the jump of one external input"), 0.0),
        ],
    ),
];

/// The rules of `rule = …`.
pub const RULES: [(&str, &str, &[Field]); 2] = [
    (
        "pair",
        "weight-dependent pair STDP (NEST stdp_synapse_hom)",
        &[
            time("tau_plus", "the presynaptic trace's time constant τ₊"),
            time("tau_minus", "the postsynaptic trace's time constant τ₋"),
            number("lambda", limits::LEARNING_RATE.max, "the learning rate λ"),
            number("alpha", 1e6, "the relative strength of depression α"),
            number("mu_plus", 1e6, "the weight dependence of potentiation μ₊"),
            number("mu_minus", 1e6, "the weight dependence of depression μ₋"),
            W_MAX,
        ],
    ),
    (
        "triplet",
        "minimal triplet STDP with homeostatic depression (Zenke et al. 2013)",
        &[
            time("tau_plus", "the presynaptic trace's time constant τ₊"),
            time("tau_minus", "the postsynaptic trace's time constant τ₋"),
            time("tau_y", "the slow postsynaptic trace's time constant τ_y"),
            time("tau_hom", "the homeostatic time constant τ_hom"),
            number("a3_plus", 1e6, "the triplet potentiation A3+"),
            f(
                "kappa",
                Kind::Of(Dim::RATE),
                Range::above(0.0, limits::INPUT_RATE.max),
                "the target rate κ",
            ),
            W_MAX,
        ],
    ),
];

/// Reads the table at `key` whose `tag` ("model", "rule") picks one of `choices`: every
/// field evaluated and checked, none unknown, none missing. Returns the choice and the
/// values in the choice's field order.
pub fn read(
    p: &Params,
    key: &str,
    table: &BTreeMap<String, Quantity>,
    tag: &str,
    choices: &'static [(&'static str, &'static str, &'static [Field])],
    plastic_scope: bool,
    weight: (Dim, Range, &str),
) -> Result<(&'static str, Vec<f64>), String> {
    let names = || {
        choices
            .iter()
            .map(|(n, about, _)| format!("\"{n}\" ({about})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen = match table.get(tag) {
        None => {
            return Err(at(
                p.origin,
                key,
                format!("missing {tag}: expected one of {}", names()),
            ))
        }
        Some(Quantity::Text(t)) => choices.iter().find(|(n, ..)| n == t),
        Some(_) => None,
    };
    let Some(&(name, _, fields)) = chosen else {
        return Err(at_value(
            p.origin,
            &format!("{key}.{tag}"),
            &table[tag],
            format!("expected one of {}", names()),
        ));
    };
    if let Some(k) = table
        .keys()
        .find(|k| *k != tag && !fields.iter().any(|f| f.key == *k))
    {
        return Err(at(
            p.origin,
            &format!("{key}.{k}"),
            format!(
                "not a parameter of {tag} \"{name}\": expected one of {}",
                fields.iter().map(|f| f.key).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let mut values = Vec::with_capacity(fields.len());
    for field in fields {
        let (dim, range, what) = match field.kind {
            Kind::Of(d) => (d, field.range, field.what.to_string()),
            Kind::Weight => (
                weight.0,
                Range {
                    min: field.range.min,
                    open_min: field.range.open_min,
                    max: weight.1.max,
                },
                format!("{} ({})", field.what, weight.2),
            ),
        };
        let x = match (table.get(field.key), field.default) {
            (Some(q), _) => p.field(
                &format!("{key}.{}", field.key),
                q,
                plastic_scope,
                dim,
                range,
                &what,
            )?,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(at(
                    p.origin,
                    key,
                    format!(
                        "missing {}: expected {what}, {} (e.g. {} = {})",
                        field.key,
                        dim.describe(),
                        field.key,
                        dim.example()
                    ),
                ))
            }
        };
        values.push(x);
    }
    Ok((name, values))
}

/// The neuron model of `model` with values `v` (in [`MODELS`] order).
pub fn neuron_model(model: &str, v: &[f64]) -> NeuronModel {
    match model {
        "coba" => NeuronModel::Coba(CobaParams {
            tau_m: v[0],
            e_leak: v[1],
            v_reset: v[2],
            threshold: v[3],
            e_exc: v[4],
            e_inh: v[5],
            tau_exc: v[6],
            tau_inh: v[7],
            refractory: v[8],
            i_bg: v[9],
        }),
        "ampa_nmda" => NeuronModel::AmpaNmda(AmpaNmdaParams {
            tau_m: v[0],
            e_leak: v[1],
            v_reset: v[2],
            e_inh: v[3],
            threshold: v[4],
            ampa_share: v[5],
            tau_ampa: v[6],
            tau_nmda: v[7],
            tau_gaba: v[8],
            tau_theta: v[9],
            theta_spike: v[10],
        }),
        _ => NeuronModel::Delta(DeltaParams {
            tau_m: v[0],
            e_leak: v[1],
            v_reset: v[2],
            threshold: v[3],
            refractory: v[4],
            ext_rate: v[5],
            ext_weight: v[6],
        }),
    }
}

/// The plasticity rule `rule` with values `v` (in [`RULES`] order).
pub fn plasticity(rule: &str, v: &[f64], traces: TraceMode) -> Plasticity {
    match rule {
        "pair" => Plasticity::Pair(PairStdp {
            tau_plus: v[0],
            tau_minus: v[1],
            lambda: v[2],
            alpha: v[3],
            mu_plus: v[4],
            mu_minus: v[5],
            w_max: v[6],
            traces,
        }),
        _ => Plasticity::Triplet(TripletStdp {
            tau_plus: v[0],
            tau_minus: v[1],
            tau_y: v[2],
            tau_hom: v[3],
            a3_plus: v[4],
            kappa: v[5],
            w_max: v[6],
            traces,
        }),
    }
}

/// The resting potential of a model (where `--init-v rest` starts it by default).
pub fn e_leak(model: &NeuronModel) -> f64 {
    match model {
        NeuronModel::Coba(c) => c.e_leak,
        NeuronModel::AmpaNmda(a) => a.e_leak,
        NeuronModel::Delta(d) => d.e_leak,
        NeuronModel::Poisson(_) => 0.0,
    }
}
