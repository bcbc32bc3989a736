//! `snn-bench machine`: this machine's limits, the ceilings of a roofline on which each
//! simulation phase's measured cost can be placed.
//!
//! A results record gives each phase's cost: `evolve` in ns per neuron-step, `propagate`
//! in ns per synaptic event. Whether such a figure is good can only be judged against what
//! the hardware can do at most, which is what this module measures:
//!
//! * **Memory bandwidth** ([`Bandwidth`]): streaming through arrays far larger than the
//!   last-level cache. `evolve` reads and writes every neuron's state (V, conductances,
//!   traces: a few 4- or 8-byte values per neuron) once per step; once the state no
//!   longer fits in the caches a neuron-step cannot cost less than
//!   `bytes moved per neuron / bandwidth`. Propagate streams the synapse rows (target
//!   index and weight) of every spike the same way.
//! * **Random-access latency and throughput** ([`RandomAccess`]), for several working
//!   sets (cache level by cache level, then DRAM). `propagate` adds each weight to the
//!   input of a postsynaptic neuron found by index — a scattered read-modify-write whose
//!   cost depends on where the input array lives (L1 for a 4000-neuron network, L2/L3 or
//!   DRAM for larger ones). These adds are *independent* of each other, so the CPU
//!   overlaps many of them: their cost per event is the *throughput* figure
//!   (`scatter_add_ns`). Accesses where the address depends on the previous load
//!   (following an index loaded from memory, as plasticity's look-ups of traces through
//!   the synapse's pre/post ids partly do, or any pointer chasing) pay the full *latency*
//!   (`latency_ns`) each.
//! * **Arithmetic throughput** ([`Arithmetic`]): fused multiply-adds on independent
//!   vector accumulators, f32 and f64. A neuron update is a few dozen flops (exponential
//!   decays, Euler steps); when the state fits in cache, `evolve`'s bound is
//!   `flops per neuron-step / GFLOP/s`.
//!
//! Every figure is the median over several repetitions (each repetition after one untimed
//! warm-up) and comes with the minimum and maximum ([`Stat`]): on a shared machine the
//! spread tells how much to trust it. The load average before the measurement is recorded
//! too. A full run takes under ~20 s; `--quick` (used by the tests) under ~3 s with
//! smaller arrays and fewer repetitions: its figures are rough, its bandwidth arrays may
//! partly fit in a large last-level cache.
//!
//! The output ([`Machine`]) is one pretty-printed JSON object, written (overwritten) to
//! `--out`, by default `results/<host>/machine.json`, and printed as a table.

use std::fs;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::host::{self, Build, Host};

/// Version of the [`Machine`] JSON layout; bumped when a field changes meaning or goes.
pub const SCHEMA: u32 = 1;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// `snn-bench machine` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct MachineArgs {
    /// Output file (JSON, overwritten); default results/<host>/machine.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Smaller sizes and fewer repetitions (about 3 s instead of 20 s; rough figures).
    #[arg(long)]
    pub quick: bool,
}

/// Everything `snn-bench machine` measured, as written to `machine.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Machine {
    /// [`SCHEMA`].
    pub schema: u32,
    /// When the measurement started (RFC 3339, UTC).
    pub date: String,
    pub host: Host,
    /// The binary that measured: the kernels' code depends on its target features.
    pub build: Build,
    /// `--quick`: smaller sizes, fewer repetitions.
    pub quick: bool,
    /// Threads of the "all threads" figures (`Host::logical_cores`: the parallelism this
    /// process may use).
    pub threads: usize,
    /// `/proc/loadavg` (1, 5, 15 min) just before the measurement: other work on the
    /// machine lowers every figure, the all-thread ones most.
    pub load_average: Option<[f64; 3]>,
    /// Wall time of the whole measurement, seconds.
    pub elapsed_s: f64,
    pub caches: Caches,
    /// The kernel's transparent-huge-page mode (`always`, `madvise`, `never`). With
    /// `always`, the large arrays here (and the simulator's) get 2-MiB pages and the
    /// random-access figures pay fewer TLB misses than with 4-KiB pages.
    pub transparent_hugepages: Option<String>,
    pub simd: Simd,
    pub bandwidth: Bandwidth,
    /// One entry per working-set size, smallest first.
    pub random_access: Vec<RandomAccess>,
    pub arithmetic: Arithmetic,
}

impl Machine {
    /// The random-access figures for a working set of `bytes`: the smallest measured size
    /// that holds it, else the largest measured. E.g. for `propagate` into N neurons'
    /// f32 inputs, `random_access_for(4 * N)`.
    pub fn random_access_for(&self, bytes: u64) -> Option<&RandomAccess> {
        self.random_access
            .iter()
            .find(|r| r.working_set_bytes >= bytes)
            .or_else(|| self.random_access.last())
    }

    /// Reads a `machine.json`; errors name the file.
    pub fn read(path: &Path) -> Result<Machine, String> {
        let text =
            fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a machine description: {e}", path.display()))
    }
}

/// One figure over repetitions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Stat {
    /// Median over the repetitions: the figure to use.
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Timed repetitions (the untimed warm-up not counted).
    pub reps: u32,
}

impl Stat {
    /// Median, minimum and maximum of `values` (not empty).
    pub fn of(mut values: Vec<f64>) -> Stat {
        assert!(!values.is_empty(), "a statistic of no values");
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Stat {
            median,
            min: values[0],
            max: values[n - 1],
            reps: u32::try_from(n).unwrap_or(u32::MAX),
        }
    }
}

