//! The scheduler, driven like a runner would drive it.
//!
//! `check` validates a pipeline, runs it with a simulated runner of limited
//! parallelism that finishes jobs in start order, and compares the trace.

use std::collections::VecDeque;
use std::fmt::Write as _;

use dso_devtest::{
    JobId, JobState, Outcome, PipelineOutcome, RefContext, Schedule, ScheduleError, SkipReason,
};

use crate::valid;

/// Runs `source` with at most `parallelism` running jobs; jobs named in
/// `failing` fail, all others succeed. Compares the trace with `expected`.
fn check(
    source: &str,
    parallelism: usize,
    failing: &[&str],
    context: Option<RefContext<'_>>,
    expected: &str,
) {
    let pipeline = valid(source);
    let mut schedule = match &context {
        Some(context) => Schedule::for_ref(&pipeline, context),
        None => Schedule::new(&pipeline),
    };
    let name = |job: JobId| pipeline.jobs[job.0].name.clone();
    let describe = |state: JobState| match state {
        JobState::Skipped(SkipReason::Need(need)) => format!("needs {}", name(need)),
        JobState::Skipped(SkipReason::Condition) => "its `if` is false".to_owned(),
        other => other.to_string(),
    };
    let mut trace = String::new();
    for (i, state) in schedule.states().iter().enumerate() {
        if let JobState::Skipped(_) = state {
            writeln!(trace, "skip {} ({})", name(JobId(i)), describe(*state)).unwrap();
        }
    }
    let mut running: VecDeque<JobId> = VecDeque::new();
    let mut n_steps = 0;
    while !schedule.is_done() {
        n_steps += 1;
        assert!(n_steps < 1000, "the schedule does not terminate:\n{trace}");
        for job in schedule.ready() {
            if running.len() == parallelism {
                break;
            }
            schedule.start(job).expect("ready jobs can start");
            running.push_back(job);
            writeln!(trace, "start {}", name(job)).unwrap();
        }
        let job = running
            .pop_front()
            .expect("a pipeline that is not done has a running job");
        let outcome = if failing.contains(&name(job).as_str()) {
            Outcome::Failed
        } else {
            Outcome::Success
        };
        let skipped = schedule
            .finish(job, outcome)
            .expect("running jobs can finish");
        writeln!(
            trace,
            "finish {} -> {}",
            name(job),
            schedule.state(job).unwrap()
        )
        .unwrap();
        for job in skipped {
            writeln!(
                trace,
                "  skip {} ({})",
                name(job),
                describe(schedule.state(job).unwrap())
            )
            .unwrap();
        }
    }
    writeln!(trace, "outcome {:?}", schedule.outcome().unwrap()).unwrap();
    assert_eq!(trace.trim(), expected.trim(), "trace:\n{trace}");
}

const DIAMOND: &str = "
jobs:
  build: { activity: build, run: make }
  test: { activity: unit-test, run: make test, needs: build }
  sca: { activity: sca, uses: dso/sca, needs: [build] }
  release: { activity: release, run: make release, needs: [test, sca] }
";

#[test]
fn diamond_runs_in_topological_then_file_order() {
    check(
        DIAMOND,
        4,
        &[],
        None,
        "
start build
finish build -> succeeded
start test
start sca
finish test -> succeeded
finish sca -> succeeded
start release
finish release -> succeeded
outcome Success",
    );
}

#[test]
fn diamond_with_parallelism_one() {
    check(
        DIAMOND,
        1,
        &[],
        None,
        "
start build
finish build -> succeeded
start test
finish test -> succeeded
start sca
finish sca -> succeeded
start release
finish release -> succeeded
outcome Success",
    );
}

#[test]
fn failure_skips_dependents_transitively() {
    check(
        "
jobs:
  build: { activity: build, run: make }
  test: { activity: unit-test, run: make test, needs: build }
  package: { activity: sbom, run: make sbom, needs: test }
  deploy: { activity: deploy, run: make deploy, needs: package }
  lint: { activity: sast-l1, run: make lint }
",
        2,
        &["test"],
        None,
        "
start build
start lint
finish build -> succeeded
start test
finish lint -> succeeded
finish test -> failed
  skip package (needs test)
  skip deploy (needs package)
outcome Failed",
    );
}

