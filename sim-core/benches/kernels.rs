//! Micro-benchmarks of the hot kernels, f32 and f64: `evolve` of each neuron model,
//! `propagate` through a Vogels–Abbott-sized connection, and the two Poisson
//! generators. `cargo bench -p sim-core` prints medians; compare within one run.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sim_core::connection::Connection;
use sim_core::model::{
    AmpaNmdaParams, CobaParams, DeltaParams, NeuronModel, PoissonGenerator, PoissonParams,
};
use sim_core::neuron::{AmpaNmda, Coba, Delta, Poisson};
use sim_core::rng::CounterRng;
use sim_core::{Channel, ConnectionSpec, Connectivity, InitialV, Network, PopulationSpec, Real};

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

fn kernels(c: &mut Criterion) {
    evolve::<f32>(c, "f32");
    evolve::<f64>(c, "f64");
    propagate::<f32>(c, "f32");
    propagate::<f64>(c, "f64");
    poisson(c);
}

criterion_group!(benches, kernels);
criterion_main!(benches);
