//! `snn-bench compare DIR_A DIR_B …`: several results directories side by side — a
//! workstation beside a cluster, this week's build beside last month's.
//!
//! Each *side* is the records of one machine in one directory (a directory that holds
//! several machines' records, as a clone on another VM leaves them, gives a side per
//! machine), labelled by the machine's identity ([`crate::records::machine_label`]) and
//! the builds that measured it, never by host name. The first side that has a
//! configuration is its base; every other side's run time is a ratio to it, with a
//! bootstrap interval ([`change`]). Beside the table: Fig. 4's scaling curves with each
//! side's fitted run-time model, Fig. 6's sync share, Fig. 8's phase costs, each
//! machine's roofline, and the smaller machine's model predicting the larger one's core
//! counts.

mod change;
mod figures;
mod page;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::records::{ConfigKey, RunRecord};
use crate::report::{Context, FigureOutcome};

pub use change::{change, Change, Verdict, LEVEL, MIN_REPETITIONS};

/// The records of one machine in one results directory.
pub struct Side {
    /// "A", "B", … in the order given.
    pub letter: String,
    pub ctx: Context,
    /// The builds that measured its records: "commit (records): rustc; RUSTFLAGS".
    pub builds: Vec<String>,
    /// Between hosts, as far as its records say ([`interconnect`]).
    pub interconnect: String,
}

impl Side {
    /// The side as legends name it: its letter and its most frequent commit.
    pub fn legend(&self) -> String {
        let mut commits: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.ctx.records {
            *commits.entry(r.commit()).or_default() += 1;
        }
        let top = commits
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        match top {
            Some((c, _)) => format!("{} {c}", self.letter),
            None => self.letter.clone(),
        }
    }

    /// The most workers any of its runs used.
    fn max_workers(&self) -> u64 {
        self.ctx
            .groups
            .iter()
            .map(|g| g.key.workers())
            .max()
            .unwrap_or(0)
    }
}

/// Letters for sides: A … Z, then A2 … (more than 26 sides is unlikely, not an error).
fn letter(i: usize) -> String {
    let l = (b'A' + (i % 26) as u8) as char;
    if i < 26 {
        l.to_string()
    } else {
        format!("{l}{}", i / 26 + 1)
    }
}

/// "9aa6e3009 (24): rustc 1.95.0 (…); -C target-cpu=native", one per build.
fn builds(records: &[RunRecord]) -> Vec<String> {
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for r in records {
        let text = |p: &str| r.str(p).unwrap_or("unknown").to_string();
        *seen
            .entry((r.commit(), text("build.rustc"), text("build.rustflags")))
            .or_default() += 1;
    }
    let mut v: Vec<_> = seen.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .map(|((commit, rustc, flags), n)| format!("{commit} ({n}): {rustc}; {flags}"))
        .collect()
}

