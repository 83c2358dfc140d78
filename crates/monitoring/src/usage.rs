//! Abnormal usage in access logs (the Security Engineer's goal: recognise
//! abnormal usage patterns).
//!
//! Reads Common and Combined Log Format lines and JSON lines, counts
//! requests per client and per route in fixed windows, learns the typical
//! (median) count of a client and of a route in a window, and reports:
//!
//! - a **burst** when one client's requests in a window exceed
//!   `burst_factor` × the client baseline and `burst_min`;
//! - a **route burst** when a route's requests in a window exceed
//!   `burst_factor` × the route baseline and `burst_min` with no single
//!   bursting client behind it (a distributed burst);
//! - **authentication failures** when one client gets at least
//!   `auth_failures` 401/403 answers in a window.
//!
//! Each finding names one client or route once, however many windows it
//! spans, so one injected burst is one finding.

use std::collections::{BTreeMap, BTreeSet};

/// One request of an access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub client: String,
    pub method: String,
    /// The path without its query, ids replaced by `:id`.
    pub route: String,
    pub status: u16,
}

/// Detection thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub window_ms: i64,
    pub burst_factor: f64,
    pub burst_min: u64,
    pub auth_failures: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            window_ms: 60_000,
            burst_factor: 10.0,
            burst_min: 30,
            auth_failures: 10,
        }
    }
}

/// What kind of abnormal usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Burst,
    RouteBurst,
    AuthFailures,
}

/// One abnormal pattern.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The client, or the route for a route burst.
    pub subject: String,
    /// Start of the first window it was seen in (ms since the epoch).
    pub first_ms: i64,
    /// The largest count in one window.
    pub peak: u64,
    /// The baseline it was compared with (median count per window).
    pub baseline: f64,
    /// The route most requested in the peak window (for a client).
    pub route: Option<String>,
}

/// Parses one line: JSON (starting with `{`) or Common/Combined Log Format.
pub fn parse_line(line: &str) -> Result<Request, String> {
    let line = line.trim();
    if line.starts_with('{') {
        parse_json(line)
    } else {
        parse_clf(line)
    }
}

fn parse_clf(line: &str) -> Result<Request, String> {
    // host ident user [time] "METHOD path proto" status bytes ["referer" "agent"]
    let (client, rest) = line
        .split_once(' ')
        .ok_or("not Common Log Format: no fields")?;
    let open = rest.find('[').ok_or("field `time`: missing `[`")?;
    let close = rest[open..].find(']').ok_or("field `time`: missing `]`")? + open;
    let time = &rest[open + 1..close];
    let time_ms = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", time)
        .and_then(|t| t.to_timestamp())
        .map_err(|e| format!("field `time`: `{time}`: {e}"))?
        .as_millisecond();
    let rest = rest[close + 1..].trim_start();
    let rest = rest
        .strip_prefix('"')
        .ok_or("field `request`: missing `\"`")?;
    let end = rest.find('"').ok_or("field `request`: unterminated")?;
    let request = &rest[..end];
    let mut parts = request.split_whitespace();
    let method = parts.next().unwrap_or("-").to_owned();
    let path = parts.next().unwrap_or("/");
    let status = rest[end + 1..]
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("field `status`: not a number")?;
    Ok(Request {
        time_ms,
        client: client.to_owned(),
        method,
        route: route_of(path),
        status,
    })
}

fn parse_json(line: &str) -> Result<Request, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let pick = |names: &[&str]| names.iter().find_map(|n| v.get(*n)).cloned();
    let time_ms = match pick(&["time", "timestamp", "ts", "@timestamp"]) {
        Some(serde_json::Value::String(s)) => s
            .parse::<jiff::Timestamp>()
            .map_err(|e| format!("field `time`: `{s}`: {e}"))?
            .as_millisecond(),
        Some(serde_json::Value::Number(n)) => {
            let secs = n.as_f64().ok_or("field `time`: not a number")?;
            if !(0.0..4e12).contains(&secs) {
                return Err("field `time`: out of range".into());
            }
            (secs * 1000.0) as i64
        }
        _ => return Err("field `time`: missing (time, timestamp, ts or @timestamp)".into()),
    };
    let client = pick(&["client", "remote_addr", "ip", "client_ip", "remote_ip"])
        .and_then(|c| c.as_str().map(str::to_owned))
        .ok_or("field `client`: missing (client, remote_addr, ip)")?;
    let path = pick(&["path", "uri", "url", "request_uri"])
        .and_then(|c| c.as_str().map(str::to_owned))
        .ok_or("field `path`: missing (path, uri, url)")?;
    let status = pick(&["status", "status_code", "code"])
        .and_then(|s| {
            s.as_u64()
                .or_else(|| s.as_str().and_then(|t| t.parse().ok()))
        })
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("field `status`: missing or not a number")?;
    Ok(Request {
        time_ms,
        client,
        method: pick(&["method"])
            .and_then(|m| m.as_str().map(str::to_owned))
            .unwrap_or_else(|| "-".into()),
        route: route_of(&path),
        status,
    })
}

