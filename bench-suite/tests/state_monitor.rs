//! State monitors (`--monitor state:VAR:WHAT:EVERY`): samples that follow a single
//! neuron's analytic trajectory, rows identical for any thread or partition count, and
//! bad specs refused before the run.

mod common;

use std::path::{Path, PathBuf};

use common::{arg, run_err, run_ok};

/// A float64 (rows × cols) `.npy` file as rows.
fn matrix(path: &Path) -> Vec<Vec<f64>> {
    let a = analysis::npy::read_2d(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        matches!(a.values, analysis::npy::Values::F64(_)),
        "{}: not float64",
        path.display()
    );
    a.to_f64().chunks(a.cols).map(|r| r.to_vec()).collect()
}

/// A network of `n` unconnected COBA neurons with background drive `i_bg_mv`, V drawn
/// uniformly in [E_L, θ) = [-60, -50) mV.
fn lone_neurons(dir: &Path, n: usize, i_bg_mv: f64) -> PathBuf {
    let path = dir.join(format!("lone{i_bg_mv}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "lone"
description = "unconnected COBA neurons"

[neurons.lif]
model = "coba"
tau_m = "20 ms"
e_leak = "-60 mV"
v_reset = "-60 mV"
threshold = "-50 mV"
e_exc = "0 mV"
e_inh = "-80 mV"
tau_exc = "5 ms"
tau_inh = "10 ms"
refractory = "5 ms"
i_bg = "{i_bg_mv} mV"

[initial_v]
uniform = ["-60 mV", "-50 mV"]

[[populations]]
name = "N"
size = {n}
neuron = "lif"
"#
        ),
    )
    .unwrap();
    path
}

/// Without input, forward Euler gives V(s) = V∞ + (V0 − V∞)(1 − dt/τ)^s with
/// V∞ = E_L + I_bg: every column of a state monitor of V, sampled every 2 steps from
/// step 0, follows it from its own V0 (a sample taken after the step instead of before,
/// a wrong interval or columns out of order would not).
#[test]
fn sampled_v_follows_the_analytic_trajectory() {
    let dir = tempfile::tempdir().unwrap();
    let net = lone_neurons(dir.path(), 7, 5.0);
    let (m, out) = (dir.path().join("m"), dir.path().join("r.jsonl"));
    run_ok(&[
        "run",
        "--network-file",
        arg(&net),
        "--simtime",
        "0.1",
        "--precision",
        "f64",
        "--threads",
        "2",
        "--quiet",
        "--monitor",
        "state:v:all:0.2ms",
        "--monitor",
        "state:v:2-4:0.1ms",
        "--monitor-dir",
        arg(&m),
        "--out",
        arg(&out),
    ]);
    let r = common::only_record(&out);
    let mon = &r.config.monitors[0];
    assert_eq!(
        (
            mon.kind.as_str(),
            mon.variable.as_deref(),
            mon.every.as_deref(),
            mon.first_step
        ),
        ("state", Some("v"), Some("0.2ms"), 0)
    );
    let v = matrix(&m.join("state-v-all.npy"));
    // 1000 steps, a sample every 2 from step 0.
    assert_eq!((v.len(), v[0].len()), (500, 7));
    let (dt, tau, v_inf) = (1e-4, 20e-3, -60e-3 + 5e-3);
    let a: f64 = 1.0 - dt / tau;
    for (j, &v0) in v[0].iter().enumerate() {
        assert!((-60e-3..-50e-3).contains(&v0), "neuron {j}: V0 {v0}");
        for (k, row) in v.iter().enumerate() {
            let expected = v_inf + (v0 - v_inf) * a.powi(2 * k as i32);
            assert!(
                (row[j] - expected).abs() < 1e-12,
                "neuron {j}, sample {k}: {} V, expected {expected} V",
                row[j]
            );
        }
    }
    let distinct: std::collections::BTreeSet<u64> = v[0].iter().map(|x| x.to_bits()).collect();
    assert_eq!(distinct.len(), 7, "each neuron its own V0");
    // A subset every step: its even rows are the full monitor's columns 2..5.
    let sub = matrix(&m.join("state-v-2-4.npy"));
    assert_eq!(sub.len(), 1000);
    for (k, row) in v.iter().enumerate() {
        assert_eq!(&sub[2 * k][..], &row[2..5], "sample {k}");
    }
}

