//! Lockfiles and manifests: discovery (respecting `.gitignore`) and parsing
//! into [`Package`]s with the ecosystem, exact version, file and line.
//!
//! | file | ecosystem | module |
//! |---|---|---|
//! | `Cargo.lock` | crates.io | [`toml_locks`] |
//! | `poetry.lock`, `uv.lock` | PyPI | [`toml_locks`] |
//! | `package-lock.json`, `npm-shrinkwrap.json` (v1, v2, v3) | npm | [`npm`] |
//! | `yarn.lock` (classic and berry), `pnpm-lock.yaml` | npm | [`npm`] |
//! | `requirements*.txt` (pinned `==` lines), `Pipfile.lock` | PyPI | [`python`] |
//! | `go.mod` (`go.sum` when no `go.mod` is beside it) | Go | [`other`] |
//! | `pom.xml` (declared versions), `gradle.lockfile` | Maven | [`other`] |
//! | `Gemfile.lock` | RubyGems | [`other`] |
//! | `composer.lock` | Packagist | [`other`] |
//!
//! Parsers are line-oriented where the format allows it (fast, and every
//! package knows its line); JSON formats go through serde. A malformed file
//! gives an [`InputError`] naming the file, line and field.

pub mod npm;
pub mod other;
pub mod python;
pub mod toml_locks;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::advisories::InputError;
use crate::versions::Ecosystem;

/// One resolved (or declared) package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The lockfile it came from, as given to the parser.
    pub file: String,
    pub line: Option<usize>,
    /// `(algorithm, hex or base64 digest)` as the lockfile records it.
    #[serde(default)]
    pub hashes: Vec<(String, String)>,
    /// Names (or `name version`) of the packages it depends on, where known.
    #[serde(default)]
    pub dependencies: Vec<String>,
    #[serde(default)]
    pub licenses: Vec<String>,
    /// Where it comes from when the lockfile says (`registry+...`, `git+...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Package {
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, file: &str) -> Package {
        Package {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            file: file.to_owned(),
            line: None,
            hashes: Vec::new(),
            dependencies: Vec::new(),
            licenses: Vec::new(),
            source: None,
        }
    }

    /// True when the package is built from a git checkout or a local path
    /// rather than the ecosystem's registry: registry advisories do not
    /// apply to it (cargo-audit's rule as well).
    pub fn is_from_vcs_or_path(&self) -> bool {
        self.source.as_deref().is_some_and(|s| {
            s.starts_with("git+")
                || s.starts_with("path+")
                || s.starts_with("file:")
                || s.starts_with("link:")
        })
    }

    pub fn at(mut self, line: usize) -> Package {
        self.line = Some(line);
        self
    }

    /// The package URL (`pkg:cargo/serde@1.0.0`, `pkg:maven/g/a@1`), in the
    /// canonical form of the purl specification: each namespace segment,
    /// the name and the version percent-encoded with [`purl_encode`], so a
    /// version such as npm's `github:o/r#sha` or pnpm's `link:../x` cannot
    /// be read back as a subpath, qualifiers or more namespace.
    pub fn purl(&self) -> String {
        let ty = self.ecosystem.purl_type();
        let name = match self.ecosystem {
            Ecosystem::Maven => self.name.replacen(':', "/", 1),
            Ecosystem::PyPI => self.ecosystem.normalize_name(&self.name).into_owned(),
            _ => self.name.clone(),
        };
        // `/` separates the namespace's segments and the name (`@scope/name`,
        // `github.com/org/repo`, `group/artifact`); empty segments are dropped
        // as the specification strips them.
        let path: Vec<String> = name
            .split('/')
            .filter(|s| !s.is_empty())
            .map(purl_encode)
            .collect();
        format!("pkg:{ty}/{}@{}", path.join("/"), purl_encode(&self.version))
    }
}

