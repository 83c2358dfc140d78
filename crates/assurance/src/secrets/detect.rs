//! The detector: keyword pre-filter (aho-corasick), then the rules' regexes
//! on the lines that hold a keyword, then entropy, placeholder and allow checks.
//!
//! Pure: bytes in, candidate matches out. The secret text stays inside
//! [`Candidate`] and is redacted before anything leaves this module's caller.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use regex::bytes::Regex;

use super::rules::{Check, RULES, RuleSpec};

/// The inline allow marker: a line holding it is never reported.
pub const ALLOW_MARKER: &str = "dso:allow";

/// How far past the keyword a multi-line (PEM) rule may look, in bytes.
const MULTILINE_WINDOW: usize = 64 * 1024;

/// Compiled rules and the keyword automaton.
pub struct Detector {
    keywords: AhoCorasick,
    /// For each keyword (by automaton pattern index), the rules it triggers.
    keyword_rules: Vec<Vec<usize>>,
    regexes: Vec<Regex>,
    specs: Vec<RuleSpec>,
}

/// One match that passed every check. Holds the secret; never print it.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index into [`Detector::specs`].
    pub rule: usize,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column (in characters) of the secret's first byte.
    pub column: usize,
    /// Byte range of the secret in the scanned content.
    pub start: usize,
    pub end: usize,
    pub secret: String,
    pub entropy: f64,
}

impl Default for Detector {
    fn default() -> Detector {
        Detector::new(RULES)
    }
}

