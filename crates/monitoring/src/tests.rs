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
    assert!(
        http::parse_url("https://x")
            .unwrap_err()
            .contains("not supported")
    );
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
