//! Test and coverage report parsers: real tool output from
//! `tests/data/reports` (its README says which tool and command made each
//! file), hand-written dialect samples for tools not runnable here, and
//! malformed input, each checked for its exact message.

use std::time::Duration;

use dso_devtest::ReportKind;
use dso_devtest::reports::{
    self, CaseOutcome, CoverageReport, CoverageTotals, MAX_REPORT_BYTES, MAX_TEXT_BYTES,
    ParsedReport, TestReport, TestTotals, parse_cobertura, parse_junit, parse_lcov,
};

/// Reads a fixture of `tests/data/reports`.
fn data(name: &str) -> String {
    let path = format!("{}/tests/data/reports/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn junit(file_name: &str, xml: &str) -> TestReport {
    parse_junit(file_name, xml).unwrap_or_else(|e| panic!("{e}"))
}

fn lcov(file_name: &str, text: &str) -> CoverageReport {
    parse_lcov(file_name, text).unwrap_or_else(|e| panic!("{e}"))
}

fn cobertura(file_name: &str, xml: &str) -> CoverageReport {
    parse_cobertura(file_name, xml).unwrap_or_else(|e| panic!("{e}"))
}

/// `(name, outcome)` of every case of every suite.
fn outcomes(report: &TestReport) -> Vec<(String, &'static str)> {
    report
        .suites
        .iter()
        .flat_map(|suite| &suite.cases)
        .map(|case| (case.name.clone(), case.outcome.as_str()))
        .collect()
}

fn rendered(diagnostics: &[reports::ReportError]) -> Vec<String> {
    diagnostics.iter().map(ToString::to_string).collect()
}

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

// Real fixtures: JUnit XML.

#[test]
fn pytest_xunit2_matches_what_pytest_printed() {
    // pytest printed: `1 failed, 1 passed, 1 skipped, 1 error`.
    let report = junit("pytest-xunit2.xml", &data("pytest-xunit2.xml"));
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(report.name.as_deref(), Some("pytest tests"));
    assert_eq!(
        report.totals(),
        TestTotals {
            tests: 4,
            passed: 1,
            failures: 1,
            errors: 1,
            skipped: 1,
            duration: ms(192),
        }
    );
    assert!(!report.is_success());
    let suite = &report.suites[0];
    assert_eq!(report.suites.len(), 1);
    assert_eq!(suite.name, "pytest");
    assert_eq!(
        suite.timestamp.as_deref(),
        Some("2026-11-27T13:32:39.778976+00:00")
    );
    assert_eq!(
        outcomes(&report),
        [
            ("test_add_passes".to_owned(), "passed"),
            ("test_classify_fails".to_owned(), "failed"),
            ("test_divide_errors".to_owned(), "error"),
            ("test_skipped".to_owned(), "skipped"),
        ]
    );
    let [passed, failed, errored, skipped] = &suite.cases[..] else {
        panic!("expected 4 cases");
    };
    assert_eq!(passed.classname.as_deref(), Some("tests.test_calc"));
    assert_eq!(passed.file, None);
    assert_eq!(passed.duration, ms(1));
    assert!(
        passed
            .system_out
            .as_deref()
            .is_some_and(|out| out.contains("adding 2 and 3\n"))
    );
    let CaseOutcome::Failed {
        message,
        kind,
        text,
    } = &failed.outcome
    else {
        panic!("{:?}", failed.outcome);
    };
    assert_eq!(
        message.as_deref(),
        Some("AssertionError: assert 'negative' == 'positive'\n  \n  - positive\n  + negative")
    );
    assert_eq!(kind, &None);
    assert!(
        text.as_deref()
            .is_some_and(|t| t.ends_with("tests/test_calc.py:17: AssertionError"))
    );
    assert_eq!(
        errored.outcome,
        CaseOutcome::Error {
            message: Some("failed on setup with \"RuntimeError: fixture setup failed\"".into()),
            kind: None,
            text: Some(
                "@pytest.fixture\n    def broken():\n>       raise RuntimeError(\"fixture setup \
                 failed\")\nE       RuntimeError: fixture setup failed\n\ntests/test_calc.py:8: \
                 RuntimeError"
                    .into()
            ),
        }
    );
    assert_eq!(
        skipped.outcome,
        CaseOutcome::Skipped {
            message: Some("not implemented yet".into())
        }
    );
}

#[test]
fn pytest_xunit1_has_file_attributes() {
    let report = junit("pytest-xunit1.xml", &data("pytest-xunit1.xml"));
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(
        report.totals(),
        TestTotals {
            tests: 4,
            passed: 1,
            failures: 1,
            errors: 1,
            skipped: 1,
            duration: ms(106),
        }
    );
    let files: Vec<_> = report.suites[0]
        .cases
        .iter()
        .map(|case| case.file.as_deref())
        .collect();
    assert_eq!(files, [Some("tests/test_calc.py"); 4]);
    assert_eq!(report.suites[0].cases[1].duration, ms(5));
}

#[test]
fn pytest_collection_error() {
    // pytest printed: `1 error in 0.29s` (the module could not be imported).
    let report = junit(
        "pytest-collection-error.xml",
        &data("pytest-collection-error.xml"),
    );
    assert_eq!(
        report.totals(),
        TestTotals {
            tests: 1,
            passed: 0,
            failures: 0,
            errors: 1,
            skipped: 0,
            duration: ms(318),
        }
    );
    let case = &report.suites[0].cases[0];
    assert_eq!(case.name, "tests.test_calc");
    assert_eq!(case.classname, None, "pytest writes classname=\"\"");
    let CaseOutcome::Error { message, text, .. } = &case.outcome else {
        panic!("{:?}", case.outcome);
    };
    assert_eq!(message.as_deref(), Some("collection failure"));
    assert!(
        text.as_deref()
            .is_some_and(|t| t.starts_with("ImportError while importing"))
    );
}

#[test]
fn nextest_matches_what_nextest_printed() {
    // nextest printed: `3 tests run: 1 passed, 2 failed, 1 skipped`; the
    // skipped one is an ignored test, which its JUnit output leaves out.
    let report = junit("nextest-junit.xml", &data("nextest-junit.xml"));
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(report.name.as_deref(), Some("nextest-run"));
    assert_eq!(
        report.totals(),
        TestTotals {
            tests: 3,
            passed: 1,
            failures: 2,
            errors: 0,
            skipped: 0,
            duration: ms(10),
        }
    );
    assert_eq!(
        outcomes(&report),
        [
            ("tests::fails".to_owned(), "failed"),
            ("tests::adds".to_owned(), "passed"),
            ("tests::panics".to_owned(), "failed"),
        ]
    );
    let suite = &report.suites[0];
    assert_eq!(suite.name, "scratch");
    // No `time` on nextest's <testsuite>: the sum of its cases.
    assert_eq!(suite.duration, ms(16));
    let fails = &suite.cases[0];
    let CaseOutcome::Failed { message, kind, .. } = &fails.outcome else {
        panic!("{:?}", fails.outcome);
    };
    assert_eq!(
        message.as_deref(),
        Some("thread 'tests::fails' (19814) panicked at src/lib.rs:17:9")
    );
    assert_eq!(kind.as_deref(), Some("test failure with exit code 101"));
    assert!(
        fails
            .system_err
            .as_deref()
            .is_some_and(|err| err.contains("assertion `left == right` failed: two and two"))
    );
    assert!(
        fails
            .system_out
            .as_deref()
            .is_some_and(|out| out.contains("test tests::fails ... FAILED"))
    );
}

#[test]
fn surefire_matches_what_maven_printed() {
    // Maven printed: `Tests run: 4, Failures: 1, Errors: 1, Skipped: 1,
    // Time elapsed: 0.169 s`.
    let report = junit(
        "TEST-com.example.CalcTest.xml",
        &data("surefire-TEST-com.example.CalcTest.xml"),
    );
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(report.name, None, "a single <testsuite> root");
    assert_eq!(
        report.totals(),
        TestTotals {
            tests: 4,
            passed: 1,
            failures: 1,
            errors: 1,
            skipped: 1,
            duration: ms(169),
        }
    );
    assert_eq!(report.suites[0].name, "com.example.CalcTest");
    let cases = &report.suites[0].cases;
    assert_eq!(
        cases[1].outcome,
        CaseOutcome::Failed {
            message: Some("two and two expected:<5> but was:<4>".into()),
            kind: Some("java.lang.AssertionError".into()),
            text: Some(
                "java.lang.AssertionError: two and two expected:<5> but was:<4>\n\tat \
                 com.example.CalcTest.failsAnAssertion(CalcTest.java:17)\n"
                    .into()
            ),
        }
    );
    assert_eq!(
        cases[2].outcome,
        CaseOutcome::Error {
            message: Some("/ by zero".into()),
            kind: Some("java.lang.ArithmeticException".into()),
            text: Some(
                "java.lang.ArithmeticException: / by zero\n\tat \
                 com.example.CalcTest.errorsOnDivisionByZero(CalcTest.java:22)\n"
                    .into()
            ),
        }
    );
    assert_eq!(
        cases[3].outcome,
        CaseOutcome::Skipped {
            message: Some("not implemented yet".into())
        }
    );
    assert_eq!(cases[3].duration, Some(Duration::ZERO));
}

#[test]
fn jest_junit_matches_what_jest_printed() {
    // jest printed: `Tests: 2 failed, 1 skipped, 1 passed, 4 total`.
    let report = junit("junit.xml", &data("jest-junit.xml"));
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(
        report.totals(),
        TestTotals {
            tests: 4,
            passed: 1,
            failures: 2,
            errors: 0,
            skipped: 1,
            duration: ms(1056),
        }
    );
    assert_eq!(report.suites[0].duration, ms(840));
    assert_eq!(
        outcomes(&report),
        [
            ("calc adds".to_owned(), "passed"),
            ("calc classifies".to_owned(), "failed"),
            ("calc divides".to_owned(), "failed"),
            ("calc later".to_owned(), "skipped"),
        ]
    );
    // jest-junit writes no `message`, only text; and a bare `<skipped/>`.
    let CaseOutcome::Failed { message, text, .. } = &report.suites[0].cases[1].outcome else {
        panic!("expected a failure");
    };
    assert_eq!(message, &None);
    assert!(text.as_deref().is_some_and(|t| t.starts_with(
        "Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: \"positive\"\n"
    )));
    assert_eq!(
        report.suites[0].cases[3].outcome,
        CaseOutcome::Skipped { message: None }
    );
}

// Real fixtures: coverage.

/// `coverage report` printed for the same run:
///
/// ```text
/// Name                 Stmts   Miss Branch BrPart  Cover   Missing
/// calc/__init__.py        17     10     10      1    30%   11-13, 17-19, 23-26
/// tests/test_calc.py      15      2      0      0    87%   21, 26
/// TOTAL                   32     12     10      1    50%
/// ```
///
/// 32 statements, 20 run; 10 branches, 1 taken (coverage.py's `BrPart`
/// counts partially taken branch points, here line 9: 1 of 2).
const COVERAGE_PY_LINES: (u64, u64) = (32, 20);
const COVERAGE_PY_BRANCHES: (u64, u64) = (10, 1);
const CALC_LINES: [(u32, u64); 17] = [
    (4, 1),
    (5, 1),
    (8, 1),
    (9, 1),
    (10, 1),
    (11, 0),
    (12, 0),
    (13, 0),
    (16, 1),
    (17, 0),
    (18, 0),
    (19, 0),
    (22, 1),
    (23, 0),
    (24, 0),
    (25, 0),
    (26, 0),
];

#[test]
fn coverage_py_lcov_matches_coverage_report() {
    let report = lcov("coveragepy.lcov", &data("coveragepy.lcov"));
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    let totals = report.totals();
    assert_eq!(
        totals,
        CoverageTotals {
            lines_found: COVERAGE_PY_LINES.0,
            lines_hit: COVERAGE_PY_LINES.1,
            branches_found: COVERAGE_PY_BRANCHES.0,
            branches_hit: COVERAGE_PY_BRANCHES.1,
            // FNF:4 + FNF:5, FNH:2 + FNH:3.
            functions_found: 9,
            functions_hit: 5,
        }
    );
    assert_eq!(totals.line_rate(), Some(0.625));
    assert_eq!(totals.branch_rate(), Some(0.1));
    let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["calc/__init__.py", "tests/test_calc.py"]);
    let calc = &report.files[0];
    assert_eq!(
        (
            calc.lines_found,
            calc.lines_hit,
            calc.branches_found,
            calc.branches_hit
        ),
        (17, 7, 10, 1)
    );
    assert_eq!((calc.functions_found, calc.functions_hit), (4, 2));
    assert_eq!(calc.lines, CALC_LINES);
    let tests = &report.files[1];
    assert_eq!((tests.lines_found, tests.lines_hit), (15, 13));
    assert_eq!(tests.branch_rate(), None);
}

