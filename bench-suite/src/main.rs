//! `snn-bench`: run the study's networks, the workstation suite, and print tables.

use std::path::PathBuf;
use std::process::ExitCode;

use bench_suite::record::Record;
use bench_suite::run::{execute, RunArgs};
use bench_suite::{host, jsonl, table};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "snn-bench",
    version,
    about = "Spiking-network simulation benchmarks (Zenke & Gerstner 2014, reproduced)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate one network once and record the run.
    Run(Box<RunArgs>),
    /// The workstation suite: va on 1 and 2 threads in f32 and f64, repeated, each run in
    /// its own process; records appended to --out, then a table of medians.
    Suite(SuiteArgs),
    /// A declarative, resumable scaling sweep (TOML or JSON spec): each configuration in
    /// its own process, configurations already recorded in the output file skipped.
    Sweep(bench_suite::sweep::SweepArgs),
    /// The runs the report's figures are drawn from (spike files, traces, scaling and
    /// plasticity runs), about 6 minutes on 2 cores; jobs already recorded are skipped.
    Figures {
        /// Results directory; default results/<host>.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Measure this machine's limits (memory bandwidth, random-access latency and
    /// throughput, FMA throughput): the roofline for the phase costs; writes JSON.
    Machine(bench_suite::machine::MachineArgs),
    /// Write the reproduction report (HTML + Markdown, figures as PNG and SVG) of a
    /// results directory into DIR/report.
    Report {
        /// Results directory; default results/<host>.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print a table (medians over repetitions) of the records in a JSON Lines file.
    Table {
        file: PathBuf,
        /// Only the last N records.
        #[arg(long)]
        last: Option<usize>,
    },
}

#[derive(clap::Args)]
struct SuiteArgs {
    /// Model time of each run, seconds.
    #[arg(long, default_value_t = 60.0)]
    simtime: f64,
    /// Repetitions of each configuration (medians are reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: u32,
    /// Thread counts.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<u32>,
    /// Precisions.
    #[arg(long, value_delimiter = ',', default_value = "f32,f64")]
    precisions: Vec<String>,
    /// Also run each configuration with timers off (to measure their overhead).
    #[arg(long)]
    timer_overhead: bool,
    /// Records file; default results/<host>/runs.jsonl.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run_here_or_under_mpi(&args),
        Command::Suite(args) => suite(&args),
        Command::Sweep(args) => bench_suite::sweep::execute(&args),
        Command::Figures { dir } => std::env::current_exe()
            .map_err(|e| format!("cannot find own executable: {e}"))
            .and_then(|exe| bench_suite::figures::execute(&exe, &dir.unwrap_or_else(host_results))),
        Command::Report { dir } => report(&dir.unwrap_or_else(host_results)),
        Command::Table { file, last } => print_table(&file, last),
        Command::Machine(args) => bench_suite::machine::execute(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_records(file: &std::path::Path) -> Result<Vec<Record>, String> {
    let outcome = jsonl::read(file).map_err(|e| e.to_string())?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let mut records = Vec::new();
    for (line, value) in outcome.records {
        match serde_json::from_value::<Record>(value) {
            Ok(Record {
                result:
                    bench_suite::record::Outcome {
                        failure: Some(why), ..
                    },
                ..
            }) => eprintln!(
                "warning: {}:{line}: the run failed ({why}); skipped",
                file.display()
            ),
            Ok(r) => records.push(r),
            Err(e) => eprintln!(
                "warning: {}:{line}: not a results record ({e}); skipped",
                file.display()
            ),
        }
    }
    Ok(records)
}

fn print_table(file: &std::path::Path, last: Option<usize>) -> Result<(), String> {
    if !file.exists() {
        return Err(format!("{}: no such file", file.display()));
    }
    let records = read_records(file)?;
    if records.is_empty() {
        return Err(format!("{}: no records", file.display()));
    }
    let from = last.map_or(0, |n| records.len().saturating_sub(n));
    print!("{}", table::table(&records[from..]));
    Ok(())
}

fn report(dir: &std::path::Path) -> Result<(), String> {
    let w = analysis::report::write(dir)?;
    for warning in &w.warnings {
        eprintln!("warning: {warning}");
    }
    for f in &w.figures {
        for m in &f.missing {
            eprintln!("{}: missing: {m}", f.id);
        }
    }
    let held = |v| w.claims.iter().filter(|c| c.verdict == v).count();
    use analysis::report::Verdict;
    println!(
        "report: {} ({} figures drawn; claims: {} hold, {} do not, {} not measured)",
        w.html.display(),
        w.figures.iter().map(|f| f.panels.len()).sum::<usize>(),
        held(Verdict::Holds),
        held(Verdict::DoesNotHold),
        held(Verdict::NotMeasured)
    );
    Ok(())
}

/// results/<host>, this machine's results directory.
fn host_results() -> PathBuf {
    PathBuf::from("results").join(host::host_dir_name(&host::Host::detect().hostname))
}

fn suite(a: &SuiteArgs) -> Result<(), String> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| host_results().join("runs.jsonl"));
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    let before = read_records(&out)?.len();
    let timers: &[&str] = if a.timer_overhead {
        &["on", "off"]
    } else {
        &["on"]
    };
    let total = a.repeats as usize * a.threads.len() * a.precisions.len() * timers.len();
    let mut done = 0;
    // Repetitions outermost, so slow drifts of the shared machine hit every configuration.
    for rep in 0..a.repeats {
        for prec in &a.precisions {
            for threads in &a.threads {
                for t in timers {
                    done += 1;
                    eprintln!(
                        "[{done}/{total}] va {prec} {threads} thread(s) timers {t} (repetition {})",
                        rep + 1
                    );
                    let status = std::process::Command::new(&exe)
                        .args(["run", "va", "--quiet", "--simtime"])
                        .arg(a.simtime.to_string())
                        .args(["--threads", &threads.to_string(), "--precision", prec])
                        .args(["--timers", t, "--out"])
                        .arg(&out)
                        .status()
                        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
                    if !status.success() {
                        return Err(format!("run va {prec} {threads} threads failed ({status})"));
                    }
                }
            }
        }
    }
    let records = read_records(&out)?;
    println!("records appended to {}", out.display());
    print!("{}", table::table(&records[before.min(records.len())..]));
    Ok(())
}

/// How many processes the MPI launcher started, read from its environment (Open MPI,
/// MPICH/Hydra and PMIx set these), or None outside mpirun.
fn launched_ranks() -> Option<usize> {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse().ok())
}

/// `run` in this process, or as one rank of an MPI job when started by mpirun.
fn run_here_or_under_mpi(args: &bench_suite::run::RunArgs) -> Result<(), String> {
    #[cfg(feature = "mpi")]
    if launched_ranks().is_some() {
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or("MPI could not be initialised (was it initialised twice?)")?;
        let world = mpi::topology::Communicator::duplicate(&universe.world());
        return bench_suite::run::execute_on(args, Some(&world)).map(|_| ());
    }
    #[cfg(not(feature = "mpi"))]
    if let Some(n) = launched_ranks().filter(|&n| n > 1) {
        return Err(format!(
            "started by mpirun with {n} ranks, but this snn-bench was built without MPI \
             support: build it with `make build-mpi` (cargo feature `mpi`)"
        ));
    }
    execute(args).map(|_| ())
}
