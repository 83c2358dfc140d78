//! The backlog: items of six kinds moving along a configurable Kanban flow,
//! imported from CSV or from a Jira JSON export, or made from a finding.

use serde::{Deserialize, Serialize};

/// Item kinds.
pub const KINDS: [&str; 6] = ["story", "task", "defect", "security", "tech-debt", "patch"];

/// What a finding says, as the backlog item made from it needs it (the
/// finding types live in the assurance domain; the caller copies the facts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFacts {
    /// `F-` and 12 hex digits.
    pub id: String,
    pub scanner: String,
    /// The PIM activity that found it (`software-composition-analysis`...).
    pub activity: String,
    /// Rule id, or for SCA the advisory id.
    pub rule: String,
    pub severity: String,
    pub title: String,
    pub file: Option<String>,
    pub line: Option<i64>,
    /// SCA: the affected package and version, the advisory's aliases and
    /// the first fixed version.
    pub package: Option<String>,
    pub version: Option<String>,
    pub aliases: Vec<String>,
    pub fixed: Option<String>,
    pub cwes: Vec<String>,
}

/// Activities whose findings are security weaknesses.
pub const SECURITY_ACTIVITIES: &[&str] = &[
    "software-composition-analysis",
    "secret-detection",
    "static-application-security-testing",
    "dynamic-application-security-testing",
    "penetration-testing",
    "container-scanning",
];

/// Scanners whose findings are security weaknesses (dso's own).
pub const SECURITY_SCANNERS: &[&str] = &["dso-sca", "dso-secrets", "dso-sast"];

impl FindingFacts {
    /// A security finding: from a security scanner or activity, or naming a CWE.
    pub fn is_security(&self) -> bool {
        SECURITY_SCANNERS.contains(&self.scanner.as_str())
            || SECURITY_ACTIVITIES.contains(&self.activity.as_str())
            || !self.cwes.is_empty()
    }

    /// `file:line`, `file`, or nothing.
    pub fn location(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(f), Some(l)) => Some(format!("{f}:{l}")),
            (Some(f), None) => Some(f.clone()),
            _ => None,
        }
    }
}

/// The kind (`security` for a security finding, else `defect`), title and
/// description of the item made from a finding.
pub fn item_from_finding(f: &FindingFacts) -> (&'static str, String, String) {
    let kind = if f.is_security() {
        "security"
    } else {
        "defect"
    };
    let one_line = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut title = format!(
        "[{}] {}: {}",
        f.severity,
        one_line(&f.rule),
        one_line(&f.title)
    );
    if title.chars().count() > 200 {
        title = title.chars().take(199).collect::<String>() + "…";
    }
    let mut d = vec![format!(
        "Finding {} ({}, severity {}).",
        f.id, f.scanner, f.severity
    )];
    d.push(format!("Rule: {}", f.rule));
    if let Some(loc) = f.location() {
        d.push(format!("Location: {loc}"));
    }
    if let Some(p) = &f.package {
        d.push(format!(
            "Package: {p} {}",
            f.version.as_deref().unwrap_or("(version unknown)")
        ));
        let aliases = if f.aliases.is_empty() {
            String::new()
        } else {
            format!(" (aliases: {})", f.aliases.join(", "))
        };
        d.push(format!("Advisory: {}{aliases}", f.rule));
        d.push(match &f.fixed {
            Some(v) => format!("Fixed in: {v} (upgrade {p} to {v} or later)"),
            None => "Fixed in: no fixed version is known".into(),
        });
    }
    if !f.cwes.is_empty() {
        d.push(format!("Weakness: {}", f.cwes.join(", ")));
    }
    d.push(String::new());
    d.push(one_line(&f.title));
    (kind, title, d.join("\n"))
}

/// A Kanban flow: states in order, and which moves between them are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub states: Vec<String>,
    pub transitions: Vec<(String, String)>,
}

/// A flow that does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FlowError(pub String);