/// The route of a path: no query, numeric and long hex or UUID segments as `:id`.
pub fn route_of(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let path = path
        .strip_prefix("http://")
        .or_else(|| path.strip_prefix("https://"))
        .map_or(path, |p| p.find('/').map_or("/", |i| &p[i..]));
    let segments: Vec<String> = path
        .split('/')
        .map(|s| {
            let id_like = (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))
                || (s.len() >= 16 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
            if id_like {
                ":id".to_owned()
            } else {
                s.to_owned()
            }
        })
        .collect();
    let route = segments.join("/");
    if route.is_empty() { "/".into() } else { route }
}

fn median(mut xs: Vec<u64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_unstable();
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2] as f64
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) as f64 / 2.0
    }
}

/// Finds abnormal usage in `requests` (any order).
pub fn detect(requests: &[Request], t: &Thresholds) -> Vec<Finding> {
    let window = t.window_ms.max(1);
    let bucket = |ms: i64| ms.div_euclid(window);
    let mut by_client: BTreeMap<(&str, i64), u64> = BTreeMap::new();
    let mut by_route: BTreeMap<(&str, i64), u64> = BTreeMap::new();
    let mut client_routes: BTreeMap<(&str, i64), BTreeMap<&str, u64>> = BTreeMap::new();
    let mut auth: BTreeMap<(&str, i64), u64> = BTreeMap::new();
    for r in requests {
        let b = bucket(r.time_ms);
        *by_client.entry((&r.client, b)).or_default() += 1;
        *by_route.entry((&r.route, b)).or_default() += 1;
        *client_routes
            .entry((&r.client, b))
            .or_default()
            .entry(&r.route)
            .or_default() += 1;
        if r.status == 401 || r.status == 403 {
            *auth.entry((&r.client, b)).or_default() += 1;
        }
    }
    let client_base = median(by_client.values().copied().collect());
    let route_base = median(by_route.values().copied().collect());
    let over = |count: u64, base: f64| {
        count >= t.burst_min && count as f64 > t.burst_factor * base.max(1.0)
    };

    let mut findings: BTreeMap<(Kind, String), Finding> = BTreeMap::new();
    let mut note =
        |kind: Kind, subject: &str, b: i64, count: u64, base: f64, route: Option<String>| {
            let f = findings
                .entry((kind, subject.to_owned()))
                .or_insert_with(|| Finding {
                    kind,
                    subject: subject.to_owned(),
                    first_ms: b * window,
                    peak: 0,
                    baseline: base,
                    route: None,
                });
            f.first_ms = f.first_ms.min(b * window);
            if count > f.peak {
                f.peak = count;
                f.route = route;
            }
        };
    let mut bursting: BTreeSet<i64> = BTreeSet::new();
    for (&(client, b), &count) in &by_client {
        if over(count, client_base) {
            let top = client_routes.get(&(client, b)).and_then(|m| {
                m.iter()
                    .max_by_key(|(_, n)| **n)
                    .map(|(r, _)| (*r).to_owned())
            });
            note(Kind::Burst, client, b, count, client_base, top);
            bursting.insert(b);
        }
    }
    for (&(route, b), &count) in &by_route {
        if over(count, route_base) && !bursting.contains(&b) {
            note(
                Kind::RouteBurst,
                route,
                b,
                count,
                route_base,
                Some(route.to_owned()),
            );
        }
    }
    for (&(client, b), &count) in &auth {
        if count >= t.auth_failures.max(1) {
            note(Kind::AuthFailures, client, b, count, 0.0, None);
        }
    }
    findings.into_values().collect()
}
