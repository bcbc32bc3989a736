//! The network description (the "recipe"): what populations and connections exist and
//! with which parameters. Nothing here knows how many workers will run it.
//!
//! Units are SI throughout: seconds, volts; conductances are in units of the leak
//! conductance (dimensionless), as in Auryn.

use std::sync::Arc;

use crate::mtx::Entry;

/// A whole network: populations, connections, time step, seed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Network {
    pub name: String,
    /// Integration time step in seconds.
    pub dt: f64,
    pub seed: u64,
    pub populations: Vec<PopulationSpec>,
    pub connections: Vec<ConnectionSpec>,
}

/// Neurons of one model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PopulationSpec {
    pub name: String,
    pub size: usize,
    pub model: NeuronModel,
    pub initial_v: InitialV,
}

/// The neuron models the engine can integrate.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub enum NeuronModel {
    /// Conductance-based integrate-and-fire (Vogels–Abbott COBA).
    Coba(CobaParams),
    /// Independent Poisson spike sources (no input, no state but the generator).
    Poisson(PoissonParams),
    /// Conductance-based with AMPA, NMDA and GABA inputs and a dynamic threshold (the
    /// 25 k network of Zenke et al. 2013).
    AmpaNmda(AmpaNmdaParams),
    /// Current-based integrate-and-fire with delta synapses, exact integration (NEST
    /// iaf_psc_delta), optional external Poisson drive.
    Delta(DeltaParams),
}

impl CobaParams {
    /// The Vogels–Abbott benchmark neuron (paper §2.3.1): τ_m 20 ms, E_L = V_reset
    /// −60 mV, θ −50 mV, E_e 0 mV, E_i −80 mV, τ_e 5 ms, τ_i 10 ms, refractory 5 ms,
    /// I_bg 20 mV.
    pub fn vogels_abbott() -> Self {
        CobaParams {
            tau_m: 20e-3,
            e_leak: -60e-3,
            v_reset: -60e-3,
            threshold: -50e-3,
            e_exc: 0.0,
            e_inh: -80e-3,
            tau_exc: 5e-3,
            tau_inh: 10e-3,
            refractory: 5e-3,
            i_bg: 20e-3,
        }
    }
}

/// Parameters of the AMPA/NMDA/GABA neuron with a dynamic threshold (SI units).
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub struct AmpaNmdaParams {
    pub tau_m: f64,
    pub e_leak: f64,
    pub v_reset: f64,
    pub e_inh: f64,
    pub threshold: f64,
    /// a: the AMPA share of the excitatory conductance (1 − a is NMDA).
    pub ampa_share: f64,
    pub tau_ampa: f64,
    pub tau_nmda: f64,
    pub tau_gaba: f64,
    pub tau_theta: f64,
    /// θ_dyn right after a spike.
    pub theta_spike: f64,
}

impl AmpaNmdaParams {
    /// The neuron of the 25 k network (Zenke et al. 2013; paper §2.3.2) with membrane
    /// time constant `tau_m` (20 ms for E, 10 ms for I).
    pub fn zenke2013(tau_m: f64) -> Self {
        AmpaNmdaParams {
            tau_m,
            e_leak: -70e-3,
            v_reset: -70e-3,
            e_inh: -80e-3,
            threshold: -50e-3,
            ampa_share: 0.5,
            tau_ampa: 5e-3,
            tau_nmda: 100e-3,
            tau_gaba: 10e-3,
            tau_theta: 5e-3,
            theta_spike: 100e-3,
        }
    }
}

/// Parameters of the delta-synapse neuron; weights onto it are voltage jumps (V).
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub struct DeltaParams {
    pub tau_m: f64,
    pub e_leak: f64,
    pub v_reset: f64,
    pub threshold: f64,
    pub refractory: f64,
    /// Total rate of external Poisson inputs per neuron, Hz (0: none).
    pub ext_rate: f64,
    /// Voltage jump of one external input, V.
    pub ext_weight: f64,
}

