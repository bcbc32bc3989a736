//! Bad command lines and bad records files: a clean non-zero exit with a message that
//! names the value and what was expected, never a panic, and no record written.

mod common;

use std::fs;

use common::{arg, run_err, run_ok, run_ok_both};

/// Runs `snn-bench run ARGS --out FILE` expecting a rejection whose stderr contains every
/// string of `must` (and one of `any_of`, if given); checks no record was written.
fn rejected(args: &[&str], must: &[&str], any_of: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs.jsonl");
    let mut full = vec!["run"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--quiet", "--out", arg(&out)]);
    let err = run_err(&full);
    for m in must {
        assert!(
            err.contains(m),
            "`{}`: message lacks {m:?}: {err}",
            args.join(" ")
        );
    }
    assert!(
        any_of.is_empty() || any_of.iter().any(|m| err.contains(m)),
        "`{}`: message lacks any of {any_of:?}: {err}",
        args.join(" ")
    );
    assert!(
        !out.exists(),
        "`{}`: a rejected run wrote a record",
        args.join(" ")
    );
}

#[test]
fn delay_below_dt() {
    rejected(
        &["va", "--simtime", "0.01", "--delay", "0.05"],
        &["--delay", "0.05", "0.1"],
        &["at least", "below"],
    );
}

#[test]
fn delay_not_a_multiple_of_dt() {
    rejected(
        &["va", "--simtime", "0.01", "--delay", "0.15"],
        &["--delay", "0.15", "multiple", "0.1"],
        &[],
    );
}

#[test]
fn zero_threads() {
    rejected(
        &["va", "--simtime", "0.01", "--threads", "0"],
        &["--threads", "'0'"],
        &["1..", "at least 1"],
    );
}

#[test]
fn negative_simtime() {
    rejected(
        &["va", "--simtime", "-1"],
        &["--simtime", "-1", "positive"],
        &[],
    );
}

#[test]
fn zero_simtime() {
    rejected(&["va", "--simtime", "0"], &["--simtime 0", "positive"], &[]);
}

#[test]
fn non_finite_simtime() {
    rejected(
        &["va", "--simtime", "inf"],
        &["--simtime", "inf", "positive"],
        &[],
    );
    rejected(
        &["va", "--simtime", "nan"],
        &["--simtime", "positive"],
        &["nan", "NaN"],
    );
}

#[test]
fn unknown_network() {
    rejected(
        &["foo", "--simtime", "0.01"],
        &["foo", "va"],
        &["expected", "one of"],
    );
}

#[test]
fn unknown_precision() {
    rejected(
        &["va", "--simtime", "0.01", "--precision", "f16"],
        &["f16", "f32", "f64"],
        &[],
    );
}

#[test]
fn missing_weights_directory() {
    rejected(
        &[
            "va",
            "--simtime",
            "0.01",
            "--load-weights",
            "/nonexistent/dir",
        ],
        &["/nonexistent/dir"],
        &["No such file", "not found", "does not exist"],
    );
}

#[test]
fn zero_dt() {
    rejected(
        &["va", "--simtime", "0.01", "--dt", "0"],
        &["--dt 0", "positive"],
        &[],
    );
}

#[test]
fn negative_dt() {
    rejected(
        &["va", "--simtime", "0.01", "--dt", "-0.1"],
        &["--dt", "-0.1", "positive"],
        &[],
    );
}

/// The default delay (0.8 ms) is not a multiple of a 0.3 ms step: the message must say
/// which value is wrong even though only --dt was given.
#[test]
fn dt_that_does_not_divide_the_delay() {
    rejected(
        &["va", "--simtime", "0.01", "--dt", "0.3"],
        &["--delay", "0.8", "0.3", "multiple"],
        &[],
    );
}

/// A model time shorter than half a step would round to zero steps (and an RTF of
/// inf, which JSON cannot hold): it is rejected, naming the value and the step.
#[test]
fn simtime_below_one_step() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("runs.jsonl");
    let _one = common::exclusive();
    let o = common::snn()
        .args([
            "run",
            "va",
            "--simtime",
            "1e-9",
            "--quiet",
            "--out",
            arg(&out),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success(), "a run of 0 steps was accepted");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1e-9") && err.contains("time step"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "no record for a rejected run");
}

/// Writes one real record, then garbage, then another real record.
fn records_with_garbage(path: &std::path::Path) {
    let run = [
        "run",
        "va",
        "--simtime",
        "0.05",
        "--quiet",
        "--out",
        arg(path),
    ];
    run_ok(&run);
    let mut text = fs::read_to_string(path).unwrap();
    assert_eq!(text.lines().count(), 1);
    text.push_str("this is not json {\n{\"json\": \"but not a record\"}\n");
    fs::write(path, text).unwrap();
    run_ok(&run);
    assert_eq!(fs::read_to_string(path).unwrap().lines().count(), 4);
}

#[test]
fn table_warns_about_bad_lines_and_prints_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("runs.jsonl");
    records_with_garbage(&path);
    let (stdout, stderr) = run_ok_both(&["table", arg(&path)]);
    let name = path.display().to_string();
    assert!(stderr.contains("warning"), "{stderr}");
    assert!(
        stderr.contains(&format!("{name}:2")),
        "line 2 not named: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{name}:3")),
        "line 3 not named: {stderr}"
    );
    assert!(!stderr.contains(&format!("{name}:1")), "{stderr}");
    assert!(!stderr.contains(&format!("{name}:4")), "{stderr}");
    let mut lines = stdout.lines();
    let header = lines.next().expect("a table header");
    for col in ["network", "prec", "threads", "RTF", "rate Hz"] {
        assert!(header.contains(col), "header lacks {col}: {header}");
    }
    // (A footnote explains the "loaded" column when runs were taken on a busy machine.)
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.starts_with("loaded:"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 1, "one configuration: {stdout}");
    let row = &rows[0];
    assert_eq!(&row[..3], ["va", "f32", "1"], "{stdout}");
    // Both valid records (before and after the garbage) are counted: in the medians
    // (n), or, if taken while the machine was busy, as left out ("k out").
    let left_out: usize = if row.last() == Some(&"out") {
        row[row.len() - 2].parse().unwrap()
    } else {
        0
    };
    let n: usize = row[8].parse().unwrap();
    assert_eq!(n + left_out, 2, "n column: {stdout}");

    // --last 1 keeps only the last record.
    let stdout = run_ok(&["table", arg(&path), "--last", "1"]);
    let row: Vec<&str> = stdout.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[8], "1", "n column with --last 1: {stdout}");
}

