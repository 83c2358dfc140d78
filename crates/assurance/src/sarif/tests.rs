//! SARIF import on real semgrep and clippy logs; export validated against
//! the official SARIF 2.1.0 schema.

use std::path::PathBuf;

use super::{parse, write};
use crate::advisories::Severity;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(data(rel)).expect("fixture")
}

#[test]
fn semgrep_log_imports_with_stable_fingerprints() {
    let a = parse("semgrep.sarif", &read("sarif/semgrep/semgrep.sarif")).expect("parses");
    assert_eq!(a.tools, vec!["Semgrep OSS".to_owned()]);
    assert_eq!(a.findings.len(), 5);
    let shell = a
        .findings
        .iter()
        .find(|f| f.rule == "py-subprocess-shell-true")
        .expect("shell=True result");
    assert_eq!(shell.file.as_deref(), Some("app/handler.py"));
    assert_eq!(shell.line, Some(9));
    assert_eq!(
        shell.severity,
        Severity::High,
        "semgrep ERROR is level error"
    );
    // Semgrep's placeholder fingerprint is the same on every result: not used.
    let mut fps: Vec<&str> = a.findings.iter().map(|f| f.fingerprint.as_str()).collect();
    fps.sort_unstable();
    fps.dedup();
    assert_eq!(fps.len(), 5, "distinct fingerprints");

    // The same code three lines lower: same fingerprints, new lines.
    let b = parse(
        "shifted.sarif",
        &read("sarif/semgrep/semgrep-shifted.sarif"),
    )
    .expect("parses");
    assert_eq!(b.findings.len(), 5);
    for f in &a.findings {
        let g = b
            .findings
            .iter()
            .find(|g| g.fingerprint == f.fingerprint)
            .unwrap_or_else(|| panic!("{} moved but kept its fingerprint", f.rule));
        assert_eq!(g.line, f.line.map(|l| l + 3));
    }
}

#[test]
fn malformed_logs_name_file_line_and_field() {
    for (file, needle) in [
        ("wrong-version.sarif", "field `version`"),
        ("no-runs.sarif", "runs"),
        ("no-message-text.sarif", "runs[0].results[0].message.text"),
        ("no-rule.sarif", "runs[0].results[0].ruleId"),
        ("line-not-a-number.sarif", "startLine"),
        ("truncated.sarif", ":1"),
    ] {
        let err = parse(file, &read(&format!("sarif/bad/{file}")))
            .expect_err(file)
            .to_string();
        assert!(err.starts_with(file), "{err}");
        assert!(err.contains(needle), "{file}: `{err}` lacks `{needle}`");
    }
}

#[test]
fn written_logs_validate_against_the_sarif_schema_and_round_trip() {
    let schema: serde_json::Value =
        serde_json::from_str(&read("schemas/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("the official schema compiles");
    let imported = parse("semgrep.sarif", &read("sarif/semgrep/semgrep.sarif")).expect("parses");
    let log = write(&imported.findings, "0.0.0");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Reading our own log back gives the same rules, files and lines.
    let text = serde_json::to_string(&log).expect("serialises");
    let back = parse("dso.sarif", &text).expect("our own log parses");
    assert_eq!(back.findings.len(), imported.findings.len());
    for (x, y) in back.findings.iter().zip(&imported.findings) {
        assert_eq!((&x.rule, &x.file, x.line), (&y.rule, &y.file, y.line));
        assert_eq!(x.severity, y.severity);
    }
    // An invalid document is caught by the same validator (the test can fail).
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn clippy_log_imports_with_stable_fingerprints() {
    let a = parse("clippy.sarif", &read("sarif/clippy/clippy.sarif")).expect("parses");
    assert_eq!(a.tools, vec!["clippy".to_owned()]);
    let rules: Vec<&str> = a.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"clippy::needless_return"), "{rules:?}");
    assert!(rules.contains(&"clippy::ptr_arg"), "{rules:?}");
    let ret = a
        .findings
        .iter()
        .find(|f| f.rule == "clippy::needless_return")
        .expect("found");
    assert_eq!(ret.file.as_deref(), Some("src/main.rs"));
    assert_eq!(ret.line, Some(8));
    assert_eq!(ret.severity, Severity::Medium, "clippy warnings");
    let b = parse("shifted.sarif", &read("sarif/clippy/clippy-shifted.sarif")).expect("parses");
    assert_eq!(a.findings.len(), b.findings.len());
    for f in &a.findings {
        let g = b
            .findings
            .iter()
            .find(|g| g.fingerprint == f.fingerprint)
            .unwrap_or_else(|| panic!("{} kept its fingerprint", f.rule));
        assert_eq!(g.line, f.line.map(|l| l + 3), "{}", f.rule);
    }
}

#[test]
fn sca_results_carry_their_platform_limits() {
    let finding =
        crate::findings::Finding::from_sca(&crate::findings::tests::windows_only_finding());
    let log = write(&[finding], "0.0.0");
    let schema: serde_json::Value =
        serde_json::from_str(&read("schemas/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("the official schema compiles");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "RUSTSEC-2021-0145");
    assert_eq!(
        result["properties"]["platforms"],
        serde_json::json!({ "os": ["windows"] })
    );
}