/// Driven above threshold (V∞ = −40 mV > θ = −50 mV): V rises as above from E_L, is
/// reset at the first sample past threshold and clamped at E_L for the refractory
/// period (5 ms = 50 steps), then rises again; the spikes are where V crossed.
#[test]
fn sampled_v_shows_the_reset_and_the_refractory_clamp() {
    let dir = tempfile::tempdir().unwrap();
    let net = lone_neurons(dir.path(), 1, 20.0);
    let (m, sp) = (dir.path().join("m"), dir.path().join("s.npy"));
    run_ok(&[
        "run",
        "--network-file",
        arg(&net),
        "--simtime",
        "0.1",
        "--precision",
        "f64",
        "--quiet",
        "--spikes",
        arg(&sp),
        "--monitor",
        "state:v:N:0.1ms",
        "--monitor",
        "state:refractory:N:0.1ms",
        "--monitor-dir",
        arg(&m),
    ]);
    let v: Vec<f64> = matrix(&m.join("state-v-N.npy"))
        .iter()
        .map(|r| r[0])
        .collect();
    let refr: Vec<f64> = (matrix(&m.join("state-refractory-N.npy")).iter())
        .map(|r| r[0])
        .collect();
    let spikes = bench_suite::spikes::read_npy(&sp).unwrap();
    assert!(spikes.len() >= 2, "{spikes:?}");
    let (dt, tau, v_inf, theta) = (1e-4f64, 20e-3, -40e-3, -50e-3);
    let a = 1.0 - dt / tau;
    let s = spikes[0].step as usize;
    // Up to the spike: the closed form from V0.
    for k in 0..=s {
        let expected = v_inf + (v[0] - v_inf) * a.powi(k as i32);
        assert!(
            (v[k] - expected).abs() < 1e-12,
            "step {k}: {} V, expected {expected}",
            v[k]
        );
    }
    // Step s integrated past θ: reset, then clamped for 50 steps.
    assert!(v[s] + (v_inf - v[s]) * (dt / tau) > theta);
    for (k, &vk) in v.iter().enumerate().take(s + 52).skip(s + 1) {
        assert_eq!(vk, -60e-3, "step {k}: clamped at E_L");
    }
    assert_eq!(refr[s + 1], 50.0, "the refractory count after the spike");
    assert_eq!(refr[s + 51], 0.0);
    assert!(v[s + 52] > -60e-3, "rising again");
}

/// va on 1 thread and on 3 threads with 5 partitions: byte-identical state files for a
/// selection that straddles the E/I boundary and for a conductance of every neuron.
#[test]
fn state_files_are_the_same_for_any_thread_or_partition_count() {
    let dir = tempfile::tempdir().unwrap();
    let files = |threads: &str, partitions: &str| -> Vec<Vec<u8>> {
        let m = dir.path().join(format!("m{threads}-{partitions}"));
        run_ok(&[
            "run",
            "va",
            "--simtime",
            "0.2",
            "--threads",
            threads,
            "--partitions",
            partitions,
            "--quiet",
            "--monitor",
            "state:v:3190-3209:1ms",
            "--monitor",
            "state:g_exc:all:5ms",
            "--monitor-dir",
            arg(&m),
        ]);
        ["state-v-3190-3209.npy", "state-g_exc-all.npy"]
            .iter()
            .map(|f| std::fs::read(m.join(f)).unwrap())
            .collect()
    };
    let one = files("1", "1");
    assert_eq!(matrix_len(&one[0]), 200 * 20);
    assert_eq!(matrix_len(&one[1]), 40 * 4000);
    assert!(one == files("3", "5"), "3 threads, 5 partitions");
}

fn matrix_len(bytes: &[u8]) -> usize {
    (bytes.len() - 128) / 8
}

