//! JUnit XML test reports: suites, cases, outcomes and durations.
//!
//! There is no JUnit XML standard, only dialects; this parser accepts what
//! the common tools write: Maven Surefire, pytest `--junitxml` (xunit1 and
//! xunit2), jest-junit, go-junit-report, cargo-nextest, and the subset
//! GitLab reads.
//!
//! - The root is `<testsuites>` or a single `<testsuite>`. Suites may nest;
//!   they are flattened into [`TestReport::suites`] in document order, and a
//!   suite that holds only other suites (no test case of its own) is a
//!   container and is not listed itself.
//! - A case's outcome is its first `<failure>` or `<error>` child; otherwise
//!   `<skipped>` makes it skipped; otherwise it passed. Surefire's
//!   `<flakyFailure>`/`<flakyError>` (failed, then passed on a rerun) and
//!   `<rerunFailure>`/`<rerunError>` (reruns of a case that also has a
//!   `<failure>`) do not change the outcome.
//! - Counts: when a suite has test cases of its own, the cases win: `tests`,
//!   `failures`, `errors` and `skipped` are counted from them, and an
//!   attribute that disagrees adds a diagnostic. A suite without cases keeps
//!   its attributes (some tools write summaries only). Counts of a suite
//!   that also holds nested suites are not checked, since its attributes
//!   usually include the nested ones.
//! - `time` is seconds, with a decimal point or a decimal comma (`0,5`);
//!   a value with both (`1,234.5`, Surefire's thousands separator) drops the
//!   commas. A suite without `time` gets the sum of its cases' times.
//! - Elements and attributes not listed here (properties, `hostname`,
//!   `line`, `assertions`, ...) are ignored.

use std::time::Duration;

use super::xml::{Element, Node, XmlReader};
use super::{CappedText, Diagnostics, MAX_TEXT_BYTES, ReportError, capped_message, parse_count};

/// A parsed JUnit XML file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestReport {
    /// The `name` of a `<testsuites>` root, if any.
    pub name: Option<String>,
    /// The `time` of a `<testsuites>` root: the wall time of the whole run,
    /// which is less than the sum of the suites when they ran in parallel.
    pub duration: Option<Duration>,
    /// Every suite that has test cases (or none and no nested suites), in
    /// document order, nested suites flattened.
    pub suites: Vec<TestSuite>,
    /// Problems with single elements that were skipped or ignored.
    pub diagnostics: Vec<ReportError>,
}

/// One `<testsuite>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TestSuite {
    /// The `name` attribute (empty, with a diagnostic, when absent).
    pub name: String,
    /// Number of test cases, see the module documentation for which wins.
    pub tests: u32,
    /// Cases that failed an assertion.
    pub failures: u32,
    /// Cases that ended with an unexpected error.
    pub errors: u32,
    /// Cases that were skipped.
    pub skipped: u32,
    /// The `time` attribute, or the sum of the cases' times.
    pub duration: Option<Duration>,
    /// The `timestamp` attribute as written (usually ISO 8601).
    pub timestamp: Option<String>,
    /// The suite's own cases, in document order.
    pub cases: Vec<TestCase>,
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The `name` attribute.
    pub name: String,
    /// The `classname` attribute.
    pub classname: Option<String>,
    /// The `file` attribute (pytest xunit1, jest-junit with `addFileAttribute`).
    pub file: Option<String>,
    /// The `time` attribute.
    pub duration: Option<Duration>,
    /// How the case ended.
    pub outcome: CaseOutcome,
    /// Captured standard output, at most [`MAX_TEXT_BYTES`](super::MAX_TEXT_BYTES).
    pub system_out: Option<String>,
    /// Captured standard error, at most [`MAX_TEXT_BYTES`](super::MAX_TEXT_BYTES).
    pub system_err: Option<String>,
}

/// How a test case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    /// No failure, error or skip.
    Passed,
    /// `<failure>`: an assertion failed.
    Failed {
        /// The `message` attribute.
        message: Option<String>,
        /// The `type` attribute, e.g. `AssertionError`.
        kind: Option<String>,
        /// The element's text, usually a stack trace.
        text: Option<String>,
    },
    /// `<error>`: the test could not run to its end.
    Error {
        /// The `message` attribute.
        message: Option<String>,
        /// The `type` attribute.
        kind: Option<String>,
        /// The element's text.
        text: Option<String>,
    },
    /// `<skipped>`.
    Skipped {
        /// The `message` attribute, or the element's text when there is none.
        message: Option<String>,
    },
}

