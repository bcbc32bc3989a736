//! The comparison's figures: the paper's Fig. 4, 6 and 8 with one series per side, each
//! machine's roofline, and the smaller machines' run-time models predicting the larger
//! ones' core counts.

use std::path::Path;

use serde_json::Value;

use super::Side;
use crate::fit::{self, Topology};
use crate::plots::{BarChart, BarSeries, LineChart, Point, Series};
use crate::records::{ConfigKey, Group};
use crate::report::figures::{
    fitted, outcome, oversubscribed, panel, plain, point, scaling, sync_rtf,
};
use crate::report::roofline::{human, stat, Table};
use crate::report::FigureOutcome;

const NETWORKS: [&str; 3] = ["va", "brunel", "zenke25k"];

pub fn all(sides: &[Side], dir: &Path) -> Vec<FigureOutcome> {
    vec![
        fig4(sides, dir),
        fig6(sides, dir),
        fig8(sides, dir),
        roofline(sides),
        extrapolation(sides),
    ]
}

/// A side's strong-scaling groups of `net` as Fig. 4 takes them: standard settings,
/// static, threads in one process, its longest model time.
fn scaling_groups<'a>(side: &'a Side, net: &str) -> Vec<&'a Group> {
    let groups = side
        .ctx
        .groups(|k| k.network == net && plain(k) && k.hosts <= 1 && k.ranks == 1);
    let longest = groups.iter().map(|g| g.key.simtime_ns).max();
    groups
        .into_iter()
        .filter(|g| Some(g.key.simtime_ns) == longest)
        .collect()
}

fn fig4(sides: &[Side], dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 4",
        "Strong scaling per machine",
        "For each network: median RTF (min–max over repetitions) against workers on each \
         side, with that side's fitted model T(n) = α/n + β·log2 n + γ·(n−1)/n (dashed). \
         Threads in one process, standard settings, each side's longest model time; runs \
         with more workers than cores are left out.",
    );
    for net in NETWORKS {
        let mut chart = LineChart::new(format!("{net}: strong scaling"))
            .x_label("workers")
            .y_label("RTF")
            .log_x()
            .log_y();
        let mut any = false;
        for (i, side) in sides.iter().enumerate() {
            let (pts, raw) = scaling(&scaling_groups(side, net));
            if pts.is_empty() {
                continue;
            }
            any = true;
            let name = side.legend();
            chart = chart.series(Series::with_points(name.clone(), pts).color(i));
            let (curves, _, note) = fitted(&name, &raw, i);
            for c in curves {
                chart = chart.series(c);
            }
            out.caption.push_str(&format!(" {net}, {note}."));
        }
        if any {
            panel(&mut out, dir, &format!("fig4-{net}"), chart);
        } else {
            out.missing
                .push(format!("{net}: no side has scaling records"));
        }
    }
    out
}

