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
    /// Continue a run from its checkpoint (`run --checkpoint DIR`): the same network,
    /// its state and the spikes in flight, on any number of threads; spike steps
    /// continue the original numbering, and the checkpoint in DIR moves on with it.
    Resume(bench_suite::resume::ResumeArgs),
    /// Run a protocol (TOML): segments on one network built once (prime with learning
    /// off, learn, probe with new input rates, …), one record per segment.
    Protocol(bench_suite::protocol::ProtocolArgs),
    /// The workstation suite (scripts/jobs/workstation.toml): va on 1 and 2 threads in f32
    /// and f64, repeated, each run in its own process; records appended to --out, then a
    /// table of medians. Configurations already recorded are skipped.
    Suite(SuiteArgs),
    /// A declarative, resumable scaling sweep (TOML or JSON spec): each configuration in
    /// its own process, configurations already recorded in the output file skipped.
    Sweep(bench_suite::sweep::SweepArgs),
    /// The runs the report's figures are drawn from (scripts/jobs/figures.toml: spike
    /// files, traces, scaling and plasticity runs), about 7 minutes on 2 cores; runs whose
    /// record and artifacts are already there are skipped.
    Figures(bench_suite::figures::FiguresArgs),
    /// One run of a peer simulator (nest, brian2) on snn-limits' weights and initial
    /// state, recorded in snn-limits' schema (`config.simulator`); its Python environment
    /// comes from `scripts/peers/setup.sh` (README, "Peers").
    Peer(Box<bench_suite::peer::PeerArgs>),
    /// List the built-in networks, or print one's network file (NAME): the start of a
    /// network of your own (`snn-bench run --network-file FILE`).
    Networks {
        /// A built-in network whose file to print.
        name: Option<String>,
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
        /// The machine to report on, when the directory holds records of several (any
        /// text of its label, e.g. `EPYC`); default: the machine of the newest record.
        #[arg(long)]
        machine: Option<String>,
    },
    /// Compare several results directories (machines, builds) side by side: HTML +
    /// Markdown into --out, each side labelled by machine and build; every shared
    /// configuration's RTF ratio with a bootstrap interval.
    Compare {
        /// Results directories (each may hold several machines' records: a side each).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the comparison goes (a new or empty directory, or an earlier comparison).
        #[arg(long, default_value = "results/compare")]
        out: PathBuf,
        /// Exit non-zero if a configuration is slower than its base by more than this
        /// many percent with an interval that excludes no change (a regression check).
        #[arg(long, value_name = "PERCENT")]
        fail_slower: Option<f64>,
    },
    /// Complete a monitor's file that a killed run left (`DIR/spikes-WHAT.npy.partial`,
    /// `weights-EE.npy.partial`, a `--spikes` file's `.partial`, …): an .npy header's
    /// row count from the file's length (a torn last row cut off); a `.ras` file's torn
    /// last line cut off. The file keeps its name: rename it when done.
    RepairNpy { file: PathBuf },
    /// Print a table (medians over repetitions) of the records in a JSON Lines file.
    Table {
        file: PathBuf,
        /// Only the last N records.
        #[arg(long)]
        last: Option<usize>,
    },
}

