//! Hostile inputs, end to end: flags with absurd values, weight files that lie or are not
//! files, `.npy` spike files with absurd headers, broken records for `table` and
//! `report`, sweep specs and hostfiles. Every case runs `snn-bench` in a child with a
//! deadline and an address-space limit, and asserts the exit code, that nothing
//! panicked, that the message names the offending flag, file or field, and that it
//! finished in time: an unbounded allocation fails the case (the limit makes it fail
//! inside the child) instead of eating the machine, and a hang fails it at the deadline.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

/// Address space a child may use: the va network needs ≈ 100 MB; a reader that trusted
/// a lying size would need gigabytes.
const MEMORY_LIMIT: u64 = 1 << 30;
/// How long a rejection may take (a report of a few records renders its figures too).
const DEADLINE: Duration = Duration::from_secs(20);

/// What a case expects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Exit {
    /// A clean failure: exit code 1 or 2 (clap's usage errors).
    Fails,
    /// Success, with a warning naming the bad input (report, table).
    Warns,
}

struct Case {
    name: String,
    args: Vec<String>,
    exit: Exit,
    /// Each must appear in stderr.
    must: Vec<String>,
}

fn case(name: &str, args: &[&str], exit: Exit, must: &[&str]) -> Case {
    Case {
        name: name.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        exit,
        must: must.iter().map(|s| s.to_string()).collect(),
    }
}

/// Runs every case; returns the failures (all of them, not just the first).
fn run_all(cases: &[Case], cwd: &Path) -> Vec<String> {
    let _one = common::exclusive();
    let exe = assert_cmd::cargo::cargo_bin("snn-bench");
    let mut failures = Vec::new();
    for c in cases {
        let out = tempfile::NamedTempFile::new().unwrap();
        let err = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new(&exe);
        cmd.args(&c.args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.reopen().unwrap()))
            .stderr(Stdio::from(err.reopen().unwrap()))
            .env_remove("RUST_BACKTRACE");
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: MEMORY_LIMIT,
                    rlim_max: MEMORY_LIMIT,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let start = Instant::now();
        let mut child = cmd.spawn().expect("snn-bench starts");
        let status = match child.wait_timeout(DEADLINE).unwrap() {
            Some(s) => s,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                failures.push(format!("{}: no answer within {DEADLINE:?}", c.name));
                continue;
            }
        };
        let took = start.elapsed();
        let stderr = fs::read_to_string(err.path()).unwrap_or_default();
        let code = status.code();
        let exit_ok = match c.exit {
            Exit::Fails => matches!(code, Some(1 | 2)),
            Exit::Warns => code == Some(0),
        };
        let mut why = Vec::new();
        if !exit_ok {
            why.push(format!("exit {status}, expected {:?}", c.exit));
        }
        if stderr.contains("panicked at") || stderr.contains("RUST_BACKTRACE") {
            why.push("panicked".into());
        }
        for m in &c.must {
            if !stderr.contains(m.as_str()) {
                why.push(format!("stderr lacks {m:?}"));
            }
        }
        if !why.is_empty() {
            failures.push(format!(
                "{} (`snn-bench {}`, {took:?}): {}\n  stderr: {}",
                c.name,
                c.args.join(" "),
                why.join("; "),
                stderr.trim()
            ));
        }
    }
    failures
}

