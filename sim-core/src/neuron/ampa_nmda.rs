//! Conductance-based integrate-and-fire neuron with AMPA, NMDA and GABA inputs and a
//! dynamic threshold: the neuron of the 25 k network of Zenke et al. 2013 (paper
//! §2.3.2). Conductances are in units of the leak conductance.
//!
//! `τ_m dV/dt = (E_L − V) − (a·g_ampa + (1−a)·g_nmda)·V − g_gaba·(V − E_i)` (excitatory
//! reversal 0 V) by forward Euler, V clipped to [E_i, 0]; `g_ampa`, `g_gaba` decay
//! exactly; `g_nmda` low-passes `g_ampa` with τ_nmda. A spike when V > θ + θ_dyn resets
//! V and sets θ_dyn to its spike value; θ_dyn decays exactly — the refractoriness — and
//! is set to 0 once far too small to change `θ + θ_dyn` (see `evolve`).

use crate::model::AmpaNmdaParams;
use crate::real::Real;
use crate::state::{Array, Source, StateError};

use super::{neurons, take_reals};

#[derive(Debug, Clone, Copy)]
struct Constants<R> {
    dt_over_tau: R,
    e_leak: R,
    e_inh: R,
    v_reset: R,
    v_max: R,
    threshold: R,
    ampa_share: R,
    nmda_share: R,
    decay_ampa: R,
    decay_gaba: R,
    nmda_step: R,
    decay_theta: R,
    theta_spike: R,
    /// |θ_dyn| below this is set to 0 (see `evolve`).
    theta_floor: R,
}

#[derive(Debug, Clone)]
pub struct AmpaNmda<R> {
    pub v: Vec<R>,
    pub g_ampa: Vec<R>,
    pub g_nmda: Vec<R>,
    pub g_gaba: Vec<R>,
    pub theta: Vec<R>,
    k: Constants<R>,
}

impl<R: Real> AmpaNmda<R> {
    pub fn new(p: &AmpaNmdaParams, dt: f64, v0: Vec<R>) -> Self {
        let n = v0.len();
        AmpaNmda {
            v: v0,
            g_ampa: vec![R::ZERO; n],
            g_nmda: vec![R::ZERO; n],
            g_gaba: vec![R::ZERO; n],
            theta: vec![R::ZERO; n],
            k: Constants {
                dt_over_tau: R::of(dt / p.tau_m),
                e_leak: R::of(p.e_leak),
                e_inh: R::of(p.e_inh),
                v_reset: R::of(p.v_reset),
                v_max: R::ZERO,
                threshold: R::of(p.threshold),
                ampa_share: R::of(p.ampa_share),
                nmda_share: R::of(1.0 - p.ampa_share),
                decay_ampa: R::of((-dt / p.tau_ampa).exp()),
                decay_gaba: R::of((-dt / p.tau_gaba).exp()),
                nmda_step: R::of(1.0 - (-dt / p.tau_nmda).exp()),
                decay_theta: R::of((-dt / p.tau_theta).exp()),
                theta_spike: R::of(p.theta_spike),
                theta_floor: R::of(p.threshold.abs() * 1e-20),
            },
        }
    }