/// `snn-bench suite`: the job spec scripts/jobs/workstation.toml, with these flags
/// overriding its values.
#[derive(clap::Args)]
struct SuiteArgs {
    /// Model time of each run, seconds (the spec's: 60).
    #[arg(long)]
    simtime: Option<f64>,
    /// Repetitions of each configuration (the spec's: 3; medians are reported).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    repeats: Option<u32>,
    /// Thread counts (the spec's: 1,2).
    #[arg(long, value_delimiter = ',')]
    threads: Option<Vec<u32>>,
    /// Precisions (the spec's: f32,f64).
    #[arg(long, value_delimiter = ',')]
    precisions: Option<Vec<String>>,
    /// Also run each configuration with timers off (to measure their overhead).
    #[arg(long)]
    timer_overhead: bool,
    /// Records file; default results/<host>/runs.jsonl.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Job spec (TOML); default: the built-in copy of scripts/jobs/workstation.toml.
    #[arg(long)]
    spec: Option<PathBuf>,
    #[command(flatten)]
    runner: bench_suite::jobs::RunnerArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome =
        match cli.command {
            Command::Run(args) => run_here_or_under_mpi(&args),
            Command::Resume(args) => {
                bench_suite::resume::args(&args).and_then(|run| run_here_or_under_mpi(&run))
            }
            Command::Protocol(args) => bench_suite::protocol::execute(&args).map(|_| ()),
            Command::Suite(args) => suite(&args),
            Command::Sweep(args) => bench_suite::sweep::execute(&args),
            Command::Figures(args) => std::env::current_exe()
                .map_err(|e| format!("cannot find own executable: {e}"))
                .and_then(|exe| {
                    let dir = args.dir.clone().unwrap_or_else(host_results);
                    bench_suite::figures::execute(&exe, &dir, &args)
                }),
            Command::Peer(args) => std::env::current_exe()
                .map_err(|e| format!("cannot find own executable: {e}"))
                .and_then(|exe| bench_suite::peer::execute(&exe, &args))
                .map(|r| {
                    println!(
                    "{} {} on {} thread(s): loop {:.3} s (RTF {:.3}), process {:.1} s, {} spikes",
                    r.config.simulator_name(),
                    r.config.network,
                    r.config.threads,
                    r.result.run.wall_s,
                    r.result.rtf,
                    r.config.simulator.as_ref().map_or(0.0, |s| s.process_wall_s),
                    r.result.spikes
                )
                }),
            Command::Report { dir, machine } => {
                report(&dir.unwrap_or_else(host_results), machine.as_deref())
            }
            Command::Table { file, last } => print_table(&file, last),
            Command::Compare {
                dirs,
                out,
                fail_slower,
            } => compare(&dirs, &out, fail_slower),
            Command::RepairNpy { file } => bench_suite::monitor::repair(&file).map(|r| {
                let what = if r.spikes { "spikes" } else { "rows" };
                println!("{}: {} {what}", file.display(), r.rows);
            }),
            Command::Machine(args) => bench_suite::machine::execute(&args),
            Command::Networks { name } => {
                bench_suite::networks::show(name.as_deref()).map(|text| print!("{text}"))
            }
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

fn report(dir: &std::path::Path, machine: Option<&str>) -> Result<(), String> {
    let w = analysis::report::write_for(dir, machine)?;
    eprintln!("report of {}", w.machine);
    for note in &w.other_machines {
        eprintln!("note: {note}");
    }
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

/// The slowdown a comparison lists as a regression unless told otherwise (percent).
const DEFAULT_SLOWER_PERCENT: f64 = 5.0;

fn compare(dirs: &[PathBuf], out: &std::path::Path, fail: Option<f64>) -> Result<(), String> {
    let percent = fail.unwrap_or(DEFAULT_SLOWER_PERCENT);
    if !(percent.is_finite() && (0.0..=1000.0).contains(&percent)) {
        return Err(format!(
            "--fail-slower {percent}: expected a percentage in [0, 1000]"
        ));
    }
    let c = analysis::compare::write(dirs, out, percent / 100.0)?;
    for (letter, label) in &c.sides {
        eprintln!("{letter}: {label}");
    }
    for f in &c.figures {
        for m in &f.missing {
            eprintln!("{}: missing: {m}", f.id);
        }
    }
    let shared = c.rows.iter().filter(|r| r.present() > 1).count();
    println!(
        "comparison: {} ({} sides; {shared} configurations on more than one, {} on one \
         only; {} slower than their base by more than {percent} %)",
        c.html.display(),
        c.sides.len(),
        c.rows.len() - shared,
        c.slower.len()
    );
    for r in &c.slower {
        println!("slower: {r}");
    }
    match fail {
        Some(_) if !c.slower.is_empty() => Err(format!(
            "{} configuration(s) slower by more than {percent} % (--fail-slower)",
            c.slower.len()
        )),
        _ => Ok(()),
    }
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
    let (mut spec, origin) = bench_suite::figures::load_spec(
        a.spec.as_deref(),
        bench_suite::jobspec::WORKSTATION_SPEC,
        "scripts/jobs/workstation.toml (built in)",
    )?;
    let words = |v: &[String]| v.to_vec();
    if let Some(s) = a.simtime {
        spec.set("simtime", &[s.to_string()]);
    }
    if let Some(t) = &a.threads {
        spec.set("threads", &t.iter().map(u32::to_string).collect::<Vec<_>>());
    }
    if let Some(p) = &a.precisions {
        spec.set("precision", &words(p));
    }
    if a.timer_overhead {
        spec.set("timers", &words(&["on".into(), "off".into()]));
    }
    if let Some(n) = a.repeats {
        for j in &mut spec.jobs {
            j.repetitions = Some(n);
        }
    }
    let plan = spec.plan("suite", &origin, &host_results(), &exe, Some(&out))?;
    let outcome = bench_suite::jobs::execute(&plan, &a.runner)?;
    if a.runner.dry_run {
        return Ok(());
    }
    println!(
        "records in {} ({} run(s) now, {} already there)",
        out.display(),
        outcome.ran.len(),
        outcome.skipped
    );
    print!("{}", table::table(&outcome.all));
    Ok(())
}

/// Under MPI a panicking rank (any of its threads) aborts the whole job at once, naming
/// itself: otherwise the other ranks wait in their next collective forever.
#[cfg(feature = "mpi")]
fn abort_job_on_panic(rank: i32, size: i32) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("error: rank {rank} of {size} panicked; aborting the MPI job");
        // SAFETY: MPI is initialised (the hook is installed after), and MPI_Abort may
        // be called from any thread; it does not return.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 101);
        }
    }));
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
        // Serialized: whichever thread completes an exchange window calls MPI, one at
        // a time (`sim_core::mpi` says why; it refuses threads if MPI gives less).
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Serialized)
            .ok_or("MPI could not be initialised (was it initialised twice?)")?;
        let world = mpi::topology::Communicator::duplicate(&universe.world());
        let (rank, size) = (
            mpi::topology::Communicator::rank(&world),
            mpi::topology::Communicator::size(&world),
        );
        abort_job_on_panic(rank, size);
        return match bench_suite::run::execute_on(args, Some(&world)) {
            Ok(_) => Ok(()),
            // The other ranks may be waiting in a collective for this one: end the whole
            // job now, naming the rank, instead of leaving them to hang.
            Err(e) if size > 1 => {
                eprintln!("error: rank {rank} of {size}: {e}\nerror: aborting the MPI job");
                mpi::topology::Communicator::abort(&world, 1)
            }
            Err(e) => Err(e),
        };
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
