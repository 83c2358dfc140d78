//! Software composition analysis: packages against advisories.
//!
//! A package is affected by an advisory's `affected` entry for its
//! (ecosystem, normalised name) when:
//! - its version is in the entry's explicit `versions` list; or
//! - an ECOSYSTEM or SEMVER range admits it, per the OSV evaluation: events
//!   sorted by version, `introduced` opens, `fixed` closes (at or above it
//!   is safe), `last_affected` closes above it, `limit` bounds the range; or
//! - for RustSec entries, it satisfies no `patched` and no `unaffected`
//!   requirement.
//!
//! Versions are compared with the ecosystem's own rules
//! ([`crate::versions::compare`]); a version that cannot be compared never
//! matches a range (it is reported by the caller as unknown, not as safe or
//! affected). GIT ranges name commits, not releases, and are not evaluated.
//!
//! Packages built from a git checkout or a local path (Cargo `git+`/`path+`
//! sources; npm, yarn and pnpm entries whose source is `git+...`, `file:` or
//! `link:`, see [`crate::lockfiles::npm`]) are not registry releases:
//! registry advisories are not matched against them by version; they are
//! listed by [`not_matched`] with the reason.
//!
//! Platforms: an `affected` entry may be limited to some operating systems
//! or CPU architectures (RustSec `[affected] os`/`arch`). Like cargo-audit,
//! a scan reports such advisories whatever the platform, with the limits in
//! the finding (`os`, `arch`), unless a [`Target`] is given: then an entry
//! limited to other platforms does not match (cargo-audit's `--target-os`
//! and `--target-arch`).

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::advisories::{Advisory, Affected, RangeEvent, RangeKind, Severity};
use crate::lockfiles::Package;
use crate::versions::{self, Ecosystem};

/// One vulnerable package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaFinding {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub version: String,
    pub file: String,
    pub line: Option<usize>,
    pub advisory: String,
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub summary: String,
    /// The smallest version above the installed one that fixes it.
    pub fixed: Option<String>,
    /// RustSec informational kind (`unmaintained`, `unsound`, `notice`).
    pub informational: Option<String>,
    pub cwes: Vec<String>,
    /// The operating systems the advisory is limited to (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// The CPU architectures the advisory is limited to (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arch: Vec<String>,
}

/// The platform a scan is for; `None` fields match every platform.
///
/// Names are RustSec's (Rust's `target_os` / `target_arch` values:
/// `linux`, `windows`, `macos`...; `x86_64`, `x86`, `aarch64`...), compared
/// without regard to case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub os: Option<String>,
    pub arch: Option<String>,
}

impl Target {
    /// Whether an entry limited to `os` and `arch` (empty: any) applies.
    pub fn admits(&self, entry: &Affected) -> bool {
        let fits = |want: &Option<String>, list: &[String]| match want {
            Some(w) if !list.is_empty() => list.iter().any(|x| x.eq_ignore_ascii_case(w)),
            _ => true,
        };
        fits(&self.os, &entry.os) && fits(&self.arch, &entry.arch)
    }
}

/// A package that was not matched against the advisories, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotMatched {
    pub ecosystem: Ecosystem,
    pub package: String,
    pub version: String,
    pub file: String,
    pub line: Option<usize>,
    /// Where it comes from (`git+https://...`, `file:../lib`...).
    pub source: Option<String>,
    pub reason: String,
}

/// The packages a scan does not match by version: those built from a git
/// checkout or a local path, which registry advisories do not describe.
pub fn not_matched(packages: &[Package]) -> Vec<NotMatched> {
    packages
        .iter()
        .filter(|p| p.is_from_vcs_or_path())
        .map(|p| {
            let from = match p.source.as_deref().unwrap_or_default() {
                s if s.starts_with("git+") => "a git repository",
                _ => "a local path",
            };
            NotMatched {
                ecosystem: p.ecosystem.clone(),
                package: p.name.clone(),
                version: p.version.clone(),
                file: p.file.clone(),
                line: p.line,
                source: p.source.clone(),
                reason: format!(
                    "built from {from}, not a {} release: registry advisories are not matched against it",
                    p.ecosystem.as_str()
                ),
            }
        })
        .collect()
}

/// Advisories indexed by (ecosystem, normalised package name).
#[derive(Debug, Default)]
pub struct Index {
    advisories: Vec<Advisory>,
    /// Ecosystem, then normalised name: looked up by `&str`, without
    /// allocating a key per package.
    by_package: HashMap<Ecosystem, HashMap<String, Vec<usize>>>,
}

impl Index {
    pub fn new(advisories: Vec<Advisory>) -> Index {
        let mut by_package: HashMap<Ecosystem, HashMap<String, Vec<usize>>> = HashMap::new();
        for (i, a) in advisories.iter().enumerate() {
            for (ecosystem, name) in a.packages() {
                by_package
                    .entry(ecosystem)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .push(i);
            }
        }
        Index {
            advisories,
            by_package,
        }
    }

    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Every finding for `packages`, in package order then advisory id,
    /// whatever the platform.
    pub fn scan(&self, packages: &[Package]) -> Vec<ScaFinding> {
        self.scan_for(packages, &Target::default())
    }

