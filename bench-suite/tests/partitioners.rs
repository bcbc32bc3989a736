//! Partitioners end to end: block, round-robin and balanced give bit-identical spikes
//! for any thread and partition count (va, hetero, and hetero with explicit synapses
//! whose in-degree varies, where balanced cuts differently from block); the record says
//! which partitioner ran and each partition's estimated cost; a checkpoint saved under
//! one partitioner continues under another with the same spikes; round-robin with more
//! partitions than populations, and an unknown partitioner, are clear errors.

mod common;

use std::sync::Arc;

use bench_suite::networks::{self, Options, Traces};
use common::{arg, only_record, read_records, run_err, run_ok};
use sim_core::partition::cost::Costs;
use sim_core::{simulate, Connectivity, Network, Partitioner, Quiet, RunConfig, Spike};

fn built(name: &str, plastic: bool) -> Network {
    let o = Options {
        plastic: plastic.then_some(Traces::Continuous),
        ..Options::default()
    };
    networks::by_name(name, &o).unwrap().net
}

/// hetero with its L→S synapses explicit: S neuron j gets about 600·(j/400)² of them,
/// from 0 to ~600, so that a block cut puts most of them in the last partition.
fn skewed_hetero() -> Network {
    let mut net = built("hetero", true);
    let ls = net.connections.iter().position(|c| c.name == "LS").unwrap();
    let (pre, post) = (net.connections[ls].pre, net.connections[ls].post);
    let (n_pre, n_post) = (net.populations[pre].size, net.populations[post].size);
    let mut entries = Vec::new();
    for i in 0..n_pre {
        for j in 0..n_post {
            let degree = 600 * j * j / (n_post * n_post);
            // Presynaptic partners spread over L, not only its first neurons.
            if (i * 7919 + j * 104_729) % n_pre < degree {
                entries.push((i as u32, j as u32, 0.05));
            }
        }
    }
    net.connections[ls].connectivity = Connectivity::Explicit(Arc::new(entries));
    net.validate().unwrap();
    net
}

fn config(threads: usize, partitions: usize, steps: u64, partitioner: Partitioner) -> RunConfig {
    RunConfig {
        threads,
        partitions,
        steps,
        priming_steps: 0,
        timers: false,
        record_spikes: true,
        progress_every: 0,
        injected_latency: Default::default(),
        trace_exchanges: false,
        partitioner,
    }
}

/// Every partitioner on 1, 2 and 3 threads and 3 partitions on 1 and 2 threads gives
/// the spikes of one block-partitioned thread, bit for bit; the decompositions really
/// differ (round-robin from block everywhere, balanced from block where the in-degree
/// varies), so the comparison means something.
#[test]
fn spikes_are_identical_for_every_partitioner_and_count() {
    for (net, steps) in [
        (built("va", false), 2000),
        (built("hetero", true), 3000),
        (skewed_hetero(), 3000),
    ] {
        let _one = common::exclusive();
        let reference = simulate::<f32>(&net, &config(1, 0, steps, Partitioner::Block), &Quiet)
            .unwrap()
            .spikes
            .unwrap();
        assert!(
            reference.len() > 1000,
            "{}: the network is active ({} spikes)",
            net.name,
            reference.len()
        );
        let explicit = net
            .connections
            .iter()
            .any(|c| matches!(c.connectivity, Connectivity::Explicit(_)));
        for p in Partitioner::ALL {
            for (threads, partitions) in [(1, 0), (2, 0), (3, 0), (1, 3), (2, 3)] {
                let cfg = config(threads, partitions, steps, p);
                let what = format!("{} {p} {threads} threads {partitions} partitions", net.name);
                let r = match simulate::<f32>(&net, &cfg, &Quiet) {
                    Ok(r) => r,
                    Err(e) => {
                        // va has two populations: round-robin splits it in two at most.
                        assert!(
                            p == Partitioner::RoundRobin
                                && threads.max(partitions) > net.populations.len(),
                            "{what}: {e}"
                        );
                        assert!(e.to_string().contains("round-robin"), "{e}");
                        continue;
                    }
                };
                let spikes: Vec<Spike> = r.spikes.unwrap();
                assert!(spikes == reference, "{what}: the spikes differ");
                let count = threads.max(partitions);
                let block = sim_core::Decomposition::block(&net, count);
                if count > 1
                    && (p == Partitioner::RoundRobin || (p == Partitioner::Balanced && explicit))
                {
                    assert_ne!(r.decomposition, block, "{what}: the same cut as block");
                }
                if p == Partitioner::Balanced && !explicit {
                    assert_eq!(r.decomposition, block, "{what}");
                }
            }
        }
    }
}