/// What a side's records say of the interconnect: the communicators and host counts of
/// its runs across hosts ("mpi across 2 hosts (snn-h1, snn-h2)"), or that all ran on one
/// host. Records carry no measured link speed; the runs' latency figures (Fig. 6) are
/// the measurement.
fn interconnect(records: &[RunRecord]) -> String {
    let mut seen: BTreeMap<(String, u64), std::collections::BTreeSet<String>> = BTreeMap::new();
    for r in records {
        let hosts = r.u64("config.hosts").unwrap_or(1);
        if hosts > 1 {
            let names = (r
                .get("result.per_rank")
                .and_then(|v| v.as_array())
                .into_iter())
            .flatten()
            .filter_map(|rank| rank.get("host")?.as_str().map(String::from));
            let comm = r
                .str("config.communicator")
                .unwrap_or("unknown")
                .to_string();
            seen.entry((comm, hosts)).or_default().extend(names);
        }
    }
    if seen.is_empty() {
        return "one host (no runs across hosts)".into();
    }
    seen.into_iter()
        .map(|((comm, hosts), names)| {
            let names: Vec<String> = names.into_iter().collect();
            if names.is_empty() {
                format!("{comm} across {hosts} hosts")
            } else {
                format!("{comm} across {hosts} hosts ({})", names.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads every directory's sides: one per machine recorded in it, in label order.
pub fn load(dirs: &[PathBuf]) -> Result<Vec<Side>, String> {
    let mut sides = Vec::new();
    for dir in dirs {
        let machines = crate::report::machines(dir)?;
        if machines.is_empty() {
            return Err(format!(
                "{}: no records (expected a results directory that `make bench` or \
                 `snn-bench run --out` wrote)",
                dir.display()
            ));
        }
        for m in machines {
            let ctx = Context::load_for(dir, Some(&m))?;
            let letter = letter(sides.len());
            sides.push(Side {
                builds: builds(&ctx.records),
                interconnect: interconnect(&ctx.records),
                letter,
                ctx,
            });
        }
    }
    Ok(sides)
}

/// One configuration across the sides.
pub struct Row {
    pub key: ConfigKey,
    /// Per side, in side order: the RTF of each repetition (empty: not run there).
    pub rtfs: Vec<Vec<f64>>,
    /// Per side: its change against the base (the first side that ran it); None for
    /// the base and for sides that did not run it.
    pub changes: Vec<Option<Change>>,
}

impl Row {
    /// The sides that ran the configuration.
    pub fn present(&self) -> usize {
        self.rtfs.iter().filter(|r| !r.is_empty()).count()
    }

    fn base(&self) -> Option<usize> {
        self.rtfs.iter().position(|r| !r.is_empty())
    }
}

/// Seed of every interval: a comparison drawn twice is the same comparison.
const SEED: u64 = 1;

/// Every configuration any side ran, in key order, with the changes between sides.
pub fn rows(sides: &[Side]) -> Vec<Row> {
    let mut keys: BTreeMap<ConfigKey, Vec<Vec<f64>>> = BTreeMap::new();
    for (i, side) in sides.iter().enumerate() {
        for g in &side.ctx.groups {
            let rtfs = keys
                .entry(g.key.clone())
                .or_insert_with(|| vec![Vec::new(); sides.len()]);
            rtfs[i].extend(g.records.iter().filter_map(RunRecord::rtf));
        }
    }
    keys.into_iter()
        .map(|(key, rtfs)| {
            let mut row = Row {
                key,
                changes: vec![None; rtfs.len()],
                rtfs,
            };
            if let Some(b) = row.base() {
                for i in b + 1..row.rtfs.len() {
                    if !row.rtfs[i].is_empty() {
                        row.changes[i] = change(&row.rtfs[b], &row.rtfs[i], SEED);
                    }
                }
            }
            row
        })
        .collect()
}

/// What [`write`] produced.
pub struct Compared {
    pub html: PathBuf,
    pub markdown: PathBuf,
    /// Each side's letter and label.
    pub sides: Vec<(String, String)>,
    pub rows: Vec<Row>,
    pub figures: Vec<FigureOutcome>,
    /// The configurations slower than their base beyond the threshold asked for
    /// ([`Change::is_regression`]), as lines to print.
    pub slower: Vec<String>,
}

/// The first line of a comparison's Markdown: how [`write`] knows an output directory
/// as one it wrote before (and so may replace).
const MARK: &str = "# snn-limits: comparison of results directories";

/// Refuses an output directory that holds anything but an earlier comparison, or that
/// is one of the compared directories: nothing already written is lost.
fn check_out(out: &Path, dirs: &[PathBuf]) -> Result<(), String> {
    let same = |d: &Path| match (out.canonicalize(), d.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if dirs.iter().any(|d| same(d)) {
        return Err(format!(
            "--out {}: is one of the compared directories; choose another (e.g. \
             results/compare)",
            out.display()
        ));
    }
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(format!(
            "--out {}: exists and is not a directory",
            out.display()
        ));
    }
    let empty = std::fs::read_dir(out)
        .map_err(|e| format!("--out {}: cannot read ({e})", out.display()))?
        .next()
        .is_none();
    let ours = std::fs::read_to_string(out.join("report.md")).is_ok_and(|t| t.starts_with(MARK));
    if empty || ours {
        Ok(())
    } else {
        Err(format!(
            "--out {}: holds files that are not an earlier comparison; choose an empty or \
             new directory",
            out.display()
        ))
    }
}

/// Compares the results directories `dirs` into `out` (`index.html`, `report.md`,
/// `figures/`). `threshold`: the slowdown (0.05: 5 %) beyond which a configuration
/// whose interval excludes "no change" is listed in [`Compared::slower`].
pub fn write(dirs: &[PathBuf], out: &Path, threshold: f64) -> Result<Compared, String> {
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(format!(
            "threshold {threshold}: expected a slowdown fraction ≥ 0 (0.05 is 5 %)"
        ));
    }
    check_out(out, dirs)?;
    let sides = load(dirs)?;
    if sides.len() < 2 {
        return Err(format!(
            "{}: one machine's records only; nothing to compare (give two or more \
             results directories, or one that holds several machines' records)",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let fig_dir = out.join("figures");
    std::fs::create_dir_all(&fig_dir)
        .map_err(|e| format!("cannot create {}: {e}", fig_dir.display()))?;
    let rows = rows(&sides);
    let figures = figures::all(&sides, &fig_dir);
    let sides_ref = &sides;
    let slower: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            let base = row.base().unwrap_or(0);
            row.changes.iter().enumerate().filter_map(move |(i, c)| {
                let c = c.as_ref().filter(|c| c.is_regression(threshold))?;
                Some(format!(
                    "{}: {} is {} the time of {} (RTF ratio, {:.0} % interval)",
                    row.key,
                    sides_ref[i].letter,
                    c.text(),
                    sides_ref[base].letter,
                    LEVEL * 100.0
                ))
            })
        })
        .collect();
    let page = page::Page {
        sides: &sides,
        rows: &rows,
        figures: &figures,
        threshold,
        slower: &slower,
    };
    let html = out.join("index.html");
    let markdown = out.join("report.md");
    for (path, text) in [(&html, page.html()), (&markdown, page.markdown())] {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(Compared {
        html,
        markdown,
        sides: sides
            .iter()
            .map(|s| (s.letter.clone(), s.ctx.machine_label.clone()))
            .collect(),
        rows,
        figures,
        slower,
    })
}