/// Cache sizes of CPU 0 (`/sys/devices/system/cpu/cpu0/cache`), per instance: L1d and L2
/// are usually per core, L3 shared by a group of cores. `None` where not reported.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Caches {
    pub l1d_bytes: Option<u64>,
    pub l2_bytes: Option<u64>,
    pub l3_bytes: Option<u64>,
}

impl Caches {
    /// Reads sysfs; missing entries stay `None`.
    pub fn detect() -> Caches {
        let mut caches = Caches::default();
        let Ok(dir) = fs::read_dir("/sys/devices/system/cpu/cpu0/cache") else {
            return caches;
        };
        for entry in dir.flatten() {
            let read = |f: &str| {
                fs::read_to_string(entry.path().join(f))
                    .ok()
                    .map(|s| s.trim().to_owned())
            };
            let (Some(level), Some(kind), Some(size)) = (read("level"), read("type"), read("size"))
            else {
                continue;
            };
            let bytes = parse_cache_size(&size);
            match (level.as_str(), kind.as_str()) {
                ("1", "Data" | "Unified") => caches.l1d_bytes = bytes,
                ("2", _) => caches.l2_bytes = bytes,
                ("3", _) => caches.l3_bytes = bytes,
                _ => {}
            }
        }
        caches
    }

    /// The largest cache reported (the last level), if any.
    pub fn last_level_bytes(&self) -> Option<u64> {
        self.l3_bytes.or(self.l2_bytes).or(self.l1d_bytes)
    }
}

/// Vector extensions: what the CPU has and what this binary was compiled to use. The
/// kernels (and the simulator's) use only the compiled ones: a binary built without
/// `target-cpu=native` runs SSE2 code on an AVX-512 CPU.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Simd {
    /// `is_x86_feature_detected!` (false off x86-64).
    pub cpu_avx512f: bool,
    pub cpu_avx2: bool,
    pub cpu_fma: bool,
    /// `cfg!(target_feature = …)` of this binary.
    pub compiled_avx512f: bool,
    pub compiled_avx2: bool,
    pub compiled_fma: bool,
    /// Widest vector register the binary may use, bits (512 AVX-512, 256 AVX, 128 SSE2 or
    /// NEON). LLVM may still prefer narrower vectors on some CPUs.
    pub vector_bits: u32,
    /// f32 / f64 lanes of such a vector.
    pub f32_lanes: u32,
    pub f64_lanes: u32,
}

impl Simd {
    /// What this CPU and this binary have.
    pub fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        let (cpu_avx512f, cpu_avx2, cpu_fma) = (
            std::arch::is_x86_feature_detected!("avx512f"),
            std::arch::is_x86_feature_detected!("avx2"),
            std::arch::is_x86_feature_detected!("fma"),
        );
        #[cfg(not(target_arch = "x86_64"))]
        let (cpu_avx512f, cpu_avx2, cpu_fma) = (false, false, false);
        let vector_bits = (VECTOR_BYTES * 8) as u32;
        Simd {
            cpu_avx512f,
            cpu_avx2,
            cpu_fma,
            compiled_avx512f: cfg!(target_feature = "avx512f"),
            compiled_avx2: cfg!(target_feature = "avx2"),
            compiled_fma: cfg!(target_feature = "fma"),
            vector_bits,
            f32_lanes: vector_bits / 32,
            f64_lanes: vector_bits / 64,
        }
    }
}

/// Streaming bandwidth, GB/s (10⁹ bytes per second), one thread and all threads.
///
/// Each array is at least 8× the last-level cache (256 MiB or more), so every pass comes
/// from DRAM: nothing of the previous pass is left in the caches. Arrays are f32 and the
/// loops vectorise, so the core is never the bottleneck: one thread measures how much
/// one core can pull (limited by its outstanding misses), all threads what the memory
/// system delivers (what `evolve` on every core shares). Each thread's slice is first
/// written by that thread (first touch: on a NUMA machine its pages are local).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Bandwidth {
    /// Bytes of each array.
    pub array_bytes: u64,
    /// Read only: sum of an f32 array (64 independent partial sums, vectorised). The bound
    /// for streaming neuron state or synapse rows that are only read.
    pub read_gbs_1t: Stat,
    pub read_gbs_all: Stat,
    /// STREAM triad `a[i] = b[i] + s·c[i]`, counted as STREAM does: 12 bytes per f32
    /// element (two reads, one write). The hardware also reads each line of `a` before
    /// writing it (write-allocate), so it moves 16 bytes; an in-place state update like
    /// `evolve`'s (read then write the same line) moves exactly what it counts.
    pub triad_gbs_1t: Stat,
    pub triad_gbs_all: Stat,
}

/// Random accesses within a working set of a given size, one thread, ns per access.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct RandomAccess {
    /// Bytes touched: one 64-byte line per element of the chase, the f32 array of the
    /// scatter-add.
    pub working_set_bytes: u64,
    /// Steps of the chase per repetition.
    pub chase_steps: u64,
    /// Adds of the scatter-add per repetition.
    pub scatter_accesses: u64,
    /// **Latency**: pointer chasing through a random cyclic permutation (Sattolo's
    /// algorithm) of the working set's 64-byte lines: `i = next[i]`. Each load's address
    /// is the previous load's value, so no two loads overlap and the time per step is the
    /// full load-to-use latency of wherever the line lives (L1 ≈ 4–5 cycles … DRAM ≈ 100
    /// ns, including TLB misses). One cycle through all lines in random order defeats
    /// the prefetchers and never revisits a line before the whole working set has been
    /// visited. What a dependent access (a trace looked up through an id just loaded, a
    /// queue's linked entries) costs, and what an independent one costs when nothing
    /// else is in flight.
    ///
    /// Beyond the TLB's reach (a few MiB of 4-KiB pages) each step also walks the page
    /// tables — in a virtual machine a nested, two-dimensional walk — so the largest
    /// working sets can cost several times the DRAM latency alone. The simulator's
    /// arrays get the same pages as these (see [`Machine::transparent_hugepages`]), so
    /// they pay the same.
    pub latency_ns: Stat,
    /// **Throughput**: `x[idx[k]] += w` over a list of random indices into an f32 array
    /// of the working set's size — exactly `propagate`'s scattered add of a weight to a
    /// postsynaptic input, with the index list read sequentially like a synapse row. The
    /// adds are independent, so the out-of-order core keeps many misses in flight and
    /// each costs far less than `latency_ns`: the floor of ns per synaptic event for an
    /// input array of this size.
    pub scatter_add_ns: Stat,
}

