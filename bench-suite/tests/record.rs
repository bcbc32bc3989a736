//! The results record: what `--out` appends, what the summary on stdout shows, and what
//! `--timers off` changes (the phase times) and does not change (the spikes).

mod common;

use std::fs;

use serde_json::Value;

use common::{arg, read_records, read_spikes, run_ok};

const PHASES: [&str; 5] = ["evolve", "propagate", "plasticity", "barrier", "sync"];

fn num(v: &Value, path: &str) -> f64 {
    let mut x = v;
    for key in path.split('.') {
        x = &x[key];
    }
    x.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number: {x}"))
}

#[test]
fn out_appends_one_json_line_per_run() {
    let tmp = tempfile::tempdir().unwrap();
    // Parent directories are created.
    let out = tmp.path().join("results/host/runs.jsonl");
    let args = [
        "run",
        "va",
        "--simtime",
        "0.5",
        "--threads",
        "2",
        "--out",
        arg(&out),
    ];
    let stdout = run_ok(&args);
    assert_eq!(fs::read_to_string(&out).unwrap().lines().count(), 1);
    run_ok(&args);
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count(), 2, "{text}");

    // The summary on stdout (no --quiet).
    for word in [
        "evolve",
        "propagate",
        "plasticity",
        "barrier",
        "sync",
        "RTF",
        "Hz",
    ] {
        assert!(stdout.contains(word), "summary lacks {word}:\n{stdout}");
    }

    let records = read_records(&out);
    assert_eq!(records.len(), 2);
    for (i, (v, r)) in records.iter().enumerate() {
        let obj = v.as_object().expect("a JSON object");
        for key in ["schema", "date", "config", "host", "build", "result"] {
            assert!(obj.contains_key(key), "record {i} lacks {key}: {v}");
        }
        assert_eq!(v["schema"], 1);
        let date = v["date"].as_str().unwrap();
        assert!(
            date.len() >= 19 && date[..4].parse::<u32>().is_ok_and(|y| y >= 2024),
            "date {date:?}"
        );
        assert_eq!(&date[10..11], "T", "date {date:?} is not RFC 3339");

        assert_eq!(v["config"]["network"], "va");
        assert_eq!(v["config"]["threads"], 2);
        assert_eq!(v["config"]["steps"], 5000);
        assert_eq!(v["config"]["timers"], true);

        for phase in PHASES {
            let (min, mean, max) = (
                num(v, &format!("result.phases.{phase}.min")),
                num(v, &format!("result.phases.{phase}.mean")),
                num(v, &format!("result.phases.{phase}.max")),
            );
            assert!(
                0.0 <= min && min <= mean && mean <= max,
                "record {i}: {phase}: min {min}, mean {mean}, max {max}"
            );
        }
        for part in ["min", "mean", "max"] {
            assert_eq!(num(v, &format!("result.phases.plasticity.{part}")), 0.0);
        }
        assert!(num(v, "result.phases.evolve.mean") > 0.0);
        assert!(num(v, "result.phases.propagate.mean") > 0.0);
        assert!(num(v, "result.phases.sync.mean") > 0.0);
        assert_eq!(
            v["result"]["phases_per_worker"].as_array().unwrap().len(),
            2
        );

        let cpu = v["host"]["cpu_model"].as_str().expect("host.cpu_model");
        assert!(!cpu.trim().is_empty());
        let rustc = v["build"]["rustc"].as_str().expect("build.rustc");
        assert!(rustc.starts_with("rustc"), "build.rustc {rustc:?}");
        assert!(num(v, "result.peak_rss_bytes") > 1e6);
        assert!(num(v, "result.run.cpu_s") > 0.0);
        assert!(num(v, "result.run.wall_s") > 0.0);
        assert!(num(v, "result.spikes") > 0.0);
        assert!(v["result"]["rates"].is_array());

        // The typed view agrees.
        assert_eq!(r.result.phases.plasticity.max, 0.0);
        assert_eq!(r.result.spikes as f64, num(v, "result.spikes"));
    }
    // Same seed, same spikes; each run its own record.
    let (a, b) = (&records[0].1, &records[1].1);
    assert_eq!(a.result.spikes, b.result.spikes);
    assert_eq!(a.result.synaptic_events, b.result.synaptic_events);
    // The summary printed the first run's numbers.
    assert!(
        stdout.contains(&format!("{} spikes", a.result.spikes)),
        "{stdout}"
    );
}

