//! Policy gates: `dso gate eval|list|show`, `uses: dso/gate` and `dso policy test`.
//!
//! A gate's input document is built from what a pipeline run stored
//! ([`run_input`]): the findings its scanner steps and SARIF reports saw,
//! with their triage state as it is now (so an accepted risk waives a
//! finding until its expiry), secrets, test cases, line coverage and SBOM
//! presence; or it is given as a JSON file (`--input`). Every decision is
//! stored (`gate_decisions`) with its input, in the same transaction as its
//! `gate.evaluated` event.

use std::collections::HashSet;

use dso_audit::NewEvent;
use dso_governance::gate::{self, GateDecision, Pack, TestOutcome};
use dso_governance::rbac::{Action, Resource};
use dso_store::{FindingRow, NewGateDecision};

pub use dso_store::GateDecisionRecord;

use crate::access::authorize;
use crate::events::AppendedEntry;
use crate::{AppError, Context};

pub mod types {
    pub const GATE_EVALUATED: &str = "dev.cdeventsx.dso.gate.evaluated.0.1.0";
}

/// Scanners whose findings are secrets (the `secrets` of the input).
const SECRET_SCANNERS: &[&str] = &["dso-secrets", "gitleaks", "detect-secrets", "trufflehog"];

fn pack_or_default(pack: Pack) -> Pack {
    if pack.is_empty() {
        gate::default_pack()
    } else {
        pack
    }
}

/// The state names of the gate's input for a finding's triage status.
fn gate_state(status: &str) -> &str {
    match status {
        "false_positive" => "false-positive",
        "accepted_risk" => "accepted",
        other => other,
    }
}

fn location(f: &FindingRow) -> String {
    match (&f.file, f.line) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.clone(),
        _ => f.scope.clone(),
    }
}

/// Builds a gate's input document from what run `run_id` stored: the
/// findings it saw (secrets apart) in their current triage state, its test
/// cases, line coverage, whether it produced an SBOM, the trace status of
/// every requirement against its tests, the risk acceptances that waive
/// its findings (who approved what, until when) under `approvals`, and the
/// workspace's `[gate]` settings under `config`.
pub async fn run_input(ctx: &Context, run_id: i64) -> Result<serde_json::Value, AppError> {
    let tests = crate::trace::run_results(ctx, run_id).await?;
    let coverage = ctx.store.coverage(run_id).await?;
    let (found, hit) = coverage.iter().fold((0i64, 0i64), |(f, h), c| {
        (f + c.lines_found, h + c.lines_hit)
    });
    let percent = (found > 0).then(|| 100.0 * hit as f64 / found as f64);
    let mut findings = Vec::new();
    let mut secrets = Vec::new();
    let mut approvals = Vec::new();
    for f in findings_seen(ctx, run_id).await? {
        let state = gate_state(&f.status);
        if f.status == "accepted_risk" {
            approvals.push(serde_json::json!({
                "kind": "risk-acceptance", "finding": f.id, "approver": f.approver,
                "justification": f.justification, "until": f.expires,
            }));
        }
        if SECRET_SCANNERS.contains(&f.scanner.as_str()) {
            secrets.push(serde_json::json!({
                "id": f.id, "rule": f.rule, "location": location(&f), "state": state,
                "accepted_until": f.expires,
            }));
        } else {
            findings.push(serde_json::json!({
                "id": f.id, "title": f.title, "tool": f.scanner, "rule": f.rule,
                "severity": f.severity, "state": state, "location": location(&f),
                "accepted_until": f.expires,
            }));
        }
    }
    let sboms = ctx.store.run_sboms(run_id).await?;
    let trace: Vec<serde_json::Value> = crate::trace::trace(ctx, None, tests.clone())
        .await?
        .iter()
        .map(|t| serde_json::json!({"requirement": t.requirement, "status": t.status.as_str()}))
        .collect();
    Ok(serde_json::json!({
        "run": run_id,
        "findings": findings,
        "secrets": secrets,
        "tests": tests.iter().map(|t| serde_json::json!({"name": t.case, "outcome": t.outcome})).collect::<Vec<_>>(),
        "coverage": percent,
        "sbom": !sboms.is_empty(),
        "trace": trace,
        "approvals": approvals,
        "config": { "coverage_min": ctx.workspace.config.gate.coverage_min },
    }))
}

/// The findings run `run_id` saw, each once (two jobs may see the same one).
pub(crate) async fn findings_seen(ctx: &Context, run_id: i64) -> Result<Vec<FindingRow>, AppError> {
    let mut once = HashSet::new();
    Ok(ctx
        .store
        .run_findings(run_id)
        .await?
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| once.insert(f.id.clone()))
        .collect())
}

/// A stored decision and the event that announced it.
#[derive(Debug, Clone)]
pub struct Evaluated {
    pub id: i64,
    pub decision: GateDecision,
    pub event: AppendedEntry,
}

