//! The reproduction report: every figure the records of one machine support, and a table
//! of the paper's claims with the value measured here and whether it holds.
//!
//! [`write`] reads every records file of a results directory (`results/<host>/*.jsonl`
//! and `figures/*.jsonl`), the spike files and exchange traces they point to and
//! `machine.json` (`snn-bench machine`), then writes `report/index.html`,
//! `report/report.md` and `report/figures/*.{png,svg}`. Missing data shows as missing in
//! the report, never as an error: a 2-core workstation cannot show a 64-core curve.

mod claims;
pub mod data;
pub(crate) mod figures;
pub(crate) mod html;
mod peers;
pub mod roofline;
mod sources;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::records::{self, ConfigKey, Group, RunRecord, Warning};

pub use claims::{Claim, Verdict};

/// Everything the figures and claims are computed from.
pub struct Context {
    pub dir: PathBuf,
    pub records: Vec<RunRecord>,
    pub groups: Vec<Group>,
    pub warnings: Vec<Warning>,
    /// `machine.json`, if measured.
    pub machine: Option<Value>,
    /// What was done with runs measured on a loaded machine (see [`quiet_where_possible`]).
    pub loaded: Vec<String>,
    /// The peers' comparison (`DIR/peers/*.jsonl`: NEST's and Brian2's runs and
    /// snn-limits' runs beside them), kept apart from `records` so that a peer's run never
    /// joins snn-limits' figures.
    pub peers: Vec<RunRecord>,
    /// The machine every record above was measured on ([`records::machine_label`]).
    pub machine_label: String,
    /// The records of other machines left out, one line per machine (see [`one_machine`]).
    pub other_machines: Vec<String>,
    /// The records the look-ups below handed out, for [`Context::sources_of`].
    used: sources::Used,
}

/// The records of one machine, and a line per other machine saying what was left out.
pub struct OneMachine {
    pub label: String,
    pub records: Vec<RunRecord>,
    pub peers: Vec<RunRecord>,
    pub others: Vec<String>,
}

/// Keeps the records (and the peers' records) of one machine: the one whose label
/// contains `want`, else the machine of the newest record. A results directory is named
/// after the host, and many machines share a host name (a fresh clone on another VM
/// appends its runs beside the committed ones), so pooling them would put two machines'
/// numbers in one median; comparing machines is `snn-bench compare`'s job.
pub fn one_machine(
    records: Vec<RunRecord>,
    peers: Vec<RunRecord>,
    want: Option<&str>,
) -> Result<OneMachine, String> {
    use std::collections::BTreeMap;
    // Per machine: records, first and last date, commits.
    let mut seen: BTreeMap<String, (usize, String, String, BTreeMap<String, usize>)> =
        BTreeMap::new();
    for r in records.iter().chain(&peers) {
        let date = r.str("date").unwrap_or("").to_string();
        let e = seen
            .entry(r.machine())
            .or_insert_with(|| (0, date.clone(), date.clone(), BTreeMap::new()));
        e.0 += 1;
        if date < e.1 {
            e.1 = date.clone();
        }
        if date > e.2 {
            e.2 = date;
        }
        *e.3.entry(r.commit()).or_default() += 1;
    }
    let label = match want {
        // A label given whole is that machine, even if it is part of another's label.
        Some(text) if seen.contains_key(text) => text.to_string(),
        Some(text) => {
            let hits: Vec<&String> = seen.keys().filter(|m| m.contains(text)).collect();
            match hits.as_slice() {
                [one] => one.to_string(),
                _ => {
                    return Err(format!(
                        "--machine {text:?}: {} of the machines recorded here match; \
                         expected exactly one of: {}",
                        hits.len(),
                        seen.keys().cloned().collect::<Vec<_>>().join("; ")
                    ))
                }
            }
        }
        None => seen
            .iter()
            .max_by(|a, b| (a.1 .2.as_str(), a.0).cmp(&(b.1 .2.as_str(), b.0)))
            .map_or_else(|| "no records".to_string(), |(m, _)| m.clone()),
    };
    let others = seen
        .iter()
        .filter(|(m, _)| **m != label)
        .map(|(m, (n, first, last, commits))| {
            let day = |d: &str| d.get(..10).unwrap_or(d).to_string();
            format!(
                "{n} record(s) of {m} ({} to {}; commits {}) left out: this report is of \
                 {label} (`snn-bench report --machine TEXT` chooses another)",
                day(first),
                day(last),
                commits_text(commits)
            )
        })
        .collect();
    let mine = |rs: Vec<RunRecord>| -> Vec<RunRecord> {
        rs.into_iter().filter(|r| r.machine() == label).collect()
    };
    Ok(OneMachine {
        records: mine(records),
        peers: mine(peers),
        label,
        others,
    })
}

