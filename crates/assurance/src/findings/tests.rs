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
