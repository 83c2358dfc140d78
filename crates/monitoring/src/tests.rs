//! Tests of the monitoring domain.

use crate::http;

#[test]
fn urls_split_and_responses_parse() {
    let u = http::parse_url("http://127.0.0.1:8080/health?x=1").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str()),
        ("127.0.0.1", 8080, "/health?x=1")
    );
    let u = http::parse_url("http://example.org").unwrap();
    assert_eq!((u.port, u.path.as_str()), (80, "/"));
    let u = http::parse_url("http://h:1?q").unwrap();
    assert_eq!(u.path, "/?q");
    assert!(!u.https);
    let u = http::parse_url("https://x").unwrap();
    assert_eq!(
        (u.https, u.host.as_str(), u.port, u.path.as_str()),
        (true, "x", 443, "/")
    );
    let u = http::parse_url("https://x:8443/h").unwrap();
    assert_eq!((u.https, u.port), (true, 8443));
    assert!(http::parse_url("ftp://x").is_err());
    assert!(http::parse_url("http://h:99999/").is_err());
    assert!(http::parse_url("http://u:p@h/").is_err());
    assert!(http::parse_url("http://h/a b").is_err());
    assert!(
        http::request(&http::parse_url("http://h:1/p").unwrap())
            .starts_with("GET /p HTTP/1.1\r\nHost: h:1\r\n")
    );
    assert_eq!(
        http::parse_response(b"HTTP/1.1 503 Service Unavailable\r\nA: b\r\n\r\ndown").unwrap(),
        (503, "down".into())
    );
    assert!(http::parse_response(b"SSH-2.0-OpenSSH").is_err());
    assert!(http::parse_response(b"HTTP/1.1 abc").is_err());
    assert!(http::parse_response(&[0xff, 0xfe]).is_err());
}

use crate::alert;
use crate::incident::{self, Finished, Transition};
use crate::uptime;

#[test]
fn probes_open_and_resolve_incidents() {
    assert_eq!(incident::on_probe(false, false), Transition::Open);
    assert_eq!(incident::on_probe(false, true), Transition::Keep);
    assert_eq!(incident::on_probe(true, true), Transition::Resolve);
    assert_eq!(incident::on_probe(true, false), Transition::Keep);
}

#[test]
fn incidents_go_to_the_latest_deployment_within_the_window() {
    let d = |id, env: &str, finished_ms| Finished {
        id,
        env: env.into(),
        finished_ms,
    };
    let ds = [
        d(1, "staging", 1_000),
        d(2, "staging", 5_000),
        d(3, "prod", 6_000),
        d(4, "staging", 9_000),
    ];
    assert_eq!(incident::attribute(&ds, "staging", 8_000, 10_000), Some(2));
    assert_eq!(incident::attribute(&ds, "staging", 9_500, 10_000), Some(4));
    assert_eq!(incident::attribute(&ds, "staging", 8_000, 2_000), None);
    assert_eq!(incident::attribute(&ds, "staging", 500, 10_000), None);
    assert_eq!(incident::attribute(&ds, "dev", 8_000, 10_000), None);
}

#[test]
fn uptime_and_error_budget() {
    let u = uptime::uptime([true, true, true, false]);
    assert_eq!((u.samples, u.ok, u.percent), (4, 3, Some(75.0)));
    let s = uptime::slo(50.0, u);
    assert_eq!(
        (s.failures, s.allowed_failures, s.budget_left_percent, s.met),
        (1, 2.0, 50.0, true)
    );
    let s = uptime::slo(
        99.0,
        uptime::uptime(vec![true; 99].into_iter().chain([false, false])),
    );
    assert!(s.budget_left_percent < 0.0 && !s.met, "{s:?}");
    let empty = uptime::slo(99.9, uptime::uptime([]));
    assert_eq!(
        (empty.budget_left_percent, empty.met, empty.uptime.percent),
        (100.0, true, None)
    );
    assert_eq!(uptime::parse_target("99.9%"), Ok(99.9));
    assert!(uptime::parse_target("0").is_err());
    assert!(uptime::parse_target("101").is_err());
    assert!(uptime::parse_target("x").is_err());
    let all = uptime::slo(100.0, uptime::uptime([true, false]));
    assert!(!all.met && all.budget_left_percent < 0.0);
}

#[test]
fn an_alertmanager_webhook_is_read() {
    let alerts = alert::parse(include_str!("../tests/data/alertmanager-firing.json")).unwrap();
    assert_eq!(alerts.len(), 2);
    let a = &alerts[0];
    assert_eq!(
        (
            a.key.as_str(),
            a.name.as_str(),
            a.firing,
            a.env.as_str(),
            a.service.as_str(),
            a.severity.as_str()
        ),
        (
            "alertmanager:7c4f6a2b9d1e3f05",
            "HighErrorRate",
            true,
            "staging",
            "inventory",
            "critical"
        )
    );
    assert_eq!(a.summary, "5xx ratio above 5% for 5 minutes");
    assert_eq!(a.at.as_deref(), Some("2026-11-27T10:00:00.000Z"));
    let b = &alerts[1];
    assert_eq!(
        (b.firing, b.service.as_str(), b.summary.as_str()),
        (false, "db", "disk usage back under 80%")
    );
    assert_eq!(b.at.as_deref(), Some("2026-11-27T09:40:00.000Z"));
}

