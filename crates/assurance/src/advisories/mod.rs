//! The advisory database: vulnerabilities from OSV JSON (osv.dev exports,
//! the Go vulndb), OSV YAML (the PyPA advisory-database) and the RustSec
//! advisory-db layout, normalised into one [`Advisory`] model.
//!
//! - [`osv`]: OSV records (JSON or YAML) into [`Advisory`].
//! - [`rustsec`]: `crates/<name>/RUSTSEC-*.md` with TOML front matter.
//! - [`load`]: walking a directory or an `all.zip`, collecting the files that
//!   could not be read as [`InputError`]s instead of stopping.
//! - [`merge`]: one vulnerability per alias group (CVE, GHSA, RUSTSEC, PYSEC, GO).
//!
//! Withdrawn advisories are reported by id and never returned as advisories.

pub mod load;
pub mod merge;
pub mod osv;
pub mod rustsec;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::versions::Ecosystem;

/// A qualitative severity, CVSS v3/v4 bands; `Unknown` when no score is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Unknown,
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a severity word (`HIGH`, `moderate`, `error`...), as advisories
    /// and SARIF levels write it.
    pub fn parse(text: &str) -> Option<Severity> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "error" => Severity::High,
            "medium" | "moderate" | "warning" => Severity::Medium,
            "low" | "note" => Severity::Low,
            "none" | "informational" | "info" => Severity::None,
            "unknown" => Severity::Unknown,
            _ => return None,
        })
    }

    /// The CVSS band of a base score.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::None
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The score of a CVSS v2, v3.0, v3.1 or v4.0 vector, `None` if it does not parse.
pub fn cvss_score(vector: &str) -> Option<f64> {
    let parsed: cvss::Cvss = vector.trim().parse().ok()?;
    Some(parsed.score())
}

/// One vulnerability, possibly merged from several databases' records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The primary id (RUSTSEC, GO, PYSEC, GHSA, then others, CVE last).
    pub id: String,
    /// Every other id of the same vulnerability.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub details: String,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub severity: Severity,
    /// The highest base score among the CVSS vectors.
    pub cvss_score: Option<f64>,
    #[serde(default)]
    pub cvss_vectors: Vec<String>,
    #[serde(default)]
    pub cwes: Vec<String>,
    /// RustSec's informational kind (`unmaintained`, `unsound`, `notice`).
    pub informational: Option<String>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub references: Vec<String>,
    /// Where each record came from (file names).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// The versions of one package that a vulnerability affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    pub ecosystem: Ecosystem,
    pub name: String,
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default)]
    pub versions: Vec<String>,
    /// RustSec requirement lists, kept as written (Cargo requirement syntax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cargo: Option<CargoReqs>,
    /// Operating systems the vulnerability is limited to (RustSec
    /// `affected.os`, OSV `ecosystem_specific.affects.os`: `windows`,
    /// `linux`...); empty means every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// CPU architectures it is limited to (`x86`, `x86_64`, `aarch64`...);
    /// empty means every one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch: Vec<String>,
}

/// RustSec's `[versions]`: a version is affected unless it satisfies a
/// `patched` or an `unaffected` requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CargoReqs {
    pub patched: Vec<String>,
    pub unaffected: Vec<String>,
}

/// An OSV range: ordered events over one version scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<RangeEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    Semver,
    Ecosystem,
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Advisory {
    /// Every id: the primary one and the aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Recomputes `severity` and `cvss_score` from the vectors, keeping an
    /// existing qualitative severity when no vector scores.
    pub fn score(&mut self) {
        let best = self
            .cvss_vectors
            .iter()
            .filter_map(|v| cvss_score(v))
            .fold(None, |acc: Option<f64>, s| {
                Some(acc.map_or(s, |a| a.max(s)))
            });
        if let Some(score) = best {
            self.cvss_score = Some(score);
            self.severity = Severity::from_score(score);
        }
    }

    /// The (ecosystem, normalised name) pairs this advisory is indexed under.
    pub fn packages(&self) -> Vec<(Ecosystem, String)> {
        let mut out: Vec<(Ecosystem, String)> = self
            .affected
            .iter()
            .map(|a| {
                let name = a.ecosystem.normalize_name(&a.name).into_owned();
                (a.ecosystem.clone(), name)
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// A file that could not be read, naming the file, line and field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    pub file: String,
    pub line: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.into(),
            line: None,
            field: None,
            message: message.into(),
        }
    }

    pub fn at_line(mut self, line: usize) -> InputError {
        self.line = Some(line);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> InputError {
        self.field = Some(field.into());
        self
    }

    /// From a serde_json error (line and column) with its field path.
    pub fn from_json(file: &str, err: serde_path_to_error::Error<serde_json::Error>) -> InputError {
        let path = err.path().to_string();
        let inner = err.into_inner();
        InputError {
            file: file.to_owned(),
            line: Some(inner.line()),
            field: (path != "." && !path.is_empty()).then_some(path),
            message: inner.to_string(),
        }
    }

    /// From a serde-saphyr error (line), with the field when the message names one.
    pub fn from_yaml(file: &str, err: &serde_saphyr::Error) -> InputError {
        InputError {
            file: file.to_owned(),
            line: err.location().map(|l| l.line() as usize),
            field: None,
            message: err
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests;
