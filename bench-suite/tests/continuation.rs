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

/// One thread, `steps` steps, every spike recorded.
fn one_thread(steps: u64) -> RunConfig {
    RunConfig {
        threads: 1,
        partitions: 0,
        steps,
        priming_steps: 0,
        timers: false,
        record_spikes: true,
        progress_every: 0,
        injected_latency: Default::default(),
        trace_exchanges: false,
        partitioner: Default::default(),
    }
}

/// Every spike of one uninterrupted single-threaded run of `steps` steps.
fn reference(net: &Network, steps: u64) -> Vec<Spike> {
    simulate::<f32>(net, &one_thread(steps), &Quiet)
        .unwrap()
        .spikes
        .unwrap()
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

/// Spikes of `first` steps on (threads, partitions) `a`, a checkpoint, and `second`
/// steps restored onto `b`, in precision R.
fn across_checkpoint<R: sim_core::Real>(
    net: &Network,
    a: (usize, usize),
    b: (usize, usize),
    first: u64,
    second: u64,
) -> Vec<Spike> {
    let ctx = |(threads, partitions)| Context {
        partitions,
        ..Context::threads(threads)
    };
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut sim = Simulation::<R, On>::new(net, &ctx(a), On::default(), true).unwrap();
    let mut all = sim
        .run(first, &RunOptions::default(), &Quiet)
        .spikes
        .unwrap();
    sim.save(&ck, serde_json::json!({})).unwrap();
    // The saved run goes on undisturbed by the save.
    drop(sim);
    let mut back = Simulation::<R, On>::restore(&ck, net, &ctx(b), On::default(), true).unwrap();
    assert_eq!(back.step(), first);
    all.extend(
        back.run(second, &RunOptions::default(), &Quiet)
            .spikes
            .unwrap(),
    );
    all
}

fn restores_exactly(name: &str, plastic: bool, steps: u64) {
    let net = networks::by_name(name, &options(plastic)).unwrap().net;
    let whole = reference(&net, steps);
    let first = steps / 2 + 5; // not on an exchange
    for (a, b) in [((1, 1), (2, 2)), ((2, 2), (1, 1)), ((3, 5), (2, 3))] {
        let got = across_checkpoint::<f32>(&net, a, b, first, steps - first);
        assert!(
            got == whole,
            "{name} (plastic: {plastic}): saved on {a:?}, restored on {b:?} (threads, \
             partitions): {} spikes vs {} uninterrupted",
            got.len(),
            whole.len()
        );
    }
}

#[test]
fn va_restores_exactly_onto_other_thread_counts() {
    restores_exactly("va", false, 3_000);
}

#[test]
fn plastic_brunel_restores_exactly_onto_other_thread_counts() {
    restores_exactly("brunel", true, 1_500);
}

#[test]
fn plastic_zenke25k_restores_exactly_onto_other_thread_counts() {
    restores_exactly("zenke25k", true, 400);
}

/// f64 too (the checkpoint keeps the precision; the other one is refused).
#[test]
fn f64_restores_exactly_and_f32_is_refused() {
    let net = networks::by_name("brunel", &options(true)).unwrap().net;
    let whole = simulate::<f64>(&net, &one_thread(1_000), &Quiet)
        .unwrap()
        .spikes
        .unwrap();
    assert_eq!(
        across_checkpoint::<f64>(&net, (2, 2), (1, 1), 333, 667),
        whole
    );

    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut sim =
        Simulation::<f64, On>::new(&net, &Context::threads(1), On::default(), false).unwrap();
    sim.run(100, &RunOptions::default(), &Quiet);
    sim.save(&ck, serde_json::json!({})).unwrap();
    let e = Simulation::<f32, On>::restore(&ck, &net, &Context::threads(1), On::default(), false)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("f64") && e.contains("f32"), "{e}");
}

