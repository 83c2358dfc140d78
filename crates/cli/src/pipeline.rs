//! `dso run`, `dso runs`, `dso logs`, `dso artifacts`, `dso secret`, `dso pipeline validate`.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dso_app::pipeline::{self, Progress, RunOptions};
use dso_app::{Context, OpenOptions};

use crate::output::{Format, print_rows};
use crate::report;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The product repository (any directory inside it).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// The commit to run: a branch, tag or commit id. Its .dso/pipeline.yaml is used.
    #[arg(long = "ref", default_value = "HEAD", value_name = "REF")]
    git_ref: String,
    /// How many jobs run at once (default: [runner] jobs in dso.toml).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Keep the run's work directory (runs/ID/work) for inspection.
    #[arg(long)]
    keep_workdir: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    command: Option<RunsCommand>,
    /// How many runs to list.
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: i64,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
enum RunsCommand {
    /// One run: its commit and every job with status and timings, in DAG order.
    Show {
        run: i64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum SecretCommand {
    /// Store a secret; the value is read from standard input (never an argument).
    Set { name: String },
    /// List secret names (never values).
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Delete a secret.
    Delete { name: String },
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
pub enum PipelineCommand {
    /// Check a pipeline file and print every problem (file, line, column, hint).
    Validate {
        /// The file (default: .dso/pipeline.yaml).
        #[arg(default_value = ".dso/pipeline.yaml")]
        file: PathBuf,
    },
}

async fn open(options: &OpenOptions) -> miette::Result<Context> {
    Context::open(options).await.map_err(report)
}

pub async fn run(options: &OpenOptions, args: RunArgs) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let trampoline = std::env::current_exe()
        .map_err(|err| miette::miette!("cannot find the dso executable: {err}"))?;
    let run_options = RunOptions {
        repo: if args.repo.is_absolute() {
            args.repo.clone()
        } else {
            options.cwd.join(&args.repo)
        },
        git_ref: args.git_ref.clone(),
        max_parallel: args.jobs.unwrap_or(ctx.workspace.config.runner.jobs),
        trampoline,
        keep_workdir: args.keep_workdir,
    };
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("dso: interrupted; stopping every job");
            let _ = cancel_tx.send(true);
        }
    });
    let started = Instant::now();
    let mut printer = Printer::new();
    let summary = pipeline::run(&ctx, &run_options, cancel_rx, &mut |p| printer.print(p))
        .await
        .map_err(report)?;
    let run = &summary.run;
    println!(
        "run {} {} in {}",
        run.id,
        run.status,
        secs(started.elapsed())
    );
    Ok(match run.status.as_str() {
        "success" => ExitCode::SUCCESS,
        "cancelled" => ExitCode::from(130),
        _ => ExitCode::from(1),
    })
}

/// Prints progress: prefixed lines always; on a terminal also a spinner per
/// running job showing its latest line (indicatif).
#[derive(Default)]
struct Printer {
    width: usize,
    bars: Option<(
        indicatif::MultiProgress,
        std::collections::BTreeMap<String, indicatif::ProgressBar>,
    )>,
}

impl Printer {
    fn new() -> Printer {
        use std::io::IsTerminal as _;
        let bars = std::io::stdout().is_terminal().then(|| {
            (
                indicatif::MultiProgress::new(),
                std::collections::BTreeMap::new(),
            )
        });
        Printer { width: 0, bars }
    }

