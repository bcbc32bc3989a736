//! MPI end-to-end tests: `mpirun -np 2 snn-bench run …` must give exactly the spikes of
//! one process, and rank 0 must gather every rank's timers and spikes into one record.
//! Built only with the `mpi` feature (`make test` runs them; MPI comes from
//! scripts/install-deps.sh).
#![cfg(feature = "mpi")]

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use common::{arg, exclusive, only_record, read_spikes};

/// `mpirun -np RANKS snn-bench ARGS` with a time limit, as root if need be.
fn mpirun(ranks: u32, extra: &[&str], args: &[&str]) -> Output {
    let _one = exclusive();
    let exe = assert_cmd::cargo::cargo_bin("snn-bench");
    Command::new("mpirun")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .args([
            "--bind-to",
            "none",
            "--oversubscribe",
            "-np",
            &ranks.to_string(),
        ])
        .args(extra)
        .arg(exe)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("mpirun starts")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "mpirun failed: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn run_args<'a>(spikes: &'a Path, threads: &'a str, precision: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "va",
        "--simtime",
        "1",
        "--quiet",
        "--precision",
        precision,
        "--threads",
        threads,
        "--spikes",
        arg(spikes),
    ]
}

#[test]
fn ranks_and_threads_give_identical_spikes() {
    let dir = tempfile::tempdir().unwrap();
    for precision in ["f32", "f64"] {
        let one = dir.path().join(format!("one-{precision}.npy"));
        common::run_ok(&run_args(&one, "1", precision));
        let two_threads = dir.path().join(format!("t2-{precision}.npy"));
        common::run_ok(&run_args(&two_threads, "2", precision));
        let two_ranks = dir.path().join(format!("r2-{precision}.npy"));
        ok(&mpirun(2, &[], &run_args(&two_ranks, "1", precision)));
        let hybrid = dir.path().join(format!("r2t2-{precision}.npy"));
        ok(&mpirun(2, &[], &run_args(&hybrid, "2", precision)));
        let reference = std::fs::read(&one).unwrap();
        assert!(
            read_spikes(&one, 10_000).len() > 10_000,
            "the network is active"
        );
        for other in [&two_threads, &two_ranks, &hybrid] {
            assert_eq!(
                std::fs::read(other).unwrap(),
                reference,
                "{precision}: {} differs from one worker",
                other.display()
            );
        }
    }
}

#[test]
fn rank_zero_gathers_every_rank_into_one_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs.jsonl");
    let spikes = dir.path().join("s.npy");
    let mut args = run_args(&spikes, "2", "f32");
    args.extend(["--out", arg(&out), "--expect-ranks", "2"]);
    ok(&mpirun(2, &[], &args));
    let r = only_record(&out);
    assert_eq!(r.config.ranks, 2);
    assert_eq!(r.config.threads, 2);
    assert_eq!(r.config.partitions, 4);
    assert_eq!(r.config.communicator, "mpi");
    assert_eq!(r.result.per_rank.len(), 2, "one usage entry per rank");
    assert_eq!(
        r.result.per_rank.iter().map(|u| u.rank).collect::<Vec<_>>(),
        [0, 1]
    );
    assert!(r.result.per_rank.iter().all(|u| u.run_cpu_s > 0.0));
    assert_eq!(r.result.phases_per_worker.len(), 4, "every worker's timers");
    // Rank by rank (its threads in order): each rank's timers reached the record. Not
    // every thread: on a loaded machine the scheduler may step all of a rank's
    // partitions on one thread (`threads_active_mean` < 2), leaving the other's at zero.
    for (rank, threads) in r.result.phases_per_worker.chunks(2).enumerate() {
        assert!(
            threads.iter().all(|p| p.evolve >= 0.0 && p.sync >= 0.0),
            "rank {rank}: {threads:?}"
        );
        assert!(
            threads.iter().any(|p| p.evolve > 0.0) && threads.iter().any(|p| p.sync > 0.0),
            "rank {rank}'s timers are missing: {threads:?}"
        );
    }
    // The spike file holds every neuron's spikes, not only rank 0's partitions.
    let s = read_spikes(&spikes, 10_000);
    assert_eq!(s.len() as u64, r.result.spikes);
    for (lo, hi) in [(0, 800), (2400, 3200), (3200, 3400), (3800, 4000)] {
        assert!(
            s.iter().any(|x| (lo..hi).contains(&x.gid)),
            "no spikes from neurons {lo}..{hi} (owned by different workers)"
        );
    }
    assert_eq!(r.result.rates[0].1.neurons, 4000);
    assert!(r.result.rates[0].1.active_fraction > 0.8);
}