fn check(cases: Vec<Case>, cwd: &Path, at_least: usize) {
    assert!(cases.len() >= at_least, "{} cases", cases.len());
    let failures = run_all(&cases, cwd);
    assert!(
        failures.is_empty(),
        "{} of {} hostile cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// A sparse file of `len` bytes (all zeros, no disk blocks).
fn sparse(path: &Path, len: u64) {
    fs::File::create(path).unwrap().set_len(len).unwrap();
}

/// Makes `path` one of the things that are not regular files; returns a label.
fn not_a_file(path: &Path, kind: &str) {
    match kind {
        "fifo" => mkfifo(path),
        "dev-zero" => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
        "directory" => fs::create_dir(path).unwrap(),
        "sparse-2g" => sparse(path, 2 << 30),
        _ => unreachable!(),
    }
}

const NOT_FILES: [(&str, &str); 4] = [
    ("fifo", "FIFO"),
    ("dev-zero", "character device"),
    ("directory", "directory"),
    ("sparse-2g", "bytes"),
];

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn run_flags() {
    let base = ["run", "va", "--quiet"];
    let flags: &[(&str, &[&str], &[&str])] = &[
        (
            "dt tiny",
            &["--simtime", "0.01", "--dt", "1e-12"],
            &["--dt", "[0.001, 1.0] ms"],
        ),
        (
            "dt huge",
            &["--simtime", "0.01", "--dt", "2", "--delay", "2"],
            &["--dt 2"],
        ),
        ("dt nan", &["--simtime", "0.01", "--dt", "nan"], &["--dt"]),
        (
            "delay huge",
            &["--simtime", "0.01", "--delay", "1e12"],
            &["--delay", "100.0] ms"],
        ),
        (
            "delay 150 ms",
            &["--simtime", "0.01", "--delay", "150"],
            &["--delay 150"],
        ),
        (
            "delay not a multiple of dt",
            &["--simtime", "0.01", "--dt", "0.003"],
            &["--delay 0.8", "multiple"],
        ),
        (
            "delay negative",
            &["--simtime", "0.01", "--delay", "-1"],
            &["--delay"],
        ),
        (
            "latency 1e26",
            &["--simtime", "0.01", "--comm-latency-us", "1e26"],
            &["--comm-latency-us", "10000.0] µs"],
        ),
        (
            "latency negative",
            &["--simtime", "0.01", "--comm-latency-us", "-1"],
            &["--comm-latency-us"],
        ),
        (
            "latency nan",
            &["--simtime", "0.01", "--comm-latency-us", "nan"],
            &["--comm-latency-us"],
        ),
        (
            "latency 20 ms",
            &["--simtime", "0.01", "--comm-latency-us", "20000"],
            &["--comm-latency-us 20000"],
        ),
        (
            "simtime 1e300",
            &["--simtime", "1e300"],
            &["--simtime 1e300"],
        ),
        (
            "simtime 1e7",
            &["--simtime", "1e7"],
            &["--simtime 10000000"],
        ),
        ("simtime inf", &["--simtime", "inf"], &["--simtime"]),
        (
            "steps 1e10",
            &["--simtime", "1e6"],
            &["--simtime", "steps", "1000000000"],
        ),
        (
            "steps 1e11 small dt",
            &["--simtime", "1e5", "--dt", "0.001", "--delay", "0.8"],
            &["--simtime", "steps"],
        ),
        (
            "w-exc overflows f32",
            &["--simtime", "0.01", "--w-exc", "1e39"],
            &["--w-exc", "f32"],
        ),
        (
            "w-inh negative",
            &["--simtime", "0.01", "--w-inh", "-1"],
            &["--w-inh -1"],
        ),
        (
            "w-exc inf",
            &["--simtime", "0.01", "--w-exc", "inf"],
            &["--w-exc"],
        ),
        (
            "threads 5000",
            &["--simtime", "0.01", "--threads", "5000"],
            &["--threads", "5000"],
        ),
        (
            "threads 0",
            &["--simtime", "0.01", "--threads", "0"],
            &["--threads"],
        ),
        (
            "threads -1",
            &["--simtime", "0.01", "--threads", "-1"],
            &["-1"],
        ),
        (
            "seed negative",
            &["--simtime", "0.01", "--seed", "-1"],
            &["'-1'"],
        ),
        (
            "seed float",
            &["--simtime", "0.01", "--seed", "1e3"],
            &["--seed", "1e3"],
        ),
        (
            "seed too big",
            &["--simtime", "0.01", "--seed", "99999999999999999999999"],
            &["--seed"],
        ),
        (
            "repetition negative",
            &["--simtime", "0.01", "--repetition", "-1"],
            &["'-1'"],
        ),
        (
            "expect-ranks 0",
            &["--simtime", "0.01", "--expect-ranks", "0"],
            &["--expect-ranks"],
        ),
        (
            "precision f16",
            &["--simtime", "0.01", "--precision", "f16"],
            &["f16"],
        ),
        (
            "timers maybe",
            &["--simtime", "0.01", "--timers", "maybe"],
            &["--timers", "maybe"],
        ),
    ];
    let mut cases: Vec<Case> = flags
        .iter()
        .map(|(name, extra, must)| {
            let mut args = base.to_vec();
            args.extend_from_slice(extra);
            case(name, &args, Exit::Fails, must)
        })
        .collect();
    let other: &[(&str, &[&str], &[&str])] = &[
        (
            "brunel input-rate 1e9",
            &["run", "brunel", "--simtime", "0.01", "--input-rate", "1e9"],
            &["--input-rate", "100000.0] Hz"],
        ),
        (
            "zenke tau-hom 1e9",
            &[
                "run",
                "zenke25k",
                "--plastic",
                "--simtime",
                "0.01",
                "--tau-hom",
                "1e9",
            ],
            &["--tau-hom"],
        ),
        (
            "zenke priming 1e9",
            &[
                "run",
                "zenke25k",
                "--plastic",
                "--simtime",
                "0.01",
                "--priming",
                "1e9",
            ],
            &["--priming"],
        ),
        (
            "brunel learning-rate 1e9",
            &[
                "run",
                "brunel",
                "--plastic",
                "--simtime",
                "0.01",
                "--learning-rate",
                "1e9",
            ],
            &["--learning-rate"],
        ),
        (
            "zenke priming steps",
            &[
                "run",
                "zenke25k",
                "--plastic",
                "--simtime",
                "0.01",
                "--priming",
                "1e5",
                "--dt",
                "0.001",
                "--delay",
                "0.8",
            ],
            &["--priming", "steps"],
        ),
        (
            "poisson 4096 threads",
            &["run", "poisson", "--simtime", "0.01", "--threads", "4096"],
            &["4096"],
        ),
        (
            "unknown network",
            &["run", "vaa", "--simtime", "0.01"],
            &["vaa"],
        ),
        (
            "exchange trace beyond memory",
            &[
                "run",
                "va",
                "--simtime",
                "1e5",
                "--threads",
                "1000",
                "--exchange-trace",
                "t.npy",
            ],
            &[
                "--threads 1000",
                "--exchange-trace",
                "GiB",
                "physical memory",
            ],
        ),
    ];
    for (name, args, must) in other {
        cases.push(case(name, args, Exit::Fails, must));
    }
    let dir = tempfile::tempdir().unwrap();
    check(cases, dir.path(), 30);
}

/// A NaN/inf state stops the run; the record says it failed and why.
#[test]
fn diverging_run_stops_and_records_its_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs.jsonl");
    let cases = vec![case(
        "w-inh at the f32 maximum",
        &[
            "run",
            "va",
            "--quiet",
            "--simtime",
            "5",
            "--w-inh",
            "3.4e38",
            "--out",
            &s(&out),
        ],
        Exit::Fails,
        &["not finite", "population", "neuron", "variable", "step"],
    )];
    check(cases, dir.path(), 1);
    let text = fs::read_to_string(&out).unwrap();
    let record: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let failure = record["result"]["failure"]
        .as_str()
        .expect("failure recorded");
    assert!(failure.contains("not finite"), "{failure}");
    // table skips it with a warning rather than counting it.
    let cases = vec![case(
        "table of a failed run",
        &["table", &s(&out)],
        Exit::Fails,
        &["runs.jsonl:1", "failed"],
    )];
    check(cases, dir.path(), 1);
}

/// Writes va's weights once; each case gets a copy with one file replaced.
fn va_weights(root: &Path) -> PathBuf {
    let dir = root.join("good");
    common::run_ok(&[
        "run",
        "va",
        "--quiet",
        "--simtime",
        "0.001",
        "--save-weights",
        &s(&dir),
    ]);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn weight_files() {
    let root = tempfile::tempdir().unwrap();
    let good = va_weights(root.path());
    let ee = fs::read_to_string(good.join("ee.mtx")).unwrap();
    let lines: Vec<&str> = ee.lines().collect();
    let header = "%%MatrixMarket matrix coordinate real general\n% pathway EE\n";
    let first = lines[4];
    let mut texts: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "size line lies (10 M)",
            format!("{header}3200 3200 10000000\n{first}\n"),
            vec!["ee.mtx", "declares 10000000"],
        ),
        (
            "size line lies (10^12)",
            format!("{header}3200 3200 1000000000000\n{first}\n"),
            vec!["ee.mtx:3", "nnz at most"],
        ),
        (
            "size line overflows",
            format!("{header}3200 3200 99999999999999999999999\n"),
            vec!["ee.mtx:3", "size line"],
        ),
        (
            "rows beyond u32",
            format!("{header}99999999999 3200 1\n"),
            vec!["ee.mtx:3"],
        ),
        (
            "wrong shape",
            format!("{header}3200 800 1\n1 1 0.4\n"),
            vec!["ee.mtx", "3200x800", "3200x3200"],
        ),
        (
            "wrong pathway",
            ee.replace("% pathway EE", "% pathway IE"),
            vec!["ee.mtx", "pathway IE"],
        ),
        (
            "NaN weight",
            format!("{header}3200 3200 1\n1 1 NaN\n"),
            vec!["ee.mtx:4", "NaN"],
        ),
        (
            "inf weight",
            format!("{header}3200 3200 1\n1 1 inf\n"),
            vec!["ee.mtx:4", "inf"],
        ),
        (
            "1e400 weight",
            format!("{header}3200 3200 1\n1 1 1e400\n"),
            vec!["ee.mtx:4", "1e400"],
        ),
        (
            "weight overflows f32",
            format!("{header}3200 3200 1\n1 1 1e39\n"),
            vec!["ee.mtx:4", "1e39", "f32"],
        ),
        (
            "negative conductance",
            format!("{header}3200 3200 1\n1 1 -0.4\n"),
            vec!["ee.mtx:4", "-0.4", "non-negative"],
        ),
        (
            "row out of range",
            format!("{header}3200 3200 1\n3201 1 0.4\n"),
            vec!["ee.mtx:4", "row index 3201"],
        ),
        (
            "column 0",
            format!("{header}3200 3200 1\n1 0 0.4\n"),
            vec!["ee.mtx:4", "column index 0"],
        ),
        (
            "duplicate",
            format!("{header}3200 3200 2\n1 1 0.4\n1 1 0.4\n"),
            vec!["ee.mtx", "duplicate"],
        ),
        (
            "truncated entries",
            lines[..lines.len() / 2].join("\n"),
            vec!["ee.mtx", "declares"],
        ),
        (
            "truncated mid-line",
            format!("{header}3200 3200 2\n1 1 0.4\n1 2"),
            vec!["ee.mtx:5", "3 fields"],
        ),
        (
            "array header",
            "%%MatrixMarket matrix array real general\n3200 3200\n".into(),
            vec!["ee.mtx:1", "array"],
        ),
        ("empty file", String::new(), vec!["ee.mtx:1", "end of file"]),
        ("no size line", header.into(), vec!["ee.mtx", "end of file"]),
        (
            "long comment line",
            format!("{header}%{}\n3200 3200 0\n", "x".repeat(5000)),
            vec!["ee.mtx:3", "longer than 1024"],
        ),
        (
            "text index",
            format!("{header}3200 3200 1\none 1 0.4\n"),
            vec!["ee.mtx:4", "row index"],
        ),
    ];
    let mut cases = Vec::new();
    let mut add = |name: &str, dir: &Path, must: &[&str]| {
        cases.push(case(
            name,
            &[
                "run",
                "va",
                "--quiet",
                "--simtime",
                "0.01",
                "--load-weights",
                &s(dir),
            ],
            Exit::Fails,
            must,
        ));
    };
    for (i, (name, text, must)) in texts.drain(..).enumerate() {
        let dir = root.path().join(format!("t{i}"));
        copy_dir(&good, &dir);
        fs::write(dir.join("ee.mtx"), text).unwrap();
        add(name, &dir, &must);
    }
    // Invalid UTF-8 in an entry line.
    let dir = root.path().join("utf8");
    copy_dir(&good, &dir);
    let mut bytes = format!("{header}3200 3200 1\n1 1 0.4").into_bytes();
    bytes.extend([0xff, 0xfe, b'\n']);
    fs::write(dir.join("ee.mtx"), bytes).unwrap();
    add("invalid UTF-8", &dir, &["ee.mtx:4", "UTF-8"]);
    for (kind, what) in NOT_FILES {
        let dir = root.path().join(kind);
        copy_dir(&good, &dir);
        fs::remove_file(dir.join("ee.mtx")).unwrap();
        not_a_file(&dir.join("ee.mtx"), kind);
        add(&format!("ee.mtx is {kind}"), &dir, &["ee.mtx", what]);
    }
    let dir = root.path().join("missing");
    copy_dir(&good, &dir);
    fs::remove_file(dir.join("ii.mtx")).unwrap();
    add("ii.mtx missing", &dir, &["ii.mtx", "No such file"]);
    check(cases, root.path(), 25);
}

