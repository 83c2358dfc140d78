//! Monitoring use cases (Fig 19): monitors and `dso monitor run`, uptime,
//! SLOs, alert intake, incidents opened by failing probes and firing
//! alerts, attributed to the latest deployment to their environment.
//!
//! NOTE: `run` probes every due monitor concurrently, but writes their
//! results one after the other once all probes of the round are done: no
//! store write is ever awaited while another future of the task may sit
//! inside a write transaction (see `pipeline::drive`).

use std::time::Duration;

use dso_audit::{Event, NewEvent};
use dso_monitoring::alert::Alert;
use dso_monitoring::incident::{self, Finished, Transition};
use dso_monitoring::uptime::{self, SloStatus, Uptime};
use dso_store::NewIncident;
pub use dso_store::{IncidentRecord, MonitorRecord, SampleRecord, SloRecord, TimelineEntry};

use crate::probe::{ProbeResult, ProbeSpec};
use crate::{AppError, Context};

/// Event types of the Monitoring domain (CDEvents v0.5 where one exists).
pub mod types {
    pub const MONITOR_CONFIGURED: &str = "dev.cdeventsx.dso.monitor.configured.0.1.0";
    pub const SLO_CONFIGURED: &str = "dev.cdeventsx.dso.slo.configured.0.1.0";
    pub const INCIDENT_DETECTED: &str = "dev.cdevents.incident.detected.0.3.0";
    pub const INCIDENT_REPORTED: &str = "dev.cdevents.incident.reported.0.3.0";
    pub const INCIDENT_RESOLVED: &str = "dev.cdevents.incident.resolved.0.3.0";
    pub const INCIDENT_NOTED: &str = "dev.cdeventsx.dso.incident.noted.0.1.0";
}

/// The actor recorded for what the monitor does by itself.
pub const MONITOR_ACTOR: &str = "dso-monitor";

/// A monitor to add.
#[derive(Debug, Clone)]
pub struct NewMonitor {
    pub name: String,
    pub env: String,
    pub service: String,
    pub spec: ProbeSpec,
    pub interval: Duration,
    pub timeout: Duration,
}

/// Adds or replaces a monitor.
pub async fn add_monitor(ctx: &Context, m: &NewMonitor) -> Result<MonitorRecord, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("monitors"),
    )
    .await?;
    check_name(&m.name, "monitor")?;
    crate::operational::environment(ctx, &m.env).await?;
    if m.interval < Duration::from_millis(100) || m.timeout.is_zero() {
        return Err(AppError::Input {
            location: format!("monitor `{}`", m.name),
            message: "the interval must be at least 100ms and the timeout above 0".into(),
        });
    }
    let (kind, target, expect_status, expect_body, ca_file) = match &m.spec {
        ProbeSpec::Http {
            url,
            expect_status,
            expect_body,
            ca_file,
        } => {
            let parsed =
                dso_monitoring::http::parse_url(url).map_err(|message| AppError::Input {
                    location: format!("monitor `{}`", m.name),
                    message,
                })?;
            let ca_file = match ca_file {
                Some(_) if !parsed.https => {
                    return Err(AppError::Input {
                        location: "--ca-file".into(),
                        message: "a CA file is for https:// monitors".into(),
                    });
                }
                Some(path) => {
                    let text = std::fs::read_to_string(path).map_err(|e| AppError::Input {
                        location: "--ca-file".into(),
                        message: format!("{}: {e}", path.display()),
                    })?;
                    if !text.contains("-----BEGIN CERTIFICATE-----") {
                        return Err(AppError::Input {
                            location: "--ca-file".into(),
                            message: format!("{}: no PEM certificate in it", path.display()),
                        });
                    }
                    Some(path.display().to_string())
                }
                None => None,
            };
            (
                "http",
                url.clone(),
                Some(i64::from(*expect_status)),
                expect_body.clone(),
                ca_file,
            )
        }
        ProbeSpec::Tcp { address } => ("tcp", address.clone(), None, None, None),
    };
    let record = MonitorRecord {
        name: m.name.clone(),
        env: m.env.clone(),
        service: m.service.clone(),
        kind: kind.into(),
        target,
        interval_ms: millis(m.interval),
        timeout_ms: millis(m.timeout),
        expect_status,
        expect_body,
        created_at: now(),
        ca_file,
    };
    let event = ctx.stamp(NewEvent {
        ty: types::MONITOR_CONFIGURED.into(),
        subject: Some(format!("monitor/{}", m.name)),
        data: serde_json::json!({ "subject": { "id": m.name, "content": {
            "environment": { "id": m.env }, "service": { "id": m.service },
            "kind": kind, "target": record.target, "intervalMs": record.interval_ms, "timeoutMs": record.timeout_ms,
        }}}),
    })?;
    let appended = ctx.store.put_monitor(&record, &[event]).await?;
    crate::events::seal(ctx, &appended).await?;
    Ok(record)
}

