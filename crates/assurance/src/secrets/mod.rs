//! Secret detection: provider tokens, private keys and hard-coded credentials
//! in a directory tree or in every blob of a git history.
//!
//! - [`rules`]: the built-in rules (one per provider token format).
//! - [`detect`]: keyword pre-filter, regexes, entropy and placeholder checks.
//! - [`allow`]: the `.dsoignore` allow-list (paths and fingerprints).
//! - [`git`]: every reachable blob of a repository, through the `git` CLI.
//! - [`sarif`]: SARIF 2.1.0 output (shared with the SAST scanner).
//!
//! Invariant: a secret never leaves this module unredacted. [`SecretFinding`]
//! holds only [`redact`]ed text and a fingerprint (a SHA-256 over rule, path
//! and secret), so nothing printed or stored can be used as the credential.

pub mod allow;
pub mod detect;
pub mod git;
pub mod rules;
pub mod sarif;

#[cfg(test)]
pub(crate) mod tests;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

pub use allow::AllowList;
pub use detect::Detector;

/// The CWE every secret finding maps to: use of hard-coded credentials.
pub const CWE: &str = "CWE-798";

/// Errors that stop a scan. Per-file problems are [`SkippedFile`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    AllowList {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0} is not a directory or file")]
    NotFound(PathBuf),
    #[error("git failed on {path}: {message}")]
    Git { path: PathBuf, message: String },
}

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Files larger than this are skipped (and listed as skipped).
    pub max_file_size: u64,
    /// Worker threads for the directory walk (0: one per core).
    pub threads: usize,
}

impl Default for ScanConfig {
    fn default() -> ScanConfig {
        ScanConfig {
            max_file_size: 10 * 1024 * 1024,
            threads: 0,
        }
    }
}

/// One detected secret, already redacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecretFinding {
    pub rule_id: String,
    pub description: String,
    /// Path relative to the scan root, `/`-separated.
    pub path: String,
    /// 1-based line and column (in characters) of the secret's first character.
    pub line: usize,
    pub column: usize,
    /// The first characters of the secret and `…`; never the secret.
    pub redacted: String,
    /// Stable across line shifts: hex SHA-256 of rule id, path and secret (32 chars).
    pub fingerprint: String,
    /// Shannon entropy of the secret, bits per character (two decimals).
    pub entropy: f64,
    pub cwe: String,
    /// With `--git-history`: the first commit (in `git rev-list` order) whose tree holds the blob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// A file that was not scanned, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SecretReport {
    pub findings: Vec<SecretFinding>,
    pub n_files: usize,
    pub n_bytes: u64,
    /// Binary files are counted, not listed.
    pub n_binary: usize,
    /// Findings dropped by a `.dsoignore` fingerprint.
    pub n_allowed: usize,
    pub skipped: Vec<SkippedFile>,
}

/// Redacts a secret: its first few characters (at most 4, at most a quarter
/// of it) followed by `…`.
pub fn redact(secret: &str) -> String {
    let n_chars = secret.chars().count();
    let keep = (n_chars / 4).min(4);
    let mut out: String = secret.chars().take(keep).collect();
    out.push('…');
    out
}

/// The fingerprint of a finding: hex SHA-256 over rule id, path and secret,
/// truncated to 32 characters. It does not depend on the line.
pub fn fingerprint(rule_id: &str, path: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"dso-secret/v1\0");
    hasher.update(rule_id.as_bytes());
    hasher.update(b"\0");
    hasher.update(path.as_bytes());
    hasher.update(b"\0");
    hasher.update(secret.as_bytes());
    let mut hex = hex::encode(hasher.finalize());
    hex.truncate(32);
    hex
}

/// File names of lockfiles: only provider rules run on them (their checksums
/// look like high-entropy secrets to generic rules).
pub fn is_lockfile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Cargo.lock"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "yarn.lock"
            | "pnpm-lock.yaml"
            | "bun.lock"
            | "go.sum"
            | "poetry.lock"
            | "Pipfile.lock"
            | "uv.lock"
            | "pdm.lock"
            | "composer.lock"
            | "Gemfile.lock"
            | "gradle.lockfile"
            | "packages.lock.json"
            | "flake.lock"
            | "mix.lock"
            | "pubspec.lock"
            | "Package.resolved"
    )
}