impl DeltaParams {
    /// The Brunel (2000) neuron as NEST's iaf_psc_delta (τ_m 20 ms, E_L 0, V_reset
    /// 10 mV, θ 20 mV, refractory 2 ms), driven by `ext_rate` Hz of inputs of size `j`.
    pub fn brunel(ext_rate: f64, j: f64) -> Self {
        DeltaParams {
            tau_m: 20e-3,
            e_leak: 0.0,
            v_reset: 10e-3,
            threshold: 20e-3,
            refractory: 2e-3,
            ext_rate,
            ext_weight: j,
        }
    }
}

/// A Poisson source population.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub struct PoissonParams {
    /// Firing rate of every neuron, Hz.
    pub rate: f64,
    pub generator: PoissonGenerator,
}

/// How Poisson spikes are drawn (paper Fig. 1).
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq, Eq)]
pub enum PoissonGenerator {
    /// Auryn's walk over the (step × neuron) lattice: O(spikes).
    Lattice,
    /// One draw per neuron and step: O(neurons) per step.
    PerStep,
}

/// Parameters of the conductance-based integrate-and-fire neuron:
/// `τ_m dV/dt = (E_L − V) − g_e (V − E_e) − g_i (V − E_i) + I_bg`, forward Euler;
/// conductances decay exactly, `g ← g·exp(−dt/τ)`; after a spike V is reset and then
/// clamped at E_L for the refractory period.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub struct CobaParams {
    pub tau_m: f64,
    pub e_leak: f64,
    pub v_reset: f64,
    pub threshold: f64,
    pub e_exc: f64,
    pub e_inh: f64,
    pub tau_exc: f64,
    pub tau_inh: f64,
    pub refractory: f64,
    /// Background input expressed as a voltage (I·R): 20 mV = 200 pA at 200 pF / 20 ms.
    pub i_bg: f64,
}

/// How membrane potentials start.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub enum InitialV {
    /// Every neuron at one value (Auryn starts at E_L: a synchronous first volley).
    Fixed(f64),
    /// Uniform in [lo, hi), drawn from the seed per global neuron id.
    Uniform { lo: f64, hi: f64 },
    /// Normal with this mean and standard deviation, drawn per global neuron id.
    Normal { mean: f64, sd: f64 },
}

/// Which input of the postsynaptic neuron a connection drives.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq, Eq)]
pub enum Channel {
    Excitatory,
    Inhibitory,
}

/// A connection (pathway) between two populations.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConnectionSpec {
    /// Pathway name, e.g. "EE" (presynaptic E, postsynaptic E); names the weight file.
    pub name: String,
    pub pre: usize,
    pub post: usize,
    pub channel: Channel,
    /// Axonal delay in seconds: a multiple of dt, at least dt.
    pub delay: f64,
    pub connectivity: Connectivity,
    /// Spike-timing-dependent plasticity of the weights, if any.
    pub plasticity: Option<Plasticity>,
}

/// A plasticity rule of a connection's weights.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub enum Plasticity {
    /// Pair STDP with weight dependence (brunel).
    Pair(PairStdp),
    /// Minimal triplet STDP with homeostatic depression (zenke25k).
    Triplet(TripletStdp),
}

impl Plasticity {
    /// How presynaptic traces are kept.
    pub fn traces(&self) -> TraceMode {
        match self {
            Plasticity::Pair(r) => r.traces,
            Plasticity::Triplet(r) => r.traces,
        }
    }