fn check_name(name: &str, what: &str) -> Result<(), AppError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(AppError::Input {
            location: format!("{what} name `{name}`"),
            message: "use letters, digits, `-`, `_` and `.` (at most 64)".into(),
        })
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Every monitor.
pub async fn monitors(ctx: &Context) -> Result<Vec<MonitorRecord>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("monitors"),
    )
    .await?;
    Ok(ctx.store.monitors().await?)
}

fn spec_of(m: &MonitorRecord) -> ProbeSpec {
    if m.kind == "tcp" {
        ProbeSpec::Tcp {
            address: m.target.clone(),
        }
    } else {
        ProbeSpec::Http {
            url: m.target.clone(),
            expect_status: m
                .expect_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            expect_body: m.expect_body.clone(),
            ca_file: m.ca_file.as_ref().map(std::path::PathBuf::from),
        }
    }
}

/// What one round of `dso monitor run` saw.
#[derive(Debug, Clone)]
pub struct RoundReport {
    pub monitor: String,
    pub result: ProbeResult,
    pub opened: Option<i64>,
    pub resolved: Option<i64>,
}

/// Probes every monitor at its interval until `duration` has passed (one
/// round of every monitor when `None`), storing samples and opening or
/// resolving incidents. `report` is called after each probe.
pub async fn run(
    ctx: &Context,
    duration: Option<Duration>,
    mut report: impl FnMut(&RoundReport),
) -> Result<u64, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("monitors"),
    )
    .await?;
    if ctx.store.monitors().await?.is_empty() {
        return Err(AppError::Input {
            location: "monitors".into(),
            message: "none configured; add one with `dso monitor add`".into(),
        });
    }
    let start = tokio::time::Instant::now();
    let end = duration.map(|d| start + d);
    // When each monitor is next due; monitors are re-read every round, so
    // one added or changed while this runs is picked up.
    let mut next: std::collections::HashMap<String, tokio::time::Instant> = Default::default();
    let mut n = 0u64;
    loop {
        let monitors = ctx.store.monitors().await?;
        next.retain(|name, _| monitors.iter().any(|m| &m.name == name));
        let now_i = tokio::time::Instant::now();
        let due: Vec<&MonitorRecord> = monitors
            .iter()
            .filter(|m| next.get(&m.name).is_none_or(|t| *t <= now_i))
            .collect();
        // Probes only read the network: run them together, then write.
        let results = futures_util::future::join_all(due.iter().map(|m| {
            let spec = spec_of(m);
            let timeout = Duration::from_millis(u64::try_from(m.timeout_ms).unwrap_or(1000));
            async move { (now(), crate::probe::probe(&spec, timeout).await) }
        }))
        .await;
        for (m, (at, result)) in due.iter().zip(results) {
            let r = record_probe(ctx, m, &at, result).await?;
            n += 1;
            report(&r);
            let interval = Duration::from_millis(u64::try_from(m.interval_ms).unwrap_or(1000));
            let mut due_at = next.get(&m.name).copied().unwrap_or(now_i) + interval;
            // A monitor that fell behind starts again from now instead of bursting.
            if due_at < tokio::time::Instant::now() {
                due_at = tokio::time::Instant::now();
            }
            next.insert(m.name.clone(), due_at);
        }
        let Some(end) = end else { break };
        let wake = next.values().min().copied().unwrap_or(end);
        if wake >= end {
            tokio::time::sleep_until(end).await;
            break;
        }
        tokio::time::sleep_until(wake).await;
    }
    Ok(n)
}

