//! `snn-bench machine`: the JSON it writes, the sanity of its figures, and a clean error
//! for an output path that cannot be created.

mod common;

use std::fs;

use bench_suite::machine::Machine;
use serde_json::Value;

use common::{arg, run_err, run_ok};

/// Every number in a JSON value, with its path.
fn numbers(v: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => out.push((path.to_owned(), n.as_f64().expect("a number"))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                numbers(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                numbers(item, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn quick_measurement_writes_sane_figures() {
    let tmp = tempfile::tempdir().unwrap();
    // Parent directories are created.
    let out = tmp.path().join("results/host/machine.json");
    let stdout = run_ok(&["machine", "--quick", "--out", arg(&out)]);
    for word in [
        "bandwidth",
        "latency",
        "scatter-add",
        "GFLOP/s",
        "f32",
        "f64",
    ] {
        assert!(stdout.contains(word), "table lacks {word}:\n{stdout}");
    }

    let text = fs::read_to_string(&out).unwrap();
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    let m: Machine = serde_json::from_value(v.clone()).expect("a Machine");
    assert_eq!(m.schema, bench_suite::machine::SCHEMA);
    assert!(m.quick);
    assert!(m.threads >= 1);
    assert_eq!(&m.date[10..11], "T", "date {:?}", m.date);

    // Every figure finite and positive (the load average may be 0 on an idle machine).
    let mut all = Vec::new();
    numbers(&v, "", &mut all);
    let figures: Vec<_> = all
        .iter()
        .filter(|(p, _)| !p.starts_with(".load_average") && !p.starts_with(".host"))
        .collect();
    assert!(figures.len() > 40, "{figures:?}");
    for (path, x) in &figures {
        assert!(x.is_finite() && *x > 0.0, "{path} = {x}");
    }
    let stats = [
        &m.bandwidth.read_gbs_1t,
        &m.bandwidth.read_gbs_all,
        &m.bandwidth.triad_gbs_1t,
        &m.bandwidth.triad_gbs_all,
        &m.arithmetic.f32_gflops_1t,
        &m.arithmetic.f64_gflops_1t,
        &m.arithmetic.f32_gflops_all,
        &m.arithmetic.f64_gflops_all,
    ];
    for s in stats {
        assert!(s.min <= s.median && s.median <= s.max, "{s:?}");
        assert!(s.reps >= 1);
    }

    // Bandwidth in a physically sane range, GB/s.
    for (name, s) in [
        ("read 1t", &m.bandwidth.read_gbs_1t),
        ("read all", &m.bandwidth.read_gbs_all),
        ("triad 1t", &m.bandwidth.triad_gbs_1t),
        ("triad all", &m.bandwidth.triad_gbs_all),
    ] {
        assert!(
            (0.1..=10_000.0).contains(&s.median),
            "{name}: {} GB/s",
            s.median
        );
    }
    // GFLOP/s: above 0.05 (a scalar core at 100 MHz) and below 100 TFLOP/s.
    for s in &stats[4..] {
        assert!((0.05..=1e5).contains(&s.median), "{s:?}");
    }

    // Random access: sizes ascending from 32 KiB; latency does not shrink much from the
    // smallest working set to the largest (it should grow by ×10 or more; a shared
    // machine's noise is allowed for), and is in a sane range (0.1 ns … 10 µs).
    let ra = &m.random_access;
    assert!(ra.len() >= 3, "{ra:?}");
    assert_eq!(ra[0].working_set_bytes, 32 * 1024);
    assert!(ra
        .windows(2)
        .all(|w| w[0].working_set_bytes < w[1].working_set_bytes));
    let (first, last) = (&ra[0], ra.last().unwrap());
    assert!(
        last.latency_ns.median >= 0.8 * first.latency_ns.median,
        "latency {} ns at {} B but {} ns at {} B",
        first.latency_ns.median,
        first.working_set_bytes,
        last.latency_ns.median,
        last.working_set_bytes
    );
    for r in ra {
        for (what, s) in [
            ("latency", &r.latency_ns),
            ("scatter-add", &r.scatter_add_ns),
        ] {
            assert!(
                (0.1..=10_000.0).contains(&s.median),
                "{what} at {} B: {} ns",
                r.working_set_bytes,
                s.median
            );
        }
    }

    // Reading it back through the library gives the same thing.
    assert_eq!(Machine::read(&out).unwrap(), m);
}

#[test]
fn out_below_a_file_is_a_clean_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "not a directory").unwrap();
    let out = file.join("sub/machine.json");
    let stderr = run_err(&["machine", "--quick", "--out", arg(&out)]);
    assert!(
        stderr.contains(arg(&out)),
        "the message names {}:\n{stderr}",
        out.display()
    );
    // Nothing was measured (the path is checked first) and nothing written.
    assert!(!stderr.contains("measuring"), "{stderr}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "not a directory");
}

#[test]
fn out_that_is_a_directory_is_a_clean_error() {
    let tmp = tempfile::tempdir().unwrap();
    let stderr = run_err(&["machine", "--quick", "--out", arg(tmp.path())]);
    assert!(stderr.contains(arg(tmp.path())), "{stderr}");
}
