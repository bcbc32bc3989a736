//! `snn-bench compare`: results directories of two machines and of two builds side by
//! side (fixtures: `common/compare_fixtures.rs`).

mod common;

use std::fs;
use std::path::Path;

use common::compare_fixtures::{self as fx, COMMIT_A, COMMIT_B};
use common::{arg, browser_check, run_err, run_ok};

/// The Markdown section that starts with `## {title}`, up to the next one.
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    let start = md
        .find(&format!("## {title}"))
        .unwrap_or_else(|| panic!("no section {title:?} in:\n{md}"));
    let rest = &md[start + 3..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

#[test]
fn two_machines_render_every_figure_and_table_and_the_small_model_predicts_the_large() {
    let tmp = tempfile::tempdir().unwrap();
    let (ws, node, out) = (
        tmp.path().join("ws"),
        tmp.path().join("node"),
        tmp.path().join("cmp"),
    );
    fx::write(&ws, &fx::workstation_a());
    fx::write(&node, &fx::cluster_node());
    let said = run_ok(&["compare", arg(&ws), arg(&node), "--out", arg(&out)]);
    assert!(said.contains("2 sides"), "{said}");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    // Sides by machine identity and build, though both hosts are called "vm".
    let sides = section(&md, "Sides");
    assert!(
        sides.contains("Fixture CPU W, 2 cores, 64.0 GiB, kernel 6.1.0-ws")
            && sides.contains("Fixture CPU C, 16 cores, 64.0 GiB, kernel 6.1.0-node")
            && sides.contains(&COMMIT_A[..9])
            && sides.contains("one host (no runs across hosts)"),
        "{sides}"
    );
    // Fig. 4: a panel per network; Fig. 6 and Fig. 8's three; nothing missing.
    for stem in [
        "fig4-va",
        "fig4-brunel",
        "fig4-zenke25k",
        "fig6-sync-share",
        "fig8-va",
        "fig8-zenke25k-static",
        "fig8-zenke25k-plastic",
    ] {
        for ext in ["png", "svg"] {
            let f = out.join("figures").join(format!("{stem}.{ext}"));
            assert!(
                f.metadata().is_ok_and(|m| m.len() > 1000),
                "{}",
                f.display()
            );
        }
        assert!(md.contains(&format!("figures/{stem}.png")), "{stem}");
    }
    // Shared configurations: 1 and 2 workers of every network, with ratios; the
    // node's 4–16 workers and the workstation's f64 run are listed, not dropped.
    let shared = section(&md, "Configurations on more than one side");
    assert!(
        shared.contains("| va f32 1r×2t delay 0.8 ms | 2 s |"),
        "{shared}"
    );
    assert!(
        shared.contains("zenke25k+stdp/event-based f32 1r×1t"),
        "{shared}"
    );
    let single = section(&md, "Configurations on one side only");
    assert!(
        single.contains("| va f64 1r×1t delay 0.8 ms | 2 s | A |"),
        "{single}"
    );
    assert!(
        single.contains("| brunel f32 1r×16t delay 0.8 ms | 2 s | B |"),
        "{single}"
    );
    // The node is 0.8× the workstation's time everywhere: faster, never a regression.
    assert!(section(&md, "Slower than the base").contains("None."));
    assert!(shared.contains("faster"), "{shared}");
    // The roofline: the workstation's machine.json gives fractions, the node has none.
    let roof = section(&md, "Roofline");
    assert!(roof.contains("ns in 32 KiB →"), "{roof}");
    assert!(roof.contains("B: no machine.json"), "{roof}");
    // The workstation's fit (2 core counts: indicative) at the node's 4, 8, 16 workers.
    let ex = section(&md, "Extrapolation");
    for n in [4, 8, 16] {
        assert!(ex.contains(&format!("| va | A → B | {n} |")), "{ex}");
    }
    assert!(ex.contains("indicative"), "{ex}");
    browser_check(&out.join("index.html"));
}

#[test]
fn a_slower_build_is_flagged_and_the_same_build_is_not() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, again) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("again"),
    );
    fx::write(&a, &fx::workstation_a());
    fx::write(&b, &fx::workstation_b());
    fx::write(&again, &fx::workstation_a_again());

    // Build B's va is 20 % slower (5 repetitions, 2 % noise): flagged, and with
    // --fail-slower the command fails, naming the configurations.
    let out = tmp.path().join("ab");
    let e = run_err(&[
        "compare",
        arg(&a),
        arg(&b),
        "--out",
        arg(&out),
        "--fail-slower",
        "5",
    ]);
    assert!(
        e.contains("2 configuration(s) slower by more than 5 %"),
        "{e}"
    );
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let slower = section(&md, "Slower than the base");
    for t in ["1t", "2t"] {
        let line = format!("va f32 1r×{t} delay 0.8 ms: B is ");
        let ratio: f64 = slower
            .split(&line)
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("no {line:?} in {slower}"));
        assert!((1.15..1.25).contains(&ratio), "{slower}");
    }
    assert!(
        !slower.contains("brunel") && !slower.contains("zenke25k"),
        "{slower}"
    );
    let sides = section(&md, "Sides");
    assert!(
        sides.contains(&COMMIT_A[..9]) && sides.contains(&COMMIT_B[..9]),
        "{sides}"
    );

    // The same build again (other noise): nothing flagged, the check passes; and the
    // comparison's own directory may be replaced.
    let said = run_ok(&[
        "compare",
        arg(&a),
        arg(&again),
        "--out",
        arg(&out),
        "--fail-slower",
        "5",
    ]);
    assert!(said.contains("0 slower than their base"), "{said}");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        section(&md, "Slower than the base").contains("None."),
        "{md}"
    );
}

