//! Cobertura XML coverage, as written by Cobertura itself, coverage.py
//! (`coverage xml`), gcovr, JaCoCo converters, cargo-llvm-cov and the
//! format GitLab reads.
//!
//! Shape: `coverage > sources > source` and
//! `coverage > packages > package > classes > class > lines > line`, with
//! `class > methods > method > lines > line` repeating lines per method.
//!
//! - A file's path is its class's `filename`, joined to the first non-empty
//!   `<source>` unless it is absolute; [`CoverageReport::strip_prefix`] then
//!   makes it relative to a work directory. Classes of the same file (Java
//!   inner classes) are merged into one [`FileCoverage`](super::FileCoverage);
//!   a line listed twice keeps its highest hit count.
//! - Lines come from `class > lines > line` (`number`, `hits`); a line with
//!   `branch="true"` adds the branches of its `condition-coverage`
//!   (`50% (1/2)`: 2 found, 1 hit). Method lines only decide whether the
//!   method (a function) was entered.
//! - The details win: the root's `lines-valid`, `lines-covered`,
//!   `branches-valid` and `branches-covered` are checked against the counted
//!   totals, and a disagreement adds a diagnostic.

use std::collections::HashMap;

use super::coverage::{CoverageReport, FileAccumulator};
use super::xml::{Element, Node, XmlReader};
use super::{CappedText, Diagnostics, MAX_MESSAGE_BYTES, ReportError, parse_count};

/// Parses a Cobertura XML report; see the module documentation for the
/// rules.
///
/// Errors when the file is not well-formed XML, its root is not
/// `<coverage>`, it has a DOCTYPE with declarations, or it exceeds a limit
/// of the [`reports`](super) module. A bad class or line is skipped and
/// reported in [`CoverageReport::diagnostics`].
pub fn parse_cobertura(file_name: &str, xml: &str) -> Result<CoverageReport, ReportError> {
    let mut reader = XmlReader::new(file_name, xml)?;
    let mut parser = Parser {
        diagnostics: Diagnostics::new(file_name),
        contexts: Vec::new(),
        sources: Vec::new(),
        source: CappedText::default(),
        files: Vec::new(),
        index: HashMap::new(),
        class: None,
        method: None,
        root: None,
    };
    while let Some(node) = reader.next()? {
        match node {
            Node::Start(element) => {
                if parser.contexts.is_empty() {
                    if element.name != "coverage" {
                        return Err(reader.error(
                            element.line,
                            format!("root element is <{}>, expected <coverage>", element.name),
                        ));
                    }
                    parser.root = Some(element);
                    parser.contexts.push(Context::Other);
                } else {
                    parser.start(&element);
                }
            }
            Node::End => parser.end(),
            Node::Text(text) => {
                if parser.contexts.last() == Some(&Context::Source) {
                    parser.source.push(&text, MAX_MESSAGE_BYTES);
                }
            }
        }
    }
    Ok(parser.finish())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Structure that may contain classes: the root, packages, classes.
    Other,
    Sources,
    Source,
    Class,
    ClassLines,
    Methods,
    Method,
    MethodLines,
    /// Inside a class, anything not listed, and everything inside it.
    Opaque,
}

#[derive(Debug)]
struct ClassBuilder {
    /// Index into `Parser::files`.
    file: usize,
    name: String,
}

#[derive(Debug)]
struct MethodBuilder {
    key: String,
    hits: u64,
    has_lines: bool,
    line_rate_positive: bool,
}

struct Parser<'a> {
    diagnostics: Diagnostics<'a>,
    contexts: Vec<Context>,
    sources: Vec<String>,
    source: CappedText,
    /// Accumulators keyed by the class's raw `filename`; paths are joined
    /// to the source at the end.
    files: Vec<FileAccumulator>,
    index: HashMap<String, usize>,
    class: Option<ClassBuilder>,
    method: Option<MethodBuilder>,
    root: Option<Element>,
}

