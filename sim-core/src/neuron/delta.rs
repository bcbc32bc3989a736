//! Current-based integrate-and-fire neuron with delta synapses and exact integration
//! (NEST's `iaf_psc_delta`), with an optional external Poisson drive per neuron: the
//! neuron of the Brunel (2000) network.
//!
//! `τ_m dV/dt = −(V − E_L)`; a presynaptic spike makes V jump by its weight. Between
//! steps the decay is exact, `V ← E_L + (V − E_L)·e^{−dt/τ_m}`, then the step's input is
//! added and the threshold tested (V ≥ θ → spike, V = V_reset, clamped for the
//! refractory period; input arriving meanwhile is lost, as in NEST). Spikes delivered
//! by `propagate` at step s act in the update of step s + 1, as for the COBA neuron.

use crate::model::DeltaParams;
use crate::real::Real;
use crate::rng::{stream, CounterRng};
use crate::state::{Array, Source, StateError};

use super::{neurons, replicated_u64, take_reals, take_u64};

#[derive(Debug, Clone, Copy)]
struct Constants<R> {
    decay: R,
    e_leak: R,
    v_reset: R,
    threshold: R,
    refractory_steps: R,
    ext_weight: R,
}

#[derive(Debug, Clone)]
pub struct Delta<R> {
    pub v: Vec<R>,
    /// Input (V jumps) received for the next update.
    pub input: Vec<R>,
    pub refractory: Vec<R>,
    k: Constants<R>,
    /// External drive: cumulative Poisson probabilities of 0, 1, 2… inputs per step,
    /// scaled to 32-bit integers to compare with raw random words (empty without drive).
    ext_cdf: Vec<u32>,
    rng: CounterRng,
    first_gid: u32,
    step: u64,
    /// Scratch: this step's Philox blocks.
    blocks: Vec<[u32; 4]>,
}

impl<R: Real> Delta<R> {
    pub fn new(p: &DeltaParams, dt: f64, v0: Vec<R>, first_gid: usize, rng: &CounterRng) -> Self {
        let n = v0.len();
        Delta {
            v: v0,
            input: vec![R::ZERO; n],
            refractory: vec![R::ZERO; n],
            k: Constants {
                decay: R::of((-dt / p.tau_m).exp()),
                e_leak: R::of(p.e_leak),
                v_reset: R::of(p.v_reset),
                threshold: R::of(p.threshold),
                refractory_steps: R::of((p.refractory / dt).round()),
                ext_weight: R::of(p.ext_weight),
            },
            ext_cdf: poisson_cdf(p.ext_rate * dt),
            rng: *rng,
            first_gid: first_gid as u32,
            step: 0,
            blocks: Vec::new(),
        }
    }

    /// Adds this step's external Poisson inputs. One Philox block (four 32-bit words)
    /// serves four consecutive neurons: the block is keyed by gid / 4, so any worker
    /// owning a neuron draws the same word for it. The blocks are drawn in a pass of
    /// their own, 16 at a time ([`CounterRng::blocks`], vectorised), and each count is
    /// a branch-free sum of comparisons against the cumulative probabilities, taken one
    /// probability at a time over all neurons, so that this loop too runs across
    /// neurons and vectorises (README, performance notes).
    fn drive(&mut self) {
        if self.ext_cdf.is_empty() || self.v.is_empty() {
            return;
        }
        let first_block = self.first_gid >> 2;
        let last_block = (self.first_gid + self.v.len() as u32 - 1) >> 2;
        let (rng, step) = (self.rng, self.step);
        self.blocks.clear();
        rng.blocks(
            first_block..last_block + 1,
            stream::EXTERNAL_DRIVE,
            step,
            &mut self.blocks,
        );
        let n = self.v.len();
        let offset = (self.first_gid & 3) as usize;
        let words = &self.blocks.as_flattened()[offset..offset + n];
        // 64 neurons at a time, so that their counts stay in registers over the table.
        const CHUNK: usize = 64;
        for (inputs, words) in self.input.chunks_mut(CHUNK).zip(words.chunks(CHUNK)) {
            let mut counts = [0u32; CHUNK];
            for &f in &self.ext_cdf {
                for (count, &word) in counts.iter_mut().zip(words) {
                    *count += (word >= f) as u32;
                }
            }
            for (input, &count) in inputs.iter_mut().zip(&counts) {
                *input += R::of(count as f64) * self.k.ext_weight;
            }
        }
    }

