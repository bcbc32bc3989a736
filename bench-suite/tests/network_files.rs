//! Networks as data: the built-in network files give exactly the networks the Rust
//! constructors gave (golden values recorded before the change, tests/golden/), a copy of
//! a built-in file run with --network-file gives the same spikes, a small network of the
//! user's own runs, and a malformed file is refused with a message naming the file, the
//! key and what was expected, before anything is written.

mod common;

use std::path::{Path, PathBuf};

use bench_suite::jobspec::parse_run;
use bench_suite::run;
use common::{arg, read_records, run_err, run_ok};
use serde_json::Value;

fn golden(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Each built-in network and option combination of the golden files, built from its
/// network file, is the network the constructors built: every population, parameter,
/// connection and rule, bit for bit; the same recorded parameters and priming time.
#[test]
fn built_in_files_build_the_golden_networks() {
    let mut cases = 0;
    for name in ["va", "brunel", "zenke25k", "poisson"] {
        for case in golden(name).as_array().unwrap() {
            let argv: Vec<String> = case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            let built = run::network(&parse_run(&argv).unwrap())
                .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
            let net = serde_json::to_value(&built.net).unwrap();
            assert_eq!(net, case["net"], "{argv:?}: the network differs");
            assert_eq!(
                serde_json::to_value(&built.parameters).unwrap(),
                case["parameters"],
                "{argv:?}: the recorded parameters differ"
            );
            assert_eq!(
                built.priming_s,
                case["priming_s"].as_f64().unwrap(),
                "{argv:?}"
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 19);
}

/// The repository's copy of a built-in network file.
fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../networks/{name}.toml"))
}

fn spikes(path: &Path) -> Vec<sim_core::Spike> {
    bench_suite::spikes::read_npy(path).unwrap_or_else(|e| panic!("{e}"))
}

fn fnv1a(spikes: &[sim_core::Spike]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in spikes {
        for b in s.step.to_le_bytes().into_iter().chain(s.gid.to_le_bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// `run va --simtime 0.2` and `run --network-file` with a copy of networks/va.toml
/// (elsewhere) give the spikes recorded before networks became files.
#[test]
fn va_and_a_copy_of_its_file_give_the_golden_spikes() {
    let g = golden("va-spikes");
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("my-va.toml");
    std::fs::copy(repo_file("va"), &copy).unwrap();
    let (a, b, out) = (
        dir.path().join("a.npy"),
        dir.path().join("b.npy"),
        dir.path().join("b.jsonl"),
    );
    run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.2",
        "--quiet",
        "--spikes",
        arg(&a),
    ]);
    run_ok(&[
        "run",
        "--network-file",
        arg(&copy),
        "--simtime",
        "0.2",
        "--quiet",
        "--spikes",
        arg(&b),
        "--out",
        arg(&out),
    ]);
    for path in [&a, &b] {
        let s = spikes(path);
        assert_eq!(s.len() as u64, g["spikes"].as_u64().unwrap(), "{path:?}");
        assert_eq!(fnv1a(&s), g["fnv1a"].as_str().unwrap(), "{path:?}");
    }
    let (_, record) = read_records(&out).remove(0);
    assert_eq!(record.config.network, "va");
    assert_eq!(record.config.initial_v, "uniform");
    assert_eq!(record.config.parameters["w_exc"], 0.4);
    let abs = std::path::absolute(&copy).unwrap();
    assert_eq!(record.config.network_file.as_deref(), abs.to_str());
    // The name may be given too, if it is the file's.
    run_ok(&[
        "run",
        "va",
        "--network-file",
        arg(&copy),
        "--simtime",
        "0.01",
        "--quiet",
    ]);
    let e = run_err(&[
        "run",
        "brunel",
        "--network-file",
        arg(&copy),
        "--simtime",
        "0.01",
    ]);
    assert!(e.contains("named 'va'") && e.contains("brunel"), "{e}");
}

/// A network of one's own: two populations of a neuron type of its own, a Poisson input,
/// a connection with a delay of its own, one from a Matrix Market file, a parameter bound
/// to a flag, a plastic variant.
const TWO: &str = r#"
name = "two"
description = "two populations"

[parameters]
w = { value = 0.5, flag = "w-exc" }
drive = { value = 20, unit = "Hz", flag = "input-rate" }

[neurons.lif]
model = "coba"
tau_m = "20 ms"
e_leak = "-60 mV"
v_reset = "-60 mV"
threshold = "-50 mV"
e_exc = "0 mV"
e_inh = "-80 mV"
tau_exc = "5 ms"
tau_inh = "10 ms"
refractory = "5 ms"
i_bg = "15 mV"

[initial_v]
uniform = ["-60 mV", "-50 mV"]

[[populations]]
name = "A"
size = 400
neuron = "lif"

[[populations]]
name = "B"
size = 100
neuron = "lif"

[[inputs]]
name = "P"
size = 50
rate = "drive"

[[connections]]
name = "PA"
pre = "P"
post = "A"
channel = "excitatory"
probability = 0.2
weight = "2 * w"

[[connections]]
name = "AB"
pre = "A"
post = "B"
channel = "excitatory"
probability = 0.1
weight = "w"
delay = "1.5 ms"

[[connections]]
name = "BA"
pre = "B"
post = "A"
channel = "inhibitory"
synapses = "ba.mtx"

[plastic]
[plastic.rules.AB]
rule = "pair"
tau_plus = "20 ms"
tau_minus = "20 ms"
lambda = 0.01
alpha = 1.05
mu_plus = 0
mu_minus = 0
w_max = 1
"#;

fn write_two(dir: &Path, text: &str) -> PathBuf {
    let mut mtx = String::from("%%MatrixMarket matrix coordinate real general\n100 400 200\n");
    for k in 0..200 {
        mtx.push_str(&format!("{} {} 3.5\n", k % 100 + 1, (k * 7) % 400 + 1));
    }
    std::fs::write(dir.join("ba.mtx"), mtx).unwrap();
    let path = dir.join("two.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_network_of_ones_own_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_two(dir.path(), TWO);
    let out = dir.path().join("r.jsonl");
    for extra in [
        &[][..],
        &["--plastic", "--w-exc", "0.6", "--input-rate", "30"][..],
    ] {
        let mut argv = vec![
            "run",
            "--network-file",
            arg(&file),
            "--simtime",
            "0.3",
            "--quiet",
            "--out",
            arg(&out),
        ];
        argv.extend_from_slice(extra);
        run_ok(&argv);
    }
    let records = read_records(&out);
    let (_, fixed) = &records[0];
    let (_, plastic) = &records[1];
    assert_eq!(fixed.config.network, "two");
    assert_eq!(fixed.config.neurons, 550);
    assert_eq!(fixed.result.rates.len(), 4, "all, A, B, P");
    let p = fixed.result.rates.iter().find(|r| r.0 == "P").unwrap();
    assert!(
        (10.0..30.0).contains(&p.1.mean_rate_hz),
        "{}",
        p.1.mean_rate_hz
    );
    assert!(fixed.result.spikes > 0);
    // 200 synapses from the file, about 0.1·400·100 + 0.2·50·400 = 8000 drawn.
    assert!(
        (7600..8800).contains(&fixed.result.synapses),
        "{}",
        fixed.result.synapses
    );
    assert_eq!(fixed.config.parameters["w_exc"], 0.5);
    assert_eq!(fixed.config.parameters["input_rate_hz"], 20.0);
    assert!(plastic.config.plastic);
    assert_eq!(plastic.config.parameters["w_exc"], 0.6);
    assert_eq!(plastic.config.parameters["priming_s"], 0.0);
    let e = run_err(&[
        "run",
        "--network-file",
        arg(&file),
        "--simtime",
        "0.1",
        "--tau-hom",
        "3",
    ]);
    assert!(
        e.contains("--tau-hom") && e.contains("two.toml") && e.contains("--w-exc"),
        "{e}"
    );
}

/// A checkpoint keeps the file's text: `resume` rebuilds the network from another
/// directory after the file is gone, and continues the spikes exactly.
#[test]
fn resume_rebuilds_a_file_network_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let net_dir = tempfile::tempdir().unwrap();
    let file = write_two(net_dir.path(), TWO);
    let p = |name: &str| dir.path().join(name);
    let (ck, a, b, w) = (p("ck"), p("a.npy"), p("b.npy"), p("w.npy"));
    let common = ["--simtime", "0.2", "--quiet", "--plastic"];
    let mut first = vec![
        "run",
        "--network-file",
        arg(&file),
        "--checkpoint",
        arg(&ck),
    ];
    first.extend(common);
    first.extend(["--spikes", arg(&a)]);
    run_ok(&first);
    let mut whole = vec!["run", "--network-file", arg(&file), "--spikes", arg(&w)];
    whole.extend(["--simtime", "0.4", "--quiet", "--plastic"]);
    run_ok(&whole);
    // The network file goes; its Matrix Market file stays where the file was.
    std::fs::remove_file(&file).unwrap();
    let manifest = std::fs::read_to_string(ck.join("manifest.json")).unwrap();
    assert!(manifest.contains("network_file") && manifest.contains("[[populations]]"));
    run_ok(&[
        "resume",
        arg(&ck),
        "--simtime",
        "0.2",
        "--quiet",
        "--spikes",
        arg(&b),
    ]);
    let joined: Vec<_> = spikes(&a).into_iter().chain(spikes(&b)).collect();
    assert!(!joined.is_empty());
    assert!(joined == spikes(&w), "resumed spikes differ from one run's");
}

/// Each malformed network file is refused before the run, with an error that names the
/// file, the key and what was expected; nothing is written.
#[test]
fn malformed_network_files_are_refused_naming_file_key_and_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_two(dir.path(), TWO);
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "unknown key",
            TWO.replace("size = 400", "sise = 400"),
            &[
                "populations[0].sise",
                "unknown field",
                "expected one of",
                "`size`",
            ],
        ),
        (
            "wrong type",
            TWO.replace("size = 400", "size = \"many\""),
            &["populations[0].size", "a whole number of neurons"],
        ),
        (
            "negative size",
            TWO.replace("size = 400", "size = -400"),
            &[
                "populations[0].size = -400",
                "expected a number of neurons in [1, 4294967294]",
            ],
        ),
        (
            "huge size",
            TWO.replace("size = 400", "size = 9_000_000_000"),
            &["populations[0].size = 9000000000", "[1, 4294967294]"],
        ),
        (
            "more neurons than ids",
            TWO.replace("size = 50", "size = 4_294_967_000"),
            &["4294967500 neurons", "at most 2^32 - 1"],
        ),
        (
            "more memory than the machine has",
            TWO.replace("size = 50", "size = 2_000_000_000"),
            &["two", "needs an estimated", "physical memory"],
        ),
        (
            "unknown population",
            TWO.replace("pre = \"A\"", "pre = \"C\""),
            &[
                "connections[1].pre = \"C\"",
                "expected a population or input",
                "A, B, P",
            ],
        ),
        (
            "missing field",
            TWO.replace("neuron = \"lif\"\n\n[[populations]]", "\n[[populations]]"),
            &["populations[0]", "missing field `neuron`"],
        ),
        (
            "not TOML",
            "this is no TOML\n".to_string(),
            &["line 1", "not a network file"],
        ),
        (
            "a time without its unit",
            TWO.replace("tau_m = \"20 ms\"", "tau_m = 20"),
            &[
                "neurons.lif.tau_m = 20",
                "the membrane time constant",
                "\"20 ms\"",
            ],
        ),
        (
            "a voltage for a time",
            TWO.replace("delay = \"1.5 ms\"", "delay = \"1.5 mV\""),
            &[
                "connections[1].delay = \"1.5 mV\"",
                "a voltage",
                "expected the axonal delay, a time",
            ],
        ),
        (
            "a delay between steps",
            TWO.replace("delay = \"1.5 ms\"", "delay = \"1.55 ms\""),
            &[
                "connections[1].delay = \"1.55 ms\"",
                "multiple of dt = 0.1 ms",
            ],
        ),
        (
            "out of range",
            TWO.replace("probability = 0.1", "probability = 1.5"),
            &["connections[1].probability = 1.5", "in [0.0, 1.0]"],
        ),
        (
            "unknown parameter",
            TWO.replace("weight = \"w\"", "weight = \"v\""),
            &[
                "connections[1].weight = \"v\"",
                "unknown parameter 'v'",
                "drive, w",
            ],
        ),
        (
            "not a parameter of the model",
            TWO.replace("i_bg", "i_background"),
            &[
                "neurons.lif.i_background",
                "not a parameter of model \"coba\"",
                "i_bg",
            ],
        ),
        (
            "an unknown flag",
            TWO.replace("flag = \"w-exc\"", "flag = \"w-ex\""),
            &["parameters.w.flag = \"w-ex\"", "expected one of w-exc"],
        ),
        (
            "an input as target",
            TWO.replace(
                "post = \"A\"\nchannel = \"excitatory\"\nprobability = 0.2",
                "post = \"P\"\nchannel = \"excitatory\"\nprobability = 0.2",
            ),
            &[
                "connections[0].post = \"P\"",
                "Poisson sources take no input",
            ],
        ),
        (
            "a rule of no connection",
            TWO.replace("[plastic.rules.AB]", "[plastic.rules.XY]"),
            &["plastic.rules.XY", "no connection \"XY\"", "AB"],
        ),
        (
            "a synapse outside the pathway",
            TWO.replace("synapses = \"ba.mtx\"", "synapses = \"missing.mtx\""),
            &["connections[2].synapses", "missing.mtx"],
        ),
    ];
    let (out, npy) = (dir.path().join("r.jsonl"), dir.path().join("s.npy"));
    let bad = dir.path().join("bad.toml");
    let run = |file: &Path| {
        run_err(&[
            "run",
            "--network-file",
            arg(file),
            "--simtime",
            "0.1",
            "--quiet",
            "--out",
            arg(&out),
            "--spikes",
            arg(&npy),
        ])
    };
    for (what, text, expected) in &cases {
        std::fs::write(&bad, text).unwrap();
        let e = run(&bad);
        assert!(e.contains("bad.toml"), "{what}: the file is not named: {e}");
        for x in *expected {
            assert!(e.contains(x), "{what}: expected {x:?} in: {e}");
        }
        assert!(
            !out.exists() && !npy.exists(),
            "{what}: something was written"
        );
    }
    // A directory, a missing file, a file too big, and bytes that are not text.
    let e = run(dir.path());
    assert!(
        e.contains("is a directory") && e.contains("expected a network file"),
        "{e}"
    );
    let e = run(&dir.path().join("nothing.toml"));
    assert!(
        e.contains("nothing.toml") && e.contains("No such file"),
        "{e}"
    );
    std::fs::write(&bad, "#".repeat(5 << 20)).unwrap();
    let e = run(&bad);
    assert!(
        e.contains("bad.toml") && e.contains("at most 4194304 bytes"),
        "{e}"
    );
    std::fs::write(&bad, [0xff, 0xfe, 0x00, 0x80]).unwrap();
    let e = run(&bad);
    assert!(e.contains("bad.toml") && e.contains("not UTF-8"), "{e}");
    assert!(!out.exists() && !npy.exists());
    // The good file itself runs.
    run_ok(&[
        "run",
        "--network-file",
        arg(&good),
        "--simtime",
        "0.01",
        "--quiet",
    ]);
}

