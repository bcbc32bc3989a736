//! The paper's figures, each from the records (and spike files, traces) that support it.
//! A figure without data says what it misses and which run would provide it.

use std::path::Path;

use crate::fit::{self, Topology};
use crate::plots::{
    BarChart, BarSeries, Chart, ErrorBar, Heatmap, Histogram, HistogramSeries, LineChart, Marker,
    Normalisation, Point, Population, Raster, Scatter, ScatterSet, Series,
};
use crate::records::{ConfigKey, Group, RunRecord};
use crate::stats;

use super::data::{PopulationRate, Spikes, Trace};
use super::{Context, FigureOutcome};

/// Worker counts the scaling fits are extrapolated to.
const EXTRAPOLATE_TO: f64 = 64.0;

pub fn all(ctx: &Context, dir: &Path) -> Vec<FigureOutcome> {
    type Figure = fn(&Context, &Path) -> FigureOutcome;
    let all: [Figure; 11] = [
        fig1,
        fig2,
        fig3,
        fig4,
        fig5,
        fig6,
        fig7,
        partitioners,
        fig8,
        fig9,
        fig10,
    ];
    (all.iter())
        .map(|figure| {
            let (mut out, sources) = ctx.sources_of(|| figure(ctx, dir));
            out.sources = sources;
            out
        })
        .collect()
}

pub(crate) fn outcome(id: &str, title: &str, caption: &str) -> FigureOutcome {
    FigureOutcome {
        id: id.into(),
        title: title.into(),
        caption: caption.into(),
        panels: Vec::new(),
        missing: Vec::new(),
        table: None,
        sources: String::new(),
    }
}

/// Renders one panel into `dir`, or notes why it could not be drawn.
pub(crate) fn panel(out: &mut FigureOutcome, dir: &Path, stem: &str, chart: impl Into<Chart>) {
    match chart.into().render(dir, stem) {
        Ok(r) => {
            let rel = |p: &Path| format!("figures/{}", p.file_name().unwrap().to_string_lossy());
            out.panels.push((rel(&r.png), rel(&r.svg)));
        }
        Err(e) => out.missing.push(format!("{stem}: {e}")),
    }
}

/// The default configuration of the scaling figures: standard settings, static.
pub(crate) fn plain(k: &ConfigKey) -> bool {
    k.is_standard() && !k.plastic
}

fn rtf(r: &RunRecord) -> Option<f64> {
    r.rtf()
}

/// Median with min–max error bars over a group's repetitions.
pub(crate) fn point(x: f64, g: &Group, value: impl Fn(&RunRecord) -> Option<f64>) -> Option<Point> {
    let s = g.stat(value)?;
    Some(Point::with_range(x, s.median, s.min, s.max))
}

/// Whether a group ran more workers than its hosts have cores: such runs measure the
/// operating system's scheduler, not the simulator's scaling, and stay out of the fits.
pub(crate) fn oversubscribed(g: &Group) -> bool {
    g.records.first().is_some_and(|r| {
        let cores = r.u64("host.logical_cores").unwrap_or(u64::MAX);
        g.key.workers() > cores.saturating_mul(g.key.hosts.max(1))
    })
}

/// Scaling series: for each distinct worker count among `groups` (one network, one
/// kind of run), the median RTF; plus every repetition as a fit point. Oversubscribed
/// groups are left out.
pub(crate) fn scaling(groups: &[&Group]) -> (Vec<Point>, Vec<(f64, f64)>) {
    let groups: Vec<&Group> = groups
        .iter()
        .copied()
        .filter(|g| !oversubscribed(g))
        .collect();
    let mut pts: Vec<Point> = groups
        .iter()
        .filter_map(|g| point(g.key.workers() as f64, g, rtf))
        .collect();
    pts.sort_by(|a, b| a.x.total_cmp(&b.x));
    let raw = groups.iter().flat_map(|g| g.points(rtf)).collect();
    (pts, raw)
}

