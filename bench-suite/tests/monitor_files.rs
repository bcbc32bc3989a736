//! Weight monitors, `.ras` spike monitors and `--spikes` as a streamed monitor: their
//! files against the files other outputs write (`--save-weights`, the `.npy` monitor,
//! the in-memory spike writer of before), the same for any thread count, and bad
//! specs refused before the run naming what was expected.

mod common;

use std::path::{Path, PathBuf};

use bench_suite::monitor::ras;
use common::{arg, only_record, run_err, run_ok};
use sim_core::Spike;

/// A small plastic network of the user's own: brunel's file with 200 E + 50 I (E→E
/// about 4000 pair-STDP synapses built at J = 0.1 mV, w_max 3 J), named `tiny`.
/// Weights are in volts.
fn tiny_network(dir: &Path) -> PathBuf {
    let brunel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../networks/brunel.toml");
    let text = std::fs::read_to_string(brunel).unwrap();
    let mut tiny = text.replacen("name = \"brunel\"", "name = \"tiny\"", 1);
    for (from, to) in [("size = 8000", "size = 200"), ("size = 2000", "size = 50")] {
        assert!(tiny.contains(from), "brunel.toml: {from}");
        tiny = tiny.replacen(from, to, 1);
    }
    let path = dir.join("tiny.toml");
    std::fs::write(&path, tiny).unwrap();
    path
}

/// An `.npy` matrix: (rows, cols, values as f64) and whether it is int64.
fn matrix(path: &Path) -> (usize, usize, Vec<f64>, bool) {
    let a = analysis::npy::read_2d(path).unwrap_or_else(|e| panic!("{e}"));
    let ints = matches!(a.values, analysis::npy::Values::I64(_));
    (a.rows, a.cols, a.to_f64(), ints)
}

fn spikes(path: &Path) -> Vec<Spike> {
    bench_suite::spikes::read_npy(path).unwrap_or_else(|e| panic!("{e}"))
}

/// The E→E synapses `--save-weights` wrote, ordered by (post, pre): (pre, post, w).
fn saved_ee(dir: &Path) -> Vec<(u32, u32, f64)> {
    let mut e = sim_core::mtx::read(&dir.join("ee.mtx")).unwrap().entries;
    e.sort_by_key(|&(i, j, _)| (j, i));
    e
}

/// Runs the tiny network plastic for 0.35 s (3500 steps) with a weight monitor of `n`
/// synapses every 10 ms and `--save-weights`; returns the monitor and weight
/// directories.
fn weights_run(dir: &Path, n: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let net = tiny_network(dir);
    let (m, w, out) = (dir.join("m"), dir.join("w"), dir.join("r.jsonl"));
    let spec = format!("weights:EE:{n}:10ms");
    let mut args = vec![
        "run",
        "--network-file",
        arg(&net),
        "--plastic",
        "--learning-rate",
        "0.2",
        "--simtime",
        "0.35",
        "--precision",
        "f64",
        "--quiet",
        "--monitor",
        &spec,
        "--monitor-dir",
        arg(&m),
        "--save-weights",
        arg(&w),
        "--out",
        arg(&out),
    ];
    args.extend_from_slice(extra);
    run_ok(&args);
    (m, w)
}

/// The histogram of `weights` as the monitor bins them: 100 bins over [0, w_max].
fn histogram(weights: impl Iterator<Item = f64>, w_max: f64) -> Vec<f64> {
    let mut counts = vec![0.0; 100];
    let scale = 100.0 / w_max;
    for w in weights {
        counts[((w * scale) as usize).min(99)] += 1.0;
    }
    counts
}

