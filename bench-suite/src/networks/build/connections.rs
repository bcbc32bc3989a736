//! The connections of a network file, and its plastic variant.

use std::sync::Arc;

use sim_core::model::NeuronModel;
use sim_core::{Channel, ConnectionSpec, Connectivity, Network};

use super::{check_name, given_flags, Builder, Source};
use crate::limits;
use crate::networks::expr::Dim;
use crate::networks::fields::{self, RULES};
use crate::networks::file::{self, Quantity};
use crate::networks::params::{at, at_value, Range};

impl Builder<'_> {
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
    pub(super) fn connections(&self, net: &mut Network) -> Result<Vec<(usize, String)>, String> {
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
    pub(super) fn plastic(&self, net: &mut Network) -> Result<f64, String> {
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
pub(super) fn load_synapses(
    src: &Source,
    net: &mut Network,
    i: usize,
    path: &str,
) -> Result<(), String> {
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
