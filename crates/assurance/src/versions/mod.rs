//! Version ordering per ecosystem: each package ecosystem has its own rules.
//!
//! - [`Ecosystem::CratesIo`], [`Ecosystem::Npm`], [`Ecosystem::Go`],
//!   [`Ecosystem::Packagist`]: semantic versioning (SemVer 2.0 precedence,
//!   a leading `v` allowed, build metadata ignored; Go pseudo-versions such
//!   as `v0.0.0-20191109021931-daa7c04131f5` order as pre-releases, which is
//!   what Go does).
//! - [`Ecosystem::PyPI`]: PEP 440 ([`pep440`]).
//! - [`Ecosystem::Maven`]: Maven's `ComparableVersion` ([`maven`]).
//! - [`Ecosystem::RubyGems`]: `Gem::Version` ([`rubygems`]).
//!
//! [`compare`] returns `None` when a version cannot be parsed under its
//! ecosystem's rules; callers treat that as "unknown", never as a match.

pub mod maven;
pub mod pep440;
pub mod rubygems;
pub mod semver_like;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A package ecosystem, named as OSV names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    CratesIo,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPI,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "Maven")]
    Maven,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "Packagist")]
    Packagist,
    /// Any other OSV ecosystem (Debian, Alpine, the Rust toolchain...):
    /// stored, shown, never matched against lockfiles.
    #[serde(untagged)]
    Other(String),
}

impl Ecosystem {
    /// Parses an OSV ecosystem name (`"PyPI"`, `"crates.io"`, `"Debian:11"`).
    pub fn parse(text: &str) -> Ecosystem {
        let base = text.split(':').next().unwrap_or(text).trim();
        match base.to_ascii_lowercase().as_str() {
            "crates.io" | "cargo" => Ecosystem::CratesIo,
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::PyPI,
            "go" | "golang" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "rubygems" | "gem" => Ecosystem::RubyGems,
            "packagist" | "composer" => Ecosystem::Packagist,
            _ => Ecosystem::Other(text.to_owned()),
        }
    }

    /// The OSV name.
    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::Other(name) => name,
        }
    }

    /// The package URL type (`pkg:<type>/...`).
    pub fn purl_type(&self) -> &str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::Other(_) => "generic",
        }
    }

    /// The name under which a package is indexed and matched: PyPI names
    /// are normalised per PEP 503, Packagist names are case-insensitive.
    ///
    /// Borrows `name` when it is already normal (every name of most
    /// ecosystems): matching a lockfile allocates nothing per package.
    pub fn normalize_name<'a>(&self, name: &'a str) -> Cow<'a, str> {
        match self {
            Ecosystem::PyPI if pep440::is_normal_name(name) => Cow::Borrowed(name),
            Ecosystem::PyPI => Cow::Owned(pep440::normalize_name(name)),
            Ecosystem::Packagist if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                Cow::Owned(name.to_ascii_lowercase())
            }
            Ecosystem::Packagist => Cow::Borrowed(name),
            _ => Cow::Borrowed(name.trim()),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares two versions under `ecosystem`'s rules; `None` if either does
/// not parse (or the ecosystem has no known rules).
pub fn compare(ecosystem: &Ecosystem, a: &str, b: &str) -> Option<Ordering> {
    match ecosystem {
        Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go | Ecosystem::Packagist => {
            let a = semver_like::Version::parse(a)?;
            let b = semver_like::Version::parse(b)?;
            Some(a.cmp(&b))
        }
        Ecosystem::PyPI => {
            let a = pep440::Version::parse(a)?;
            let b = pep440::Version::parse(b)?;
            Some(a.cmp(&b))
        }
        Ecosystem::Maven => Some(maven::compare(a, b)),
        Ecosystem::RubyGems => {
            let a = rubygems::Version::parse(a)?;
            let b = rubygems::Version::parse(b)?;
            Some(a.cmp(&b))
        }
        Ecosystem::Other(_) => None,
    }
}

