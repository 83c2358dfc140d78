//! Software bills of materials: writing CycloneDX 1.6 JSON and SPDX 2.3
//! JSON from lockfile packages, reading CycloneDX 1.4–1.6 and SPDX 2.3 JSON
//! back into packages (through their package URLs), and package URLs.
//!
//! Written documents carry each package's purl, the hashes the lockfile
//! records (hex digests only: the formats require hex), licences where the
//! lockfile names them, and the dependency graph where it is known.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::advisories::InputError;
use crate::lockfiles::Package;
use crate::versions::Ecosystem;

/// Percent-decodes a purl segment.
fn decode(s: &str) -> String {
    String::from_utf8_lossy(&crate::lockfiles::percent_decode(s)).into_owned()
}

/// Parses a package URL into (ecosystem, name, version). Types other than
/// the ecosystems dso matches give `None`.
pub fn parse_purl(purl: &str) -> Option<(Ecosystem, String, String)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split('#').next()?;
    let rest = rest.split('?').next()?;
    let (ty, path) = rest.split_once('/')?;
    let (path, version) = path.rsplit_once('@')?;
    let version = decode(version);
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let (name, ns) = segments.split_last()?;
    let (namespace, name) = (ns.join("/"), name.clone());
    let joined = if namespace.is_empty() {
        name.clone()
    } else {
        format!("{namespace}/{name}")
    };
    let (eco, full) = match ty.to_ascii_lowercase().as_str() {
        "cargo" => (Ecosystem::CratesIo, name),
        "npm" => (Ecosystem::Npm, joined),
        "pypi" => (Ecosystem::PyPI, name),
        "golang" => (Ecosystem::Go, joined),
        "maven" => (Ecosystem::Maven, format!("{namespace}:{name}")),
        "gem" => (Ecosystem::RubyGems, name),
        "composer" => (Ecosystem::Packagist, joined),
        _ => return None,
    };
    if full.is_empty() || version.is_empty() {
        return None;
    }
    Some((eco, full, version))
}

fn is_hex(s: &str) -> bool {
    matches!(s.len(), 32 | 40 | 64 | 96 | 128) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Components by purl, first occurrence wins; and a lookup from
/// `name` / `name version` to purl for dependency edges.
fn unique(packages: &[Package]) -> (Vec<&Package>, HashMap<String, String>) {
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    let mut by_name: HashMap<String, String> = HashMap::new();
    for p in packages {
        let purl = p.purl();
        if seen.insert(purl.clone(), ()).is_none() {
            by_name
                .entry(p.name.clone())
                .or_insert_with(|| purl.clone());
            by_name.insert(format!("{} {}", p.name, p.version), purl);
            out.push(p);
        }
    }
    (out, by_name)
}

/// Resolves a lockfile dependency entry (`name`, `name version`,
/// `name version (source)`) to a purl of the document.
fn resolve_dep(dep: &str, by_name: &HashMap<String, String>) -> Option<String> {
    let mut parts = dep.split_whitespace();
    let name = parts.next()?;
    match parts.next() {
        Some(version) => by_name.get(&format!("{name} {version}")).cloned(),
        None => by_name.get(name).cloned(),
    }
}

/// A CycloneDX 1.6 JSON BOM.
pub fn cyclonedx(
    packages: &[Package],
    subject: &str,
    timestamp: &str,
    serial_uuid: &str,
    tool_version: &str,
) -> Value {
    let (unique, by_name) = unique(packages);
    let components: Vec<Value> = unique
        .iter()
        .map(|p| {
            let purl = p.purl();
            let mut c = json!({
                "type": "library",
                "bom-ref": purl,
                "name": p.name,
                "version": p.version,
                "purl": purl,
            });
            let hashes: Vec<Value> = p
                .hashes
                .iter()
                .filter(|(alg, h)| {
                    is_hex(h) && ["SHA-1", "SHA-256", "SHA-384", "SHA-512"].contains(&alg.as_str())
                })
                .map(|(alg, h)| json!({"alg": alg, "content": h.to_ascii_lowercase()}))
                .collect();
            if !hashes.is_empty() {
                c["hashes"] = Value::Array(hashes);
            }
            if !p.licenses.is_empty() {
                c["licenses"] = Value::Array(
                    p.licenses
                        .iter()
                        .map(|l| json!({"license": {"name": l}}))
                        .collect(),
                );
            }
            c
        })
        .collect();
    let mut dependencies: Vec<Value> = Vec::new();
    for p in &unique {
        let mut depends: Vec<String> = p
            .dependencies
            .iter()
            .filter_map(|d| resolve_dep(d, &by_name))
            .collect();
        depends.sort();
        depends.dedup();
        dependencies.push(json!({"ref": p.purl(), "dependsOn": depends}));
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial_uuid}"),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {"components": [{"type": "application", "name": "dso", "version": tool_version}]},
            "component": {"type": "application", "bom-ref": "root", "name": subject},
        },
        "components": components,
        "dependencies": dependencies,
    })
}

