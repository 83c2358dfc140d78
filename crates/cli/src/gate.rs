//! `dso gate eval|list|show` and `dso policy test`: policy gates as code (Rego).

use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::{Context, OpenOptions, gate};

use crate::output::{Format, print_rows};
use crate::report;
use crate::req::{json, print_json};

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum GateCommand {
    /// Evaluate the gate and store the decision; exit 1 when it denies.
    ///
    /// The input document holds findings, secrets, tests, coverage and SBOM
    /// presence (see docs/governance.md). With --run it is built from what
    /// the run stored, with the findings' triage state as it is now.
    Eval {
        /// The input document (JSON).
        #[arg(long, required_unless_present = "run", conflicts_with = "run")]
        input: Option<PathBuf>,
        /// Build the input from what a pipeline run stored.
        #[arg(long, value_name = "RUN")]
        run: Option<i64>,
        /// Evaluate as of this time (RFC 3339) instead of now, e.g. to see
        /// whether a run still passes after its risk acceptances expire.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Rego files to use instead of the default pack (repeatable).
        #[arg(long = "policy", value_name = "FILE")]
        policies: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List stored gate decisions, newest first.
    List {
        /// Only the decisions about this run.
        #[arg(long, value_name = "RUN")]
        run: Option<i64>,
        #[arg(long, short = 'n', default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show one gate decision: its violations and the input it judged.
    Show {
        id: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// Reads Rego files as (name, text).
pub fn read_pack(files: &[PathBuf]) -> miette::Result<Vec<(String, String)>> {
    files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .map(|t| (f.display().to_string(), t))
                .map_err(|err| miette::miette!("cannot read {}: {err}", f.display()))
        })
        .collect()
}

pub async fn run(options: &OpenOptions, command: GateCommand) -> miette::Result<ExitCode> {
    let ctx = Context::open(options).await.map_err(report)?;
    let (input, run, at, policies, format) = match command {
        GateCommand::Eval {
            input,
            run,
            at,
            policies,
            format,
        } => (input, run, at, policies, format),
        GateCommand::List { run, limit, format } => {
            let rows = gate::decisions(&ctx, run, limit).await.map_err(report)?;
            print_rows(
                format,
                &["id", "subject", "decision", "violated", "evaluated", "by"],
                &rows.iter().map(decision_json).collect::<Vec<_>>(),
            );
            return Ok(ExitCode::SUCCESS);
        }
        GateCommand::Show { id, format } => {
            let d = gate::decision(&ctx, id).await.map_err(report)?;
            let mut doc = decision_json(&d);
            doc["input"] = serde_json::from_str(&d.decision.input).unwrap_or_default();
            match format {
                Format::Json => print_json(&doc),
                Format::Table => {
                    println!(
                        "gate decision {}: {} on {} at {} by {}",
                        d.id,
                        d.decision.decision,
                        d.decision.subject,
                        d.decision.evaluated_at,
                        d.decision.actor
                    );
                    print_violations(&doc["violations"]);
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let (subject, mut doc) = match (input, run) {
        (_, Some(run)) => (
            format!("run/{run}"),
            gate::run_input(&ctx, run).await.map_err(report)?,
        ),
        (Some(input), None) => {
            let text = std::fs::read_to_string(&input)
                .map_err(|err| miette::miette!("cannot read {}: {err}", input.display()))?;
            let doc: serde_json::Value = serde_json::from_str(&text).map_err(|err| {
                miette::miette!(
                    "{}:{}:{}: invalid JSON: {err}",
                    input.display(),
                    err.line(),
                    err.column()
                )
            })?;
            (input.display().to_string(), doc)
        }
        (None, None) => return Err(miette::miette!("give --input FILE or --run RUN")),
    };
    if let Some(at) = at {
        let time: jiff::Timestamp = at.parse().map_err(|e| {
            miette::miette!(
                "--at: `{at}` is not an RFC 3339 time such as 2026-12-01T00:00:00Z ({e})"
            )
        })?;
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("now".into(), dso_audit::format_time(time).into());
        }
    }
    let pack = read_pack(&policies)?;
    let evaluated = gate::eval_stored(&ctx, &subject, &mut doc, pack)
        .await
        .map_err(report)?;
    let decision = &evaluated.decision;
    match format {
        Format::Json => {
            let mut out = serde_json::to_value(decision).expect("a decision serialises");
            out["id"] = evaluated.id.into();
            print_json(&out)
        }
        Format::Table => {
            println!(
                "gate: {} (decision {}, event {})",
                if decision.allow { "allow" } else { "deny" },
                evaluated.id,
                evaluated.event.seq
            );
            print_violations(&serde_json::to_value(&decision.violations).unwrap_or_default());
        }
    }
    Ok(if decision.allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn decision_json(d: &gate::GateDecisionRecord) -> serde_json::Value {
    let violations: serde_json::Value =
        serde_json::from_str(&d.decision.violations).unwrap_or_default();
    let violated: Vec<&str> = violations
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["rule"].as_str())
        .collect();
    serde_json::json!({
        "id": d.id,
        "subject": d.decision.subject,
        "violated": violated.join(", "),
        "run": d.decision.run_id,
        "decision": d.decision.decision,
        "violations": violations,
        "policies": serde_json::from_str::<serde_json::Value>(&d.decision.policies).unwrap_or_default(),
        "evaluated": d.decision.evaluated_at,
        "by": d.decision.actor,
    })
}

fn print_violations(violations: &serde_json::Value) {
    for v in violations.as_array().into_iter().flatten() {
        let ids: Vec<&str> = v["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.as_str())
            .collect();
        let ids = if ids.is_empty() {
            String::new()
        } else {
            format!(" [{}]", ids.join(", "))
        };
        println!(
            "  {}: {}{ids}",
            v["rule"].as_str().unwrap_or("?"),
            v["message"].as_str().unwrap_or("")
        );
    }
}

/// `dso policy test [FILE...]`: runs the `test_` rules; exit 1 when one fails.
pub async fn test(
    options: &OpenOptions,
    files: &[PathBuf],
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = Context::open(options).await.map_err(report)?;
    let pack = read_pack(files)?;
    let outcomes = gate::test(&ctx, pack).await.map_err(report)?;
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    match format {
        Format::Json => print_rows(format, &[], &outcomes.iter().map(json).collect::<Vec<_>>()),
        Format::Table => {
            for o in &outcomes {
                let mark = if o.passed { "PASS" } else { "FAIL" };
                println!("{mark} {} ({})", o.name, o.file);
                if let Some(e) = &o.error {
                    println!("     {e}");
                }
            }
            println!("{} passed, {failed} failed", outcomes.len() - failed);
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
