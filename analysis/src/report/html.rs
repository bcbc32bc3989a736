//! The report as one self-contained HTML page (inline style, images beside it, nothing
//! fetched from the network) and as a Markdown summary.

use crate::records::Warning;

use super::claims::{Claim, Verdict};
use super::roofline::Table;
use super::FigureOutcome;

/// Counts the images that loaded, for the headless-browser test (and for anyone
/// wondering why a figure does not show): `<body data-images-loaded="n/total">`.
pub(crate) const IMAGES_LOADED: &str = "<script>window.addEventListener('load',function(){var i=Array.prototype.slice.call(document.images);document.body.setAttribute('data-images-loaded',i.filter(function(x){return x.complete&&x.naturalWidth>0;}).length+'/'+i.length);});</script>\n";

pub struct Page<'a> {
    pub about: Vec<(String, String)>,
    pub figures: &'a [FigureOutcome],
    pub claims: &'a [Claim],
    pub warnings: &'a [Warning],
    /// What was done with runs measured on a loaded machine.
    pub loaded: &'a [String],
    /// The records of other machines left out.
    pub other_machines: &'a [String],
    pub records: usize,
    /// This machine's limits (`snn-bench machine`), if measured.
    pub machine: Option<Table>,
    /// Each network's phase costs, to read beside the limits.
    pub phases: Table,
}

