//! Saving a Simulation to a checkpoint and restoring it, onto any partitioning.
//!
//! Every partition's components list their state ([`crate::state`]); here the pieces
//! are joined into whole arrays named `pop/<population>/<array>` and
//! `conn/<connection>/<array>`, with the engine's own: the spikes in flight
//! (`engine/spike_steps`, `engine/spike_ids`) and, in the manifest, the step, the
//! precision and the network's description. Restoring builds the network again for
//! the new context (connectivity is drawn from the seed, so it is the same) and cuts
//! every array into the new partitions' pieces.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use serde_json::{json, Value};

use super::{Context, Simulation};
use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::comm::Spike;
use crate::real::Real;
use crate::state::{Array, Layout, StateError, Values};
use crate::timers::Clock;

/// Why a checkpoint could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Store(#[from] CheckpointError),
    #[error(transparent)]
    Build(#[from] crate::engine::SimError),
    #[error("{dir}: the checkpoint is of another network: {what}")]
    Network { dir: String, what: String },
    #[error("{dir}: the checkpoint holds a {found} run, expected {expected}")]
    Precision {
        dir: String,
        found: String,
        expected: String,
    },
    #[error("{dir}: {array}: {source}")]
    State {
        dir: String,
        array: String,
        source: StateError,
    },
    #[error("{dir}: array `{array}` is no part of this network's state")]
    Unused { dir: String, array: String },
    #[error("{dir}: manifest meta: {problem}")]
    Meta { dir: String, problem: String },
    #[error(
        "{dir}: another rank could not restore the checkpoint (its error is in that rank's output)"
    )]
    OtherRank { dir: String },
}

/// The format's version of what the arrays mean (the store has its own version).
const STATE_VERSION: u64 = 1;

fn join(pieces: Vec<Array>) -> Values {
    let layout = pieces[0].layout;
    let mut it = pieces.into_iter().map(|a| a.values);
    let first = it.next().expect("at least one partition");
    if layout == Layout::Replicated {
        return first;
    }
    it.fold(first, |mut acc, v| {
        match (&mut acc, v) {
            (Values::F32(a), Values::F32(b)) => a.extend(b),
            (Values::F64(a), Values::F64(b)) => a.extend(b),
            (Values::U32(a), Values::U32(b)) => a.extend(b),
            (Values::U64(a), Values::U64(b)) => a.extend(b),
            _ => unreachable!("a component's array has one type in every partition"),
        }
        acc
    })
}

fn cut(v: &Values, r: std::ops::Range<usize>) -> Option<Values> {
    Some(match v {
        Values::F32(x) => Values::F32(x.get(r)?.to_vec()),
        Values::F64(x) => Values::F64(x.get(r)?.to_vec()),
        Values::U32(x) => Values::U32(x.get(r)?.to_vec()),
        Values::U64(x) => Values::U64(x.get(r)?.to_vec()),
    })
}

/// The first place where two JSON values differ, as a path (`populations[0].size`).
fn first_difference(a: &Value, b: &Value, path: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, format!("{path}.{k}")),
                _ => Some(format!("{path}.{k}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{path}[{i}]"))),
        _ => (a != b).then_some(path),
    }
}

impl<R: Real, K: Clock> Simulation<R, K> {
    /// Writes everything that determines the future of this simulation to the
    /// checkpoint directory `dir` (atomically: a crash while writing leaves the
    /// previous checkpoint there), with `extra` (a JSON object: what the caller needs
    /// to build the network again, e.g. its name and options) in the manifest.
    ///
    /// Under MPI every rank calls it: rank 0 gathers every rank's pieces and writes the
    /// checkpoint; every rank gets the same answer.
    pub fn save(&mut self, dir: &Path, extra: Value) -> Result<(), CheckpointError> {
        let mut arrays = self.local_arrays();
        let comm = self.pool.comm();
        if comm.size() > 1 {
            if let Some(parts) = comm.gather_bytes(&encode(&arrays)) {
                arrays = join_ranks(parts.iter().map(|p| decode(p)).collect());
            }
        }
        let written = match comm.rank() {
            0 => self.write(dir, extra, &arrays),
            _ => Ok(()),
        };
        let comm = self.pool.comm();
        if comm.size() > 1 && !comm.all_agree(written.is_ok()) && written.is_ok() {
            return Err(CheckpointError::OtherRank { path: dir.into() });
        }
        written
    }

