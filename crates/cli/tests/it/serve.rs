//! `dso serve`: the HTTP API over a real listener, driven with raw HTTP/1.1
//! requests: health, Alertmanager webhook intake acting as the bearer
//! token's user (401 without, 403 for a role that may not, 400 naming the
//! field of a bad payload with nothing stored lost), Prometheus metrics.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};

use crate::Dso;

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(dso: &Dso) -> Server {
        let mut child = dso
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("dso serves http://")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        Server { child, addr }
    }

    /// One request; returns (status, body).
    fn request(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status: u16 = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

fn token_for(dso: &Dso, user: &str, role: &str) -> String {
    dso.ok(&["user", "add", user, "--role", role]);
    dso.ok(&["token", "create", "--user", user])
        .trim()
        .to_owned()
}

fn alertmanager(status: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../monitoring/tests/data/alertmanager-firing.json");
    let now = jiff::Timestamp::now().to_string();
    std::fs::read_to_string(path)
        .unwrap()
        .replace("2026-11-27T10:00:00.000Z", &now)
        .replacen(
            "\"status\": \"firing\",\n      \"labels\": { \"alertname\": \"HighErrorRate\"",
            &format!(
                "\"status\": \"{status}\",\n      \"labels\": {{ \"alertname\": \"HighErrorRate\""
            ),
            1,
        )
}

#[test]
fn alerts_arrive_over_http_as_the_tokens_user_and_metrics_count_them() {
    let dso = Dso::init();
    let sre = token_for(&dso, "sam", "site-reliability-engineer");
    let dev = token_for(&dso, "dev", "software-developer");
    let server = Server::start(&dso);

    assert_eq!(
        server.request("GET", "/healthz", None, ""),
        (200, "ok\n".into())
    );

    // No token: refused, never the owner.
    let (status, body) = server.request("POST", "/api/v1/alerts", None, &alertmanager("firing"));
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("Bearer"), "{body}");
    let (status, _) = server.request("POST", "/api/v1/alerts", Some("dso_not-a-token"), "{}");
    assert_eq!(status, 401);
    // A developer may not manage incidents.
    let (status, body) = server.request(
        "POST",
        "/api/v1/alerts",
        Some(&dev),
        &alertmanager("firing"),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("forbidden: dev"), "{body}");
    assert!(
        dso.json(&["incident", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The SRE's Alertmanager: one incident opens, then resolves.
    let (status, body) = server.request(
        "POST",
        "/api/v1/alerts",
        Some(&sre),
        &alertmanager("firing"),
    );
    assert_eq!(status, 200, "{body}");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["alerts"], 2);
    assert_eq!(r["opened"].as_array().unwrap().len(), 1, "{r}");
    let incidents = dso.json(&["incident", "list"]);
    assert_eq!(incidents.as_array().unwrap().len(), 1);
    assert_eq!(incidents[0]["status"], "open");

    // A bad payload names the field; nothing stored changes.
    let (status, body) = server.request(
        "POST",
        "/api/v1/alerts",
        Some(&sre),
        r#"{"alerts":[{"name":"X","status":"on","env":"dev"}]}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("request body") && body.contains("status"),
        "{body}"
    );
    assert_eq!(dso.json(&["incident", "list"]), incidents);

    let (status, body) = server.request(
        "POST",
        "/api/v1/alerts",
        Some(&sre),
        &alertmanager("resolved"),
    );
    assert_eq!(status, 200, "{body}");
    let r: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["resolved"], serde_json::json!([incidents[0]["id"]]));

    // Metrics: read from the store at each scrape.
    let (status, _) = server.request("GET", "/metrics", None, "");
    assert_eq!(status, 401);
    let (status, text) = server.request("GET", "/metrics", Some(&sre), "");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("# TYPE dso_incidents gauge"), "{text}");
    assert!(
        text.contains(r#"dso_incidents{env="staging",severity="critical",status="resolved"} 1"#),
        "{text}"
    );
    let events: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("dso_events "))
        .unwrap_or_else(|| panic!("{text}"))
        .parse()
        .unwrap();
    assert!(events >= 5.0, "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");

    // The refused requests are audit events too.
    let denied: Vec<serde_json::Value> = dso
        .json(&["audit", "log"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap_or("").contains("access.denied"))
        .cloned()
        .collect();
    assert!(!denied.is_empty());
}

#[test]
fn serve_without_a_workspace_is_a_clear_error() {
    let dso = Dso::new();
    let err = dso.fails(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(err.contains("workspace"), "{err}");
}
