//! `validate`: from source text to a [`Pipeline`], or every diagnostic at once.
//!
//! Phases: parse YAML (`yaml.rs`), decode the shape (`raw.rs`), then check
//! values here: names, activities, steps, stages, needs and their cycles,
//! durations, reports, paths, matrix, expressions. Checks keep going after a
//! problem so that one run reports everything; the pipeline is only built
//! when nothing was found. Diagnostics come out sorted by position.

use std::collections::{HashMap, HashSet};

use serde_saphyr::{Location, Spanned};

use crate::diagnostic::{Code, Diagnostic, Reporter};
use crate::expand::{self, ExpressionProblem};
use crate::pipeline::{Pipeline, ReportKind};
use crate::raw::{self, PipelineFile, RawJob};
use crate::rules::{
    AXIS_NAME_RULE, CACHE_NAME_RULE, ENV_NAME_RULE, JOB_NAME_RULE, PATH_RULE, is_axis_name,
    is_cache_name, is_env_name, is_job_name, leaves_workspace,
};
use crate::{build, duration, graph, suggest, yaml};

/// Most expansions a single matrix may produce.
pub const MAX_MATRIX_COMBINATIONS: usize = 256;
/// Most jobs a pipeline may have after matrix expansion.
pub const MAX_EXPANDED_JOBS: usize = 4096;
/// Most retries a job may ask for.
pub const MAX_RETRY: i64 = 10;

/// What `validate` checks names against; both lists come from the caller.
#[derive(Debug, Clone, Copy)]
pub struct ValidateOptions<'a> {
    /// Activity slugs of the process model (`build`, `unit-test`, ...).
    pub activities: &'a [&'a str],
    /// Names of the built-in steps `uses` may name (`dso/sca`, ...).
    pub uses: &'a [&'a str],
    /// The `with` inputs of the built-in steps. A step with at least one
    /// entry here accepts only its listed inputs; a step with none accepts
    /// any `with`.
    pub inputs: &'a [StepInput<'a>],
}

/// One input a built-in step accepts in `with`.
#[derive(Debug, Clone, Copy)]
pub struct StepInput<'a> {
    /// The step, one of [`ValidateOptions::uses`].
    pub step: &'a str,
    /// The key in `with`.
    pub name: &'a str,
    /// What values it takes.
    pub kind: InputKind<'a>,
}

/// What values a step input takes. Values holding `${{ ... }}` are checked
/// by the step when it runs, after matrix substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind<'a> {
    /// Any non-empty text.
    Text,
    /// A path inside the workspace.
    Path,
    /// Comma-separated paths inside the workspace.
    Paths,
    /// One of these words.
    OneOf(&'a [&'a str]),
}

/// Parses and validates a pipeline file.
///
/// `file_name` only labels diagnostics (e.g. `.dso/pipeline.yaml`); nothing is
/// read from disk. Returns the validated, matrix-expanded pipeline, or every
/// problem found, sorted by line and column. Never panics, whatever `source`
/// holds.
pub fn validate(
    file_name: &str,
    source: &str,
    options: &ValidateOptions<'_>,
) -> Result<Pipeline, Vec<Diagnostic>> {
    let mut reporter = Reporter::new(file_name);
    let pipeline = raw::decode(source, &mut reporter).and_then(|decoded| {
        let mut checker = Checker {
            options,
            broken: &decoded.broken,
            reporter: &mut reporter,
        };
        checker.pipeline(&decoded.file)
    });
    match pipeline {
        Some(pipeline) if reporter.n_reported() == 0 => Ok(pipeline),
        _ => Err(reporter.finish()),
    }
}

struct Checker<'a, 'r> {
    options: &'a ValidateOptions<'a>,
    /// Fields the decoder rejected: never report them as missing.
    broken: &'a HashSet<(String, &'static str)>,
    reporter: &'a mut Reporter<'r>,
}

