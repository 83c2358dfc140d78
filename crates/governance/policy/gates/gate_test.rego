# Tests of the default gate pack; `dso policy test` runs every `test_` rule.
package dso.gate_test

import data.dso.gate

clean := {
	"now": "2026-06-01T00:00:00.000000Z",
	"findings": [{"id": "F-2", "severity": "low", "state": "new"}],
	"secrets": [],
	"tests": [{"name": "a", "outcome": "passed"}],
	"coverage": 90,
	"sbom": true,
}

critical := {"id": "F-1", "title": "CVE-2026-1 in libfoo", "severity": "critical", "state": "new"}

rules(doc) := {v.rule | some v in gate.violations with input as doc}

test_clean_run_is_allowed if {
	gate.allow with input as clean
}

test_critical_finding_denies if {
	doc := object.union(clean, {"findings": [critical]})
	not gate.allow with input as doc
	rules(doc) == {"no-unwaived-critical-high"}
}

test_accepted_risk_allows_until_expiry if {
	accepted := object.union(critical, {"state": "accepted", "accepted_until": "2026-07-01T00:00:00.000000Z"})
	gate.allow with input as object.union(clean, {"findings": [accepted]})
	late := object.union(clean, {"findings": [accepted], "now": "2026-08-01T00:00:00.000000Z"})
	rules(late) == {"no-unwaived-critical-high", "no-expired-risk-acceptance"}
}

test_secrets_failures_coverage_and_sbom if {
	doc := object.union(clean, {
		"secrets": [{"id": "S-1", "location": "config.py:3", "state": "new"}],
		"tests": [{"name": "t1", "outcome": "failed"}],
		"coverage": 50,
		"sbom": false,
	})
	rules(doc) == {"no-secrets", "all-tests-pass", "coverage", "sbom-present"}
}

test_missing_evidence_denies if {
	rules({"now": "2026-06-01T00:00:00.000000Z"}) == {"all-tests-pass", "coverage", "sbom-present"}
}

test_null_coverage_is_one_violation if {
	vs := gate.violations with input as object.union(clean, {"coverage": null})
	[v | some v in vs; v.rule == "coverage"] == [{"rule": "coverage", "message": "no coverage measured", "ids": []}]
}

test_coverage_not_required_when_minimum_is_zero if {
	doc := object.union(clean, {"coverage": null, "config": {"coverage_min": 0}})
	gate.allow with input as doc
	low := object.union(clean, {"coverage": 10, "config": {"coverage_min": 0}})
	gate.allow with input as low
}
