//! Helpers shared by the end-to-end tests: running `snn-bench`, checking failures,
//! reading spike files and results records.

// Each test binary uses only some of these helpers.
#![allow(dead_code)]

pub mod compare_fixtures;

use std::path::Path;
use std::process::Output;
use std::sync::{Mutex, MutexGuard};

use assert_cmd::Command;
use bench_suite::record::Record;
use bench_suite::spikes;
use sim_core::Spike;

/// Neurons of the va network (3200 E + 800 I).
pub const VA_NEURONS: u32 = 4000;

/// Held while a simulation runs. The tests of one binary run in parallel, and a few
/// multi-threaded runs at once would oversubscribe a small machine, where workers that
/// wait at the barrier spin and yield (runs slow down by orders of magnitude).
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Waits until no other test of this binary runs a simulation.
pub fn exclusive() -> MutexGuard<'static, ()> {
    // A failed (panicking) test poisons the lock; the other tests still go on.
    ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `snn-bench ARGS` (one at a time, see [`exclusive`]).
fn output(args: &[&str]) -> Output {
    let _one = exclusive();
    snn().args(args).output().expect("snn-bench starts")
}

/// The `snn-bench` binary built for this test run.
pub fn snn() -> Command {
    Command::cargo_bin("snn-bench").expect("snn-bench is built for integration tests")
}

fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "snn-bench {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `snn-bench ARGS`, asserts success and that nothing panicked; returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = output(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "expected success:\n{}",
        describe(args, &out)
    );
    assert!(!stderr.contains("panicked"), "{}", describe(args, &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`run_ok`], returning (stdout, stderr).
pub fn run_ok_both(args: &[&str]) -> (String, String) {
    let out = output(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "expected success:\n{}",
        describe(args, &out)
    );
    assert!(!stderr.contains("panicked"), "{}", describe(args, &out));
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Runs `snn-bench ARGS`, asserts a non-zero exit code (not a signal, not a panic's 101)
/// and a non-empty stderr without "panicked"; returns stderr.
pub fn run_err(args: &[&str]) -> String {
    let out = output(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code();
    assert!(
        matches!(code, Some(c) if c != 0 && c != 101),
        "expected a clean non-zero exit:\n{}",
        describe(args, &out)
    );
    assert!(!stderr.contains("panicked"), "{}", describe(args, &out));
    assert!(
        !stderr.trim().is_empty(),
        "no message:\n{}",
        describe(args, &out)
    );
    stderr
}

/// A path as a `&str` argument.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Reads a spike file and checks what every spike file must satisfy: sorted by
/// (step, gid) without duplicates, every gid a va neuron, every step below `steps`.
pub fn read_spikes(path: &Path, steps: u64) -> Vec<Spike> {
    let sp = spikes::read_npy(path).unwrap_or_else(|e| panic!("{e}"));
    for w in sp.windows(2) {
        assert!(
            (w[0].step, w[0].gid) < (w[1].step, w[1].gid),
            "{}: not sorted by (step, gid) or duplicated: {:?} then {:?}",
            path.display(),
            w[0],
            w[1]
        );
    }
    for s in &sp {
        assert!(
            s.gid < VA_NEURONS,
            "{}: gid {} >= {VA_NEURONS}",
            path.display(),
            s.gid
        );
        assert!(
            s.step < steps,
            "{}: step {} >= {steps}",
            path.display(),
            s.step
        );
    }
    sp
}

/// Every record of a JSON Lines file, parsed both as JSON and as a [`Record`].
pub fn read_records(path: &Path) -> Vec<(serde_json::Value, Record)> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let value: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}: {line}", path.display(), i + 1));
            let record: Record = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{}:{}: not a record: {e}", path.display(), i + 1));
            (value, record)
        })
        .collect()
}

/// The only record of a file that must hold exactly one.
pub fn only_record(path: &Path) -> Record {
    let mut all = read_records(path);
    assert_eq!(all.len(), 1, "{}: expected one record", path.display());
    all.pop().unwrap().1
}

/// Runs `snn-bench run NETWORK --simtime SIMTIME EXTRA… --spikes F` once per thread
/// count and asserts the spike files are byte-identical and hold at least `min_bytes`.
pub fn assert_same_spikes_for_threads(
    network: &str,
    simtime: &str,
    extra: &[&str],
    threads: &[&str],
    min_bytes: usize,
) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut reference: Option<Vec<u8>> = None;
    for t in threads {
        let f = dir.path().join(format!("{t}.npy"));
        let mut args = vec![
            "run",
            network,
            "--simtime",
            simtime,
            "--quiet",
            "--threads",
            t,
        ];
        args.extend_from_slice(extra);
        args.extend(["--spikes", arg(&f)]);
        run_ok(&args);
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            bytes.len() >= min_bytes,
            "{network} {extra:?}: the network is active"
        );
        match &reference {
            None => reference = Some(bytes),
            Some(r) => assert!(*r == bytes, "{network} {extra:?}: {t} threads differ"),
        }
    }
    reference.expect("at least one thread count")
}

/// Opens the page in headless Chromium: every image loads, no console error, and the
/// screenshot is not blank. Skipped (with a note) where Chromium is not installed, unless
/// SNN_REQUIRE_CHROMIUM is set, as CI does.
pub fn browser_check(page: &Path) {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        assert!(
            std::env::var_os("SNN_REQUIRE_CHROMIUM").is_none(),
            "SNN_REQUIRE_CHROMIUM is set but no Chromium was found"
        );
        eprintln!("note: Chromium not installed; headless check of the report skipped");
        return;
    };
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let headless = |extra: &[&str]| {
        let tmp = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", tmp.path().display()))
            .args([
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
            ])
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dom = headless(&["--dump-dom"]);
    let text = String::from_utf8_lossy(&dom.stdout);
    let loaded = text
        .split("data-images-loaded=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("the page's load handler did not run: {text:.500}"));
    let (ok, total) = loaded.split_once('/').unwrap();
    assert!(total != "0" && ok == total, "images loaded: {loaded}");
    let log = String::from_utf8_lossy(&dom.stderr);
    for line in log.lines() {
        assert!(
            !(line.contains("CONSOLE") && (line.contains("rror") || line.contains("Uncaught"))),
            "console error: {line}"
        );
        assert!(!line.contains("Failed to load resource"), "{line}");
    }
    let shot_dir = tempfile::tempdir().unwrap();
    let shot = shot_dir.path().join("shot.png");
    headless(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1200,1600",
    ]);
    let img = image::open(&shot).expect("a PNG screenshot").to_rgb8();
    let first = *img.get_pixel(0, 0);
    let differing = img.pixels().filter(|p| **p != first).count();
    assert!(
        differing > (img.width() * img.height()) as usize / 50,
        "screenshot nearly blank: {differing} pixels differ from the corner"
    );
}
