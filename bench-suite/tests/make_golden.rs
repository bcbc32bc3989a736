//! One-off: writes tests/golden/*.json from the Rust constructors (before networks became
//! files). Run once: cargo test -p bench-suite --test make_golden -- --ignored
mod common;

use std::path::Path;

use bench_suite::jobspec::parse_run;
use bench_suite::run;

fn case(argv: &[&str]) -> serde_json::Value {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let args = parse_run(&argv).unwrap();
    let built = run::network(&args).unwrap();
    serde_json::json!({
        "args": argv,
        "net": serde_json::to_value(&built.net).unwrap(),
        "parameters": built.parameters,
        "priming_s": built.priming_s,
    })
}

const COMMON: [&str; 8] = [
    "--delay", "2", "--dt", "0.05", "--seed", "7", "--init-v", "rest",
];

#[test]
#[ignore]
fn make_golden() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let with = |name: &str, extra: &[&str]| {
        let mut v = vec![name];
        v.extend_from_slice(extra);
        case(&v)
    };
    let nets: [(&str, Vec<Vec<&str>>); 4] = [
        (
            "va",
            vec![
                vec![],
                COMMON.to_vec(),
                vec!["--w-exc", "0.5", "--w-inh", "4"],
                vec!["--dt", "0.2", "--delay", "0.4", "--init-v", "uniform"],
            ],
        ),
        (
            "brunel",
            vec![
                vec![],
                vec!["--plastic"],
                COMMON.to_vec(),
                vec!["--w-exc", "0.2", "--w-inh", "0.8", "--input-rate", "15000"],
                vec![
                    "--plastic",
                    "--traces",
                    "event-based",
                    "--learning-rate",
                    "0.02",
                    "--priming",
                    "0.5",
                ],
                vec!["--plastic", "--w-exc", "0.15"],
            ],
        ),
        (
            "zenke25k",
            vec![
                vec![],
                vec!["--plastic"],
                COMMON.to_vec(),
                vec![
                    "--w-exc",
                    "0.2",
                    "--w-inh",
                    "1.5",
                    "--input-rate",
                    "3",
                    "--generator",
                    "per-step",
                ],
                vec![
                    "--plastic",
                    "--traces",
                    "event-based",
                    "--learning-rate",
                    "2",
                    "--tau-hom",
                    "0.5",
                ],
                vec![
                    "--plastic",
                    "--w-exc",
                    "0.5",
                    "--priming",
                    "0.25",
                    "--init-v",
                    "rest",
                ],
            ],
        ),
        (
            "poisson",
            vec![
                vec![],
                COMMON[2..].to_vec(),
                vec!["--input-rate", "8", "--generator", "per-step"],
            ],
        ),
    ];
    for (name, cases) in nets {
        let all: Vec<_> = cases.iter().map(|c| with(name, c)).collect();
        let text = serde_json::to_string_pretty(&all).unwrap() + "\n";
        std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
    }
    // Spikes of `snn-bench run va --simtime 0.2 --spikes x.npy`.
    let tmp = tempfile::tempdir().unwrap();
    let npy = tmp.path().join("x.npy");
    common::run_ok(&[
        "run",
        "va",
        "--simtime",
        "0.2",
        "--quiet",
        "--spikes",
        common::arg(&npy),
    ]);
    let spikes = common::read_spikes(&npy, 2000);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in &spikes {
        for b in s.step.to_le_bytes().into_iter().chain(s.gid.to_le_bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    let v = serde_json::json!({
        "args": ["run", "va", "--simtime", "0.2", "--spikes", "x.npy"],
        "spikes": spikes.len(),
        "fnv1a": format!("{h:016x}"),
    });
    std::fs::write(
        dir.join("va-spikes.json"),
        serde_json::to_string_pretty(&v).unwrap() + "\n",
    )
    .unwrap();
}
