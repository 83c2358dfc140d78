//! Requirements: typed, prioritised, layered (a parent), tied to an
//! architecture element, and versioned: every change is a new version whose
//! difference to the previous one can be shown field by field and line by
//! line (the base of a requirements-volatility measure).

use serde::{Deserialize, Serialize};

pub const KINDS: [&str; 3] = ["functional", "nonfunctional", "security"];
pub const PRIORITIES: [&str; 4] = ["low", "medium", "high", "critical"];
pub const STATUSES: [&str; 5] = ["draft", "approved", "implemented", "verified", "obsolete"];

/// A requirement's fields, as versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    pub text: String,
    pub kind: String,
    pub priority: String,
    pub acceptance: String,
    pub status: String,
    pub parent: Option<String>,
    pub arch_element: Option<String>,
}

/// Changes to some fields; `None` leaves a field as it is. For `parent` and
/// `arch_element`, `Some("")` clears them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    pub title: Option<String>,
    pub text: Option<String>,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub acceptance: Option<String>,
    pub status: Option<String>,
    pub parent: Option<String>,
    pub arch_element: Option<String>,
}

impl Patch {
    pub fn is_empty(&self) -> bool {
        *self == Patch::default()
    }
}

/// A field with an invalid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn one_of(field: &'static str, value: &str, allowed: &[&str]) -> Result<(), FieldError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(FieldError {
            field,
            message: format!("`{value}` is not one of {}", allowed.join(", ")),
        })
    }
}

/// True for ids like `REQ-12`, `Gov_4.1`, `sec-login`: letters, digits, `-`, `_`, `.`, at most 64.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Requirement {
    /// Checks every field; the first bad one is named.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !valid_id(&self.id) {
            return Err(FieldError {
                field: "id",
                message: format!(
                    "`{}` is not an id (letters, digits, `-`, `_`, `.`; at most 64)",
                    self.id
                ),
            });
        }
        if self.title.trim().is_empty() {
            return Err(FieldError {
                field: "title",
                message: "must not be empty".into(),
            });
        }
        if self.title.chars().any(char::is_control) {
            return Err(FieldError {
                field: "title",
                message: "must be one line".into(),
            });
        }
        one_of("type", &self.kind, &KINDS)?;
        one_of("priority", &self.priority, &PRIORITIES)?;
        one_of("status", &self.status, &STATUSES)?;
        if self.parent.as_deref() == Some(self.id.as_str()) {
            return Err(FieldError {
                field: "parent",
                message: "a requirement cannot be its own parent".into(),
            });
        }
        Ok(())
    }

    /// The requirement with `patch` applied.
    pub fn apply(&self, patch: &Patch) -> Requirement {
        let clearable = |new: &Option<String>, old: &Option<String>| match new {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(v.clone()),
            None => old.clone(),
        };
        Requirement {
            id: self.id.clone(),
            title: patch.title.clone().unwrap_or_else(|| self.title.clone()),
            text: patch.text.clone().unwrap_or_else(|| self.text.clone()),
            kind: patch.kind.clone().unwrap_or_else(|| self.kind.clone()),
            priority: patch
                .priority
                .clone()
                .unwrap_or_else(|| self.priority.clone()),
            acceptance: patch
                .acceptance
                .clone()
                .unwrap_or_else(|| self.acceptance.clone()),
            status: patch.status.clone().unwrap_or_else(|| self.status.clone()),
            parent: clearable(&patch.parent, &self.parent),
            arch_element: clearable(&patch.arch_element, &self.arch_element),
        }
    }

    /// Named fields and their values, in a fixed order (for diffs).
    pub fn fields(&self) -> [(&'static str, String); 8] {
        [
            ("title", self.title.clone()),
            ("type", self.kind.clone()),
            ("priority", self.priority.clone()),
            ("status", self.status.clone()),
            ("parent", self.parent.clone().unwrap_or_default()),
            (
                "arch_element",
                self.arch_element.clone().unwrap_or_default(),
            ),
            ("text", self.text.clone()),
            ("acceptance", self.acceptance.clone()),
        ]
    }
}

/// One changed field between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: String,
    pub new: String,
    /// For multi-line fields: a line diff, `-` removed, `+` added, ` ` kept.
    pub lines: Vec<String>,
}

/// The fields that differ from `old` to `new`.
pub fn diff(old: &Requirement, new: &Requirement) -> Vec<FieldChange> {
    old.fields()
        .into_iter()
        .zip(new.fields())
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, a), (_, b))| {
            let lines = if a.contains('\n') || b.contains('\n') {
                line_diff(&a, &b)
            } else {
                Vec::new()
            };
            FieldChange {
                field,
                old: a,
                new: b,
                lines,
            }
        })
        .collect()
}

/// A line diff by longest common subsequence.
pub fn line_diff(old: &str, new: &str) -> Vec<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // NOTE: O(n*m) memory; requirement texts are short, and beyond 2000
    // lines a side we fall back to remove-all/add-all.
    if a.len() * b.len() > 4_000_000 {
        return a
            .iter()
            .map(|l| format!("-{l}"))
            .chain(b.iter().map(|l| format!("+{l}")))
            .collect();
    }
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(format!(" {}", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push(format!("+{}", b[j]));
            j += 1;
        } else {
            out.push(format!("-{}", a[i]));
            i += 1;
        }
    }
    out
}

/// The next free `PREFIX-n` id given the ids in use.
pub fn next_id(prefix: &str, used: &[String]) -> String {
    let n = used
        .iter()
        .filter_map(|id| {
            id.strip_prefix(prefix)?
                .strip_prefix('-')?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    format!("{prefix}-{}", n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Requirement {
        Requirement {
            id: "REQ-1".into(),
            title: "Log in".into(),
            text: "Users log in.\nWith a password.".into(),
            kind: "functional".into(),
            priority: "high".into(),
            acceptance: "a user with a password logs in".into(),
            status: "draft".into(),
            parent: None,
            arch_element: Some("auth".into()),
        }
    }

    #[test]
    fn validation_names_the_field() {
        assert!(req().validate().is_ok());
        let bad = req().apply(&Patch {
            kind: Some("fun".into()),
            ..Patch::default()
        });
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field, "type");
        assert!(
            err.to_string()
                .contains("functional, nonfunctional, security")
        );
        let mut r = req();
        r.id = "REQ 1".into();
        assert_eq!(r.validate().unwrap_err().field, "id");
        let r = req().apply(&Patch {
            parent: Some("REQ-1".into()),
            ..Patch::default()
        });
        assert_eq!(r.validate().unwrap_err().field, "parent");
    }

    #[test]
    fn diff_lists_changed_fields_with_line_diffs() {
        let old = req();
        let new = old.apply(&Patch {
            text: Some("Users log in.\nWith a passkey.\nOr a password.".into()),
            priority: Some("critical".into()),
            arch_element: Some(String::new()),
            ..Patch::default()
        });
        let changes = diff(&old, &new);
        let fields: Vec<&str> = changes.iter().map(|c| c.field).collect();
        assert_eq!(fields, ["priority", "arch_element", "text"]);
        assert_eq!(
            changes[2].lines,
            [
                " Users log in.",
                "-With a password.",
                "+With a passkey.",
                "+Or a password."
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }

    #[test]
    fn next_id_numbers_after_the_highest() {
        assert_eq!(next_id("REQ", &[]), "REQ-1");
        assert_eq!(
            next_id("REQ", &["REQ-2".into(), "REQ-10".into(), "REQX-99".into()]),
            "REQ-11"
        );
    }
}