/// A `.npy` of version 1 with this header dictionary and data.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(data);
    b
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A results directory with one real va record (dt 0.1 ms, seed 1, spikes recorded)
/// whose `config.spikes` names `spikes`, for `report` to read.
fn results_with_spikes(
    root: &Path,
    name: &str,
    record: &serde_json::Value,
    spikes: &str,
) -> PathBuf {
    let dir = root.join(name);
    fs::create_dir_all(&dir).unwrap();
    let mut r = record.clone();
    r["config"]["spikes"] = serde_json::Value::String(spikes.into());
    fs::write(dir.join("runs.jsonl"), format!("{r}\n")).unwrap();
    dir
}

fn va_record(root: &Path) -> serde_json::Value {
    let out = root.join("seed.jsonl");
    let sp = root.join("seed.npy");
    common::run_ok(&[
        "run",
        "va",
        "--quiet",
        "--simtime",
        "0.05",
        "--out",
        &s(&out),
        "--spikes",
        &s(&sp),
    ]);
    serde_json::from_str(fs::read_to_string(&out).unwrap().trim()).unwrap()
}

#[test]
fn spike_files_read_by_report() {
    let root = tempfile::tempdir().unwrap();
    let record = va_record(root.path());
    let h = |shape: &str, descr: &str| {
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
    };
    let mut long_header = b"\x93NUMPY\x02\x00".to_vec();
    long_header.extend(u32::MAX.to_le_bytes());
    long_header.extend(b"{'descr'");
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "2^60 rows",
            npy(&h("(1152921504606846976, 2)", "<i8"), &i64s(&[1, 2])),
            "data bytes",
        ),
        (
            "shape overflows u64",
            npy(&h("(4294967296, 4294967296)", "<i8"), &i64s(&[1, 2])),
            "2^64",
        ),
        (
            "3-D shape",
            npy(&h("(1, 1, 2)", "<i8"), &i64s(&[1, 2])),
            "2 dimensions",
        ),
        (
            "float32",
            npy(&h("(1, 2)", "<f4"), &i64s(&[1, 2])),
            "dtype <f4",
        ),
        (
            "int32 big-endian",
            npy(&h("(1, 2)", ">i4"), &i64s(&[1, 2])),
            "dtype >i4",
        ),
        (
            "truncated data",
            npy(&h("(4, 2)", "<i8"), &i64s(&[1, 2, 3])),
            "truncated",
        ),
        ("header length 4 GiB", long_header, "header of 4294967295"),
        (
            "no shape",
            npy("{'descr': '<i8', 'fortran_order': False, }", &[]),
            "'shape'",
        ),
        (
            "bad magic",
            b"PK\x03\x04 not numpy at all".to_vec(),
            "magic",
        ),
        (
            "version 9",
            b"\x93NUMPY\x09\x00\x10\x00".to_vec(),
            "version 9",
        ),
        ("only the magic", b"\x93NUMPY".to_vec(), "magic"),
        (
            "negative neuron",
            npy(&h("(1, 2)", "<i8"), &i64s(&[1, -5])),
            "neuron -5",
        ),
        (
            "neuron beyond the network",
            npy(&h("(1, 2)", "<i8"), &i64s(&[1, 4000])),
            "neuron 4000",
        ),
        (
            "fortran order",
            npy(
                "{'descr': '<i8', 'fortran_order': True, 'shape': (1, 2), }",
                &i64s(&[1, 2]),
            ),
            "Fortran",
        ),
        (
            "three columns",
            npy(&h("(1, 3)", "<i8"), &i64s(&[1, 2, 3])),
            "3 columns",
        ),
    ];
    let mut cases = Vec::new();
    for (i, (name, bytes, why)) in files.into_iter().enumerate() {
        let file = root.path().join(format!("s{i}.npy"));
        fs::write(&file, bytes).unwrap();
        let dir = results_with_spikes(root.path(), &format!("r{i}"), &record, &s(&file));
        cases.push(case(
            name,
            &["report", "--dir", &s(&dir)],
            Exit::Warns,
            &[&format!("s{i}.npy"), why],
        ));
    }
    for (kind, what) in NOT_FILES {
        let file = root.path().join(format!("{kind}.npy"));
        not_a_file(&file, kind);
        let dir = results_with_spikes(root.path(), &format!("nf-{kind}"), &record, &s(&file));
        // A sparse file of zeros is small enough to open: its first bytes are refused.
        let what = if kind == "sparse-2g" { "magic" } else { what };
        cases.push(case(
            &format!("spike file is {kind}"),
            &["report", "--dir", &s(&dir)],
            Exit::Warns,
            &[&format!("{kind}.npy"), what],
        ));
    }
    check(cases, root.path(), 19);
}

