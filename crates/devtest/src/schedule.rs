//! A pure DAG scheduler: which jobs may start, given what has finished.
//!
//! [`Schedule`] is a state machine with no threads, clocks or I/O. A runner
//! loops: take jobs from [`Schedule::ready`] up to its own parallelism limit,
//! [`Schedule::start`] them, and report each result with
//! [`Schedule::finish`], until [`Schedule::is_done`].
//!
//! Rules:
//! - a job is ready when it is pending and every job it needs succeeded or
//!   failed with `allow_failure`;
//! - when a job fails (without `allow_failure`) or is skipped, every pending
//!   job that needs it, directly or not, is skipped;
//! - retries happen inside one attempt from the schedule's point of view: the
//!   runner reports the final outcome only.
//!
//! Order is deterministic: ready jobs come in [`JobId`] order, which is
//! topological order with ties broken by file order.

use std::collections::VecDeque;
use std::fmt;

use crate::pipeline::{JobId, Pipeline, RefContext};

/// How a job's run ended, as reported by the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The job succeeded.
    Success,
    /// The job failed. For a job with `allow_failure`, the schedule records
    /// [`JobState::AllowedFailure`] instead.
    Failed,
    /// The job failed and its `allow_failure` permits it.
    AllowedFailure,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its needs or for the runner to start it.
    Pending,
    /// Started and not finished.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with a failure that fails the pipeline.
    Failed,
    /// Finished with a failure its `allow_failure` permits.
    AllowedFailure,
    /// Will never run.
    Skipped(SkipReason),
}

/// Why a job was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Its `if` does not hold for the ref being built.
    Condition,
    /// This job, which it needs, failed or was skipped.
    Need(JobId),
}

/// The result of a finished pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineOutcome {
    /// No job failed.
    Success,
    /// Only jobs with `allow_failure` failed.
    SuccessWithAllowedFailures,
    /// At least one job without `allow_failure` failed.
    Failed,
}

/// A call that does not fit the current state; the schedule is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The id is not a job of the pipeline.
    #[error("job {0} does not exist")]
    UnknownJob(JobId),
    /// `start` on a job that is not ready.
    #[error("job {job} cannot start: it is {state} or waits for its needs")]
    NotReady {
        /// The job.
        job: JobId,
        /// Its state at the time of the call.
        state: JobState,
    },
    /// `finish` on a job that is not running.
    #[error("job {job} cannot finish: it is {state}, not running")]
    NotRunning {
        /// The job.
        job: JobId,
        /// Its state at the time of the call.
        state: JobState,
    },
    /// `finish(_, Outcome::AllowedFailure)` for a job without `allow_failure`.
    #[error("job {0} does not allow failure")]
    FailureNotAllowed(JobId),
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobState::Pending => f.write_str("pending"),
            JobState::Running => f.write_str("running"),
            JobState::Succeeded => f.write_str("succeeded"),
            JobState::Failed => f.write_str("failed"),
            JobState::AllowedFailure => f.write_str("failed (allowed)"),
            JobState::Skipped(SkipReason::Condition) => f.write_str("skipped by its `if`"),
            JobState::Skipped(SkipReason::Need(need)) => write!(f, "skipped because of job {need}"),
        }
    }
}

/// The state of every job of one pipeline run.
#[derive(Debug, Clone)]
pub struct Schedule {
    needs: Vec<Vec<JobId>>,
    dependents: Vec<Vec<JobId>>,
    allow_failure: Vec<bool>,
    states: Vec<JobState>,
}

impl Schedule {
    /// Returns a schedule where every job is pending (every `if` ignored).
    pub fn new(pipeline: &Pipeline) -> Schedule {
        let n_jobs = pipeline.jobs.len();
        let mut dependents = vec![Vec::new(); n_jobs];
        // NOTE: positions, not `job.id`, index every vector, so a hand-built
        // pipeline with inconsistent ids cannot make the schedule panic.
        for (position, job) in pipeline.jobs.iter().enumerate() {
            for need in &job.needs {
                if let Some(list) = dependents.get_mut(need.0) {
                    list.push(JobId(position));
                }
            }
        }
        Schedule {
            needs: pipeline.jobs.iter().map(|job| job.needs.clone()).collect(),
            dependents,
            allow_failure: pipeline.jobs.iter().map(|job| job.allow_failure).collect(),
            states: vec![JobState::Pending; n_jobs],
        }
    }

