//! Integration tests of the embedded PIM: it parses, every cross reference
//! resolves, and the element counts match the paper.

use std::collections::{BTreeMap, HashSet};

use dso_model::{ACTIVITY_SLUGS, Pim, parse, pim};

/// The embedded model, parsed directly so a failure shows the parse error.
fn model() -> Pim {
    match parse(include_str!("../../data/pim.yaml")) {
        Ok(pim) => pim,
        Err(err) => panic!("data/pim.yaml does not parse: {err}"),
    }
}

#[test]
fn embedded_model_parses() {
    let parsed = model();
    assert_eq!(parsed.roles.len(), pim().roles.len());
}

#[test]
fn embedded_model_validates() {
    let problems = pim().validate();
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
}

#[test]
fn counts_match_the_paper() {
    let pim = pim();
    assert_eq!(pim.domains.len(), 7, "domains");
    assert_eq!(pim.performers.len(), 44, "performers (Table 1)");
    assert_eq!(pim.exchanges.len(), 14, "exchanges (Table 2)");
    assert_eq!(pim.roles.len(), 41, "roles (Table 3)");
    assert_eq!(pim.critical_roles().count(), 9, "critical roles");
    assert_eq!(pim.questions.len(), 123, "questions");
    assert_eq!(pim.capabilities.len(), 10, "capabilities");
    assert_eq!(pim.requirements.len(), 222, "requirements");
}

#[test]
fn performer_numbers_are_table_rows() {
    let numbers: Vec<u32> = pim().performers.iter().map(|p| p.number).collect();
    assert_eq!(numbers, (1..=44).collect::<Vec<u32>>());
    let roles: Vec<u32> = pim().roles.iter().map(|r| r.number).collect();
    assert_eq!(roles, (1..=41).collect::<Vec<u32>>());
}

#[test]
fn questions_per_critical_role() {
    let pim = pim();
    let expected: [(&str, u32); 9] = [
        ("Architect", 22),
        ("Business or Mission Domain Expert", 14),
        ("DevSecOps Champion", 7),
        ("Release Engineer", 8),
        ("Security Engineer", 17),
        ("Site Reliability Engineer", 20),
        ("Software Developer", 22),
        ("User", 6),
        ("User Experience", 7),
    ];
    for (name, count) in expected {
        let role = pim
            .role(name)
            .unwrap_or_else(|| panic!("critical role {name} is not a role"));
        assert!(role.critical, "{name} is critical");
        let numbers: Vec<u32> = pim.questions_of(&role.id).map(|q| q.number).collect();
        assert_eq!(numbers.len(), count as usize, "questions of {name}");
        assert_eq!(
            numbers,
            (1..=count).collect::<Vec<u32>>(),
            "numbering of {name}"
        );
    }
    let critical: HashSet<&str> = pim.critical_roles().map(|r| r.name.as_str()).collect();
    let named: HashSet<&str> = expected.iter().map(|(name, _)| *name).collect();
    assert_eq!(critical, named);
}

#[test]
fn requirements_per_maturity_level() {
    let mut levels = BTreeMap::new();
    for requirement in &pim().requirements {
        *levels.entry(requirement.level).or_insert(0) += 1;
    }
    let levels: Vec<(u8, u32)> = levels.into_iter().collect();
    assert_eq!(levels, [(1, 69), (2, 90), (3, 59), (4, 4)]);
}

#[test]
fn capability_levels() {
    for capability in &pim().capabilities {
        let expected = if capability.id == "verification-and-validation" {
            3
        } else {
            4
        };
        assert_eq!(capability.levels.len(), expected, "{}", capability.id);
    }
}

#[test]
fn every_slug_names_one_activity() {
    let pim = pim();
    let mut slugs = pim.activity_slugs();
    slugs.sort_unstable();
    let mut expected = ACTIVITY_SLUGS.to_vec();
    expected.sort_unstable();
    assert_eq!(slugs, expected);
    let named = |slug: &str| pim.activity_by_slug(slug).map(|a| a.name.as_str());
    assert_eq!(named("build"), Some("Build and Package Code"));
    assert_eq!(named("unit-test"), Some("Perform Unit Testing"));
    assert_eq!(
        named("sast-l1"),
        Some("Perform Static Source Code Analysis Level 1")
    );
    assert_eq!(
        named("deploy"),
        Some("Deploy using Selected Deployment Strategy")
    );
    assert_eq!(named("monitor"), Some("Monitor Product"));
}

