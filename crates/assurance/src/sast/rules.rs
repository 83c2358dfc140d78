//! Loading rules: the built-in pack (YAML files embedded in the binary) and
//! user rule files or directories, all in the ast-grep YAML rule format.
//!
//! dso reads two keys of a rule's free-form `metadata`: `cwe` (`CWE-78`, or a
//! list) and `disposition` (`confirmed`, `needs-review` or `informational`),
//! the default adjudication of its findings (PIM Fig 16, "Perform Automatic
//! Adjudication"). Built-in rules must carry both; user rules default to
//! `needs-review`. A JavaScript rule also runs on TypeScript and TSX files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ast_grep_config::{GlobalRules, RuleCollection, RuleConfig, SerializableRuleConfig};

use super::prefilter::{self, Requirement};
use super::{Disposition, SastError, SastLang, SastRule};

/// The built-in pack: (file name, YAML text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("python.yml", include_str!("rules/python.yml")),
    ("javascript.yml", include_str!("rules/javascript.yml")),
    ("go.yml", include_str!("rules/go.yml")),
    ("java.yml", include_str!("rules/java.yml")),
    ("rust.yml", include_str!("rules/rust.yml")),
];

/// Compiled rules with dso's metadata, ready to scan.
pub struct RuleSet {
    pub(crate) collection: RuleCollection<SastLang>,
    /// Per language: the literal pre-filter of its rules.
    pub(crate) filters: HashMap<SastLang, LiteralFilter>,
    /// dso's view of each rule, by (language, id).
    pub(crate) meta: HashMap<(SastLang, String), SastRule>,
    rules: Vec<SastRule>,
}

impl RuleSet {
    /// The built-in pack only.
    pub fn builtin() -> Result<RuleSet, SastError> {
        RuleSet::load(true, &[])
    }

    /// The built-in pack (when `builtin`) plus every `*.yml`/`*.yaml` file in
    /// `paths` (files, or directories searched recursively). Errors name the
    /// file and, where the YAML parser knows it, the line; a rule id used
    /// twice for one language is an error.
    pub fn load(builtin: bool, paths: &[PathBuf]) -> Result<RuleSet, SastError> {
        let mut sources: Vec<(String, String, bool)> = Vec::new();
        if builtin {
            for (name, text) in BUILTIN {
                sources.push((format!("builtin:{name}"), (*text).to_owned(), true));
            }
        }
        for path in paths {
            for file in rule_files(path)? {
                let text = std::fs::read_to_string(&file).map_err(|source| SastError::Read {
                    path: file.clone(),
                    source,
                })?;
                sources.push((file.display().to_string(), text, false));
            }
        }
        let globals = GlobalRules::default();
        let mut configs: Vec<RuleConfig<SastLang>> = Vec::new();
        let mut meta: HashMap<(SastLang, String), SastRule> = HashMap::new();
        let mut rules = Vec::new();
        let mut requirements: HashMap<SastLang, Vec<(String, Requirement)>> = HashMap::new();
        for (origin, text, strict) in &sources {
            let parsed: Vec<SerializableRuleConfig<SastLang>> =
                ast_grep_config::from_multiple(text).map_err(|err| SastError::Rule {
                    origin: origin.clone(),
                    // The first line has the position and the cause; the rest is a source snippet.
                    message: err
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ")
                        .to_owned(),
                })?;
            for ser in parsed {
                let rule = sast_rule(origin, &ser, *strict)?;
                let mut langs = vec![ser.language];
                if ser.language == SastLang::JavaScript {
                    langs.extend([SastLang::TypeScript, SastLang::Tsx]);
                }
                let rule_json =
                    serde_json::to_value(&ser.core.rule).unwrap_or(serde_json::Value::Null);
                let requirement = prefilter::requirement(&rule_json);
                for lang in langs {
                    requirements
                        .entry(lang)
                        .or_default()
                        .push((rule.id.clone(), requirement.clone()));
                    let mut ser = ser.clone();
                    ser.language = lang;
                    let config =
                        RuleConfig::try_from(ser, &globals).map_err(|err| SastError::Rule {
                            origin: origin.clone(),
                            message: format!("rule `{}`: {}", rule.id, error_chain(&err)),
                        })?;
                    let mut rule = rule.clone();
                    rule.language = lang;
                    if meta.insert((lang, rule.id.clone()), rule.clone()).is_some() {
                        return Err(SastError::Rule {
                            origin: origin.clone(),
                            message: format!(
                                "rule id `{}` is defined twice for {}",
                                rule.id,
                                lang.name()
                            ),
                        });
                    }
                    if lang == ser_language(&rule) {
                        rules.push(rule);
                    }
                    configs.push(config);
                }
            }
        }
        let collection = RuleCollection::try_new(configs).map_err(|err| SastError::Rule {
            origin: "rules".into(),
            message: format!("invalid `files`/`ignores` glob: {err}"),
        })?;
        rules.sort_by(|a, b| (a.language, &a.id).cmp(&(b.language, &b.id)));
        let filters = requirements
            .into_iter()
            .map(|(lang, reqs)| (lang, LiteralFilter::new(reqs)))
            .collect();
        Ok(RuleSet {
            collection,
            filters,
            meta,
            rules,
        })
    }

