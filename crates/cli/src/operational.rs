//! `dso env`, `dso release`, `dso deploy`, `dso approve`, `dso rollback`,
//! `dso deployments`.

use std::process::ExitCode;

use dso_app::operational::DeploymentRecord;
use dso_app::operational::{self as ops, DeployOutcome, EnvChanges};
use dso_app::{Context, OpenOptions};
use dso_operational::env::{Environment, HealthCheck, Strategy, Target};

use crate::output::{Format, print_rows};
use crate::report;

async fn open(options: &OpenOptions) -> miette::Result<Context> {
    Context::open(options).await.map_err(report)
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum EnvCommand {
    /// Create an environment.
    Create(EnvArgs),
    /// Change an environment's settings.
    Set(EnvArgs),
    /// List environments (dev, test, staging and production exist from the
    /// start; dso.toml [environments.NAME] adds and configures others).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show an environment's settings in force and which come from dso.toml.
    Show {
        name: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Lowercase letters, digits and `-`.
    name: String,
    /// Deployments need approvals (`--approvals`, at least 1).
    #[arg(long)]
    protected: bool,
    /// Make the environment unprotected.
    #[arg(long, conflicts_with_all = ["protected", "approvals"])]
    unprotected: bool,
    /// Approvals a deployment needs (implies --protected when above 0).
    #[arg(long, value_name = "N")]
    approvals: Option<u32>,
    /// The PIM role (`dso model roles`) an approver must hold (default release-engineer).
    #[arg(long, value_name = "ROLE")]
    approver_role: Option<String>,
    /// Deploy with this bash command; it gets DSO_RELEASE, DSO_ENV,
    /// DSO_ARTIFACT_DIR, DSO_STEP and DSO_STEPS.
    #[arg(long, value_name = "COMMAND", conflicts_with = "kubectl")]
    script: Option<String>,
    /// Deploy with `kubectl apply -f` over these manifests (a file or
    /// directory among the release's artifacts; `{{digest:PATH}}` becomes the
    /// artifact's sha256).
    #[arg(long, value_name = "MANIFESTS")]
    kubectl: Option<String>,
    /// kubectl --context.
    #[arg(long, requires = "kubectl")]
    kube_context: Option<String>,
    /// kubectl --namespace.
    #[arg(long, requires = "kubectl")]
    namespace: Option<String>,
    /// Stepped strategy: run the target N times, checking health after each.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    steps: Option<u32>,
    /// A health check run after each step: http[s]://HOST:PORT/PATH[#STATUS]
    /// or tcp://HOST:PORT (repeatable; replaces the existing checks).
    #[arg(long = "health", value_name = "CHECK")]
    health: Vec<String>,
    /// Seconds the health checks may take to pass (default 30).
    #[arg(long, value_name = "SECONDS")]
    health_timeout: Option<u32>,
    /// Give up on a check after N retries, before the timeout (default:
    /// retry until the timeout).
    #[arg(long, value_name = "N")]
    health_retries: Option<u32>,
    /// A PEM file of CA certificates that https:// checks trust instead of
    /// the public (webpki) roots, for services with a private CA.
    #[arg(long, value_name = "FILE")]
    health_ca: Option<std::path::PathBuf>,
}

impl EnvArgs {
    fn changes(&self) -> miette::Result<EnvChanges> {
        let health = self
            .health
            .iter()
            .map(|h| HealthCheck::parse(h))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                miette::miette!(
                    help = "for example --health http://127.0.0.1:8080/health",
                    "--health: {e}"
                )
            })?;
        let target = match (&self.script, &self.kubectl) {
            (Some(command), _) => Some(Target::Script {
                command: command.clone(),
            }),
            (None, Some(manifests)) => Some(Target::Kubectl {
                manifests: manifests.clone(),
                context: self.kube_context.clone(),
                namespace: self.namespace.clone(),
            }),
            (None, None) => None,
        };
        Ok(EnvChanges {
            protected: if self.protected {
                Some(true)
            } else if self.unprotected {
                Some(false)
            } else {
                None
            },
            approvals: if self.unprotected {
                Some(0)
            } else {
                self.approvals
            },
            approver_role: self.approver_role.clone(),
            target,
            strategy: self.steps.map(|n| {
                if n == 1 {
                    Strategy::AllAtOnce
                } else {
                    Strategy::Stepped { steps: n }
                }
            }),
            health_checks: (!self.health.is_empty()).then_some(health),
            health_timeout_s: self.health_timeout,
            health_retries: self.health_retries.map(Some),
            health_ca_file: match &self.health_ca {
                Some(path) => Some(Some(
                    std::path::absolute(path)
                        .map_err(|e| miette::miette!("--health-ca {}: {e}", path.display()))?
                        .display()
                        .to_string(),
                )),
                None => None,
            },
        })
    }
}

