//! `snn-bench protocol FILE.toml`: segments on one network built once, one record per
//! segment; a protocol without changes continues bit-exactly (its segments' spikes are
//! one run's); learning off keeps the weights, a larger learning rate moves them more,
//! a higher input rate raises the input's rate; state saved with `save_state` and set
//! back with `set`, weights saved with `save_weights` and loaded with `load_weights`,
//! change nothing, while other values act; bad files (protocols, arrays, weight sets)
//! fail naming file and key, running and writing nothing.

mod common;

use std::fs;
use std::path::Path;

use bench_suite::spikes::read_npy;
use common::{arg, read_records, run_err, run_ok};
use sim_core::state::Values;

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

/// The mean rate of population `pop` in record `i` of DIR/r.jsonl.
fn rate_of(dir: &Path, i: usize, pop: &str) -> f64 {
    let records = read_records(&dir.join("r.jsonl"));
    let r = &records[i].1.result.rates;
    r.iter().find(|(n, _)| n == pop).unwrap().1.mean_rate_hz
}

/// A `.npy` file as NumPy writes it: a version 1.0 header `dict`, padded, then `data`.
fn npy_bytes(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut h = dict.to_string();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

fn dict(descr: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
}

fn f64_bytes(xs: &[f64]) -> Vec<u8> {
    xs.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn write_f64(path: &Path, xs: Vec<f64>) {
    bench_suite::npy::write_1d(path, &Values::F64(xs), false).unwrap();
}

/// `[[segment]]` named `name` of `duration` seconds with the extra lines `more`.
fn segment(name: &str, duration: f64, more: &str) -> String {
    format!("[[segment]]\nname = {name:?}\nduration = {duration:?}\n{more}")
}

fn key(k: &str, path: &Path) -> String {
    format!("{k} = {:?}\n", arg(path))
}

const VA: &str = "network = \"va\"";
/// Poisson sources only (1000 at 5 Hz): the quickest network with a Poisson population.
const POISSON: &str = "network = \"poisson\"";

/// Per-neuron rates from a file act from their segment on, and nowhere before; one
/// rate (`input_rate`) afterwards makes every neuron alike again.
#[test]
fn per_neuron_input_rates_act_from_their_segment_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let half = d.join("half.npy");
    write_f64(
        &half,
        (0..1000).map(|i| if i < 500 { 0.0 } else { 5.0 }).collect(),
    );
    let run = |name: &str, change: &str| {
        let dir = d.join(name);
        fs::create_dir(&dir).unwrap();
        let segments = segment("base", 0.5, &key("spikes", &dir.join("a.npy")))
            + &segment("half", 0.5, change)
            + &segment("again", 0.5, "input_rate = { P = 5.0 }\n");
        ok(&protocol(&dir, POISSON, &segments));
        dir
    };
    let changed = run(
        "changed",
        &format!("input_rate_file = {{ P = {:?} }}\n", arg(&half)),
    );
    let same = run("same", "");
    assert_eq!(
        read_npy(&changed.join("a.npy")).unwrap(),
        read_npy(&same.join("a.npy")).unwrap(),
        "the spikes before the change differ"
    );
    let (before, after) = (rate_of(&changed, 0, "P"), rate_of(&changed, 1, "P"));
    assert!((4.5..5.5).contains(&before), "P at {before} Hz before");
    assert!(
        (2.0..3.0).contains(&after),
        "P at {after} Hz with half silent"
    );
    let again = rate_of(&changed, 2, "P");
    assert!(
        (4.5..5.5).contains(&again),
        "P at {again} Hz after input_rate"
    );
    let records = read_records(&changed.join("r.jsonl"));
    let changes = &records[1].1.config.segment.as_ref().unwrap().changes;
    assert_eq!(changes["input_rate_file"]["P"], arg(&half));
}

/// A rate file of the wrong length is refused before the first segment runs.
#[test]
fn per_neuron_input_rates_of_another_length_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let half = d.join("half.npy");
    write_f64(&half, vec![5.0; 999]);
    let segments = segment("base", 0.1, "")
        + &segment(
            "half",
            0.1,
            &format!("input_rate_file = {{ P = {:?} }}\n", arg(&half)),
        );
    let file = protocol(d, POISSON, &segments);
    let err = run_err(&["protocol", arg(&file)]);
    for e in ["segment 1 ('half')", "input_rate_file.P", "999", "1000"] {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    assert!(!d.join("r.jsonl").exists(), "a segment ran");
}

#[test]
fn set_takes_back_what_save_state_wrote_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let rest = d.join("rest.npy");
    // float64 into the f32 run's v: converted.
    write_f64(&rest, vec![-60e-3; 3200]);
    // Segment a saves v (and a checkpoint), b sets it: from the save_state file, from
    // the checkpoint's array, not at all, or to rest.
    let run = |name: &str, b: &dyn Fn(&Path) -> String| {
        let dir = d.join(name);
        fs::create_dir(&dir).unwrap();
        let a = format!(
            "save_state = {{ \"pop/E/v\" = {:?}, \"pop/E/g_exc\" = {:?} }}\n{}{}",
            arg(&dir.join("v.npy")),
            arg(&dir.join("g.npy")),
            key("checkpoint", &dir.join("ck")),
            key("spikes", &dir.join("a.npy"))
        );
        let segments = segment("a", 0.1, &a)
            + &segment("b", 0.1, &(b(&dir) + &key("spikes", &dir.join("b.npy"))));
        ok(&protocol(&dir, VA, &segments));
        dir
    };
    let saved = run("saved", &|dir| {
        format!(
            "set = {{ \"pop/E/v\" = {:?}, \"pop/E/g_exc\" = {:?} }}\n",
            arg(&dir.join("v.npy")),
            arg(&dir.join("g.npy"))
        )
    });
    let checkpoint = run("checkpoint", &|dir| {
        format!(
            "set = {{ \"pop/E/v\" = {:?} }}\n",
            arg(&dir.join("ck").join("pop.E.v.npy"))
        )
    });
    let plain = run("plain", &|_| String::new());
    let reset = run("reset", &|_| {
        format!("set = {{ \"pop/E/v\" = {:?} }}\n", arg(&rest))
    });
    let spikes = |dir: &Path, s: &str| read_npy(&dir.join(s)).unwrap();
    let b = spikes(&plain, "b.npy");
    assert!(b.len() > 100, "{} spikes", b.len());
    assert!(
        spikes(&saved, "b.npy") == b,
        "set from save_state changed the spikes"
    );
    assert!(
        spikes(&checkpoint, "b.npy") == b,
        "set from the checkpoint changed the spikes"
    );
    assert!(spikes(&reset, "a.npy") == spikes(&plain, "a.npy"));
    assert!(
        spikes(&reset, "b.npy") != b,
        "setting v to rest changed nothing"
    );
    // The file is the array: 1-D, the run's precision, and the checkpoint's bytes.
    let v = fs::read(saved.join("v.npy")).unwrap();
    assert!(String::from_utf8_lossy(&v[..128]).contains("'descr': '<f4'"));
    assert!(String::from_utf8_lossy(&v[..128]).contains("'shape': (3200,)"));
    assert_eq!(v, fs::read(saved.join("ck").join("pop.E.v.npy")).unwrap());
    let records = read_records(&saved.join("r.jsonl"));
    let changes = &records[1].1.config.segment.as_ref().unwrap().changes;
    assert_eq!(changes["set"]["pop/E/v"], arg(&saved.join("v.npy")));
    assert!(records[0]
        .1
        .config
        .segment
        .as_ref()
        .unwrap()
        .changes
        .is_empty());
    // Without --force an existing save_state file stays, and nothing runs.
    let segments = segment(
        "a",
        0.1,
        &format!("save_state = {{ \"pop/E/v\" = {:?} }}\n", arg(&rest)),
    );
    let file = protocol(&plain, VA, &segments);
    fs::remove_file(plain.join("r.jsonl")).unwrap();
    let err = run_err(&["protocol", arg(&file)]);
    assert!(
        err.contains("segment 0 ('a') save_state.\"pop/E/v\"") && err.contains(arg(&rest)),
        "{err}"
    );
    assert!(!plain.join("r.jsonl").exists());
}