fn spdx_id(n: usize) -> String {
    format!("SPDXRef-Package-{n}")
}

/// An SPDX 2.3 JSON document.
pub fn spdx(
    packages: &[Package],
    subject: &str,
    timestamp: &str,
    namespace_uuid: &str,
    tool_version: &str,
) -> Value {
    let (unique, by_name) = unique(packages);
    let index: HashMap<String, usize> = unique
        .iter()
        .enumerate()
        .map(|(i, p)| (p.purl(), i))
        .collect();
    let spdx_packages: Vec<Value> = unique
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut v = json!({
                "SPDXID": spdx_id(i),
                "name": p.name,
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "externalRefs": [{
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": p.purl(),
                }],
            });
            let sums: Vec<Value> = p
                .hashes
                .iter()
                .filter(|(_, h)| is_hex(h))
                .filter_map(|(alg, h)| {
                    let alg = match alg.as_str() {
                        "SHA-1" => "SHA1",
                        "SHA-256" => "SHA256",
                        "SHA-384" => "SHA384",
                        "SHA-512" => "SHA512",
                        _ => return None,
                    };
                    Some(json!({"algorithm": alg, "checksumValue": h.to_ascii_lowercase()}))
                })
                .collect();
            if !sums.is_empty() {
                v["checksums"] = Value::Array(sums);
            }
            v
        })
        .collect();
    let mut relationships = Vec::new();
    for (i, p) in unique.iter().enumerate() {
        relationships.push(json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": spdx_id(i),
        }));
        let mut deps: Vec<usize> = p
            .dependencies
            .iter()
            .filter_map(|d| resolve_dep(d, &by_name))
            .filter_map(|purl| index.get(&purl).copied())
            .collect();
        deps.sort_unstable();
        deps.dedup();
        for j in deps {
            relationships.push(json!({
                "spdxElementId": spdx_id(i),
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": spdx_id(j),
            }));
        }
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": subject,
        "documentNamespace": format!("https://spdx.org/spdxdocs/dso-{namespace_uuid}"),
        "creationInfo": {"created": timestamp, "creators": [format!("Tool: dso-{tool_version}")]},
        "packages": spdx_packages,
        "relationships": relationships,
    })
}

/// Reads a CycloneDX (1.4–1.6) or SPDX 2.3 JSON document into packages.
/// Components without a purl of a known ecosystem are counted in the
/// second value, not returned.
pub fn parse(file: &str, text: &str) -> Result<(Vec<Package>, usize), InputError> {
    let doc: Value = crate::lockfiles::from_json(file, text)?;
    let mut out = Vec::new();
    let mut unknown = 0;
    let mut push = |purl: Option<&str>, out: &mut Vec<Package>| match purl.and_then(parse_purl) {
        Some((eco, name, version)) => {
            out.push(Package::new(eco, &name, &version, file));
        }
        None => unknown += 1,
    };
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let spec = doc
            .get("specVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !["1.4", "1.5", "1.6"].contains(&spec) {
            return Err(InputError::new(
                file,
                format!("CycloneDX {spec:?} is not supported (1.4 to 1.6)"),
            )
            .field("specVersion"));
        }
        fn walk(list: &[Value], f: &mut dyn FnMut(Option<&str>)) {
            for c in list {
                f(c.get("purl").and_then(Value::as_str));
                if let Some(inner) = c.get("components").and_then(Value::as_array) {
                    walk(inner, f);
                }
            }
        }
        let list = match doc.get("components") {
            None => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => {
                return Err(InputError::new(file, "must be a list").field("components"));
            }
        };
        walk(&list, &mut |purl| push(purl, &mut out));
    } else if let Some(version) = doc.get("spdxVersion").and_then(Value::as_str) {
        if version != "SPDX-2.3" && version != "SPDX-2.2" {
            return Err(
                InputError::new(file, format!("{version} is not supported (SPDX-2.3)"))
                    .field("spdxVersion"),
            );
        }
        let packages = doc
            .get("packages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, p) in packages.iter().enumerate() {
            let refs = p
                .get("externalRefs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let purl = refs
                .iter()
                .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                .and_then(|r| r.get("referenceLocator").and_then(Value::as_str));
            if p.get("name").and_then(Value::as_str).is_none() {
                return Err(InputError::new(file, "a package has no name")
                    .field(format!("packages[{i}].name")));
            }
            push(purl, &mut out);
        }
    } else {
        return Err(InputError::new(
            file,
            "neither a CycloneDX BOM (bomFormat) nor an SPDX document (spdxVersion)",
        )
        .at_line(1));
    }
    Ok((out, unknown))
}

/// Counts of packages per ecosystem (for summaries).
pub fn count_by_ecosystem(packages: &[Package]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for p in packages {
        *out.entry(p.ecosystem.as_str().to_owned()).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests;
