//! `dso model`: the PIM as data, with its counts.

use std::collections::BTreeMap;

use crate::Dso;

fn count(kind: &str, extra: &[&str]) -> usize {
    let mut args = vec!["model", kind];
    args.extend_from_slice(extra);
    Dso::new()
        .json(&args)
        .as_array()
        .expect("a JSON list")
        .len()
}

#[test]
fn model_counts_match_the_pim() {
    assert_eq!(count("domains", &[]), 7);
    assert_eq!(count("performers", &[]), 44);
    assert_eq!(count("exchanges", &[]), 14);
    assert_eq!(count("roles", &[]), 41);
    assert_eq!(count("roles", &["--critical"]), 9);
    assert_eq!(count("questions", &[]), 123);
    assert_eq!(count("requirements", &[]), 222);
    assert_eq!(count("capabilities", &[]), 10);
}

#[test]
fn requirements_by_maturity_level() {
    let levels: Vec<usize> = (1..=4)
        .map(|l| count("requirements", &["--level", &l.to_string()]))
        .collect();
    assert_eq!(levels, [69, 90, 59, 4]);
}

#[test]
fn questions_per_critical_role() {
    let questions = Dso::new().json(&["model", "questions"]);
    let mut per_role: BTreeMap<String, usize> = BTreeMap::new();
    for q in questions.as_array().unwrap() {
        assert!(
            q["id"].is_string() && q["text"].is_string() && q["number"].is_u64(),
            "{q}"
        );
        *per_role
            .entry(q["role"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_role.len(), 9, "{per_role:?}");
    assert_eq!(count("questions", &["--role", "architect"]), 22);
    assert_eq!(count("questions", &["--role", "Security Engineer"]), 17);
    assert_eq!(
        count("questions", &["--role", "site-reliability-engineer"]),
        20
    );
}

#[test]
fn performers_filter_by_domain() {
    let assurance = Dso::new().json(&["model", "performers", "--domain", "assurance"]);
    let names: Vec<&str> = assurance
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Cyber Security Engineer") && names.contains(&"Cyber Security Tools"),
        "{names:?}"
    );
    assert!(!names.contains(&"Architect"), "{names:?}");
}

#[test]
fn unknown_filters_are_clear_errors() {
    let err = Dso::new().fails(&["model", "questions", "--role", "architekt"]);
    assert!(
        err.contains("unknown role `architekt`") && err.contains("did you mean `architect`"),
        "{err}"
    );
    let err = Dso::new().fails(&["model", "requirements", "--level", "7"]);
    assert!(err.contains("maturity level 7 does not exist"), "{err}");
    let err = Dso::new().fails(&["model", "roles", "--level", "2"]);
    assert!(
        err.contains("--level filters requirements, not roles"),
        "{err}"
    );
}

#[test]
fn table_output_has_a_header_and_a_row_count() {
    let out = Dso::new().ok(&["model", "exchanges"]);
    assert!(
        out.contains("SENDER") && out.contains("OE27") && out.contains("14 rows"),
        "{out}"
    );
}