    /// One step for every neuron (a branch-free, vectorised loop), then the threshold
    /// (a vectorised test per 32 neurons; scalar only where a spike is).
    #[inline]
    pub fn evolve(&mut self, spiked: &mut Vec<u32>) {
        let k = self.k;
        let n = self.v.len();
        let (v, ga, gn, gg, th) = (
            &mut self.v[..n],
            &mut self.g_ampa[..n],
            &mut self.g_nmda[..n],
            &mut self.g_gaba[..n],
            &mut self.theta[..n],
        );
        let floor_below = R::ZERO - k.theta_floor;
        // Checked in the assembly of the kernels bench (objdump -dl; AVX2, Zen 3,
        // target-cpu=native, Nov 2026). This loop was already vectorised: 8 f32 lanes
        // (`vmulps/vsubps/vaddps` on ymm; the clamps are comparisons, so plain
        // `vmaxps/vminps`, no NaN fix-up; no conversion, no exp), 4 f64 lanes, behind
        // a runtime alias check of the five arrays; ≈ 0.4 ns per neuron in f32, 0.9 in
        // f64. What kept f32 level with f64 was the threshold after it: a scalar loop
        // with a branch per neuron (`vaddss; vucomiss; jbe`), ≈ 0.4–0.6 ns per neuron
        // in either precision, re-reading v and θ after this loop has streamed 0.5 MB
        // (f32) through a 512 KB L2 — and, in runs, subnormal θ (below).
        for i in 0..n {
            let vi = v[i];
            let exc = k.ampa_share * ga[i] + k.nmda_share * gn[i];
            let drive = (k.e_leak - vi) - exc * vi - gg[i] * (vi - k.e_inh);
            let next = vi + drive * k.dt_over_tau;
            let next = if next < k.e_inh { k.e_inh } else { next };
            v[i] = if next > k.v_max { k.v_max } else { next };
            gn[i] += k.nmda_step * (ga[i] - gn[i]);
            ga[i] *= k.decay_ampa;
            gg[i] *= k.decay_gaba;
            // θ_dyn decays into the subnormal range after ≈ 0.43 s without a spike in
            // f32 (3.5 s in f64): in a zenke25k f32 run that is 5 % of the neurons at any
            // time, and subnormal lanes are slow on Zen 3 (measured: this loop took
            // 0.79 instead of 0.48 ns per neuron with 5 % of θ subnormal). So θ
            // goes to 0 once |θ| < |θ₀|·10⁻²⁰: far below half an ulp of θ₀ (f32:
            // 3·10⁻⁸·|θ₀|, f64: 3·10⁻¹⁷·|θ₀|), so `θ₀ + θ` below, the only use of θ,
            // rounds to θ₀ either way and the spikes are the same (θ₀ = 0: no flush).
            let t = th[i] * k.decay_theta;
            th[i] = if t < k.theta_floor && t > floor_below {
                R::ZERO
            } else {
                t
            };
        }
        // Threshold in chunks, as in `Coba::evolve`: a vectorised "any above threshold?"
        // per 32 neurons (unrolled: 4× `vaddps; vcmpltps`, `vorps`, `vtestps` in f32),
        // and the scalar reset only in the rare chunks that hold a spike. Same
        // comparison, same order of spikes: the output is identical. 32 beat 16 lanes
        // in f32 (fewer branches per neuron); equal in f64. Criterion `evolve`, 25 k
        // neurons, median of 5 runs: f32 1.19 → 0.60 ns per neuron, f64 1.85 → 1.29 ns;
        // zenke25k, 5 s, evolve phase: f32 1.67 → 0.98 s with this, → 0.74 s with the
        // θ flush above; f64 1.98 → 1.74 s.
        const LANES: usize = 32;
        let chunks = v.chunks_mut(LANES).zip(th.chunks_mut(LANES));
        for (c, (vc, tc)) in chunks.enumerate() {
            let any = vc
                .iter()
                .zip(tc.iter())
                .fold(false, |any, (&x, &t)| any | (x > k.threshold + t));
            if any {
                for (j, (x, t)) in vc.iter_mut().zip(tc.iter_mut()).enumerate() {
                    if *x > k.threshold + *t {
                        *x = k.v_reset;
                        *t = k.theta_spike;
                        spiked.push((c * LANES + j) as u32);
                    }
                }
            }
        }
    }
}

impl<R: Real> AmpaNmda<R> {
    /// The five per-neuron variables; θ_dyn is the refractoriness, so it is state too.
    pub fn save(&self) -> Vec<Array> {
        vec![
            neurons("v", &self.v),
            neurons("g_ampa", &self.g_ampa),
            neurons("g_nmda", &self.g_nmda),
            neurons("g_gaba", &self.g_gaba),
            neurons("theta", &self.theta),
        ]
    }