async fn record_probe(
    ctx: &Context,
    m: &MonitorRecord,
    at: &str,
    result: ProbeResult,
) -> Result<RoundReport, AppError> {
    let sample = SampleRecord {
        monitor: m.name.clone(),
        at: at.to_owned(),
        ok: result.ok,
        latency_ms: result.latency_ms,
        detail: Some(result.detail.clone()),
    };
    let open = ctx.store.open_incident_for("probe", &m.name).await?;
    let mut out = RoundReport {
        monitor: m.name.clone(),
        result: result.clone(),
        opened: None,
        resolved: None,
    };
    // Samples are measurements, not state changes: stored without an event;
    // the incidents they open and resolve are events.
    ctx.store.add_sample(&sample, &[]).await?;
    match incident::on_probe(result.ok, open.is_some()) {
        Transition::Keep => {}
        Transition::Open => {
            let title = format!("{} probe `{}` failing: {}", m.kind, m.name, result.detail);
            out.opened = open_incident(
                ctx, &m.env, &m.service, "probe", &m.name, "critical", &title, at,
            )
            .await?;
        }
        Transition::Resolve => {
            if let Some(inc) = open {
                let text = format!("probe `{}` passes again: {}", m.name, result.detail);
                if resolve(ctx, &inc, at, MONITOR_ACTOR, &text).await? {
                    out.resolved = Some(inc.id);
                }
            }
        }
    }
    Ok(out)
}