#[test]
fn coverage_py_cobertura_matches_coverage_report_and_lcov() {
    let mut report = cobertura(
        "coveragepy-cobertura.xml",
        &data("coveragepy-cobertura.xml"),
    );
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(
        report.totals(),
        CoverageTotals {
            lines_found: COVERAGE_PY_LINES.0,
            lines_hit: COVERAGE_PY_LINES.1,
            branches_found: COVERAGE_PY_BRANCHES.0,
            branches_hit: COVERAGE_PY_BRANCHES.1,
            // coverage.py writes `<methods/>` empty.
            functions_found: 0,
            functions_hit: 0,
        }
    );
    let paths: Vec<_> = report.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/tmp/dso-fixture-calc/calc/__init__.py",
            "/tmp/dso-fixture-calc/tests/test_calc.py"
        ]
    );
    report.strip_prefix("/tmp/dso-fixture-calc/");
    let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["calc/__init__.py", "tests/test_calc.py"]);
    assert_eq!(report.files[0].lines, CALC_LINES);
    assert_eq!(
        (report.files[0].branches_found, report.files[0].branches_hit),
        (10, 1)
    );

    // The same run as LCOV: every file has the same lines and hits.
    let lcov = lcov("coveragepy.lcov", &data("coveragepy.lcov"));
    for (a, b) in report.files.iter().zip(&lcov.files) {
        assert_eq!(a.path, b.path);
        assert_eq!(a.lines, b.lines);
        assert_eq!(
            (a.lines_found, a.lines_hit, a.branches_found, a.branches_hit),
            (b.lines_found, b.lines_hit, b.branches_found, b.branches_hit)
        );
    }
}