    /// Checks every parameter; the message names the field and what was expected.
    pub fn check(&self) -> Result<(), String> {
        let positive: &[(&str, f64)] = match self {
            Plasticity::Pair(r) => &[
                ("tau_plus", r.tau_plus),
                ("tau_minus", r.tau_minus),
                ("w_max", r.w_max),
            ],
            Plasticity::Triplet(r) => &[
                ("tau_plus", r.tau_plus),
                ("tau_minus", r.tau_minus),
                ("tau_y", r.tau_y),
                ("tau_hom", r.tau_hom),
                ("kappa", r.kappa),
                ("w_max", r.w_max),
            ],
        };
        for &(field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("plasticity {field} = {v}: expected > 0"));
            }
        }
        let non_negative: &[(&str, f64)] = match self {
            Plasticity::Pair(r) => &[
                ("lambda", r.lambda),
                ("alpha", r.alpha),
                ("mu_plus", r.mu_plus),
                ("mu_minus", r.mu_minus),
            ],
            Plasticity::Triplet(r) => &[("a3_plus", r.a3_plus)],
        };
        for &(field, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("plasticity {field} = {v}: expected >= 0"));
            }
        }
        Ok(())
    }
}

/// Weight-dependent pair STDP as NEST's `stdp_synapse_hom` (Gütig et al. 2003), on
/// weights normalised by `w_max` (w̃ = w / w_max, clipped to [0, 1]):
/// a presynaptic spike arriving at step t depresses, `w̃ −= λ·α·w̃^μ₋·K₋(t⁻)`, with the
/// postsynaptic trace K₋ of the spikes strictly before t; a postsynaptic spike at t
/// potentiates, `w̃ += λ·(1 − w̃)^μ₊·K₊(t)`, with the presynaptic trace K₊ of the arrivals
/// up to and including t. Traces jump by 1 and decay with τ₊ / τ₋.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub struct PairStdp {
    pub tau_plus: f64,
    pub tau_minus: f64,
    pub lambda: f64,
    pub alpha: f64,
    pub mu_plus: f64,
    pub mu_minus: f64,
    /// Largest weight (in the connection's weight units).
    pub w_max: f64,
    /// How presynaptic traces are kept (the results agree to rounding).
    pub traces: TraceMode,
}

/// Minimal triplet STDP with homeostatic depression (Pfister & Gerstner 2006; Zenke et
/// al. 2013), on weights in [0, `w_max`]. A postsynaptic spike at t potentiates,
/// `w += A3+ · x_pre(t) · y_post(t⁻)`, with the presynaptic trace x_pre (τ₊) of the
/// arrivals up to and including t and the slow postsynaptic trace y_post (τ_y) of the
/// spikes strictly before t. A presynaptic spike arriving at t depresses,
/// `w −= C · x_post(t⁻) · h(t⁻)²`, with the postsynaptic trace x_post (τ₋) and the
/// homeostatic trace h (τ_hom) of the postsynaptic spikes strictly before t, and
/// `C = A3+ · τ₊ · τ_y / (τ₋ · κ · τ_hom²)`. Every trace jumps by 1 per spike, so
/// h/τ_hom estimates the postsynaptic rate ν and depression grows as ν²: the rule
/// potentiates below the target rate κ and depresses above it.
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq)]
pub struct TripletStdp {
    pub tau_plus: f64,
    pub tau_minus: f64,
    pub tau_y: f64,
    pub tau_hom: f64,
    /// A3+, the learning rate of triplet potentiation.
    pub a3_plus: f64,
    /// κ, the target rate in Hz.
    pub kappa: f64,
    /// Largest weight (in the connection's weight units).
    pub w_max: f64,
    /// How presynaptic traces are kept (the results agree to rounding).
    pub traces: TraceMode,
}

impl TripletStdp {
    /// The parameters of Zenke et al. 2013 (τ₊ 16.8 ms, τ₋ 33.7 ms, τ_y 114 ms,
    /// A3+ = 6.5·10⁻³·η, κ 3 Hz, w ∈ [0, 1]) with learning-rate factor `eta` and the
    /// homeostatic time constant `tau_hom` (50 s in the paper's runs, 10 s in its
    /// benchmarks).
    pub fn zenke2013(eta: f64, tau_hom: f64, traces: TraceMode) -> Self {
        TripletStdp {
            tau_plus: 16.8e-3,
            tau_minus: 33.7e-3,
            tau_y: 114e-3,
            tau_hom,
            a3_plus: 6.5e-3 * eta,
            kappa: 3.0,
            w_max: 1.0,
            traces,
        }
    }