    /// Every finding for `packages` on `target`.
    pub fn scan_for(&self, packages: &[Package], target: &Target) -> Vec<ScaFinding> {
        let mut out = Vec::new();
        for p in packages {
            if p.is_from_vcs_or_path() {
                continue;
            }
            let name = p.ecosystem.normalize_name(&p.name);
            let Some(ids) = self
                .by_package
                .get(&p.ecosystem)
                .and_then(|names| names.get(name.as_ref()))
            else {
                continue;
            };
            let mut hits: Vec<ScaFinding> = Vec::new();
            for &i in ids {
                let a = &self.advisories[i];
                let entries: Vec<&Affected> = a
                    .affected
                    .iter()
                    .filter(|e| {
                        e.ecosystem == p.ecosystem
                            && target.admits(e)
                            && e.ecosystem.normalize_name(&e.name) == name
                    })
                    .collect();
                if !entries.iter().any(|e| is_affected(e, &p.version)) {
                    continue;
                }
                let fixed = entries
                    .iter()
                    .filter_map(|e| smallest_fix(e, &p.version))
                    .min_by(|x, y| {
                        versions::compare(&p.ecosystem, x, y).unwrap_or(Ordering::Equal)
                    });
                if hits.iter().any(|h| h.advisory == a.id) {
                    continue;
                }
                // Limited to some platforms only when every matching entry is.
                let limits = |f: fn(&Affected) -> &Vec<String>| -> Vec<String> {
                    if entries.iter().any(|e| f(e).is_empty()) {
                        return Vec::new();
                    }
                    let mut all: Vec<String> =
                        entries.iter().flat_map(|e| f(e).iter().cloned()).collect();
                    all.sort();
                    all.dedup();
                    all
                };
                hits.push(ScaFinding {
                    ecosystem: p.ecosystem.clone(),
                    package: p.name.clone(),
                    version: p.version.clone(),
                    file: p.file.clone(),
                    line: p.line,
                    advisory: a.id.clone(),
                    aliases: a.aliases.clone(),
                    severity: a.severity,
                    cvss_score: a.cvss_score,
                    summary: a.summary.clone(),
                    fixed,
                    informational: a.informational.clone(),
                    cwes: a.cwes.clone(),
                    os: limits(|e| &e.os),
                    arch: limits(|e| &e.arch),
                });
            }
            hits.sort_by(|x, y| x.advisory.cmp(&y.advisory));
            out.extend(hits);
        }
        out
    }
}

/// Whether `version` is affected according to one `affected` entry.
pub fn is_affected(entry: &Affected, version: &str) -> bool {
    let eco = &entry.ecosystem;
    if entry
        .versions
        .iter()
        .any(|v| v == version || versions::compare(eco, v, version) == Some(Ordering::Equal))
    {
        return true;
    }
    if let Some(cargo) = &entry.cargo {
        let satisfies = |reqs: &[String]| {
            reqs.iter()
                .any(|r| versions::cargo_satisfies(r, version).unwrap_or(false))
        };
        if semver::Version::parse(version).is_err() {
            return false;
        }
        return !satisfies(&cargo.patched) && !satisfies(&cargo.unaffected);
    }
    entry
        .ranges
        .iter()
        .filter(|r| r.kind != RangeKind::Git)
        .any(|r| range_affects(eco, &r.events, version))
}

fn event_version(e: &RangeEvent) -> &str {
    match e {
        RangeEvent::Introduced(v)
        | RangeEvent::Fixed(v)
        | RangeEvent::LastAffected(v)
        | RangeEvent::Limit(v) => v,
    }
}

/// The OSV range evaluation over sorted events.
fn range_affects(eco: &Ecosystem, events: &[RangeEvent], version: &str) -> bool {
    if !versions::is_valid(eco, version) {
        return false;
    }
    let cmp = |a: &str, b: &str| -> Option<Ordering> {
        match (a == "0", b == "0") {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Less),
            (false, true) => Some(Ordering::Greater),
            _ => versions::compare(eco, a, b),
        }
    };
    // Events whose version does not parse make the range unusable.
    if events
        .iter()
        .any(|e| event_version(e) != "0" && !versions::is_valid(eco, event_version(e)))
    {
        return false;
    }
    let mut sorted: Vec<&RangeEvent> = events.iter().collect();
    sorted.sort_by(|a, b| cmp(event_version(a), event_version(b)).unwrap_or(Ordering::Equal));
    for e in &sorted {
        if let RangeEvent::Limit(l) = e
            && cmp(version, l) != Some(Ordering::Less)
        {
            return false;
        }
    }
    let mut affected = false;
    for e in sorted {
        match e {
            RangeEvent::Introduced(v) => {
                if cmp(version, v).is_some_and(|o| o != Ordering::Less) {
                    affected = true;
                }
            }
            RangeEvent::Fixed(v) => {
                if cmp(version, v).is_some_and(|o| o != Ordering::Less) {
                    affected = false;
                }
            }
            RangeEvent::LastAffected(v) => {
                if cmp(version, v) == Some(Ordering::Greater) {
                    affected = false;
                }
            }
            RangeEvent::Limit(_) => {}
        }
    }
    affected
}

/// The smallest fixing version above `version` named by an entry.
pub fn smallest_fix(entry: &Affected, version: &str) -> Option<String> {
    let eco = &entry.ecosystem;
    let mut candidates: Vec<String> = Vec::new();
    if let Some(cargo) = &entry.cargo {
        candidates.extend(
            cargo
                .patched
                .iter()
                .filter_map(|r| versions::cargo_req_floor(r)),
        );
    }
    for r in entry.ranges.iter().filter(|r| r.kind != RangeKind::Git) {
        for e in &r.events {
            if let RangeEvent::Fixed(v) = e {
                candidates.push(v.clone());
            }
        }
    }
    candidates
        .into_iter()
        .filter(|c| versions::compare(eco, c, version) == Some(Ordering::Greater))
        .min_by(|a, b| versions::compare(eco, a, b).unwrap_or(Ordering::Equal))
}

#[cfg(test)]
mod tests;
