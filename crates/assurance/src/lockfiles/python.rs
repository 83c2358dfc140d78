//! Python: `requirements*.txt` (only pinned `name==version` lines are
//! resolved packages; ranges, URLs and options are passed over) and
//! `Pipfile.lock` (JSON).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{InputError, Package, from_json};
use crate::versions::{Ecosystem, pep440};

/// `requirements.txt`: `name[extras]==version ; markers  --hash=sha256:...`.
pub fn parse_requirements(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (idx, raw) in text.lines().enumerate() {
        // Backslash continuations join lines (hashes are often on the next lines).
        let (start, mut line) = match pending.take() {
            Some((start, mut acc)) => {
                acc.push(' ');
                acc.push_str(raw);
                (start, acc)
            }
            None => (idx + 1, raw.to_owned()),
        };
        if let Some(stripped) = line.trim_end().strip_suffix('\\') {
            pending = Some((start, stripped.to_owned()));
            continue;
        }
        if let Some(i) = line
            .find(" #")
            .or_else(|| line.starts_with('#').then_some(0))
        {
            line.truncate(i);
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        let mut hashes = Vec::new();
        let mut spec = String::new();
        for token in line.split_whitespace() {
            if let Some(h) = token.strip_prefix("--hash=") {
                if let Some((alg, digest)) = h.split_once(':') {
                    hashes.push((
                        alg.to_ascii_uppercase().replace("SHA", "SHA-"),
                        digest.to_owned(),
                    ));
                }
            } else if !token.starts_with("--") {
                spec.push_str(token);
            }
        }
        let spec = spec.split(';').next().unwrap_or_default();
        let Some((name, version)) = spec.split_once("==") else {
            // Unpinned or URL requirement: no exact version to match.
            continue;
        };
        let version = version.trim_start_matches('=').trim();
        let name = name.split('[').next().unwrap_or(name).trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(
                InputError::new(file, format!("`{name}` is not a package name"))
                    .at_line(start)
                    .field("name"),
            );
        }
        if version.contains(['*', ',', '<', '>', '!', '~']) {
            // `==1.4.*` or a compound specifier: not one exact version.
            continue;
        }
        if pep440::Version::parse(version).is_none() {
            return Err(
                InputError::new(file, format!("`{version}` is not a PEP 440 version"))
                    .at_line(start)
                    .field("version"),
            );
        }
        let mut p = Package::new(Ecosystem::PyPI, name, version, file).at(start);
        p.hashes = hashes;
        out.push(p);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: BTreeMap<String, PipEntry>,
    #[serde(default)]
    develop: BTreeMap<String, PipEntry>,
}

#[derive(Debug, Deserialize)]
struct PipEntry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
}

/// `Pipfile.lock`: `default` and `develop` sections.
pub fn parse_pipfile_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let lock: PipfileLock = from_json(file, text)?;
    let mut out = Vec::new();
    for (name, e) in lock.default.iter().chain(&lock.develop) {
        // Git and path entries have no version.
        let Some(version) = &e.version else { continue };
        let version = version.trim_start_matches('=');
        let mut p = Package::new(Ecosystem::PyPI, name, version, file);
        for h in &e.hashes {
            if let Some((alg, digest)) = h.split_once(':') {
                p.hashes.push((
                    alg.to_ascii_uppercase().replace("SHA", "SHA-"),
                    digest.to_owned(),
                ));
            }
        }
        out.push(p);
    }
    Ok(out)
}