#[test]
fn wrong_rank_count_and_bad_splits_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s.npy");
    let mut args = run_args(&s, "1", "f32");
    args.extend(["--expect-ranks", "3"]);
    let out = mpirun(2, &[], &args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--expect-ranks 3") && err.contains("2 rank"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let out = mpirun(2, &[], &run_args(&s, "2001", "f32"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("4002 partitions") && err.contains("4000 neurons"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_bad_hostfile_fails_quickly_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let hostfile = dir.path().join("hosts");
    std::fs::write(&hostfile, "no-such-host-snn-limits slots=1\n").unwrap();
    let s = dir.path().join("s.npy");
    let out = mpirun(
        2,
        &["--hostfile", arg(&hostfile)],
        &run_args(&s, "1", "f32"),
    );
    assert!(
        !out.status.success(),
        "an unreachable host cannot run a rank"
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.trim().is_empty(), "mpirun says why");
    assert!(!s.exists(), "no spike file from a failed start");
}

/// The ranks `mpirun` (pid `launcher`) started, as (MPI rank, pid), from the processes
/// below it whose environment carries `OMPI_COMM_WORLD_RANK`.
fn ranks_of(launcher: u32) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    let mut todo = vec![launcher];
    while let Some(pid) = todo.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        for t in tasks.flatten() {
            let children = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            todo.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let rank = env
            .split(|&b| b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok())
            .find_map(|kv| kv.strip_prefix("OMPI_COMM_WORLD_RANK=")?.parse().ok());
        if let Some(r) = rank {
            found.push((r, pid));
        }
    }
    found
}