/// "e151efb5a (24), b2a9357c1 (3)": commits by how many records each measured.
fn commits_text(commits: &std::collections::BTreeMap<String, usize>) -> String {
    let mut v: Vec<(&String, &usize)> = commits.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(c, n)| format!("{c} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a record says its run was measured on a loaded machine (other processes
/// took cores; `result.conditions` of snn-bench records). Older records say nothing and
/// count as quiet.
pub fn is_loaded(r: &RunRecord) -> bool {
    r.bool("result.conditions.loaded") == Some(true)
}

/// Leaves out the runs measured on a loaded machine wherever a quiet run of the same
/// configuration exists, so that no claim or figure counts them; where only loaded runs
/// exist they are kept, and the notes returned (for the report) say so.
pub fn quiet_where_possible(records: Vec<RunRecord>) -> (Vec<RunRecord>, Vec<String>) {
    use std::collections::BTreeMap;
    let mut quiet: BTreeMap<ConfigKey, bool> = BTreeMap::new();
    for r in &records {
        *quiet.entry(r.key()).or_default() |= !is_loaded(r);
    }
    let mut left_out = 0;
    let mut only: BTreeMap<ConfigKey, usize> = BTreeMap::new();
    let kept: Vec<RunRecord> = records
        .into_iter()
        .filter(|r| {
            if !is_loaded(r) {
                return true;
            }
            if quiet[&r.key()] {
                left_out += 1;
                return false;
            }
            *only.entry(r.key()).or_default() += 1;
            true
        })
        .collect();
    let mut notes = Vec::new();
    if left_out > 0 {
        notes.push(format!(
            "{left_out} run(s) measured on a loaded machine left out: quiet runs of the same \
             configuration exist"
        ));
    }
    for (key, n) in only {
        notes.push(format!(
            "{key}: only measured on a loaded machine ({n} run(s)); its numbers are used, \
             and may be slower than this machine can do"
        ));
    }
    (kept, notes)
}

/// The machines whose snn-limits records a results directory holds (its records and
/// figure records; not the peers'), by label ([`records::machine_label`]), in label
/// order.
pub fn machines(dir: &Path) -> Result<Vec<String>, String> {
    let mut labels = std::collections::BTreeSet::new();
    for d in [dir.to_path_buf(), dir.join("figures")] {
        if d.is_dir() {
            let (records, _) =
                records::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
            labels.extend(records.iter().map(RunRecord::machine));
        }
    }
    Ok(labels.into_iter().collect())
}

impl Context {
    /// Reads `dir` (records, figure records, machine.json) for the machine of its newest
    /// record.
    pub fn load(dir: &Path) -> Result<Context, String> {
        Self::load_for(dir, None)
    }

    /// Reads `dir` for one machine: the one whose label contains `machine`, else that of
    /// the newest record ([`one_machine`]).
    pub fn load_for(dir: &Path, machine: Option<&str>) -> Result<Context, String> {
        let read = |d: &Path| {
            if d.is_dir() {
                records::read_dir(d).map_err(|e| format!("{}: {e}", d.display()))
            } else {
                Ok((Vec::new(), Vec::new()))
            }
        };
        if !dir.is_dir() {
            return Err(format!(
                "{}: no such results directory (run `make bench` first)",
                dir.display()
            ));
        }
        let (mut records, mut warnings) = read(dir)?;
        let (r, w) = read(&dir.join("figures"))?;
        records.extend(r);
        warnings.extend(w);
        let (peers, w) = read(&dir.join("peers"))?;
        warnings.extend(w);
        let one = one_machine(records, peers, machine)?;
        let (records, peers) = (one.records, one.peers);
        let machine_json = dir.join("machine.json");
        let machine = match sim_core::input::read(&machine_json, 1 << 24, "machine.json") {
            Ok(bytes) => match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(v) => Some(v),
                Err(e) => {
                    warnings.push(Warning {
                        file: machine_json.clone(),
                        line: e.line(),
                        message: format!("not JSON ({e}); machine limits left out"),
                    });
                    None
                }
            },
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                warnings.push(Warning {
                    file: machine_json.clone(),
                    line: 0,
                    message: format!("cannot read ({e}); machine limits left out"),
                });
                None
            }
        };
        // Another machine's limits say nothing of this machine's records.
        let machine = machine.filter(|m| {
            let of = records::machine_label(&m["host"]);
            let same = of == one.label;
            if !same {
                warnings.push(Warning {
                    file: machine_json.clone(),
                    line: 0,
                    message: format!(
                        "measured on another machine ({of}) than the records ({}); machine \
                         limits left out (`snn-bench machine` measures this one's)",
                        one.label
                    ),
                });
            }
            same
        });
        let (records, loaded) = quiet_where_possible(records);
        let groups = records::group(&records);
        Ok(Context {
            dir: dir.to_path_buf(),
            records,
            groups,
            warnings,
            machine,
            loaded,
            peers,
            machine_label: one.label,
            other_machines: one.others,
            used: sources::Used::default(),
        })
    }

    /// Groups of the block partitioner (every run of the study but the partitioners'
    /// comparison, so that a round-robin run never joins a scaling curve) whose
    /// configuration passes `keep`.
    pub fn groups(&self, keep: impl Fn(&ConfigKey) -> bool) -> Vec<&Group> {
        self.any_partitioner(|k| k.partitioner == "block" && keep(k))
    }

    /// Groups of any partitioner whose configuration passes `keep`, of vectorised
    /// builds: every figure but Fig. 10 describes the build as it is meant to run.
    pub fn any_partitioner(&self, keep: impl Fn(&ConfigKey) -> bool) -> Vec<&Group> {
        self.any_build(|k| k.vectorised && keep(k))
    }

    /// Groups of any partitioner and build (vectorised or not: Fig. 10) whose
    /// configuration passes `keep`.
    pub fn any_build(&self, keep: impl Fn(&ConfigKey) -> bool) -> Vec<&Group> {
        let groups: Vec<&Group> = self.groups.iter().filter(|g| keep(&g.key)).collect();
        self.used.mark(groups.iter().flat_map(|g| &g.records));
        groups
    }

    /// Records of the block partitioner and a vectorised build whose configuration
    /// passes `keep`.
    pub fn records(&self, keep: impl Fn(&RunRecord) -> bool) -> Vec<&RunRecord> {
        let records: Vec<&RunRecord> = (self.records.iter())
            .filter(|r| {
                let k = r.key();
                k.partitioner == "block" && k.vectorised && keep(r)
            })
            .collect();
        self.used.mark(records.iter().copied());
        records
    }

    /// The va run at `dt` seconds and `seed` that recorded its spikes (a `spikes:all`
    /// monitor or `--spikes`; Fig. 2, 3).
    pub fn va_spikes(&self, dt: f64, seed: u64) -> Option<&RunRecord> {
        self.newest_with_spikes(|r| {
            r.network() == "va"
                && r.u64("config.seed") == Some(seed)
                && r.f64("config.dt_s").is_some_and(|x| (x - dt).abs() < 1e-9)
        })
    }

    /// The newest run matching `pred` whose spike file is there: a results directory
    /// may also hold older records of the same run (from before its files were
    /// monitors', or another machine's) whose files are gone or lack the monitors.
    pub fn newest_with_spikes(&self, pred: impl Fn(&RunRecord) -> bool) -> Option<&RunRecord> {
        let newest = (self.records.iter())
            .filter(|r| pred(r))
            .filter(|r| data::spike_file(r).is_some_and(|f| data::locate(r, f).is_some()))
            .max_by_key(|r| r.str("date").unwrap_or(""));
        self.used.mark(newest);
        newest
    }

    /// The peers' records (and snn-limits' beside them), marked as used.
    pub fn peer_records(&self) -> &[RunRecord] {
        self.used.mark(&self.peers);
        &self.peers
    }

    /// Runs `f` (a figure, a claim) and says which records it looked at: files, lines
    /// and commits.
    pub fn sources_of<T>(&self, f: impl FnOnce() -> T) -> (T, String) {
        self.used.of(&self.dir, f)
    }

    /// The newest record's host and build, for the report's header.
    fn about(&self) -> Vec<(String, String)> {
        let Some(r) = self
            .records
            .iter()
            .max_by_key(|r| r.str("date").unwrap_or(""))
        else {
            return Vec::new();
        };
        let mut rows = vec![("machine".to_string(), self.machine_label.clone())];
        let mut commits = std::collections::BTreeMap::new();
        for r in self.records.iter().chain(&self.peers) {
            *commits.entry(r.commit()).or_insert(0) += 1;
        }
        rows.push(("commits (records)".to_string(), commits_text(&commits)));
        for (label, path) in [
            ("host", "host.hostname"),
            ("CPU", "host.cpu_model"),
            ("logical cores", "host.logical_cores"),
            ("memory (bytes)", "host.memory_bytes"),
            ("OS", "host.os"),
            ("rustc", "build.rustc"),
            ("RUSTFLAGS", "build.rustflags"),
            ("commit", "build.git_commit"),
            ("newest record", "date"),
        ] {
            if let Some(v) = r.get(path) {
                let text = v.as_str().map_or_else(|| v.to_string(), String::from);
                rows.push((label.to_string(), text));
            }
        }
        rows
    }
}

