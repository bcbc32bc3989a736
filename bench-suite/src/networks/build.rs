//! The one builder of every network: a network file (built in or a user's) and the
//! command line's options → a [`Built`] network. Every value is checked here, with
//! errors naming the file, the key (`connections[2].delay`) and what was expected;
//! [`Network::validate`] is the last word.

use std::collections::BTreeMap;
use std::path::Path;

use sim_core::model::{NeuronModel, PoissonGenerator, PoissonParams};
use sim_core::{InitialV, Network, PopulationSpec};

use super::expr::{self, Dim};
use super::fields::{self, MODELS, VOLT_MAX};
use super::file::{self, NetworkFile, Quantity};
use super::params::{at, at_value, Params, Range, FLAGS};

mod connections;
use super::{Built, Generator, InitV, Options};
use crate::limits;

/// A network file's text and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// How messages name the file ("my.toml", "networks/va.toml (built in)").
    pub origin: &'a str,
    pub text: &'a str,
    /// The directory `synapses` files are relative to (none for built-in files).
    pub dir: Option<&'a Path>,
}

/// Reads the file's structure: TOML syntax, keys and types (no value checked yet).
pub fn parse(src: &Source) -> Result<NetworkFile, String> {
    if src.text.len() as u64 > limits::NETWORK_FILE_BYTES {
        return Err(format!(
            "{}: {} bytes: expected a network file of at most {} bytes",
            src.origin,
            src.text.len(),
            limits::NETWORK_FILE_BYTES
        ));
    }
    let de = toml::Deserializer::new(src.text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner();
        let place = inner.span().map(|s| {
            let before = &src.text[..s.start.min(src.text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(" (line {line}, column {column})")
        });
        let message = inner.message().trim().replace('\n', " ");
        let key = if path.is_empty() || path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        let hint = if key.is_empty() && !message.starts_with("missing field") {
            ": not a network file (TOML; README, \"Network files\")"
        } else {
            ""
        };
        format!(
            "{}: {key}{message}{}{hint}",
            src.origin,
            place.unwrap_or_default()
        )
    })
}

/// Builds the network of `src` with the options `o`.
pub fn build(src: &Source, o: &Options) -> Result<Built, String> {
    let file = parse(src)?;
    let origin = src.origin;
    check_name(origin, "name", &file.name)?;
    let mut params = Params::new(origin, &file)?;
    let plastic = o.plastic.is_some();
    if plastic && file.plastic.is_none() {
        return Err(format!(
            "--plastic: network '{}' has no plastic variant (no [plastic] section in {origin})",
            file.name
        ));
    }
    let given = given_flags(o);
    for &(flag, x) in &given {
        let Some(b) = params.binding(flag) else {
            let bound: Vec<String> = params
                .bindings
                .iter()
                .map(|b| format!("--{}", b.flag))
                .chain(file.plastic.as_ref().map(|_| "--priming".to_string()))
                .collect();
            let elsewhere = bound_in_built_ins(flag);
            return Err(format!(
                "--{flag}: network '{}' has no parameter that --{flag} sets (its file {origin} \
                 binds {}){}",
                file.name,
                if bound.is_empty() {
                    "none".into()
                } else {
                    bound.join(", ")
                },
                if elsewhere.is_empty() {
                    String::new()
                } else {
                    format!("; built-in networks with one: {}", elsewhere.join(", "))
                }
            ));
        };
        if b.plastic_only && !plastic {
            return Err(format!(
                "--{flag}: applies to plastic runs of {} only (--plastic)",
                file.name
            ));
        }
        check_number(flag, x)?;
        let param = b.param.clone();
        params.set(&param, x);
    }
    if let Some(x) = o.overrides.priming {
        if !plastic {
            return Err("--priming: applies to plastic runs only (--plastic)".into());
        }
        check_number("priming", x)?;
    }

    let mut b = Builder {
        p: &params,
        file: &file,
        o,
        models: BTreeMap::new(),
    };
    for (name, table) in &file.neurons {
        let key = format!("neurons.{name}");
        check_name(origin, &key, name)?;
        let (model, v) = fields::read(
            &params,
            &key,
            table,
            "model",
            &MODELS,
            false,
            (Dim::NONE, Range::closed(0.0, 0.0), ""),
        )?;
        b.models
            .insert(name.as_str(), fields::neuron_model(model, &v));
    }
    let (populations, labels) = b.populations()?;
    let mut net = Network {
        name: file.name.clone(),
        dt: o.dt,
        seed: o.seed,
        populations,
        connections: Vec::new(),
    };
    let synapse_files = b.connections(&mut net)?;
    let priming_s = b.plastic(&mut net)?;
    // Before reading any synapse file: the sizes, delays and rules are sound.
    net.validate().map_err(|e| format!("{origin}: {e}"))?;
    for (i, path) in synapse_files {
        connections::load_synapses(src, &mut net, i, &path)?;
    }
    net.validate().map_err(|e| format!("{origin}: {e}"))?;

    let mut parameters = BTreeMap::new();
    for bd in params
        .bindings
        .iter()
        .filter(|bd| plastic || !bd.plastic_only)
    {
        let given = given.iter().find(|(f, _)| *f == bd.flag).map(|g| g.1);
        let x = match given {
            Some(x) => x,
            None => {
                let (exp, _) = expr::unit(&bd.unit).expect("checked");
                expr::shift(params.get(&bd.param, true)?.x, -exp)
            }
        };
        let suffix = match bd.unit.as_str() {
            "" => String::new(),
            u => format!("_{}", u.to_lowercase()),
        };
        parameters.insert(format!("{}{suffix}", bd.flag.replace('-', "_")), x);
    }
    if plastic {
        parameters.insert("priming_s".into(), priming_s);
    }
    Ok(Built {
        net,
        priming_s: if plastic { priming_s } else { 0.0 },
        parameters,
        initial_v: initial_v_label(&labels, o.init_v),
    })
}

/// The flags of `o` that set a parameter, with their numbers, after checking each is a
/// finite number in its range (the message names the flag).
fn given_flags(o: &Options) -> Vec<(&'static str, f64)> {
    let v = &o.overrides;
    let values = [v.w_exc, v.w_inh, v.input_rate, v.learning_rate, v.tau_hom];
    FLAGS
        .iter()
        .zip(values)
        .filter_map(|(f, x)| x.map(|x| (f.0, x)))
        .collect()
}

/// The built-in networks with a parameter bound to `flag`.
fn bound_in_built_ins(flag: &str) -> Vec<&'static str> {
    super::BUILT_IN
        .iter()
        .filter(|(name, text)| {
            let src = Source {
                origin: name,
                text,
                dir: None,
            };
            parse(&src)
                .is_ok_and(|f| Params::new(name, &f).is_ok_and(|p| p.binding(flag).is_some()))
        })
        .map(|(name, _)| *name)
        .collect()
}

