//! Environments, signed releases, deployments with the integrity check,
//! approvals, health checks and rollback, end to end with the real binary,
//! real runs and a real HTTP service on loopback.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Dso;
use crate::pipeline::{git, repo};

const PIPELINE: &str = r#"
jobs:
  build:
    activity: build
    run: |
      mkdir -p out
      cp app.txt out/app.bin
      echo "manifest of $(cat app.txt)" > out/manifest.txt
    artifacts: [out/app.bin, out/manifest.txt]
"#;

/// A workspace with releases `1` and `2` made from two successful runs of two commits.
pub(crate) fn two_releases() -> (Dso, PathBuf) {
    releases_in(Dso::init())
}

fn releases_in(dso: Dso) -> (Dso, PathBuf) {
    let product = repo(&dso, PIPELINE, &[("app.txt", "release one\n")]);
    dso.ok(&["run", "--repo", product.to_str().unwrap()]);
    dso.ok(&["release", "create", "1", "--run", "1"]);
    std::fs::write(product.join("app.txt"), "release two\n").unwrap();
    git(&product, &["commit", "-qam", "PROJ-8: second release"]);
    dso.ok(&["run", "--repo", product.to_str().unwrap()]);
    dso.ok(&["release", "create", "2", "--run", "2"]);
    (dso, product)
}