/// The fitted model and its bootstrap band over 1…64 workers, as chart series, and a
/// sentence on the fit (or why there is none).
pub(crate) fn fitted(
    name: &str,
    raw: &[(f64, f64)],
    color: usize,
) -> (Vec<Series>, Vec<crate::plots::Band>, String) {
    let ns: Vec<f64> = (0..=24)
        .map(|i| 2f64.powf(i as f64 * EXTRAPOLATE_TO.log2() / 24.0))
        .collect();
    match fit::fit(raw, Topology::Tree) {
        Ok(f) if f.distinct_n < 2 => (
            Vec::new(),
            Vec::new(),
            format!("{name}: one core count only, no fit"),
        ),
        Ok(f) => {
            let curve = Series::fit(
                format!("{name}: fit"),
                ns.iter().map(|&n| (n, f.predict(n))),
            )
            .color(color);
            let band = fit::bootstrap_band(raw, Topology::Tree, &ns, 200, 1, 0.9)
                .ok()
                .map(|b| {
                    crate::plots::Band::new(
                        format!("{name}: 90 % band"),
                        b.iter().map(|p| (p.n, p.lo, p.hi)),
                    )
                    .color(color)
                });
            let (n_star, t_min) = f.lower_bound();
            let best = f
                .best_core_count(EXTRAPOLATE_TO as u32)
                .map_or(String::new(), |(n, t)| {
                    format!("; fastest at {n} workers (T = {t:.3})")
                });
            // The ring allgather's variant (β·(n−1)), for comparison of the fits.
            let ring = fit::fit(raw, Topology::Ring).map_or(String::new(), |r| {
                format!("; ring variant R² = {:.3}", r.r2)
            });
            let note = format!(
                "{name}: α = {:.3}, β = {:.3}, γ = {:.3} (R² = {:.3}{ring}; {} distinct core \
                 counts{}); lower bound T = {:.3} at n = {:.1}{best}",
                f.alpha,
                f.beta,
                f.gamma,
                f.r2,
                f.distinct_n,
                if f.is_identified() {
                    ""
                } else {
                    ": too few to identify all three terms, extrapolation is indicative"
                },
                t_min,
                n_star
            );
            (vec![curve], band.into_iter().collect(), note)
        }
        Err(e) => (Vec::new(), Vec::new(), format!("{name}: no fit ({e})")),
    }
}

fn fig1(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 1",
        "Poisson input: lattice walk vs per-step draws",
        "1000 Poisson neurons at 5 Hz for 100 s (`snn-bench run poisson --generator …`): \
         raster, rate and CV-ISI distributions, and run time of the two generators.",
    );
    let lattice = ctx
        .newest_with_spikes(|r| {
            r.network() == "poisson" && r.str("config.generator") == Some("lattice")
        })
        .and_then(Spikes::of);
    match lattice {
        Some(Ok(s)) => {
            let n = s.trains.len();
            panel(
                &mut out,
                dir,
                "fig1-raster",
                Raster::new(
                    "Poisson raster (lattice), first 100 neurons",
                    s.raster(0..n.min(100), 0.0, 10.0),
                )
                .window(0.0, 10.0),
            );
            let rates = s.rates(0..n);
            let cvs = s.cvs(0..n);
            panel(
                &mut out,
                dir,
                "fig1-rates",
                Histogram::new("Rates")
                    .x_label("rate (Hz)")
                    .bins(30)
                    .series(HistogramSeries::raw("lattice", rates.iter().copied()))
                    .marker(Marker::new(mean(&rates), "mean")),
            );
            panel(
                &mut out,
                dir,
                "fig1-cv",
                Histogram::new("CV ISI")
                    .x_label("CV ISI")
                    .bins(30)
                    .series(HistogramSeries::raw("lattice", cvs.iter().copied()))
                    .marker(Marker::new(mean(&cvs), "mean")),
            );
        }
        Some(Err(e)) => out.missing.push(format!("spikes: {e}")),
        None => out.missing.push(
            "no poisson run with a spikes:all monitor or --spikes (snn-bench figures writes \
             one)"
                .into(),
        ),
    }
    let groups = ctx.groups(|k| k.network == "poisson" && k.timers);
    if groups.is_empty() {
        out.missing.push("no poisson records".into());
    } else {
        let cats: Vec<String> = groups.iter().map(|g| g.key.generator.clone()).collect();
        let values: Vec<f64> = groups
            .iter()
            .map(|g| g.median(|r| Some(r.wall_s())).unwrap_or(f64::NAN))
            .collect();
        panel(
            &mut out,
            dir,
            "fig1-runtime",
            BarChart::new("Run time of 100 s of Poisson input", cats)
                .y_label("wall time (s)")
                .log_y()
                .series(BarSeries::new("median", values)),
        );
    }
    out
}

fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        f64::NAN
    } else {
        xs.iter().sum::<f64>() / xs.len() as f64
    }
}

