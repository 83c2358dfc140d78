//! SARIF 2.1.0 logs (via `serde-sarif`) for dso's own scanners.
//!
//! Scanner-neutral: the secret scanner and the SAST scanner both describe
//! their rules as [`SarifRule`]s and their findings as [`SarifResult`]s; the
//! findings store imports these logs like any other tool's SARIF.

use std::collections::BTreeMap;

use serde_sarif::sarif;

use super::{CWE, SecretFinding, rules::RULES};

/// A rule as SARIF describes it (`tool.driver.rules[]`).
#[derive(Debug, Clone)]
pub struct SarifRule {
    pub id: String,
    pub description: String,
    /// `error`, `warning` or `note`.
    pub level: &'static str,
    /// `CWE-nnn` ids.
    pub cwes: Vec<String>,
    /// Extra rule properties (e.g. the SAST disposition).
    pub properties: BTreeMap<String, serde_json::Value>,
}

/// A finding as SARIF describes it (`runs[].results[]`).
#[derive(Debug, Clone)]
pub struct SarifResult {
    pub rule_id: String,
    pub level: &'static str,
    pub message: String,
    /// Relative, `/`-separated.
    pub path: String,
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    /// `partialFingerprints` entries.
    pub fingerprints: BTreeMap<String, String>,
    pub properties: BTreeMap<String, serde_json::Value>,
}

/// Builds a SARIF 2.1.0 log with one run of the tool `name`.
pub fn log(name: &str, rules: &[SarifRule], results: &[SarifResult]) -> sarif::Sarif {
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let descriptors: Vec<sarif::ReportingDescriptor> = rules
        .iter()
        .map(|r| {
            let mut props = r.properties.clone();
            props.insert("cwe".into(), serde_json::json!(r.cwes));
            let tags: Vec<String> = std::iter::once("security".to_owned())
                .chain(
                    r.cwes
                        .iter()
                        .map(|c| format!("external/cwe/{}", c.to_lowercase())),
                )
                .collect();
            sarif::ReportingDescriptor::builder()
                .id(r.id.clone())
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(r.description.clone())
                        .build(),
                )
                .default_configuration(
                    sarif::ReportingConfiguration::builder()
                        .level(serde_json::json!(r.level))
                        .build(),
                )
                .properties(
                    sarif::PropertyBag::builder()
                        .tags(tags)
                        .additional_properties(props)
                        .build(),
                )
                .build()
        })
        .collect();
    let results: Vec<sarif::Result> = results
        .iter()
        .map(|r| {
            let mut region = sarif::Region::builder()
                .start_line(r.start_line as i64)
                .start_column(r.start_column as i64)
                .build();
            region.end_line = r.end_line.map(|l| l as i64);
            region.end_column = r.end_column.map(|c| c as i64);
            let location = sarif::Location::builder()
                .physical_location(
                    sarif::PhysicalLocation::builder()
                        .artifact_location(
                            sarif::ArtifactLocation::builder()
                                .uri(r.path.clone())
                                .uri_base_id("%SRCROOT%")
                                .build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let mut result = sarif::Result::builder()
                .rule_id(r.rule_id.clone())
                .level(level(r.level))
                .message(sarif::Message::builder().text(r.message.clone()).build())
                .locations(vec![location])
                .build();
            result.rule_index = index.get(r.rule_id.as_str()).map(|&i| i as i64);
            if !r.fingerprints.is_empty() {
                result.partial_fingerprints = Some(r.fingerprints.clone());
            }
            if !r.properties.is_empty() {
                result.properties = Some(
                    sarif::PropertyBag::builder()
                        .additional_properties(r.properties.clone())
                        .build(),
                );
            }
            result
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name(name)
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(descriptors)
        .build();
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .build();
    sarif::Sarif::builder()
        .schema(sarif::SCHEMA_URL)
        .version(serde_json::json!("2.1.0"))
        .runs(vec![run])
        .build()
}

fn level(level: &str) -> sarif::ResultLevel {
    match level {
        "error" => sarif::ResultLevel::Error,
        "warning" => sarif::ResultLevel::Warning,
        "none" => sarif::ResultLevel::None,
        _ => sarif::ResultLevel::Note,
    }
}

/// The SARIF log of a secret scan: every built-in rule, one result per finding.
pub fn secrets_log(findings: &[SecretFinding]) -> sarif::Sarif {
    let rules: Vec<SarifRule> = RULES
        .iter()
        .map(|r| SarifRule {
            id: r.id.to_owned(),
            description: r.description.to_owned(),
            level: "error",
            cwes: vec![CWE.to_owned()],
            properties: BTreeMap::new(),
        })
        .collect();
    let results: Vec<SarifResult> = findings
        .iter()
        .map(|f| {
            let mut properties = BTreeMap::new();
            properties.insert("redacted".into(), serde_json::json!(f.redacted));
            properties.insert("entropy".into(), serde_json::json!(f.entropy));
            if let Some(commit) = &f.commit {
                properties.insert("commit".into(), serde_json::json!(commit));
            }
            SarifResult {
                rule_id: f.rule_id.clone(),
                level: "error",
                message: format!("{} ({})", f.description, f.redacted),
                path: f.path.clone(),
                start_line: f.line,
                start_column: f.column,
                end_line: None,
                end_column: None,
                fingerprints: BTreeMap::from([("dsoSecret/v1".to_owned(), f.fingerprint.clone())]),
                properties,
            }
        })
        .collect();
    log("dso-secrets", &rules, &results)
}
