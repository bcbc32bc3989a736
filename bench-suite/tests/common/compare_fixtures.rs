//! Results directories for the comparison's tests: records of made-up machines and
//! builds, shaped as `snn-bench run` writes them, with run times from the paper's model
//! T(n) = α/n + β·log2 n + γ·(n−1)/n and a few percent of noise.

use std::path::Path;

use serde_json::{json, Value};

/// A made-up machine. All share the host name "vm", as our VMs do: the comparison
/// must tell them apart by what they are.
pub struct Machine {
    pub cpu: &'static str,
    pub cores: u64,
    pub kernel: &'static str,
}

pub const WORKSTATION: Machine = Machine {
    cpu: "Fixture CPU W",
    cores: 2,
    kernel: "6.1.0-ws",
};

pub const CLUSTER_NODE: Machine = Machine {
    cpu: "Fixture CPU C",
    cores: 16,
    kernel: "6.1.0-node",
};

/// One side's records: a machine, a build, which configurations, how fast.
pub struct Side {
    pub machine: Machine,
    /// 40 hex digits.
    pub commit: &'static str,
    pub workers: &'static [u64],
    pub repetitions: usize,
    /// Run times are multiplied by this (per network: `slow_va` for va only).
    pub speed: f64,
    pub slow_va: f64,
    /// Also va in f64 on 1 worker: a configuration only this side has.
    pub extra_f64: bool,
    /// Noise seed.
    pub seed: u64,
}

/// Deterministic noise in [-1, 1) (a multiplicative hash of the inputs).
fn noise(seed: u64, i: u64) -> f64 {
    let mut x = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i.wrapping_mul(0xD1B5_4A32_D192_ED03));
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// (network, plastic, neurons, synapses, 1-worker RTF of the fixture's machine).
const NETWORKS: [(&str, bool, u64, u64, f64); 4] = [
    ("va", false, 4000, 320_000, 0.03),
    ("brunel", false, 12_500, 1_250_000, 0.9),
    ("zenke25k", false, 25_000, 20_000_000, 0.45),
    ("zenke25k", true, 25_000, 20_000_000, 1.9),
];

/// What a record is of: network, plastic, (neurons, synapses), precision.
type Of<'a> = (&'a str, bool, (u64, u64), &'a str);

/// The record of repetition `rep` of `of` on `n` workers with this RTF.
fn record(side: &Side, of: Of, rtf: f64, n: u64, rep: usize) -> Value {
    let (net, plastic, sizes, precision) = of;
    let simtime = 2.0;
    let wall = rtf * simtime;
    // Sync grows with the workers, as the paper's Fig. 6 shows.
    let sync_share = 0.02 + 0.03 * (n as f64).log2();
    let compute = wall * (1.0 - sync_share);
    let (evolve, propagate, plasticity) = if plastic {
        (0.2 * compute, 0.2 * compute, 0.6 * compute)
    } else {
        (0.7 * compute, 0.3 * compute, 0.0)
    };
    let phase = |x: f64| json!({"min": x, "mean": x, "max": x});
    let steps = (simtime / 1e-4) as u64;
    let events = sizes.1 * 10;
    json!({
        "schema": 1,
        "date": format!("2026-12-0{}T10:{:02}:00Z", 1 + side.seed % 3, rep),
        "host": {
            "hostname": "vm",
            "cpu_model": side.machine.cpu,
            "logical_cores": side.machine.cores,
            "physical_cores": side.machine.cores,
            "memory_bytes": 64u64 << 30,
            "os": "Debian GNU/Linux 12 (bookworm)",
            "kernel": side.machine.kernel,
        },
        "build": {
            "git_commit": side.commit,
            "git_dirty": "false",
            "profile": "release",
            "rustc": "rustc 1.95.0 (59807616e 2026-04-14)",
            "rustflags": "-C target-cpu=native",
        },
        "config": {
            "network": net,
            "neurons": sizes.0,
            "precision": precision,
            "plastic": plastic,
            "traces": if plastic { "event-based" } else { "" },
            "threads": n,
            "ranks": 1,
            "hosts": 1,
            "partitions": n,
            "partitioner": "block",
            "delay_s": 0.0008,
            "dt_s": 0.0001,
            "simtime_s": simtime,
            "steps": steps,
            "injected_latency_us": 0.0,
            "timers": true,
            "initial_v": "uniform",
            "seed": 1,
            "repetition": rep,
        },
        "result": {
            "rtf": rtf,
            "run": {"wall_s": wall, "cpu_s": wall * n as f64},
            "setup": {"wall_s": 0.01, "cpu_s": 0.01},
            "phases": {
                "evolve": phase(evolve),
                "propagate": phase(propagate),
                "plasticity": phase(plasticity),
                "barrier": phase(wall * sync_share * 0.7),
                "sync": phase(wall * sync_share * 0.3),
            },
            "ns_per_neuron_step": evolve * 1e9 * n as f64 / (sizes.0 * steps) as f64,
            "ns_per_synaptic_event": propagate * 1e9 * n as f64 / events as f64,
            "synapses": sizes.1,
            "synaptic_events": events,
            "plastic_events": if plastic { events } else { 0 },
            "spikes": 1000,
            "conditions": {"loaded": false, "load_before": [0.1, 0.1, 0.1], "load_after": [0.2, 0.1, 0.1]},
        },
    })
}

