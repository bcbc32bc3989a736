//! Weight monitors (`--monitor weights:CONN:N:INTERVAL`): a fixed random sample of N
//! synapses of the plastic connection CONN, and a histogram of all its weights, every
//! INTERVAL of model time from the run's first step, and at its end.
//!
//! Files, in the monitor directory:
//! - `weights-CONN.npy`: float64, (samples, N): the sampled synapses' weights, one row
//!   per sample, the columns in the order of the synapses file;
//! - `weights-CONN-synapses.npy`: int64, (N, 2): each sampled synapse's (pre, post),
//!   indices within their populations (as in the weight files of `--save-weights`, but
//!   0-based), ordered by (post, pre);
//! - `weights-CONN-hist.npy`: int64, (samples, [`BINS`]): synapses per bin of equal
//!   width over [0, w_max] of the connection's rule (the last bin includes w_max; a
//!   weight outside the range counts in the nearest end bin); each row sums to the
//!   connection's synapse count.
//!
//! Row k is the state before step `first + k · INTERVAL` (row 0: the weights the run
//! starts from); the last row is the state at the run's end (whether or not that is
//! a whole number of intervals; no row twice for one step).
//!
//! The sample: N distinct positions of the connection's synapse list in (post, pre)
//! order (the list of `Simulation::synapses`, the same for any partitioning), drawn
//! by Floyd's algorithm from counter-based random numbers keyed by the network's
//! seed and the connection's index; all of them when N is at least the synapse count.
//! The same seed draws the same sample for any thread, partition or rank count.
//! Reading it costs a lookup per sampled synapse and one pass over the weights for the
//! histogram (`Simulation::probe_weights`), not a copy of every synapse; under MPI
//! every rank probes its own synapses and rank 0 gathers and writes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sim_core::model::Plasticity;
use sim_core::rng::CounterRng;
use sim_core::simulation::WeightProbe;
use sim_core::timers::Clock;
use sim_core::{Network, Real, Simulation};

use super::stream::{self, Descr, Layout, Rows, Writer};
use super::MonitorSpec;

/// Bins of every weight histogram.
pub const BINS: usize = 100;

/// The random stream of weight samples (keyed by the connection's index).
const SAMPLE_STREAM: u32 = 0x5A3D_0001;

/// The index of the plastic connection a weight monitor watches, and its rule's w_max;
/// an unknown or static connection is an error naming the plastic ones.
pub fn connection(spec: &MonitorSpec, net: &Network) -> Result<(usize, f64), String> {
    let plastic: Vec<&str> = net
        .connections
        .iter()
        .filter(|c| c.plasticity.is_some())
        .map(|c| c.name.as_str())
        .collect();
    let which = match plastic.is_empty() {
        true => format!(
            "network '{}' has no plastic connection (brunel and zenke25k have one with \
             --plastic)",
            net.name
        ),
        false => format!("its plastic connections: {}", plastic.join(", ")),
    };
    let written = spec.written();
    let Some(c) = net.connections.iter().position(|c| c.name == spec.what) else {
        return Err(format!(
            "--monitor {written}: no connection {} in network '{}'; {which}",
            spec.what, net.name
        ));
    };
    match net.connections[c].plasticity {
        Some(Plasticity::Pair(r)) => Ok((c, r.w_max)),
        Some(Plasticity::Triplet(r)) => Ok((c, r.w_max)),
        None => Err(format!(
            "--monitor {written}: connection {} is static: a weight monitor watches a \
             plastic connection; {which}",
            spec.what
        )),
    }
}

/// The files a weight monitor of connection `what` writes.
pub fn file_names(what: &str) -> [String; 3] {
    [
        format!("weights-{what}.npy"),
        format!("weights-{what}-synapses.npy"),
        format!("weights-{what}-hist.npy"),
    ]
}