/// The record names the partitioner and each partition's estimated cost (which add up
/// to the network's), and the run's exchanges; balanced evens out the skewed network's
/// costs that block leaves uneven.
#[test]
fn the_record_gives_the_partitioner_and_the_partition_costs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.jsonl");
    for p in ["block", "round-robin", "balanced"] {
        run_ok(&[
            "run",
            "hetero",
            "--plastic",
            "--simtime",
            "0.1",
            "--threads",
            "2",
            "--quiet",
            "--partitioner",
            p,
            "--out",
            arg(&out),
        ]);
    }
    let records = read_records(&out);
    assert_eq!(records.len(), 3);
    let net = built("hetero", true);
    let total = Costs::estimate(&net).total();
    let mut imbalance = Vec::new();
    for ((v, r), p) in records.iter().zip(["block", "round-robin", "balanced"]) {
        assert_eq!(r.config.partitioner, p);
        assert_eq!(v["config"]["partitioner"], p);
        let costs = &r.config.partition_costs;
        assert_eq!(costs.len(), 2, "{p}");
        let sum: f64 = costs.iter().sum();
        assert!((sum - total).abs() < 1e-9 * total, "{p}: {sum} vs {total}");
        let mean = sum / 2.0;
        imbalance.push(costs.iter().cloned().fold(0.0, f64::max) / mean);
        // 1000 steps, an exchange every 8.
        assert_eq!(r.result.exchanges, 125, "{p}");
        assert!(r.result.spikes > 0);
    }
    // Block and balanced split every population evenly; round-robin gives one
    // partition L and P and the other S, whose costs differ by far.
    assert!(
        imbalance[0] < 1.001 && imbalance[2] < 1.001,
        "{imbalance:?}"
    );
    assert!(imbalance[1] > 1.2, "{imbalance:?}");
    // The same spikes under each.
    assert_eq!(records[0].1.result.spikes, records[1].1.result.spikes);
    assert_eq!(records[0].1.result.spikes, records[2].1.result.spikes);
    // The table gives each partitioner a row of its own.
    let table = run_ok(&["table", arg(&out)]);
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("hetero")).collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(
        rows.iter()
            .any(|r| r.contains("stdp/continuous round-robin")),
        "{table}"
    );
    assert!(
        rows.iter().any(|r| r.contains("stdp/continuous balanced")),
        "{table}"
    );
}

/// A checkpoint written under balanced continues under round-robin (another thread
/// count too) and under its own partitioner (what `resume` uses unless told), with the
/// spikes of one uninterrupted run.
#[test]
fn a_checkpoint_continues_under_another_partitioner() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let whole = d.join("whole.npy");
    run_ok(&[
        "run",
        "hetero",
        "--plastic",
        "--simtime",
        "0.3",
        "--quiet",
        "--spikes",
        arg(&whole),
    ]);
    let ck = d.join("ck");
    run_ok(&[
        "run",
        "hetero",
        "--plastic",
        "--simtime",
        "0.2",
        "--quiet",
        "--threads",
        "2",
        "--partitioner",
        "balanced",
        "--checkpoint",
        arg(&ck),
    ]);
    let copy = d.join("ck-copy");
    std::fs::create_dir(&copy).unwrap();
    for e in std::fs::read_dir(&ck).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
    }
    let expected: Vec<Spike> = bench_suite::spikes::read_npy(&whole)
        .unwrap()
        .into_iter()
        .filter(|s| s.step >= 2000)
        .collect();
    assert!(expected.len() > 100, "the network is active");
    for (dir, extra, partitioner) in [
        (&ck, &[][..], "balanced"),
        (
            &copy,
            &["--partitioner", "round-robin", "--threads", "3"][..],
            "round-robin",
        ),
    ] {
        let spikes = d.join(format!("{partitioner}.npy"));
        let out = d.join(format!("{partitioner}.jsonl"));
        let mut args = vec![
            "resume",
            arg(dir),
            "--simtime",
            "0.1",
            "--quiet",
            "--spikes",
            arg(&spikes),
            "--out",
            arg(&out),
        ];
        args.extend_from_slice(extra);
        run_ok(&args);
        let got = bench_suite::spikes::read_npy(&spikes).unwrap();
        assert!(
            got == expected,
            "resumed under {partitioner}: the spikes differ"
        );
        let r = only_record(&out);
        assert_eq!(r.config.partitioner, partitioner);
    }
}