/// A tiny HTTP service on 127.0.0.1: answers `handler(path)` until stopped.
pub(crate) struct Service {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Service {
    pub fn start(port: u16, handler: impl Fn(&str) -> (u16, String) + Send + 'static) -> Service {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let mut buf = [0u8; 4096];
                        let n = stream.read(&mut buf).unwrap_or(0);
                        let req = String::from_utf8_lossy(&buf[..n]);
                        let path = req.split_whitespace().nth(1).unwrap_or("/").to_owned();
                        let (status, body) = handler(&path);
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        Service {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A deploy script that records the release it was given and the artifact it found.
fn script(state: &Path) -> String {
    format!(
        "cp \"$DSO_ARTIFACT_DIR/out/app.bin\" {s}/current && echo \"$DSO_RELEASE $DSO_ENV $DSO_STEP/$DSO_STEPS\" >> {s}/deployed.txt",
        s = state.display()
    )
}

/// Sets `env` to deploy with [`script`] and to check, at `path`, a service
/// that is healthy only while it runs release one. Returns the state
/// directory (its `current` is the deployed artifact) and the service.
fn healthy_only_on_release_one(dso: &Dso, env: &str, path: &str) -> (tempfile::TempDir, Service) {
    let state = tempfile::tempdir().unwrap();
    let probe_file = state.path().join("current");
    let service = Service::start(0, move |_| match std::fs::read_to_string(&probe_file) {
        Ok(text) if text == "release one\n" => (200, "ok".into()),
        _ => (500, "broken".into()),
    });
    let health = format!("http://127.0.0.1:{}{path}", service.port);
    dso.ok(&[
        "env",
        "set",
        env,
        "--script",
        &script(state.path()),
        "--health",
        &health,
        "--health-timeout",
        "1",
    ]);
    (state, service)
}

fn events_of(dso: &Dso, ty: &str) -> Vec<serde_json::Value> {
    dso.json(&["audit", "log", "--type", ty])
        .as_array()
        .unwrap()
        .clone()
}

/// Adds a user holding `roles` and returns an API token acting as them.
fn user_token(dso: &Dso, name: &str, roles: &[&str]) -> String {
    let mut args = vec!["user", "add", name];
    for role in roles {
        args.extend(["--role", role]);
    }
    dso.ok(&args);
    dso.ok(&["token", "create", "--user", name])
        .trim()
        .to_owned()
}

#[test]
fn default_environments_exist_and_new_ones_are_created() {
    let dso = Dso::init();
    let envs = dso.json(&["env", "list"]);
    let names: Vec<&str> = envs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev", "production", "staging", "test"]);
    let prod = envs
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "production")
        .unwrap();
    assert_eq!(prod["protected"], true);
    assert_eq!(prod["approvals"], 1);
    assert_eq!(prod["approver_role"], "release-engineer");
    dso.ok(&[
        "env",
        "create",
        "qa",
        "--approvals",
        "2",
        "--approver-role",
        "product-owner",
        "--script",
        "true",
        "--steps",
        "3",
        "--health",
        "tcp://127.0.0.1:9",
    ]);
    let qa = dso
        .json(&["env", "list"])
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "qa")
        .cloned()
        .unwrap();
    assert_eq!(
        (qa["protected"].clone(), qa["approvals"].clone()),
        (true.into(), 2.into())
    );
    assert_eq!(qa["strategy"], "stepped (3)");
    assert_eq!(qa["health"][0], "tcp://127.0.0.1:9");
    let err = dso.fails(&["env", "create", "qa"]);
    assert!(err.contains("exists already"), "{err}");
    let err = dso.fails(&["env", "create", "QA"]);
    assert!(err.contains("not a valid environment name"), "{err}");
    let err = dso.fails(&["env", "create", "x", "--approver-role", "wizard"]);
    assert!(
        err.contains("unknown role `wizard`") && err.contains("dso model roles"),
        "{err}"
    );
    let err = dso.fails(&["env", "set", "nope", "--protected"]);
    assert!(err.contains("unknown environment `nope`"), "{err}");
    // Four defaults and qa, each with its CDEvents environment.created.
    assert_eq!(
        events_of(&dso, "dev.cdevents.environment.created.0.3.0").len(),
        5
    );
    dso.ok(&["env", "set", "qa", "--unprotected"]);
    assert_eq!(
        events_of(&dso, "dev.cdevents.environment.modified.0.3.0").len(),
        1
    );
}

#[test]
fn a_release_carries_signed_slsa_provenance_and_verifies() {
    let (dso, _product) = two_releases();
    let statement: serde_json::Value =
        serde_json::from_str(&dso.ok(&["release", "show", "1", "--statement"])).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let names: Vec<&str> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["out/app.bin", "out/manifest.txt"]);
    let runs = dso.json(&["runs"]);
    let commit1 = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == 1)
        .unwrap()["commit"]
        .clone();
    assert_eq!(
        statement["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
        commit1
    );
    let byproducts: Vec<&str> = statement["predicate"]["runDetails"]["byproducts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(byproducts[0], "evidence.json", "{byproducts:?}");
    assert!(
        byproducts.iter().any(|b| b.starts_with("logs/build/")),
        "{byproducts:?}"
    );
    // The run has no scanner steps nor gate decision: the evidence says so.
    let evidence: serde_json::Value =
        serde_json::from_str(&dso.ok(&["release", "show", "1", "--evidence"])).unwrap();
    assert_eq!(evidence["findings"]["total"], 0, "{evidence}");
    assert_eq!(evidence["sboms"], serde_json::json!([]), "{evidence}");
    assert!(evidence["gate"].is_null(), "{evidence}");
    let envelope: serde_json::Value =
        serde_json::from_str(&dso.ok(&["release", "show", "1"])).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let out = dso.ok(&["release", "verify", "1"]);
    assert!(
        out.contains("signature valid, 2 artifact digests match"),
        "{out}"
    );
    assert_eq!(dso.json(&["release", "list"]).as_array().unwrap().len(), 2);
    let err = dso.fails(&["release", "create", "1", "--run", "2"]);
    assert!(err.contains("exists already"), "{err}");
    assert_eq!(
        events_of(&dso, "dev.cdeventsx.dso.release.created.0.1.0").len(),
        2
    );
    assert_eq!(
        events_of(&dso, "dev.cdevents.artifact.signed.0.3.0").len(),
        4
    );
    // The evidence is signed as a byproduct: changing it in the database is named.
    crate::audit::sqlite3(
        &dso,
        "UPDATE releases SET evidence = '{\"sboms\":[],\"findings\":{\"total\":0},\"gate\":{\"decision\":\"allow\"}}' WHERE version = '1'",
    );
    let err = dso.fails(&["release", "verify", "1"]);
    assert!(err.contains("`evidence.json` was altered"), "{err}");
}

#[test]
fn a_release_from_a_failed_run_is_refused() {
    let dso = Dso::init();
    let product = repo(
        &dso,
        "jobs:\n  b:\n    activity: build\n    run: exit 1\n",
        &[],
    );
    dso.run(&["run", "--repo", product.to_str().unwrap()]);
    let err = dso.fails(&["release", "create", "1", "--run", "1"]);
    assert!(
        err.contains("run 1: is failed; a release is made from a successful run"),
        "{err}"
    );
    let err = dso.fails(&["release", "create", "1", "--run", "9"]);
    assert!(err.contains("unknown run `9`"), "{err}");
}

/// The content-addressed object holding the artifact `path` of release `version`.
fn object_of(dso: &Dso, version: &str, path: &str) -> PathBuf {
    let statement: serde_json::Value =
        serde_json::from_str(&dso.ok(&["release", "show", version, "--statement"])).unwrap();
    let sha = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == path)
        .unwrap()["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    dso.path()
        .join("artifacts/sha256")
        .join(&sha[..2])
        .join(&sha[2..])
}

#[test]
fn an_artifact_changed_by_one_byte_is_named_by_verify_and_refused_at_deploy() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    dso.ok(&["env", "set", "staging", "--script", &script(state.path())]);
    let object = object_of(&dso, "2", "out/manifest.txt");
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&object, bytes).unwrap();

