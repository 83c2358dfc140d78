//! npm lockfiles: `package-lock.json` (v1 nested `dependencies`, v2/v3
//! `packages`), `yarn.lock` (classic and berry) and `pnpm-lock.yaml`
//! (v5, v6 and v9 key forms).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use super::{InputError, Package, from_json};
use crate::versions::Ecosystem;

#[derive(Debug, Deserialize)]
struct PackageLock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<u32>,
    #[serde(default)]
    packages: BTreeMap<String, Entry>,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    name: Option<String>,
    version: Option<String>,
    integrity: Option<String>,
    resolved: Option<String>,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    dependencies: BTreeMap<String, serde_json::Value>,
    license: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct V1Entry {
    version: String,
    integrity: Option<String>,
    #[serde(default)]
    requires: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, V1Entry>,
}

/// `sha512-<base64>` as (`SHA-512`, hex).
fn integrity(value: &str) -> Option<(String, String)> {
    let (alg, b64) = value.split_whitespace().next()?.split_once('-')?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let alg = match alg {
        "sha512" => "SHA-512",
        "sha384" => "SHA-384",
        "sha256" => "SHA-256",
        "sha1" => "SHA-1",
        _ => return None,
    };
    Some((alg.to_owned(), hex::encode(bytes)))
}

/// Where a `resolved` URL or a v1 `version` spec says a package comes from
/// when that is not the registry: `git+...` for git (`git+https:`,
/// `git+ssh:`, `git:`, `github:`), `file:...` for a local folder or tarball;
/// `None` for a registry tarball.
fn non_registry_source(spec: &str) -> Option<String> {
    if spec.starts_with("git+") || spec.starts_with("file:") || spec.starts_with("link:") {
        Some(spec.to_owned())
    } else if spec.starts_with("git:") {
        Some(format!("git+{spec}"))
    } else {
        spec.strip_prefix("github:")
            .map(|repo| format!("git+https://github.com/{repo}"))
    }
}

/// `package-lock.json` / `npm-shrinkwrap.json`, any lockfile version.
///
/// Packages installed from git or from a local folder (`resolved` or a v1
/// `version` of `git+...`, `github:...`, `file:...`, and `link` entries
/// whose target has a version) keep that origin in [`Package::source`], so
/// that scans do not match registry advisories against them.
pub fn parse_package_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let lock: PackageLock = from_json(file, text)?;
    let mut out = Vec::new();
    if !lock.packages.is_empty() {
        for (key, e) in &lock.packages {
            // "" is the root project; workspace folders are not installed packages.
            let Some(idx) = key.rfind("node_modules/") else {
                continue;
            };
            let name = e
                .name
                .clone()
                .unwrap_or_else(|| key[idx + "node_modules/".len()..].to_owned());
            if e.link {
                // A symlink to a folder of the project (a workspace member or
                // a `file:` dependency): its version is the target's, if any.
                let Some(target) = e.resolved.as_deref().filter(|t| !t.is_empty()) else {
                    continue;
                };
                if let Some(version) = lock.packages.get(target).and_then(|t| t.version.as_ref()) {
                    let mut p = Package::new(Ecosystem::Npm, &name, version, file);
                    p.source = Some(format!("link:{target}"));
                    out.push(p);
                }
                continue;
            }
            let Some(version) = &e.version else {
                return Err(
                    InputError::new(file, format!("package `{name}` has no version"))
                        .field(format!("packages.{key}.version")),
                );
            };
            let mut p = Package::new(Ecosystem::Npm, &name, version, file);
            p.source = e.resolved.as_deref().and_then(non_registry_source);
            p.hashes.extend(e.integrity.as_deref().and_then(integrity));
            p.dependencies = e.dependencies.keys().cloned().collect();
            if let Some(serde_json::Value::String(l)) = &e.license {
                p.licenses.push(l.clone());
            }
            out.push(p);
        }
    } else {
        if lock.lockfile_version.is_some_and(|v| v > 1) && !lock.dependencies.is_empty() {
            // v2 keeps both; `packages` was empty, so read the v1 view.
        }
        fn walk(file: &str, deps: &BTreeMap<String, V1Entry>, out: &mut Vec<Package>) {
            for (name, e) in deps {
                // A git dependency's version is `git+URL#commit` (or
                // `github:owner/repo#commit`), a local one's `file:PATH`:
                // kept as written, with that origin as its source.
                let mut p = Package::new(Ecosystem::Npm, name, &e.version, file);
                p.source = non_registry_source(&e.version);
                p.hashes.extend(e.integrity.as_deref().and_then(integrity));
                p.dependencies = e.requires.keys().cloned().collect();
                out.push(p);
                walk(file, &e.dependencies, out);
            }
        }
        walk(file, &lock.dependencies, &mut out);
    }
    Ok(out)
}

