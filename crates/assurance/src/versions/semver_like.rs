//! Semantic-version precedence, lenient about the forms ecosystems use.
//!
//! Accepts a leading `v` or `=`, one to any number of numeric release parts
//! (missing parts are zero, so `1.2` = `1.2.0`), a pre-release after `-` and
//! build metadata after `+` (ignored, as SemVer says; Go's `+incompatible`
//! is such metadata). Pre-release identifiers compare per SemVer 2.0 §11.

use std::cmp::Ordering;

/// A parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub release: Vec<u64>,
    pub pre: Vec<Ident>,
}

/// One pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ident {
    Num(u64),
    Alpha(String),
}

impl Version {
    /// Parses `text`; `None` when the release part is not numeric.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('=').unwrap_or(text).trim();
        let text = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        let text = text.split('+').next().unwrap_or(text);
        let (core, pre) = match text.find('-') {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        };
        if core.is_empty() {
            return None;
        }
        let mut release = Vec::new();
        for part in core.split('.') {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            release.push(part.parse().ok()?);
        }
        let pre = match pre {
            None => Vec::new(),
            Some("") => return None,
            Some(pre) => pre
                .split('.')
                .map(|id| {
                    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                        id.parse()
                            .map(Ident::Num)
                            .unwrap_or(Ident::Alpha(id.into()))
                    } else {
                        Ident::Alpha(id.into())
                    }
                })
                .collect(),
        };
        Some(Version { release, pre })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.release.len().max(other.release.len());
        for i in 0..n {
            let a = self.release.get(i).copied().unwrap_or(0);
            let b = other.release.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                ord => return ord,
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            (false, false) => {}
        }
        for (a, b) in self.pre.iter().zip(&other.pre) {
            let ord = match (a, b) {
                (Ident::Num(a), Ident::Num(b)) => a.cmp(b),
                (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
                (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
                (Ident::Alpha(a), Ident::Alpha(b)) => a.cmp(b),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        self.pre.len().cmp(&other.pre.len())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
