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