impl Flow {
    /// new → ready → in-progress → review → done, each step forward or back one.
    pub fn default_flow() -> Flow {
        Flow::linear(&["new", "ready", "in-progress", "review", "done"])
            .expect("the default states are valid")
    }

    /// States in order; each may move to the next or back to the previous one.
    pub fn linear(states: &[&str]) -> Result<Flow, FlowError> {
        let transitions = states
            .windows(2)
            .flat_map(|w| {
                [
                    (w[0].to_owned(), w[1].to_owned()),
                    (w[1].to_owned(), w[0].to_owned()),
                ]
            })
            .collect();
        Flow::new(states.iter().map(|s| s.to_string()).collect(), transitions)
    }

    /// Checks states (at least two, unique, simple names) and that every
    /// transition joins two of them.
    pub fn new(states: Vec<String>, transitions: Vec<(String, String)>) -> Result<Flow, FlowError> {
        if states.len() < 2 {
            return Err(FlowError("a flow needs at least two states".into()));
        }
        for (i, s) in states.iter().enumerate() {
            if s.is_empty()
                || s.len() > 40
                || !s
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(FlowError(format!(
                    "state `{s}`: use lowercase letters, digits and `-` (at most 40)"
                )));
            }
            if states[..i].contains(s) {
                return Err(FlowError(format!("state `{s}` is listed twice")));
            }
        }
        for (from, to) in &transitions {
            for end in [from, to] {
                if !states.contains(end) {
                    return Err(FlowError(format!(
                        "transition {from} -> {to}: `{end}` is not a state of the flow"
                    )));
                }
            }
        }
        Ok(Flow {
            states,
            transitions,
        })
    }

    /// Where new items start.
    pub fn initial(&self) -> &str {
        &self.states[0]
    }

    /// The last state: an item there is closed.
    pub fn closed(&self) -> &str {
        &self.states[self.states.len() - 1]
    }

    pub fn has_state(&self, s: &str) -> bool {
        self.states.iter().any(|x| x == s)
    }

    /// The states an item in `from` may move to.
    pub fn next_states(&self, from: &str) -> Vec<&str> {
        self.transitions
            .iter()
            .filter(|(f, _)| f == from)
            .map(|(_, t)| t.as_str())
            .collect()
    }

    pub fn can_move(&self, from: &str, to: &str) -> bool {
        self.transitions.iter().any(|(f, t)| f == from && t == to)
    }

    /// The state a foreign status name (`To Do`, `In Progress`, `Closed`) maps to, if any.
    pub fn map_status(&self, status: &str) -> Option<&str> {
        let wanted = slug(status);
        if let Some(s) = self.states.iter().find(|s| **s == wanted) {
            return Some(s);
        }
        match wanted.as_str() {
            "to-do" | "todo" | "open" | "backlog" | "new" | "selected-for-development" => {
                Some(self.initial())
            }
            "done" | "closed" | "resolved" | "complete" | "completed" => Some(self.closed()),
            _ => None,
        }
    }
}

/// `In Progress` → `in-progress`.
pub fn slug(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// True for item keys like `BL-12` or `PROJ-7`: letters/digits, a dash, a number.
pub fn valid_key(key: &str) -> bool {
    match key.rsplit_once('-') {
        Some((prefix, n)) => {
            !prefix.is_empty()
                && prefix.len() <= 20
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && prefix
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase())
                && !n.is_empty()
                && n.len() <= 9
                && n.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The item keys mentioned in a commit message, among `known`, in order, once each.
pub fn keys_in_message<'a>(message: &str, known: &'a [String]) -> Vec<&'a str> {
    let mut found: Vec<&str> = Vec::new();
    for word in message.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if let Some(k) = known.iter().find(|k| k.as_str() == word)
            && !found.contains(&k.as_str())
        {
            found.push(k);
        }
    }
    found
}