    /// C, the factor of homeostatic depression.
    pub fn depression_factor(&self) -> f64 {
        self.a3_plus * self.tau_plus * self.tau_y
            / (self.tau_minus * self.kappa * self.tau_hom * self.tau_hom)
    }
}

/// Presynaptic traces (paper Fig. 8C vs 8D).
#[derive(Debug, Clone, serde::Serialize, Copy, PartialEq, Eq)]
pub enum TraceMode {
    /// Every worker decays the traces of all presynaptic neurons every step (Auryn's
    /// default; redundant work that does not shrink with more workers).
    Continuous,
    /// Each trace is decayed exactly, only when it is read or incremented.
    EventBased,
}

/// Where the synapses of a connection come from.
#[derive(Debug, Clone)]
pub enum Connectivity {
    /// Each (pre, post) pair connected with probability `p`, drawn from the seed, all
    /// with the same weight. Autapses are allowed, as in PyNN's and Brian's defaults.
    FixedProbability { p: f64, weight: f64 },
    /// Explicit synapses (0-based pre, 0-based post, weight), sorted by (pre, post),
    /// e.g. loaded from a Matrix Market file.
    Explicit(Arc<Vec<Entry>>),
}

/// A network's description says what explicit synapses it has by their number and a
/// hash (FNV-1a over the entries' bytes), not by listing millions of them: enough to
/// tell whether a checkpoint belongs to this network.
impl serde::Serialize for Connectivity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self {
            Connectivity::FixedProbability { p, weight } => {
                let mut st = s.serialize_struct("FixedProbability", 2)?;
                st.serialize_field("p", p)?;
                st.serialize_field("weight", weight)?;
                st.end()
            }
            Connectivity::Explicit(entries) => {
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for &(i, j, w) in entries.iter() {
                    for b in i
                        .to_le_bytes()
                        .into_iter()
                        .chain(j.to_le_bytes())
                        .chain(w.to_bits().to_le_bytes())
                    {
                        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
                    }
                }
                let mut st = s.serialize_struct("Explicit", 2)?;
                st.serialize_field("synapses", &entries.len())?;
                st.serialize_field("fnv1a", &format!("{h:016x}"))?;
                st.end()
            }
        }
    }
}

/// A network that does not make sense, with what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("time step dt = {0} s: expected a positive, finite number of seconds")]
    BadDt(f64),
    #[error("connection {name}: delay {delay} s is {problem} (dt = {dt} s)")]
    BadDelay {
        name: String,
        delay: f64,
        dt: f64,
        problem: &'static str,
    },
    #[error("connection {name}: {what}")]
    BadConnection { name: String, what: String },
    #[error("population {name}: {what}")]
    BadPopulation { name: String, what: String },
    #[error("the network has {0} neurons; at most 2^32 - 1 are supported")]
    TooLarge(usize),
    #[error(
        "{partitions} partitions (threads or partitions per rank × ranks): the network has \
         only {neurons} neurons, so some partitions would own none; expected at most \
         {neurons} partitions"
    )]
    TooManyPartitions { partitions: usize, neurons: usize },
}

impl Network {
    pub fn neuron_count(&self) -> usize {
        self.populations.iter().map(|p| p.size).sum()
    }

    /// Global id of the first neuron of each population (populations are numbered in order).
    pub fn offsets(&self) -> Vec<usize> {
        let mut acc = 0;
        self.populations
            .iter()
            .map(|p| {
                let o = acc;
                acc += p.size;
                o
            })
            .collect()
    }

    /// Delay of a connection in whole time steps, after checking it is a multiple of dt.
    pub fn delay_steps(&self, c: &ConnectionSpec) -> Result<usize, ModelError> {
        let bad = |problem| ModelError::BadDelay {
            name: c.name.clone(),
            delay: c.delay,
            dt: self.dt,
            problem,
        };
        if !c.delay.is_finite() || c.delay <= 0.0 {
            return Err(bad("not a positive number of seconds"));
        }
        let ratio = c.delay / self.dt;
        if ratio < 1.0 - 1e-6 {
            return Err(bad("below dt"));
        }
        let steps = ratio.round();
        if (ratio - steps).abs() > 1e-6 * ratio {
            return Err(bad("not a multiple of dt"));
        }
        Ok(steps as usize)
    }