impl Detector {
    /// Compiles `specs`.
    ///
    /// Panics if a built-in pattern does not compile; `rules_are_unique_and_compile`
    /// tests every built-in rule, so this cannot happen with [`RULES`].
    pub fn new(specs: &[RuleSpec]) -> Detector {
        let mut keywords: Vec<&str> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (idx, spec) in specs.iter().enumerate() {
            for kw in spec.keywords {
                match keywords.iter().position(|k| k == kw) {
                    Some(pos) => keyword_rules[pos].push(idx),
                    None => {
                        keywords.push(kw);
                        keyword_rules.push(vec![idx]);
                    }
                }
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .expect("the built-in keywords are short literals, well under aho-corasick's limits");
        let regexes = specs
            .iter()
            .map(|s| {
                Regex::new(s.pattern).unwrap_or_else(|err| {
                    panic!("built-in secret rule {} does not compile: {err}", s.id)
                })
            })
            .collect();
        Detector {
            keywords: automaton,
            keyword_rules,
            regexes,
            specs: specs.to_vec(),
        }
    }

    /// The rules, in index order.
    pub fn specs(&self) -> &[RuleSpec] {
        &self.specs
    }

    /// Scans `content`; `lockfile` disables the generic rules (lockfiles are
    /// full of checksums, never of hand-written credentials).
    pub fn scan(&self, content: &[u8], lockfile: bool) -> Vec<Candidate> {
        let mut out = Vec::new();
        // (rule, line start) pairs already searched, so one line runs each regex once.
        let mut searched: HashSet<(usize, usize)> = HashSet::new();
        // (rule, secret start) pairs already reported (multi-line windows overlap).
        let mut reported: HashSet<(usize, usize)> = HashSet::new();
        let mut lines = LineIndex::default();
        // The line of the previous hit: many hits on one long line (minified
        // code) find its bounds once.
        let (mut cur_line_start, mut cur_line_end) = (0usize, 0usize);
        for hit in self.keywords.find_overlapping_iter(content) {
            if !(cur_line_start..cur_line_end).contains(&hit.start()) {
                cur_line_start = memrchr_newline(content, hit.start()).map_or(0, |p| p + 1);
                cur_line_end = memchr_newline(content, hit.start()).unwrap_or(content.len());
            }
            let line_start = cur_line_start;
            for &rule in &self.keyword_rules[hit.pattern().as_usize()] {
                let spec = &self.specs[rule];
                if lockfile && spec.generic {
                    continue;
                }
                if !searched.insert((rule, line_start)) {
                    continue;
                }
                let window_end = if spec.multiline {
                    content.len().min(hit.end() + MULTILINE_WINDOW)
                } else {
                    cur_line_end.max(hit.end()).min(content.len())
                };
                let window = &content[line_start..window_end];
                for caps in self.regexes[rule].captures_iter(window) {
                    let Some(m) = caps.name("secret").or_else(|| caps.get(0)) else {
                        continue;
                    };
                    let (start, end) = (line_start + m.start(), line_start + m.end());
                    if !reported.insert((rule, start)) {
                        continue;
                    }
                    if let Some(candidate) = self.confirm(rule, content, start, end, &mut lines) {
                        out.push(candidate);
                    }
                }
            }
        }
        dedup_overlapping(out)
    }

    fn confirm(
        &self,
        rule: usize,
        content: &[u8],
        start: usize,
        end: usize,
        lines: &mut LineIndex,
    ) -> Option<Candidate> {
        let spec = &self.specs[rule];
        let secret = std::str::from_utf8(&content[start..end]).ok()?;
        let entropy = shannon_entropy(secret);
        if entropy < spec.min_entropy || is_placeholder(secret) {
            return None;
        }
        if spec.generic && !plausible_generic(secret) {
            return None;
        }
        match spec.check {
            Check::None => {}
            Check::Jwt => {
                if !jwt_header_ok(secret) {
                    return None;
                }
            }
            Check::PemBody => {
                if !pem_body_ok(secret) {
                    return None;
                }
            }
        }
        let line_start = memrchr_newline(content, start).map_or(0, |p| p + 1);
        let line_end = memchr_newline(content, start).unwrap_or(content.len());
        let line_text = &content[line_start..line_end];
        if contains(line_text, ALLOW_MARKER.as_bytes()) {
            return None;
        }
        let line = lines.line_of(content, start);
        let column = String::from_utf8_lossy(&content[line_start..start])
            .chars()
            .count()
            + 1;
        Some(Candidate {
            rule,
            line,
            column,
            start,
            end,
            secret: secret.to_owned(),
            entropy,
        })
    }
}

/// One secret, one finding: where candidates overlap, the rule listed first
/// (the more specific; generic rules come last) wins. Sorted by position.
fn dedup_overlapping(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by_key(|c| (c.rule, c.start));
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for c in candidates {
        if !kept.iter().any(|k| k.start < c.end && c.start < k.end) {
            kept.push(c);
        }
    }
    kept.sort_by_key(|c| (c.start, c.rule));
    kept
}

/// Shannon entropy of `s` in bits per character (0 for an empty string).
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    let mut n = 0usize;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Documentation examples and template placeholders, not secrets.
fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    const MARKERS: &[&str] = &[
        "example",
        "xxxxxx",
        "changeme",
        "change_me",
        "placeholder",
        "your_",
        "your-",
        "yourpass",
        "<",
        ">",
        "${",
        "{{",
        "$(",
        "%s",
        "****",
        "dummy",
        "redacted",
        "sample",
        "1234567890",
        "abcdefgh",
    ];
    MARKERS.iter().any(|m| lower.contains(m))
}

/// A generic assignment value that could be a credential: not a hash
/// (lockfile checksums, SRI integrity strings, go.sum `h1:` hashes), not an
/// identifier or a path, and not a reference to somewhere else.
fn plausible_generic(secret: &str) -> bool {
    let s = secret.trim();
    let lower = s.to_ascii_lowercase();
    // Hex digests (md5, sha1, sha256, sha512), with or without an algorithm prefix.
    let hexish = lower
        .trim_start_matches("sha256:")
        .trim_start_matches("sha1:");
    if hexish.len() >= 32 && hexish.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    for prefix in ["sha1-", "sha256-", "sha384-", "sha512-", "h1:", "md5-"] {
        if lower.starts_with(prefix) {
            return false;
        }
    }
    // Identifiers, dotted names and paths: no digit and no symbol besides _ . / -.
    let has_digit = s.bytes().any(|b| b.is_ascii_digit());
    let has_symbol = s
        .bytes()
        .any(|b| !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'.' | b'/' | b'-'));
    if !has_digit && !has_symbol {
        return false;
    }
    // Environment or template references.
    if s.starts_with('$') || s.starts_with('%') || lower.starts_with("env:") {
        return false;
    }
    true
}

/// A real PEM body: armour headers (`Proc-Type: …`), then lines of base64
/// only, at least 64 characters in all (not prose such as "Bad key here").
fn pem_body_ok(body: &str) -> bool {
    let mut n_base64 = 0;
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.contains(": ") {
            continue;
        }
        if !line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return false;
        }
        n_base64 += line.len();
    }
    n_base64 >= 64
}

/// True when the first JWT segment decodes to a JSON object with `alg`.
fn jwt_header_ok(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return false;
    };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(bytes) = engine.decode(header.trim_end_matches('=')) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => map.contains_key("alg"),
        _ => false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

fn memchr_newline(content: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'\n', &content[from..]).map(|p| from + p)
}

fn memrchr_newline(content: &[u8], before: usize) -> Option<usize> {
    memchr::memrchr(b'\n', &content[..before])
}

/// Line numbers by counting newlines forward from the last lookup.
#[derive(Default)]
struct LineIndex {
    offset: usize,
    line: usize,
}

impl LineIndex {
    fn line_of(&mut self, content: &[u8], offset: usize) -> usize {
        if offset < self.offset {
            self.offset = 0;
            self.line = 0;
        }
        self.line += memchr::memchr_iter(b'\n', &content[self.offset..offset]).count();
        self.offset = offset;
        self.line + 1
    }
}