/// An item read from an import file, before it is stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedItem {
    /// Where it came from, for messages: `items.csv:3`, `jira.json: issues[2]`.
    pub location: String,
    pub key: Option<String>,
    pub kind: String,
    pub title: String,
    pub description: String,
    /// The status as written in the file.
    pub status: Option<String>,
    pub estimate: Option<f64>,
    pub assignee: Option<String>,
    pub sprint: Option<String>,
    pub requirements: Vec<String>,
    pub depends_on: Vec<String>,
}

/// A bad import file: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct ImportError {
    pub location: String,
    pub message: String,
}

/// Maps a kind as written (`Story`, `Bug`, `Sub-task`, `Vulnerability`) to an item kind.
pub fn map_kind(kind: &str) -> Option<&'static str> {
    match slug(kind).as_str() {
        "story" | "user-story" | "feature" | "epic" | "improvement" | "new-feature" => {
            Some("story")
        }
        "task" | "sub-task" | "subtask" => Some("task"),
        "defect" | "bug" => Some("defect"),
        "security" | "vulnerability" | "security-issue" => Some("security"),
        "tech-debt" | "technical-debt" | "debt" => Some("tech-debt"),
        "patch" => Some("patch"),
        _ => None,
    }
}

fn list(s: &str) -> Vec<String> {
    s.split([';', ',', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads a CSV file with a header row. Columns (any order, case-insensitive):
/// `title` (or `summary`, required), `key`, `kind` (or `type`),
/// `description`, `state` (or `status`), `estimate` (or `points`),
/// `assignee`, `sprint`, `requirements`, `depends_on` (lists separated by
/// `;`). Errors name the line and the column.
pub fn parse_csv(name: &str, text: &str) -> Result<Vec<ImportedItem>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let err = |location: String, message: String| ImportError { location, message };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err(format!("{name}:1"), e.to_string()))?
        .iter()
        .map(slug)
        .collect();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let title = col(&["title", "summary"]).ok_or_else(|| {
        err(
            format!("{name}:1"),
            "no `title` (or `summary`) column in the header".into(),
        )
    })?;
    let known = [
        "title",
        "summary",
        "key",
        "kind",
        "type",
        "description",
        "state",
        "status",
        "estimate",
        "points",
        "assignee",
        "sprint",
        "requirements",
        "depends-on",
    ];
    if let Some(h) = headers.iter().find(|h| !known.contains(&h.as_str())) {
        return Err(err(
            format!("{name}:1"),
            format!("unknown column `{h}`; columns are {}", known.join(", ")),
        ));
    }
    let key = col(&["key"]);
    let kind = col(&["kind", "type"]);
    let description = col(&["description"]);
    let status = col(&["state", "status"]);
    let estimate = col(&["estimate", "points"]);
    let assignee = col(&["assignee"]);
    let sprint = col(&["sprint"]);
    let requirements = col(&["requirements"]);
    let depends = col(&["depends-on"]);
    let mut items = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(format!("{name}:{line}"), e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let location = format!("{name}:{line}");
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let field_err = |field: &str, message: String| {
            err(location.clone(), format!("field `{field}`: {message}"))
        };
        let item_kind = match get(kind) {
            None => "story",
            Some(k) => map_kind(&k).ok_or_else(|| {
                field_err("kind", format!("`{k}` is not one of {}", KINDS.join(", ")))
            })?,
        };
        let est = match get(estimate) {
            None => None,
            Some(e) => Some(
                e.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| field_err("estimate", format!("`{e}` is not a number")))?,
            ),
        };
        let title_text = get(Some(title)).ok_or_else(|| field_err("title", "is empty".into()))?;
        items.push(ImportedItem {
            location: location.clone(),
            key: get(key),
            kind: item_kind.to_owned(),
            title: title_text,
            description: get(description).unwrap_or_default(),
            status: get(status),
            estimate: est,
            assignee: get(assignee),
            sprint: get(sprint),
            requirements: get(requirements).map(|r| list(&r)).unwrap_or_default(),
            depends_on: get(depends).map(|r| list(&r)).unwrap_or_default(),
        });
    }
    Ok(items)
}

