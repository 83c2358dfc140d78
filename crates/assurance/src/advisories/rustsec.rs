//! RustSec advisory-db files: Markdown with a TOML front matter block
//! (```` ```toml ... ``` ````), `[advisory]`, `[versions]`, `[affected]`.
//!
//! Advisories under the db's `rust/` directory concern the Rust toolchain
//! (std, cargo, rustdoc), not crates: they are kept under the ecosystem
//! `Rust-toolchain` so that a crate named `cargo` never matches them.

use serde::Deserialize;

use super::osv::Parsed;
use super::{Advisory, Affected, CargoReqs, InputError, Severity};
use crate::versions::Ecosystem;

#[derive(Debug, Deserialize)]
struct Front {
    advisory: Meta,
    versions: Versions,
    #[serde(default)]
    affected: Option<Platforms>,
}

/// `[affected]`: the platforms (and functions) the advisory is limited to.
#[derive(Debug, Default, Deserialize)]
struct Platforms {
    #[serde(default)]
    os: Vec<String>,
    #[serde(default)]
    arch: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    id: String,
    package: String,
    date: Option<toml::Value>,
    #[serde(default)]
    aliases: Vec<String>,
    cvss: Option<String>,
    informational: Option<String>,
    withdrawn: Option<toml::Value>,
    url: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// Parses one advisory file. `toolchain` is true for files under `rust/`.
pub fn parse(file: &str, text: &str, toolchain: bool) -> Result<Parsed, InputError> {
    let (front, front_line, body) = split_front_matter(text)
        .ok_or_else(|| InputError::new(file, "no ```toml front matter block").at_line(1))?;
    let parsed: Front = toml::from_str(front).map_err(|e| {
        let line = e
            .span()
            .map(|s| front[..s.start.min(front.len())].matches('\n').count())
            .unwrap_or(0);
        let mut err = InputError::new(file, e.message().to_owned()).at_line(front_line + line);
        if let Some(field) = e.message().split('`').nth(1) {
            err = err.field(field.to_owned());
        }
        err
    })?;
    let m = parsed.advisory;
    if m.id.trim().is_empty() || m.id.contains(char::is_whitespace) {
        return Err(
            InputError::new(file, format!("`{}` is not an advisory id", m.id))
                .at_line(front_line + 1)
                .field("advisory.id"),
        );
    }
    if m.withdrawn.is_some() {
        return Ok(Parsed::Withdrawn(m.id));
    }
    for req in parsed
        .versions
        .patched
        .iter()
        .chain(&parsed.versions.unaffected)
    {
        if semver::VersionReq::parse(req).is_err() {
            return Err(InputError::new(
                file,
                format!("`{req}` is not a Cargo version requirement"),
            )
            .field("versions.patched"));
        }
    }
    let (title, details) = title_and_body(body);
    let ecosystem = if toolchain {
        Ecosystem::Other("Rust-toolchain".into())
    } else {
        Ecosystem::CratesIo
    };
    let platforms = parsed.affected.unwrap_or_default();
    let mut references: Vec<String> = m.url.into_iter().collect();
    references.extend(m.references);
    let mut advisory = Advisory {
        id: m.id,
        aliases: m.aliases,
        summary: title,
        details,
        published: m.date.map(|d| d.to_string().trim_matches('"').to_owned()),
        modified: None,
        severity: Severity::Unknown,
        cvss_score: None,
        cvss_vectors: m.cvss.into_iter().collect(),
        cwes: Vec::new(),
        informational: m.informational,
        affected: vec![Affected {
            ecosystem,
            name: m.package,
            ranges: Vec::new(),
            versions: Vec::new(),
            cargo: Some(CargoReqs {
                patched: parsed.versions.patched,
                unaffected: parsed.versions.unaffected,
            }),
            os: platforms.os,
            arch: platforms.arch,
        }],
        references,
        sources: vec![file.to_owned()],
    };
    let _ = m.categories;
    advisory.score();
    Ok(Parsed::Advisory(Box::new(advisory)))
}

/// The TOML between the opening ```` ```toml ```` and the closing fence, the
/// line number of the opening fence, and the Markdown after it.
fn split_front_matter(text: &str) -> Option<(&str, usize, &str)> {
    let start = text.find("```toml")?;
    let fence_line = text[..start].lines().count() + 1;
    let after = &text[start + "```toml".len()..];
    let end = after.find("\n```")?;
    let body_start = after[end + 4..]
        .find('\n')
        .map_or(after.len(), |i| end + 4 + i);
    Some((
        &after[..end],
        fence_line,
        after.get(body_start..).unwrap_or(""),
    ))
}

fn title_and_body(body: &str) -> (String, String) {
    let mut title = String::new();
    let mut rest = Vec::new();
    for line in body.lines() {
        if title.is_empty()
            && let Some(t) = line.strip_prefix("# ")
        {
            title = t.trim().to_owned();
            continue;
        }
        rest.push(line);
    }
    (title, rest.join("\n").trim().to_owned())
}