/// E neurons of va: 0..3200.
const VA_E: std::ops::Range<usize> = 0..3200;

fn fig2(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 2",
        "Vogels–Abbott benchmark: activity and run time",
        "va at dt 0.1 ms (seed 1): raster and population rates (its spike and rate \
         monitors), distributions of E rates, ISIs and CV-ISI (means marked); run time by \
         precision and threads (the workstation suite of `make bench`).",
    );
    match ctx.va_spikes(1e-4, 1).and_then(Spikes::of) {
        Some(Ok(s)) => {
            panel(
                &mut out,
                dir,
                "fig2-raster",
                Raster::new("va raster, 200 E and 50 I neurons", {
                    let mut sp = s.raster(0..200, 1.0, 1.5);
                    sp.extend(s.raster(3200..3250, 1.0, 1.5));
                    sp
                })
                .window(1.0, 1.5)
                .neurons(0, 200)
                .neurons(3200, 3250)
                .population(Population::new("E", 0, 3200))
                .population(Population::new("I", 3200, 4000)),
            );
            for (stem, title, label, values, log) in [
                ("fig2-rates", "E rates", "rate (Hz)", s.rates(VA_E), false),
                ("fig2-isi", "E ISIs", "ISI (s)", s.isis(VA_E), true),
                ("fig2-cv", "E CV ISI", "CV ISI", s.cvs(VA_E), false),
            ] {
                let mut h = Histogram::new(title)
                    .x_label(label)
                    .bins(40)
                    .normalisation(Normalisation::Density)
                    .marker(Marker::new(mean(&values), "mean"))
                    .series(HistogramSeries::raw("dt 0.1 ms", values));
                if log {
                    h = h.log_x();
                }
                panel(&mut out, dir, stem, h);
            }
        }
        Some(Err(e)) => out.missing.push(format!("spikes: {e}")),
        None => out.missing.push(
            "no va run with a spikes:all monitor or --spikes at dt 0.1 ms, seed 1 \
             (snn-bench figures)"
                .into(),
        ),
    }
    // The population rates of the raster's window, from the run's rate monitors.
    if let Some(r) = ctx.va_spikes(1e-4, 1) {
        let mut chart = LineChart::new("va population rates (5 ms bins)")
            .x_label("time (s)")
            .y_label("rate (Hz)");
        let mut drawn = 0;
        for (i, pop) in ["E", "I"].into_iter().enumerate() {
            match PopulationRate::of(r, pop) {
                Some(Ok(rate)) => {
                    chart = chart.series(
                        Series::new(pop, rate.points(1.0, 1.5))
                            .style(crate::plots::SeriesStyle::Line)
                            .color(i),
                    );
                    drawn += 1;
                }
                Some(Err(e)) => out.missing.push(format!("rate:{pop}: {e}")),
                None => out.missing.push(format!(
                    "no rate:{pop} monitor in the va run of the raster (snn-bench figures \
                     writes one)"
                )),
            }
        }
        if drawn > 0 {
            panel(&mut out, dir, "fig2-rate", chart);
        }
    }
    let groups = ctx.groups(|k| {
        k.network == "va"
            && k.delay_ns == 800_000
            && k.latency_ps == 0
            && k.timers
            && k.ranks == 1
            && k.dt_ns == 100_000
    });
    if groups.is_empty() {
        out.missing.push("no va records (make bench)".into());
    } else {
        bars_by_precision(
            &mut out,
            dir,
            "fig2-runtime",
            "va run time per model second",
            &groups,
        );
    }
    out
}

/// Bars of median RTF, one category per thread count, one series per precision.
fn bars_by_precision(
    out: &mut FigureOutcome,
    dir: &Path,
    stem: &str,
    title: &str,
    groups: &[&Group],
) {
    let mut threads: Vec<u64> = groups.iter().map(|g| g.key.workers()).collect();
    threads.sort();
    threads.dedup();
    let mut chart = BarChart::new(
        title,
        threads.iter().map(|t| format!("{t} worker(s)")).collect(),
    )
    .y_label("RTF (wall s per model s)");
    // One series per precision, and per precision of an unvectorised build where the
    // groups have one (Fig. 10).
    let series: Vec<(&str, bool)> = [("f32", true), ("f64", true), ("f32", false), ("f64", false)]
        .into_iter()
        .filter(|&(p, v)| {
            v || groups
                .iter()
                .any(|g| g.key.precision == p && !g.key.vectorised)
        })
        .collect();
    for (i, &(prec, vectorised)) in series.iter().enumerate() {
        let (values, errors): (Vec<f64>, Vec<Option<ErrorBar>>) = threads
            .iter()
            .map(|&t| {
                groups
                    .iter()
                    .filter(|g| {
                        g.key.precision == prec
                            && g.key.vectorised == vectorised
                            && g.key.workers() == t
                    })
                    .find_map(|g| g.stat(rtf))
                    .map_or((f64::NAN, None), |s| {
                        (
                            s.median,
                            Some(ErrorBar::Range {
                                lo: s.min,
                                hi: s.max,
                            }),
                        )
                    })
            })
            .unzip();
        let name = if vectorised {
            prec.to_string()
        } else {
            format!("{prec}, not vectorised")
        };
        chart = chart.series(BarSeries::new(name, values).errors(errors).color(i));
    }
    panel(out, dir, stem, chart);
}

