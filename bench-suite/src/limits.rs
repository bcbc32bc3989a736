//! The valid range of every numeric input of `snn-bench run`, stated once, and the checks
//! of what a run would cost (steps, delay ring, memory) before any work starts.
//!
//! Each range is wide enough for every run the study makes and any sensible variation of
//! it, and narrow enough that no value inside it can make a run panic, overflow, allocate
//! without bound or take longer than a day. `snn-bench run --help` and the README print
//! [`table`].

use sim_core::{Connectivity, Network, Plasticity, Precision};

/// One numeric flag's range: `min ..= max` (`min` excluded when `open_min`).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub flag: &'static str,
    pub min: f64,
    pub open_min: bool,
    pub max: f64,
    pub unit: &'static str,
    /// Why these bounds.
    pub why: &'static str,
}

impl Limit {
    /// Checks `x`; the error names the flag, the value and the range.
    pub fn check(&self, x: f64) -> Result<f64, String> {
        let above_min = if self.open_min {
            x > self.min
        } else {
            x >= self.min
        };
        if x.is_finite() && above_min && x <= self.max {
            Ok(x)
        } else {
            Err(format!(
                "--{} {x:?}: expected a finite number {} ({})",
                self.flag,
                self.range(),
                self.why
            ))
        }
    }

    /// "in (0, 1e6] s".
    pub fn range(&self) -> String {
        let open = if self.open_min { '(' } else { '[' };
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!("in {open}{:?}, {:?}]{unit}", self.min, self.max)
    }
}

const fn limit(
    flag: &'static str,
    min: f64,
    open_min: bool,
    max: f64,
    unit: &'static str,
    why: &'static str,
) -> Limit {
    Limit {
        flag,
        min,
        open_min,
        max,
        unit,
        why,
    }
}

pub const SIMTIME: Limit = limit(
    "simtime",
    0.0,
    true,
    1e6,
    "s",
    "11.6 days of model time; steps are bounded separately",
);
pub const CHECKPOINT_EVERY: Limit = limit(
    "checkpoint-every",
    0.0,
    true,
    1e6,
    "s",
    "seconds of model time between checkpoints, at most the longest run",
);
pub const DT: Limit = limit(
    "dt",
    1e-3,
    false,
    1.0,
    "ms",
    "1 µs to 1 ms: the study uses 0.01–0.4 ms, and above 1 ms forward Euler is meaningless for 5-ms synapses",
);
pub const DELAY: Limit = limit(
    "delay",
    0.0,
    true,
    100.0,
    "ms",
    "axonal delays in cortex are below 100 ms; a multiple of dt, at least dt",
);
pub const COMM_LATENCY: Limit = limit(
    "comm-latency-us",
    0.0,
    false,
    1e4,
    "µs",
    "10 ms per exchange is 50× the slowest interconnect the study emulates (200 µs)",
);
pub const LEARNING_RATE: Limit = limit(
    "learning-rate",
    0.0,
    false,
    1e4,
    "",
    "10^4 times zenke25k's η = 1 (tests speed learning up 200×), 10^6 times brunel's λ",
);
pub const TAU_HOM: Limit = limit("tau-hom", 0.0, true, 1e4, "s", "the paper uses 10 and 50 s");
pub const PRIMING: Limit = limit(
    "priming",
    0.0,
    false,
    1e5,
    "s",
    "model time run before the measured run; the default is at most 30 s",
);
pub const INPUT_RATE: Limit = limit(
    "input-rate",
    0.0,
    false,
    1e5,
    "Hz",
    "5× brunel's 20-kHz drive; at dt = 1 ms that is 100 inputs per step, where a Poisson count per step is still exact",
);
/// Weights (`--w-exc`, `--w-inh` and loaded weight files): non-negative where the model
/// expects it, and representable in f32 so that one network means the same in either
/// precision. (Sums of such weights can still overflow: the NaN/inf watch of
/// `sim_core::health` stops such a run.)
pub const WEIGHT: Limit = limit(
    "w-exc",
    0.0,
    false,
    f32::MAX as f64,
    "",
    "a weight must be finite in f32 (at most 3.4e38)",
);

/// Most time steps of one run, priming included: 10^9 steps is 27.8 hours of model time
/// at 0.1 ms, and at the fastest measured step (≈ 2 µs, va) half an hour of wall time per
/// 10^9 steps, days for the large networks: beyond that a run is a mistake.
pub const MAX_STEPS: u64 = 1_000_000_000;

