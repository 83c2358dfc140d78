//! Lifecycle and reconciliation rules.

use super::{Known, Status, reconcile};

fn known(fp: &str, status: Status, expires: Option<&str>) -> Known {
    Known {
        fingerprint: fp.into(),
        status,
        expires: expires.map(str::to_owned),
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

#[test]
fn reconcile_new_unchanged_fixed_reopened() {
    let now = "2026-11-27T12:00:00.000000Z";
    let held = vec![
        known("a", Status::New, None),
        known("b", Status::Confirmed, None),
        known("c", Status::Fixed, None),
        known("d", Status::AcceptedRisk, Some("2026-01-01T00:00:00Z")),
        known("e", Status::AcceptedRisk, Some("2027-01-01T00:00:00Z")),
        known("f", Status::FalsePositive, None),
    ];
    let r = reconcile(&held, &s(&["a", "c", "d", "e", "f", "g", "g"]), now);
    let mut t: Vec<(String, Option<Status>, Status)> = r
        .transitions
        .iter()
        .map(|t| (t.fingerprint.clone(), t.from, t.to))
        .collect();
    t.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        t,
        vec![
            ("b".into(), Some(Status::Confirmed), Status::Fixed),
            ("c".into(), Some(Status::Fixed), Status::Reopened),
            ("d".into(), Some(Status::AcceptedRisk), Status::Reopened),
            ("g".into(), None, Status::New),
        ]
    );
    assert_eq!(r.unchanged, s(&["a", "e", "f"]));
}

#[test]
fn triage_rules() {
    assert!(Status::New.can_triage_to(Status::Confirmed));
    assert!(Status::Reopened.can_triage_to(Status::AcceptedRisk));
    assert!(Status::Confirmed.can_triage_to(Status::FalsePositive));
    assert!(
        !Status::New.can_triage_to(Status::Fixed),
        "fixed is automatic"
    );
    assert!(!Status::New.can_triage_to(Status::Reopened));
    assert!(!Status::Fixed.can_triage_to(Status::Confirmed));
    assert!(!Status::Confirmed.can_triage_to(Status::Confirmed));
    assert_eq!(Status::parse("false-positive"), Some(Status::FalsePositive));
    assert_eq!(Status::parse("done"), None);
}

#[test]
fn openvex_statements_parse_apply_and_export() {
    use super::vex::{Exported, VexStatus, parse, write};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let text = std::fs::read_to_string(dir.join("vex/not-affected.openvex.json")).expect("fixture");
    let statements = parse("vex.json", &text).expect("parses");
    assert_eq!(statements.len(), 2);
    let tokio = &statements[0];
    assert_eq!(tokio.status, VexStatus::NotAffected);
    let ids = ["RUSTSEC-2021-0124", "CVE-2021-45710"];
    assert!(tokio.applies(&ids, "pkg:cargo/tokio@1.5.0"));
    assert!(
        !tokio.applies(&ids, "pkg:cargo/tokio@1.6.0"),
        "another version"
    );
    assert!(
        !tokio.applies(&["RUSTSEC-2023-0005"], "pkg:cargo/tokio@1.5.0"),
        "another vulnerability"
    );
    assert!(
        tokio.applies(&["GHSA-FG7R-2G4J-5CGR"], "pkg:cargo/tokio@1.5.0"),
        "alias, any case"
    );
    // A product without a version covers every version.
    assert!(statements[1].applies(&["CVE-2019-20477"], "pkg:pypi/pyyaml@5.1"));
    assert!(
        tokio
            .reason()
            .contains("vulnerable_code_not_in_execute_path")
    );

    let doc = write(
        &[Exported {
            vulnerability: "RUSTSEC-2021-0124".into(),
            aliases: vec!["CVE-2021-45710".into()],
            purl: "pkg:cargo/tokio@1.5.0".into(),
            status: VexStatus::NotAffected,
            impact_statement: Some("not reachable".into()),
            action_statement: None,
        }],
        "https://dso.invalid/vex/1",
        "alice",
        "2026-11-27T00:00:00Z",
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("schemas/openvex.schema.json")).expect("schema"),
    )
    .expect("json");
    let validator = jsonschema::validator_for(&schema).expect("compiles");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut broken = doc.clone();
    broken["statements"][0]["status"] = "maybe".into();
    assert!(!validator.is_valid(&broken));
    let back = parse("ours.json", &doc.to_string()).expect("our own document parses");
    assert!(back[0].applies(&["CVE-2021-45710"], "pkg:cargo/tokio@1.5.0"));

    for (text, needle) in [
        (r#"{"statements": []}"#, "field `@context`"),
        (
            r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "X"}, "products": ["p"]}]}"#,
            "statements[0].status",
        ),
        (
            r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "X"}, "status": "fixed"}]}"#,
            "statements[0].products",
        ),
        (
            r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": "X", "products": ["p"], "status": "not_affected"}]}"#,
            "statements[0].justification",
        ),
    ] {
        let err = parse("vex.json", text).expect_err(text).to_string();
        assert!(err.contains(needle), "`{err}` lacks `{needle}`");
    }
}

/// atty 0.2.14 against RUSTSEC-2021-0145 (limited to Windows), as a real
/// scan of `platform/Cargo.lock` reports it.
pub(crate) fn windows_only_finding() -> crate::sca::ScaFinding {
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let advisories = crate::advisories::load::load_path(&data.join("advisories/rustsec"))
        .expect("fixture")
        .advisories;
    let rel = "platform/Cargo.lock";
    let text = std::fs::read_to_string(data.join("lockfiles").join(rel)).expect("fixture");
    let packages =
        crate::lockfiles::parse(crate::lockfiles::LockKind::CargoLock, rel, &text).expect("parses");
    let mut found = crate::sca::Index::new(advisories).scan(&packages);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.remove(0)
}

#[test]
fn sca_platform_limits_are_kept_outside_the_fingerprint() {
    use super::Finding;
    let sca = windows_only_finding();
    assert_eq!(
        (sca.package.as_str(), sca.advisory.as_str()),
        ("atty", "RUSTSEC-2021-0145")
    );
    let f = Finding::from_sca(&sca);
    // SHA-256 of "sca\0platform/Cargo.lock\0crates.io\0atty\00.2.14\0RUSTSEC-2021-0145",
    // computed outside this code base: the fingerprint findings stored before
    // platforms were kept have, so they still match.
    assert_eq!(
        f.fingerprint,
        "7aa605ffdd6ed3354192d302aef7b6456f407ee386d8d38aff36ff64b15c739c"
    );
    assert_eq!(
        f.properties.get("platforms"),
        Some(&serde_json::json!({ "os": ["windows"] }))
    );
    // An architecture limit too, or no limit at all: the same fingerprint.
    let mut both = sca.clone();
    both.arch = vec!["x86".into()];
    let g = Finding::from_sca(&both);
    assert_eq!(g.fingerprint, f.fingerprint);
    assert_eq!(
        g.properties["platforms"],
        serde_json::json!({ "os": ["windows"], "arch": ["x86"] })
    );
    let mut everywhere = sca;
    everywhere.os.clear();
    let h = Finding::from_sca(&everywhere);
    assert_eq!(h.fingerprint, f.fingerprint);
    assert!(
        !h.properties.contains_key("platforms"),
        "{:?}",
        h.properties
    );
    // The limits survive the store's serialised form.
    let stored: Finding =
        serde_json::from_str(&serde_json::to_string(&f).expect("serialises")).expect("parses");
    assert_eq!(stored.properties["platforms"]["os"][0], "windows");
}
