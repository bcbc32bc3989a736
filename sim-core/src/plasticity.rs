//! Spike-timing-dependent plasticity: pair STDP with weight dependence (NEST's
//! `stdp_synapse_hom`) and minimal triplet STDP with homeostatic depression (Zenke et al.
//! 2013); presynaptic traces kept continuously or event-based (paper Fig. 8C vs 8D).
//!
//! Within a step the engine runs `propagate` (arrivals: depression, then the weight is
//! delivered, then the presynaptic trace jumps) before `plasticity` (postsynaptic
//! spikes: potentiation, then the postsynaptic traces jump). So a presynaptic arrival
//! and a postsynaptic spike in the same step count as pre-before-post.
//!
//! Postsynaptic traces are always decayed every step: they belong to the worker's own
//! neurons, so that work shrinks with more workers, and every arrival then reads a
//! ready value. Each step also turns them into one depression term per postsynaptic
//! neuron, so depressing a synapse is one multiply or subtract and a clip.
//!
//! The weight updates are the cost of a plastic network: on every postsynaptic spike,
//! potentiation touches each of the neuron's synapses, scattered through the
//! presynaptic-major weight array (one cache miss each). The loop over them is kept
//! free of conversions and branches so that many misses are in flight at once, and it
//! prefetches a few synapses ahead.

use crate::index::{Indices, Local};
use crate::model::{PairStdp, Plasticity, TraceMode};
use crate::neuron::{neurons, take_reals, take_u64};
use crate::real::Real;
use crate::state::{take_exact, Array, Layout, Source, StateError, Values};

/// Exponentially decaying presynaptic spike traces, one per presynaptic neuron.
#[derive(Debug, Clone)]
pub struct PreTraces<R> {
    mode: TraceMode,
    value: Vec<R>,
    /// Event-based: the step of each trace's last jump (its value is as of then).
    last: Vec<u64>,
    decay: R,
    powers: Powers<R>,
}

impl<R: Real> PreTraces<R> {
    pub fn new(n: usize, tau: f64, dt: f64, mode: TraceMode) -> Self {
        let d = (-dt / tau).exp();
        PreTraces {
            mode,
            value: vec![R::ZERO; n],
            last: vec![0; n],
            decay: R::of(d),
            powers: Powers::new(d),
        }
    }

    /// Continuous mode: decays every trace by one step (a vectorised loop).
    #[inline]
    pub fn begin_step(&mut self) {
        if self.mode == TraceMode::Continuous {
            decay(&mut self.value, self.decay);
        }
    }

