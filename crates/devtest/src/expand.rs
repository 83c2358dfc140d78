//! Matrix expansion and `${{ matrix.<axis> }}` expressions.
//!
//! A job with `matrix: { rust: [stable, beta], os: [linux] }` becomes one job
//! per combination, the first axis varying slowest:
//! `test (rust=stable, os=linux)`, `test (rust=beta, os=linux)`.
//! Inside `run`, job `env` values and `with` values, `${{ matrix.rust }}` is
//! replaced by the combination's value; no other expression exists.

/// Returns every combination of the axes, in order (first axis slowest).
///
/// An axis without values yields no combination; no axes yield one empty
/// combination. The caller bounds the product before calling.
pub(crate) fn combinations(axes: &[(String, Vec<String>)]) -> Vec<Vec<(String, String)>> {
    let mut result: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (axis, values) in axes {
        result = result
            .iter()
            .flat_map(|prefix| {
                values.iter().map(move |value| {
                    let mut combination = prefix.clone();
                    combination.push((axis.clone(), value.clone()));
                    combination
                })
            })
            .collect();
    }
    result
}

/// Returns the display name of one expansion: `key` alone, or
/// `key (axis=value, ...)`.
pub(crate) fn display_name(key: &str, combination: &[(String, String)]) -> String {
    if combination.is_empty() {
        return key.to_owned();
    }
    let values: Vec<String> = combination
        .iter()
        .map(|(axis, value)| format!("{axis}={value}"))
        .collect();
    format!("{key} ({})", values.join(", "))
}

/// Returns the environment variable carrying a matrix axis: `MATRIX_<AXIS>`.
pub(crate) fn axis_env_name(axis: &str) -> String {
    format!("MATRIX_{}", axis.to_ascii_uppercase())
}

/// A problem with one `${{ ... }}` in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpressionProblem {
    /// `${{` without a closing `}}`.
    Unterminated,
    /// `${{ matrix.<axis> }}` with an axis the job does not have.
    UnknownAxis(String),
    /// Anything other than `matrix.<axis>`; holds the trimmed expression.
    Unsupported(String),
}

/// Returns the problems of every `${{ ... }}` in `text`, given the job's axes.
pub(crate) fn check_expressions(text: &str, axes: &[&str]) -> Vec<ExpressionProblem> {
    let mut problems = Vec::new();
    for piece in expressions(text) {
        let problem = match piece {
            Piece::Unterminated => ExpressionProblem::Unterminated,
            Piece::Expression(inner) => match inner.strip_prefix("matrix.") {
                Some(axis) if axes.contains(&axis) => continue,
                Some(axis) if is_axis_like(axis) => ExpressionProblem::UnknownAxis(axis.to_owned()),
                _ => ExpressionProblem::Unsupported(inner.to_owned()),
            },
            Piece::Text(_) => continue,
        };
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// Replaces every `${{ matrix.<axis> }}` in `text` by its value.
///
/// Expressions were checked before, so anything else is left untouched.
pub(crate) fn substitute(text: &str, combination: &[(String, String)]) -> String {
    if combination.is_empty() {
        return text.to_owned();
    }
    let mut result = String::with_capacity(text.len());
    for piece in expressions(text) {
        match piece {
            Piece::Text(text) => result.push_str(text),
            Piece::Expression(inner) => {
                let value = inner.strip_prefix("matrix.").and_then(|axis| {
                    combination
                        .iter()
                        .find(|(name, _)| name == axis)
                        .map(|(_, value)| value)
                });
                match value {
                    Some(value) => result.push_str(value),
                    None => {
                        result.push_str("${{ ");
                        result.push_str(inner);
                        result.push_str(" }}");
                    }
                }
            }
            Piece::Unterminated => {}
        }
    }
    result
}

/// Whether a text looks like an axis name, so `matrix.<it>` is a typo of an
/// axis rather than some other expression.
fn is_axis_like(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

enum Piece<'a> {
    Text(&'a str),
    /// The trimmed inside of `${{ ... }}`.
    Expression(&'a str),
    /// A `${{` with no `}}` after it; the rest of the text is dropped.
    Unterminated,
}

fn expressions(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        pieces.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 3..];
        match after.find("}}") {
            Some(end) => {
                pieces.push(Piece::Expression(after[..end].trim()));
                rest = &after[end + 2..];
            }
            None => {
                pieces.push(Piece::Unterminated);
                return pieces;
            }
        }
    }
    pieces.push(Piece::Text(rest));
    pieces
}