/// Evaluates the gate (the default pack unless `pack` has files) over
/// `input`, adding `now` when the input has none, stores the decision
/// (about run `input.run` when the subject is `run/N`) and records it as a
/// `gate.evaluated` event, both in one transaction.
pub async fn eval(
    ctx: &Context,
    subject: &str,
    mut input: serde_json::Value,
    pack: Pack,
) -> Result<(GateDecision, AppendedEntry), AppError> {
    let evaluated = eval_stored(ctx, subject, &mut input, pack).await?;
    Ok((evaluated.decision, evaluated.event))
}

/// [`eval`], returning the stored decision's id too.
pub async fn eval_stored(
    ctx: &Context,
    subject: &str,
    input: &mut serde_json::Value,
    pack: Pack,
) -> Result<Evaluated, AppError> {
    let role = authorize(ctx, Action::PipelineRun, &Resource::one("gate", subject)).await?;
    let run_id = subject
        .strip_prefix("run/")
        .and_then(|n| n.parse::<i64>().ok());
    if let Some(obj) = input.as_object_mut() {
        obj.entry("now")
            .or_insert_with(|| dso_audit::format_time(jiff::Timestamp::now()).into());
    }
    let pack = pack_or_default(pack);
    let decision = evaluate_off_thread(&pack, input).await?;
    let verdict = if decision.allow { "allow" } else { "deny" };
    let policies: Vec<&String> = pack.iter().map(|(n, _)| n).collect();
    let now = input
        .get("now")
        .and_then(|n| n.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| dso_audit::format_time(jiff::Timestamp::now()));
    let record = NewGateDecision {
        subject: subject.to_owned(),
        run_id,
        decision: verdict.into(),
        violations: serde_json::to_string(&decision.violations).expect("violations serialise"),
        policies: serde_json::to_string(&policies).expect("names serialise"),
        input: input.to_string(),
        evaluated_at: now.clone(),
        actor: ctx.actor.user.clone(),
    };
    let mut actor = ctx.actor.clone();
    actor.role = role;
    let mut tx = ctx.store.begin_write().await?;
    let id = tx.add_gate_decision(&record).await?;
    let event = NewEvent {
        ty: types::GATE_EVALUATED.into(),
        subject: Some(subject.to_owned()),
        data: serde_json::json!({
            "decision": verdict,
            "gateDecision": id,
            "run": run_id,
            "violations": decision.violations,
            "policies": policies,
            "now": now,
        }),
    };
    let stamped = dso_audit::Event::stamp(event, &ctx.workspace.event_source(), &actor)?;
    let mut appended = tx.append(&[stamped]).await?;
    tx.commit().await?;
    crate::events::seal(ctx, &appended).await?;
    Ok(Evaluated {
        id,
        decision,
        event: appended.remove(0),
    })
}

/// Stored gate decisions, newest first (about one run, or all).
pub async fn decisions(
    ctx: &Context,
    run_id: Option<i64>,
    limit: i64,
) -> Result<Vec<GateDecisionRecord>, AppError> {
    authorize(ctx, Action::PipelineRead, &Resource::kind("gate decisions")).await?;
    Ok(ctx.store.gate_decisions(run_id, limit).await?)
}

/// One stored gate decision.
pub async fn decision(ctx: &Context, id: i64) -> Result<GateDecisionRecord, AppError> {
    authorize(
        ctx,
        Action::PipelineRead,
        &Resource::one("gate decision", &id.to_string()),
    )
    .await?;
    ctx.store
        .gate_decision(id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "gate decision",
            value: id.to_string(),
            hint: Some("`dso gate list` shows the decisions".into()),
        })
}

/// Runs the `test_` rules of a pack (the default one unless `pack` has files).
pub async fn test(ctx: &Context, pack: Pack) -> Result<Vec<TestOutcome>, AppError> {
    authorize(ctx, Action::PolicyRead, &Resource::kind("gate policies")).await?;
    gate::run_tests(&pack_or_default(pack)).map_err(policy_error)
}

/// `file:line:col: message` from the gate becomes a located input error.
/// Evaluates the pack on a thread of its own ([`crate::detached`]). A
/// policy may take long (a user's Rego can loop over large inputs): on the
/// runtime's thread it would keep a `dso/gate` step's timeout and the run's
/// cancellation from firing.
async fn evaluate_off_thread(
    pack: &gate::Pack,
    input: &serde_json::Value,
) -> Result<gate::GateDecision, AppError> {
    let (pack, input) = (pack.clone(), input.clone());
    crate::detached::run("dso-gate", move || gate::evaluate(&pack, &input))
        .await
        .map_err(|reason| AppError::Input {
            location: "gate policy".into(),
            message: format!("the evaluation failed: {reason}"),
        })?
        .map_err(policy_error)
}

fn policy_error(e: gate::GateError) -> AppError {
    match e.0.rsplit_once(": ") {
        Some((location, message)) if location.contains(".rego:") => AppError::Input {
            location: location.to_owned(),
            message: message.to_owned(),
        },
        _ => AppError::Input {
            location: "gate policy".into(),
            message: e.0,
        },
    }
}
