//! The findings store's pure core: the normalised [`Finding`] every scanner
//! produces, its fingerprint, the triage lifecycle and the reconciliation
//! of a new scan with what a scope already holds.
//!
//! Lifecycle: `new → confirmed | false_positive | accepted_risk` by triage;
//! any open finding → `fixed` when a later scan of the same scope no longer
//! reports it; `fixed → reopened` when it comes back, and `accepted_risk →
//! reopened` when a scan sees it after the acceptance expired. Each
//! transition is one [`Transition`], which the application records as one
//! event with its actor.

pub mod vex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::advisories::Severity;
use crate::sca::ScaFinding;

/// A scanner's result, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across runs and line shifts (see [`Finding::fingerprint`]).
    pub fingerprint: String,
    /// The tool (`dso-sca`, `semgrep`, `clippy`...).
    pub scanner: String,
    /// Rule id or advisory id.
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub cwes: Vec<String>,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// For SCA: the package and version.
    pub package: Option<String>,
    pub version: Option<String>,
    /// The PIM activity that produced it (`software-composition-analysis`,
    /// `static-analysis`, `secret-detection`...).
    pub activity: String,
    /// Extra tool-specific facts (aliases, fixed version, snippet...).
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// The short id of a fingerprint (`F-` and 12 hex digits).
pub fn short_id(fingerprint: &str) -> String {
    format!("F-{}", &fingerprint[..12.min(fingerprint.len())])
}

/// SHA-256 over `parts` joined by NUL bytes, hex.
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Collapses whitespace, so that re-indentation does not change a fingerprint.
pub fn normalize_snippet(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Finding {
    /// From an SCA result. The fingerprint is the lockfile path, ecosystem,
    /// package, version and advisory: no line number, so edits elsewhere in
    /// the lockfile do not change it. An advisory limited to some platforms
    /// keeps its limits in the `platforms` property (`{"os": ["windows"]}`,
    /// `{"arch": ["x86"]}`); they are not part of the fingerprint.
    pub fn from_sca(f: &ScaFinding) -> Finding {
        let fingerprint = digest(&[
            "sca",
            &f.file,
            f.ecosystem.as_str(),
            &f.package,
            &f.version,
            &f.advisory,
        ]);
        let mut properties = serde_json::Map::new();
        properties.insert("ecosystem".into(), f.ecosystem.as_str().into());
        properties.insert("aliases".into(), f.aliases.clone().into());
        if let Some(fixed) = &f.fixed {
            properties.insert("fixed".into(), fixed.clone().into());
        }
        if let Some(score) = f.cvss_score {
            properties.insert("cvss_score".into(), score.into());
        }
        if let Some(kind) = &f.informational {
            properties.insert("informational".into(), kind.clone().into());
        }
        if let Some(platforms) = platforms(f) {
            properties.insert("platforms".into(), platforms);
        }
        Finding {
            fingerprint,
            scanner: "dso-sca".into(),
            rule: f.advisory.clone(),
            title: if f.summary.is_empty() {
                format!("{} {} is affected by {}", f.package, f.version, f.advisory)
            } else {
                f.summary.clone()
            },
            severity: f.severity,
            cwes: f.cwes.clone(),
            file: Some(f.file.clone()),
            line: f.line.map(|l| l as u64),
            column: None,
            package: Some(f.package.clone()),
            version: Some(f.version.clone()),
            activity: "software-composition-analysis".into(),
            properties,
        }
    }
}

/// The operating systems and CPU architectures an SCA finding is limited to
/// (RustSec `affected.os`/`affected.arch`), as `{"os": [...], "arch": [...]}`
/// with only the limited dimensions; `None` when it applies everywhere.
fn platforms(f: &ScaFinding) -> Option<serde_json::Value> {
    let mut limits = serde_json::Map::new();
    if !f.os.is_empty() {
        limits.insert("os".into(), f.os.clone().into());
    }
    if !f.arch.is_empty() {
        limits.insert("arch".into(), f.arch.clone().into());
    }
    (!limits.is_empty()).then_some(serde_json::Value::Object(limits))
}

/// A finding's triage state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Confirmed,
    FalsePositive,
    AcceptedRisk,
    Fixed,
    Reopened,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Confirmed,
        Status::FalsePositive,
        Status::AcceptedRisk,
        Status::Fixed,
        Status::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Confirmed => "confirmed",
            Status::FalsePositive => "false_positive",
            Status::AcceptedRisk => "accepted_risk",
            Status::Fixed => "fixed",
            Status::Reopened => "reopened",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text.replace('-', "_"))
    }

    /// Whether a person may move a finding from `self` to `to` (the
    /// automatic `fixed` and `reopened` are not triage decisions).
    pub fn can_triage_to(self, to: Status) -> bool {
        matches!(
            to,
            Status::Confirmed | Status::FalsePositive | Status::AcceptedRisk
        ) && self != Status::Fixed
            && self != to
    }
}

/// One state change of one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub fingerprint: String,
    pub from: Option<Status>,
    pub to: Status,
}

/// What the store holds for a finding of the scanned scope.
#[derive(Debug, Clone)]
pub struct Known {
    pub fingerprint: String,
    pub status: Status,
    /// RFC 3339 expiry of an accepted risk.
    pub expires: Option<String>,
}

/// The outcome of reconciling a scan with a scope.
#[derive(Debug, Default, Clone)]
pub struct Reconciled {
    /// Transitions to record (new, reopened, fixed).
    pub transitions: Vec<Transition>,
    /// Fingerprints seen again without a state change.
    pub unchanged: Vec<String>,
}

/// Compares a scan's findings (`seen`, by fingerprint) with what the scope
/// holds (`known`) at time `now` (RFC 3339, for acceptance expiry).
pub fn reconcile(known: &[Known], seen: &[String], now: &str) -> Reconciled {
    let mut out = Reconciled::default();
    let seen_set: std::collections::HashSet<&str> = seen.iter().map(String::as_str).collect();
    let known_map: std::collections::HashMap<&str, &Known> =
        known.iter().map(|k| (k.fingerprint.as_str(), k)).collect();
    let mut done = std::collections::HashSet::new();
    for fp in seen {
        if !done.insert(fp.as_str()) {
            continue;
        }
        match known_map.get(fp.as_str()) {
            None => out.transitions.push(Transition {
                fingerprint: fp.clone(),
                from: None,
                to: Status::New,
            }),
            Some(k) if k.status == Status::Fixed => out.transitions.push(Transition {
                fingerprint: fp.clone(),
                from: Some(Status::Fixed),
                to: Status::Reopened,
            }),
            Some(k)
                if k.status == Status::AcceptedRisk
                    && k.expires.as_deref().is_some_and(|e| e < now) =>
            {
                out.transitions.push(Transition {
                    fingerprint: fp.clone(),
                    from: Some(Status::AcceptedRisk),
                    to: Status::Reopened,
                })
            }
            Some(_) => out.unchanged.push(fp.clone()),
        }
    }
    for k in known {
        if k.status != Status::Fixed && !seen_set.contains(k.fingerprint.as_str()) {
            out.transitions.push(Transition {
                fingerprint: k.fingerprint.clone(),
                from: Some(k.status),
                to: Status::Fixed,
            });
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