    /// Every state array, joined over this process's partitions (this rank's share of
    /// the whole under MPI), with the spikes in flight.
    fn local_arrays(&mut self) -> Vec<(String, Option<Layout>, Values)> {
        let net = &self.net;
        let mut arrays: Vec<(String, Option<Layout>, Values)> = Vec::new();
        let mut pops: Vec<Vec<Vec<Array>>> = vec![Vec::new(); net.populations.len()];
        let mut conns: Vec<Vec<Vec<Array>>> = vec![Vec::new(); net.connections.len()];
        self.pool.each_worker(|w| {
            for (p, pieces) in pops.iter_mut().enumerate() {
                pieces.push(w.population(p).save());
            }
            for (c, pieces) in conns.iter_mut().enumerate() {
                pieces.push(w.connection(c).save());
            }
        });
        let named = pops
            .into_iter()
            .zip(&net.populations)
            .map(|(pieces, spec)| ("pop", &spec.name, pieces))
            .chain(
                conns
                    .into_iter()
                    .zip(&net.connections)
                    .map(|(pieces, spec)| ("conn", &spec.name, pieces)),
            );
        for (kind, name, pieces) in named {
            // pieces[partition][array]: regroup by array.
            let count = pieces[0].len();
            let mut by_array: Vec<Vec<Array>> = vec![Vec::new(); count];
            for piece in pieces {
                for (k, a) in piece.into_iter().enumerate() {
                    by_array[k].push(a);
                }
            }
            for group in by_array {
                let (array, layout) = (group[0].name, group[0].layout);
                arrays.push((format!("{kind}/{name}/{array}"), Some(layout), join(group)));
            }
        }
        let flying = self.pool.history().in_flight();
        arrays.push((
            "engine/spike_steps".into(),
            Some(Layout::Replicated),
            Values::U64(flying.iter().map(|s| s.step).collect()),
        ));
        arrays.push((
            "engine/spike_ids".into(),
            Some(Layout::Replicated),
            Values::U32(flying.iter().map(|s| s.gid).collect()),
        ));
        arrays
    }

    fn write(
        &self,
        dir: &Path,
        extra: Value,
        arrays: &[(String, Option<Layout>, Values)],
    ) -> Result<(), CheckpointError> {
        let net = &self.net;
        let meta = json!({
            "state_version": STATE_VERSION,
            "snn_limits": env!("CARGO_PKG_VERSION"),
            "precision": R::PRECISION,
            "step": self.step,
            "dt": net.dt,
            "seed": net.seed,
            "partitions_at_save": self.pool.partitions() * self.pool.comm().size(),
            "ranks_at_save": self.pool.comm().size(),
            "network": serde_json::to_value(net).expect("a network describes itself"),
            "extra": extra,
        });
        let refs: Vec<(&str, Option<Layout>, &Values)> =
            arrays.iter().map(|(n, l, v)| (n.as_str(), *l, v)).collect();
        checkpoint::write(dir, &meta, &refs)
    }

    /// Builds `net` for `ctx` in near-equal blocks ([`Simulation::new`]) and continues
    /// from the checkpoint in `dir`, which must have been saved from the same network
    /// (same description and seed) in the same precision; any partitioning, thread and
    /// rank count before and after. Under MPI every rank calls it and reads the
    /// checkpoint itself (the directory must be visible to every rank, as on a shared
    /// filesystem); every rank gets an error if one fails.
    pub fn restore(
        dir: &Path,
        net: &crate::model::Network,
        ctx: &Context,
        clock: K,
        record_spikes: bool,
    ) -> Result<Self, RestoreError> {
        net.check_split(ctx.total_partitions())
            .map_err(crate::engine::SimError::from)?;
        let decomposition = crate::partition::Decomposition::block(net, ctx.total_partitions());
        Self::restore_onto(dir, net, ctx, &decomposition, clock, record_spikes)
    }