    let out = dso.run(&["release", "verify", "2"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("artifact `out/manifest.txt` was altered"),
        "{err}"
    );
    assert!(!err.contains("out/app.bin"), "{err}");
    let report = dso.json_allow_failure(&["release", "verify", "2"]);
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["problem"], "artifact-altered");

    let err = dso.fails(&["deploy", "2", "--env", "staging"]);
    assert!(
        err.contains("release `2` failed the integrity check"),
        "{err}"
    );
    assert!(
        err.contains("artifact `out/manifest.txt` was altered"),
        "{err}"
    );
    assert!(
        !state.path().join("deployed.txt").exists(),
        "the script must not run"
    );
    let ds = dso.json(&["deployments"]);
    assert_eq!(ds[0]["status"], "refused");
    let refused = events_of(&dso, "dev.cdeventsx.dso.deployment.refused.0.1.0");
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0]["data"]["customData"]["problems"][0]["artifact"],
        "out/manifest.txt"
    );
    // Release 1 is untouched and deploys.
    dso.ok(&["deploy", "1", "--env", "staging"]);
    assert_eq!(
        std::fs::read_to_string(state.path().join("current")).unwrap(),
        "release one\n"
    );
}

#[test]
fn a_failed_health_check_rolls_back_to_the_previous_release() {
    let (dso, _product) = two_releases();
    let (state, _service) = healthy_only_on_release_one(&dso, "staging", "/health");
    let current = state.path().join("current");
    let first = dso.json(&["deploy", "1", "--env", "staging"]);
    assert_eq!(first["deployment"]["status"], "succeeded");

    let out = dso.run(&["deploy", "2", "--env", "staging", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second["deployment"]["status"], "failed");
    assert!(
        second["deployment"]["detail"]
            .as_str()
            .unwrap()
            .contains("HTTP 500, expected 200")
    );
    assert_eq!(second["rollback"]["release"], "1");
    assert_eq!(second["rollback"]["status"], "succeeded");
    assert_eq!(
        second["rollback"]["rollback_of"],
        second["deployment"]["id"]
    );
    assert_eq!(std::fs::read_to_string(&current).unwrap(), "release one\n");

    let deployed = events_of(&dso, "dev.cdevents.service.deployed.0.3.0");
    assert_eq!(deployed.len(), 1);
    let failed = events_of(&dso, "dev.cdeventsx.dso.deployment.failed.0.1.0");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["data"]["customData"]["release"], "2");
    let rolled = events_of(&dso, "dev.cdevents.service.rolledback.0.3.0");
    assert_eq!(rolled.len(), 1);
    assert_eq!(rolled[0]["data"]["customData"]["release"], "1");
    assert_eq!(rolled[0]["data"]["customData"]["previousRelease"], "2");
    assert_eq!(
        rolled[0]["data"]["subject"]["content"]["environment"]["id"],
        "staging"
    );
    // The failed deployment recorded the one commit release 2 brings over release 1.
    let runs = dso.json(&["runs"]);
    let commit2 = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == 2)
        .unwrap()["commit"]
        .clone();
    assert_eq!(
        failed[0]["data"]["customData"]["commits"],
        serde_json::json!([commit2])
    );
}