/// A checkpoint of another network, or damaged, is refused with what did not match.
#[test]
fn mismatched_or_damaged_checkpoints_are_refused() {
    let net = networks::by_name("va", &options(false)).unwrap().net;
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut sim =
        Simulation::<f32, On>::new(&net, &Context::threads(1), On::default(), false).unwrap();
    sim.run(100, &RunOptions::default(), &Quiet);
    sim.save(&ck, serde_json::json!({})).unwrap();
    let restore = |net: &Network| {
        Simulation::<f32, On>::restore(&ck, net, &Context::threads(2), On::default(), false)
            .err()
            .map(|e| e.to_string())
    };
    assert_eq!(restore(&net), None);
    let other_seed = networks::by_name(
        "va",
        &Options {
            seed: 8,
            ..options(false)
        },
    )
    .unwrap()
    .net;
    let e = restore(&other_seed).unwrap();
    assert!(
        e.contains("network.seed is 7 in the checkpoint, 8 here"),
        "{e}"
    );
    let brunel = networks::by_name("brunel", &options(false)).unwrap().net;
    assert!(restore(&brunel).unwrap().contains("another network"));
    // A flipped byte in one array file.
    let file = ck.join("pop.E.v.npy");
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x10;
    std::fs::write(&file, bytes).unwrap();
    let e = restore(&net).unwrap();
    assert!(e.contains("pop.E.v.npy"), "{e}");
}

/// State arrays by name, read and replaced between runs, whatever the partitioning:
/// what is set is read back, and takes effect from the next run on.
#[test]
fn arrays_set_between_runs_take_effect_at_the_boundary() {
    use sim_core::state::Values;
    let net = networks::by_name("brunel", &options(true)).unwrap().net;
    let ctx = Context {
        partitions: 3,
        ..Context::threads(2)
    };
    let mut sim = Simulation::<f32, On>::new(&net, &ctx, On::default(), false).unwrap();
    let mut twin =
        Simulation::<f32, On>::new(&net, &Context::threads(1), On::default(), false).unwrap();
    for s in [&mut sim, &mut twin] {
        s.run(400, &RunOptions::default(), &Quiet);
    }
    let ee = net.connections.iter().position(|c| c.name == "EE").unwrap();
    let Values::F32(w) = sim.array("conn/EE/weight").unwrap() else {
        panic!("f32 weights")
    };
    let by_synapses: Vec<f32> = sim.weights(ee).iter().map(|&x| x as f32).collect();
    assert_eq!(w, by_synapses, "weights in (post, pre) order");
    // A doubled learning rate: nothing moves at the boundary, everything after it.
    sim.set_array("conn/EE/learning_rate", Values::F64(vec![2.0]))
        .unwrap();
    assert_eq!(sim.weights(ee), twin.weights(ee));
    for s in [&mut sim, &mut twin] {
        s.run(400, &RunOptions::default(), &Quiet);
    }
    let (a, b) = (sim.weights(ee), twin.weights(ee));
    let moved = |x: &[f64], base: &[f32]| {
        x.iter()
            .zip(base)
            .map(|(p, q)| (p - *q as f64).abs())
            .sum::<f64>()
    };
    assert!(
        moved(&a, &w) > 1.5 * moved(&b, &w),
        "a doubled rate should move the weights more: {} vs {}",
        moved(&a, &w),
        moved(&b, &w)
    );
    // Membrane potentials set on 3 partitions are read back whole.
    let Values::F32(v) = sim.array("pop/E/v").unwrap() else {
        panic!()
    };
    let flat = Values::F32(vec![-0.07; v.len()]);
    sim.set_array("pop/E/v", flat.clone()).unwrap();
    assert_eq!(sim.array("pop/E/v").unwrap(), flat);
    // The wrong length or type changes nothing and says what was expected.
    let e = sim
        .set_array("pop/E/v", Values::F32(vec![0.0; 3]))
        .unwrap_err();
    assert!(
        e.contains("expected") && e.contains(&v.len().to_string()),
        "{e}"
    );
    assert!(sim
        .set_array("pop/E/v", Values::F64(vec![0.0; v.len()]))
        .is_err());
    assert_eq!(sim.array("pop/E/v").unwrap(), flat);
    let e = sim.array("pop/E/nope").unwrap_err();
    assert!(e.contains("pop/E/v"), "lists the arrays: {e}");
}

