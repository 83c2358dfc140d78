//! Policy gates as code: Rego policies (regorus) over an input document
//! built from a run. The decision is allow, or deny with every violated
//! rule and the ids it is about.
//!
//! A pack is a set of Rego files; the gate reads `data.dso.gate.violations`
//! (a set of `{rule, message, ids}`). `test_` rules in any package of the
//! pack are its tests (`dso policy test`).

use serde::{Deserialize, Serialize};

/// The default pack: the gate and its tests.
pub const DEFAULT_PACK: &[(&str, &str)] = &[
    ("gate.rego", include_str!("../policy/gates/gate.rego")),
    (
        "gate_test.rego",
        include_str!("../policy/gates/gate_test.rego"),
    ),
];

/// The rule the gate reads.
pub const VIOLATIONS_RULE: &str = "data.dso.gate.violations";

/// One violated rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    pub message: String,
    /// The findings, secrets or tests it is about.
    #[serde(default)]
    pub ids: Vec<String>,
}

/// A gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateDecision {
    pub allow: bool,
    /// Sorted by rule, then ids.
    pub violations: Vec<Violation>,
}

/// A pack that does not load or evaluate; the message names file and line when regorus does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GateError(pub String);

/// The packs' files as (name, text).
pub type Pack = Vec<(String, String)>;

/// The default pack as owned files.
pub fn default_pack() -> Pack {
    DEFAULT_PACK
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn engine(pack: &Pack) -> Result<(regorus::Engine, Vec<(String, String)>), GateError> {
    let mut engine = regorus::Engine::new();
    let mut packages = Vec::new();
    for (name, text) in pack {
        let package = engine
            .add_policy(name.clone(), text.clone())
            .map_err(|e| GateError(one_line(&e.to_string())))?;
        packages.push((name.clone(), package));
    }
    Ok((engine, packages))
}

/// regorus reports `--> file:line:col`, a snippet, then `error: message`;
/// this makes it `file:line:col: message`.
fn one_line(report: &str) -> String {
    let place = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .map(str::trim);
    let message = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::trim);
    match (place, message) {
        (Some(p), Some(m)) => format!("{p}: {m}"),
        _ => report.trim().to_owned(),
    }
}

