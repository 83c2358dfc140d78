//! A literal pre-filter: which rules could match a file at all, decided from
//! its bytes before it is parsed.
//!
//! A rule's requirement is a set of words, one of which must occur in any
//! file the rule can match. It is derived conservatively from the rule:
//! an identifier of a plain `pattern` (ast-grep matches named leaves by
//! text, so every identifier of the pattern occurs in a match), a `regex`
//! that is a plain word or an alternation of words, and the combinators
//! (`all` and nested `has`/`inside`/`precedes`/`follows`: any known
//! requirement; `any`: the union, unknown if one branch is). Anything else,
//! such as `kind` alone, `not`, `matches`, or a pattern object with context,
//! is unknown, and the rule runs on every file of its language. Files for
//! which no rule remains are not parsed.

use serde_json::Value;

/// Words one of which must occur for a rule to match; `None`: always run.
pub type Requirement = Option<Vec<String>>;

/// The requirement of a rule given as its serialised `rule` object.
pub fn requirement(rule: &Value) -> Requirement {
    let Value::Object(map) = rule else {
        return None;
    };
    // Every key of a rule object must hold (AND): the first known requirement will do,
    // and the one with the fewest (longest) words filters best.
    let mut best: Requirement = None;
    let mut consider = |req: Requirement| {
        if let Some(words) = req {
            let better = match &best {
                None => true,
                Some(current) => words.len() < current.len(),
            };
            if better {
                best = Some(words);
            }
        }
    };
    for (key, value) in map {
        match key.as_str() {
            "pattern" => consider(value.as_str().and_then(pattern_word).map(|w| vec![w])),
            "regex" => consider(value.as_str().and_then(regex_words)),
            "has" | "inside" | "precedes" | "follows" => consider(requirement(value)),
            "all" => {
                if let Value::Array(items) = value {
                    for item in items {
                        consider(requirement(item));
                    }
                }
            }
            "any" => {
                if let Value::Array(items) = value {
                    let mut words = Vec::new();
                    let mut known = !items.is_empty();
                    for item in items {
                        match requirement(item) {
                            Some(w) => words.extend(w),
                            None => known = false,
                        }
                    }
                    if known {
                        words.sort();
                        words.dedup();
                        consider(Some(words));
                    }
                }
            }
            _ => {}
        }
    }
    best
}

/// The longest identifier of a pattern that is not a meta-variable.
fn pattern_word(pattern: &str) -> Option<String> {
    let bytes = pattern.as_bytes();
    let mut best: Option<&str> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'$' {
            // Skip the meta-variable `$A`, `$$$ARGS`, `$_`.
            while i < bytes.len() && bytes[i] == b'$' {
                i += 1;
            }
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &pattern[start..i];
            if best.is_none_or(|b| word.len() > b.len()) {
                best = Some(word);
            }
            continue;
        }
        i += 1;
    }
    best.filter(|w| w.len() >= 2).map(str::to_owned)
}

/// `^word$`, `word`, `^(a|b)$` and `^(?:a|b)$`: the words; anything else: unknown.
fn regex_words(regex: &str) -> Option<Vec<String>> {
    let inner = regex.strip_prefix('^').unwrap_or(regex);
    let inner = inner.strip_suffix('$').unwrap_or(inner);
    let inner = inner
        .strip_prefix("(?:")
        .or_else(|| inner.strip_prefix('('))
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(inner);
    let words: Vec<String> = inner.split('|').map(str::to_owned).collect();
    let plain = words
        .iter()
        .all(|w| w.len() >= 2 && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    plain.then_some(words)
}
