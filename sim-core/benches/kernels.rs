//! Micro-benchmarks of the hot kernels, f32 and f64: `evolve` of each neuron model,
//! `propagate` through a Vogels–Abbott-sized connection, the two Poisson generators, the
//! three phases of each plasticity rule (`-- plasticity`), and `evolve` blocked over an
//! exchange window (`-- evolve-blocked`). `cargo bench -p sim-core` prints medians;
//! compare within one run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sim_core::connection::Connection;
use sim_core::model::{
    AmpaNmdaParams, CobaParams, DeltaParams, NeuronModel, PoissonGenerator, PoissonParams,
};
use sim_core::neuron::{AmpaNmda, Coba, Delta, Poisson};
use sim_core::rng::CounterRng;
use sim_core::{
    Channel, ConnectionSpec, Connectivity, InitialV, Network, PairStdp, Plasticity, PopulationSpec,
    Real, TraceMode, TripletStdp,
};

const DT: f64 = 1e-4;

fn coba() -> CobaParams {
    CobaParams::vogels_abbott()
}

/// Initial potentials spread below threshold, so a few neurons spike each step.
fn spread<R: Real>(n: usize, lo: f64, hi: f64) -> Vec<R> {
    (0..n)
        .map(|i| R::of(lo + (hi - lo) * i as f64 / n as f64))
        .collect()
}

fn evolve<R: Real>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("evolve/{name}"));
    let mut spiked = Vec::new();
    let n = 4000;
    g.throughput(Throughput::Elements(n as u64));
    let mut va = Coba::<R>::new(&coba(), DT, spread(n, -60e-3, -50e-3));
    g.bench_function(BenchmarkId::new("coba", n), |b| {
        b.iter(|| {
            spiked.clear();
            va.evolve(black_box(&mut spiked));
        })
    });
    let n = 10_000;
    let delta = DeltaParams::brunel(20_000.0, 0.1e-3);
    let rng = CounterRng::new(1);
    let mut br = Delta::<R>::new(&delta, DT, spread(n, 0.0, 20e-3), 0, &rng);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("delta+drive", n), |b| {
        b.iter(|| {
            spiked.clear();
            br.evolve(black_box(&mut spiked));
        })
    });
    let n = 25_000;
    let an = AmpaNmdaParams::zenke2013(20e-3);
    let mut z = AmpaNmda::<R>::new(&an, DT, spread(n, -70e-3, -50e-3));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("ampa-nmda", n), |b| {
        b.iter(|| {
            spiked.clear();
            z.evolve(black_box(&mut spiked));
        })
    });
    g.finish();
}

/// A VA-sized E→E connection (3200 × 3200, p = 0.02); each iteration delivers the
/// spikes of 8 presynaptic neurons (≈ one step of the network at 17 Hz).
fn propagate<R: Real>(c: &mut Criterion, name: &str) {
    let pop = |size| PopulationSpec {
        name: "E".into(),
        size,
        model: NeuronModel::Coba(coba()),
        initial_v: InitialV::Fixed(-60e-3),
    };
    let net = Network {
        name: "bench".into(),
        dt: DT,
        seed: 1,
        populations: vec![pop(3200)],
        connections: vec![ConnectionSpec {
            name: "EE".into(),
            pre: 0,
            post: 0,
            channel: Channel::Excitatory,
            delay: 8e-4,
            connectivity: Connectivity::FixedProbability {
                p: 0.02,
                weight: 0.4,
            },
            plasticity: None,
        }],
    };
    let conn = Connection::<R>::build(&net, 0, 0..3200, &CounterRng::new(1));
    let mut g_exc = vec![R::ZERO; 3200];
    let spikes: Vec<u32> = (0..8).map(|k| 397 * k + 11).collect();
    let events: u64 = {
        let mut scratch = vec![R::ZERO; 3200];
        conn.propagate(spikes.iter().copied(), &mut scratch)
    };
    let mut g = c.benchmark_group(format!("propagate/{name}"));
    g.throughput(Throughput::Elements(events));
    g.bench_function("va-EE-8-spikes", |b| {
        b.iter(|| black_box(conn.propagate(spikes.iter().copied(), &mut g_exc)))
    });
    g.finish();
}

/// One step of 1000 Poisson neurons at 5 Hz (Fig. 1), per generator.
fn poisson(c: &mut Criterion) {
    let mut g = c.benchmark_group("poisson/1000x5Hz-step");
    for (name, generator) in [
        ("lattice", PoissonGenerator::Lattice),
        ("per-step", PoissonGenerator::PerStep),
    ] {
        let params = PoissonParams {
            rate: 5.0,
            generator,
        };
        let mut src = Poisson::new(&params, DT, 0, 1000, 0..1000, &CounterRng::new(1));
        let mut spiked = Vec::new();
        g.bench_function(name, |b| {
            b.iter(|| {
                spiked.clear();
                src.evolve(black_box(&mut spiked));
            })
        });
    }
    g.finish();
}