/// Fused multiply-add throughput on independent accumulators, GFLOP/s (an FMA counts as
/// two flops).
///
/// `acc[j] = acc[j] · m + b` over an array of [`ACCUMULATORS`] vectors' worth of lanes:
/// LLVM turns the inner loop into that many vector FMAs on registers, independent chains
/// enough to cover the FMA latency (4 cycles) on both FMA pipes of a modern core, so the
/// figure is the core's peak: 2 pipes × lanes × 2 flops × clock. Without the `fma`
/// target feature (`compiled_fma: false`) it is a multiply and an add, still 2 flops.
/// The comment above `fma_chains` in the source records the instructions LLVM emits.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Arithmetic {
    /// Fused instructions (`compiled_fma`, or aarch64 where FMA is always there).
    pub fused: bool,
    /// Independent vector accumulators.
    pub accumulators: u32,
    pub f32_gflops_1t: Stat,
    pub f64_gflops_1t: Stat,
    /// Every thread running the same kernel: the chip's peak (clocks drop when all
    /// cores are busy; SMT siblings share FMA pipes).
    pub f32_gflops_all: Stat,
    pub f64_gflops_all: Stat,
}

/// Sizes and repetitions of one measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub quick: bool,
    pub threads: usize,
    /// Timed repetitions of every figure (one untimed warm-up before).
    pub reps: usize,
    /// Bytes of each bandwidth array.
    pub stream_bytes: u64,
    /// Working sets of the random-access figures, ascending.
    pub working_sets: Vec<u64>,
    /// Steps of the pointer chase per repetition (fewer than scatter-adds: a step from
    /// DRAM costs ~20× as much).
    pub chase_steps: usize,
    /// Adds of the scatter-add per repetition.
    pub scatter_accesses: usize,
    /// Flops per thread per repetition of the FMA kernels.
    pub fma_flops: f64,
}

impl Plan {
    /// The full measurement (about 10–20 s) or the quick one (about 1–3 s).
    pub fn new(quick: bool, host: &Host, caches: &Caches) -> Plan {
        let threads = host.logical_cores.max(1);
        if quick {
            return Plan {
                quick,
                threads,
                reps: 3,
                stream_bytes: 32 * MIB,
                working_sets: vec![32 * KIB, 256 * KIB, 2 * MIB, 64 * MIB],
                chase_steps: 100_000,
                scatter_accesses: 400_000,
                fma_flops: 2e8,
            };
        }
        // ≥ 8× the last-level cache and ≥ 256 MiB; three arrays at most 3/8 of memory.
        let llc = caches.last_level_bytes().unwrap_or(32 * MIB);
        let memory_cap = host.memory_bytes.map_or(4 * GIB, |m| m / 8).max(64 * MIB);
        let stream_bytes = (8 * llc).max(256 * MIB).min(memory_cap).min(4 * GIB);
        let mut working_sets = vec![32 * KIB, 256 * KIB, 2 * MIB, 32 * MIB, 256 * MIB];
        if stream_bytes > 256 * MIB {
            working_sets.push(stream_bytes);
        }
        Plan {
            quick,
            threads,
            reps: 7,
            stream_bytes,
            working_sets,
            chase_steps: 1_000_000,
            scatter_accesses: 4_000_000,
            fma_flops: 4e9,
        }
    }
}

/// `snn-bench machine`: measure, print the table, write the JSON.
pub fn execute(args: &MachineArgs) -> Result<(), String> {
    let out = args.out.clone().unwrap_or_else(default_out);
    // Fail before a 20-second measurement, not after it.
    let pending = OutFile::prepare(&out)?;
    let machine = measure(args.quick, |what| eprintln!("measuring {what}…"));
    print!("{}", table(&machine));
    pending.write(&machine)?;
    println!("written to {}", out.display());
    Ok(())
}

/// `results/<host>/machine.json`.
pub fn default_out() -> PathBuf {
    PathBuf::from("results")
        .join(host::host_dir_name(&Host::detect().hostname))
        .join("machine.json")
}

/// The output file: its directory created and a temporary file in it opened up front;
/// renamed over the target once the measurement is done.
struct OutFile {
    path: PathBuf,
    tmp: tempfile::NamedTempFile,
}

impl OutFile {
    fn prepare(path: &Path) -> Result<OutFile, String> {
        let fail = |why: String| format!("cannot write {}: {why}", path.display());
        if path.is_dir() {
            return Err(fail("it is a directory".into()));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create directory {}: {e}", dir.display())))?;
        let tmp = tempfile::Builder::new()
            .prefix(".machine")
            .suffix(".json.tmp")
            // Ordinary permissions (0666 less the umask), not a temporary file's 0600.
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| fail(format!("cannot create a file in {}: {e}", dir.display())))?;
        Ok(OutFile {
            path: path.to_owned(),
            tmp,
        })
    }

