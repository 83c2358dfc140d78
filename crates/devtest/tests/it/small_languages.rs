//! Globs, `if` evaluation and durations.

use std::time::Duration;

use dso_devtest::{JobId, RefContext, duration, glob};

use crate::valid;

#[test]
fn globs() {
    #[track_caller]
    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(
            glob::matches(pattern, text),
            expected,
            "{pattern:?} on {text:?}"
        );
    }
    check("main", "main", true);
    check("main", "mainline", false);
    check("release/*", "release/1.0", true);
    check("release/*", "release/1.0/hotfix", false);
    check("release/**", "release/1.0/hotfix", true);
    check("v*", "v1.2.3", true);
    check("v*", "1.2.3", false);
    check("v?.*", "v1.2", true);
    check("v?.*", "v12.2", false);
    check("?", "/", false);
    check("src/**", "src/lib.rs", true);
    check("src/**", "src/a/b/c.rs", true);
    check("src/**", "src", false);
    check("src/**/*.rs", "src/lib.rs", true);
    check("src/**/*.rs", "src/a/b/lib.rs", true);
    check("src/**/*.rs", "src/a/b/lib.toml", false);
    check("**/Cargo.toml", "Cargo.toml", true);
    check("**/Cargo.toml", "crates/x/Cargo.toml", true);
    check("**/Cargo.toml", "crates/x/NotCargo.toml", false);
    check("*.md", "README.md", true);
    check("*.md", "docs/README.md", false);
    check("**.md", "docs/README.md", true);
    check("a/**/b", "a/b", true);
    check("a/**/b", "a/x/y/b", true);
    check("a/**/b", "ab", false);
    check("a/**/b", "a/xb", false);
    check("", "", true);
    check("", "x", false);
    check("*", "", true);
    check("***", "a/b", true);
    // No exponential blow-up on patterns that defeat backtracking matchers.
    let text = "a".repeat(2000);
    check(&"*a".repeat(200), &format!("{text}b"), false);
}

#[test]
fn evaluate_if() {
    let pipeline = valid(
        "
jobs:
  always: { activity: build, run: make }
  release: { activity: release, run: make, if: { branch: [main, 'release/*'], tag: 'v*' } }
  src: { activity: unit-test, run: make, if: { paths: ['src/**', Cargo.toml] } }
  main-src: { activity: sast-l1, run: make, if: { branch: main, paths: 'src/**' } }
",
    );
    #[track_caller]
    fn check(
        pipeline: &dso_devtest::Pipeline,
        branch: Option<&str>,
        tag: Option<&str>,
        changed: &[&str],
        expected: &str,
    ) {
        let changed: Vec<String> = changed.iter().map(|s| s.to_string()).collect();
        let context = RefContext {
            branch,
            tag,
            changed_paths: &changed,
        };
        let running: Vec<&str> = pipeline
            .jobs
            .iter()
            .filter(|job| pipeline.evaluate_if(job.id, &context))
            .map(|job| job.name.as_str())
            .collect();
        assert_eq!(
            running.join(" "),
            expected,
            "branch {branch:?} tag {tag:?} changed {changed:?}"
        );
    }
    check(
        &pipeline,
        Some("main"),
        None,
        &["src/lib.rs"],
        "always release src main-src",
    );
    check(
        &pipeline,
        Some("main"),
        None,
        &["README.md"],
        "always release",
    );
    check(
        &pipeline,
        Some("release/2.0"),
        None,
        &["Cargo.toml"],
        "always release src",
    );
    check(
        &pipeline,
        Some("feature/x"),
        None,
        &["src/a/b.rs"],
        "always src",
    );
    check(&pipeline, None, Some("v1.0.0"), &[], "always release");
    check(&pipeline, None, Some("nightly"), &[], "always");
    check(&pipeline, None, None, &[], "always");
    assert!(!pipeline.evaluate_if(JobId(99), &RefContext::default()));
}

#[test]
fn durations() {
    #[track_caller]
    fn check(text: &str, expected: Result<u64, &str>) {
        let actual = duration::parse(text).map(|d| d.as_secs());
        assert_eq!(actual, expected.map_err(str::to_owned), "{text:?}");
    }
    check("30s", Ok(30));
    check("10m", Ok(600));
    check("1h30m", Ok(5400));
    check("1h30m15s", Ok(5415));
    check("90m", Ok(5400));
    check("24h", Ok(86400));
    check("0h1s", Ok(1));
    check("", Err("a duration must not be empty"));
    check("10", Err("the number has no unit"));
    check("10min", Err("unexpected character `i`"));
    check("1.5h", Err("unexpected character `.`"));
    check("m", Err("`m` must follow a number"));
    check(
        "10m1h",
        Err("units must appear once each, in the order h, m, s"),
    );
    check(
        "1m1m",
        Err("units must appear once each, in the order h, m, s"),
    );
    check("0s", Err("a duration must be longer than zero"));
    check("25h", Err("a duration must be at most 24h"));
    check("99999999999999999999999s", Err("the number is too large"));
    check("9999999999999999h", Err("the duration is too long"));
    check(" 1m", Err("unexpected character ` `"));
    assert_eq!(duration::MAX_DURATION, Duration::from_secs(86400));
}
