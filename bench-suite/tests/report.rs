//! `snn-bench report` end to end: from the records of a few short runs to an HTML report
//! whose images all exist, with figures the data cannot support shown as missing, and
//! (where Chromium is installed: always in CI) a page that loads every image without a
//! console error and renders to a non-blank screenshot.

mod common;

use std::path::Path;

use common::{arg, browser_check, run_ok};

/// A results directory of short runs: enough for Fig. 1, 2, 3, 4, 5, 6 and 10 (not for
/// the zenke25k and brunel figures, which must then show as missing).
fn fixture(dir: &Path) {
    let figures = dir.join("figures");
    std::fs::create_dir_all(&figures).unwrap();
    let out = dir.join("runs.jsonl");
    let fig = |name: &str| figures.join(name);
    let mut runs: Vec<Vec<String>> = Vec::new();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // The figures' spike trains and rates from monitors (as `snn-bench figures` runs
    // them: the records' config.monitors name the files), or from --spikes files (the
    // records of before).
    let mut r = s(&["poisson", "--simtime", "2", "--generator", "lattice"]);
    r.extend(s(&["--monitor", "spikes:all", "--monitor-dir"]));
    r.push(arg(&fig("poisson-lattice")).to_string());
    runs.push(r);
    let mut r = s(&[
        "poisson",
        "--simtime",
        "2",
        "--generator",
        "per-step",
        "--spikes",
    ]);
    r.push(arg(&fig("poisson-per-step.npy")).to_string());
    runs.push(r);
    let mut r = s(&["va", "--simtime", "2", "--dt", "0.1", "--seed", "1"]);
    for m in ["spikes:all", "rate:E:5ms", "rate:I:5ms"] {
        r.extend(s(&["--monitor", m]));
    }
    r.push("--monitor-dir".into());
    r.push(arg(&fig("va-dt0.1-seed1")).to_string());
    runs.push(r);
    for (dt, seed) in [("0.4", "1"), ("0.01", "1"), ("0.1", "2"), ("0.1", "3")] {
        let mut r = s(&[
            "va",
            "--simtime",
            "0.5",
            "--dt",
            dt,
            "--seed",
            seed,
            "--spikes",
        ]);
        r.push(arg(&fig(&format!("va-dt{dt}-seed{seed}.npy"))).to_string());
        runs.push(r);
    }
    for delay in ["0.2", "3.2"] {
        for threads in ["1", "2"] {
            runs.push(s(&[
                "va",
                "--simtime",
                "0.5",
                "--delay",
                delay,
                "--threads",
                threads,
            ]));
        }
    }
    for extra in [
        &["--threads", "2"][..],
        &["--precision", "f64"],
        &["--comm-latency-us", "20"],
    ] {
        let mut r = s(&["va", "--simtime", "0.5"]);
        r.extend(s(extra));
        runs.push(r);
    }
    for r in &runs {
        let mut a: Vec<&str> = vec!["run"];
        a.extend(r.iter().map(String::as_str));
        a.extend(["--quiet", "--out", arg(&out)]);
        run_ok(&a);
    }
    // Fig. 10's unvectorised half (`make bench-novec`), as records of a build with the
    // vectorisers off: copies of va's 1-thread runs of 0.5 s, f32 3× and f64 2× slower.
    let novec: Vec<String> = common::read_records(&out)
        .iter()
        .filter(|(_, r)| {
            let c = &r.config;
            c.network == "va"
                && c.simtime_s == 0.5
                && c.threads == 1
                && c.injected_latency_us == 0.0
                && (c.delay_s - 0.0008).abs() < 1e-12
                && (c.dt_s - 0.0001).abs() < 1e-12
        })
        .map(|(v, r)| {
            let mut v = v.clone();
            v["build"]["rustflags"] = "-C target-cpu=native -C llvm-args=-vectorize-loops=false \
                 -C llvm-args=-vectorize-slp=false"
                .into();
            let slower = if r.config.precision == "f32" {
                3.0
            } else {
                2.0
            };
            v["result"]["rtf"] = (r.result.rtf * slower).into();
            v.to_string()
        })
        .collect();
    assert_eq!(
        novec.len(),
        3,
        "va 0.5 s on 1 thread: seeds 2, 3 in f32 and one f64"
    );
    std::fs::write(figures.join("fig10-novec.jsonl"), novec.join("\n") + "\n").unwrap();
    // A torn last line, as a killed run could leave: reported, not fatal.
    std::fs::write(dir.join("broken.jsonl"), "{\"schema\": 1, \"config\"").unwrap();
}