fn parse_ms(time: &str) -> Option<i64> {
    time.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// The deployment an incident in `env` detected at `at` belongs to.
async fn attribute(ctx: &Context, env: &str, at: &str) -> Result<Option<i64>, AppError> {
    let finished: Vec<Finished> = ctx
        .store
        .deployments(Some(env))
        .await?
        .into_iter()
        .filter(|d| d.status == "succeeded" || d.status == "failed")
        .filter_map(|d| {
            Some(Finished {
                id: d.id,
                env: d.env,
                finished_ms: parse_ms(d.finished_at.as_deref()?)?,
            })
        })
        .collect();
    let window_ms = i64::try_from(
        ctx.workspace
            .config
            .operational
            .incident_window_s
            .saturating_mul(1000),
    )
    .unwrap_or(i64::MAX);
    Ok(parse_ms(at).and_then(|t| incident::attribute(&finished, env, t, window_ms)))
}

#[allow(clippy::too_many_arguments)]
async fn open_incident(
    ctx: &Context,
    env: &str,
    service: &str,
    source: &str,
    key: &str,
    severity: &str,
    title: &str,
    at: &str,
) -> Result<Option<i64>, AppError> {
    let deployment_id = attribute(ctx, env, at).await?;
    let release = match deployment_id {
        Some(id) => ctx.store.deployment(id).await?.map(|d| d.version),
        None => None,
    };
    let actor = if source == "probe" {
        MONITOR_ACTOR.to_owned()
    } else {
        ctx.actor.user.clone()
    };
    let new = NewIncident {
        env: env.to_owned(),
        service: service.to_owned(),
        source: source.to_owned(),
        source_key: key.to_owned(),
        severity: severity.to_owned(),
        title: title.to_owned(),
        detected_at: at.to_owned(),
        deployment_id,
        actor,
    };
    let mut failed = None;
    let opened = ctx
        .store
        .open_incident(&new, title, |id| {
            match incident_event(
                ctx,
                if source == "manual" {
                    types::INCIDENT_REPORTED
                } else {
                    types::INCIDENT_DETECTED
                },
                id,
                &new,
                release.as_deref(),
                serde_json::json!({ "detectedAt": at }),
            ) {
                Ok(e) => vec![e],
                Err(e) => {
                    failed = Some(e);
                    Vec::new()
                }
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    match opened {
        Some((id, appended)) => {
            crate::events::seal(ctx, &appended).await?;
            Ok(Some(id))
        }
        None => Ok(None),
    }
}

fn incident_event(
    ctx: &Context,
    ty: &str,
    id: i64,
    i: &NewIncident,
    release: Option<&str>,
    extra: serde_json::Value,
) -> Result<Event, AppError> {
    let mut content = serde_json::json!({
        "description": i.title,
        "environment": { "id": i.env },
        "service": { "id": i.service },
    });
    if let Some(r) = release {
        content["artifactId"] = format!("pkg:generic/{}@{r}", i.service).into();
    }
    let mut custom = serde_json::json!({
        "severity": i.severity, "source": i.source, "sourceKey": i.source_key,
        "deployment": i.deployment_id.map(|d| format!("deployment-{d}")), "release": release,
    });
    if let (Some(map), serde_json::Value::Object(more)) = (custom.as_object_mut(), extra) {
        map.extend(more);
    }
    let mut event = ctx.stamp(NewEvent {
        ty: ty.into(),
        subject: Some(format!("incident-{id}")),
        data: serde_json::json!({ "subject": { "id": format!("incident-{id}"), "content": content }, "customData": custom }),
    })?;
    // What the monitor does by itself is recorded as the monitor's doing.
    if i.actor == MONITOR_ACTOR {
        event.actor = MONITOR_ACTOR.to_owned();
    }
    Ok(event)
}

async fn resolve(
    ctx: &Context,
    inc: &IncidentRecord,
    at: &str,
    by: &str,
    text: &str,
) -> Result<bool, AppError> {
    let new = NewIncident {
        env: inc.env.clone(),
        service: inc.service.clone(),
        source: inc.source.clone(),
        source_key: inc.source_key.clone(),
        severity: inc.severity.clone(),
        title: inc.title.clone(),
        detected_at: inc.detected_at.clone(),
        deployment_id: inc.deployment_id,
        actor: by.to_owned(),
    };
    let release = match inc.deployment_id {
        Some(id) => ctx.store.deployment(id).await?.map(|d| d.version),
        None => None,
    };
    let duration_ms = parse_ms(at)
        .zip(parse_ms(&inc.detected_at))
        .map(|(a, b)| a - b);
    let event = incident_event(
        ctx,
        types::INCIDENT_RESOLVED,
        inc.id,
        &new,
        release.as_deref(),
        serde_json::json!({ "detectedAt": inc.detected_at, "resolvedAt": at, "timeToRestoreMs": duration_ms, "resolution": text }),
    )?;
    let done = ctx
        .store
        .resolve_incident(inc.id, at, by, text, &[event])
        .await?;
    Ok(done)
}

/// What `dso alert ingest` did.
#[derive(Debug, Clone, Default)]
pub struct IngestReport {
    pub alerts: usize,
    pub opened: Vec<i64>,
    pub resolved: Vec<i64>,
}

/// Reads alerts (Alertmanager webhook or generic JSON): a firing alert
/// opens an incident (once), a resolved one resolves it.
pub async fn ingest_alerts(
    ctx: &Context,
    name: &str,
    text: &str,
) -> Result<IngestReport, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("alerts"),
    )
    .await?;
    let alerts = dso_monitoring::alert::parse(text).map_err(|e| AppError::Input {
        location: format!("{name}: {}", e.location),
        message: e.message,
    })?;
    let mut report = IngestReport {
        alerts: alerts.len(),
        ..Default::default()
    };
    for a in &alerts {
        ingest_one(ctx, a, &mut report).await?;
    }
    Ok(report)
}

async fn ingest_one(ctx: &Context, a: &Alert, report: &mut IngestReport) -> Result<(), AppError> {
    let at =
        a.at.as_deref()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .map_or_else(now, dso_audit::format_time);
    if a.firing {
        let title = format!("alert {}: {}", a.name, a.summary);
        if let Some(id) = open_incident(
            ctx,
            &a.env,
            &a.service,
            "alert",
            &a.key,
            &a.severity,
            &title,
            &at,
        )
        .await?
        {
            report.opened.push(id);
        }
    } else if let Some(inc) = ctx.store.open_incident_for("alert", &a.key).await? {
        let text = format!("alert {} resolved", a.name);
        if resolve(ctx, &inc, &at, &ctx.actor.user, &text).await? {
            report.resolved.push(inc.id);
        }
    }
    Ok(())
}

/// Every incident, newest first.
pub async fn incidents(ctx: &Context) -> Result<Vec<IncidentRecord>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("incidents"),
    )
    .await?;
    Ok(ctx.store.incidents().await?)
}

/// One incident with its timeline.
pub async fn incident(
    ctx: &Context,
    id: i64,
) -> Result<(IncidentRecord, Vec<TimelineEntry>), AppError> {
    ctx.store
        .incident(id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "incident",
            value: id.to_string(),
            hint: Some("list incidents with `dso incident list`".into()),
        })
}

