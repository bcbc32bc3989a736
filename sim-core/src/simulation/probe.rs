//! Weight probes: a few chosen synapses' weights and a histogram of all of a plastic
//! connection's weights, without gathering or sorting its synapse list (what a weight
//! monitor reads every interval; [`Simulation::synapses`] copies and sorts every
//! synapse, ≈ 20 M for zenke25k's E→E).

use super::Simulation;
use crate::comm::Spike;
use crate::real::Real;
use crate::timers::Clock;

/// What [`Simulation::probe_weights`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightProbe {
    /// The connection's synapses, every rank's (on every rank).
    pub synapses: u64,
    /// For each position asked for, in its order: (pre, post, weight), pre and post
    /// indices within their populations (on rank 0; empty on the others).
    pub sampled: Vec<(u32, u32, f64)>,
    /// Synapses per bin; they sum to `synapses` (on rank 0; empty on the others).
    pub counts: Vec<u64>,
}

impl<R: Real, K: Clock> Simulation<R, K> {
    /// Probes plastic connection `c`: the synapses at positions `at` (strictly
    /// ascending, each below the synapse count) of the list of [`Simulation::synapses`]
    /// (ordered by (post, pre); the same for any partitioning), and a histogram of all
    /// its weights in `bins` equal bins over [0, `top`] (the last bin includes `top`;
    /// a weight below 0 counts in the first bin, one above `top` in the last). Under
    /// MPI every rank calls it; rank 0 gets the whole connection's probe, the others
    /// only its synapse count. A static connection, or a position beyond the synapses,
    /// is an error (on every rank alike).
    pub fn probe_weights(
        &mut self,
        c: usize,
        at: &[u64],
        bins: usize,
        top: f64,
    ) -> Result<WeightProbe, String> {
        let spec = self
            .net
            .connections
            .get(c)
            .ok_or_else(|| format!("connection {c}: no such connection"))?;
        let name = spec.name.clone();
        if spec.plasticity.is_none() {
            return Err(format!(
                "{name}: a static connection: expected a plastic one"
            ));
        }
        if bins == 0 || !(top.is_finite() && top > 0.0) {
            return Err(format!(
                "{name}: a histogram of {bins} bins over [0, {top}]: expected at least one \
                 bin and a finite upper end > 0"
            ));
        }
        if let Some(w) = at.windows(2).find(|w| w[0] >= w[1]) {
            return Err(format!(
                "{name}: positions {} then {}: expected strictly ascending positions",
                w[0], w[1]
            ));
        }
        let post = spec.post;
        let n_post = self.net.populations[post].size;
        // Every neuron's in-degree, from every rank: (count, post) as (step, gid).
        let mut mine = Vec::new();
        self.pool.each_worker(|w| {
            let first = w.partition().ranges[post].start;
            let counts = w.connection(c).post_counts().unwrap_or_default();
            mine.extend(counts.iter().enumerate().map(|(j, &n)| Spike {
                step: n as u64,
                gid: (first + j) as u32,
            }));
        });
        let mut buf = Vec::new();
        let mut start = vec![0u64; n_post + 1];
        for s in self.pool.comm().allgather(&mine, &mut buf) {
            start[s.gid as usize + 1] = s.step;
        }
        for j in 0..n_post {
            start[j + 1] += start[j];
        }
        let total = start[n_post];
        if let Some(&p) = at.last().filter(|&&p| p >= total) {
            return Err(format!(
                "{name}: position {p}: expected positions below its {total} synapses"
            ));
        }
        // Each position as (post, k-th synapse onto it).
        let wanted: Vec<(usize, u64)> = at
            .iter()
            .map(|&p| {
                let j = start.partition_point(|&s| s <= p) - 1;
                (j, p - start[j])
            })
            .collect();
        // This rank's: (index in `at`, pre, post, weight), and its histogram.
        let mut found: Vec<(u32, u32, u32, f64)> = Vec::new();
        let mut counts = vec![0u64; bins];
        let scale = bins as f64 / top;
        self.pool.each_worker(|w| {
            let range = w.partition().ranges[post].clone();
            let conn = w.connection(c);
            for (i, &(j, k)) in wanted.iter().enumerate() {
                if range.contains(&j) {
                    if let Some((pre, x)) = conn.onto(j - range.start, k as usize) {
                        found.push((i as u32, pre, j as u32, x.to_f64()));
                    }
                }
            }
            for x in conn.weights().unwrap_or_default() {
                // `as` saturates: below 0 (and NaN) is bin 0.
                let b = (x.to_f64() * scale) as usize;
                counts[b.min(bins - 1)] += 1;
            }
        });
        let comm = self.pool.comm();
        if comm.size() > 1 {
            let mut bytes = Vec::with_capacity(8 * bins + 20 * found.len());
            for n in &counts {
                bytes.extend_from_slice(&n.to_le_bytes());
            }
            for &(i, pre, j, x) in &found {
                for v in [i, pre, j] {
                    bytes.extend_from_slice(&v.to_le_bytes());
                }
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            let Some(parts) = comm.gather_bytes(&bytes) else {
                return Ok(WeightProbe {
                    synapses: total,
                    sampled: Vec::new(),
                    counts: Vec::new(),
                });
            };
            counts.iter_mut().for_each(|n| *n = 0);
            found.clear();
            for part in parts {
                let (head, rest) = part.split_at(8 * bins);
                for (n, b) in counts.iter_mut().zip(head.chunks_exact(8)) {
                    *n += u64::from_le_bytes(b.try_into().expect("8 bytes"));
                }
                for e in rest.chunks_exact(20) {
                    let u = |k: usize| u32::from_le_bytes(e[k..k + 4].try_into().expect("4"));
                    let x = f64::from_le_bytes(e[12..20].try_into().expect("8 bytes"));
                    found.push((u(0), u(4), u(8), x));
                }
            }
        }
        let mut sampled = vec![None; at.len()];
        for (i, pre, j, x) in found {
            sampled[i as usize] = Some((pre, j, x));
        }
        let sampled = sampled
            .into_iter()
            .zip(at)
            .map(|(s, p)| s.ok_or_else(|| format!("{name}: no partition holds synapse {p}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WeightProbe {
            synapses: total,
            sampled,
            counts,
        })
    }
}
