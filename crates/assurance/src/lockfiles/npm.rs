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

/// Where a `resolved` URL, a version spec or a resolution says a package
/// comes from when that is not the registry, written the way
/// [`Package::source`] records it:
/// - `git+URL` for git: `git+https:`, `git+ssh:`, `git:`, `ssh:`, the
///   `github:`/`gitlab:`/`bitbucket:` shorthands, scp-like `git@host:path`,
///   an `https://` URL of a `.git` repository or with a `#commit=` fragment
///   (yarn berry), and the archive of one commit on a git host
///   (`https://codeload.github.com/o/r/tar.gz/SHA` becomes
///   `git+https://github.com/o/r.git#SHA`);
/// - `file:PATH` for a local folder or tarball, `link:PATH` for a symlink to
///   a folder (yarn's `portal:` as well).
///
/// `None` for a registry package, or a tarball on any other server.
fn non_registry_source(spec: &str) -> Option<String> {
    let spec = spec.trim();
    if spec.starts_with("git+") || spec.starts_with("file:") || spec.starts_with("link:") {
        return Some(spec.to_owned());
    }
    if let Some(path) = spec.strip_prefix("portal:") {
        return Some(format!("link:{path}"));
    }
    if spec.starts_with("git:") || spec.starts_with("ssh:") {
        return Some(format!("git+{spec}"));
    }
    for (prefix, host) in [
        ("github:", "github.com"),
        ("gitlab:", "gitlab.com"),
        ("bitbucket:", "bitbucket.org"),
    ] {
        if let Some(repo) = spec.strip_prefix(prefix) {
            return Some(format!("git+https://{host}/{repo}"));
        }
    }
    if let Some(rest) = spec.strip_prefix("git@")
        && let Some((host, path)) = rest.split_once(':')
        && !host.is_empty()
        && !host.contains('/')
    {
        return Some(format!("git+ssh://git@{host}/{path}"));
    }
    let rest = spec
        .strip_prefix("https://")
        .or_else(|| spec.strip_prefix("http://"))?;
    if let Some(repo) = git_host_archive(rest) {
        return Some(repo);
    }
    let (path, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let path = path.split('?').next().unwrap_or(path);
    if path.ends_with(".git") || fragment.starts_with("commit=") || fragment.contains("&commit=") {
        return Some(format!("git+{spec}"));
    }
    None
}

/// `git+https://HOST/OWNER/REPO.git#COMMIT` for the archive of one commit
/// on GitHub, GitLab or Bitbucket (`rest` is the URL after `https://`):
/// `codeload.github.com/o/r/tar.gz/C`, `github.com/o/r/archive/C.tar.gz`,
/// `gitlab.com/o/r/repository/archive.tar.gz?ref=C`,
/// `gitlab.com/o/r/-/archive/C/r-C.tar.gz`, `bitbucket.org/o/r/get/C.tar.gz`.
fn git_host_archive(rest: &str) -> Option<String> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.split('#').next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').collect();
    let strip = |s: &'static str| move |c: &str| c.strip_suffix(s).map(str::to_owned);
    let (host, commit) = match parts.as_slice() {
        [
            "codeload.github.com",
            _,
            _,
            "tar.gz" | "zip" | "legacy.tar.gz",
            c,
        ] => ("github.com", Some((*c).to_owned())),
        ["github.com", _, _, "archive", c] => ("github.com", strip(".tar.gz")(c)),
        ["bitbucket.org", _, _, "get", c] => ("bitbucket.org", strip(".tar.gz")(c)),
        ["gitlab.com", _, _, "repository", "archive.tar.gz"] => (
            "gitlab.com",
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix("ref="))
                .map(str::to_owned),
        ),
        ["gitlab.com", _, _, "-", "archive", c, _] => ("gitlab.com", Some((*c).to_owned())),
        _ => return None,
    };
    let commit = commit.filter(|c| !c.is_empty())?;
    Some(format!(
        "git+https://{host}/{}/{}.git#{commit}",
        parts[1], parts[2]
    ))
}

