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
mod figures;
mod html;
mod roofline;

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
}

impl Context {
    /// Reads `dir` (records, figure records, machine.json).
    pub fn load(dir: &Path) -> Result<Context, String> {
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
        let machine = std::fs::read_to_string(dir.join("machine.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let groups = records::group(&records);
        Ok(Context {
            dir: dir.to_path_buf(),
            records,
            groups,
            warnings,
            machine,
        })
    }

    /// Groups whose configuration passes `keep`.
    pub fn groups(&self, keep: impl Fn(&ConfigKey) -> bool) -> Vec<&Group> {
        self.groups.iter().filter(|g| keep(&g.key)).collect()
    }

    /// Records whose configuration passes `keep`.
    pub fn records(&self, keep: impl Fn(&RunRecord) -> bool) -> Vec<&RunRecord> {
        self.records.iter().filter(|r| keep(r)).collect()
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
        let mut rows = Vec::new();
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
}

/// What [`write`] produced.
#[derive(Debug)]
pub struct Written {
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub figures: Vec<FigureOutcome>,
    pub claims: Vec<Claim>,
    pub warnings: Vec<Warning>,
}

/// Writes the report of results directory `dir` into `dir/report`.
pub fn write(dir: &Path) -> Result<Written, String> {
    let ctx = Context::load(dir)?;
    let out = dir.join("report");
    let fig_dir = out.join("figures");
    std::fs::create_dir_all(&fig_dir)
        .map_err(|e| format!("cannot create {}: {e}", fig_dir.display()))?;
    let figures = figures::all(&ctx, &fig_dir);
    let claims = claims::all(&ctx);
    let page = html::Page {
        about: ctx.about(),
        figures: &figures,
        claims: &claims,
        warnings: &ctx.warnings,
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
    })
}

/// Writes a file whole or not at all: a report that fails half-way leaves the previous
/// one readable.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