/// Checks the number a flag gives: finite, at least its minimum, in its range (the
/// message names the flag).
fn check_number(flag: &str, x: f64) -> Result<(), String> {
    let (limit, min) = FLAGS
        .iter()
        .find(|f| f.0 == flag)
        .map_or((limits::PRIMING, 0.0), |f| (f.1, f.2));
    if !x.is_finite() || x < min {
        let expected = if min > 0.0 { "> 0" } else { ">= 0" };
        return Err(format!("--{flag} {x}: expected a finite number {expected}"));
    }
    limit.check(x)?;
    Ok(())
}

/// How the record names the initial potentials: "rest", or the kind of draw.
fn initial_v_label(draws: &[&'static str], init: InitV) -> String {
    if init == InitV::Rest {
        return "rest".into();
    }
    let mut kinds: Vec<&str> = draws.to_vec();
    kinds.sort();
    kinds.dedup();
    match kinds.as_slice() {
        [] => "uniform".into(),
        _ => kinds.join("+"),
    }
}

/// A population's or connection's name: one word (it names weight files and records).
fn check_name(origin: &str, key: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(at_value(
            origin,
            key,
            format!("{name:?}"),
            "expected a name of 1 to 64 letters, digits, _ or -",
        ))
    }
}

fn size(origin: &str, key: &str, n: i64) -> Result<usize, String> {
    if (1..=limits::MAX_NEURONS as i64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(at_value(
            origin,
            key,
            n,
            format!(
                "expected a number of neurons in [1, {}]",
                limits::MAX_NEURONS
            ),
        ))
    }
}

struct Builder<'a> {
    p: &'a Params<'a>,
    file: &'a NetworkFile,
    o: &'a Options,
    models: BTreeMap<&'a str, NeuronModel>,
}