/// The origin a yarn key's range names (`foo@github:o/r`, `foo@o/r#ref`,
/// `foo@file:../x`): [`non_registry_source`], plus the bare `owner/repo`
/// GitHub shorthand.
fn spec_source(range: &str) -> Option<String> {
    non_registry_source(range).or_else(|| {
        let repo = range.split('#').next().unwrap_or(range);
        let (owner, name) = repo.split_once('/')?;
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (plain(owner) && plain(name) && !owner.starts_with('.'))
            .then(|| format!("git+https://github.com/{range}"))
    })
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

/// `name` and the rest of `name@rest` (`@scope/name@^1.0.0`,
/// `name@npm:1.2.3`, `name@git+ssh://git@host/...`): split at the first `@`
/// after the first character, so a scope stays in the name. `None` when
/// there is no such `@`.
fn split_at_sign(spec: &str) -> Option<(&str, &str)> {
    let (i, _) = spec.char_indices().skip(1).find(|&(_, c)| c == '@')?;
    Some((&spec[..i], &spec[i + 1..]))
}

/// The package name in a spec such as `@scope/name@^1.0.0` or `name@npm:1.2.3`.
fn spec_name(spec: &str) -> &str {
    let spec = spec.trim().trim_matches('"');
    split_at_sign(spec).map_or(spec, |(name, _)| name)
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"').trim_matches('\'')
}

/// Decodes `%XX` escapes (yarn berry writes a patched package's locator
/// percent-encoded inside its own); anything malformed is kept as written.
fn percent_decode(s: &str) -> String {
    String::from_utf8(super::percent_decode(s)).unwrap_or_else(|_| s.to_owned())
}

/// What a yarn berry locator's reference (after `name@`) says of the
/// package's origin: `Err(())` for a workspace of the project itself,
/// `Ok(None)` for a registry release (`npm:`, and `patch:` over one),
/// `Ok(Some(source))` otherwise. Parameters after `::` and, for `file:`,
/// the `#path` that repeats the folder are not part of the source; a git
/// commit is written `#SHA`.
fn berry_source(reference: &str) -> Result<Option<String>, ()> {
    let reference = reference.split("::").next().unwrap_or(reference);
    if reference.starts_with("workspace:") {
        return Err(());
    }
    if let Some(patched) = reference.strip_prefix("patch:") {
        // `patch:NAME@ENCODED-REFERENCE#PATCH-FILES`: the patched package's
        // origin is the inner locator's.
        let inner = percent_decode(patched.split('#').next().unwrap_or(patched));
        return berry_source(split_at_sign(&inner).map_or("", |(_, r)| r));
    }
    if reference.starts_with("npm:") {
        return Ok(None);
    }
    if reference.starts_with("file:") {
        return Ok(Some(
            reference.split('#').next().unwrap_or(reference).to_owned(),
        ));
    }
    // `#commit=SHA` is berry's way of writing the commit: `#SHA`, as npm
    // and yarn classic write it (other parameters are kept as written).
    Ok(
        non_registry_source(reference).map(|s| match s.split_once("#commit=") {
            Some((repo, commit)) if !commit.contains('&') => format!("{repo}#{commit}"),
            _ => s,
        }),
    )
}

/// One entry of a `yarn.lock` while it is read.
struct YarnEntry {
    package: Package,
    /// The ranges of the header's specs (`^1.0.0`, `github:o/r`...).
    ranges: Vec<String>,
    /// Classic `resolved`.
    resolved: Option<String>,
    /// Berry `resolution` (a locator, `name@reference`).
    resolution: Option<String>,
}

/// `yarn.lock`, classic (v1) or berry (v2+, YAML).
///
/// Packages from git or a local folder keep that origin in
/// [`Package::source`]: classic entries by their `resolved` URL (`git+...`,
/// `git://...`, a commit archive on `codeload.github.com`, `file:...`) or,
/// without one, by the header's range (`foo@github:o/r`, `foo@o/r#ref`,
/// `foo@file:../x`, `foo@link:../x`); berry entries by their `resolution`
/// (`foo@https://github.com/o/r.git#commit=...`, `foo@git@host:...`,
/// `foo@file:...`, `foo@link:...`, `foo@portal:...`; `foo@patch:...` has the
/// origin of the package it patches). Workspaces (`foo@workspace:...`) are
/// the project itself and are not packages; `link:`/`portal:` entries keep
/// yarn's placeholder version (`0.0.0-use.local`).
pub fn parse_yarn_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out: Vec<Package> = Vec::new();
    let mut current: Option<YarnEntry> = None;
    let mut skip = false;
    let mut in_deps = false;
    let flush = |current: &mut Option<YarnEntry>,
                 out: &mut Vec<Package>,
                 skip: bool|
     -> Result<(), InputError> {
        let Some(e) = current.take() else {
            return Ok(());
        };
        let mut p = e.package;
        if skip {
            return Ok(());
        }
        let origin = match &e.resolution {
            Some(locator) => berry_source(split_at_sign(locator).map_or("", |(_, r)| r)),
            None => Ok(e.resolved.as_deref().and_then(non_registry_source)),
        };
        let from_ranges = || -> Result<Option<String>, ()> {
            for r in &e.ranges {
                if r.starts_with("workspace:") {
                    return Err(());
                }
                if let Some(s) = spec_source(r) {
                    return Ok(Some(s));
                }
            }
            Ok(None)
        };
        // The header tells when the entry itself does not (a classic
        // `file:` folder has no `resolved`).
        let origin = match origin {
            Ok(None) if e.resolved.is_none() && e.resolution.is_none() => from_ranges(),
            other => other,
        };
        let Ok(source) = origin else {
            return Ok(()); // a workspace of the project
        };
        if p.version.is_empty() {
            let mut err = InputError::new(file, format!("entry `{}` has no version", p.name))
                .field("version");
            err.line = p.line;
            return Err(err);
        }
        if source.is_none() && p.version.ends_with("-use.local") {
            return Ok(());
        }
        p.source = source;
        out.push(p);
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
            let specs: Vec<&str> = header.split(", ").map(unquote).collect();
            let first = specs.first().copied().unwrap_or(header);
            let name = spec_name(first);
            let ranges = specs
                .iter()
                .filter_map(|s| split_at_sign(s).map(|(_, r)| r.to_owned()))
                .collect();
            current = Some(YarnEntry {
                package: Package::new(Ecosystem::Npm, name, "", file).at(idx + 1),
                ranges,
                resolved: None,
                resolution: None,
            });
            continue;
        }
        let Some(e) = current.as_mut() else {
            return Err(InputError::new(file, "indented line outside an entry").at_line(idx + 1));
        };
        let p = &mut e.package;
        if indent == 2 {
            in_deps = false;
            let (key, value) = match line.split_once(':') {
                Some((k, v)) if !k.contains(' ') => (k, v),
                _ => line.split_once(' ').unwrap_or((line, "")),
            };
            match key {
                "version" => p.version = unquote(value).to_owned(),
                "integrity" => p.hashes.extend(integrity(unquote(value))),
                "resolved" => e.resolved = Some(unquote(value).to_owned()),
                "resolution" => e.resolution = Some(unquote(value).to_owned()),
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

/// The mapping `{a: 1, b: 'x'}` (or a block mapping's lines) as pairs.
fn flow_map(text: &str) -> Vec<(String, String)> {
    let inner = text.trim();
    let inner = inner
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(inner);
    inner
        .split(", ")
        .filter_map(|kv| {
            let (k, v) = kv.split_once(':')?;
            Some((unquote(k).to_owned(), unquote(v).to_owned()))
        })
        .collect()
}

/// A `packages:` entry of a `pnpm-lock.yaml` while it is read.
struct PnpmEntry {
    key: String,
    line: usize,
    name: Option<String>,
    version: Option<String>,
    resolution: Vec<(String, String)>,
}

/// A `link:` dependency of an importer (a project of the workspace).
struct PnpmLink {
    importer: String,
    name: String,
    target: String,
    line: usize,
}

/// `a/b` joined with `../c` and normalised (`a/c`); `.` for the root.
fn join_path(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in base.split('/').chain(rel.split('/')) {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// `name` and `version` of a v5 key (`name/version`, `@scope/name/version`,
/// peers after `_`).
fn split_v5(key: &str) -> Option<(&str, &str)> {
    let i = key.rfind('/')?;
    Some((
        &key[..i],
        key[i + 1..].split('_').next().unwrap_or_default(),
    ))
}

/// `pnpm-lock.yaml` (lockfile v5, v6 and v9): the entries of the top-level
/// `packages:` mapping, and the `link:` dependencies of the importers.
///
/// An entry's `name:` and `version:` fields, when present, win over its key
/// (pnpm writes them for packages whose key is not `name@version`). Packages
/// from git or a local folder keep that origin in [`Package::source`], from
/// their `resolution` (`{type: git, repo, commit}` as `git+REPO#COMMIT`,
/// `{directory}` and `{tarball: file:...}` as `file:...`, a commit archive
/// on a git host as `git+https://HOST/O/R.git#COMMIT`) or else from their
/// key (`foo@file:...`, `foo@git+...`). A `link:` dependency to a folder
/// that is not one of the lockfile's importers is a package whose version
/// and source are that `link:PATH`; links between importers are the
/// project's own workspace and are left out.
pub fn parse_pnpm_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    #[derive(PartialEq)]
    enum Section {
        Packages,
        Importers,
        /// v5/v6 single-project `dependencies:` and friends.
        RootDeps,
        Other,
    }
    let dep_section = |s: &str| {
        matches!(
            s,
            "dependencies:" | "devDependencies:" | "optionalDependencies:"
        )
    };
    let mut section = Section::Other;
    let mut major: Option<u32> = None;
    let mut entries: Vec<PnpmEntry> = Vec::new();
    let mut in_resolution_block = false;
    let mut importers: Vec<String> = Vec::new();
    let mut importer = String::from(".");
    let mut in_deps = false;
    let mut dep: Option<(String, usize)> = None;
    let mut links: Vec<PnpmLink> = Vec::new();
    let mut dep_value = |importer: &str, name: &str, value: &str, line: usize| {
        if let Some(target) = unquote(value).strip_prefix("link:") {
            links.push(PnpmLink {
                importer: importer.to_owned(),
                name: name.to_owned(),
                target: target.to_owned(),
                line,
            });
        }
    };
    for (idx, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            if let Some(v) = line.strip_prefix("lockfileVersion:") {
                let v = unquote(v);
                major = Some(
                    v.split('.')
                        .next()
                        .and_then(|m| m.parse().ok())
                        .ok_or_else(|| {
                            InputError::new(file, format!("unknown lockfile version `{v}`"))
                                .at_line(idx + 1)
                                .field("lockfileVersion")
                        })?,
                );
            }
            section = match line {
                "packages:" => Section::Packages,
                "importers:" => Section::Importers,
                l if dep_section(l) => {
                    if !importers.iter().any(|i| i == ".") {
                        importers.push(".".into());
                    }
                    importer = ".".into();
                    Section::RootDeps
                }
                _ => Section::Other,
            };
            dep = None;
            continue;
        }
        match section {
            Section::Packages => {
                if indent == 2 {
                    in_resolution_block = false;
                    let Some(key) = line.strip_suffix(':').or_else(|| line.strip_suffix(": {}"))
                    else {
                        continue;
                    };
                    entries.push(PnpmEntry {
                        key: unquote(key).to_owned(),
                        line: idx + 1,
                        name: None,
                        version: None,
                        resolution: Vec::new(),
                    });
                    continue;
                }
                let Some(e) = entries.last_mut() else {
                    continue;
                };
                if indent == 4 {
                    in_resolution_block = false;
                    let Some((k, v)) = line.split_once(':') else {
                        continue;
                    };
                    match k {
                        "resolution" if v.trim().is_empty() => in_resolution_block = true,
                        "resolution" => e.resolution = flow_map(v),
                        "name" => e.name = Some(unquote(v).to_owned()),
                        "version" => e.version = Some(unquote(v).to_owned()),
                        _ => {}
                    }
                } else if indent == 6 && in_resolution_block {
                    e.resolution.extend(flow_map(line));
                }
            }
            Section::Importers | Section::RootDeps => {
                // Importers nest one level deeper than the v5/v6 root.
                let base = if section == Section::Importers { 4 } else { 0 };
                if section == Section::Importers && indent == 2 {
                    let key = line
                        .strip_suffix(": {}")
                        .or_else(|| line.strip_suffix(':'))
                        .unwrap_or(line);
                    importer = unquote(key).to_owned();
                    importers.push(importer.clone());
                    in_deps = false;
                    dep = None;
                } else if indent == base && base > 0 {
                    in_deps = dep_section(line);
                    dep = None;
                } else if (in_deps || base == 0) && indent == base + 2 {
                    let (name, value) = line.split_once(':').unwrap_or((line, ""));
                    let name = unquote(name).to_owned();
                    if value.trim().is_empty() {
                        dep = Some((name, idx + 1));
                    } else {
                        // v5: `name: version`; v9 may write a flow mapping.
                        let value = flow_map(value)
                            .into_iter()
                            .find(|(k, _)| k == "version")
                            .map(|(_, v)| v)
                            .unwrap_or_else(|| value.to_owned());
                        dep_value(&importer, &name, &value, idx + 1);
                        dep = None;
                    }
                } else if indent == base + 4
                    && let Some((name, at)) = &dep
                    && let Some(v) = line.strip_prefix("version:")
                {
                    dep_value(&importer, name, v, *at);
                }
            }
            Section::Other => {}
        }
    }
    let Some(major) = major else {
        return Err(
            InputError::new(file, "not a pnpm lockfile (no `lockfileVersion:`)")
                .at_line(1)
                .field("lockfileVersion"),
        );
    };
    let mut out = Vec::new();
    for e in &entries {
        let key = e.key.strip_prefix('/').unwrap_or(&e.key);
        let key = key.split('(').next().unwrap_or(key);
        let from_key = if major >= 6 {
            split_at_sign(key).or_else(|| split_v5(key))
        } else {
            split_v5(key).or_else(|| split_at_sign(key))
        };
        let name = e
            .name
            .as_deref()
            .or(from_key.map(|(n, _)| n))
            .unwrap_or_default();
        let version = e
            .version
            .as_deref()
            .or(from_key.map(|(_, v)| v))
            .unwrap_or_default();
        if name.is_empty() || version.is_empty() {
            return Err(InputError::new(
                file,
                format!("cannot read a name and version from `{key}`"),
            )
            .at_line(e.line)
            .field("packages"));
        }
        let field = |k: &str| {
            e.resolution
                .iter()
                .find(|(rk, _)| rk == k)
                .map(|(_, v)| v.as_str())
        };
        let source = if field("type") == Some("git") {
            field("repo").map(|repo| {
                let repo = non_registry_source(repo)
                    .filter(|s| s.starts_with("git+"))
                    .unwrap_or_else(|| format!("git+{repo}"));
                let repo = repo.split('#').next().unwrap_or(&repo).to_owned();
                match field("commit") {
                    Some(c) => format!("{repo}#{c}"),
                    None => repo,
                }
            })
        } else if let Some(dir) = field("directory") {
            Some(format!("file:{dir}"))
        } else if let Some(tarball) = field("tarball") {
            non_registry_source(tarball)
        } else {
            None
        };
        let source = source.or_else(|| from_key.and_then(|(_, v)| non_registry_source(v)));
        let mut p = Package::new(Ecosystem::Npm, name, version, file).at(e.line);
        p.source = source;
        out.push(p);
    }
    let mut seen = std::collections::HashSet::new();
    for l in links {
        let target = join_path(&l.importer, &l.target);
        if importers.contains(&target) || !seen.insert((l.name.clone(), target)) {
            continue;
        }
        let spec = format!("link:{}", l.target);
        let mut p = Package::new(Ecosystem::Npm, &l.name, &spec, file).at(l.line);
        p.source = Some(spec);
        out.push(p);
    }
    Ok(out)
}
