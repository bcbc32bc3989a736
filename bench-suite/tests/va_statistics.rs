//! The Vogels–Abbott network over 5 s of model time behaves like the published benchmark
//! (asynchronous irregular activity at a moderate rate), and the record that
//! `bench_suite::run::execute` returns is internally consistent.

use bench_suite::record::Record;
use bench_suite::run::{execute, RunArgs};
use clap::Parser;
use std::sync::Mutex;

/// Parses `snn-bench run` arguments (so defaults come from the command line definition).
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
}

fn run_args(args: &[&str]) -> RunArgs {
    let argv = ["run"].iter().chain(args);
    Cli::try_parse_from(argv)
        .unwrap_or_else(|e| panic!("{e}"))
        .run
}

const SIMTIME: f64 = 5.0;
const DT: f64 = 1e-4;

fn simulate(precision: &str, threads: u32) -> Record {
    let threads = threads.to_string();
    let args = run_args(&[
        "va",
        "--simtime",
        &SIMTIME.to_string(),
        "--threads",
        &threads,
        "--precision",
        precision,
        "--quiet",
    ]);
    assert!(args.quiet);
    assert!(args.out.is_none() && args.spikes.is_none() && args.save_weights.is_none());
    // One simulation at a time: several multi-threaded runs at once would oversubscribe
    // a small machine (waiting workers spin), and slow every run down.
    static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    execute(&args).unwrap_or_else(|e| panic!("va {precision}: {e}"))
}

fn check_statistics(r: &Record) {
    let what = format!("va {} {} thread(s)", r.config.precision, r.config.threads);
    let names: Vec<&str> = r.result.rates.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["all", "E", "I"], "{what}");
    let (_, all) = r.result.rates.iter().find(|(n, _)| n == "all").unwrap();
    assert_eq!(all.neurons, 4000, "{what}");
    assert!(
        (12.0..=25.0).contains(&all.mean_rate_hz),
        "{what}: mean rate {} Hz, expected 12..25 Hz",
        all.mean_rate_hz
    );
    assert!(
        all.active_fraction >= 0.95,
        "{what}: {:.1} % of neurons active, expected >= 95 %",
        100.0 * all.active_fraction
    );
    let cv = all.mean_cv_isi.expect("some neurons have >= 2 ISIs");
    assert!(
        (0.5..=2.5).contains(&cv),
        "{what}: mean CV-ISI {cv}, expected 0.5..2.5"
    );
    // Most neurons fire often enough in 5 s to have a CV.
    assert!(
        all.cv_neurons > 3000,
        "{what}: CV of {} neurons",
        all.cv_neurons
    );
    // The rate is the spike count over neurons and model time.
    let rate = all.spikes as f64 / (4000.0 * r.config.simtime_s);
    assert!((rate - all.mean_rate_hz).abs() < 1e-9 * rate, "{what}");

    // Populations add up to the whole network.
    let (_, e) = &r.result.rates[1];
    let (_, i) = &r.result.rates[2];
    assert_eq!((e.neurons, i.neurons), (3200, 800), "{what}");
    assert_eq!(e.spikes + i.spikes, all.spikes, "{what}");
    assert!(e.mean_rate_hz > 0.0 && i.mean_rate_hz > 0.0, "{what}");
}