impl CaseOutcome {
    /// Returns the kebab-case name: `passed`, `failed`, `error` or `skipped`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseOutcome::Passed => "passed",
            CaseOutcome::Failed { .. } => "failed",
            CaseOutcome::Error { .. } => "error",
            CaseOutcome::Skipped { .. } => "skipped",
        }
    }
}

/// Sums over all suites of a [`TestReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TestTotals {
    /// Test cases.
    pub tests: u64,
    /// Cases that passed: `tests - failures - errors - skipped`, floored at 0.
    pub passed: u64,
    /// Failed cases.
    pub failures: u64,
    /// Errored cases.
    pub errors: u64,
    /// Skipped cases.
    pub skipped: u64,
    /// The root's `time` when present, else the sum of the suites' durations,
    /// else `None`.
    pub duration: Option<Duration>,
}

impl TestReport {
    /// Returns the totals over all suites.
    pub fn totals(&self) -> TestTotals {
        let mut totals = TestTotals::default();
        let mut sum: Option<Duration> = None;
        for suite in &self.suites {
            totals.tests += u64::from(suite.tests);
            totals.failures += u64::from(suite.failures);
            totals.errors += u64::from(suite.errors);
            totals.skipped += u64::from(suite.skipped);
            if let Some(duration) = suite.duration {
                sum = Some(sum.unwrap_or_default().saturating_add(duration));
            }
        }
        totals.passed = totals
            .tests
            .saturating_sub(totals.failures + totals.errors + totals.skipped);
        totals.duration = self.duration.or(sum);
        totals
    }

    /// Returns true when no case failed or errored.
    pub fn is_success(&self) -> bool {
        let totals = self.totals();
        totals.failures == 0 && totals.errors == 0
    }
}

/// Parses a JUnit XML report; see the module documentation for the dialects
/// and rules.
///
/// Errors when the file is not well-formed XML, its root is neither
/// `<testsuites>` nor `<testsuite>`, it has a DOCTYPE with declarations, or
/// it exceeds a limit of the [`reports`](super) module. A bad case or
/// attribute is skipped and reported in [`TestReport::diagnostics`].
pub fn parse_junit(file_name: &str, xml: &str) -> Result<TestReport, ReportError> {
    let mut reader = XmlReader::new(file_name, xml)?;
    let mut parser = Parser {
        diagnostics: Diagnostics::new(file_name),
        report: TestReport::default(),
        slots: Vec::new(),
        contexts: Vec::new(),
        suites: Vec::new(),
        case: None,
    };
    while let Some(node) = reader.next()? {
        match node {
            Node::Start(element) => {
                if parser.contexts.is_empty() {
                    parser.root(&reader, element)?;
                } else {
                    parser.start(element);
                }
            }
            Node::End => parser.end(),
            Node::Text(text) => parser.text(&text),
        }
    }
    let Parser {
        diagnostics,
        mut report,
        slots,
        ..
    } = parser;
    report.suites = slots.into_iter().flatten().collect();
    report.diagnostics = diagnostics.finish();
    Ok(report)
}

/// What an open element means to the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// The `<testsuites>` root.
    Root,
    /// A `<testsuite>`; its builder is on `Parser::suites`.
    Suite,
    /// A `<testcase>`; its builder is `Parser::case`.
    Case,
    /// The text of the failure, error or skip that set the outcome.
    OutcomeText,
    /// `<system-out>` of a case.
    SystemOut,
    /// `<system-err>` of a case.
    SystemErr,
    /// Anything else, and everything inside it.
    Ignored,
}

#[derive(Debug)]
struct SuiteBuilder {
    suite: TestSuite,
    line: u64,
    slot: usize,
    declared: [Option<u32>; 4],
    has_children: bool,
}

const COUNT_ATTRS: [&str; 4] = ["tests", "failures", "errors", "skipped"];

#[derive(Debug)]
struct CaseBuilder {
    case: TestCase,
    /// Which outcome element set `case.outcome`: none yet, a skip, or a
    /// failure or error (final).
    outcome_rank: u8,
    text: CappedText,
    system_out: CappedText,
    system_err: CappedText,
}

struct Parser<'a> {
    diagnostics: Diagnostics<'a>,
    report: TestReport,
    /// Suites in the order they were opened; `None` for containers.
    slots: Vec<Option<TestSuite>>,
    contexts: Vec<Context>,
    suites: Vec<SuiteBuilder>,
    case: Option<CaseBuilder>,
}