/// A weight monitor's last row is the weights `--save-weights` writes at the end for
/// the sampled synapses; its first row the weights as built; every histogram row
/// counts every synapse, and the last one is the saved weights' histogram; the
/// record names the files.
#[test]
fn weight_samples_are_the_saved_weights_and_histograms_count_every_synapse() {
    let dir = tempfile::tempdir().unwrap();
    let (m, w) = weights_run(dir.path(), "50", &["--threads", "2"]);
    let saved = saved_ee(&w);
    assert!(saved.len() > 3000, "{} E→E synapses", saved.len());
    let (rows, cols, values, ints) = matrix(&m.join("weights-EE.npy"));
    // Rows before steps 0, 100, …, 3400, and at the end (3500).
    assert_eq!((rows, cols, ints), (36, 50, false));
    let (n, two, pairs, ints) = matrix(&m.join("weights-EE-synapses.npy"));
    assert_eq!((n, two, ints), (50, 2, true));
    let sample: Vec<(u32, u32)> = pairs
        .chunks_exact(2)
        .map(|p| (p[0] as u32, p[1] as u32))
        .collect();
    assert!(
        sample
            .windows(2)
            .all(|p| (p[0].1, p[0].0) < (p[1].1, p[1].0)),
        "the sample is ordered by (post, pre), without repeats"
    );
    let last = &values[(rows - 1) * cols..];
    for (k, (&(pre, post), &x)) in sample.iter().zip(last).enumerate() {
        let s = saved
            .iter()
            .find(|s| (s.0, s.1) == (pre, post))
            .unwrap_or_else(|| panic!("sampled synapse {k} ({pre}, {post}) not in ee.mtx"));
        assert_eq!(s.2, x, "synapse {k} ({pre}, {post})");
    }
    // Built at J = 0.1 mV; learning moved them.
    let j = 0.1 * 1e-3;
    assert!(
        values[..cols].iter().all(|&x| x == j),
        "row 0: {:?}",
        &values[..cols]
    );
    assert!(last.iter().any(|&x| x != j), "no weight changed");
    let (hrows, bins, counts, ints) = matrix(&m.join("weights-EE-hist.npy"));
    assert_eq!((hrows, bins, ints), (rows, 100, true));
    for r in 0..hrows {
        let sum: f64 = counts[r * bins..(r + 1) * bins].iter().sum();
        assert_eq!(sum as usize, saved.len(), "histogram row {r}");
    }
    assert_eq!(
        counts[(hrows - 1) * bins..],
        histogram(saved.iter().map(|s| s.2), 3.0 * j)[..],
        "the last histogram is the saved weights'"
    );
    let r = only_record(&dir.path().join("r.jsonl"));
    let mon = &r.config.monitors[0];
    assert_eq!(
        (
            mon.kind.as_str(),
            mon.what.as_str(),
            mon.every.as_deref(),
            mon.sample
        ),
        ("weights", "EE", Some("10ms"), Some(50))
    );
    assert!(mon.file.ends_with("weights-EE.npy"), "{}", mon.file);
    assert_eq!(mon.also.len(), 2);
    assert!(
        mon.also.iter().all(|f| Path::new(f).exists()),
        "{:?}",
        mon.also
    );
}

/// N larger than the synapse count samples every synapse, in the order of the
/// synapse list (post, pre); the last row is every saved weight.
#[test]
fn a_sample_larger_than_the_connection_is_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let (m, w) = weights_run(dir.path(), "100000000", &[]);
    let saved = saved_ee(&w);
    let (n, _, pairs, _) = matrix(&m.join("weights-EE-synapses.npy"));
    assert_eq!(n, saved.len());
    for (k, (p, s)) in pairs.chunks_exact(2).zip(&saved).enumerate() {
        assert_eq!((p[0] as u32, p[1] as u32), (s.0, s.1), "synapse {k}");
    }
    let (rows, cols, values, _) = matrix(&m.join("weights-EE.npy"));
    assert_eq!(cols, saved.len());
    let last: Vec<f64> = values[(rows - 1) * cols..].to_vec();
    let want: Vec<f64> = saved.iter().map(|s| s.2).collect();
    assert!(last == want, "the last row is not the saved weights");
}

