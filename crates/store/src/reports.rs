//! Test and coverage results of pipeline jobs.

use dso_audit::Event;

use crate::{AppendedEntry, Store, StoreError, with_pool, with_tx};

/// A test suite of a job's JUnit report, with its cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSuiteRecord {
    pub run_id: i64,
    pub idx: i64,
    pub suite_no: i64,
    pub report: String,
    pub name: String,
    pub tests: i64,
    pub failures: i64,
    pub errors: i64,
    pub skipped: i64,
    pub duration_ms: Option<i64>,
    pub cases: Vec<TestCaseRecord>,
}

/// One test case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCaseRecord {
    pub name: String,
    pub classname: Option<String>,
    /// `passed`, `failed`, `error` or `skipped`.
    pub outcome: String,
    pub duration_ms: Option<i64>,
    pub message: Option<String>,
}

/// A coverage report of a job, with per-file counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRecord {
    pub run_id: i64,
    pub idx: i64,
    pub report: String,
    /// `lcov` or `cobertura`.
    pub format: String,
    pub lines_found: i64,
    pub lines_hit: i64,
    pub branches_found: i64,
    pub branches_hit: i64,
    pub functions_found: i64,
    pub functions_hit: i64,
    pub files: Vec<CoverageFileRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageFileRecord {
    pub path: String,
    pub lines_found: i64,
    pub lines_hit: i64,
    pub branches_found: i64,
    pub branches_hit: i64,
}

impl Store {
    /// Stores a job's test suites and coverage reports, with their events.
    pub async fn add_reports(
        &self,
        suites: &[TestSuiteRecord],
        coverage: &[CoverageRecord],
        events: &[Event],
    ) -> Result<Vec<AppendedEntry>, StoreError> {
        let mut tx = self.begin_write().await?;
        with_tx!(&mut tx, conn => {
            for s in suites {
                sqlx::query(
                    "INSERT INTO test_suites (run_id, idx, suite_no, report, name, tests, failures, errors, skipped, duration_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(s.run_id).bind(s.idx).bind(s.suite_no).bind(&s.report).bind(&s.name)
                .bind(s.tests).bind(s.failures).bind(s.errors).bind(s.skipped).bind(s.duration_ms)
                .execute(&mut *conn)
                .await?;
                for (case_no, c) in s.cases.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO test_cases (run_id, idx, suite_no, case_no, name, classname, outcome, duration_ms, message) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(s.run_id).bind(s.idx).bind(s.suite_no).bind(case_no as i64).bind(&c.name)
                    .bind(&c.classname).bind(&c.outcome).bind(c.duration_ms).bind(&c.message)
                    .execute(&mut *conn)
                    .await?;
                }
            }
            for c in coverage {
                sqlx::query(
                    "INSERT INTO coverage (run_id, idx, report, format, lines_found, lines_hit, branches_found, branches_hit, \
                     functions_found, functions_hit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(c.run_id).bind(c.idx).bind(&c.report).bind(&c.format).bind(c.lines_found).bind(c.lines_hit)
                .bind(c.branches_found).bind(c.branches_hit).bind(c.functions_found).bind(c.functions_hit)
                .execute(&mut *conn)
                .await?;
                for f in &c.files {
                    sqlx::query(
                        "INSERT INTO coverage_files (run_id, idx, report, path, lines_found, lines_hit, branches_found, branches_hit) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(c.run_id).bind(c.idx).bind(&c.report).bind(&f.path).bind(f.lines_found).bind(f.lines_hit)
                    .bind(f.branches_found).bind(f.branches_hit)
                    .execute(&mut *conn)
                    .await?;
                }
            }
        });
        let appended = tx.append(events).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// The test suites of a run with their cases, by job and suite.
    pub async fn test_suites(&self, run_id: i64) -> Result<Vec<TestSuiteRecord>, StoreError> {
        type SuiteRow = (
            i64,
            i64,
            i64,
            String,
            String,
            i64,
            i64,
            i64,
            i64,
            Option<i64>,
        );
        type CaseRow = (
            i64,
            i64,
            String,
            Option<String>,
            String,
            Option<i64>,
            Option<String>,
        );
        let (suites, cases): (Vec<SuiteRow>, Vec<CaseRow>) = with_pool!(self, pool => {
            let suites = sqlx::query_as(
                "SELECT run_id, idx, suite_no, report, name, tests, failures, errors, skipped, duration_ms \
                 FROM test_suites WHERE run_id = $1 ORDER BY idx, suite_no",
            )
            .bind(run_id)
            .fetch_all(pool)
            .await?;
            let cases = sqlx::query_as(
                "SELECT idx, suite_no, name, classname, outcome, duration_ms, message \
                 FROM test_cases WHERE run_id = $1 ORDER BY idx, suite_no, case_no",
            )
            .bind(run_id)
            .fetch_all(pool)
            .await?;
            (suites, cases)
        });
        Ok(suites
            .into_iter()
            .map(
                |(
                    run_id,
                    idx,
                    suite_no,
                    report,
                    name,
                    tests,
                    failures,
                    errors,
                    skipped,
                    duration_ms,
                )| TestSuiteRecord {
                    run_id,
                    idx,
                    suite_no,
                    report,
                    name,
                    tests,
                    failures,
                    errors,
                    skipped,
                    duration_ms,
                    cases: cases
                        .iter()
                        .filter(|c| c.0 == idx && c.1 == suite_no)
                        .map(|c| TestCaseRecord {
                            name: c.2.clone(),
                            classname: c.3.clone(),
                            outcome: c.4.clone(),
                            duration_ms: c.5,
                            message: c.6.clone(),
                        })
                        .collect(),
                },
            )
            .collect())
    }

    /// The coverage reports of a run (without per-file rows).
    pub async fn coverage(&self, run_id: i64) -> Result<Vec<CoverageRecord>, StoreError> {
        type Row = (i64, i64, String, String, i64, i64, i64, i64, i64, i64);
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT run_id, idx, report, format, lines_found, lines_hit, branches_found, branches_hit, functions_found, \
                 functions_hit FROM coverage WHERE run_id = $1 ORDER BY idx, report",
            )
            .bind(run_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| CoverageRecord {
                run_id: r.0,
                idx: r.1,
                report: r.2,
                format: r.3,
                lines_found: r.4,
                lines_hit: r.5,
                branches_found: r.6,
                branches_hit: r.7,
                functions_found: r.8,
                functions_hit: r.9,
                files: Vec::new(),
            })
            .collect())
    }
}