/// One figure of the report: its panels, or why it is missing.
#[derive(Debug, Clone)]
pub struct FigureOutcome {
    /// "Fig. 4"
    pub id: String,
    pub title: String,
    /// What the figure shows and from which runs.
    pub caption: String,
    /// Paths of the rendered panels (PNG, SVG), relative to the report directory.
    pub panels: Vec<(String, String)>,
    /// Why some or all of the figure is missing (empty when complete).
    pub missing: Vec<String>,
    /// A table shown with the figure (after its panels), if it has one.
    pub table: Option<roofline::Table>,
    /// The records it was drawn from ([`Context::sources_of`]).
    pub sources: String,
}

/// What [`write`] produced.
#[derive(Debug)]
pub struct Written {
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub figures: Vec<FigureOutcome>,
    pub claims: Vec<Claim>,
    pub warnings: Vec<Warning>,
    /// The machine reported on, and what was left out of the others'.
    pub machine: String,
    pub other_machines: Vec<String>,
}

/// Writes the report of results directory `dir` into `dir/report`, for the machine of
/// its newest record.
pub fn write(dir: &Path) -> Result<Written, String> {
    write_for(dir, None)
}

/// Writes the report of `dir` for one machine (see [`Context::load_for`]).
pub fn write_for(dir: &Path, machine: Option<&str>) -> Result<Written, String> {
    let ctx = Context::load_for(dir, machine)?;
    let out = dir.join("report");
    let fig_dir = out.join("figures");
    std::fs::create_dir_all(&fig_dir)
        .map_err(|e| format!("cannot create {}: {e}", fig_dir.display()))?;
    let mut figures = figures::all(&ctx, &fig_dir);
    // Read once (spike files, the peers' learnt weights) for the figure and the claims,
    // which all draw on every peer record.
    let (peer_runs, peer_sources) = ctx.sources_of(|| peers::Peers::of(&ctx));
    let mut peer_figure = peers::figure(&peer_runs, &fig_dir);
    peer_figure.sources = peer_sources.clone();
    figures.push(peer_figure);
    let mut claims = claims::all(&ctx);
    claims.extend(peers::claims(&peer_runs).into_iter().map(|mut c| {
        c.sources = peer_sources.clone();
        c
    }));
    let page = html::Page {
        about: ctx.about(),
        figures: &figures,
        claims: &claims,
        warnings: &ctx.warnings,
        loaded: &ctx.loaded,
        other_machines: &ctx.other_machines,
        records: ctx.records.len(),
        machine: ctx.machine.as_ref().map(roofline::machine),
        phases: roofline::phases(&ctx),
    };
    let html_path = out.join("index.html");
    let md_path = out.join("report.md");
    write_atomically(&html_path, &page.html())?;
    write_atomically(&md_path, &page.markdown())?;
    Ok(Written {
        html: html_path,
        markdown: md_path,
        figures,
        claims,
        warnings: ctx.warnings,
        machine: ctx.machine_label,
        other_machines: ctx.other_machines,
    })
}