fn fig6(sides: &[Side], dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 6",
        "Synchronisation share per machine",
        "Barrier + sync time as a share of the run time (means over workers, medians over \
         repetitions) against workers, for va and zenke25k on each side (threads in one \
         process, standard settings). A machine whose share grows faster with workers \
         stops scaling sooner.",
    );
    let mut chart = LineChart::new("Barrier + sync share of the run time")
        .x_label("workers")
        .y_label("share of run time")
        .log_x();
    let mut any = false;
    for (i, side) in sides.iter().enumerate() {
        for (j, net) in ["va", "zenke25k"].iter().enumerate() {
            let mut pts: Vec<Point> = scaling_groups(side, net)
                .into_iter()
                .filter(|g| !oversubscribed(g))
                .filter_map(|g| point(g.key.workers() as f64, g, |r| Some(sync_rtf(r)? / r.rtf()?)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            any = true;
            pts.sort_by(|a, b| a.x.total_cmp(&b.x));
            chart = chart.series(
                Series::with_points(format!("{} {net}", side.legend()), pts).color(2 * i + j),
            );
        }
    }
    if any {
        panel(&mut out, dir, "fig6-sync-share", chart);
    } else {
        out.missing
            .push("no side has scaling records with phase times".into());
    }
    out
}

fn fig8(sides: &[Side], dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 8",
        "Phase costs per machine",
        "Each phase's time per model second (mean over workers, median over repetitions) \
         for each side and worker count: va and zenke25k static, zenke25k plastic (f32, \
         standard settings, each side's shortest model time).",
    );
    let phases = ["evolve", "propagate", "plasticity", "barrier", "sync"];
    type Keep = fn(&ConfigKey) -> bool;
    let variants: [(&str, &str, Keep); 3] = [
        ("va", "va", |k| !k.plastic),
        ("zenke25k", "zenke25k static", |k| !k.plastic),
        ("zenke25k", "zenke25k plastic", |k| k.plastic),
    ];
    let mut any = false;
    for (net, title, keep) in variants {
        let mut categories = Vec::new();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); phases.len()];
        for side in sides {
            let groups = side.ctx.groups(|k| {
                k.network == net
                    && keep(k)
                    && k.delay_ns == 800_000
                    && k.latency_ps == 0
                    && k.timers
                    && k.precision == "f32"
                    && k.hosts <= 1
            });
            let shortest = groups.iter().map(|g| g.key.simtime_ns).min();
            let mut groups: Vec<&Group> = groups
                .into_iter()
                .filter(|g| Some(g.key.simtime_ns) == shortest && !oversubscribed(g))
                .collect();
            groups.sort_by_key(|g| g.key.workers());
            groups.dedup_by_key(|g| g.key.workers());
            for g in groups {
                categories.push(format!("{} {} w", side.letter, g.key.workers()));
                for (p, ph) in phases.iter().enumerate() {
                    values[p].push(
                        g.median(|r| Some(r.phase(ph, "mean")? / r.f64("config.simtime_s")?))
                            .unwrap_or(0.0),
                    );
                }
            }
        }
        if categories.is_empty() {
            out.missing.push(format!("{title}: no side has records"));
            continue;
        }
        any = true;
        let mut chart = BarChart::new(title, categories)
            .y_label("s per model second")
            .stacked();
        for (p, ph) in phases.iter().enumerate() {
            chart = chart.series(BarSeries::new(*ph, std::mem::take(&mut values[p])).color(p));
        }
        panel(
            &mut out,
            dir,
            &format!("fig8-{}", title.replace(' ', "-")),
            chart,
        );
    }
    if !any {
        out.missing.push("no phase records on any side".into());
    }
    out
}

/// The machine's scatter-add cost (ns) in the smallest measured working set that holds
/// `bytes`, else in the largest measured; and that working set.
fn scatter_add(machine: &Value, bytes: f64) -> Option<(f64, f64)> {
    let mut sets: Vec<(f64, f64)> = machine
        .get("random_access")?
        .as_array()?
        .iter()
        .filter_map(|ra| {
            Some((
                ra.get("working_set_bytes")?.as_f64()?,
                stat(ra, "scatter_add_ns")?,
            ))
        })
        .collect();
    sets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ws, ns) = sets
        .iter()
        .find(|(ws, _)| *ws >= bytes)
        .or(sets.last())
        .copied()?;
    Some((ns, ws))
}