/// Reports an incident by hand (`dso incident report`): source `manual`,
/// event `incident.reported`, attributed like the others.
pub async fn report_incident(
    ctx: &Context,
    env: &str,
    service: &str,
    severity: &str,
    title: &str,
) -> Result<i64, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("incidents"),
    )
    .await?;
    crate::operational::environment(ctx, env).await?;
    if title.trim().is_empty() {
        return Err(AppError::Input {
            location: "incident title".into(),
            message: "is empty".into(),
        });
    }
    let at = now();
    // Each report is its own incident: its key is unique.
    let key = format!("{}:{}", ctx.actor.user, at);
    open_incident(ctx, env, service, "manual", &key, severity, title, &at)
        .await?
        .ok_or_else(|| AppError::Input {
            location: "incident".into(),
            message: "an identical report is open already".into(),
        })
}

/// Resolves an incident by hand.
pub async fn resolve_by_hand(
    ctx: &Context,
    id: i64,
    note: Option<&str>,
) -> Result<IncidentRecord, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("incidents"),
    )
    .await?;
    let (inc, _) = incident(ctx, id).await?;
    if inc.status != "open" {
        return Err(AppError::Input {
            location: format!("incident {id}"),
            message: format!("is {} already", inc.status),
        });
    }
    let text = note.map_or_else(|| "resolved by hand".to_owned(), str::to_owned);
    resolve(ctx, &inc, &now(), &ctx.actor.user.clone(), &text).await?;
    Ok(incident(ctx, id).await?.0)
}

/// Adds a note to an incident's timeline.
pub async fn note(ctx: &Context, id: i64, text: &str) -> Result<(), AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("incidents"),
    )
    .await?;
    incident(ctx, id).await?;
    let event = ctx.stamp(NewEvent {
        ty: types::INCIDENT_NOTED.into(),
        subject: Some(format!("incident-{id}")),
        data: serde_json::json!({ "subject": { "id": format!("incident-{id}"), "content": { "note": text } } }),
    })?;
    let appended = ctx
        .store
        .add_incident_note(id, &now(), text, &ctx.actor.user, &[event])
        .await?;
    crate::events::seal(ctx, &appended).await?;
    Ok(())
}

/// Uptime of one environment and service.
#[derive(Debug, Clone)]
pub struct UptimeRow {
    pub env: String,
    pub service: String,
    pub uptime: Uptime,
}

/// Uptime per environment and service over the samples since `since`.
pub async fn uptime_since(ctx: &Context, since: &str) -> Result<Vec<UptimeRow>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("uptime"),
    )
    .await?;
    let monitors = ctx.store.monitors().await?;
    let samples = ctx.store.samples(None, None, since).await?;
    let mut keys: Vec<(String, String)> = monitors
        .iter()
        .map(|m| (m.env.clone(), m.service.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    Ok(keys
        .into_iter()
        .map(|(env, service)| {
            let names: Vec<&str> = monitors
                .iter()
                .filter(|m| m.env == env && m.service == service)
                .map(|m| m.name.as_str())
                .collect();
            let uptime = uptime::uptime(
                samples
                    .iter()
                    .filter(|s| names.contains(&s.monitor.as_str()))
                    .map(|s| s.ok),
            );
            UptimeRow {
                env,
                service,
                uptime,
            }
        })
        .collect())
}

/// Adds or replaces an SLO.
pub async fn add_slo(
    ctx: &Context,
    name: &str,
    env: &str,
    service: &str,
    target: &str,
    window: Duration,
) -> Result<SloRecord, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("slos"),
    )
    .await?;
    check_name(name, "SLO")?;
    crate::operational::environment(ctx, env).await?;
    uptime::parse_target(target).map_err(|message| AppError::Input {
        location: format!("SLO `{name}` target"),
        message,
    })?;
    let record = SloRecord {
        name: name.to_owned(),
        env: env.to_owned(),
        service: service.to_owned(),
        target: target.trim_end_matches('%').to_owned(),
        window_s: i64::try_from(window.as_secs()).unwrap_or(i64::MAX),
        created_at: now(),
    };
    let event = ctx.stamp(NewEvent {
        ty: types::SLO_CONFIGURED.into(),
        subject: Some(format!("slo/{name}")),
        data: serde_json::json!({ "subject": { "id": name, "content": {
            "environment": { "id": env }, "service": { "id": service }, "targetPercent": record.target, "windowSeconds": record.window_s,
        }}}),
    })?;
    let appended = ctx.store.put_slo(&record, &[event]).await?;
    crate::events::seal(ctx, &appended).await?;
    Ok(record)
}

