//! The job runner behind `suite` and `figures`: a run counts as done only when its record
//! and its artifacts are there.

mod common;

use std::fs;

use common::{arg, read_records, run_ok_both};

/// A spec of one job `plain` (`va --simtime 0.05 EXTRA`, varied over `vary`) in `tmp`:
/// its records file, and a `figures` run of it into `tmp/results` (stdout, stderr).
fn plain_job(
    tmp: &std::path::Path,
    extra: &str,
    vary: &str,
) -> (std::path::PathBuf, impl Fn() -> (String, String)) {
    let dir = tmp.join("results");
    let spec = tmp.join("tiny.toml");
    fs::write(
        &spec,
        format!(
            "records = 'figures/{{job}}.jsonl'\n[[job]]\nname = 'plain'\n\
             run = 'va --simtime 0.05 {extra}'\nvary = {{ {vary} }}\n"
        ),
    )
    .unwrap();
    let records = dir.join("figures/plain.jsonl");
    let figures = move || run_ok_both(&["figures", "--dir", arg(&dir), "--spec", arg(&spec)]);
    (records, figures)
}

/// Rewrites each record of a records file with `edit`.
fn rewrite(
    records: &std::path::Path,
    edit: impl Fn(&mut serde_json::Value, &bench_suite::record::Record),
) {
    let text: Vec<String> = read_records(records)
        .into_iter()
        .map(|(mut v, r)| {
            edit(&mut v, &r);
            v.to_string()
        })
        .collect();
    fs::write(records, text.join("\n") + "\n").unwrap();
}

#[test]
fn figures_redo_a_run_whose_artifact_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    let spec = tmp.path().join("tiny.toml");
    fs::write(
        &spec,
        "records = 'figures/{job}.jsonl'\n\
         [[job]]\nname = 'tiny'\nrun = 'va --simtime 0.05 --seed {seed}'\n\
         spikes = 'figures/va-seed{seed}.npy'\nvary = { seed = [1, 2] }\n\
         [[job]]\nname = 'plain'\nrun = 'va --simtime 0.05 --threads {threads}'\n\
         vary = { threads = [1, 2] }\n",
    )
    .unwrap();
    let figures = |extra: &[&str]| {
        let mut a = vec!["figures", "--dir", arg(&dir), "--spec", arg(&spec)];
        a.extend_from_slice(extra);
        run_ok_both(&a)
    };
    let (_, stderr) = figures(&[]);
    assert!(stderr.contains("skipping 0 of 4"), "{stderr}");
    let records = dir.join("figures/tiny.jsonl");
    let s1 = dir.join("figures/va-seed1.npy");
    let s2 = dir.join("figures/va-seed2.npy");
    assert_eq!(read_records(&records).len(), 2);
    assert_eq!(read_records(&dir.join("figures/plain.jsonl")).len(), 2);
    let first = fs::read(&s1).unwrap();

    // All there: nothing runs.
    let (stdout, stderr) = figures(&[]);
    assert!(stderr.contains("skipping 4 of 4"), "{stderr}");
    assert!(stdout.contains("nothing to run"), "{stdout}");

    // A spike file lost (a fresh clone has the records, not the spikes) and one cut
    // short: both runs again, nothing else does.
    fs::remove_file(&s1).unwrap();
    let len = fs::metadata(&s2).unwrap().len();
    fs::write(&s2, &fs::read(&s2).unwrap()[..12]).unwrap();
    let (listing, _) = figures(&["--dry-run"]);
    assert_eq!(
        listing.lines().filter(|l| l.starts_with("run ")).count(),
        2,
        "{listing}"
    );
    assert!(listing.contains("recorded, but"), "{listing}");
    let (_, stderr) = figures(&[]);
    assert!(stderr.contains("skipping 2 of 4"), "{stderr}");
    assert!(
        stderr.contains("va-seed1.npy") && stderr.contains("running it again"),
        "{stderr}"
    );
    assert_eq!(fs::read(&s1).unwrap(), first, "same run, same spikes");
    assert_eq!(fs::metadata(&s2).unwrap().len(), len);
    // Records are appended, never rewritten.
    assert_eq!(read_records(&records).len(), 4);
    assert_eq!(read_records(&dir.join("figures/plain.jsonl")).len(), 2);
}

