//! One built network, many runs: `run(T1); run(T2)` on one Simulation gives the spikes
//! of one run of T1 + T2 steps, bit for bit, whatever the thread and partition count,
//! static and plastic, and the steps of the second run continue the numbering.

use bench_suite::networks::{self, Generator, InitV, Options, Overrides, Traces};
use sim_core::timers::On;
use sim_core::{simulate, Context, Network, Quiet, RunConfig, RunOptions, Simulation, Spike};

fn options(plastic: bool) -> Options {
    Options {
        dt: 1e-4,
        delay: 8e-4,
        seed: 7,
        init_v: InitV::Uniform,
        generator: Generator::Lattice,
        plastic: plastic.then_some(Traces::Continuous),
        overrides: Overrides::default(),
    }
}

/// Every spike of one uninterrupted single-threaded run of `steps` steps.
fn reference(net: &Network, steps: u64) -> Vec<Spike> {
    let cfg = RunConfig {
        workers: 1,
        partitions: 0,
        steps,
        priming_steps: 0,
        timers: false,
        record_spikes: true,
        progress_every: 0,
        injected_latency: Default::default(),
        trace_exchanges: false,
    };
    simulate::<f32>(net, &cfg, &Quiet).unwrap().spikes.unwrap()
}

/// The spikes of runs of `lengths` steps, one after the other, on one Simulation.
fn in_pieces(net: &Network, threads: usize, partitions: usize, lengths: &[u64]) -> Vec<Spike> {
    let ctx = Context {
        partitions,
        ..Context::threads(threads)
    };
    let mut sim = Simulation::<f32, On>::new(net, &ctx, On::default(), true).unwrap();
    let mut all = Vec::new();
    let mut start = 0;
    for &n in lengths {
        let r = sim.run(n, &RunOptions::default(), &Quiet);
        assert_eq!(r.steps, n);
        let count = r.spike_count();
        let spikes = r.spikes.unwrap();
        // Each run's spikes are its own steps', numbered on from the previous run.
        assert!(
            spikes.iter().all(|s| (start..start + n).contains(&s.step)),
            "a spike outside steps {start}..{}",
            start + n
        );
        assert_eq!(spikes.len() as u64, count);
        all.extend(spikes);
        start += n;
        assert_eq!(sim.step(), start);
    }
    all
}

fn continues_exactly(name: &str, plastic: bool, steps: u64, min_spikes: usize) {
    let net = networks::by_name(name, &options(plastic)).unwrap().net;
    let whole = reference(&net, steps);
    assert!(
        whole.len() >= min_spikes,
        "{name}: only {} spikes",
        whole.len()
    );
    // Cuts on and off the exchange interval (8 steps), one thread and several.
    let cut = [steps / 3 + 3, steps - steps / 3 - 3, 0];
    let lengths = [cut[0], 1, cut[1] - 1 - cut[0], 0, steps - cut[1]];
    assert_eq!(lengths.iter().sum::<u64>(), steps);
    for (threads, partitions) in [(1, 1), (2, 2), (3, 5)] {
        let pieces = in_pieces(&net, threads, partitions, &lengths);
        assert!(
            pieces == whole,
            "{name} (plastic: {plastic}) on {threads} threads, {partitions} partitions: \
             {} spikes in pieces vs {} in one run",
            pieces.len(),
            whole.len()
        );
    }
}

#[test]
fn va_continues_exactly() {
    continues_exactly("va", false, 3_000, 3_000);
}

#[test]
fn plastic_brunel_continues_exactly() {
    continues_exactly("brunel", true, 1_500, 1_000);
}

#[test]
fn plastic_zenke25k_continues_exactly() {
    continues_exactly("zenke25k", true, 400, 500);
}

/// Learning switched off for a run leaves every weight as it was; the spikes still
/// continue (the traces go on).
#[test]
fn learning_off_between_runs_keeps_the_weights() {
    let net = networks::by_name("brunel", &options(true)).unwrap().net;
    let mut sim =
        Simulation::<f32, On>::new(&net, &Context::threads(2), On::default(), false).unwrap();
    let plastic = net
        .connections
        .iter()
        .position(|c| c.plasticity.is_some())
        .unwrap();
    sim.run(500, &RunOptions::default(), &Quiet);
    let before = sim.weights(plastic);
    sim.set_learning(false);
    let r = sim.run(500, &RunOptions::default(), &Quiet);
    assert!(r.plastic_events() > 0);
    assert_eq!(
        sim.weights(plastic),
        before,
        "weights moved with learning off"
    );
    sim.set_learning(true);
    sim.run(500, &RunOptions::default(), &Quiet);
    assert_ne!(
        sim.weights(plastic),
        before,
        "learning back on changes nothing"
    );
}
