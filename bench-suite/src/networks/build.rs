//! The one builder of every network: a network file (built in or a user's) and the
//! command line's options → a [`Built`] network. Every value is checked here, with
//! errors naming the file, the key (`connections[2].delay`) and what was expected;
//! [`Network::validate`] is the last word.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sim_core::model::{NeuronModel, PoissonGenerator, PoissonParams};
use sim_core::{Channel, ConnectionSpec, Connectivity, InitialV, Network, PopulationSpec};

use super::expr::{self, Dim};
use super::fields::{self, MODELS, RULES, VOLT_MAX};
use super::file::{self, NetworkFile, Quantity};
use super::params::{at, at_value, Params, Range, FLAGS};
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
    for (i, path) in synapse_files {
        load_synapses(src, &mut net, i, &path)?;
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

    /// The weights a connection onto `post` takes: dimension, range, what they are.
    fn weight_kind(model: &NeuronModel) -> (Dim, Range, &'static str) {
        let max = f32::MAX as f64;
        match model {
            NeuronModel::Delta(_) => (
                Dim::VOLTAGE,
                Range::closed(-max, max),
                "a voltage jump, negative for inhibition",
            ),
            _ => (
                Dim::NONE,
                Range::closed(0.0, max),
                "a conductance in units of the leak conductance",
            ),
        }
    }

    /// The connections (their Matrix Market files still to read: index and path).
    fn connections(&self, net: &mut Network) -> Result<Vec<(usize, String)>, String> {
        let origin = self.origin();
        let mut files = Vec::new();
        let names: Vec<&str> = net.populations.iter().map(|p| p.name.as_str()).collect();
        let inputs = self.file.populations.len();
        for (i, c) in self.file.connections.iter().enumerate() {
            let key = format!("connections[{i}]");
            check_name(origin, &format!("{key}.name"), &c.name)?;
            if let Some(other) = net
                .connections
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(&c.name))
            {
                return Err(at_value(
                    origin,
                    &format!("{key}.name"),
                    format!("{:?}", c.name),
                    format!(
                        "already connection {} (weight files are named by the lower-cased \
                         name): expected a new name",
                        other.name
                    ),
                ));
            }
            let find = |end: &str, name: &str| {
                names.iter().position(|n| *n == name).ok_or_else(|| {
                    at_value(
                        origin,
                        &format!("{key}.{end}"),
                        format!("{name:?}"),
                        format!(
                            "expected a population or input of this file ({})",
                            names.join(", ")
                        ),
                    )
                })
            };
            let pre = find("pre", &c.pre)?;
            let post = find("post", &c.post)?;
            if post >= inputs {
                return Err(at_value(
                    origin,
                    &format!("{key}.post"),
                    format!("{:?}", c.post),
                    format!(
                        "an input (Poisson sources take no input): expected a population \
                         ({})",
                        names[..inputs].join(", ")
                    ),
                ));
            }
            let target = &net.populations[post].model;
            let delta = matches!(target, NeuronModel::Delta(_));
            let channel = match (c.channel, delta) {
                (Some(file::Channel::Inhibitory), true) => {
                    return Err(at_value(
                        origin,
                        &format!("{key}.channel"),
                        "\"inhibitory\"",
                        format!(
                            "onto {}, delta-synapse neurons with one input: expected no \
                             channel (inhibition is a negative weight)",
                            c.post
                        ),
                    ))
                }
                (_, true) | (Some(file::Channel::Excitatory), _) => Channel::Excitatory,
                (Some(file::Channel::Inhibitory), _) => Channel::Inhibitory,
                (None, false) => {
                    return Err(at(
                        origin,
                        &key,
                        "missing channel: expected \"excitatory\" or \"inhibitory\" (which \
                         conductance of the postsynaptic neurons it drives)",
                    ))
                }
            };
            let (wdim, wrange, wwhat) = Self::weight_kind(target);
            let connectivity = match (&c.probability, &c.weight, &c.synapses) {
                (None, None, Some(path)) => {
                    files.push((i, path.clone()));
                    Connectivity::Explicit(Arc::new(Vec::new()))
                }
                (Some(p), Some(w), None) => Connectivity::FixedProbability {
                    p: self.p.field(
                        &format!("{key}.probability"),
                        p,
                        false,
                        Dim::NONE,
                        Range::closed(0.0, 1.0),
                        "the probability that a pair is connected",
                    )?,
                    weight: self.p.field(
                        &format!("{key}.weight"),
                        w,
                        false,
                        wdim,
                        wrange,
                        wwhat,
                    )?,
                },
                (_, _, Some(_)) => {
                    return Err(at(
                        origin,
                        &key,
                        "synapses and probability or weight: expected either probability and \
                         weight (random), or synapses (a Matrix Market file)",
                    ))
                }
                (p, _, None) => {
                    let missing = if p.is_none() { "probability" } else { "weight" };
                    return Err(at(
                        origin,
                        &key,
                        format!(
                            "missing {missing}: expected probability and weight (random), or \
                             synapses (a Matrix Market file)"
                        ),
                    ));
                }
            };
            let delay = match &c.delay {
                None => self.o.delay,
                Some(q) => self.delay(&format!("{key}.delay"), q)?,
            };
            net.connections.push(ConnectionSpec {
                name: c.name.clone(),
                pre,
                post,
                channel,
                delay,
                connectivity,
                plasticity: None,
            });
        }
        Ok(files)
    }

    fn delay(&self, key: &str, q: &Quantity) -> Result<f64, String> {
        let max = limits::DELAY.max * 1e-3;
        let d = self.p.field(
            key,
            q,
            false,
            Dim::TIME,
            Range::above(0.0, max),
            "the axonal delay",
        )?;
        let ratio = d / self.o.dt;
        if ratio < 1.0 - 1e-6 || (ratio - ratio.round()).abs() > 1e-6 * ratio {
            return Err(at_value(
                self.origin(),
                key,
                q,
                format!(
                    "expected a multiple of dt = {} ms (--dt), at least dt",
                    self.o.dt * 1e3
                ),
            ));
        }
        Ok(d)
    }

    /// Checks `[plastic]` (always) and, in a plastic run, gives the connections their
    /// rules; returns the priming time in seconds.
    fn plastic(&self, net: &mut Network) -> Result<f64, String> {
        let Some(pl) = &self.file.plastic else {
            return Ok(0.0);
        };
        let origin = self.origin();
        let traces = self
            .o
            .plastic
            .map_or(sim_core::TraceMode::Continuous, |t| t.mode());
        let mut rules = Vec::new();
        for (name, table) in &pl.rules {
            let key = format!("plastic.rules.{name}");
            let Some(c) = net.connections.iter().position(|c| &c.name == name) else {
                let known: Vec<&str> = net.connections.iter().map(|c| c.name.as_str()).collect();
                return Err(at(
                    origin,
                    &key,
                    format!(
                        "no connection {name:?}: expected the name of a connection of this \
                         file ({})",
                        known.join(", ")
                    ),
                ));
            };
            let weight = Self::weight_kind(&net.populations[net.connections[c].post].model);
            let (rule, v) = fields::read(self.p, &key, table, "rule", &RULES, true, weight)?;
            rules.push((c, key, fields::plasticity(rule, &v, traces)));
        }
        let file_priming = match &pl.priming {
            None => 0.0,
            Some(q) => self.p.field(
                "plastic.priming",
                q,
                true,
                Dim::TIME,
                Range::closed(0.0, limits::PRIMING.max),
                "the priming time",
            )?,
        };
        if self.o.plastic.is_none() {
            return Ok(0.0);
        }
        for (c, key, rule) in rules {
            let conn = &mut net.connections[c];
            let w_max = match rule {
                sim_core::Plasticity::Pair(r) => r.w_max,
                sim_core::Plasticity::Triplet(r) => r.w_max,
            };
            if let Connectivity::FixedProbability { weight, .. } = conn.connectivity {
                if !(0.0..=w_max).contains(&weight) {
                    let i = self
                        .file
                        .connections
                        .iter()
                        .position(|f| f.name == conn.name)
                        .expect("a connection of the file");
                    let q = self.file.connections[i].weight.as_ref().expect("random");
                    let flag = self
                        .p
                        .bindings
                        .iter()
                        .find(|b| matches!(q, Quantity::Text(t) if t.trim() == b.param))
                        .filter(|b| given_flags(self.o).iter().any(|g| g.0 == b.flag))
                        .map(|b| format!("--{} {weight}: ", b.flag))
                        .unwrap_or_default();
                    return Err(format!(
                        "{flag}{origin}: connections[{i}].weight = {q} = {weight}: connection \
                         {} is plastic, its weights live in [0, w_max = {w_max}] ({key}.w_max): \
                         expected at most {w_max} and at least 0",
                        conn.name
                    ));
                }
            }
            conn.plasticity = Some(rule);
        }
        Ok(self.o.overrides.priming.unwrap_or(file_priming))
    }
}

/// Reads the Matrix Market file of connection `i` (relative to the network file).
fn load_synapses(src: &Source, net: &mut Network, i: usize, path: &str) -> Result<(), String> {
    let key = format!("connections[{i}].synapses");
    let Some(dir) = src.dir else {
        return Err(at(
            src.origin,
            &key,
            "a built-in network file cannot refer to other files",
        ));
    };
    let path = dir.join(path);
    let spec = &net.connections[i];
    let coo = sim_core::mtx::read_pathway(
        &path,
        &spec.name,
        net.populations[spec.pre].size,
        net.populations[spec.post].size,
        crate::weights::allowed(net, spec),
    )
    .map_err(|e| at(src.origin, &key, e))?;
    net.connections[i].connectivity = Connectivity::Explicit(Arc::new(coo.entries));
    Ok(())
}
