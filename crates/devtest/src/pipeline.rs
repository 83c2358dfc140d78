//! The validated pipeline: what `validate` returns when a file has no errors.
//!
//! Every invariant a runner relies on holds here: job names are unique, needs
//! point at existing jobs and form no cycle, matrix jobs are expanded, defaults
//! are filled in. The jobs are in topological order (a job comes after all the
//! jobs it needs), ties broken by file order, so a [`JobId`] is also a valid
//! execution order.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::glob;

/// The default `timeout` of a job when the file sets none: one hour.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Index of a job in [`Pipeline::jobs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub usize);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A validated pipeline, with matrix jobs expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    /// The declared stages, in order (empty when the file declares none).
    pub stages: Vec<String>,
    /// The expanded jobs in topological order; `jobs[i].id == JobId(i)`.
    pub jobs: Vec<Job>,
}

/// One job after matrix expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job's position in [`Pipeline::jobs`].
    pub id: JobId,
    /// Unique display name: the key in the file, followed for matrix jobs by
    /// the axis values, e.g. `test (rust=stable, os=linux)`.
    pub name: String,
    /// The key of the job in the file, shared by all expansions of a matrix.
    pub key: String,
    /// The matrix values of this expansion as (axis, value), in file order;
    /// empty for jobs without `matrix`.
    pub matrix: Vec<(String, String)>,
    /// The job's stage, if it has one.
    pub stage: Option<String>,
    /// The jobs that must finish before this one starts: the explicit `needs`
    /// (a need on a matrix job means every expansion), plus every job of an
    /// earlier stage. Sorted, without duplicates.
    pub needs: Vec<JobId>,
    /// The process-model activity slug this job performs.
    pub activity: String,
    /// What the job executes.
    pub step: Step,
    /// Workspace-relative paths kept after the job.
    pub artifacts: Vec<String>,
    /// Caches mounted into the job.
    pub cache: Vec<Cache>,
    /// Wall-clock limit for one attempt; [`DEFAULT_TIMEOUT`] unless set.
    pub timeout: Duration,
    /// Report files the job produces, in file order.
    pub reports: Vec<Report>,
    /// How many times a failed attempt is retried (0..=10; default 0).
    pub retry: u8,
    /// Whether a failure of this job leaves the pipeline green (default false).
    pub allow_failure: bool,
    /// When the job runs; `None` means always.
    pub condition: Option<Condition>,
    /// Environment: pipeline `env`, overridden by job `env`, plus one
    /// `MATRIX_<AXIS>` variable per matrix axis.
    pub env: BTreeMap<String, String>,
    /// Names of workspace secrets exposed to the job as environment variables.
    pub secrets: Vec<String>,
    /// Network access of the job's sandbox.
    pub network: Network,
    /// 1-based line of the job's key in the file.
    pub line: u64,
}

/// What a job executes: a script or a built-in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A bash script, with `${{ matrix.<axis> }}` already substituted.
    Run {
        /// The script text.
        script: String,
    },
    /// A built-in step such as `dso/sca`.
    Uses {
        /// The step name, one of `ValidateOptions::uses`.
        name: String,
        /// The step inputs, with `${{ matrix.<axis> }}` substituted.
        with: BTreeMap<String, String>,
    },
}

/// A named cache and the environment variable that receives its directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    /// The cache name, e.g. `cargo`.
    pub name: String,
    /// The variable set to the cache directory, e.g. `CARGO_HOME`; for the
    /// list form it is `DSO_CACHE_<NAME>` (uppercased, `-` becomes `_`).
    pub env: String,
}

/// A report file of a known format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The format.
    pub kind: ReportKind,
    /// The workspace-relative path of the file.
    pub path: String,
}

/// The report formats a job may declare under `reports`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportKind {
    /// JUnit XML test results.
    Junit,
    /// LCOV coverage.
    Lcov,
    /// Cobertura XML coverage.
    Cobertura,
    /// SARIF 2.1.0 static-analysis findings.
    Sarif,
    /// CycloneDX SBOM (JSON or XML).
    Cyclonedx,
    /// SPDX SBOM.
    Spdx,
}

impl ReportKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: &'static [ReportKind] = &[
        ReportKind::Junit,
        ReportKind::Lcov,
        ReportKind::Cobertura,
        ReportKind::Sarif,
        ReportKind::Cyclonedx,
        ReportKind::Spdx,
    ];

    /// Returns the key used in the file, e.g. `junit`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Junit => "junit",
            ReportKind::Lcov => "lcov",
            ReportKind::Cobertura => "cobertura",
            ReportKind::Sarif => "sarif",
            ReportKind::Cyclonedx => "cyclonedx",
            ReportKind::Spdx => "spdx",
        }
    }

    /// Returns the kind whose key is `key`, if any.
    pub fn from_key(key: &str) -> Option<ReportKind> {
        ReportKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == key)
    }
}

/// Network access of a job's sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// No network (the default).
    #[default]
    Off,
    /// Outbound network allowed.
    On,
}

/// A job's `if`: which refs and changes run the job.
///
/// Each list holds globs (see [`crate::glob`]). The job runs when the ref
/// passes and the changes pass:
/// - ref: if `branch` and `tag` are both empty, every ref passes; otherwise the
///   current branch must match a `branch` glob or the current tag a `tag` glob;
/// - changes: if `paths` is empty, they pass; otherwise at least one changed
///   path must match a `paths` glob.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Condition {
    /// Branch globs, e.g. `main`, `release/*`.
    pub branch: Vec<String>,
    /// Tag globs, e.g. `v*`.
    pub tag: Vec<String>,
    /// Path globs, e.g. `src/**`.
    pub paths: Vec<String>,
}

/// What a pipeline run is for: the ref that triggered it and what changed.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefContext<'a> {
    /// The branch being built, without `refs/heads/`; `None` for tags.
    pub branch: Option<&'a str>,
    /// The tag being built, without `refs/tags/`; `None` for branches.
    pub tag: Option<&'a str>,
    /// Workspace-relative paths changed by the push or merge request.
    pub changed_paths: &'a [String],
}

impl Condition {
    /// Returns whether a job with this condition runs in `context`; see the
    /// type documentation for the rules.
    pub fn evaluate(&self, context: &RefContext<'_>) -> bool {
        let any_match =
            |globs: &[String], text: &str| globs.iter().any(|pattern| glob::matches(pattern, text));
        let ref_passes = (self.branch.is_empty() && self.tag.is_empty())
            || context
                .branch
                .is_some_and(|branch| any_match(&self.branch, branch))
            || context.tag.is_some_and(|tag| any_match(&self.tag, tag));
        let paths_pass = self.paths.is_empty()
            || context
                .changed_paths
                .iter()
                .any(|path| any_match(&self.paths, path));
        ref_passes && paths_pass
    }
}

impl Pipeline {
    /// Returns the job with this id, or `None` if the id is out of range.
    pub fn job(&self, job: JobId) -> Option<&Job> {
        self.jobs.get(job.0)
    }

    /// Returns the job with this display name (e.g. `test (rust=beta)`).
    pub fn job_by_name(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.name == name)
    }

    /// Returns whether `job` runs in `context` according to its `if`.
    ///
    /// Jobs without `if` always run; an unknown id returns false.
    pub fn evaluate_if(&self, job: JobId, context: &RefContext<'_>) -> bool {
        self.job(job).is_some_and(|job| {
            job.condition
                .as_ref()
                .is_none_or(|condition| condition.evaluate(context))
        })
    }
}
