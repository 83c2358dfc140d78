//! PEP 440 versions (Python packages): parsing with the spec's
//! normalisations and the ordering of `packaging.version`.
//!
//! `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`, case-insensitive, with
//! the alternative spellings (`alpha`, `beta`, `c`, `pre`, `preview`, `rev`,
//! `r`, `-N` as an implicit post-release), optional separators and implicit
//! zero numbers (`1.0a` = `1.0a0`).

use std::cmp::Ordering;

/// A parsed PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub epoch: u64,
    pub release: Vec<u64>,
    /// (0 = a, 1 = b, 2 = rc, number)
    pub pre: Option<(u8, u64)>,
    pub post: Option<u64>,
    pub dev: Option<u64>,
    pub local: Vec<LocalPart>,
}

/// One segment of a local version label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalPart {
    Num(u64),
    Alpha(String),
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become `-`.
/// True when [`normalize_name`] would return `name` unchanged: lowercase,
/// single `-` between parts, nothing to trim.
pub fn is_normal_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !name.contains("--")
        && b.iter()
            .all(|&c| c == b'-' || c.is_ascii_lowercase() || c.is_ascii_digit() || c >= 0x80)
}

pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn number(&mut self) -> Option<u64> {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        if start == self.i {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
    fn eat_sep(&mut self) -> bool {
        if matches!(self.peek(), Some(b'.' | b'-' | b'_')) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_word(&mut self, words: &[&str]) -> Option<usize> {
        // Longest first so that `rc` is not read as `r` + `c`.
        let mut best: Option<(usize, usize)> = None;
        for (idx, w) in words.iter().enumerate() {
            let w = w.as_bytes();
            if self.s.len() >= self.i + w.len()
                && &self.s[self.i..self.i + w.len()] == w
                && best.is_none_or(|(_, len)| w.len() > len)
            {
                best = Some((idx, w.len()));
            }
        }
        let (idx, len) = best?;
        self.i += len;
        Some(idx)
    }
}

impl Version {
    /// Parses `text`; `None` if it is not a valid PEP 440 version.
    pub fn parse(text: &str) -> Option<Version> {
        let lower = text.trim().to_ascii_lowercase();
        let lower = lower.strip_prefix('v').unwrap_or(&lower);
        let (public, local) = match lower.split_once('+') {
            Some((p, l)) => (p, Some(l)),
            None => (lower, None),
        };
        let mut c = Cursor {
            s: public.as_bytes(),
            i: 0,
        };
        let first = c.number()?;
        let (epoch, mut release) = if c.peek() == Some(b'!') {
            c.i += 1;
            (first, vec![c.number()?])
        } else {
            (0, vec![first])
        };
        while c.peek() == Some(b'.') && c.s.get(c.i + 1).is_some_and(|b| b.is_ascii_digit()) {
            c.i += 1;
            release.push(c.number()?);
        }
        // Pre-release.
        let mut pre = None;
        let save = c.i;
        c.eat_sep();
        const PRE: [&str; 7] = ["a", "alpha", "b", "beta", "rc", "c", "pre"];
        const PRE2: [&str; 1] = ["preview"];
        let kind = c.eat_word(&PRE2).map(|_| 2u8).or_else(|| {
            c.eat_word(&PRE).map(|idx| match idx {
                0 | 1 => 0,
                2 | 3 => 1,
                _ => 2,
            })
        });
        match kind {
            Some(kind) => {
                c.eat_sep();
                pre = Some((kind, c.number().unwrap_or(0)));
            }
            None => c.i = save,
        }
        // Post-release.
        let mut post = None;
        let save = c.i;
        if c.peek() == Some(b'-') && c.s.get(c.i + 1).is_some_and(|b| b.is_ascii_digit()) {
            c.i += 1;
            post = Some(c.number()?);
        } else {
            c.eat_sep();
            if c.eat_word(&["post", "rev", "r"]).is_some() {
                c.eat_sep();
                post = Some(c.number().unwrap_or(0));
            } else {
                c.i = save;
            }
        }
        // Development release.
        let mut dev = None;
        let save = c.i;
        c.eat_sep();
        if c.eat_word(&["dev"]).is_some() {
            c.eat_sep();
            dev = Some(c.number().unwrap_or(0));
        } else {
            c.i = save;
        }
        if c.i != c.s.len() {
            return None;
        }
        let local = match local {
            None => Vec::new(),
            Some(l) => {
                let mut parts = Vec::new();
                for part in l.split(['.', '-', '_']) {
                    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        return None;
                    }
                    parts.push(if part.bytes().all(|b| b.is_ascii_digit()) {
                        LocalPart::Num(part.parse().ok()?)
                    } else {
                        LocalPart::Alpha(part.to_owned())
                    });
                }
                parts
            }
        };
        Some(Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// True for pre-releases and development releases.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }
}

/// Rank of the pre-release slot in `packaging`'s comparison key: a dev
/// release without pre or post sorts before every pre-release of the same
/// release (`1.0.dev0 < 1.0a0`); no pre-release sorts after all of them.
fn pre_key(v: &Version) -> (i8, u8, u64) {
    match (v.pre, v.post, v.dev) {
        (None, None, Some(_)) => (-1, 0, 0),
        (None, _, _) => (1, 0, 0),
        (Some((k, n)), _, _) => (0, k, n),
    }
}

fn cmp_local(a: &[LocalPart], b: &[LocalPart]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x, y) {
            (LocalPart::Num(x), LocalPart::Num(y)) => x.cmp(y),
            (LocalPart::Num(_), LocalPart::Alpha(_)) => Ordering::Greater,
            (LocalPart::Alpha(_), LocalPart::Num(_)) => Ordering::Less,
            (LocalPart::Alpha(x), LocalPart::Alpha(y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| {
                // Trailing zeros do not count: 1.0 == 1.0.0.
                let n = self.release.len().max(other.release.len());
                (0..n)
                    .map(|i| {
                        self.release
                            .get(i)
                            .unwrap_or(&0)
                            .cmp(other.release.get(i).unwrap_or(&0))
                    })
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            })
            .then_with(|| pre_key(self).cmp(&pre_key(other)))
            // No post-release sorts before any post-release.
            .then_with(|| match (self.post, other.post) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            // No dev release sorts after any dev release.
            .then_with(|| match (self.dev, other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
            .then_with(|| cmp_local(&self.local, &other.local))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