/// The package name in a spec such as `@scope/name@^1.0.0` or `name@npm:1.2.3`.
fn spec_name(spec: &str) -> &str {
    let spec = spec.trim().trim_matches('"');
    match spec[1.min(spec.len())..].find('@') {
        Some(i) => &spec[..i + 1],
        None => spec,
    }
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim_matches('\'')
}

/// `yarn.lock`, classic (v1) or berry (v2+, YAML).
pub fn parse_yarn_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out: Vec<Package> = Vec::new();
    let mut current: Option<Package> = None;
    let mut skip = false;
    let mut in_deps = false;
    let flush = |current: &mut Option<Package>,
                 out: &mut Vec<Package>,
                 skip: bool|
     -> Result<(), InputError> {
        if let Some(p) = current.take() {
            if p.version.is_empty() {
                let mut err = InputError::new(file, format!("entry `{}` has no version", p.name))
                    .field("version");
                err.line = p.line;
                return Err(err);
            }
            if !skip && !p.version.ends_with("-use.local") {
                out.push(p);
            }
        }
        Ok(())
    };
    for (idx, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            flush(&mut current, &mut out, skip)?;
            in_deps = false;
            let Some(header) = line.strip_suffix(':') else {
                return Err(
                    InputError::new(file, format!("expected `spec:` but found `{line}`"))
                        .at_line(idx + 1),
                );
            };
            skip = header == "__metadata";
            let first = header.split(',').next().unwrap_or(header);
            let name = spec_name(unquote(first));
            current = Some(Package::new(Ecosystem::Npm, name, "", file).at(idx + 1));
            continue;
        }
        let Some(p) = current.as_mut() else {
            return Err(InputError::new(file, "indented line outside an entry").at_line(idx + 1));
        };
        if indent == 2 {
            in_deps = false;
            let (key, value) = match line.split_once(':') {
                Some((k, v)) if !k.contains(' ') => (k, v),
                _ => line.split_once(' ').unwrap_or((line, "")),
            };
            match key {
                "version" => p.version = unquote(value).to_owned(),
                "integrity" => p.hashes.extend(integrity(unquote(value))),
                "resolution" => {
                    let r = unquote(value);
                    if r.contains("@workspace:") || r.contains("@link:") || r.contains("@portal:") {
                        skip = true;
                    }
                }
                "dependencies" => in_deps = true,
                _ => {}
            }
        } else if in_deps && indent >= 4 {
            let dep = line
                .split([':', ' '])
                .next()
                .map(unquote)
                .unwrap_or_default();
            if !dep.is_empty() {
                p.dependencies.push(dep.to_owned());
            }
        }
    }
    flush(&mut current, &mut out, skip)?;
    Ok(out)
}

/// `pnpm-lock.yaml`: the keys of the top-level `packages:` mapping.
pub fn parse_pnpm_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out = Vec::new();
    let mut in_packages = false;
    let mut saw_version = false;
    for (idx, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            if line.starts_with("lockfileVersion:") {
                saw_version = true;
            }
            in_packages = line == "packages:";
            continue;
        }
        if !in_packages || indent != 2 {
            continue;
        }
        let Some(key) = line.strip_suffix(':').or_else(|| line.strip_suffix(": {}")) else {
            continue;
        };
        let key = unquote(key);
        let key = key.strip_prefix('/').unwrap_or(key);
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = match key[1.min(key.len())..].rfind('@') {
            // v6 and v9: name@version
            Some(i) => (&key[..i + 1], &key[i + 2..]),
            // v5: name/version (scoped: @scope/name/version), peers after `_`.
            None => match key.rfind('/') {
                Some(i) => (
                    &key[..i],
                    key[i + 1..].split('_').next().unwrap_or_default(),
                ),
                None => {
                    return Err(InputError::new(
                        file,
                        format!("cannot read a name and version from `{key}`"),
                    )
                    .at_line(idx + 1)
                    .field("packages"));
                }
            },
        };
        if name.is_empty() || version.is_empty() {
            return Err(InputError::new(
                file,
                format!("cannot read a name and version from `{key}`"),
            )
            .at_line(idx + 1)
            .field("packages"));
        }
        out.push(Package::new(Ecosystem::Npm, name, version, file).at(idx + 1));
    }
    if !saw_version {
        return Err(
            InputError::new(file, "not a pnpm lockfile (no `lockfileVersion:`)")
                .at_line(1)
                .field("lockfileVersion"),
        );
    }
    Ok(out)
}
