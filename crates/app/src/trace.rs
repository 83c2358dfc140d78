//! Traceability: `dso trace link-commits`, `dso trace map`, `dso trace [REQ]`.
//!
//! Commits are linked to backlog items by scanning a git history for item
//! keys (`link-commits`), and by the pipeline runs whose commit message
//! mentions an item key. Test results come from a run's stored JUnit
//! reports (`--run RUN`), from the run a release was made from (`--release
//! VERSION`) or from JUnit XML files (`--junit FILE`).

use dso_audit::NewEvent;
use dso_governance::backlog::keys_in_message;
use dso_governance::rbac::{Action, Resource};
use dso_governance::trace::{self, RequirementTrace, TestResult, TraceInput, TraceItem};
use dso_store::CommitLinkRow;
use serde::Serialize;

use crate::access::authorize;
use crate::events::commit;
use crate::{AppError, Context};

pub mod types {
    pub const COMMITS_LINKED: &str = "dev.cdeventsx.dso.commit.linked.0.1.0";
    pub const TESTS_MAPPED: &str = "dev.cdeventsx.dso.requirement.testsmapped.0.1.0";
}

/// A commit found in a repository.
#[derive(Debug, Clone)]
pub struct Commit {
    pub sha: String,
    pub message: String,
}

/// Reads `git log` of `repo` (a revision range, default `HEAD`).
pub fn git_log(repo: &std::path::Path, range: Option<&str>) -> Result<Vec<Commit>, AppError> {
    let range = range.unwrap_or("HEAD");
    if range.starts_with('-') {
        return Err(AppError::Input {
            location: "--range".into(),
            message: format!("`{range}` is not a revision range"),
        });
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["log", "--format=%H%x1f%B%x1e", range, "--"])
        .output()
        .map_err(|err| AppError::Read {
            path: repo.to_path_buf(),
            source: err,
        })?;
    if !out.status.success() {
        return Err(AppError::Input {
            location: repo.display().to_string(),
            message: format!(
                "git log failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .split('\u{1e}')
        .filter_map(|rec| {
            let (sha, message) = rec.trim_start_matches('\n').split_once('\u{1f}')?;
            Some(Commit {
                sha: sha.trim().to_owned(),
                message: message.trim().to_owned(),
            })
        })
        .filter(|c| !c.sha.is_empty())
        .collect())
}

/// What `link-commits` did.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    pub scanned: usize,
    /// (item key, sha) newly linked.
    pub linked: Vec<(String, String)>,
}

/// `dso trace link-commits`: links every commit that mentions an item key.
pub async fn link_commits(
    ctx: &Context,
    commits: &[Commit],
    run_id: Option<&str>,
) -> Result<LinkReport, AppError> {
    let role = authorize(ctx, Action::BacklogWrite, &Resource::kind("commit links")).await?;
    let keys: Vec<String> = ctx
        .store
        .backlog_items()
        .await?
        .into_iter()
        .map(|i| i.key)
        .collect();
    let now = dso_audit::format_time(jiff::Timestamp::now());
    let mut tx = ctx.store.begin_write().await?;
    let mut linked = Vec::new();
    for c in commits {
        let summary: String = c
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        for key in keys_in_message(&c.message, &keys) {
            let link = CommitLinkRow {
                item_key: key.to_owned(),
                sha: c.sha.clone(),
                summary: summary.clone(),
                run_id: run_id.map(str::to_owned),
            };
            if tx.link_commit(&link, &now).await? {
                linked.push((key.to_owned(), c.sha.clone()));
            }
        }
    }
    let report = LinkReport {
        scanned: commits.len(),
        linked,
    };
    if report.linked.is_empty() {
        return Ok(report);
    }
    let event = NewEvent {
        ty: types::COMMITS_LINKED.into(),
        subject: Some("commit links".into()),
        data: serde_json::json!({
            "links": report.linked.iter().map(|(k, s)| serde_json::json!({"item": k, "sha": s})).collect::<Vec<_>>(),
            "run": run_id,
        }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(report)
}

/// `dso trace map FILE`: records which test cases verify which requirements.
pub async fn map_tests(ctx: &Context, name: &str, text: &str) -> Result<usize, AppError> {
    let role = authorize(
        ctx,
        Action::BacklogWrite,
        &Resource::one("test mapping", name),
    )
    .await?;
    let pairs = trace::parse_mapping(name, text).map_err(|e| AppError::Input {
        location: e.location,
        message: e.message,
    })?;
    for (req, _) in &pairs {
        if ctx.store.requirement(req).await?.is_none() {
            return Err(AppError::Input {
                location: name.to_owned(),
                message: format!("requirement `{req}` does not exist"),
            });
        }
    }
    let mut tx = ctx.store.begin_write().await?;
    let mut added = Vec::new();
    for (req, case) in &pairs {
        if tx.map_test(req, case).await? {
            added.push(serde_json::json!({ "requirement": req, "test": case }));
        }
    }
    if added.is_empty() {
        return Ok(0);
    }
    let n = added.len();
    let event = NewEvent {
        ty: types::TESTS_MAPPED.into(),
        subject: Some(format!("test mapping {name}")),
        data: serde_json::json!({ "mappings": added }),
    };
    commit(ctx, tx, role, vec![event]).await?;
    Ok(n)
}

/// Reads JUnit files given as (name, text), with the pipeline's JUnit
/// parser (`dso_devtest::reports`): a case is `classname.name`.
pub fn junit_results(files: &[(String, String)]) -> Result<Vec<TestResult>, AppError> {
    use dso_devtest::reports::CaseOutcome;
    let mut all = Vec::new();
    for (name, text) in files {
        let report =
            dso_devtest::reports::parse_junit(name, text).map_err(|e| AppError::Input {
                location: name.clone(),
                message: e.to_string(),
            })?;
        for suite in &report.suites {
            for case in &suite.cases {
                let id = match case.classname.as_deref().filter(|c| !c.is_empty()) {
                    Some(class) => format!("{class}.{}", case.name),
                    None => case.name.clone(),
                };
                let outcome = match case.outcome {
                    CaseOutcome::Passed => trace::Outcome::Passed,
                    CaseOutcome::Failed { .. } | CaseOutcome::Error { .. } => {
                        trace::Outcome::Failed
                    }
                    CaseOutcome::Skipped { .. } => trace::Outcome::Skipped,
                };
                all.push(TestResult { case: id, outcome });
            }
        }
    }
    Ok(all)
}

/// The test results a pipeline run stored from its JUnit reports.
pub async fn run_results(ctx: &Context, run_id: i64) -> Result<Vec<TestResult>, AppError> {
    authorize(
        ctx,
        Action::PipelineRead,
        &Resource::one("run", &run_id.to_string()),
    )
    .await?;
    if ctx.store.run(run_id).await?.is_none() {
        return Err(AppError::Unknown {
            kind: "run",
            value: run_id.to_string(),
            hint: Some("`dso runs` lists the runs".into()),
        });
    }
    Ok(ctx
        .store
        .test_suites(run_id)
        .await?
        .into_iter()
        .flat_map(|suite| suite.cases)
        .map(|case| TestResult {
            case: match case.classname.filter(|c| !c.is_empty()) {
                Some(class) => format!("{class}.{}", case.name),
                None => case.name,
            },
            outcome: match case.outcome.as_str() {
                "failed" | "error" => trace::Outcome::Failed,
                "skipped" => trace::Outcome::Skipped,
                _ => trace::Outcome::Passed,
            },
        })
        .collect())
}

/// The test results of the run release `version` was made from: `dso trace
/// --release VERSION` judges a release exactly as `--run` judges that run.
pub async fn release_results(
    ctx: &Context,
    version: &str,
) -> Result<(i64, Vec<TestResult>), AppError> {
    authorize(ctx, Action::TraceRead, &Resource::one("release", version)).await?;
    let release = crate::operational::release(ctx, version).await?;
    let run_id = release.record.run_id;
    Ok((run_id, run_results(ctx, run_id).await?))
}

/// How many runs `dso trace` reads for the backlog keys their commits mention.
const RUNS_SCANNED: i64 = 10_000;

/// `dso trace [REQ]`: the chain and status of one requirement, or of all.
///
/// Commits come from `link-commits` and from the pipeline runs whose commit
/// message mentions an item key.
pub async fn trace(
    ctx: &Context,
    requirement: Option<&str>,
    results: Vec<TestResult>,
) -> Result<Vec<RequirementTrace>, AppError> {
    let resource = match requirement {
        Some(r) => Resource::one("requirement", r),
        None => Resource::kind("requirements"),
    };
    authorize(ctx, Action::TraceRead, &resource).await?;
    let mut requirements: Vec<String> = ctx
        .store
        .requirements()
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if let Some(r) = requirement {
        if !requirements.iter().any(|x| x == r) {
            return Err(AppError::Unknown {
                kind: "requirement",
                value: r.to_owned(),
                hint: Some("`dso req list` shows the requirements".into()),
            });
        }
        requirements = vec![r.to_owned()];
    }
    let flow = crate::backlog::current_flow(ctx).await?;
    let input = TraceInput {
        requirements,
        items: ctx
            .store
            .backlog_items()
            .await?
            .into_iter()
            .map(|i| TraceItem {
                key: i.key,
                state: i.state,
                requirements: i.requirements,
            })
            .collect(),
        commits: ctx
            .store
            .commit_links()
            .await?
            .into_iter()
            .map(|c| (c.item_key, c.sha))
            .chain(
                ctx.store
                    .runs(RUNS_SCANNED)
                    .await?
                    .into_iter()
                    .flat_map(|run| {
                        let sha = run.commit_sha;
                        run.backlog_keys.into_iter().map(move |k| (k, sha.clone()))
                    }),
            )
            .collect(),
        mapping: ctx.store.requirement_tests().await?,
        results,
        closed_state: flow.closed().to_owned(),
    };
    Ok(trace::classify(&input))
}
