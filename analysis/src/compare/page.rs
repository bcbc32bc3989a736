//! The comparison as one self-contained HTML page and as Markdown (the same content).

use super::{Row, Side, Verdict, LEVEL, MARK, MIN_REPETITIONS};
use crate::report::html::{esc, html_table, markdown_table, IMAGES_LOADED, STYLE};
use crate::report::roofline::Table;
use crate::report::FigureOutcome;
use crate::stats::spread;

pub struct Page<'a> {
    pub sides: &'a [Side],
    pub rows: &'a [Row],
    pub figures: &'a [FigureOutcome],
    pub threshold: f64,
    pub slower: &'a [String],
}

/// "0.0236 (5: 0.0234–0.0238)" or "—".
fn cell(rtfs: &[f64]) -> String {
    match spread(rtfs) {
        Some(s) if rtfs.len() > 1 => {
            format!(
                "{:.4} ({}: {:.4}–{:.4})",
                s.median,
                rtfs.len(),
                s.min,
                s.max
            )
        }
        Some(s) => format!("{:.4} (1)", s.median),
        None => "—".into(),
    }
}

impl Page<'_> {
    fn sides_table(&self) -> Table {
        Table {
            header: [
                "side",
                "directory",
                "machine",
                "interconnect",
                "builds: commit (records): rustc; RUSTFLAGS",
                "records",
            ]
            .map(String::from)
            .to_vec(),
            rows: self
                .sides
                .iter()
                .map(|s| {
                    vec![
                        s.letter.clone(),
                        s.ctx.dir.display().to_string(),
                        s.ctx.machine_label.clone(),
                        s.interconnect.clone(),
                        s.builds.join(" · "),
                        s.ctx.records.len().to_string(),
                    ]
                })
                .collect(),
        }
    }

    /// The configurations more than one side ran: each side's RTF and its ratio to the
    /// base.
    fn shared_table(&self) -> Table {
        let mut header = vec!["configuration".to_string(), "model time".to_string()];
        for s in self.sides {
            header.push(format!("{} RTF (runs: min–max)", s.letter));
        }
        for s in self.sides.iter().skip(1) {
            header.push(format!("{} / base", s.letter));
        }
        let rows = (self.rows.iter())
            .filter(|r| r.present() > 1)
            .map(|r| {
                let mut row = vec![r.key.to_string(), model_time(r.key.simtime_ns)];
                row.extend(r.rtfs.iter().map(|x| cell(x)));
                for (i, c) in r.changes.iter().enumerate().skip(1) {
                    row.push(match (c, r.rtfs[i].is_empty()) {
                        (_, true) => "—".into(),
                        (None, false) => "base".into(),
                        (Some(c), false) => format!("{} {}", c.text(), verdict(c.verdict)),
                    });
                }
                row
            })
            .collect();
        Table { header, rows }
    }

    fn single_table(&self) -> Table {
        Table {
            header: [
                "configuration",
                "model time",
                "only on",
                "RTF (runs: min–max)",
            ]
            .map(String::from)
            .to_vec(),
            rows: (self.rows.iter())
                .filter(|r| r.present() == 1)
                .map(|r| {
                    let i = r.rtfs.iter().position(|x| !x.is_empty()).unwrap_or(0);
                    vec![
                        r.key.to_string(),
                        model_time(r.key.simtime_ns),
                        self.sides[i].letter.clone(),
                        cell(&r.rtfs[i]),
                    ]
                })
                .collect(),
        }
    }

    fn intro(&self) -> String {
        format!(
            "Each side is one machine's records in one results directory. For every \
             configuration run on more than one side: the median RTF (run wall time per \
             model second; lower is faster) of each, and each side's ratio to the first side \
             that ran it (the base), with the {:.0} % percentile-bootstrap interval of the \
             ratio of medians where both have at least {MIN_REPETITIONS} runs. A ratio is \
             called slower or faster only when its interval excludes 1; a slowdown beyond \
             {:.1} % with such an interval is listed below (a regression, where the sides \
             are two builds on one machine).",
            LEVEL * 100.0,
            self.threshold * 100.0
        )
    }

    fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        for s in self.sides {
            for x in &s.ctx.warnings {
                w.push(format!(
                    "{}: {}:{}: {}",
                    s.letter,
                    x.file.display(),
                    x.line,
                    x.message
                ));
            }
            for l in &s.ctx.loaded {
                w.push(format!("{}: {l}", s.letter));
            }
        }
        w
    }

    fn slower_title(&self) -> String {
        format!(
            "Slower than the base by more than {:.1} %",
            self.threshold * 100.0
        )
    }

    pub fn html(&self) -> String {
        let mut h = String::new();
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        h.push_str("<title>snn-limits: comparison</title>");
        h.push_str(&format!("<style>{STYLE}</style></head><body>\n"));
        h.push_str("<h1>snn-limits: comparison of results directories</h1>\n");
        h.push_str(&format!("<p>{}</p>\n", esc(&self.intro())));
        h.push_str("<h2>Sides</h2>\n");
        h.push_str(&html_table(&self.sides_table()));
        h.push_str(&format!("<h2>{}</h2>\n", self.slower_title()));
        if self.slower.is_empty() {
            h.push_str("<p>None.</p>\n");
        } else {
            h.push_str("<ul>\n");
            for r in self.slower {
                h.push_str(&format!("<li class=\"does-not-hold\">{}</li>\n", esc(r)));
            }
            h.push_str("</ul>\n");
        }
        h.push_str("<h2>Configurations on more than one side</h2>\n");
        h.push_str(&html_table(&self.shared_table()));
        h.push_str("<h2>Configurations on one side only</h2>\n");
        h.push_str(&html_table(&self.single_table()));
        for f in self.figures {
            h.push_str(&format!(
                "<h2>{}: {}</h2>\n<p>{}</p>\n",
                esc(&f.id),
                esc(&f.title),
                esc(&f.caption)
            ));
            for (png, svg) in &f.panels {
                h.push_str(&format!(
                    "<figure><a href=\"{}\"><img src=\"{}\" alt=\"{}\"></a></figure>\n",
                    esc(svg),
                    esc(png),
                    esc(&f.title)
                ));
            }
            if let Some(t) = &f.table {
                if !t.rows.is_empty() {
                    h.push_str(&html_table(t));
                }
            }
            for m in &f.missing {
                h.push_str(&format!("<p class=\"missing\">Missing: {}</p>\n", esc(m)));
            }
        }
        let warnings = self.warnings();
        if !warnings.is_empty() {
            h.push_str("<h2>Warnings</h2>\n<ul>\n");
            for w in warnings {
                h.push_str(&format!("<li class=\"warn\">{}</li>\n", esc(&w)));
            }
            h.push_str("</ul>\n");
        }
        h.push_str(IMAGES_LOADED);
        h.push_str("</body></html>\n");
        h
    }

    pub fn markdown(&self) -> String {
        let mut m = format!("{MARK}\n\n{}\n\n## Sides\n\n", self.intro());
        m.push_str(&markdown_table(&self.sides_table()));
        m.push_str(&format!("\n## {}\n\n", self.slower_title()));
        if self.slower.is_empty() {
            m.push_str("None.\n");
        }
        for r in self.slower {
            m.push_str(&format!("- {r}\n"));
        }
        m.push_str("\n## Configurations on more than one side\n\n");
        m.push_str(&markdown_table(&self.shared_table()));
        m.push_str("\n## Configurations on one side only\n\n");
        m.push_str(&markdown_table(&self.single_table()));
        for f in self.figures {
            m.push_str(&format!("\n## {}: {}\n\n{}\n\n", f.id, f.title, f.caption));
            for (png, _) in &f.panels {
                m.push_str(&format!("![{}]({png})\n", f.title));
            }
            if let Some(t) = &f.table {
                if !t.rows.is_empty() {
                    m.push('\n');
                    m.push_str(&markdown_table(t));
                }
            }
            for x in &f.missing {
                m.push_str(&format!("\n*Missing: {x}*\n"));
            }
        }
        let warnings = self.warnings();
        if !warnings.is_empty() {
            m.push_str("\n## Warnings\n\n");
            for w in warnings {
                m.push_str(&format!("- {w}\n"));
            }
        }
        m
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::TooFew => "(too few runs for an interval)",
        other => other.text(),
    }
}

/// Model time as people write it: "20 s", "0.5 s", "1 h".
fn model_time(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{} h", s / 3600.0)
    } else {
        // Shortest form that reads back as the same nanoseconds.
        let t = format!("{s}");
        let short = format!("{:.6}", s)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
        format!("{} s", if short.len() < t.len() { short } else { t })
    }
}
