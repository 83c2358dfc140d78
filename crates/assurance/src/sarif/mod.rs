//! SARIF 2.1.0: reading any tool's log into [`Finding`]s, and writing
//! dso's own findings as a log.
//!
//! Reading is generic and lenient (unknown properties are ignored): every
//! run's `tool.driver.name` is the scanner; the rule comes from `ruleId`,
//! `rule.id` or `ruleIndex`; the severity from the rule's
//! `security-severity` property when present (GitHub's convention), else
//! the result's or the rule's default `level`; CWEs from the rule's tags
//! (`CWE-89`, `external/cwe/cwe-089`) or `cwe` property; the location from
//! the first physical location, resolving `artifactLocation.index`.
//! Results whose `kind` is `pass`/`notApplicable`, whose `baselineState`
//! is `absent`, or that carry an accepted suppression are not findings.
//!
//! Fingerprint: the tool's own `fingerprints`, else its
//! `partialFingerprints`, else a digest of tool, rule, file, the region's
//! snippet (whitespace-collapsed) or message text, and the occurrence
//! number among identical ones. Never the line number, so it survives
//! code moving up or down.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::advisories::{InputError, Severity};
use crate::findings::{Finding, digest, normalize_snippet};

#[derive(Debug, Deserialize)]
struct Log {
    version: String,
    runs: Vec<Run>,
}

#[derive(Debug, Deserialize)]
struct Run {
    tool: Tool,
    #[serde(default)]
    results: Option<Vec<ResultItem>>,
    #[serde(default)]
    artifacts: Option<Vec<Artifact>>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Debug, Deserialize)]
struct Driver {
    name: String,
    #[serde(default)]
    rules: Option<Vec<Rule>>,
}

