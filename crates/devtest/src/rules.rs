//! The rules names and paths of a pipeline file follow.
//!
//! Each `*_RULE` text is the hint shown when the matching `is_*` test fails.

pub(crate) const PATH_RULE: &str =
    "paths are relative to the workspace root and must not contain `..`";

/// Whether a path is absolute, starts at a home directory or a drive, or
/// climbs out with a `..` segment.
pub(crate) fn leaves_workspace(path: &str) -> bool {
    path.starts_with(['/', '\\', '~'])
        || path.chars().nth(1) == Some(':')
        || path.contains('\0')
        || path.split(['/', '\\']).any(|segment| segment == "..")
}

pub(crate) const JOB_NAME_RULE: &str =
    "names use letters, digits, `_` and `-`, do not start with `-`, and have at most 64 characters";
pub(crate) const ENV_NAME_RULE: &str =
    "names use letters, digits and `_`, and do not start with a digit";
pub(crate) const AXIS_NAME_RULE: &str =
    "axis names use lowercase letters, digits and `_`, and start with a letter";
pub(crate) const CACHE_NAME_RULE: &str =
    "cache names use lowercase letters, digits, `_` and `-`, and start with a letter or digit";

pub(crate) fn is_job_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(crate) fn is_axis_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(crate) fn is_cache_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