#[test]
fn ids_are_unique_within_each_kind() {
    let pim = pim();
    fn unique<'a>(kind: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        for id in ids {
            assert!(seen.insert(id), "{kind} `{id}` is duplicated");
        }
    }
    unique("domain", pim.domains.iter().map(|x| x.id.as_str()));
    unique("performer", pim.performers.iter().map(|x| x.id.as_str()));
    unique("ie", pim.information_elements.iter().map(|x| x.id.as_str()));
    unique("exchange", pim.exchanges.iter().map(|x| x.id.as_str()));
    unique("process", pim.processes.iter().map(|x| x.id.as_str()));
    unique("role", pim.roles.iter().map(|x| x.id.as_str()));
    unique("question", pim.questions.iter().map(|x| x.id.as_str()));
    unique("capability", pim.capabilities.iter().map(|x| x.id.as_str()));
    unique(
        "requirement",
        pim.requirements.iter().map(|x| x.id.as_str()),
    );
    unique("activity", pim.activities.iter().map(|x| x.id.as_str()));
    for process in &pim.processes {
        unique(&process.id, process.steps.iter().map(|x| x.id.as_str()));
    }
}

#[test]
fn lookups_accept_ids_and_names() {
    let pim = pim();
    let id = |key| pim.role(key).map(|r| r.id.as_str());
    assert_eq!(id("security-engineer"), Some("security-engineer"));
    assert_eq!(id("Security Engineer"), Some("security-engineer"));
    assert_eq!(id("SECURITY_ENGINEER"), Some("security-engineer"));
    assert_eq!(id("UI/UX Designer"), Some("user-experience"));
    assert_eq!(id("no such role"), None);
    let performer = pim
        .performer("Cyber Security Engineer")
        .map(|p| p.id.as_str());
    assert_eq!(performer, Some("cyber-security-engineer"));
    let domain = |key| pim.domain(key).map(|d| d.id.as_str());
    assert_eq!(domain("development_and_test"), Some("development-and-test"));
    assert_eq!(domain("Assurance Domain"), Some("assurance"));
    assert_eq!(domain("assurance-domain"), Some("assurance"));
}

#[test]
fn questions_default_their_name_to_the_text() {
    let question = &pim().questions[0];
    assert_eq!(question.id, "architect.q1");
    assert_eq!(question.name, question.text);
}

#[test]
fn patch_scenario_has_its_subprocesses() {
    let pim = pim();
    for id in [
        "P18.2", "P18.3", "P18.4", "P18.5", "P18.6", "P18.7", "P18.8",
    ] {
        let process = pim.process(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(process.parent.as_deref(), Some("P18"));
        assert!(!process.steps.is_empty(), "{id} has steps");
    }
    let deploy = pim
        .process("P18.3")
        .and_then(|p| p.steps.iter().find(|s| s.id == "P18.3.4"));
    assert_eq!(deploy.map(|s| s.kind.as_str()), Some("decision"));
}

/// A small model with one reference of each checked kind left dangling.
const BROKEN: &str = r#"
domains:
  - { id: design, name: Design Domain, performer: design-domain }
performers:
  - id: design-domain
    number: 1
    name: Design Domain
    kind: domain
    domain: design
    attributes:
      - { name: architects, performer: architekt }
information_elements:
  - { id: IE3, name: Code }
exchanges:
  - { id: OE1, name: Code, item: IE99, sender: design-domain, receiver: nobody }
processes:
  - id: P9
    name: Broken Flow
    parent: P404
    steps:
      - { id: P9.start, name: Start, kind: start, next: [P9.nowhere] }
roles:
  - { id: architect, number: 1, name: Architect, category: Engineering, critical: true, responsibilities: [Design] }
questions:
  - { id: ghost.q1, role: ghost, number: 1, text: "Who?" }
capabilities: []
requirements:
  - { id: Gov_1.1, parent: Gov_1, level: 2, area: governance, name: Orphan }
activities:
  - { id: P9-1, process: P77, name: Lost }
"#;

#[test]
fn validate_reports_dangling_references_by_id() {
    let broken = match parse(BROKEN) {
        Ok(pim) => pim,
        Err(err) => panic!("the broken fixture must still parse: {err}"),
    };
    let problems = broken.validate();
    let text = problems.join("\n");
    for dangling in [
        "`architekt`",
        "`IE99`",
        "`nobody`",
        "`P404`",
        "`P9.nowhere`",
        "`ghost`",
        "`Gov_1`",
        "`P77`",
    ] {
        assert!(
            text.contains(dangling),
            "{dangling} not reported in:\n{text}"
        );
    }
}

#[test]
fn parse_rejects_unknown_fields() {
    let yaml = BROKEN.replace("name: Orphan", "name: Orphan, colour: red");
    assert!(parse(&yaml).is_err());
}
