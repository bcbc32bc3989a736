//! `snn-bench peer`: a peer simulator's run on snn-limits' inputs, recorded in snn-limits'
//! schema. The harness is tested with a stand-in runner (plain Python, no simulator);
//! the real runners (NEST, Brian2) run where their environments exist
//! (`scripts/peers/setup.sh`; CI makes them and sets SNN_REQUIRE_PEERS=1).

mod common;

use std::path::{Path, PathBuf};

use common::{arg, only_record, run_err, run_ok};

/// A stand-in runner: checks that snn-limits' inputs are there, then writes spikes (each
/// neuron i at steps i, i + 50, …, or an id past the network with BAD_ID) and a meta
/// file claiming THREADS threads, with nothing but the standard library.
const FAKE_RUNNER: &str = r#"
import argparse, json, os, struct, sys
p = argparse.ArgumentParser()
for a in ["--network", "--simtime", "--dt", "--delay", "--threads", "--seed", "--weights",
          "--initial-v", "--spikes", "--meta", "--save-weights", "--priming"]:
    p.add_argument(a)
p.add_argument("--plastic", action="store_true")
a = p.parse_args()
for f in ["ee.mtx", "ei.mtx", "ie.mtx", "ii.mtx"]:
    if not os.path.isfile(os.path.join(a.weights, f)):
        sys.exit("no " + f)
if not os.path.isfile(a.initial_v):
    sys.exit("no initial V")
steps = round(float(a.simtime) / float(a.dt))
rows = [(s, i) for s in range(steps) for i in range(4000) if s % 50 == i % 50]
if os.environ.get("BAD_ID"):
    rows.append((steps - 1, 4000))
header = "{'descr': '<i8', 'fortran_order': False, 'shape': (%d, 2), }" % len(rows)
header += " " * (117 - len(header)) + "\n"
with open(a.spikes, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    for s, i in rows:
        f.write(struct.pack("<qq", s, i))
json.dump({"simulator": {"name": "nest", "version": "0-fake", "solver": "none",
                         "threads": int(os.environ.get("THREADS", a.threads))},
           "setup_wall_s": 0.5, "loop_wall_s": 0.25, "process_cpu_s": 0.7,
           "peak_rss_bytes": 1000, "synapses": 320000, "neurons": 4000,
           "network": a.network, "kernel": "fake"}, open(a.meta, "w"))
"#;

fn fake_runners(dir: &Path) -> PathBuf {
    let runners = dir.join("runners");
    std::fs::create_dir_all(&runners).unwrap();
    std::fs::write(runners.join("nest_run.py"), FAKE_RUNNER).unwrap();
    runners
}

fn peer_args<'a>(runners: &'a Path, spikes: &'a Path, out: &'a Path) -> Vec<&'a str> {
    vec![
        "peer",
        "nest",
        "va",
        "--simtime",
        "0.1",
        "--python",
        "python3",
        "--runners",
        arg(runners),
        "--spikes",
        arg(spikes),
        "--out",
        arg(out),
    ]
}

fn python3() -> bool {
    std::process::Command::new("python3")
        .arg("-c")
        .arg("import sys")
        .status()
        .is_ok_and(|s| s.success())
}

/// The record is snn-limits' schema with the peer in `config.simulator`, its rates from
/// the peer's spikes; the inputs are snn-limits' own (the same V at step 0 as snn-limits'
/// run of the seed); nothing is replaced without --force; a runner's bad output is named.
#[test]
fn a_peer_run_is_recorded_in_snn_limits_schema() {
    if !python3() {
        eprintln!("skipped: no python3");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let runners = fake_runners(dir);
    let spikes = dir.join("nest-va.npy");
    let out = dir.join("peers.jsonl");
    // `--python python3`: a bare name is looked up on PATH, as a shell would.
    let args = peer_args(&runners, &spikes, &out);
    run_ok(&args);
    let r = only_record(&out);
    let s = r.config.simulator.as_ref().expect("config.simulator");
    assert_eq!((s.name.as_str(), s.version.as_str()), ("nest", "0-fake"));
    assert_eq!(s.details["kernel"], "fake");
    assert!(s.process_wall_s > 0.0);
    assert_eq!(
        r.result.run.wall_s, 0.25,
        "the loop by the peer's own timer"
    );
    assert!((r.result.rtf - 2.5).abs() < 1e-12);
    // 1000 steps, every neuron every 50 steps: 20 spikes each, 200 Hz.
    assert_eq!(r.result.spikes, 80_000);
    let pops: Vec<(&str, usize)> = r
        .result
        .rates
        .iter()
        .map(|(n, s)| (n.as_str(), s.neurons))
        .collect();
    assert_eq!(pops, [("all", 4000), ("E", 3200), ("I", 800)]);
    assert!((r.result.rates[0].1.mean_rate_hz - 200.0).abs() < 1e-9);
    assert_eq!(r.config.spikes.as_deref(), Some(arg(&spikes)));
    // The inputs: V at step 0 of snn-limits' own run of seed 1, and its weights.
    let inputs = PathBuf::from(&s.inputs);
    let v0 = analysis::npy::read_2d(&inputs.join("monitors/state-v-all.npy")).unwrap();
    assert_eq!((v0.rows, v0.cols), (1, 4000));
    let own = dir.join("own");
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.0001",
        "--precision",
        "f64",
        "--monitor",
        "state:v:all:1s",
        "--monitor-dir",
        arg(&own),
        "--out",
        arg(&dir.join("own.jsonl")),
    ]);
    let mine = analysis::npy::read_2d(&own.join("state-v-all.npy")).unwrap();
    assert_eq!(
        v0.to_f64(),
        mine.to_f64(),
        "the peer starts where snn-limits starts"
    );
    assert!(inputs.join("weights/ee.mtx").is_file());

    // Again: refused, nothing replaced; with --force, replaced and the inputs reused.
    let before = std::fs::read(&spikes).unwrap();
    let e = run_err(&args);
    assert!(e.contains("exists: not replaced without --force"), "{e}");
    assert_eq!(std::fs::read(&spikes).unwrap(), before);
    let mut forced = args.clone();
    forced.push("--force");
    run_ok(&forced);
    assert_eq!(common::read_records(&out).len(), 2);

    // A runner's bad output is named: an id past the network, a wrong thread count.
    let bad = |env: (&str, &str), want: &str| {
        let out = common::snn()
            .args(&forced)
            .env(env.0, env.1)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{env:?} succeeded");
        assert!(err.contains(want), "{env:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    bad(("BAD_ID", "1"), "id 4000): expected ids below 4000");
    bad(
        ("THREADS", "3"),
        "ran nest on 3 thread(s), asked for nest on 1",
    );
    assert_eq!(
        common::read_records(&out).len(),
        2,
        "no record of a bad run"
    );

    // `table` gives the peer's runs a row of their own beside snn-limits' run of the
    // same configuration: no median of two simulators.
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.1",
        "--precision",
        "f64",
        "--timers",
        "off",
        "--out",
        arg(&out),
    ]);
    let table = run_ok(&["table", arg(&out)]);
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row: {table}"))
            .to_string()
    };
    // The column n (repetitions): the 9th field, the network's name the 1st.
    let n = |row: &str| row.split_whitespace().nth(8).unwrap_or("").to_string();
    let peer_row = row("nest");
    assert!(peer_row.starts_with("nest va "), "{table}");
    assert_eq!(n(&peer_row["nest ".len()..]), "2", "{table}");
    assert_eq!(n(&row("va")), "1", "{table}");
    assert_eq!(common::read_records(&out).len(), 3);
}

