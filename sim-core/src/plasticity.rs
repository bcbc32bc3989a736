//! Spike-timing-dependent plasticity: pair STDP with weight dependence (NEST's
//! `stdp_synapse_hom`), presynaptic traces kept continuously or event-based.
//!
//! Within a step the engine runs `propagate` (arrivals: depression, then the weight is
//! delivered, then the presynaptic trace jumps) before `plasticity` (postsynaptic
//! spikes: potentiation, then the postsynaptic trace jumps). So a presynaptic arrival
//! and a postsynaptic spike in the same step count as pre-before-post.

use crate::model::{PairStdp, TraceMode};
use crate::real::Real;

/// Exponentially decaying spike traces, one per neuron.
#[derive(Debug, Clone)]
pub struct Traces<R> {
    mode: TraceMode,
    value: Vec<R>,
    /// Event-based: the step of each trace's last jump (its value is as of then).
    last: Vec<u64>,
    decay: R,
    decay_f64: f64,
}

impl<R: Real> Traces<R> {
    pub fn new(n: usize, tau: f64, dt: f64, mode: TraceMode) -> Self {
        let decay_f64 = (-dt / tau).exp();
        Traces {
            mode,
            value: vec![R::ZERO; n],
            last: vec![0; n],
            decay: R::of(decay_f64),
            decay_f64,
        }
    }

    /// Continuous mode: decays every trace by one step (a vectorised loop).
    #[inline]
    pub fn begin_step(&mut self) {
        if self.mode == TraceMode::Continuous {
            let d = self.decay;
            for v in &mut self.value {
                *v *= d;
            }
        }
    }

    /// The trace of neuron `i` at `step` (after that step's decay).
    #[inline]
    pub fn at(&self, i: usize, step: u64) -> R {
        match self.mode {
            TraceMode::Continuous => self.value[i],
            TraceMode::EventBased => {
                let k = step - self.last[i];
                if k > 100_000 {
                    R::ZERO
                } else {
                    self.value[i] * R::of(self.decay_f64.powi(k as i32))
                }
            }
        }
    }

    /// Adds a spike of neuron `i` at `step`.
    #[inline]
    pub fn bump(&mut self, i: usize, step: u64) {
        match self.mode {
            TraceMode::Continuous => self.value[i] += R::ONE,
            TraceMode::EventBased => {
                self.value[i] = self.at(i, step) + R::ONE;
                self.last[i] = step;
            }
        }
    }
}

/// The state of a plastic connection on one worker.
#[derive(Debug, Clone)]
pub struct Stdp<R> {
    rule: PairStdp,
    /// K₊: one trace per presynaptic neuron (of the whole population).
    pub pre: Traces<R>,
    /// K₋: one trace per local postsynaptic neuron.
    pub post: Traces<R>,
    /// For each local postsynaptic neuron, its synapses (indices into the connection's
    /// arrays) and their presynaptic neurons: updates on postsynaptic spikes.
    pub by_post_start: Vec<u32>,
    pub by_post_synapse: Vec<u32>,
    pub by_post_pre: Vec<u32>,
}

impl<R: Real> Stdp<R> {
    /// `row_start`/`targets`: the connection's rows by presynaptic neuron.
    pub fn new(
        rule: &PairStdp,
        dt: f64,
        row_start: &[u32],
        targets: &[u32],
        n_post: usize,
    ) -> Self {
        let n_pre = row_start.len() - 1;
        let mut by_post_start = vec![0u32; n_post + 1];
        for &j in targets {
            by_post_start[j as usize + 1] += 1;
        }
        for j in 0..n_post {
            by_post_start[j + 1] += by_post_start[j];
        }
        let mut fill = by_post_start.clone();
        let mut by_post_synapse = vec![0u32; targets.len()];
        let mut by_post_pre = vec![0u32; targets.len()];
        for i in 0..n_pre {
            for k in row_start[i]..row_start[i + 1] {
                let j = targets[k as usize] as usize;
                let at = fill[j] as usize;
                fill[j] += 1;
                by_post_synapse[at] = k;
                by_post_pre[at] = i as u32;
            }
        }
        Stdp {
            rule: *rule,
            pre: Traces::new(n_pre, rule.tau_plus, dt, rule.traces),
            post: Traces::new(n_post, rule.tau_minus, dt, rule.traces),
            by_post_start,
            by_post_synapse,
            by_post_pre,
        }
    }

