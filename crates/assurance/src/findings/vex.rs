//! OpenVEX (v0.2.0, and the v0.0.x string forms) statements: reading them,
//! deciding whether one applies to an SCA finding, and writing findings as
//! an OpenVEX document.
//!
//! A statement applies to a package when its vulnerability name (or one of
//! its aliases) is one of the advisory's ids, and one of its products or
//! subcomponents names the package's purl, either exactly or without the
//! version (`pkg:cargo/tokio` covers every tokio).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::advisories::InputError;

/// A statement's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl VexStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VexStatus::NotAffected => "not_affected",
            VexStatus::Affected => "affected",
            VexStatus::Fixed => "fixed",
            VexStatus::UnderInvestigation => "under_investigation",
        }
    }
}

/// One statement, flattened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub vulnerability: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Product and subcomponent identifiers (purls or IRIs).
    pub products: Vec<String>,
    pub status: VexStatus,
    pub justification: Option<String>,
    pub impact_statement: Option<String>,
    pub action_statement: Option<String>,
}

impl Statement {
    /// Why a finding is suppressed, for people.
    pub fn reason(&self) -> String {
        let mut parts = vec![format!("VEX {}", self.status.as_str())];
        if let Some(j) = &self.justification {
            parts.push(j.clone());
        }
        if let Some(i) = &self.impact_statement {
            parts.push(i.clone());
        }
        parts.join(": ")
    }

    /// Whether this statement speaks about `purl` for one of `ids`.
    pub fn applies(&self, ids: &[&str], purl: &str) -> bool {
        let named = std::iter::once(&self.vulnerability)
            .chain(&self.aliases)
            .any(|v| ids.iter().any(|id| id.eq_ignore_ascii_case(v)));
        if !named {
            return false;
        }
        // `pkg:type/ns/name@version` without `@version`, qualifiers and subpath.
        fn strip(p: &str) -> (&str, bool) {
            let p = p.split(['?', '#']).next().unwrap_or(p);
            let slash = p.rfind('/').unwrap_or(0);
            match p[slash..].find('@') {
                Some(at) => (&p[..slash + at], true),
                None => (p, false),
            }
        }
        let exact = purl.split(['?', '#']).next().unwrap_or(purl);
        let (bare, _) = strip(purl);
        self.products.iter().any(|p| {
            let clean = p.split(['?', '#']).next().unwrap_or(p);
            let (p_bare, versioned) = strip(clean);
            if versioned {
                clean == exact
            } else {
                p_bare == bare
            }
        })
    }
}

fn ids_of(product: &Value) -> Vec<String> {
    match product {
        Value::String(s) => vec![s.clone()],
        Value::Object(o) => {
            let mut out = Vec::new();
            if let Some(id) = o.get("@id").and_then(Value::as_str) {
                out.push(id.to_owned());
            }
            if let Some(purl) = o
                .get("identifiers")
                .and_then(|i| i.get("purl"))
                .and_then(Value::as_str)
            {
                out.push(purl.to_owned());
            }
            for sub in o
                .get("subcomponents")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(ids_of(sub));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Reads an OpenVEX document.
pub fn parse(file: &str, text: &str) -> Result<Vec<Statement>, InputError> {
    let doc: Value = crate::lockfiles::from_json(file, text)?;
    if doc
        .get("@context")
        .and_then(Value::as_str)
        .is_none_or(|c| !c.contains("openvex"))
    {
        return Err(
            InputError::new(file, "not an OpenVEX document (no openvex @context)")
                .field("@context"),
        );
    }
    let statements = doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| InputError::new(file, "must be a list").field("statements"))?;
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let field = |f: &str| format!("statements[{i}].{f}");
        let (vulnerability, aliases) = match s.get("vulnerability") {
            Some(Value::String(name)) => (name.clone(), Vec::new()),
            Some(v @ Value::Object(_)) => {
                let name = v.get("name").and_then(Value::as_str).ok_or_else(|| {
                    InputError::new(file, "missing").field(field("vulnerability.name"))
                })?;
                let aliases = v
                    .get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (name.to_owned(), aliases)
            }
            _ => return Err(InputError::new(file, "missing").field(field("vulnerability"))),
        };
        let products: Vec<String> = s
            .get("products")
            .and_then(Value::as_array)
            .map(|a| a.iter().flat_map(ids_of).collect())
            .unwrap_or_default();
        if products.is_empty() {
            return Err(
                InputError::new(file, "a statement names no product").field(field("products"))
            );
        }
        let status: VexStatus = s
            .get("status")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| {
                InputError::new(
                    file,
                    "expected not_affected, affected, fixed or under_investigation",
                )
                .field(field("status"))
            })?;
        let text_of = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
        let statement = Statement {
            vulnerability,
            aliases,
            products,
            status,
            justification: text_of("justification"),
            impact_statement: text_of("impact_statement"),
            action_statement: text_of("action_statement"),
        };
        if status == VexStatus::NotAffected
            && statement.justification.is_none()
            && statement.impact_statement.is_none()
        {
            return Err(InputError::new(
                file,
                "not_affected needs a justification or an impact_statement",
            )
            .field(field("justification")));
        }
        out.push(statement);
    }
    Ok(out)
}

/// One finding to state in an exported document.
#[derive(Debug, Clone)]
pub struct Exported {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub purl: String,
    pub status: VexStatus,
    pub impact_statement: Option<String>,
    pub action_statement: Option<String>,
}

/// An OpenVEX v0.2.0 document.
pub fn write(items: &[Exported], id: &str, author: &str, timestamp: &str) -> Value {
    let statements: Vec<Value> = items
        .iter()
        .map(|e| {
            let mut vulnerability = json!({ "name": e.vulnerability });
            if !e.aliases.is_empty() {
                let mut aliases = e.aliases.clone();
                aliases.sort();
                aliases.dedup();
                vulnerability["aliases"] = json!(aliases);
            }
            let mut s = json!({
                "vulnerability": vulnerability,
                "products": [{ "@id": e.purl, "identifiers": { "purl": e.purl } }],
                "status": e.status.as_str(),
            });
            if let Some(i) = &e.impact_statement {
                s["impact_statement"] = json!(i);
            }
            if let Some(a) = &e.action_statement {
                s["action_statement"] = json!(a);
            }
            s
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": id,
        "author": author,
        "timestamp": timestamp,
        "version": 1,
        "tooling": "dso",
        "statements": statements,
    })
}