fn fig3(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 3",
        "Integration time step: statistics against a reference",
        "va (seed 1) at dt 0.4 and 0.1 ms against the reference at dt 0.01 ms: two-sample \
         K-S statistic D on the distributions of E rates, ISIs and CV-ISI, beside the mean D \
         of 10 pairs of independent networks (seeds 2–21) at 0.1 ms; per-neuron rates \
         against the reference with Pearson r.",
    );
    // A spike file that cannot be read is said so (under "missing"), not skipped silently.
    let unreadable = std::cell::RefCell::new(Vec::new());
    let load = |dt: f64, seed: u64| match ctx.va_spikes(dt, seed).and_then(Spikes::of)? {
        Ok(s) => Some(s),
        Err(e) => {
            unreadable.borrow_mut().push(format!("spikes: {e}"));
            None
        }
    };
    let Some(reference) = load(1e-5, 1) else {
        out.missing.extend(unreadable.take());
        out.missing
            .push("no va reference run at dt 0.01 ms with --spikes (snn-bench figures)".into());
        return out;
    };
    type Measure = fn(&Spikes) -> Vec<f64>;
    let measures: [(&str, Measure); 3] = [
        ("rate", |s| s.rates(VA_E)),
        ("ISI", |s| s.isis(VA_E)),
        ("CV ISI", |s| s.cvs(VA_E)),
    ];
    let mut columns = Vec::new();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for (label, dt) in [("dt 0.4 ms", 4e-4), ("dt 0.1 ms", 1e-4)] {
        let Some(s) = load(dt, 1) else {
            out.missing
                .push(format!("no va run at {label}, seed 1, with spikes"));
            continue;
        };
        columns.push(format!("{label} vs ref"));
        for (m, (_, f)) in measures.iter().enumerate() {
            values[m].push(stats::ks_two_sample(&f(&s), &f(&reference)).map_or(f64::NAN, |k| k.d));
        }
        let x = reference.rates(VA_E);
        let y = s.rates(VA_E);
        let r = stats::pearson_r(&x, &y).map_or("r: n/a".to_string(), |r| format!("r = {r:.3}"));
        panel(
            &mut out,
            dir,
            &format!("fig3-scatter-{}", label.replace([' ', '.'], "")),
            Scatter::new(format!("E rates: {label} vs dt 0.01 ms"))
                .x_label("rate at dt 0.01 ms (Hz)")
                .y_label(format!("rate at {label} (Hz)"))
                .set(ScatterSet::new("neurons", x.into_iter().zip(y).collect()))
                .identity_line()
                .annotation(r),
        );
    }
    let seeds: Vec<Spikes> = (2..=21).filter_map(|seed| load(1e-4, seed)).collect();
    if seeds.len() >= 2 {
        columns.push(format!("independent ({} pairs)", seeds.len() / 2));
        for (m, (_, f)) in measures.iter().enumerate() {
            let pairs: Vec<(Vec<f64>, Vec<f64>)> = seeds
                .chunks_exact(2)
                .map(|p| (f(&p[0]), f(&p[1])))
                .collect();
            values[m].push(stats::mean_ks_d(&pairs).map_or(f64::NAN, |d| d.mean));
        }
    } else {
        out.missing
            .push("fewer than 2 independent seeds at 0.1 ms".into());
    }
    if !columns.is_empty() {
        panel(
            &mut out,
            dir,
            "fig3-ks",
            Heatmap::new("K-S statistic D", values)
                .labels(
                    measures.iter().map(|(n, _)| n.to_string()).collect(),
                    columns,
                )
                .range(0.0, 0.5)
                .scale_label("D"),
        );
    }
    out.missing.extend(unreadable.take());
    out
}

