//! Go (`go.mod`, `go.sum`), Maven (`pom.xml` declared versions,
//! `gradle.lockfile`), RubyGems (`Gemfile.lock`) and Packagist
//! (`composer.lock`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::{InputError, Package, from_json};
use crate::versions::Ecosystem;

/// The package name the Go vulnerability database uses for the standard library.
pub const GO_STDLIB: &str = "stdlib";

/// `go.mod`: `require` lines, single or in a block; `replace` directives
/// with a version replace the required module.
///
/// The standard library is a package too (`stdlib`, as the Go vulndb names
/// it), at the version of the `toolchain` directive when there is one, else
/// of the `go` directive: both are the oldest Go the module may be built
/// with, so a vulnerability fixed later is reported. `go 1.21` means release
/// 1.21.0 and `go 1.21rc2` the pre-release 1.21.0-rc.2 (the vulndb's
/// spelling); `toolchain default` and unreadable versions add no package.
pub fn parse_go_mod(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut required: Vec<Package> = Vec::new();
    let mut go_version: Option<(String, usize)> = None;
    let mut toolchain: Option<(String, usize)> = None;
    let mut replaces: HashMap<String, (String, String)> = HashMap::new();
    let mut block: Option<&str> = None;
    let mut saw_module = false;
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(b) = block {
            if line == ")" {
                block = None;
                continue;
            }
            directive(file, b, line, idx + 1, &mut required, &mut replaces)?;
            continue;
        }
        let (verb, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match verb {
            "module" => saw_module = true,
            "require" | "replace" | "exclude" | "retract" if rest == "(" => block = Some(verb),
            "require" | "replace" => {
                directive(file, verb, rest, idx + 1, &mut required, &mut replaces)?
            }
            "go" => go_version = go_release(rest).map(|v| (v, idx + 1)),
            "toolchain" => {
                toolchain = rest
                    .strip_prefix("go")
                    .and_then(go_release)
                    .map(|v| (v, idx + 1))
            }
            "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            _ => {
                return Err(
                    InputError::new(file, format!("unknown directive `{verb}`")).at_line(idx + 1)
                );
            }
        }
    }
    if !saw_module {
        return Err(InputError::new(file, "no `module` directive")
            .at_line(1)
            .field("module"));
    }
    for p in &mut required {
        if let Some((name, version)) = replaces.get(&p.name) {
            p.name = name.clone();
            p.version = version.clone();
        }
    }
    if let Some((version, line)) = toolchain.or(go_version) {
        required.push(Package::new(Ecosystem::Go, GO_STDLIB, &version, file).at(line));
    }
    Ok(required)
}

/// A Go release as the vulndb writes it: `1.21` → `1.21.0`, `1.21.3` as is,
/// `1.21rc2` → `1.21.0-rc.2`, `1.19beta1` → `1.19.0-beta.1`; `None` for
/// anything else.
pub fn go_release(text: &str) -> Option<String> {
    let text = text.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (numbers, pre) = text.split_at(split);
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut release = parts.join(".");
    for _ in parts.len()..3 {
        release.push_str(".0");
    }
    if pre.is_empty() {
        return Some(release);
    }
    let (word, n) = pre.split_at(pre.find(|c: char| c.is_ascii_digit())?);
    if !matches!(word, "rc" | "beta") || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{release}-{word}.{n}"))
}

fn directive(
    file: &str,
    verb: &str,
    line: &str,
    line_no: usize,
    required: &mut Vec<Package>,
    replaces: &mut HashMap<String, (String, String)>,
) -> Result<(), InputError> {
    let bad = |what: &str| {
        InputError::new(file, format!("malformed {verb}: {what}"))
            .at_line(line_no)
            .field(verb)
    };
    match verb {
        "require" => {
            let mut parts = line.split_whitespace();
            let (Some(module), Some(version)) = (parts.next(), parts.next()) else {
                return Err(bad("expected `module version`"));
            };
            if !version.starts_with('v') {
                return Err(bad(&format!("`{version}` is not a Go version (vX.Y.Z)")));
            }
            required.push(
                Package::new(
                    Ecosystem::Go,
                    module.trim_matches('"'),
                    version.trim_start_matches('v'),
                    file,
                )
                .at(line_no),
            );
        }
        "replace" => {
            let Some((old, new)) = line.split_once("=>") else {
                return Err(bad("expected `=>`"));
            };
            let old = old.split_whitespace().next().unwrap_or_default();
            let mut new = new.split_whitespace();
            if let (Some(module), Some(version)) = (new.next(), new.next()) {
                replaces.insert(
                    old.to_owned(),
                    (
                        module.to_owned(),
                        version.trim_start_matches('v').to_owned(),
                    ),
                );
            }
        }
        _ => {}
    }
    Ok(())
}

/// `go.sum`: one module per `module version hash` line (the `/go.mod`-only
/// lines name modules whose code is not in the build).
pub fn parse_go_sum(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out: Vec<Package> = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [module, version, hash] = parts[..] else {
            return Err(InputError::new(file, "expected `module version hash`").at_line(idx + 1));
        };
        if version.ends_with("/go.mod") {
            continue;
        }
        let mut p =
            Package::new(Ecosystem::Go, module, version.trim_start_matches('v'), file).at(idx + 1);
        if let Some(h) = hash.strip_prefix("h1:") {
            p.hashes.push(("h1".into(), h.into()));
        }
        out.push(p);
    }
    Ok(out)
}

