//! Diagnostics: what `validate` reports about a pipeline file.
//!
//! A [`Diagnostic`] is data, not an error: validation collects every problem it
//! finds and returns them all at once, sorted by position. Each one carries a
//! stable [`Code`] so that tools and tests can match on it without parsing text.

use std::fmt;

use serde_saphyr::Location;

use crate::yaml;

/// Most diagnostics one validation returns; beyond it, a final `too-large`
/// diagnostic says how many more were found. This also bounds the work spent
/// on hints for hostile files with thousands of mistakes.
pub const MAX_DIAGNOSTICS: usize = 100;

/// One problem found in a pipeline file, with its position.
///
/// `line` and `column` are 1-based and count characters, like editors do.
/// `Display` renders the compiler-like form
/// `.dso/pipeline.yaml:12:5: error[unknown-field]: message` followed, when
/// there is a hint, by a second line `  hint: ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name exactly as the caller passed it to `validate`.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column, in characters.
    pub column: u64,
    /// Stable identifier of the kind of problem.
    pub code: Code,
    /// Lowercase sentence without trailing period.
    pub message: String,
    /// An optional suggestion, such as the nearest valid name.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error[{}]: {}",
            self.file, self.line, self.column, self.code, self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $description:literal; )*) => {
        /// Stable, kebab-case identifier of a diagnostic kind.
        ///
        /// The kebab-case names (see [`Code::as_str`]) are part of the public
        /// contract: never rename one, only add new ones.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$( Code::$variant, )*];

            /// Returns the kebab-case name, e.g. `unknown-field`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $name, )*
                }
            }

            /// Returns a one-line description of what the code means.
            pub fn description(self) -> &'static str {
                match self {
                    $( Code::$variant => $description, )*
                }
            }
        }
    };
}

