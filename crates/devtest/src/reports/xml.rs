//! A guarded XML pull reader over `quick-xml` for the XML report formats.
//!
//! It yields only what the parsers need (start tags with their attributes
//! already unescaped, end tags, text) with the 1-based line of each start
//! tag, and turns everything else into a [`ReportError`] naming the line:
//! malformed XML, unknown entities, a `<!DOCTYPE` with an internal subset
//! (where entity bombs live), nesting deeper than [`MAX_XML_DEPTH`], a second
//! root element, unclosed elements at the end of the file.
//!
//! An external-only DOCTYPE such as Cobertura's
//! `<!DOCTYPE coverage SYSTEM "...coverage-04.dtd">` is accepted and ignored:
//! it declares nothing, and nothing is ever fetched.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{MAX_XML_DEPTH, ReportError, check_size};

/// One start tag.
#[derive(Debug)]
pub(super) struct Element {
    /// The local name, without a namespace prefix.
    pub name: String,
    /// 1-based line of the `<`.
    pub line: u64,
    /// Attributes by local name, values unescaped, in document order.
    pub attrs: Vec<(String, String)>,
}

impl Element {
    /// Returns the value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What [`XmlReader::next`] yields.
#[derive(Debug)]
pub(super) enum Node<'a> {
    /// A start tag; an empty element `<a/>` yields `Start` then `End`.
    Start(Element),
    /// The end of the element most recently started and not yet ended.
    End,
    /// Character data (text, CDATA, or a resolved reference).
    Text(Cow<'a, str>),
}

/// The reader; see the module documentation.
pub(super) struct XmlReader<'a> {
    file: &'a str,
    source: &'a str,
    reader: Reader<&'a [u8]>,
    /// Open elements, for the depth limit and the unclosed-element message.
    open: Vec<(String, u64)>,
    pending_end: bool,
    seen_root: bool,
    /// Line counting is incremental: `line` is the line of `line_offset`.
    line: u64,
    line_offset: usize,
}

