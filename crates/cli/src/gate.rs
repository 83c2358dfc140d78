//! `dso gate eval` and `dso policy test`: policy gates as code (Rego).

use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::{Context, OpenOptions, gate};

use crate::output::{Format, print_rows};
use crate::report;
use crate::req::{json, print_json};

#[derive(Debug, clap::Subcommand)]
pub enum GateCommand {
    /// Evaluate the gate over an input document; exit 1 when it denies.
    ///
    /// The document holds findings, secrets, tests, coverage and SBOM
    /// presence (see docs/governance.md); pipeline runs will build it.
    Eval {
        /// The input document (JSON).
        #[arg(long, required_unless_present = "run", conflicts_with = "run")]
        input: Option<PathBuf>,
        /// Build the input from what a pipeline run stored (tests, coverage).
        #[arg(long, value_name = "RUN")]
        run: Option<i64>,
        /// Rego files to use instead of the default pack (repeatable).
        #[arg(long = "policy", value_name = "FILE")]
        policies: Vec<PathBuf>,
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
    let GateCommand::Eval {
        input,
        run,
        policies,
        format,
    } = command;
    let (subject, doc) = match (input, run) {
        (_, Some(run)) => (
            format!("run {run}"),
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
    let pack = read_pack(&policies)?;
    let (decision, appended) = gate::eval(&ctx, &subject, doc, pack)
        .await
        .map_err(report)?;
    match format {
        Format::Json => print_json(&decision),
        Format::Table => {
            println!(
                "gate: {} (event {})",
                if decision.allow { "allow" } else { "deny" },
                appended.seq
            );
            for v in &decision.violations {
                let ids = if v.ids.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", v.ids.join(", "))
                };
                println!("  {}: {}{ids}", v.rule, v.message);
            }
        }
    }
    Ok(if decision.allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
