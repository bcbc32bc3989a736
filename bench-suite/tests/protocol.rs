//! `snn-bench protocol FILE.toml`: segments on one network built once, one record per
//! segment; a protocol without changes continues bit-exactly (its segments' spikes are
//! one run's); learning off keeps the weights, a larger learning rate moves them more,
//! a higher input rate raises the input's rate; bad files fail naming file and key,
//! writing nothing.

mod common;

use std::fs;
use std::path::Path;

use common::{arg, read_records, run_err, run_ok};

/// Writes `body` to DIR/p.toml, with [run] out = DIR/r.jsonl in front of it.
fn protocol(dir: &Path, run: &str, segments: &str) -> std::path::PathBuf {
    let file = dir.join("p.toml");
    let text = format!(
        "[run]\n{run}\nout = {:?}\n\n{segments}",
        arg(&dir.join("r.jsonl"))
    );
    fs::write(&file, text).unwrap();
    file
}

fn ok(file: &Path) -> String {
    run_ok(&["protocol", arg(file), "--quiet"])
}

/// The weights of a Matrix Market file, in its (sorted) order.
fn mtx_weights(path: &Path) -> Vec<f64> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('%'))
        .skip(1)
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect()
}

fn moved(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

const BRUNEL: &str = "network = \"brunel\"\nplastic = true";

#[test]
fn segments_continue_one_run_and_say_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut segments = String::new();
    for name in ["one", "two", "three"] {
        segments += &format!(
            "[[segment]]\nname = {name:?}\nduration = 0.1\nspikes = {:?}\n",
            arg(&d.join(format!("{name}.npy")))
        );
    }
    let file = protocol(d, BRUNEL, &segments);
    let out = run_ok(&["protocol", arg(&file)]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("segment ")).count(),
        3,
        "one summary line per segment:\n{out}"
    );
    let records = read_records(&d.join("r.jsonl"));
    assert_eq!(records.len(), 3);
    for (i, ((value, r), name)) in records.iter().zip(["one", "two", "three"]).enumerate() {
        let s = r.config.segment.as_ref().expect("a segment record");
        assert_eq!((s.name.as_str(), s.index), (name, i));
        assert_eq!(s.first_step, 1000 * i as u64);
        assert!(s.changes.is_empty());
        assert_eq!(r.config.steps, 1000);
        assert!(r.config.plastic);
        assert_eq!(value["config"]["segment"]["name"], name);
        assert_eq!(
            r.config.spikes.as_deref(),
            Some(arg(&d.join(format!("{name}.npy"))))
        );
        // The build is the first segment's setup only.
        assert_eq!(r.result.setup.wall_s > 0.0, i == 0, "{:?}", r.result.setup);
        assert_eq!(
            r.config.parameters.get("priming_s").copied().unwrap_or(0.0),
            0.0
        );
    }
    let mut joined = Vec::new();
    for name in ["one", "two", "three"] {
        joined.extend(bench_suite::spikes::read_npy(&d.join(format!("{name}.npy"))).unwrap());
    }
    run_ok(&[
        "run",
        "brunel",
        "--plastic",
        "--priming",
        "0",
        "--simtime",
        "0.3",
        "--quiet",
        "--spikes",
        arg(&d.join("whole.npy")),
    ]);
    let whole = bench_suite::spikes::read_npy(&d.join("whole.npy")).unwrap();
    assert!(whole.len() > 1000, "{} spikes", whole.len());
    assert!(
        joined == whole,
        "the segments' spikes are not one run's ({} vs {})",
        joined.len(),
        whole.len()
    );
}