/// Bad arguments and a missing environment are named before anything runs.
#[test]
fn bad_peer_arguments_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let runners = fake_runners(dir);
    let spikes = dir.join("s.npy");
    let out = dir.join("r.jsonl");
    let with = |extra: &[&str]| {
        let mut a = peer_args(&runners, &spikes, &out);
        a.extend(extra);
        run_err(&a)
    };
    let mut a = peer_args(&runners, &spikes, &out);
    assert_eq!(a[3], "--simtime");
    a[4] = "1e300";
    assert!(run_err(&a).contains("--simtime 1e300"));
    assert!(with(&["--delay", "0.85"]).contains("multiple of --dt"));
    let mut a = peer_args(&runners, &spikes, &out);
    a[1] = "neuron";
    assert!(run_err(&a).contains("unknown peer \"neuron\""));
    let mut a = peer_args(&runners, &spikes, &out);
    a[6] = "/nonexistent/python";
    assert!(run_err(&a).contains("scripts/peers/setup.sh"));
    assert!(!out.exists() && !spikes.exists(), "nothing written");
    // A directory where the inputs would go that is not snn-limits' is left alone.
    let theirs = dir.join("inputs/va-seed1-dt100us");
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("mine.txt"), "a user's file").unwrap();
    let inputs = dir.join("inputs");
    let mut a = peer_args(&runners, &spikes, &out);
    a.extend(["--inputs", arg(&inputs)]);
    let e = run_err(&a);
    assert!(e.contains("not snn-limits' inputs"), "{e}");
    assert_eq!(
        std::fs::read_to_string(theirs.join("mine.txt")).unwrap(),
        "a user's file"
    );
}

/// The real runners, where their environments exist: each runs va for 0.2 s on
/// snn-limits' inputs and its rates are those of snn-limits' run of the same network
/// (same weights, same V at step 0) within 25 %.
#[test]
fn the_real_peers_run_va_like_snn_limits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let required = std::env::var_os("SNN_REQUIRE_PEERS").is_some_and(|v| v == "1");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let own = dir.join("own.jsonl");
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.2",
        "--precision",
        "f64",
        "--out",
        arg(&own),
    ]);
    let own_rate = only_record(&own).result.rates[0].1.mean_rate_hz;
    for sim in ["nest", "brian2"] {
        let python = root.join(".venv-peers").join(sim).join("bin/python");
        if !python.is_file() {
            assert!(
                !required,
                "SNN_REQUIRE_PEERS=1 but {} is missing",
                python.display()
            );
            eprintln!(
                "skipped {sim}: {} missing (scripts/peers/setup.sh)",
                python.display()
            );
            continue;
        }
        let spikes = dir.join(format!("{sim}.npy"));
        let out = dir.join(format!("{sim}.jsonl"));
        run_ok(&[
            "peer",
            sim,
            "va",
            "--simtime",
            "0.2",
            "--python",
            arg(&python),
            "--runners",
            arg(&root.join("scripts/peers")),
            "--spikes",
            arg(&spikes),
            "--inputs",
            arg(&dir.join("inputs")),
            "--out",
            arg(&out),
        ]);
        let r = only_record(&out);
        assert_eq!(r.config.simulator_name(), sim);
        let rate = r.result.rates[0].1.mean_rate_hz;
        assert!(
            (rate / own_rate - 1.0).abs() < 0.25,
            "{sim}: {rate} Hz against snn-limits' {own_rate} Hz"
        );
    }
}
