//! Static analysis level 1 (PIM Figs 15-16): structural rules in the
//! ast-grep YAML format, matched on tree-sitter syntax trees, each finding
//! adjudicated automatically by its rule's default disposition.
//!
//! - [`lang`]: the languages (Rust, Python, JavaScript, TypeScript, Go, Java).
//! - [`rules`]: the built-in pack and user rule files.
//! - [`prefilter`]: which rules can match a file, from its bytes, before parsing.
//! - this module: the scan (parallel walk, one parse per file, all rules of
//!   the file's language in one traversal via ast-grep's `CombinedScan`).
//!
//! Suppression: `ast-grep-ignore` comments (ast-grep's own) and a
//! `dso:allow` comment on the finding's first line.

pub mod lang;
pub mod prefilter;
pub mod rules;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ast_grep_config::CombinedScan;
use ast_grep_core::tree_sitter::LanguageExt as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

pub use lang::SastLang;
pub use rules::RuleSet;

use crate::secrets::sarif::{SarifResult, SarifRule};

/// Errors that stop a SAST scan (bad rules, a missing path).
#[derive(Debug, thiserror::Error)]
pub enum SastError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: invalid rule: {message}")]
    Rule { origin: String, message: String },
    #[error("{0} is not a directory or file")]
    NotFound(PathBuf),
}

/// The default adjudication of a rule's findings (PIM Fig 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Precise enough to count as a true positive without review.
    Confirmed,
    /// Goes to level 2: a security engineer reviews and adjudicates.
    NeedsReview,
    /// Recorded, not acted on.
    Informational,
}

impl Disposition {
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Confirmed => "confirmed",
            Disposition::NeedsReview => "needs-review",
            Disposition::Informational => "informational",
        }
    }
}

impl std::str::FromStr for Disposition {
    type Err = String;
    fn from_str(s: &str) -> Result<Disposition, String> {
        match s {
            "confirmed" => Ok(Disposition::Confirmed),
            "needs-review" => Ok(Disposition::NeedsReview),
            "informational" => Ok(Disposition::Informational),
            other => Err(format!(
                "`metadata.disposition` is `{other}`; expected confirmed, needs-review or informational"
            )),
        }
    }
}

/// dso's view of one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SastRule {
    pub id: String,
    pub language: SastLang,
    /// The language in the YAML (JavaScript rules also run as TypeScript/TSX).
    #[serde(skip)]
    pub written_for: SastLang,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// ast-grep severity: error, warning, info, hint.
    pub severity: String,
    pub cwes: Vec<String>,
    pub disposition: Disposition,
    /// `builtin:<file>` or the rule file's path.
    pub origin: String,
}