fn fig4(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 4",
        "Strong scaling (run time per model second vs workers)",
        "Median RTF (min–max over repetitions) against workers (ranks × threads) for each \
         network, with the fitted model T(n) = α/n + β·log2 n + γ·(n−1)/n extrapolated to \
         64 workers (dashed, 90 % bootstrap band). Threads in one process only (ranks are in \
         Fig. 6), none with more workers than cores.",
    );
    let mut chart = LineChart::new("Strong scaling")
        .x_label("workers")
        .y_label("RTF")
        .log_x()
        .log_y();
    let mut any = false;
    for (i, net) in ["va", "brunel", "zenke25k"].iter().enumerate() {
        let groups = ctx.groups(|k| k.network == *net && plain(k) && k.hosts <= 1 && k.ranks == 1);
        let longest = groups.iter().map(|g| g.key.simtime_ns).max();
        let groups: Vec<&Group> = groups
            .into_iter()
            .filter(|g| Some(g.key.simtime_ns) == longest)
            .collect();
        let (pts, raw) = scaling(&groups);
        if pts.is_empty() {
            continue;
        }
        any = true;
        chart = chart.series(Series::with_points(*net, pts).color(i));
        let (curves, bands, note) = fitted(net, &raw, i);
        for c in curves {
            chart = chart.series(c);
        }
        for b in bands {
            chart = chart.band(b);
        }
        out.caption.push_str(&format!(" {note}."));
    }
    if any {
        panel(&mut out, dir, "fig4-scaling", chart);
    } else {
        out.missing.push("no scaling records".into());
    }
    out
}

fn fig5(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 5",
        "Synaptic delay and scaling",
        "va RTF against workers for each axonal delay (spikes are exchanged every delay), \
         with fits of the run-time model.",
    );
    let groups = ctx.groups(|k| {
        k.network == "va" && k.latency_ps == 0 && k.timers && k.precision == "f32" && k.hosts <= 1
    });
    let mut delays: Vec<i64> = groups.iter().map(|g| g.key.delay_ns).collect();
    delays.sort();
    delays.dedup();
    if delays.len() < 2 {
        out.missing
            .push("va runs at fewer than 2 delays (snn-bench figures)".into());
        return out;
    }
    let mut chart = LineChart::new("va: RTF vs workers by delay")
        .x_label("workers")
        .y_label("RTF")
        .log_x()
        .log_y();
    for (i, d) in delays.iter().enumerate() {
        let gs: Vec<&Group> = groups
            .iter()
            .copied()
            .filter(|g| g.key.delay_ns == *d)
            .collect();
        let shortest = gs.iter().map(|g| g.key.simtime_ns).min();
        let gs: Vec<&Group> = gs
            .into_iter()
            .filter(|g| Some(g.key.simtime_ns) == shortest)
            .collect();
        let (pts, raw) = scaling(&gs);
        let name = format!("{} ms", *d as f64 * 1e-6);
        chart = chart.series(Series::with_points(name.clone(), pts).color(i));
        let (curves, _, _) = fitted(&name, &raw, i);
        for c in curves {
            chart = chart.series(c);
        }
    }
    panel(&mut out, dir, "fig5-delays", chart);
    out
}

/// Barrier + sync time of a record, per model second (mean over workers).
pub(crate) fn sync_rtf(r: &RunRecord) -> Option<f64> {
    let t = r.phase("barrier", "mean")? + r.phase("sync", "mean")?;
    Some(t / r.f64("config.simtime_s")?)
}

