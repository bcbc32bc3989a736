//! Spike monitors (`--monitor spikes:WHAT --monitor-dir DIR`): streamed files that equal
//! the in-memory `--spikes` file (or its subset), that a killed run leaves repairable,
//! and bad monitor specs refused before the run.

mod common;

use std::path::Path;

use common::{arg, only_record, run_err, run_ok};
use sim_core::Spike;

fn spikes(path: &Path) -> Vec<Spike> {
    bench_suite::spikes::read_npy(path).unwrap_or_else(|e| panic!("{e}"))
}

/// A monitor of all neurons gives the `--spikes` file's spikes, a population's or an id
/// range's monitor their subset; the record lists them; no partial file is left.
#[test]
fn monitors_equal_the_spike_file_and_its_subsets() {
    let dir = tempfile::tempdir().unwrap();
    let (w, m, out) = (
        dir.path().join("w.npy"),
        dir.path().join("m"),
        dir.path().join("r.jsonl"),
    );
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.3",
        "--threads",
        "2",
        "--quiet",
        "--spikes",
        arg(&w),
        "--monitor",
        "spikes:all",
        "--monitor",
        "spikes:I",
        "--monitor",
        "spikes:100-199",
        "--monitor-dir",
        arg(&m),
        "--out",
        arg(&out),
    ]);
    let all = spikes(&w);
    assert!(all.len() > 1000, "{} spikes", all.len());
    assert!(spikes(&m.join("spikes-all.npy")) == all, "spikes:all");
    // va: E is 3200 neurons, I the 800 after.
    let subset = |r: std::ops::Range<u32>| -> Vec<Spike> {
        all.iter().filter(|s| r.contains(&s.gid)).copied().collect()
    };
    assert!(
        spikes(&m.join("spikes-I.npy")) == subset(3200..4000),
        "spikes:I"
    );
    assert!(
        spikes(&m.join("spikes-100-199.npy")) == subset(100..200),
        "ids"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&m)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let r = only_record(&out);
    let whats: Vec<&str> = r.config.monitors.iter().map(|m| m.what.as_str()).collect();
    assert_eq!(whats, ["all", "I", "100-199"]);
    // Existing monitor files are kept unless --force.
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--monitor",
        "spikes:I",
        "--monitor-dir",
        arg(&m),
    ]);
    assert!(e.contains("spikes-I.npy") && e.contains("--force"), "{e}");
}