#[test]
fn upgrade_then_rollback_by_hand_with_a_stepped_strategy() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    let service = Service::start(0, |_| (200, "ok".into()));
    let health = format!("http://127.0.0.1:{}/", service.port);
    dso.ok(&[
        "env",
        "set",
        "test",
        "--script",
        &script(state.path()),
        "--steps",
        "2",
        "--health",
        &health,
    ]);
    dso.ok(&["deploy", "1", "--env", "test"]);
    let out = dso.ok(&["deploy", "2", "--env", "test"]);
    assert!(
        out.contains("deployment 2 (deploy) of `2` to `test`: succeeded"),
        "{out}"
    );
    let upgraded = events_of(&dso, "dev.cdevents.service.upgraded.0.3.0");
    assert_eq!(upgraded.len(), 1);
    assert_eq!(upgraded[0]["data"]["customData"]["previousRelease"], "1");
    let out = dso.ok(&["rollback", "test"]);
    assert!(
        out.contains("(rollback) of `1` to `test`: succeeded"),
        "{out}"
    );
    let log = std::fs::read_to_string(state.path().join("deployed.txt")).unwrap();
    assert_eq!(
        log,
        "1 test 1/2\n1 test 2/2\n2 test 1/2\n2 test 2/2\n1 test 1/2\n1 test 2/2\n"
    );
    assert_eq!(
        events_of(&dso, "dev.cdevents.service.rolledback.0.3.0").len(),
        1
    );
    let err = dso.fails(&["rollback", "dev"]);
    assert!(
        err.contains("has no successful deployment to roll back"),
        "{err}"
    );
    let err = dso.fails(&["deploy", "1", "--env", "dev"]);
    assert!(
        err.contains("environment `dev` has no deploy target")
            && err.contains("dso env set dev --script"),
        "{err}"
    );
}

#[test]
fn a_protected_environment_waits_for_another_users_approval() {
    let (dso, _product) = two_releases();
    let bob = user_token(&dso, "bob", &["release-engineer"]);
    let carol = user_token(&dso, "carol", &["software-developer"]);
    let state = tempfile::tempdir().unwrap();
    dso.ok(&[
        "env",
        "set",
        "production",
        "--script",
        &script(state.path()),
    ]);
    let waiting = dso.json(&["deploy", "1", "--env", "production"]);
    assert_eq!(waiting["deployment"]["status"], "pending-approval");
    assert_eq!(waiting["approvals_missing"], 1);
    assert!(!state.path().join("current").exists());
    let id = waiting["deployment"]["id"].to_string();

    // The requester (the owner, alice) cannot approve her own deployment.
    let err = dso.fails(&["approve", &id]);
    assert!(
        err.contains("`alice` requested this deployment and cannot approve it"),
        "{err}"
    );
    // carol (a developer) may not take part in deployments at all; a
    // forged token is nobody.
    let err = dso.fails(&["--token", &carol, "approve", &id]);
    assert!(
        err.contains("forbidden: carol (software-developer) may not deploy"),
        "{err}"
    );
    let err = dso.fails(&["--token", "dso_0_forged", "approve", &id]);
    assert!(err.contains("token refused"), "{err}");
    assert!(!state.path().join("current").exists());

    let done = dso.json(&["--token", &bob, "approve", &id]);
    assert_eq!(done["deployment"]["status"], "succeeded");
    assert_eq!(
        std::fs::read_to_string(state.path().join("current")).unwrap(),
        "release one\n"
    );
    let approved = events_of(&dso, "dev.cdeventsx.dso.deployment.approved.0.1.0");
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0]["actor"], "bob");
    let err = dso.fails(&["--token", &bob, "approve", &id]);
    assert!(
        err.contains("is succeeded, not waiting for approval"),
        "{err}"
    );
}

