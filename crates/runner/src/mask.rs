//! Secret masking: no secret value reaches a terminal or a stored log.
//!
//! For each secret the masker looks for the value itself, its standard and
//! URL-safe base64 encodings (padded and not), its URL (percent) encoding,
//! and, for a multi-line value such as a private key, each of its lines.
//! Values shorter than [`MIN_SECRET_LEN`] are not masked: masking `a` would
//! destroy every log while protecting nothing.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;

/// The replacement text for a masked secret.
pub const MASK: &str = "***";

/// Secrets shorter than this many bytes are not masked.
pub const MIN_SECRET_LEN: usize = 4;

/// Masks a fixed set of secret values in text.
#[derive(Debug, Clone)]
pub struct Masker {
    matcher: Option<AhoCorasick>,
    n_patterns: usize,
}

impl Masker {
    /// A masker for `secrets`; see the module docs for the forms masked.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut patterns: Vec<String> = Vec::new();
        for secret in secrets {
            for form in forms(secret) {
                if form.len() >= MIN_SECRET_LEN && !patterns.contains(&form) {
                    patterns.push(form);
                }
            }
        }
        let n_patterns = patterns.len();
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("literal patterns of bounded size always build an automaton")
        });
        Masker {
            matcher,
            n_patterns,
        }
    }

    /// A masker that masks nothing.
    pub fn none() -> Masker {
        Masker {
            matcher: None,
            n_patterns: 0,
        }
    }

    /// How many literal patterns are searched for.
    pub fn n_patterns(&self) -> usize {
        self.n_patterns
    }

    /// Returns `text` with every occurrence of a secret form replaced by [`MASK`].
    pub fn mask(&self, text: &str) -> String {
        match &self.matcher {
            None => text.to_owned(),
            Some(ac) => ac.replace_all(text, &vec![MASK; self.n_patterns]),
        }
    }
}

/// What RFC 3986 leaves unencoded: letters, digits and `-._~`.
const URL_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Every form of `secret` that may show up in output.
fn forms(secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |s: &str| {
        let trimmed = s.trim();
        if !trimmed.is_empty() {
            out.push(trimmed.to_owned());
        }
    };
    add(secret);
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    for engine in engines {
        add(&engine.encode(secret.as_bytes()));
    }
    for set in [percent_encoding::NON_ALPHANUMERIC, URL_UNRESERVED] {
        let encoded = percent_encoding::utf8_percent_encode(secret, set).to_string();
        // `+` for space, as in HTML forms and query strings.
        add(&encoded.replace("%20", "+"));
        add(&encoded);
    }
    if secret.contains('\n') {
        secret.lines().for_each(&mut add);
    }
    out
}
