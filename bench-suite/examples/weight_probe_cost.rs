//! What a weight monitor's sample costs: the numbers behind the README's performance
//! note on `--monitor weights:…`.
//!
//! ```text
//! cargo build --release -p bench-suite --example weight_probe_cost
//! target/release/examples/weight_probe_cost [THREADS]
//! ```
//!
//! Builds zenke25k plastic (continuous traces, seed 1, dt 0.1 ms, no priming), runs 1 s
//! of model time, then times, for the E→E connection (≈ 20 M plastic synapses): the
//! whole synapse list (`Simulation::synapses`: every synapse copied, gathered and
//! sorted), and `Simulation::probe_weights` of 1000 sampled synapses with a 100-bin
//! histogram (what a weight monitor reads every interval). Checks that both give the
//! same weights and that the histogram counts every synapse.

use std::time::Instant;

use bench_suite::networks::{self, Generator, InitV, Options, Overrides, Traces};
use sim_core::timers::On;
use sim_core::{Context, Quiet, RunOptions, Simulation};

fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let x = f();
    (t.elapsed().as_secs_f64(), x)
}

fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map_or(1, |t| t.parse().expect("THREADS: a number"));
    let o = Options {
        dt: 1e-4,
        delay: 8e-4,
        seed: 1,
        init_v: InitV::Uniform,
        generator: Generator::Lattice,
        plastic: Some(Traces::Continuous),
        overrides: Overrides {
            priming: Some(0.0),
            ..Overrides::default()
        },
    };
    let net = networks::by_name("zenke25k", &o).unwrap().net;
    let c = net.connections.iter().position(|c| c.name == "EE").unwrap();
    let ctx = Context::threads(threads);
    let mut sim = Simulation::<f32, On>::new(&net, &ctx, On::default(), false).unwrap();
    let (t_run, _) = timed(|| sim.run(10_000, &RunOptions::default(), &Quiet));
    let (t_list, list) = timed(|| sim.synapses(c));
    let total = list.len() as u64;
    // 1000 positions spread over the list.
    let at: Vec<u64> = (0..1000u64).map(|i| i * total / 1000 + i % 7).collect();
    let mut t_probe = f64::MAX;
    let mut probe = None;
    for _ in 0..5 {
        let (t, p) = timed(|| sim.probe_weights(c, &at, 100, 1.0).unwrap());
        t_probe = t_probe.min(t);
        probe = Some(p);
    }
    let probe = probe.unwrap();
    assert_eq!(probe.synapses, total);
    assert_eq!(probe.counts.iter().sum::<u64>(), total);
    for (&p, s) in at.iter().zip(&probe.sampled) {
        assert_eq!(list[p as usize], *s, "position {p}");
    }
    println!("weight_probe_cost zenke25k plastic EE ({total} synapses, {threads} thread(s), f32)");
    println!("  1 s of model time          {t_run:8.3} s");
    println!("  Simulation::synapses       {t_list:8.3} s");
    println!(
        "  probe_weights (1000, 100)  {:8.3} ms (best of 5)",
        t_probe * 1e3
    );
    println!(
        "  at a 10 s interval: the list {:.2} %, the probe {:.4} % of the run time",
        100.0 * t_list / (10.0 * t_run),
        100.0 * t_probe / (10.0 * t_run)
    );
}
