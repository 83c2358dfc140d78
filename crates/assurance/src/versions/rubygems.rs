//! RubyGems version ordering (`Gem::Version#<=>`).
//!
//! `-` means `.pre.`; segments are runs of digits or letters; any letter
//! segment makes a pre-release, which sorts before every number
//! (`1.0.a < 1.0`); trailing zeros of the release and of the pre-release
//! part are ignored (`1.0.0` = `1`).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Num(u64),
    Str(String),
}

/// A parsed gem version (canonical segments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    segments: Vec<Segment>,
}

impl Version {
    /// Parses `text`; `None` if it is not a valid gem version.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        if text.is_empty() {
            return Some(Version {
                segments: vec![Segment::Num(0)],
            });
        }
        if !text.as_bytes()[0].is_ascii_digit()
            || !text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return None;
        }
        let text = text.replace('-', ".pre.");
        let mut segments = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            if bytes[i].is_ascii_digit() {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                segments.push(Segment::Num(text[start..i].parse().ok()?));
            } else if bytes[i].is_ascii_alphabetic() {
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segments.push(Segment::Str(text[start..i].to_owned()));
            } else {
                i += 1;
            }
        }
        // Canonical: drop trailing zeros from the release and the pre-release part.
        let split = segments
            .iter()
            .position(|s| matches!(s, Segment::Str(_)))
            .unwrap_or(segments.len());
        let (release, pre) = segments.split_at(split);
        let trim = |part: &[Segment]| {
            let mut v = part.to_vec();
            while v.last() == Some(&Segment::Num(0)) {
                v.pop();
            }
            v
        };
        let mut canonical = trim(release);
        canonical.extend(trim(pre));
        Some(Version {
            segments: canonical,
        })
    }

    /// True when any segment is a letter run.
    pub fn is_prerelease(&self) -> bool {
        self.segments.iter().any(|s| matches!(s, Segment::Str(_)))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Num(0);
        let n = self.segments.len().max(other.segments.len());
        for i in 0..n {
            let l = self.segments.get(i).unwrap_or(&zero);
            let r = other.segments.get(i).unwrap_or(&zero);
            let ord = match (l, r) {
                (Segment::Num(a), Segment::Num(b)) => a.cmp(b),
                (Segment::Str(_), Segment::Num(_)) => Ordering::Less,
                (Segment::Num(_), Segment::Str(_)) => Ordering::Greater,
                (Segment::Str(a), Segment::Str(b)) => a.cmp(b),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