#[test]
fn a_kubectl_target_says_clearly_when_kubectl_is_absent() {
    let (dso, _product) = two_releases();
    dso.ok(&[
        "env",
        "create",
        "k8s",
        "--kubectl",
        "out/manifest.txt",
        "--kube-context",
        "kind",
    ]);
    let out = dso
        .command(&["deploy", "1", "--env", "k8s"])
        .env("PATH", dso.path().join("no-such-dir"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("kubectl is not installed"), "{stdout}");
    assert!(
        stdout.contains("kubectl --context kind apply -f"),
        "{stdout}"
    );
}

#[test]
fn a_swapped_envelope_is_refused_and_the_unsigned_listing_is_never_trusted() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    dso.ok(&["env", "set", "staging", "--script", &script(state.path())]);
    // The unsigned artifact listing is rewritten to point at release 2's bytes:
    // the deployment still copies what release 1's signed statement names.
    crate::audit::sqlite3(
        &dso,
        "UPDATE releases SET artifacts = (SELECT artifacts FROM releases WHERE version = '2') WHERE version = '1'",
    );
    dso.ok(&["deploy", "1", "--env", "staging"]);
    assert_eq!(
        std::fs::read_to_string(state.path().join("current")).unwrap(),
        "release one\n"
    );
    // Release 2's (validly signed) envelope copied onto release 1 is caught.
    crate::audit::sqlite3(
        &dso,
        "UPDATE releases SET envelope = (SELECT envelope FROM releases WHERE version = '2') WHERE version = '1'",
    );
    let err = dso.fails(&["deploy", "1", "--env", "staging"]);
    assert!(
        err.contains("the provenance statement is for release `2`"),
        "{err}"
    );
    // A payload that is no longer base64 is named as malformed.
    crate::audit::sqlite3(
        &dso,
        "UPDATE releases SET envelope = replace(envelope, '\"payload\":\"', '\"payload\":\"eyJ') WHERE version = '2'",
    );
    let err = dso.fails(&["release", "verify", "2"]);
    assert!(
        err.contains("the provenance envelope is malformed: payload is not base64"),
        "{err}"
    );
}

#[test]
fn approvals_health_rollback_and_incidents_on_postgres() {
    Dso::on_postgres(|dso, _| {
        let (dso, _product) = releases_in(dso);
        let bob = user_token(&dso, "bob", &["release-engineer"]);
        let (state, _service) = healthy_only_on_release_one(&dso, "production", "/");
        let current = state.path().join("current");
        let first = dso.json(&["deploy", "1", "--env", "production"]);
        let id = first["deployment"]["id"].to_string();
        assert!(dso.fails(&["approve", &id]).contains("cannot approve"));
        assert_eq!(
            dso.json(&["--token", &bob, "approve", &id])["deployment"]["status"],
            "succeeded"
        );
        let second = dso.json(&["deploy", "2", "--env", "production"]);
        let id2 = second["deployment"]["id"].to_string();
        let out = dso.run(&["--token", &bob, "approve", &id2, "--format", "json"]);
        assert_eq!(out.status.code(), Some(1));
        let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(done["deployment"]["status"], "failed");
        assert_eq!(done["rollback"]["release"], "1");
        assert_eq!(done["rollback"]["status"], "succeeded");
        assert_eq!(std::fs::read_to_string(&current).unwrap(), "release one\n");
        let file = dso.path().join("alert.json");
        std::fs::write(
            &file,
            r#"{"alerts":[{"name":"Down","status":"firing","env":"production","service":"product"}]}"#,
        )
        .unwrap();
        dso.ok(&["alert", "ingest", file.to_str().unwrap()]);
        let inc = dso.json(&["incident", "list"])[0].clone();
        assert_eq!(
            inc["deployment"], done["rollback"]["id"],
            "the latest deployment is the rollback"
        );
        assert!(dso.json(&["audit", "verify"])["problem"].is_null());
    });
}

