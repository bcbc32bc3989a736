//! Which records each figure and claim was computed from. A results directory holds runs
//! of many days and commits; a reader who doubts a number should find the lines of the
//! files behind it, and whether they come from one build or several.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::records::RunRecord;

/// The records looked at so far: (file, line) → commit. [`super::Context`] marks every
/// record its look-ups hand out; [`Used::of`] collects those of one figure or claim.
#[derive(Default)]
pub struct Used(RefCell<BTreeMap<(PathBuf, usize), String>>);

impl Used {
    pub fn mark<'r>(&self, records: impl IntoIterator<Item = &'r RunRecord>) {
        let mut used = self.0.borrow_mut();
        for r in records {
            used.insert((r.file.clone(), r.line), r.commit());
        }
    }

    /// Runs `f` and returns its result with the records it looked at, as text with file
    /// names relative to `dir`. Nested calls count for the outer one too.
    pub fn of<T>(&self, dir: &Path, f: impl FnOnce() -> T) -> (T, String) {
        let outer = self.0.take();
        let out = f();
        let inner = self.0.replace(outer);
        let text = describe(dir, &inner);
        self.0.borrow_mut().extend(inner);
        (out, text)
    }
}

/// "5 record(s): runs.jsonl:3–6,9; commits 0123abcde (5)".
fn describe(dir: &Path, used: &BTreeMap<(PathBuf, usize), String>) -> String {
    if used.is_empty() {
        return "no records".into();
    }
    let mut files: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut commits: BTreeMap<String, usize> = BTreeMap::new();
    for ((file, line), commit) in used {
        let name = file.strip_prefix(dir).unwrap_or(file);
        files
            .entry(name.display().to_string())
            .or_default()
            .push(*line);
        *commits.entry(commit.clone()).or_default() += 1;
    }
    let files: Vec<String> = files
        .iter()
        .map(|(f, lines)| format!("{f}:{}", ranges(lines)))
        .collect();
    format!(
        "{} record(s): {}; commits {}",
        used.len(),
        files.join(", "),
        super::commits_text(&commits)
    )
}

/// Sorted line numbers as ranges, "3–6,9"; beyond 6 ranges the rest is counted.
fn ranges(lines: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &l in lines {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == l => *end = l,
            _ => runs.push((l, l)),
        }
    }
    const SHOWN: usize = 6;
    let mut parts: Vec<String> = runs
        .iter()
        .take(SHOWN)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect();
    if runs.len() > SHOWN {
        parts.push(format!("… ({} more ranges)", runs.len() - SHOWN));
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(file: &str, line: usize, commit: &str) -> RunRecord {
        RunRecord {
            file: PathBuf::from(file),
            line,
            value: serde_json::json!({"build": {"git_commit": commit, "git_dirty": false}}),
        }
    }

    #[test]
    fn lines_are_told_as_ranges_per_file_relative_to_the_directory() {
        assert_eq!(ranges(&[3, 4, 5, 6, 9]), "3–6,9");
        assert_eq!(ranges(&[1]), "1");
        assert_eq!(
            ranges(&[1, 3, 5, 7, 9, 11, 13, 15]),
            "1,3,5,7,9,11,… (2 more ranges)"
        );
        let used = Used::default();
        let rs = [
            record("/r/vm/runs.jsonl", 4, "aaaaaaaaaaaa"),
            record("/r/vm/runs.jsonl", 3, "aaaaaaaaaaaa"),
            record("/r/vm/figures/fig2-va.jsonl", 7, "bbbbbbbbbbbb"),
        ];
        let ((), text) = Used::of(&used, Path::new("/r/vm"), || used.mark(&rs));
        assert!(text.starts_with("3 record(s): "), "{text}");
        assert!(text.contains("figures/fig2-va.jsonl:7"), "{text}");
        assert!(text.contains("runs.jsonl:3–4"), "{text}");
        assert!(!text.contains("/r/vm"), "{text}");
    }

    #[test]
    fn a_figure_is_told_only_the_records_it_looked_at_and_nesting_counts_outward() {
        let used = Used::default();
        let dir = Path::new("/d");
        let a = record("/d/a.jsonl", 1, "c1");
        let b = record("/d/b.jsonl", 2, "c2");
        let ((), first) = used.of(dir, || used.mark([&a]));
        let (inner, outer) = used.of(dir, || {
            used.mark([&b]);
            used.of(dir, || used.mark([&a])).1
        });
        let ((), nothing) = used.of(dir, || ());
        assert!(first.starts_with("1 record(s): a.jsonl:1"), "{first}");
        assert!(inner.starts_with("1 record(s): a.jsonl:1"), "{inner}");
        assert!(
            outer.starts_with("2 record(s): a.jsonl:1, b.jsonl:2"),
            "{outer}"
        );
        assert_eq!(nothing, "no records");
    }
}