/// Jest's coverage table for the same run (Istanbul):
///
/// ```text
/// File      | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s
/// calc.js   |      60 |    33.33 |     100 |      60 | 8-11,18
/// ```
#[test]
fn istanbul_lcov_and_cobertura_match_the_jest_table() {
    let expected = CoverageTotals {
        lines_found: 10,
        lines_hit: 6,
        branches_found: 6,
        branches_hit: 2,
        functions_found: 3,
        functions_hit: 3,
    };
    let lcov = lcov("lcov.info", &data("istanbul.lcov"));
    assert_eq!(rendered(&lcov.diagnostics), Vec::<String>::new());
    assert_eq!(lcov.totals(), expected);
    assert_eq!(lcov.totals().line_rate(), Some(0.6));
    assert_eq!(lcov.totals().function_rate(), Some(1.0));

    // Istanbul's Cobertura has an external DOCTYPE, accepted and not fetched.
    let mut cobertura = cobertura("cobertura-coverage.xml", &data("istanbul-cobertura.xml"));
    assert_eq!(rendered(&cobertura.diagnostics), Vec::<String>::new());
    assert_eq!(cobertura.totals(), expected);
    cobertura.strip_prefix("/tmp/dsofx/jest");
    assert_eq!(cobertura.files[0].path, "calc.js");
    assert_eq!(cobertura.files[0].lines, lcov.files[0].lines);
    assert_eq!(
        lcov.files[0].lines,
        [
            (2, 1),
            (6, 1),
            (7, 1),
            (8, 0),
            (9, 0),
            (11, 0),
            (15, 1),
            (16, 1),
            (18, 0),
            (21, 1)
        ]
    );
}