/// One thread, two threads and three partitions on two threads write byte-identical
/// weight monitor and `.ras` files (f32); the weight monitor's pauses change no spike
/// and no state sample (a run without it writes the same `.ras` and state files).
#[test]
fn weight_and_ras_files_are_the_same_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let net = tiny_network(dir.path());
    let unpaused = dir.path().join("unpaused");
    run_ok(&[
        "run",
        "--network-file",
        arg(&net),
        "--plastic",
        "--learning-rate",
        "0.2",
        "--simtime",
        "0.2",
        "--quiet",
        "--monitor",
        "spikes:all:ras",
        "--monitor",
        "state:v:0-249:1ms",
        "--monitor-dir",
        arg(&unpaused),
    ]);
    let mut first: Option<Vec<Vec<u8>>> = None;
    for (t, parts) in [("1", "1"), ("2", "2"), ("2", "3")] {
        let m = dir.path().join(format!("m{t}-{parts}"));
        run_ok(&[
            "run",
            "--network-file",
            arg(&net),
            "--plastic",
            "--learning-rate",
            "0.2",
            "--simtime",
            "0.2",
            "--quiet",
            "--threads",
            t,
            "--partitions",
            parts,
            "--monitor",
            "weights:EE:300:25ms",
            "--monitor",
            "spikes:all:ras",
            "--monitor",
            "state:v:0-249:1ms",
            "--monitor-dir",
            arg(&m),
        ]);
        for f in ["spikes-all.ras", "state-v-0-249.npy"] {
            assert!(
                std::fs::read(m.join(f)).unwrap() == std::fs::read(unpaused.join(f)).unwrap(),
                "{f}: the weight monitor's pauses changed it ({t} threads)"
            );
        }
        let files: Vec<Vec<u8>> = [
            "weights-EE.npy",
            "weights-EE-synapses.npy",
            "weights-EE-hist.npy",
            "spikes-all.ras",
        ]
        .iter()
        .map(|f| std::fs::read(m.join(f)).unwrap())
        .collect();
        assert!(files[3].len() > 10_000, "spikes-all.ras: too few spikes");
        match &first {
            None => first = Some(files),
            Some(f) => {
                for (k, (a, b)) in f.iter().zip(&files).enumerate() {
                    assert!(
                        a == b,
                        "file {k} differs on {t} threads, {parts} partitions"
                    );
                }
            }
        }
    }
}

/// A `.ras` monitor holds the spikes of the `.npy` monitor of the same neurons, one
/// `TIME ID` line each, time = step × dt with Auryn's 6 decimals at dt 0.1 ms.
#[test]
fn ras_files_hold_the_npy_monitors_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.3",
        "--quiet",
        "--threads",
        "2",
        "--monitor",
        "spikes:all",
        "--monitor",
        "spikes:all:ras",
        "--monitor",
        "spikes:I:ras",
        "--monitor-dir",
        arg(&m),
    ]);
    let all = spikes(&m.join("spikes-all.npy"));
    assert!(all.len() > 1000, "{} spikes", all.len());
    let pairs = |s: &[Spike]| -> Vec<(u64, u32)> { s.iter().map(|s| (s.step, s.gid)).collect() };
    let ras_all = ras::read(&m.join("spikes-all.ras"), 1e-4).unwrap();
    assert!(
        ras_all == pairs(&all),
        "spikes-all.ras differs from spikes-all.npy"
    );
    let inh: Vec<Spike> = all.iter().filter(|s| s.gid >= 3200).copied().collect();
    assert!(ras::read(&m.join("spikes-I.ras"), 1e-4).unwrap() == pairs(&inh));
    let text = std::fs::read_to_string(m.join("spikes-all.ras")).unwrap();
    let first = text.lines().next().unwrap();
    let want = format!("{:.6} {}", all[0].step as f64 * 1e-4, all[0].gid);
    assert_eq!(first, want);
}

/// `--spikes FILE` is streamed, and FILE is byte for byte the file the in-memory
/// writer of before wrote (npyz's header included) for the same spikes.
#[test]
fn the_spike_file_is_what_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (f, m) = (dir.path().join("s.npy"), dir.path().join("m"));
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.3",
        "--quiet",
        "--threads",
        "2",
        "--spikes",
        arg(&f),
        "--monitor",
        "spikes:all",
        "--monitor-dir",
        arg(&m),
    ]);
    let all = spikes(&m.join("spikes-all.npy"));
    assert!(all.len() > 1000);
    let before = dir.path().join("before.npy");
    bench_suite::spikes::write_npy(&before, &all, false).unwrap();
    assert!(
        std::fs::read(&f).unwrap() == std::fs::read(&before).unwrap(),
        "--spikes differs from the in-memory writer's file"
    );
    assert!(!bench_suite::monitor::stream::partial_of(&f).exists());
}

