//! `dso trace`: requirement → backlog items → commits → test cases.

use std::path::PathBuf;
use std::process::ExitCode;

use dso_app::trace;
use dso_app::{Context, OpenOptions};

use crate::output::{Format, print_rows};
use crate::report;
use crate::req::json;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TraceArgs {
    #[command(subcommand)]
    command: Option<TraceCommand>,
    /// The requirement to trace (default: every requirement).
    requirement: Option<String>,
    /// JUnit XML reports with the test results to judge by (repeatable).
    #[arg(long, value_name = "FILE")]
    junit: Vec<PathBuf>,
    /// Judge by the test results a pipeline run stored (`dso runs`).
    #[arg(long, value_name = "RUN", conflicts_with = "release")]
    run: Option<i64>,
    /// Judge by the test results of the run a release was made from
    /// (`dso release list`).
    #[arg(long, value_name = "VERSION")]
    release: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Subcommand)]
#[command(defer = true)]
enum TraceCommand {
    /// Link commits of a git repository to the backlog items they mention.
    LinkCommits {
        /// The repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// A revision range (default: HEAD, the whole history).
        #[arg(long)]
        range: Option<String>,
    },
    /// Record which test cases verify which requirements, from a file of
    /// lines `REQ-1: suite.test_case[, other]`.
    Map { file: PathBuf },
}

pub async fn run(options: &OpenOptions, args: TraceArgs) -> miette::Result<ExitCode> {
    let ctx = Context::open(options).await.map_err(report)?;
    match args.command {
        Some(TraceCommand::LinkCommits { repo, range }) => {
            let commits = trace::git_log(&repo, range.as_deref()).map_err(report)?;
            let report = trace::link_commits(&ctx, &commits, None)
                .await
                .map_err(report)?;
            println!(
                "scanned {} commits, linked {}",
                report.scanned,
                report.linked.len()
            );
            for (key, sha) in &report.linked {
                println!("  {key} ← {}", &sha[..sha.len().min(12)]);
            }
        }
        Some(TraceCommand::Map { file }) => {
            let text = std::fs::read_to_string(&file)
                .map_err(|err| miette::miette!("cannot read {}: {err}", file.display()))?;
            let n = trace::map_tests(&ctx, &file.display().to_string(), &text)
                .await
                .map_err(report)?;
            println!("mapped {n} test cases");
        }
        None => {
            let files = args
                .junit
                .iter()
                .map(|f| {
                    std::fs::read_to_string(f)
                        .map(|t| (f.display().to_string(), t))
                        .map_err(|err| miette::miette!("cannot read {}: {err}", f.display()))
                })
                .collect::<miette::Result<Vec<_>>>()?;
            let mut results = trace::junit_results(&files).map_err(report)?;
            if let Some(run) = args.run {
                results.extend(trace::run_results(&ctx, run).await.map_err(report)?);
            }
            if let Some(version) = &args.release {
                let (_, from_release) = trace::release_results(&ctx, version)
                    .await
                    .map_err(report)?;
                results.extend(from_release);
            }
            let traces = trace::trace(&ctx, args.requirement.as_deref(), results)
                .await
                .map_err(report)?;
            let rows: Vec<serde_json::Value> = traces
                .iter()
                .map(|t| {
                    let mut row = json(t);
                    row["commits"] = t
                        .commits
                        .iter()
                        .map(|c| c[..c.len().min(12)].to_owned())
                        .collect::<Vec<_>>()
                        .into();
                    row["tests"] = t
                        .tests
                        .iter()
                        .map(|c| {
                            format!(
                                "{} ({})",
                                c.case,
                                serde_json::to_value(c.outcome)
                                    .expect("an enum serialises")
                                    .as_str()
                                    .unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                        .into();
                    if args.format == Format::Json {
                        row = json(t);
                    }
                    row
                })
                .collect();
            print_rows(
                args.format,
                &["requirement", "status", "items", "commits", "tests"],
                &rows,
            );
            if args.junit.is_empty()
                && args.run.is_none()
                && args.release.is_none()
                && args.format == Format::Table
            {
                eprintln!(
                    "note: no --run, --release or --junit given, so no requirement can be verified"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