#[test]
fn table_of_empty_or_missing_file_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.jsonl");
    fs::write(&empty, "").unwrap();
    let err = run_err(&["table", arg(&empty)]);
    assert!(err.contains("empty.jsonl"), "{err}");

    let missing = tmp.path().join("missing.jsonl");
    let err = run_err(&["table", arg(&missing)]);
    assert!(err.contains("missing.jsonl"), "{err}");

    // Only garbage: nothing to tabulate either.
    let garbage = tmp.path().join("garbage.jsonl");
    fs::write(&garbage, "nope\n").unwrap();
    let err = run_err(&["table", arg(&garbage)]);
    assert!(err.contains("garbage.jsonl:1"), "{err}");
}

/// Parameter overrides: a flag the run does not have, or a value out of range, is
/// refused with the flag's name.
#[test]
fn parameter_overrides_are_checked() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["brunel", "--learning-rate", "0.1"],
            &["--learning-rate", "plastic"],
        ),
        (
            &["brunel", "--plastic", "--tau-hom", "5"],
            &["--tau-hom", "zenke25k"],
        ),
        (
            &["zenke25k", "--plastic", "--tau-hom", "0"],
            &["--tau-hom", "0", "> 0"],
        ),
        (
            &["zenke25k", "--plastic", "--priming", "-1"],
            &["--priming", "-1", ">= 0"],
        ),
        (&["va", "--input-rate", "3"], &["--input-rate", "va"]),
        (
            &["poisson", "--input-rate", "-2"],
            &["--input-rate", "-2", ">= 0"],
        ),
        (
            &["poisson", "--input-rate", "20000"],
            &["rate", "20000", "one spike per step"],
        ),
        (&["poisson", "--w-exc", "1"], &["--w-exc", "poisson"]),
        (&["va", "--w-inh", "NaN"], &["--w-inh", "NaN", "finite"]),
        (
            &["zenke25k", "--plastic", "--w-exc", "2"],
            &["--w-exc", "2", "at most 1"],
        ),
    ];
    for (args, must) in cases {
        let mut full = args.to_vec();
        full.extend(["--simtime", "0.01"]);
        rejected(&full, must, &[]);
    }
}