    #[inline]
    pub fn evolve(&mut self, spiked: &mut Vec<u32>) {
        self.drive();
        let k = self.k;
        let n = self.v.len();
        let (v, input, re) = (
            &mut self.v[..n],
            &mut self.input[..n],
            &mut self.refractory[..n],
        );
        for i in 0..n {
            let integrated = k.e_leak + (v[i] - k.e_leak) * k.decay + input[i];
            let r = re[i];
            v[i] = if r > R::ZERO { k.v_reset } else { integrated };
            let r1 = r - R::ONE;
            re[i] = if r1 > R::ZERO { r1 } else { R::ZERO };
            input[i] = R::ZERO;
        }
        const LANES: usize = 16;
        for (c, (vc, rc)) in v.chunks_mut(LANES).zip(re.chunks_mut(LANES)).enumerate() {
            if vc.iter().fold(false, |any, &x| any | (x >= k.threshold)) {
                for (j, (x, r)) in vc.iter_mut().zip(rc.iter_mut()).enumerate() {
                    if *x >= k.threshold {
                        *x = k.v_reset;
                        *r = k.refractory_steps;
                        spiked.push((c * LANES + j) as u32);
                    }
                }
            }
        }
        self.step += 1;
    }
}

impl<R: Real> Delta<R> {
    /// Per neuron: V, the input pending for the next update, the refractory counter.
    /// Replicated: the step counter, which keys the external drive's draws (every
    /// partition counts the same steps).
    pub fn save(&self) -> Vec<Array> {
        vec![
            neurons("v", &self.v),
            neurons("input", &self.input),
            neurons("refractory", &self.refractory),
            replicated_u64("step", vec![self.step]),
        ]
    }

    pub fn load(&mut self, source: &mut Source) -> Result<(), StateError> {
        let n = self.v.len();
        let v = take_reals(source, "v", n)?;
        let input = take_reals(source, "input", n)?;
        let refractory = take_reals(source, "refractory", n)?;
        let step = take_u64(source, "step", 1)?[0];
        (self.v, self.input, self.refractory, self.step) = (v, input, refractory, step);
        Ok(())
    }
}

