//! The single integration test binary of `dso-devtest`.
//!
//! Everything is tested through the public API:
//! - `corpus`: every file of `tests/corpus/{invalid,valid}` against its
//!   `.expected` snapshot (`UPDATE_EXPECT=1` rewrites the snapshots);
//! - `schedule`: the scheduler state machine;
//! - `small_languages`: globs, `if` evaluation, durations;
//! - `reports`: JUnit, LCOV and Cobertura parsers against real tool output
//!   in `tests/data/reports` and malformed reports;
//! - `robustness`: hostile inputs never panic;
//! - `codes`: invariants of diagnostic codes;
//! - `docs`: `docs/pipeline.md` agrees with the code.

mod codes;
mod corpus;
mod docs;
mod reports;
mod robustness;
mod schedule;
mod small_languages;

use dso_devtest::{Diagnostic, InputKind, Pipeline, StepInput, ValidateOptions};

/// The activity slugs of the process model, as the server passes them.
pub const ACTIVITIES: &[&str] = &[
    "build",
    "unit-test",
    "sast-l1",
    "sast-l2",
    "sca",
    "secrets",
    "sbom",
    "policy-gate",
    "validate",
    "deliver-staging",
    "dynamic-analysis",
    "pen-test",
    "release",
    "deploy",
    "monitor",
];

/// The built-in steps the tests assume exist.
pub const USES: &[&str] = &["dso/sca", "dso/sast", "dso/sbom", "dso/secrets", "dso/gate"];

/// The inputs the tests assume `dso/sast` accepts (the other steps accept any `with`).
pub const INPUTS: &[StepInput<'static>] = &[
    StepInput {
        step: "dso/sast",
        name: "path",
        kind: InputKind::Path,
    },
    StepInput {
        step: "dso/sast",
        name: "rules",
        kind: InputKind::Paths,
    },
    StepInput {
        step: "dso/sast",
        name: "builtin",
        kind: InputKind::OneOf(&["true", "false"]),
    },
];

/// The file name every test labels diagnostics with.
pub const FILE_NAME: &str = ".dso/pipeline.yaml";

/// Validates `source` with the test options.
pub fn validate(source: &str) -> Result<Pipeline, Vec<Diagnostic>> {
    let options = ValidateOptions {
        activities: ACTIVITIES,
        uses: USES,
        inputs: INPUTS,
    };
    dso_devtest::validate(FILE_NAME, source, &options)
}

/// Validates `source` and panics with the diagnostics if it is invalid.
pub fn valid(source: &str) -> Pipeline {
    match validate(source) {
        Ok(pipeline) => pipeline,
        Err(diagnostics) => panic!(
            "expected a valid pipeline, got:\n{}",
            render_diagnostics(&diagnostics)
        ),
    }
}

/// Renders diagnostics the way the CLI prints them, one after the other.
pub fn render_diagnostics(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&diagnostic.to_string());
        out.push('\n');
    }
    out
}