fn check_bookkeeping(r: &Record, precision: &str, threads: usize) {
    let what = format!("va {precision} {threads} thread(s)");
    let c = &r.config;
    let o = &r.result;
    assert_eq!(r.schema, bench_suite::record::SCHEMA);
    assert_eq!(c.network, "va", "{what}");
    assert_eq!(c.neurons, 4000, "{what}");
    assert_eq!(c.precision, precision, "{what}");
    assert_eq!(c.threads, threads, "{what}");
    assert_eq!(c.partitions, threads, "{what}");
    assert_eq!(c.seed, 1, "{what}");
    assert!(c.timers, "{what}");
    assert_eq!(c.initial_v, "uniform", "{what}");
    assert_eq!(c.weights, "generated from seed", "{what}");
    assert!((c.dt_s - DT).abs() < 1e-15, "{what}: dt {}", c.dt_s);
    assert!(
        (c.delay_s - 0.8e-3).abs() < 1e-12,
        "{what}: delay {}",
        c.delay_s
    );
    assert_eq!(c.min_delay_steps, 8, "{what}");
    assert_eq!(c.steps, (SIMTIME / DT).round() as u64, "{what}");
    assert_eq!(c.steps, 50_000, "{what}");
    assert!(
        (c.simtime_s - SIMTIME).abs() < 1e-9,
        "{what}: simtime {}",
        c.simtime_s
    );

    // Spikes counted by the workers and by the statistics agree.
    assert_eq!(o.spikes, o.overall().spikes, "{what}");
    assert_eq!(o.spikes, o.rates[0].1.spikes, "{what}");
    assert!(o.synaptic_events > 0, "{what}");
    // Each neuron has about 0.02 * 4000 = 80 targets.
    let per_spike = o.synaptic_events as f64 / o.spikes as f64;
    assert!(
        (70.0..=90.0).contains(&per_spike),
        "{what}: {per_spike} synaptic events per spike, expected about 80"
    );

    // 4000 * 4000 Bernoulli(0.02) draws: mean 320000, sd about 560.
    let mean = 0.02 * 4000.0 * 4000.0;
    let sd = (mean * 0.98_f64).sqrt();
    assert!(
        (o.synapses as f64 - mean).abs() <= 4.0 * sd,
        "{what}: {} synapses, expected {mean} +- {}",
        o.synapses,
        4.0 * sd
    );

    assert!(o.run.wall_s > 0.0, "{what}");
    assert!(o.setup.wall_s > 0.0, "{what}");
    let rtf = o.run.wall_s / c.simtime_s;
    assert!(
        (o.rtf - rtf).abs() <= 1e-12 * rtf,
        "{what}: rtf {} but run.wall_s / simtime_s = {rtf}",
        o.rtf
    );
    assert_eq!(o.phases_per_worker.len(), threads, "{what}");
    // Some thread stepped the partitions; any one may have done all of it (a thread
    // descheduled or retired through the whole run: result.conditions.threads_active_mean).
    assert!(
        o.phases_per_worker.iter().any(|p| p.evolve > 0.0),
        "{what}: {:?}",
        o.phases_per_worker
    );
    for (k, p) in o.phases_per_worker.iter().enumerate() {
        if p.evolve > 0.0 {
            assert!(
                p.evolve > 0.0 && p.propagate > 0.0,
                "{what}: worker {k}: {p:?}"
            );
        }
        assert_eq!(p.plasticity, 0.0, "{what}: worker {k}");
        // Each worker's timed phases happen inside the timed run.
        assert!(
            p.total() <= o.run.wall_s * 1.05 + 1e-3,
            "{what}: worker {k}: {p:?}"
        );
    }
    let mean_evolve = o.phases_per_worker.iter().map(|p| p.evolve).sum::<f64>() / threads as f64;
    assert!(
        (o.phases.evolve.mean - mean_evolve).abs() <= 1e-12 * mean_evolve,
        "{what}"
    );
    assert!(
        o.ns_per_neuron_step > 0.0 && o.ns_per_synaptic_event > 0.0,
        "{what}"
    );
}

#[test]
fn va_f32_five_seconds() {
    let r = simulate("f32", 2);
    check_statistics(&r);
    check_bookkeeping(&r, "f32", 2);
}

#[test]
fn va_f64_five_seconds() {
    // (2 threads: more workers than this 2-core test machine has cores make a run
    // slower by an order of magnitude; determinism.rs covers 3 threads.)
    let r = simulate("f64", 2);
    check_statistics(&r);
    check_bookkeeping(&r, "f64", 2);
}

/// The statistics come from the run, not from the precision's rounding: f32 and f64
/// networks (same seed, same synapses) differ in detail but agree in character.
#[test]
fn f32_and_f64_agree_in_character() {
    let a = simulate("f32", 1);
    let b = simulate("f64", 1);
    check_bookkeeping(&a, "f32", 1);
    check_bookkeeping(&b, "f64", 1);
    assert_eq!(a.result.synapses, b.result.synapses);
    let (ra, rb) = (
        a.result.overall().mean_rate_hz,
        b.result.overall().mean_rate_hz,
    );
    assert!(
        (ra - rb).abs() < 0.2 * ra.max(rb),
        "f32 {ra} Hz, f64 {rb} Hz"
    );
}
