//! `snn-bench run --checkpoint` and `snn-bench resume`: a run continued from its
//! checkpoint, on another thread count, gives the spikes of one uninterrupted run;
//! an interrupt writes a checkpoint before exiting; nothing a user wrote is replaced.

mod common;

use std::path::Path;

use common::{arg, only_record, run_err, run_ok};

fn spikes(path: &Path) -> Vec<sim_core::Spike> {
    bench_suite::spikes::read_npy(path).unwrap_or_else(|e| panic!("{e}"))
}

/// 0.3 s on 1 thread, checkpoint, 0.2 s resumed on 2 threads (checkpointing every
/// 0.07 s on the way) ≡ 0.5 s in one go; the records say what was continued.
#[test]
fn resumed_run_continues_the_spikes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let (ck, a_npy, b_npy, w_npy) = (p("ck"), p("a.npy"), p("b.npy"), p("w.npy"));
    let (a_out, b_out) = (p("a.jsonl"), p("b.jsonl"));
    for (threads, extra) in [("1", &[][..]), ("2", &["--plastic"][..])] {
        let net = if extra.is_empty() { "va" } else { "brunel" };
        let _ = std::fs::remove_dir_all(&ck);
        let mut first = vec![
            "run",
            net,
            "--simtime",
            "0.3",
            "--threads",
            "1",
            "--quiet",
            "--checkpoint",
            arg(&ck),
            "--spikes",
            arg(&a_npy),
            "--out",
            arg(&a_out),
            "--force",
        ];
        first.extend_from_slice(extra);
        run_ok(&first);
        run_ok(&[
            "resume",
            arg(&ck),
            "--simtime",
            "0.2",
            "--threads",
            threads,
            "--checkpoint-every",
            "0.07",
            "--spikes",
            arg(&b_npy),
            "--out",
            arg(&b_out),
            "--quiet",
            "--force",
        ]);
        let mut whole = vec![
            "run",
            net,
            "--simtime",
            "0.5",
            "--quiet",
            "--spikes",
            arg(&w_npy),
            "--force",
        ];
        whole.extend_from_slice(extra);
        run_ok(&whole);
        let (a, b, w) = (spikes(&a_npy), spikes(&b_npy), spikes(&w_npy));
        assert!(a.iter().all(|s| s.step < 3000) && b.iter().all(|s| s.step >= 3000));
        assert!(!a.is_empty() && !b.is_empty(), "{net}: no spikes");
        let joined: Vec<_> = a.into_iter().chain(b).collect();
        assert!(
            joined == w,
            "{net}: {} spikes in two parts, {} in one run",
            joined.len(),
            w.len()
        );
        let r = only_record(&b_out);
        let resumed = r.config.resumed_from.expect("the record says it resumed");
        assert_eq!((resumed.step, r.config.steps), (3000, 2000));
        assert_eq!(r.config.threads.to_string(), threads);
        std::fs::remove_file(&a_out).unwrap();
        std::fs::remove_file(&b_out).unwrap();
    }
}

/// A checkpoint is never written over something else, and an earlier one only with
/// --force; both refusals come before the run.
#[test]
fn checkpoint_refuses_to_replace_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--checkpoint",
        arg(&mine),
    ]);
    assert!(e.contains("other files"), "{e}");
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
    let ck = dir.path().join("ck");
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--quiet",
        "--checkpoint",
        arg(&ck),
    ]);
    let before = std::fs::read(ck.join("manifest.json")).unwrap();
    let e = run_err(&[
        "run",
        "va",
        "--simtime",
        "0.02",
        "--quiet",
        "--checkpoint",
        arg(&ck),
    ]);
    assert!(e.contains("--force") && e.contains("resume"), "{e}");
    assert_eq!(std::fs::read(ck.join("manifest.json")).unwrap(), before);
    // Resuming a damaged checkpoint says which file is damaged.
    let v = ck.join("pop.E.v.npy");
    let mut bytes = std::fs::read(&v).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 1;
    std::fs::write(&v, bytes).unwrap();
    let e = run_err(&["resume", arg(&ck), "--simtime", "0.01", "--quiet"]);
    assert!(e.contains("pop.E.v.npy"), "{e}");
    let e = run_err(&["resume", arg(&mine), "--simtime", "0.01", "--quiet"]);
    assert!(e.contains("manifest"), "{e}");
}

/// SIGINT during a checkpointed run: the checkpoint and the spikes so far are written,
/// the exit says where, and resuming gives the uninterrupted spikes.
#[test]
fn an_interrupt_writes_a_checkpoint_that_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let _one = common::exclusive();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
        .args([
            "run",
            "va",
            "--simtime",
            "1000",
            "--quiet",
            "--checkpoint",
            arg(&p("ck")),
            "--spikes",
            arg(&p("a.npy")),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    drop(_one);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let step: u64 = stderr
        .split("interrupted at step ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no step in: {stderr}"));
    assert!(step > 0 && step < 10_000_000, "{stderr}");
    run_ok(&[
        "resume",
        arg(&p("ck")),
        "--simtime",
        "0.1",
        "--threads",
        "2",
        "--spikes",
        arg(&p("b.npy")),
        "--quiet",
    ]);
    let total = format!("{:.4}", (step + 1000) as f64 * 1e-4);
    run_ok(&[
        "run",
        "va",
        "--simtime",
        &total,
        "--quiet",
        "--spikes",
        arg(&p("w.npy")),
    ]);
    let joined: Vec<_> = spikes(&p("a.npy"))
        .into_iter()
        .chain(spikes(&p("b.npy")))
        .collect();
    assert!(
        joined == spikes(&p("w.npy")),
        "interrupted at {step}: spikes differ"
    );
}

/// `--save-weights` writes the learnt weights, `--save-initial-weights` the weights as
/// built: they differ on the plastic pathway only.
#[test]
fn save_weights_writes_the_learnt_weights() {
    let dir = tempfile::tempdir().unwrap();
    let (initial, last) = (dir.path().join("initial"), dir.path().join("final"));
    for (flag, d) in [
        ("--save-initial-weights", &initial),
        ("--save-weights", &last),
    ] {
        run_ok(&[
            "run",
            "brunel",
            "--plastic",
            "--simtime",
            "0.2",
            "--quiet",
            flag,
            arg(d),
        ]);
    }
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    assert_ne!(
        read(&initial, "ee.mtx"),
        read(&last, "ee.mtx"),
        "E→E did not learn"
    );
    for f in ["ei.mtx", "ie.mtx", "ii.mtx"] {
        assert_eq!(read(&initial, f), read(&last, f), "{f} is static");
    }
}

/// A run killed outright (SIGKILL, no chance to clean up) while it writes checkpoints
/// back to back leaves a checkpoint that resumes: the previous one or the new one,
/// never a half-written one.
#[test]
fn a_kill_while_checkpointing_leaves_a_checkpoint_that_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    for round in 0..3 {
        let one = common::exclusive();
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("snn-bench"))
            .args([
                "run",
                "va",
                "--simtime",
                "1000",
                "--quiet",
                "--checkpoint",
                arg(&ck),
                "--checkpoint-every",
                "0.01",
                "--force",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700 + 150 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        drop(one);
        let out = dir.path().join(format!("r{round}.jsonl"));
        run_ok(&[
            "resume",
            arg(&ck),
            "--simtime",
            "0.01",
            "--quiet",
            "--out",
            arg(&out),
        ]);
        let r = only_record(&out);
        let step = r.config.resumed_from.expect("resumed").step;
        // Checkpoints are taken every 100 steps.
        assert!(step > 0 && step % 100 == 0, "round {round}: step {step}");
    }
}