    /// The weight after a presynaptic arrival, given the postsynaptic trace K₋.
    #[inline]
    pub fn depress(&self, w: R, k_minus: R) -> R {
        let r = &self.rule;
        let wn = w.to_f64() / r.w_max;
        let dw = r.lambda * r.alpha * power(wn, r.mu_minus) * k_minus.to_f64();
        R::of((wn - dw).max(0.0) * r.w_max)
    }

    /// The weight after a postsynaptic spike, given the presynaptic trace K₊.
    #[inline]
    pub fn potentiate(&self, w: R, k_plus: R) -> R {
        let r = &self.rule;
        let wn = w.to_f64() / r.w_max;
        let dw = r.lambda * power(1.0 - wn, r.mu_plus) * k_plus.to_f64();
        R::of((wn + dw).min(1.0) * r.w_max)
    }
}

/// x^μ with the common cases μ = 1 (multiplicative) and μ = 0 (additive) exact and cheap.
#[inline]
fn power(x: f64, mu: f64) -> f64 {
    if mu == 1.0 {
        x
    } else if mu == 0.0 {
        1.0
    } else {
        x.max(0.0).powf(mu)
    }
}

#[cfg(test)]
mod tests {
    use crate::connection::Connection;
    use crate::model::{
        Channel, CobaParams, ConnectionSpec, Connectivity, InitialV, Network, NeuronModel,
        PairStdp, PopulationSpec, TraceMode,
    };
    use crate::rng::CounterRng;

    const DT: f64 = 1e-4;

    fn rule(traces: TraceMode, lambda: f64) -> PairStdp {
        PairStdp {
            tau_plus: 20e-3,
            tau_minus: 20e-3,
            lambda,
            alpha: 2.02,
            mu_plus: 1.0,
            mu_minus: 1.0,
            w_max: 0.3e-3,
            traces,
        }
    }

    fn net(n_pre: usize, n_post: usize, p: f64, weight: f64, stdp: PairStdp) -> Network {
        let pop = |name: &str, size| PopulationSpec {
            name: name.into(),
            size,
            model: NeuronModel::Coba(CobaParams::vogels_abbott()),
            initial_v: InitialV::Fixed(0.0),
        };
        Network {
            name: "stdp".into(),
            dt: DT,
            seed: 11,
            populations: vec![pop("A", n_pre), pop("B", n_post)],
            connections: vec![ConnectionSpec {
                name: "AB".into(),
                pre: 0,
                post: 1,
                channel: Channel::Excitatory,
                delay: 1e-3,
                connectivity: Connectivity::FixedProbability { p, weight },
                plasticity: Some(stdp),
            }],
        }
    }

    /// Runs steps 0..steps; `pre(t)` and `post(t)` list who spikes at t.
    fn drive(
        c: &mut Connection<f64>,
        steps: u64,
        pre: impl Fn(u64) -> Vec<u32>,
        post: impl Fn(u64) -> Vec<u32>,
    ) {
        let mut input = vec![0.0; 1000];
        for t in 0..steps {
            c.begin_step();
            c.propagate_plastic(pre(t).into_iter(), &mut input, t);
            c.potentiate(&post(t), t);
        }
    }