#[test]
fn nothing_is_overwritten_and_bad_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    fx::write(&a, &fx::workstation_a());
    fx::write(&b, &fx::workstation_b());
    let mine = tmp.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "keep").unwrap();
    let e = run_err(&["compare", arg(&a), arg(&b), "--out", arg(&mine)]);
    assert!(e.contains("not an earlier comparison"), "{e}");
    assert_eq!(fs::read_to_string(mine.join("notes.txt")).unwrap(), "keep");
    let e = run_err(&["compare", arg(&a), arg(&b), "--out", arg(&a)]);
    assert!(e.contains("one of the compared directories"), "{e}");
    // One machine only: nothing to compare.
    let e = run_err(&["compare", arg(&a), "--out", arg(&tmp.path().join("x"))]);
    assert!(e.contains("nothing to compare"), "{e}");
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let e = run_err(&[
        "compare",
        arg(&a),
        arg(&empty),
        "--out",
        arg(&tmp.path().join("y")),
    ]);
    assert!(e.contains("empty") && e.contains("no records"), "{e}");
    let e = run_err(&[
        "compare",
        arg(&a),
        arg(&b),
        "--fail-slower=-1",
        "--out",
        arg(&tmp.path().join("z")),
    ]);
    assert!(e.contains("--fail-slower -1"), "{e}");
    // A bad line in a records file is a warning in the comparison, not an abort.
    fs::write(b.join("broken.jsonl"), "{not json\n").unwrap();
    let out = tmp.path().join("w");
    run_ok(&["compare", arg(&a), arg(&b), "--out", arg(&out)]);
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(section(&md, "Warnings").contains("broken.jsonl:1"), "{md}");
}

/// `make bench-compare`'s script on a small suite: builds the base commit in a
/// worktree, runs both builds interleaved, compares. HEAD against HEAD: the records of
/// both builds name the same commit, and the comparison is written.
#[test]
fn bench_compare_builds_the_base_and_compares_interleaved_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bc");
    let status = std::process::Command::new("bash")
        .arg(root.join("scripts/bench-compare.sh"))
        .arg("HEAD")
        .env("OUT", &out)
        .env("SIMTIME", "0.5")
        .env("REPS", "3")
        .env("THRESHOLD", "1000")
        .env("HEAD_BIN", env!("CARGO_BIN_EXE_snn-bench"))
        .current_dir(root)
        .status()
        .expect("bash runs");
    assert!(status.success());
    let read = |side: &str| {
        let text = fs::read_to_string(out.join(side).join("runs.jsonl")).unwrap();
        text.lines().map(String::from).collect::<Vec<_>>()
    };
    let (base, head) = (read("base"), read("head"));
    // 3 configurations × 3 repetitions each.
    assert_eq!((base.len(), head.len()), (9, 9));
    let commit = |line: &str| {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["build"]["git_commit"].as_str().unwrap().to_string()
    };
    assert_eq!(commit(&base[0]), commit(&head[0]).trim_end_matches('+'));
    let md = fs::read_to_string(out.join("report/report.md")).unwrap();
    assert!(
        section(&md, "Configurations on more than one side").contains("va f32 1r×2t"),
        "{md}"
    );
}