/// A copy of the weight set `src` (hard links) whose E→E weights are all 0.
fn zero_ee(src: &Path, dst: &Path) {
    fs::create_dir(dst).unwrap();
    for f in ["ei.mtx", "ie.mtx", "ii.mtx"] {
        fs::hard_link(src.join(f), dst.join(f)).unwrap();
    }
    let text = fs::read_to_string(src.join("ee.mtx")).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut size_line = true;
    for line in text.lines() {
        if line.starts_with('%') || std::mem::take(&mut size_line) {
            out += line;
        } else {
            let mut w = line.split_whitespace();
            out += &format!("{} {} 0", w.next().unwrap(), w.next().unwrap());
        }
        out.push('\n');
    }
    fs::write(dst.join("ee.mtx"), out).unwrap();
}

#[test]
fn load_weights_of_a_save_weights_changes_nothing_and_zero_weights_silence() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let run = |name: &str, a: &dyn Fn(&Path) -> String, b: &dyn Fn(&Path) -> String| {
        let dir = d.join(name);
        fs::create_dir(&dir).unwrap();
        let segments = segment("a", 0.05, &a(&dir))
            + &segment("b", 0.05, &(b(&dir) + &key("spikes", &dir.join("b.npy"))));
        ok(&protocol(&dir, BRUNEL, &segments));
        dir
    };
    let none = |_: &Path| String::new();
    let reloaded = run(
        "reloaded",
        &|dir| key("save_weights", &dir.join("w")),
        &|dir| key("load_weights", &dir.join("w")),
    );
    let plain = run("plain", &none, &none);
    let b = read_npy(&plain.join("b.npy")).unwrap();
    assert!(b.len() > 1000, "{} spikes", b.len());
    assert!(
        read_npy(&reloaded.join("b.npy")).unwrap() == b,
        "loading the weights just saved changed the spikes"
    );
    let records = read_records(&reloaded.join("r.jsonl"));
    let changes = &records[1].1.config.segment.as_ref().unwrap().changes;
    assert_eq!(changes["load_weights"], arg(&reloaded.join("w")));
    // E→E at 0 (a file that exists before the run): the E neurons lose their
    // recurrent excitation from segment b on.
    let zero = d.join("w0");
    zero_ee(&reloaded.join("w"), &zero);
    let silenced = run("silenced", &none, &|_| key("load_weights", &zero));
    assert_eq!(rate_of(&silenced, 0, "E"), rate_of(&plain, 0, "E"));
    let (with, without) = (rate_of(&plain, 1, "E"), rate_of(&silenced, 1, "E"));
    assert!(
        without < 0.25 * with,
        "E at {without} Hz without E→E weights, {with} Hz with them"
    );
}