fn env_row(e: &Environment, from_config: &[&str]) -> serde_json::Value {
    let target = match &e.target {
        Target::None => "none".to_owned(),
        Target::Script { command } => format!("script: {command}"),
        Target::Kubectl { manifests, .. } => format!("kubectl: {manifests}"),
    };
    let strategy = match e.strategy {
        Strategy::AllAtOnce => "all-at-once".to_owned(),
        Strategy::Stepped { steps } => format!("stepped ({steps})"),
    };
    serde_json::json!({
        "name": e.name,
        "protected": e.protected,
        "approvals": e.approvals_needed(),
        "approver_role": e.approver_role,
        "target": target,
        "strategy": strategy,
        "health": e.health.checks.iter().map(HealthCheck::display).collect::<Vec<_>>(),
        "health_timeout_s": e.health.timeout_s,
        "health_retries": e.health.retries,
        "health_ca": e.health.ca_file,
        "config": if from_config.is_empty() { "—".to_owned() } else { from_config.join(", ") },
        "from_config": from_config,
        "spec": e,
    })
}

const ENV_COLUMNS: &[&str] = &[
    "name",
    "protected",
    "approvals",
    "approver_role",
    "target",
    "strategy",
    "health",
    "config",
];

pub async fn env(options: &OpenOptions, command: EnvCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        EnvCommand::List { format } => {
            let envs = ops::environments_with_sources(&ctx).await.map_err(report)?;
            print_rows(
                format,
                ENV_COLUMNS,
                &envs
                    .iter()
                    .map(|(e, from)| env_row(e, from))
                    .collect::<Vec<_>>(),
            );
        }
        EnvCommand::Show { name, format } => {
            let envs = ops::environments_with_sources(&ctx).await.map_err(report)?;
            let (env, from) = match envs.into_iter().find(|(e, _)| e.name == name) {
                Some(found) => found,
                // Not there: the lookup names the known environments.
                None => ops::environment_with_sources(&ctx, &name)
                    .await
                    .map_err(report)?,
            };
            let row = env_row(&env, &from);
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&row).expect("JSON values always serialise")
                ),
                Format::Table => {
                    let mark = |key: &str| {
                        if from
                            .iter()
                            .any(|f| *f == key || f.starts_with(&format!("{key}.")))
                        {
                            "  (dso.toml)"
                        } else {
                            ""
                        }
                    };
                    println!("environment `{}`", env.name);
                    println!("  protected:      {}{}", env.protected, mark("protected"));
                    println!(
                        "  approvals:      {}{}",
                        env.approvals_needed(),
                        mark("approvals")
                    );
                    println!(
                        "  approver role:  {}{}",
                        env.approver_role,
                        mark("approver_role")
                    );
                    println!(
                        "  target:         {}{}",
                        row["target"].as_str().unwrap_or(""),
                        mark("target")
                    );
                    println!(
                        "  strategy:       {}{}",
                        row["strategy"].as_str().unwrap_or(""),
                        mark("strategy")
                    );
                    println!(
                        "  health timeout: {} s{}",
                        env.health.timeout_s,
                        mark("health.timeout")
                    );
                    if let Some(r) = env.health.retries {
                        println!("  health retries: {r}{}", mark("health.retries"));
                    }
                    if let Some(ca) = &env.health.ca_file {
                        println!("  health CA file: {ca}{}", mark("health.ca_file"));
                    }
                    println!("  health checks:{}", mark("health.checks"));
                    for c in &env.health.checks {
                        println!("    {}", c.display());
                    }
                }
            }
        }
        EnvCommand::Create(args) => {
            let env = ops::put_environment(&ctx, &args.name, &args.changes()?, true)
                .await
                .map_err(report)?;
            println!("created environment `{}`", env.name);
        }
        EnvCommand::Set(args) => {
            let env = ops::put_environment(&ctx, &args.name, &args.changes()?, false)
                .await
                .map_err(report)?;
            println!("changed environment `{}`", env.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum ReleaseCommand {
    /// Make a release from a successful run: its artifacts with their
    /// SHA-256, its evidence (SBOMs, findings summary, latest gate
    /// decision) and a signed in-toto/SLSA provenance statement over both.
    /// Refused when the run's latest gate decision denies.
    Create {
        #[arg(id = "release", value_name = "VERSION")]
        version: String,
        /// The run whose artifacts are released.
        #[arg(long)]
        run: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Check a release's signature and every artifact's digest; exit 1
    /// naming what was altered.
    Verify {
        #[arg(id = "release", value_name = "VERSION")]
        version: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List releases, newest first.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print a release's DSSE envelope (`--statement`: the decoded in-toto
    /// statement; `--evidence`: its SBOMs, findings summary and gate decision).
    Show {
        #[arg(id = "release", value_name = "VERSION")]
        version: String,
        #[arg(long, conflicts_with = "evidence")]
        statement: bool,
        #[arg(long)]
        evidence: bool,
    },
}

fn release_row(r: &ops::Release) -> serde_json::Value {
    serde_json::json!({
        "version": r.record.version,
        "service": r.record.service,
        "run": r.record.run_id,
        "commit": r.record.commit_sha,
        "artifacts": r.artifacts,
        "evidence": serde_json::from_str::<serde_json::Value>(&r.record.evidence).unwrap_or_default(),
        "created_at": r.record.created_at,
        "created_by": r.record.actor,
    })
}

/// One line: SBOMs, findings by severity, the gate decision.
fn evidence_line(evidence: &serde_json::Value) -> String {
    let sboms = evidence["sboms"].as_array().map_or(0, Vec::len);
    let mut severities = Vec::new();
    if let Some(map) = evidence["findings"]["bySeverity"].as_object() {
        for (severity, states) in map {
            let n: i64 = states
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, n)| n.as_i64())
                .sum();
            severities.push(format!("{n} {severity}"));
        }
    }
    let findings = if severities.is_empty() {
        "no findings".to_owned()
    } else {
        format!("findings: {}", severities.join(", "))
    };
    let gate = match evidence["gate"].as_object() {
        Some(g) => format!(
            "gate: {} (decision {})",
            g.get("decision").and_then(|d| d.as_str()).unwrap_or("?"),
            g.get("id").cloned().unwrap_or_default()
        ),
        None => "gate: not evaluated".to_owned(),
    };
    format!("{sboms} SBOM(s), {findings}, {gate}")
}

pub async fn release(options: &OpenOptions, command: ReleaseCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        ReleaseCommand::Create {
            version,
            run,
            format,
        } => {
            let r = ops::create_release(&ctx, &version, run)
                .await
                .map_err(report)?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&release_row(&r))
                        .expect("JSON values always serialise")
                ),
                Format::Table => {
                    println!(
                        "released `{}` from run {} (commit {}), signed provenance:",
                        r.record.version,
                        r.record.run_id,
                        &r.record.commit_sha[..r.record.commit_sha.len().min(12)]
                    );
                    for a in &r.artifacts {
                        println!("  {}  sha256:{}  {} bytes", a.path, a.sha256, a.size);
                    }
                    let evidence = serde_json::from_str(&r.record.evidence).unwrap_or_default();
                    println!("evidence: {}", evidence_line(&evidence));
                }
            }
        }
        ReleaseCommand::Verify { version, format } => {
            let r = ops::release(&ctx, &version).await.map_err(report)?;
            let problems = ops::verify_release(&ctx, &r);
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "version": version, "ok": problems.is_empty(), "problems": problems,
                        "artifacts": r.artifacts,
                    }))
                    .expect("JSON values always serialise")
                ),
                Format::Table if problems.is_empty() => println!(
                    "release `{version}`: signature valid, {} artifact digests match the artifact store",
                    r.artifacts.len()
                ),
                Format::Table => {
                    for p in &problems {
                        eprintln!("release `{version}`: {p}");
                    }
                }
            }
            if !problems.is_empty() {
                return Ok(ExitCode::from(1));
            }
        }
        ReleaseCommand::List { format } => {
            let rs = ops::releases(&ctx).await.map_err(report)?;
            let rows: Vec<_> = rs
                .iter()
                .map(|r| {
                    let mut row = release_row(r);
                    row["artifacts"] = r.artifacts.len().into();
                    row
                })
                .collect();
            print_rows(
                format,
                &[
                    "version",
                    "service",
                    "run",
                    "commit",
                    "artifacts",
                    "created_at",
                    "created_by",
                ],
                &rows,
            );
        }
        ReleaseCommand::Show {
            version,
            statement,
            evidence,
        } => {
            let r = ops::release(&ctx, &version).await.map_err(report)?;
            let value: serde_json::Value = if evidence {
                serde_json::from_str(&r.record.evidence).unwrap_or_default()
            } else if statement {
                match dso_operational::provenance::open(&r.record.envelope) {
                    Ok((_, s)) => serde_json::to_value(s).expect("a statement always serialises"),
                    Err(p) => return Err(miette::miette!("release `{version}`: {p}")),
                }
            } else {
                serde_json::from_str(&r.record.envelope)
                    .unwrap_or(serde_json::Value::String(r.record.envelope.clone()))
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON values always serialise")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn deployment_row(d: &DeploymentRecord) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "env": d.env,
        "release": d.version,
        "service": d.service,
        "kind": d.kind,
        "status": d.status,
        "requested_by": d.requested_by,
        "requested_at": d.requested_at,
        "started_at": d.started_at,
        "finished_at": d.finished_at,
        "previous_release": d.previous_version,
        "rollback_of": d.rollback_of,
        "commits": d.commits,
        "detail": d.detail,
    })
}

