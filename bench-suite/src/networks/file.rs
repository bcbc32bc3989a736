//! The schema of a network file (TOML), as read: names and quantities, before anything
//! is evaluated or checked against anything else (that is `build.rs`). README, "Network
//! files", describes it for users; `networks/*.toml` are examples.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A whole network file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// The network's name, as records give it.
    pub name: String,
    /// One line saying what the network is (not used by the simulation).
    #[serde(default)]
    pub description: String,
    /// Named quantities the rest of the file refers to; some set by a command-line flag.
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    /// Neuron types: a model and its parameters (a table of quantities with `model`).
    #[serde(default)]
    pub neurons: BTreeMap<String, BTreeMap<String, Quantity>>,
    /// How membrane potentials start, for every population without its own.
    pub initial_v: Option<InitialV>,
    #[serde(default)]
    pub populations: Vec<Population>,
    /// Poisson spike sources, numbered after the populations.
    #[serde(default)]
    pub inputs: Vec<Input>,
    #[serde(default)]
    pub connections: Vec<Connection>,
    /// The plastic variant (`--plastic`).
    pub plastic: Option<Plastic>,
}

/// A quantity as written: a TOML number (no unit) or a string ("20 ms", "3 * J").
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    Number(f64),
    Text(String),
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Number(x) => write!(f, "{x}"),
            Quantity::Text(s) => write!(f, "{s:?}"),
        }
    }
}

const QUANTITY: &str = "a number, or a quantity with its unit as a string (e.g. \"20 ms\")";

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl<'de> Visitor<'de> for QuantityVisitor {
    type Value = Quantity;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(QUANTITY)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity::Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        Ok(Quantity::Number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Ok(Quantity::Text(v.to_string()))
    }
}

/// A number of neurons as written (a whole number; its range is checked when built).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub i64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number of neurons (e.g. 800)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                Ok(Count(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A parameter: a quantity, or a table saying also its unit and the flag that sets it.
#[derive(Debug, Clone)]
pub enum Parameter {
    Plain(Quantity),
    Bound(Bound),
}

/// `{ value = 0.1, unit = "mV", flag = "w-exc" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bound {
    /// A number in `unit`, or a quantity of its dimension.
    pub value: Quantity,
    /// The unit of a plain `value`, of the flag's number and of the recorded value.
    #[serde(default)]
    pub unit: String,
    /// The `snn-bench run` flag that replaces the value (without `--`).
    pub flag: Option<String>,
}

impl Parameter {
    pub fn value(&self) -> &Quantity {
        match self {
            Parameter::Plain(q) => q,
            Parameter::Bound(b) => &b.value,
        }
    }
}

impl<'de> Deserialize<'de> for Parameter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Parameter;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{QUANTITY}, or a table {{ value = …, unit = \"mV\", flag = \"w-exc\" }}"
                )
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Parameter, E> {
                QuantityVisitor.visit_i64(v).map(Parameter::Plain)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Parameter, E> {
                QuantityVisitor.visit_u64(v).map(Parameter::Plain)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Parameter, E> {
                QuantityVisitor.visit_f64(v).map(Parameter::Plain)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Parameter, E> {
                QuantityVisitor.visit_str(v).map(Parameter::Plain)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Parameter, A::Error> {
                Bound::deserialize(de::value::MapAccessDeserializer::new(map)).map(Parameter::Bound)
            }
        }
        d.deserialize_any(V)
    }
}

/// Initial membrane potentials: `--init-v uniform` (the default) draws them from
/// `uniform` or `normal` (or, with neither, starts at `rest`); `--init-v rest` starts
/// every neuron at `rest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialV {
    /// [low, high): uniform, per neuron, from the seed.
    pub uniform: Option<[Quantity; 2]>,
    /// [mean, standard deviation]: normal, per neuron, from the seed.
    pub normal: Option<[Quantity; 2]>,
    /// The resting start (default: the model's E_L; 0 for inputs).
    pub rest: Option<Quantity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    pub name: String,
    pub size: Count,
    /// A neuron type of `[neurons]`.
    pub neuron: String,
    pub initial_v: Option<InitialV>,
}

/// Poisson spike sources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: String,
    pub size: Count,
    /// Firing rate of every source.
    pub rate: Quantity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Excitatory,
    Inhibitory,
}

/// A pathway: random (`probability` and `weight`) or given synapse by synapse
/// (`synapses`, a Matrix Market file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub name: String,
    pub pre: String,
    pub post: String,
    /// Which conductance it drives; none onto delta-synapse neurons.
    pub channel: Option<Channel>,
    pub probability: Option<Quantity>,
    pub weight: Option<Quantity>,
    /// Matrix Market file (relative to the network file): row = presynaptic neuron,
    /// column = postsynaptic neuron, value = weight.
    pub synapses: Option<String>,
    /// Axonal delay; default `--delay`.
    pub delay: Option<Quantity>,
}

/// The plastic variant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plastic {
    /// Model time run with the weights fixed before the measured run (default 0 s).
    pub priming: Option<Quantity>,
    /// Parameters only the plastic variant has (visible only inside `[plastic]`).
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    /// Connection name → its rule (`rule` and the rule's parameters).
    #[serde(default)]
    pub rules: BTreeMap<String, BTreeMap<String, Quantity>>,
}
