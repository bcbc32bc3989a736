//! The peers: NEST and Brian2 beside snn-limits on *the same network* — its weights and
//! initial potentials (`snn-bench peer`, `scripts/jobs/peers.toml`, records in
//! `DIR/peers/*.jsonl`). A table of run times and of the Kolmogorov–Smirnov distances
//! between each peer's rate, ISI and CV-ISI distributions and snn-limits', beside the
//! distance between two halves of snn-limits' own run (even and odd neurons: two samples of
//! one distribution), so that a reader sees whether a difference is more than sampling;
//! the distributions overlaid (Fig. 2B, snn-limits as the reference, as NEST is in the
//! paper); the run times (Fig. 2C/D, Fig. 9); and the claims that compare simulators.
//!
//! Like with like: a peer is compared with snn-limits' run of the same network, variant,
//! model time, time step and seed (run times: also the same thread count), never across.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use crate::plots::{
    BarChart, BarSeries, ErrorBar, Histogram, HistogramSeries, LineChart, Normalisation, Point,
    Series,
};
use crate::records::RunRecord;
use crate::stats::{self, Ks};

use super::claims::{claim, Claim};
use super::data::Spikes;
use super::roofline::Table;
use super::{is_loaded, Context, FigureOutcome};

/// The simulator a record is of.
pub fn simulator(r: &RunRecord) -> &str {
    r.str("config.simulator.name").unwrap_or("snn-limits")
}

fn is_peer(r: &RunRecord) -> bool {
    simulator(r) != "snn-limits"
}

/// Network, variant, model time (ns), dt (ns), seed: what must agree for two runs'
/// statistics to be compared.
type Base = (String, bool, i64, i64, u64);

fn base(r: &RunRecord) -> Base {
    let ns = |s: Option<f64>| (s.unwrap_or(0.0) * 1e9).round() as i64;
    (
        r.network().to_string(),
        r.bool("config.plastic").unwrap_or(false),
        ns(r.f64("config.simtime_s")),
        ns(r.f64("config.dt_s")),
        r.u64("config.seed").unwrap_or(0),
    )
}

fn base_label(b: &Base) -> String {
    format!(
        "{}{} {}",
        b.0,
        if b.1 { " plastic" } else { "" },
        model_time(b.2 as f64 / 1e9)
    )
}

/// The first population's ids (E of va, brunel, zenke25k) from the record's rates.
fn first_population(r: &RunRecord) -> Option<Range<usize>> {
    let n = r
        .get("result.rates")?
        .get(1)?
        .get(1)?
        .get("neurons")?
        .as_u64()?;
    Some(0..n as usize)
}

/// K-S of rates, ISIs and CV-ISI (None where a sample was empty).
type Tests = [Option<Ks>; 3];

/// A peer's run against snn-limits': its distributions, their K-S against snn-limits',
/// and until when its spikes are snn-limits' (None: all of them).
type Compared = (Distributions, Tests, Option<f64>);

/// The three distributions of one run's first population.
struct Distributions {
    rates: Vec<f64>,
    isis: Vec<f64>,
    cvs: Vec<f64>,
}

impl Distributions {
    fn of(s: &Spikes, ids: Range<usize>) -> Distributions {
        Distributions {
            rates: s.rates(ids.clone()),
            isis: s.isis(ids.clone()),
            cvs: s.cvs(ids),
        }
    }

    /// K-S of rates, ISIs and CV-ISI against `other`.
    fn ks(&self, other: &Distributions) -> [Option<Ks>; 3] {
        [
            stats::ks_two_sample(&self.rates, &other.rates).ok(),
            stats::ks_two_sample(&self.isis, &other.isis).ok(),
            stats::ks_two_sample(&self.cvs, &other.cvs).ok(),
        ]
    }
}

/// snn-limits' own variation: its even against its odd neurons.
fn halves(s: &Spikes, ids: Range<usize>) -> [Option<Ks>; 3] {
    let pick = |parity: usize| -> Distributions {
        let mut d = Distributions {
            rates: Vec::new(),
            isis: Vec::new(),
            cvs: Vec::new(),
        };
        for i in ids.clone().filter(|i| i % 2 == parity) {
            let one = Distributions::of(s, i..i + 1);
            d.rates.extend(one.rates);
            d.isis.extend(one.isis);
            d.cvs.extend(one.cvs);
        }
        d
    };
    pick(0).ks(&pick(1))
}

/// The model time until which two runs' spikes are identical (the earliest spike one has
/// and the other has not), or None if every spike is the same.
fn first_difference(a: &Spikes, b: &Spikes) -> Option<f64> {
    let mut first: Option<f64> = None;
    let n = a.trains.len().max(b.trains.len());
    let none: Vec<f64> = Vec::new();
    for i in 0..n {
        let ta = a.trains.get(i).unwrap_or(&none);
        let tb = b.trains.get(i).unwrap_or(&none);
        let k = ta.iter().zip(tb).take_while(|(x, y)| x == y).count();
        let t = match (ta.get(k), tb.get(k)) {
            (None, None) => continue,
            (Some(&x), None) | (None, Some(&x)) => x,
            (Some(&x), Some(&y)) => x.min(y),
        };
        first = Some(first.map_or(t, |f: f64| f.min(t)));
    }
    first
}