/// Cumulative Poisson(λ) probabilities P(N ≤ k) · 2³², for k = 0, 1, … while below
/// 2³² (a uniform 32-bit word w gives N = #{k : w ≥ cdf[k]}); empty for λ = 0.
fn poisson_cdf(lambda: f64) -> Vec<u32> {
    if lambda <= 0.0 {
        return Vec::new();
    }
    let mut cdf = Vec::new();
    let (mut p, mut total) = ((-lambda).exp(), 0.0);
    for k in 1..10_000 {
        total += p;
        let scaled = (total * 4_294_967_296.0).round();
        if scaled >= 4_294_967_296.0 {
            break;
        }
        cdf.push(scaled as u32);
        p *= lambda / k as f64;
    }
    cdf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(ext_rate: f64) -> DeltaParams {
        DeltaParams::brunel(ext_rate, 0.1e-3)
    }

    /// Without input V decays exactly: V(k·dt) = V0·e^{−k·dt/τ}; an input jump is added
    /// in the next update; crossing θ resets and clamps for 2 ms = 20 steps.
    #[test]
    fn exact_decay_jump_threshold_and_refractory_clamp() {
        let p = params(0.0);
        let mut n = Delta::<f64>::new(&p, 1e-4, vec![15e-3], 0, &CounterRng::new(1));
        let mut s = Vec::new();
        for _ in 0..100 {
            n.evolve(&mut s);
        }
        let expected = 15e-3 * (-100.0 * 1e-4 / 20e-3f64).exp();
        assert!(
            (n.v[0] - expected).abs() < 1e-15,
            "{} vs {expected}",
            n.v[0]
        );
        n.input[0] = 1e-3;
        n.evolve(&mut s);
        assert!((n.v[0] - (expected * (-1e-4 / 20e-3f64).exp() + 1e-3)).abs() < 1e-15);
        n.input[0] = 30e-3;
        n.evolve(&mut s);
        assert_eq!(s, vec![0], "a jump above θ spikes in the same update");
        assert_eq!(n.v[0], p.v_reset);
        for step in 0..20 {
            n.input[0] = 5e-3;
            s.clear();
            n.evolve(&mut s);
            assert_eq!(n.v[0], p.v_reset, "clamped, input lost, step {step}");
        }
        n.evolve(&mut s);
        assert!(n.v[0] < p.v_reset, "decays again after 2 ms");
    }

    /// The drive's mean and variance per step are λ·J and λ·J² (Poisson counts).
    #[test]
    fn external_drive_is_poisson() {
        let p = params(20_000.0);
        let mut n = Delta::<f64>::new(&p, 1e-4, vec![0.0; 1000], 40, &CounterRng::new(3));
        let mut counts = Vec::new();
        for _ in 0..200 {
            n.drive();
            counts.extend(n.input.iter().map(|&x| (x / 0.1e-3).round()));
            n.input.iter_mut().for_each(|x| *x = 0.0);
            n.step += 1;
        }
        let m = counts.iter().sum::<f64>() / counts.len() as f64;
        let var = counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / counts.len() as f64;
        assert!((m - 2.0).abs() < 0.02, "mean {m}");
        assert!((var - 2.0).abs() < 0.05, "variance {var}");
        let cdf = poisson_cdf(2.0);
        assert_eq!(cdf[0], ((-2.0f64).exp() * 4_294_967_296.0).round() as u32);
        assert!(cdf.windows(2).all(|w| w[0] < w[1]));
    }

    /// Each neuron's count is the inversion of its own word (word gid mod 4 of the block
    /// gid / 4), whatever the slice's alignment to the blocks.
    #[test]
    fn each_count_inverts_the_neurons_own_word() {
        let p = params(20_000.0);
        let rng = CounterRng::new(9);
        let mut n = Delta::<f64>::new(&p, 1e-4, vec![0.0; 13], 6, &rng);
        n.step = 17;
        n.drive();
        let mut nonzero = 0;
        for (i, &x) in n.input.iter().enumerate() {
            let gid = 6 + i as u32;
            let word = rng.block(gid >> 2, stream::EXTERNAL_DRIVE, 17)[(gid & 3) as usize];
            let expected = n.ext_cdf.iter().filter(|&&f| word >= f).count();
            assert_eq!((x / 0.1e-3).round() as usize, expected, "neuron {i}");
            nonzero += (expected > 0) as usize;
        }
        assert!(nonzero > 0, "λ = 2: some neuron gets input");
    }

    /// The drive of a neuron does not depend on where its slice starts.
    #[test]
    fn drive_does_not_depend_on_the_split() {
        let p = params(20_000.0);
        let rng = CounterRng::new(5);
        let mut whole = Delta::<f32>::new(&p, 1e-4, vec![0.0; 10], 100, &rng);
        let mut part = Delta::<f32>::new(&p, 1e-4, vec![0.0; 7], 103, &rng);
        for _ in 0..50 {
            whole.drive();
            part.drive();
            whole.step += 1;
            part.step += 1;
        }
        assert_eq!(&whole.input[3..], &part.input[..]);
    }
}