#[test]
fn detect_recognises_every_fixture() {
    let cases = [
        ("pytest-xunit2.xml", Some(ReportKind::Junit)),
        ("pytest-xunit1.xml", Some(ReportKind::Junit)),
        ("pytest-collection-error.xml", Some(ReportKind::Junit)),
        ("nextest-junit.xml", Some(ReportKind::Junit)),
        ("jest-junit.xml", Some(ReportKind::Junit)),
        (
            "surefire-TEST-com.example.CalcTest.xml",
            Some(ReportKind::Junit),
        ),
        ("coveragepy.lcov", Some(ReportKind::Lcov)),
        ("coveragepy-cobertura.xml", Some(ReportKind::Cobertura)),
        ("istanbul.lcov", Some(ReportKind::Lcov)),
        ("istanbul-cobertura.xml", Some(ReportKind::Cobertura)),
    ];
    for (name, expected) in cases {
        // The name is no hint: content decides.
        assert_eq!(reports::detect("report", &data(name)), expected, "{name}");
    }
    let others = [
        ("a.xml", "<testsuite name=\"x\"/>", Some(ReportKind::Junit)),
        ("lcov.info", "", Some(ReportKind::Lcov)),
        ("out/app.lcov", "\n", Some(ReportKind::Lcov)),
        (
            "a.info",
            "TN:\nSF:a.c\nend_of_record\n",
            Some(ReportKind::Lcov),
        ),
        ("a.xml", "", None),
        ("a.sarif", "{\"version\": \"2.1.0\"}", None),
        ("a.xml", "<?xml version=\"1.0\"?><project/>", None),
        ("a.xml", "<not xml", None),
        ("a.txt", "hello\nSF:x\n", None),
    ];
    for (name, content, expected) in others {
        assert_eq!(
            reports::detect(name, content),
            expected,
            "{name}: {content:?}"
        );
    }
}

#[test]
fn parse_dispatches_on_kind() {
    let bytes = data("nextest-junit.xml").into_bytes();
    let Ok(ParsedReport::Tests(report)) = reports::parse(ReportKind::Junit, "j.xml", &bytes) else {
        panic!("expected a test report");
    };
    assert_eq!(report.totals().tests, 3);
    let bytes = data("coveragepy.lcov").into_bytes();
    let Ok(ParsedReport::Coverage(report)) = reports::parse(ReportKind::Lcov, "c.lcov", &bytes)
    else {
        panic!("expected a coverage report");
    };
    assert_eq!(report.totals().lines_found, 32);
    let error = reports::parse(ReportKind::Sarif, "r.sarif", b"{}").unwrap_err();
    assert_eq!(
        error.to_string(),
        "r.sarif: `sarif` reports are not parsed here"
    );
    // A UTF-8 byte-order mark is dropped.
    let with_bom = [&b"\xEF\xBB\xBF"[..], b"<testsuite name=\"a\"/>"].concat();
    assert!(reports::parse(ReportKind::Junit, "bom.xml", &with_bom).is_ok());
}

// Malformed input that fails as a whole: exact messages.