/// A rank that dies (SIGKILL, as the OOM killer or a node failure would) ends the whole
/// job within seconds, and the launcher's message names it: no rank is left waiting in
/// a collective forever.
#[test]
fn a_rank_that_dies_ends_the_job_within_seconds() {
    use std::io::Read;
    use std::time::Instant;
    let _one = exclusive();
    let exe = assert_cmd::cargo::cargo_bin("snn-bench");
    let mut job = std::process::Command::new("mpirun")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .args(["--bind-to", "none", "--oversubscribe", "-np", "2"])
        .arg(exe)
        .args(["run", "va", "--simtime", "600", "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mpirun starts");
    let launched = Instant::now();
    let victim = loop {
        let ranks = ranks_of(job.id());
        if let Some(&(_, pid)) = ranks.iter().find(|(r, _)| *r == 1) {
            if ranks.len() == 2 {
                break pid;
            }
        }
        assert!(
            launched.elapsed() < Duration::from_secs(60),
            "the ranks did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Let the ranks get into the step loop (and its collectives).
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: kill(2) on a pid we just found among mpirun's children.
    assert_eq!(unsafe { libc::kill(victim as i32, libc::SIGKILL) }, 0);
    let killed = Instant::now();
    let status = loop {
        if let Some(s) = job.try_wait().unwrap() {
            break s;
        }
        if killed.elapsed() > Duration::from_secs(30) {
            let _ = job.kill();
            panic!("the job still runs 30 s after rank 1 died");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    job.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!status.success(), "the job reported success: {err}");
    assert!(
        err.contains("rank 1") || err.contains(",1]"),
        "the message does not name rank 1: {err}"
    );
    assert!(
        ranks_of(std::process::id()).is_empty()
            && std::fs::metadata(format!("/proc/{victim}")).is_err(),
        "ranks are left over"
    );
}

/// A rank that fails with an error aborts the job (MPI_Abort) with a message naming
/// the rank, instead of finalising while the others wait in a collective.
#[test]
fn a_rank_that_fails_aborts_the_job_naming_itself() {
    let out = mpirun(
        2,
        &[],
        &[
            "run",
            "va",
            "--simtime",
            "1",
            "--quiet",
            "--expect-ranks",
            "3",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rank 0 of 2") || err.contains("rank 1 of 2"),
        "{err}"
    );
    assert!(err.contains("aborting the MPI job"), "{err}");
    assert!(!err.contains("panicked at"), "{err}");
}

fn spikes_of(path: &Path) -> Vec<sim_core::Spike> {
    bench_suite::spikes::read_npy(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Checkpoints cross rank counts both ways, plastic weights and spikes in flight
/// included: 0.2 s on 2 ranks × 2 threads (checkpoint) → 0.15 s resumed in one process
/// on 3 threads (the checkpoint moves on) → 0.15 s resumed on 2 ranks × 1 thread ≡
/// 0.5 s in one go in one process; and `--save-weights` on 2 ranks writes the learnt
/// weights of one process, byte for byte.
#[test]
fn plastic_checkpoints_restore_across_rank_counts_exactly() {
    across_rank_counts(&["brunel", "--plastic"]);
}

/// As the plastic case, for a static network in f64.
#[test]
fn static_f64_checkpoints_restore_across_rank_counts_exactly() {
    across_rank_counts(&["va", "--precision", "f64"]);
}

fn across_rank_counts(network: &[&'static str]) {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let ck = p("ck");
    let (a, b, c, w) = (p("a.npy"), p("b.npy"), p("c.npy"), p("w.npy"));
    let (w_mpi, w_one) = (p("w-mpi"), p("w-one"));
    let base = |simtime: &'static str| {
        let mut v = vec!["run"];
        v.extend_from_slice(network);
        v.extend(["--simtime", simtime, "--quiet"]);
        v
    };
    let mut first = base("0.2");
    first.extend([
        "--threads",
        "2",
        "--checkpoint",
        arg(&ck),
        "--spikes",
        arg(&a),
    ]);
    ok(&mpirun(2, &[], &first));
    common::run_ok(&[
        "resume",
        arg(&ck),
        "--simtime",
        "0.15",
        "--threads",
        "3",
        "--spikes",
        arg(&b),
        "--quiet",
    ]);
    ok(&mpirun(
        2,
        &[],
        &[
            "resume",
            arg(&ck),
            "--simtime",
            "0.15",
            "--threads",
            "1",
            "--spikes",
            arg(&c),
            "--save-weights",
            arg(&w_mpi),
            "--quiet",
        ],
    ));
    let mut whole = base("0.5");
    whole.extend(["--spikes", arg(&w), "--save-weights", arg(&w_one)]);
    common::run_ok(&whole);
    let parts: Vec<_> = [&a, &b, &c].iter().map(|f| spikes_of(f)).collect();
    for (k, (part, range)) in parts
        .iter()
        .zip([0..2000, 2000..3500, 3500..5000])
        .enumerate()
    {
        assert!(!part.is_empty(), "part {k}: no spikes");
        assert!(part.iter().all(|s| range.contains(&s.step)), "part {k}");
    }
    let joined: Vec<_> = parts.into_iter().flatten().collect();
    let one = spikes_of(&w);
    assert!(
        joined == one,
        "{} spikes over 2 ranks / 1 process / 2 ranks, {} in one run",
        joined.len(),
        one.len()
    );
    let read = |d: &Path| std::fs::read_to_string(d.join("ee.mtx")).unwrap();
    assert_eq!(read(&w_mpi), read(&w_one), "learnt E→E weights");
}

/// Spike and state monitors on 2 ranks × 2 threads write the files one process writes,
/// byte for byte (rank 0 streams every rank's spikes and gathers every rank's samples;
/// the state selections straddle the partitions' and the ranks' boundaries).
#[test]
fn monitors_on_two_ranks_write_the_one_process_file() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let args = |m: &Path| {
        vec![
            "run".to_string(),
            "brunel".into(),
            "--simtime".into(),
            "0.2".into(),
            "--quiet".into(),
            "--monitor".into(),
            "spikes:all".into(),
            "--monitor".into(),
            "spikes:E".into(),
            "--monitor".into(),
            "state:v:3990-4009:1ms".into(),
            "--monitor".into(),
            "state:v:all:10ms".into(),
            "--monitor-dir".into(),
            m.display().to_string(),
        ]
    };
    let two_args = args(&two);
    let mut v: Vec<&str> = two_args.iter().map(String::as_str).collect();
    v.extend(["--threads", "2"]);
    ok(&mpirun(2, &[], &v));
    let one_args = args(&one);
    common::run_ok(&one_args.iter().map(String::as_str).collect::<Vec<_>>());
    for f in [
        "spikes-all.npy",
        "spikes-E.npy",
        "state-v-3990-4009.npy",
        "state-v-all.npy",
    ] {
        let (a, b) = (
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
        );
        assert!(a.len() > 10_000, "{f}: {} bytes", a.len());
        assert!(a == b, "{f} differs between 1 process and 2 ranks");
    }
}

/// Every partitioner on 2 ranks (round-robin with one partition per rank, the others
/// with two threads each) gives one process's spikes on hetero, whose populations
/// differ in size, in-degree and plasticity; rank 0 records the partitioner and every
/// partition's estimated cost.
#[test]
fn partitioners_on_two_ranks_give_the_one_process_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threads: &str, partitioner: &str, spikes: &Path, out: &Path| -> Vec<String> {
        [
            "run",
            "hetero",
            "--plastic",
            "--simtime",
            "0.3",
            "--quiet",
            "--threads",
            threads,
            "--partitioner",
            partitioner,
            "--spikes",
            arg(spikes),
            "--out",
            arg(out),
        ]
        .map(String::from)
        .to_vec()
    };
    let one = dir.path().join("one.npy");
    let args = run("1", "block", &one, &dir.path().join("one.jsonl"));
    common::run_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let reference = std::fs::read(&one).unwrap();
    assert!(spikes_of(&one).len() > 1000, "the network is active");
    for (partitioner, threads) in [("block", 2), ("round-robin", 1), ("balanced", 2)] {
        let spikes = dir.path().join(format!("{partitioner}.npy"));
        let out = dir.path().join(format!("{partitioner}.jsonl"));
        let args = run(&threads.to_string(), partitioner, &spikes, &out);
        ok(&mpirun(
            2,
            &[],
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        assert!(
            std::fs::read(&spikes).unwrap() == reference,
            "{partitioner} on 2 ranks × {threads} threads: the spikes differ"
        );
        let r = only_record(&out);
        assert_eq!(
            (r.config.ranks, r.config.partitioner.as_str()),
            (2, partitioner)
        );
        assert_eq!(r.config.partition_costs.len(), 2 * threads);
    }
}

/// Weight monitors (probed on every rank, gathered by rank 0), `.ras` monitors and the
/// streamed `--spikes` file on 2 ranks × 2 threads are the one process's files, byte
/// for byte (a small plastic network: brunel's file with 200 E + 50 I).
#[test]
fn weight_and_ras_monitors_on_two_ranks_write_the_one_process_files() {
    let dir = tempfile::tempdir().unwrap();
    let brunel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../networks/brunel.toml");
    let tiny = std::fs::read_to_string(brunel)
        .unwrap()
        .replacen("name = \"brunel\"", "name = \"tiny\"", 1)
        .replacen("size = 8000", "size = 200", 1)
        .replacen("size = 2000", "size = 50", 1);
    let net = dir.path().join("tiny.toml");
    std::fs::write(&net, tiny).unwrap();
    let args = |m: &Path| {
        [
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
            "weights:EE:500:20ms",
            "--monitor",
            "spikes:all:ras",
            "--monitor-dir",
            m.to_str().unwrap(),
            "--spikes",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([m.join("s.npy").display().to_string()])
        .collect::<Vec<_>>()
    };
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let two_args = args(&two);
    let mut v: Vec<&str> = two_args.iter().map(String::as_str).collect();
    v.extend(["--threads", "2"]);
    ok(&mpirun(2, &[], &v));
    let one_args = args(&one);
    common::run_ok(&one_args.iter().map(String::as_str).collect::<Vec<_>>());
    for f in [
        "weights-EE.npy",
        "weights-EE-synapses.npy",
        "weights-EE-hist.npy",
        "spikes-all.ras",
        "s.npy",
    ] {
        let (a, b) = (
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
        );
        assert!(a.len() > 2_000, "{f}: {} bytes", a.len());
        assert!(a == b, "{f} differs between 1 process and 2 ranks");
    }
}
