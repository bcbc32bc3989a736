//! The static Brunel network (paper §2.3.3) end to end: its rate, and spikes that do
//! not depend on the number of threads.

mod common;

use common::{arg, only_record, run_ok};

#[test]
fn brunel_fires_at_its_balanced_rate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs.jsonl");
    run_ok(&[
        "run",
        "brunel",
        "--simtime",
        "1",
        "--quiet",
        "--out",
        arg(&out),
    ]);
    let r = only_record(&out);
    let all = &r.result.rates[0].1;
    assert_eq!(all.neurons, 10_000);
    assert!(
        (30.0..=55.0).contains(&all.mean_rate_hz),
        "{} Hz",
        all.mean_rate_hz
    );
    assert!(all.active_fraction > 0.9);
    let expected = 0.1 * 1e4 * 1e4;
    assert!((r.result.synapses as f64 - expected).abs() < 4.0 * (expected * 0.9f64).sqrt());
}

#[test]
fn brunel_spikes_do_not_depend_on_threads() {
    common::assert_same_spikes_for_threads("brunel", "0.3", &[], &["1", "2"], 100_000);
}

/// The plastic variant (E→E pair STDP) is bit-identical across thread counts, for both
/// trace modes, and `--plastic` on a network without a plastic variant is refused.
#[test]
fn plastic_brunel_spikes_do_not_depend_on_threads() {
    for traces in ["continuous", "event-based"] {
        let extra = ["--plastic", "--traces", traces];
        common::assert_same_spikes_for_threads("brunel", "0.2", &extra, &["1", "2"], 50_000);
    }
    let err = common::run_err(&["run", "va", "--simtime", "0.1", "--plastic"]);
    assert!(err.contains("--plastic") && err.contains("va"), "{err}");
}
