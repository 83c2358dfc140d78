//! The raw pipeline file: the YAML shape, typed and spanned, not yet validated.
//!
//! [`PipelineFile`] mirrors `.dso/pipeline.yaml` field by field. Every value is
//! a `serde_saphyr::Spanned` so that later checks can point at it. Decoding
//! enforces the *shape* only: known keys (the equivalent of serde's
//! `deny_unknown_fields`, with a "did you mean" hint), value types, and unique
//! mapping keys. Whether values make sense (known activity, no cycle, valid
//! duration, ...) is `validate`'s business.
//!
//! NOTE: the decoder is written by hand over the node tree of `yaml.rs` rather
//! than derived with `#[derive(Deserialize)]`, because derived code stops at
//! the first error while we report every error of the file at once.
//!
//! Shape rules shared by all fields:
//! - a field set to `null` (or left empty, `needs:`) counts as absent;
//! - where a list of strings is expected, a single string means a one-element list;
//! - where a string is expected, any scalar is taken with its source spelling
//!   (`network: off`, `A: 1.10`).
//! - top-level keys starting with `.` are ignored, so they can hold YAML
//!   anchors (`.defaults: &defaults`) to merge into jobs with `<<: *defaults`.

use std::collections::{HashMap, HashSet};

use serde_saphyr::{Location, Spanned};

use crate::diagnostic::{Code, Diagnostic, Reporter};
use crate::suggest;
use crate::yaml::{self, Node, Yaml};

/// A mapping from names to strings, in file order, e.g. `env`.
pub type StringMap = Vec<(Spanned<String>, Spanned<String>)>;

/// A mapping from names to lists of strings, in file order, e.g. `matrix`.
pub type ListMap = Vec<(Spanned<String>, Vec<Spanned<String>>)>;

/// A parsed `.dso/pipeline.yaml`, shape-checked but not validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PipelineFile {
    /// `stages`, located at the value.
    pub stages: Option<Spanned<Vec<Spanned<String>>>>,
    /// Pipeline-wide `env`, in file order.
    pub env: StringMap,
    /// `jobs`, in file order, located at the `jobs` key; `None` when absent.
    pub jobs: Option<Spanned<Vec<RawJob>>>,
}

/// One entry of `jobs`, before validation and matrix expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct RawJob {
    /// The job's key, located at the key.
    pub name: Spanned<String>,
    /// `stage`.
    pub stage: Option<Spanned<String>>,
    /// `needs`.
    pub needs: Vec<Spanned<String>>,
    /// `activity`.
    pub activity: Option<Spanned<String>>,
    /// `run`.
    pub run: Option<Spanned<String>>,
    /// `uses`.
    pub uses: Option<Spanned<String>>,
    /// `with`, located at the `with` key.
    pub with: Option<Spanned<StringMap>>,
    /// `artifacts`.
    pub artifacts: Vec<Spanned<String>>,
    /// `cache`, from either the list or the mapping form.
    pub cache: Vec<RawCache>,
    /// `timeout`, as written.
    pub timeout: Option<Spanned<String>>,
    /// `reports`: (kind as written, paths).
    pub reports: ListMap,
    /// `retry`; decimal integers only, saturated to the `i64` range.
    pub retry: Option<Spanned<i64>>,
    /// `allow_failure`.
    pub allow_failure: Option<Spanned<bool>>,
    /// `if`, located at the `if` key.
    pub condition: Option<Spanned<RawCondition>>,
    /// `matrix`: (axis, values), located at the `matrix` key.
    pub matrix: Option<Spanned<ListMap>>,
    /// Job `env`, in file order.
    pub env: StringMap,
    /// `secrets`.
    pub secrets: Vec<Spanned<String>>,
    /// `network`, as written.
    pub network: Option<Spanned<String>>,
}

/// One `cache` entry: `cargo` (list form) or `cargo: CARGO_HOME` (mapping form).
#[derive(Debug, Clone, PartialEq)]
pub struct RawCache {
    /// The cache name.
    pub name: Spanned<String>,
    /// The environment variable, in the mapping form only.
    pub env: Option<Spanned<String>>,
}

/// The `if` mapping.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawCondition {
    /// `branch` globs.
    pub branch: Vec<Spanned<String>>,
    /// `tag` globs.
    pub tag: Vec<Spanned<String>>,
    /// `paths` globs.
    pub paths: Vec<Spanned<String>>,
}