/// The final E→E weights of a plastic run: snn-limits' weight monitor's last row (a fixed
/// sample of the synapses), a peer's `ee.mtx` in its final-weights directory (all of them).
fn final_weights(r: &RunRecord) -> Option<Result<Vec<f64>, String>> {
    if is_peer(r) {
        let dir = r.str("config.simulator.details.final_weights")?;
        let path = super::data::locate(r, &Path::new(dir).join("ee.mtx").display().to_string())?;
        Some(
            sim_core::mtx::read(&path)
                .map(|c| c.entries.iter().map(|e| e.2).collect())
                .map_err(|e| e.to_string()),
        )
    } else {
        let m = r
            .get("config.monitors")?
            .as_array()?
            .iter()
            .find(|m| m["kind"] == "weights" && m["what"] == "EE")?;
        let path = super::data::locate(r, m["file"].as_str()?)?;
        Some(crate::npy::read_2d(&path).and_then(|a| {
            let v = a.to_f64();
            match a.rows {
                0 => Err(format!("{}: no rows", path.display())),
                _ => Ok(v[v.len() - a.cols..].to_vec()),
            }
        }))
    }
}

/// Everything the peers' figure and claims are drawn from.
pub struct Peers<'a> {
    /// Per base: snn-limits' reference runs and the peers' runs.
    bases: BTreeMap<Base, Entry<'a>>,
    pub missing: Vec<String>,
}

struct Entry<'a> {
    reference: Vec<&'a RunRecord>,
    peers: Vec<&'a RunRecord>,
    /// snn-limits' distributions (the first reference with spikes) and its self-variation.
    own: Option<(Distributions, Tests)>,
    /// Per peer record (same order as `peers`): its distributions, K-S against own, and
    /// until when its spikes are snn-limits' (None: all of them).
    compared: Vec<Option<Compared>>,
    /// A plastic base's final E→E weights: snn-limits' sample, and per peer record all
    /// of them with their K-S against snn-limits'.
    own_weights: Option<Vec<f64>>,
    weights: Vec<Option<(Vec<f64>, Option<Ks>)>>,
}

impl<'a> Peers<'a> {
    pub fn of(ctx: &'a Context) -> Peers<'a> {
        let mut bases: BTreeMap<Base, Entry<'a>> = BTreeMap::new();
        let mut missing = Vec::new();
        for r in ctx.peer_records() {
            let e = bases.entry(base(r)).or_insert_with(|| Entry {
                reference: Vec::new(),
                peers: Vec::new(),
                own: None,
                compared: Vec::new(),
                own_weights: None,
                weights: Vec::new(),
            });
            if is_peer(r) {
                e.peers.push(r);
            } else {
                e.reference.push(r);
            }
        }
        bases.retain(|_, e| !e.peers.is_empty());
        for (b, e) in &mut bases {
            let Some(ids) = e
                .reference
                .iter()
                .chain(&e.peers)
                .find_map(|r| first_population(r))
            else {
                continue;
            };
            let own = e.reference.iter().find_map(|r| match Spikes::of(r) {
                Some(Ok(s)) => Some(s),
                Some(Err(err)) => {
                    missing.push(format!("{}: snn-limits' spikes: {err}", base_label(b)));
                    None
                }
                None => None,
            });
            match &own {
                Some(s) => {
                    let d = Distributions::of(s, ids.clone());
                    let h = halves(s, ids.clone());
                    e.own = Some((d, h));
                }
                None => missing.push(format!(
                    "{}: no snn-limits run with spikes to compare the peers with (job \
                     snn-limits of scripts/jobs/peers.toml)",
                    base_label(b)
                )),
            }
            for p in &e.peers {
                let c = match Spikes::of(p) {
                    Some(Ok(s)) => {
                        let d = Distributions::of(&s, ids.clone());
                        let ks = match &e.own {
                            Some((own, _)) => d.ks(own),
                            None => [None; 3],
                        };
                        let same = own.as_ref().and_then(|o| first_difference(o, &s));
                        Some((d, ks, same))
                    }
                    Some(Err(err)) => {
                        missing.push(format!("{} {}: spikes: {err}", simulator(p), base_label(b)));
                        None
                    }
                    None => None,
                };
                e.compared.push(c);
            }
            if b.1 {
                e.own_weights = e.reference.iter().find_map(|r| match final_weights(r)? {
                    Ok(w) => Some(w),
                    Err(err) => {
                        missing.push(format!("{}: snn-limits' weights: {err}", base_label(b)));
                        None
                    }
                });
                for p in &e.peers {
                    let w = match final_weights(p) {
                        Some(Ok(w)) => {
                            let ks = e
                                .own_weights
                                .as_ref()
                                .and_then(|own| stats::ks_two_sample(&w, own).ok());
                            Some((w, ks))
                        }
                        Some(Err(err)) => {
                            missing.push(format!(
                                "{} {}: final weights: {err}",
                                simulator(p),
                                base_label(b)
                            ));
                            None
                        }
                        None => None,
                    };
                    e.weights.push(w);
                }
            }
        }
        if bases.is_empty() {
            missing
                .push("no peer runs (make peers: NEST and Brian2 on snn-limits' networks)".into());
        }
        Peers { bases, missing }
    }

    /// The runs of `sim` (snn-limits or a peer) on a base and thread count: its
    /// repetitions.
    fn runs(&self, b: &Base, sim: &str, threads: u64) -> Vec<&'a RunRecord> {
        let Some(e) = self.bases.get(b) else {
            return Vec::new();
        };
        let from = if sim == "snn-limits" {
            &e.reference
        } else {
            &e.peers
        };
        from.iter()
            .copied()
            .filter(|r| simulator(r) == sim && r.workers() == threads)
            .collect()
    }