/// A run killed mid-way leaves `spikes-all.npy.partial`; `repair-npy` completes its
/// header, and the spikes in it are those of an uninterrupted run, up to the last step
/// it holds.
#[test]
fn a_killed_run_leaves_a_monitor_file_that_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    let partial = m.join("spikes-all.npy.partial");
    let one = common::exclusive();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
        .args([
            "run",
            "va",
            "--simtime",
            "1000",
            "--quiet",
            "--monitor",
            "spikes:all",
            "--monitor-dir",
            arg(&m),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Until a few MB of rows are on disk (bounded: the run is far from its end then).
    let t0 = std::time::Instant::now();
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(t0.elapsed().as_secs() < 60, "no rows after a minute");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(one);
    assert!(
        !m.join("spikes-all.npy").exists(),
        "an unfinished file in place"
    );
    // Unrepaired, its header (0 rows) does not match its length: readers refuse it.
    assert!(bench_suite::spikes::read_npy(&partial).is_err());
    let said = run_ok(&["repair-npy", arg(&partial)]);
    let got = spikes(&partial);
    assert!(said.contains(&format!("{} spikes", got.len())), "{said}");
    let last = got.last().expect("rows").step;
    let steps = (last + 1).to_string();
    let reference = dir.path().join("ref.npy");
    // dt 0.1 ms: `last + 1` steps.
    let simtime = format!("{}", (last + 1) as f64 * 1e-4);
    run_ok(&[
        "run",
        "va",
        "--simtime",
        &simtime,
        "--quiet",
        "--spikes",
        arg(&reference),
    ]);
    let full = spikes(&reference);
    // The last step may be torn (killed mid-window): compare the steps before it.
    let before =
        |s: &Vec<Spike>| -> Vec<Spike> { s.iter().filter(|x| x.step < last).copied().collect() };
    assert!(
        before(&got) == before(&full),
        "prefix differs ({steps} steps)"
    );
    assert!(before(&got).len() > 100_000, "{} rows", got.len());
}

#[test]
fn bad_monitors_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    for (spec, says) in [
        ("weights:EE:10:1s", "has no plastic connection"),
        ("spikes:X", "a population of va (E, I)"),
        ("spikes:0-4000", "4000 neurons"),
        ("spikes:9-3", "A <= B"),
        ("rate:E:1000000s", "at most 2^32"),
        ("bogus", "KIND:WHAT"),
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
    assert!(!m.exists(), "a refused run wrote its monitor directory");
    // A killed run's unrepaired file is not truncated by the next run.
    std::fs::create_dir(&m).unwrap();
    let left = m.join("spikes-all.npy.partial");
    std::fs::write(&left, b"rows of an earlier run").unwrap();
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--monitor",
        "spikes:all",
        "--monitor-dir",
        arg(&m),
    ]);
    assert!(e.contains("repair-npy") && e.contains("--force"), "{e}");
    assert_eq!(std::fs::read(&left).unwrap(), b"rows of an earlier run");
    let e = run_err(&["run", "va", "--simtime", "0.01", "--monitor", "spikes:all"]);
    assert!(e.contains("--monitor-dir"), "{e}");
}

/// Rate monitors are the spike file binned: the population's spikes per bin / (neurons
/// × bin), from the run's first step; a last, shorter bin over its own length.
#[test]
fn rate_monitors_are_the_spike_file_binned() {
    let dir = tempfile::tempdir().unwrap();
    let (w, m) = (dir.path().join("w.npy"), dir.path().join("m"));
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.3",
        "--quiet",
        "--spikes",
        arg(&w),
        "--monitor",
        "rate:E:5ms",
        "--monitor",
        "rate:I:7ms",
        "--monitor-dir",
        arg(&m),
    ]);
    let all = spikes(&w);
    let rates = |f: &str| -> Vec<f64> {
        let bytes = std::fs::read(m.join(f)).unwrap();
        let values: Vec<f64> = bytes[128..]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let head = String::from_utf8_lossy(&bytes[..128]).to_string();
        assert!(head.contains(&format!("({:>20},)", values.len())), "{head}");
        values
    };
    // dt 0.1 ms, 3000 steps; E is ids 0–3199, I 3200–3999.
    let expect = |ids: std::ops::Range<u32>, k: u64| -> Vec<f64> {
        let total = 3000u64;
        let bins = total.div_ceil(k);
        let mut counts = vec![0u64; bins as usize];
        for s in all.iter().filter(|s| ids.contains(&s.gid)) {
            counts[(s.step / k) as usize] += 1;
        }
        let n = ids.len() as f64;
        (0..bins)
            .map(|b| {
                let steps = k.min(total - b * k);
                counts[b as usize] as f64 / (steps as f64 * n * 1e-4)
            })
            .collect()
    };
    for (f, ids, k) in [("rate-E.npy", 0..3200, 50), ("rate-I.npy", 3200..4000, 70)] {
        let (got, want) = (rates(f), expect(ids, k));
        assert_eq!(got.len(), want.len(), "{f}: bins");
        for (b, (g, x)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - x).abs() <= 1e-9 * x.abs().max(1.0),
                "{f} bin {b}: {g} vs {x}"
            );
        }
        assert!(got.iter().sum::<f64>() > 0.0, "{f}: no spikes");
    }
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--monitor",
        "rate:E:0.25ms",
        "--monitor-dir",
        arg(&m),
    ]);
    assert!(e.contains("whole number of steps"), "{e}");
}