pub(crate) fn html_table(t: &Table) -> String {
    let mut h = String::from("<table><tr>");
    for c in &t.header {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr>\n");
    for row in &t.rows {
        h.push_str("<tr>");
        for c in row {
            h.push_str(&format!("<td>{}</td>", esc(c)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    h
}

pub(crate) fn markdown_table(t: &Table) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut m = format!(
        "| {} |\n|{}\n",
        t.header.join(" | "),
        "---|".repeat(t.header.len())
    );
    for row in &t.rows {
        m.push_str(&format!(
            "| {} |\n",
            row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
        ));
    }
    m
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.holds{background:#e3f4e3}.does-not-hold{background:#f9e0e0}.not-measured{background:#f0f0f0;color:#666}\
figure{display:inline-block;margin:0.5em;width:47%}figure img{width:100%;border:1px solid #ddd}\
.missing{color:#a33}.warn{color:#a60}code{background:#f4f4f4;padding:0 3px}.src{font-size:80%;color:#555}";

impl Page<'_> {
    pub fn html(&self) -> String {
        let mut h = String::new();
        h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        h.push_str("<title>snn-limits: reproduction report</title>");
        h.push_str(&format!("<style>{STYLE}</style></head><body>\n"));
        h.push_str(
            "<h1>Limits to high-speed simulations of spiking networks: reproduction report</h1>\n",
        );
        h.push_str(&format!(
            "<p>Zenke &amp; Gerstner 2014, reproduced with snn-limits on this machine, from {} records.</p>\n",
            self.records
        ));
        h.push_str("<table>");
        for (k, v) in &self.about {
            h.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v)));
        }
        h.push_str("</table>\n");
        h.push_str("<h2>The paper's claims, measured here</h2>\n<table><tr><th>figure</th><th>claim</th><th>paper</th><th>measured here</th><th>verdict</th><th>records</th></tr>\n");
        for c in self.claims {
            let class = c.verdict.label().replace(' ', "-");
            h.push_str(&format!(
                "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"src\">{}</td></tr>\n",
                esc(c.figure),
                esc(c.claim),
                esc(c.paper),
                esc(&c.measured),
                c.verdict.label(),
                esc(&c.sources)
            ));
        }
        h.push_str("</table>\n");
        if !self.other_machines.is_empty() {
            h.push_str("<h2>Records of other machines</h2>\n<ul>\n");
            for n in self.other_machines {
                h.push_str(&format!("<li class=\"warn\">{}</li>\n", esc(n)));
            }
            h.push_str("</ul>\n");
        }
        if !self.loaded.is_empty() {
            h.push_str("<h2>Runs on a loaded machine</h2>\n<ul>\n");
            for n in self.loaded {
                h.push_str(&format!("<li class=\"warn\">{}</li>\n", esc(n)));
            }
            h.push_str("</ul>\n");
        }
        h.push_str("<h2>Phase costs beside this machine's limits</h2>\n");
        h.push_str(&html_table(&self.phases));
        match &self.machine {
            Some(t) => {
                h.push_str("<p>Limits measured by <code>snn-bench machine</code> (medians):</p>\n");
                h.push_str(&html_table(t));
            }
            None => h.push_str(
                "<p class=\"missing\">missing: machine limits (<code>snn-bench machine</code>)</p>\n",
            ),
        }
        h.push_str("<h2>Figures</h2>\n");
        for f in self.figures {
            h.push_str(&format!(
                "<h3>{}: {}</h3>\n<p>{}</p>\n<p class=\"src\">records: {}</p>\n",
                esc(&f.id),
                esc(&f.title),
                esc(&f.caption),
                esc(&f.sources)
            ));
            for (png, svg) in &f.panels {
                h.push_str(&format!(
                    "<figure><a href=\"{svg}\"><img src=\"{png}\" alt=\"{}\"></a></figure>\n",
                    esc(png)
                ));
            }
            if let Some(t) = &f.table {
                h.push_str(&html_table(t));
            }
            for m in &f.missing {
                h.push_str(&format!("<p class=\"missing\">missing: {}</p>\n", esc(m)));
            }
        }
        if !self.warnings.is_empty() {
            h.push_str("<h2>Records skipped or suspect</h2>\n<ul>\n");
            for w in self.warnings {
                h.push_str(&format!(
                    "<li class=\"warn\">{}</li>\n",
                    esc(&w.to_string())
                ));
            }
            h.push_str("</ul>\n");
        }
        h.push_str(IMAGES_LOADED);
        h.push_str("</body></html>\n");
        h
    }

    pub fn markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let mut m = String::from("# Reproduction report\n\n");
        for (k, v) in &self.about {
            m.push_str(&format!("- {k}: {}\n", cell(v)));
        }
        m.push_str(&format!("- records: {}\n\n", self.records));
        m.push_str("| figure | claim | paper | measured here | verdict | records |\n|---|---|---|---|---|---|\n");
        for c in self.claims {
            m.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                c.figure,
                cell(c.claim),
                cell(c.paper),
                cell(&c.measured),
                c.verdict.label(),
                cell(&c.sources)
            ));
        }
        if !self.other_machines.is_empty() {
            m.push_str("\n## Records of other machines\n\n");
            for n in self.other_machines {
                m.push_str(&format!("- {}\n", cell(n)));
            }
        }
        if !self.loaded.is_empty() {
            m.push_str("\n## Runs on a loaded machine\n\n");
            for n in self.loaded {
                m.push_str(&format!("- {}\n", cell(n)));
            }
        }
        m.push_str("\n## Phase costs beside this machine's limits\n\n");
        m.push_str(&markdown_table(&self.phases));
        match &self.machine {
            Some(t) => m.push_str(&format!("\n{}", markdown_table(t))),
            None => m.push_str("\n- missing: machine limits (`snn-bench machine`)\n"),
        }
        let count = |v: Verdict| self.claims.iter().filter(|c| c.verdict == v).count();
        m.push_str(&format!(
            "\n{} hold, {} do not, {} not measured.\n\n## Figures\n\n",
            count(Verdict::Holds),
            count(Verdict::DoesNotHold),
            count(Verdict::NotMeasured)
        ));
        for f in self.figures {
            m.push_str(&format!(
                "### {}: {}\n\n{}\n\nRecords: {}\n\n",
                f.id, f.title, f.caption, f.sources
            ));
            for (png, _) in &f.panels {
                m.push_str(&format!("![]({png})\n"));
            }
            if let Some(t) = &f.table {
                m.push_str(&format!("\n{}\n", markdown_table(t)));
            }
            for missing in &f.missing {
                m.push_str(&format!("- missing: {missing}\n"));
            }
            m.push('\n');
        }
        if !self.warnings.is_empty() {
            m.push_str("## Records skipped or suspect\n\n");
            for w in self.warnings {
                m.push_str(&format!("- {w}\n"));
            }
        }
        m
    }
}