/// N distinct positions below `total`, ascending (all of them if N >= total).
fn draw(seed: u64, c: usize, n: u64, total: u64) -> Vec<u64> {
    if n >= total {
        return (0..total).collect();
    }
    let rng = CounterRng::new(seed);
    let mut chosen = BTreeSet::new();
    for (i, j) in (total - n..total).enumerate() {
        let w = rng.block(c as u32, SAMPLE_STREAM, i as u64);
        let x = (w[0] as u64) << 32 | w[1] as u64;
        // Uniform in [0, j] (the bias of the multiply-shift is below 2^-32).
        let t = ((x as u128 * (j as u128 + 1)) >> 64) as u64;
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.into_iter().collect()
}

/// Rank 0's side of one monitor: its row streams.
struct Files {
    weights: Rows,
    hist: Rows,
    writers: Vec<Writer>,
}

/// One weight monitor.
struct One {
    c: usize,
    top: f64,
    positions: Vec<u64>,
    every: u64,
    /// The next step a row is due at, and the step of the last row written.
    next: u64,
    last: u64,
    files: Option<Files>,
}

impl One {
    /// Probes and (rank 0) writes a row for the current step.
    fn row<R: Real, K: Clock>(&mut self, sim: &mut Simulation<R, K>) -> Result<(), String> {
        let p = sim.probe_weights(self.c, &self.positions, BINS, self.top)?;
        self.write(&p, sim.step());
        Ok(())
    }

    /// Writes (rank 0) the row of probe `p` of `step`.
    fn write(&mut self, p: &WeightProbe, step: u64) {
        self.last = step;
        if let Some(f) = &self.files {
            let w: Vec<u8> = p.sampled.iter().flat_map(|s| s.2.to_le_bytes()).collect();
            let h: Vec<u8> = p
                .counts
                .iter()
                .flat_map(|&n| (n as i64).to_le_bytes())
                .collect();
            // A writer that failed has hung up: its error comes at the end.
            let _ = f.weights.send((w, 1));
            let _ = f.hist.send((h, 1));
        }
    }
}

/// A run's weight monitors (every rank has them: probing is collective; rank 0 writes).
#[derive(Default)]
pub struct Weights {
    list: Vec<One>,
}

impl Weights {
    /// Starts the weight monitors among `specs` (others are skipped) on `sim` at its
    /// current step: draws each sample, writes (rank 0, `root`) the synapses file and
    /// the first row. `dir` is the monitor directory (rank 0).
    pub fn start<R: Real, K: Clock>(
        specs: &[MonitorSpec],
        dir: Option<&Path>,
        sim: &mut Simulation<R, K>,
        root: bool,
        force: bool,
    ) -> Result<Weights, String> {
        let mut list = Vec::new();
        let mine: Vec<&MonitorSpec> = specs.iter().filter(|s| s.kind == "weights").collect();
        if let (Some(dir), true, false) = (dir, root, mine.is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("--monitor-dir {}: cannot create it: {e}", dir.display()))?;
        }
        for spec in mine {
            let net = sim.network();
            let (c, top) = connection(spec, net)?;
            let seed = net.seed;
            let every = spec.every_steps(net.dt)?;
            let n = spec.sample.unwrap_or(0);
            let total = sim.probe_weights(c, &[], BINS, top)?.synapses;
            let positions = draw(seed, c, n, total);
            let files = match (root, dir) {
                (true, Some(dir)) => {
                    let [w, s, h] = file_names(&spec.what).map(|f| dir.join(f));
                    let cols = positions.len() as u64;
                    let what = format!("--monitor {}", spec.written());
                    let f64s = |cols| Layout::matrix(Descr::F8, cols);
                    let i64s = |cols| Layout::matrix(Descr::I8, cols);
                    // A sample of 0 synapses (an empty connection) has no columns: one.
                    let (wt, ww) = stream::start(&w, f64s(cols.max(1)), force, &what)?;
                    let (st, sw) = stream::start(&s, i64s(2), force, &what)?;
                    let (ht, hw) = stream::start(&h, i64s(BINS as u64), force, &what)?;
                    Some((
                        Files {
                            weights: wt,
                            hist: ht,
                            writers: vec![ww, sw, hw],
                        },
                        st,
                    ))
                }
                _ => None,
            };
            let step = sim.step();
            let mut one = One {
                c,
                top,
                positions,
                every,
                next: step + every,
                last: step,
                files: None,
            };
            let first = sim.probe_weights(c, &one.positions, BINS, top)?;
            if let Some((files, synapses)) = files {
                let rows: Vec<u8> = first
                    .sampled
                    .iter()
                    .flat_map(|&(pre, post, _)| [pre as i64, post as i64])
                    .flat_map(i64::to_le_bytes)
                    .collect();
                let _ = synapses.send((rows, first.sampled.len() as u64));
                one.files = Some(files);
            }
            one.write(&first, step);
            list.push(one);
        }
        Ok(Weights { list })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The next step a row is due at, if any monitor runs.
    pub fn next_due(&self) -> Option<u64> {
        self.list.iter().map(|m| m.next).min()
    }

    /// At a pause: the rows due at the current step.
    pub fn at_pause<R: Real, K: Clock>(
        &mut self,
        sim: &mut Simulation<R, K>,
    ) -> Result<(), String> {
        let step = sim.step();
        for m in &mut self.list {
            if step >= m.next {
                m.row(sim)?;
                // The next multiple of the interval after this step.
                m.next += (step - m.next) / m.every * m.every + m.every;
            }
        }
        Ok(())
    }

    /// The end of the run: a last row where the last one is not of this step; then the
    /// files are completed and moved into place (rank 0). Returns them with their rows.
    pub fn finish<R: Real, K: Clock>(
        self,
        sim: &mut Simulation<R, K>,
    ) -> Result<Vec<(PathBuf, u64)>, String> {
        let mut done = Vec::new();
        let mut first_error = None;
        for mut m in self.list {
            if m.last != sim.step() {
                if let Err(e) = m.row(sim) {
                    first_error.get_or_insert(e);
                }
            }
            if let Some(f) = m.files.take() {
                drop((f.weights, f.hist));
                for w in f.writers {
                    match w.finish() {
                        Ok(d) => done.push(d),
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_sorted_and_reproducible() {
        let a = draw(7, 0, 1000, 20_000_000);
        assert_eq!(a.len(), 1000);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert!(*a.last().unwrap() < 20_000_000);
        assert_eq!(a, draw(7, 0, 1000, 20_000_000));
        assert_ne!(a, draw(8, 0, 1000, 20_000_000), "another seed");
        assert_ne!(a, draw(7, 1, 1000, 20_000_000), "another connection");
        // Spread over the list, not bunched at one end.
        let low = a.iter().filter(|&&p| p < 10_000_000).count();
        assert!((400..600).contains(&low), "{low} of 1000 in the first half");
        assert_eq!(draw(1, 0, 10, 4), vec![0, 1, 2, 3]);
        assert_eq!(draw(1, 0, 4, 4), vec![0, 1, 2, 3]);
        let b = draw(1, 0, 3, 4);
        assert_eq!(b.len(), 3);
        assert!(draw(1, 0, 5, 0).is_empty());
    }

    /// Floyd's algorithm draws every subset alike: each position of 0..6 is in a
    /// sample of 3 half the time, over many seeds.
    #[test]
    fn every_position_is_as_likely() {
        let mut hits = [0u32; 6];
        for seed in 0..6000 {
            for p in draw(seed, 0, 3, 6) {
                hits[p as usize] += 1;
            }
        }
        for (p, &h) in hits.iter().enumerate() {
            assert!((2800..3200).contains(&h), "position {p}: {h} of 6000");
        }
    }
}
