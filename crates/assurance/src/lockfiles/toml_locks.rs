//! TOML lockfiles with `[[package]]` tables: `Cargo.lock` (crates.io),
//! `poetry.lock` and `uv.lock` (PyPI).
//!
//! `Cargo.lock` is written by cargo in a fixed shape, so it is read line by
//! line first (fast: no TOML tree); anything unexpected falls back to the
//! full TOML parser, whose errors name the line.

use serde::Deserialize;

use super::{Detail, InputError, Package};
use crate::versions::Ecosystem;

#[derive(Debug, Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Pkg>,
}

#[derive(Debug, Deserialize)]
struct Pkg {
    name: String,
    version: Option<String>,
    checksum: Option<String>,
    source: Option<toml::Value>,
    dependencies: Option<toml::Value>,
    files: Option<Vec<FileHash>>,
    sdist: Option<FileHash>,
    wheels: Option<Vec<FileHash>>,
}

#[derive(Debug, Deserialize)]
struct FileHash {
    hash: Option<String>,
}

/// Parses a `[[package]]` lockfile of `ecosystem`.
///
/// With [`Detail::Matching`], Cargo.lock's usual layout is read without its
/// checksums and dependency lists.
pub fn parse(
    file: &str,
    text: &str,
    ecosystem: Ecosystem,
    detail: Detail,
) -> Result<Vec<Package>, InputError> {
    if ecosystem == Ecosystem::CratesIo
        && let Some(packages) = fast_cargo_lock(file, text, detail)
    {
        return packages;
    }
    let lock: Lock = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| super::line_of(text, s.start));
        let mut err = InputError::new(file, e.message().to_owned()).at_line(line);
        if let Some(field) = e.message().split('`').nth(1) {
            err = err.field(field.to_owned());
        }
        err
    })?;
    // Lines of the `[[package]]` headers, in order.
    let headers: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[package]]")
        .map(|(i, _)| i + 1)
        .collect();
    let mut out = Vec::with_capacity(lock.package.len());
    for (i, p) in lock.package.into_iter().enumerate() {
        let line = headers.get(i).copied();
        // uv.lock's workspace members (editable, virtual, path sources) are
        // the project itself, not published packages.
        if let Some(toml::Value::Table(src)) = &p.source
            && ["editable", "virtual", "directory", "path"]
                .iter()
                .any(|k| src.contains_key(*k))
        {
            continue;
        }
        let Some(version) = p.version else {
            // uv.lock's editable/virtual workspace members carry no version.
            if ecosystem == Ecosystem::PyPI {
                continue;
            }
            let mut err = InputError::new(file, format!("package `{}` has no version", p.name))
                .field(format!("package[{i}].version"));
            err.line = line;
            return Err(err);
        };
        let mut pkg = Package::new(ecosystem.clone(), &p.name, &version, file);
        pkg.line = line;
        if let Some(toml::Value::String(src)) = &p.source {
            pkg.source = Some(src.clone());
        }
        if let Some(sum) = p.checksum {
            pkg.hashes.push(("SHA-256".into(), sum));
        }
        let hashes = p
            .files
            .into_iter()
            .flatten()
            .chain(p.sdist)
            .chain(p.wheels.into_iter().flatten())
            .filter_map(|f| f.hash);
        for h in hashes {
            if let Some((alg, digest)) = h.split_once(':') {
                pkg.hashes.push((
                    alg.to_ascii_uppercase().replace("SHA", "SHA-"),
                    digest.into(),
                ));
            }
        }
        match p.dependencies {
            Some(toml::Value::Array(items)) => {
                for item in items {
                    match item {
                        toml::Value::String(s) => pkg.dependencies.push(s),
                        toml::Value::Table(t) => {
                            if let Some(name) = t.get("name").and_then(|n| n.as_str()) {
                                pkg.dependencies.push(name.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some(toml::Value::Table(t)) => pkg.dependencies.extend(t.keys().cloned()),
            _ => {}
        }
        out.push(pkg);
    }
    Ok(out)
}

/// A `"..."` TOML basic string without escapes, or `None`.
fn quoted(value: &str) -> Option<&str> {
    let v = value.trim_ascii().strip_prefix('"')?.strip_suffix('"')?;
    memchr::memchr2(b'\\', b'"', v.as_bytes())
        .is_none()
        .then_some(v)
}

/// Cargo.lock line by line; `None` when the file has any line this reader
/// does not know (the TOML parser then decides).
pub(crate) fn fast_cargo_lock(
    file: &str,
    text: &str,
    detail: Detail,
) -> Option<Result<Vec<Package>, InputError>> {
    let full = detail == Detail::Full;
    // Sized once: a lockfile of a thousand packages would otherwise be
    // copied into ever larger vectors (fresh pages each time).
    let mut out =
        Vec::with_capacity(memchr::memmem::find_iter(text.as_bytes(), "[[package]]").count());
    let mut current: Option<Package> = None;
    let mut in_deps = false;
    let mut in_package = false;
    let finish = |p: Package| -> Result<Package, InputError> {
        if p.name.is_empty() || p.version.is_empty() {
            let field = if p.name.is_empty() { "name" } else { "version" };
            let mut err = InputError::new(file, "[[package]] without it").field(field);
            err.line = p.line;
            return Err(err);
        }
        Ok(p)
    };
    // Byte-level line splitting and trimming: this loop reads every line
    // of lockfiles with thousands of packages on every scan.
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for (idx, end) in ends.enumerate() {
        // `\n` is ASCII, so both ends are char boundaries.
        let line = text.get(start..end)?.trim_ascii();
        start = end + 1;
        if in_deps {
            if line == "]" {
                in_deps = false;
            } else {
                let dep = quoted(line.strip_suffix(',').unwrap_or(line))?;
                if full {
                    current.as_mut()?.dependencies.push(dep.to_owned());
                }
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[package]]" {
            if let Some(p) = current.take() {
                match finish(p) {
                    Ok(p) => out.push(p),
                    Err(e) => return Some(Err(e)),
                }
            }
            current = Some(Package::new(Ecosystem::CratesIo, "", "", file).at(idx + 1));
            in_package = true;
            continue;
        }
        if line.starts_with('[') {
            // [metadata] (lockfile v1) and friends: nothing to read.
            if let Some(p) = current.take() {
                match finish(p) {
                    Ok(p) => out.push(p),
                    Err(e) => return Some(Err(e)),
                }
            }
            in_package = false;
            continue;
        }
        let eq = memchr::memchr(b'=', line.as_bytes())?;
        let (key, value) = (line[..eq].trim_ascii(), &line[eq + 1..]);
        if !in_package {
            // `version = 3` at the top, or v1 metadata checksums.
            continue;
        }
        let p = current.as_mut()?;
        match key {
            "name" => p.name = quoted(value)?.to_owned(),
            "version" => p.version = quoted(value)?.to_owned(),
            "checksum" => {
                let sum = quoted(value)?;
                if full {
                    p.hashes.push(("SHA-256".into(), sum.to_owned()));
                }
            }
            "source" => p.source = Some(quoted(value)?.to_owned()),
            "dependencies" => {
                let v = value.trim();
                if v == "[" {
                    in_deps = true;
                } else if v == "[]" {
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
    if in_deps {
        return None;
    }
    if let Some(p) = current.take() {
        match finish(p) {
            Ok(p) => out.push(p),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(out))
}
