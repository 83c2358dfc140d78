//! Snapshot tests over `tests/corpus`.
//!
//! `invalid/*.yaml` must fail validation; `*.expected` holds every
//! diagnostic, in order. `valid/*.yaml` must pass; `*.expected` holds the
//! expanded job list. Run with `UPDATE_EXPECT=1` to rewrite the snapshots
//! after an intended change, then review the diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dso_devtest::{Pipeline, Step};

use crate::{render_diagnostics, validate};

#[test]
fn invalid_corpus() {
    let files = corpus_files("invalid");
    assert!(
        files.len() >= 30,
        "the invalid corpus has only {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for file in files {
        let source = read(&file);
        let actual = match validate(&source) {
            Ok(pipeline) => format!("UNEXPECTEDLY VALID\n{}", render_pipeline(&pipeline)),
            Err(diagnostics) => render_diagnostics(&diagnostics),
        };
        if let Some(failure) = check(&file, &actual) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_corpus() {
    let files = corpus_files("valid");
    assert!(
        files.len() >= 3,
        "the valid corpus has only {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for file in files {
        let source = read(&file);
        let actual = match validate(&source) {
            Ok(pipeline) => render_pipeline(&pipeline),
            Err(diagnostics) => {
                format!("UNEXPECTEDLY INVALID\n{}", render_diagnostics(&diagnostics))
            }
        };
        if let Some(failure) = check(&file, &actual) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The whole invalid corpus together uses every diagnostic code, so that each
/// code has at least one example of its exact output.
#[test]
fn invalid_corpus_covers_every_code() {
    let mut all = String::new();
    for file in corpus_files("invalid") {
        all.push_str(&std::fs::read_to_string(file.with_extension("expected")).unwrap_or_default());
    }
    let missing: Vec<&str> = dso_devtest::Code::ALL
        .iter()
        .map(|code| code.as_str())
        .filter(|code| !all.contains(&format!("error[{code}]")))
        .collect();
    assert!(
        missing.is_empty(),
        "no corpus file shows these codes: {missing:?}"
    );
}

/// Compares `actual` with the `.expected` file next to `file`; returns a
/// failure message with a diff, or rewrites the file under `UPDATE_EXPECT=1`.
fn check(file: &Path, actual: &str) -> Option<String> {
    let expected_path = file.with_extension("expected");
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    if expected == actual {
        return None;
    }
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&expected_path, actual).expect("the corpus directory is writable");
        return None;
    }
    Some(format!(
        "{} does not match (rerun with UPDATE_EXPECT=1 to accept):\n{}",
        expected_path.display(),
        diff(&expected, actual)
    ))
}

fn corpus_files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus directory exists")
        .map(|entry| entry.expect("the corpus directory is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

fn read(file: &Path) -> String {
    std::fs::read_to_string(file).expect("corpus files are UTF-8")
}

/// Renders the expanded jobs with every field that differs from its default.
pub fn render_pipeline(pipeline: &Pipeline) -> String {
    let mut out = String::new();
    if !pipeline.stages.is_empty() {
        writeln!(out, "stages: {}", pipeline.stages.join(", ")).unwrap();
    }
    for job in &pipeline.jobs {
        writeln!(out, "{} {} (line {})", job.id, job.name, job.line).unwrap();
        let needs: Vec<&str> = job
            .needs
            .iter()
            .map(|need| pipeline.jobs[need.0].name.as_str())
            .collect();
        writeln!(out, "  activity: {}", job.activity).unwrap();
        if let Some(stage) = &job.stage {
            writeln!(out, "  stage: {stage}").unwrap();
        }
        if !needs.is_empty() {
            writeln!(out, "  needs: {}", needs.join(" | ")).unwrap();
        }
        match &job.step {
            Step::Run { script } => writeln!(out, "  run: {script:?}").unwrap(),
            Step::Uses { name, with } => writeln!(out, "  uses: {name} with {with:?}").unwrap(),
        }
        writeln!(out, "  timeout: {:?}", job.timeout).unwrap();
        if !job.matrix.is_empty() {
            writeln!(out, "  matrix: {:?}", job.matrix).unwrap();
        }
        if !job.artifacts.is_empty() {
            writeln!(out, "  artifacts: {:?}", job.artifacts).unwrap();
        }
        for cache in &job.cache {
            writeln!(out, "  cache: {} -> ${}", cache.name, cache.env).unwrap();
        }
        for report in &job.reports {
            writeln!(out, "  report: {} {}", report.kind.as_str(), report.path).unwrap();
        }
        if job.retry != 0 {
            writeln!(out, "  retry: {}", job.retry).unwrap();
        }
        if job.allow_failure {
            writeln!(out, "  allow_failure: true").unwrap();
        }
        if let Some(condition) = &job.condition {
            writeln!(
                out,
                "  if: branch {:?}, tag {:?}, paths {:?}",
                condition.branch, condition.tag, condition.paths
            )
            .unwrap();
        }
        if !job.env.is_empty() {
            writeln!(out, "  env: {:?}", job.env).unwrap();
        }
        if !job.secrets.is_empty() {
            writeln!(out, "  secrets: {:?}", job.secrets).unwrap();
        }
        writeln!(out, "  network: {:?}", job.network).unwrap();
    }
    out
}

/// A minimal line diff (longest common subsequence), `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            writeln!(out, "  {}", a[i]).unwrap();
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            writeln!(out, "+ {}", b[j]).unwrap();
            j += 1;
        } else {
            writeln!(out, "- {}", a[i]).unwrap();
            i += 1;
        }
    }
    out
}
