# dso's default gate pack: a run may proceed when no rule is violated.
#
# The input document (built from a run, or given with `dso gate eval --input`):
#   now        RFC 3339 UTC time, fixed width (2026-11-27T13:00:00.000000Z)
#   findings   [{id, title, tool, severity, state, accepted_until}]
#              severity: critical | high | medium | low | info
#              state: new | confirmed | false-positive | accepted | fixed
#   secrets    [{id, location, state}]
#   tests      [{name, outcome}]   outcome: passed | failed | skipped
#   coverage   line coverage in percent, or absent
#   sbom       true when an SBOM was produced
#   trace      [{requirement, status}]  (not judged by this pack)
#   config     {coverage_min}      default 80; 0: coverage is not required
#
# Every violation names its rule and the ids (findings, secrets, tests) it is about.
package dso.gate

blocking_severities := {"critical", "high"}

coverage_min := object.get(object.get(input, "config", {}), "coverage_min", 80)

# A finding or secret is waived when it is a false positive, fixed, or an
# accepted risk whose acceptance has not expired.
waived(f) if f.state in {"false-positive", "fixed"}

waived(f) if {
	f.state == "accepted"
	f.accepted_until > input.now
}

violations contains v if {
	some f in object.get(input, "findings", [])
	f.severity in blocking_severities
	not waived(f)
	v := {
		"rule": "no-unwaived-critical-high",
		"message": sprintf("%s finding %s is neither fixed nor an accepted risk: %s", [f.severity, f.id, object.get(f, "title", "")]),
		"ids": [f.id],
	}
}

violations contains v if {
	some f in object.get(input, "findings", [])
	f.state == "accepted"
	not f.accepted_until > input.now
	v := {
		"rule": "no-expired-risk-acceptance",
		"message": sprintf("the risk acceptance of %s expired (until %s)", [f.id, object.get(f, "accepted_until", "no expiry given")]),
		"ids": [f.id],
	}
}

violations contains v if {
	some s in object.get(input, "secrets", [])
	not waived(s)
	v := {
		"rule": "no-secrets",
		"message": sprintf("secret %s at %s", [s.id, object.get(s, "location", "an unknown place")]),
		"ids": [s.id],
	}
}

violations contains v if {
	failed := [t.name | some t in object.get(input, "tests", []); t.outcome == "failed"]
	count(failed) > 0
	v := {"rule": "all-tests-pass", "message": sprintf("%d test(s) failed", [count(failed)]), "ids": failed}
}

violations contains v if {
	count(object.get(input, "tests", [])) == 0
	v := {"rule": "all-tests-pass", "message": "no test results", "ids": []}
}

violations contains v if {
	not is_number(object.get(input, "coverage", null))
	coverage_min > 0
	v := {"rule": "coverage", "message": "no coverage measured", "ids": []}
}

violations contains v if {
	is_number(input.coverage)
	input.coverage < coverage_min
	v := {"rule": "coverage", "message": sprintf("coverage %v%% is below the required %v%%", [input.coverage, coverage_min]), "ids": []}
}

violations contains v if {
	object.get(input, "sbom", false) != true
	v := {"rule": "sbom-present", "message": "no SBOM was produced", "ids": []}
}

default allow := false

allow if count(violations) == 0