/// Percent-encodes one component of a package URL (a namespace segment, a
/// name or a version) as the purl specification requires: ASCII letters
/// and digits, the punctuation `.-_~` and the colon `:` stay; every other
/// byte of the UTF-8 text becomes `%XX` (the space `%20`, never `+`).
pub fn purl_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The bytes of `text` with its `%XX` escapes decoded (purl segments,
/// yarn berry's nested locators); a `%` not followed by two hex digits is
/// kept as written.
pub(crate) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The kinds of file this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LockKind {
    CargoLock,
    PackageLock,
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    GoMod,
    GoSum,
    PomXml,
    GradleLockfile,
    GemfileLock,
    ComposerLock,
}

/// The kind of lockfile a file name denotes (a prefix such as
/// `vector.Cargo.lock` is allowed).
pub fn detect(file_name: &str) -> Option<LockKind> {
    let n = file_name;
    let ends = |s: &str| n == s || n.ends_with(&format!(".{s}")) || n.ends_with(&format!("-{s}"));
    let kind = if ends("Cargo.lock") {
        LockKind::CargoLock
    } else if ends("package-lock.json") || ends("npm-shrinkwrap.json") {
        LockKind::PackageLock
    } else if ends("yarn.lock") {
        LockKind::YarnLock
    } else if ends("pnpm-lock.yaml") {
        LockKind::PnpmLock
    } else if n.ends_with(".txt") && n.contains("requirements") {
        LockKind::Requirements
    } else if ends("poetry.lock") {
        LockKind::PoetryLock
    } else if ends("Pipfile.lock") {
        LockKind::PipfileLock
    } else if ends("uv.lock") {
        LockKind::UvLock
    } else if ends("go.mod") {
        LockKind::GoMod
    } else if ends("go.sum") {
        LockKind::GoSum
    } else if ends("pom.xml") {
        LockKind::PomXml
    } else if ends("gradle.lockfile") {
        LockKind::GradleLockfile
    } else if ends("Gemfile.lock") {
        LockKind::GemfileLock
    } else if ends("composer.lock") {
        LockKind::ComposerLock
    } else {
        return None;
    };
    Some(kind)
}

/// How much of each package a reader keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Everything the lockfile records (what an SBOM shows).
    #[default]
    Full,
    /// What matching against advisories reads: name, version, origin and
    /// line. Cargo.lock's checksums and dependency lists, most of what its
    /// reader allocates, are skipped; other formats are read in full.
    Matching,
}

/// Parses `text` as a lockfile of `kind`, named `file` in packages and errors.
pub fn parse(kind: LockKind, file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    parse_with(kind, file, text, Detail::Full)
}

/// [`parse`], keeping `detail` of each package.
pub fn parse_with(
    kind: LockKind,
    file: &str,
    text: &str,
    detail: Detail,
) -> Result<Vec<Package>, InputError> {
    match kind {
        LockKind::CargoLock => toml_locks::parse(file, text, Ecosystem::CratesIo, detail),
        LockKind::PoetryLock | LockKind::UvLock => {
            toml_locks::parse(file, text, Ecosystem::PyPI, detail)
        }
        LockKind::PackageLock => npm::parse_package_lock(file, text),
        LockKind::YarnLock => npm::parse_yarn_lock(file, text),
        LockKind::PnpmLock => npm::parse_pnpm_lock(file, text),
        LockKind::Requirements => python::parse_requirements(file, text),
        LockKind::PipfileLock => python::parse_pipfile_lock(file, text),
        LockKind::GoMod => other::parse_go_mod(file, text),
        LockKind::GoSum => other::parse_go_sum(file, text),
        LockKind::PomXml => other::parse_pom(file, text),
        LockKind::GradleLockfile => other::parse_gradle_lockfile(file, text),
        LockKind::GemfileLock => other::parse_gemfile_lock(file, text),
        LockKind::ComposerLock => other::parse_composer_lock(file, text),
    }
}

/// Finds lockfiles under `root` (a file is returned as itself), honouring
/// `.gitignore`, `.ignore` and git excludes; hidden directories are skipped.
/// `go.sum` is only returned when no `go.mod` is beside it.
pub fn discover(root: &Path) -> Vec<(PathBuf, LockKind)> {
    if root.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return detect(&name)
            .map(|k| vec![(root.to_owned(), k)])
            .unwrap_or_default();
    }
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .hidden(true)
        .filter_entry(|e| e.file_name() != "node_modules" && e.file_name() != "target")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if let Some(kind) = detect(&name) {
            found.push((entry.path().to_owned(), kind));
        }
    }
    let has_go_mod: std::collections::HashSet<PathBuf> = found
        .iter()
        .filter(|(_, k)| *k == LockKind::GoMod)
        .filter_map(|(p, _)| p.parent().map(Path::to_owned))
        .collect();
    found.retain(|(p, k)| {
        *k != LockKind::GoSum || !p.parent().is_some_and(|d| has_go_mod.contains(d))
    });
    found.sort();
    found
}

/// Line number (1-based) of byte offset `pos` in `text`.
pub fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses JSON with serde, mapping errors to file, line and field path.
pub fn from_json<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| InputError::from_json(file, e))
}

#[cfg(test)]
mod tests;