fn fail(kind: ReportKind, file_name: &str, bytes: &[u8]) -> String {
    match reports::parse(kind, file_name, bytes) {
        Ok(report) => panic!("{file_name}: accepted: {report:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn malformed_reports_fail_with_file_line_and_cause() {
    let fixture = data("pytest-xunit2.xml");
    let half = &fixture[..fixture.len() / 2];
    let deep = format!(
        "<testsuites>\n{}{}",
        "<testsuite name=\"a\">".repeat(100),
        "</testsuite>".repeat(100)
    );
    let cases: Vec<(ReportKind, &str, Vec<u8>, &str)> = vec![
        (
            ReportKind::Junit,
            "truncated.xml",
            b"<testsuites>\n  <testsuite name=\"a\">\n    <testcase name=\"x\">".to_vec(),
            "truncated.xml:3: unexpected end of file: <testcase> opened at line 3 is not closed",
        ),
        (
            ReportKind::Junit,
            "half.xml",
            half.as_bytes().to_vec(),
            "half.xml:11: unexpected end of file: <system-out> opened at line 11 is not closed",
        ),
        (
            ReportKind::Junit,
            "cut-in-tag.xml",
            b"<testsuites>\n<testsuite name=\"a".to_vec(),
            "cut-in-tag.xml:2: malformed XML: syntax error: attribute value not closed: `\"` not found before end of input",
        ),
        (
            ReportKind::Junit,
            "bomb.xml",
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<testsuites><testsuite name=\"&lol2;\"/></testsuites>\n".to_vec(),
            "bomb.xml:2: `<!DOCTYPE` with declarations is not allowed (entities are never expanded)",
        ),
        (
            ReportKind::Cobertura,
            "xxe.xml",
            b"<?xml version=\"1.0\"?>\n<!DOCTYPE coverage [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<coverage><sources><source>&xxe;</source></sources></coverage>".to_vec(),
            "xxe.xml:2: `<!DOCTYPE` with declarations is not allowed (entities are never expanded)",
        ),
        (
            ReportKind::Junit,
            "entity.xml",
            b"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"b\"><failure>&xxe;</failure></testcase>\n</testsuite></testsuites>".to_vec(),
            "entity.xml:3: unknown entity `&xxe;`",
        ),
        (
            ReportKind::Junit,
            "attr-entity.xml",
            b"<testsuites>\n<testsuite name=\"&xxe;\"/></testsuites>".to_vec(),
            "attr-entity.xml:2: <testsuite> attribute `name`: at 1..4: unrecognized entity `xxe`",
        ),
        (
            ReportKind::Junit,
            "coverage.xml",
            data("coveragepy-cobertura.xml").into_bytes(),
            "coverage.xml:2: root element is <coverage>, expected <testsuites> or <testsuite>",
        ),
        (
            ReportKind::Cobertura,
            "junit.xml",
            data("nextest-junit.xml").into_bytes(),
            "junit.xml:2: root element is <testsuites>, expected <coverage>",
        ),
        (
            ReportKind::Junit,
            "latin1.xml",
            b"<testsuites>\n<testsuite name=\"caf\xe9\"/>\n</testsuites>".to_vec(),
            "latin1.xml:2: not valid UTF-8 (byte 0xe9 at offset 33)",
        ),
        (
            ReportKind::Lcov,
            "binary.lcov",
            b"SF:a.c\nDA:1,1\n\xff\xfe\x00\x01".to_vec(),
            "binary.lcov:3: not valid UTF-8 (byte 0xff at offset 14)",
        ),
        (
            ReportKind::Junit,
            "deep.xml",
            deep.into_bytes(),
            "deep.xml:2: elements nested deeper than 64 levels",
        ),
        (
            ReportKind::Junit,
            "two-roots.xml",
            b"<testsuite name=\"a\"/>\n<testsuite name=\"b\"/>\n".to_vec(),
            "two-roots.xml:2: a second root element <testsuite>",
        ),
        (
            ReportKind::Junit,
            "empty.xml",
            b"\n".to_vec(),
            "empty.xml:2: no root element: the file is empty",
        ),
        (
            ReportKind::Junit,
            "text.xml",
            b"tests passed\n".to_vec(),
            "text.xml:1: text outside the root element",
        ),
        (
            ReportKind::Junit,
            "mismatch.xml",
            b"<testsuites>\n<testsuite name=\"a\">\n</testcase>\n</testsuites>".to_vec(),
            "mismatch.xml:3: malformed XML: ill-formed document: expected `</testsuite>`, but `</testcase>` was found",
        ),
        (
            ReportKind::Lcov,
            "junit.lcov",
            data("nextest-junit.xml").into_bytes(),
            "junit.lcov:1: not an LCOV file: no `SF:` record",
        ),
    ];
    let (actual, expected): (Vec<_>, Vec<_>) = cases
        .into_iter()
        .map(|(kind, file_name, bytes, expected)| (fail(kind, file_name, &bytes), expected))
        .unzip();
    assert_eq!(actual, expected);
}

#[test]
fn oversized_reports_are_refused_before_parsing() {
    let big = vec![b' '; MAX_REPORT_BYTES + 1];
    let expected = format!(
        "big.xml: file is {} bytes, more than the limit of {MAX_REPORT_BYTES}",
        MAX_REPORT_BYTES + 1
    );
    for kind in [ReportKind::Junit, ReportKind::Lcov, ReportKind::Cobertura] {
        assert_eq!(fail(kind, "big.xml", &big), expected);
    }
    let text = " ".repeat(MAX_REPORT_BYTES + 1);
    assert_eq!(
        parse_junit("big.xml", &text).unwrap_err().to_string(),
        expected
    );
    assert_eq!(
        parse_lcov("big.xml", &text).unwrap_err().to_string(),
        expected
    );
}

// Malformed elements that are skipped: the rest is kept, with diagnostics.

#[test]
fn testcase_without_name_is_skipped_and_the_rest_kept() {
    let xml = "<?xml version=\"1.0\"?>
<testsuites>
  <testsuite name=\"a\" tests=\"3\">
    <testcase name=\"one\"/>
    <testcase classname=\"x\" time=\"1\">
      <failure message=\"lost\"/>
    </testcase>
    <testcase name=\"three\"><skipped/></testcase>
  </testsuite>
</testsuites>
";
    let report = junit("junit.xml", xml);
    assert_eq!(
        rendered(&report.diagnostics),
        [
            "junit.xml:5: <testcase> is missing attribute `name`",
            "junit.xml:3: <testsuite> attribute `tests` is 3 but its test cases count 2; using 2",
        ]
    );
    assert_eq!(
        outcomes(&report),
        [
            ("one".to_owned(), "passed"),
            ("three".to_owned(), "skipped")
        ]
    );
    assert_eq!(report.totals().tests, 2);
}

#[test]
fn bad_attributes_are_reported_and_ignored() {
    let xml = "<testsuites time=\"soon\">
<testsuite name=\"summary\" tests=\"5\" failures=\"-1\" errors=\"99999999999\" skipped=\"two\"/>
<testsuite tests=\"1\">
  <testcase name=\"a\" time=\"-0.5\"/>
  <testcase name=\"b\" time=\"1e400\"/>
  <testcase name=\"c\" time=\"NaN\"/>
</testsuite>
<testcase name=\"orphan\"/>
</testsuites>
";
    let report = junit("junit.xml", xml);
    assert_eq!(
        rendered(&report.diagnostics),
        [
            "junit.xml:1: <testsuites> attribute `time` is not a number of seconds: `soon`",
            "junit.xml:2: <testsuite> attribute `failures` is negative: `-1`",
            "junit.xml:2: <testsuite> attribute `errors` is too large: `99999999999`",
            "junit.xml:2: <testsuite> attribute `skipped` is not a count: `two`",
            "junit.xml:3: <testsuite> is missing attribute `name`",
            "junit.xml:4: <testcase> attribute `time` is negative: `-0.5`",
            "junit.xml:5: <testcase> attribute `time` is too large: `1e400`",
            "junit.xml:6: <testcase> attribute `time` is not a number of seconds: `NaN`",
            "junit.xml:3: <testsuite> attribute `tests` is 1 but its test cases count 3; using 3",
            "junit.xml:8: <testcase> outside a <testsuite> is ignored",
        ]
    );
    // A suite without cases keeps its (valid) attributes; bad ones count 0.
    let summary = &report.suites[0];
    assert_eq!(
        (
            summary.tests,
            summary.failures,
            summary.errors,
            summary.skipped
        ),
        (5, 0, 0, 0)
    );
    assert_eq!(report.suites[1].name, "");
    assert_eq!(report.suites[1].duration, None);
    assert_eq!(report.duration, None);
}

#[test]
fn lcov_bad_lines_are_reported_with_their_line_numbers() {
    let text = "TN:
DA:1,1
SF:src/a.c
FN:3,main
FNDA:1,main
garbage
DA:3,1
DA:4,99999999999999999999999
DA:0,1
DA:5,-2
DA:6
BRDA:3,0,1
BRDA:3,0,0,x
lower:case
LF:9
LH:1
end_of_record
end_of_record
SF:
SF:src/b.c
DA:1,0
";
    let report = lcov("coverage.lcov", text);
    assert_eq!(
        rendered(&report.diagnostics),
        [
            "coverage.lcov:2: `DA:` outside a file record",
            "coverage.lcov:6: not an LCOV record: `garbage`",
            "coverage.lcov:8: `DA:` hit count is too large: `99999999999999999999999`",
            "coverage.lcov:9: `DA:` line number is 0",
            "coverage.lcov:10: `DA:` hit count is negative: `-2`",
            "coverage.lcov:11: `DA:` has no hit count",
            "coverage.lcov:12: `BRDA:` needs 4 fields",
            "coverage.lcov:13: `BRDA:` taken count is not a count: `x`",
            "coverage.lcov:14: not an LCOV record: `lower:case`",
            "coverage.lcov:17: `src/a.c`: `LF:9` disagrees with its `DA:` records, which count 1; using 1",
            "coverage.lcov:18: `end_of_record` without a file record",
            "coverage.lcov:19: `SF:` without a path",
            "coverage.lcov:21: the last file record has no `end_of_record`",
        ]
    );
    let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["src/a.c", "src/b.c"]);
    assert_eq!(report.files[0].lines, [(3, 1)]);
    assert_eq!(
        (
            report.files[0].functions_found,
            report.files[0].functions_hit
        ),
        (1, 1)
    );
    assert_eq!(report.files[1].lines, [(1, 0)]);
}

#[test]
fn cobertura_bad_elements_are_reported_and_skipped() {
    let xml = r#"<?xml version="1.0"?>
<coverage lines-valid="9" lines-covered="1" branches-valid="x">
  <packages><package name="p"><classes>
    <class name="NoFile">
      <lines><line number="1" hits="1"/></lines>
    </class>
    <class name="A" filename="a.py">
      <lines>
        <line number="1" hits="1"/>
        <line number="2" hits="-1"/>
        <line number="0" hits="1"/>
        <line hits="1"/>
        <line number="3" hits="0" branch="true" condition-coverage="half"/>
        <line number="4" hits="0" branch="true"/>
      </lines>
    </class>
  </classes></package></packages>
</coverage>
"#;
    let report = cobertura("coverage.xml", xml);
    assert_eq!(
        rendered(&report.diagnostics),
        [
            "coverage.xml:4: <class> is missing attribute `filename`",
            "coverage.xml:10: <line> attribute `hits` is negative: `-1`",
            "coverage.xml:11: <line> attribute `number` is 0",
            "coverage.xml:12: <line> is missing attribute `number`",
            "coverage.xml:13: <line> attribute `condition-coverage` is not like `50% (1/2)`: `half`",
            "coverage.xml:14: <line> with branch=\"true\" is missing attribute `condition-coverage`",
            "coverage.xml:2: <coverage> attribute `lines-valid` is 9 but its lines count 3; using 3",
            "coverage.xml:2: <coverage> attribute `branches-valid` is not a count: `x`",
        ]
    );
    assert_eq!(report.files.len(), 1);
    assert_eq!(report.files[0].path, "a.py");
    assert_eq!(report.files[0].lines, [(1, 1), (3, 0), (4, 0)]);
}

#[test]
fn diagnostics_are_capped() {
    let mut text = String::from("SF:a.c\n");
    for _ in 0..150 {
        text.push_str("junk\n");
    }
    text.push_str("end_of_record\n");
    let report = lcov("many.lcov", &text);
    assert_eq!(report.diagnostics.len(), 101);
    assert_eq!(
        report.diagnostics[100].to_string(),
        "many.lcov: 50 more problems not shown"
    );
}

// Dialect features the real fixtures do not show, and go-junit-report (no
// Go module proxy here): hand-written after the tools' documented output.

#[test]
fn surefire_3_reruns_and_thousands_separators() {
    // Maven Surefire 3 with `rerunFailingTestsCount`: flaky and rerun
    // elements, a thousands-separator `time`, a decimal comma, CDATA output.
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report.xsd" version="3.0" name="com.example.CalcTest" time="1,234.5" tests="4" errors="0" skipped="1" failures="1">
  <properties>
    <property name="java.version" value="17.0.15"/>
  </properties>
  <testcase name="adds" classname="com.example.CalcTest" time="0.01"/>
  <testcase name="flaky" classname="com.example.CalcTest" time="0.02">
    <flakyFailure message="boom" type="java.lang.AssertionError"><stackTrace>at X</stackTrace></flakyFailure>
  </testcase>
  <testcase name="divides" classname="com.example.CalcTest" time="0,5">
    <failure message="expected:&lt;1&gt; but was:&lt;2&gt;" type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: expected: &lt;1&gt; but was: &lt;2&gt;
	at com.example.CalcTest.divides(CalcTest.java:20)</failure>
    <rerunFailure message="again" type="org.opentest4j.AssertionFailedError"/>
    <system-out><![CDATA[dividing
]]></system-out>
  </testcase>
  <testcase name="later" classname="com.example.CalcTest" time="0">
    <skipped/>
  </testcase>
</testsuite>
"#;
    let report = junit("TEST-com.example.CalcTest.xml", xml);
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(report.name, None);
    let suite = &report.suites[0];
    assert_eq!(suite.duration, Some(Duration::from_secs_f64(1234.5)));
    assert_eq!(suite.cases[2].duration, ms(500));
    assert_eq!(
        outcomes(&report),
        [
            ("adds".to_owned(), "passed"),
            ("flaky".to_owned(), "passed"),
            ("divides".to_owned(), "failed"),
            ("later".to_owned(), "skipped"),
        ]
    );
    assert_eq!(
        suite.cases[2].outcome,
        CaseOutcome::Failed {
            message: Some("expected:<1> but was:<2>".into()),
            kind: Some("org.opentest4j.AssertionFailedError".into()),
            text: Some(
                "org.opentest4j.AssertionFailedError: expected: <1> but was: <2>\n\tat \
                 com.example.CalcTest.divides(CalcTest.java:20)"
                    .into()
            ),
        }
    );
    assert_eq!(suite.cases[2].system_out.as_deref(), Some("dividing\n"));
    assert_eq!(
        suite.cases[3].outcome,
        CaseOutcome::Skipped { message: None }
    );
}

#[test]
fn go_junit_report_dialect() {
    // go-junit-report v2: one suite per package, properties, skip message.
    let go = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="3" failures="1">
	<testsuite name="example.com/calc" tests="3" failures="1" errors="0" id="0" hostname="vm" skipped="1" time="0.004" timestamp="2026-11-27T10:00:00Z">
		<properties>
			<property name="go.version" value="go1.22.0"></property>
		</properties>
		<testcase name="TestAdd" classname="example.com/calc" time="0.000"></testcase>
		<testcase name="TestDivide" classname="example.com/calc" time="0.000">
			<failure message="Failed"><![CDATA[    calc_test.go:12: got 2, want 1]]></failure>
		</testcase>
		<testcase name="TestLater" classname="example.com/calc" time="0.000">
			<skipped message="    calc_test.go:16: not yet"></skipped>
		</testcase>
	</testsuite>
</testsuites>
"#;
    let report = junit("report.xml", go);
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    assert_eq!(
        outcomes(&report),
        [
            ("TestAdd".to_owned(), "passed"),
            ("TestDivide".to_owned(), "failed"),
            ("TestLater".to_owned(), "skipped"),
        ]
    );
    assert_eq!(
        report.suites[0].cases[2].outcome,
        CaseOutcome::Skipped {
            message: Some("    calc_test.go:16: not yet".into())
        }
    );
}

#[test]
fn nested_suites_are_flattened_and_containers_dropped() {
    let xml = r#"<testsuites>
  <testsuite name="all" tests="3" failures="1">
    <testsuite name="unit" tests="2">
      <testcase name="a"/>
      <testcase name="b"><error type="Panic"/></testcase>
    </testsuite>
    <testsuite name="empty" tests="0"/>
    <testsuite name="mixed">
      <testcase name="c"><skipped message="later"/><failure message="x"/></testcase>
      <testsuite name="inner"><testcase name="d"/></testsuite>
    </testsuite>
  </testsuite>
</testsuites>"#;
    let report = junit("nested.xml", xml);
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    let names: Vec<_> = report.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["unit", "empty", "mixed", "inner"]);
    assert_eq!(
        outcomes(&report),
        [
            ("a".to_owned(), "passed"),
            ("b".to_owned(), "error"),
            ("c".to_owned(), "failed"),
            ("d".to_owned(), "passed"),
        ]
    );
    let totals = report.totals();
    assert_eq!(
        (totals.tests, totals.passed, totals.failures, totals.errors),
        (4, 2, 1, 1)
    );
    assert_eq!(totals.duration, None);
}

