//! Traceability: requirement → backlog items → commits → test cases, and
//! the classification of each requirement.
//!
//! A test case verifies a requirement when a mapping names it, or when its
//! name (`classname.name`) mentions the requirement id as a word (`REQ-1`,
//! or `REQ_1` where identifiers cannot hold a dash). A requirement is
//!
//! - `verified`: a linked test passed and none failed;
//! - `failing`: a linked test failed;
//! - `untested`: implemented (a linked item has a commit, or is in the
//!   flow's last state) but no linked test ran;
//! - `not-implemented`: none of the above.

use serde::Serialize;

/// The outcome of one test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// A test case result, e.g. from JUnit XML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    /// `classname.name`, or `name` without a class.
    pub case: String,
    pub outcome: Outcome,
}

/// A requirement's classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Verified,
    Failing,
    Untested,
    NotImplemented,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Failing => "failing",
            Status::Untested => "untested",
            Status::NotImplemented => "not-implemented",
        }
    }
}

/// A backlog item as the trace sees it.
#[derive(Debug, Clone)]
pub struct TraceItem {
    pub key: String,
    pub state: String,
    pub requirements: Vec<String>,
}

/// Everything the classification looks at.
#[derive(Debug, Clone, Default)]
pub struct TraceInput {
    pub requirements: Vec<String>,
    pub items: Vec<TraceItem>,
    /// (item key, commit sha)
    pub commits: Vec<(String, String)>,
    /// (requirement id, test case) from mapping files.
    pub mapping: Vec<(String, String)>,
    pub results: Vec<TestResult>,
    /// The flow's last state: an item there counts as implemented.
    pub closed_state: String,
}

/// One requirement's chain and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementTrace {
    pub requirement: String,
    pub status: Status,
    pub items: Vec<String>,
    pub commits: Vec<String>,
    pub tests: Vec<TestResult>,
}

/// True when `case` mentions `id` as a whole word (dashes or underscores).
pub fn mentions(case: &str, id: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '.'], "_");
    let (case, id) = (norm(case), norm(id));
    case.match_indices(&id).any(|(at, _)| {
        let before = case[..at].chars().next_back();
        let after = case[at + id.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        // A following underscore is a boundary only if no digit follows it
        // (REQ_1_login mentions REQ_1; REQ_12 does not).
        boundary(before)
            && (boundary(after) && !case[at + id.len()..].starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// Classifies every requirement in `input.requirements`, in order.
pub fn classify(input: &TraceInput) -> Vec<RequirementTrace> {
    input
        .requirements
        .iter()
        .map(|req| {
            let items: Vec<&TraceItem> = input
                .items
                .iter()
                .filter(|i| i.requirements.contains(req))
                .collect();
            let mut commits: Vec<String> = input
                .commits
                .iter()
                .filter(|(k, _)| items.iter().any(|i| i.key == *k))
                .map(|(_, sha)| sha.clone())
                .collect();
            commits.sort();
            commits.dedup();
            let mapped: Vec<&str> = input
                .mapping
                .iter()
                .filter(|(r, _)| r == req)
                .map(|(_, c)| c.as_str())
                .collect();
            let tests: Vec<TestResult> = input
                .results
                .iter()
                .filter(|t| {
                    mapped.iter().any(|m| {
                        *m == t.case || t.case.rsplit_once('.').is_some_and(|(_, n)| n == *m)
                    }) || mentions(&t.case, req)
                })
                .cloned()
                .collect();
            let implemented =
                !commits.is_empty() || items.iter().any(|i| i.state == input.closed_state);
            let status = if tests.iter().any(|t| t.outcome == Outcome::Failed) {
                Status::Failing
            } else if tests.iter().any(|t| t.outcome == Outcome::Passed) {
                Status::Verified
            } else if implemented {
                Status::Untested
            } else {
                Status::NotImplemented
            };
            RequirementTrace {
                requirement: req.clone(),
                status,
                items: items.iter().map(|i| i.key.clone()).collect(),
                commits,
                tests,
            }
        })
        .collect()
}

/// A mapping file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct MappingError {
    pub location: String,
    pub message: String,
}

/// Reads a mapping file: lines `REQ-1: test case name` (several cases
/// separated by `,`); `#` starts a comment.
pub fn parse_mapping(name: &str, text: &str) -> Result<Vec<(String, String)>, MappingError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (req, cases) = line.split_once(':').ok_or_else(|| MappingError {
            location: format!("{name}:{}", n + 1),
            message: "expected `REQUIREMENT: test case[, test case...]`".into(),
        })?;
        let req = req.trim();
        if !crate::requirement::valid_id(req) {
            return Err(MappingError {
                location: format!("{name}:{}", n + 1),
                message: format!("`{req}` is not a requirement id"),
            });
        }
        for case in cases.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            out.push((req.to_owned(), case.to_owned()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_needs_whole_words() {
        assert!(mentions("auth.test_REQ_1_login", "REQ-1"));
        assert!(mentions("REQ-1 logs in", "REQ-1"));
        assert!(mentions("tests::req_1", "REQ-1"));
        assert!(!mentions("auth.test_REQ_12", "REQ-1"));
        assert!(!mentions("auth.test_XREQ_1", "REQ-1"));
        assert!(!mentions("unrelated", "REQ-1"));
    }

    #[test]
    fn classification() {
        let item = |key: &str, state: &str, reqs: &[&str]| TraceItem {
            key: key.into(),
            state: state.into(),
            requirements: reqs.iter().map(|r| r.to_string()).collect(),
        };
        let input = TraceInput {
            requirements: ["REQ-1", "REQ-2", "REQ-3", "REQ-4", "REQ-5", "REQ-6"]
                .map(String::from)
                .to_vec(),
            items: vec![
                item("BL-1", "review", &["REQ-1"]),
                item("BL-2", "review", &["REQ-2"]),
                item("BL-3", "done", &["REQ-3"]),
                item("BL-4", "new", &["REQ-4"]),
                item("BL-6", "review", &["REQ-6"]),
            ],
            commits: vec![
                ("BL-1".into(), "a1".into()),
                ("BL-2".into(), "b2".into()),
                ("BL-6".into(), "c3".into()),
            ],
            mapping: vec![("REQ-2".into(), "lockout".into())],
            results: vec![
                TestResult {
                    case: "auth.test_REQ_1_login".into(),
                    outcome: Outcome::Passed,
                },
                TestResult {
                    case: "auth.lockout".into(),
                    outcome: Outcome::Failed,
                },
                TestResult {
                    case: "auth.test_REQ_6".into(),
                    outcome: Outcome::Skipped,
                },
            ],
            closed_state: "done".into(),
        };
        let statuses: Vec<Status> = classify(&input).iter().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Verified,
                Status::Failing,
                Status::Untested,
                Status::NotImplemented,
                Status::NotImplemented,
                Status::Untested
            ]
        );
    }

    #[test]
    fn mapping_files() {
        let m = parse_mapping("map.txt", "# map\nREQ-1: a.b, c\n\nREQ-2:d # note\n").unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[2], ("REQ-2".to_owned(), "d".to_owned()));
        let err = parse_mapping("map.txt", "REQ-1 a.b\n").unwrap_err();
        assert_eq!(err.location, "map.txt:1");
    }
}
