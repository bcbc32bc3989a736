//! What a checkpoint costs: the numbers behind the README's performance notes on
//! `Simulation::save` / `Simulation::restore`.
//!
//! ```text
//! cargo build --release -p bench-suite --example checkpoint_cost
//! target/release/examples/checkpoint_cost zenke25k   # or va; one network a process
//! ```
//!
//! Builds the network (zenke25k plastic: continuous traces; va static; seed 1, dt 0.1 ms,
//! delay 0.8 ms) on one thread, runs 0.1 s, then times `save` to a temporary directory
//! (fsyncs included), `checkpoint::read` alone, and `restore` (read + build + load)
//! against a plain `Simulation::new`. It sizes the checkpoint on disk against the state
//! it holds (the arrays' lengths × element size) and the process's peak RSS, and checks
//! that the restored simulation and the saved one give the same spike count over
//! another 0.05 s.

use std::path::Path;
use std::time::Instant;

use bench_suite::networks::{self, Generator, InitV, Options, Overrides, Traces};
use sim_core::timers::On;
use sim_core::{Context, Quiet, RunOptions, Simulation};

/// Seconds `f` takes, and what it returns.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let x = f();
    (t.elapsed().as_secs_f64(), x)
}

/// A `/proc/self/status` field in MiB (VmHWM: peak resident set; VmRSS: now).
fn vm_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// (name, file bytes on disk, state bytes: length × element size) of every array, and
/// the manifest's bytes.
fn sizes(dir: &Path) -> (Vec<(String, u64, u64)>, u64) {
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let arrays = m["arrays"].as_array().unwrap().iter().map(|a| {
        let len: u64 = a["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .product();
        let item: u64 = a["dtype"].as_str().unwrap()[2..].parse().unwrap();
        let file = std::fs::metadata(dir.join(a["file"].as_str().unwrap()))
            .unwrap()
            .len();
        (a["name"].as_str().unwrap().to_string(), file, len * item)
    });
    (arrays.collect(), manifest.len() as u64)
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "zenke25k".into());
    let o = Options {
        dt: 1e-4,
        delay: 8e-4,
        seed: 1,
        init_v: InitV::Uniform,
        generator: Generator::Lattice,
        plastic: (name == "zenke25k").then_some(Traces::Continuous),
        overrides: Overrides::default(),
    };
    let net = networks::by_name(&name, &o).unwrap().net;
    let ctx = Context::threads(1);
    let new = || Simulation::<f32, On>::new(&net, &ctx, On::default(), false).unwrap();
    let rss0 = vm_mib("VmRSS");
    let (t_new, mut sim) = timed(new);
    let rss_sim = vm_mib("VmRSS") - rss0;
    let (t_run, _) = timed(|| sim.run(1_000, &RunOptions::default(), &Quiet));

    let tmp = tempfile::tempdir().unwrap();
    let ck = tmp.path().join("ck");
    let (t_save, saved) = timed(|| sim.save(&ck, serde_json::json!({ "network": name })));
    saved.unwrap();
    let (t_read, read) = timed(|| sim_core::checkpoint::read(&ck));
    drop(read.unwrap());
    let (t_restore, back) =
        timed(|| Simulation::<f32, On>::restore(&ck, &net, &ctx, On::default(), false));
    let mut back = back.unwrap();

    // The saved run and the restored one go on alike.
    let a = sim.run(500, &RunOptions::default(), &Quiet).spike_count();
    let b = back.run(500, &RunOptions::default(), &Quiet).spike_count();
    assert_eq!(a, b, "restored run diverges: {b} spikes vs {a}");

    let (mut arrays, manifest) = sizes(&ck);
    let disk: u64 = arrays.iter().map(|a| a.1).sum::<u64>() + manifest;
    let state: u64 = arrays.iter().map(|a| a.2).sum();
    // `pre` and `post_synapse_count` re-describe the connectivity (checked on load);
    // the rest is what changes as the simulation runs.
    let described = |n: &str| n.ends_with("/pre") || n.ends_with("/post_synapse_count");
    let dynamic: u64 = arrays
        .iter()
        .filter(|a| !described(&a.0))
        .map(|a| a.2)
        .sum();
    let synapses: u64 = arrays
        .iter()
        .filter(|a| a.0.ends_with("/weight"))
        .map(|a| a.2 / 4)
        .sum();
    let kib = |b: u64| b as f64 / 1024.0;
    println!("checkpoint_cost {name} (1 thread, f32, seed 1; 0.1 s run in {t_run:.3} s)");
    println!(
        "  Simulation::new          {:10.2} ms  (+{rss_sim:.1} MiB RSS)",
        t_new * 1e3
    );
    println!("  save                     {:10.2} ms", t_save * 1e3);
    println!("  checkpoint::read         {:10.2} ms", t_read * 1e3);
    println!("  restore (read+new+load)  {:10.2} ms", t_restore * 1e3);
    println!(
        "  checkpoint on disk       {:10.1} KiB  ({} arrays + manifest of {manifest} B)",
        kib(disk),
        arrays.len()
    );
    println!("  arrays (len × item size) {:10.1} KiB", kib(state));
    println!("    of which dynamic state {:10.1} KiB", kib(dynamic));
    println!(
        "    plastic synapses × 4 B {:10.1} KiB  ({synapses} synapses)",
        kib(synapses * 4)
    );
    println!("  peak RSS (VmHWM)         {:10.1} MiB", vm_mib("VmHWM"));
    println!("  0.05 s on, saved vs restored: {a} = {b} spikes");
    println!("  largest arrays on disk:");
    arrays.sort_by_key(|a| std::cmp::Reverse(a.1));
    for (n, file, _) in arrays.iter().take(5) {
        println!("    {n:<23}{:10.1} KiB", kib(*file));
    }
}
