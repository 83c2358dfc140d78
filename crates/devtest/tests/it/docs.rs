//! `docs/pipeline.md` stays true: its examples validate, and it lists every
//! diagnostic code, job field, report kind and activity.

use std::path::PathBuf;

use dso_devtest::{Code, ReportKind};

use crate::{ACTIVITIES, render_diagnostics, validate};

fn doc() -> String {
    // Canonicalize first: the crate directory may be reached through a symlink.
    let manifest_dir = std::fs::canonicalize(env!("CARGO_MANIFEST_DIR")).unwrap();
    let path: PathBuf = manifest_dir.join("../../docs/pipeline.md");
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Returns the fenced `yaml` blocks of the document, with the indentation
/// of their fence (blocks inside list items are indented) removed.
fn yaml_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    // The block being read and the indentation of its fence.
    let mut current: Option<(String, usize)> = None;
    for line in doc.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed == "```yaml" => current = Some((String::new(), indent)),
            Some((block, _)) if trimmed == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some((block, fence_indent)) => {
                block.push_str(line.get(*fence_indent..).unwrap_or(""));
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

#[test]
fn every_complete_example_is_valid() {
    let doc = doc();
    let complete: Vec<String> = yaml_blocks(&doc)
        .into_iter()
        .filter(|block| block.contains("jobs:"))
        .collect();
    assert!(
        complete.len() >= 2,
        "expected the main example and the anchors example"
    );
    for block in complete {
        if let Err(diagnostics) = validate(&block) {
            panic!(
                "example does not validate:\n{block}\n{}",
                render_diagnostics(&diagnostics)
            );
        }
    }
    let main_example = valid_first_example(&doc);
    assert_eq!(
        main_example,
        [
            "build",
            "test (rust=stable, os=linux)",
            "test (rust=beta, os=linux)",
            "sca",
            "deliver"
        ]
    );
}

fn valid_first_example(doc: &str) -> Vec<String> {
    let first = yaml_blocks(doc).into_iter().next().unwrap();
    crate::valid(&first)
        .jobs
        .into_iter()
        .map(|job| job.name)
        .collect()
}

#[test]
fn lists_every_code_field_kind_and_activity() {
    let doc = doc();
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", code.as_str())),
            "docs/pipeline.md misses code {code}"
        );
    }
    for kind in ReportKind::ALL {
        assert!(
            doc.contains(&format!("`{}`", kind.as_str())),
            "docs/pipeline.md misses report kind {}",
            kind.as_str()
        );
    }
    for activity in ACTIVITIES {
        assert!(
            doc.contains(&format!("`{activity}`")),
            "docs/pipeline.md misses activity {activity}"
        );
    }
    for field in [
        "stage",
        "needs",
        "activity",
        "run",
        "uses",
        "with",
        "artifacts",
        "cache",
        "timeout",
        "reports",
        "retry",
        "allow_failure",
        "if",
        "matrix",
        "env",
        "secrets",
        "network",
    ] {
        assert!(
            doc.contains(&format!("| `{field}` |")),
            "docs/pipeline.md has no table row for {field}"
        );
    }
}