/// Every SLO with its status over its window ending now.
pub async fn slos(ctx: &Context) -> Result<Vec<(SloRecord, SloStatus)>, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRead,
        &dso_governance::rbac::Resource::kind("slos"),
    )
    .await?;
    let mut out = Vec::new();
    for slo in ctx.store.slos().await? {
        let since = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_secs(slo.window_s))
            .map_or_else(|_| String::new(), dso_audit::format_time);
        let samples = ctx
            .store
            .samples(Some(&slo.env), Some(&slo.service), &since)
            .await?;
        let target = uptime::parse_target(&slo.target).unwrap_or(100.0);
        let status = uptime::slo(target, uptime::uptime(samples.iter().map(|s| s.ok)));
        out.push((slo, status));
    }
    Ok(out)
}

fn now() -> String {
    dso_audit::format_time(jiff::Timestamp::now())
}

/// Where abnormal usage found by `dso usage ingest` is reported.
#[derive(Debug, Clone)]
pub struct UsageOptions {
    pub env: String,
    pub service: String,
    pub thresholds: dso_monitoring::usage::Thresholds,
}

/// What `dso usage ingest` found.
#[derive(Debug, Clone, Default)]
pub struct UsageReport {
    pub requests: usize,
    /// Lines that could not be read, and the first one's `FILE:LINE: reason`.
    pub skipped: usize,
    pub first_skipped: Option<String>,
    pub findings: Vec<dso_monitoring::usage::Finding>,
    /// Security incidents opened (an open incident for the same client or route is not opened twice).
    pub opened: Vec<i64>,
}

/// Reads an access log (Common/Combined Log Format or JSON lines), finds
/// abnormal usage and opens one security incident per finding.
pub async fn ingest_usage(
    ctx: &Context,
    name: &str,
    text: &str,
    options: &UsageOptions,
) -> Result<UsageReport, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::IncidentManage,
        &dso_governance::rbac::Resource::kind("usage"),
    )
    .await?;
    use dso_monitoring::usage::{self, Kind};
    crate::operational::environment(ctx, &options.env).await?;
    let mut report = UsageReport::default();
    let mut requests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match usage::parse_line(line) {
            Ok(r) => requests.push(r),
            Err(message) => {
                report.skipped += 1;
                report
                    .first_skipped
                    .get_or_insert_with(|| format!("{name}:{}: {message}", i + 1));
            }
        }
    }
    if requests.is_empty()
        && let Some(first) = report.first_skipped
    {
        return Err(AppError::Input {
            location: name.to_owned(),
            message: format!(
                "no line is an access log entry (Common/Combined Log Format or JSON); first: {first}"
            ),
        });
    }
    report.requests = requests.len();
    report.findings = usage::detect(&requests, &options.thresholds);
    let window_s = options.thresholds.window_ms / 1000;
    for f in &report.findings {
        let (kind, title) = match f.kind {
            Kind::Burst => (
                "burst",
                format!(
                    "security: burst of {} requests in {window_s} s from {} (baseline {} per client){}",
                    f.peak,
                    f.subject,
                    f.baseline,
                    f.route
                        .as_deref()
                        .map(|r| format!(", mostly {r}"))
                        .unwrap_or_default()
                ),
            ),
            Kind::RouteBurst => (
                "route-burst",
                format!(
                    "security: {} requests in {window_s} s to {} from many clients (baseline {} per route)",
                    f.peak, f.subject, f.baseline
                ),
            ),
            Kind::AuthFailures => (
                "auth-failures",
                format!(
                    "security: {} authentication failures in {window_s} s from {}",
                    f.peak, f.subject
                ),
            ),
        };
        let at = jiff::Timestamp::from_millisecond(f.first_ms)
            .map_or_else(|_| now(), dso_audit::format_time);
        let key = format!("{}:{kind}:{}", options.env, f.subject);
        if let Some(id) = open_incident(
            ctx,
            &options.env,
            &options.service,
            "usage",
            &key,
            "critical",
            &title,
            &at,
        )
        .await?
        {
            report.opened.push(id);
        }
    }
    Ok(report)
}