    /// Returns a schedule for a run of `context`: jobs whose `if` does not
    /// hold are skipped, and so, transitively, are the jobs that need them.
    pub fn for_ref(pipeline: &Pipeline, context: &RefContext<'_>) -> Schedule {
        let mut schedule = Schedule::new(pipeline);
        for (position, job) in pipeline.jobs.iter().enumerate() {
            let runs = job
                .condition
                .as_ref()
                .is_none_or(|condition| condition.evaluate(context));
            if !runs && schedule.states[position] == JobState::Pending {
                schedule.states[position] = JobState::Skipped(SkipReason::Condition);
                schedule.skip_dependents(JobId(position));
            }
        }
        schedule
    }

    /// Returns the pending jobs whose needs all succeeded (or failed with
    /// `allow_failure`), in id order. The caller starts as many as its
    /// parallelism allows; the others stay ready.
    pub fn ready(&self) -> Vec<JobId> {
        (0..self.states.len())
            .map(JobId)
            .filter(|&job| self.is_ready(job))
            .collect()
    }

    /// Marks a ready job as running.
    ///
    /// Errors when the job does not exist or is not ready.
    pub fn start(&mut self, job: JobId) -> Result<(), ScheduleError> {
        let state = self.state(job).ok_or(ScheduleError::UnknownJob(job))?;
        if !self.is_ready(job) {
            return Err(ScheduleError::NotReady { job, state });
        }
        self.states[job.0] = JobState::Running;
        Ok(())
    }

    /// Records the outcome of a running job; returns the jobs this skipped
    /// (every pending job that needs it, transitively, when it failed), in
    /// id order.
    ///
    /// `Outcome::Failed` on a job with `allow_failure` is recorded as an
    /// allowed failure. Errors when the job does not exist, is not running,
    /// or is reported as an allowed failure without `allow_failure`.
    pub fn finish(&mut self, job: JobId, outcome: Outcome) -> Result<Vec<JobId>, ScheduleError> {
        let state = self.state(job).ok_or(ScheduleError::UnknownJob(job))?;
        if state != JobState::Running {
            return Err(ScheduleError::NotRunning { job, state });
        }
        let allowed = self.allow_failure[job.0];
        let new_state = match outcome {
            Outcome::Success => JobState::Succeeded,
            Outcome::Failed | Outcome::AllowedFailure if allowed => JobState::AllowedFailure,
            Outcome::Failed => JobState::Failed,
            Outcome::AllowedFailure => return Err(ScheduleError::FailureNotAllowed(job)),
        };
        self.states[job.0] = new_state;
        if new_state == JobState::Failed {
            Ok(self.skip_dependents(job))
        } else {
            Ok(Vec::new())
        }
    }

    /// Returns the state of a job, or `None` for an unknown id.
    pub fn state(&self, job: JobId) -> Option<JobState> {
        self.states.get(job.0).copied()
    }

    /// Returns the state of every job, indexed by [`JobId`].
    pub fn states(&self) -> &[JobState] {
        &self.states
    }

    /// Returns true when no job is pending or running.
    pub fn is_done(&self) -> bool {
        self.states
            .iter()
            .all(|state| !matches!(state, JobState::Pending | JobState::Running))
    }

    /// Returns the pipeline's result once [`Self::is_done`], else `None`.
    pub fn outcome(&self) -> Option<PipelineOutcome> {
        if !self.is_done() {
            return None;
        }
        if self.states.contains(&JobState::Failed) {
            Some(PipelineOutcome::Failed)
        } else if self.states.contains(&JobState::AllowedFailure) {
            Some(PipelineOutcome::SuccessWithAllowedFailures)
        } else {
            Some(PipelineOutcome::Success)
        }
    }

    fn is_ready(&self, job: JobId) -> bool {
        self.states.get(job.0) == Some(&JobState::Pending)
            && self.needs[job.0].iter().all(|need| {
                matches!(
                    self.states.get(need.0),
                    Some(JobState::Succeeded | JobState::AllowedFailure)
                )
            })
    }

    /// Skips every pending job that needs `job`, transitively; returns them
    /// in id order.
    fn skip_dependents(&mut self, job: JobId) -> Vec<JobId> {
        let mut skipped = Vec::new();
        let mut queue = VecDeque::from([job]);
        while let Some(current) = queue.pop_front() {
            for &dependent in &self.dependents[current.0] {
                if self.states[dependent.0] == JobState::Pending {
                    self.states[dependent.0] = JobState::Skipped(SkipReason::Need(current));
                    skipped.push(dependent);
                    queue.push_back(dependent);
                }
            }
        }
        skipped.sort();
        skipped
    }
}