/// Longest delay in steps (delay / dt): each worker keeps one spike list per step of
/// the delay ring; 10^5 is a 100-ms delay at 1 µs.
pub const MAX_RING_SLOTS: u64 = 100_000;

/// Largest network file read (`--network-file`), bytes: the built-in files are a few
/// KiB; a network too big to write by hand belongs in Matrix Market files.
pub const NETWORK_FILE_BYTES: u64 = 4 << 20;

/// Most neurons of one population (and of a network, `Network::validate`): neuron ids
/// are u32.
pub const MAX_NEURONS: u64 = u32::MAX as u64 - 1;

/// Share of the machine's physical memory a run may be estimated to need.
pub const MEMORY_SHARE: f64 = 0.8;

/// Every flag's range, for `--help` and the README.
pub fn table() -> String {
    let mut rows = vec![
        SIMTIME,
        CHECKPOINT_EVERY,
        DT,
        DELAY,
        COMM_LATENCY,
        LEARNING_RATE,
        TAU_HOM,
        PRIMING,
        INPUT_RATE,
    ];
    rows.push(Limit {
        flag: "w-exc, --w-inh",
        ..WEIGHT
    });
    let mut out = String::from("Valid ranges (checked before the run starts):\n");
    for l in rows {
        out.push_str(&format!("  --{:<16} {}: {}\n", l.flag, l.range(), l.why));
    }
    out.push_str(&format!(
        "  steps = (priming + simtime) / dt at most {MAX_STEPS}; delay / dt at most \
         {MAX_RING_SLOTS}; estimated memory at most {:.0} % of physical memory.\n",
        MEMORY_SHARE * 100.0
    ));
    out
}

/// Steps of a run of `seconds` of model time at `dt` seconds, if within [`MAX_STEPS`];
/// `what` names the flags for the message.
pub fn steps(what: &str, seconds: f64, dt: f64) -> Result<u64, String> {
    let steps = (seconds / dt).round();
    if steps.is_nan() || steps > MAX_STEPS as f64 {
        return Err(format!(
            "{what}: {seconds} s at dt = {} ms is {steps:e} steps: expected at most \
             {MAX_STEPS} (shorten the run or raise dt)",
            dt * 1e3
        ));
    }
    Ok(steps as u64)
}

/// Checks the delay ring and the run's total steps, then its estimated memory against
/// this machine's physical memory.
pub fn check_plan(
    net: &Network,
    precision: Precision,
    threads: usize,
    partitions: usize,
    steps: u64,
    priming_steps: u64,
    trace_exchanges: bool,
) -> Result<(), String> {
    let total = steps.saturating_add(priming_steps);
    if total > MAX_STEPS {
        return Err(format!(
            "--simtime and --priming: {total} steps in all: expected at most {MAX_STEPS}"
        ));
    }
    let delay = net.max_delay_steps().map_err(|e| e.to_string())? as u64;
    if delay > MAX_RING_SLOTS {
        return Err(format!(
            "--delay / --dt: a delay of {delay} steps: expected at most {MAX_RING_SLOTS} \
             (a shorter delay or a larger dt)"
        ));
    }
    let ring = delay + net.min_delay_steps().map_err(|e| e.to_string())? as u64;
    let need = estimated_bytes(net, precision, partitions, steps, ring, trace_exchanges);
    let have = physical_memory();
    if have > 0 && need > MEMORY_SHARE * have as f64 {
        let trace = if trace_exchanges {
            format!(", --exchange-trace over {steps} steps")
        } else {
            String::new()
        };
        return Err(format!(
            "{} with --threads {threads} ({partitions} partition(s) in all), --precision {}{trace}: \
             needs an estimated {:.1} GiB, \
             expected at most {:.0} % of this machine's {:.1} GiB of physical memory",
            net.name,
            precision.name(),
            need / GIB,
            MEMORY_SHARE * 100.0,
            have as f64 / GIB
        ));
    }
    Ok(())
}

const GIB: f64 = (1u64 << 30) as f64;

/// Physical memory in bytes (0 if unknown: then no memory check).
fn physical_memory() -> u64 {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    sys.total_memory()
}