#[test]
fn learning_off_keeps_weights_and_a_larger_rate_moves_them_more() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let w = |name: &str| arg(&d.join(name)).to_string();
    let segments = format!(
        "[[segment]]\nname = \"learn\"\nduration = 0.1\nsave_weights = {:?}\n\
         [[segment]]\nname = \"frozen\"\nduration = 0.1\nlearning = false\nsave_weights = {:?}\n\
         [[segment]]\nname = \"as-built\"\nduration = 0.1\nlearning = true\nsave_weights = {:?}\n\
         [[segment]]\nname = \"fast\"\nduration = 0.1\nlearning_rate = 5.0\nsave_weights = {:?}\n\
         checkpoint = {:?}\n",
        w("w0"),
        w("w1"),
        w("w2"),
        w("w3"),
        w("ck")
    );
    let file = protocol(d, BRUNEL, &segments);
    ok(&file);
    let ee = |dir: &str| mtx_weights(&d.join(dir).join("ee.mtx"));
    let (w0, w1, w2, w3) = (ee("w0"), ee("w1"), ee("w2"), ee("w3"));
    assert!(w0 == w1, "learning = false changed the weights");
    let slow = moved(&w1, &w2);
    let fast = moved(&w2, &w3);
    assert!(slow > 0.0, "learning = true did not move the weights");
    assert!(
        fast > 2.0 * slow,
        "learning_rate = 5 moved the weights by {fast}, as built by {slow}"
    );
    // The static pathways never move.
    for f in ["ei.mtx", "ie.mtx", "ii.mtx"] {
        assert_eq!(
            fs::read(d.join("w0").join(f)).unwrap(),
            fs::read(d.join("w3").join(f)).unwrap()
        );
    }
    let records = read_records(&d.join("r.jsonl"));
    let changes = &records[3].1.config.segment.as_ref().unwrap().changes;
    assert_eq!(changes["learning_rate"], 5.0);
    let changes = &records[1].1.config.segment.as_ref().unwrap().changes;
    assert_eq!(changes["learning"], false);
    // The last segment's checkpoint continues with `snn-bench resume`.
    assert_eq!(
        records[3].1.config.checkpoint.as_deref(),
        Some(w("ck").as_str())
    );
    let resumed = d.join("resumed.jsonl");
    run_ok(&[
        "resume",
        &w("ck"),
        "--simtime",
        "0.01",
        "--quiet",
        "--out",
        arg(&resumed),
    ]);
    let r = common::only_record(&resumed);
    assert_eq!(r.config.resumed_from.map(|f| f.step), Some(4000));
}

#[test]
fn an_input_rate_change_acts_from_its_segment_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let segments = "[[segment]]\nname = \"base\"\nduration = 0.2\nlearning = false\n\
                    [[segment]]\nname = \"probe\"\nduration = 0.2\ninput_rate = { P = 10.0 }\n";
    let file = protocol(d, "network = \"zenke25k\"\nplastic = true", segments);
    ok(&file);
    let records = read_records(&d.join("r.jsonl"));
    let rate = |i: usize, pop: &str| {
        let r = &records[i].1.result.rates;
        r.iter().find(|(n, _)| n == pop).unwrap().1.mean_rate_hz
    };
    let (before, after) = (rate(0, "P"), rate(1, "P"));
    assert!((1.0..3.5).contains(&before), "P at {before} Hz before");
    assert!((8.0..12.0).contains(&after), "P at {after} Hz after");
    assert!(rate(1, "E") > rate(0, "E"));
    let changes = &records[1].1.config.segment.as_ref().unwrap().changes;
    assert_eq!(changes["input_rate"]["P"], 10.0);
}

#[test]
fn bad_protocols_fail_naming_file_and_key_and_write_nothing() {
    let one = "[[segment]]\nname = \"a\"\nduration = 0.1\n";
    let cases: [(&str, &str, String, &[&str]); 7] = [
        (
            "unknown segment key",
            BRUNEL,
            format!("{one}durration = 3\n"),
            &["durration"],
        ),
        (
            "unknown [run] key",
            "network = \"brunel\"\nthread = 2",
            one.into(),
            &["[run] thread", "unknown key"],
        ),
        (
            "zero duration",
            BRUNEL,
            one.replace("0.1", "0"),
            &["segment 0 ('a')", "duration = 0"],
        ),
        (
            "input rate of a non-Poisson population",
            "network = \"zenke25k\"",
            format!("{one}input_rate = {{ E = 3.0 }}\n"),
            &["segment 0 ('a')", "input_rate.E", "P"],
        ),
        (
            "duplicate names",
            BRUNEL,
            format!("{one}{one}"),
            &["segment 1 ('a')", "duplicate"],
        ),
        (
            "learning on a static network",
            "network = \"brunel\"",
            format!("{one}learning = false\n"),
            &["segment 0 ('a')", "plastic"],
        ),
        ("no segments", BRUNEL, String::new(), &["segment"]),
    ];
    for (what, run, segments, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let file = protocol(d, run, &segments);
        let err = run_err(&["protocol", arg(&file)]);
        assert!(err.contains(arg(&file)), "{what}: no file named: {err}");
        for e in expected {
            assert!(err.contains(e), "{what}: expected {e:?} in: {err}");
        }
        let left: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["p.toml"], "{what}: wrote something");
    }
}

#[test]
fn outputs_are_checked_before_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::write(d.join("b.npy"), "keep").unwrap();
    let segments = format!(
        "[[segment]]\nname = \"a\"\nduration = 0.1\nspikes = {:?}\n\
         [[segment]]\nname = \"b\"\nduration = 0.1\nspikes = {:?}\n",
        arg(&d.join("a.npy")),
        arg(&d.join("b.npy"))
    );
    let file = protocol(d, BRUNEL, &segments);
    let err = run_err(&["protocol", arg(&file)]);
    assert!(err.contains("segment 1 ('b') spikes"), "{err}");
    assert!(!d.join("a.npy").exists() && !d.join("r.jsonl").exists());
    assert_eq!(fs::read(d.join("b.npy")).unwrap(), b"keep");
}