/// One E→E connection of `n` neurons with probability `p` and initial weight `w`,
/// plastic under `rule`, onto the whole population (a single worker).
fn plastic_connection<R: Real>(n: usize, p: f64, w: f64, rule: Plasticity) -> Connection<R> {
    let net = Network {
        name: "bench".into(),
        dt: DT,
        seed: 1,
        populations: vec![PopulationSpec {
            name: "E".into(),
            size: n,
            model: NeuronModel::Coba(coba()),
            initial_v: InitialV::Fixed(-60e-3),
        }],
        connections: vec![ConnectionSpec {
            name: "EE".into(),
            pre: 0,
            post: 0,
            channel: Channel::Excitatory,
            delay: 1.5e-3,
            connectivity: Connectivity::FixedProbability { p, weight: w },
            plasticity: Some(rule),
        }],
    };
    Connection::build(&net, 0, 0..n, &CounterRng::new(1))
}

/// Neurons spiking in a step: `SPIKES` per step, taken in turn from a fixed pseudo-random
/// permutation, so that each neuron spikes once every n / SPIKES steps and its synapses
/// are as cold in the caches as in a run (a fixed set of 8 neurons would keep its
/// few thousand synapses in L2 and measure cache hits).
struct Turns {
    order: Vec<u32>,
    next: usize,
}

const SPIKES: usize = 8;

impl Turns {
    fn new(n: usize, seed: u64) -> Self {
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut x = seed | 1;
        for i in (1..n).rev() {
            // xorshift64: a fixed shuffle, no dependence on the simulator's generator.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            order.swap(i, (x % (i as u64 + 1)) as usize);
        }
        Turns { order, next: 0 }
    }

    fn step(&mut self) -> &[u32] {
        if self.next + SPIKES > self.order.len() {
            self.next = 0;
        }
        self.next += SPIKES;
        &self.order[self.next - SPIKES..self.next]
    }
}

/// The three phases of a plastic connection of `n` neurons onto themselves with
/// probability `p`, on one connection built once, by `build`, when the group's first
/// selected bench starts (the 20 M synapses of zenke25k take seconds and 0.3–0.4 GB, spent
/// only when a plasticity bench runs). Each bench continues from the state the last one
/// left:
/// - `arrive`: one step's presynaptic arrivals through `propagate_plastic` (8
///   presynaptic neurons; per synapse: depression, then delivery): ns per synaptic event;
/// - `potentiate`: the postsynaptic spikes of one step (8 neurons): ns per synapse
///   updated — a scattered walk through the presynaptic-major weight array, one cache
///   miss each;
/// - `begin_step`: the traces' decay and the depression terms of one step: ns per neuron
///   of the population (pre and post traces of an E→E connection; event-based
///   presynaptic traces are not decayed). Each timed call follows an untimed step of 8
///   arrivals and 8 postsynaptic spikes with learning off, so the traces stay in a
///   run's range instead of decaying into f32 denormals (slow) or to zero (fast). The
///   clock is read around each call (≈ 20 ns against the call's 1–20 µs).
///
/// Spikes rotate through all neurons (see [`Turns`]), so the elements per iteration are
/// the expected synapses of 8 neurons, 8·p·n (the built connection has within 0.1 % of
/// p·n² synapses; it prints its mean). The step counter advances per step, so
/// event-based traces read d^k with k up to n / 8 steps, as in a run.
fn plastic_phases<R: Real>(
    c: &mut Criterion,
    group: String,
    n: usize,
    p: f64,
    build: impl Fn() -> Connection<R>,
) {
    let mut conn: Option<Connection<R>> = None;
    let mut input = vec![R::ZERO; n];
    let mut pres = Turns::new(n, 0x9e37_79b9_7f4a_7c15);
    let mut posts = Turns::new(n, 0xd1b5_4a32_d192_ed03);
    let mut step = 0u64;
    let per_step = (SPIKES as f64 * p * n as f64).round() as u64;
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(per_step));
    g.bench_function("arrive", |b| {
        let conn = built(&mut conn, &build, p);
        b.iter(|| {
            step += 1;
            black_box(conn.propagate_plastic(pres.step().iter().copied(), &mut input, step))
        })
    });
    // The step is held: potentiation reads x_pre at `step`, ≤ n / 8 steps after each
    // neuron's last arrival (event-based: one table product, as in a run).
    step += 1;
    g.bench_function("potentiate", |b| {
        let conn = built(&mut conn, &build, p);
        b.iter(|| conn.potentiate(black_box(posts.step()), step))
    });
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("begin_step", |b| {
        let conn = built(&mut conn, &build, p);
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                step += 1;
                conn.set_learning(false);
                conn.propagate_plastic(pres.step().iter().copied(), &mut input, step);
                conn.potentiate(posts.step(), step);
                conn.set_learning(true);
                let start = Instant::now();
                conn.begin_step();
                timed += start.elapsed();
            }
            timed
        })
    });
    g.finish();
}

