//! Querying the PIM as data: `dso model KIND` with filters.
//!
//! Elements come back as JSON objects with stable field names (`id`,
//! `name`, then the element's own fields), the same shape the CLI prints
//! with `--format json` and the server will serve.

use dso_model::Pim;
use serde::Serialize;

use crate::AppError;

/// The element kinds of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Domains,
    Performers,
    InformationElements,
    Exchanges,
    Processes,
    Activities,
    Roles,
    Questions,
    Capabilities,
    Requirements,
}

impl ModelKind {
    pub const ALL: [ModelKind; 10] = [
        ModelKind::Domains,
        ModelKind::Performers,
        ModelKind::InformationElements,
        ModelKind::Exchanges,
        ModelKind::Processes,
        ModelKind::Activities,
        ModelKind::Roles,
        ModelKind::Questions,
        ModelKind::Capabilities,
        ModelKind::Requirements,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Domains => "domains",
            ModelKind::Performers => "performers",
            ModelKind::InformationElements => "information-elements",
            ModelKind::Exchanges => "exchanges",
            ModelKind::Processes => "processes",
            ModelKind::Activities => "activities",
            ModelKind::Roles => "roles",
            ModelKind::Questions => "questions",
            ModelKind::Capabilities => "capabilities",
            ModelKind::Requirements => "requirements",
        }
    }
}

/// Filters; each applies to the kinds named on it and is an error elsewhere.
#[derive(Debug, Clone, Default)]
pub struct ModelFilter {
    /// questions: the role (id or name) that asks them.
    pub role: Option<String>,
    /// requirements: the maturity level (1-4).
    pub level: Option<u8>,
    /// performers: the domain (id or name) they belong to.
    pub domain: Option<String>,
    /// roles: only the nine critical roles.
    pub critical: bool,
}

/// Lists the elements of `kind` that pass `filter`, in model order.
///
/// Errors when a filter names an unknown role or domain (with the nearest
/// valid names as a hint), or does not apply to `kind`.
pub fn elements(kind: ModelKind, filter: &ModelFilter) -> Result<Vec<serde_json::Value>, AppError> {
    let pim = dso_model::pim();
    check_applies(kind, filter)?;
    let rows = match kind {
        ModelKind::Domains => to_values(&pim.domains),
        ModelKind::Performers => {
            let domain = filter
                .domain
                .as_deref()
                .map(|d| resolve_domain(pim, d))
                .transpose()?;
            to_values(
                pim.performers
                    .iter()
                    .filter(|p| domain.is_none_or(|d| p.domain == d)),
            )
        }
        ModelKind::InformationElements => to_values(&pim.information_elements),
        ModelKind::Exchanges => to_values(&pim.exchanges),
        ModelKind::Processes => to_values(&pim.processes),
        ModelKind::Activities => to_values(&pim.activities),
        ModelKind::Roles => to_values(pim.roles.iter().filter(|r| !filter.critical || r.critical)),
        ModelKind::Questions => {
            let role = filter
                .role
                .as_deref()
                .map(|r| resolve_role(pim, r))
                .transpose()?;
            to_values(
                pim.questions
                    .iter()
                    .filter(|q| role.is_none_or(|r| q.role == r)),
            )
        }
        ModelKind::Capabilities => to_values(&pim.capabilities),
        ModelKind::Requirements => {
            if let Some(level) = filter.level
                && !(1..=4).contains(&level)
            {
                return Err(AppError::Input {
                    location: "--level".into(),
                    message: format!("maturity level {level} does not exist; levels are 1 to 4"),
                });
            }
            to_values(
                pim.requirements
                    .iter()
                    .filter(|r| filter.level.is_none_or(|l| r.level == l)),
            )
        }
    };
    Ok(rows)
}

fn check_applies(kind: ModelKind, filter: &ModelFilter) -> Result<(), AppError> {
    let misplaced = [
        ("--role", filter.role.is_some(), ModelKind::Questions),
        ("--level", filter.level.is_some(), ModelKind::Requirements),
        ("--domain", filter.domain.is_some(), ModelKind::Performers),
        ("--critical", filter.critical, ModelKind::Roles),
    ]
    .into_iter()
    .find(|&(_, given, applies_to)| given && applies_to != kind);
    match misplaced {
        Some((flag, _, applies_to)) => Err(AppError::Input {
            location: flag.into(),
            message: format!("{flag} filters {}, not {}", applies_to.name(), kind.name()),
        }),
        None => Ok(()),
    }
}

fn to_values<'a, T: Serialize + 'a>(
    items: impl IntoIterator<Item = &'a T>,
) -> Vec<serde_json::Value> {
    items
        .into_iter()
        .map(|item| {
            serde_json::to_value(item).expect("model elements are plain data and always serialise")
        })
        .collect()
}

/// Lowercase, with spaces and underscores as hyphens: `Security_Engineer` → `security-engineer`.
fn normalize(s: &str) -> String {
    s.trim().to_lowercase().replace([' ', '_'], "-")
}

fn resolve_role<'a>(pim: &'a Pim, key: &str) -> Result<&'a str, AppError> {
    let wanted = normalize(key);
    pim.roles
        .iter()
        .find(|r| normalize(&r.id) == wanted || normalize(&r.name) == wanted)
        .map(|r| r.id.as_str())
        .ok_or_else(|| unknown("role", key, pim.roles.iter().map(|r| r.id.as_str())))
}

/// Finds a domain by id or name; "assurance" also finds "Assurance Domain".
fn resolve_domain<'a>(pim: &'a Pim, key: &str) -> Result<&'a str, AppError> {
    let wanted = normalize(key);
    let short = |s: &str| normalize(s).trim_end_matches("-domain").to_owned();
    pim.domains
        .iter()
        .find(|d| {
            normalize(&d.id) == wanted
                || normalize(&d.name) == wanted
                || short(&d.name) == short(key)
                || short(&d.id) == short(key)
        })
        .map(|d| d.id.as_str())
        .ok_or_else(|| unknown("domain", key, pim.domains.iter().map(|d| d.id.as_str())))
}

/// Validates a PIM role id or name and returns its id.
pub fn role_id(key: &str) -> Result<String, AppError> {
    resolve_role(dso_model::pim(), key).map(str::to_owned)
}

fn unknown<'a>(
    kind: &'static str,
    value: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> AppError {
    let candidates: Vec<&str> = candidates.collect();
    let wanted = normalize(value);
    let nearest = candidates
        .iter()
        .map(|c| (edit_distance(&wanted, c), *c))
        .min()
        .filter(|(d, c)| *d <= c.len() / 2 + 1 || c.contains(&wanted));
    let hint = match nearest {
        Some((_, c)) => format!(
            "did you mean `{c}`? valid {kind}s: {}",
            candidates.join(", ")
        ),
        None => format!("valid {kind}s: {}", candidates.join(", ")),
    };
    AppError::Unknown {
        kind,
        value: value.to_owned(),
        hint: Some(hint),
    }
}

/// Levenshtein distance over chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j] + 1).min(row[j + 1] + 1).min(prev_diag + cost);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
