-- What a pipeline run produced as security evidence, and the gate decisions
-- made over it: the findings its scanner steps and SARIF reports saw, the
-- SBOMs its steps and reports produced, and every gate decision.

-- The findings a run saw (the findings table holds their triage state).
CREATE TABLE run_findings (
    run_id     BIGINT NOT NULL REFERENCES runs (id),
    idx        BIGINT NOT NULL,          -- the job that saw it
    finding_id TEXT   NOT NULL REFERENCES findings (id),
    PRIMARY KEY (run_id, idx, finding_id)
);
CREATE INDEX run_findings_finding ON run_findings (finding_id);

-- SBOM documents a run produced (a dso/sbom step or a cyclonedx/spdx report).
CREATE TABLE run_sboms (
    run_id     BIGINT NOT NULL REFERENCES runs (id),
    idx        BIGINT NOT NULL,          -- the job
    name       TEXT   NOT NULL,          -- the report path or the step's output file name
    format     TEXT   NOT NULL,          -- cyclonedx-json | spdx-json
    sha256     TEXT   NOT NULL,          -- of document
    components BIGINT NOT NULL,
    document   TEXT   NOT NULL,          -- the JSON as produced
    PRIMARY KEY (run_id, idx, name)
);

-- Policy gate decisions (`dso gate eval`, `uses: dso/gate`).
CREATE TABLE gate_decisions (
    id           INTEGER PRIMARY KEY,
    subject      TEXT   NOT NULL,        -- e.g. run/12, or what --input described
    run_id       BIGINT REFERENCES runs (id),
    decision     TEXT   NOT NULL,        -- allow | deny
    violations   TEXT   NOT NULL,        -- JSON list
    policies     TEXT   NOT NULL,        -- JSON list of policy file names
    input        TEXT   NOT NULL,        -- JSON: the input document evaluated
    evaluated_at TEXT   NOT NULL,
    actor        TEXT   NOT NULL
);
CREATE INDEX gate_decisions_run ON gate_decisions (run_id);

-- What a release carries besides its artifacts: the run's SBOMs, its findings
-- summary and the gate decision it was made under (JSON).
ALTER TABLE releases ADD COLUMN evidence TEXT NOT NULL DEFAULT '{}';
