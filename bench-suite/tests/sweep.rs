//! `snn-bench sweep`: expansion, records, resuming after a kill, bad specifications and
//! failing runs.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{arg, exclusive, read_records, run_err, run_ok_both, snn};

/// (network, precision, threads, ranks, hosts, repetition) of every record of a file, in
/// file order; every line must parse as a record.
fn configs(out: &Path) -> Vec<(String, String, usize, usize, usize, u32)> {
    read_records(out)
        .into_iter()
        .map(|(_, r)| {
            let c = r.config;
            (
                c.network,
                c.precision,
                c.threads,
                c.ranks,
                c.hosts,
                c.repetition,
            )
        })
        .collect()
}

fn expected(
    threads: &[usize],
    precisions: &[&str],
    repetitions: u32,
) -> BTreeSet<(String, String, usize, usize, usize, u32)> {
    let mut set = BTreeSet::new();
    for rep in 0..repetitions {
        for p in precisions {
            for &t in threads {
                set.insert(("va".to_string(), p.to_string(), t, 1, 1, rep));
            }
        }
    }
    set
}

/// Asserts a file holds each expected configuration exactly once and nothing else.
fn assert_exactly(out: &Path, want: &BTreeSet<(String, String, usize, usize, usize, u32)>) {
    let got = configs(out);
    let set: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(set.len(), got.len(), "duplicate records: {got:#?}");
    assert_eq!(&set, want);
}

/// Complete lines of a file (0 if it does not exist yet).
fn lines(path: &Path) -> usize {
    fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// Processes (other than zombies) whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmdline) = fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!("{}: {cmdline}", name.to_string_lossy()));
            }
        }
    }
    found
}