#[test]
fn bad_state_monitors_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    for (spec, says) in [
        (
            "state:vv:0-9:1ms",
            "no variable \"vv\"; its variables: v, g_exc, g_inh, refractory",
        ),
        ("state:v:0-9:0.05ms", "whole number of steps"),
        ("state:v:0-9", "state:VARIABLE:WHAT:EVERY"),
        ("state:v:0-4000:1ms", "4000 neurons"),
        (
            "state:v.x:0-9:1ms",
            "no connection \"v\"; the plastic ones: none",
        ),
        ("state:EE.post_trace:0-9:1ms", "connection EE is static"),
        ("state:v/x:0-9:1ms", "variable \"v/x\""),
    ] {
        let e = run_err(&[
            "run",
            "va",
            "--simtime",
            "0.01",
            "--quiet",
            "--monitor",
            spec,
            "--monitor-dir",
            arg(&m),
        ]);
        assert!(e.contains(says), "{spec}: {e}");
    }
    // Poisson sources have no state.
    let e = run_err(&[
        "run",
        "poisson",
        "--simtime",
        "0.01",
        "--quiet",
        "--monitor",
        "state:v:0-9:1ms",
        "--monitor-dir",
        arg(&m),
    ]);
    assert!(
        e.contains("has no variable \"v\"; its variables: none"),
        "{e}"
    );
    assert!(!m.join("state-v-0-9.npy").exists());
    // A trace of a plastic connection: only of its postsynaptic neurons, and a trace
    // its rule keeps.
    for (spec, says) in [
        (
            "state:EE.post_trace:7990-8009:1ms",
            "EE's traces are of population E (ids 0-7999)",
        ),
        (
            "state:EE.post_trace_y:0-9:1ms",
            "has no trace \"post_trace_y\"; its traces: post_trace",
        ),
    ] {
        let e = run_err(&[
            "run",
            "brunel",
            "--plastic",
            "--simtime",
            "0.01",
            "--quiet",
            "--monitor",
            spec,
            "--monitor-dir",
            arg(&m),
        ]);
        assert!(e.contains(says), "{spec}: {e}");
    }
}

/// A plastic connection's postsynaptic trace (brunel E→E, K₋ with τ₋ = 20 ms): sampled
/// every step, each neuron's value decays by exp(−dt/τ₋) from one step to the next and
/// jumps by 1 exactly at its own spikes (a trace read from the wrong neuron, or a
/// sample out of step with the spikes, would not); the same on 1 and 3 threads.
#[test]
fn a_plastic_connections_trace_jumps_at_its_neurons_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str| -> (Vec<Vec<f64>>, Vec<sim_core::Spike>) {
        let (m, sp) = (
            dir.path().join(format!("m{threads}")),
            dir.path().join(format!("s{threads}.npy")),
        );
        run_ok(&[
            "run",
            "brunel",
            "--plastic",
            "--simtime",
            "0.3",
            "--precision",
            "f64",
            "--threads",
            threads,
            "--quiet",
            "--spikes",
            arg(&sp),
            "--monitor",
            "state:EE.post_trace:0-39:0.1ms",
            "--monitor-dir",
            arg(&m),
        ]);
        (
            matrix(&m.join("state-EE.post_trace-0-39.npy")),
            bench_suite::spikes::read_npy(&sp).unwrap(),
        )
    };
    let (x, spikes) = run("1");
    assert_eq!((x.len(), x[0].len()), (3000, 40));
    let d = (-1e-4f64 / 20e-3).exp();
    let mut jumps = 0;
    for j in 0..40 {
        let fired: std::collections::BTreeSet<u64> = spikes
            .iter()
            .filter(|s| s.gid == j as u32)
            .map(|s| s.step)
            .collect();
        for k in 0..x.len() - 1 {
            let decayed = x[k][j] * d;
            let decayed = if decayed < 1e-30 { 0.0 } else { decayed };
            let expected = if fired.contains(&(k as u64)) {
                decayed + 1.0
            } else {
                decayed
            };
            assert_eq!(x[k + 1][j], expected, "neuron {j}, step {k}");
        }
        jumps += fired.iter().filter(|&&s| s + 1 < x.len() as u64).count();
    }
    assert!(jumps >= 5, "{jumps} spikes of neurons 0-39");
    assert!(run("3").0 == x, "3 threads");
}
