//! Invariants of diagnostic codes and their rendering.

use std::collections::HashSet;

use dso_devtest::{Code, Diagnostic};

#[test]
fn codes_are_unique_kebab_case_and_described() {
    let mut names = HashSet::new();
    for code in Code::ALL {
        let name = code.as_str();
        assert!(names.insert(name), "duplicate code name {name}");
        assert!(
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && !name.starts_with('-')
                && !name.ends_with('-'),
            "{name} is not kebab-case"
        );
        let description = code.description();
        assert!(
            !description.is_empty() && !description.ends_with('.'),
            "{name}: {description:?}"
        );
        assert_eq!(code.to_string(), name);
    }
}

#[test]
fn display_matches_compiler_style() {
    let mut diagnostic = Diagnostic {
        file: ".dso/pipeline.yaml".to_owned(),
        line: 12,
        column: 5,
        code: Code::UnknownField,
        message: "unknown field `need` in job `test`".to_owned(),
        hint: Some("did you mean `needs`?".to_owned()),
    };
    assert_eq!(
        diagnostic.to_string(),
        ".dso/pipeline.yaml:12:5: error[unknown-field]: unknown field `need` in job `test`\n  hint: did you mean `needs`?"
    );
    diagnostic.hint = None;
    assert_eq!(
        diagnostic.to_string(),
        ".dso/pipeline.yaml:12:5: error[unknown-field]: unknown field `need` in job `test`"
    );
}