#[test]
fn generic_alerts_and_bad_input() {
    let alerts =
        alert::parse(r#"{"alerts":[{"name":"Down","status":"firing","env":"dev"}]}"#).unwrap();
    assert_eq!(alerts[0].key, "generic:Down/dev/Down");
    let e = alert::parse(r#"{"alerts":[{"name":"Down","status":"firing","env":"dev"},{"name":"X","status":"on","env":"dev"}]}"#).unwrap_err();
    assert_eq!(e.location, "alerts[1].status");
    let e = alert::parse("{\n\"alerts\": [,]}").unwrap_err();
    assert!(e.location.starts_with("line 2"), "{e}");
    let e = alert::parse(
        r#"{"receiver":"x","alerts":[{"status":"firing","labels":{"alertname":"A"}}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.location, "alerts[0].labels");
    assert!(alert::parse("[]").is_err());
    assert!(alert::parse(r#"{"alerts":[{"name":1,"status":"firing","env":"dev"}]}"#).is_err());
}

use crate::usage::{self, Kind, Thresholds};

fn access_log() -> Vec<usage::Request> {
    include_str!("../tests/data/access.log")
        .lines()
        .map(|l| usage::parse_line(l).unwrap())
        .collect()
}

/// `n` requests from `client` to `path` spread over one minute from `start_ms`.
fn burst(client: &str, path: &str, status: u16, start_ms: i64, n: i64) -> Vec<usage::Request> {
    (0..n)
        .map(|i| usage::Request {
            time_ms: start_ms + i * 59_000 / n,
            client: client.into(),
            method: "GET".into(),
            route: usage::route_of(path),
            status,
        })
        .collect()
}

/// A minute boundary on 2026-11-27.
const T0: i64 = 1_795_770_000_000;

#[test]
fn access_log_lines_parse_in_every_format() {
    let r = usage::parse_line(
        r#"203.0.113.9 - frank [27/Nov/2026:10:00:00 +0100] "GET /items/42/stock?x=1 HTTP/1.1" 200 512 "-" "curl/8""#,
    )
    .unwrap();
    assert_eq!(
        (
            r.client.as_str(),
            r.method.as_str(),
            r.route.as_str(),
            r.status
        ),
        ("203.0.113.9", "GET", "/items/:id/stock", 200)
    );
    assert_eq!(
        r.time_ms,
        "2026-11-27T09:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    let j = usage::parse_line(r#"{"time":"2026-11-27T09:00:00Z","remote_addr":"10.0.0.1","uri":"/a/0123456789abcdef0123","status":"401","method":"POST"}"#).unwrap();
    assert_eq!(
        (j.route.as_str(), j.status, j.method.as_str()),
        ("/a/:id", 401, "POST")
    );
    let e = usage::parse_line(r#"{"ts":1795770000,"ip":"x","path":"/"}"#).unwrap_err();
    assert!(e.contains("field `status`"), "{e}");
    assert!(
        usage::parse_line("garbage line")
            .unwrap_err()
            .contains("field `time`")
    );
    assert!(
        usage::parse_line(r#"h - - [32/Foo/2026:99:00:00 +0000] "GET / HTTP/1.1" 200 1"#).is_err()
    );
    assert!(
        usage::parse_line(r#"h - - [27/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" abc 1"#).is_err()
    );
    assert!(usage::parse_line(r#"{"ts":1e300,"ip":"x","path":"/","status":200}"#).is_err());
    assert_eq!(usage::route_of("http://h:8/x/7?y"), "/x/:id");
    assert_eq!(usage::route_of(""), "/");
}

#[test]
fn a_normal_log_has_no_abnormal_usage() {
    assert_eq!(usage::detect(&access_log(), &Thresholds::default()), vec![]);
}

#[test]
fn an_injected_burst_is_one_finding_naming_the_client() {
    let mut log = access_log();
    let start = log[40].time_ms - log[40].time_ms % 60_000;
    log.extend(burst("192.0.2.200", "/items/7", 200, start, 150));
    let findings = usage::detect(&log, &Thresholds::default());
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(
        (f.kind, f.subject.as_str(), f.peak),
        (Kind::Burst, "192.0.2.200", 150)
    );
    assert_eq!(f.route.as_deref(), Some("/items/:id"));
    assert_eq!(f.first_ms, start);
    assert!(f.baseline >= 1.0 && f.baseline <= 3.0, "{f:?}");
    // The same burst spread over two windows is still one finding.
    let mut log = access_log();
    log.extend(burst("192.0.2.200", "/", 200, start, 100));
    log.extend(burst("192.0.2.200", "/", 200, start + 60_000, 100));
    assert_eq!(usage::detect(&log, &Thresholds::default()).len(), 1);
}

#[test]
fn repeated_auth_failures_and_distributed_bursts_are_found() {
    let mut log = access_log();
    log.extend(burst("192.0.2.99", "/login", 401, T0, 12));
    let findings = usage::detect(&log, &Thresholds::default());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        (findings[0].kind, findings[0].subject.as_str()),
        (Kind::AuthFailures, "192.0.2.99")
    );
    let mut log = access_log();
    for i in 0..40 {
        log.extend(burst(&format!("10.1.0.{i}"), "/search", 200, T0, 2));
    }
    let findings = usage::detect(&log, &Thresholds::default());
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        (
            findings[0].kind,
            findings[0].subject.as_str(),
            findings[0].peak
        ),
        (Kind::RouteBurst, "/search", 80)
    );
    // Thresholds are configurable.
    let strict = Thresholds {
        auth_failures: 3,
        ..Thresholds::default()
    };
    assert_eq!(usage::detect(&access_log(), &strict), vec![]);
    let stricter = Thresholds {
        auth_failures: 1,
        ..Thresholds::default()
    };
    assert_eq!(usage::detect(&access_log(), &stricter).len(), 1);
    assert_eq!(usage::detect(&[], &Thresholds::default()), vec![]);
}