    fn line(&self, text: String) {
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => println!("{text}"),
        }
    }

    fn print(&mut self, progress: Progress) {
        match progress {
            Progress::Queued {
                run_id,
                commit,
                n_jobs,
            } => {
                self.line(format!(
                    "run {run_id} queued: commit {}, {n_jobs} jobs",
                    &commit[..commit.len().min(12)]
                ));
            }
            Progress::JobStarted { job, attempt } => {
                self.width = self.width.max(job.len());
                if let Some((multi, bars)) = &mut self.bars {
                    let bar = multi.add(indicatif::ProgressBar::new_spinner());
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{spinner} {prefix:.bold} {elapsed:>4} {wide_msg}",
                        )
                        .expect("the template is valid"),
                    );
                    bar.set_prefix(job.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bars.insert(job.clone(), bar);
                }
                if attempt > 1 {
                    self.line(format!("[{job}] started (attempt {attempt})"));
                } else {
                    self.line(format!("[{job}] started"));
                }
            }
            Progress::Line { job, text } => {
                if let Some((_, bars)) = &self.bars
                    && let Some(bar) = bars.get(&job)
                {
                    bar.set_message(text.chars().take(200).collect::<String>());
                }
                self.line(format!("[{job:<w$}] {text}", w = self.width));
            }
            Progress::JobFinished {
                job,
                status,
                duration,
            } => {
                if let Some((_, bars)) = &mut self.bars
                    && let Some(bar) = bars.remove(&job)
                {
                    bar.finish_and_clear();
                }
                self.line(format!("[{job}] {status} in {}", secs(duration)));
            }
            Progress::JobSkipped { job, reason } => self.line(format!("[{job}] skipped: {reason}")),
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

pub async fn runs(options: &OpenOptions, args: RunsArgs) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match args.command {
        None => {
            let runs = pipeline::list_runs(&ctx, args.limit)
                .await
                .map_err(report)?;
            let rows: Vec<serde_json::Value> = runs
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "status": r.status,
                        "commit": r.commit_sha,
                        "ref": r.git_ref,
                        "message": r.commit_message.lines().next().unwrap_or_default(),
                        "queued_at": r.queued_at,
                        "duration": duration_between(r.started_at.as_deref(), r.finished_at.as_deref()),
                        "actor": r.actor,
                    })
                })
                .collect();
            print_rows(
                args.format,
                &["id", "status", "duration", "ref", "commit", "message"],
                &rows,
            );
        }
        Some(RunsCommand::Show { run, format }) => {
            let detail = pipeline::show_run(&ctx, run).await.map_err(report)?;
            let (record, jobs, artifacts, suites, coverage, sboms) = (
                detail.run,
                detail.jobs,
                detail.artifacts,
                detail.test_suites,
                detail.coverage,
                detail.sboms,
            );
            let job_name = |idx: i64| {
                jobs.iter()
                    .find(|j| j.idx == idx)
                    .map(|j| j.name.clone())
                    .unwrap_or_default()
            };
            let suite_rows: Vec<serde_json::Value> = suites
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "job": job_name(s.idx),
                        "report": s.report,
                        "suite": s.name,
                        "tests": s.tests,
                        "failures": s.failures,
                        "errors": s.errors,
                        "skipped": s.skipped,
                        "duration_ms": s.duration_ms,
                        "cases": s.cases.iter().map(|c| serde_json::json!({
                            "name": c.name, "classname": c.classname, "outcome": c.outcome,
                            "duration_ms": c.duration_ms, "message": c.message,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let coverage_rows: Vec<serde_json::Value> = coverage
                .iter()
                .map(|c| {
                    let rate =
                        |hit: i64, found: i64| (found > 0).then(|| hit as f64 / found as f64);
                    serde_json::json!({
                        "job": job_name(c.idx),
                        "report": c.report,
                        "format": c.format,
                        "lines_found": c.lines_found,
                        "lines_hit": c.lines_hit,
                        "line_rate": rate(c.lines_hit, c.lines_found),
                        "branches_found": c.branches_found,
                        "branches_hit": c.branches_hit,
                        "branch_rate": rate(c.branches_hit, c.branches_found),
                    })
                })
                .collect();
            let sbom_rows: Vec<serde_json::Value> = sboms
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "job": job_name(s.idx),
                        "name": s.name,
                        "format": s.format,
                        "sha256": s.sha256,
                        "components": s.components,
                    })
                })
                .collect();
            let job_rows: Vec<serde_json::Value> = jobs
                .iter()
                .map(|j| {
                    serde_json::json!({
                        "job": j.name,
                        "activity": j.activity,
                        "needs": j.needs,
                        "status": j.status,
                        "exit_code": j.exit_code,
                        "attempts": j.attempts,
                        "started_at": j.started_at,
                        "duration_ms": j.duration_ms,
                        "duration": j.duration_ms.map(|ms| format!("{:.1}s", ms as f64 / 1000.0)),
                        "detail": j.detail,
                        "artifacts": artifacts.iter().filter(|a| a.idx == j.idx).count(),
                    })
                })
                .collect();
            match format {
                Format::Json => {
                    let doc = serde_json::json!({
                        "id": record.id,
                        "status": record.status,
                        "repo": record.repo,
                        "ref": record.git_ref,
                        "commit": { "sha": record.commit_sha, "author": record.commit_author, "time": record.commit_time, "message": record.commit_message },
                        "backlog_keys": record.backlog_keys,
                        "queued_at": record.queued_at,
                        "started_at": record.started_at,
                        "finished_at": record.finished_at,
                        "actor": record.actor,
                        "jobs": job_rows,
                        "test_suites": suite_rows,
                        "coverage": coverage_rows,
                        "sboms": sbom_rows,
                    });
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&doc).expect("JSON values serialise")
                    );
                }
                Format::Table => {
                    println!("run {}: {}", record.id, record.status);
                    println!("  commit  {} ({})", record.commit_sha, record.git_ref);
                    println!(
                        "  author  {} at {}",
                        record.commit_author, record.commit_time
                    );
                    println!(
                        "  message {}",
                        record.commit_message.lines().next().unwrap_or_default()
                    );
                    if !record.backlog_keys.is_empty() {
                        println!("  backlog {}", record.backlog_keys.join(", "));
                    }
                    println!(
                        "  queued {}  started {}  finished {}",
                        record.queued_at,
                        record.started_at.as_deref().unwrap_or("-"),
                        record.finished_at.as_deref().unwrap_or("-")
                    );
                    print_rows(
                        Format::Table,
                        &[
                            "job", "activity", "needs", "status", "duration", "attempts", "detail",
                        ],
                        &job_rows,
                    );
                    for s in &suites {
                        println!(
                            "  tests    {} {}: {} tests, {} failures, {} errors, {} skipped ({})",
                            job_name(s.idx),
                            s.name,
                            s.tests,
                            s.failures,
                            s.errors,
                            s.skipped,
                            s.report
                        );
                    }
                    for c in &coverage {
                        let pct = if c.lines_found > 0 {
                            100.0 * c.lines_hit as f64 / c.lines_found as f64
                        } else {
                            0.0
                        };
                        println!(
                            "  coverage {} {}: {pct:.1}% of {} lines, {}/{} branches ({})",
                            job_name(c.idx),
                            c.format,
                            c.lines_found,
                            c.branches_hit,
                            c.branches_found,
                            c.report
                        );
                    }
                    for s in &sboms {
                        println!(
                            "  sbom     {} {}: {} with {} components (sha256:{})",
                            job_name(s.idx),
                            s.name,
                            s.format,
                            s.components,
                            s.sha256
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn duration_between(start: Option<&str>, end: Option<&str>) -> Option<String> {
    let start: jiff::Timestamp = start?.parse().ok()?;
    let end: jiff::Timestamp = end?.parse().ok()?;
    let d = end.duration_since(start);
    Some(format!("{:.1}s", d.as_secs_f64()))
}

pub async fn logs(
    options: &OpenOptions,
    run: i64,
    job: Option<String>,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let jobs: Vec<String> = match job {
        Some(job) => vec![job],
        None => pipeline::show_run(&ctx, run)
            .await
            .map_err(report)?
            .jobs
            .into_iter()
            .map(|j| j.name)
            .collect(),
    };
    let several = jobs.len() > 1;
    for job in jobs {
        let attempts = pipeline::job_log(&ctx, run, &job).await.map_err(report)?;
        let n_attempts = attempts.len();
        for (attempt, text) in attempts {
            if several || n_attempts > 1 {
                println!("== {job} (attempt {attempt})");
            }
            print!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn artifacts(
    options: &OpenOptions,
    run: i64,
    format: Format,
) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    let detail = pipeline::show_run(&ctx, run).await.map_err(report)?;
    let (jobs, artifacts) = (detail.jobs, detail.artifacts);
    let store_dir = ctx.workspace.root.join("artifacts").join("sha256");
    let rows: Vec<serde_json::Value> = artifacts
        .iter()
        .map(|a| {
            serde_json::json!({
                "job": jobs.iter().find(|j| j.idx == a.idx).map(|j| j.name.clone()),
                "path": a.path,
                "sha256": a.sha256,
                "size": a.size,
                "stored_at": dso_app::artifacts::object_path(&store_dir, &a.sha256).display().to_string(),
            })
        })
        .collect();
    print_rows(format, &["job", "path", "size", "sha256"], &rows);
    Ok(ExitCode::SUCCESS)
}

pub async fn secret(options: &OpenOptions, command: SecretCommand) -> miette::Result<ExitCode> {
    let ctx = open(options).await?;
    match command {
        SecretCommand::Set { name } => {
            dso_app::secrets::check_name(&name).map_err(report)?;
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .map_err(|err| miette::miette!("cannot read the value from stdin: {err}"))?;
            let value = value.strip_suffix('\n').unwrap_or(&value);
            dso_app::secrets::set(&ctx, &name, value)
                .await
                .map_err(report)?;
            println!("secret {name} stored");
        }
        SecretCommand::List { format } => {
            let rows: Vec<serde_json::Value> = dso_app::secrets::list(&ctx)
                .await
                .map_err(report)?
                .into_iter()
                .map(|(name, updated_at)| serde_json::json!({ "name": name, "updated_at": updated_at }))
                .collect();
            print_rows(format, &["name", "updated_at"], &rows);
        }
        SecretCommand::Delete { name } => {
            dso_app::secrets::delete(&ctx, &name)
                .await
                .map_err(report)?;
            println!("secret {name} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn validate(cwd: &std::path::Path, command: PipelineCommand) -> miette::Result<ExitCode> {
    let PipelineCommand::Validate { file } = command;
    let path = if file.is_absolute() {
        file
    } else {
        cwd.join(file)
    };
    let source = std::fs::read_to_string(&path)
        .map_err(|err| miette::miette!("cannot read {}: {err}", path.display()))?;
    let pipeline = pipeline::validate(&source).map_err(report)?;
    println!("{}: valid, {} jobs", path.display(), pipeline.jobs.len());
    for job in &pipeline.jobs {
        let needs: Vec<&str> = job
            .needs
            .iter()
            .map(|n| pipeline.jobs[n.0].name.as_str())
            .collect();
        if needs.is_empty() {
            println!("  {} ({})", job.name, job.activity);
        } else {
            println!(
                "  {} ({}) needs {}",
                job.name,
                job.activity,
                needs.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