#[test]
fn records_for_table_and_report() {
    let root = tempfile::tempdir().unwrap();
    let record = va_record(root.path());
    let good = format!("{record}\n");
    let mut bad_utf8 = good.clone().into_bytes();
    bad_utf8.extend(b"{\"config\": \xff\xfe}\n");
    let mut typed = record.clone();
    typed["result"]["rtf"] = serde_json::json!("fast");
    let mut failed = record.clone();
    failed["result"]["failure"] = serde_json::json!("neuron state is not finite");
    let long = format!("{good}{{\"x\": \"{}\"}}\n", "y".repeat(17 << 20));
    let bad_json = format!(
        "{good}{{not json at all, and a very long line {}\n",
        "z".repeat(500)
    );
    let files: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "bad JSON line",
            bad_json.into_bytes(),
            &["runs.jsonl:2", "not json at all"],
        ),
        ("invalid UTF-8", bad_utf8, &["runs.jsonl:2", "UTF-8"]),
        (
            "wrong-typed field",
            format!("{good}{typed}\n").into_bytes(),
            &["runs.jsonl:2"],
        ),
        (
            "failed run",
            format!("{good}{failed}\n").into_bytes(),
            &["runs.jsonl:2", "failed"],
        ),
        (
            "17 MB line",
            long.into_bytes(),
            &["runs.jsonl:2", "longer than"],
        ),
        (
            "torn last line",
            format!("{good}{{\"config\": {{").into_bytes(),
            &["runs.jsonl:2", "torn"],
        ),
        (
            "array not object",
            format!("{good}[1, 2]\n").into_bytes(),
            &["runs.jsonl:2"],
        ),
    ];
    let mut cases = Vec::new();
    for (i, (name, bytes, must)) in files.into_iter().enumerate() {
        let dir = root.path().join(format!("d{i}"));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("runs.jsonl");
        fs::write(&file, &bytes).unwrap();
        cases.push(case(
            &format!("table: {name}"),
            &["table", &s(&file)],
            Exit::Warns,
            must,
        ));
        cases.push(case(
            &format!("report: {name}"),
            &["report", "--dir", &s(&dir)],
            Exit::Warns,
            must,
        ));
    }
    for (kind, what) in NOT_FILES {
        let dir = root.path().join(format!("nf-{kind}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("runs.jsonl"), &good).unwrap();
        not_a_file(&dir.join("more.jsonl"), kind);
        cases.push(case(
            &format!("table of {kind}"),
            &["table", &s(&dir.join("more.jsonl"))],
            Exit::Fails,
            &["more.jsonl", what],
        ));
        cases.push(case(
            &format!("report with a {kind} among the records"),
            &["report", "--dir", &s(&dir)],
            Exit::Warns,
            &["more.jsonl", what],
        ));
    }
    let dir = root.path().join("machine");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("runs.jsonl"), &good).unwrap();
    mkfifo(&dir.join("machine.json"));
    cases.push(case(
        "report: machine.json is a FIFO",
        &["report", "--dir", &s(&dir)],
        Exit::Warns,
        &["machine.json", "FIFO"],
    ));
    let missing = root.path().join("nowhere");
    cases.push(case(
        "report of a missing directory",
        &["report", "--dir", &s(&missing)],
        Exit::Fails,
        &["nowhere"],
    ));
    cases.push(case(
        "table of a missing file",
        &["table", &s(&missing)],
        Exit::Fails,
        &["nowhere"],
    ));
    check(cases, root.path(), 25);
}