/// Writes `side`'s records into `dir/runs.jsonl` (and, for the workstation, its
/// machine.json: the roofline's limits).
pub fn write(dir: &Path, side: &Side) {
    std::fs::create_dir_all(dir).unwrap();
    let mut lines = Vec::new();
    let mut i = 0;
    for (net, plastic, neurons, synapses, t1) in NETWORKS {
        let slow = if net == "va" { side.slow_va } else { 1.0 };
        for &n in side.workers {
            let nf = n as f64;
            // α = t1 (all of 1 worker's time), β = 2 % and γ = 1 % of it.
            let model = t1 * (1.0 / nf + 0.02 * nf.log2() + 0.01 * (nf - 1.0) / nf);
            for rep in 0..side.repetitions {
                i += 1;
                let rtf = model * side.speed * slow * (1.0 + 0.02 * noise(side.seed, i));
                let of = (net, plastic, (neurons, synapses), "f32");
                lines.push(record(side, of, rtf, n, rep));
            }
        }
    }
    if side.extra_f64 {
        for rep in 0..side.repetitions {
            i += 1;
            let rtf = 0.045 * side.speed * (1.0 + 0.02 * noise(side.seed, i));
            lines.push(record(
                side,
                ("va", false, (4000, 320_000), "f64"),
                rtf,
                1,
                rep,
            ));
        }
    }
    let text: String = lines.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(dir.join("runs.jsonl"), text).unwrap();
    if side.machine.cores == WORKSTATION.cores {
        let stat = |x: f64| json!({"median": x, "min": x, "max": x, "reps": 3});
        let machine = json!({
            "schema": 1,
            "host": record(side, ("va", false, (1, 1), "f32"), 1.0, 1, 0)["host"].clone(),
            "bandwidth": {"read_gbs_1t": stat(10.0), "read_gbs_all": stat(15.0)},
            "arithmetic": {"f32_gflops_1t": stat(60.0), "f64_gflops_1t": stat(30.0)},
            "random_access": [
                {"working_set_bytes": 32768.0, "scatter_add_ns": stat(0.9), "latency_ns": stat(1.2)},
                {"working_set_bytes": 1048576.0, "scatter_add_ns": stat(1.5), "latency_ns": stat(4.0)},
                {"working_set_bytes": 268435456.0, "scatter_add_ns": stat(6.0), "latency_ns": stat(90.0)},
            ],
        });
        std::fs::write(dir.join("machine.json"), machine.to_string()).unwrap();
    }
}

/// Commit ids of the fixtures' two builds.
pub const COMMIT_A: &str = "aaaaaaaaa0000000000000000000000000000000";
pub const COMMIT_B: &str = "bbbbbbbbb0000000000000000000000000000000";

/// The workstation at build A: 1 and 2 workers, 5 repetitions, and va in f64.
pub fn workstation_a() -> Side {
    Side {
        machine: WORKSTATION,
        commit: COMMIT_A,
        workers: &[1, 2],
        repetitions: 5,
        speed: 1.0,
        slow_va: 1.0,
        extra_f64: true,
        seed: 1,
    }
}

/// The workstation at build B: va 20 % slower, the rest the same (other noise).
pub fn workstation_b() -> Side {
    Side {
        commit: COMMIT_B,
        slow_va: 1.2,
        extra_f64: false,
        seed: 2,
        ..workstation_a()
    }
}

/// The workstation at build A again, other noise: the same distribution as A.
pub fn workstation_a_again() -> Side {
    Side {
        extra_f64: false,
        seed: 3,
        ..workstation_a()
    }
}

/// A 16-core cluster node at build A: 1…16 workers, 3 repetitions, 0.8× the time.
pub fn cluster_node() -> Side {
    Side {
        machine: CLUSTER_NODE,
        commit: COMMIT_A,
        workers: &[1, 2, 4, 8, 16],
        repetitions: 3,
        speed: 0.8,
        slow_va: 1.0,
        extra_f64: false,
        seed: 4,
    }
}