#[test]
fn long_texts_are_truncated_at_a_character_boundary() {
    let out = "é".repeat(MAX_TEXT_BYTES); // 2 bytes each.
    let message = "m".repeat(10_000);
    let xml = format!(
        "<testsuite name=\"s\"><testcase name=\"c\"><failure message=\"{message}\">{out}</failure><system-out>{out}</system-out></testcase></testsuite>"
    );
    let report = junit("long.xml", &xml);
    let case = &report.suites[0].cases[0];
    let note = format!("\n[truncated: {} more bytes]", MAX_TEXT_BYTES);
    let kept = "é".repeat(MAX_TEXT_BYTES / 2);
    assert_eq!(case.system_out, Some(format!("{kept}{note}")));
    let CaseOutcome::Failed { message, text, .. } = &case.outcome else {
        panic!("expected a failure");
    };
    assert_eq!(text, &Some(format!("{kept}{note}")));
    assert_eq!(
        message,
        &Some(format!(
            "{}\n[truncated: {} more bytes]",
            "m".repeat(4096),
            10_000 - 4096
        ))
    );
}

#[test]
fn lcov_records_are_merged_and_new_formats_read() {
    // Two test names cover the same file; lcov 2 writes `FN:start,end,name`
    // and 2.2 `FNL`/`FNA`; a summary-only record keeps its totals.
    let text = "TN:unit
SF:src/a.rs
FN:1,3,a::main
FNDA:0,a::main
DA:1,1
DA:2,0
BRDA:2,0,0,-
BRDA:2,0,1,1
LF:2
LH:1
end_of_record
TN:integration
SF:src/a.rs
FNL:0,1,3
FNA:0,4,a::main
FN:5,<impl Foo<A, B>>::new
DA:2,3
BRDA:2,0,0,2
end_of_record
SF:src/summary.rs
LF:10
LH:4
BRF:2
BRH:3
end_of_record
";
    let report = lcov("merged.lcov", text);
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    let a = &report.files[0];
    assert_eq!(a.path, "src/a.rs");
    assert_eq!(a.lines, [(1, 1), (2, 3)]);
    assert_eq!((a.lines_found, a.lines_hit), (2, 2));
    assert_eq!((a.branches_found, a.branches_hit), (2, 2));
    assert_eq!((a.functions_found, a.functions_hit), (2, 1));
    let summary = &report.files[1];
    assert_eq!(
        (
            summary.lines_found,
            summary.lines_hit,
            summary.branches_found,
            summary.branches_hit
        ),
        (10, 4, 2, 2),
        "declared totals, hits capped at found"
    );
    assert!(summary.lines.is_empty());
    assert_eq!(lcov("empty.lcov", "\n\n").files, []);
}

