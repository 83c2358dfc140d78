//! `dso run`: one pipeline run of a commit, end to end.
//!
//! 1. Resolve the commit, read `.dso/pipeline.yaml` as it is in that commit,
//!    validate it against the PIM activities (all errors at once).
//! 2. Queue the run (recording the commit, its author, time, message and the
//!    backlog keys it mentions), check the commit out into a fresh work
//!    directory, mark the run started.
//! 3. Drive the pure [`Schedule`] of `dso-devtest`: start ready jobs up to
//!    `--jobs` at a time through the sandboxed runner; retry, time out and
//!    cancel as the file says; skip dependents of failed jobs.
//! 4. After each job: store its masked, compressed log, its artifacts (by
//!    SHA-256 content address) and its status.
//! 5. Finish the run with the pipeline's outcome.
//!
//! Every step is one CDEvents event written in the same transaction as the
//! state it changes: pipelinerun queued/started/finished, taskrun
//! started/finished, build finished, artifact packaged.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use dso_audit::NewEvent;
use dso_devtest::{
    Job, JobId, JobState, Outcome, Pipeline, PipelineOutcome, RefContext, Schedule, SkipReason,
    Step,
};
use dso_runner::{JobEnd, JobSpec, Masker, SandboxSpec};
use dso_store::{ArtifactRecord, JobLog, JobUpdate, NewRun, NewRunJob, RunJobRecord, RunRecord};
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{mpsc, watch};

use crate::{AppError, Context, git};

/// The pipeline file's place in a repository.
pub const PIPELINE_FILE: &str = ".dso/pipeline.yaml";

/// CDEvents types (v0.5) a run emits.
pub mod types {
    pub const PIPELINERUN_QUEUED: &str = "dev.cdevents.pipelinerun.queued.0.3.0";
    pub const PIPELINERUN_STARTED: &str = "dev.cdevents.pipelinerun.started.0.3.0";
    pub const PIPELINERUN_FINISHED: &str = "dev.cdevents.pipelinerun.finished.0.3.0";
    pub const TASKRUN_STARTED: &str = "dev.cdevents.taskrun.started.0.3.0";
    pub const TASKRUN_FINISHED: &str = "dev.cdevents.taskrun.finished.0.3.0";
    pub const BUILD_FINISHED: &str = "dev.cdevents.build.finished.0.3.0";
    pub const ARTIFACT_PACKAGED: &str = "dev.cdevents.artifact.packaged.0.3.0";
    pub const TESTSUITERUN_FINISHED: &str = "dev.cdevents.testsuiterun.finished.0.3.0";
    pub const COVERAGE_REPORTED: &str = "dev.cdeventsx.dso.coverage.reported.0.1.0";
}

/// What `dso run` was asked.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Any directory inside the product repository.
    pub repo: PathBuf,
    /// The commit to run: a branch, tag or commit id.
    pub git_ref: String,
    /// How many jobs may run at once.
    pub max_parallel: usize,
    /// The `dso` executable (it acts as the sandbox trampoline).
    pub trampoline: PathBuf,
    /// Keep the run's work directory afterwards.
    pub keep_workdir: bool,
}

/// What a run reports while it runs.
#[derive(Debug, Clone)]
pub enum Progress {
    Queued {
        run_id: i64,
        commit: String,
        n_jobs: usize,
    },
    JobStarted {
        job: String,
        attempt: u32,
    },
    Line {
        job: String,
        text: String,
    },
    JobFinished {
        job: String,
        status: String,
        duration: Duration,
    },
    JobSkipped {
        job: String,
        reason: String,
    },
}

/// The result of a finished run.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run: RunRecord,
    pub jobs: Vec<RunJobRecord>,
}

/// Everything a job needs to know about its run.
struct Plan<'a> {
    ctx: &'a Context,
    run_id: i64,
    pipeline: Pipeline,
    commit: git::CommitInfo,
    git_ref: String,
    /// The repository's directory name.
    repo_name: String,
    run_dir: PathBuf,
    /// The run's HOME and temporary directories, outside the workspace so
    /// that a `dso` started by a job does not find this workspace above its
    /// temporary files.
    scratch_dir: PathBuf,
    trampoline: PathBuf,
}