#[test]
fn allowed_failure_does_not_skip_dependents() {
    check(
        "
jobs:
  build: { activity: build, run: make }
  dast: { activity: dynamic-analysis, run: zap, needs: build, allow_failure: true }
  release: { activity: release, run: make release, needs: dast }
",
        4,
        &["dast"],
        None,
        "
start build
finish build -> succeeded
start dast
finish dast -> failed (allowed)
start release
finish release -> succeeded
outcome SuccessWithAllowedFailures",
    );
}

#[test]
fn need_on_matrix_job_waits_for_every_expansion() {
    check(
        "
jobs:
  test:
    activity: unit-test
    run: cargo +${{ matrix.rust }} test
    matrix: { rust: [stable, beta] }
  release: { activity: release, run: make release, needs: test }
",
        4,
        &["test (rust=beta)"],
        None,
        "
start test (rust=stable)
start test (rust=beta)
finish test (rust=stable) -> succeeded
finish test (rust=beta) -> failed
  skip release (needs test (rust=beta))
outcome Failed",
    );
}

#[test]
fn stages_order_jobs() {
    check(
        "
stages: [build, test, deliver]
jobs:
  deliver: { stage: deliver, activity: deliver-staging, run: make deliver }
  unit: { stage: test, activity: unit-test, run: make test }
  build: { stage: build, activity: build, run: make }
  secrets: { stage: test, activity: secrets, uses: dso/secrets }
",
        4,
        &[],
        None,
        "
start build
finish build -> succeeded
start unit
start secrets
finish unit -> succeeded
finish secrets -> succeeded
start deliver
finish deliver -> succeeded
outcome Success",
    );
}

#[test]
fn condition_false_skips_job_and_its_dependents() {
    let changed = vec!["docs/index.md".to_owned()];
    check(
        "
jobs:
  build: { activity: build, run: make, if: { paths: 'src/**' } }
  test: { activity: unit-test, run: make test, needs: build }
  docs: { activity: validate, run: make docs, if: { branch: main, paths: 'docs/**' } }
",
        4,
        &[],
        Some(RefContext {
            branch: Some("main"),
            tag: None,
            changed_paths: &changed,
        }),
        "
skip build (its `if` is false)
skip test (needs build)
start docs
finish docs -> succeeded
outcome Success",
    );
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let pipeline = valid(DIAMOND);
    let mut schedule = Schedule::new(&pipeline);
    let build = JobId(0);
    let test = JobId(1);
    assert_eq!(
        schedule.start(test),
        Err(ScheduleError::NotReady {
            job: test,
            state: JobState::Pending
        })
    );
    assert_eq!(
        schedule.finish(build, Outcome::Success),
        Err(ScheduleError::NotRunning {
            job: build,
            state: JobState::Pending
        })
    );
    assert_eq!(
        schedule.start(JobId(99)),
        Err(ScheduleError::UnknownJob(JobId(99)))
    );
    schedule.start(build).unwrap();
    assert_eq!(
        schedule.start(build).unwrap_err().to_string(),
        "job #0 cannot start: it is running or waits for its needs"
    );
    assert_eq!(
        schedule.finish(build, Outcome::AllowedFailure),
        Err(ScheduleError::FailureNotAllowed(build))
    );
    assert_eq!(schedule.state(build), Some(JobState::Running));
    assert_eq!(schedule.outcome(), None);
    assert_eq!(
        schedule.finish(build, Outcome::Failed),
        Ok(vec![JobId(1), JobId(2), JobId(3)])
    );
    assert_eq!(
        schedule.state(JobId(3)),
        Some(JobState::Skipped(SkipReason::Need(JobId(1))))
    );
    assert!(schedule.is_done());
    assert_eq!(schedule.outcome(), Some(PipelineOutcome::Failed));
}