/// An edge of the `needs` graph of the file's jobs, for cycle messages.
#[derive(Debug, Clone)]
enum Edge {
    /// An entry of `needs`.
    Explicit(Location),
    /// Implied by stage order: (the needing job's stage, the needed job's stage).
    Stage(String, String),
}

/// Where an `env` mapping sits: only job env values may use `${{ matrix }}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnvScope {
    Pipeline,
    Job,
}

/// Per-job facts the graph phase and `build` need.
pub(crate) struct Checked {
    stage_rank: Option<usize>,
    /// Indexes of the jobs it needs, explicitly or through stages.
    pub(crate) needs: Vec<usize>,
    edges: Vec<(usize, Edge)>,
    /// The valid matrix axes with their distinct values.
    pub(crate) axes: Vec<(String, Vec<String>)>,
}

impl Checker<'_, '_> {
    fn report(&mut self, location: &Location, code: Code, message: String, hint: Option<String>) {
        self.reporter.report(location, code, message, hint);
    }

    /// Reports an unknown name, with the nearest known one (computed only if
    /// the diagnostic is kept) and optionally the list of known names.
    fn report_unknown<'k>(
        &mut self,
        location: &Location,
        code: Code,
        message: String,
        name: &str,
        known: impl IntoIterator<Item = &'k str>,
        list: Option<String>,
    ) {
        self.reporter.report_with(location, code, message, || {
            let nearest =
                suggest::nearest(name, known).map(|nearest| format!("did you mean `{nearest}`?"));
            match (nearest, list) {
                (Some(nearest), Some(list)) => Some(format!("{nearest} {list}")),
                (nearest, list) => nearest.or(list),
            }
        });
    }

    /// Checks the whole file; returns the pipeline if it could be built
    /// (it is only valid when no diagnostic was recorded).
    fn pipeline(&mut self, file: &PipelineFile) -> Option<Pipeline> {
        let stages = self.stages(file);
        self.env(&file.env, "the pipeline", EnvScope::Pipeline);
        let jobs = match &file.jobs {
            // The decoder reported why there are no jobs.
            None => return None,
            Some(jobs) if jobs.value.is_empty() => return None,
            Some(jobs) => jobs,
        };
        let names: Vec<&str> = jobs
            .value
            .iter()
            .map(|job| job.name.value.as_str())
            .collect();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, i))
            .collect();
        let mut checked: Vec<Checked> = jobs
            .value
            .iter()
            .map(|job| self.job(job, &stages, &names, &index))
            .collect();
        add_stage_edges(&mut checked, &stages);
        self.cycles(&jobs.value, &checked);

        let n_expanded: usize = checked
            .iter()
            .map(|c| {
                c.axes
                    .iter()
                    .map(|(_, values)| values.len())
                    .product::<usize>()
            })
            .sum();
        if n_expanded > MAX_EXPANDED_JOBS {
            self.report(
                &jobs.referenced,
                Code::TooLarge,
                format!(
                    "the matrices expand to {n_expanded} jobs, more than the limit of {MAX_EXPANDED_JOBS}"
                ),
                None,
            );
        }
        if self.reporter.n_reported() > 0 {
            return None;
        }
        let pipeline = build::build(file, &jobs.value, &checked, stages)?;
        self.substituted_paths(&jobs.value, &pipeline);
        Some(pipeline)
    }

    /// Checks paths again after matrix substitution: a matrix value such as
    /// `..` must not smuggle a path out of the workspace.
    fn substituted_paths(&mut self, jobs: &[RawJob], pipeline: &Pipeline) {
        let mut reported: HashSet<(u64, u64)> = HashSet::new();
        for job in pipeline.jobs.iter().filter(|job| !job.matrix.is_empty()) {
            let Some(raw) = jobs.iter().find(|raw| raw.name.value == job.key) else {
                continue;
            };
            let raw_paths = raw
                .artifacts
                .iter()
                .chain(raw.reports.iter().flat_map(|(_, paths)| paths));
            for raw_path in raw_paths.filter(|path| path.value.contains("${{")) {
                let path = expand::substitute(&raw_path.value, &job.matrix);
                if leaves_workspace(&path) && reported.insert(yaml::position(&raw_path.referenced))
                {
                    self.report(
                        &raw_path.referenced,
                        Code::InvalidPath,
                        format!(
                            "path `{}` becomes `{path}` in job `{}`, which leaves the workspace",
                            raw_path.value, job.name
                        ),
                        Some(PATH_RULE.to_owned()),
                    );
                }
            }
        }
    }

    /// Checks `stages`; returns the declared stages with duplicates removed.
    fn stages(&mut self, file: &PipelineFile) -> Vec<String> {
        let mut stages: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let Some(declared) = &file.stages else {
            return stages;
        };
        if declared.value.is_empty() {
            self.report(
                &declared.referenced,
                Code::EmptyValue,
                "`stages` is empty".to_owned(),
                Some(
                    "list the stages in order, e.g. `stages: [build, test]`, or remove `stages`"
                        .to_owned(),
                ),
            );
        }
        for stage in &declared.value {
            if !self.name(stage, "stage", is_job_name, JOB_NAME_RULE) {
                continue;
            }
            if !seen.insert(&stage.value) {
                self.report(
                    &stage.referenced,
                    Code::DuplicateEntry,
                    format!("stage `{}` is declared twice", stage.value),
                    None,
                );
                continue;
            }
            stages.push(stage.value.clone());
        }
        stages
    }

    fn job(
        &mut self,
        job: &RawJob,
        stages: &[String],
        names: &[&str],
        index: &HashMap<&str, usize>,
    ) -> Checked {
        let name = &job.name.value;
        if name.starts_with('.') {
            self.report(
                &job.name.referenced,
                Code::InvalidName,
                format!("invalid job name `{name}`"),
                Some("hidden jobs do not exist; keep YAML anchors in a top-level key starting with `.`".to_owned()),
            );
        } else {
            self.name(&job.name, "job", is_job_name, JOB_NAME_RULE);
        }
        self.activity(job);
        self.step(job);
        let stage_rank = self.stage(job, stages);
        let needs = self.needs(job, names, index);
        if let Some(timeout) = &job.timeout
            && let Err(reason) = duration::parse(&timeout.value)
        {
            self.report(
                &timeout.referenced,
                Code::InvalidDuration,
                format!(
                    "invalid `timeout` `{}` in job `{name}`: {reason}",
                    timeout.value
                ),
                Some("write numbers with units h, m, s, e.g. `30s`, `10m` or `1h30m`".to_owned()),
            );
        }
        if let Some(retry) = &job.retry
            && !(0..=MAX_RETRY).contains(&retry.value)
        {
            self.report(
                &retry.referenced,
                Code::RetryOutOfRange,
                format!("`retry` of job `{name}` must be between 0 and {MAX_RETRY}"),
                None,
            );
        }
        self.reports(job);
        for artifact in &job.artifacts {
            self.path(artifact, &format!("`artifacts` of job `{name}`"));
        }
        self.cache(job);
        self.env(&job.env, &format!("job `{name}`"), EnvScope::Job);
        self.secrets(job);
        if let Some(network) = &job.network
            && network.value != "on"
            && network.value != "off"
        {
            self.report(
                &network.referenced,
                Code::InvalidNetwork,
                format!("`network` of job `{name}` is `{}`", network.value),
                Some("expected `on` or `off` (the default)".to_owned()),
            );
        }
        self.condition(job);
        let axes = self.matrix(job);
        self.expressions(job, &axes);
        let edges = needs
            .iter()
            .map(|(target, location)| (*target, Edge::Explicit(*location)))
            .collect();
        Checked {
            stage_rank,
            needs: needs.iter().map(|(target, _)| *target).collect(),
            edges,
            axes,
        }
    }

    /// Checks a name against a rule; returns whether it is valid.
    fn name(
        &mut self,
        name: &Spanned<String>,
        what: &str,
        is_valid: fn(&str) -> bool,
        rule: &str,
    ) -> bool {
        if is_valid(&name.value) {
            return true;
        }
        let message = if name.value.is_empty() {
            format!("empty {what} name")
        } else {
            format!("invalid {what} name `{}`", name.value)
        };
        self.report(
            &name.referenced,
            Code::InvalidName,
            message,
            Some(rule.to_owned()),
        );
        false
    }

    /// Whether the decoder rejected `field` of `job` (or the whole job).
    fn is_broken(&self, job: &RawJob, field: &'static str) -> bool {
        self.broken.contains(&(job.name.value.clone(), field))
            || self.broken.contains(&(job.name.value.clone(), "*"))
    }

    fn activity(&mut self, job: &RawJob) {
        let name = &job.name.value;
        let known = self.options.activities;
        let list = format!("known activities: {}", known.join(", "));
        match &job.activity {
            None if self.is_broken(job, "activity") => {}
            None => self.report(
                &job.name.referenced,
                Code::MissingField,
                format!("job `{name}` has no `activity`"),
                Some(format!("add `activity: <slug>`; {list}")),
            ),
            Some(activity) if !known.contains(&activity.value.as_str()) => self.report_unknown(
                &activity.referenced,
                Code::UnknownActivity,
                format!("unknown activity `{}` in job `{name}`", activity.value),
                &activity.value,
                known.iter().copied(),
                Some(list),
            ),
            Some(_) => {}
        }
    }

    fn step(&mut self, job: &RawJob) {
        let name = &job.name.value;
        match (&job.run, &job.uses) {
            (Some(_), Some(uses)) => self.report(
                &uses.referenced,
                Code::RunOrUses,
                format!("job `{name}` has both `run` and `uses`"),
                Some("use `run` for a script or `uses` for a built-in step, not both".to_owned()),
            ),
            (None, None) if self.is_broken(job, "run") || self.is_broken(job, "uses") => {}
            (None, None) => self.report(
                &job.name.referenced,
                Code::RunOrUses,
                format!("job `{name}` has neither `run` nor `uses`"),
                Some("add `run: <script>` or `uses: <built-in step>`".to_owned()),
            ),
            _ => {}
        }
        if let Some(run) = &job.run
            && run.value.trim().is_empty()
        {
            self.report(
                &run.referenced,
                Code::EmptyValue,
                format!("`run` of job `{name}` is empty"),
                None,
            );
        }
        if let Some(uses) = &job.uses {
            let known = self.options.uses;
            if !known.contains(&uses.value.as_str()) {
                let list = if known.is_empty() {
                    "no built-in steps are available".to_owned()
                } else {
                    format!("known steps: {}", known.join(", "))
                };
                self.report_unknown(
                    &uses.referenced,
                    Code::UnknownStep,
                    format!("unknown step `{}` in `uses` of job `{name}`", uses.value),
                    &uses.value,
                    known.iter().copied(),
                    Some(list),
                );
            }
        }
        if let (Some(uses), Some(with)) = (&job.uses, &job.with) {
            self.inputs(name, &uses.value, &with.value);
        }
        if let Some(with) = &job.with
            && job.uses.is_none()
            && !self.is_broken(job, "uses")
        {
            self.report(
                &with.referenced,
                Code::WithWithoutUses,
                format!("job `{name}` has `with` but no `uses`"),
                Some(
                    "`with` passes inputs to a built-in step; use `env` for a `run` script"
                        .to_owned(),
                ),
            );
        }
    }

    /// Checks `stage`; returns its rank among the declared stages.
    fn stage(&mut self, job: &RawJob, stages: &[String]) -> Option<usize> {
        let stage = job.stage.as_ref()?;
        if let Some(rank) = stages.iter().position(|s| *s == stage.value) {
            return Some(rank);
        }
        let message = format!(
            "stage `{}` of job `{}` is not declared in `stages`",
            stage.value, job.name.value
        );
        if stages.is_empty() {
            let hint = format!(
                "declare the stages at the top level, e.g. `stages: [{}]`",
                stage.value
            );
            self.report(&stage.referenced, Code::UnknownStage, message, Some(hint));
        } else {
            let list = format!("declared stages: {}", stages.join(", "));
            self.report_unknown(
                &stage.referenced,
                Code::UnknownStage,
                message,
                &stage.value,
                stages.iter().map(String::as_str),
                Some(list),
            );
        }
        None
    }

    /// Checks `needs`; returns the valid targets (not self, existing,
    /// first occurrence) with their locations.
    fn needs(
        &mut self,
        job: &RawJob,
        names: &[&str],
        index: &HashMap<&str, usize>,
    ) -> Vec<(usize, Location)> {
        let name = &job.name.value;
        let mut result: Vec<(usize, Location)> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for need in &job.needs {
            if need.value == *name {
                self.report(
                    &need.referenced,
                    Code::SelfNeed,
                    format!("job `{name}` needs itself"),
                    Some("remove it from `needs`".to_owned()),
                );
                continue;
            }
            let Some(&target) = index.get(need.value.as_str()) else {
                self.report_unknown(
                    &need.referenced,
                    Code::UnknownNeed,
                    format!("job `{name}` needs `{}`, which does not exist", need.value),
                    &need.value,
                    names.iter().copied().filter(|candidate| candidate != name),
                    None,
                );
                continue;
            };
            if !seen.insert(target) {
                self.report(
                    &need.referenced,
                    Code::DuplicateEntry,
                    format!("job `{name}` lists `{}` twice in `needs`", need.value),
                    None,
                );
                continue;
            }
            result.push((target, need.referenced));
        }
        result
    }

    fn reports(&mut self, job: &RawJob) {
        let name = &job.name.value;
        let kinds: Vec<&str> = ReportKind::ALL.iter().map(|kind| kind.as_str()).collect();
        for (kind, paths) in &job.reports {
            if ReportKind::from_key(&kind.value).is_none() {
                let list = format!("known kinds: {}", kinds.join(", "));
                self.report_unknown(
                    &kind.referenced,
                    Code::UnknownReportKind,
                    format!("unknown report kind `{}` in job `{name}`", kind.value),
                    &kind.value,
                    kinds.iter().copied(),
                    Some(list),
                );
            }
            if paths.is_empty() {
                self.report(
                    &kind.referenced,
                    Code::EmptyValue,
                    format!("`reports.{}` of job `{name}` lists no path", kind.value),
                    None,
                );
            }
            for path in paths {
                self.path(path, &format!("`reports.{}` of job `{name}`", kind.value));
            }
        }
    }

    /// Checks a `with` mapping against the inputs the step accepts.
    fn inputs(&mut self, job: &str, step: &str, with: &raw::StringMap) {
        let accepted: Vec<&StepInput<'_>> = self
            .options
            .inputs
            .iter()
            .filter(|input| input.step == step)
            .collect();
        if accepted.is_empty() {
            return;
        }
        for (key, value) in with {
            let Some(input) = accepted.iter().find(|input| input.name == key.value) else {
                let names: Vec<&str> = accepted.iter().map(|input| input.name).collect();
                let list = format!("`{step}` accepts: {}", names.join(", "));
                self.report_unknown(
                    &key.referenced,
                    Code::UnknownInput,
                    format!(
                        "unknown input `{}` in `with` of job `{job}` (`uses: {step}`)",
                        key.value
                    ),
                    &key.value,
                    names.iter().copied(),
                    Some(list),
                );
                continue;
            };
            if value.value.contains("${{") {
                continue;
            }
            let what = format!("input `{}` of job `{job}`", key.value);
            match input.kind {
                InputKind::Text if value.value.trim().is_empty() => self.report(
                    &value.referenced,
                    Code::EmptyValue,
                    format!("{what} is empty"),
                    None,
                ),
                InputKind::Text => {}
                InputKind::Path => self.path(value, &what),
                InputKind::Paths => {
                    for part in value.value.split(',') {
                        let part =
                            Spanned::new(part.trim().to_owned(), value.referenced, value.defined);
                        self.path(&part, &what);
                    }
                }
                InputKind::OneOf(words) => {
                    if !words.contains(&value.value.as_str()) {
                        self.report(
                            &value.referenced,
                            Code::InvalidInput,
                            format!("{what} is `{}`", value.value),
                            Some(format!("use one of: {}", words.join(", "))),
                        );
                    }
                }
            }
        }
    }

    /// Checks that a path stays inside the workspace.
    fn path(&mut self, path: &Spanned<String>, what: &str) {
        let text = &path.value;
        if text.trim().is_empty() {
            self.report(
                &path.referenced,
                Code::EmptyValue,
                format!("empty path in {what}"),
                None,
            );
        } else if leaves_workspace(text) {
            self.report(
                &path.referenced,
                Code::InvalidPath,
                format!("path `{text}` in {what} leaves the workspace"),
                Some(PATH_RULE.to_owned()),
            );
        }
    }

    fn cache(&mut self, job: &RawJob) {
        let mut seen: HashSet<&str> = HashSet::new();
        for cache in &job.cache {
            if self.name(&cache.name, "cache", is_cache_name, CACHE_NAME_RULE)
                && !seen.insert(&cache.name.value)
            {
                self.report(
                    &cache.name.referenced,
                    Code::DuplicateEntry,
                    format!(
                        "cache `{}` is listed twice in job `{}`",
                        cache.name.value, job.name.value
                    ),
                    None,
                );
            }
            if let Some(env) = &cache.env {
                self.name(env, "environment variable", is_env_name, ENV_NAME_RULE);
            }
        }
    }

    /// Checks env names; values may hold `${{ }}` only in jobs.
    fn env(&mut self, env: &[(Spanned<String>, Spanned<String>)], what: &str, scope: EnvScope) {
        for (key, value) in env {
            self.name(key, "environment variable", is_env_name, ENV_NAME_RULE);
            if scope == EnvScope::Pipeline && value.value.contains("${{") {
                self.report(
                    &value.referenced,
                    Code::UnsupportedExpression,
                    format!("expression in `env.{}` of {what}", key.value),
                    Some("`${{ matrix.<axis> }}` only works inside a job".to_owned()),
                );
            }
        }
    }

    fn secrets(&mut self, job: &RawJob) {
        let mut seen: HashSet<&str> = HashSet::new();
        for secret in &job.secrets {
            if self.name(secret, "secret", is_env_name, ENV_NAME_RULE)
                && !seen.insert(&secret.value)
            {
                self.report(
                    &secret.referenced,
                    Code::DuplicateEntry,
                    format!(
                        "secret `{}` is listed twice in job `{}`",
                        secret.value, job.name.value
                    ),
                    None,
                );
            }
        }
    }

    fn condition(&mut self, job: &RawJob) {
        let Some(condition) = &job.condition else {
            return;
        };
        let raw = &condition.value;
        let name = &job.name.value;
        for pattern in raw.branch.iter().chain(&raw.tag).chain(&raw.paths) {
            if pattern.value.is_empty() {
                self.report(
                    &pattern.referenced,
                    Code::EmptyValue,
                    format!("empty pattern in `if` of job `{name}`"),
                    None,
                );
            } else if pattern.value.contains("${{") {
                self.report(
                    &pattern.referenced,
                    Code::UnsupportedExpression,
                    format!("expression in a pattern of `if` of job `{name}`"),
                    Some("`if` patterns are plain globs such as `release/*`".to_owned()),
                );
            }
        }
    }

    /// Checks `matrix`; returns its valid axes with their distinct values.
    fn matrix(&mut self, job: &RawJob) -> Vec<(String, Vec<String>)> {
        let Some(matrix) = &job.matrix else {
            return Vec::new();
        };
        let name = &job.name.value;
        if matrix.value.is_empty() {
            self.report(
                &matrix.referenced,
                Code::EmptyMatrix,
                format!("the matrix of job `{name}` has no axes"),
                Some(
                    "add axes such as `matrix: { rust: [stable, beta] }`, or remove `matrix`"
                        .to_owned(),
                ),
            );
            return Vec::new();
        }
        let mut axes: Vec<(String, Vec<String>)> = Vec::new();
        for (axis, values) in &matrix.value {
            let valid_name = self.name(axis, "matrix axis", is_axis_name, AXIS_NAME_RULE);
            if values.is_empty() {
                self.report(
                    &axis.referenced,
                    Code::EmptyMatrix,
                    format!("matrix axis `{}` of job `{name}` has no values", axis.value),
                    Some(
                        "a job with an empty axis would never run; list at least one value"
                            .to_owned(),
                    ),
                );
                continue;
            }
            let mut distinct: Vec<String> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::new();
            for value in values {
                if value.value.is_empty() || value.value.chars().any(char::is_control) {
                    self.report(
                        &value.referenced,
                        Code::EmptyValue,
                        format!(
                            "matrix axis `{}` of job `{name}` has an empty or multi-line value",
                            axis.value
                        ),
                        None,
                    );
                } else if !seen.insert(&value.value) {
                    self.report(
                        &value.referenced,
                        Code::DuplicateEntry,
                        format!(
                            "matrix axis `{}` of job `{name}` lists `{}` twice",
                            axis.value, value.value
                        ),
                        None,
                    );
                } else {
                    distinct.push(value.value.clone());
                }
            }
            if valid_name {
                axes.push((axis.value.clone(), distinct));
            }
        }
        let n_combinations = axes
            .iter()
            .try_fold(1usize, |n, (_, values)| n.checked_mul(values.len()))
            .unwrap_or(usize::MAX);
        if n_combinations > MAX_MATRIX_COMBINATIONS {
            self.report(
                &matrix.referenced,
                Code::TooLarge,
                format!(
                    "the matrix of job `{name}` has {n_combinations} combinations, more than the limit of {MAX_MATRIX_COMBINATIONS}"
                ),
                None,
            );
            // Keep the expansion count bounded for the checks that follow.
            return Vec::new();
        }
        axes
    }

    fn expressions(&mut self, job: &RawJob, axes: &[(String, Vec<String>)]) {
        let axis_names: Vec<&str> = axes.iter().map(|(axis, _)| axis.as_str()).collect();
        let name = &job.name.value;
        let mut texts: Vec<(&Spanned<String>, String)> = Vec::new();
        if let Some(run) = &job.run {
            texts.push((run, "`run`".to_owned()));
        }
        for (key, value) in &job.env {
            texts.push((value, format!("`env.{}`", key.value)));
        }
        if let Some(with) = &job.with {
            for (key, value) in &with.value {
                texts.push((value, format!("`with.{}`", key.value)));
            }
        }
        for artifact in &job.artifacts {
            texts.push((artifact, "`artifacts`".to_owned()));
        }
        for (kind, paths) in &job.reports {
            for path in paths {
                texts.push((path, format!("`reports.{}`", kind.value)));
            }
        }
        for (text, field) in texts {
            for problem in expand::check_expressions(&text.value, &axis_names) {
                let (code, message, hint) = match problem {
                    ExpressionProblem::Unterminated => (
                        Code::UnsupportedExpression,
                        format!("unterminated `${{{{` in {field} of job `{name}`"),
                        Some("close it with `}}`".to_owned()),
                    ),
                    ExpressionProblem::UnknownAxis(axis) => {
                        // Axes are few and short: computing the hint is cheap.
                        let hint = if axis_names.is_empty() {
                            Some("the job has no `matrix`".to_owned())
                        } else {
                            suggest::nearest(&axis, axis_names.iter().copied())
                                .map(|nearest| format!("did you mean `{nearest}`?"))
                        };
                        (
                            Code::UnknownMatrixKey,
                            format!(
                                "`matrix.{axis}` in {field} of job `{name}` is not an axis of its matrix"
                            ),
                            hint,
                        )
                    }
                    ExpressionProblem::Unsupported(expression) => {
                        let hint = expression_hint(&expression);
                        (
                            Code::UnsupportedExpression,
                            format!(
                                "unsupported expression `${{{{ {expression} }}}}` in {field} of job `{name}`"
                            ),
                            Some(hint),
                        )
                    }
                };
                self.report(&text.referenced, code, message, hint);
            }
        }
    }

    fn cycles(&mut self, jobs: &[RawJob], checked: &[Checked]) {
        let needs: Vec<Vec<usize>> = checked
            .iter()
            .map(|c| c.edges.iter().map(|(target, _)| *target).collect())
            .collect();
        for cycle in graph::cycles(&needs) {
            let edge_to = |from: usize, to: usize| {
                checked[from]
                    .edges
                    .iter()
                    .find(|(target, _)| *target == to)
                    .map(|(_, edge)| edge.clone())
            };
            let mut names: Vec<&str> = cycle
                .iter()
                .map(|&job| jobs[job].name.value.as_str())
                .collect();
            names.push(names[0]);
            let first = cycle[0];
            let second = cycle[1 % cycle.len()];
            let location = match edge_to(first, second) {
                Some(Edge::Explicit(location)) => location,
                _ => jobs[first]
                    .stage
                    .as_ref()
                    .map_or(jobs[first].name.referenced, |stage| stage.referenced),
            };
            let hint = (0..cycle.len()).find_map(|i| {
                let from = cycle[i];
                let to = cycle[(i + 1) % cycle.len()];
                match edge_to(from, to) {
                    Some(Edge::Stage(later, earlier)) => Some(format!(
                        "`{}` implicitly needs `{}` because stage `{later}` comes after stage `{earlier}`",
                        jobs[from].name.value, jobs[to].name.value
                    )),
                    _ => None,
                }
            });
            self.report(
                &location,
                Code::NeedsCycle,
                format!("cycle in `needs`: {}", names.join(" -> ")),
                hint,
            );
        }
    }
}

/// Adds the implicit needs of stages: a job of stage `s` needs every job of
/// an earlier stage (explicit needs are kept as they are).
fn add_stage_edges(checked: &mut [Checked], stages: &[String]) {
    let ranks: Vec<Option<usize>> = checked.iter().map(|c| c.stage_rank).collect();
    for (job, facts) in checked.iter_mut().enumerate() {
        let Some(rank) = ranks[job] else {
            continue;
        };
        for (target, target_rank) in ranks.iter().enumerate() {
            let Some(target_rank) = target_rank else {
                continue;
            };
            if *target_rank < rank && !facts.edges.iter().any(|(t, _)| *t == target) {
                facts.edges.push((
                    target,
                    Edge::Stage(stages[rank].clone(), stages[*target_rank].clone()),
                ));
                facts.needs.push(target);
            }
        }
    }
}

fn expression_hint(expression: &str) -> String {
    if let Some(name) = expression.strip_prefix("secrets.") {
        format!("secrets listed in `secrets` are environment variables: use `${name}`")
    } else if let Some(name) = expression.strip_prefix("env.") {
        format!("use the environment variable directly: `${name}`")
    } else {
        "only `${{ matrix.<axis> }}` is supported".to_owned()
    }
}
