//! A snapshot of what the store holds, as counts with labels: what
//! `GET /metrics` (crates/server) exposes to Prometheus.
//!
//! Counts are read from the store at each scrape, so they are exact and
//! survive restarts; nothing is kept in memory between scrapes.

use std::collections::BTreeMap;

use dso_governance::rbac::{Action, Resource};
use dso_store::FindingQuery;

use crate::{AppError, Context};

/// One metric family: name, help, and a value per label set.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    /// Label names, in the order of each key's values.
    pub labels: &'static [&'static str],
    pub values: BTreeMap<Vec<String>, f64>,
}

fn family(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Family {
    Family {
        name,
        help,
        labels,
        values: BTreeMap::new(),
    }
}

fn bump(f: &mut Family, key: &[&str]) {
    *f.values
        .entry(key.iter().map(|s| (*s).to_owned()).collect())
        .or_default() += 1.0;
}

/// How many runs a scrape counts (the newest).
const RUNS_COUNTED: i64 = 100_000;

/// Reads the snapshot. Needs `pipeline.read`.
pub async fn snapshot(ctx: &Context) -> Result<Vec<Family>, AppError> {
    crate::access::authorize(ctx, Action::PipelineRead, &Resource::kind("metrics")).await?;
    let mut events = family("dso_events", "Entries in the audit event log.", &[]);
    events
        .values
        .insert(Vec::new(), ctx.store.count_events().await? as f64);

    let mut findings = family(
        "dso_findings",
        "Findings in the findings store, by severity, triage status and scanner.",
        &["severity", "status", "scanner"],
    );
    for f in ctx.store.findings(&FindingQuery::default()).await? {
        bump(&mut findings, &[&f.severity, &f.status, &f.scanner]);
    }

    let mut runs = family("dso_pipeline_runs", "Pipeline runs by status.", &["status"]);
    for r in ctx.store.runs(RUNS_COUNTED).await? {
        bump(&mut runs, &[&r.status]);
    }

    let mut deployments = family(
        "dso_deployments",
        "Deployments by environment, kind (deploy, rollback) and status.",
        &["env", "kind", "status"],
    );
    for d in ctx.store.deployments(None).await? {
        bump(&mut deployments, &[&d.env, &d.kind, &d.status]);
    }

    let mut incidents = family(
        "dso_incidents",
        "Incidents by environment, severity and status.",
        &["env", "severity", "status"],
    );
    for i in ctx.store.incidents().await? {
        bump(&mut incidents, &[&i.env, &i.severity, &i.status]);
    }

    let mut gates = family(
        "dso_gate_decisions",
        "Policy gate decisions by outcome (the newest 100000).",
        &["decision"],
    );
    for g in ctx.store.gate_decisions(None, 100_000).await? {
        bump(&mut gates, &[&g.decision.decision]);
    }
    Ok(vec![events, findings, runs, deployments, incidents, gates])
}