/// True when `version` parses under `ecosystem`'s rules.
pub fn is_valid(ecosystem: &Ecosystem, version: &str) -> bool {
    compare(ecosystem, version, version).is_some()
}

/// Whether `version` satisfies the npm range `range` (`^1.2.3`,
/// `>=1.0.0 <2.0.0 || 3.x`, `~1.2`), per node-semver. Errors when either
/// does not parse.
pub fn npm_satisfies(range: &str, version: &str) -> Result<bool, String> {
    let range = nodejs_semver::Range::parse(range).map_err(|e| format!("range `{range}`: {e}"))?;
    let version =
        nodejs_semver::Version::parse(version).map_err(|e| format!("version `{version}`: {e}"))?;
    Ok(range.satisfies(&version))
}

/// Whether a crates.io `version` satisfies a Cargo requirement
/// (`>= 1.2.3, < 1.3`, `^0.9`, `=1.0.0`), as RustSec's `patched` and
/// `unaffected` lists are written. Errors when either does not parse.
pub fn cargo_satisfies(req: &str, version: &str) -> Result<bool, String> {
    let req = semver::VersionReq::parse(req).map_err(|e| format!("requirement `{req}`: {e}"))?;
    let version =
        semver::Version::parse(version).map_err(|e| format!("version `{version}`: {e}"))?;
    Ok(req_matches_with_prerelease(&req, &version))
}

/// Cargo requirements only match a pre-release when a comparator names one
/// with the same `major.minor.patch`; RustSec (like cargo-audit) compares
/// pre-releases by plain precedence instead, so `>= 1.2.0` covers `1.3.0-rc.1`.
fn req_matches_with_prerelease(req: &semver::VersionReq, version: &semver::Version) -> bool {
    if version.pre.is_empty() {
        return req.matches(version);
    }
    req.comparators.iter().all(|c| {
        let c_version = semver::Version {
            major: c.major,
            minor: c.minor.unwrap_or(0),
            patch: c.patch.unwrap_or(0),
            pre: c.pre.clone(),
            build: semver::BuildMetadata::EMPTY,
        };
        let ord = version.cmp(&c_version);
        use semver::Op;
        match c.op {
            Op::Exact => {
                if c.minor.is_none() || c.patch.is_none() {
                    // `=1` / `=1.2`: any version with those leading parts.
                    version.major == c.major && c.minor.is_none_or(|m| version.minor == m)
                } else {
                    ord == Ordering::Equal
                }
            }
            Op::Greater => ord == Ordering::Greater,
            Op::GreaterEq => ord != Ordering::Less,
            Op::Less => ord == Ordering::Less,
            Op::LessEq => ord != Ordering::Greater,
            _ => {
                // Caret, tilde, wildcard: compare as the non-pre-release
                // version would, which is how cargo-audit treats them.
                let mut stable = version.clone();
                stable.pre = semver::Prerelease::EMPTY;
                semver::VersionReq {
                    comparators: vec![c.clone()],
                }
                .matches(&stable)
            }
        }
    })
}

/// The smallest version a Cargo requirement admits, when it has a lower bound.
pub fn cargo_req_floor(req: &str) -> Option<String> {
    let req = semver::VersionReq::parse(req).ok()?;
    req.comparators
        .iter()
        .filter(|c| {
            matches!(
                c.op,
                semver::Op::GreaterEq
                    | semver::Op::Caret
                    | semver::Op::Tilde
                    | semver::Op::Exact
                    | semver::Op::Greater
            )
        })
        .map(|c| {
            let mut v = format!(
                "{}.{}.{}",
                c.major,
                c.minor.unwrap_or(0),
                c.patch.unwrap_or(0)
            );
            if !c.pre.is_empty() {
                v.push('-');
                v.push_str(c.pre.as_str());
            }
            v
        })
        .next()
}

#[cfg(test)]
mod tests;
