//! Scanning code on disk: secret detection and static analysis level 1.
//!
//! These use cases need no workspace: they read a directory (or a git
//! repository's history), run the pure scanners of `dso-assurance` and
//! return plain reports. Storing findings happens elsewhere (SARIF import
//! into the findings store), so nothing here writes or appends an event.

use std::path::PathBuf;

use crate::AppError;

pub use dso_assurance::sast::{Disposition, SastFinding, SastReport, SastRule};
pub use dso_assurance::secrets::{SecretFinding, SecretReport, SkippedFile};

/// What `dso scan secrets` scans.
#[derive(Debug, Clone)]
pub struct SecretScanRequest {
    /// A directory or one file; with `git_history`, a repository.
    pub path: PathBuf,
    /// Scan every blob reachable from any ref instead of the working tree.
    pub git_history: bool,
    /// Files larger than this many bytes are skipped (default 10 MiB).
    pub max_file_size: Option<u64>,
}

/// Scans for secrets. Errors: the path does not exist, `.dsoignore` is
/// malformed (file and line named), or git fails on `--git-history`.
pub fn scan_secrets(req: &SecretScanRequest) -> Result<SecretReport, AppError> {
    let mut config = dso_assurance::secrets::ScanConfig::default();
    if let Some(max) = req.max_file_size {
        config.max_file_size = max;
    }
    let report = if req.git_history {
        dso_assurance::secrets::git::scan_history(&req.path, &config)?
    } else {
        dso_assurance::secrets::scan_path(&req.path, &config)?
    };
    Ok(report)
}

/// The SARIF 2.1.0 log of a secret scan, as JSON.
pub fn secrets_sarif(report: &SecretReport) -> serde_json::Value {
    serde_json::to_value(dso_assurance::secrets::sarif::secrets_log(&report.findings))
        .expect("SARIF types serialise to JSON without fallible maps")
}

/// What `dso scan sast` scans, and with which rules.
#[derive(Debug, Clone)]
pub struct SastScanRequest {
    /// A directory or one file.
    pub path: PathBuf,
    /// Include the built-in rule pack.
    pub builtin: bool,
    /// Extra rule files or directories (ast-grep YAML).
    pub rules: Vec<PathBuf>,
    /// Files larger than this many bytes are skipped (default 5 MiB).
    pub max_file_size: Option<u64>,
}

/// A finished SAST scan: the findings and the rules that ran.
#[derive(Debug, Clone)]
pub struct SastScan {
    pub report: SastReport,
    pub rules: Vec<SastRule>,
}

/// Loads the rules. Errors name the rule file (and line, for YAML errors).
pub fn sast_rules(builtin: bool, paths: &[PathBuf]) -> Result<Vec<SastRule>, AppError> {
    Ok(dso_assurance::sast::RuleSet::load(builtin, paths)?
        .rules()
        .to_vec())
}

/// Runs static analysis level 1. Errors: a bad rule file, a missing path.
pub fn scan_sast(req: &SastScanRequest) -> Result<SastScan, AppError> {
    let rules = dso_assurance::sast::RuleSet::load(req.builtin, &req.rules)?;
    let mut config = dso_assurance::sast::SastConfig::default();
    if let Some(max) = req.max_file_size {
        config.max_file_size = max;
    }
    let report = dso_assurance::sast::scan_path(&req.path, &rules, &config)?;
    Ok(SastScan {
        report,
        rules: rules.rules().to_vec(),
    })
}

/// The SARIF 2.1.0 log of a SAST scan, as JSON.
pub fn sast_sarif(scan: &SastScan) -> serde_json::Value {
    serde_json::to_value(dso_assurance::sast::sarif_log(
        &scan.rules,
        &scan.report.findings,
    ))
    .expect("SARIF types serialise to JSON without fallible maps")
}