/// A higher input rate, set between runs, raises the input population's rate.
#[test]
fn an_input_rate_set_between_runs_moves_the_rate() {
    use sim_core::state::Values;
    let net = networks::by_name("zenke25k", &options(false)).unwrap().net;
    let p = net.populations.iter().position(|p| p.name == "P").unwrap();
    let mut sim =
        Simulation::<f32, On>::new(&net, &Context::threads(2), On::default(), false).unwrap();
    let rate_of = |r: &sim_core::RunResult| {
        let n = net.populations[p].size;
        let first: usize = net.populations[..p].iter().map(|q| q.size).sum();
        let s = r.stats.summary(first..first + n, r.steps as f64 * net.dt);
        s.mean_rate_hz
    };
    let before = rate_of(&sim.run(2_000, &RunOptions::default(), &Quiet));
    sim.set_array("pop/P/rate", Values::F64(vec![10.0]))
        .unwrap();
    let after = rate_of(&sim.run(2_000, &RunOptions::default(), &Quiet));
    assert!((1.5..2.5).contains(&before), "{before} Hz before");
    assert!((9.0..11.0).contains(&after), "{after} Hz after");
}

/// Per-neuron input rates move each neuron's rate, and a checkpoint keeps them: set on
/// 2 threads, saved, restored on 3 ≡ the same run uninterrupted.
#[test]
fn per_neuron_input_rates_act_and_survive_a_checkpoint() {
    let net = networks::by_name("zenke25k", &options(false)).unwrap().net;
    let p = net.populations.iter().position(|p| p.name == "P").unwrap();
    let (n, first) = (
        net.populations[p].size,
        net.populations[..p].iter().map(|q| q.size).sum::<usize>(),
    );
    let hz: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 0.0 } else { 20.0 })
        .collect();
    let opts = RunOptions::default();
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut sim =
        Simulation::<f32, On>::new(&net, &Context::threads(2), On::default(), true).unwrap();
    let mut twin =
        Simulation::<f32, On>::new(&net, &Context::threads(1), On::default(), true).unwrap();
    for s in [&mut sim, &mut twin] {
        s.run(1_000, &opts, &Quiet);
        s.set_input_rates("P", &hz).unwrap();
    }
    let a = sim.run(1_500, &opts, &Quiet);
    // Even neurons silent, odd ones at 20 Hz (± 10 %, over ~n/2 · 3 spikes).
    let counts = &a.stats.count[first..first + n];
    assert!(
        counts.iter().step_by(2).all(|&c| c == 0),
        "an even neuron fired"
    );
    let odd: u64 = counts.iter().skip(1).step_by(2).map(|&c| c as u64).sum();
    let hz_odd = odd as f64 / (n / 2) as f64 / (1_500.0 * net.dt);
    assert!((18.0..22.0).contains(&hz_odd), "odd neurons at {hz_odd} Hz");
    sim.save(&ck, serde_json::json!({})).unwrap();
    let mut back =
        Simulation::<f32, On>::restore(&ck, &net, &Context::threads(3), On::default(), true)
            .unwrap();
    let b = back.run(1_000, &opts, &Quiet);
    let whole = twin.run(2_500, &opts, &Quiet);
    let joined: Vec<Spike> = a
        .spikes
        .unwrap()
        .into_iter()
        .chain(b.spikes.unwrap())
        .collect();
    assert!(joined == whole.spikes.unwrap(), "restored rates differ");
    assert!(sim.set_input_rates("P", &hz[1..]).is_err());
    assert!(sim.set_input_rates("E", &hz).is_err());
}