    /// As [`Simulation::restore`], onto the partitions of `decomposition` (any
    /// partitioner's, e.g. [`crate::partition::Partitioner::decompose`]: a checkpoint
    /// does not depend on the partitioner it was saved under).
    pub fn restore_onto(
        dir: &Path,
        net: &crate::model::Network,
        ctx: &Context,
        decomposition: &crate::partition::Decomposition,
        clock: K,
        record_spikes: bool,
    ) -> Result<Self, RestoreError> {
        let comm = ctx.comm.clone();
        let agreed = |r: Result<Self, RestoreError>| -> Result<Self, RestoreError> {
            match (comm.size() > 1 && !comm.all_agree(r.is_ok()), r) {
                (true, Ok(_)) => Err(RestoreError::OtherRank {
                    dir: dir.display().to_string(),
                }),
                (_, r) => r,
            }
        };
        let read = checkpoint::read(dir).map_err(RestoreError::from);
        let (ck, step) = match read.and_then(|ck| Self::check(ck, net)) {
            Ok(x) => x,
            Err(e) => return agreed(Err(e)),
        };
        let built = Simulation::with_decomposition(net, ctx, decomposition, clock, record_spikes);
        let sim = agreed(built.map_err(Into::into))?;
        agreed(sim.load(ck, step))
    }

    /// The checkpoint's step, if `ck` is of `net` in this precision and version.
    fn check(
        ck: Checkpoint,
        net: &crate::model::Network,
    ) -> Result<(Checkpoint, u64), RestoreError> {
        let d = ck.path.display().to_string();
        let meta_err = |problem: &str| RestoreError::Meta {
            dir: d.clone(),
            problem: problem.into(),
        };
        if ck.meta.get("state_version").and_then(Value::as_u64) != Some(STATE_VERSION) {
            return Err(meta_err(&format!(
                "state_version is {}, expected {STATE_VERSION}",
                ck.meta.get("state_version").unwrap_or(&Value::Null)
            )));
        }
        let expected = serde_json::to_value(R::PRECISION).expect("serialisable");
        let found = ck.meta.get("precision").cloned().unwrap_or(Value::Null);
        if found != expected {
            return Err(RestoreError::Precision {
                dir: d,
                found: found.to_string(),
                expected: expected.to_string(),
            });
        }
        let mine = serde_json::to_value(net).expect("a network describes itself");
        let theirs = ck.meta.get("network").cloned().unwrap_or(Value::Null);
        if let Some(path) = first_difference(&theirs, &mine, "network".into()) {
            let at = |v: &Value| {
                path.trim_start_matches("network")
                    .split(['.', '['])
                    .filter(|s| !s.is_empty())
                    .try_fold(v, |v, key| match key.strip_suffix(']') {
                        Some(i) => v.get(i.parse::<usize>().ok()?),
                        None => v.get(key),
                    })
                    .map(Value::to_string)
                    .unwrap_or_else(|| "nothing".into())
            };
            return Err(RestoreError::Network {
                dir: d,
                what: format!(
                    "{path} is {} in the checkpoint, {} here",
                    at(&theirs),
                    at(&mine)
                ),
            });
        }
        let step = ck
            .meta
            .get("step")
            .and_then(Value::as_u64)
            .ok_or_else(|| meta_err("no `step` (a whole number)"))?;
        Ok((ck, step))
    }

