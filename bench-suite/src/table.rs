//! Human-readable summaries of records: one run, or a table of configurations with
//! medians over repetitions.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::record::Record;

/// A few lines describing one run.
pub fn summary(r: &Record) -> String {
    let c = &r.config;
    let o = &r.result;
    let all = o.overall();
    let mut s = format!(
        "{} {} {} rank(s) x {} thread(s) ({}), {} s model time: run {:.3} s wall (RTF {:.4}), setup {:.3} s\n",
        c.network,
        c.precision,
        c.ranks,
        c.threads,
        c.communicator,
        c.simtime_s,
        o.run.wall_s,
        o.rtf,
        o.setup.wall_s
    );
    let _ = writeln!(
        s,
        "rate {:.2} Hz, {:.1} % active, CV-ISI {}, {} spikes, {} synaptic events, {} synapses, peak {:.0} MB",
        all.mean_rate_hz,
        100.0 * all.active_fraction,
        all.mean_cv_isi.map_or("-".into(), |v| format!("{v:.3}")),
        o.spikes,
        o.synaptic_events,
        o.synapses,
        o.peak_rss_bytes as f64 / 1e6
    );
    let _ = writeln!(
        s,
        "{:.2} ns per neuron-step (evolve), {:.2} ns per synaptic event (propagate)",
        o.ns_per_neuron_step, o.ns_per_synaptic_event
    );
    if let Some(c) = &o.conditions {
        let _ = writeln!(s, "conditions: {}", c.describe());
    }
    let _ = write!(s, "{}", o.phases);
    s
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        0.5 * (xs[n / 2 - 1] + xs[n / 2])
    }
}

/// One row per configuration (simulator, network and partitioner, precision, ranks,
/// threads, delay, injected latency, model time, timers), with
/// the median over its repetitions of wall time, RTF, each phase's share of the summed
/// phase time (mean over workers) and the mean rate. Records of several machines
/// ([`analysis::records::machine_label`]; many share a host name) get a table each,
/// headed by the machine, so that no median pools two machines.
pub fn table(records: &[Record]) -> String {
    let mut machines: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for r in records {
        let host = serde_json::to_value(&r.host).unwrap_or_default();
        let label = analysis::records::machine_label(&host);
        machines.entry(label).or_default().push(r.clone());
    }
    if machines.len() <= 1 {
        return one_machine(records);
    }
    machines
        .iter()
        .map(|(m, rs)| format!("machine: {m} ({} records)\n{}", rs.len(), one_machine(rs)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// [`table`] of one machine's records.
fn one_machine(records: &[Record]) -> String {
    // Times as integer nanoseconds, so that rows sort numerically.
    type Key = (String, String, usize, usize, u64, u64, u64, bool);
    let ns = |seconds: f64| (seconds * 1e9).round() as u64;
    let mut groups: BTreeMap<Key, Vec<&Record>> = BTreeMap::new();
    for r in records {
        let c = &r.config;
        // A network's variant (its Poisson generator) is part of its name in the table.
        let mut network = match &c.generator {
            Some(g) => format!("{}/{g}", c.network),
            None => c.network.clone(),
        };
        // A peer (NEST, Brian2: `snn-bench peer`) has neither snn-limits' traces nor its
        // partitioners, and its runs are rows of their own, named after it: a median of
        // one row is one simulator's.
        match &c.simulator {
            Some(peer) => {
                network = format!("{} {network}", peer.name);
                if c.plastic {
                    network += "+stdp";
                }
            }
            None => {
                if c.plastic {
                    network += &format!("+stdp/{}", c.traces.as_deref().unwrap_or("?"));
                }
                // Runs under different partitioners are different rows.
                if c.partitioner != "block" {
                    network += &format!(" {}", c.partitioner);
                }
            }
        }
        let key = (
            network,
            c.precision.clone(),
            c.ranks,
            c.threads,
            ns(c.delay_s),
            ns(c.injected_latency_us * 1e-6),
            ns(c.simtime_s),
            c.timers,
        );
        groups.entry(key).or_default().push(r);
    }
    let mut s = format!(
        "{:<26} {:<5} {:>5} {:>7} {:>8} {:>7} {:>7} {:>6} {:>3} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>6}\n",
        "network", "prec", "ranks", "threads", "delay ms", "lat us", "model s", "timers", "n",
        "wall s", "RTF", "evolve%", "propag%", "plast%", "barrier%", "sync%", "rate Hz", "loaded"
    );
    let mut any_loaded = false;
    for ((net, prec, ranks, threads, delay, latency, simtime, timers), all) in &groups {
        // Runs on a loaded machine do not count where quiet runs of the configuration
        // exist; where none do, the row is theirs and says so.
        let loaded = all.iter().filter(|r| r.result.loaded()).count();
        let quiet: Vec<&Record> = all.iter().copied().filter(|r| !r.result.loaded()).collect();
        let rs = if quiet.is_empty() { all } else { &quiet };
        any_loaded |= loaded > 0;
        let med =
            |f: &dyn Fn(&Record) -> f64| median(&mut rs.iter().map(|r| f(r)).collect::<Vec<_>>());
        let share = |k: usize| {
            med(&|r: &Record| {
                let m = r.result.phases.means();
                100.0 * m.values()[k] / m.total().max(f64::MIN_POSITIVE)
            })
        };
        let _ = writeln!(
            s,
            "{:<26} {:<5} {:>5} {:>7} {:>8} {:>7} {:>7} {:>6} {:>3} {:>8.3} {:>8.4} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7.2} {:>6}",
            net,
            prec,
            ranks,
            threads,
            // Integer nanoseconds back to ms, µs and s, printed without float noise.
            format!("{}", *delay as f64 / 1e6),
            format!("{}", *latency as f64 / 1e3),
            format!("{}", *simtime as f64 / 1e9),
            if *timers { "on" } else { "off" },
            rs.len(),
            med(&|r| r.result.run.wall_s),
            med(&|r| r.result.rtf),
            share(0),
            share(1),
            share(2),
            share(3),
            share(4),
            med(&|r| r.result.overall().mean_rate_hz),
            match (loaded, quiet.is_empty()) {
                (0, _) => "-".to_string(),
                (n, false) => format!("{n} out"),
                (_, true) => "all".to_string(),
            },
        );
    }
    if any_loaded {
        let _ = writeln!(
            s,
            "loaded: runs during which other processes kept ≥ {} cores busy (or steal ≥ {}); \
             \"k out\": k such runs left out of the medians, \"all\": only such runs exist",
            crate::conditions::LOADED_OTHERS_CORES,
            crate::conditions::LOADED_STEAL_CORES
        );
    }
    s
}
