//! Alert intake: Prometheus Alertmanager webhook payloads (version 4) and a
//! generic JSON format, both read into [`Alert`]s.
//!
//! Generic format:
//!
//! ```json
//! { "alerts": [ { "id": "disk-full-db1", "name": "DiskFull", "status": "firing",
//!                 "env": "production", "service": "db", "severity": "critical",
//!                 "summary": "disk 95% full", "at": "2026-11-27T10:00:00Z" } ] }
//! ```
//!
//! Alertmanager alerts name their environment with an `env` or
//! `environment` label and their service with `service`, `app` or `job`.

use serde_json::Value;

/// One alert, firing or resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable identity across firing and resolved notifications.
    pub key: String,
    pub name: String,
    pub firing: bool,
    pub env: String,
    pub service: String,
    pub severity: String,
    pub summary: String,
    /// When it started (firing) or ended (resolved), RFC 3339, if given.
    pub at: Option<String>,
}

/// A problem with the input, with the JSON path of the field (`alerts[2].status`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct AlertError {
    pub location: String,
    pub message: String,
}

fn err(location: impl Into<String>, message: impl Into<String>) -> AlertError {
    AlertError {
        location: location.into(),
        message: message.into(),
    }
}

/// Reads either format. Errors name the line (syntax) or the field.
pub fn parse(text: &str) -> Result<Vec<Alert>, AlertError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        err(
            format!("line {} column {}", e.line(), e.column()),
            e.to_string(),
        )
    })?;
    let Some(alerts) = value.get("alerts").and_then(Value::as_array) else {
        return Err(err(
            "alerts",
            "missing: expected a list of alerts (Alertmanager webhook or generic format)",
        ));
    };
    if alerts.len() > 10_000 {
        return Err(err("alerts", "more than 10000 alerts in one payload"));
    }
    let alertmanager = value.get("groupKey").is_some() || value.get("receiver").is_some();
    alerts
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let at = format!("alerts[{i}]");
            if alertmanager {
                alertmanager_alert(a, &at)
            } else {
                generic_alert(a, &at)
            }
        })
        .collect()
}

fn string(v: &Value, field: &str, at: &str) -> Result<String, AlertError> {
    match v.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(err(format!("{at}.{field}"), "is empty")),
        Some(_) => Err(err(format!("{at}.{field}"), "must be a string")),
        None => Err(err(format!("{at}.{field}"), "missing")),
    }
}

fn optional(v: &Value, field: &str) -> Option<String> {
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn status(v: &Value, at: &str) -> Result<bool, AlertError> {
    match string(v, "status", at)?.as_str() {
        "firing" => Ok(true),
        "resolved" => Ok(false),
        other => Err(err(
            format!("{at}.status"),
            format!("`{other}` is neither `firing` nor `resolved`"),
        )),
    }
}

fn alertmanager_alert(a: &Value, at: &str) -> Result<Alert, AlertError> {
    let firing = status(a, at)?;
    let labels = a
        .get("labels")
        .filter(|l| l.is_object())
        .ok_or_else(|| err(format!("{at}.labels"), "missing or not an object"))?;
    let label_at = format!("{at}.labels");
    let name = string(labels, "alertname", &label_at)?;
    let env = optional(labels, "env")
        .or_else(|| optional(labels, "environment"))
        .ok_or_else(|| {
            err(
                &label_at,
                "no `env` or `environment` label: dso needs the environment to open an incident",
            )
        })?;
    let service = optional(labels, "service")
        .or_else(|| optional(labels, "app"))
        .or_else(|| optional(labels, "job"))
        .unwrap_or_else(|| name.clone());
    let annotations = a.get("annotations").cloned().unwrap_or(Value::Null);
    let summary = optional(&annotations, "summary")
        .or_else(|| optional(&annotations, "description"))
        .unwrap_or_else(|| name.clone());
    let key = match optional(a, "fingerprint") {
        Some(f) => format!("alertmanager:{f}"),
        None => {
            // Without a fingerprint the sorted labels identify the alert.
            let mut pairs: Vec<String> = labels
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default();
            pairs.sort();
            format!("alertmanager:{}", pairs.join(","))
        }
    };
    Ok(Alert {
        key,
        name,
        firing,
        env,
        service,
        severity: optional(labels, "severity").unwrap_or_else(|| "warning".into()),
        summary,
        at: if firing {
            optional(a, "startsAt")
        } else {
            optional(a, "endsAt")
        },
    })
}

fn generic_alert(a: &Value, at: &str) -> Result<Alert, AlertError> {
    let firing = status(a, at)?;
    let name = string(a, "name", at)?;
    let env = string(a, "env", at)?;
    let service = optional(a, "service").unwrap_or_else(|| name.clone());
    let id = optional(a, "id").unwrap_or_else(|| format!("{name}/{env}/{service}"));
    Ok(Alert {
        key: format!("generic:{id}"),
        summary: optional(a, "summary").unwrap_or_else(|| name.clone()),
        name,
        firing,
        env,
        service,
        severity: optional(a, "severity").unwrap_or_else(|| "warning".into()),
        at: optional(a, "at"),
    })
}