/// Other synapses are refused before anything runs; other static weights are set
/// from the segment on (stronger excitation: more spikes after, none changed before).
#[test]
fn load_weights_refuses_other_synapses_and_sets_static_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let save = |name: &str, extra: &[&str]| {
        let dir = d.join(name);
        let mut argv = vec!["run", "va", "--simtime", "0.001", "--quiet"];
        argv.extend_from_slice(extra);
        argv.extend_from_slice(&["--save-initial-weights", arg(&dir)]);
        run_ok(&argv);
        dir
    };
    let same = save("same", &[]);
    let other_seed = save("seed2", &["--seed", "2"]);
    let stronger = save("w-exc", &["--w-exc", "0.5"]);
    let with = |dir: &Path| {
        let sub = d.join(format!("p-{}", dir.file_name().unwrap().to_string_lossy()));
        fs::create_dir(&sub).unwrap();
        let segments = segment("a", 0.02, "") + &segment("b", 0.02, &key("load_weights", dir));
        (protocol(&sub, VA, &segments), sub)
    };
    // The static weights as built: accepted (nothing changes).
    let (file, same_dir) = with(&same);
    ok(&file);
    let (file, strong_dir) = with(&stronger);
    ok(&file);
    let (r_same, r_strong) = (
        read_records(&same_dir.join("r.jsonl")),
        read_records(&strong_dir.join("r.jsonl")),
    );
    let spikes =
        |r: &[(serde_json::Value, bench_suite::record::Record)], i: usize| r[i].1.result.spikes;
    assert_eq!(spikes(&r_same, 0), spikes(&r_strong, 0), "changed before");
    assert!(
        spikes(&r_strong, 1) > spikes(&r_same, 1),
        "stronger excitation: {} spikes vs {}",
        spikes(&r_strong, 1),
        spikes(&r_same, 1)
    );
    for (dir, expected) in [(
        &other_seed,
        &["ee.mtx", "pathway EE", "synapses", "keeps the connectivity"][..],
    )] {
        let (file, sub) = with(dir);
        let err = run_err(&["protocol", arg(&file)]);
        assert!(err.contains("segment 1 ('b'): load_weights"), "{err}");
        for e in expected {
            assert!(err.contains(e), "expected {e:?} in: {err}");
        }
        assert!(!sub.join("r.jsonl").exists(), "a segment ran: {err}");
    }
}