/// Waits up to `limit` for no process to mention `needle`; returns the survivors.
fn wait_gone(needle: &str, limit: Duration) -> Vec<String> {
    let until = Instant::now() + limit;
    loop {
        let left = processes_mentioning(needle);
        if left.is_empty() || Instant::now() > until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_by_two_sweep_records_four_runs_then_skips_them() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("sweep.toml");
    let out = tmp.path().join("out/sweep.jsonl");
    // Odd delay and latency values: the keys must survive the float round trip through
    // the command line and the record.
    fs::write(
        &spec,
        format!(
            "# a small sweep\nnetwork = \"va\"\nsimtime = 0.2\nthreads = [1, 2]\n\
             precision = [\"f32\", \"f64\"]\ndelay = [0.3]\nlatency_us = [1.5]\nseed = 5\n\
             out = {:?}\n",
            arg(&out)
        ),
    )
    .unwrap();

    let (stdout, stderr) = run_ok_both(&["sweep", arg(&spec)]);
    assert!(stderr.contains("skipping 0 of 4"), "{stderr}");
    // Not a terminal: one line per configuration instead of a progress bar.
    for i in 1..=4 {
        assert!(stderr.contains(&format!("[{i}/4] va ")), "{stderr}");
    }
    assert!(stdout.contains(arg(&out)), "{stdout}");
    assert!(stdout.contains("network"), "no table: {stdout}");
    assert_exactly(&out, &expected(&[1, 2], &["f32", "f64"], 1));
    for (_, r) in read_records(&out) {
        let c = &r.config;
        assert!((c.simtime_s - 0.2).abs() < 1e-9, "{}", c.simtime_s);
        assert!((c.delay_s - 0.3e-3).abs() < 1e-12, "{}", c.delay_s);
        assert_eq!(c.injected_latency_us, 1.5);
        assert_eq!(c.seed, 5);
        assert!(c.timers);
    }

    let before = fs::read(&out).unwrap();
    let (stdout, stderr) = run_ok_both(&["sweep", arg(&spec)]);
    assert!(stderr.contains("skipping 4 of 4"), "{stderr}");
    assert!(stdout.contains("nothing to run"), "{stdout}");
    assert_eq!(
        fs::read(&out).unwrap(),
        before,
        "a resumed sweep wrote again"
    );

    let (listing, _) = run_ok_both(&["sweep", arg(&spec), "--dry-run"]);
    assert_eq!(
        listing.lines().filter(|l| l.starts_with("skip ")).count(),
        4
    );
    assert_eq!(listing.lines().filter(|l| l.starts_with("run ")).count(), 0);
}

#[test]
fn a_sweep_killed_mid_run_resumes_without_loss_or_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("sweep.toml");
    let out = tmp.path().join("killed.jsonl");
    // Runs of 0.1 to 0.3 s each in the (optimised) test build.
    fs::write(
        &spec,
        "simtime = 3.0\nthreads = [1, 2]\nprecision = [\"f32\", \"f64\"]\nrepetitions = 2\n",
    )
    .unwrap();
    let want = expected(&[1, 2], &["f32", "f64"], 2);

    let one = exclusive();
    let dry = snn()
        .args(["sweep", arg(&spec), "--out", arg(&out), "--dry-run"])
        .output()
        .unwrap();
    assert!(dry.status.success());
    let listing = String::from_utf8(dry.stdout).unwrap();
    assert_eq!(listing.lines().filter(|l| l.starts_with("run ")).count(), 8);

    let mut sweep = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
        .args(["sweep", arg(&spec), "--out", arg(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    // Wait for the third configuration's run (f64, 1 thread, repetition 0: the product
    // runs precision outside threads) to be under way, two records written.
    let third = "--threads 1 --precision f64 --delay 0.8 --comm-latency-us 0 --seed 1 \
                 --repetition 0 --out";
    let until = Instant::now() + Duration::from_secs(60);
    while !processes_mentioning(arg(&out))
        .iter()
        .any(|p| p.contains(third))
    {
        assert!(Instant::now() < until, "no third run within a minute");
        assert!(sweep.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(1));
    }
    // SIGKILL the sweep's process group mid-run. Each run is in a group of its own: the
    // kernel kills it as its parent dies (PR_SET_PDEATHSIG).
    std::thread::sleep(Duration::from_millis(20));
    unsafe { libc::kill(-(sweep.id() as libc::pid_t), libc::SIGKILL) };
    let status = sweep.wait().unwrap();
    assert!(
        status.code().is_none(),
        "the sweep was not killed: {status}"
    );
    let at_kill = lines(&out);
    // The run in flight dies with the sweep: nothing of it lingers, and no record appears
    // after the kill (a run that outlived the sweep would finish and append well within
    // this second).
    let killed = Instant::now();
    let survivors = wait_gone(arg(&out), Duration::from_secs(1));
    assert!(
        survivors.is_empty(),
        "runs outlived the sweep: {survivors:?}"
    );
    std::thread::sleep(Duration::from_secs(1).saturating_sub(killed.elapsed()));
    assert_eq!(lines(&out), at_kill, "a record appeared after the kill");
    assert_eq!(
        at_kill, 2,
        "the kill did not land during the third run (runs too short?)"
    );
    let partial: BTreeSet<_> = configs(&out).into_iter().collect();
    assert_eq!(partial.len(), at_kill);
    assert!(partial.is_subset(&want));
    drop(one);

    let (_, stderr) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out)]);
    assert!(
        stderr.contains(&format!("skipping {at_kill} of 8")),
        "{stderr}"
    );
    assert_exactly(&out, &want);
    let (listing, _) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out), "--dry-run"]);
    assert_eq!(
        listing.lines().filter(|l| l.starts_with("skip ")).count(),
        8
    );
}

#[test]
fn malformed_specs_are_rejected_with_clear_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never.jsonl");
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "syntax.toml",
            "simtime = 0.2\nthreads = [1,, 2]\n",
            &["syntax.toml", "line 2"],
        ),
        (
            "syntax.json",
            "{\n  \"simtime\": 0.2,\n  \"threads\": [1 2]\n}",
            &["syntax.json", "line 3"],
        ),
        (
            "unknown.toml",
            "simtime = 0.2\nthred = [1]\n",
            &["unknown.toml", "unknown field", "thred"],
        ),
        (
            "unknown.json",
            "{\"simtime\": 0.2, \"colour\": 1}",
            &["unknown field", "colour"],
        ),
        (
            "delay.toml",
            "delay = [0.8, 0.05]\n",
            &["delay.toml", "delay", "0.05"],
        ),
        ("empty.toml", "threads = []\n", &["threads", "empty"]),
        (
            "hosts.toml",
            "ranks = [1]\nhosts = [2]\n",
            &["hosts = 2", "ranks"],
        ),
        ("zero.toml", "ranks = [0]\n", &["ranks = 0"]),
        ("negative.json", "{\"threads\": [2, -1]}", &["threads = -1"]),
        ("simtime.toml", "simtime = -0.5\n", &["simtime = -0.5"]),
        (
            "spec.yaml",
            "threads: [1]\n",
            &["spec.yaml", ".toml", ".json"],
        ),
        (
            "plasticity.toml",
            "network = \"brunel\"\nplasticity = [\"static\", \"stdp\"]\n",
            &[
                "plasticity.toml",
                "plasticity = \"stdp\"",
                "\"static\", \"continuous\", \"event-based\"",
            ],
        ),
        (
            "plastic-va.toml",
            "network = \"va\"\nplasticity = \"continuous\"\n",
            &[
                "plastic-va.toml",
                "plasticity = \"continuous\"",
                "\"va\"",
                "no plastic variant",
            ],
        ),
    ];
    for (name, text, must) in cases {
        let spec = tmp.path().join(name);
        fs::write(&spec, text).unwrap();
        let err = run_err(&["sweep", arg(&spec), "--out", arg(&out)]);
        for m in *must {
            assert!(err.contains(m), "{name}: message lacks {m:?}: {err}");
        }
    }
    let err = run_err(&["sweep", arg(&tmp.path().join("missing.toml"))]);
    assert!(err.contains("missing.toml"), "{err}");
    assert!(!out.exists(), "a rejected sweep wrote records");
}