/// Most entries a list or mapping may have (`jobs` has its own limit).
pub const MAX_ENTRIES: usize = 256;

/// Most entries `jobs` may have (before matrix expansion).
pub const MAX_JOBS: usize = 4096;

/// The keys of the top level.
pub(crate) const TOP_LEVEL_FIELDS: &[&str] = &["stages", "env", "jobs"];

/// The keys of a job, in documentation order.
pub(crate) const JOB_FIELDS: &[&str] = &[
    "stage",
    "needs",
    "activity",
    "run",
    "uses",
    "with",
    "artifacts",
    "cache",
    "timeout",
    "reports",
    "retry",
    "allow_failure",
    "if",
    "matrix",
    "env",
    "secrets",
    "network",
];

/// The keys of `if`.
pub(crate) const CONDITION_FIELDS: &[&str] = &["branch", "tag", "paths"];

impl PipelineFile {
    /// Parses and shape-checks a pipeline file.
    ///
    /// Returns every YAML and shape diagnostic at once when there is any;
    /// `file_name` only labels the diagnostics. Never panics.
    pub fn parse(file_name: &str, source: &str) -> Result<PipelineFile, Vec<Diagnostic>> {
        let mut reporter = Reporter::new(file_name);
        match decode(source, &mut reporter) {
            Some(decoded) if reporter.n_reported() == 0 => Ok(decoded.file),
            _ => Err(reporter.finish()),
        }
    }
}

/// The decoded file, plus what `validate` needs to avoid repeating errors.
pub(crate) struct Decoded {
    pub(crate) file: PipelineFile,
    /// (job name, field) pairs whose value the decoder rejected; `"*"` as the
    /// field means the whole job. `validate` does not report such a field as
    /// missing, since the user did write it.
    pub(crate) broken: HashSet<(String, &'static str)>,
}

/// Parses and decodes `source`, pushing diagnostics; returns `None` when the
/// YAML could not be read or is not a mapping, i.e. when there is nothing
/// further to check.
pub(crate) fn decode(source: &str, reporter: &mut Reporter<'_>) -> Option<Decoded> {
    let root = match yaml::parse(source) {
        Ok(root) => root,
        Err(failure) => {
            let code = if failure.limit {
                Code::YamlLimit
            } else {
                Code::YamlSyntax
            };
            reporter.report_at(failure.line, failure.column, code, failure.message, || None);
            return None;
        }
    };
    let mut decoder = Decoder {
        source,
        reporter,
        broken: HashSet::new(),
    };
    let file = decoder.pipeline(&root)?;
    Some(Decoded {
        file,
        broken: decoder.broken,
    })
}

/// Collects diagnostics while walking the node tree.
struct Decoder<'a, 'r> {
    source: &'a str,
    reporter: &'a mut Reporter<'r>,
    broken: HashSet<(String, &'static str)>,
}

impl Decoder<'_, '_> {
    /// Records a diagnostic at `location`.
    fn report(&mut self, location: &Location, code: Code, message: String, hint: Option<String>) {
        self.reporter.report(location, code, message, hint);
    }

    fn pipeline(&mut self, root: &Node) -> Option<PipelineFile> {
        let mut file = PipelineFile::default();
        let entries = match &root.value {
            Yaml::Null => Vec::new(),
            Yaml::Map(_) => self.mapping(root, "the top level"),
            other => {
                self.report(
                    &root.referenced,
                    Code::WrongType,
                    format!(
                        "a pipeline file must be a mapping with `jobs`, found {}",
                        other.kind()
                    ),
                    None,
                );
                return None;
            }
        };
        // A misspelt `jobs` key gets a "did you mean" already; saying that
        // there are no jobs as well would only repeat it.
        let mut jobs_misspelt = false;
        for (key, value) in entries {
            if key.value.starts_with('.') {
                continue;
            }
            match key.value.as_str() {
                "stages" => {
                    if !is_null(value)
                        && let Some(stages) = self.string_list(value, "`stages`")
                    {
                        file.stages = Some(Spanned::new(stages, value.referenced, value.defined));
                    }
                }
                "env" => file.env = self.string_map(value, "`env`"),
                "jobs" => {
                    let jobs = self.jobs(&key, value);
                    file.jobs = Some(Spanned::new(jobs, key.referenced, key.defined));
                }
                _ => {
                    jobs_misspelt |= suggest::nearest(&key.value, ["jobs"]).is_some();
                    self.unknown_field(&key, TOP_LEVEL_FIELDS, "at the top level");
                }
            }
        }
        if file.jobs.is_none() && !jobs_misspelt {
            self.reporter.report_at(
                1,
                1,
                Code::EmptyJobs,
                "the pipeline has no `jobs`".to_owned(),
                || Some("add a `jobs:` mapping with at least one job".to_owned()),
            );
        }
        Some(file)
    }

