//! Monitors, incidents, alerts, uptime and SLOs, end to end: a real HTTP
//! service on loopback, real deployments, the real `dso monitor run`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::Dso;
use crate::operational::{Service, two_releases};

fn ms(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../monitoring/tests/data")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// Deploys releases 1 and 2 to staging (script target, health-checked
/// against `service`); returns the deployment id of release 2.
fn deploy_both(dso: &Dso, service: &Service, state: &Path) -> i64 {
    let script = format!("echo \"$DSO_RELEASE\" > {}/current", state.display());
    let health = format!("http://127.0.0.1:{}/health", service.port);
    dso.ok(&[
        "env", "set", "staging", "--script", &script, "--health", &health,
    ]);
    dso.ok(&["deploy", "1", "--env", "staging"]);
    let second = dso.json(&["deploy", "2", "--env", "staging"]);
    assert_eq!(second["deployment"]["status"], "succeeded");
    second["deployment"]["id"].as_i64().unwrap()
}

#[test]
fn a_stopped_service_opens_an_incident_linked_to_the_last_deployment_and_it_resolves() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    let mut service = Service::start(0, |_| (200, "ok".into()));
    let port = service.port;
    let release2 = deploy_both(&dso, &service, state.path());
    let interval = 400;
    dso.ok(&[
        "monitor",
        "add",
        "web",
        "--env",
        "staging",
        "--service",
        "product",
        "--http",
        &format!("http://127.0.0.1:{port}/health"),
        "--expect-body",
        "ok",
        "--interval",
        &format!("{interval}ms"),
        "--timeout",
        "300ms",
    ]);
    let monitor = dso
        .command(&["monitor", "run", "--for", "5s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    service.stop();
    let stopped = now_ms();
    std::thread::sleep(Duration::from_millis(1800));
    let _back = Service::start(port, |_| (200, "ok".into()));
    let restarted = now_ms();
    let out = monitor.wait_with_output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);

    let incidents = dso.json(&["incident", "list"]);
    let incidents = incidents.as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{printed}");
    let inc = &incidents[0];
    assert_eq!(inc["deployment"], release2, "{inc}");
    assert_eq!(
        (inc["env"].as_str(), inc["service"].as_str()),
        (Some("staging"), Some("product"))
    );
    assert_eq!(inc["status"], "resolved", "{printed}");
    let detected = ms(inc["detected_at"].as_str().unwrap());
    let resolved = ms(inc["resolved_at"].as_str().unwrap());
    assert!(
        detected >= stopped - 20,
        "detected {detected} before the stop {stopped}"
    );
    assert!(
        detected - stopped <= 2 * interval,
        "detected {} ms after the stop, more than two intervals\n{printed}",
        detected - stopped
    );
    assert!(
        resolved >= restarted && resolved - restarted <= 2 * interval,
        "{printed}"
    );
    assert_eq!(inc["resolved_by"], "dso-monitor");

    let shown = dso.json(&["incident", "show", &inc["id"].to_string()]);
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["detected", "resolved"]);
    let detected_events = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdevents.incident.detected.0.3.0",
    ]);
    assert_eq!(detected_events.as_array().unwrap().len(), 1);
    let ev = &detected_events[0];
    assert_eq!(ev["actor"], "dso-monitor");
    assert_eq!(
        ev["data"]["subject"]["content"]["environment"]["id"],
        "staging"
    );
    assert_eq!(
        ev["data"]["subject"]["content"]["artifactId"],
        "pkg:generic/product@2"
    );
    assert_eq!(
        ev["data"]["customData"]["deployment"],
        format!("deployment-{release2}")
    );
    let resolved_events = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdevents.incident.resolved.0.3.0",
    ]);
    let restore = resolved_events[0]["data"]["customData"]["timeToRestoreMs"]
        .as_i64()
        .unwrap();
    assert_eq!(restore, resolved - detected);

    // Uptime counts the failed samples; an SLO of 99.9% is overspent.
    let uptime = dso.json(&["uptime"]);
    let row = &uptime[0];
    let (samples, ok) = (
        row["samples"].as_u64().unwrap(),
        row["ok"].as_u64().unwrap(),
    );
    assert!(samples >= 10 && ok < samples && ok >= samples / 2, "{row}");
    dso.ok(&[
        "slo",
        "add",
        "avail",
        "--env",
        "staging",
        "--service",
        "product",
        "--target",
        "99.9",
        "--window",
        "1h",
    ]);
    dso.ok(&[
        "slo",
        "add",
        "loose",
        "--env",
        "staging",
        "--service",
        "product",
        "--target",
        "10",
    ]);
    let slos = dso.json(&["slo", "list"]);
    assert_eq!(slos[0]["name"], "avail");
    assert_eq!(slos[0]["met"], false);
    assert!(slos[0]["budget_left_percent"].as_f64().unwrap() < 0.0);
    assert_eq!(slos[1]["met"], true);
    assert!(slos[1]["budget_left_percent"].as_f64().unwrap() > 0.0);
}