#[test]
fn hostile_input_files_fail_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let v = |name: &str, bytes: Vec<u8>| {
        let p = d.join(name);
        fs::write(&p, bytes).unwrap();
        p
    };
    let floats = |n: usize| f64_bytes(&vec![-0.055; n]);
    let files = [
        (
            "int64",
            v("i8.npy", npy_bytes(&dict("<i8", "(3200,)"), &floats(3200))),
        ),
        (
            "uint32",
            v("u4.npy", npy_bytes(&dict("<u4", "(3200,)"), &[0; 4 * 3200])),
        ),
        (
            "short",
            v(
                "short.npy",
                npy_bytes(&dict("<f8", "(3199,)"), &floats(3199)),
            ),
        ),
        (
            "2-D",
            v(
                "2d.npy",
                npy_bytes(&dict("<f8", "(1600, 2)"), &floats(3200)),
            ),
        ),
        (
            "truncated",
            v("cut.npy", npy_bytes(&dict("<f8", "(3200,)"), &floats(3000))),
        ),
        (
            "huge",
            v(
                "huge.npy",
                npy_bytes(&dict("<f8", "(2305843009213693952,)"), &floats(4)),
            ),
        ),
        (
            "fortran",
            v(
                "fortran.npy",
                npy_bytes(
                    "{'descr': '<f8', 'fortran_order': True, 'shape': (3200,), }",
                    &floats(3200),
                ),
            ),
        ),
        (
            "NaN v",
            v("nan-v.npy", {
                let mut x = vec![-0.055; 3200];
                x[17] = f64::NAN;
                npy_bytes(&dict("<f8", "(3200,)"), &f64_bytes(&x))
            }),
        ),
        (
            "NaN rate",
            v("nan-rate.npy", {
                let mut x = vec![5.0; 1000];
                x[3] = f64::NAN;
                npy_bytes(&dict("<f8", "(1000,)"), &f64_bytes(&x))
            }),
        ),
        (
            "negative rate",
            v("neg-rate.npy", {
                let mut x = vec![5.0; 1000];
                x[999] = -1.0;
                npy_bytes(&dict("<f8", "(1000,)"), &f64_bytes(&x))
            }),
        ),
        (
            "rates short",
            v(
                "rates-short.npy",
                npy_bytes(&dict("<f8", "(999,)"), &f64_bytes(&[5.0; 999])),
            ),
        ),
    ];
    let good = d.join("good.npy");
    write_f64(&good, vec![-0.055; 3200]);
    let path = |what: &str| files.iter().find(|(w, _)| *w == what).unwrap().1.clone();
    let set = |what: &str| format!("set = {{ \"pop/E/v\" = {:?} }}\n", arg(&path(what)));
    let rates = |what: &str| format!("input_rate_file = {{ P = {:?} }}\n", arg(&path(what)));
    // The bad change is in the last of three segments; the first two are fine.
    let cases: Vec<(&str, &str, String, Vec<&str>)> = vec![
        (
            "int64",
            VA,
            set("int64"),
            vec!["dtype '<i8'", "'<f8' (float64)"],
        ),
        (
            "uint32",
            VA,
            set("uint32"),
            vec!["dtype <u4 (uint32), expected <f4 (float32)", "pop/E/v"],
        ),
        (
            "short",
            VA,
            set("short"),
            vec!["3199 values, expected 3200", "pop/E/v"],
        ),
        ("2-D", VA, set("2-D"), vec!["shape (1600, 2)", "1-D"]),
        (
            "truncated",
            VA,
            set("truncated"),
            vec!["25600 data bytes", "has 24000", "truncated"],
        ),
        (
            "huge",
            VA,
            set("huge"),
            vec!["2305843009213693952 values", "more than 2^64"],
        ),
        (
            "fortran",
            VA,
            set("fortran"),
            vec!["fortran_order", "C-order"],
        ),
        (
            "NaN v",
            VA,
            set("NaN v"),
            vec!["index 17: NaN", "a finite number"],
        ),
        (
            "unknown array",
            VA,
            format!("set = {{ \"pop/E/u\" = {:?} }}\n", arg(&good)),
            vec!["pop/E/u: no such state array", "pop/E/v, pop/E/g_exc"],
        ),
        (
            "unknown array to save",
            VA,
            format!(
                "save_state = {{ \"conn/EE/weight\" = {:?} }}\n",
                arg(&d.join("w.npy"))
            ),
            vec![
                "save_state.\"conn/EE/weight\"",
                "no such state array",
                "pop/I/refractory",
            ],
        ),
        (
            "NaN rate",
            POISSON,
            rates("NaN rate"),
            vec!["index 3: NaN", "a finite rate >= 0"],
        ),
        (
            "negative rate",
            POISSON,
            rates("negative rate"),
            vec!["index 999: -1", "a finite rate >= 0"],
        ),
        (
            "rates short",
            POISSON,
            rates("rates short"),
            vec!["999 values, expected 1000", "one rate per neuron of P"],
        ),
        (
            "rate file of a non-Poisson population",
            VA,
            format!("input_rate_file = {{ E = {:?} }}\n", arg(&good)),
            vec!["input_rate_file.E", "not a Poisson population", "none"],
        ),
        (
            "rate and rate file",
            POISSON,
            format!("input_rate = {{ P = 3.0 }}\n{}", rates("NaN rate")),
            vec!["input_rate.P and input_rate_file.P both set pop/P/rate"],
        ),
        (
            "a missing file",
            VA,
            format!(
                "set = {{ \"pop/E/v\" = {:?} }}\n",
                arg(&d.join("nothing.npy"))
            ),
            vec!["nothing.npy"],
        ),
        (
            "weights that are not a directory",
            VA,
            key("load_weights", &good),
            vec!["load_weights", "not a directory"],
        ),
        (
            "an earlier segment's spikes as state",
            VA,
            format!("set = {{ \"pop/E/v\" = {:?} }}\n", arg(&d.join("s0.npy"))),
            vec!["segment 0 ('s0') writes it as its spikes", "1-D .npy"],
        ),
        (
            "an earlier save_state of another length",
            VA,
            format!("set = {{ \"pop/E/v\" = {:?} }}\n", arg(&d.join("vi.npy"))),
            vec![
                "segment 1 ('s1') saves pop/I/v there (800 values of <f4)",
                "expected 3200",
            ],
        ),
    ];
    for (what, run, change, expected) in cases {
        let sub = tempfile::tempdir_in(d).unwrap();
        let s = sub.path();
        let segments = segment("s0", 0.01, &key("spikes", &d.join("s0.npy")))
            + &segment(
                "s1",
                0.01,
                &format!(
                    "save_state = {{ \"pop/I/v\" = {:?} }}\n",
                    arg(&d.join("vi.npy"))
                )
                .replace("pop/I/v", if run == VA { "pop/I/v" } else { "pop/P/rate" }),
            )
            + &segment("s2", 0.01, &change);
        let file = protocol(s, run, &segments);
        let err = run_err(&["protocol", arg(&file)]);
        assert!(err.contains(arg(&file)), "{what}: no protocol named: {err}");
        assert!(
            err.contains("segment 2 ('s2')"),
            "{what}: no segment named: {err}"
        );
        for e in expected {
            assert!(err.contains(e), "{what}: expected {e:?} in: {err}");
        }
        if let Some(input) = files.iter().find(|(w, _)| *w == what) {
            assert!(err.contains(arg(&input.1)), "{what}: no file named: {err}");
        }
        assert!(
            !s.join("r.jsonl").exists() && !d.join("s0.npy").exists() && !d.join("vi.npy").exists(),
            "{what}: a segment ran"
        );
    }
}

