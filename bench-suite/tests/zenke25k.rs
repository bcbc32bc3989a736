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

/// The plastic variant (E→E triplet STDP with homeostasis) after its priming run: the
/// E rate stays in the paper's range, the record names the parameters, the priming ran
/// and the plasticity phase was timed.
#[test]
fn plastic_zenke25k_runs_after_priming() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs.jsonl");
    run_ok(&[
        "run",
        "zenke25k",
        "--plastic",
        "--tau-hom",
        "0.5",
        "--simtime",
        "1",
        "--quiet",
        "--out",
        arg(&out),
    ]);
    let r = only_record(&out);
    let e = r.result.rates.iter().find(|(n, _)| n == "E").unwrap().1;
    assert!(
        (1.5..=5.0).contains(&e.mean_rate_hz),
        "E: {} Hz",
        e.mean_rate_hz
    );
    let p = &r.config.parameters;
    assert_eq!(p["tau_hom_s"], 0.5);
    assert_eq!(p["priming_s"], 1.5, "priming defaults to 3 τ_hom");
    assert_eq!(p["learning_rate"], 1.0);
    assert!(r.config.plastic);
    assert_eq!(r.config.traces.as_deref(), Some("continuous"));
    assert!(r.result.priming_wall_s > 0.0);
    assert!(r.result.phases.plasticity.max > 0.0);
    // The measured run alone is counted: 1 s of model time.
    assert_eq!(r.config.steps, 10_000);
}

/// Plastic zenke25k is bit-identical on 1 and 2 threads in both trace modes, with a
/// learning rate high enough that plasticity changes the spikes within the run.
#[test]
fn plastic_zenke25k_spikes_do_not_depend_on_threads() {
    let learning = |rate| ["--plastic", "--tau-hom", "0.05", "--learning-rate", rate];
    let mut reference = Vec::new();
    for traces in ["continuous", "event-based"] {
        let mut extra = learning("200").to_vec();
        extra.extend(["--traces", traces]);
        reference =
            common::assert_same_spikes_for_threads("zenke25k", "0.3", &extra, &["1", "2"], 10_000);
    }
    // The learning rate matters: without learning the spikes differ.
    let still =
        common::assert_same_spikes_for_threads("zenke25k", "0.3", &learning("0"), &["1"], 10_000);
    assert_ne!(still, reference, "plasticity changed the activity");
}