#[test]
fn static_and_plastic_runs_are_recorded_apart_and_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("plastic.toml");
    let out = tmp.path().join("plastic.jsonl");
    fs::write(
        &spec,
        "network = \"brunel\"\nsimtime = 0.002\nthreads = 1\n\
         plasticity = [\"static\", \"continuous\"]\n",
    )
    .unwrap();
    let (listing, _) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out), "--dry-run"]);
    let commands: Vec<_> = listing.lines().filter(|l| l.contains("$ ")).collect();
    assert_eq!(commands.len(), 2, "{listing}");
    assert!(!commands[0].contains("--plastic"), "{listing}");
    assert!(
        commands[1].contains(" run brunel --plastic --traces continuous "),
        "{listing}"
    );
    assert!(
        listing.contains("run  brunel plasticity=continuous f32 "),
        "{listing}"
    );

    let (_, stderr) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out)]);
    assert!(stderr.contains("skipping 0 of 2"), "{stderr}");
    let got: Vec<_> = read_records(&out)
        .into_iter()
        .map(|(_, r)| (r.config.network, r.config.plastic, r.config.traces))
        .collect();
    assert_eq!(
        got,
        [
            ("brunel".to_string(), false, None),
            ("brunel".to_string(), true, Some("continuous".to_string())),
        ]
    );

    let before = fs::read(&out).unwrap();
    let (stdout, stderr) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out)]);
    assert!(stderr.contains("skipping 2 of 2"), "{stderr}");
    assert!(stdout.contains("nothing to run"), "{stdout}");
    assert_eq!(
        fs::read(&out).unwrap(),
        before,
        "a resumed sweep wrote again"
    );

    // Neither record stands for an event-based run.
    fs::write(
        &spec,
        "network = \"brunel\"\nsimtime = 0.002\nthreads = 1\n\
         plasticity = [\"static\", \"continuous\", \"event-based\"]\n",
    )
    .unwrap();
    let (listing, _) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out), "--dry-run"]);
    let marks: Vec<_> = listing
        .lines()
        .filter(|l| l.starts_with("skip ") || l.starts_with("run "))
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        marks,
        [
            "skip brunel plasticity=static",
            "skip brunel plasticity=continuous",
            "run brunel plasticity=event-based",
        ],
        "{listing}"
    );
    assert!(listing.contains("--traces event-based"), "{listing}");
}

#[test]
fn json_specs_work_like_toml_specs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("both.jsonl");
    let toml = tmp.path().join("s.toml");
    let json = tmp.path().join("s.json");
    fs::write(
        &toml,
        "networks = [\"va\"]\nsimtime = 0.2\nthreads = 2\nprecision = [\"f32\", \"f64\"]\n\
         delay = [1.0]\n",
    )
    .unwrap();
    fs::write(
        &json,
        r#"{"networks": ["va"], "simtime": 0.2, "threads": 2, "precision": ["f32", "f64"],
            "delay": [1.0]}"#,
    )
    .unwrap();
    let listing = |spec: &Path| {
        let (stdout, _) = run_ok_both(&["sweep", arg(spec), "--out", arg(&out), "--dry-run"]);
        // The first line names the spec file.
        stdout.lines().skip(1).collect::<Vec<_>>().join("\n")
    };
    let from_toml = listing(&toml);
    assert_eq!(
        from_toml.lines().filter(|l| l.starts_with("run ")).count(),
        2
    );
    assert_eq!(from_toml, listing(&json));

    run_ok_both(&["sweep", arg(&json), "--out", arg(&out)]);
    assert_exactly(&out, &expected(&[2], &["f32", "f64"], 1));
    // The TOML spec finds the JSON spec's runs: same configurations, same keys.
    let (stdout, stderr) = run_ok_both(&["sweep", arg(&toml), "--out", arg(&out)]);
    assert!(stderr.contains("skipping 2 of 2"), "{stderr}");
    assert!(stdout.contains("nothing to run"), "{stdout}");
    assert_eq!(lines(&out), 2);
}