/// Runs the pipeline of `options.git_ref`; see the module docs.
///
/// Errors before anything is recorded when the commit or the pipeline file
/// is unusable ([`AppError::Pipeline`] carries every diagnostic). Once the
/// run is queued, job failures are outcomes, not errors.
pub async fn run(
    ctx: &Context,
    options: &RunOptions,
    cancel: watch::Receiver<bool>,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunSummary, AppError> {
    crate::access::authorize(
        ctx,
        dso_governance::rbac::Action::PipelineRun,
        &dso_governance::rbac::Resource::one("pipeline of", &options.git_ref),
    )
    .await?;
    let repo = git::toplevel(&options.repo)?;
    let commit = git::commit(&repo, &options.git_ref)?;
    let source =
        git::file_at(&repo, &commit.sha, PIPELINE_FILE).ok_or_else(|| AppError::Input {
            location: repo.display().to_string(),
            message: format!(
                "there is no {PIPELINE_FILE} in commit {} (`{}`)",
                short(&commit.sha),
                options.git_ref
            ),
        })?;
    let pipeline = validate(&source)?;

    let (branch, tag) = git::ref_names(&repo, &options.git_ref, &commit.sha);
    let changed = git::changed_paths(&repo, &commit.sha);
    let ref_context = RefContext {
        branch: branch.as_deref(),
        tag: tag.as_deref(),
        changed_paths: &changed,
    };
    let mut schedule = Schedule::for_ref(&pipeline, &ref_context);

    let new_run = NewRun {
        repo: repo.display().to_string(),
        git_ref: options.git_ref.clone(),
        commit_sha: commit.sha.clone(),
        commit_author: commit.author.clone(),
        commit_time: commit.time.clone(),
        commit_message: commit.message.clone(),
        backlog_keys: git::backlog_keys(&commit.message),
        pipeline_file: source,
        queued_at: now(),
        actor: ctx.actor.user.clone(),
        host: hostname(),
        pid: Some(i64::from(std::process::id())),
        jobs: pipeline
            .jobs
            .iter()
            .map(|job| NewRunJob {
                idx: job.id.0 as i64,
                name: job.name.clone(),
                activity: job.activity.clone(),
                needs: job
                    .needs
                    .iter()
                    .map(|n| pipeline.jobs[n.0].name.clone())
                    .collect(),
            })
            .collect(),
    };
    let pipeline_name = repo
        .file_name()
        .map_or_else(|| "pipeline".into(), |n| n.to_string_lossy().into_owned());
    let queued_data = serde_json::json!({
        "pipelineName": pipeline_name,
        "commit": commit.sha,
        "ref": options.git_ref,
        "backlogKeys": new_run.backlog_keys,
        "jobs": new_run.jobs.iter().map(|j| &j.name).collect::<Vec<_>>(),
    });
    let queued_event = |id: i64| {
        ctx.stamp(NewEvent {
            ty: types::PIPELINERUN_QUEUED.into(),
            subject: Some(run_subject(id)),
            data: cdevent(&run_subject(id), with_uri(queued_data.clone(), ctx, id)),
        })
    };
    // Stamping cannot fail for these fixed types; check once outside the closure.
    queued_event(0)?;
    let (run_id, appended) = ctx
        .store
        .create_run(&new_run, |id| queued_event(id).expect("checked above"))
        .await?;
    crate::events::seal(ctx, &appended).await?;
    progress(Progress::Queued {
        run_id,
        commit: commit.sha.clone(),
        n_jobs: pipeline.jobs.len(),
    });

    let run_dir = ctx.workspace.root.join("runs").join(run_id.to_string());
    let plan = Plan {
        ctx,
        run_id,
        pipeline,
        commit,
        git_ref: options.git_ref.clone(),
        repo_name: pipeline_name.clone(),
        run_dir,
        scratch_dir: std::env::temp_dir().join(format!("dso-run-{run_id}-{}", std::process::id())),
        trampoline: options.trampoline.clone(),
    };
    let outcome = drive(
        &plan,
        &repo,
        &mut schedule,
        options.max_parallel.max(1),
        cancel,
        progress,
    )
    .await;
    if !options.keep_workdir {
        let _ = std::fs::remove_dir_all(plan.run_dir.join("work"));
    }
    let _ = std::fs::remove_dir_all(&plan.scratch_dir);
    let status = match outcome {
        Ok(status) => status,
        Err(err) => {
            // Record why the run could not go on, then report the error.
            finish_run(&plan, "failed", Some(&err.to_string())).await?;
            return Err(err);
        }
    };
    finish_run(&plan, status, None).await?;
    let run = ctx
        .store
        .run(run_id)
        .await?
        .expect("the run was just stored");
    let jobs = ctx.store.run_jobs(run_id).await?;
    Ok(RunSummary { run, jobs })
}

/// Validates a pipeline file against the model's activities and the built-in steps.
pub fn validate(source: &str) -> Result<Pipeline, AppError> {
    let activities = dso_model::pim().activity_slugs();
    let options = dso_devtest::ValidateOptions {
        activities: &activities,
        uses: BUILTIN_STEPS,
        inputs: crate::steps::INPUTS,
    };
    dso_devtest::validate(PIPELINE_FILE, source, &options).map_err(AppError::Pipeline)
}

/// Built-in steps that `uses:` may name (see [`crate::steps`]).
pub use crate::steps::BUILTIN_STEPS;

async fn drive(
    plan: &Plan<'_>,
    repo: &Path,
    schedule: &mut Schedule,
    max_parallel: usize,
    cancel: watch::Receiver<bool>,
    progress: &mut dyn FnMut(Progress),
) -> Result<&'static str, AppError> {
    let ctx = plan.ctx;
    std::fs::create_dir_all(&plan.run_dir).map_err(|source| AppError::Write {
        path: plan.run_dir.clone(),
        source,
    })?;
    git::checkout(repo, &plan.commit.sha, &plan.run_dir.join("work"))?;
    let started = ctx.stamp(NewEvent {
        ty: types::PIPELINERUN_STARTED.into(),
        subject: Some(run_subject(plan.run_id)),
        data: cdevent(
            &run_subject(plan.run_id),
            with_uri(
                serde_json::json!({ "pipelineName": repo_name(repo), "commit": plan.commit.sha }),
                ctx,
                plan.run_id,
            ),
        ),
    })?;
    let appended = ctx
        .store
        .set_run_status(plan.run_id, "running", Some(&now()), None, &[started])
        .await?;
    crate::events::seal(ctx, &appended).await?;

    let (tx, mut rx) = mpsc::unbounded_channel::<Progress>();
    // Jobs whose `if` is false never run.
    for (idx, state) in schedule.states().to_vec().into_iter().enumerate() {
        if let JobState::Skipped(reason) = state {
            record_skip(plan, JobId(idx), reason, &tx).await?;
        }
    }

    // NOTE: every store write made while jobs run happens inside a future
    // of `running`, never in this loop's body: a job future suspended inside
    // a write transaction holds the database's write lock, and would never
    // be polled again while this loop awaited a write of its own.
    let mut running: FuturesUnordered<Pin<Box<dyn Future<Output = Done> + '_>>> =
        FuturesUnordered::new();
    let mut n_jobs_running = 0;
    let mut cancelled = false;
    loop {
        if !cancelled {
            for id in schedule.ready() {
                if n_jobs_running >= max_parallel {
                    break;
                }
                schedule.start(id).map_err(|err| AppError::Input {
                    location: "schedule".into(),
                    message: err.to_string(),
                })?;
                n_jobs_running += 1;
                let (tx, cancel) = (tx.clone(), cancel.clone());
                running.push(Box::pin(async move {
                    let (id, result) = execute_job(plan, id, tx, cancel).await;
                    Done::Job(id, result)
                }));
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some(message) = rx.recv() => progress(message),
            Some(done) = running.next() => {
                while let Ok(message) = rx.try_recv() {
                    progress(message);
                }
                let (id, result) = match done {
                    Done::Recorded(result) => {
                        result?;
                        continue;
                    }
                    Done::Job(id, result) => (id, result),
                };
                n_jobs_running -= 1;
                let outcome = result?;
                if *cancel.borrow() {
                    cancelled = true;
                }
                let skipped = schedule
                    .finish(id, outcome)
                    .map_err(|err| AppError::Input { location: "schedule".into(), message: err.to_string() })?;
                for job in skipped {
                    if cancelled {
                        // Left pending below and recorded as cancelled.
                        continue;
                    }
                    if let Some(JobState::Skipped(reason)) = schedule.state(job) {
                        let tx = tx.clone();
                        running.push(Box::pin(async move { Done::Recorded(record_skip(plan, job, reason, &tx).await) }));
                    }
                }
            }
        }
    }
    while let Ok(message) = rx.try_recv() {
        progress(message);
    }
    if cancelled || *cancel.borrow() {
        let recorded = ctx.store.run_jobs(plan.run_id).await?;
        for (idx, state) in schedule.states().to_vec().into_iter().enumerate() {
            let unrecorded = recorded.get(idx).is_some_and(|j| j.status == "pending");
            if state == JobState::Pending || (matches!(state, JobState::Skipped(_)) && unrecorded) {
                let update = JobUpdate {
                    status: "cancelled".into(),
                    detail: Some("the run was cancelled".into()),
                    ..Default::default()
                };
                ctx.store
                    .update_job(plan.run_id, idx as i64, &update, None, &[])
                    .await?;
            }
        }
        return Ok("cancelled");
    }
    Ok(match schedule.outcome() {
        Some(PipelineOutcome::Success | PipelineOutcome::SuccessWithAllowedFailures) => "success",
        _ => "failed",
    })
}

/// What a future of the running set finished.
enum Done {
    Job(JobId, Result<Outcome, AppError>),
    Recorded(Result<(), AppError>),
}

async fn record_skip(
    plan: &Plan<'_>,
    id: JobId,
    reason: SkipReason,
    progress: &mpsc::UnboundedSender<Progress>,
) -> Result<(), AppError> {
    let job = &plan.pipeline.jobs[id.0];
    let reason = match reason {
        SkipReason::Condition => "its `if` condition is false for this ref".to_owned(),
        SkipReason::Need(need) => format!(
            "`{}`, which it needs, did not succeed",
            plan.pipeline.jobs[need.0].name
        ),
    };
    let update = JobUpdate {
        status: "skipped".into(),
        detail: Some(reason.clone()),
        ..Default::default()
    };
    plan.ctx
        .store
        .update_job(plan.run_id, id.0 as i64, &update, None, &[])
        .await?;
    let _ = progress.send(Progress::JobSkipped {
        job: job.name.clone(),
        reason,
    });
    Ok(())
}

/// Runs one job to its end (all attempts); returns its schedule outcome.
async fn execute_job(
    plan: &Plan<'_>,
    id: JobId,
    progress: mpsc::UnboundedSender<Progress>,
    cancel: watch::Receiver<bool>,
) -> (JobId, Result<Outcome, AppError>) {
    (id, execute_job_inner(plan, id, progress, cancel).await)
}

async fn execute_job_inner(
    plan: &Plan<'_>,
    id: JobId,
    progress: mpsc::UnboundedSender<Progress>,
    cancel: watch::Receiver<bool>,
) -> Result<Outcome, AppError> {
    let ctx = plan.ctx;
    let job = &plan.pipeline.jobs[id.0];
    let secrets = crate::secrets::reveal(ctx, &job.secrets).await?;
    let masker = Masker::new(secrets.iter().map(|(_, v)| v.as_str()));
    let spec = match &job.step {
        Step::Run { script } => Some(job_spec(plan, job, script, &secrets)?),
        Step::Uses { .. } => None,
    };
    let subject = job_subject(plan.run_id, &job.name);
    let n_attempts = u32::from(job.retry) + 1;
    let started_at = now();
    for attempt in 1..=n_attempts {
        let event = ctx.stamp(NewEvent {
            ty: types::TASKRUN_STARTED.into(),
            subject: Some(subject.clone()),
            data: cdevent(
                &subject,
                serde_json::json!({ "taskName": job.name, "pipelineRun": { "id": run_subject(plan.run_id) }, "activity": job.activity, "attempt": attempt }),
            ),
        })?;
        let update = JobUpdate {
            status: "running".into(),
            attempts: i64::from(attempt),
            started_at: Some(started_at.clone()),
            ..Default::default()
        };
        let appended = ctx
            .store
            .update_job(plan.run_id, id.0 as i64, &update, None, &[event])
            .await?;
        crate::events::seal(ctx, &appended).await?;
        let _ = progress.send(Progress::JobStarted {
            job: job.name.clone(),
            attempt,
        });

        let (output, step_artifacts, step_detail) = match (&job.step, &spec) {
            (Step::Uses { name, with }, _) => {
                run_builtin(plan, id, name, with, &masker, &progress, cancel.clone()).await
            }
            (Step::Run { .. }, Some(spec)) => {
                let job_name = job.name.clone();
                let sender = progress.clone();
                let output = dso_runner::run_job(spec, &masker, cancel.clone(), |line| {
                    let _ = sender.send(Progress::Line {
                        job: job_name.clone(),
                        text: line.to_owned(),
                    });
                })
                .await;
                (output, Vec::new(), None)
            }
            (Step::Run { .. }, None) => unreachable!("a script job always has a spec"),
        };

        let last = attempt == n_attempts
            || matches!(output.end, JobEnd::Cancelled)
            || output.end.succeeded();
        let (status, outcome, detail) = match &output.end {
            JobEnd::Exited(0) => ("success", Outcome::Success, None),
            JobEnd::Exited(code) => (
                "failed",
                Outcome::Failed,
                Some(format!("exited with status {code}")),
            ),
            JobEnd::TimedOut => (
                "failed",
                Outcome::Failed,
                Some(format!("timed out after {}", humantime(job.timeout))),
            ),
            JobEnd::Cancelled => ("cancelled", Outcome::Failed, Some("cancelled".to_owned())),
            JobEnd::SpawnFailed(message) => ("failed", Outcome::Failed, Some(message.clone())),
        };
        let status = match (status, last, job.allow_failure) {
            ("failed", false, _) => "retrying",
            ("failed", true, true) => "allowed_failure",
            (s, _, _) => s,
        };
        let detail = step_detail.or(detail);
        let exit_code = match output.end {
            JobEnd::Exited(code) if spec.is_some() => Some(i64::from(code)),
            _ => None,
        };
        let cdevents_outcome = match status {
            "success" | "allowed_failure" => "success",
            "cancelled" => "cancel",
            _ => "failure",
        };
        let mut events = vec![ctx.stamp(NewEvent {
            ty: types::TASKRUN_FINISHED.into(),
            subject: Some(subject.clone()),
            data: cdevent(
                &subject,
                serde_json::json!({
                    "taskName": job.name,
                    "pipelineRun": { "id": run_subject(plan.run_id) },
                    "outcome": cdevents_outcome,
                    "errors": detail.clone().unwrap_or_default(),
                    "activity": job.activity,
                    "attempt": attempt,
                    "status": status,
                    "exitCode": exit_code,
                    "durationMs": output.duration.as_millis() as u64,
                }),
            ),
        })?];
        let mut artifacts = Vec::new();
        if status == "success" {
            artifacts = collect_artifacts(plan, id, job, &progress)?;
            artifacts.extend(step_artifacts);
            for a in &artifacts {
                events.push(ctx.stamp(NewEvent {
                    ty: types::ARTIFACT_PACKAGED.into(),
                    subject: Some(format!("sha256:{}", a.sha256)),
                    data: cdevent(
                        &format!("sha256:{}", a.sha256),
                        serde_json::json!({ "change": { "id": plan.commit.sha }, "path": a.path, "size": a.size, "job": job.name, "run": run_subject(plan.run_id) }),
                    ),
                })?);
            }
            if job.activity == "build" {
                events.push(ctx.stamp(NewEvent {
                    ty: types::BUILD_FINISHED.into(),
                    subject: Some(subject.clone()),
                    data: cdevent(
                        &subject,
                        serde_json::json!({
                            "artifactId": artifacts.first().map(|a| format!("sha256:{}", a.sha256)),
                            "durationMs": output.duration.as_millis() as u64,
                            "commit": plan.commit.sha,
                        }),
                    ),
                })?);
            }
        }
        let finished_at = now();
        let update = JobUpdate {
            status: status.into(),
            exit_code,
            attempts: i64::from(attempt),
            started_at: Some(started_at.clone()),
            finished_at: Some(finished_at),
            duration_ms: Some(output.duration.as_millis() as i64),
            detail: detail.clone(),
        };
        let log = JobLog {
            attempt: i64::from(attempt),
            data: output.log_gzip,
            n_lines: output.n_lines as i64,
            n_bytes: output.n_bytes as i64,
        };
        let mut appended = ctx
            .store
            .update_job(plan.run_id, id.0 as i64, &update, Some(&log), &events[..1])
            .await?;
        if !artifacts.is_empty() || events.len() > 1 {
            appended.extend(ctx.store.add_artifacts(&artifacts, &events[1..]).await?);
        }
        if last {
            appended.extend(store_reports(plan, id, job, &progress).await?);
            let warn = |text: String| {
                let _ = progress.send(Progress::Line {
                    job: job.name.clone(),
                    text: format!("[dso] {text}"),
                });
            };
            crate::steps::ingest_reports(&step_env(plan, id), &warn).await?;
        }
        crate::events::seal(ctx, &appended).await?;
        let _ = progress.send(Progress::JobFinished {
            job: job.name.clone(),
            status: status.into(),
            duration: output.duration,
        });
        if last {
            return Ok(if status == "allowed_failure" {
                Outcome::AllowedFailure
            } else {
                outcome
            });
        }
    }
    unreachable!("the last attempt always returns")
}

/// What a built-in step of job `id` sees of its run.
fn step_env<'a>(plan: &'a Plan<'a>, id: JobId) -> crate::steps::StepEnv<'a> {
    let job = &plan.pipeline.jobs[id.0];
    crate::steps::StepEnv {
        ctx: plan.ctx,
        run_id: plan.run_id,
        idx: id.0 as i64,
        job,
        work: plan.run_dir.join("work"),
        out_dir: plan.run_dir.join("steps").join(&job.key),
        repo: plan.repo_name.clone(),
    }
}

/// Runs built-in step `name` in-process for job `id`, with the job's
/// timeout and the run's cancellation; returns what the runner returns for
/// a script, the artifacts the step stored, and why it failed.
async fn run_builtin(
    plan: &Plan<'_>,
    id: JobId,
    name: &str,
    with: &BTreeMap<String, String>,
    masker: &Masker,
    progress: &mpsc::UnboundedSender<Progress>,
    mut cancel: watch::Receiver<bool>,
) -> (dso_runner::JobOutput, Vec<ArtifactRecord>, Option<String>) {
    let job = &plan.pipeline.jobs[id.0];
    let started = std::time::Instant::now();
    let env = step_env(plan, id);
    let mut log = crate::steps::StepLog::new(masker, progress.clone(), &job.name);
    let cancelled = async move {
        loop {
            if *cancel.borrow_and_update() {
                return;
            }
            if cancel.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    };
    let result = tokio::select! {
        result = tokio::time::timeout(job.timeout, crate::steps::run(&env, name, with, &mut log)) => Some(result),
        () = cancelled => None,
    };
    let (end, artifacts, detail) = match result {
        None => (JobEnd::Cancelled, Vec::new(), None),
        Some(Err(_elapsed)) => (JobEnd::TimedOut, Vec::new(), None),
        Some(Ok(Ok(outcome))) if outcome.ok => (JobEnd::Exited(0), outcome.artifacts, None),
        Some(Ok(Ok(_denied))) => (
            JobEnd::Exited(1),
            Vec::new(),
            Some("the policy gate denied the run".to_owned()),
        ),
        Some(Ok(Err(err))) => {
            log.line(format!("[dso] error: {err}"));
            (JobEnd::Exited(1), Vec::new(), Some(err.to_string()))
        }
    };
    match end {
        JobEnd::TimedOut => log.line(format!(
            "[dso] the step timed out after {}",
            humantime(job.timeout)
        )),
        JobEnd::Cancelled => log.line("[dso] the step was cancelled"),
        _ => {}
    }
    let (log_gzip, n_lines, n_bytes) = log.finish();
    let output = dso_runner::JobOutput {
        end,
        duration: started.elapsed(),
        log_gzip,
        n_lines,
        n_bytes,
    };
    (output, artifacts, detail)
}

/// Parses the job's declared test and coverage reports and stores them,
/// with one `testsuiterun.finished` event per suite and one coverage event
/// per report. A missing or unreadable report is a warning on the job's
/// output, not a failure: the job's own status already says what happened.
async fn store_reports(
    plan: &Plan<'_>,
    id: JobId,
    job: &Job,
    progress: &mpsc::UnboundedSender<Progress>,
) -> Result<Vec<dso_store::AppendedEntry>, AppError> {
    use dso_devtest::ReportKind;
    use dso_devtest::reports::{CaseOutcome, ParsedReport};
    use dso_store::{CoverageFileRecord, CoverageRecord, TestCaseRecord, TestSuiteRecord};

    let ctx = plan.ctx;
    let work = plan.run_dir.join("work");
    let warn = |text: String| {
        let _ = progress.send(Progress::Line {
            job: job.name.clone(),
            text: format!("[dso] {text}"),
        });
    };
    let mut suites: Vec<TestSuiteRecord> = Vec::new();
    let mut coverage: Vec<CoverageRecord> = Vec::new();
    let mut events = Vec::new();
    for report in &job.reports {
        if !matches!(
            report.kind,
            ReportKind::Junit | ReportKind::Lcov | ReportKind::Cobertura
        ) {
            // sarif, cyclonedx and spdx: `steps::ingest_reports`.
            continue;
        }
        let files = match crate::artifacts::expand(
            &work,
            &report.path,
            &format!("{} report", report.kind.as_str()),
        ) {
            Ok(files) => files,
            Err(err) => {
                warn(err.to_string());
                continue;
            }
        };
        for file in files {
            let bytes = match std::fs::read(work.join(&file)) {
                Ok(bytes) => bytes,
                Err(err) => {
                    warn(format!("cannot read report {file}: {err}"));
                    continue;
                }
            };
            let parsed = match dso_devtest::reports::parse(report.kind, &file, &bytes) {
                Ok(parsed) => parsed,
                Err(err) => {
                    warn(format!("report rejected: {err}"));
                    continue;
                }
            };
            match parsed {
                ParsedReport::Tests(tests) => {
                    for diagnostic in tests.diagnostics.iter().take(10) {
                        warn(format!("report {diagnostic}"));
                    }
                    for suite in &tests.suites {
                        let suite_no = suites.len() as i64;
                        let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as i64);
                        let cases: Vec<TestCaseRecord> = suite
                            .cases
                            .iter()
                            .map(|c| {
                                let (outcome, message) = match &c.outcome {
                                    CaseOutcome::Passed => ("passed", None),
                                    CaseOutcome::Failed { message, .. } => {
                                        ("failed", message.clone())
                                    }
                                    CaseOutcome::Error { message, .. } => {
                                        ("error", message.clone())
                                    }
                                    CaseOutcome::Skipped { message } => {
                                        ("skipped", message.clone())
                                    }
                                };
                                TestCaseRecord {
                                    name: c.name.clone(),
                                    classname: c.classname.clone(),
                                    outcome: outcome.into(),
                                    duration_ms: ms(c.duration),
                                    message,
                                }
                            })
                            .collect();
                        let record = TestSuiteRecord {
                            run_id: plan.run_id,
                            idx: id.0 as i64,
                            suite_no,
                            report: file.clone(),
                            name: suite.name.clone(),
                            tests: i64::from(suite.tests),
                            failures: i64::from(suite.failures),
                            errors: i64::from(suite.errors),
                            skipped: i64::from(suite.skipped),
                            duration_ms: ms(suite.duration),
                            cases,
                        };
                        let subject =
                            format!("{}/{}", job_subject(plan.run_id, &job.name), record.name);
                        let outcome = if record.failures + record.errors > 0 {
                            "fail"
                        } else {
                            "pass"
                        };
                        events.push(ctx.stamp(NewEvent {
                            ty: types::TESTSUITERUN_FINISHED.into(),
                            subject: Some(subject.clone()),
                            data: cdevent(
                                &subject,
                                serde_json::json!({
                                    "environment": { "id": hostname() },
                                    "testSuite": { "id": record.name, "name": record.name },
                                    "outcome": outcome,
                                    "tests": record.tests,
                                    "failures": record.failures,
                                    "errors": record.errors,
                                    "skipped": record.skipped,
                                    "durationMs": record.duration_ms,
                                    "report": file,
                                    "run": run_subject(plan.run_id),
                                    "job": job.name,
                                }),
                            ),
                        })?);
                        suites.push(record);
                    }
                }
                ParsedReport::Coverage(mut report_data) => {
                    report_data.strip_prefix(&work.display().to_string());
                    let totals = report_data.totals();
                    let record = CoverageRecord {
                        run_id: plan.run_id,
                        idx: id.0 as i64,
                        report: file.clone(),
                        format: report.kind.as_str().into(),
                        lines_found: totals.lines_found as i64,
                        lines_hit: totals.lines_hit as i64,
                        branches_found: totals.branches_found as i64,
                        branches_hit: totals.branches_hit as i64,
                        functions_found: totals.functions_found as i64,
                        functions_hit: totals.functions_hit as i64,
                        files: report_data
                            .files
                            .iter()
                            .map(|f| CoverageFileRecord {
                                path: f.path.clone(),
                                lines_found: i64::from(f.lines_found),
                                lines_hit: i64::from(f.lines_hit),
                                branches_found: i64::from(f.branches_found),
                                branches_hit: i64::from(f.branches_hit),
                            })
                            .collect(),
                    };
                    let subject = job_subject(plan.run_id, &job.name);
                    events.push(ctx.stamp(NewEvent {
                        ty: types::COVERAGE_REPORTED.into(),
                        subject: Some(subject.clone()),
                        data: cdevent(
                            &subject,
                            serde_json::json!({
                                "report": file,
                                "format": record.format,
                                "linesFound": record.lines_found,
                                "linesHit": record.lines_hit,
                                "lineRate": totals.line_rate(),
                                "branchesFound": record.branches_found,
                                "branchesHit": record.branches_hit,
                                "branchRate": totals.branch_rate(),
                                "run": run_subject(plan.run_id),
                            }),
                        ),
                    })?);
                    coverage.push(record);
                }
            }
        }
    }
    if suites.is_empty() && coverage.is_empty() {
        return Ok(Vec::new());
    }
    Ok(ctx.store.add_reports(&suites, &coverage, &events).await?)
}

/// The runner's spec for a job: directories, environment, sandbox, limits.
fn job_spec(
    plan: &Plan<'_>,
    job: &Job,
    script: &str,
    secrets: &[(String, String)],
) -> Result<JobSpec, AppError> {
    let config = &plan.ctx.workspace.config.runner;
    let work = plan.run_dir.join("work");
    let tmp = plan.scratch_dir.join("tmp").join(&job.key);
    let home = plan.scratch_dir.join("home");
    let mut writable = vec![tmp.clone(), home.clone()];
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for name in &config.pass_env {
        if let Ok(value) = std::env::var(name) {
            env.insert(name.clone(), value);
        }
    }
    // rustup's proxies find their toolchains through RUSTUP_HOME, which
    // defaults to ~/.rustup: keep pointing there although HOME changes.
    if !env.contains_key("RUSTUP_HOME")
        && let Some(real_home) = std::env::var_os("HOME")
    {
        let rustup = PathBuf::from(real_home).join(".rustup");
        if rustup.is_dir() {
            env.insert("RUSTUP_HOME".into(), rustup.display().to_string());
        }
    }
    env.entry("PATH".into())
        .or_insert_with(|| "/usr/local/bin:/usr/bin:/bin".into());
    env.insert("HOME".into(), home.display().to_string());
    env.insert("TMPDIR".into(), tmp.display().to_string());
    env.insert("LANG".into(), "C.UTF-8".into());
    env.insert("CI".into(), "true".into());
    env.insert("DSO".into(), "true".into());
    env.insert("DSO_RUN_ID".into(), plan.run_id.to_string());
    env.insert("DSO_JOB".into(), job.name.clone());
    env.insert("DSO_ACTIVITY".into(), job.activity.clone());
    env.insert("DSO_COMMIT_SHA".into(), plan.commit.sha.clone());
    env.insert("DSO_REF".into(), plan.git_ref.clone());
    for cache in &job.cache {
        let dir = plan.ctx.workspace.root.join("caches").join(&cache.name);
        std::fs::create_dir_all(&dir).map_err(|source| AppError::Write {
            path: dir.clone(),
            source,
        })?;
        env.insert(cache.env.clone(), dir.display().to_string());
        writable.push(dir);
    }
    env.extend(job.env.clone());
    for (name, value) in secrets {
        env.insert(name.clone(), value.clone());
    }
    for dir in [&tmp, &home] {
        std::fs::create_dir_all(dir).map_err(|source| AppError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(JobSpec {
        sandbox: SandboxSpec {
            argv: vec![
                "bash".into(),
                "--noprofile".into(),
                "--norc".into(),
                "-eo".into(),
                "pipefail".into(),
                "-c".into(),
                script.to_owned(),
            ],
            workdir: work,
            writable,
            network: job.network == dso_devtest::Network::On,
            isolate: config.sandbox,
            cpu_seconds: Some(
                config
                    .cpu_seconds
                    .unwrap_or(job.timeout.as_secs().max(1) * 2),
            ),
            memory_bytes: config.memory_mb.map(|mb| mb * 1024 * 1024),
        },
        env: env.into_iter().collect(),
        timeout: job.timeout,
        trampoline: plan.trampoline.clone(),
    })
}

/// Stores a job's declared artifacts by content address and returns their records.
///
/// A path that matches nothing is a warning on the job's output (as in
/// other CI systems), not a failure of a job that succeeded.
fn collect_artifacts(
    plan: &Plan<'_>,
    id: JobId,
    job: &Job,
    progress: &mpsc::UnboundedSender<Progress>,
) -> Result<Vec<ArtifactRecord>, AppError> {
    let work = plan.run_dir.join("work");
    let store_dir = plan.ctx.workspace.root.join("artifacts").join("sha256");
    let mut out = Vec::new();
    for pattern in &job.artifacts {
        let files = match crate::artifacts::expand(&work, pattern, "artifact") {
            Ok(files) => files,
            Err(err) => {
                let _ = progress.send(Progress::Line {
                    job: job.name.clone(),
                    text: format!("[dso] {err}"),
                });
                continue;
            }
        };
        for rel in files {
            let (sha256, size) = crate::artifacts::store_file(&work.join(&rel), &store_dir)?;
            out.push(ArtifactRecord {
                run_id: plan.run_id,
                idx: id.0 as i64,
                path: rel,
                sha256,
                size: size as i64,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}

async fn finish_run(plan: &Plan<'_>, status: &str, error: Option<&str>) -> Result<(), AppError> {
    let ctx = plan.ctx;
    let subject = run_subject(plan.run_id);
    let outcome = match status {
        "success" => "success",
        "cancelled" => "cancel",
        _ if error.is_some() => "error",
        _ => "failure",
    };
    let event = ctx.stamp(NewEvent {
        ty: types::PIPELINERUN_FINISHED.into(),
        subject: Some(subject.clone()),
        data: cdevent(
            &subject,
            with_uri(
                serde_json::json!({ "pipelineName": plan.run_dir.display().to_string(), "outcome": outcome, "errors": error.unwrap_or_default(), "status": status, "commit": plan.commit.sha }),
                ctx,
                plan.run_id,
            ),
        ),
    })?;
    let appended = ctx
        .store
        .set_run_status(plan.run_id, status, None, Some(&now()), &[event])
        .await?;
    crate::events::seal(ctx, &appended).await
}

/// Marks runs of this host whose `dso` process is gone as interrupted.
///
/// Called when a workspace is opened, so a run killed with SIGKILL is never
/// left "running".
pub async fn reap_interrupted(ctx: &Context) -> Result<Vec<i64>, AppError> {
    let mut reaped = Vec::new();
    for (id, pid) in ctx.store.unfinished_runs(&hostname()).await? {
        let alive =
            pid.is_some_and(|pid| pid as i32 != 0 && dso_runner::exec::process_alive(pid as i32));
        if alive {
            continue;
        }
        let subject = run_subject(id);
        let event = ctx.stamp(NewEvent {
            ty: types::PIPELINERUN_FINISHED.into(),
            subject: Some(subject.clone()),
            data: cdevent(
                &subject,
                serde_json::json!({ "outcome": "error", "errors": "the dso process running this pipeline ended without finishing it", "status": "interrupted" }),
            ),
        })?;
        let appended = ctx.store.mark_interrupted(id, &now(), &event).await?;
        crate::events::seal(ctx, &appended).await?;
        if !appended.is_empty() {
            reaped.push(id);
        }
    }
    Ok(reaped)
}

/// The log of one job of a run: every attempt, decompressed.
pub async fn job_log(
    ctx: &Context,
    run_id: i64,
    job: &str,
) -> Result<Vec<(i64, String)>, AppError> {
    read_runs(ctx, Some(run_id)).await?;
    let jobs = ctx.store.run_jobs(run_id).await?;
    if jobs.is_empty() && ctx.store.run(run_id).await?.is_none() {
        return Err(AppError::Unknown {
            kind: "run",
            value: run_id.to_string(),
            hint: Some("list runs with `dso runs`".into()),
        });
    }
    let Some(record) = jobs.iter().find(|j| j.name == job) else {
        return Err(AppError::Unknown {
            kind: "job",
            value: job.to_owned(),
            hint: Some(format!(
                "jobs of run {run_id}: {}",
                jobs.iter()
                    .map(|j| j.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    };
    let mut out = Vec::new();
    for log in ctx.store.job_logs(run_id, record.idx).await? {
        let text = dso_runner::exec::read_log(&log.data).map_err(|err| AppError::Input {
            location: format!("log of run {run_id} job {job} attempt {}", log.attempt),
            message: format!("cannot be decompressed: {err}"),
        })?;
        out.push((log.attempt, text));
    }
    Ok(out)
}

fn run_subject(id: i64) -> String {
    format!("run-{id}")
}

fn job_subject(run_id: i64, job: &str) -> String {
    format!("run-{run_id}/{job}")
}

fn with_uri(mut content: serde_json::Value, ctx: &Context, id: i64) -> serde_json::Value {
    content["uri"] = format!("{}/runs/{id}", ctx.workspace.event_source()).into();
    content
}

/// The CDEvents `subject` object, carried as the CloudEvents `data`.
fn cdevent(id: &str, content: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "subject": { "id": id, "content": content } })
}

fn repo_name(repo: &Path) -> String {
    repo.file_name()
        .map_or_else(|| "pipeline".into(), |n| n.to_string_lossy().into_owned())
}

fn now() -> String {
    dso_audit::format_time(jiff::Timestamp::now())
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// This machine's name, to tell whose runs are whose.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into())
}

fn humantime(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Everything recorded about one run.
#[derive(Debug, Clone)]
pub struct RunDetail {
    pub run: RunRecord,
    pub jobs: Vec<RunJobRecord>,
    pub artifacts: Vec<ArtifactRecord>,
    pub test_suites: Vec<dso_store::TestSuiteRecord>,
    pub coverage: Vec<dso_store::CoverageRecord>,
    /// The SBOMs its steps and reports produced.
    pub sboms: Vec<dso_store::RunSbomRecord>,
}

/// Asks the policy whether the acting user may read runs (`pipeline.read`).
async fn read_runs(ctx: &Context, run_id: Option<i64>) -> Result<(), AppError> {
    let resource = match run_id {
        Some(id) => dso_governance::rbac::Resource::one("run", &id.to_string()),
        None => dso_governance::rbac::Resource::kind("runs"),
    };
    crate::access::authorize(ctx, dso_governance::rbac::Action::PipelineRead, &resource).await?;
    Ok(())
}

/// Runs, newest first.
pub async fn list_runs(ctx: &Context, limit: i64) -> Result<Vec<RunRecord>, AppError> {
    read_runs(ctx, None).await?;
    Ok(ctx.store.runs(limit).await?)
}

/// One run with its jobs, artifacts and reports; errors when it does not exist.
pub async fn show_run(ctx: &Context, run_id: i64) -> Result<RunDetail, AppError> {
    read_runs(ctx, Some(run_id)).await?;
    let run = ctx
        .store
        .run(run_id)
        .await?
        .ok_or_else(|| AppError::Unknown {
            kind: "run",
            value: run_id.to_string(),
            hint: Some("list runs with `dso runs`".into()),
        })?;
    Ok(RunDetail {
        run,
        jobs: ctx.store.run_jobs(run_id).await?,
        artifacts: ctx.store.artifacts(run_id).await?,
        test_suites: ctx.store.test_suites(run_id).await?,
        coverage: ctx.store.coverage(run_id).await?,
        sboms: ctx.store.run_sboms(run_id).await?,
    })
}