/// Reads a Jira JSON export: the search API's `{"issues": [...]}` or a bare
/// list of issues. Uses `key`, `fields.summary`, `fields.description`
/// (text or Atlassian document), `fields.issuetype.name`,
/// `fields.status.name`, `fields.assignee`, story points
/// (`customfield_10016` or `customfield_10026`), the sprint
/// (`customfield_10020`), and `Blocks` links as dependencies.
pub fn parse_jira(name: &str, text: &str) -> Result<Vec<ImportedItem>, ImportError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ImportError {
        location: format!("{name}:{}:{}", e.line(), e.column()),
        message: e.to_string(),
    })?;
    let issues = match &value {
        serde_json::Value::Array(list) => list,
        serde_json::Value::Object(map) => match map.get("issues") {
            Some(serde_json::Value::Array(list)) => list,
            _ => {
                return Err(ImportError {
                    location: name.to_owned(),
                    message: "expected a list of issues or an object with an `issues` list".into(),
                });
            }
        },
        _ => {
            return Err(ImportError {
                location: name.to_owned(),
                message: "expected a list of issues or an object with an `issues` list".into(),
            });
        }
    };
    let mut items = Vec::new();
    for (i, issue) in issues.iter().enumerate() {
        let key = issue.get("key").and_then(|k| k.as_str()).map(str::to_owned);
        let location = match &key {
            Some(k) => format!("{name}: issues[{i}] ({k})"),
            None => format!("{name}: issues[{i}]"),
        };
        let field_err = |field: &str, message: &str| ImportError {
            location: location.clone(),
            message: format!("field `{field}`: {message}"),
        };
        let fields = issue
            .get("fields")
            .filter(|f| f.is_object())
            .ok_or_else(|| field_err("fields", "missing"))?;
        let s = |path: &[&str]| {
            let mut v = fields;
            for p in path {
                v = v.get(p)?;
            }
            v.as_str().map(str::to_owned)
        };
        let title = s(&["summary"])
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| field_err("fields.summary", "missing or empty"))?;
        let kind = match s(&["issuetype", "name"]) {
            None => "story",
            Some(k) => map_kind(&k).unwrap_or("task"),
        };
        let description = match fields.get("description") {
            Some(serde_json::Value::String(d)) => d.clone(),
            Some(doc @ serde_json::Value::Object(_)) => adf_text(doc),
            _ => String::new(),
        };
        let assignee = s(&["assignee", "name"])
            .or_else(|| s(&["assignee", "displayName"]))
            .or_else(|| s(&["assignee", "emailAddress"]));
        let estimate = ["customfield_10016", "customfield_10026", "story_points"]
            .iter()
            .find_map(|f| fields.get(f).and_then(|v| v.as_f64()))
            .filter(|v| v.is_finite() && *v >= 0.0);
        let sprint = fields
            .get("customfield_10020")
            .and_then(|v| v.as_array())
            .and_then(|list| list.last())
            .and_then(|sp| sp.get("name").and_then(|n| n.as_str()))
            .map(str::to_owned);
        let depends_on = fields
            .get("issuelinks")
            .and_then(|v| v.as_array())
            .map(|links| {
                links
                    .iter()
                    .filter(|l| {
                        l.get("type")
                            .and_then(|t| t.get("name"))
                            .and_then(|n| n.as_str())
                            == Some("Blocks")
                    })
                    .filter_map(|l| l.get("inwardIssue")?.get("key")?.as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        items.push(ImportedItem {
            location: location.clone(),
            key,
            kind: kind.to_owned(),
            title,
            description,
            status: s(&["status", "name"]),
            estimate,
            assignee,
            sprint,
            requirements: Vec::new(),
            depends_on,
        });
    }
    Ok(items)
}

/// The text of an Atlassian Document Format tree, paragraphs on lines.
fn adf_text(node: &serde_json::Value) -> String {
    fn walk(node: &serde_json::Value, out: &mut String, depth: usize) {
        if depth > 64 {
            return;
        }
        if let Some(t) = node.get("text").and_then(|t| t.as_str()) {
            out.push_str(t);
        }
        if let Some(children) = node.get("content").and_then(|c| c.as_array()) {
            for child in children {
                walk(child, out, depth + 1);
            }
        }
        if node.get("type").and_then(|t| t.as_str()) == Some("paragraph") {
            out.push('\n');
        }
    }
    let mut out = String::new();
    walk(node, &mut out, 0);
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_from_findings_carry_rule_severity_location_and_fix() {
        let sca = FindingFacts {
            id: "F-0123456789ab".into(),
            scanner: "dso-sca".into(),
            activity: "software-composition-analysis".into(),
            rule: "RUSTSEC-2024-0001".into(),
            severity: "critical".into(),
            title: "smallvec 1.0.0 is affected\nby a buffer overflow".into(),
            file: Some("Cargo.lock".into()),
            line: Some(12),
            package: Some("smallvec".into()),
            version: Some("1.0.0".into()),
            aliases: vec!["CVE-2024-1".into(), "GHSA-xxxx".into()],
            fixed: Some("1.6.1".into()),
            cwes: Vec::new(),
        };
        let (kind, title, description) = item_from_finding(&sca);
        assert_eq!(kind, "security");
        assert_eq!(
            title,
            "[critical] RUSTSEC-2024-0001: smallvec 1.0.0 is affected by a buffer overflow"
        );
        for want in [
            "Finding F-0123456789ab (dso-sca, severity critical).",
            "Location: Cargo.lock:12",
            "Package: smallvec 1.0.0",
            "Advisory: RUSTSEC-2024-0001 (aliases: CVE-2024-1, GHSA-xxxx)",
            "Fixed in: 1.6.1 (upgrade smallvec to 1.6.1 or later)",
        ] {
            assert!(
                description.lines().any(|l| l == want),
                "{want}\n{description}"
            );
        }
        let lint = FindingFacts {
            id: "F-1".into(),
            scanner: "clippy".into(),
            activity: "static-analysis".into(),
            rule: "clippy::unwrap_used".into(),
            severity: "low".into(),
            title: "x".repeat(300),
            file: Some("src/main.rs".into()),
            ..FindingFacts::default()
        };
        let (kind, title, description) = item_from_finding(&lint);
        assert_eq!(kind, "defect");
        assert_eq!(title.chars().count(), 200);
        assert!(description.contains("Location: src/main.rs\n"));
        assert!(!description.contains("Fixed in"));
        let weakness = FindingFacts {
            cwes: vec!["CWE-89".into()],
            ..lint
        };
        assert_eq!(item_from_finding(&weakness).0, "security");
    }

    #[test]
    fn default_flow_moves_one_step_either_way() {
        let flow = Flow::default_flow();
        assert_eq!(flow.initial(), "new");
        assert_eq!(flow.closed(), "done");
        assert!(flow.can_move("new", "ready"));
        assert!(flow.can_move("ready", "new"));
        assert!(!flow.can_move("new", "done"));
        assert_eq!(flow.next_states("in-progress"), ["ready", "review"]);
        assert_eq!(flow.map_status("In Progress"), Some("in-progress"));
        assert_eq!(flow.map_status("To Do"), Some("new"));
        assert_eq!(flow.map_status("Closed"), Some("done"));
        assert_eq!(flow.map_status("Blocked"), None);
    }

    #[test]
    fn bad_flows_are_refused() {
        assert!(Flow::linear(&["only"]).is_err());
        assert!(Flow::linear(&["a", "a"]).unwrap_err().0.contains("twice"));
        assert!(Flow::linear(&["A b", "c"]).is_err());
        let err =
            Flow::new(vec!["a".into(), "b".into()], vec![("a".into(), "z".into())]).unwrap_err();
        assert!(err.0.contains("`z` is not a state"), "{err}");
    }

    #[test]
    fn keys_and_commit_messages() {
        assert!(valid_key("BL-1") && valid_key("PROJ2-77"));
        assert!(!valid_key("bl-1") && !valid_key("BL-") && !valid_key("BL") && !valid_key("-1"));
        let known = vec!["BL-1".to_owned(), "BL-12".to_owned()];
        assert_eq!(
            keys_in_message("Fix login (BL-12), see BL-1 and BL-12; not BL-123", &known),
            ["BL-12", "BL-1"]
        );
    }

    #[test]
    fn csv_import_reads_columns_and_names_bad_lines() {
        let text = "Title,Type,Status,Points,Requirements,Depends_On\n\
                    Log in,Story,In Progress,3,REQ-1;REQ-2,\n\
                    \"Fix crash, again\",Bug,,0.5,,BL-1\n";
        let items = parse_csv("items.csv", text).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].kind, "story");
        assert_eq!(items[0].requirements, ["REQ-1", "REQ-2"]);
        assert_eq!(items[0].status.as_deref(), Some("In Progress"));
        assert_eq!(items[1].title, "Fix crash, again");
        assert_eq!(items[1].kind, "defect");
        assert_eq!(items[1].estimate, Some(0.5));
        assert_eq!(items[1].depends_on, ["BL-1"]);
        assert_eq!(items[1].location, "items.csv:3");

        let err = parse_csv("items.csv", "title,points\nA,1\nB,lots\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "items.csv:3: field `estimate`: `lots` is not a number"
        );
        let err = parse_csv("items.csv", "title,colour\nA,red\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("items.csv:1: unknown column `colour`"),
            "{err}"
        );
        let err = parse_csv("items.csv", "title,kind\nA,epicish\n").unwrap_err();
        assert!(
            err.to_string().starts_with("items.csv:2: field `kind`"),
            "{err}"
        );
        assert!(parse_csv("x.csv", "title\n\u{0}\u{ffff}\n").is_ok());
    }

    #[test]
    fn jira_import_reads_the_search_export() {
        let text = r#"{"issues": [
          {"key": "PROJ-1", "fields": {"summary": "Log in", "issuetype": {"name": "Story"},
            "status": {"name": "To Do"}, "assignee": {"displayName": "Alice"},
            "customfield_10016": 5, "customfield_10020": [{"name": "Sprint 3"}],
            "description": {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "As a user"}]}]}}},
          {"key": "PROJ-2", "fields": {"summary": "Crash", "issuetype": {"name": "Bug"},
            "status": {"name": "Done"}, "assignee": null, "description": "boom",
            "issuelinks": [{"type": {"name": "Blocks"}, "inwardIssue": {"key": "PROJ-1"}}]}}
        ]}"#;
        let items = parse_jira("jira.json", text).unwrap();
        assert_eq!(items[0].key.as_deref(), Some("PROJ-1"));
        assert_eq!(items[0].kind, "story");
        assert_eq!(items[0].estimate, Some(5.0));
        assert_eq!(items[0].sprint.as_deref(), Some("Sprint 3"));
        assert_eq!(items[0].assignee.as_deref(), Some("Alice"));
        assert_eq!(items[0].description, "As a user");
        assert_eq!(items[1].kind, "defect");
        assert_eq!(items[1].depends_on, ["PROJ-1"]);

        let err =
            parse_jira("jira.json", r#"{"issues": [{"key": "P-1", "fields": {}}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "jira.json: issues[0] (P-1): field `fields.summary`: missing or empty"
        );
        let err = parse_jira("jira.json", "{\n  \"issues\": [,]}").unwrap_err();
        assert!(err.location.starts_with("jira.json:2:"), "{err}");
    }
}
