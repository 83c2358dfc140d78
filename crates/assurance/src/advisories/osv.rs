//! OSV records (schema 1.x) as JSON or YAML, read leniently: unknown fields
//! are ignored, versions written as YAML numbers are accepted as text.

use serde::{Deserialize, Deserializer};

use super::{Advisory, Affected, InputError, Range, RangeEvent, RangeKind, Severity};
use crate::versions::Ecosystem;

/// Text that YAML may have written as a number (`introduced: 0`).
#[derive(Debug, Clone, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Any {
            S(String),
            U(u64),
            I(i64),
            F(f64),
        }
        Ok(Text(match Any::deserialize(d)? {
            Any::S(s) => s,
            Any::U(n) => n.to_string(),
            Any::I(n) => n.to_string(),
            Any::F(n) => n.to_string(),
        }))
    }
}

#[derive(Debug, Deserialize)]
pub struct OsvRecord {
    pub id: String,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub modified: Option<Text>,
    pub published: Option<Text>,
    pub withdrawn: Option<Text>,
    #[serde(default)]
    pub severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    pub affected: Option<Vec<OsvAffected>>,
    #[serde(default)]
    pub references: Option<Vec<OsvReference>>,
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct OsvSeverity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Deserialize)]
pub struct OsvAffected {
    pub package: Option<OsvPackage>,
    #[serde(default)]
    pub ranges: Option<Vec<OsvRange>>,
    #[serde(default)]
    pub versions: Option<Vec<Text>>,
    #[serde(default)]
    pub severity: Option<Vec<OsvSeverity>>,
    pub database_specific: Option<serde_json::Value>,
    pub ecosystem_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
pub struct OsvPackage {
    pub ecosystem: String,
    pub name: String,
    pub purl: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OsvRange {
    #[serde(rename = "type")]
    pub kind: String,
    pub events: Vec<OsvEvent>,
}

#[derive(Debug, Deserialize)]
pub struct OsvEvent {
    pub introduced: Option<Text>,
    pub fixed: Option<Text>,
    pub last_affected: Option<Text>,
    pub limit: Option<Text>,
}

#[derive(Debug, Deserialize)]
pub struct OsvReference {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub url: String,
}

/// What one file yielded.
#[derive(Debug)]
pub enum Parsed {
    Advisory(Box<Advisory>),
    Withdrawn(String),
}

/// Parses an OSV JSON document: one record (or a list of records, as some
/// exports write).
pub fn parse_json(file: &str, text: &str) -> Result<Vec<Parsed>, InputError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let mut de = serde_json::Deserializer::from_str(text);
        let records: Vec<OsvRecord> = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| InputError::from_json(file, e))?;
        records.into_iter().map(|r| convert(file, r)).collect()
    } else {
        let mut de = serde_json::Deserializer::from_str(text);
        let record: OsvRecord = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| InputError::from_json(file, e))?;
        Ok(vec![convert(file, record)?])
    }
}

/// Parses an OSV YAML document (the PyPA advisory-database format).
pub fn parse_yaml(file: &str, text: &str) -> Result<Vec<Parsed>, InputError> {
    let record: OsvRecord =
        serde_saphyr::from_str(text).map_err(|e| InputError::from_yaml(file, &e))?;
    Ok(vec![convert(file, record)?])
}

/// Converts one record, checking what the matcher relies on.
pub fn convert(file: &str, r: OsvRecord) -> Result<Parsed, InputError> {
    if r.id.trim().is_empty() {
        return Err(InputError::new(file, "must not be empty").field("id"));
    }
    if r.withdrawn.as_ref().is_some_and(|w| !w.0.trim().is_empty()) {
        return Ok(Parsed::Withdrawn(r.id));
    }
    let mut vectors = Vec::new();
    let mut severity = Severity::Unknown;
    let mut add_severity = |list: &Option<Vec<OsvSeverity>>| {
        for s in list.iter().flatten() {
            if s.kind.starts_with("CVSS") {
                vectors.push(s.score.clone());
            } else if let Some(word) = Severity::parse(&s.score) {
                severity = severity.max(word);
            }
        }
    };
    add_severity(&r.severity);
    let mut affected = Vec::new();
    for (i, a) in r.affected.iter().flatten().enumerate() {
        add_severity(&a.severity);
        let Some(package) = &a.package else {
            // Git-only entries (no package) cannot be matched against lockfiles.
            continue;
        };
        let mut ranges = Vec::new();
        for (j, range) in a.ranges.iter().flatten().enumerate() {
            let kind = match range.kind.as_str() {
                "SEMVER" => RangeKind::Semver,
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "GIT" => RangeKind::Git,
                other => {
                    return Err(InputError::new(
                        file,
                        format!("unknown range type `{other}` (expected SEMVER, ECOSYSTEM or GIT)"),
                    )
                    .field(format!("affected[{i}].ranges[{j}].type")));
                }
            };
            let mut events = Vec::new();
            for (k, e) in range.events.iter().enumerate() {
                let event = match (&e.introduced, &e.fixed, &e.last_affected, &e.limit) {
                    (Some(v), None, None, None) => RangeEvent::Introduced(v.0.clone()),
                    (None, Some(v), None, None) => RangeEvent::Fixed(v.0.clone()),
                    (None, None, Some(v), None) => RangeEvent::LastAffected(v.0.clone()),
                    (None, None, None, Some(v)) => RangeEvent::Limit(v.0.clone()),
                    _ => {
                        return Err(InputError::new(
                            file,
                            "an event has exactly one of introduced, fixed, last_affected, limit",
                        )
                        .field(format!("affected[{i}].ranges[{j}].events[{k}]")));
                    }
                };
                events.push(event);
            }
            ranges.push(Range { kind, events });
        }
        affected.push(Affected {
            ecosystem: Ecosystem::parse(&package.ecosystem),
            name: package.name.clone(),
            ranges,
            versions: a.versions.iter().flatten().map(|v| v.0.clone()).collect(),
            cargo: None,
            os: affects(&a.ecosystem_specific, "os"),
            arch: affects(&a.ecosystem_specific, "arch"),
        });
    }
    let mut cwes = Vec::new();
    if let Some(ds) = &r.database_specific {
        if let Some(list) = ds.get("cwe_ids").and_then(|v| v.as_array()) {
            cwes.extend(list.iter().filter_map(|c| c.as_str().map(str::to_owned)));
        }
        if let Some(word) = ds
            .get("severity")
            .and_then(|v| v.as_str())
            .and_then(Severity::parse)
        {
            severity = severity.max(word);
        }
    }
    let mut advisory = Advisory {
        id: r.id,
        aliases: r.aliases.unwrap_or_default(),
        summary: r.summary.unwrap_or_default(),
        details: r.details.unwrap_or_default(),
        published: r.published.map(|t| t.0),
        modified: r.modified.map(|t| t.0),
        severity,
        cvss_score: None,
        cvss_vectors: vectors,
        cwes,
        informational: None,
        affected,
        references: r.references.into_iter().flatten().map(|r| r.url).collect(),
        sources: vec![file.to_owned()],
    };
    advisory.score();
    Ok(Parsed::Advisory(Box::new(advisory)))
}

/// `ecosystem_specific.affects.<key>` (RustSec's platform limits as osv.dev
/// exports them): the listed names, empty when absent.
fn affects(ecosystem_specific: &Option<serde_json::Value>, key: &str) -> Vec<String> {
    ecosystem_specific
        .as_ref()
        .and_then(|v| v.get("affects"))
        .and_then(|v| v.get(key))
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