    fn write(mut self, machine: &Machine) -> Result<(), String> {
        let fail = |why: String| format!("cannot write {}: {why}", self.path.display());
        let mut text = serde_json::to_string_pretty(machine).map_err(|e| fail(e.to_string()))?;
        text.push('\n');
        self.tmp
            .write_all(text.as_bytes())
            .and_then(|()| self.tmp.as_file().sync_data())
            .map_err(|e| fail(e.to_string()))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| fail(e.error.to_string()))?;
        Ok(())
    }
}

/// Measures this machine (`quick`: see [`Plan::new`]); `progress` is told each step.
pub fn measure(quick: bool, mut progress: impl FnMut(&str)) -> Machine {
    let started = Instant::now();
    let date = host::now_rfc3339();
    let load_average = load_average();
    let host = Host::detect();
    let caches = Caches::detect();
    let plan = Plan::new(quick, &host, &caches);

    progress(&format!(
        "memory bandwidth (3 arrays of {})",
        human_bytes(plan.stream_bytes)
    ));
    let bandwidth = measure_bandwidth(&plan);
    let mut random_access = Vec::new();
    for &bytes in &plan.working_sets {
        progress(&format!("random access in {}", human_bytes(bytes)));
        random_access.push(measure_random_access(&plan, bytes));
    }
    progress("arithmetic throughput");
    let arithmetic = measure_arithmetic(&plan);

    Machine {
        schema: SCHEMA,
        date,
        host,
        build: Build::current(),
        quick,
        threads: plan.threads,
        load_average,
        elapsed_s: started.elapsed().as_secs_f64(),
        caches,
        transparent_hugepages: transparent_hugepages(),
        simd: Simd::detect(),
        bandwidth,
        random_access,
        arithmetic,
    }
}

// ---------------------------------------------------------------------------------------
// Timing