#[test]
fn timers_off_zeroes_phases_but_not_spikes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |timers: &str| {
        let out = tmp.path().join(format!("{timers}.jsonl"));
        let npy = tmp.path().join(format!("{timers}.npy"));
        run_ok(&[
            "run",
            "va",
            "--simtime",
            "0.5",
            "--threads",
            "2",
            "--seed",
            "3",
            "--timers",
            timers,
            "--quiet",
            "--out",
            arg(&out),
            "--spikes",
            arg(&npy),
        ]);
        let mut records = read_records(&out);
        assert_eq!(records.len(), 1);
        let spikes = read_spikes(&npy, 5000);
        (records.pop().unwrap(), spikes)
    };
    let ((v_on, on), spikes_on) = run("on");
    let ((v_off, off), spikes_off) = run("off");

    assert!(on.config.timers);
    assert!(!off.config.timers);
    assert_eq!(v_off["config"]["timers"], false);
    for phase in PHASES {
        for part in ["min", "mean", "max"] {
            assert_eq!(
                num(&v_off, &format!("result.phases.{phase}.{part}")),
                0.0,
                "timers off: {phase}.{part}"
            );
        }
    }
    for (k, p) in off.result.phases_per_worker.iter().enumerate() {
        assert_eq!(p.total(), 0.0, "timers off: worker {k}: {p:?}");
    }
    assert_eq!(off.result.phases_per_worker.len(), 2);
    assert_eq!(off.result.ns_per_neuron_step, 0.0);
    // ... while the run itself is still timed.
    assert!(off.result.run.wall_s > 0.0);

    // Timers on measured something (so the comparison above can fail).
    assert!(num(&v_on, "result.phases.evolve.mean") > 0.0);
    assert!(on.result.ns_per_neuron_step > 0.0);

    assert!(on.result.spikes > 0);
    assert_eq!(on.result.spikes, off.result.spikes);
    assert_eq!(on.result.synaptic_events, off.result.synaptic_events);
    assert!(spikes_on == spikes_off, "timers changed the spikes");
}

/// `--exchange-trace` writes one arrival time per worker and exchange, increasing, all
/// within the run; with timers off it is refused.
#[test]
fn exchange_trace_has_one_row_per_exchange_and_one_column_per_worker() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.npy");
    let out = dir.path().join("runs.jsonl");
    common::run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.8",
        "--threads",
        "2",
        "--quiet",
        "--exchange-trace",
        common::arg(&trace),
        "--out",
        common::arg(&out),
    ]);
    let bytes = std::fs::read(&trace).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(
        npy.shape(),
        &[1000, 2],
        "0.8 s / 0.8 ms exchanges x 2 workers"
    );
    let t: Vec<f64> = npy.into_vec().unwrap();
    let r = common::only_record(&out);
    assert_eq!(
        r.config.exchange_trace.as_deref(),
        Some(common::arg(&trace))
    );
    for w in 0..2 {
        let col: Vec<f64> = t.iter().skip(w).step_by(2).copied().collect();
        assert!(
            col.windows(2).all(|p| p[0] < p[1]),
            "worker {w}: arrivals increase"
        );
        assert!(col[0] > 0.0 && *col.last().unwrap() <= r.result.run.wall_s * 1.05);
    }
    let err = common::run_err(&[
        "run",
        "va",
        "--simtime",
        "0.1",
        "--timers",
        "off",
        "--exchange-trace",
        common::arg(&trace),
    ]);
    assert!(
        err.contains("--exchange-trace") && err.contains("timers"),
        "{err}"
    );
}