/// One match of one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SastFinding {
    pub rule_id: String,
    pub language: SastLang,
    pub message: String,
    pub severity: String,
    pub cwes: Vec<String>,
    pub disposition: Disposition,
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    /// 1-based; columns count characters.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The first line of the matched code (at most 160 characters).
    pub snippet: String,
    /// Stable across line shifts: hex SHA-256 of rule, path and matched code (32 chars).
    pub fingerprint: String,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SastReport {
    pub findings: Vec<SastFinding>,
    /// Files parsed (of a supported language).
    pub n_files: usize,
    pub n_bytes: u64,
    pub n_rules: usize,
    pub skipped: Vec<crate::secrets::SkippedFile>,
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct SastConfig {
    pub max_file_size: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl Default for SastConfig {
    fn default() -> SastConfig {
        SastConfig {
            max_file_size: 5 * 1024 * 1024,
            threads: 0,
        }
    }
}

/// Scans one file's source as `path` (its language from the extension, or
/// `lang`). Returns findings sorted by position.
pub fn scan_source(rules: &RuleSet, lang: SastLang, path: &str, source: &str) -> Vec<SastFinding> {
    let mut applicable = rules.collection.get_rule_from_lang(Path::new(path), lang);
    if let Some(filter) = rules.filters.get(&lang) {
        let present = filter.present(source.as_bytes());
        applicable.retain(|config| filter.may_match(&config.id, &present));
    }
    if applicable.is_empty() {
        return Vec::new();
    }
    let root = lang.ast_grep(source);
    let combined = CombinedScan::new(applicable);
    let result = combined.scan(&root, false);
    let lines: Vec<&str> = source.split('\n').collect();
    let mut findings = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (config, matches) in result.matches {
        let Some(rule) = rules.meta.get(&(lang, config.id.clone())) else {
            continue;
        };
        for m in matches {
            let start = m.start_pos();
            let end = m.end_pos();
            let line_text = lines.get(start.line()).copied().unwrap_or("");
            if line_text.contains(crate::secrets::detect::ALLOW_MARKER) {
                continue;
            }
            let text = m.text();
            let normalised: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let n = seen.entry(normalised.clone()).or_insert(0);
            *n += 1;
            let fingerprint = fingerprint(&rule.id, path, &normalised, *n);
            let snippet: String = text
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .chars()
                .take(160)
                .collect();
            let message = config.get_message(&m);
            findings.push(SastFinding {
                rule_id: rule.id.clone(),
                language: lang,
                message: if message.is_empty() {
                    rule.message.clone()
                } else {
                    message
                },
                severity: rule.severity.clone(),
                cwes: rule.cwes.clone(),
                disposition: rule.disposition,
                path: path.to_owned(),
                line: start.line() + 1,
                column: start.column(&m) + 1,
                end_line: end.line() + 1,
                end_column: end.column(&m) + 1,
                snippet,
                fingerprint,
            });
        }
    }
    findings.sort_by(|a, b| (a.line, a.column, &a.rule_id).cmp(&(b.line, b.column, &b.rule_id)));
    findings
}

fn fingerprint(rule_id: &str, path: &str, code: &str, occurrence: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"dso-sast/v1\0");
    for part in [rule_id, path, code] {
        hasher.update(part.as_bytes());
        hasher.update(b"\0");
    }
    hasher.update(occurrence.to_string().as_bytes());
    let mut hex = hex::encode(hasher.finalize());
    hex.truncate(32);
    hex
}

/// Scans a directory tree (or one file) in parallel, honouring `.gitignore`
/// and `.ignore` and skipping hidden files, like the ast-grep CLI.
pub fn scan_path(
    root: &Path,
    rules: &RuleSet,
    config: &SastConfig,
) -> Result<SastReport, SastError> {
    let meta = std::fs::metadata(root).map_err(|_| SastError::NotFound(root.to_owned()))?;
    let base = if meta.is_dir() {
        root.to_owned()
    } else {
        root.parent().map(Path::to_owned).unwrap_or_default()
    };
    let report = Mutex::new(SastReport {
        n_rules: rules.rules().len(),
        ..SastReport::default()
    });
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .threads(config.threads)
        .build_parallel();
    walker.run(|| {
        let report = &report;
        let base = &base;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let Some(lang) = SastLang::from_extension(entry.path()) else {
                return ignore::WalkState::Continue;
            };
            let rel = relative(base, entry.path());
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > config.max_file_size {
                lock(report).skipped.push(crate::secrets::SkippedFile {
                    path: rel,
                    reason: format!(
                        "larger than the {} byte limit ({size} bytes)",
                        config.max_file_size
                    ),
                });
                return ignore::WalkState::Continue;
            }
            let source = match std::fs::read(entry.path()) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(err) => {
                    lock(report).skipped.push(crate::secrets::SkippedFile {
                        path: rel,
                        reason: format!("cannot read: {err}"),
                    });
                    return ignore::WalkState::Continue;
                }
            };
            let findings = scan_source(rules, lang, &rel, &source);
            let mut report = lock(report);
            report.n_files += 1;
            report.n_bytes += source.len() as u64;
            report.findings.extend(findings);
            ignore::WalkState::Continue
        })
    });
    let mut report = report
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    report.findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

fn lock(report: &Mutex<SastReport>) -> std::sync::MutexGuard<'_, SastReport> {
    // A poisoned lock means another worker panicked mid-push; the data is still usable.
    report
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The SARIF 2.1.0 log of a SAST scan: the rules used and one result per finding.
pub fn sarif_log(rules: &[SastRule], findings: &[SastFinding]) -> serde_sarif::sarif::Sarif {
    let mut seen = std::collections::BTreeSet::new();
    let sarif_rules: Vec<SarifRule> = rules
        .iter()
        .filter(|r| seen.insert(r.id.clone()))
        .map(|r| SarifRule {
            id: r.id.clone(),
            description: r.message.clone(),
            level: level(&r.severity),
            cwes: r.cwes.clone(),
            properties: BTreeMap::from([
                (
                    "disposition".to_owned(),
                    serde_json::json!(r.disposition.as_str()),
                ),
                ("language".to_owned(), serde_json::json!(r.language.name())),
            ]),
        })
        .collect();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| SarifResult {
            rule_id: f.rule_id.clone(),
            level: level(&f.severity),
            message: f.message.clone(),
            path: f.path.clone(),
            start_line: f.line,
            start_column: f.column,
            end_line: Some(f.end_line),
            end_column: Some(f.end_column),
            fingerprints: BTreeMap::from([("dsoSast/v1".to_owned(), f.fingerprint.clone())]),
            properties: BTreeMap::from([
                (
                    "disposition".to_owned(),
                    serde_json::json!(f.disposition.as_str()),
                ),
                ("cwe".to_owned(), serde_json::json!(f.cwes)),
            ]),
        })
        .collect();
    crate::secrets::sarif::log("dso-sast", &sarif_rules, &results)
}

fn level(severity: &str) -> &'static str {
    match severity {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    }
}
