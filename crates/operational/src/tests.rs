//! Tests of the operational domain: provenance signing and tamper detection,
//! approval rules, rollback choice, kubectl and manifest handling.

use crate::approval::{self, Refusal};
use crate::deploy::{self, Past, status};
use crate::env::{self, Environment, HealthCheck, Strategy, Target};
use crate::provenance::{self, Problem, ReleaseFacts};

fn facts() -> ReleaseFacts {
    ReleaseFacts {
        version: "1.0.0".into(),
        workspace_source: "dso://test".into(),
        run_id: 3,
        repo: "/src/product".into(),
        git_ref: "refs/heads/main".into(),
        commit_sha: "a".repeat(40),
        pipeline_file: "jobs: {}\n".into(),
        started_on: Some("2026-01-01T00:00:00.000000Z".into()),
        finished_on: None,
        artifacts: vec![
            ("out/app.bin".into(), "1".repeat(64)),
            ("out/app.tar".into(), "2".repeat(64)),
        ],
        byproducts: vec![("logs/build".into(), "3".repeat(64))],
    }
}

fn signed() -> (String, ed25519_dalek::VerifyingKey) {
    let secret = [7u8; 32];
    let envelope = provenance::sign(&provenance::statement(&facts()), &secret);
    let key = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
    (serde_json::to_string(&envelope).unwrap(), key)
}

