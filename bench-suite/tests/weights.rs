//! Weight matrices: `--save-weights` writes Matrix Market files that `--load-weights`
//! reads back to the same network (same spikes), and bad files are rejected with
//! messages that name the file and the problem.

mod common;

use std::fs;
use std::path::Path;

use common::{arg, only_record, read_spikes, run_err, run_ok};

const SIMTIME: &str = "0.5";
const STEPS: u64 = 5_000;

/// (file, pathway, rows, cols, weight)
const PATHWAYS: [(&str, &str, usize, usize, f64); 4] = [
    ("ee.mtx", "EE", 3200, 3200, 0.4),
    ("ei.mtx", "EI", 3200, 800, 0.4),
    ("ie.mtx", "IE", 800, 3200, 5.1),
    ("ii.mtx", "II", 800, 800, 5.1),
];

fn run_va(precision: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "run",
        "va",
        "--simtime",
        SIMTIME,
        "--precision",
        precision,
        "--threads",
        "2",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run_ok(&args)
}

/// Checks a saved file's header, size line and entries; returns its number of entries.
fn check_mtx(path: &Path, pathway: &str, rows: usize, cols: usize, weight: f64) -> usize {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.display();
    assert!(
        text.starts_with("%%MatrixMarket matrix coordinate real general\n"),
        "{name}: header {:?}",
        text.lines().next()
    );
    assert!(
        text.lines()
            .any(|l| l.trim() == format!("% pathway {pathway}")),
        "{name}: no `% pathway {pathway}` comment"
    );
    let mut lines = text.lines().filter(|l| !l.starts_with('%'));
    let size: Vec<usize> = lines
        .next()
        .expect("size line")
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    assert_eq!(size.len(), 3, "{name}: size line {size:?}");
    assert_eq!((size[0], size[1]), (rows, cols), "{name}: shape");
    let nnz = size[2];
    let (mut min_r, mut max_r, mut min_c, mut max_c) = (usize::MAX, 0, usize::MAX, 0);
    let mut prev = (0, 0);
    let mut count = 0;
    for line in lines {
        let w: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(w.len(), 3, "{name}: entry {line:?}");
        let (r, c): (usize, usize) = (w[0].parse().unwrap(), w[1].parse().unwrap());
        let v: f64 = w[2].parse().unwrap();
        assert!(
            (1..=rows).contains(&r) && (1..=cols).contains(&c),
            "{name}: {line}"
        );
        assert!((r, c) > prev, "{name}: {line} not after {prev:?}");
        prev = (r, c);
        // Written losslessly: parses back to exactly the weight the network was built with.
        assert_eq!(v, weight, "{name}: {line}");
        min_r = min_r.min(r);
        max_r = max_r.max(r);
        min_c = min_c.min(c);
        max_c = max_c.max(c);
        count += 1;
    }
    assert_eq!(count, nnz, "{name}: entries vs size line");
    // p = 0.02: the expected count within 5 sd.
    let mean = 0.02 * (rows * cols) as f64;
    assert!(
        (count as f64 - mean).abs() < 5.0 * mean.sqrt(),
        "{name}: {count} entries, expected about {mean}"
    );
    // 1-based: indices reach both ends (0 never occurs, the last row/column does).
    assert_eq!((min_r, max_r), (1, rows), "{name}: row range");
    assert_eq!((min_c, max_c), (1, cols), "{name}: column range");
    nnz
}