/// Runs `work` on one thread per element of `states`, all at once (released by a
/// barrier), `reps` + 1 times; returns the wall time of each repetition but the first
/// (a warm-up: caches, TLB, clock ramp-up), from the first thread's start to the last
/// one's end. With one state it times a single thread.
fn time_threads<S: Send>(states: Vec<S>, reps: usize, work: impl Fn(&mut S) + Sync) -> Vec<f64> {
    let barrier = Barrier::new(states.len());
    let spans: Vec<Vec<(Instant, Instant)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = states
            .into_iter()
            .map(|mut state| {
                let (barrier, work) = (&barrier, &work);
                scope.spawn(move || {
                    (0..=reps)
                        .map(|_| {
                            barrier.wait();
                            let start = Instant::now();
                            work(&mut state);
                            (start, Instant::now())
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a benchmark thread panicked"))
            .collect()
    });
    (1..=reps)
        .map(|r| {
            let start = spans.iter().map(|s| s[r].0).min().expect("a thread");
            let end = spans.iter().map(|s| s[r].1).max().expect("a thread");
            end.duration_since(start).as_secs_f64().max(1e-9)
        })
        .collect()
}

/// `amount / seconds / scale` for each repetition.
fn rates(seconds: &[f64], amount: f64, scale: f64) -> Stat {
    Stat::of(seconds.iter().map(|s| amount / s / scale).collect())
}

/// Nanoseconds per item of each repetition.
fn ns_per(seconds: &[f64], items: usize) -> Stat {
    Stat::of(seconds.iter().map(|s| s * 1e9 / items as f64).collect())
}

/// Splits `len` elements into `parts` contiguous chunks: the chunk length.
fn chunk_len(len: usize, parts: usize) -> usize {
    len.div_ceil(parts.max(1)).max(1)
}

// ---------------------------------------------------------------------------------------
// Bandwidth

/// Partial sums in the read kernel: 64 f32 = 8 AVX2 or 4 AVX-512 registers, enough
/// independent add chains that the adds never limit a stream from memory.
const SUM_LANES: usize = 64;

/// Sum of `x` with [`SUM_LANES`] independent partial sums. A plain `iter().sum()` is one
/// chain of dependent scalar adds (float addition is not associative, so LLVM may not
/// reorder it); the fixed-size array of partial sums vectorises.
#[inline(never)] // a function of its own: easy to find in the disassembly
fn sum_f32(x: &[f32]) -> f32 {
    let mut acc = [0f32; SUM_LANES];
    let chunks = x.chunks_exact(SUM_LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        let chunk: &[f32; SUM_LANES] = chunk.try_into().expect("exact chunks");
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// STREAM triad `a = b + s·c` (vectorises; separate multiply and add, as Rust never
/// contracts them into an FMA).
#[inline(never)]
fn triad(a: &mut [f32], b: &[f32], c: &[f32], s: f32) {
    for ((a, &b), &c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
}

fn measure_bandwidth(plan: &Plan) -> Bandwidth {
    let n = usize::try_from(plan.stream_bytes / 4).expect("array fits the address space");
    let threads = plan.threads;
    let chunk = chunk_len(n, threads);
    // Zeroed allocations are mapped lazily: each thread's first write below places its
    // slice's pages (first touch) and keeps page faults out of the timed loops.
    let (mut a, mut b, mut c) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    std::thread::scope(|scope| {
        for ((a, b), c) in a
            .chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .zip(c.chunks_mut(chunk))
        {
            scope.spawn(move || {
                a.fill(0.5);
                b.fill(1.0);
                c.fill(2.0);
            });
        }
    });
    let bytes = plan.stream_bytes as f64;

    let read = |parts: usize| {
        let states: Vec<&[f32]> = b.chunks(chunk_len(n, parts)).collect();
        let seconds = time_threads(states, plan.reps, |x| {
            black_box(sum_f32(black_box(*x)));
        });
        rates(&seconds, bytes, 1e9)
    };
    let read_gbs_1t = read(1);
    let read_gbs_all = read(threads);

    let s = black_box(3.0f32);
    let mut triad_run = |parts: usize| {
        let len = chunk_len(n, parts);
        let states: Vec<_> = a
            .chunks_mut(len)
            .zip(b.chunks(len))
            .zip(c.chunks(len))
            .collect();
        let seconds = time_threads(states, plan.reps, |((a, b), c)| {
            triad(a, b, c, s);
            black_box(&mut **a);
        });
        rates(&seconds, 3.0 * bytes, 1e9)
    };
    let triad_gbs_1t = triad_run(1);
    let triad_gbs_all = triad_run(threads);

    Bandwidth {
        array_bytes: plan.stream_bytes,
        read_gbs_1t,
        read_gbs_all,
        triad_gbs_1t,
        triad_gbs_all,
    }
}

// ---------------------------------------------------------------------------------------
// Random access

/// SplitMix64 (Steele, Lea & Flood 2014): a fast generator, plenty for shuffling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` ≤ 2³²; Lemire's multiply-shift, bias < n / 2³²).
    fn below(&mut self, n: usize) -> usize {
        debug_assert!(n as u64 <= 1 << 32);
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

/// A uniformly random cyclic permutation of `0..n` (Sattolo's algorithm: Fisher–Yates
/// with `j < i` strictly): following `i → p[i]` from any start visits all `n` before
/// returning.
fn sattolo(n: usize, rng: &mut SplitMix64) -> Vec<u32> {
    assert!(u32::try_from(n).is_ok(), "{n} elements");
    let mut p: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = rng.below(i);
        p.swap(i, j);
    }
    p
}

/// `usize` words in a 64-byte line: the chase visits one word per line.
const WORDS_PER_LINE: usize = 64 / std::mem::size_of::<usize>();

/// The chase ring over `bytes / 64` lines: word `k·W` (line k) holds `p[k]·W`, the word
/// index of the next line, so a step is one load with a scaled-index address (no
/// arithmetic on the critical path). The shuffle runs on the line numbers (4 bytes each,
/// 1/16 of the ring), which keeps building a 256-MiB ring fast.
fn chase_ring(bytes: u64, rng: &mut SplitMix64) -> Vec<usize> {
    let lines = usize::try_from(bytes / 64).expect("fits").max(2);
    let next = sattolo(lines, rng);
    let mut ring = vec![0usize; lines * WORDS_PER_LINE];
    for (k, &p) in next.iter().enumerate() {
        ring[k * WORDS_PER_LINE] = p as usize * WORDS_PER_LINE;
    }
    ring
}

/// Follows the ring `steps` times from word `i`; returns where it stopped.
#[inline(never)]
fn chase(ring: &[usize], mut i: usize, steps: usize) -> usize {
    for _ in 0..steps {
        i = ring[i];
    }
    i
}

/// `x[i] += w` for every index (independent read-modify-writes, like `propagate`).
#[inline(never)]
fn scatter_add(x: &mut [f32], indices: &[u32], w: f32) {
    for &i in indices {
        x[i as usize] += w;
    }
}

fn measure_random_access(plan: &Plan, bytes: u64) -> RandomAccess {
    let mut rng = SplitMix64(bytes ^ 0x5eed);
    let steps = plan.chase_steps;

    let ring = chase_ring(bytes, &mut rng);
    let seconds = time_threads(vec![0usize], plan.reps, |i| {
        *i = chase(black_box(&ring), *i, steps);
        black_box(*i);
    });
    let latency_ns = ns_per(&seconds, steps);
    drop(ring);

    let n = usize::try_from(bytes / 4).expect("fits").max(1);
    let mut x = vec![1.0f32; n]; // non-zero: every page written now, not in the timing
    let adds = plan.scatter_accesses;
    let indices: Vec<u32> = (0..adds).map(|_| rng.below(n) as u32).collect();
    let w = black_box(1e-3f32);
    let seconds = time_threads(vec![&mut x[..]], plan.reps, |x| {
        scatter_add(x, black_box(&indices), w);
        black_box(&mut **x);
    });
    let scatter_add_ns = ns_per(&seconds, adds);

    RandomAccess {
        working_set_bytes: bytes,
        chase_steps: steps as u64,
        scatter_accesses: adds as u64,
        latency_ns,
        scatter_add_ns,
    }
}

// ---------------------------------------------------------------------------------------
// Arithmetic

/// Bytes of the widest vector register this binary is compiled for.
#[cfg(target_feature = "avx512f")]
const VECTOR_BYTES: usize = 64;
#[cfg(all(not(target_feature = "avx512f"), target_feature = "avx"))]
const VECTOR_BYTES: usize = 32;
#[cfg(not(any(target_feature = "avx512f", target_feature = "avx")))]
const VECTOR_BYTES: usize = 16;

/// Independent vector accumulators of the FMA kernels: FMA latency (4 cycles) × 2 FMA
/// pipes needs ≥ 8 in flight; 12 leaves room for the two operands within the 16 vector
/// registers of AVX2 (AVX-512 has 32).
pub const ACCUMULATORS: usize = 12;

/// Fused multiply-add compiled to one instruction (x86 with `fma`; always on aarch64).
const FUSED: bool = cfg!(any(target_feature = "fma", target_arch = "aarch64"));

/// f32 and f64 for [`fma_chains`].
trait Lane: Copy {
    fn from_f64(x: f64) -> Self;
    /// `self · m + a`, fused when [`FUSED`] (otherwise `mul_add` would call libm's
    /// software `fma`, orders of magnitude slower).
    fn fused(self, m: Self, a: Self) -> Self;
}

impl Lane for f32 {
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn fused(self, m: f32, a: f32) -> f32 {
        if FUSED {
            self.mul_add(m, a)
        } else {
            self * m + a
        }
    }
}

impl Lane for f64 {
    fn from_f64(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn fused(self, m: f64, a: f64) -> f64 {
        if FUSED {
            self.mul_add(m, a)
        } else {
            self * m + a
        }
    }
}

/// `iters` rounds of `acc[j] = acc[j] · m + b` over `N` lanes (N = [`ACCUMULATORS`] ×
/// lanes per vector). `m` slightly below 1 keeps every value finite and normal (it tends
/// to `b / (1 - m)` = 1); `black_box` hides `m` and `b` so nothing is folded at compile
/// time, and the whole array is returned so nothing is dropped.
//
// What LLVM makes of it (objdump -d --no-show-raw-insn -C of target/release/snn-bench,
// Rust 1.95, fat LTO, target-cpu=native on the 2-core AMD EPYC (Zen 3) VM: AVX2 + FMA,
// no AVX-512), 2026-11-22:
//
// * f32 (N = 96): the inner loop is gone (fully unrolled) and the accumulators live in
//   ymm0–ymm11; each outer iteration is 12 `vfmadd213ps %ymm14,%ymm15,%ymmK` (m and b
//   broadcast into ymm15/ymm14), the loop unrolled ×2 with a `dec`/`jne`: 12 independent
//   8-lane chains, no loads or stores. f64 (N = 48): the same with 12
//   `vfmadd213pd %ymm13,%ymm12,%ymmK`.
// * An earlier version returned `acc.into_iter().sum()` instead of the array: LLVM then
//   kept 48 *scalar* chains (`vfmadd213sd`, each accumulator loaded from and stored to
//   the stack every iteration) — the ordered sum is not a vectorisation seed for the SLP
//   vectoriser, and nothing else was. Returning the array gives it contiguous stores to
//   start from, and it vectorises the chains back through the loop.
// * The other kernels, for comparison: `sum_f32` is 8 `vaddps mem,%ymmK,%ymmK` per
//   256 bytes; `triad` is `vmulps`/`vaddps`/`vmovups` on ymm, 4 vectors per iteration;
//   `chase` is `cmp` (bounds check, off the critical path) + `mov (%rdi,%rdx,8),%rdx`;
//   `scatter_add` is scalar `vaddss (%rdi,%rax,4)` + `vmovss` (no gather/scatter).
#[inline(never)]
fn fma_chains<T: Lane, const N: usize>(iters: u64) -> [T; N] {
    let mut acc: [T; N] = std::array::from_fn(|k| T::from_f64(1.0 + k as f64 * 1e-3));
    let m = black_box(T::from_f64(0.999_999));
    let b = black_box(T::from_f64(1e-6));
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = a.fused(m, b);
        }
    }
    acc
}

const F32_LANES: usize = ACCUMULATORS * VECTOR_BYTES / 4;
const F64_LANES: usize = ACCUMULATORS * VECTOR_BYTES / 8;

fn measure_arithmetic(plan: &Plan) -> Arithmetic {
    let f32_iters = (plan.fma_flops / (2.0 * F32_LANES as f64)).ceil() as u64;
    let f64_iters = (plan.fma_flops / (2.0 * F64_LANES as f64)).ceil() as u64;
    let run = |parts: usize, f32_kernel: bool| {
        let (iters, lanes) = if f32_kernel {
            (f32_iters, F32_LANES)
        } else {
            (f64_iters, F64_LANES)
        };
        let seconds = time_threads(vec![(); parts], plan.reps, |_| {
            if f32_kernel {
                black_box(fma_chains::<f32, F32_LANES>(black_box(iters)));
            } else {
                black_box(fma_chains::<f64, F64_LANES>(black_box(iters)));
            }
        });
        let flops = 2.0 * lanes as f64 * iters as f64 * parts as f64;
        rates(&seconds, flops, 1e9)
    };
    Arithmetic {
        fused: FUSED,
        accumulators: ACCUMULATORS as u32,
        f32_gflops_1t: run(1, true),
        f64_gflops_1t: run(1, false),
        f32_gflops_all: run(plan.threads, true),
        f64_gflops_all: run(plan.threads, false),
    }
}

// ---------------------------------------------------------------------------------------
// System facts and output

fn load_average() -> Option<[f64; 3]> {
    let text = fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

fn transparent_hugepages() -> Option<String> {
    let text = fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    parse_bracketed(&text)
}

/// The `[selected]` word of a sysfs choice list like `always [madvise] never`.
fn parse_bracketed(text: &str) -> Option<String> {
    let start = text.find('[')? + 1;
    let len = text[start..].find(']')?;
    Some(text[start..start + len].to_owned())
}

/// A sysfs cache size: `32K`, `32768K`, `1M`, or plain bytes.
fn parse_cache_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (number, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, ""),
    };
    let number: u64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" | "KiB" => KIB,
        "M" | "MB" | "MiB" => MIB,
        "G" | "GB" | "GiB" => GIB,
        _ => return None,
    };
    number.checked_mul(scale)
}

/// `32 KiB`, `256 MiB`, `1.5 GiB`.
pub fn human_bytes(bytes: u64) -> String {
    let (value, unit) = if bytes >= GIB {
        (bytes as f64 / GIB as f64, "GiB")
    } else if bytes >= MIB {
        (bytes as f64 / MIB as f64, "MiB")
    } else if bytes >= KIB {
        (bytes as f64 / KIB as f64, "KiB")
    } else {
        (bytes as f64, "B")
    };
    if value.fract() == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// The figures as a readable table (medians; the spread as min–max).
pub fn table(m: &Machine) -> String {
    use std::fmt::Write as _;
    let mut t = String::new();
    let opt = |b: Option<u64>| b.map_or_else(|| "?".to_owned(), human_bytes);
    let all = format!("{} threads", m.threads);
    let cell = |s: &Stat, digits: usize| {
        format!(
            "{:>9.digits$} ({:.digits$}–{:.digits$})",
            s.median, s.min, s.max
        )
    };
    let _ = writeln!(
        t,
        "machine   {} — {}, {} logical cores{}, {}",
        m.host.hostname,
        m.host.cpu_model,
        m.host.logical_cores,
        m.load_average
            .map(|l| format!(", load {:.2} {:.2} {:.2}", l[0], l[1], l[2]))
            .unwrap_or_default(),
        m.date
    );
    let _ = writeln!(
        t,
        "caches    L1d {}, L2 {}, L3 {}; transparent huge pages: {}",
        opt(m.caches.l1d_bytes),
        opt(m.caches.l2_bytes),
        opt(m.caches.l3_bytes),
        m.transparent_hugepages.as_deref().unwrap_or("?")
    );
    let features = |avx512: bool, avx2: bool, fma: bool| {
        let f: Vec<&str> = [(avx512, "avx512f"), (avx2, "avx2"), (fma, "fma")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect();
        if f.is_empty() {
            "baseline".to_owned()
        } else {
            f.join(" ")
        }
    };
    let s = &m.simd;
    let _ = writeln!(
        t,
        "SIMD      CPU: {}; binary: {} ({}-bit vectors: {} f32 / {} f64 lanes)",
        features(s.cpu_avx512f, s.cpu_avx2, s.cpu_fma),
        features(s.compiled_avx512f, s.compiled_avx2, s.compiled_fma),
        s.vector_bits,
        s.f32_lanes,
        s.f64_lanes
    );
    let reps = m.bandwidth.read_gbs_1t.reps;
    let _ = writeln!(
        t,
        "          medians of {reps} repetitions (min–max){}",
        if m.quick { "; --quick: rough" } else { "" }
    );

    let _ = writeln!(
        t,
        "\nmemory bandwidth, GB/s (arrays of {})  {:>26} {:>26}",
        human_bytes(m.bandwidth.array_bytes),
        "1 thread",
        all
    );
    let b = &m.bandwidth;
    for (name, one, every) in [
        ("  read  (sum)", &b.read_gbs_1t, &b.read_gbs_all),
        ("  triad (a = b + s·c)", &b.triad_gbs_1t, &b.triad_gbs_all),
    ] {
        let _ = writeln!(t, "{name:<38} {:>26} {:>26}", cell(one, 1), cell(every, 1));
    }

    let _ = writeln!(
        t,
        "\nrandom access, ns per access (1 thread) {:>26} {:>26}",
        "latency (chase)", "scatter-add (independent)"
    );
    for r in &m.random_access {
        let _ = writeln!(
            t,
            "  working set {:<24} {:>26} {:>26}",
            human_bytes(r.working_set_bytes),
            cell(&r.latency_ns, 2),
            cell(&r.scatter_add_ns, 2)
        );
    }

    let a = &m.arithmetic;
    let _ = writeln!(
        t,
        "\narithmetic, GFLOP/s ({}, {} accumulators) {:>18} {:>26}",
        if a.fused { "FMA" } else { "mul + add" },
        a.accumulators,
        "1 thread",
        all
    );
    for (name, one, every) in [
        ("  f32", &a.f32_gflops_1t, &a.f32_gflops_all),
        ("  f64", &a.f64_gflops_1t, &a.f64_gflops_all),
    ] {
        let _ = writeln!(t, "{name:<38} {:>26} {:>26}", cell(one, 1), cell(every, 1));
    }
    let _ = writeln!(t, "\nmeasured in {:.1} s", m.elapsed_s);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sattolo_makes_one_cycle_through_every_element() {
        let mut rng = SplitMix64(7);
        for n in [2, 3, 10, 1000, 65_536] {
            let p = sattolo(n, &mut rng);
            let (mut i, mut steps) = (0usize, 0usize);
            loop {
                i = p[i] as usize;
                steps += 1;
                if i == 0 {
                    break;
                }
                assert!(steps < n, "n = {n}: a cycle shorter than n");
            }
            assert_eq!(steps, n, "n = {n}");
            // A permutation: every element once.
            let mut sorted = p.clone();
            sorted.sort_unstable();
            assert!(sorted.iter().enumerate().all(|(k, &v)| v as usize == k));
        }
    }

    #[test]
    fn chase_ring_visits_every_line_once_per_cycle() {
        let mut rng = SplitMix64(1);
        let ring = chase_ring(64 * 1000, &mut rng);
        assert_eq!(ring.len(), 1000 * WORDS_PER_LINE);
        let mut seen = vec![false; 1000];
        let mut i = 0;
        for _ in 0..1000 {
            assert_eq!(i % WORDS_PER_LINE, 0);
            assert!(
                !seen[i / WORDS_PER_LINE],
                "line {} twice",
                i / WORDS_PER_LINE
            );
            seen[i / WORDS_PER_LINE] = true;
            i = chase(&ring, i, 1);
        }
        assert_eq!(i, 0);
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SplitMix64(3);
        let mut hit = [false; 10];
        for _ in 0..10_000 {
            let v = rng.below(10);
            assert!(v < 10);
            hit[v] = true;
        }
        assert!(hit.iter().all(|&h| h));
    }

    #[test]
    fn kernels_compute_what_they_claim() {
        let x: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        assert_eq!(sum_f32(&x), 499_500.0);
        assert_eq!(sum_f32(&[]), 0.0);
        let (b, c) = (vec![1.0f32; 100], vec![2.0f32; 100]);
        let mut a = vec![0.0f32; 100];
        triad(&mut a, &b, &c, 3.0);
        assert!(a.iter().all(|&v| v == 7.0));
        let mut t = vec![0.0f32; 4];
        scatter_add(&mut t, &[0, 3, 3, 1], 0.5);
        assert_eq!(t, [0.5, 0.5, 0.0, 1.0]);
        // Converges towards b / (1 - m) = 1 and stays finite.
        for r in fma_chains::<f32, 16>(1000) {
            assert!(r.is_finite() && (r - 1.0).abs() < 0.1, "{r}");
        }
        for r in fma_chains::<f64, 8>(1000) {
            assert!(r.is_finite() && (r - 1.0).abs() < 0.1, "{r}");
        }
    }

    #[test]
    fn stat_median_min_max() {
        let s = Stat::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max, s.reps), (2.0, 1.0, 3.0, 3));
        assert_eq!(Stat::of(vec![4.0, 1.0, 2.0, 3.0]).median, 2.5);
        let ns = ns_per(&[1e-3, 2e-3, 4e-3], 1000);
        assert_eq!((ns.median, ns.min, ns.max), (2000.0, 1000.0, 4000.0));
    }

    #[test]
    fn time_threads_returns_one_time_per_repetition() {
        let seconds = time_threads(vec![0u64; 2], 3, |x| *x += 1);
        assert_eq!(seconds.len(), 3);
        assert!(seconds.iter().all(|s| s.is_finite() && *s > 0.0));
    }

    #[test]
    fn parsing_sysfs_values() {
        assert_eq!(parse_cache_size("32K"), Some(32 * KIB));
        assert_eq!(parse_cache_size("32768K\n"), Some(32 * MIB));
        assert_eq!(parse_cache_size("1M"), Some(MIB));
        assert_eq!(parse_cache_size("512"), Some(512));
        assert_eq!(parse_cache_size("x"), None);
        assert_eq!(
            parse_bracketed("always [madvise] never\n").as_deref(),
            Some("madvise")
        );
        assert_eq!(parse_bracketed("none"), None);
        assert_eq!(human_bytes(32 * KIB), "32 KiB");
        assert_eq!(human_bytes(256 * MIB), "256 MiB");
        assert_eq!(human_bytes(3 * GIB / 2), "1.5 GiB");
    }

    #[test]
    fn plans_follow_the_rules() {
        let host = Host::detect();
        let caches = Caches {
            l1d_bytes: Some(32 * KIB),
            l2_bytes: Some(512 * KIB),
            l3_bytes: Some(96 * MIB),
        };
        let full = Plan::new(false, &host, &caches);
        assert!(full.stream_bytes >= 256 * MIB);
        if host.memory_bytes.is_none_or(|m| m >= 8 * GIB) {
            assert!(full.stream_bytes >= 8 * 96 * MIB, "{full:?}");
            assert_eq!(full.working_sets.last(), Some(&full.stream_bytes));
        }
        assert!(full.working_sets.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(full.reps % 2, 1, "odd: the median is a measurement");
        let quick = Plan::new(true, &host, &caches);
        assert!(quick.stream_bytes < full.stream_bytes && quick.reps < full.reps);
    }

    #[test]
    fn random_access_for_picks_the_smallest_holding_size() {
        let ra = |bytes| RandomAccess {
            working_set_bytes: bytes,
            chase_steps: 1,
            scatter_accesses: 1,
            latency_ns: Stat::of(vec![1.0]),
            scatter_add_ns: Stat::of(vec![1.0]),
        };
        let caches = Caches::default();
        let host = Host::detect();
        let stat = Stat::of(vec![1.0]);
        let m = Machine {
            schema: SCHEMA,
            date: host::now_rfc3339(),
            host,
            build: Build::current(),
            quick: true,
            threads: 1,
            load_average: None,
            elapsed_s: 1.0,
            caches,
            transparent_hugepages: None,
            simd: Simd::detect(),
            bandwidth: Bandwidth {
                array_bytes: 1,
                read_gbs_1t: stat,
                read_gbs_all: stat,
                triad_gbs_1t: stat,
                triad_gbs_all: stat,
            },
            random_access: vec![ra(32 * KIB), ra(2 * MIB), ra(256 * MIB)],
            arithmetic: Arithmetic {
                fused: FUSED,
                accumulators: 12,
                f32_gflops_1t: stat,
                f64_gflops_1t: stat,
                f32_gflops_all: stat,
                f64_gflops_all: stat,
            },
        };
        let at = |b| m.random_access_for(b).unwrap().working_set_bytes;
        assert_eq!(at(16_000), 32 * KIB);
        assert_eq!(at(32 * KIB), 32 * KIB);
        assert_eq!(at(100 * KIB), 2 * MIB);
        assert_eq!(at(GIB), 256 * MIB);
        // The table renders every section; the JSON round-trips.
        let text = table(&m);
        for word in ["bandwidth", "latency", "scatter-add", "GFLOP/s", "32 KiB"] {
            assert!(text.contains(word), "{word}:\n{text}");
        }
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Machine>(&json).unwrap(), m);
    }
}
