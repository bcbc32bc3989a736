//! The input-generation benchmark (paper Fig. 1) end to end: both generators give
//! 5 Hz Poisson trains, identical for any number of threads.

mod common;

use common::{arg, only_record, run_ok};

#[test]
fn both_generators_fire_at_5_hz_with_cv_near_1() {
    let dir = tempfile::tempdir().unwrap();
    for generator in ["lattice", "per-step"] {
        let out = dir.path().join(format!("{generator}.jsonl"));
        run_ok(&[
            "run",
            "poisson",
            "--simtime",
            "20",
            "--quiet",
            "--generator",
            generator,
            "--out",
            arg(&out),
        ]);
        let r = only_record(&out);
        assert_eq!(r.config.network, "poisson");
        assert_eq!(r.config.generator.as_deref(), Some(generator));
        let all = &r.result.rates[0].1;
        assert_eq!(all.neurons, 1000);
        assert!(
            (all.mean_rate_hz - 5.0).abs() < 0.1,
            "{generator}: {} Hz",
            all.mean_rate_hz
        );
        let cv = all.mean_cv_isi.unwrap();
        assert!((0.9..=1.1).contains(&cv), "{generator}: CV {cv}");
        assert_eq!(r.result.synapses, 0);
    }
}

#[test]
fn poisson_spikes_do_not_depend_on_threads() {
    for generator in ["lattice", "per-step"] {
        let extra = ["--generator", generator];
        common::assert_same_spikes_for_threads("poisson", "2", &extra, &["1", "3"], 5_000 * 16);
    }
}