/// Prints what happened; exit 1 when the deployment asked for failed.
fn print_outcome(o: &DeployOutcome, format: Format) -> ExitCode {
    let d = &o.deployment;
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "deployment": deployment_row(d),
                "approvals_missing": o.approvals_missing,
                "rollback": o.rollback.as_ref().map(deployment_row),
                "no_rollback": o.no_rollback,
            }))
            .expect("JSON values always serialise")
        ),
        Format::Table => {
            if o.approvals_missing > 0 {
                let what = if d.kind == "rollback" {
                    "rollback"
                } else {
                    "deployment"
                };
                println!(
                    "{what} {} of `{}` to `{}` waits for {} approval(s): dso approve {}",
                    d.id, d.version, d.env, o.approvals_missing, d.id
                );
            } else {
                println!(
                    "deployment {} ({}) of `{}` to `{}`: {}",
                    d.id, d.kind, d.version, d.env, d.status
                );
                if let Some(detail) = d.detail.as_deref().filter(|_| d.status != "succeeded") {
                    println!("  {detail}");
                }
            }
            if let Some(rb) = &o.rollback {
                println!(
                    "rolled back automatically: deployment {} of `{}` to `{}`: {}",
                    rb.id, rb.version, rb.env, rb.status
                );
            }
            if let Some(why) = &o.no_rollback {
                println!("no automatic rollback: {why}");
            }
        }
    }
    if d.status == "failed" {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub async fn deploy(
    options: &OpenOptions,
    version: String,
    env: String,
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let outcome = ops::deploy(&ctx, &version, &env).await.map_err(report)?;
    Ok(print_outcome(&outcome, format))
}

pub async fn approve(options: &OpenOptions, id: i64, format: Format) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let outcome = ops::approve(&ctx, id).await.map_err(report)?;
    if outcome.approvals_missing > 0 && format == Format::Table {
        println!("approved by `{}`", ctx.actor.user);
    }
    Ok(print_outcome(&outcome, format))
}

pub async fn rollback(
    options: &OpenOptions,
    env: String,
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let outcome = ops::rollback(&ctx, &env).await.map_err(report)?;
    Ok(print_outcome(&outcome, format))
}

pub async fn deployments(
    options: &OpenOptions,
    env: Option<String>,
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let ds = ops::deployments(&ctx, env.as_deref())
        .await
        .map_err(report)?;
    print_rows(
        format,
        &[
            "id",
            "env",
            "release",
            "kind",
            "status",
            "requested_by",
            "finished_at",
            "previous_release",
            "detail",
        ],
        &ds.iter().rev().map(deployment_row).collect::<Vec<_>>(),
    );
    Ok(ExitCode::SUCCESS)
}