/// `[run] monitor` and `monitor_dir`: each monitor's file covers the whole protocol,
/// every segment: the spike monitor is the segments' spike files joined, the rate bins
/// run on across segment boundaries, the weight monitor's rows every 30 ms from the
/// first step (fixed while learning is off), the state samples every 10 ms across
/// the segments; every segment's record lists them.
#[test]
fn monitors_cover_every_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let m = d.join("m");
    let run = format!(
        "{BRUNEL}\nmonitor = [\"spikes:all\", \"spikes:E:ras\", \"rate:all:7ms\", \
         \"weights:EE:100:30ms\", \"state:v:0-9:10ms\"]\nmonitor_dir = {:?}",
        arg(&m)
    );
    let segments = format!(
        "[[segment]]\nname = \"learn\"\nduration = 0.1\nspikes = {:?}\n\
         [[segment]]\nname = \"off\"\nduration = 0.05\nlearning = false\nspikes = {:?}\n",
        arg(&d.join("one.npy")),
        arg(&d.join("two.npy"))
    );
    let file = protocol(d, &run, &segments);
    ok(&file);
    let all = read_npy(&m.join("spikes-all.npy")).unwrap();
    let mut joined = read_npy(&d.join("one.npy")).unwrap();
    joined.extend(read_npy(&d.join("two.npy")).unwrap());
    assert!(all.len() > 1000, "{} spikes", all.len());
    assert!(all == joined, "spikes-all.npy is not the segments' spikes");
    assert!(
        all.iter().any(|s| s.step >= 1000),
        "no spikes of the second segment"
    );
    let ras = bench_suite::monitor::ras::read(&m.join("spikes-E.ras"), 1e-4).unwrap();
    let e: Vec<(u64, u32)> = all
        .iter()
        .filter(|s| s.gid < 8000)
        .map(|s| (s.step, s.gid))
        .collect();
    assert!(ras == e, "spikes-E.ras");
    // 1500 steps in bins of 70: 21 whole bins and one of 30.
    let bytes = fs::read(m.join("rate-all.npy")).unwrap();
    let rates: Vec<f64> = bytes[128..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(rates.len(), 22);
    for (b, r) in rates.iter().enumerate() {
        let (lo, hi) = (70 * b as u64, (70 * (b as u64 + 1)).min(1500));
        let n = all.iter().filter(|s| (lo..hi).contains(&s.step)).count();
        let want = n as f64 / (10_000.0 * (hi - lo) as f64 * 1e-4);
        assert!(
            (r - want).abs() <= 1e-9 * want.max(1.0),
            "bin {b}: {r} vs {want}"
        );
    }
    // Rows before steps 0, 300, 600, 900, 1200 and at the end (1500).
    let w = analysis::npy::read_2d(&m.join("weights-EE.npy")).unwrap();
    assert_eq!((w.rows, w.cols), (6, 100));
    let v = w.to_f64();
    let row = |k: usize| &v[100 * k..100 * (k + 1)];
    assert!(row(0) != row(3), "no learning in the first segment");
    assert!(row(4) == row(5), "weights moved while learning was off");
    // V of neurons 0-9 sampled at steps 0, 100, …, 1400, across the segments.
    let v = analysis::npy::read_2d(&m.join("state-v-0-9.npy")).unwrap();
    assert_eq!((v.rows, v.cols), (15, 10));
    let records = read_records(&d.join("r.jsonl"));
    assert_eq!(records.len(), 2);
    for (_, r) in &records {
        let whats: Vec<&str> = r.config.monitors.iter().map(|m| m.what.as_str()).collect();
        assert_eq!(whats, ["all", "E", "all", "EE", "0-9"]);
        assert!(r.config.monitors.iter().all(|m| m.first_step == 0));
    }
    // Again: the monitors' files are there, so the protocol stops before it runs.
    fs::remove_file(d.join("one.npy")).unwrap();
    fs::remove_file(d.join("two.npy")).unwrap();
    let err = run_err(&["protocol", arg(&file)]);
    assert!(
        err.contains(arg(&file)) && err.contains("spikes-all.npy") && err.contains("--force"),
        "{err}"
    );
    assert!(!d.join("one.npy").exists());
    // A monitor without a directory names the key.
    let file = protocol(
        d,
        &format!("{BRUNEL}\nmonitor = [\"spikes:all\"]"),
        &segments,
    );
    let err = run_err(&["protocol", arg(&file)]);
    assert!(
        err.contains("[run] monitor") && err.contains("--monitor-dir"),
        "{err}"
    );
}
