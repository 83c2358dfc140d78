//! A spanned YAML node tree, read with serde-saphyr under strict limits.
//!
//! We do not deserialize straight into typed structs: serde stops at the first
//! error, and we want to report every problem at once. Instead, the document
//! becomes a tree of [`Node`]s (every node is a `serde_saphyr::Spanned`, so it
//! knows its line and column), and `raw.rs` decodes that tree by hand,
//! collecting diagnostics as it goes.
//!
//! Untrusted input is bounded twice: we refuse sources over [`MAX_SOURCE_BYTES`]
//! before parsing, and serde-saphyr's `Budget` and alias limits cap events,
//! nodes, nesting depth and alias replay (the "billion laughs" attack).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{
    DuplicateKeyPolicy, Error as YamlError, Location, MessageFormatter, Spanned,
    UserMessageFormatter,
};

/// Pipeline files larger than this are rejected before parsing.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

/// Deepest nesting of collections accepted.
const MAX_DEPTH: usize = 32;

/// Most YAML events aliases may replay in total.
const MAX_REPLAYED_EVENTS: usize = 100_000;

/// Most bytes of string values the node tree may hold. Aliases can repeat a
/// large scalar many times without the source growing; this caps the memory
/// such a document can make us allocate.
const MAX_TREE_BYTES: usize = 4 * MAX_SOURCE_BYTES;

/// The message of the error the visitor raises when [`MAX_TREE_BYTES`] is hit.
const TREE_BYTES_MESSAGE: &str = "the YAML expands to more than 4 MiB of text through aliases";

thread_local! {
    /// Bytes of string values materialized by the parse running on this thread.
    // NOTE: serde's `Spanned` only implements `Deserialize`, not a seeded
    // variant, so the visitor cannot carry a counter; parsing is synchronous,
    // so a thread-local scoped to one `parse` call is equivalent.
    static TREE_BYTES: Cell<usize> = const { Cell::new(0) };
}

/// A YAML node together with where it was referenced and defined.
pub(crate) type Node = Spanned<Yaml>;

/// The value of a YAML node.
///
/// Numbers keep no value: the decoder reads their source spelling instead
/// (see [`scalar_text`]) so that `1.10` stays `1.10` and not `1.1`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Yaml {
    Null,
    Bool(bool),
    Number,
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Yaml {
    /// Returns the kind of value as a user would name it, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Number => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }
}

/// Why the source could not be turned into a node tree.
#[derive(Debug)]
pub(crate) struct ParseFailure {
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
    /// True when a limit, not a syntax error, stopped parsing.
    pub(crate) limit: bool,
}

/// Parses one YAML document into a node tree.
///
/// Returns a [`ParseFailure`] for syntax errors, multiple documents, and any
/// breached limit. Never panics, whatever the input.
pub(crate) fn parse(source: &str) -> Result<Node, ParseFailure> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(ParseFailure {
            line: 1,
            column: 1,
            message: format!(
                "the file is {} bytes, more than the limit of {MAX_SOURCE_BYTES} bytes",
                source.len()
            ),
            limit: true,
        });
    }
    // NOTE: the limits are far above any real pipeline file and far below what
    // would hurt the server: a pipeline has tens of jobs, not thousands.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_nodes: 100_000,
            max_depth: MAX_DEPTH,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_recorded_anchor_bytes: MAX_SOURCE_BYTES,
            max_total_scalar_bytes: MAX_SOURCE_BYTES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 1_000,
        },
        // We detect duplicate keys ourselves to report all of them with their
        // position, instead of stopping at the first.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        with_snippet: false,
    };
    TREE_BYTES.with(|bytes| bytes.set(0));
    serde_saphyr::from_str_with_options::<Node>(source, options).map_err(|err| failure(&err))
}

/// Charges `n_bytes` of materialized text; errors past [`MAX_TREE_BYTES`].
fn charge<E: de::Error>(n_bytes: usize) -> Result<(), E> {
    TREE_BYTES.with(|bytes| {
        let total = bytes.get().saturating_add(n_bytes);
        bytes.set(total);
        if total > MAX_TREE_BYTES {
            Err(E::custom(TREE_BYTES_MESSAGE))
        } else {
            Ok(())
        }
    })
}