impl<'a> XmlReader<'a> {
    /// Starts reading `source`, refusing it when it is too large.
    pub fn new(file: &'a str, source: &'a str) -> Result<XmlReader<'a>, ReportError> {
        check_size(file, source.len())?;
        let source = source.strip_prefix('\u{feff}').unwrap_or(source);
        let mut reader = Reader::from_str(source);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = false;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Ok(XmlReader {
            file,
            source,
            reader,
            open: Vec::new(),
            pending_end: false,
            seen_root: false,
            line: 1,
            line_offset: 0,
        })
    }

    /// Returns the next node, `None` at the end of the document.
    pub fn next(&mut self) -> Result<Option<Node<'a>>, ReportError> {
        if self.pending_end {
            self.pending_end = false;
            self.open.pop();
            return Ok(Some(Node::End));
        }
        loop {
            let start = self.reader.buffer_position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let line = self.line_at(self.reader.error_position());
                    return Err(self.error(line, format!("malformed XML: {error}")));
                }
            };
            match event {
                Event::Start(tag) => {
                    let element = self.element(&tag, start)?;
                    return Ok(Some(Node::Start(element)));
                }
                Event::Empty(tag) => {
                    let element = self.element(&tag, start)?;
                    self.pending_end = true;
                    return Ok(Some(Node::Start(element)));
                }
                Event::End(_) => {
                    self.open.pop();
                    return Ok(Some(Node::End));
                }
                Event::Text(text) => {
                    let content = text.xml_content(XmlVersion::Implicit1_0);
                    if self.open.is_empty() {
                        if !content.trim().is_empty() {
                            let line = self.line_at(start);
                            return Err(self.error(line, "text outside the root element"));
                        }
                        continue;
                    }
                    return Ok(Some(Node::Text(content)));
                }
                Event::CData(data) => {
                    if self.open.is_empty() {
                        let line = self.line_at(start);
                        return Err(self.error(line, "text outside the root element"));
                    }
                    return Ok(Some(Node::Text(data.xml_content(XmlVersion::Implicit1_0))));
                }
                Event::GeneralRef(reference) => {
                    let line = self.line_at(start);
                    let name = reference.xml_content(XmlVersion::Implicit1_0);
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        Ok(None) => match predefined_entity(&name) {
                            Some(text) => text.to_owned(),
                            None => {
                                let message = format!("unknown entity `&{name};`");
                                return Err(self.error(line, message));
                            }
                        },
                        Err(_) => {
                            let message = format!("invalid character reference `&{name};`");
                            return Err(self.error(line, message));
                        }
                    };
                    if self.open.is_empty() {
                        return Err(self.error(line, "text outside the root element"));
                    }
                    return Ok(Some(Node::Text(Cow::Owned(resolved))));
                }
                Event::DocType(doctype) => {
                    let content = doctype.xml_content(XmlVersion::Implicit1_0);
                    if content.contains('[') {
                        let line = self.line_at(start);
                        let message = "`<!DOCTYPE` with declarations is not allowed \
                                       (entities are never expanded)";
                        return Err(self.error(line, message));
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if let Some((name, line)) = self.open.last() {
                        let message = format!(
                            "unexpected end of file: <{name}> opened at line {line} is not closed"
                        );
                        let end = self.line_at(u64::MAX);
                        return Err(self.error(end, message));
                    }
                    if !self.seen_root {
                        let end = self.line_at(u64::MAX);
                        return Err(self.error(end, "no root element: the file is empty"));
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// Returns the 1-based line of byte `offset` of the source (clamped).
    pub fn line_at(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.source.len());
        if offset < self.line_offset {
            // Offsets only move forward except for error positions, which can
            // point back into the last event: count from the start again.
            self.line = 1;
            self.line_offset = 0;
        }
        let newlines = self.source.as_bytes()[self.line_offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line = self
            .line
            .saturating_add(u64::try_from(newlines).unwrap_or(u64::MAX));
        self.line_offset = offset;
        self.line
    }

    /// Returns an error at `line` of this file.
    pub fn error(&self, line: u64, message: impl Into<String>) -> ReportError {
        ReportError::new(self.file, Some(line), message)
    }

    fn element(&mut self, tag: &BytesStart<'_>, start: u64) -> Result<Element, ReportError> {
        let line = self.line_at(start);
        let name = tag.local_name().as_ref().to_owned();
        if self.open.is_empty() {
            if self.seen_root {
                return Err(self.error(line, format!("a second root element <{name}>")));
            }
            self.seen_root = true;
        }
        if self.open.len() >= MAX_XML_DEPTH {
            let message = format!("elements nested deeper than {MAX_XML_DEPTH} levels");
            return Err(self.error(line, message));
        }
        let mut attrs = Vec::new();
        for attr in tag.attributes() {
            let attr = match attr {
                Ok(attr) => attr,
                Err(error) => {
                    let message = format!("malformed XML: in <{name}>: {error}");
                    return Err(self.error(line, message));
                }
            };
            let key = attr.key.local_name().as_ref().to_owned();
            let value = match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(value) => value.into_owned(),
                Err(error) => {
                    let message = format!("<{name}> attribute `{key}`: {error}");
                    return Err(self.error(line, message));
                }
            };
            attrs.push((key, value));
        }
        self.open.push((name.clone(), line));
        Ok(Element { name, line, attrs })
    }
}

/// Returns the local name of the root element of `source`, or `None` when
/// the first few kilobytes do not show one. Never fails.
pub(super) fn root_name(source: &str) -> Option<String> {
    let mut reader = XmlReader::new("", source).ok()?;
    match reader.next() {
        Ok(Some(Node::Start(element))) => Some(element.name),
        _ => None,
    }
}

/// Resolves the five entities XML predefines.
fn predefined_entity(name: &str) -> Option<&'static str> {
    match name {
        "amp" => Some("&"),
        "lt" => Some("<"),
        "gt" => Some(">"),
        "apos" => Some("'"),
        "quot" => Some("\""),
        _ => None,
    }
}