/// Evaluates the gate of `pack` over `input`.
pub fn evaluate(pack: &Pack, input: &serde_json::Value) -> Result<GateDecision, GateError> {
    let (mut engine, _) = engine(pack)?;
    let input = regorus::Value::from_json_str(&input.to_string())
        .map_err(|e| GateError(format!("input: {e}")))?;
    engine.set_input(input);
    let value = engine
        .eval_rule(VIOLATIONS_RULE.to_owned())
        .map_err(|e| GateError(e.to_string()))?;
    let json = value.to_json_str().map_err(|e| GateError(e.to_string()))?;
    // An undefined set (no rule body matched) is no violation.
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
    let mut violations: Vec<Violation> = match parsed {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|v| {
                serde_json::from_value(v.clone()).map_err(|e| {
                    GateError(format!(
                        "{VIOLATIONS_RULE}: `{v}` is not {{rule, message, ids}}: {e}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?,
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::String(s) if s == "<undefined>" => Vec::new(),
        other => {
            return Err(GateError(format!(
                "{VIOLATIONS_RULE} is `{other}`, not a set"
            )));
        }
    };
    violations.sort_by(|a, b| (&a.rule, &a.ids, &a.message).cmp(&(&b.rule, &b.ids, &b.message)));
    Ok(GateDecision {
        allow: violations.is_empty(),
        violations,
    })
}

/// The result of one `test_` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestOutcome {
    /// `data.<package>.test_<name>`
    pub name: String,
    pub file: String,
    pub passed: bool,
    /// Why it failed, when evaluation itself failed.
    pub error: Option<String>,
}

/// Runs every `test_` rule of the pack: a test passes when it is true.
pub fn run_tests(pack: &Pack) -> Result<Vec<TestOutcome>, GateError> {
    let (engine, packages) = engine(pack)?;
    let mut outcomes = Vec::new();
    for ((file, text), (_, package)) in pack.iter().zip(&packages) {
        // A test is a rule whose head starts a line: `test_name if { ... }`.
        let mut names: Vec<&str> = text
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                let end = l
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(l.len());
                let name = &l[..end];
                name.starts_with("test_").then_some(name)
            })
            .collect();
        names.dedup();
        for name in names {
            let rule = format!("{package}.{name}");
            let mut e = engine.clone();
            let (passed, error) = match e.eval_rule(rule.clone()) {
                Ok(v) => (v == regorus::Value::from(true), None),
                Err(err) => (false, Some(err.to_string())),
            };
            outcomes.push(TestOutcome {
                name: rule,
                file: file.clone(),
                passed,
                error,
            });
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean() -> serde_json::Value {
        serde_json::json!({
            "now": "2026-06-01T00:00:00.000000Z",
            "findings": [],
            "secrets": [],
            "tests": [{"name": "unit.a", "outcome": "passed"}],
            "coverage": 91.5,
            "sbom": true,
        })
    }

    #[test]
    fn default_pack_tests_pass() {
        let outcomes = run_tests(&default_pack()).unwrap();
        assert_eq!(outcomes.len(), 7, "{outcomes:?}");
        for o in &outcomes {
            assert!(o.passed, "{o:?}");
        }
    }

    /// The gate scenario: one critical SCA finding denies, naming it;
    /// accepted as a risk with an expiry it is allowed; after the expiry it
    /// is denied again.
    #[test]
    fn critical_finding_risk_acceptance_and_expiry() {
        let pack = default_pack();
        let mut input = clean();
        input["findings"] = serde_json::json!([
            {"id": "F-7", "tool": "sca", "title": "CVE-2026-1234 in left-pad 1.0.0", "severity": "critical", "state": "new"}
        ]);
        let d = evaluate(&pack, &input).unwrap();
        assert!(!d.allow);
        assert_eq!(d.violations.len(), 1);
        assert_eq!(d.violations[0].rule, "no-unwaived-critical-high");
        assert_eq!(d.violations[0].ids, ["F-7"]);
        assert!(
            d.violations[0].message.contains("critical finding F-7"),
            "{:?}",
            d.violations
        );

        input["findings"][0]["state"] = "accepted".into();
        input["findings"][0]["accepted_until"] = "2026-07-01T00:00:00.000000Z".into();
        assert_eq!(
            evaluate(&pack, &input).unwrap(),
            GateDecision {
                allow: true,
                violations: Vec::new()
            }
        );

        input["now"] = "2026-07-01T00:00:00.000001Z".into();
        let d = evaluate(&pack, &input).unwrap();
        assert!(!d.allow);
        let rules: Vec<&str> = d.violations.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(
            rules,
            ["no-expired-risk-acceptance", "no-unwaived-critical-high"]
        );
        assert!(d.violations.iter().all(|v| v.ids == ["F-7"]));
    }

    #[test]
    fn every_default_rule_fires() {
        let input = serde_json::json!({
            "now": "2026-06-01T00:00:00.000000Z",
            "findings": [{"id": "F-1", "severity": "high", "state": "confirmed"}, {"id": "F-2", "severity": "low", "state": "new"}],
            "secrets": [{"id": "S-1", "location": "a.env:1", "state": "new"}, {"id": "S-2", "state": "false-positive"}],
            "tests": [{"name": "t1", "outcome": "failed"}, {"name": "t2", "outcome": "passed"}],
            "coverage": 10,
            "config": {"coverage_min": 60},
        });
        let d = evaluate(&default_pack(), &input).unwrap();
        let got: Vec<(&str, Vec<&str>)> = d
            .violations
            .iter()
            .map(|v| (v.rule.as_str(), v.ids.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("all-tests-pass", vec!["t1"]),
                ("coverage", vec![]),
                ("no-secrets", vec!["S-1"]),
                ("no-unwaived-critical-high", vec!["F-1"]),
                ("sbom-present", vec![]),
            ]
        );
        assert!(
            d.violations[1].message.contains("below the required 60%"),
            "{:?}",
            d.violations[1]
        );
    }

    #[test]
    fn rego_errors_name_file_and_line() {
        let pack = vec![(
            "bad.rego".to_owned(),
            "package dso.gate\n\nviolations contains v if {\n  v := \n}\n".to_owned(),
        )];
        let err = evaluate(&pack, &clean()).unwrap_err();
        assert_eq!(err.0, "bad.rego:4:5: expecting `}` while parsing set");
        let pack = vec![(
            "t.rego".to_owned(),
            "package t\n\ntest_fails if { 1 == 2 }\ntest_ok if { true }\n".to_owned(),
        )];
        let outcomes = run_tests(&pack).unwrap();
        assert_eq!(
            outcomes
                .iter()
                .map(|o| (o.name.as_str(), o.passed))
                .collect::<Vec<_>>(),
            [("data.t.test_fails", false), ("data.t.test_ok", true)]
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for input in [
            serde_json::json!(null),
            serde_json::json!([1, 2]),
            serde_json::json!({"findings": "x", "tests": 3, "coverage": "high"}),
        ] {
            let _ = evaluate(&default_pack(), &input);
        }
    }
}