    /// The loop wall times of `sim`'s repetitions on a base and thread count
    /// (snn-limits: its run's wall time).
    fn walls(&self, b: &Base, sim: &str, threads: u64) -> Vec<f64> {
        self.runs(b, sim, threads)
            .iter()
            .map(|r| r.wall_s())
            .collect()
    }

    /// snn-limits' median run wall time of a base on `threads`.
    fn own_wall(&self, b: &Base, threads: u64) -> Option<f64> {
        stats::median(&self.walls(b, "snn-limits", threads))
    }

    /// The median loop wall time of `sim` on a base and thread count.
    fn peer_wall(&self, b: &Base, sim: &str, threads: u64) -> Option<f64> {
        stats::median(&self.walls(b, sim, threads))
    }

    /// The thread counts any simulator ran a base on, ascending.
    fn thread_counts(&self, b: &Base) -> Vec<u64> {
        let Some(e) = self.bases.get(b) else {
            return Vec::new();
        };
        let mut t: Vec<u64> = e
            .reference
            .iter()
            .chain(&e.peers)
            .map(|r| r.workers())
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    }

    fn simulators(&self) -> Vec<String> {
        let mut s: Vec<String> = self
            .bases
            .values()
            .flat_map(|e| e.peers.iter().map(|r| simulator(r).to_string()))
            .collect();
        s.sort();
        s.dedup();
        s
    }

    /// The base of `network` (static or plastic) with peers, the longest model time.
    fn base_of(&self, network: &str, plastic: bool) -> Option<&Base> {
        self.bases
            .keys()
            .filter(|b| b.0 == network && b.1 == plastic)
            .max_by_key(|b| b.2)
    }

    /// The K-S of `sim`'s first run on a base against snn-limits, and the self-variation.
    fn ks_of(&self, b: &Base, sim: &str) -> Option<(Tests, Tests)> {
        let e = self.bases.get(b)?;
        let (_, own) = e.own.as_ref()?;
        e.peers
            .iter()
            .zip(&e.compared)
            .find(|(r, c)| simulator(r) == sim && c.is_some())
            .and_then(|(_, c)| c.as_ref().map(|(_, ks, _)| (*ks, *own)))
    }
}

fn ks_cell(k: &Option<Ks>) -> String {
    k.map_or("—".into(), |k| format!("{:.3} ({})", k.d, p_text(k.p)))
}

fn p_text(p: f64) -> String {
    if p < 1e-4 {
        format!("p {p:.0e}")
    } else {
        format!("p {p:.3}")
    }
}