/// True when the first 8 KiB hold a NUL byte (how git and ripgrep decide).
pub fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(8192)]).is_some()
}

/// Scans one file's content as `path`: the building block of both the tree
/// walk and the history scan. Findings allowed by fingerprint are counted in
/// the returned number.
pub fn scan_content(
    detector: &Detector,
    allow: &AllowList,
    path: &str,
    content: &[u8],
) -> (Vec<SecretFinding>, usize) {
    let lockfile = is_lockfile(path);
    let mut findings = Vec::new();
    let mut n_allowed = 0;
    for c in detector.scan(content, lockfile) {
        let spec = &detector.specs()[c.rule];
        let fp = fingerprint(spec.id, path, &c.secret);
        if allow.allows_fingerprint(&fp) {
            n_allowed += 1;
            continue;
        }
        findings.push(SecretFinding {
            rule_id: spec.id.to_owned(),
            description: spec.description.to_owned(),
            path: path.to_owned(),
            line: c.line,
            column: c.column,
            redacted: redact(&c.secret),
            fingerprint: fp,
            entropy: (c.entropy * 100.0).round() / 100.0,
            cwe: CWE.to_owned(),
            commit: None,
        });
    }
    (findings, n_allowed)
}

/// Scans a directory tree (or one file) in parallel, honouring `.gitignore`,
/// `.ignore` and `.dsoignore` and skipping `.git`, binaries and huge files.
/// Findings are sorted by path, line and column.
pub fn scan_path(root: &Path, config: &ScanConfig) -> Result<SecretReport, SecretsError> {
    let meta = std::fs::metadata(root).map_err(|_| SecretsError::NotFound(root.to_owned()))?;
    let allow_root = if meta.is_dir() {
        root.to_owned()
    } else {
        root.parent().map(Path::to_owned).unwrap_or_default()
    };
    let allow = AllowList::load(&allow_root)?;
    let detector = Detector::default();
    let report = Mutex::new(SecretReport::default());

    let walk_allow = allow.clone();
    let walk_root = allow_root.clone();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .threads(config.threads)
        .filter_entry(move |entry| {
            if entry.file_name() == ".git" {
                return false;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let rel = relative(&walk_root, entry.path());
            rel.is_empty() || !walk_allow.allows_path(&rel, is_dir)
        })
        .build_parallel();
    walker.run(|| {
        let detector = &detector;
        let allow = &allow;
        let report = &report;
        let allow_root = &allow_root;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    lock(report).skipped.push(SkippedFile {
                        path: String::new(),
                        reason: err.to_string(),
                    });
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let rel = relative(allow_root, entry.path());
            scan_file(detector, allow, config, entry.path(), &rel, report);
            ignore::WalkState::Continue
        })
    });
    let mut report = report
        .into_inner()
        .expect("a worker that panicked would have aborted the walk already");
    report
        .findings
        .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

fn scan_file(
    detector: &Detector,
    allow: &AllowList,
    config: &ScanConfig,
    path: &Path,
    rel: &str,
    report: &Mutex<SecretReport>,
) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > config.max_file_size {
        lock(report).skipped.push(SkippedFile {
            path: rel.to_owned(),
            reason: format!(
                "larger than the {} byte limit ({size} bytes)",
                config.max_file_size
            ),
        });
        return;
    }
    let content = match std::fs::read(path) {
        Ok(content) => content,
        Err(err) => {
            lock(report).skipped.push(SkippedFile {
                path: rel.to_owned(),
                reason: format!("cannot read: {err}"),
            });
            return;
        }
    };
    if is_binary(&content) {
        lock(report).n_binary += 1;
        return;
    }
    let (findings, n_allowed) = scan_content(detector, allow, rel, &content);
    let mut report = lock(report);
    report.n_files += 1;
    report.n_bytes += content.len() as u64;
    report.n_allowed += n_allowed;
    report.findings.extend(findings);
}

fn lock(report: &Mutex<SecretReport>) -> std::sync::MutexGuard<'_, SecretReport> {
    // A poisoned lock means another worker panicked mid-push; the data is still usable.
    report
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `path` relative to `root`, `/`-separated; the file name when `path` is `root`.
fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    if text.is_empty() && path.is_file() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        text
    }
}
