//! Conductance-based integrate-and-fire neuron with AMPA, NMDA and GABA inputs and a
//! dynamic threshold: the neuron of the 25 k network of Zenke et al. 2013 (paper
//! §2.3.2). Conductances are in units of the leak conductance.
//!
//! `τ_m dV/dt = (E_L − V) − (a·g_ampa + (1−a)·g_nmda)·V − g_gaba·(V − E_i)` (excitatory
//! reversal 0 V) by forward Euler, V clipped to [E_i, 0]; `g_ampa`, `g_gaba` decay
//! exactly; `g_nmda` low-passes `g_ampa` with τ_nmda. A spike when V > θ + θ_dyn resets
//! V and sets θ_dyn to its spike value; θ_dyn decays exactly — the refractoriness.

use crate::model::AmpaNmdaParams;
use crate::real::Real;

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
            },
        }
    }

    /// One step for every neuron (a branch-free, vectorisable loop), then the threshold.
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
            th[i] *= k.decay_theta;
        }
        for i in 0..n {
            if v[i] > k.threshold + th[i] {
                v[i] = k.v_reset;
                th[i] = k.theta_spike;
                spiked.push(i as u32);
            }
        }
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
}