fn fig6(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 6",
        "Total vs synchronisation time",
        "For each network: RTF (total, with the fitted run-time model) and the time spent in \
         barrier + sync per model second against workers; local (one host) and, where \
         recorded, distributed runs; and va on 1 worker with an injected exchange latency.",
    );
    let mut chart = LineChart::new("Total and sync time")
        .x_label("workers")
        .y_label("seconds per model second")
        .log_x()
        .log_y();
    let mut any = false;
    for (i, net) in ["va", "zenke25k"].iter().enumerate() {
        for (h, (hosts, label)) in [(1, "local"), (2, "2 hosts")].into_iter().enumerate() {
            // Local: threads in one process (one point per worker count); across hosts:
            // whatever ranks × threads were recorded.
            let groups = ctx.groups(|k| {
                k.network == *net && plain(k) && k.hosts == hosts && (hosts > 1 || k.ranks == 1)
            });
            let color = 4 * i + 2 * h;
            let longest = groups.iter().map(|g| g.key.simtime_ns).max();
            let groups: Vec<&Group> = groups
                .into_iter()
                .filter(|g| Some(g.key.simtime_ns) == longest)
                .collect();
            if groups.is_empty() {
                continue;
            }
            any = true;
            let (pts, raw) = scaling(&groups);
            let name = format!("{net} {label}");
            let (curves, _, note) = fitted(&name, &raw, color);
            for c in curves {
                chart = chart.series(c);
            }
            out.caption.push_str(&format!(" {note}."));
            let mut sync: Vec<Point> = groups
                .iter()
                .filter(|g| !oversubscribed(g))
                .filter_map(|g| point(g.key.workers() as f64, g, sync_rtf))
                .collect();
            sync.sort_by(|a, b| a.x.total_cmp(&b.x));
            chart = chart
                .series(Series::with_points(format!("{net} {label}: total"), pts).color(color))
                .series(Series::with_points(format!("{net} {label}: sync"), sync).color(color + 1));
        }
    }
    if any {
        panel(&mut out, dir, "fig6-sync", chart);
    } else {
        out.missing.push("no scaling records".into());
    }
    let latency = ctx
        .groups(|k| k.network == "va" && k.timers && k.precision == "f32" && k.delay_ns == 800_000);
    let mut by_latency: Vec<(f64, Point)> = latency
        .iter()
        .filter(|g| g.key.workers() == 1)
        .filter_map(|g| Some((g.key.latency_us(), point(g.key.latency_us(), g, rtf)?)))
        .collect();
    by_latency.sort_by(|a, b| a.0.total_cmp(&b.0));
    if by_latency.len() >= 2 {
        panel(
            &mut out,
            dir,
            "fig6-latency",
            LineChart::new("va, 1 worker: RTF vs injected latency per exchange")
                .x_label("latency (µs)")
                .y_label("RTF")
                .series(Series::with_points(
                    "va",
                    by_latency.into_iter().map(|(_, p)| p),
                )),
        );
    }
    out
}

fn fig7(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 7",
        "Load balance: arrival of workers at each exchange",
        "From `--exchange-trace` of 2-worker runs: per exchange, the spread between the \
         first and the last worker's arrival (the first one's barrier wait), over the run; \
         and its distribution for static and plastic runs.",
    );
    let traced = ctx.records(|r| r.str("config.exchange_trace").is_some());
    if traced.is_empty() {
        out.missing.push(
            "no run with --exchange-trace (snn-bench figures traces plastic zenke25k)".into(),
        );
        return out;
    }
    let mut hist = Histogram::new("Max offset per exchange")
        .x_label("max arrival offset (s)")
        .log_x()
        .bins(40)
        .normalisation(Normalisation::Fraction);
    let mut line = LineChart::new("Max offset per exchange over the run")
        .x_label("exchange")
        .y_label("max arrival offset (s)")
        .log_y();
    for (i, r) in traced.iter().enumerate() {
        let name = format!(
            "{}{} {}w",
            r.network(),
            if r.bool("config.plastic") == Some(true) {
                format!("+stdp/{}", r.str("config.traces").unwrap_or(""))
            } else {
                String::new()
            },
            r.workers()
        );
        match Trace::of(r) {
            Some(Ok(t)) => {
                let off = t.max_offsets();
                let step = (off.len() / 2000).max(1);
                line = line.series(
                    Series::new(
                        name.clone(),
                        off.iter()
                            .enumerate()
                            .step_by(step)
                            .map(|(e, &o)| (e as f64, o)),
                    )
                    .style(crate::plots::SeriesStyle::Line)
                    .color(i),
                );
                hist = hist.series(HistogramSeries::raw(name, off).color(i));
            }
            Some(Err(e)) => out.missing.push(format!("{name}: {e}")),
            None => out.missing.push(format!("{name}: trace file not found")),
        }
    }
    panel(&mut out, dir, "fig7-offsets", line);
    panel(&mut out, dir, "fig7-histogram", hist);
    out
}

