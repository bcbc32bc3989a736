//! `snn-bench figures`: the runs whose records and spike files the report's figures are
//! drawn from (paper Fig. 1–10), sized for a workstation (about 6 minutes on 2 cores).
//!
//! Each job is one `snn-bench run` in a child process, with its records in
//! `DIR/figures/JOB.jsonl` and its spikes or exchange trace beside them. A job whose
//! records file already holds as many records as the job has runs is skipped, so an
//! interrupted `make bench` picks up where it stopped; delete a file to run its job again.
//! The scaling figures also use the workstation suite's records (`DIR/runs.jsonl`) and
//! any sweep in `DIR`.

use std::path::Path;
use std::process::Command;

use crate::jsonl;

/// One figure's runs: each entry of `runs` is the arguments of one `snn-bench run`
/// (without `--out`, which is the job's records file).
pub struct Job {
    pub name: &'static str,
    pub runs: Vec<Vec<String>>,
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The jobs, writing spike files and traces under `dir/figures`.
pub fn jobs(dir: &Path) -> Vec<Job> {
    let f = |name: &str| dir.join("figures").join(name).display().to_string();
    let mut jobs = Vec::new();
    // Fig. 1: 1000 Poisson neurons at 5 Hz for 100 s, both generators.
    jobs.push(Job {
        name: "fig1-poisson",
        runs: ["lattice", "per-step"]
            .iter()
            .map(|g| {
                let mut a = args(&["poisson", "--simtime", "100", "--generator", g]);
                a.extend(["--spikes".into(), f(&format!("poisson-{g}.npy"))]);
                a
            })
            .collect(),
    });
    // Fig. 2: the Vogels–Abbott network's activity.
    jobs.push(Job {
        name: "fig2-va",
        runs: vec![{
            let mut a = args(&["va", "--simtime", "10"]);
            a.extend(["--spikes".into(), f("va-dt0.1-seed1.npy")]);
            a
        }],
    });
    // Fig. 3: dt 0.4 / 0.1 / 0.01 ms on one network (seed 1; dt 0.01 ms is the
    // reference), and 20 seeds at 0.1 ms: the spread of D between independent samples.
    let mut fig3 = Vec::new();
    for dt in ["0.4", "0.01"] {
        let mut a = args(&["va", "--simtime", "10", "--dt", dt, "--delay", "0.8"]);
        a.extend(["--spikes".into(), f(&format!("va-dt{dt}-seed1.npy"))]);
        fig3.push(a);
    }
    for seed in 2..=21 {
        let mut a = args(&["va", "--simtime", "10", "--seed", &seed.to_string()]);
        a.extend(["--spikes".into(), f(&format!("va-dt0.1-seed{seed}.npy"))]);
        fig3.push(a);
    }
    jobs.push(Job {
        name: "fig3-dt",
        runs: fig3,
    });
    // Fig. 5: longer delays exchange less often.
    let mut fig5 = Vec::new();
    for delay in ["0.2", "0.8", "3.2", "12.8"] {
        for threads in ["1", "2"] {
            fig5.push(args(&[
                "va",
                "--simtime",
                "10",
                "--delay",
                delay,
                "--threads",
                threads,
            ]));
        }
    }
    jobs.push(Job {
        name: "fig5-delays",
        runs: fig5,
    });
    // Fig. 6: an injected wait per exchange stands in for a slower interconnect.
    jobs.push(Job {
        name: "fig6-latency",
        runs: ["0", "10", "50"]
            .iter()
            .map(|us| args(&["va", "--simtime", "10", "--comm-latency-us", us]))
            .collect(),
    });
    // Fig. 4, 6, 8, 10: zenke25k static and plastic (both trace modes) on 1 and 2
    // threads, and f64; τ_hom 1 s keeps the priming at 3 s. Fig. 7: the plastic runs on
    // 2 threads trace every exchange.
    let mut zenke = Vec::new();
    for threads in ["1", "2"] {
        zenke.push(args(&["zenke25k", "--simtime", "5", "--threads", threads]));
        for traces in ["continuous", "event-based"] {
            let mut a = args(&[
                "zenke25k",
                "--simtime",
                "5",
                "--threads",
                threads,
                "--plastic",
                "--traces",
                traces,
                "--tau-hom",
                "1",
            ]);
            if threads == "2" {
                a.extend([
                    "--exchange-trace".into(),
                    f(&format!("zenke25k-plastic-{traces}-trace.npy")),
                ]);
            }
            zenke.push(a);
        }
    }
    zenke.push(args(&["zenke25k", "--simtime", "5", "--precision", "f64"]));
    jobs.push(Job {
        name: "fig4-8-zenke25k",
        runs: zenke,
    });
    // Fig. 9: brunel without (NP) and with (PL) STDP.
    let mut brunel = Vec::new();
    for threads in ["1", "2"] {
        brunel.push(args(&["brunel", "--simtime", "2", "--threads", threads]));
        brunel.push(args(&[
            "brunel",
            "--simtime",
            "2",
            "--threads",
            threads,
            "--plastic",
        ]));
    }
    jobs.push(Job {
        name: "fig9-brunel",
        runs: brunel,
    });
    jobs
}

/// Runs every job not done yet; `exe` is `snn-bench`.
pub fn execute(exe: &Path, dir: &Path) -> Result<(), String> {
    let figures = dir.join("figures");
    std::fs::create_dir_all(&figures)
        .map_err(|e| format!("cannot create {}: {e}", figures.display()))?;
    let all = jobs(dir);
    let total: usize = all.iter().map(|j| j.runs.len()).sum();
    let mut n = 0;
    for job in &all {
        let out = figures.join(format!("{}.jsonl", job.name));
        let recorded = recorded(&out);
        if recorded >= job.runs.len() {
            n += job.runs.len();
            eprintln!("{}: done ({} records), skipped", job.name, recorded);
            continue;
        }
        if recorded > 0 {
            // A job cut short: start it over, so its file holds one complete set.
            std::fs::remove_file(&out)
                .map_err(|e| format!("cannot restart {}: {e}", out.display()))?;
        }
        for run in &job.runs {
            n += 1;
            eprintln!(
                "[{n}/{total}] {}: snn-bench run {}",
                job.name,
                run.join(" ")
            );
            let status = Command::new(exe)
                .arg("run")
                .args(run)
                .args(["--quiet", "--out"])
                .arg(&out)
                .status()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            if !status.success() {
                return Err(format!(
                    "{}: `snn-bench run {}` failed ({status})",
                    job.name,
                    run.join(" ")
                ));
            }
        }
    }
    Ok(())
}

/// Records in a job's file (0 if there is none).
fn recorded(path: &Path) -> usize {
    jsonl::read(path).map_or(0, |o| o.records.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every job's runs are valid `snn-bench run` command lines.
    #[test]
    fn every_run_parses_as_a_run_command() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            run: crate::run::RunArgs,
        }
        for job in jobs(Path::new("results/x")) {
            for run in &job.runs {
                let mut argv = vec!["snn-bench".to_string()];
                argv.extend(run.iter().cloned());
                let cli = Cli::try_parse_from(&argv)
                    .unwrap_or_else(|e| panic!("{}: {run:?}: {e}", job.name));
                crate::run::network(&cli.run)
                    .unwrap_or_else(|e| panic!("{}: {run:?}: {e}", job.name));
            }
        }
    }
}