/// A decomposition with uneven blocks (a tenth / the rest of each population) gives the
/// spikes of the even one; one that leaves a neuron out is refused.
#[test]
fn uneven_decompositions_give_the_same_spikes() {
    use sim_core::{Decomposition, Partition};
    let net = networks::by_name("brunel", &options(true)).unwrap().net;
    let ctx = Context::threads(2);
    let cut = |p: &sim_core::PopulationSpec| p.size / 10;
    let uneven = Decomposition {
        partitions: vec![
            Partition {
                index: 0,
                count: 2,
                ranges: net.populations.iter().map(|p| 0..cut(p)).collect(),
            },
            Partition {
                index: 1,
                count: 2,
                ranges: net.populations.iter().map(|p| cut(p)..p.size).collect(),
            },
        ],
    };
    let run = |d: &Decomposition| {
        let mut sim =
            Simulation::<f32, On>::with_decomposition(&net, &ctx, d, On::default(), true).unwrap();
        sim.run(3_000, &RunOptions::default(), &Quiet)
            .spikes
            .unwrap()
    };
    let even = run(&Decomposition::block(&net, 2));
    assert!(even.len() > 1000, "{} spikes", even.len());
    assert!(run(&uneven) == even, "uneven blocks changed the spikes");
    let mut short = uneven.clone();
    short.partitions[1].ranges[0].end -= 1;
    let e = Simulation::<f32, On>::with_decomposition(&net, &ctx, &short, On::default(), false)
        .err()
        .expect("refused");
    assert!(e.to_string().contains("decomposition"), "{e}");
}

/// Static weights set between runs act from the boundary on and a checkpoint keeps
/// them: set on 2 threads, saved, restored on 3 ≡ the same run uninterrupted.
#[test]
fn static_weights_set_between_runs_survive_a_checkpoint() {
    let net = networks::by_name("va", &options(false)).unwrap().net;
    let ee = net.connections.iter().position(|c| c.name == "EE").unwrap();
    let opts = RunOptions::default();
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut sim =
        Simulation::<f32, On>::new(&net, &Context::threads(2), On::default(), true).unwrap();
    let mut twin =
        Simulation::<f32, On>::new(&net, &Context::threads(1), On::default(), true).unwrap();
    let mut plain =
        Simulation::<f32, On>::new(&net, &Context::threads(1), On::default(), true).unwrap();
    let before = sim.run(1_000, &opts, &Quiet).spikes.unwrap();
    twin.run(1_000, &opts, &Quiet);
    plain.run(1_000, &opts, &Quiet);
    // Every other E→E synapse twice as strong.
    let w: Vec<f64> = sim
        .weights(ee)
        .iter()
        .enumerate()
        .map(|(m, &w)| if m % 2 == 0 { 2.0 * w } else { w })
        .collect();
    for s in [&mut sim, &mut twin] {
        s.set_weights(ee, &w).unwrap();
    }
    assert_eq!(sim.weights(ee), twin.weights(ee));
    assert!(sim.weights(ee) == w.iter().map(|&x| x as f32 as f64).collect::<Vec<_>>());
    let a = sim.run(1_500, &opts, &Quiet).spikes.unwrap();
    sim.save(&ck, serde_json::json!({})).unwrap();
    let mut back =
        Simulation::<f32, On>::restore(&ck, &net, &Context::threads(3), On::default(), true)
            .unwrap();
    assert_eq!(back.weights(ee), twin.weights(ee), "weights restored");
    let b = back.run(1_000, &opts, &Quiet).spikes.unwrap();
    let whole = twin.run(2_500, &opts, &Quiet).spikes.unwrap();
    let joined: Vec<Spike> = a.into_iter().chain(b).collect();
    assert!(joined == whole, "restored weights differ");
    let unchanged = plain.run(2_500, &opts, &Quiet).spikes.unwrap();
    assert!(unchanged != whole, "the new weights changed nothing");
    assert!(!before.is_empty());
    assert!(sim.set_weights(ee, &w[1..]).is_err());
}