#[test]
fn a_signed_statement_verifies_and_has_the_slsa_shape() {
    let (json, key) = signed();
    assert!(provenance::verify(&json, "1.0.0", &key, |d| Some(d.to_owned())).is_empty());
    let (envelope, statement) = provenance::open(&json).unwrap();
    assert_eq!(envelope.payload_type, "application/vnd.in-toto+json");
    let value = serde_json::to_value(&statement).unwrap();
    assert_eq!(value["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(value["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(value["subject"][0]["name"], "out/app.bin");
    assert_eq!(
        value["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        "a".repeat(40)
    );
    assert_eq!(
        value["predicate"]["runDetails"]["builder"]["id"],
        "dso://test/runner"
    );
    assert_eq!(
        value["predicate"]["runDetails"]["byproducts"][0]["name"],
        "logs/build"
    );
}

#[test]
fn pae_follows_dsse() {
    assert_eq!(
        provenance::pae("t", b"hello"),
        b"DSSEv1 1 t 5 hello".to_vec()
    );
}

#[test]
fn an_altered_artifact_is_named() {
    let (json, key) = signed();
    let problems = provenance::verify(&json, "1.0.0", &key, |d| {
        if d.starts_with('2') {
            Some("f".repeat(64))
        } else {
            Some(d.to_owned())
        }
    });
    assert_eq!(
        problems,
        vec![Problem::ArtifactAltered {
            artifact: "out/app.tar".into(),
            expected: "2".repeat(64),
            actual: "f".repeat(64)
        }]
    );
    assert!(problems[0].to_string().contains("out/app.tar"));
    let missing = provenance::verify(&json, "1.0.0", &key, |_| None);
    assert_eq!(missing.len(), 2);
}

#[test]
fn a_changed_payload_or_another_key_breaks_the_signature() {
    let (json, key) = signed();
    let mut envelope: provenance::Envelope = serde_json::from_str(&json).unwrap();
    let (_, mut statement) = provenance::open(&json).unwrap();
    statement.subject[0]
        .digest
        .insert("sha256".into(), "9".repeat(64));
    use base64::Engine as _;
    envelope.payload =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&statement).unwrap());
    let forged = serde_json::to_string(&envelope).unwrap();
    let problems = provenance::verify(&forged, "1.0.0", &key, |d| Some(d.to_owned()));
    assert_eq!(problems, vec![Problem::BadSignature]);
    let other = ed25519_dalek::SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert_eq!(
        provenance::verify(&json, "1.0.0", &other, |d| Some(d.to_owned())),
        vec![Problem::BadSignature]
    );
    assert_eq!(
        provenance::verify(&json, "2.0.0", &key, |d| Some(d.to_owned())),
        vec![Problem::WrongRelease {
            statement: "1.0.0".into()
        }]
    );
    assert!(matches!(
        provenance::verify("{not json", "1.0.0", &key, |_| None)[..],
        [Problem::Malformed { .. }]
    ));
}

#[test]
fn approvals_refuse_the_requester_and_users_without_the_role() {
    let prod = env::defaults().pop().unwrap();
    assert_eq!(prod.name, "production");
    assert_eq!(prod.approvals_needed(), 1);
    let roles = vec!["release-engineer".to_owned()];
    assert_eq!(
        approval::check(&prod, "alice", "alice", &roles, &[]),
        Err(Refusal::Requester {
            user: "alice".into()
        })
    );
    assert!(matches!(
        approval::check(&prod, "alice", "bob", &["developer".into()], &[]),
        Err(Refusal::MissingRole { .. })
    ));
    assert_eq!(approval::check(&prod, "alice", "bob", &roles, &[]), Ok(()));
    assert!(matches!(
        approval::check(&prod, "alice", "bob", &roles, &["bob".into()]),
        Err(Refusal::AlreadyApproved { .. })
    ));
}

#[test]
fn rollback_returns_to_the_newest_good_other_version() {
    let past = |id, v: &str, s: &str| Past {
        id,
        version: v.into(),
        status: s.into(),
    };
    let history = vec![
        past(1, "1", status::SUCCEEDED),
        past(2, "2", status::SUCCEEDED),
        past(3, "3", status::FAILED),
    ];
    assert_eq!(deploy::rollback_target(&history, "3").as_deref(), Some("2"));
    assert_eq!(deploy::rollback_target(&history, "2").as_deref(), Some("1"));
    assert_eq!(deploy::rollback_target(&history[..1], "1"), None);
    assert_eq!(deploy::current(&history).map(|p| p.id), Some(2));
}

#[test]
fn kubectl_and_manifests() {
    let target = Target::Kubectl {
        manifests: "k8s".into(),
        context: Some("kind".into()),
        namespace: None,
    };
    assert_eq!(
        deploy::kubectl_command(&target, "/d/k8s").unwrap(),
        ["kubectl", "--context", "kind", "apply", "-f", "/d/k8s"]
    );
    let arts = vec![("out/app.bin".to_owned(), "ab".repeat(32))];
    assert_eq!(
        deploy::substitute_digests("image: app@{{digest:out/app.bin}}\n", &arts).unwrap(),
        format!("image: app@sha256:{}\n", "ab".repeat(32))
    );
    assert!(deploy::substitute_digests("{{digest:nope}}", &arts).is_err());
    assert!(deploy::substitute_digests("{{digest:x", &arts).is_err());
    assert_eq!(deploy::steps(Strategy::Stepped { steps: 3 }), 3);
    assert_eq!(deploy::steps(Strategy::AllAtOnce), 1);
}

#[test]
fn health_checks_and_names_parse() {
    assert_eq!(
        HealthCheck::parse("http://127.0.0.1:8080/health#204").unwrap(),
        HealthCheck::Http {
            url: "http://127.0.0.1:8080/health".into(),
            expect_status: 204,
            expect_body: None,
        }
    );
    assert_eq!(
        HealthCheck::parse("tcp://localhost:5432")
            .unwrap()
            .display(),
        "tcp://localhost:5432"
    );
    assert_eq!(
        HealthCheck::parse("https://x/h").unwrap().display(),
        "https://x/h"
    );
    // Stored before `expect_body`, `retries` and `ca_file` existed: still read.
    let old: env::Health = serde_json::from_str(
        r#"{"checks":[{"kind":"http","url":"http://h/","expect_status":200}],"timeout_s":5}"#,
    )
    .unwrap();
    assert_eq!((old.retries, old.ca_file), (None, None));
    assert!(HealthCheck::parse("tcp://nohost").is_err());
    assert!(HealthCheck::parse("http://x#999").is_err());
    assert!(env::check_name("staging-2").is_ok());
    assert!(env::check_name("Prod").is_err());
    assert!(env::check_name("").is_err());
    let _ = Environment::new("x");
}