#[test]
fn a_failing_run_stops_the_sweep_and_keeps_earlier_records() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fail.jsonl");
    // A launcher that fails: run by /bin/sh (not exec'd, so never "text file busy").
    let launcher = tmp.path().join("fake-mpirun.sh");
    fs::write(
        &launcher,
        "echo 'fake mpirun: cannot start the job' >&2\nexit 3\n",
    )
    .unwrap();
    let spec = tmp.path().join("fail.toml");
    fs::write(
        &spec,
        format!(
            "simtime = 0.2\nthreads = 1\nranks = [1, 2]\nmpirun = \"/bin/sh\"\n\
             mpirun_args = [{:?}]\n",
            arg(&launcher)
        ),
    )
    .unwrap();
    let err = run_err(&["sweep", arg(&spec), "--out", arg(&out)]);
    for m in [
        "ranks=2",
        "threads=1",
        "exit status: 3",
        "fake mpirun: cannot start the job",
        "-np 2",
    ] {
        assert!(err.contains(m), "message lacks {m:?}: {err}");
    }
    // The one-rank run came first and its record stays.
    assert_eq!(configs(&out), [("va".into(), "f32".into(), 1, 1, 1, 0)]);

    // Plain /bin/false as the launcher.
    let spec = tmp.path().join("false.toml");
    fs::write(
        &spec,
        "simtime = 0.2\nthreads = 2\nranks = 2\nmpirun = \"/bin/false\"\n",
    )
    .unwrap();
    let err = run_err(&["sweep", arg(&spec), "--out", arg(&out)]);
    for m in ["ranks=2", "threads=2", "exit status: 1", "/bin/false"] {
        assert!(err.contains(m), "message lacks {m:?}: {err}");
    }
    assert_eq!(lines(&out), 1);
}

#[test]
fn a_hanging_run_is_killed_with_its_process_group() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hang.jsonl");
    // A launcher that hangs, with a helper process of its own (as mpirun has).
    let marker = format!("snn-sweep-hang-{}", std::process::id());
    let launcher = tmp.path().join("hanging-mpirun.sh");
    fs::write(
        &launcher,
        format!("sh -c 'sleep 300; : {marker}' &\nsleep 300\n"),
    )
    .unwrap();
    let spec = tmp.path().join("hang.json");
    fs::write(
        &spec,
        format!(
            r#"{{"simtime": 0.2, "threads": 1, "ranks": 2, "mpirun": "/bin/sh",
                "mpirun_args": [{:?}], "timeout_s": 1}}"#,
            arg(&launcher)
        ),
    )
    .unwrap();
    let started = Instant::now();
    let err = run_err(&["sweep", arg(&spec), "--out", arg(&out)]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "took {took:?}");
    for m in ["ranks=2", "timeout_s = 1", "killed"] {
        assert!(err.contains(m), "message lacks {m:?}: {err}");
    }
    let survivors = wait_gone(&marker, Duration::from_secs(5));
    assert!(survivors.is_empty(), "left running: {survivors:?}");
    assert!(!out.exists());
}