/// A deliberately generous estimate of what a run holds at its peak, bytes: synapses
/// (index + weight, plus the postsynaptic index and weight of plastic ones, plus the
/// loaded entries themselves), per-worker state of every neuron (presynaptic traces,
/// statistics), every partition's row index of every connection, the delay rings and,
/// if traced, the arrivals of every exchange.
pub fn estimated_bytes(
    net: &Network,
    precision: Precision,
    partitions: usize,
    steps: u64,
    ring: u64,
    trace_exchanges: bool,
) -> f64 {
    let real = match precision {
        Precision::F32 => 4.0,
        Precision::F64 => 8.0,
    };
    let sizes: Vec<f64> = net.populations.iter().map(|p| p.size as f64).collect();
    let mut bytes = 0.0;
    for c in &net.connections {
        let (synapses, loaded) = match &c.connectivity {
            Connectivity::FixedProbability { p, .. } => (sizes[c.pre] * sizes[c.post] * p, 0.0),
            Connectivity::Explicit(e) => (e.len() as f64, 16.0),
        };
        let per_synapse = match (&c.plasticity, &c.connectivity) {
            (Some(Plasticity::Pair(_) | Plasticity::Triplet(_)), _) => 4.0 + real + 8.0,
            (None, Connectivity::Explicit(_)) => 4.0 + real,
            (None, _) => 4.0,
        };
        bytes += synapses * (per_synapse * 1.5 + loaded);
    }
    let neurons = net.neuron_count() as f64;
    let workers = partitions as f64;
    bytes += neurons * (8.0 * real + 48.0) + workers * neurons * (2.0 * real + 8.0);
    // Each partition indexes the rows of every presynaptic neuron (u32 per row start).
    let rows: f64 = net.connections.iter().map(|c| sizes[c.pre] + 1.0).sum();
    bytes += workers * rows * 4.0;
    bytes += workers * ring as f64 * 64.0;
    if trace_exchanges {
        let min_delay = net.min_delay_steps().unwrap_or(1).max(1) as f64;
        bytes += workers * steps as f64 / min_delay * 16.0;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_flag_value_and_bounds() {
        let e = SIMTIME.check(1e300).unwrap_err();
        assert!(
            e.contains("--simtime 1e300") && e.contains("(0.0, 1000000.0]"),
            "{e}"
        );
        assert!(SIMTIME.check(0.0).is_err() && SIMTIME.check(f64::NAN).is_err());
        assert_eq!(DT.check(0.001), Ok(0.001));
        assert!(COMM_LATENCY.check(1e26).unwrap_err().contains("µs"));
        assert!(table().contains("--comm-latency-us"));
    }

    /// The estimate is in the range of what the README measured (zenke25k static peaks
    /// at 141 MB, plastic at 382 MB), grows with what it should, and the standard runs
    /// pass the check on any machine with a few GB.
    #[test]
    fn memory_estimates_are_plausible() {
        use crate::networks::{by_name, Generator, InitV, Options, Overrides, Traces};
        let opts = |plastic| Options {
            dt: 1e-4,
            delay: 8e-4,
            seed: 1,
            init_v: InitV::Uniform,
            generator: Generator::Lattice,
            plastic,
            overrides: Overrides::default(),
        };
        let mb = |name, plastic, threads, trace| {
            let net = by_name(name, &opts(plastic)).unwrap().net;
            estimated_bytes(&net, Precision::F32, threads, 600_000, 16, trace) / 1e6
        };
        let zenke = mb("zenke25k", None, 1, false);
        let plastic = mb("zenke25k", Some(Traces::Continuous), 1, false);
        assert!((100.0..600.0).contains(&zenke), "{zenke} MB");
        assert!(plastic > zenke && plastic < 1500.0, "{plastic} MB");
        assert!(mb("va", None, 1, false) < 50.0);
        assert!(mb("va", None, 2, false) > mb("va", None, 1, false));
        assert!(mb("va", None, 2, true) > mb("va", None, 2, false));
        // Partitions cost memory of their own (row indices, state): 4000 partitions of
        // va hold 4000 row indices of 8000 entries.
        assert!(mb("va", None, 4000, false) > 4000.0 * 8000.0 * 4.0 / 1e6);
        let net = by_name("zenke25k", &opts(Some(Traces::Continuous)))
            .unwrap()
            .net;
        check_plan(&net, Precision::F64, 2, 2, 100_000, 300_000, true).unwrap();
    }

    #[test]
    fn steps_are_bounded() {
        assert_eq!(steps("--simtime", 60.0, 1e-4), Ok(600_000));
        let e = steps("--simtime", 1e6, 1e-6).unwrap_err();
        assert!(e.contains("at most 1000000000"), "{e}");
    }
}