    pub fn load(&mut self, source: &mut Source) -> Result<(), StateError> {
        let n = self.v.len();
        let v = take_reals(source, "v", n)?;
        let g_ampa = take_reals(source, "g_ampa", n)?;
        let g_nmda = take_reals(source, "g_nmda", n)?;
        let g_gaba = take_reals(source, "g_gaba", n)?;
        let theta = take_reals(source, "theta", n)?;
        (self.v, self.g_ampa, self.g_nmda, self.g_gaba, self.theta) =
            (v, g_ampa, g_nmda, g_gaba, theta);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> AmpaNmdaParams {
        AmpaNmdaParams::zenke2013(20e-3)
    }

    /// NMDA follows AMPA through its low-pass; the three decays are exact.
    #[test]
    fn conductances_and_threshold_decay_as_specified() {
        let p = params();
        let dt = 1e-4;
        let mut n = AmpaNmda::<f64>::new(&p, dt, vec![-70e-3]);
        n.g_ampa[0] = 1.0;
        n.g_gaba[0] = 1.0;
        n.theta[0] = 0.1;
        let mut s = Vec::new();
        let (mut ampa, mut nmda) = (1.0f64, 0.0f64);
        for _ in 0..50 {
            n.evolve(&mut s);
            nmda += (1.0 - (-dt / p.tau_nmda).exp()) * (ampa - nmda);
            ampa *= (-dt / p.tau_ampa).exp();
        }
        assert!((n.g_ampa[0] - ampa).abs() < 1e-14);
        assert!((n.g_nmda[0] - nmda).abs() < 1e-14 && nmda > 0.0);
        assert!((n.g_gaba[0] - (-50.0 * dt / p.tau_gaba).exp()).abs() < 1e-14);
        assert!((n.theta[0] - 0.1 * (-50.0 * dt / p.tau_theta).exp()).abs() < 1e-14);
        assert!(s.is_empty());
    }

    /// A strong excitatory conductance drives a spike; the dynamic threshold (100 mV,
    /// decaying with 5 ms) then holds the neuron silent for ≈ τ·ln(100/20) ≈ 8 ms.
    #[test]
    fn spike_resets_and_the_dynamic_threshold_makes_it_refractory() {
        let p = params();
        let mut n = AmpaNmda::<f64>::new(&p, 1e-4, vec![-52e-3]);
        let mut s = Vec::new();
        let mut spikes = Vec::new();
        for step in 0..400 {
            n.g_ampa[0] = 2.0; // clamp a strong drive
            s.clear();
            n.evolve(&mut s);
            if !s.is_empty() {
                spikes.push(step);
                assert_eq!(n.v[0], p.v_reset);
                assert_eq!(n.theta[0], p.theta_spike);
            }
            assert!(n.v[0] <= 0.0 && n.v[0] >= p.e_inh, "V clipped");
        }
        assert!(spikes.len() >= 2, "{spikes:?}");
        let isi = spikes[1] - spikes[0];
        assert!(isi >= 70, "ISI {isi} steps: the threshold must hold ≈ 8 ms");
    }

    /// The chunked threshold finds the same spikes, in the same order, and leaves the
    /// same state as each neuron simulated alone: 100 neurons (three full chunks and a
    /// partial one), driven so that spikes fall at chunk edges and several per chunk.
    #[test]
    fn chunked_threshold_matches_neurons_simulated_alone() {
        let p = params();
        let n = 100;
        let v0: Vec<f32> = (0..n)
            .map(|i| -65e-3 + 15e-3 * (i % 7) as f32 / 7.0)
            .collect();
        let mut all = AmpaNmda::<f32>::new(&p, 1e-4, v0.clone());
        let mut alone: Vec<_> = v0
            .iter()
            .map(|&v| AmpaNmda::<f32>::new(&p, 1e-4, vec![v]))
            .collect();
        let (mut s, mut one) = (Vec::new(), Vec::new());
        let mut count = 0;
        for step in 0..400usize {
            let mut expected = Vec::new();
            for (i, a) in alone.iter_mut().enumerate() {
                // Kicks: the chunk edges often, the rest now and then.
                if [0, 31, 32, 63, 64, 95, 96, 99].contains(&i) && step % 40 == i % 40
                    || (i * 7 + step * 13) % 97 == 0
                {
                    a.g_ampa[0] += 3.0;
                    all.g_ampa[i] += 3.0;
                }
                one.clear();
                a.evolve(&mut one);
                if !one.is_empty() {
                    expected.push(i as u32);
                }
            }
            s.clear();
            all.evolve(&mut s);
            assert_eq!(s, expected, "step {step}");
            count += s.len();
            for (i, a) in alone.iter().enumerate() {
                assert_eq!(all.v[i].to_bits(), a.v[0].to_bits(), "v[{i}], step {step}");
                assert_eq!(all.theta[i].to_bits(), a.theta[0].to_bits());
            }
        }
        assert!(count > 50, "{count} spikes: the test drives spikes");
    }

    /// After a spike θ_dyn decays through the normal range straight to 0, never
    /// subnormal (slow lanes), in both precisions; the neuron stays silent meanwhile.
    #[test]
    fn theta_never_goes_subnormal() {
        fn run<R: Real>(min_normal: f64) {
            let p = params();
            let mut n = AmpaNmda::<R>::new(&p, 1e-4, vec![R::of(-70e-3)]);
            n.theta[0] = R::of(p.theta_spike);
            let mut s = Vec::new();
            let mut zero_at = None;
            for step in 0..40_000 {
                n.evolve(&mut s);
                let t = n.theta[0].to_f64();
                assert!(t == 0.0 || t.abs() >= min_normal, "step {step}: {t}");
                if t == 0.0 && zero_at.is_none() {
                    zero_at = Some(step);
                }
            }
            assert!(s.is_empty());
            assert!(zero_at.is_some(), "θ reaches 0");
        }
        run::<f32>(f32::MIN_POSITIVE as f64);
        run::<f64>(f64::MIN_POSITIVE);
    }
}
