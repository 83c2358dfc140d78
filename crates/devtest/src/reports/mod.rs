//! Test and coverage reports: JUnit XML, LCOV and Cobertura, parsed from text
//! into plain data a runner stores per run.
//!
//! The parsers are pure: they take the file's content (`&str`, or bytes
//! through [`decode`]) and the file name used in messages, and never read a
//! file themselves. Reports come from the jobs of a pipeline, so they are
//! untrusted: every limit below is checked, nothing panics, and XML entities
//! are never expanded (a `<!DOCTYPE` with an internal subset is refused).
//!
//! Error model, the same for the three formats:
//! - `Err(ReportError)` means the file could not be read as a report at all:
//!   not UTF-8, too large, malformed XML, a wrong root element, a DOCTYPE
//!   with declarations, nesting too deep, an LCOV file without any `SF:`.
//! - `Ok(report)` may still carry `report.diagnostics`: one element or line
//!   was bad (a `<testcase>` without `name`, a negative count, a garbage LCOV
//!   line) and was skipped or ignored, and the rest of the report is kept.
//!   At most [`MAX_REPORT_DIAGNOSTICS`] are kept, then one that says how many
//!   more there were.
//!
//! Both carry the file name and, when known, the 1-based line:
//! `junit.xml:12: <testcase> is missing attribute `name``.
//!
//! Code map:
//! - `junit`: [`parse_junit`] and the test types ([`TestReport`]).
//! - `lcov` and `cobertura`: [`parse_lcov`], [`parse_cobertura`] and the
//!   coverage types ([`CoverageReport`]), defined in `coverage`.
//! - `xml`: the guarded pull reader both XML formats share.

mod cobertura;
mod coverage;
mod junit;
mod lcov;
mod xml;

use std::fmt;

pub use crate::ReportKind;
pub use cobertura::parse_cobertura;
pub use coverage::{CoverageReport, CoverageTotals, FileCoverage};
pub use junit::{CaseOutcome, TestCase, TestReport, TestSuite, TestTotals, parse_junit};
pub use lcov::parse_lcov;

/// Largest report accepted, in bytes (32 MiB). Larger files are refused
/// before any parsing, which also bounds the number of elements and lines.
pub const MAX_REPORT_BYTES: usize = 32 * 1024 * 1024;

/// Deepest element nesting accepted in an XML report. Real reports nest
/// fewer than ten levels.
pub const MAX_XML_DEPTH: usize = 64;

/// Most bytes kept of one failure text or captured output; the rest is cut
/// at a character boundary and replaced by a `[truncated: N more bytes]`
/// line.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Most bytes kept of one attribute such as a failure `message`.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024;

/// Most diagnostics one parse keeps in `report.diagnostics`.
pub const MAX_REPORT_DIAGNOSTICS: usize = 100;

/// Why a report file could not be parsed, or, in `report.diagnostics`, a
/// problem with one of its elements that was skipped.
///
/// `Display` renders `file:line: message`, or `file: message` for problems
/// of the whole file such as its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    /// The file name exactly as the caller passed it.
    pub file: String,
    /// 1-based line, when the problem has one.
    pub line: Option<u64>,
    /// Lowercase sentence without trailing period.
    pub message: String,
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ReportError {}

impl ReportError {
    fn new(file: &str, line: Option<u64>, message: impl Into<String>) -> ReportError {
        ReportError {
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }
}

/// A parsed report of either family, as returned by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedReport {
    /// JUnit XML.
    Tests(TestReport),
    /// LCOV or Cobertura.
    Coverage(CoverageReport),
}

/// Checks a report's raw bytes and returns them as text: refuses files
/// larger than [`MAX_REPORT_BYTES`] and bytes that are not UTF-8 (naming the
/// line of the first bad byte), and drops a leading byte-order mark.
pub fn decode<'a>(file_name: &str, bytes: &'a [u8]) -> Result<&'a str, ReportError> {
    check_size(file_name, bytes.len())?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(error) => {
            let valid = error.valid_up_to();
            let line = line_of(bytes, valid);
            let bad = bytes.get(valid).copied().unwrap_or_default();
            Err(ReportError::new(
                file_name,
                Some(line),
                format!("not valid UTF-8 (byte 0x{bad:02x} at offset {valid})"),
            ))
        }
    }
}

/// Decodes `bytes` (see [`decode`]) and parses them as a report of `kind`.
///
/// Errors as the parser of that kind does, and for a kind this module does
/// not parse (SARIF, CycloneDX, SPDX: other domains own them).
pub fn parse(kind: ReportKind, file_name: &str, bytes: &[u8]) -> Result<ParsedReport, ReportError> {
    let text = decode(file_name, bytes)?;
    match kind {
        ReportKind::Junit => parse_junit(file_name, text).map(ParsedReport::Tests),
        ReportKind::Lcov => parse_lcov(file_name, text).map(ParsedReport::Coverage),
        ReportKind::Cobertura => parse_cobertura(file_name, text).map(ParsedReport::Coverage),
        ReportKind::Sarif | ReportKind::Cyclonedx | ReportKind::Spdx => Err(ReportError::new(
            file_name,
            None,
            format!("`{}` reports are not parsed here", kind.as_str()),
        )),
    }
}