#[test]
fn a_deployment_whose_dso_was_killed_is_marked_interrupted() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    let marker = state.path().join("started");
    let command = format!("touch {} && sleep 2", marker.display());
    dso.ok(&["env", "set", "staging", "--script", &command]);
    let mut child = dso
        .command(&["deploy", "1", "--env", "staging"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the script never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The next dso command notices.
    let ds = dso.json(&["deployments"]);
    assert_eq!(ds[0]["status"], "interrupted", "{ds}");
    let ev = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdeventsx.dso.deployment.interrupted.0.1.0",
    ]);
    assert_eq!(ev.as_array().unwrap().len(), 1);
    assert_eq!(ev[0]["data"]["customData"]["release"], "1");
    // Only once.
    dso.ok(&["deployments"]);
    assert_eq!(
        dso.json(&[
            "audit",
            "log",
            "--type",
            "dev.cdeventsx.dso.deployment.interrupted.0.1.0"
        ])
        .as_array()
        .unwrap()
        .len(),
        1
    );
}

/// A rollback by hand to a protected environment waits for an approval
/// from another user holding the approver role, like a deployment; the
/// automatic rollback after a failed health check does not wait.
#[test]
fn a_rollback_to_a_protected_environment_needs_an_approval() {
    let (dso, _product) = two_releases();
    let bob = user_token(&dso, "bob", &["release-engineer"]);
    let carol = user_token(&dso, "carol", &["software-developer"]);
    let dana = user_token(&dso, "dana", &["devops-engineer"]);
    let state = tempfile::tempdir().unwrap();
    let current = state.path().join("current");
    let allow_two = state.path().join("allow-two");
    // Healthy on release one; on release two only once `allow-two` exists.
    let (probe_file, allow) = (current.clone(), allow_two.clone());
    let service = Service::start(0, move |_| match std::fs::read_to_string(&probe_file) {
        Ok(text) if text == "release one\n" || allow.exists() => (200, "ok".into()),
        _ => (500, "broken".into()),
    });
    dso.ok(&[
        "env",
        "set",
        "production",
        "--script",
        &script(state.path()),
        "--health",
        &format!("http://127.0.0.1:{}/health", service.port),
        "--health-timeout",
        "1",
    ]);
    let deploy_approved = |version: &str| {
        let waiting = dso.json(&["deploy", version, "--env", "production"]);
        assert_eq!(waiting["deployment"]["status"], "pending-approval");
        let id = waiting["deployment"]["id"].to_string();
        let out = dso.run(&["--token", &bob, "approve", &id, "--format", "json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(deploy_approved("1")["deployment"]["status"], "succeeded");

    // Release two fails its health check: the automatic rollback runs at
    // once, without a new approval (it restores the approved release one).
    let failed = deploy_approved("2");
    assert_eq!(failed["deployment"]["status"], "failed");
    assert_eq!(failed["rollback"]["kind"], "rollback");
    assert_eq!(failed["rollback"]["status"], "succeeded");
    assert_eq!(failed["rollback"]["release"], "1");
    assert_eq!(std::fs::read_to_string(&current).unwrap(), "release one\n");

    std::fs::write(&allow_two, "").unwrap();
    assert_eq!(deploy_approved("2")["deployment"]["status"], "succeeded");
    assert_eq!(std::fs::read_to_string(&current).unwrap(), "release two\n");

    // A rollback by hand waits; nothing changes until it is approved.
    let out = dso.ok(&["rollback", "production"]);
    assert!(
        out.contains("rollback 5 of `1` to `production` waits for 1 approval(s): dso approve 5"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&current).unwrap(), "release two\n");
    let listed = dso.json(&["deployments", "--env", "production"]);
    let pending = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == 5)
        .unwrap();
    assert_eq!(
        (pending["kind"].as_str(), pending["status"].as_str()),
        (Some("rollback"), Some("pending-approval"))
    );
    assert_eq!(pending["previous_release"], "2");

    // The requester may not approve it; a developer takes no part; a
    // deployer without the approver role may not approve.
    let err = dso.fails(&["approve", "5"]);
    assert!(
        err.contains("`alice` requested this deployment and cannot approve it"),
        "{err}"
    );
    let err = dso.fails(&["--token", &carol, "approve", "5"]);
    assert!(
        err.contains("forbidden: carol (software-developer) may not deploy"),
        "{err}"
    );
    let err = dso.fails(&["--token", &dana, "approve", "5"]);
    assert!(
        err.contains(
            "`dana` does not hold the approver role `release-engineer` of environment `production`"
        ),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&current).unwrap(), "release two\n");

    let done = dso.json(&["--token", &bob, "approve", "5"]);
    assert_eq!(done["deployment"]["status"], "succeeded");
    assert_eq!(done["deployment"]["kind"], "rollback");
    assert!(done["rollback"].is_null());
    assert_eq!(std::fs::read_to_string(&current).unwrap(), "release one\n");
    let err = dso.fails(&["--token", &bob, "approve", "5"]);
    assert!(
        err.contains("is succeeded, not waiting for approval"),
        "{err}"
    );

    // The events: two rollbacks (automatic, by hand); the one by hand was
    // requested by alice and approved by bob.
    let rolled = events_of(&dso, "dev.cdevents.service.rolledback.0.3.0");
    assert_eq!(rolled.len(), 2);
    let requested = events_of(&dso, "dev.cdeventsx.dso.deployment.requested.0.1.0");
    let by_hand = requested
        .iter()
        .find(|e| e["subject"] == "deployment-5")
        .unwrap();
    assert_eq!(by_hand["actor"], "alice");
    assert_eq!(by_hand["data"]["customData"]["kind"], "rollback");
    assert_eq!(by_hand["data"]["customData"]["approvalsNeeded"], 1);
    let approvals: Vec<_> = events_of(&dso, "dev.cdeventsx.dso.deployment.approved.0.1.0")
        .into_iter()
        .filter(|e| e["subject"] == "deployment-5")
        .collect();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0]["actor"], "bob");
    drop(service);
}