/// Beside Fig. 7: the same configuration on 2 threads split by each partitioner (the
/// runs of `scripts/jobs/figures.toml`'s `partitioners` job): run time, the barrier wait
/// per exchange (the imbalance the run suffered) and the estimated cost imbalance of the
/// decomposition (the largest partition's estimated cost over the mean).
fn partitioners(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 7b",
        "Partitioners on 2 threads: run time, barrier wait per exchange, estimated imbalance",
        "One configuration on 2 threads under each partitioner (block, round-robin, \
         balanced); medians over repetitions. The barrier wait is the workers' mean wait \
         for the slowest one, per exchange; the estimated imbalance is the largest \
         partition's estimated cost over the mean (config.partition_costs, 1 = even).",
    );
    // Configurations that ran under more than one partitioner, on 2 threads of 1 rank.
    let mut by_base: std::collections::BTreeMap<ConfigKey, Vec<&Group>> = Default::default();
    for g in ctx.any_partitioner(|k| k.threads == 2 && k.ranks == 1) {
        let base = ConfigKey {
            partitioner: String::new(),
            ..g.key.clone()
        };
        by_base.entry(base).or_default().push(g);
    }
    let order = |p: &str| {
        ["block", "round-robin", "balanced"]
            .iter()
            .position(|x| *x == p)
    };
    let mut table = super::roofline::Table {
        header: [
            "network",
            "model s",
            "partitioner",
            "n",
            "run wall s",
            "barrier µs / exchange",
            "est. imbalance",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    let mut labels = Vec::new();
    let mut walls: [Vec<f64>; 3] = Default::default();
    for (base, mut groups) in by_base {
        if groups.len() < 2 {
            continue;
        }
        groups.sort_by_key(|g| order(&g.key.partitioner));
        labels.push(base.label());
        for (k, name) in ["block", "round-robin", "balanced"].iter().enumerate() {
            let g = groups.iter().find(|g| g.key.partitioner == *name);
            walls[k].push(
                g.and_then(|g| g.median(|r| Some(r.wall_s())))
                    .unwrap_or(f64::NAN),
            );
        }
        for g in groups {
            let cell = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("—".into(), f);
            table.rows.push(vec![
                base.label(),
                format!("{}", base.simtime_ns as f64 / 1e9),
                g.key.partitioner.clone(),
                g.records.len().to_string(),
                cell(g.median(|r| Some(r.wall_s())), &|x| format!("{x:.3}")),
                cell(g.median(RunRecord::barrier_per_exchange), &|x| {
                    format!("{:.2}", x * 1e6)
                }),
                cell(g.median(RunRecord::cost_imbalance), &|x| format!("{x:.3}")),
            ]);
        }
    }
    if table.rows.is_empty() {
        out.missing.push(
            "no configuration ran on 2 threads under more than one partitioner \
             (snn-bench figures runs them: job partitioners)"
                .into(),
        );
        return out;
    }
    let mut chart = BarChart::new("Run wall time by partitioner, 2 threads", labels)
        .y_label("run wall time (s)");
    for (k, name) in ["block", "round-robin", "balanced"].iter().enumerate() {
        chart = chart.series(BarSeries::new(*name, walls[k].clone()).color(k));
    }
    panel(&mut out, dir, "fig7b-partitioners", chart);
    out.table = Some(table);
    out
}

fn fig8(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 8",
        "Where the time goes: phases vs workers",
        "zenke25k static and plastic (continuous vs event-based presynaptic traces): each \
         phase's time per model second, mean over workers, against workers. Evolve includes \
         the trace decay; plasticity is everything a plastic connection does (the paper's \
         \"Triplet\").",
    );
    let phases = ["evolve", "propagate", "plasticity", "barrier", "sync"];
    let mut any = false;
    for (variant, keep) in [
        (
            "static",
            (|k: &ConfigKey| !k.plastic) as fn(&ConfigKey) -> bool,
        ),
        ("continuous", |k| k.plastic && k.traces == "continuous"),
        ("event-based", |k| k.plastic && k.traces == "event-based"),
    ] {
        let groups = ctx.groups(|k| {
            k.network == "zenke25k"
                && keep(k)
                && k.delay_ns == 800_000
                && k.latency_ps == 0
                && k.timers
                && k.precision == "f32"
        });
        let shortest = groups.iter().map(|g| g.key.simtime_ns).min();
        let mut groups: Vec<&Group> = groups
            .into_iter()
            .filter(|g| Some(g.key.simtime_ns) == shortest)
            .collect();
        groups.sort_by_key(|g| g.key.workers());
        groups.dedup_by_key(|g| g.key.workers());
        if groups.is_empty() {
            out.missing.push(format!("no zenke25k {variant} records"));
            continue;
        }
        any = true;
        let mut chart = BarChart::new(
            format!("zenke25k {variant}"),
            groups
                .iter()
                .map(|g| format!("{} w", g.key.workers()))
                .collect(),
        )
        .y_label("s per model second (mean over workers)")
        .stacked();
        for (i, ph) in phases.iter().enumerate() {
            let values = groups
                .iter()
                .map(|g| {
                    g.median(|r| Some(r.phase(ph, "mean")? / r.f64("config.simtime_s")?))
                        .unwrap_or(0.0)
                })
                .collect();
            chart = chart.series(BarSeries::new(*ph, values).color(i));
        }
        panel(&mut out, dir, &format!("fig8-{variant}"), chart);
    }
    if !any {
        out.missing.push("run snn-bench figures".into());
    }
    out
}

