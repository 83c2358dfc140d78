-- Test and coverage reports of pipeline jobs (JUnit XML, LCOV, Cobertura).
CREATE TABLE test_suites (
    run_id      BIGINT NOT NULL,
    idx         BIGINT NOT NULL,        -- the job
    suite_no    BIGINT NOT NULL,        -- order within the job's reports
    report      TEXT   NOT NULL,        -- the report file, relative to the work directory
    name        TEXT   NOT NULL,
    tests       BIGINT NOT NULL,
    failures    BIGINT NOT NULL,
    errors      BIGINT NOT NULL,
    skipped     BIGINT NOT NULL,
    duration_ms BIGINT,
    PRIMARY KEY (run_id, idx, suite_no)
);

CREATE TABLE test_cases (
    run_id      BIGINT NOT NULL,
    idx         BIGINT NOT NULL,
    suite_no    BIGINT NOT NULL,
    case_no     BIGINT NOT NULL,
    name        TEXT   NOT NULL,
    classname   TEXT,
    outcome     TEXT   NOT NULL,        -- passed|failed|error|skipped
    duration_ms BIGINT,
    message     TEXT,
    PRIMARY KEY (run_id, idx, suite_no, case_no)
);
CREATE INDEX test_cases_name ON test_cases (name);

CREATE TABLE coverage (
    run_id          BIGINT NOT NULL,
    idx             BIGINT NOT NULL,
    report          TEXT   NOT NULL,
    format          TEXT   NOT NULL,    -- lcov|cobertura
    lines_found     BIGINT NOT NULL,
    lines_hit       BIGINT NOT NULL,
    branches_found  BIGINT NOT NULL,
    branches_hit    BIGINT NOT NULL,
    functions_found BIGINT NOT NULL,
    functions_hit   BIGINT NOT NULL,
    PRIMARY KEY (run_id, idx, report)
);

CREATE TABLE coverage_files (
    run_id         BIGINT NOT NULL,
    idx            BIGINT NOT NULL,
    report         TEXT   NOT NULL,
    path           TEXT   NOT NULL,
    lines_found    BIGINT NOT NULL,
    lines_hit      BIGINT NOT NULL,
    branches_found BIGINT NOT NULL,
    branches_hit   BIGINT NOT NULL,
    PRIMARY KEY (run_id, idx, report, path)
);