/// Writes a file whole or not at all: a report that fails half-way leaves the previous
/// one readable.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use npyz::WriterBuilder;

    /// A synthetic record: `workers` threads, median-able RTF `rtf`, phases as shares.
    fn record(
        network: &str,
        plastic: Option<&str>,
        workers: u64,
        rtf: f64,
        trace: Option<&str>,
    ) -> String {
        let simtime = 2.0;
        let wall = rtf * simtime;
        let phase = |share: f64| serde_json::json!({"min": wall * share, "mean": wall * share, "max": wall * share});
        serde_json::json!({
            "schema": 1,
            "date": "2026-11-22T00:00:00Z",
            "config": {"network": network, "precision": "f32", "threads": workers, "ranks": 1,
                       "hosts": 1, "partitions": workers, "delay_s": 0.0008, "dt_s": 0.0001,
                       "simtime_s": simtime, "steps": 20000, "min_delay_steps": 8,
                       "timers": true, "plastic": plastic.is_some(), "traces": plastic,
                       "exchange_trace": trace},
            "host": {"hostname": "test", "logical_cores": 4},
            "result": {"run": {"wall_s": wall}, "rtf": rtf,
                       "phases": {"evolve": phase(0.4), "propagate": phase(0.2),
                                  "plasticity": phase(if plastic.is_some() { 0.3 } else { 0.0 }),
                                  "barrier": phase(0.05 * workers as f64), "sync": phase(0.01)},
                       "rates": [["all", {"mean_rate_hz": 3.0}]]}
        })
        .to_string()
    }

    /// Loaded runs are left out where a quiet run of their configuration exists, kept
    /// (and named in the notes) where none does; records of old builds count as quiet.
    #[test]
    fn loaded_runs_count_only_where_no_quiet_run_exists() {
        let with = |threads: u64, rtf: f64, loaded: Option<bool>| {
            let mut v: Value =
                serde_json::from_str(&record("va", None, threads, rtf, None)).unwrap();
            if let Some(l) = loaded {
                v["result"]["conditions"] = serde_json::json!({"loaded": l});
            }
            v.to_string()
        };
        let text = [
            with(1, 0.03, Some(false)),
            with(1, 0.09, Some(true)),
            with(1, 0.031, None),
            with(2, 0.08, Some(true)),
            with(2, 0.07, Some(true)),
        ]
        .join("\n");
        let (records, warnings) = records::parse(Path::new("runs.jsonl"), &text);
        assert!(warnings.is_empty(), "{warnings:?}");
        let (kept, notes) = quiet_where_possible(records);
        let rtfs: Vec<(u64, f64)> = kept
            .iter()
            .map(|r| (r.workers(), r.rtf().unwrap()))
            .collect();
        assert_eq!(rtfs, vec![(1, 0.03), (1, 0.031), (2, 0.08), (2, 0.07)]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("1 run(s)"), "{notes:?}");
        assert!(
            notes[1].contains("only measured on a loaded machine (2 run(s))"),
            "{notes:?}"
        );
    }

    /// Two machines of one host name in one directory (a fresh clone on another VM beside
    /// the committed records): the report is of one, the newest unless `--machine` says
    /// otherwise, never of both pooled; the other machine's records and limits are named
    /// as left out.
    #[test]
    fn a_report_is_of_one_machine_and_names_the_others_left_out() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let on = |cpu: &str, date: &str, threads: u64, rtf: f64| {
            let mut v: Value =
                serde_json::from_str(&record("va", None, threads, rtf, None)).unwrap();
            v["host"]["cpu_model"] = cpu.into();
            v["date"] = date.into();
            v["build"] =
                serde_json::json!({"git_commit": "0123456789abcdef", "git_dirty": "false"});
            v.to_string()
        };
        let lines = [
            on("Old CPU", "2026-11-22T10:00:00Z", 1, 0.05),
            on("Old CPU", "2026-11-22T11:00:00Z", 2, 0.03),
            on("Old CPU", "2026-11-22T12:00:00Z", 1, 0.05),
            on("New CPU", "2026-12-03T08:00:00Z", 1, 0.10),
            on("New CPU", "2026-12-03T09:00:00Z", 2, 0.06),
        ];
        std::fs::write(dir.join("runs.jsonl"), lines.join("\n")).unwrap();
        std::fs::write(
            dir.join("machine.json"),
            serde_json::json!({"schema": 1, "host": {"hostname": "test", "cpu_model": "Old CPU",
                                                   "logical_cores": 4}})
            .to_string(),
        )
        .unwrap();
        let w = write(dir).unwrap();
        assert!(w.machine.starts_with("New CPU, 4 cores"), "{}", w.machine);
        assert_eq!(w.other_machines.len(), 1, "{:?}", w.other_machines);
        let note = &w.other_machines[0];
        assert!(
            note.starts_with("3 record(s) of Old CPU, 4 cores")
                && note.contains("2026-11-22 to 2026-11-22")
                && note.contains("commits 012345678 (3)"),
            "{note}"
        );
        assert!(
            (w.warnings.iter()).any(|x| x.message.contains("measured on another machine")),
            "{:?}",
            w.warnings
        );
        let html = std::fs::read_to_string(&w.html).unwrap();
        assert!(
            html.contains("from 2 records"),
            "only New CPU's runs are used"
        );
        assert!(html.contains("Records of other machines"));
        // Each figure and claim names the records behind it, of this machine only.
        let sources = |w: &Written| -> Vec<String> {
            (w.figures.iter().map(|f| f.sources.clone()))
                .chain(w.claims.iter().map(|c| c.sources.clone()))
                .collect()
        };
        let named = sources(&w);
        assert!(
            named.contains(&"2 record(s): runs.jsonl:4–5; commits 012345678 (2)".to_string()),
            "{named:?}"
        );
        assert!(
            !(named.iter()).any(|s| (1..=3).any(|l| s.contains(&format!("runs.jsonl:{l}")))),
            "{named:?}"
        );
        assert!(html.contains("records: 2 record(s): runs.jsonl:4–5"));
        // The other machine on request: its 3 runs, its limits.
        let w = write_for(dir, Some("Old")).unwrap();
        assert!(w.machine.starts_with("Old CPU"), "{}", w.machine);
        let named = sources(&w);
        assert!(
            named.contains(&"3 record(s): runs.jsonl:1–3; commits 012345678 (3)".to_string()),
            "{named:?}"
        );
        let html = std::fs::read_to_string(&w.html).unwrap();
        assert!(html.contains("from 3 records"));
        assert!(!(w.warnings.iter()).any(|x| x.message.contains("another machine")));
        // A choice that matches both, or none, is refused, naming the machines.
        for text in ["CPU", "Pentium"] {
            let e = write_for(dir, Some(text)).unwrap_err();
            assert!(e.contains("Old CPU") && e.contains("New CPU"), "{e}");
        }
    }

    /// Fig. 7, 8 and 9 draw from records of plastic and static runs and an exchange
    /// trace; every panel renders, nothing is reported missing.
    #[test]
    fn plastic_figures_render_from_fixture_records() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let trace = dir.join("trace.npy");
        {
            let f = std::fs::File::create(&trace).unwrap();
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(&[100, 2])
                .writer(std::io::BufWriter::new(f))
                .begin_nd()
                .unwrap();
            for e in 0..100 {
                w.push(&(e as f64 * 1e-3)).unwrap();
                w.push(&(e as f64 * 1e-3 + 1e-5 * (1 + e % 7) as f64))
                    .unwrap();
            }
            w.finish().unwrap();
        }
        let mut lines = Vec::new();
        for (workers, speedup) in [(1u64, 1.0), (2, 1.8)] {
            let t = (workers == 2).then(|| trace.to_str().unwrap());
            lines.push(record("zenke25k", None, workers, 0.3 / speedup, None));
            lines.push(record(
                "zenke25k",
                Some("continuous"),
                workers,
                1.0 / speedup,
                t,
            ));
            lines.push(record(
                "zenke25k",
                Some("event-based"),
                workers,
                1.2 / speedup,
                None,
            ));
            lines.push(record("brunel", None, workers, 1.5 / speedup, None));
            lines.push(record(
                "brunel",
                Some("continuous"),
                workers,
                4.0 / speedup,
                None,
            ));
        }
        std::fs::write(dir.join("runs.jsonl"), lines.join("\n")).unwrap();
        let w = write(dir).unwrap();
        for id in ["Fig. 4", "Fig. 7", "Fig. 8", "Fig. 9"] {
            let f = w.figures.iter().find(|f| f.id == id).unwrap();
            assert!(f.missing.is_empty(), "{id}: {:?}", f.missing);
            assert!(!f.panels.is_empty(), "{id}");
            for (png, svg) in &f.panels {
                for p in [png, svg] {
                    let len = std::fs::metadata(dir.join("report").join(p)).unwrap().len();
                    assert!(len > 1000, "{p}: {len} bytes");
                }
            }
        }
        let stdp = w.claims.iter().find(|c| c.figure == "Fig. 9").unwrap();
        assert_eq!(stdp.verdict, Verdict::Holds, "{}", stdp.measured);
        assert!(
            stdp.measured.contains("2.67"),
            "4.0 / 1.5: {}",
            stdp.measured
        );
        let barrier = w.claims.iter().find(|c| c.figure == "Fig. 7").unwrap();
        assert_eq!(
            barrier.verdict,
            Verdict::DoesNotHold,
            "equal barrier shares: {}",
            barrier.measured
        );
        let html = std::fs::read_to_string(&w.html).unwrap();
        assert!(
            html.contains("missing: machine limits"),
            "no machine.json: shown as missing"
        );
    }

    /// Fig. 7b: runs of one configuration under each partitioner become a table row
    /// each (run time, barrier wait per exchange, estimated imbalance) and a bar chart;
    /// the other figures never see a non-block run.
    #[test]
    fn the_partitioner_table_renders_from_fixture_records() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut lines = Vec::new();
        for rep in 0..3 {
            for (p, rtf, costs) in [
                ("block", 0.30, [50.0, 50.0]),
                ("round-robin", 0.50, [20.0, 80.0]),
                ("balanced", 0.29, [50.0, 50.0]),
            ] {
                let mut v: Value =
                    serde_json::from_str(&record("hetero", Some("continuous"), 2, rtf, None))
                        .unwrap();
                v["config"]["partitioner"] = p.into();
                v["config"]["partition_costs"] = serde_json::json!(costs);
                v["config"]["repetition"] = rep.into();
                // 2 s at an exchange every 8 steps of 0.1 ms: 2500 exchanges.
                v["result"]["exchanges"] = 2500.into();
                lines.push(v.to_string());
            }
        }
        std::fs::write(dir.join("runs.jsonl"), lines.join("\n")).unwrap();
        let w = write(dir).unwrap();
        let f = w.figures.iter().find(|f| f.id == "Fig. 7b").unwrap();
        assert!(f.missing.is_empty(), "{:?}", f.missing);
        assert_eq!(f.panels.len(), 1);
        let t = f.table.as_ref().expect("a table");
        assert_eq!(t.rows.len(), 3);
        let row = |p: &str| t.rows.iter().find(|r| r[2] == p).unwrap().clone();
        // Wall = RTF × 2 s; barrier = 0.05 × 2 workers × wall, over 2500 exchanges.
        assert_eq!(row("round-robin")[3], "3");
        assert_eq!(row("round-robin")[4], "1.000");
        assert_eq!(
            row("round-robin")[5],
            format!("{:.2}", 0.1 * 1.0 / 2500.0 * 1e6)
        );
        assert_eq!(row("round-robin")[6], "1.600");
        assert_eq!(row("block")[6], "1.000");
        assert_eq!(row("balanced")[4], "0.580");
        let html = std::fs::read_to_string(&w.html).unwrap();
        assert!(html.contains("Fig. 7b") && html.contains("<td>round-robin</td>"));
        let md = std::fs::read_to_string(&w.markdown).unwrap();
        assert!(
            md.contains("| hetero+stdp/continuous | 2 | balanced | 3 | 0.580 |"),
            "{md}"
        );
        // Only the block runs count anywhere else.
        let ctx = Context::load(dir).unwrap();
        assert_eq!(ctx.groups(|_| true).len(), 1);
        assert_eq!(ctx.records(|_| true).len(), 3);
        assert_eq!(ctx.any_partitioner(|_| true).len(), 3);
        // Without runs under several partitioners the figure says what is missing.
        std::fs::write(dir.join("runs.jsonl"), &lines[0]).unwrap();
        let w = write(dir).unwrap();
        let f = w.figures.iter().find(|f| f.id == "Fig. 7b").unwrap();
        assert!(
            f.table.is_none() && f.missing[0].contains("partitioners"),
            "{:?}",
            f.missing
        );
    }

    /// The raster's run is the newest va run whose spike file is there: an older record
    /// of the same run (its file gone, e.g. a committed record from before the figures
    /// wrote monitors) must not hide it (it did: Fig. 2's rates went missing).
    #[test]
    fn the_raster_run_is_the_newest_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let run = |date: &str, spikes: &Path| {
            let mut v: Value = serde_json::from_str(&record("va", None, 1, 0.05, None)).unwrap();
            v["date"] = date.into();
            v["config"]["seed"] = 1.into();
            v["config"]["spikes"] = spikes.display().to_string().into();
            v.to_string()
        };
        let there = dir.path().join("new.npy");
        std::fs::write(&there, b"").unwrap();
        let text = [
            run("2026-11-01T00:00:00Z", &dir.path().join("gone.npy")),
            run("2026-12-01T00:00:00Z", &there),
            run("2026-10-01T00:00:00Z", &there),
        ]
        .join("\n");
        std::fs::write(dir.path().join("runs.jsonl"), text).unwrap();
        let ctx = Context::load(dir.path()).unwrap();
        let r = ctx.va_spikes(1e-4, 1).expect("a run with its file");
        assert_eq!(r.str("date"), Some("2026-12-01T00:00:00Z"));
        assert!(ctx.va_spikes(1e-4, 2).is_none(), "no run of seed 2");
    }

    /// The local-scaling claim compares 1 and 2 threads of one configuration: a larger
    /// group of 2-thread runs of another model time must not become its 2-thread side.
    #[test]
    fn local_scaling_pairs_runs_of_one_model_time() {
        let at = |workers: u64, rtf: f64, simtime: f64| {
            let mut v: Value =
                serde_json::from_str(&record("va", None, workers, rtf, None)).unwrap();
            v["config"]["simtime_s"] = simtime.into();
            v["config"]["steps"] = ((simtime / 1e-4) as u64).into();
            v.to_string()
        };
        let mut lines = Vec::new();
        for _ in 0..3 {
            lines.push(at(1, 0.1, 60.0));
            lines.push(at(2, 0.055, 60.0));
        }
        for _ in 0..5 {
            lines.push(at(2, 0.09, 20.0));
        }
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("runs.jsonl"), lines.join("\n")).unwrap();
        let ctx = Context::load(tmp.path()).unwrap();
        let c = claims::all(&ctx)
            .into_iter()
            .find(|c| c.claim.starts_with("Locally, strong scaling"))
            .unwrap();
        assert!(c.measured.contains("1.82× faster"), "{}", c.measured);
    }

    #[test]
    fn a_missing_directory_is_an_error_that_names_it() {
        let e = write(Path::new("/nonexistent/results")).unwrap_err();
        assert!(e.contains("/nonexistent/results"), "{e}");
    }
}