    /// One pre/post pair at Δt = t_post − t_pre: the weight change equals the rule's
    /// window, λ(1 − w̃)e^{−Δt/τ₊} for Δt ≥ 0 and −λαw̃e^{Δt/τ₋} for Δt < 0.
    #[test]
    fn pair_window_matches_the_rule() {
        let w0 = 0.15e-3;
        for traces in [TraceMode::Continuous, TraceMode::EventBased] {
            let r = rule(traces, 0.01);
            let n = net(1, 1, 1.0, w0, r);
            for ms in -100i64..=100 {
                let shift = ms.unsigned_abs() * 10;
                let (t_pre, t_post) = if ms >= 0 {
                    (5, 5 + shift)
                } else {
                    (5 + shift, 5)
                };
                let mut c = Connection::<f64>::build(&n, 0, 0..1, &CounterRng::new(1));
                drive(
                    &mut c,
                    t_pre.max(t_post) + 1,
                    |t| if t == t_pre { vec![0] } else { vec![] },
                    |t| if t == t_post { vec![0] } else { vec![] },
                );
                let wn = w0 / r.w_max;
                let dt = ms as f64 * 1e-3;
                let expected = if ms >= 0 {
                    wn + r.lambda * (1.0 - wn) * (-dt / r.tau_plus).exp()
                } else {
                    wn - r.lambda * r.alpha * wn * (dt / r.tau_minus).exp()
                } * r.w_max;
                let got = c.weights()[0];
                assert!(
                    (got - expected).abs() < 1e-12 * expected,
                    "{traces:?}, Δt = {ms} ms: {got} vs {expected}"
                );
            }
        }
    }

    /// Continuous and event-based presynaptic traces give the same weights (to
    /// rounding) on a small network driven by random spikes; weights stay in bounds.
    #[test]
    fn continuous_and_event_based_traces_agree() {
        let draws = CounterRng::new(99);
        let spikes = |who: u32, n: u32, p: f64| {
            move |t: u64| -> Vec<u32> {
                (0..n)
                    .filter(|&i| {
                        let w = draws.block(who * 1000 + i, 7, t);
                        (w[0] as f64) < p * 4_294_967_296.0
                    })
                    .collect()
            }
        };
        let mut weights = Vec::new();
        for traces in [TraceMode::Continuous, TraceMode::EventBased] {
            let n = net(50, 40, 0.3, 0.1e-3, rule(traces, 0.05));
            let mut c = Connection::<f64>::build(&n, 0, 0..40, &CounterRng::new(3));
            drive(&mut c, 20_000, spikes(1, 50, 0.002), spikes(2, 40, 0.002));
            assert!(c.weights().iter().all(|&w| (0.0..=0.3e-3).contains(&w)));
            weights.push(c.weights().to_vec());
        }
        let moved = weights[0]
            .iter()
            .filter(|&&w| (w - 0.1e-3).abs() > 1e-9)
            .count();
        assert!(
            moved > weights[0].len() / 2,
            "plasticity changed the weights"
        );
        for (a, b) in weights[0].iter().zip(&weights[1]) {
            assert!((a - b).abs() <= 1e-12 * 0.3e-3, "{a} vs {b}");
        }
    }

    /// A large learning rate saturates at the bounds instead of crossing them.
    #[test]
    fn weights_are_clipped_to_their_bounds() {
        let n = net(1, 1, 1.0, 0.29e-3, rule(TraceMode::EventBased, 2.0));
        let mut c = Connection::<f64>::build(&n, 0, 0..1, &CounterRng::new(1));
        drive(
            &mut c,
            3,
            |t| if t == 0 { vec![0] } else { vec![] },
            |t| if t == 1 { vec![0] } else { vec![] },
        );
        assert_eq!(c.weights()[0], 0.3e-3, "potentiation stops at w_max");
        drive(
            &mut c,
            3,
            |t| if t == 2 { vec![0] } else { vec![] },
            |t| if t == 1 { vec![0] } else { vec![] },
        );
        assert_eq!(c.weights()[0], 0.0, "depression stops at 0");
    }
}