/// The group's connection, built on first use.
fn built<'a, R: Real>(
    conn: &'a mut Option<Connection<R>>,
    build: &impl Fn() -> Connection<R>,
    p: f64,
) -> &'a mut Connection<R> {
    conn.get_or_insert_with(|| {
        let mut conn = build();
        // The depression terms of a first step (all zero before).
        conn.begin_step();
        let n = conn.n_pre() as f64;
        eprintln!(
            "built: {} synapses, {:.2} per neuron (p·n = {:.2})",
            conn.synapse_count(),
            conn.synapse_count() as f64 / n,
            p * n
        );
        conn
    })
}

fn trace_name(mode: TraceMode) -> &'static str {
    match mode {
        TraceMode::Continuous => "continuous",
        TraceMode::EventBased => "event-based",
    }
}

/// Pair STDP on brunel's E→E connection (8000 × 8000, p 0.1, 6.4 M synapses: 26 MB of
/// f32 weights, 51 MB f64; w 0.1 mV, w_max 0.3 mV, λ 0.01, α 2.02, μ± 1 — the
/// multiplicative rule — τ± 20 ms). Groups `plasticity/pair-brunel-EE/{f32,f64}/{trace
/// mode}`: see [`plastic_phases`] for what each number means.
fn plasticity_pair<R: Real>(c: &mut Criterion, name: &str) {
    for mode in [TraceMode::Continuous, TraceMode::EventBased] {
        let rule = Plasticity::Pair(PairStdp {
            tau_plus: 20e-3,
            tau_minus: 20e-3,
            lambda: 0.01,
            alpha: 2.02,
            mu_plus: 1.0,
            mu_minus: 1.0,
            w_max: 0.3e-3,
            traces: mode,
        });
        let group = format!("plasticity/pair-brunel-EE/{name}/{}", trace_name(mode));
        plastic_phases(c, group, 8000, 0.1, || {
            plastic_connection::<R>(8000, 0.1, 0.1e-3, rule)
        });
    }
}

/// Triplet STDP with homeostasis on zenke25k's E→E connection (20 000 × 20 000, p 0.05,
/// 20 M synapses: 80 MB of f32 weights, 160 MB f64; w 0.16, `zenke2013(1.0, 10 s)`).
/// Groups `plasticity/triplet-zenke25k-EE/{f32,f64}/{trace mode}`: see
/// [`plastic_phases`] for what each number means.
fn plasticity_triplet<R: Real>(c: &mut Criterion, name: &str) {
    for mode in [TraceMode::Continuous, TraceMode::EventBased] {
        let rule = Plasticity::Triplet(TripletStdp::zenke2013(1.0, 10.0, mode));
        let group = format!("plasticity/triplet-zenke25k-EE/{name}/{}", trace_name(mode));
        plastic_phases(c, group, 20_000, 0.05, || {
            plastic_connection::<R>(20_000, 0.05, 0.16, rule)
        });
    }
}

/// Temporal blocking over an exchange window (issue 13's idea): va's 4000 neurons
/// advanced 8 steps (0.8 ms, va's min-delay window) one chunk at a time, so a chunk's
/// state stays in L1 across the window, against the whole population per step
/// (chunk = 4000). Each chunk-step also adds one input, as delivery would. Throughput is
/// per neuron-step, so the medians compare directly across chunk sizes.
fn evolve_blocked(c: &mut Criterion) {
    const WINDOW: usize = 8;
    let n = 4000;
    let mut g = c.benchmark_group("evolve-blocked/coba-f32");
    g.throughput(Throughput::Elements((n * WINDOW) as u64));
    let mut spiked = Vec::new();
    for chunk in [4000usize, 1000, 256] {
        let v0: Vec<f32> = spread(n, -60e-3, -50e-3);
        let mut chunks: Vec<Coba<f32>> = v0
            .chunks(chunk)
            .map(|v| Coba::new(&coba(), DT, v.to_vec()))
            .collect();
        g.bench_function(BenchmarkId::new("chunk", chunk), |b| {
            b.iter(|| {
                for part in chunks.iter_mut() {
                    for _ in 0..WINDOW {
                        spiked.clear();
                        part.evolve(black_box(&mut spiked));
                        part.g_exc[3] += 0.01;
                    }
                }
            })
        });
    }
    g.finish();
}

fn kernels(c: &mut Criterion) {
    evolve_blocked(c);
    evolve::<f32>(c, "f32");
    evolve::<f64>(c, "f64");
    propagate::<f32>(c, "f32");
    propagate::<f64>(c, "f64");
    poisson(c);
    plasticity_pair::<f32>(c, "f32");
    plasticity_pair::<f64>(c, "f64");
    plasticity_triplet::<f32>(c, "f32");
    plasticity_triplet::<f64>(c, "f64");
}

criterion_group!(benches, kernels);
criterion_main!(benches);
