//! The pipeline-as-code engine of dso: `.dso/pipeline.yaml` in, a validated,
//! matrix-expanded job graph out, and a pure scheduler over it.
//!
//! Architecture invariant: this crate does no I/O. It reads no file, spawns
//! no process, opens no socket and knows nothing about SQL or HTTP. Callers
//! pass the file's text and the lists it is checked against (activity slugs
//! of the process model, built-in step names).
//!
//! Code map:
//! - `validate`: [`validate`] turns source text into a [`Pipeline`] or every
//!   [`Diagnostic`] at once; it drives `yaml` (spanned node tree under strict
//!   limits), `raw` (the typed, spanned [`PipelineFile`]), `graph` (cycles and
//!   topological order), `expand` (matrix expansion and expressions) and
//!   `build` (the validated pipeline from checked parts).
//! - `pipeline`: the validated types and `if` evaluation.
//! - `schedule`: [`Schedule`], the state machine a runner drives.
//! - [`glob`] and [`duration`]: the small languages of `if` and `timeout`.
//! - `diagnostic`: [`Diagnostic`] and its stable [`Code`]s.

pub mod duration;
pub mod glob;
pub mod reports;

mod build;
mod diagnostic;
mod expand;
mod graph;
mod pipeline;
mod raw;
mod rules;
mod schedule;
mod suggest;
mod validate;
mod yaml;

pub use diagnostic::{Code, Diagnostic, MAX_DIAGNOSTICS};
pub use pipeline::{
    Cache, Condition, DEFAULT_TIMEOUT, Job, JobId, Network, Pipeline, RefContext, Report,
    ReportKind, Step,
};
pub use raw::{
    ListMap, MAX_ENTRIES, MAX_JOBS, PipelineFile, RawCache, RawCondition, RawJob, StringMap,
};
pub use schedule::{JobState, Outcome, PipelineOutcome, Schedule, ScheduleError, SkipReason};
pub use validate::{
    InputKind, MAX_EXPANDED_JOBS, MAX_MATRIX_COMBINATIONS, MAX_RETRY, StepInput, ValidateOptions,
    validate,
};
pub use yaml::MAX_SOURCE_BYTES;