/// A fresh clone on another machine has the committed records of the machine that
/// measured them: those do not count as done here (the report would otherwise lack this
/// machine's own numbers), whatever the host name; this machine's do.
#[test]
fn records_of_another_machine_do_not_count_as_done() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, figures) = plain_job(tmp.path(), "--threads {threads}", "threads = [1, 2]");
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 0 of 2"), "{stderr}");
    // The thread-2 record measured elsewhere: same host name, another CPU.
    rewrite(&records, |v, r| {
        if r.config.threads == 2 {
            v["host"]["cpu_model"] = "Some Other CPU".into();
        }
    });
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 1 of 2"), "{stderr}");
    assert!(
        stderr.contains("1 record(s) of another machine (Some Other CPU, "),
        "{stderr}"
    );
    // Appended beside it, not in its place; now both are done here.
    assert_eq!(read_records(&records).len(), 3);
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 2 of 2"), "{stderr}");
    // `table` pools no medians across the two: a table per machine.
    let (table, _) = run_ok_both(&["table", arg(&records)]);
    assert_eq!(table.matches("machine: ").count(), 2, "{table}");
    assert!(
        table.contains("machine: Some Other CPU, ") && table.contains("(1 records)"),
        "{table}"
    );
}

/// A record of an unvectorised build (`make bench-novec`, Fig. 10) is another
/// measurement than the vectorised build's of the same configuration: it does not count
/// as done for this (vectorised) binary, and the run is made beside it.
#[test]
fn records_of_an_unvectorised_build_do_not_count_as_done() {
    let tmp = tempfile::tempdir().unwrap();
    let (records, figures) = plain_job(
        tmp.path(),
        "--precision {precision}",
        "precision = ['f32', 'f64']",
    );
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 0 of 2"), "{stderr}");
    rewrite(&records, |v, r| {
        if r.config.precision == "f64" {
            let flags = v["build"]["rustflags"].as_str().unwrap().to_string();
            v["build"]["rustflags"] = format!("{flags} -C llvm-args=-vectorize-loops=false").into();
        }
    });
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 1 of 2"), "{stderr}");
    assert_eq!(read_records(&records).len(), 3, "appended beside it");
}

/// A job's monitor files are its artifacts: one lost, its run (only) runs again and
/// writes them all anew (the same spikes).
#[test]
fn figures_redo_a_run_whose_monitor_file_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    let spec = tmp.path().join("tiny.toml");
    fs::write(
        &spec,
        "records = 'figures/{job}.jsonl'\n\
         [[job]]\nname = 'tiny'\nrun = 'va --simtime 0.05 --seed {seed}'\n\
         monitor = ['spikes:all', 'rate:E:5ms']\nmonitor_dir = 'figures/va-seed{seed}'\n\
         vary = { seed = [1, 2] }\n",
    )
    .unwrap();
    let figures = || run_ok_both(&["figures", "--dir", arg(&dir), "--spec", arg(&spec)]);
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 0 of 2"), "{stderr}");
    let m1 = dir.join("figures/va-seed1");
    let spikes = fs::read(m1.join("spikes-all.npy")).unwrap();
    assert!(dir.join("figures/va-seed2/rate-E.npy").exists());
    let records = read_records(&dir.join("figures/tiny.jsonl"));
    assert_eq!(records[0].1.config.monitors.len(), 2);
    fs::remove_file(m1.join("rate-E.npy")).unwrap();
    let (_, stderr) = figures();
    assert!(stderr.contains("skipping 1 of 2"), "{stderr}");
    assert!(stderr.contains("rate-E.npy"), "{stderr}");
    assert_eq!(fs::read(m1.join("spikes-all.npy")).unwrap(), spikes);
    assert!(m1.join("rate-E.npy").exists());
}

#[test]
fn the_suite_is_resumable_and_its_flags_override_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs.jsonl");
    let args = [
        "suite",
        "--simtime",
        "0.05",
        "--repeats",
        "2",
        "--threads",
        "1",
        "--precisions",
        "f32",
        "--timer-overhead",
        "--out",
        arg(&out),
    ];
    let (stdout, stderr) = run_ok_both(&args);
    assert!(stderr.contains("skipping 0 of 4"), "{stderr}");
    assert!(stdout.contains("network"), "no table: {stdout}");
    let recs = read_records(&out);
    let mut got: Vec<_> = recs
        .iter()
        .map(|(_, r)| (r.config.timers, r.config.repetition, r.config.threads))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [(false, 0, 1), (false, 1, 1), (true, 0, 1), (true, 1, 1)]
    );
    let (_, stderr) = run_ok_both(&args);
    assert!(stderr.contains("skipping 4 of 4"), "{stderr}");
    assert_eq!(read_records(&out).len(), 4);
}