    /// Cuts the checkpoint's arrays into this simulation's partitions, from `step` on.
    fn load(mut self, mut ck: Checkpoint, step: u64) -> Result<Self, RestoreError> {
        let d = ck.path.display().to_string();
        let meta_err = |problem: &str| RestoreError::Meta {
            dir: d.clone(),
            problem: problem.into(),
        };
        let net = self.net.clone();
        let sim = &mut self;
        let whole: BTreeMap<String, (Option<Layout>, Values)> = std::mem::take(&mut ck.arrays)
            .into_iter()
            .map(|s| (s.name, (s.layout, s.values)))
            .collect();
        let mut used = BTreeSet::new();
        let mut result = Ok(());
        sim.pool.each_worker(|w| {
            if result.is_err() {
                return;
            }
            let ranges = w.partition().ranges.clone();
            for (p, spec) in net.populations.iter().enumerate() {
                let prefix = format!("pop/{}", spec.name);
                let mut source = source_for(&whole, &mut used, &prefix, ranges[p].clone(), 0..0);
                if let Err(e) = w.population_mut(p).load(&mut source) {
                    result = Err(state_error(&d, &prefix, e));
                    return;
                }
            }
            for (c, spec) in net.connections.iter().enumerate() {
                let n = w.connection(c).synapse_count();
                let prefix = format!("conn/{}", spec.name);
                let neurons = ranges[spec.post].clone();
                // The partition's synapses follow those onto the neurons before its
                // own (whichever rank holds them).
                let first = synapses_before(&whole, &prefix, neurons.start);
                let synapses = first..first + n;
                let mut source = source_for(&whole, &mut used, &prefix, neurons, synapses);
                if let Err(e) = w.connection_mut(c).load(&mut source) {
                    result = Err(state_error(&d, &prefix, e));
                    return;
                }
            }
            w.set_step(step);
        });
        result?;
        let (steps, ids) = (
            engine_array(&whole, &mut used, "engine/spike_steps", &d)?,
            engine_array(&whole, &mut used, "engine/spike_ids", &d)?,
        );
        let (Values::U64(steps), Values::U32(ids)) = (steps, ids) else {
            return Err(meta_err(
                "engine/spike_steps and engine/spike_ids must be <u8 and <u4",
            ));
        };
        if steps.len() != ids.len() {
            return Err(meta_err(&format!(
                "engine/spike_steps has {} values, engine/spike_ids {}",
                steps.len(),
                ids.len()
            )));
        }
        let flying: Vec<Spike> = steps
            .into_iter()
            .zip(ids)
            .map(|(step, gid)| Spike { step, gid })
            .collect();
        sim.pool
            .history_mut()
            .restore(&flying, step)
            .map_err(|e| meta_err(&format!("engine/spike_ids: {e}")))?;
        if let Some(extra) = whole.keys().find(|k| !used.contains(*k)) {
            return Err(RestoreError::Unused {
                dir: d,
                array: extra.clone(),
            });
        }
        sim.step = step;
        Ok(self)
    }
}

/// How many synapses of the connection `prefix` end on the postsynaptic neurons before
/// `post`, by its saved `post_synapse_count` (0 if it has none: a static connection
/// saves no synapse arrays).
fn synapses_before(
    whole: &BTreeMap<String, (Option<Layout>, Values)>,
    prefix: &str,
    post: usize,
) -> usize {
    match whole.get(&format!("{prefix}/post_synapse_count")) {
        Some((_, Values::U32(counts))) => counts.iter().take(post).map(|&c| c as usize).sum(),
        _ => 0,
    }
}