#[test]
fn sweep_specs_and_hostfiles() {
    let root = tempfile::tempdir().unwrap();
    let p = root.path();
    let specs: Vec<(&str, &str, String, &[&str])> = vec![
        (
            "billions of repetitions",
            "reps.toml",
            "repetitions = 4000000000\n".into(),
            &["reps.toml", "100000 runs"],
        ),
        (
            "huge product",
            "product.toml",
            format!(
                "threads = [{}]\nlatency_us = [{}]\n",
                (1..=4096)
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                (0..100)
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &["product.toml", "100000 runs"],
        ),
        (
            "unknown key",
            "unknown.toml",
            "thread = [1]\n".into(),
            &["unknown.toml", "thread"],
        ),
        (
            "bad type",
            "type.toml",
            "threads = \"two\"\n".into(),
            &["type.toml", "threads"],
        ),
        (
            "negative repetitions",
            "neg.toml",
            "repetitions = -3\n".into(),
            &["neg.toml", "repetitions = -3"],
        ),
        (
            "simtime 1e300",
            "simtime.toml",
            "simtime = 1e300\n".into(),
            &["simtime.toml", "simtime"],
        ),
        (
            "latency 1e26",
            "latency.toml",
            "latency_us = [1e26]\n".into(),
            &["latency.toml", "latency_us"],
        ),
        (
            "delay 1e12",
            "delay.toml",
            "delay = [1e12]\n".into(),
            &["delay.toml", "delay"],
        ),
        (
            "threads 10^6",
            "threads.toml",
            "threads = [1000000]\n".into(),
            &["threads.toml", "threads = 1000000"],
        ),
        (
            "JSON with a wrong type",
            "spec.json",
            "{\"simtime\": \"long\"}".into(),
            &["spec.json", "\"long\"", "column 18"],
        ),
        (
            "TOML syntax error",
            "syntax.toml",
            "threads = [1, 2\n".into(),
            &["syntax.toml"],
        ),
        (
            "wrong extension",
            "spec.txt",
            "threads = 1\n".into(),
            &["spec.txt", ".toml"],
        ),
    ];
    let mut cases = Vec::new();
    for (name, file, text, must) in specs {
        fs::write(p.join(file), text).unwrap();
        cases.push(case(
            name,
            &["sweep", file, "--dry-run", "--out", "o.jsonl"],
            Exit::Fails,
            must,
        ));
    }
    let mut f = fs::File::create(p.join("utf8.toml")).unwrap();
    f.write_all(b"threads = [1]\nnetwork = \"\xff\"\n").unwrap();
    cases.push(case(
        "spec not UTF-8",
        &["sweep", "utf8.toml", "--dry-run"],
        Exit::Fails,
        &["utf8.toml:2", "UTF-8"],
    ));
    for (kind, what) in NOT_FILES {
        let file = format!("{kind}.toml");
        not_a_file(&p.join(&file), kind);
        cases.push(case(
            &format!("spec is {kind}"),
            &["sweep", &file, "--dry-run"],
            Exit::Fails,
            &[&file, what],
        ));
    }
    fs::write(p.join("ok.toml"), "threads = [1]\n").unwrap();
    let hostfiles: Vec<(&str, &[u8], &str)> = vec![
        ("slots=0", b"node1 slots=0\n", "hosts.0:1"),
        ("slots=abc", b"node1 slots=abc\n", "slots=abc"),
        ("bad host", b"no=de slots=2\n", "no=de"),
        ("empty", b"# only a comment\n", "no hosts"),
        ("not UTF-8", b"node1\nn\xffde\n", "hosts.4:2"),
    ];
    for (i, (name, bytes, must)) in hostfiles.into_iter().enumerate() {
        let file = format!("hosts.{i}");
        fs::write(p.join(&file), bytes).unwrap();
        cases.push(case(
            &format!("hostfile {name}"),
            &["sweep", "ok.toml", "--dry-run", "--hostfile", &file],
            Exit::Fails,
            &[must],
        ));
    }
    for (kind, what) in NOT_FILES {
        let file = format!("hosts-{kind}");
        not_a_file(&p.join(&file), kind);
        cases.push(case(
            &format!("hostfile is {kind}"),
            &["sweep", "ok.toml", "--dry-run", "--hostfile", &file],
            Exit::Fails,
            &[&file, what],
        ));
    }
    check(cases, p, 25);
}
