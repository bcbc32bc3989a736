//! Each phase's cost beside this machine's limits (`snn-bench machine`): evolve per
//! neuron-step against streaming bandwidth and arithmetic, propagate per synaptic event
//! against the cost of a scattered add into an array of the input's size, plasticity per
//! plastic event against the same for the weight array.

use serde_json::Value;

use super::Context;

/// A table: header and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The median of a `Stat` object in machine.json.
pub(crate) fn stat(v: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))?
        .get("median")?
        .as_f64()
}

/// The machine's limits, one row each.
pub fn machine(m: &Value) -> Table {
    let mut rows = Vec::new();
    let fmt = |x: Option<f64>, unit: &str| x.map_or("—".into(), |x| format!("{x:.2} {unit}"));
    rows.push(vec![
        "streaming read, 1 thread / all".into(),
        format!(
            "{} / {}",
            fmt(stat(m, "bandwidth.read_gbs_1t"), "GB/s"),
            fmt(stat(m, "bandwidth.read_gbs_all"), "GB/s")
        ),
        "evolve streams every neuron's state once per step".into(),
    ]);
    rows.push(vec![
        "FMA f32 / f64, 1 thread".into(),
        format!(
            "{} / {}",
            fmt(stat(m, "arithmetic.f32_gflops_1t"), "GFLOP/s"),
            fmt(stat(m, "arithmetic.f64_gflops_1t"), "GFLOP/s")
        ),
        "the arithmetic ceiling of evolve (f64 has half the lanes)".into(),
    ]);
    for ra in m
        .get("random_access")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let bytes = ra
            .get("working_set_bytes")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        rows.push(vec![
            format!("random access in {}", human(bytes)),
            format!(
                "scatter-add {} · dependent load {}",
                fmt(stat(ra, "scatter_add_ns"), "ns"),
                fmt(stat(ra, "latency_ns"), "ns")
            ),
            "propagate adds into the target's input array; plasticity updates weights \
             scattered through the weight array"
                .into(),
        ]);
    }
    Table {
        header: vec!["limit".into(), "measured".into(), "what it bounds".into()],
        rows,
    }
}

pub(crate) fn human(bytes: f64) -> String {
    if bytes >= 1048576.0 {
        format!("{:.0} MiB", bytes / 1048576.0)
    } else {
        format!("{:.0} KiB", bytes / 1024.0)
    }
}

/// Each network's phase costs on one worker (medians over repetitions).
pub fn phases(ctx: &Context) -> Table {
    let mut rows = Vec::new();
    for g in ctx.groups(|k| {
        k.workers() == 1
            && k.timers
            && k.latency_ps == 0
            && k.delay_ns == 800_000
            && k.dt_ns == 100_000
    }) {
        let ns = |f: &dyn Fn(&crate::records::RunRecord) -> Option<f64>| {
            g.median(f).map_or("—".to_string(), |x| format!("{x:.2}"))
        };
        let plastic = ns(&|r| {
            let events = r.f64("result.plastic_events").filter(|&e| e > 0.0)?;
            Some(r.phase("plasticity", "mean")? * 1e9 / events)
        });
        rows.push(vec![
            format!(
                "{} {}, {} s",
                g.key.label(),
                g.key.precision,
                g.key.simtime_ns as f64 / 1e9
            ),
            ns(&|r| r.f64("result.ns_per_neuron_step")),
            ns(&|r| r.f64("result.ns_per_synaptic_event")),
            plastic,
            format!("{}", g.records.len()),
        ]);
    }
    Table {
        header: vec![
            "network (1 worker)".into(),
            "evolve ns / neuron-step".into(),
            "propagate ns / synaptic event".into(),
            "plasticity ns / plastic event".into(),
            "runs".into(),
        ],
        rows,
    }
}