/// Guesses the format of a report from its content, and from its name when
/// the content says nothing (an empty file named `lcov.info` or `*.lcov`).
///
/// Returns `Junit` for an XML root `<testsuites>` or `<testsuite>`,
/// `Cobertura` for `<coverage>`, `Lcov` when the first record line is
/// `TN:`, `SF:` or `VER:`, and `None` otherwise. Looks at most at the first
/// 64 KiB and never fails.
pub fn detect(file_name: &str, content: &str) -> Option<ReportKind> {
    let head = truncate_at_boundary(content, 64 * 1024);
    let head = head.strip_prefix('\u{feff}').unwrap_or(head);
    let trimmed = head.trim_start();
    if trimmed.starts_with('<') {
        return match xml::root_name(trimmed)?.as_str() {
            "testsuites" | "testsuite" => Some(ReportKind::Junit),
            "coverage" => Some(ReportKind::Cobertura),
            _ => None,
        };
    }
    let first = trimmed.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(line) => ["TN:", "SF:", "VER:"]
            .iter()
            .any(|key| line.starts_with(key))
            .then_some(ReportKind::Lcov),
        None => {
            let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
            let lcov = name.ends_with(".lcov") || name.ends_with("lcov.info");
            lcov.then_some(ReportKind::Lcov)
        }
    }
}

/// Refuses content longer than [`MAX_REPORT_BYTES`].
fn check_size(file_name: &str, len: usize) -> Result<(), ReportError> {
    if len > MAX_REPORT_BYTES {
        return Err(ReportError::new(
            file_name,
            None,
            format!("file is {len} bytes, more than the limit of {MAX_REPORT_BYTES}"),
        ));
    }
    Ok(())
}

/// Returns the 1-based line of byte `offset` in `bytes`.
fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    let newlines = bytes[..end].iter().filter(|&&b| b == b'\n').count();
    u64::try_from(newlines)
        .unwrap_or(u64::MAX)
        .saturating_add(1)
}

/// Returns the longest prefix of `text` of at most `max` bytes that ends at
/// a character boundary.
fn truncate_at_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Diagnostics of one parse, capped at [`MAX_REPORT_DIAGNOSTICS`].
#[derive(Debug)]
struct Diagnostics<'a> {
    file: &'a str,
    kept: Vec<ReportError>,
    n_dropped: usize,
}

impl<'a> Diagnostics<'a> {
    fn new(file: &'a str) -> Diagnostics<'a> {
        Diagnostics {
            file,
            kept: Vec::new(),
            n_dropped: 0,
        }
    }

    fn push(&mut self, line: u64, message: impl Into<String>) {
        if self.kept.len() < MAX_REPORT_DIAGNOSTICS {
            self.kept
                .push(ReportError::new(self.file, Some(line), message));
        } else {
            self.n_dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<ReportError> {
        if self.n_dropped > 0 {
            let message = format!("{} more problems not shown", self.n_dropped);
            self.kept.push(ReportError::new(self.file, None, message));
        }
        self.kept
    }
}

/// Text accumulated up to a byte limit; what does not fit is counted.
#[derive(Debug, Default)]
struct CappedText {
    text: String,
    n_dropped: usize,
}

impl CappedText {
    fn push(&mut self, piece: &str, max: usize) {
        let room = max.saturating_sub(self.text.len());
        let kept = truncate_at_boundary(piece, room);
        self.text.push_str(kept);
        self.n_dropped = self.n_dropped.saturating_add(piece.len() - kept.len());
    }

    /// Returns the text with a truncation note, or `None` when nothing was
    /// pushed.
    fn finish(self) -> Option<String> {
        let CappedText {
            mut text,
            n_dropped,
        } = self;
        if n_dropped > 0 {
            text.push_str(&format!("\n[truncated: {n_dropped} more bytes]"));
        }
        (!text.is_empty()).then_some(text)
    }
}

/// Cuts an attribute value to [`MAX_MESSAGE_BYTES`].
fn capped_message(value: &str) -> String {
    let mut text = CappedText::default();
    text.push(value, MAX_MESSAGE_BYTES);
    text.finish().unwrap_or_default()
}

/// Parses a count attribute or field: a decimal integer that fits in `T`.
/// Errors with a phrase to follow the field's name.
fn parse_count<T: std::str::FromStr>(value: &str) -> Result<T, String> {
    let value = value.trim();
    if value.starts_with('-') && value.len() > 1 && value[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("is negative: `{value}`"));
    }
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("is not a count: `{}`", capped_message(value)));
    }
    value
        .parse::<T>()
        .map_err(|_| format!("is too large: `{}`", capped_message(value)))
}