    /// The minimum delay in steps: spikes are exchanged every that many steps. A network
    /// without connections exchanges every step.
    pub fn min_delay_steps(&self) -> Result<usize, ModelError> {
        let mut min = usize::MAX;
        for c in &self.connections {
            min = min.min(self.delay_steps(c)?);
        }
        Ok(if min == usize::MAX { 1 } else { min })
    }

    pub fn max_delay_steps(&self) -> Result<usize, ModelError> {
        let mut max = 1;
        for c in &self.connections {
            max = max.max(self.delay_steps(c)?);
        }
        Ok(max)
    }

    /// Checks that `partitions` partitions each get at least one neuron.
    pub fn check_split(&self, partitions: usize) -> Result<(), ModelError> {
        let neurons = self.neuron_count();
        if partitions > neurons {
            return Err(ModelError::TooManyPartitions {
                partitions,
                neurons,
            });
        }
        Ok(())
    }

    /// Checks everything a run relies on; the messages name the part and the value.
    pub fn validate(&self) -> Result<(), ModelError> {
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(ModelError::BadDt(self.dt));
        }
        let n = self.neuron_count();
        if n >= u32::MAX as usize {
            return Err(ModelError::TooLarge(n));
        }
        for p in &self.populations {
            let bad = |what: String| ModelError::BadPopulation {
                name: p.name.clone(),
                what,
            };
            match &p.model {
                NeuronModel::Poisson(pp) => {
                    if !(pp.rate.is_finite() && pp.rate >= 0.0) {
                        return Err(bad(format!("rate = {} Hz: expected >= 0", pp.rate)));
                    }
                    if pp.rate * self.dt > 1.0 {
                        return Err(bad(format!(
                            "rate = {} Hz: expected at most one spike per step (<= {} Hz at dt = {} s)",
                            pp.rate,
                            1.0 / self.dt,
                            self.dt
                        )));
                    }
                }
                NeuronModel::AmpaNmda(a) => {
                    for (field, v) in [
                        ("tau_m", a.tau_m),
                        ("tau_ampa", a.tau_ampa),
                        ("tau_nmda", a.tau_nmda),
                        ("tau_gaba", a.tau_gaba),
                        ("tau_theta", a.tau_theta),
                    ] {
                        if !(v.is_finite() && v > 0.0) {
                            return Err(bad(format!("{field} = {v} s: expected > 0")));
                        }
                    }
                    if !(0.0..=1.0).contains(&a.ampa_share) {
                        return Err(bad(format!(
                            "AMPA share = {}: expected in [0, 1]",
                            a.ampa_share
                        )));
                    }
                }
                NeuronModel::Delta(d) => {
                    if !(d.tau_m.is_finite() && d.tau_m > 0.0) {
                        return Err(bad(format!("tau_m = {} s: expected > 0", d.tau_m)));
                    }
                    if !(d.refractory.is_finite() && d.refractory >= 0.0) {
                        return Err(bad(format!(
                            "refractory = {} s: expected >= 0",
                            d.refractory
                        )));
                    }
                    if !(d.ext_rate.is_finite() && d.ext_rate >= 0.0) {
                        return Err(bad(format!(
                            "external rate = {} Hz: expected >= 0",
                            d.ext_rate
                        )));
                    }
                }
                NeuronModel::Coba(c) => {
                    for (field, v) in [
                        ("tau_m", c.tau_m),
                        ("tau_exc", c.tau_exc),
                        ("tau_inh", c.tau_inh),
                    ] {
                        if !(v.is_finite() && v > 0.0) {
                            return Err(bad(format!("{field} = {v} s: expected > 0")));
                        }
                    }
                    if !(c.refractory.is_finite() && c.refractory >= 0.0) {
                        return Err(bad(format!(
                            "refractory = {} s: expected >= 0",
                            c.refractory
                        )));
                    }
                }
            }
        }
        for c in &self.connections {
            let bad = |what: String| ModelError::BadConnection {
                name: c.name.clone(),
                what,
            };
            if c.pre >= self.populations.len() || c.post >= self.populations.len() {
                return Err(bad(format!(
                    "population index {} -> {} out of range (there are {})",
                    c.pre,
                    c.post,
                    self.populations.len()
                )));
            }
            self.delay_steps(c)?;
            if let Some(rule) = &c.plasticity {
                rule.check().map_err(bad)?;
            }
            if matches!(self.populations[c.post].model, NeuronModel::Poisson(_)) {
                return Err(bad(format!(
                    "targets population {}, a Poisson source, which takes no input",
                    self.populations[c.post].name
                )));
            }
            let (n_pre, n_post) = (self.populations[c.pre].size, self.populations[c.post].size);
            match &c.connectivity {
                Connectivity::FixedProbability { p, weight } => {
                    if !(0.0..=1.0).contains(p) {
                        return Err(bad(format!("probability {p}: expected in [0, 1]")));
                    }
                    if !weight.is_finite() {
                        return Err(bad(format!("weight {weight}: expected a finite number")));
                    }
                }
                Connectivity::Explicit(entries) => {
                    if let Some(&(i, j, _)) = entries
                        .iter()
                        .find(|&&(i, j, _)| i as usize >= n_pre || j as usize >= n_post)
                    {
                        return Err(bad(format!(
                            "synapse ({i}, {j}) outside the {n_pre} x {n_post} pathway"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(rate: f64) -> Network {
        Network {
            name: "s".into(),
            dt: 1e-4,
            seed: 1,
            populations: vec![PopulationSpec {
                name: "P".into(),
                size: 10,
                model: NeuronModel::Poisson(PoissonParams {
                    rate,
                    generator: PoissonGenerator::Lattice,
                }),
                initial_v: InitialV::Fixed(0.0),
            }],
            connections: vec![],
        }
    }

    #[test]
    fn poisson_sources_are_validated() {
        source(5.0).validate().unwrap();
        let e = source(-1.0).validate().unwrap_err().to_string();
        assert!(e.contains("P") && e.contains("-1"), "{e}");
        let e = source(2e4).validate().unwrap_err().to_string();
        assert!(
            e.contains("20000") && e.contains("one spike per step"),
            "{e}"
        );
        let mut n = source(5.0);
        n.connections.push(ConnectionSpec {
            name: "PP".into(),
            pre: 0,
            post: 0,
            channel: Channel::Excitatory,
            delay: 1e-3,
            connectivity: Connectivity::FixedProbability {
                p: 0.1,
                weight: 1.0,
            },
            plasticity: None,
        });
        let e = n.validate().unwrap_err().to_string();
        assert!(e.contains("PP") && e.contains("takes no input"), "{e}");
    }

    #[test]
    fn delays_must_be_positive_multiples_of_dt() {
        let mut n = source(5.0);
        n.populations[0].model = NeuronModel::Coba(CobaParams::vogels_abbott());
        let conn = |delay| ConnectionSpec {
            name: "XX".into(),
            pre: 0,
            post: 0,
            channel: Channel::Excitatory,
            delay,
            connectivity: Connectivity::FixedProbability {
                p: 0.1,
                weight: 1.0,
            },
            plasticity: None,
        };
        n.connections = vec![conn(8e-4), conn(2e-3)];
        assert_eq!(n.min_delay_steps().unwrap(), 8);
        assert_eq!(n.max_delay_steps().unwrap(), 20);
        for (bad, what) in [
            (5e-5, "below dt"),
            (1.5e-4, "multiple"),
            (-1e-3, "positive"),
        ] {
            n.connections = vec![conn(bad)];
            let e = n.validate().unwrap_err().to_string();
            assert!(e.contains("XX") && e.contains(what), "{bad}: {e}");
        }
    }
}