impl Parser<'_> {
    fn start(&mut self, element: &Element) {
        let parent = self.contexts.last().copied().unwrap_or(Context::Opaque);
        let context = match (parent, element.name.as_str()) {
            (Context::Other, "sources") => Context::Sources,
            (Context::Sources, "source") => {
                self.source = CappedText::default();
                Context::Source
            }
            (Context::Other, "class") => self.open_class(element),
            (Context::Other, _) => Context::Other,
            (Context::Class, "lines") => Context::ClassLines,
            (Context::Class, "methods") => Context::Methods,
            (Context::ClassLines, "line") => {
                self.class_line(element);
                Context::Opaque
            }
            (Context::Methods, "method") => {
                self.open_method(element);
                Context::Method
            }
            (Context::Method, "lines") => Context::MethodLines,
            (Context::MethodLines, "line") => {
                self.method_line(element);
                Context::Opaque
            }
            _ => Context::Opaque,
        };
        self.contexts.push(context);
    }

    fn end(&mut self) {
        match self.contexts.pop() {
            Some(Context::Source) => {
                let source = std::mem::take(&mut self.source)
                    .finish()
                    .unwrap_or_default();
                self.sources.push(source.trim().to_owned());
            }
            Some(Context::Class) => self.class = None,
            Some(Context::Method) => self.close_method(),
            _ => {}
        }
    }

    fn open_class(&mut self, element: &Element) -> Context {
        let Some(filename) = element.attr("filename").filter(|f| !f.trim().is_empty()) else {
            self.diagnostics
                .push(element.line, "<class> is missing attribute `filename`");
            return Context::Opaque;
        };
        let filename = filename.trim().to_owned();
        let file = match self.index.get(&filename) {
            Some(&file) => file,
            None => {
                self.index.insert(filename.clone(), self.files.len());
                self.files.push(FileAccumulator {
                    path: filename,
                    ..FileAccumulator::default()
                });
                self.files.len() - 1
            }
        };
        let name = element.attr("name").unwrap_or_default().to_owned();
        self.class = Some(ClassBuilder { file, name });
        Context::Class
    }

    fn class_line(&mut self, element: &Element) {
        let Some((number, hits)) = self.line(element) else {
            return;
        };
        let Some(file) = self.class_file() else {
            return;
        };
        let entry = file.lines.entry(number).or_default();
        *entry = (*entry).max(hits);
        if element.attr("branch").map(str::trim) != Some("true") {
            return;
        }
        let Some(coverage) = element.attr("condition-coverage") else {
            self.diagnostics.push(
                element.line,
                "<line> with branch=\"true\" is missing attribute `condition-coverage`",
            );
            return;
        };
        let Some((hit, found)) = condition_coverage(coverage) else {
            self.diagnostics.push(
                element.line,
                format!(
                    "<line> attribute `condition-coverage` is not like `50% (1/2)`: `{}`",
                    super::capped_message(coverage)
                ),
            );
            return;
        };
        if let Some(file) = self.class_file() {
            let entry = file.branches.entry(number.to_string()).or_default();
            if found > entry.0 || (found == entry.0 && hit > entry.1) {
                *entry = (found, hit);
            }
        }
    }

    fn open_method(&mut self, element: &Element) {
        let class = self
            .class
            .as_ref()
            .map(|c| c.name.as_str())
            .unwrap_or_default();
        let name = element.attr("name").unwrap_or_default();
        let signature = element.attr("signature").unwrap_or_default();
        let line_rate_positive = element
            .attr("line-rate")
            .and_then(|rate| rate.trim().parse::<f64>().ok())
            .is_some_and(|rate| rate > 0.0);
        self.method = Some(MethodBuilder {
            key: format!("{class}::{name}{signature}"),
            hits: 0,
            has_lines: false,
            line_rate_positive,
        });
    }

    fn method_line(&mut self, element: &Element) {
        let Some((_, hits)) = self.line(element) else {
            return;
        };
        if let Some(method) = self.method.as_mut() {
            method.has_lines = true;
            method.hits = method.hits.saturating_add(hits);
        }
    }

    fn close_method(&mut self) {
        let Some(method) = self.method.take() else {
            return;
        };
        let hits = if method.has_lines {
            method.hits
        } else {
            u64::from(method.line_rate_positive)
        };
        if let Some(file) = self.class_file() {
            let entry = file.functions.entry(method.key).or_default();
            *entry = entry.saturating_add(hits);
        }
    }

    /// Reads `number` and `hits` of a `<line>`; a bad one adds a diagnostic.
    fn line(&mut self, element: &Element) -> Option<(u32, u64)> {
        let number = self.attr::<u32>(element, "number")?;
        if number == 0 {
            self.diagnostics
                .push(element.line, "<line> attribute `number` is 0");
            return None;
        }
        let hits = self.attr::<u64>(element, "hits")?;
        Some((number, hits))
    }

    fn attr<T: std::str::FromStr>(&mut self, element: &Element, name: &str) -> Option<T> {
        let Some(value) = element.attr(name) else {
            let message = format!("<{}> is missing attribute `{name}`", element.name);
            self.diagnostics.push(element.line, message);
            return None;
        };
        match parse_count::<T>(value) {
            Ok(value) => Some(value),
            Err(problem) => {
                let message = format!("<{}> attribute `{name}` {problem}", element.name);
                self.diagnostics.push(element.line, message);
                None
            }
        }
    }

    fn class_file(&mut self) -> Option<&mut FileAccumulator> {
        let file = self.class.as_ref()?.file;
        self.files.get_mut(file)
    }

    fn finish(mut self) -> CoverageReport {
        let source = self.sources.iter().find(|s| !s.is_empty()).cloned();
        let files: Vec<_> = std::mem::take(&mut self.files)
            .into_iter()
            .map(|mut file| {
                file.path = join(source.as_deref(), &file.path);
                file.finish()
            })
            .collect();
        let report = CoverageReport {
            files,
            diagnostics: Vec::new(),
        };
        if let Some(root) = self.root.take() {
            let totals = report.totals();
            let checks = [
                ("lines-valid", totals.lines_found),
                ("lines-covered", totals.lines_hit),
                ("branches-valid", totals.branches_found),
                ("branches-covered", totals.branches_hit),
            ];
            for (attr, counted) in checks {
                let Some(value) = root.attr(attr) else {
                    continue;
                };
                match parse_count::<u64>(value) {
                    Ok(declared) if declared != counted => self.diagnostics.push(
                        root.line,
                        format!(
                            "<coverage> attribute `{attr}` is {declared} but its lines count \
                             {counted}; using {counted}"
                        ),
                    ),
                    Ok(_) => {}
                    Err(problem) => self.diagnostics.push(
                        root.line,
                        format!("<coverage> attribute `{attr}` {problem}"),
                    ),
                }
            }
        }
        CoverageReport {
            diagnostics: self.diagnostics.finish(),
            ..report
        }
    }
}

/// Parses `50% (1/2)` into `(hit, found)`, with `hit` capped at `found`.
fn condition_coverage(value: &str) -> Option<(u32, u32)> {
    let inner = value.split_once('(')?.1.split_once(')')?.0;
    let (hit, found) = inner.split_once('/')?;
    let hit = parse_count::<u32>(hit).ok()?;
    let found = parse_count::<u32>(found).ok()?;
    Some((hit.min(found), found))
}

/// Joins a class `filename` to a `<source>` directory, unless the file name
/// is absolute or there is no useful source.
fn join(source: Option<&str>, filename: &str) -> String {
    let absolute = filename.starts_with('/')
        || filename.starts_with('\\')
        || filename.as_bytes().get(1) == Some(&b':');
    match source {
        Some(source) if !absolute && source != "." => {
            let source = source.trim_end_matches(['/', '\\']);
            if source.is_empty() {
                format!("/{filename}")
            } else {
                format!("{source}/{filename}")
            }
        }
        _ => filename.to_owned(),
    }
}