/// Each side's phase costs on one worker beside that machine's own limits
/// (`machine.json` in its directory, `snn-bench machine`).
fn roofline(sides: &[Side]) -> FigureOutcome {
    let mut out = outcome(
        "Roofline",
        "Phase costs against each machine's own limits",
        "One worker, standard settings, medians. Propagate's limit is the machine's \
         scatter-add in a working set the size of the network's input arrays (neurons × \
         precision); plasticity's, in one the size of the weights (synapses × precision). \
         The fraction is limit / measured: 1 means the phase runs at the machine's measured \
         limit, so a faster machine further from its limits shows a smaller fraction. \
         Evolve has no fraction: `snn-bench machine` measures streaming from memory, and \
         these networks' neuron state fits in cache.",
    );
    let mut rows = Vec::new();
    for side in sides {
        let machine = side.ctx.machine.as_ref();
        if machine.is_none() {
            out.missing.push(format!(
                "{}: no machine.json of this machine in its directory (`snn-bench machine`)",
                side.letter
            ));
        }
        for g in side.ctx.groups(|k| {
            k.workers() == 1 && k.is_standard() && NETWORKS.contains(&k.network.as_str())
        }) {
            let bytes = if g.key.precision == "f64" { 8.0 } else { 4.0 };
            let med = |f: &dyn Fn(&crate::records::RunRecord) -> Option<f64>| g.median(f);
            let evolve = med(&|r| r.f64("result.ns_per_neuron_step"));
            let event = med(&|r| r.f64("result.ns_per_synaptic_event"));
            let plastic = med(&|r| {
                let events = r.f64("result.plastic_events").filter(|&e| e > 0.0)?;
                Some(r.phase("plasticity", "mean")? * 1e9 / events)
            });
            let neurons = med(&|r| r.f64("config.neurons"));
            let synapses = med(&|r| r.f64("result.synapses"));
            let against = |measured: Option<f64>, size: Option<f64>| -> String {
                let (Some(m), Some(machine), Some(size)) = (measured, machine, size) else {
                    return "—".into();
                };
                match scatter_add(machine, size * bytes) {
                    Some((limit, ws)) => {
                        format!("{limit:.2} ns in {} → {:.2}", human(ws), limit / m)
                    }
                    None => "—".into(),
                }
            };
            let f = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.2}"));
            rows.push(vec![
                side.letter.clone(),
                format!(
                    "{} {}, {} s",
                    g.key.label(),
                    g.key.precision,
                    g.key.simtime_ns as f64 / 1e9
                ),
                f(evolve),
                f(event),
                against(event, neurons),
                f(plastic),
                against(plastic, synapses),
            ]);
        }
    }
    if rows.is_empty() {
        out.missing
            .push("no one-worker runs of va, brunel or zenke25k on any side".into());
    }
    out.table = Some(Table {
        header: [
            "side",
            "network (1 worker)",
            "evolve ns / neuron-step",
            "propagate ns / event",
            "propagate: limit → fraction",
            "plasticity ns / event",
            "plasticity: limit → fraction",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    out
}

/// Where one side ran more workers than another: the smaller side's fitted model
/// predicts the larger side's worker counts, beside what the larger side measured.
fn extrapolation(sides: &[Side]) -> FigureOutcome {
    let mut out = outcome(
        "Extrapolation",
        "The smaller machine's model against the larger machine's measurements",
        "For each network and each pair of sides where one ran more workers than the other \
         (Fig. 4's runs): the smaller side's fitted T(n) at the larger side's worker counts \
         beyond its own, and the larger side's median. Machines differ in speed per core, \
         so the prediction is also shown scaled to the larger side at the largest worker \
         count both ran: the test of the model's shape the paper proposes (measured / \
         scaled prediction near 1: the model extrapolates).",
    );
    let mut rows = Vec::new();
    for net in NETWORKS {
        for small in sides {
            let (_, raw) = scaling(&scaling_groups(small, net));
            let distinct = {
                let mut ns: Vec<u64> = raw.iter().map(|p| p.0 as u64).collect();
                ns.sort_unstable();
                ns.dedup();
                ns
            };
            let Some(&max_small) = distinct.last() else {
                continue;
            };
            for large in sides {
                if std::ptr::eq(small, large) || large.max_workers() <= max_small {
                    continue;
                }
                let (pts, _) = scaling(&scaling_groups(large, net));
                if !pts.iter().any(|p| p.x as u64 > max_small) {
                    continue;
                }
                if distinct.len() < 2 {
                    out.missing.push(format!(
                        "{net}: {} ran one worker count only; no model to extrapolate to {}",
                        small.letter, large.letter
                    ));
                    continue;
                }
                let fit = match fit::fit(&raw, Topology::Tree) {
                    Ok(f) => f,
                    Err(e) => {
                        out.missing
                            .push(format!("{net}: no fit of {} ({e})", small.letter));
                        continue;
                    }
                };
                // The largest worker count both ran, to scale the prediction by.
                let shared = pts
                    .iter()
                    .filter(|p| distinct.contains(&(p.x as u64)))
                    .max_by(|a, b| a.x.total_cmp(&b.x));
                let scale = shared.map(|p| p.y / fit.predict(p.x));
                for p in pts.iter().filter(|p| p.x as u64 > max_small) {
                    let predicted = fit.predict(p.x);
                    let scaled = scale.map(|s| s * predicted);
                    rows.push(vec![
                        net.to_string(),
                        format!("{} → {}", small.letter, large.letter),
                        format!("{}", p.x as u64),
                        format!("{:.4}", p.y),
                        format!("{predicted:.4}"),
                        scaled.map_or("—".into(), |s| format!("{s:.4}")),
                        scaled.map_or("—".into(), |s| format!("{:.2}", p.y / s)),
                        if fit.is_identified() {
                            format!("{} core counts", fit.distinct_n)
                        } else {
                            format!("{} core counts: indicative", fit.distinct_n)
                        },
                    ]);
                }
            }
        }
    }
    if rows.is_empty() {
        out.missing
            .push("no side ran more workers than another side's scaling runs reach".into());
    }
    out.table = Some(Table {
        header: [
            "network",
            "model of → measured on",
            "workers",
            "measured RTF",
            "predicted RTF",
            "prediction scaled",
            "measured / scaled",
            "fit from",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    });
    out
}