/// Environments configured in dso.toml: the file's keys win over what `dso
/// env set` stored, the rest stays; an environment only in the file is
/// created; `dso env set` refuses to change a key the file sets; errors name
/// the file, line and field.
#[test]
fn environments_from_dso_toml_win_over_stored_settings() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    let service = Service::start(0, |_| (200, "all ok".into()));
    // Stored first: a target that fails, and two steps.
    dso.ok(&[
        "env", "set", "staging", "--script", "exit 3", "--steps", "2",
    ]);
    let config = dso.path().join("dso.toml");
    let base = std::fs::read_to_string(&config).unwrap();
    let section = format!(
        r#"
[environments.staging.target]
script = '{script}'

[environments.staging.health]
retries = 3

[[environments.staging.health.checks]]
http = "http://127.0.0.1:{port}/health"
expect_body = "ok"

[environments.qa]
approvals = 2
approver_role = "product-owner"
strategy = "stepped"
steps = 3

[environments.qa.target]
kubectl = "k8s/"
context = "qa-cluster"

[environments.qa.health]
timeout = 7
ca_file = "certs/ca.pem"

[[environments.qa.health.checks]]
tcp = "127.0.0.1:5432"
"#,
        script = script(state.path()),
        port = service.port
    );
    std::fs::write(&config, format!("{base}{section}")).unwrap();

    let envs = dso.json(&["env", "list"]);
    let find = |name: &str| {
        envs.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {envs}"))
            .clone()
    };
    let qa = find("qa");
    assert_eq!(qa["protected"], true);
    assert_eq!(qa["approvals"], 2);
    assert_eq!(qa["approver_role"], "product-owner");
    assert_eq!(qa["target"], "kubectl: k8s/");
    assert_eq!(qa["strategy"], "stepped (3)");
    assert_eq!(qa["health"], serde_json::json!(["tcp://127.0.0.1:5432"]));
    assert_eq!(qa["health_timeout_s"], 7);
    assert_eq!(
        qa["health_ca"],
        dso.path().join("certs/ca.pem").display().to_string()
    );
    assert_eq!(qa["spec"]["target"]["context"], "qa-cluster");
    let staging = find("staging");
    // The file's target and checks win; the stored strategy stays.
    assert_eq!(
        staging["target"],
        format!("script: {}", script(state.path()))
    );
    assert_eq!(staging["strategy"], "stepped (2)");
    assert_eq!(
        staging["from_config"],
        serde_json::json!(["target", "health.retries", "health.checks"])
    );
    assert_eq!(find("dev")["from_config"], serde_json::json!([]));
    let created = events_of(&dso, "dev.cdevents.environment.created.0.3.0");
    assert_eq!(
        created.iter().filter(|e| e["subject"] == "qa").count(),
        1,
        "{created:?}"
    );
    let out = dso.ok(&["env", "show", "staging"]);
    assert!(out.contains("(dso.toml)"), "{out}");
    assert!(
        out.contains(&format!(
            "http://127.0.0.1:{}/health (body contains `ok`)",
            service.port
        )),
        "{out}"
    );
    assert!(out.contains("stepped (2)\n"), "{out}");

    // The configured target and health check are the ones used.
    let done = dso.json(&["deploy", "1", "--env", "staging"]);
    assert_eq!(done["deployment"]["status"], "succeeded", "{done}");
    assert_eq!(
        std::fs::read_to_string(state.path().join("current")).unwrap(),
        "release one\n"
    );

    // `dso env set` keeps working for keys the file leaves alone, and
    // refuses keys it sets.
    dso.ok(&["env", "set", "staging", "--steps", "1"]);
    assert_eq!(
        dso.json(&["env", "show", "staging"])["strategy"],
        "all-at-once"
    );
    let err = dso.fails(&["env", "set", "staging", "--script", "true"]);
    assert!(
        err.contains("target set in dso.toml [environments.staging], which wins over `dso env set`; change it there"),
        "{err}"
    );
    let err = dso.fails(&[
        "env",
        "set",
        "qa",
        "--health-timeout",
        "9",
        "--approvals",
        "1",
    ]);
    assert!(
        err.contains("approvals, health.timeout set in dso.toml"),
        "{err}"
    );
    let err = dso.fails(&["env", "set", "dev", "--health-ca", "no-such-ca.pem"]);
    assert!(
        err.contains("--health-ca") && err.contains("no-such-ca.pem"),
        "{err}"
    );
    let err = dso.fails(&["env", "create", "qa"]);
    assert!(err.contains("exists already"), "{err}");

    // Errors name the file, line and field.
    let bad = |text: &str, want: &str| {
        std::fs::write(&config, format!("{base}{text}")).unwrap();
        let err = dso.fails(&["env", "list"]);
        let line = base.lines().count() + 1 + text.lines().position(|l| l.contains('!')).unwrap();
        assert!(
            err.contains(&format!("dso.toml:{line}:")) && err.contains(want),
            "line {line}, {want}: {err}"
        );
    };
    bad(
        "[environments.qa]\napprover_role = \"wizard\" #!\n",
        "[environments.qa]: field `approver_role`: `wizard` is not a PIM role",
    );
    bad(
        "[environments.qa]\nstrategy = \"canary\" #!\n",
        "field `strategy`: `canary` is neither",
    );
    bad(
        "[environments.qa]\ncolour = 1 #!\n",
        "unknown field `colour`",
    );
    bad(
        "[environments.qa.target] #!\nscript = \"a\"\nkubectl = \"b\"\n",
        "field `target`: give `script` or `kubectl`, not both",
    );
    bad(
        "[[environments.qa.health.checks]] #!\nhttp = \"ftp://x\"\n",
        "health check: field `http`: `ftp://x` is not an http:// or https:// URL",
    );
    bad(
        "[environments.Bad] #!\nprotected = true\n",
        "is not a valid environment name",
    );
    std::fs::write(&config, &base).unwrap();
    drop(service);
}