fn round_trip(precision: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("weights");
    let a = tmp.path().join("a.npy");
    let b = tmp.path().join("b.npy");
    let out_a = tmp.path().join("a.jsonl");
    let out_b = tmp.path().join("b.jsonl");
    run_va(
        precision,
        &[
            "--save-weights",
            arg(&dir),
            "--spikes",
            arg(&a),
            "--out",
            arg(&out_a),
        ],
    );
    let mut nnz = 0;
    for (file, pathway, rows, cols, weight) in PATHWAYS {
        let w = saved_weight(precision, weight);
        nnz += check_mtx(&dir.join(file), pathway, rows, cols, w);
    }
    let rec_a = only_record(&out_a);
    assert_eq!(
        nnz, rec_a.result.synapses,
        "entries in the files vs synapses run"
    );

    run_va(
        precision,
        &[
            "--load-weights",
            arg(&dir),
            "--spikes",
            arg(&b),
            "--out",
            arg(&out_b),
        ],
    );
    let rec_b = only_record(&out_b);
    assert!(
        rec_b.config.weights.contains(arg(&dir)),
        "weights: {:?}",
        rec_b.config.weights
    );
    assert_eq!(rec_b.result.synapses, nnz);
    let sa = read_spikes(&a, STEPS);
    let sb = read_spikes(&b, STEPS);
    assert!(sa.len() > 10_000, "{precision}: only {} spikes", sa.len());
    assert_eq!(sa.len(), sb.len(), "{precision}: spike counts differ");
    assert!(sa == sb, "{precision}: loaded weights give other spikes");
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());

    // The loaded files are really used: an empty EE matrix changes the network.
    let c = tmp.path().join("c.npy");
    let out_c = tmp.path().join("c.jsonl");
    let ee_nnz = check_mtx(
        &dir.join("ee.mtx"),
        "EE",
        3200,
        3200,
        saved_weight(precision, 0.4),
    );
    fs::write(
        dir.join("ee.mtx"),
        "%%MatrixMarket matrix coordinate real general\n% pathway EE\n3200 3200 0\n",
    )
    .unwrap();
    run_va(
        precision,
        &[
            "--load-weights",
            arg(&dir),
            "--spikes",
            arg(&c),
            "--out",
            arg(&out_c),
        ],
    );
    assert_eq!(only_record(&out_c).result.synapses, nnz - ee_nnz);
    assert!(
        read_spikes(&c, STEPS) != sa,
        "{precision}: EE weights were ignored"
    );
}

/// A weight as saved from a network built in `precision` (f32 rounds 0.4 and 5.1).
fn saved_weight(precision: &str, w: f64) -> f64 {
    if precision == "f32" {
        w as f32 as f64
    } else {
        w
    }
}

#[test]
fn round_trip_f32() {
    round_trip("f32");
}

#[test]
fn round_trip_f64() {
    round_trip("f64");
}

/// Saves the f64 weights of a short run into `dir`.
fn saved(dir: &Path) {
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--precision",
        "f64",
        "--quiet",
        "--save-weights",
        arg(dir),
    ]);
}

fn load(dir: &Path) -> String {
    run_err(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--precision",
        "f64",
        "--quiet",
        "--load-weights",
        arg(dir),
    ])
}

#[test]
fn rejects_bad_weight_files() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    saved(&good);
    let copy = |name: &str| {
        let d = tmp.path().join(name);
        fs::create_dir(&d).unwrap();
        for (file, ..) in PATHWAYS {
            fs::copy(good.join(file), d.join(file)).unwrap();
        }
        d
    };

    // IE (800 x 3200) where EE (3200 x 3200) belongs.
    let swapped = copy("swapped");
    fs::copy(swapped.join("ie.mtx"), swapped.join("ee.mtx")).unwrap();
    let err = load(&swapped);
    assert!(err.contains("ee.mtx"), "{err}");
    let names_shapes = err.contains("800x3200") && err.contains("3200x3200");
    let names_pathways = err.contains("IE") && err.contains("EE");
    assert!(
        names_shapes || names_pathways,
        "neither shapes nor pathways: {err}"
    );

    // The same without the `% pathway` comment: only the shape can tell.
    let anonymous = copy("anonymous");
    let text = fs::read_to_string(anonymous.join("ie.mtx")).unwrap();
    assert!(text.contains("% pathway IE\n"));
    fs::write(anonymous.join("ee.mtx"), text.replace("% pathway IE\n", "")).unwrap();
    let err = load(&anonymous);
    assert!(err.contains("ee.mtx"), "{err}");
    assert!(
        err.contains("800x3200") && err.contains("3200x3200"),
        "{err}"
    );

    // A missing file.
    let missing = copy("missing");
    fs::remove_file(missing.join("ii.mtx")).unwrap();
    let err = load(&missing);
    assert!(err.contains("ii.mtx"), "{err}");

    // A malformed line at the end.
    let malformed = copy("malformed");
    let path = malformed.join("ei.mtx");
    let mut text = fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    text.push_str("1 x 0.5\n");
    let line = text.lines().count();
    fs::write(&path, text).unwrap();
    let err = load(&malformed);
    assert!(err.contains("ei.mtx"), "{err}");
    assert!(
        err.contains(&format!("ei.mtx:{line}")) || err.contains(&format!("line {line}")),
        "line {line} not named: {err}"
    );

    // The untouched copy still loads (so the failures above come from the edits).
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.01",
        "--precision",
        "f64",
        "--quiet",
        "--load-weights",
        arg(&copy("untouched")),
    ]);
}