/// `pom.xml`: declared `<dependency>` versions (also in
/// `<dependencyManagement>`), `${property}` resolved from `<properties>`
/// and `${project.version}`; versions that stay unresolved are left out.
pub fn parse_pom(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| InputError::new(file, e.to_string()).at_line(e.pos().row as usize))?;
    let root = doc.root_element();
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children()
            .find(|c| c.tag_name().name() == name)
            .and_then(|c| c.text())
            .map(|t| t.trim().to_owned())
    };
    let mut props: HashMap<String, String> = HashMap::new();
    if let Some(v) = child_text(root, "version") {
        props.insert("project.version".into(), v);
    }
    if let Some(p) = root
        .children()
        .find(|c| c.tag_name().name() == "properties")
    {
        for prop in p.children().filter(|c| c.is_element()) {
            props.insert(
                prop.tag_name().name().to_owned(),
                prop.text().unwrap_or_default().trim().to_owned(),
            );
        }
    }
    let resolve = |v: &str| -> Option<String> {
        let mut out = v.to_owned();
        for _ in 0..5 {
            let Some(start) = out.find("${") else {
                return Some(out);
            };
            let end = out[start..].find('}')? + start;
            let value = props.get(&out[start + 2..end])?;
            out.replace_range(start..=end, value);
        }
        None
    };
    let mut out = Vec::new();
    for dep in root
        .descendants()
        .filter(|n| n.tag_name().name() == "dependency")
    {
        let line = doc.text_pos_at(dep.range().start).row as usize;
        let (Some(group), Some(artifact)) =
            (child_text(dep, "groupId"), child_text(dep, "artifactId"))
        else {
            return Err(
                InputError::new(file, "<dependency> without groupId or artifactId")
                    .at_line(line)
                    .field("dependency"),
            );
        };
        let Some(version) = child_text(dep, "version").and_then(|v| resolve(&v)) else {
            continue;
        };
        // Ranges such as [1.0,2.0) are not exact versions.
        if version.starts_with(['[', '(']) {
            continue;
        }
        out.push(
            Package::new(
                Ecosystem::Maven,
                &format!("{group}:{artifact}"),
                &version,
                file,
            )
            .at(line),
        );
    }
    Ok(out)
}

/// `gradle.lockfile`: `group:artifact:version=configurations`.
pub fn parse_gradle_lockfile(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let coords = line.split('=').next().unwrap_or_default();
        let parts: Vec<&str> = coords.split(':').collect();
        let [group, artifact, version] = parts[..] else {
            return Err(
                InputError::new(file, format!("`{coords}` is not group:artifact:version"))
                    .at_line(idx + 1),
            );
        };
        out.push(
            Package::new(
                Ecosystem::Maven,
                &format!("{group}:{artifact}"),
                version,
                file,
            )
            .at(idx + 1),
        );
    }
    Ok(out)
}

/// `Gemfile.lock`: the `specs:` of `GEM` sections (`name (version[-platform])`).
pub fn parse_gemfile_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let mut out: Vec<Package> = Vec::new();
    let mut section = "";
    let mut in_specs = false;
    for (idx, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        if indent == 0 {
            section = line;
            in_specs = false;
            continue;
        }
        if indent == 2 {
            in_specs = line == "specs:";
            continue;
        }
        if section != "GEM" || !in_specs {
            continue;
        }
        let Some((name, rest)) = line.split_once(" (") else {
            if indent == 4 {
                return Err(InputError::new(
                    file,
                    format!("expected `name (version)`, found `{line}`"),
                )
                .at_line(idx + 1)
                .field("specs"));
            }
            continue;
        };
        if indent == 4 {
            let version = rest.trim_end_matches(')');
            // A platform suffix (`1.13.3-x86_64-linux`) is not part of the version.
            let version = version.split('-').next().unwrap_or(version);
            out.push(Package::new(Ecosystem::RubyGems, name, version, file).at(idx + 1));
        } else if indent == 6
            && let Some(p) = out.last_mut()
        {
            p.dependencies.push(name.to_owned());
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
struct ComposerLock {
    #[serde(default)]
    packages: Vec<ComposerPackage>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Vec<ComposerPackage>,
}

#[derive(Debug, Deserialize)]
struct ComposerPackage {
    name: String,
    version: String,
    dist: Option<ComposerDist>,
    #[serde(default)]
    license: Vec<String>,
    #[serde(default)]
    require: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct ComposerDist {
    shasum: Option<String>,
}

/// `composer.lock`: `packages` and `packages-dev`.
pub fn parse_composer_lock(file: &str, text: &str) -> Result<Vec<Package>, InputError> {
    let lock: ComposerLock = from_json(file, text)?;
    let mut out = Vec::new();
    for c in lock.packages.iter().chain(&lock.packages_dev) {
        let version = c.version.strip_prefix('v').unwrap_or(&c.version);
        let mut p = Package::new(Ecosystem::Packagist, &c.name, version, file);
        if let Some(sum) = c
            .dist
            .as_ref()
            .and_then(|d| d.shasum.clone())
            .filter(|s| !s.is_empty())
        {
            p.hashes.push(("SHA-1".into(), sum));
        }
        p.licenses = c.license.clone();
        p.dependencies = c
            .require
            .keys()
            .filter(|k| k.contains('/'))
            .cloned()
            .collect();
        out.push(p);
    }
    Ok(out)
}