/// An unknown network name lists the known ones; no name and no file is an error too.
#[test]
fn unknown_names_list_the_known_networks() {
    let e = run_err(&["run", "vogels", "--simtime", "0.1"]);
    assert!(
        e.contains("unknown network 'vogels'") && e.contains("va, brunel, zenke25k, poisson"),
        "{e}"
    );
    let e = run_err(&["run", "--simtime", "0.1"]);
    assert!(e.contains("NETWORK"), "{e}");
    let e = run_err(&["run", "va", "--plastic", "--simtime", "0.1"]);
    assert!(
        e.contains("no plastic variant") && e.contains("networks/va.toml"),
        "{e}"
    );
    let list = run_ok(&["networks"]);
    for name in ["va", "brunel", "zenke25k", "poisson"] {
        assert!(list.contains(name), "{list}");
    }
    let text = run_ok(&["networks", "brunel"]);
    assert_eq!(text, std::fs::read_to_string(repo_file("brunel")).unwrap());
}

/// A protocol runs a network file: `network` names it, `network_file` gives it.
#[test]
fn a_protocol_runs_a_network_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_two(dir.path(), TWO);
    let out = dir.path().join("r.jsonl");
    let protocol = dir.path().join("p.toml");
    std::fs::write(
        &protocol,
        format!(
            "[run]\nnetwork = \"two\"\nnetwork_file = {:?}\nplastic = true\nout = {:?}\n\n\
             [[segment]]\nname = \"a\"\nduration = 0.1\n\n[[segment]]\nname = \"b\"\n\
             duration = 0.1\nlearning = false\n",
            arg(&file),
            arg(&out)
        ),
    )
    .unwrap();
    run_ok(&["protocol", arg(&protocol), "--quiet"]);
    let records = read_records(&out);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|(_, r)| r.config.network == "two"));
}