#[test]
fn cobertura_sources_doctype_classes_and_methods() {
    // gcovr and Cobertura write an external DOCTYPE: accepted, never fetched.
    let xml = r#"<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage line-rate="0.5" branch-rate="0.5" lines-covered="2" lines-valid="4" branches-covered="1" branches-valid="2" version="gcovr 7.2">
  <sources>
    <source></source>
    <source>/work/repo/src/main/java/</source>
  </sources>
  <packages>
    <package name="com.example">
      <classes>
        <class name="com.example.Calc" filename="com/example/Calc.java">
          <methods>
            <method name="add" signature="(II)I" line-rate="1.0">
              <lines><line number="3" hits="2"/></lines>
            </method>
            <method name="unused" signature="()V" line-rate="0.0">
              <lines><line number="7" hits="0"/></lines>
            </method>
          </methods>
          <lines>
            <line number="3" hits="2"/>
            <line number="4" hits="1" branch="true" condition-coverage="50% (1/2)">
              <conditions><condition number="0" type="jump" coverage="50%"/></conditions>
            </line>
          </lines>
        </class>
        <class name="com.example.Calc$Inner" filename="com/example/Calc.java">
          <lines>
            <line number="7" hits="0"/>
            <line number="3" hits="1"/>
            <line number="9" hits="0"/>
          </lines>
        </class>
        <class name="abs" filename="/usr/include/stdio.h">
          <lines/>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
"#;
    let mut report = cobertura("coverage.xml", xml);
    assert_eq!(rendered(&report.diagnostics), Vec::<String>::new());
    report.strip_prefix("/work/repo");
    let paths: Vec<_> = report.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "src/main/java/com/example/Calc.java",
            "/usr/include/stdio.h"
        ]
    );
    let calc = &report.files[0];
    assert_eq!(calc.lines, [(3, 2), (4, 1), (7, 0), (9, 0)]);
    assert_eq!((calc.branches_found, calc.branches_hit), (2, 1));
    assert_eq!((calc.functions_found, calc.functions_hit), (2, 1));
    assert_eq!(report.files[1].line_rate(), None);
}

// Robustness: no input panics.

#[test]
fn every_prefix_and_mutation_of_the_fixtures_is_handled() {
    let fixtures = [
        (ReportKind::Junit, "pytest-xunit2.xml"),
        (ReportKind::Junit, "nextest-junit.xml"),
        (ReportKind::Junit, "surefire-TEST-com.example.CalcTest.xml"),
        (ReportKind::Lcov, "coveragepy.lcov"),
        (ReportKind::Cobertura, "istanbul-cobertura.xml"),
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (kind, name) in fixtures {
        let bytes = data(name).into_bytes();
        for end in 0..bytes.len() {
            let _ = reports::parse(kind, name, &bytes[..end]);
            let _ = reports::detect(name, &String::from_utf8_lossy(&bytes[..end]));
        }
        let specials = b"<>&;/\"'=![]-:,\n\xff0";
        for _ in 0..2_000 {
            let mut mutated = bytes.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % mutated.len();
                mutated[at] = specials[(next() as usize) % specials.len()];
            }
            // Every kind on every input, not only the matching one.
            for other in [ReportKind::Junit, ReportKind::Lcov, ReportKind::Cobertura] {
                let _ = reports::parse(other, name, &mutated);
            }
        }
    }
}