/// The arrays of one rank as bytes: for each, its name, layout, type, length and
/// values (little-endian). Written by hand: sent once per checkpoint between ranks of
/// one build, so no format crate is needed, and JSON would be ~4× the size.
fn encode(arrays: &[(String, Option<Layout>, Values)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, layout, values) in arrays {
        out.extend_from_slice(&(name.len() as u64).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(match layout {
            None => 0,
            Some(Layout::Neurons) => 1,
            Some(Layout::Synapses) => 2,
            Some(Layout::Replicated) => 3,
        });
        out.extend_from_slice(&(values.len() as u64).to_le_bytes());
        match values {
            Values::F32(v) => {
                out.push(0);
                v.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
            Values::F64(v) => {
                out.push(1);
                v.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
            Values::U32(v) => {
                out.push(2);
                v.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
            Values::U64(v) => {
                out.push(3);
                v.iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
        }
    }
    out
}

/// The arrays [`encode`] wrote (by this same build, on another rank).
fn decode(mut b: &[u8]) -> Vec<(String, Option<Layout>, Values)> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (head, rest) = b.split_at(n);
        *b = rest;
        head
    }
    let u64_of = |b: &mut &[u8]| u64::from_le_bytes(take(b, 8).try_into().expect("8 bytes"));
    let mut out = Vec::new();
    while !b.is_empty() {
        let n = u64_of(&mut b) as usize;
        let name = String::from_utf8(take(&mut b, n).to_vec()).expect("a name this build wrote");
        let layout = match take(&mut b, 1)[0] {
            1 => Some(Layout::Neurons),
            2 => Some(Layout::Synapses),
            3 => Some(Layout::Replicated),
            _ => None,
        };
        let len = u64_of(&mut b) as usize;
        let kind = take(&mut b, 1)[0];
        let width = if kind % 2 == 0 { 4 } else { 8 };
        let data = take(&mut b, len * width);
        let values = match kind {
            0 => Values::F32(
                data.chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            1 => Values::F64(
                data.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            2 => Values::U32(
                data.chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
            _ => Values::U64(
                data.chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                    .collect(),
            ),
        };
        out.push((name, layout, values));
    }
    out
}

/// The whole arrays from every rank's (in rank order; every rank lists the same arrays
/// in the same order): pieces joined as their layout says.
fn join_ranks(
    ranks: Vec<Vec<(String, Option<Layout>, Values)>>,
) -> Vec<(String, Option<Layout>, Values)> {
    let mut ranks = ranks.into_iter();
    let mut whole = ranks.next().expect("rank 0's arrays");
    for rank in ranks {
        for ((name, layout, acc), (other, _, v)) in whole.iter_mut().zip(rank) {
            debug_assert_eq!(*name, other);
            if *layout == Some(Layout::Replicated) {
                continue;
            }
            match (acc, v) {
                (Values::F32(a), Values::F32(b)) => a.extend(b),
                (Values::F64(a), Values::F64(b)) => a.extend(b),
                (Values::U32(a), Values::U32(b)) => a.extend(b),
                (Values::U64(a), Values::U64(b)) => a.extend(b),
                _ => unreachable!("an array has one type on every rank"),
            }
        }
    }
    whole
}

fn state_error(dir: &str, prefix: &str, source: StateError) -> RestoreError {
    RestoreError::State {
        dir: dir.into(),
        array: prefix.into(),
        source,
    }
}

/// A component's source of pieces: its arrays `prefix/<name>` cut for a partition
/// owning `neurons` (of the population the component's per-neuron arrays are over)
/// and `synapses` (its place in the connection's whole synapse list).
fn source_for<'a>(
    whole: &'a BTreeMap<String, (Option<Layout>, Values)>,
    used: &'a mut BTreeSet<String>,
    prefix: &'a str,
    neurons: Range<usize>,
    synapses: Range<usize>,
) -> impl FnMut(&str) -> Result<Values, StateError> + 'a {
    move |array| {
        let name = format!("{prefix}/{array}");
        let (layout, v) = whole
            .get(&name)
            .ok_or_else(|| StateError::Missing { name: name.clone() })?;
        let range = match layout {
            Some(Layout::Neurons) => neurons.clone(),
            Some(Layout::Synapses) => synapses.clone(),
            Some(Layout::Replicated) | None => 0..v.len(),
        };
        let piece = cut(v, range.clone()).ok_or(StateError::Length {
            name: name.clone(),
            expected: range.end,
            found: v.len(),
        })?;
        used.insert(name);
        Ok(piece)
    }
}

fn engine_array(
    whole: &BTreeMap<String, (Option<Layout>, Values)>,
    used: &mut BTreeSet<String>,
    name: &str,
    dir: &str,
) -> Result<Values, RestoreError> {
    let (_, v) = whole.get(name).ok_or_else(|| RestoreError::Meta {
        dir: dir.into(),
        problem: format!("array `{name}` is missing"),
    })?;
    used.insert(name.into());
    Ok(v.clone())
}

impl<R: Real, K: Clock> Simulation<R, K> {
    /// The names of every state array, as in a checkpoint (`pop/E/v`,
    /// `conn/EE/weight`, …), with their layouts.
    pub fn array_names(&mut self) -> Vec<(String, Layout)> {
        let net = self.net.clone();
        let mut out = Vec::new();
        self.pool.each_worker(|w| {
            if !out.is_empty() {
                return;
            }
            for (p, spec) in net.populations.iter().enumerate() {
                for a in w.population(p).save() {
                    out.push((format!("pop/{}/{}", spec.name, a.name), a.layout));
                }
            }
            for (c, spec) in net.connections.iter().enumerate() {
                for a in w.connection(c).save() {
                    out.push((format!("conn/{}/{}", spec.name, a.name), a.layout));
                }
            }
        });
        out
    }

    /// The whole array `name` (see [`Simulation::array_names`]) joined over the
    /// partitions: neuron state, weights in (post, pre) order, traces, rates in force.
    pub fn array(&mut self, name: &str) -> Result<Values, String> {
        let (target, array) = self.component(name)?;
        let mut pieces = Vec::new();
        self.pool.each_worker(|w| {
            let saved = match target {
                Target::Pop(p) => w.population(p).save(),
                Target::Conn(c) => w.connection(c).save(),
            };
            pieces.extend(saved.into_iter().filter(|a| a.name == array));
        });
        if pieces.is_empty() {
            return Err(self.unknown(name));
        }
        Ok(join(pieces))
    }

    /// Replaces the whole array `name` (e.g. `conn/EE/weight` in (post, pre) order,
    /// `pop/E/v`, `pop/P/rate`) from the next step on; the rest of the state is kept.
    /// The values must have the array's type and length; nothing changes otherwise.
    pub fn set_array(&mut self, name: &str, values: Values) -> Result<(), String> {
        let current = self.array(name)?;
        if current.kind() != values.kind() || current.len() != values.len() {
            return Err(format!(
                "{name}: {} values of type {}, expected {} of type {}",
                values.len(),
                values.kind(),
                current.len(),
                current.kind()
            ));
        }
        let (target, array) = self.component(name)?;
        let post = match target {
            Target::Pop(p) => p,
            Target::Conn(c) => self.net.connections[c].post,
        };
        let mut synapses_before = 0;
        let mut result = Ok(());
        self.pool.each_worker(|w| {
            if result.is_err() {
                return;
            }
            let neurons = w.partition().ranges[post].clone();
            let saved = match target {
                Target::Pop(p) => w.population(p).save(),
                Target::Conn(c) => w.connection(c).save(),
            };
            let n_syn = match target {
                Target::Conn(c) => w.connection(c).synapse_count(),
                Target::Pop(_) => 0,
            };
            let synapses = synapses_before..synapses_before + n_syn;
            synapses_before += n_syn;
            let layout = saved.iter().find(|a| a.name == array).map(|a| a.layout);
            let mut own: BTreeMap<&str, Values> =
                saved.into_iter().map(|a| (a.name, a.values)).collect();
            let piece = match layout {
                Some(Layout::Neurons) => cut(&values, neurons),
                Some(Layout::Synapses) => cut(&values, synapses),
                _ => Some(values.clone()),
            };
            own.insert(array, piece.expect("lengths checked above"));
            let mut source = |n: &str| {
                own.get(n)
                    .cloned()
                    .ok_or_else(|| StateError::Missing { name: n.into() })
            };
            let r = match target {
                Target::Pop(p) => w.population_mut(p).load(&mut source),
                Target::Conn(c) => w.connection_mut(c).load(&mut source),
            };
            result = r.map_err(|e| format!("{name}: {e}"));
        });
        result
    }

    fn component<'n>(&self, name: &'n str) -> Result<(Target, &'n str), String> {
        let mut parts = name.splitn(3, '/');
        let (kind, comp, array) = (parts.next(), parts.next(), parts.next());
        let target = match (kind, comp) {
            (Some("pop"), Some(c)) => self
                .net
                .populations
                .iter()
                .position(|p| p.name == c)
                .map(Target::Pop),
            (Some("conn"), Some(c)) => self
                .net
                .connections
                .iter()
                .position(|p| p.name == c)
                .map(Target::Conn),
            _ => None,
        };
        match (target, array) {
            (Some(t), Some(a)) => Ok((t, a)),
            _ => Err(format!(
                "{name}: expected pop/<population>/<array> or conn/<connection>/<array>"
            )),
        }
    }

    fn unknown(&mut self, name: &str) -> String {
        let names: Vec<String> = self.array_names().into_iter().map(|(n, _)| n).collect();
        format!(
            "{name}: no such state array; there are {}",
            names.join(", ")
        )
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Pop(usize),
    Conn(usize),
}