/// The peers' figure: table, distributions (Fig. 2B), run times (Fig. 2C/D, 9).
pub fn figure(peers: &Peers, dir: &Path) -> FigureOutcome {
    let mut out = super::figures::outcome(
        "Peers",
        "snn-limits beside NEST and Brian2 on the same network (Fig. 2B–D, 9)",
        "Each peer ran snn-limits' weight matrices and initial potentials (snn-bench peer, \
         scripts/jobs/peers.toml). Run time: the simulation loop by the simulator's own \
         timer (snn-limits: its run's wall time), and the whole process; × snn-limits is \
         the peer's loop time over snn-limits' run time on as many threads. K-S: the \
         distance D (and p) between the peer's and snn-limits' distributions of the first \
         population's rates, ISIs and CV-ISI; self: snn-limits' even against its odd \
         neurons, the distance sampling alone gives. K-S final weights: plastic brunel's \
         E→E weights at the end, the peer's all against snn-limits' weight monitor's \
         sample. Same spikes until: the model time of \
         the first spike one run has and the other has not. Runs measured while other \
         processes took a core are marked loaded. NEURON, the paper's fourth simulator, is \
         not among the peers: its own models have no integrate-and-fire cell with \
         exponential conductances, and one written here in NMODL would test our \
         reimplementation rather than NEURON.",
    );
    out.missing = peers.missing.clone();
    if peers.bases.is_empty() {
        return out;
    }
    let mut table = Table {
        header: [
            "network",
            "simulator",
            "solver",
            "threads",
            "runs",
            "loop RTF (range)",
            "process s",
            "× snn-limits",
            "K-S rates",
            "K-S ISI",
            "K-S CV-ISI",
            "self rates",
            "self ISI",
            "self CV-ISI",
            "same spikes until",
            "K-S final weights",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for (b, e) in &peers.bases {
        let own_ks = e.own.as_ref().map(|(_, h)| *h).unwrap_or([None; 3]);
        let mut sims = vec!["snn-limits".to_string()];
        sims.extend(peers.simulators());
        for sim in &sims {
            for t in peers.thread_counts(b) {
                let runs = peers.runs(b, sim, t);
                let Some(first) = runs.first() else {
                    continue;
                };
                let rtfs: Vec<f64> = runs.iter().filter_map(|r| r.rtf()).collect();
                let rtf = stats::median(&rtfs).map_or("—".into(), |m| {
                    format!(
                        "{}{}{}",
                        rtf_text(m),
                        spread(&rtfs),
                        if runs.iter().any(|r| is_loaded(r)) {
                            " (loaded)"
                        } else {
                            ""
                        }
                    )
                });
                let row_head = |solver: String| {
                    vec![
                        base_label(b),
                        match first.str("config.simulator.version") {
                            Some(v) => format!("{sim} {v}"),
                            None => sim.clone(),
                        },
                        solver,
                        t.to_string(),
                        runs.len().to_string(),
                        rtf.clone(),
                    ]
                };
                if sim == "snn-limits" {
                    let mut row = row_head(format!(
                        "{} (this build)",
                        first.str("config.precision").unwrap_or("?")
                    ));
                    row.extend([
                        "—".into(),
                        "1".into(),
                        "—".into(),
                        "—".into(),
                        "—".into(),
                        ks_cell(&own_ks[0]),
                        ks_cell(&own_ks[1]),
                        ks_cell(&own_ks[2]),
                        "—".into(),
                        match (&e.own_weights, b.1) {
                            (Some(w), true) => format!("({} sampled)", w.len()),
                            _ => "—".into(),
                        },
                    ]);
                    table.rows.push(row);
                    continue;
                }
                // The statistics are those of the first repetition with spikes.
                let i = e.peers.iter().zip(&e.compared).position(|(r, c)| {
                    simulator(r) == sim.as_str() && r.workers() == t && c.is_some()
                });
                let c = i.and_then(|i| e.compared[i].as_ref());
                let ks = c.map(|(_, k, _)| *k).unwrap_or([None; 3]);
                let same = match c {
                    Some((_, _, None)) => "the end (identical)".to_string(),
                    Some((_, _, Some(t))) => format!("{:.1} ms", t * 1e3),
                    None => "—".into(),
                };
                let ratio = match (peers.peer_wall(b, sim, t), peers.own_wall(b, t)) {
                    (Some(p), Some(o)) => format!("{:.1}", p / o),
                    _ => "—".into(),
                };
                let process: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| r.f64("config.simulator.process_wall_s"))
                    .collect();
                let mut row = row_head(first.str("config.simulator.solver").unwrap_or("?").into());
                row.extend([
                    stats::median(&process).map_or("—".into(), |s| format!("{s:.1}")),
                    ratio,
                    ks_cell(&ks[0]),
                    ks_cell(&ks[1]),
                    ks_cell(&ks[2]),
                    ks_cell(&own_ks[0]),
                    ks_cell(&own_ks[1]),
                    ks_cell(&own_ks[2]),
                    same,
                    // The final weights: of the first repetition that has them.
                    e.peers
                        .iter()
                        .zip(&e.weights)
                        .find_map(|(r, w)| match w {
                            Some((_, k)) if simulator(r) == sim.as_str() && r.workers() == t => {
                                Some(ks_cell(k))
                            }
                            _ => None,
                        })
                        .unwrap_or_else(|| "—".into()),
                ]);
                table.rows.push(row);
            }
        }
    }
    out.table = Some(table);
    weights(peers, &mut out, dir);
    distributions(peers, &mut out, dir);
    run_times(peers, &mut out, dir);
    out
}

/// An RTF with as many digits as it needs (0.0480, 9.50, 119.5).
fn rtf_text(v: f64) -> String {
    match v {
        v if v < 1.0 => format!("{v:.4}"),
        v if v < 100.0 => format!("{v:.2}"),
        v => format!("{v:.1}"),
    }
}

/// The range (min, max) of repetitions, for more than one.
fn range(v: &[f64]) -> Option<(f64, f64)> {
    let s = stats::spread(v).filter(|_| v.len() > 1)?;
    Some((s.min, s.max))
}

/// " (lo–hi)" of repetitions, or nothing for one run.
fn spread(v: &[f64]) -> String {
    range(v).map_or_else(String::new, |(lo, hi)| {
        format!(" ({}–{})", rtf_text(lo), rtf_text(hi))
    })
}

/// Fig. 9E: plastic brunel's final E→E weights per simulator.
fn weights(peers: &Peers, out: &mut FigureOutcome, dir: &Path) {
    let Some(b) = peers.base_of("brunel", true) else {
        return;
    };
    let e = &peers.bases[b];
    let Some(own) = &e.own_weights else {
        out.missing.push(format!(
            "Fig. 9E: no snn-limits weight monitor (weights:EE) in {} (job \
             snn-limits-brunel-plastic of scripts/jobs/peers.toml)",
            base_label(b)
        ));
        return;
    };
    let mut h = Histogram::new("brunel plastic: final E→E weights by simulator")
        .x_label("weight (V)")
        .bins(40)
        .normalisation(Normalisation::Density)
        .series(HistogramSeries::raw("snn-limits", own.clone()).color(0));
    for (i, (r, w)) in e.peers.iter().zip(&e.weights).enumerate() {
        if let Some((w, _)) = w {
            h = h.series(HistogramSeries::raw(simulator(r), w.clone()).color(i + 1));
        }
    }
    super::figures::panel(out, dir, "peers-weights", h);
}

/// Fig. 2B: va's distributions per simulator, snn-limits first (the reference, as NEST is in the paper).
fn distributions(peers: &Peers, out: &mut FigureOutcome, dir: &Path) {
    let Some(b) = peers.base_of("va", false) else {
        out.missing.push("Fig. 2B: no peer run of va".into());
        return;
    };
    let e = &peers.bases[b];
    let Some((own, _)) = &e.own else { return };
    let mut sets: Vec<(String, &Distributions)> = vec![("snn-limits".into(), own)];
    for sim in peers.simulators() {
        if let Some((_, Some((d, _, _)))) = e
            .peers
            .iter()
            .zip(&e.compared)
            .find(|(r, c)| simulator(r) == sim && c.is_some())
        {
            sets.push((sim, d));
        }
    }
    for (stem, title, label, pick, log) in [
        (
            "peers-rates",
            "va E rates by simulator",
            "rate (Hz)",
            (|d: &Distributions| d.rates.clone()) as fn(&Distributions) -> Vec<f64>,
            false,
        ),
        (
            "peers-isi",
            "va E ISIs by simulator",
            "ISI (s)",
            |d| d.isis.clone(),
            true,
        ),
        (
            "peers-cv",
            "va E CV-ISI by simulator",
            "CV ISI",
            |d| d.cvs.clone(),
            false,
        ),
    ] {
        let mut h = Histogram::new(title)
            .x_label(label)
            .bins(40)
            .normalisation(Normalisation::Density);
        for (i, (name, d)) in sets.iter().enumerate() {
            h = h.series(HistogramSeries::raw(name.clone(), pick(d)).color(i));
        }
        if log {
            h = h.log_x();
        }
        super::figures::panel(out, dir, stem, h);
    }
}

/// Fig. 2C/D: the run time of every simulator and thread count for va's model time,
/// with the real-time line (run time = model time) and the repetitions' range; Fig. 4A:
/// RTF against threads per simulator with each one's fitted run-time model. Fig. 9:
/// brunel static and plastic per simulator.
fn run_times(peers: &Peers, out: &mut FigureOutcome, dir: &Path) {
    let mut sims = vec!["snn-limits".to_string()];
    sims.extend(peers.simulators());
    let wall = |b: &Base, sim: &str, t: u64| {
        if sim == "snn-limits" {
            peers.own_wall(b, t)
        } else {
            peers.peer_wall(b, sim, t)
        }
    };
    if let Some(b) = peers.base_of("va", false) {
        let simtime = b.2 as f64 / 1e9;
        let threads = peers.thread_counts(b);
        let mut chart = BarChart::new(
            format!(
                "va {}: run time of the simulation loop (Fig. 2C/D)",
                model_time(simtime)
            ),
            threads.iter().map(|t| format!("{t} thread(s)")).collect(),
        )
        .y_label("run time (s)")
        .log_y()
        .reference(simtime, "real time");
        for (i, sim) in sims.iter().enumerate() {
            let (v, err) = threads
                .iter()
                .map(|&t| {
                    let w = peers.walls(b, sim, t);
                    let bar = range(&w).map(|(lo, hi)| ErrorBar::Range { lo, hi });
                    (stats::median(&w).unwrap_or(f64::NAN), bar)
                })
                .unzip();
            chart = chart.series(BarSeries::new(sim.clone(), v).errors(err).color(i));
        }
        super::figures::panel(out, dir, "peers-va-runtime", chart);
        scaling(peers, b, &sims, out, dir);
    }
    let (Some(st), Some(pl)) = (
        peers.base_of("brunel", false),
        peers.base_of("brunel", true),
    ) else {
        out.missing
            .push("Fig. 9: no peer runs of brunel static and plastic".into());
        return;
    };
    let mut chart = BarChart::new(
        "brunel: run time per model second, static and plastic (1 thread)",
        sims.clone(),
    )
    .y_label("RTF (loop)")
    .log_y();
    for (i, (name, b)) in [("static", st), ("plastic", pl)].into_iter().enumerate() {
        let simtime = b.2 as f64 / 1e9;
        let v = sims
            .iter()
            .map(|s| wall(b, s, 1).map_or(f64::NAN, |w| w / simtime))
            .collect();
        chart = chart.series(BarSeries::new(name, v).color(i));
    }
    super::figures::panel(out, dir, "peers-brunel-runtime", chart);
}

/// Fig. 4A per simulator: va's RTF against the thread count, every repetition a fit
/// point of the run-time model (as Fig. 4 fits snn-limits' own sweep).
fn scaling(peers: &Peers, b: &Base, sims: &[String], out: &mut FigureOutcome, dir: &Path) {
    let threads = peers.thread_counts(b);
    let simtime = b.2 as f64 / 1e9;
    let cores = peers.bases.get(b).and_then(|e| {
        e.reference
            .iter()
            .chain(&e.peers)
            .find_map(|r| r.u64("host.logical_cores"))
    });
    let mut chart = LineChart::new(format!(
        "va {}: scaling per simulator (Fig. 4A)",
        model_time(simtime)
    ))
    .x_label("threads")
    .y_label("RTF (loop)")
    .log_x()
    .log_y();
    let mut notes = Vec::new();
    for (i, sim) in sims.iter().enumerate() {
        let mut points = Vec::new();
        let mut raw = Vec::new();
        for &t in &threads {
            let rtfs: Vec<f64> = peers.walls(b, sim, t).iter().map(|w| w / simtime).collect();
            raw.extend(rtfs.iter().map(|&r| (t as f64, r)));
            if let Some(s) = stats::spread(&rtfs) {
                points.push(Point::with_range(t as f64, s.median, s.min, s.max));
            }
        }
        if points.is_empty() {
            continue;
        }
        chart = chart.series(Series::with_points(sim.clone(), points).color(i));
        let (curves, _, note) = super::figures::fitted(sim, &raw, i);
        for c in curves {
            chart = chart.series(c);
        }
        notes.push(note);
    }
    let most = threads.last().copied().unwrap_or(1);
    notes.push(format!(
        "measured on {most} thread(s){}: beyond that the curves are indicative (needs ≥ {} cores)",
        cores.map_or(String::new(), |c| format!(" of {c} logical cores")),
        (most * 2).max(4)
    ));
    out.caption
        .push_str(&format!(" Fig. 4A per simulator: {}.", notes.join("; ")));
    super::figures::panel(out, dir, "peers-va-scaling", chart);
}

/// A model time as people write it: 60 s, 0.2 s, 1.5 s.
fn model_time(s: f64) -> String {
    format!("{} s", (s * 1e6).round() / 1e6)
}

/// χ = T_PL / T_NP − 1 (as Fig. 9: the relative cost of plasticity), brunel on 1
/// thread, per simulator.
fn chi(peers: &Peers, sim: &str) -> Option<f64> {
    let st = peers.base_of("brunel", false)?;
    let pl = peers.base_of("brunel", true)?;
    let rtf = |b: &Base| {
        let w = if sim == "snn-limits" {
            peers.own_wall(b, 1)
        } else {
            peers.peer_wall(b, sim, 1)
        }?;
        Some(w / (b.2 as f64 / 1e9))
    };
    Some(rtf(pl)? / rtf(st)? - 1.0)
}

/// The claims that compare simulators.
pub fn claims(peers: &Peers) -> Vec<Claim> {
    let mut out = Vec::new();
    for (sim, name) in [("nest", "NEST"), ("brian2", "Brian2")] {
        let result = peers
            .base_of("va", false)
            .ok_or_else(|| "no peer run of va (make peers)".to_string())
            .and_then(|b| {
                let (ks, own) = peers
                    .ks_of(b, sim)
                    .ok_or_else(|| format!("no {name} run of {} with spikes", base_label(b)))?;
                let (Some(k), Some(s)) = (ks[0], own[0]) else {
                    return Err("the rates could not be compared (empty sample)".into());
                };
                Ok((
                    format!(
                        "{}: E rates K-S D {:.3} ({}) against snn-limits; snn-limits' own halves D {:.3} ({})",
                        base_label(b),
                        k.d,
                        p_text(k.p),
                        s.d,
                        p_text(s.p)
                    ),
                    k.p >= 0.05,
                ))
            });
        out.push(claim(
            "Peers",
            if sim == "nest" {
                "The same network gives statistically indistinguishable rate distributions in snn-limits and NEST (K-S p ≥ 0.05)"
            } else {
                "The same network gives statistically indistinguishable rate distributions in snn-limits and Brian2 (K-S p ≥ 0.05)"
            },
            "Auryn's rate distributions match NEST's, the reference (Fig. 2B)",
            result,
        ));
    }
    let mut sims = vec!["snn-limits".to_string()];
    sims.extend(peers.simulators());
    let chis: Vec<(String, Option<f64>)> =
        sims.iter().map(|s| (s.clone(), chi(peers, s))).collect();
    let measured: Vec<String> = chis
        .iter()
        .filter_map(|(s, c)| c.map(|c| format!("{s} χ = {c:.2}")))
        .collect();
    out.push(claim(
        "Peers",
        "Plasticity costs run time in every simulator (brunel, 1 thread: χ = T_PL / T_NP − 1 > 0)",
        "STDP costs ≈ 2.5× the static network's time (Fig. 9)",
        if measured.len() < 2 {
            Err("needs brunel static and plastic runs of snn-limits and a peer (make peers)".into())
        } else {
            Ok((
                measured.join("; "),
                chis.iter().filter_map(|(_, c)| *c).all(|c| c > 0.0),
            ))
        },
    ));
    let speed = peers
        .base_of("va", false)
        .ok_or_else(|| "no peer run of va (make peers)".to_string())
        .and_then(|b| {
            let own = peers
                .own_wall(b, 1)
                .ok_or_else(|| "no snn-limits va run on 1 thread beside the peers".to_string())?;
            let ratios: Vec<(String, f64)> = peers
                .simulators()
                .into_iter()
                .filter_map(|s| peers.peer_wall(b, &s, 1).map(|w| (s, w / own)))
                .collect();
            if ratios.is_empty() {
                return Err("no peer run of va on 1 thread".into());
            }
            Ok((
                format!(
                    "{}, 1 thread: {}",
                    base_label(b),
                    ratios
                        .iter()
                        .map(|(s, r)| format!("{s} takes {r:.1}× snn-limits' time"))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                ratios.iter().all(|(_, r)| *r > 1.0),
            ))
        });
    out.push(claim(
        "Peers",
        "snn-limits is faster than every peer on va on this machine (1 thread, same network)",
        "Auryn faster than NEST, Brian and NEURON (Fig. 2C/D)",
        speed,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::super::{write, Verdict};
    use npyz::WriterBuilder;
    use serde_json::json;

    /// Spikes of `n` neurons over `steps` steps at dt 0.1 ms: neuron i fires with
    /// probability `p(i)` per step (a Bernoulli process: rates spread over neurons).
    fn spikes(path: &std::path::Path, n: usize, steps: u64, seed: u64, p: impl Fn(usize) -> f64) {
        let mut rng = rand_philox::Philox::from_u64_seed(seed);
        let mut rows = Vec::new();
        for s in 0..steps {
            for i in 0..n {
                let u = rand_philox::u32_to_unit_f64(rng.next_u32());
                if u < p(i) {
                    rows.push((s as i64, i as i64));
                }
            }
        }
        let f = std::fs::File::create(path).unwrap();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[rows.len() as u64, 2])
            .writer(std::io::BufWriter::new(f))
            .begin_nd()
            .unwrap();
        for (s, i) in rows {
            w.push(&s).unwrap();
            w.push(&i).unwrap();
        }
        w.finish().unwrap();
    }

    fn record(sim: Option<&str>, threads: u64, wall: f64, spikes: &std::path::Path) -> String {
        let mut v = json!({
            "schema": 1, "date": "2026-12-02T00:00:00Z",
            "config": {"network": "va", "precision": "f64", "threads": threads, "ranks": 1,
                       "hosts": 1, "partitions": threads, "delay_s": 0.0008, "dt_s": 0.0001,
                       "simtime_s": 2.0, "steps": 20000, "min_delay_steps": 8, "seed": 1, "neurons": 400,
                       "timers": false, "plastic": false,
                       "spikes": spikes.display().to_string()},
            "host": {"hostname": "test", "logical_cores": 2},
            "result": {"run": {"wall_s": wall}, "rtf": wall / 2.0,
                       "rates": [["all", {"neurons": 400}], ["E", {"neurons": 300}],
                                 ["I", {"neurons": 100}]]}
        });
        if let Some(s) = sim {
            v["config"]["simulator"] = json!({"name": s, "version": "1.0", "solver": "x",
                "threads": threads, "loop_wall_s": wall, "process_wall_s": wall + 3.0,
                "process_cpu_s": wall + 3.0, "inputs": "in"});
        }
        v.to_string()
    }

    /// Fig. 9E: a peer's final weights drawn from snn-limits' distribution pass the K-S
    /// test, shifted ones fail it; snn-limits' side is its weight monitor's last row.
    #[test]
    fn final_weights_are_compared_with_the_weight_monitors_last_row() {
        let tmp = tempfile::tempdir().unwrap();
        let peers = tmp.path().join("peers");
        std::fs::create_dir_all(peers.join("mon")).unwrap();
        let mut rng = rand_philox::Philox::from_u64_seed(7);
        let mut draw = |shift: f64| -> Vec<f64> {
            (0..800)
                .map(|_| 1e-4 * (1.0 + 0.05 * rand_philox::u32_to_unit_f64(rng.next_u32())) + shift)
                .collect()
        };
        // snn-limits: a weight monitor of 800 synapses, the start (all 1e-4) and the end.
        let end = draw(0.0);
        {
            let f = std::fs::File::create(peers.join("mon/weights-EE.npy")).unwrap();
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&[2, 800])
                .writer(std::io::BufWriter::new(f))
                .begin_nd()
                .unwrap();
            for x in std::iter::repeat_n(1e-4, 800).chain(end) {
                w.push(&x).unwrap();
            }
            w.finish().unwrap();
        }
        let mtx = |name: &str, w: Vec<f64>| {
            let d = peers.join(name);
            std::fs::create_dir_all(&d).unwrap();
            let mut text = format!(
                "%%MatrixMarket matrix coordinate real general\n800 800 {}\n",
                w.len()
            );
            for (i, x) in w.iter().enumerate() {
                text.push_str(&format!("{} {} {x:e}\n", i + 1, i % 7 + 1));
            }
            std::fs::write(d.join("ee.mtx"), text).unwrap();
            d
        };
        let same = mtx("same-weights", draw(0.0));
        let shifted = mtx("shifted-weights", draw(2e-6));
        let rec = |sim: Option<&str>, weights: Option<&std::path::Path>| {
            let mut v = json!({
                "schema": 1, "date": "2026-12-02T00:00:00Z",
                "config": {"network": "brunel", "precision": "f64", "threads": 1, "ranks": 1,
                           "hosts": 1, "partitions": 1, "delay_s": 0.0008, "dt_s": 0.0001,
                           "simtime_s": 1.0, "steps": 10000, "min_delay_steps": 8,
                           "seed": 1, "neurons": 1000, "timers": false, "plastic": true,
                           "monitors": [{"kind": "weights", "what": "EE", "first_step": 0,
                               "file": peers.join("mon/weights-EE.npy").display().to_string()}]},
                "host": {"hostname": "test", "logical_cores": 2},
                "result": {"run": {"wall_s": 5.0}, "rtf": 5.0,
                           "rates": [["all", {"neurons": 1000}], ["E", {"neurons": 800}]]}
            });
            if let Some(s) = sim {
                v["config"]["simulator"] = json!({"name": s, "version": "1", "solver": "x",
                    "threads": 1, "loop_wall_s": 9.0, "process_wall_s": 9.0,
                    "process_cpu_s": 9.0, "inputs": "in",
                    "details": {"final_weights": weights.unwrap().display().to_string()}});
            }
            v.to_string()
        };
        let lines = [
            rec(None, None),
            rec(Some("nest"), Some(&same)),
            rec(Some("brian2"), Some(&shifted)),
        ];
        std::fs::write(peers.join("brunel.jsonl"), lines.join("\n")).unwrap();
        let w = write(tmp.path()).unwrap();
        let f = w.figures.iter().find(|f| f.id == "Peers").unwrap();
        assert!(
            f.panels
                .iter()
                .any(|(png, _)| png.contains("peers-weights")),
            "{:?} {:?}",
            f.panels,
            f.missing
        );
        let t = f.table.as_ref().unwrap();
        let cell = |sim: &str| {
            let row = t.rows.iter().find(|r| r[1].starts_with(sim)).unwrap();
            row[row.len() - 1].clone()
        };
        assert_eq!(cell("snn-limits"), "(800 sampled)");
        let p = |c: &str| -> f64 {
            c.split("p ")
                .nth(1)
                .unwrap()
                .trim_end_matches(')')
                .parse()
                .unwrap()
        };
        assert!(p(&cell("nest")) > 0.05, "{}", cell("nest"));
        assert!(p(&cell("brian2")) < 1e-3, "{}", cell("brian2"));
    }

    /// A peer whose rates come from snn-limits' distribution passes the rates claim, one
    /// whose rates are doubled fails it; run-time ratios are the peer's over snn-limits' on
    /// as many threads; a peer's run never joins snn-limits' own figures.
    #[test]
    fn peers_are_compared_with_snn_limits_like_with_like() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let peers = dir.join("peers");
        std::fs::create_dir_all(&peers).unwrap();
        // Rates spread from 5 to 25 Hz over neurons (p per step = rate · dt).
        let rate = |i: usize| (5.0 + 20.0 * ((i * 37) % 300) as f64 / 300.0) * 1e-4;
        let own = peers.join("own.npy");
        let same = peers.join("same.npy");
        let doubled = peers.join("doubled.npy");
        spikes(&own, 400, 20_000, 1, rate);
        spikes(&same, 400, 20_000, 2, rate);
        spikes(&doubled, 400, 20_000, 3, |i| 2.0 * rate(i));
        let lines = [
            record(None, 1, 0.1, &own),
            record(None, 2, 0.06, &own),
            record(Some("nest"), 1, 20.0, &same),
            record(Some("nest"), 2, 12.0, &same),
            record(Some("brian2"), 1, 0.5, &doubled),
            record(Some("copy"), 1, 0.2, &own),
        ];
        std::fs::write(peers.join("va.jsonl"), lines.join("\n")).unwrap();
        let w = write(dir).unwrap();
        let f = w.figures.iter().find(|f| f.id == "Peers").unwrap();
        assert!(
            f.missing.iter().all(|m| m.contains("brunel")),
            "{:?}",
            f.missing
        );
        assert_eq!(
            f.panels.len(),
            5,
            "three distributions, va's run times and its scaling per simulator"
        );
        assert!(f
            .panels
            .iter()
            .any(|(png, _)| png.contains("peers-va-scaling")));
        assert!(f.caption.contains("Fig. 4A per simulator"), "{}", f.caption);
        let t = f.table.as_ref().unwrap();
        let row = |sim: &str, threads: &str| {
            t.rows
                .iter()
                .find(|r| r[1].starts_with(sim) && r[3] == threads)
                .unwrap_or_else(|| panic!("no row {sim} {threads}: {:?}", t.rows))
        };
        assert_eq!(row("nest", "1")[7], "200.0");
        assert_eq!(row("nest", "2")[7], "200.0");
        assert_eq!(row("brian2", "1")[7], "5.0");
        assert_eq!(row("nest", "1")[4], "1", "one run of each");
        // Seeds 1 and 2 differ at once; a copy of snn-limits' own file is identical.
        assert!(
            row("nest", "1")[14].ends_with(" ms"),
            "{:?}",
            row("nest", "1")
        );
        assert_eq!(row("copy", "1")[14], "the end (identical)");
        let verdict = |what: &str| {
            w.claims
                .iter()
                .find(|c| c.figure == "Peers" && c.claim.contains(what))
                .unwrap()
        };
        let nest = verdict("snn-limits and NEST");
        assert_eq!(nest.verdict, Verdict::Holds, "{}", nest.measured);
        let brian = verdict("snn-limits and Brian2");
        assert_eq!(brian.verdict, Verdict::DoesNotHold, "{}", brian.measured);
        let speed = verdict("faster than every peer");
        assert_eq!(speed.verdict, Verdict::Holds, "{}", speed.measured);
        assert!(
            speed.measured.contains("nest takes 200.0×"),
            "{}",
            speed.measured
        );
        assert_eq!(verdict("Plasticity").verdict, Verdict::NotMeasured);
        // snn-limits' own figures saw none of these records.
        let fig2 = w.figures.iter().find(|f| f.id == "Fig. 2").unwrap();
        assert!(
            fig2.missing.iter().any(|m| m.contains("no va records")),
            "{:?}",
            fig2.missing
        );
    }
}