/// Returns the text of a scalar as the user wrote it, or `None` for
/// sequences and mappings.
///
/// Strings are returned as parsed (quotes and escapes resolved). Other scalars
/// (`on`, `1.10`, `~`) are returned with their source spelling, so `network: off`
/// reads as `off` rather than as the boolean YAML 1.1 would make of it.
pub(crate) fn scalar_text<'a>(node: &'a Node, source: &'a str) -> Option<Cow<'a, str>> {
    match &node.value {
        Yaml::Str(text) => Some(Cow::Borrowed(text)),
        Yaml::Seq(_) | Yaml::Map(_) => None,
        Yaml::Null | Yaml::Bool(_) | Yaml::Number => {
            let span = node.defined.span();
            let text = match (span.byte_offset(), span.byte_len()) {
                (Some(offset), Some(len)) => usize::try_from(offset)
                    .ok()
                    .zip(usize::try_from(len).ok())
                    .and_then(|(offset, len)| source.get(offset..offset.checked_add(len)?)),
                _ => None,
            };
            Some(match (text, &node.value) {
                (Some(text), _) => Cow::Borrowed(text),
                // Without byte offsets, fall back to the canonical spelling.
                (None, Yaml::Bool(value)) => Cow::Owned(value.to_string()),
                (None, _) => Cow::Borrowed(""),
            })
        }
    }
}

/// Returns the 1-based line and column of a node, or `(1, 1)` when unknown.
pub(crate) fn position(location: &Location) -> (u64, u64) {
    match (location.line(), location.column()) {
        (0, _) | (_, 0) => (1, 1),
        (line, column) => (line, column),
    }
}

fn failure(err: &YamlError) -> ParseFailure {
    let (line, column) = err.location().map_or((1, 1), |loc| position(&loc));
    // Alias and snippet wrappers only add context; classify the inner error.
    let mut inner = err;
    while let YamlError::AliasError { error, .. } | YamlError::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let limit = |message: String| ParseFailure {
        line,
        column,
        message,
        limit: true,
    };
    match inner {
        YamlError::Message { msg, .. } if msg == TREE_BYTES_MESSAGE => limit(msg.clone()),
        YamlError::MultipleDocuments { .. } => ParseFailure {
            line,
            column,
            message: "more than one YAML document; a pipeline file holds exactly one".to_owned(),
            limit: false,
        },
        YamlError::Budget { breach, .. } => limit(budget_message(breach)),
        // The parser's own guard against deep flow collections (`[[[[...`)
        // fires before the budget's depth check can.
        YamlError::ExternalMessage { msg, .. } if msg.contains("recursion limit") => {
            limit(format!("the YAML nests deeper than {MAX_DEPTH} levels"))
        }
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. } => limit(format!(
            "aliases expand to more than {MAX_REPLAYED_EVENTS} YAML events"
        )),
        _ => ParseFailure {
            line,
            column,
            message: UserMessageFormatter.format_message(inner).into_owned(),
            limit: false,
        },
    }
}

fn budget_message(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => format!("the YAML nests deeper than {MAX_DEPTH} levels"),
        BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
            "the YAML uses too many aliases".to_owned()
        }
        BudgetBreach::Anchors { .. } => "the YAML defines too many anchors".to_owned(),
        BudgetBreach::Events { .. } | BudgetBreach::Nodes { .. } => {
            "the YAML has too many nodes".to_owned()
        }
        _ => "the YAML is too large or too complex".to_owned(),
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(YamlVisitor)
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        deserializer.deserialize_any(YamlVisitor)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        deserializer.deserialize_any(YamlVisitor)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Yaml, E> {
        Ok(Yaml::Number)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Yaml, E> {
        Ok(Yaml::Number)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Yaml, E> {
        Ok(Yaml::Number)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Yaml, E> {
        Ok(Yaml::Number)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Yaml, E> {
        Ok(Yaml::Number)
    }

    fn visit_char<E: de::Error>(self, value: char) -> Result<Yaml, E> {
        Ok(Yaml::Str(value.to_string()))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Yaml, E> {
        charge(value.len())?;
        Ok(Yaml::Str(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Yaml, E> {
        charge(value.len())?;
        Ok(Yaml::Str(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Yaml, E> {
        charge(value.len())?;
        Ok(Yaml::Str(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Yaml::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Yaml::Map(entries))
    }
}