/// A sweep started under `timeout -s KILL` dies mid-way; resumed through a symlink to the
/// same records file it runs only what is missing, keeps what finished and writes no
/// duplicate.
#[test]
fn a_sweep_killed_by_timeout_resumes_through_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("sweep.toml");
    fs::create_dir(tmp.path().join("real")).unwrap();
    let out = tmp.path().join("real/runs.jsonl");
    std::os::unix::fs::symlink(tmp.path().join("real"), tmp.path().join("alias")).unwrap();
    let via_link = tmp.path().join("alias/runs.jsonl");
    fs::write(
        &spec,
        "simtime = 3.0\nthreads = [1, 2]\nprecision = [\"f32\", \"f64\"]\nrepetitions = 2\n",
    )
    .unwrap();
    let want = expected(&[1, 2], &["f32", "f64"], 2);

    let one = exclusive();
    let exe = assert_cmd::cargo::cargo_bin("snn-bench");
    // Killed after the first record (a run takes 0.1 to 0.3 s): `timeout` as the parent,
    // as a batch system would start it.
    let mut sweep = std::process::Command::new("timeout")
        .args(["-s", "KILL", "60"])
        .arg(&exe)
        .args(["sweep", arg(&spec), "--out", arg(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while lines(&out) < 1 {
        assert!(Instant::now() < until, "no record within a minute");
        assert!(sweep.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    // What `timeout` does when its time is up: SIGKILL to the sweep.
    let sweep_pid = processes_mentioning(arg(&spec))
        .iter()
        .find(|p| p.contains(" sweep ") && !p.contains("timeout"))
        .map(|p| p.split(':').next().unwrap().parse::<i32>().unwrap())
        .expect("the sweep under timeout");
    unsafe { libc::kill(sweep_pid, libc::SIGKILL) };
    let status = sweep.wait().unwrap();
    assert!(!status.success());
    assert!(wait_gone(arg(&out), Duration::from_secs(2)).is_empty());
    let at_kill = lines(&out);
    assert!((1..8).contains(&at_kill), "{at_kill} records at the kill");
    let kept = fs::read(&out).unwrap();
    drop(one);

    let (_, stderr) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&via_link)]);
    assert!(
        stderr.contains(&format!("skipping {at_kill} of 8")),
        "{stderr}"
    );
    assert_eq!(stderr.matches("] va ").count(), 8 - at_kill, "{stderr}");
    assert!(
        fs::read(&out).unwrap().starts_with(&kept),
        "finished runs lost"
    );
    assert_exactly(&out, &want);
    assert!(fs::symlink_metadata(&out).unwrap().is_file());
}

/// Two sweeps on one records file, the second through a symlink: the second waits for
/// the first's lock, then gives up with a message naming the file.
#[test]
fn a_second_sweep_on_the_same_file_is_refused_by_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("sweep.toml");
    let out = tmp.path().join("runs.jsonl");
    let link = tmp.path().join("link.jsonl");
    fs::write(&out, "").unwrap();
    std::os::unix::fs::symlink(&out, &link).unwrap();
    // Long enough that the first is still running when the second gives up.
    fs::write(&spec, "simtime = 30.0\nthreads = 1\nrepetitions = 5\n").unwrap();

    let one = exclusive();
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
        .args(["sweep", arg(&spec), "--out", arg(&out)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    // Under way: its first run has started.
    while !processes_mentioning(arg(&out))
        .iter()
        .any(|p| p.contains(" run va "))
    {
        assert!(Instant::now() < until, "no run within a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let second = snn()
        .args(["sweep", arg(&spec), "--out", arg(&link), "--wait", "1"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(arg(&link)) && err.contains("lock"), "{err}");
    assert!(took >= Duration::from_millis(900), "did not wait: {took:?}");
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first sweep ended early"
    );
    unsafe { libc::kill(-(first.id() as libc::pid_t), libc::SIGKILL) };
    first.wait().unwrap();
    drop(one);
    // The lock died with the first sweep: a new one goes ahead at once.
    assert!(wait_gone(arg(&out), Duration::from_secs(2)).is_empty());
    let (_, stderr) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&link), "--dry-run"]);
    assert!(stderr.is_empty() || !stderr.contains("waiting"), "{stderr}");
}

/// A run that still writes to the records file (as an MPI rank of a killed sweep would)
/// holds a lock on it: a sweep starting on that file waits for it, then gives up naming
/// the file, and goes ahead once the run is gone.
#[test]
fn a_sweep_waits_for_a_run_that_still_writes_to_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("sweep.toml");
    let out = tmp.path().join("runs.jsonl");
    fs::write(&spec, "simtime = 0.2\nthreads = 1\n").unwrap();

    let one = exclusive();
    let mut writer = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
        .args([
            "run",
            "va",
            "--simtime",
            "60",
            "--quiet",
            "--out",
            arg(&out),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // It has opened (and locked) the file once the file exists.
    let until = Instant::now() + Duration::from_secs(30);
    while !out.exists() {
        assert!(
            Instant::now() < until,
            "the run never opened its records file"
        );
        assert!(writer.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = snn()
        .args(["sweep", arg(&spec), "--out", arg(&out), "--wait", "0.5"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(
        err.contains("still writes to") && err.contains(arg(&out)),
        "{err}"
    );
    assert!(writer.try_wait().unwrap().is_none(), "the run ended early");
    writer.kill().unwrap();
    writer.wait().unwrap();
    drop(one);
    let (_, stderr) = run_ok_both(&["sweep", arg(&spec), "--out", arg(&out)]);
    assert!(stderr.contains("skipping 0 of 1"), "{stderr}");
    assert_eq!(lines(&out), 1);
}
