//! Policy gates: `dso gate eval` and `dso policy test`.
//!
//! Until pipeline runs store their findings, tests, coverage and SBOM, the
//! gate's input document is given as a JSON file (`--input`); `--run RUN`
//! and `uses: dso/gate` come with the pipeline and assurance work.

use dso_audit::NewEvent;
use dso_governance::gate::{self, GateDecision, Pack, TestOutcome};
use dso_governance::rbac::{Action, Resource};

use crate::access::authorize;
use crate::events::AppendedEntry;
use crate::{AppError, Context};

pub mod types {
    pub const GATE_EVALUATED: &str = "dev.cdeventsx.dso.gate.evaluated.0.1.0";
}

fn pack_or_default(pack: Pack) -> Pack {
    if pack.is_empty() {
        gate::default_pack()
    } else {
        pack
    }
}

/// Builds a gate's input document from what run `run_id` stored: its test
/// cases and line coverage. Findings, secrets and SBOMs are not stored by
/// runs yet, so `findings` and `secrets` are empty and `sbom` is false (the
/// default pack denies on it, which is the honest answer).
pub async fn run_input(ctx: &Context, run_id: i64) -> Result<serde_json::Value, AppError> {
    let tests = crate::trace::run_results(ctx, run_id).await?;
    let coverage = ctx.store.coverage(run_id).await?;
    let (found, hit) = coverage.iter().fold((0i64, 0i64), |(f, h), c| {
        (f + c.lines_found, h + c.lines_hit)
    });
    let percent = (found > 0).then(|| 100.0 * hit as f64 / found as f64);
    Ok(serde_json::json!({
        "run": run_id,
        "findings": [],
        "secrets": [],
        "tests": tests.iter().map(|t| serde_json::json!({"name": t.case, "outcome": t.outcome})).collect::<Vec<_>>(),
        "coverage": percent,
        "sbom": false,
    }))
}

/// Evaluates the gate (the default pack unless `pack` has files) over
/// `input`, adding `now` when the input has none, and records the decision
/// as a `gate.evaluated` event.
pub async fn eval(
    ctx: &Context,
    subject: &str,
    mut input: serde_json::Value,
    pack: Pack,
) -> Result<(GateDecision, AppendedEntry), AppError> {
    let role = authorize(ctx, Action::PipelineRun, &Resource::one("gate", subject)).await?;
    if let Some(obj) = input.as_object_mut() {
        obj.entry("now")
            .or_insert_with(|| dso_audit::format_time(jiff::Timestamp::now()).into());
    }
    let pack = pack_or_default(pack);
    let decision = gate::evaluate(&pack, &input).map_err(policy_error)?;
    let event = NewEvent {
        ty: types::GATE_EVALUATED.into(),
        subject: Some(subject.to_owned()),
        data: serde_json::json!({
            "decision": if decision.allow { "allow" } else { "deny" },
            "violations": decision.violations,
            "policies": pack.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "now": input.get("now"),
        }),
    };
    let mut ctx_role = ctx.actor.clone();
    ctx_role.role = role;
    let stamped = dso_audit::Event::stamp(event, &ctx.workspace.event_source(), &ctx_role)?;
    let mut appended = crate::events::append(ctx, &[stamped]).await?;
    Ok((decision, appended.remove(0)))
}

/// Runs the `test_` rules of a pack (the default one unless `pack` has files).
pub async fn test(ctx: &Context, pack: Pack) -> Result<Vec<TestOutcome>, AppError> {
    authorize(ctx, Action::PolicyRead, &Resource::kind("gate policies")).await?;
    gate::run_tests(&pack_or_default(pack)).map_err(policy_error)
}

/// `file:line:col: message` from the gate becomes a located input error.
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