impl Builder<'_> {
    fn origin(&self) -> &str {
        self.p.origin
    }

    fn volt(&self, key: &str, q: &Quantity, what: &str) -> Result<f64, String> {
        let range = Range::closed(-VOLT_MAX, VOLT_MAX);
        self.p.field(key, q, false, Dim::VOLTAGE, range, what)
    }

    /// The initial potentials of a population from `spec` (at `key`), resting at `rest`
    /// unless the file says otherwise; and the kind of draw ("uniform", "normal"), if any.
    fn initial_v(
        &self,
        key: &str,
        spec: Option<&file::InitialV>,
        rest: f64,
    ) -> Result<(InitialV, Option<&'static str>), String> {
        let Some(spec) = spec else {
            return Ok((InitialV::Fixed(rest), None));
        };
        let rest = match &spec.rest {
            Some(q) => self.volt(&format!("{key}.rest"), q, "the resting start")?,
            None => rest,
        };
        let draw = match (&spec.uniform, &spec.normal) {
            (Some(_), Some(_)) => {
                return Err(at(
                    self.origin(),
                    key,
                    "both uniform and normal: expected one of them (or neither)",
                ))
            }
            (Some([lo, hi]), None) => {
                let lo = self.volt(&format!("{key}.uniform[0]"), lo, "the lowest start")?;
                let hi = self.volt(&format!("{key}.uniform[1]"), hi, "the highest start")?;
                if lo > hi {
                    return Err(at_value(
                        self.origin(),
                        &format!("{key}.uniform"),
                        format!("[{lo} V, {hi} V)"),
                        "expected low <= high",
                    ));
                }
                Some((InitialV::Uniform { lo, hi }, "uniform"))
            }
            (None, Some([mean, sd])) => {
                let mean = self.volt(&format!("{key}.normal[0]"), mean, "the mean start")?;
                let sd = self.p.field(
                    &format!("{key}.normal[1]"),
                    sd,
                    false,
                    Dim::VOLTAGE,
                    Range::closed(0.0, VOLT_MAX),
                    "the standard deviation of the start",
                )?;
                Some((InitialV::Normal { mean, sd }, "normal"))
            }
            (None, None) => None,
        };
        Ok(match (self.o.init_v, draw) {
            (InitV::Uniform, Some((v, kind))) => (v, Some(kind)),
            (InitV::Rest, Some(_)) | (_, None) => (InitialV::Fixed(rest), None),
        })
    }

    /// Populations, then inputs; and the kinds of initial draws.
    fn populations(&self) -> Result<(Vec<PopulationSpec>, Vec<&'static str>), String> {
        let origin = self.origin();
        let mut out: Vec<PopulationSpec> = Vec::new();
        let mut labels = Vec::new();
        let named = |key: &str, name: &str, out: &[PopulationSpec]| {
            check_name(origin, &format!("{key}.name"), name)?;
            if out.iter().any(|p| p.name == name) {
                return Err(at_value(
                    origin,
                    &format!("{key}.name"),
                    format!("{name:?}"),
                    "already the name of a population or input: expected a new one",
                ));
            }
            Ok::<_, String>(())
        };
        for (i, pop) in self.file.populations.iter().enumerate() {
            let key = format!("populations[{i}]");
            named(&key, &pop.name, &out)?;
            let size = size(origin, &format!("{key}.size"), pop.size.0)?;
            let Some(model) = self.models.get(pop.neuron.as_str()) else {
                let known: Vec<&str> = self.models.keys().copied().collect();
                return Err(at_value(
                    origin,
                    &format!("{key}.neuron"),
                    format!("{:?}", pop.neuron),
                    format!(
                        "expected one of the file's [neurons] types ({})",
                        if known.is_empty() {
                            "none defined".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            };
            let (spec, init_key) = match &pop.initial_v {
                Some(s) => (Some(s), format!("{key}.initial_v")),
                None => (self.file.initial_v.as_ref(), "initial_v".to_string()),
            };
            let (initial_v, label) = self.initial_v(&init_key, spec, fields::e_leak(model))?;
            labels.extend(label);
            out.push(PopulationSpec {
                name: pop.name.clone(),
                size,
                model: model.clone(),
                initial_v,
            });
        }
        for (i, input) in self.file.inputs.iter().enumerate() {
            let key = format!("inputs[{i}]");
            named(&key, &input.name, &out)?;
            let size = size(origin, &format!("{key}.size"), input.size.0)?;
            let rate_key = format!("{key}.rate");
            let rate = self.p.field(
                &rate_key,
                &input.rate,
                false,
                Dim::RATE,
                Range::closed(0.0, limits::INPUT_RATE.max),
                "the firing rate of every source",
            )?;
            if rate * self.o.dt > 1.0 {
                return Err(at_value(
                    origin,
                    &rate_key,
                    format!("{} ({rate} Hz)", input.rate),
                    format!(
                        "expected at most one spike per step (<= {} Hz at dt = {} ms)",
                        1.0 / self.o.dt,
                        self.o.dt * 1e3
                    ),
                ));
            }
            let (initial_v, label) =
                self.initial_v("initial_v", self.file.initial_v.as_ref(), 0.0)?;
            labels.extend(label);
            out.push(PopulationSpec {
                name: input.name.clone(),
                size,
                model: NeuronModel::Poisson(PoissonParams {
                    rate,
                    generator: match self.o.generator {
                        Generator::Lattice => PoissonGenerator::Lattice,
                        Generator::PerStep => PoissonGenerator::PerStep,
                    },
                }),
                initial_v,
            });
        }
        Ok((out, labels))
    }
}