impl Parser<'_> {
    fn root(&mut self, reader: &XmlReader<'_>, element: Element) -> Result<(), ReportError> {
        match element.name.as_str() {
            "testsuites" => {
                self.report.name = element.attr("name").map(str::to_owned);
                self.report.duration = self.duration(&element);
                self.contexts.push(Context::Root);
                Ok(())
            }
            "testsuite" => {
                self.open_suite(element);
                Ok(())
            }
            other => Err(reader.error(
                element.line,
                format!("root element is <{other}>, expected <testsuites> or <testsuite>"),
            )),
        }
    }

    fn start(&mut self, element: Element) {
        let parent = self.contexts.last().copied().unwrap_or(Context::Ignored);
        let context = match (parent, element.name.as_str()) {
            (Context::Root | Context::Suite, "testsuite") => {
                self.open_suite(element);
                return;
            }
            (Context::Suite, "testcase") => self.open_case(&element),
            (Context::Root, "testcase") => {
                self.diagnostics
                    .push(element.line, "<testcase> outside a <testsuite> is ignored");
                Context::Ignored
            }
            (Context::Case, "failure" | "error" | "skipped") => self.outcome(&element),
            (Context::Case, "system-out") => Context::SystemOut,
            (Context::Case, "system-err") => Context::SystemErr,
            _ => Context::Ignored,
        };
        self.contexts.push(context);
    }

    fn end(&mut self) {
        match self.contexts.pop() {
            Some(Context::Suite) => self.close_suite(),
            Some(Context::Case) => self.close_case(),
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        let Some(case) = self.case.as_mut() else {
            return;
        };
        match self.contexts.last() {
            Some(Context::OutcomeText) => case.text.push(text, MAX_TEXT_BYTES),
            Some(Context::SystemOut) => case.system_out.push(text, MAX_TEXT_BYTES),
            Some(Context::SystemErr) => case.system_err.push(text, MAX_TEXT_BYTES),
            _ => {}
        }
    }

    fn open_suite(&mut self, element: Element) {
        if let Some(parent) = self.suites.last_mut() {
            parent.has_children = true;
        }
        let name = match element.attr("name") {
            Some(name) => name.to_owned(),
            None => {
                self.diagnostics
                    .push(element.line, "<testsuite> is missing attribute `name`");
                String::new()
            }
        };
        let mut declared = [None; 4];
        for (slot, attr) in declared.iter_mut().zip(COUNT_ATTRS) {
            *slot = self.count(&element, attr);
        }
        let suite = TestSuite {
            name,
            duration: self.duration(&element),
            timestamp: element.attr("timestamp").map(str::to_owned),
            ..TestSuite::default()
        };
        self.suites.push(SuiteBuilder {
            suite,
            line: element.line,
            slot: self.slots.len(),
            declared,
            has_children: false,
        });
        self.slots.push(None);
        self.contexts.push(Context::Suite);
    }

    fn close_suite(&mut self) {
        let Some(builder) = self.suites.pop() else {
            return;
        };
        let SuiteBuilder {
            mut suite,
            line,
            slot,
            declared,
            has_children,
        } = builder;
        if suite.cases.is_empty() {
            if has_children {
                // A container: its cases are listed under the nested suites.
                return;
            }
            let [tests, failures, errors, skipped] = declared.map(Option::unwrap_or_default);
            suite.tests = tests;
            suite.failures = failures;
            suite.errors = errors;
            suite.skipped = skipped;
        } else {
            let mut counted = [0u32; 4];
            for case in &suite.cases {
                counted[0] = counted[0].saturating_add(1);
                let index = match case.outcome {
                    CaseOutcome::Passed => continue,
                    CaseOutcome::Failed { .. } => 1,
                    CaseOutcome::Error { .. } => 2,
                    CaseOutcome::Skipped { .. } => 3,
                };
                counted[index] = counted[index].saturating_add(1);
            }
            if !has_children {
                for ((attr, declared), counted) in COUNT_ATTRS.iter().zip(declared).zip(counted) {
                    if let Some(declared) = declared
                        && declared != counted
                    {
                        self.diagnostics.push(
                            line,
                            format!(
                                "<testsuite> attribute `{attr}` is {declared} but its test \
                                 cases count {counted}; using {counted}"
                            ),
                        );
                    }
                }
            }
            [suite.tests, suite.failures, suite.errors, suite.skipped] = counted;
            if suite.duration.is_none() {
                suite.duration = suite
                    .cases
                    .iter()
                    .filter_map(|case| case.duration)
                    .reduce(|a, b| a.saturating_add(b));
            }
        }
        if let Some(slot) = self.slots.get_mut(slot) {
            *slot = Some(suite);
        }
    }

    fn open_case(&mut self, element: &Element) -> Context {
        let Some(name) = element.attr("name") else {
            self.diagnostics
                .push(element.line, "<testcase> is missing attribute `name`");
            return Context::Ignored;
        };
        self.case = Some(CaseBuilder {
            case: TestCase {
                name: name.to_owned(),
                classname: non_empty(element.attr("classname")),
                file: non_empty(element.attr("file")),
                duration: self.duration(element),
                outcome: CaseOutcome::Passed,
                system_out: None,
                system_err: None,
            },
            outcome_rank: 0,
            text: CappedText::default(),
            system_out: CappedText::default(),
            system_err: CappedText::default(),
        });
        Context::Case
    }

    fn close_case(&mut self) {
        let Some(builder) = self.case.take() else {
            return;
        };
        let CaseBuilder {
            mut case,
            text,
            system_out,
            system_err,
            ..
        } = builder;
        let text = text.finish();
        match &mut case.outcome {
            CaseOutcome::Passed => {}
            CaseOutcome::Failed { text: slot, .. } | CaseOutcome::Error { text: slot, .. } => {
                *slot = text;
            }
            CaseOutcome::Skipped { message } => {
                if message.is_none() {
                    *message = text.map(|t| capped_message(t.trim()));
                }
            }
        }
        case.system_out = system_out.finish();
        case.system_err = system_err.finish();
        if let Some(suite) = self.suites.last_mut() {
            suite.suite.cases.push(case);
        }
    }

    /// Applies a `<failure>`, `<error>` or `<skipped>` to the open case and
    /// returns whether its text is captured.
    fn outcome(&mut self, element: &Element) -> Context {
        let Some(case) = self.case.as_mut() else {
            return Context::Ignored;
        };
        let rank = if element.name == "skipped" { 1 } else { 2 };
        if case.outcome_rank >= rank {
            return Context::Ignored;
        }
        case.outcome_rank = rank;
        case.text = CappedText::default();
        let message = element.attr("message").map(capped_message);
        let kind = element.attr("type").map(capped_message);
        case.case.outcome = match element.name.as_str() {
            "failure" => CaseOutcome::Failed {
                message,
                kind,
                text: None,
            },
            "error" => CaseOutcome::Error {
                message,
                kind,
                text: None,
            },
            _ => CaseOutcome::Skipped { message },
        };
        Context::OutcomeText
    }

    /// Reads count attribute `attr`; a bad value adds a diagnostic and is
    /// treated as absent.
    fn count(&mut self, element: &Element, attr: &str) -> Option<u32> {
        let value = element.attr(attr)?;
        match parse_count::<u32>(value) {
            Ok(count) => Some(count),
            Err(problem) => {
                let message = format!("<{}> attribute `{attr}` {problem}", element.name);
                self.diagnostics.push(element.line, message);
                None
            }
        }
    }

    /// Reads the `time` attribute; a bad value adds a diagnostic and is
    /// treated as absent.
    fn duration(&mut self, element: &Element) -> Option<Duration> {
        let value = element.attr("time")?;
        match parse_seconds(value) {
            Ok(duration) => duration,
            Err(problem) => {
                let message = format!("<{}> attribute `time` {problem}", element.name);
                self.diagnostics.push(element.line, message);
                None
            }
        }
    }
}

/// Returns an attribute's value, treating an empty one (pytest's
/// `classname=""` for collection errors) as absent.
fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

/// Parses seconds such as `0.25`, `0,25`, `1,234.5` or `12`; an empty value
/// is `None`. Errors with a phrase to follow the attribute's name.
fn parse_seconds(value: &str) -> Result<Option<Duration>, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let normalized = if value.contains('.') {
        value.replace(',', "")
    } else {
        value.replace(',', ".")
    };
    let is_number = normalized
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    let seconds = match normalized.parse::<f64>() {
        Ok(seconds) if is_number && !seconds.is_nan() => seconds,
        _ => {
            return Err(format!(
                "is not a number of seconds: `{}`",
                capped_message(value)
            ));
        }
    };
    if seconds < 0.0 {
        return Err(format!("is negative: `{}`", capped_message(value)));
    }
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| format!("is too large: `{}`", capped_message(value)))
}