    fn jobs(&mut self, key: &Spanned<String>, node: &Node) -> Vec<RawJob> {
        match &node.value {
            Yaml::Map(entries) if !entries.is_empty() => self
                .mapping_up_to(node, "`jobs`", MAX_JOBS)
                .into_iter()
                .map(|(name, body)| self.job(name, body))
                .collect(),
            Yaml::Null | Yaml::Map(_) => {
                self.report(
                    &key.referenced,
                    Code::EmptyJobs,
                    "`jobs` has no jobs".to_owned(),
                    Some(
                        "add at least one job, e.g. `build: { activity: build, run: make }`"
                            .to_owned(),
                    ),
                );
                Vec::new()
            }
            other => {
                self.report(
                    &node.referenced,
                    Code::WrongType,
                    format!(
                        "`jobs` must be a mapping from job name to job, found {}",
                        other.kind()
                    ),
                    None,
                );
                Vec::new()
            }
        }
    }

    fn job(&mut self, name: Spanned<String>, body: &Node) -> RawJob {
        let mut job = RawJob {
            name,
            stage: None,
            needs: Vec::new(),
            activity: None,
            run: None,
            uses: None,
            with: None,
            artifacts: Vec::new(),
            cache: Vec::new(),
            timeout: None,
            reports: Vec::new(),
            retry: None,
            allow_failure: None,
            condition: None,
            matrix: None,
            env: Vec::new(),
            secrets: Vec::new(),
            network: None,
        };
        let context = format!("job `{}`", job.name.value);
        let entries = match &body.value {
            Yaml::Null => return job,
            Yaml::Map(_) => self.mapping(body, &context),
            other => {
                self.report(
                    &body.referenced,
                    Code::WrongType,
                    format!("{context} must be a mapping, found {}", other.kind()),
                    Some("a job looks like `build: { activity: build, run: make }`".to_owned()),
                );
                self.broken.insert((job.name.value.clone(), "*"));
                return job;
            }
        };
        for (key, value) in entries {
            if is_null(value) {
                if !JOB_FIELDS.contains(&key.value.as_str()) {
                    self.unknown_field(&key, JOB_FIELDS, &format!("in {context}"));
                }
                continue;
            }
            let what = format!("`{}` of {context}", key.value);
            let n_diagnostics = self.reporter.n_reported();
            match key.value.as_str() {
                "stage" => job.stage = self.string(value, &what),
                "needs" => job.needs = self.string_list(value, &what).unwrap_or_default(),
                "activity" => job.activity = self.string(value, &what),
                "run" => job.run = self.string(value, &what),
                "uses" => job.uses = self.string(value, &what),
                "with" => {
                    let with = self.string_map(value, &what);
                    job.with = Some(Spanned::new(with, key.referenced, key.defined));
                }
                "artifacts" => job.artifacts = self.string_list(value, &what).unwrap_or_default(),
                "cache" => job.cache = self.cache(value, &what),
                "timeout" => job.timeout = self.string(value, &what),
                "reports" => {
                    job.reports = self
                        .mapping_or_report(value, &what)
                        .into_iter()
                        .filter_map(|(kind, paths)| {
                            let what = format!("`reports.{}` of {context}", kind.value);
                            Some((kind, self.string_list(paths, &what)?))
                        })
                        .collect();
                }
                "retry" => job.retry = self.integer(value, &what),
                "allow_failure" => job.allow_failure = self.boolean(value, &what),
                "if" => {
                    job.condition = self
                        .condition(value, &context)
                        .map(|condition| Spanned::new(condition, key.referenced, key.defined));
                }
                "matrix" => {
                    let axes = self
                        .mapping_or_report(value, &what)
                        .into_iter()
                        .filter_map(|(axis, values)| {
                            let what = format!("`matrix.{}` of {context}", axis.value);
                            Some((axis, self.string_list(values, &what)?))
                        })
                        .collect();
                    job.matrix = Some(Spanned::new(axes, key.referenced, key.defined));
                }
                "env" => job.env = self.string_map(value, &what),
                "secrets" => job.secrets = self.string_list(value, &what).unwrap_or_default(),
                "network" => job.network = self.string(value, &what),
                _ => self.unknown_field(&key, JOB_FIELDS, &format!("in {context}")),
            }
            if self.reporter.n_reported() > n_diagnostics
                && let Some(field) = JOB_FIELDS.iter().find(|field| **field == key.value)
            {
                self.broken.insert((job.name.value.clone(), field));
            }
        }
        job
    }