#[derive(Debug, Deserialize)]
struct Rule {
    id: String,
    name: Option<String>,
    #[serde(rename = "shortDescription")]
    short_description: Option<Text>,
    #[serde(rename = "defaultConfiguration")]
    default_configuration: Option<Configuration>,
    #[serde(rename = "messageStrings")]
    message_strings: Option<BTreeMap<String, Text>>,
    #[serde(default)]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Text {
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Message {
    text: Option<String>,
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Artifact {
    location: Option<ArtifactLocation>,
}

#[derive(Debug, Deserialize)]
struct ArtifactLocation {
    uri: Option<String>,
    index: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct RuleRef {
    id: Option<String>,
    index: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct ResultItem {
    #[serde(rename = "ruleId")]
    rule_id: Option<String>,
    #[serde(rename = "ruleIndex")]
    rule_index: Option<usize>,
    rule: Option<RuleRef>,
    level: Option<String>,
    kind: Option<String>,
    message: Message,
    #[serde(default)]
    locations: Option<Vec<Location>>,
    fingerprints: Option<BTreeMap<String, String>>,
    #[serde(rename = "partialFingerprints")]
    partial_fingerprints: Option<BTreeMap<String, String>>,
    #[serde(rename = "baselineState")]
    baseline_state: Option<String>,
    #[serde(default)]
    suppressions: Option<Vec<Suppression>>,
}

#[derive(Debug, Deserialize)]
struct Suppression {
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Location {
    #[serde(rename = "physicalLocation")]
    physical_location: Option<PhysicalLocation>,
}

#[derive(Debug, Deserialize)]
struct PhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Debug, Deserialize)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: Option<u64>,
    #[serde(rename = "startColumn")]
    start_column: Option<u64>,
    snippet: Option<Text>,
}

/// What a SARIF log held.
#[derive(Debug, Default)]
pub struct Imported {
    pub findings: Vec<Finding>,
    /// Results that are not findings (passes, absent, suppressed).
    pub passed_over: usize,
    /// Tool names, one per run.
    pub tools: Vec<String>,
}

fn level_severity(level: &str) -> Severity {
    match level {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "note" => Severity::Low,
        "none" => Severity::None,
        _ => Severity::Unknown,
    }
}

/// `CWE-89` from `CWE-89: SQL Injection`, `external/cwe/cwe-089` or `cwe-79`.
fn cwe_of(tag: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let idx = lower.find("cwe-")?;
    let digits: String = lower[idx + 4..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let n: u32 = digits.parse().ok()?;
    Some(format!("CWE-{n}"))
}

fn uri_to_path(uri: &str) -> String {
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    path.replace("%20", " ")
}

/// Parses a SARIF 2.1.0 log named `file`.
pub fn parse(file: &str, text: &str) -> Result<Imported, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let log: Log =
        serde_path_to_error::deserialize(&mut de).map_err(|e| InputError::from_json(file, e))?;
    if log.version != "2.1.0" {
        return Err(InputError::new(
            file,
            format!(
                "SARIF version `{}` is not supported (expected 2.1.0)",
                log.version
            ),
        )
        .field("version"));
    }
    let mut out = Imported::default();
    for (run_idx, run) in log.runs.into_iter().enumerate() {
        let tool = run.tool.driver.name.clone();
        out.tools.push(tool.clone());
        let rules = run.tool.driver.rules.unwrap_or_default();
        let rule_by_id: HashMap<&str, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let artifacts = run.artifacts.unwrap_or_default();
        let mut occurrences: HashMap<String, usize> = HashMap::new();
        let results = run.results.unwrap_or_default();
        // Tools' fingerprints are only trusted when unique within the run:
        // semgrep without a login writes `"matchBasedId/v1": "requires login"`
        // on every result.
        let mut fp_counts: HashMap<(&str, &str), usize> = HashMap::new();
        for r in &results {
            for (k, v) in r.fingerprints.iter().flatten() {
                *fp_counts.entry((k.as_str(), v.as_str())).or_insert(0) += 1;
            }
        }
        let unique_fp = |r: &ResultItem| -> Option<(String, String)> {
            r.fingerprints
                .iter()
                .flatten()
                .find(|(k, v)| fp_counts.get(&(k.as_str(), v.as_str())) == Some(&1))
                .map(|(k, v)| (k.clone(), v.clone()))
        };
        let unique_fps: Vec<Option<(String, String)>> = results.iter().map(unique_fp).collect();
        for (res_idx, r) in results.into_iter().enumerate() {
            let field = |f: &str| format!("runs[{run_idx}].results[{res_idx}].{f}");
            if matches!(
                r.kind.as_deref(),
                Some("pass" | "notApplicable" | "informational")
            ) || r.baseline_state.as_deref() == Some("absent")
                || r.suppressions
                    .iter()
                    .flatten()
                    .any(|s| s.status.as_deref().is_none_or(|st| st == "accepted"))
            {
                out.passed_over += 1;
                continue;
            }
            let rule_idx = r
                .rule_index
                .or_else(|| r.rule.as_ref().and_then(|x| x.index))
                .or_else(|| {
                    let id = r
                        .rule_id
                        .as_deref()
                        .or(r.rule.as_ref().and_then(|x| x.id.as_deref()))?;
                    rule_by_id.get(id).copied()
                });
            let rule = rule_idx.and_then(|i| rules.get(i));
            let Some(rule_id) = r
                .rule_id
                .clone()
                .or_else(|| r.rule.as_ref().and_then(|x| x.id.clone()))
                .or_else(|| rule.map(|x| x.id.clone()))
            else {
                return Err(InputError::new(
                    file,
                    "a result names no rule (ruleId, rule.id or ruleIndex)",
                )
                .field(field("ruleId")));
            };
            let message = r
                .message
                .text
                .clone()
                .or_else(|| {
                    let id = r.message.id.as_deref()?;
                    rule?.message_strings.as_ref()?.get(id)?.text.clone()
                })
                .ok_or_else(|| {
                    InputError::new(file, "a result has no message text")
                        .field(field("message.text"))
                })?;
            let props = rule.and_then(|x| x.properties.as_ref());
            let security_severity = props
                .and_then(|p| p.get("security-severity"))
                .and_then(|v| {
                    v.as_str()
                        .and_then(|s| s.parse::<f64>().ok())
                        .or(v.as_f64())
                });
            let level = r
                .level
                .clone()
                .or_else(|| rule.and_then(|x| x.default_configuration.as_ref()?.level.clone()))
                .unwrap_or_else(|| "warning".into());
            let severity =
                security_severity.map_or_else(|| level_severity(&level), Severity::from_score);
            let mut cwes: Vec<String> = Vec::new();
            if let Some(p) = props {
                let tags = p
                    .get("tags")
                    .and_then(|t| t.as_array())
                    .cloned()
                    .unwrap_or_default();
                let cwe_prop = p.get("cwe").cloned().into_iter().flat_map(|v| match v {
                    serde_json::Value::Array(a) => a,
                    other => vec![other],
                });
                for t in tags.into_iter().chain(cwe_prop) {
                    if let Some(c) = t.as_str().and_then(cwe_of)
                        && !cwes.contains(&c)
                    {
                        cwes.push(c);
                    }
                }
            }
            let physical = r
                .locations
                .iter()
                .flatten()
                .find_map(|l| l.physical_location.as_ref());
            let artifact = physical.and_then(|p| p.artifact_location.as_ref());
            let uri = artifact.and_then(|a| {
                a.uri
                    .clone()
                    .or_else(|| artifacts.get(a.index?)?.location.as_ref()?.uri.clone())
            });
            let file_path = uri.as_deref().map(uri_to_path);
            let region = physical.and_then(|p| p.region.as_ref());
            let snippet = region
                .and_then(|g| g.snippet.as_ref()?.text.clone())
                .map(|s| normalize_snippet(&s));
            let fingerprint = if let Some((k, v)) = &unique_fps[res_idx] {
                digest(&[&tool, &rule_id, file_path.as_deref().unwrap_or(""), k, v])
            } else if let Some(pfp) = r.partial_fingerprints.as_ref().filter(|m| !m.is_empty()) {
                let joined: Vec<String> = pfp.iter().map(|(k, v)| format!("{k}={v}")).collect();
                digest(&[
                    &tool,
                    &rule_id,
                    file_path.as_deref().unwrap_or(""),
                    &joined.join("\n"),
                ])
            } else {
                let content = snippet
                    .clone()
                    .unwrap_or_else(|| normalize_snippet(&message));
                let base = digest(&[
                    &tool,
                    &rule_id,
                    file_path.as_deref().unwrap_or(""),
                    &content,
                ]);
                let n = occurrences.entry(base.clone()).or_insert(0);
                *n += 1;
                digest(&[&base, &n.to_string()])
            };
            let mut properties = serde_json::Map::new();
            properties.insert("message".into(), message.clone().into());
            properties.insert("level".into(), level.clone().into());
            if let Some(s) = &snippet {
                properties.insert("snippet".into(), s.clone().into());
            }
            let title = rule
                .and_then(|x| x.short_description.as_ref()?.text.clone())
                .filter(|t| !t.is_empty())
                .or_else(|| rule.and_then(|x| x.name.clone()))
                .map(|t| format!("{t}: {message}"))
                .unwrap_or(message);
            out.findings.push(Finding {
                fingerprint,
                scanner: tool.clone(),
                rule: rule_id,
                title: title.lines().next().unwrap_or_default().to_owned(),
                severity,
                cwes,
                file: file_path,
                line: region.and_then(|g| g.start_line),
                column: region.and_then(|g| g.start_column),
                package: None,
                version: None,
                activity: "static-analysis".into(),
                properties,
            });
        }
    }
    Ok(out)
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Unknown => "warning",
        Severity::Low => "note",
        Severity::None => "none",
    }
}

/// Writes findings as a SARIF 2.1.0 log from the tool `dso`, one rule per
/// distinct rule id. Each result's `properties` are its finding's (for SCA:
/// `ecosystem`, `aliases`, `fixed`, `cvss_score`, `informational` and the
/// advisory's `platforms` limits).
pub fn write(findings: &[Finding], tool_version: &str) -> serde_json::Value {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    let mut rule_index: HashMap<&str, usize> = HashMap::new();
    for f in findings {
        if rule_index.contains_key(f.rule.as_str()) {
            continue;
        }
        rule_index.insert(&f.rule, rules.len());
        let mut tags: Vec<String> = vec!["security".into()];
        tags.extend(f.cwes.iter().cloned());
        let mut props = serde_json::json!({ "tags": tags });
        if let Some(score) = f.properties.get("cvss_score") {
            props["security-severity"] = serde_json::Value::String(score.to_string());
        }
        rules.push(serde_json::json!({
            "id": f.rule,
            "shortDescription": { "text": f.title },
            "defaultConfiguration": { "level": sarif_level(f.severity) },
            "properties": props,
        }));
    }
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let mut region = serde_json::Map::new();
            if let Some(line) = f.line {
                region.insert("startLine".into(), line.into());
            }
            let mut location = serde_json::json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": f.file.clone().unwrap_or_default() },
                }
            });
            if !region.is_empty() {
                location["physicalLocation"]["region"] = serde_json::Value::Object(region);
            }
            let text = match (&f.package, &f.version) {
                (Some(p), Some(v)) => {
                    let fixed = f
                        .properties
                        .get("fixed")
                        .and_then(|x| x.as_str())
                        .map(|x| format!("; fixed in {x}"))
                        .unwrap_or_default();
                    format!("{p} {v} is affected by {}: {}{fixed}", f.rule, f.title)
                }
                _ => f.title.clone(),
            };
            serde_json::json!({
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule.as_str()],
                "level": sarif_level(f.severity),
                "message": { "text": text },
                "locations": [location],
                "partialFingerprints": { "dso/v1": f.fingerprint },
                "properties": serde_json::Value::Object(f.properties.clone()),
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "dso",
                "version": tool_version,
                "rules": rules,
            }},
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests;
