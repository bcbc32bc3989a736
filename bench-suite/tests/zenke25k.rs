//! The static 25 k network of Zenke et al. 2013 (paper §2.3.2) end to end.

mod common;

use common::{arg, only_record, run_ok};

#[test]
fn zenke25k_excitatory_rate_is_a_few_hz() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs.jsonl");
    run_ok(&[
        "run",
        "zenke25k",
        "--simtime",
        "2",
        "--quiet",
        "--out",
        arg(&out),
    ]);
    let r = only_record(&out);
    let rate = |name: &str| {
        r.result
            .rates
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
            .unwrap_or_else(|| panic!("no {name} rates"))
    };
    let e = rate("E");
    assert_eq!(e.neurons, 20_000);
    assert!(
        (1.5..=5.0).contains(&e.mean_rate_hz),
        "E: {} Hz",
        e.mean_rate_hz
    );
    let p = rate("P");
    assert!(
        (p.mean_rate_hz - 2.0).abs() < 0.2,
        "inputs: {} Hz",
        p.mean_rate_hz
    );
    assert_eq!(r.config.initial_v, "normal");
    let expected = 0.05 * (25_000.0 * 25_000.0 + 2_500.0 * 20_000.0);
    assert!((r.result.synapses as f64 - expected).abs() < 4.0 * expected.sqrt());
}

#[test]
fn zenke25k_spikes_do_not_depend_on_threads() {
    common::assert_same_spikes_for_threads("zenke25k", "0.3", &[], &["1", "2"], 10_000);
}