/// Round-robin with more partitions than populations, and an unknown partitioner,
/// stop before the run with messages that say what to do; nothing is recorded.
#[test]
fn impossible_or_unknown_partitioners_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.jsonl");
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--threads",
        "3",
        "--partitioner",
        "round-robin",
        "--out",
        arg(&out),
    ]);
    for part in [
        "--partitioner round-robin",
        "3 partitions",
        "'va' has only 2 population(s)",
        "--partitioner block or balanced",
    ] {
        assert!(e.contains(part), "{part}: {e}");
    }
    assert!(!out.exists());
    let e = run_err(&["run", "va", "--simtime", "0.01", "--partitioner", "greedy"]);
    for part in ["--partitioner", "greedy", "block, round-robin, balanced"] {
        assert!(e.contains(part), "{part}: {e}");
    }
    let e = run_err(&[
        "resume",
        arg(tmp.path()),
        "--simtime",
        "1",
        "--partitioner",
        "rr",
    ]);
    assert!(e.contains("--partitioner") && e.contains("'rr'"), "{e}");
}

/// A protocol's [run] table takes the partitioner as `snn-bench run` does.
#[test]
fn protocols_carry_the_partitioner() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let file = d.join("p.toml");
    let out = d.join("r.jsonl");
    std::fs::write(
        &file,
        format!(
            "[run]\nnetwork = \"hetero\"\nthreads = 2\npartitioner = \"round-robin\"\n\
             out = {:?}\n\n[[segment]]\nname = \"a\"\nduration = 0.05\n",
            arg(&out)
        ),
    )
    .unwrap();
    run_ok(&["protocol", arg(&file), "--quiet"]);
    let r = only_record(&out);
    assert_eq!(r.config.partitioner, "round-robin");
    assert_eq!(r.config.partition_costs.len(), 2);
    let bad = d.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&file)
            .unwrap()
            .replace("threads = 2", "threads = 4"),
    )
    .unwrap();
    let e = run_err(&["protocol", arg(&bad), "--quiet"]);
    assert!(
        e.contains(arg(&bad)) && e.contains("round-robin") && e.contains("4 partitions"),
        "{e}"
    );
}

/// The monitors' files are the same under every partitioner (they gather what each
/// partition holds by neuron id): a state monitor across the L/S boundary, a plastic
/// connection's trace, and every spike.
#[test]
fn monitors_write_the_same_files_under_every_partitioner() {
    let tmp = tempfile::tempdir().unwrap();
    let files = [
        "spikes-all.npy",
        "state-v-3990-4010.npy",
        "state-PS.post_trace-S.npy",
    ];
    let mut reference: Option<Vec<Vec<u8>>> = None;
    for (p, threads) in [("block", "1"), ("round-robin", "2"), ("balanced", "3")] {
        let dir = tmp.path().join(p);
        run_ok(&[
            "run",
            "hetero",
            "--plastic",
            "--simtime",
            "0.1",
            "--quiet",
            "--threads",
            threads,
            "--partitioner",
            p,
            "--monitor-dir",
            arg(&dir),
            "--monitor",
            "spikes:all",
            "--monitor",
            "state:v:3990-4010:1ms",
            "--monitor",
            "state:PS.post_trace:S:2ms",
        ]);
        let got: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{p}: {f}: {e}")))
            .collect();
        assert!(
            got.iter().all(|b| b.len() > 1000),
            "{p}: the files hold data"
        );
        match &reference {
            None => reference = Some(got),
            Some(r) => {
                for (k, f) in files.iter().enumerate() {
                    assert!(r[k] == got[k], "{p}: {f} differs from block's");
                }
            }
        }
    }
}