    /// The rules as written (a JavaScript rule is listed once).
    pub fn rules(&self) -> &[SastRule] {
        &self.rules
    }
}

/// The language a rule was written for (its TypeScript copies are not listed).
fn ser_language(rule: &SastRule) -> SastLang {
    rule.written_for
}

fn sast_rule(
    origin: &str,
    ser: &SerializableRuleConfig<SastLang>,
    strict: bool,
) -> Result<SastRule, SastError> {
    let err = |message: String| SastError::Rule {
        origin: origin.to_owned(),
        message: format!("rule `{}`: {message}", ser.id),
    };
    if ser.id.is_empty() {
        return Err(err("every rule needs an `id`".into()));
    }
    let metadata = serde_json::to_value(&ser.metadata).unwrap_or(serde_json::Value::Null);
    let cwes: Vec<String> = match metadata.get("cwe") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| err("`metadata.cwe` items must be strings".into()))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(err(
                "`metadata.cwe` must be a string of the form CWE-<number>, or a list of them"
                    .into(),
            ));
        }
    };
    for cwe in &cwes {
        let ok = cwe
            .strip_prefix("CWE-")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(err(format!(
                "`metadata.cwe` value `{cwe}` is not of the form CWE-<number>"
            )));
        }
    }
    let disposition = match metadata.get("disposition").and_then(|d| d.as_str()) {
        None => Disposition::NeedsReview,
        Some(text) => text.parse().map_err(err)?,
    };
    if strict && (cwes.is_empty() || metadata.get("disposition").is_none()) {
        return Err(err(
            "built-in rules need `metadata.cwe` and `metadata.disposition`".into(),
        ));
    }
    let severity = serde_json::to_value(&ser.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "hint".into());
    Ok(SastRule {
        id: ser.id.clone(),
        language: ser.language,
        written_for: ser.language,
        message: ser.message.clone(),
        note: ser.note.clone(),
        severity,
        cwes,
        disposition,
        origin: origin.to_owned(),
    })
}

/// Rule files under `path`: the file itself, or `*.yml`/`*.yaml` below a directory.
fn rule_files(path: &Path) -> Result<Vec<PathBuf>, SastError> {
    let meta = std::fs::metadata(path).map_err(|source| SastError::Read {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(path).build() {
        let entry = entry.map_err(|err| SastError::Rule {
            origin: path.display().to_string(),
            message: err.to_string(),
        })?;
        let p = entry.path();
        let is_yaml = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yml" || e == "yaml");
        if is_yaml && entry.file_type().is_some_and(|t| t.is_file()) {
            files.push(p.to_owned());
        }
    }
    files.sort();
    Ok(files)
}

/// An error with its causes, `: `-separated (the YAML position is a cause).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The words the rules of one language need, in one automaton.
pub(crate) struct LiteralFilter {
    words: Option<aho_corasick::AhoCorasick>,
    /// Per rule id: the indices of its words, or `None` (always runs).
    rules: HashMap<String, Option<Vec<usize>>>,
}

impl LiteralFilter {
    fn new(reqs: Vec<(String, Requirement)>) -> LiteralFilter {
        let mut words: Vec<String> = Vec::new();
        let mut rules = HashMap::new();
        for (id, req) in reqs {
            let idx = req.map(|ws| {
                ws.into_iter()
                    .map(|w| match words.iter().position(|x| *x == w) {
                        Some(i) => i,
                        None => {
                            words.push(w);
                            words.len() - 1
                        }
                    })
                    .collect()
            });
            rules.insert(id, idx);
        }
        // An automaton that cannot be built (it cannot, for a few short words)
        // just disables the filter.
        let automaton = (!words.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&words).ok())
            .flatten();
        LiteralFilter {
            words: automaton,
            rules,
        }
    }

    /// Which words occur in `source`.
    pub(crate) fn present(&self, source: &[u8]) -> Vec<bool> {
        let Some(ac) = &self.words else {
            return Vec::new();
        };
        let mut present = vec![false; ac.patterns_len()];
        for m in ac.find_overlapping_iter(source) {
            present[m.pattern().as_usize()] = true;
        }
        present
    }

    /// Whether the rule `id` may match a file with these words present.
    pub(crate) fn may_match(&self, id: &str, present: &[bool]) -> bool {
        match self.rules.get(id) {
            Some(Some(idx)) if self.words.is_some() => {
                idx.iter().any(|&i| present.get(i).copied().unwrap_or(true))
            }
            _ => true,
        }
    }
}