codes! {
    /// The text is not valid YAML.
    YamlSyntax => "yaml-syntax", "the file is not valid YAML";
    /// The document is too large, too deep or expands too many aliases.
    YamlLimit => "yaml-limit", "the file exceeds a size, nesting or alias-expansion limit";
    /// A mapping repeats a key.
    DuplicateKey => "duplicate-key", "a mapping contains the same key twice";
    /// A mapping has a key the format does not define.
    UnknownField => "unknown-field", "a mapping contains a key the format does not define";
    /// A required key is absent.
    MissingField => "missing-field", "a required key is absent";
    /// A value has the wrong YAML type, e.g. a list where a string is expected.
    WrongType => "wrong-type", "a value has the wrong YAML type";
    /// A value that must not be empty is empty.
    EmptyValue => "empty-value", "a value that must not be empty is empty";
    /// `jobs` is absent or has no entries.
    EmptyJobs => "empty-jobs", "the pipeline defines no jobs";
    /// A job, stage, matrix, cache, env or secret name is malformed.
    InvalidName => "invalid-name", "a name is empty or contains characters that are not allowed";
    /// A list contains the same entry twice.
    DuplicateEntry => "duplicate-entry", "a list contains the same entry twice";
    /// `needs` names a job that does not exist.
    UnknownNeed => "unknown-need", "`needs` names a job that does not exist";
    /// A job lists itself in `needs`.
    SelfNeed => "self-need", "a job lists itself in `needs`";
    /// `needs` (including implicit stage order) forms a cycle.
    NeedsCycle => "needs-cycle", "`needs`, including the implicit order of stages, forms a cycle";
    /// `stage` names a stage missing from the top-level `stages` list.
    UnknownStage => "unknown-stage", "a job's `stage` is not declared in the top-level `stages`";
    /// `activity` is not one of the activity slugs of the process model.
    UnknownActivity => "unknown-activity", "`activity` is not an activity of the process model";
    /// A job has both `run` and `uses`, or neither.
    RunOrUses => "run-or-uses", "a job must have exactly one of `run` and `uses`";
    /// `uses` names a built-in step that does not exist.
    UnknownStep => "unknown-step", "`uses` names a built-in step that does not exist";
    /// `with` is given on a job without `uses`.
    WithWithoutUses => "with-without-uses", "`with` is only meaningful together with `uses`";
    /// A duration such as `timeout` cannot be parsed or is out of range.
    InvalidDuration => "invalid-duration", "a duration is malformed or out of range";
    /// `retry` is outside `0..=10`.
    RetryOutOfRange => "retry-out-of-range", "`retry` is outside 0..=10";
    /// `reports` has a key that is not a known report format.
    UnknownReportKind => "unknown-report-kind", "`reports` has a key that is not a known report format";
    /// `network` is neither `on` nor `off`.
    InvalidNetwork => "invalid-network", "`network` is neither `on` nor `off`";
    /// A path is absolute or leaves the workspace with `..`.
    InvalidPath => "invalid-path", "a path is absolute or leaves the workspace";
    /// A matrix has no axes, or an axis has no values.
    EmptyMatrix => "empty-matrix", "a matrix has no axes or an axis has no values";
    /// A list, a mapping, a matrix, the job count or the error count exceeds a limit.
    TooLarge => "too-large", "a list, mapping, matrix, the number of jobs or the number of errors exceeds a limit";
    /// `${{ matrix.x }}` names an axis the job's matrix does not have.
    UnknownMatrixKey => "unknown-matrix-key", "`${{ matrix.x }}` names an axis the job's matrix does not have";
    /// `${{ ... }}` holds something other than `matrix.<axis>`.
    UnsupportedExpression => "unsupported-expression", "`${{ ... }}` holds something other than `matrix.<axis>`";
    /// `with` has a key the built-in step does not accept.
    UnknownInput => "unknown-input", "`with` has a key the built-in step named in `uses` does not accept";
    /// A `with` value is not one the built-in step accepts.
    InvalidInput => "invalid-input", "a `with` value is not one the built-in step accepts";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Collects the diagnostics of one validation, up to [`MAX_DIAGNOSTICS`].
pub(crate) struct Reporter<'a> {
    file_name: &'a str,
    diagnostics: Vec<Diagnostic>,
    /// Diagnostics found beyond the cap, and where the first of them was.
    n_dropped: usize,
    first_dropped: (u64, u64),
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(file_name: &'a str) -> Reporter<'a> {
        Reporter {
            file_name,
            diagnostics: Vec::new(),
            n_dropped: 0,
            first_dropped: (1, 1),
        }
    }

    /// Records a diagnostic at `location`.
    pub(crate) fn report(
        &mut self,
        location: &Location,
        code: Code,
        message: String,
        hint: Option<String>,
    ) {
        self.report_with(location, code, message, || hint);
    }

    /// Records a diagnostic whose hint is only computed when the diagnostic
    /// is kept (hints such as "did you mean" cost an edit-distance search).
    pub(crate) fn report_with(
        &mut self,
        location: &Location,
        code: Code,
        message: String,
        hint: impl FnOnce() -> Option<String>,
    ) {
        let (line, column) = yaml::position(location);
        self.report_at(line, column, code, message, hint);
    }

    /// Records a diagnostic at a line and column.
    pub(crate) fn report_at(
        &mut self,
        line: u64,
        column: u64,
        code: Code,
        message: String,
        hint: impl FnOnce() -> Option<String>,
    ) {
        if self.diagnostics.len() >= MAX_DIAGNOSTICS {
            if self.n_dropped == 0 {
                self.first_dropped = (line, column);
            }
            self.n_dropped += 1;
            return;
        }
        self.diagnostics.push(Diagnostic {
            file: self.file_name.to_owned(),
            line,
            column,
            code,
            message,
            hint: hint(),
        });
    }

    /// Returns how many diagnostics were reported, including dropped ones.
    pub(crate) fn n_reported(&self) -> usize {
        self.diagnostics.len() + self.n_dropped
    }

    /// Returns the diagnostics sorted by position, followed by a note on
    /// the dropped ones if any.
    pub(crate) fn finish(self) -> Vec<Diagnostic> {
        let mut diagnostics = self.diagnostics;
        // A stable sort keeps the order of checks among equal positions.
        diagnostics.sort_by_key(|d| (d.line, d.column));
        if self.n_dropped > 0 {
            let (line, column) = self.first_dropped;
            diagnostics.push(Diagnostic {
                file: self.file_name.to_owned(),
                line,
                column,
                code: Code::TooLarge,
                message: format!(
                    "{} more errors not shown; fix the ones above first",
                    self.n_dropped
                ),
                hint: None,
            });
        }
        diagnostics
    }
}