fn fig9(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 9",
        "Brunel network: static (NP) vs plastic (PL)",
        "brunel RTF without and with E→E pair STDP (continuous traces) against workers, and \
         χ = T_PL/T_NP − 1, the relative cost of plasticity.",
    );
    let pick = |plastic: bool| {
        let groups = ctx.groups(|k| {
            k.network == "brunel"
                && k.plastic == plastic
                && (!plastic || k.traces == "continuous")
                && k.delay_ns == 800_000
                && k.latency_ps == 0
                && k.timers
                && k.precision == "f32"
        });
        let shortest = groups.iter().map(|g| g.key.simtime_ns).min();
        groups
            .into_iter()
            .filter(|g| Some(g.key.simtime_ns) == shortest)
            .collect::<Vec<_>>()
    };
    let (np, pl) = (pick(false), pick(true));
    if np.is_empty() || pl.is_empty() {
        out.missing
            .push("needs brunel runs with and without --plastic (snn-bench figures)".into());
        return out;
    }
    let (np_pts, _) = scaling(&np);
    let (pl_pts, _) = scaling(&pl);
    let chi: Vec<(f64, f64)> = np_pts
        .iter()
        .filter_map(|a| {
            let b = pl_pts.iter().find(|b| b.x == a.x)?;
            Some((a.x, b.y / a.y - 1.0))
        })
        .collect();
    panel(
        &mut out,
        dir,
        "fig9-runtime",
        LineChart::new("brunel: RTF vs workers")
            .x_label("workers")
            .y_label("RTF")
            .log_x()
            .log_y()
            .series(Series::with_points("NP", np_pts).color(0))
            .series(Series::with_points("PL", pl_pts).color(1)),
    );
    panel(
        &mut out,
        dir,
        "fig9-chi",
        BarChart::new(
            "χ = T_PL / T_NP − 1",
            chi.iter().map(|(n, _)| format!("{n} w")).collect(),
        )
        .y_label("χ")
        .series(BarSeries::new("χ", chi.iter().map(|c| c.1).collect())),
    );
    out
}

fn fig10(ctx: &Context, dir: &Path) -> FigureOutcome {
    let mut out = outcome(
        "Fig. 10",
        "Double vs single precision, with and without vectorisation",
        "Median RTF in f32 and f64 for va (workstation suite) and zenke25k, by workers; \
         beside them, where recorded, the same runs of a build with LLVM's vectorisers off \
         (make bench-novec).",
    );
    for net in ["va", "zenke25k"] {
        let groups = ctx.any_build(|k| {
            k.partitioner == "block"
                && k.network == net
                && !k.plastic
                && k.delay_ns == 800_000
                && k.latency_ps == 0
                && k.timers
                && k.ranks == 1
                && k.dt_ns == 100_000
        });
        let has = |p: &str| {
            groups
                .iter()
                .any(|g| g.key.precision == p && g.key.vectorised)
        };
        if !(has("f32") && has("f64")) {
            out.missing.push(format!("{net}: needs f32 and f64 runs"));
            continue;
        }
        // Compare like with like: the model time that has both precisions.
        let both: Vec<i64> = groups
            .iter()
            .filter(|g| g.key.precision == "f64" && g.key.vectorised)
            .map(|g| g.key.simtime_ns)
            .collect();
        let groups: Vec<&Group> = groups
            .into_iter()
            .filter(|g| both.contains(&g.key.simtime_ns))
            .collect();
        bars_by_precision(
            &mut out,
            dir,
            &format!("fig10-{net}"),
            &format!("{net}: f32 vs f64"),
            &groups,
        );
    }
    out
}