    /// Decodes `if`; returns `None` when it is not a mapping.
    fn condition(&mut self, node: &Node, context: &str) -> Option<RawCondition> {
        let what = format!("`if` of {context}");
        match &node.value {
            Yaml::Map(entries) if entries.is_empty() => {
                self.report(
                    &node.referenced,
                    Code::EmptyValue,
                    format!("{what} has no condition"),
                    Some("add `branch`, `tag` or `paths`, or remove `if`".to_owned()),
                );
                return None;
            }
            Yaml::Map(_) => {}
            Yaml::Str(_) => {
                self.report(
                    &node.referenced,
                    Code::WrongType,
                    format!("{what} must be a mapping, found a string"),
                    Some(
                        "expressions are not supported; write e.g. `if: { branch: main }`"
                            .to_owned(),
                    ),
                );
                return None;
            }
            _ => {
                self.wrong_type(node, &what, "a mapping");
                return None;
            }
        }
        let mut condition = RawCondition::default();
        for (key, value) in self.mapping(node, &what) {
            let what = format!("`if.{}` of {context}", key.value);
            match key.value.as_str() {
                "branch" => condition.branch = self.string_list(value, &what).unwrap_or_default(),
                "tag" => condition.tag = self.string_list(value, &what).unwrap_or_default(),
                "paths" => condition.paths = self.string_list(value, &what).unwrap_or_default(),
                _ => self.unknown_field(&key, CONDITION_FIELDS, &format!("in `if` of {context}")),
            }
        }
        Some(condition)
    }

    fn cache(&mut self, node: &Node, what: &str) -> Vec<RawCache> {
        match &node.value {
            Yaml::Map(_) => self
                .mapping(node, what)
                .into_iter()
                .filter_map(|(name, env)| {
                    let env = self.string(env, &format!("`{}` in {what}", name.value))?;
                    Some(RawCache {
                        name,
                        env: Some(env),
                    })
                })
                .collect(),
            _ => self
                .string_list(node, what)
                .unwrap_or_default()
                .into_iter()
                .map(|name| RawCache { name, env: None })
                .collect(),
        }
    }

    /// Returns the entries of a mapping with string keys, reporting duplicate
    /// and non-scalar keys (those entries are dropped; the first of duplicates
    /// is kept). `context` names the mapping in messages.
    fn mapping<'n>(&mut self, node: &'n Node, context: &str) -> Vec<(Spanned<String>, &'n Node)> {
        self.mapping_up_to(node, context, MAX_ENTRIES)
    }

    /// Like [`Self::mapping`] with its own limit on the number of entries.
    fn mapping_up_to<'n>(
        &mut self,
        node: &'n Node,
        context: &str,
        limit: usize,
    ) -> Vec<(Spanned<String>, &'n Node)> {
        let Yaml::Map(entries) = &node.value else {
            return Vec::new();
        };
        let mut result: Vec<(Spanned<String>, &'n Node)> = Vec::new();
        // Key text -> index in `result`, so duplicate detection stays linear.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (key, value) in self.capped(node, entries, context, limit) {
            let Some(text) = yaml::scalar_text(key, self.source) else {
                self.report(
                    &key.referenced,
                    Code::WrongType,
                    format!(
                        "keys of {context} must be strings, found {}",
                        key.value.kind()
                    ),
                    None,
                );
                continue;
            };
            let text = text.into_owned();
            if let Some(&first) = seen.get(&text) {
                let (line, _) = yaml::position(&result[first].0.referenced);
                self.report(
                    &key.referenced,
                    Code::DuplicateKey,
                    format!("duplicate key `{text}` in {context}"),
                    Some(format!("the first `{text}` is on line {line}")),
                );
                continue;
            }
            seen.insert(text.clone(), result.len());
            result.push((Spanned::new(text, key.referenced, key.defined), value));
        }
        result
    }

