//! The coverage types LCOV and Cobertura both parse into, and the per-file
//! accumulator they share.

use std::collections::BTreeMap;

use super::ReportError;

/// A parsed coverage report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoverageReport {
    /// One entry per source file, in the order files first appear; a file
    /// listed twice is merged into one entry.
    pub files: Vec<FileCoverage>,
    /// Problems with single lines or elements that were skipped or ignored.
    pub diagnostics: Vec<ReportError>,
}

/// Coverage of one source file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileCoverage {
    /// The path as the report names it (for Cobertura, joined to the first
    /// `<source>`); see [`CoverageReport::strip_prefix`].
    pub path: String,
    /// Instrumented lines.
    pub lines_found: u32,
    /// Instrumented lines executed at least once.
    pub lines_hit: u32,
    /// Branches (outcomes of conditions).
    pub branches_found: u32,
    /// Branches taken at least once.
    pub branches_hit: u32,
    /// Functions (methods, for Cobertura).
    pub functions_found: u32,
    /// Functions entered at least once.
    pub functions_hit: u32,
    /// `(line, hits)` for every instrumented line, sorted by line.
    pub lines: Vec<(u32, u64)>,
}

impl FileCoverage {
    /// Returns `lines_hit / lines_found`, `None` when no line is instrumented.
    pub fn line_rate(&self) -> Option<f64> {
        rate(u64::from(self.lines_hit), u64::from(self.lines_found))
    }

    /// Returns `branches_hit / branches_found`, `None` without branches.
    pub fn branch_rate(&self) -> Option<f64> {
        rate(u64::from(self.branches_hit), u64::from(self.branches_found))
    }
}

/// Sums over all files of a [`CoverageReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoverageTotals {
    /// Instrumented lines.
    pub lines_found: u64,
    /// Lines executed.
    pub lines_hit: u64,
    /// Branches.
    pub branches_found: u64,
    /// Branches taken.
    pub branches_hit: u64,
    /// Functions.
    pub functions_found: u64,
    /// Functions entered.
    pub functions_hit: u64,
}

impl CoverageTotals {
    /// Returns `lines_hit / lines_found`, `None` when no line is instrumented.
    pub fn line_rate(&self) -> Option<f64> {
        rate(self.lines_hit, self.lines_found)
    }

    /// Returns `branches_hit / branches_found`, `None` without branches.
    pub fn branch_rate(&self) -> Option<f64> {
        rate(self.branches_hit, self.branches_found)
    }

    /// Returns `functions_hit / functions_found`, `None` without functions.
    pub fn function_rate(&self) -> Option<f64> {
        rate(self.functions_hit, self.functions_found)
    }
}

impl CoverageReport {
    /// Returns the totals over all files.
    pub fn totals(&self) -> CoverageTotals {
        let mut totals = CoverageTotals::default();
        for file in &self.files {
            totals.lines_found += u64::from(file.lines_found);
            totals.lines_hit += u64::from(file.lines_hit);
            totals.branches_found += u64::from(file.branches_found);
            totals.branches_hit += u64::from(file.branches_hit);
            totals.functions_found += u64::from(file.functions_found);
            totals.functions_hit += u64::from(file.functions_hit);
        }
        totals
    }

    /// Makes paths relative to `prefix`, typically the job's work directory
    /// (`/tmp/run-12/work`): every path that starts with `prefix` followed by
    /// a `/` loses both; other paths are left alone.
    pub fn strip_prefix(&mut self, prefix: &str) {
        let prefix = prefix.trim_end_matches('/');
        for file in &mut self.files {
            if let Some(rest) = file.path.strip_prefix(prefix)
                && let Some(rest) = rest.strip_prefix('/')
                && !rest.is_empty()
            {
                file.path = rest.to_owned();
            }
        }
    }
}

fn rate(hit: u64, found: u64) -> Option<f64> {
    // NOTE: precision loss above 2^53 is irrelevant for a ratio.
    (found > 0).then(|| hit as f64 / found as f64)
}

/// Everything known about one file while a report is read.
#[derive(Debug, Default)]
pub(super) struct FileAccumulator {
    pub path: String,
    /// Hits per line.
    pub lines: BTreeMap<u32, u64>,
    /// `(found, hit)` per branch point, keyed by the format's own identity.
    pub branches: BTreeMap<String, (u32, u32)>,
    /// Hits per function name.
    pub functions: BTreeMap<String, u64>,
    /// Totals the report declares (LCOV `LF`/`LH`/..., or Cobertura's class
    /// attributes), used when it lists no detail of that kind.
    pub declared: Declared,
}

/// Totals a report declares for a file, `None` when absent.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Declared {
    pub lines_found: Option<u32>,
    pub lines_hit: Option<u32>,
    pub branches_found: Option<u32>,
    pub branches_hit: Option<u32>,
    pub functions_found: Option<u32>,
    pub functions_hit: Option<u32>,
}

impl FileAccumulator {
    /// Builds the file's coverage: details win over declared totals, which
    /// are used only for a kind with no detail at all.
    pub fn finish(self) -> FileCoverage {
        let FileAccumulator {
            path,
            lines,
            branches,
            functions,
            declared,
        } = self;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let (lines_found, lines_hit) = if lines.is_empty() {
            pair(declared.lines_found, declared.lines_hit)
        } else {
            (
                count(lines.len()),
                count(lines.values().filter(|&&hits| hits > 0).count()),
            )
        };
        let (branches_found, branches_hit) = if branches.is_empty() {
            pair(declared.branches_found, declared.branches_hit)
        } else {
            branches
                .values()
                .fold((0u32, 0u32), |(found, hit), &(f, h)| {
                    (found.saturating_add(f), hit.saturating_add(h))
                })
        };
        let (functions_found, functions_hit) = if functions.is_empty() {
            pair(declared.functions_found, declared.functions_hit)
        } else {
            (
                count(functions.len()),
                count(functions.values().filter(|&&hits| hits > 0).count()),
            )
        };
        FileCoverage {
            path,
            lines_found,
            lines_hit,
            branches_found,
            branches_hit,
            functions_found,
            functions_hit,
            lines: lines.into_iter().collect(),
        }
    }
}

/// Declared `(found, hit)`, with `hit` capped at `found`.
fn pair(found: Option<u32>, hit: Option<u32>) -> (u32, u32) {
    let found = found.unwrap_or_default();
    (found, hit.unwrap_or_default().min(found))
}
