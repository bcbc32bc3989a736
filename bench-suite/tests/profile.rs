//! `snn-bench run --profile`: a flamegraph of the run, or of one phase's code; the
//! profile file follows the output rules of every other file.

mod common;

use std::fs;
use std::path::Path;

use common::{arg, run_err, run_ok_both};

/// Runs va for 40 s of model time with `--profile svg` (and `--profile-phase`); returns
/// what it said on stderr and the SVG written. (40 s: the kernel's profiling timer may
/// tick only 250 times a second. 1 s of va, a tenth of a second's work on the AMD VM,
/// gave a phase profile no sample at all; 10 s, 0.27 s on the Intel VM, gave 0 to 26 of
/// its ~68 samples in propagate, 0 in 3 of 30 runs; 40 s gave 37–64 of ~260 in 16.)
fn profile(svg: &Path, phase: Option<&str>, force: bool) -> (String, String) {
    let mut args = vec![
        "run",
        "va",
        "--simtime",
        "40",
        "--quiet",
        "--profile",
        arg(svg),
    ];
    if let Some(p) = phase {
        args.extend(["--profile-phase", p]);
    }
    if force {
        args.push("--force");
    }
    let (_, stderr) = run_ok_both(&args);
    (stderr, fs::read_to_string(svg).unwrap())
}

#[test]
fn a_profile_is_a_flamegraph_of_the_run_and_a_phase_profile_holds_only_its_phase() {
    let tmp = tempfile::tempdir().unwrap();
    let (said, all) = profile(&tmp.path().join("all.svg"), None, false);
    assert!(
        said.contains("profile: ") && said.contains(" samples over "),
        "{said}"
    );
    assert!(all.starts_with("<?xml") && all.trim_end().ends_with("</svg>"));
    assert!(
        all.contains("evolve") && all.contains("propagate") && all.contains("build"),
        "the whole command: network construction and both phases of va"
    );
    let (said, evolve) = profile(&tmp.path().join("evolve.svg"), Some("evolve"), false);
    assert!(said.contains(" in evolve"), "{said}");
    assert!(evolve.contains("evolve") && !evolve.contains("propagate"));
    let (_, propagate) = profile(&tmp.path().join("p.svg"), Some("propagate"), false);
    assert!(propagate.contains("propagate") && !propagate.contains("evolve"));
}

#[test]
fn a_profile_replaces_only_an_svg_and_only_with_force_and_never_with_a_record() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("notes.txt");
    fs::write(&text, "my notes").unwrap();
    // `snn-bench run va` with these flags, expected to fail before the run.
    let refused = |flags: &[&str]| {
        let mut args = vec!["run", "va", "--simtime", "0.1"];
        args.extend(flags);
        run_err(&args)
    };
    let e = refused(&["--profile", arg(&text)]);
    assert!(e.contains("--profile") && e.contains("notes.txt"), "{e}");
    assert_eq!(fs::read_to_string(&text).unwrap(), "my notes");
    let e = refused(&["--profile", arg(&text), "--force"]);
    assert!(e.contains("an SVG image"), "{e}");
    assert_eq!(fs::read_to_string(&text).unwrap(), "my notes");

    let svg = tmp.path().join("p.svg");
    profile(&svg, None, false);
    let first = fs::read_to_string(&svg).unwrap();
    let e = refused(&["--profile", arg(&svg)]);
    assert!(e.contains("--force"), "{e}");
    assert_eq!(fs::read_to_string(&svg).unwrap(), first);
    let (_, again) = profile(&svg, Some("evolve"), true);
    assert_ne!(again, first, "replaced with --force");

    let out = tmp.path().join("runs.jsonl");
    let fresh = tmp.path().join("q.svg");
    let e = refused(&["--profile", arg(&fresh), "--out", arg(&out)]);
    assert!(e.contains("--out") && e.contains("sampling"), "{e}");
    assert!(!out.exists() && !fresh.exists());

    let e = refused(&["--profile-phase", "evolve"]);
    assert!(e.contains("--profile"), "{e}");
}