/// A killed run with `--spikes` leaves `FILE.partial` holding the spikes so far (they
/// were streamed, not kept in memory); `repair-npy` makes it readable, the next run
/// refuses to truncate it without --force.
#[test]
fn a_killed_run_leaves_its_spike_file_partial_and_repairable() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.npy");
    let partial = bench_suite::monitor::stream::partial_of(&f);
    let one = common::exclusive();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
        .args([
            "run",
            "va",
            "--simtime",
            "1000",
            "--quiet",
            "--spikes",
            arg(&f),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(t0.elapsed().as_secs() < 60, "no rows after a minute");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(one);
    assert!(!f.exists(), "an unfinished spike file in place");
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--spikes",
        arg(&f),
    ]);
    assert!(
        e.contains("--spikes") && e.contains("repair-npy") && e.contains("--force"),
        "{e}"
    );
    let said = run_ok(&["repair-npy", arg(&partial)]);
    let got = spikes(&partial);
    assert!(said.contains(&format!("{} spikes", got.len())), "{said}");
    assert!(got.len() > 200_000, "{} spikes", got.len());
    // The steps before the last (perhaps torn) one are an uninterrupted run's.
    let last = got.last().unwrap().step;
    let reference = dir.path().join("ref.npy");
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
    let before =
        |s: Vec<Spike>| -> Vec<Spike> { s.into_iter().filter(|x| x.step < last).collect() };
    assert!(before(got) == before(spikes(&reference)), "prefix differs");
}

/// Bad weight and format specs are refused before the run, naming the spec and what
/// was expected.
#[test]
fn bad_weight_and_format_specs_say_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    let net = tiny_network(dir.path());
    let tiny = ["--network-file", arg(&net), "--plastic"];
    for (network, spec, says) in [
        (&tiny[..], "weights:EE", "expected weights:CONN:N:INTERVAL"),
        (
            &tiny[..],
            "weights:XX:10:1s",
            "no connection XX in network 'tiny'; its plastic connections: EE",
        ),
        (&tiny[..], "weights:EI:10:1s", "connection EI is static"),
        (
            &tiny[..],
            "weights:EE:0:1s",
            "expected a whole number of synapses to sample, at least 1",
        ),
        (
            &tiny[..],
            "weights:EE:10:0.33ms",
            "must be a whole number of steps (dt = 0.1 ms)",
        ),
        (
            &tiny[..],
            "spikes:E:csv",
            "format \"csv\": expected npy or ras",
        ),
        (
            &["va"][..],
            "weights:EE:10:1s",
            "network 'va' has no plastic connection",
        ),
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(network);
        args.extend([
            "--simtime",
            "0.01",
            "--quiet",
            "--monitor",
            spec,
            "--monitor-dir",
            arg(&m),
        ]);
        let e = run_err(&args);
        assert!(e.contains(spec) && e.contains(says), "{spec}: {e}");
    }
    assert!(!m.exists(), "a refused run wrote its monitor directory");
    // --spikes naming a monitor's file (another spelling of it).
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--spikes",
        arg(&dir.path().join("x/../m/spikes-all.npy")),
        "--monitor",
        "spikes:all",
        "--monitor-dir",
        arg(&m),
    ]);
    assert!(
        e.contains("--spikes") && e.contains("spikes:all") && e.contains("same path"),
        "{e}"
    );
    assert!(!m.exists());
    // An existing weight monitor file (any of the three) is kept without --force.
    std::fs::create_dir(&m).unwrap();
    std::fs::write(m.join("weights-EE-hist.npy"), b"mine").unwrap();
    let e = run_err(&[
        "run",
        "--network-file",
        arg(&net),
        "--plastic",
        "--simtime",
        "0.01",
        "--quiet",
        "--monitor",
        "weights:EE:10:1ms",
        "--monitor-dir",
        arg(&m),
    ]);
    assert!(
        e.contains("weights-EE-hist.npy") && e.contains("--force"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(m.join("weights-EE-hist.npy")).unwrap(),
        b"mine"
    );
}