    /// Returns at most `limit` items, reporting a longer collection.
    fn capped<'n, T>(&mut self, node: &Node, items: &'n [T], what: &str, limit: usize) -> &'n [T] {
        if items.len() <= limit {
            return items;
        }
        self.report(
            &node.referenced,
            Code::TooLarge,
            format!(
                "{what} has {} entries, more than the limit of {limit}",
                items.len()
            ),
            None,
        );
        &items[..limit]
    }

    /// Like [`Self::mapping`], but reports a `wrong-type` when `node` is not a
    /// mapping.
    fn mapping_or_report<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
    ) -> Vec<(Spanned<String>, &'n Node)> {
        if let Yaml::Map(_) = node.value {
            self.mapping(node, what)
        } else {
            self.wrong_type(node, what, "a mapping");
            Vec::new()
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match (&node.value, yaml::scalar_text(node, self.source)) {
            (Yaml::Null, _) | (_, None) => {
                self.wrong_type(node, what, "a string");
                None
            }
            (_, Some(text)) => Some(Spanned::new(
                text.into_owned(),
                node.referenced,
                node.defined,
            )),
        }
    }

    /// Decodes a string or a list of strings; returns `None` when the value
    /// has another type (entries of another type are reported and dropped).
    fn string_list(&mut self, node: &Node, what: &str) -> Option<Vec<Spanned<String>>> {
        match &node.value {
            Yaml::Null => Some(Vec::new()),
            Yaml::Seq(items) => Some(
                self.capped(node, items, what, MAX_ENTRIES)
                    .iter()
                    .filter_map(|item| self.string(item, &format!("an entry of {what}")))
                    .collect(),
            ),
            Yaml::Map(_) => {
                self.wrong_type(node, what, "a string or a list of strings");
                None
            }
            _ => Some(self.string(node, what).into_iter().collect()),
        }
    }

    fn string_map(&mut self, node: &Node, what: &str) -> StringMap {
        if is_null(node) {
            return Vec::new();
        }
        self.mapping_or_report(node, what)
            .into_iter()
            .filter_map(|(key, value)| {
                let value = self.string(value, &format!("`{}` in {what}", key.value))?;
                Some((key, value))
            })
            .collect()
    }

    fn integer(&mut self, node: &Node, what: &str) -> Option<Spanned<i64>> {
        let text = match (&node.value, yaml::scalar_text(node, self.source)) {
            (Yaml::Number, Some(text)) => text,
            _ => {
                self.wrong_type(node, what, "an integer");
                return None;
            }
        };
        let digits = text.strip_prefix(['-', '+']).unwrap_or(&text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            self.wrong_type(node, what, "an integer");
            return None;
        }
        // Out-of-range literals saturate: `validate` reports them as out of range.
        let value = text.parse::<i64>().unwrap_or(if text.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
        Some(Spanned::new(value, node.referenced, node.defined))
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<Spanned<bool>> {
        if let Yaml::Bool(value) = node.value {
            Some(Spanned::new(value, node.referenced, node.defined))
        } else {
            self.wrong_type(node, what, "`true` or `false`");
            None
        }
    }

    fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        let hint = match (&node.value, what.starts_with("`run`")) {
            (Yaml::Seq(_), true) => Some(
                "write a multi-line script as a block: `run: |` and one command per line"
                    .to_owned(),
            ),
            _ => None,
        };
        self.report(
            &node.referenced,
            Code::WrongType,
            format!("{what} must be {expected}, found {}", node.value.kind()),
            hint,
        );
    }

    fn unknown_field(&mut self, key: &Spanned<String>, fields: &[&str], context: &str) {
        self.reporter.report_with(
            &key.referenced,
            Code::UnknownField,
            format!("unknown field `{}` {context}", key.value),
            || {
                Some(match suggest::nearest(&key.value, fields.iter().copied()) {
                    Some(nearest) => format!("did you mean `{nearest}`?"),
                    None => format!("expected one of: {}", fields.join(", ")),
                })
            },
        );
    }
}

fn is_null(node: &Node) -> bool {
    matches!(node.value, Yaml::Null)
}