#[test]
fn alertmanager_alerts_open_and_resolve_incidents() {
    let (dso, _product) = two_releases();
    let state = tempfile::tempdir().unwrap();
    let service = Service::start(0, |_| (200, "ok".into()));
    let release2 = deploy_both(&dso, &service, state.path());
    let file = dso.path().join("alerts.json");
    // The fixture's alert started at a fixed time in the past; make it fire now,
    // after the deployment, so that it falls in the attribution window.
    let now = jiff::Timestamp::now().to_string();
    let firing = fixture("alertmanager-firing.json").replace("2026-11-27T10:00:00.000Z", &now);
    std::fs::write(&file, &firing).unwrap();
    let r = dso.json(&["alert", "ingest", file.to_str().unwrap()]);
    assert_eq!(r["alerts"], 2);
    assert_eq!(r["opened"].as_array().unwrap().len(), 1, "{r}");
    // Resolved alerts without an open incident change nothing.
    assert_eq!(r["resolved"].as_array().unwrap().len(), 0);
    // The same firing alert again does not open a second incident.
    let again = dso.json(&["alert", "ingest", file.to_str().unwrap()]);
    assert_eq!(again["opened"].as_array().unwrap().len(), 0);
    let inc = dso.json(&["incident", "list"])[0].clone();
    assert_eq!(inc["deployment"], release2);
    assert_eq!(inc["severity"], "critical");
    assert_eq!(inc["service"], "inventory");
    assert!(inc["title"].as_str().unwrap().contains("HighErrorRate"));

    let resolved = firing.replacen(
        "\"status\": \"firing\",\n      \"labels\": { \"alertname\": \"HighErrorRate\"",
        "\"status\": \"resolved\",\n      \"labels\": { \"alertname\": \"HighErrorRate\"",
        1,
    );
    assert_ne!(resolved, firing);
    let out = dso
        .command(&["alert", "ingest", "-", "--format", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(resolved.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["resolved"], serde_json::json!([inc["id"]]));
    assert_eq!(dso.json(&["incident", "list"])[0]["status"], "resolved");
}

#[test]
fn incidents_are_noted_and_resolved_by_hand_and_bad_alerts_are_named() {
    let dso = Dso::init();
    let file = dso.path().join("generic.json");
    std::fs::write(
        &file,
        r#"{"alerts":[{"id":"db-down","name":"DatabaseDown","status":"firing","env":"production","service":"db","severity":"critical","summary":"no connection"}]}"#,
    )
    .unwrap();
    let r = dso.json(&["alert", "ingest", file.to_str().unwrap()]);
    let id = r["opened"][0].to_string();
    let inc = dso.json(&["incident", "list"])[0].clone();
    assert_eq!(
        inc["deployment"],
        serde_json::Value::Null,
        "no deployment, no guess"
    );
    dso.ok(&["incident", "note", &id, "failing over to the replica"]);
    let start = Instant::now();
    dso.ok(&["incident", "resolve", &id, "--note", "replica promoted"]);
    assert!(start.elapsed() < Duration::from_secs(10));
    let shown = dso.json(&["incident", "show", &id]);
    let texts: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts[1..],
        ["failing over to the replica", "replica promoted"]
    );
    assert_eq!(shown["resolved_by"], "alice");
    let err = dso.fails(&["incident", "resolve", &id]);
    assert!(err.contains("is resolved already"), "{err}");
    let out = dso.ok(&[
        "incident",
        "report",
        "--env",
        "dev",
        "--service",
        "shop",
        "checkout is slow",
    ]);
    assert!(out.starts_with("incident 2 reported"), "{out}");
    let reported = dso.json(&[
        "audit",
        "log",
        "--type",
        "dev.cdevents.incident.reported.0.3.0",
    ]);
    assert_eq!(
        reported[0]["data"]["subject"]["content"]["description"],
        "checkout is slow"
    );
    assert_eq!(reported[0]["actor"], "alice");

    std::fs::write(
        &file,
        r#"{"alerts":[{"name":"X","status":"on","env":"dev"}]}"#,
    )
    .unwrap();
    let err = dso.fails(&["alert", "ingest", file.to_str().unwrap()]);
    assert!(
        err.contains("generic.json: alerts[0].status: `on` is neither `firing` nor `resolved`"),
        "{err}"
    );
    std::fs::write(&file, "{\n  \"alerts\": [,\n").unwrap();
    let err = dso.fails(&["alert", "ingest", file.to_str().unwrap()]);
    assert!(err.contains("generic.json: line 2 column"), "{err}");
    let err = dso.fails(&[
        "monitor",
        "add",
        "m",
        "--env",
        "nope",
        "--service",
        "s",
        "--tcp",
        "127.0.0.1:1",
    ]);
    assert!(err.contains("unknown environment `nope`"), "{err}");
    let err = dso.fails(&[
        "monitor",
        "add",
        "m",
        "--env",
        "dev",
        "--service",
        "s",
        "--http",
        "ftp://x/",
    ]);
    assert!(
        err.contains("`ftp://x/` is not an http:// or https:// URL"),
        "{err}"
    );
    let err = dso.fails(&["monitor", "run", "--once"]);
    assert!(err.contains("none configured"), "{err}");
    // A CA file goes with https:// and must hold a PEM certificate.
    let add = |url: &str, ca: &str| {
        dso.run(&[
            "monitor",
            "add",
            "m",
            "--env",
            "dev",
            "--service",
            "s",
            "--http",
            url,
            "--ca-file",
            ca,
        ])
    };
    std::fs::write(
        dso.path().join("ca.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(dso.path().join("junk.pem"), "junk").unwrap();
    let err = String::from_utf8_lossy(&add("http://x/", "ca.pem").stderr).into_owned();
    assert!(err.contains("a CA file is for https:// monitors"), "{err}");
    let err = String::from_utf8_lossy(&add("https://x/", "junk.pem").stderr).into_owned();
    assert!(err.contains("junk.pem: no PEM certificate in it"), "{err}");
    let err = String::from_utf8_lossy(&add("https://x/", "none.pem").stderr).into_owned();
    assert!(err.contains("none.pem"), "{err}");
    assert!(add("https://x/", "ca.pem").status.success());
    let listed = dso.json(&["monitor", "list"]);
    assert_eq!(
        listed[0]["ca_file"],
        dso.path().join("ca.pem").display().to_string()
    );
}

#[test]
fn a_tcp_monitor_runs_once() {
    let dso = Dso::init();
    let service = Service::start(0, |_| (200, "ok".into()));
    dso.ok(&[
        "monitor",
        "add",
        "sock",
        "--env",
        "dev",
        "--service",
        "s",
        "--tcp",
        &format!("127.0.0.1:{}", service.port),
    ]);
    let out = dso.ok(&["monitor", "run", "--once"]);
    assert!(out.starts_with("sock up "), "{out}");
    assert_eq!(dso.json(&["uptime"])[0]["uptime_percent"], 100.0);
}

#[test]
fn an_injected_burst_raises_exactly_one_security_incident_and_a_normal_log_none() {
    let dso = Dso::init();
    let normal = fixture("access.log");
    let clean = dso.path().join("access.log");
    std::fs::write(&clean, &normal).unwrap();
    let r = dso.json(&[
        "usage",
        "ingest",
        clean.to_str().unwrap(),
        "--env",
        "production",
    ]);
    assert_eq!(r["requests"], 159);
    assert_eq!(r["findings"], serde_json::json!([]));
    assert_eq!(dso.json(&["incident", "list"]), serde_json::json!([]));

    // The same log with 150 requests from one client injected in one minute.
    let mut lines: Vec<String> = normal.lines().map(str::to_owned).collect();
    for i in 0..150 {
        lines.push(format!(
            "192.0.2.200 - - [27/Nov/2026:09:07:{:02} +0000] \"GET /items/{i} HTTP/1.1\" 200 812 \"-\" \"python-requests/2.32\"",
            i * 59 / 150
        ));
    }
    let burst = dso.path().join("access-burst.log");
    std::fs::write(&burst, lines.join("\n")).unwrap();
    let r = dso.json(&[
        "usage",
        "ingest",
        burst.to_str().unwrap(),
        "--env",
        "production",
        "--service",
        "inventory",
    ]);
    assert_eq!(r["opened"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["findings"][0]["kind"], "burst");
    assert_eq!(r["findings"][0]["subject"], "192.0.2.200");
    let incidents = dso.json(&["incident", "list"]);
    assert_eq!(incidents.as_array().unwrap().len(), 1);
    let inc = &incidents[0];
    assert_eq!(
        (inc["source"].as_str(), inc["service"].as_str()),
        (Some("usage"), Some("inventory"))
    );
    assert!(
        inc["title"]
            .as_str()
            .unwrap()
            .starts_with("security: burst of 150 requests in 60 s from 192.0.2.200"),
        "{inc}"
    );
    assert_eq!(inc["detected_at"], "2026-11-27T09:07:00.000000Z");
    // Reading the same log again does not open a second incident while the first is open.
    let again = dso.json(&[
        "usage",
        "ingest",
        burst.to_str().unwrap(),
        "--env",
        "production",
    ]);
    assert_eq!(again["opened"], serde_json::json!([]));
    // Stricter thresholds find the scattered failed logins too.
    let strict = dso.json(&[
        "usage",
        "ingest",
        clean.to_str().unwrap(),
        "--env",
        "production",
        "--auth-failures",
        "1",
    ]);
    assert_eq!(strict["findings"][0]["kind"], "auth-failures");

    let junk = dso.path().join("junk.log");
    std::fs::write(&junk, "hello\nworld\n").unwrap();
    let err = dso.fails(&[
        "usage",
        "ingest",
        junk.to_str().unwrap(),
        "--env",
        "production",
    ]);
    assert!(err.contains("junk.log:1:"), "{err}");
}