    /// The trace of neuron `i` at `step` (after that step's decay).
    #[inline]
    pub fn at(&self, i: usize, step: u64) -> R {
        match self.mode {
            TraceMode::Continuous => self.value[i],
            TraceMode::EventBased => self.value[i] * self.powers.get(step - self.last[i]),
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

/// d^k for event-based traces, as `lo[k mod 1024] · hi[k / 1024]` from two tables of
/// 1024 entries (16 KB in f64, cache-resident): a `powi` per read cost ≈ 20 ns, more than
/// the rest of a synapse's update. Exact to one rounding of the product.
#[derive(Debug, Clone)]
struct Powers<R> {
    lo: Vec<R>,
    hi: Vec<R>,
    d: f64,
}

impl<R: Real> Powers<R> {
    const SPLIT: u64 = 1024;

    fn new(d: f64) -> Self {
        let n = Self::SPLIT as i32;
        Powers {
            lo: (0..n).map(|k| R::of(d.powi(k))).collect(),
            hi: (0..n).map(|k| R::of(d.powi(k * n))).collect(),
            d,
        }
    }

    #[inline]
    fn get(&self, k: u64) -> R {
        if k < Self::SPLIT * Self::SPLIT {
            self.lo[(k % Self::SPLIT) as usize] * self.hi[(k / Self::SPLIT) as usize]
        } else {
            // Over 10⁶ steps since the last spike: rare, and almost always 0.
            R::of(self.d.powf(k as f64))
        }
    }
}

/// A trace per local postsynaptic neuron, decayed every step.
#[derive(Debug, Clone)]
struct PostTrace<R> {
    value: Vec<R>,
    decay: R,
}

impl<R: Real> PostTrace<R> {
    fn new(n: usize, tau: f64, dt: f64) -> Self {
        PostTrace {
            value: vec![R::ZERO; n],
            decay: R::of((-dt / tau).exp()),
        }
    }

    #[inline]
    fn begin_step(&mut self) {
        decay(&mut self.value, self.decay);
    }
}

/// Multiplies every trace by `d`, flushing those below 10⁻³⁰ to 0. A silent neuron's
/// trace would otherwise decay into subnormal numbers (in f32 after ≈ 1.5 s at
/// τ = 16.8 ms), on which every multiply is many times slower. A trace of 10⁻³⁰ changes
/// no weight: its updates are 10⁻³⁰ of a learning rate.
#[inline]
fn decay<R: Real>(values: &mut [R], d: R) {
    let tiny = R::of(1e-30);
    for v in values {
        let x = *v * d;
        *v = if x < tiny { R::ZERO } else { x };
    }
}

/// A rule's constants, in the weights' precision, for the inner loops.
#[derive(Debug, Clone, Copy)]
enum Rule<R> {
    /// Pair STDP with μ₊ = μ₋ = 1: multiplicative depression
    /// `w ← w·max(1 − λαK₋, 0)` and potentiation `w ← min(w + λ(w_max − w)K₊, w_max)`.
    Multiplicative {
        lambda: R,
        lambda_alpha: R,
        w_max: R,
    },
    /// Pair STDP with general μ± (in f64, slower).
    Pair(PairStdp),
    /// Triplet STDP: `w ← max(w − C·x_post·h², 0)` on arrivals,
    /// `w ← min(w + A3+·y_post·x_pre, w_max)` on postsynaptic spikes.
    Triplet { a3_plus: R, c: R, w_max: R },
}

/// The state of a plastic connection on one worker.
#[derive(Debug, Clone)]
pub struct Stdp<R> {
    rule: Rule<R>,
    /// The rule as specified, and the factor on its amplitudes in force
    /// ([`Stdp::set_learning_rate`]); `rule` is computed from both.
    spec: Plasticity,
    learning_rate: f64,
    /// Weight updates on; off during a priming run, when the traces still follow the
    /// spikes but the weights stay put.
    learning: bool,
    /// K₊ (pair) or x_pre (triplet): one trace per presynaptic neuron (of the whole
    /// population).
    pub pre: PreTraces<R>,
    /// K₋ (pair) or x_post (triplet), τ₋.
    post_fast: PostTrace<R>,
    /// Triplet only: y_post (τ_y) and the homeostatic trace h (τ_hom).
    post_slow: Option<(PostTrace<R>, PostTrace<R>)>,
    /// This step's depression term per local postsynaptic neuron (see [`Rule`]).
    depression: Vec<R>,
    /// For each local postsynaptic neuron, its synapses (indices into the connection's
    /// arrays) and their presynaptic neurons: updates on postsynaptic spikes.
    pub by_post_start: Vec<u32>,
    pub by_post_synapse: Vec<u32>,
    /// (16 bits where the presynaptic population allows: [`crate::index`].)
    pub by_post_pre: Indices,
}

/// The postsynaptic traces a rule keeps, one value per postsynaptic neuron, by the
/// names a checkpoint gives them: K₋ (pair) or x_post (triplet) is `post_trace`, the
/// triplet's y_post and h are `post_trace_y` and `post_trace_hom`.
pub fn post_traces_of(rule: &Plasticity) -> &'static [&'static str] {
    match rule {
        Plasticity::Pair(_) => &["post_trace"],
        Plasticity::Triplet(_) => &["post_trace", "post_trace_y", "post_trace_hom"],
    }
}

impl<R: Real> Stdp<R> {
    /// The local postsynaptic neurons' values of trace `name` (see [`post_traces_of`]).
    pub fn post_trace(&self, name: &str) -> Option<&[R]> {
        match (name, &self.post_slow) {
            ("post_trace", _) => Some(&self.post_fast.value),
            ("post_trace_y", Some((y, _))) => Some(&y.value),
            ("post_trace_hom", Some((_, h))) => Some(&h.value),
            _ => None,
        }
    }

    /// `row_start`/`targets`: the connection's rows by presynaptic neuron.
    pub fn new(
        rule: &Plasticity,
        dt: f64,
        row_start: &[u32],
        targets: &Indices,
        n_post: usize,
    ) -> Self {
        let n_pre = row_start.len() - 1;
        let mut by_post_start = vec![0u32; n_post + 1];
        for j in targets.iter() {
            by_post_start[j as usize + 1] += 1;
        }
        for j in 0..n_post {
            by_post_start[j + 1] += by_post_start[j];
        }
        let mut fill = by_post_start.clone();
        let mut by_post_synapse = vec![0u32; targets.len()];
        let mut by_post_pre = Indices::new(targets.len(), n_pre);
        for i in 0..n_pre {
            for k in row_start[i]..row_start[i + 1] {
                let j = targets.get(k as usize) as usize;
                let at = fill[j] as usize;
                fill[j] += 1;
                by_post_synapse[at] = k;
                by_post_pre.set(at, i as u32);
            }
        }
        let (tau_plus, tau_minus, post_slow) = match *rule {
            Plasticity::Pair(r) => (r.tau_plus, r.tau_minus, None),
            Plasticity::Triplet(r) => (
                r.tau_plus,
                r.tau_minus,
                Some((
                    PostTrace::new(n_post, r.tau_y, dt),
                    PostTrace::new(n_post, r.tau_hom, dt),
                )),
            ),
        };
        Stdp {
            rule: constants(rule, 1.0),
            spec: *rule,
            learning_rate: 1.0,
            learning: true,
            pre: PreTraces::new(n_pre, tau_plus, dt, rule.traces()),
            post_fast: PostTrace::new(n_post, tau_minus, dt),
            post_slow,
            depression: vec![R::ZERO; n_post],
            by_post_start,
            by_post_synapse,
            by_post_pre,
        }
    }

    /// Turns weight updates on or off (traces follow the spikes either way).
    pub fn set_learning(&mut self, on: bool) {
        self.learning = on;
    }

    /// The number of synapses onto each local postsynaptic neuron.
    pub fn post_synapse_counts(&self) -> Vec<u32> {
        self.by_post_start.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Scales the rule's amplitudes (λ of the pair rule; A3+ and with it the
    /// homeostatic C of the triplet rule, so its target rate stays) by `factor` from
    /// the next step on; 1 is the rule as specified.
    pub fn set_learning_rate(&mut self, factor: f64) -> Result<(), String> {
        if !(factor.is_finite() && factor >= 0.0) {
            return Err(format!("learning rate factor {factor}: expected >= 0"));
        }
        self.learning_rate = factor;
        self.rule = constants(&self.spec, factor);
        Ok(())
    }

    /// The traces (presynaptic in [`Layout::Replicated`]: every partition sees every
    /// presynaptic spike, so they are the same everywhere; postsynaptic in
    /// [`Layout::Neurons`] of the postsynaptic population), the learning switch and
    /// rate. Event-based presynaptic traces are saved as kept, value and step of the
    /// last jump: decaying them to the checkpoint's step would round differently from
    /// the uninterrupted run. The depression terms are not state: `begin_step`
    /// recomputes them before any arrival uses them.
    pub fn save(&self) -> Vec<Array> {
        let replicated = |name, values| Array {
            name,
            layout: Layout::Replicated,
            values,
        };
        let mut out = vec![replicated("pre_trace", Values::of_reals(&self.pre.value))];
        if self.pre.mode == TraceMode::EventBased {
            out.push(replicated(
                "pre_trace_last",
                Values::U64(self.pre.last.clone()),
            ));
        }
        out.push(neurons("post_trace", &self.post_fast.value));
        if let Some((y, h)) = &self.post_slow {
            out.push(neurons("post_trace_y", &y.value));
            out.push(neurons("post_trace_hom", &h.value));
        }
        out.push(replicated(
            "learning",
            Values::U32(vec![self.learning as u32]),
        ));
        out.push(replicated(
            "learning_rate",
            Values::F64(vec![self.learning_rate]),
        ));
        out
    }

    /// Takes the arrays of [`Stdp::save`]; on an error nothing has changed.
    pub fn load(&mut self, source: &mut Source) -> Result<(), StateError> {
        let (n_pre, n_post) = (self.pre.value.len(), self.post_fast.value.len());
        let pre = take_reals(source, "pre_trace", n_pre)?;
        let last = match self.pre.mode {
            TraceMode::EventBased => Some(take_u64(source, "pre_trace_last", n_pre)?),
            TraceMode::Continuous => None,
        };
        let post = take_reals(source, "post_trace", n_post)?;
        let slow = match self.post_slow {
            Some(_) => Some((
                take_reals(source, "post_trace_y", n_post)?,
                take_reals(source, "post_trace_hom", n_post)?,
            )),
            None => None,
        };
        let learning = match take_exact(source, "learning", 1)?.into_u32("learning")?[0] {
            0 => false,
            1 => true,
            other => {
                return Err(StateError::Invalid {
                    name: "learning".into(),
                    problem: format!("{other}, expected 0 or 1"),
                })
            }
        };
        let rate = match take_exact(source, "learning_rate", 1)? {
            Values::F64(v) => v[0],
            other => {
                return Err(StateError::Kind {
                    name: "learning_rate".into(),
                    expected: "<f8",
                    found: other.kind(),
                })
            }
        };
        self.set_learning_rate(rate)
            .map_err(|problem| StateError::Invalid {
                name: "learning_rate".into(),
                problem,
            })?;
        self.pre.value = pre;
        if let Some(last) = last {
            self.pre.last = last;
        }
        self.post_fast.value = post;
        if let (Some((y, h)), Some((ys, hs))) = (&mut self.post_slow, slow) {
            (y.value, h.value) = (ys, hs);
        }
        self.learning = learning;
        Ok(())
    }

    /// The traces' decay for a new step, and the step's depression terms.
    pub fn begin_step(&mut self) {
        self.pre.begin_step();
        self.post_fast.begin_step();
        if let Some((y, h)) = &mut self.post_slow {
            y.begin_step();
            h.begin_step();
        }
        if !self.learning {
            return;
        }
        let x = &self.post_fast.value;
        match self.rule {
            Rule::Multiplicative { lambda_alpha, .. } => {
                for (d, &k) in self.depression.iter_mut().zip(x) {
                    *d = (R::ONE - lambda_alpha * k).max(R::ZERO);
                }
            }
            Rule::Pair(_) => {}
            Rule::Triplet { c, .. } => {
                let (_, h) = self.post_slow.as_ref().expect("triplet traces");
                for ((d, &x), &h) in self.depression.iter_mut().zip(x).zip(&h.value) {
                    *d = c * x * h * h;
                }
            }
        }
    }

    /// A spike of presynaptic neuron `i` arrives at `step` through its row (`targets`,
    /// `weights`): each synapse is depressed, then its weight delivered to `input`; then
    /// the presynaptic trace jumps.
    #[inline]
    pub fn arrive<T: Local>(
        &mut self,
        i: usize,
        step: u64,
        targets: &[T],
        weights: &mut [R],
        input: &mut [R],
    ) {
        let dep = &self.depression;
        match self.rule {
            _ if !self.learning => {
                for (&j, &w) in targets.iter().zip(weights.iter()) {
                    input[j.at()] += w;
                }
            }
            Rule::Multiplicative { .. } => {
                for (&j, w) in targets.iter().zip(weights.iter_mut()) {
                    *w *= dep[j.at()];
                    input[j.at()] += *w;
                }
            }
            Rule::Pair(r) => {
                for (&j, w) in targets.iter().zip(weights.iter_mut()) {
                    *w = pair_depress(&r, *w, self.post_fast.value[j.at()]);
                    input[j.at()] += *w;
                }
            }
            Rule::Triplet { .. } => {
                for (&j, w) in targets.iter().zip(weights.iter_mut()) {
                    *w = (*w - dep[j.at()]).max(R::ZERO);
                    input[j.at()] += *w;
                }
            }
        }
        self.pre.bump(i, step);
    }

    /// The local postsynaptic neurons `posts` spiked at `step`: their synapses are
    /// potentiated, then their traces jump.
    pub fn potentiate(&mut self, posts: &[u32], step: u64, weights: &mut [R]) {
        for &j in posts {
            let j = j as usize;
            if self.learning {
                let range = self.by_post_start[j] as usize..self.by_post_start[j + 1] as usize;
                match self.rule {
                    Rule::Multiplicative { lambda, w_max, .. } => {
                        self.each(range, weights, step, |w, x| {
                            (w + lambda * (w_max - w) * x).min(w_max)
                        })
                    }
                    Rule::Pair(r) => {
                        self.each(range, weights, step, |w, x| pair_potentiate(&r, w, x))
                    }
                    Rule::Triplet { a3_plus, w_max, .. } => {
                        // y_post before this spike's own jump.
                        let (y, _) = self.post_slow.as_ref().expect("triplet traces");
                        let a = a3_plus * y.value[j];
                        self.each(range, weights, step, |w, x| (w + a * x).min(w_max))
                    }
                }
            }
            self.post_fast.value[j] += R::ONE;
            if let Some((y, h)) = &mut self.post_slow {
                y.value[j] += R::ONE;
                h.value[j] += R::ONE;
            }
        }
    }

    /// `w ← update(w, x_pre)` for each synapse of one postsynaptic neuron: those at
    /// `range` of the by-post lists.
    #[inline(always)]
    fn each(
        &self,
        range: std::ops::Range<usize>,
        weights: &mut [R],
        step: u64,
        update: impl Fn(R, R) -> R,
    ) {
        let synapses = &self.by_post_synapse[range.clone()];
        crate::with_indices!(&self.by_post_pre, p => {
            self.each_of(synapses, &p[range], weights, step, &update)
        })
    }

    /// [`Stdp::each`] with the presynaptic indices as they are stored.
    #[inline(always)]
    fn each_of<T: Local>(
        &self,
        synapses: &[u32],
        pres: &[T],
        weights: &mut [R],
        step: u64,
        update: &impl Fn(R, R) -> R,
    ) {
        const AHEAD: usize = 16;
        for (n, (&k, &i)) in synapses.iter().zip(pres).enumerate() {
            if let Some(&next) = synapses.get(n + AHEAD) {
                crate::cache::prefetch(&weights[next as usize]);
            }
            let k = k as usize;
            weights[k] = update(weights[k], self.pre.at(i.at(), step));
        }
    }
}

/// The inner loops' constants of `rule` with its amplitudes scaled by `factor` (with
/// 1, exactly the rule's own: x · 1 rounds to x).
fn constants<R: Real>(rule: &Plasticity, factor: f64) -> Rule<R> {
    match *rule {
        Plasticity::Pair(r) => {
            if r.mu_plus == 1.0 && r.mu_minus == 1.0 {
                Rule::Multiplicative {
                    lambda: R::of(r.lambda * factor),
                    lambda_alpha: R::of(r.lambda * r.alpha * factor),
                    w_max: R::of(r.w_max),
                }
            } else {
                Rule::Pair(PairStdp {
                    lambda: r.lambda * factor,
                    ..r
                })
            }
        }
        Plasticity::Triplet(r) => Rule::Triplet {
            a3_plus: R::of(r.a3_plus * factor),
            c: R::of(r.depression_factor() * factor),
            w_max: R::of(r.w_max),
        },
    }
}

/// Pair-rule depression with general μ₋: `w̃ −= λ·α·w̃^μ₋·K₋`, clipped at 0.
fn pair_depress<R: Real>(r: &PairStdp, w: R, k_minus: R) -> R {
    let wn = w.to_f64() / r.w_max;
    let dw = r.lambda * r.alpha * power(wn, r.mu_minus) * k_minus.to_f64();
    R::of((wn - dw).max(0.0) * r.w_max)
}

/// Pair-rule potentiation with general μ₊: `w̃ += λ·(1 − w̃)^μ₊·K₊`, clipped at 1.
fn pair_potentiate<R: Real>(r: &PairStdp, w: R, k_plus: R) -> R {
    let wn = w.to_f64() / r.w_max;
    let dw = r.lambda * power(1.0 - wn, r.mu_plus) * k_plus.to_f64();
    R::of((wn + dw).min(1.0) * r.w_max)
}

/// x^μ with μ = 0 (additive) exact.
fn power(x: f64, mu: f64) -> f64 {
    if mu == 0.0 {
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
        PairStdp, Plasticity, PopulationSpec, TraceMode, TripletStdp,
    };
    use crate::rng::CounterRng;

    const DT: f64 = 1e-4;

    fn rule(traces: TraceMode, lambda: f64) -> Plasticity {
        Plasticity::Pair(PairStdp {
            tau_plus: 20e-3,
            tau_minus: 20e-3,
            lambda,
            alpha: 2.02,
            mu_plus: 1.0,
            mu_minus: 1.0,
            w_max: 0.3e-3,
            traces,
        })
    }

    /// The triplet rule with a fast homeostat and a large learning rate, so that every
    /// term moves the weight far above rounding.
    fn triplet(traces: TraceMode, tau_hom: f64, eta: f64) -> TripletStdp {
        TripletStdp::zenke2013(eta, tau_hom, traces)
    }

    fn net(n_pre: usize, n_post: usize, p: f64, weight: f64, stdp: Plasticity) -> Network {
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
            let Plasticity::Pair(r) = r else {
                unreachable!()
            };
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
                let got = c.weights().unwrap()[0];
                assert!(
                    (got - expected).abs() < 1e-12 * expected,
                    "{traces:?}, Δt = {ms} ms: {got} vs {expected}"
                );
            }
        }
    }

    /// `who`'s neurons 0..n spike independently with probability p per step.
    fn random_spikes(who: u32, n: u32, p: f64) -> impl Fn(u64) -> Vec<u32> {
        let draws = CounterRng::new(99);
        move |t: u64| -> Vec<u32> {
            (0..n)
                .filter(|&i| {
                    let w = draws.block(who * 1000 + i, 7, t);
                    (w[0] as f64) < p * 4_294_967_296.0
                })
                .collect()
        }
    }

    /// Continuous and event-based presynaptic traces give the same weights (to
    /// rounding) on a small network driven by random spikes, for both rules; weights
    /// stay in bounds.
    #[test]
    fn continuous_and_event_based_traces_agree() {
        let pair = |t| (rule(t, 0.05), 0.1e-3, 0.3e-3);
        let tri = |t| (Plasticity::Triplet(triplet(t, 0.5, 50.0)), 0.5, 1.0);
        for make in [&pair as &dyn Fn(TraceMode) -> (Plasticity, f64, f64), &tri] {
            let mut weights = Vec::new();
            for traces in [TraceMode::Continuous, TraceMode::EventBased] {
                let (r, w0, w_max) = make(traces);
                let n = net(50, 40, 0.3, w0, r);
                let mut c = Connection::<f64>::build(&n, 0, 0..40, &CounterRng::new(3));
                drive(
                    &mut c,
                    20_000,
                    random_spikes(1, 50, 0.002),
                    random_spikes(2, 40, 0.002),
                );
                assert!(c
                    .weights()
                    .unwrap()
                    .iter()
                    .all(|&w| (0.0..=w_max).contains(&w)));
                weights.push(c.weights().unwrap().to_vec());
            }
            let (r, w0, w_max) = make(TraceMode::Continuous);
            let moved = weights[0]
                .iter()
                .filter(|&&w| (w - w0).abs() > 1e-6 * w_max)
                .count();
            assert!(
                moved > weights[0].len() / 2,
                "{r:?}: plasticity changed the weights ({moved} moved)"
            );
            for (a, b) in weights[0].iter().zip(&weights[1]) {
                assert!((a - b).abs() <= 1e-12 * w_max, "{r:?}: {a} vs {b}");
            }
        }
    }

    /// Triplet rule on a hand-computed sequence (one synapse, no delay): pre at 0.5 ms,
    /// post at 10.5 and 20.5 ms, pre at 30.5 ms. Each weight change is the rule applied
    /// to the traces computed by hand.
    #[test]
    fn triplet_rule_on_a_hand_computed_sequence() {
        for traces in [TraceMode::Continuous, TraceMode::EventBased] {
            let r = triplet(traces, 0.2, 10.0);
            let w0 = 0.5;
            let n = net(1, 1, 1.0, w0, Plasticity::Triplet(r));
            let mut c = Connection::<f64>::build(&n, 0, 0..1, &CounterRng::new(1));
            let (pre, post) = ([5u64, 305], [105u64, 205]);
            let mut weights = Vec::new();
            let mut input = vec![0.0];
            for t in 0..=305 {
                c.begin_step();
                let arrivals = pre.iter().filter(|&&s| s == t).map(|_| 0u32);
                c.propagate_plastic(arrivals, &mut input, t);
                let spikes: Vec<u32> = post.iter().filter(|&&s| s == t).map(|_| 0).collect();
                c.potentiate(&spikes, t);
                weights.push(c.weights().unwrap()[0]);
            }
            let e = |ms: f64, tau: f64| (-ms * 1e-3 / tau).exp();
            // Post at 10.5 ms: x_pre = e^{-10/16.8}, but y_post = 0 before the first
            // postsynaptic spike, so no change.
            assert_eq!(weights[105], w0, "{traces:?}: first post spike");
            // Post at 20.5 ms: A3+ · x_pre(20 ms after the pre) · y_post(10 ms after the
            // first post, read before this spike's jump).
            let w1 = w0 + r.a3_plus * e(20.0, r.tau_plus) * e(10.0, r.tau_y);
            assert!(
                (weights[205] - w1).abs() < 1e-12,
                "{traces:?}: {} vs {w1}",
                weights[205]
            );
            // Pre at 30.5 ms: −C · x_post · h², both traces holding the two post spikes.
            let x_post = e(20.0, r.tau_minus) + e(10.0, r.tau_minus);
            let h = e(20.0, r.tau_hom) + e(10.0, r.tau_hom);
            let w2 = w1 - r.depression_factor() * x_post * h * h;
            assert!(w2 < w1 - 1e-6, "the depression is visible");
            assert!(
                (weights[305] - w2).abs() < 1e-12,
                "{traces:?}: {} vs {w2}",
                weights[305]
            );
            assert!(
                (input[0] - (w0 + w2)).abs() < 1e-12,
                "each arrival delivers the depressed weight"
            );
        }
    }

    /// The homeostatic depression per presynaptic spike is C·x_post·h², with h summing
    /// the postsynaptic spikes of the last τ_hom: after a priming run (no weight
    /// changes) of postsynaptic spikes at a regular rate ν, h ≈ ν·τ_hom and the
    /// depression per arrival ≈ A3+·τ₊·τ_y·ν²·x_post / (τ₋·κ): it scales with ν².
    #[test]
    fn homeostatic_depression_scales_with_the_square_of_the_rate() {
        let tau_hom = 10.0;
        let r = triplet(TraceMode::Continuous, tau_hom, 1.0);
        let mut per_rate = Vec::new();
        for hz in [3u64, 6] {
            let period = 10_000 / hz;
            let n = net(1, 1, 1.0, 0.5, Plasticity::Triplet(r));
            let mut c = Connection::<f64>::build(&n, 0, 0..1, &CounterRng::new(1));
            let mut input = vec![0.0];
            // Prime for 3 τ_hom with the weights fixed; then one arrival 10 ms after
            // the last postsynaptic spike.
            c.set_learning(false);
            let primed = 300_000 - 300_000 % period;
            drive(
                &mut c,
                primed + 100,
                |_| vec![],
                |t| {
                    if t % period == 0 && t <= primed {
                        vec![0]
                    } else {
                        vec![]
                    }
                },
            );
            assert_eq!(
                c.weights().unwrap()[0],
                0.5,
                "priming leaves the weights alone"
            );
            c.set_learning(true);
            let t = primed + 100;
            c.begin_step();
            c.propagate_plastic([0u32].into_iter(), &mut input, t);
            let dw = 0.5 - c.weights().unwrap()[0];
            assert!(dw > 0.0, "{hz} Hz: homeostatic term depresses");
            // Exact: geometric sums over the regular spike train.
            let q = |tau: f64| (-(period as f64) * 1e-4 / tau).exp();
            let since = (-100.0 * 1e-4 / tau_hom).exp();
            let spikes = (primed / period + 1) as i32;
            let h = since * (1.0 - q(tau_hom).powi(spikes)) / (1.0 - q(tau_hom));
            let x = (-100.0 * 1e-4 / r.tau_minus).exp() / (1.0 - q(r.tau_minus));
            let exact = r.depression_factor() * x * h * h;
            assert!(
                (dw - exact).abs() < 1e-9 * exact,
                "{hz} Hz: {dw} vs {exact}"
            );
            // Scale: within 10 % of the rate-based estimate (after 3 τ_hom, h has
            // reached 1 − e⁻³ = 95 % of ν·τ_hom, and h² 90 %).
            let nu = hz as f64;
            let estimate = r.a3_plus * r.tau_plus * r.tau_y * nu * nu * x / (r.tau_minus * r.kappa);
            assert!(
                (dw / estimate - 1.0).abs() < 0.1,
                "{hz} Hz: {dw} vs ≈ {estimate}"
            );
            per_rate.push(dw / x);
        }
        let ratio = per_rate[1] / per_rate[0];
        assert!(
            (ratio - 4.0).abs() < 0.4,
            "doubling the rate: ×{ratio}, expected ≈ 4"
        );
    }

    /// Below the target rate κ the rule potentiates on balance, above it it depresses
    /// (pre and post Poisson at the same rate, after priming for 2 τ_hom). τ_hom must be
    /// long against 1/ν: h then estimates ν·τ_hom with little noise (with τ_hom = 1 s at
    /// 1 Hz, the spike that raises x_post also raises h, and depression wins).
    #[test]
    fn triplet_rule_potentiates_below_and_depresses_above_the_target_rate() {
        let r = triplet(TraceMode::EventBased, 10.0, 20.0);
        let mut drift = Vec::new();
        for hz in [1.0, 9.0] {
            let n = net(10, 10, 1.0, 0.5, Plasticity::Triplet(r));
            let mut c = Connection::<f64>::build(&n, 0, 0..10, &CounterRng::new(1));
            let p = hz * 1e-4;
            c.set_learning(false);
            drive(
                &mut c,
                200_000,
                random_spikes(1, 10, p),
                random_spikes(2, 10, p),
            );
            c.set_learning(true);
            let mut input = vec![0.0; 10];
            let (pre, post) = (random_spikes(3, 10, p), random_spikes(4, 10, p));
            for t in 200_000..400_000 {
                c.begin_step();
                c.propagate_plastic(pre(t).into_iter(), &mut input, t);
                c.potentiate(&post(t), t);
            }
            let mean = c.weights().unwrap().iter().sum::<f64>() / c.weights().unwrap().len() as f64;
            drift.push(mean - 0.5);
        }
        assert!(drift[0] > 0.0, "1 Hz < κ: {drift:?}");
        assert!(drift[1] < 0.0, "9 Hz > κ: {drift:?}");
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
        assert_eq!(
            c.weights().unwrap()[0],
            0.3e-3,
            "potentiation stops at w_max"
        );
        drive(
            &mut c,
            3,
            |t| if t == 2 { vec![0] } else { vec![] },
            |t| if t == 1 { vec![0] } else { vec![] },
        );
        assert_eq!(c.weights().unwrap()[0], 0.0, "depression stops at 0");
    }
}