#[test]
fn report_from_short_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("results");
    fixture(&dir);
    let (stdout, stderr) = common::run_ok_both(&["report", "--dir", arg(&dir)]);
    assert!(stdout.contains("report: "), "{stdout}");
    assert!(
        stderr.contains("broken.jsonl:1"),
        "the torn record is reported with its line: {stderr}"
    );
    let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    let md = std::fs::read_to_string(dir.join("report/report.md")).unwrap();
    // Every image the page shows exists, as PNG and SVG.
    let images: Vec<&str> = html
        .split("<img src=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert!(images.len() >= 10, "{} panels drawn", images.len());
    // Drawn from the monitors' files: the rasters and the population rates.
    for stem in ["fig1-raster", "fig2-raster", "fig2-rate", "fig3-"] {
        assert!(
            images.iter().any(|i| i.contains(stem)),
            "{stem} not drawn: {images:?}"
        );
    }
    assert!(
        !html.contains("no va run with a spikes:all monitor"),
        "Fig. 2 lacks its spikes"
    );
    assert!(
        !html.contains("monitor in the va run"),
        "Fig. 2 lacks its rates"
    );
    for png in &images {
        let p = dir.join("report").join(png);
        assert!(
            std::fs::metadata(&p).unwrap().len() > 1000,
            "{}",
            p.display()
        );
        let svg = std::fs::read_to_string(p.with_extension("svg")).unwrap();
        assert!(svg.contains("<svg"), "{}", p.display());
    }
    for fig in ["Fig. 1", "Fig. 2", "Fig. 3", "Fig. 5", "Fig. 10"] {
        assert!(html.contains(fig), "{fig} in the report");
    }
    // Fig. 10 puts the unvectorised build beside the vectorised one, and its claim
    // compares the precisions' gap in both; no other figure counts those runs.
    let fig10 = std::fs::read_to_string(dir.join("report/figures/fig10-va.svg")).unwrap();
    assert!(fig10.contains("f32, not vectorised") && fig10.contains("f64, not vectorised"));
    let fig2 = std::fs::read_to_string(dir.join("report/figures/fig2-runtime.svg")).unwrap();
    assert!(
        !fig2.contains("not vectorised"),
        "Fig. 2 pools no unvectorised runs"
    );
    let claim = md.lines().find(|l| l.starts_with("| Fig. 10 |")).unwrap();
    let number_after = |text: &str| -> f64 {
        let rest = &claim[claim
            .find(text)
            .unwrap_or_else(|| panic!("{text}: {claim}"))
            + text.len()..];
        rest[..rest.find('×').unwrap()].parse().unwrap()
    };
    let vectorised = number_after("f64 / f32 run time = ");
    let plain = number_after("not vectorised: f64 / f32 = ");
    // f32 3× and f64 2× slower without vectorising: the gap is 2/3 of the vectorised one.
    assert!((plain - vectorised * 2.0 / 3.0).abs() <= 0.011, "{claim}");
    assert_eq!(number_after("vectorising makes f32 "), 3.0, "{claim}");
    // Claims: a verdict for each, measured or not.
    assert!(
        html.contains("holds") && html.contains("not measured"),
        "{md}"
    );
    assert!(
        md.contains("| Fig. 9 |") && md.contains("not measured"),
        "{md}"
    );
    // What the fixture lacks is named, not an error.
    assert!(
        html.contains("missing: no zenke25k"),
        "Fig. 8 shows as missing"
    );
    assert!(
        html.contains("broken.jsonl:1"),
        "skipped records are listed"
    );
    browser_check(&dir.join("report/index.html"));
}
