-- Operational and Monitoring domains: environments, signed releases,
-- deployments and their approvals; monitors, probe samples, SLOs, incidents.
CREATE TABLE environments (
    name          TEXT   PRIMARY KEY,
    protected     BIGINT NOT NULL,             -- 0 or 1
    approvals     BIGINT NOT NULL,             -- approvals a deployment needs
    approver_role TEXT   NOT NULL,             -- PIM role id an approver must hold
    target        TEXT   NOT NULL,             -- JSON: {"kind":"script","command":...} | kubectl | none
    strategy      TEXT   NOT NULL,             -- JSON: {"kind":"all-at-once"} | {"kind":"stepped","steps":N}
    health_checks TEXT   NOT NULL,             -- JSON list
    created_at    TEXT   NOT NULL,
    updated_at    TEXT   NOT NULL
);

CREATE TABLE releases (
    version     TEXT   PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES runs (id),
    service     TEXT   NOT NULL,               -- the product (repository name)
    repo        TEXT   NOT NULL,
    commit_sha  TEXT   NOT NULL,
    artifacts   TEXT   NOT NULL,               -- JSON list of {path, sha256, size}
    envelope    TEXT   NOT NULL,               -- DSSE envelope of the in-toto statement
    created_at  TEXT   NOT NULL,
    actor       TEXT   NOT NULL
);

CREATE TABLE deployments (
    id               INTEGER PRIMARY KEY,
    env              TEXT   NOT NULL REFERENCES environments (name),
    version          TEXT   NOT NULL REFERENCES releases (version),
    service          TEXT   NOT NULL,
    kind             TEXT   NOT NULL,          -- deploy|rollback
    status           TEXT   NOT NULL,          -- pending-approval|running|succeeded|failed|refused|interrupted
    requested_by     TEXT   NOT NULL,
    requested_at     TEXT   NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    previous_version TEXT,                     -- what ran in the environment before
    rollback_of      BIGINT,                   -- the deployment a rollback undoes
    commits          TEXT   NOT NULL,          -- JSON list of commit ids this deployment brings
    detail           TEXT,
    host             TEXT,                     -- where the dso process running it runs
    pid              BIGINT
);
CREATE INDEX deployments_env ON deployments (env, id);

CREATE TABLE approvals (
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    user_name     TEXT   NOT NULL,
    role          TEXT   NOT NULL,
    at            TEXT   NOT NULL,
    PRIMARY KEY (deployment_id, user_name)
);

CREATE TABLE monitors (
    name          TEXT   PRIMARY KEY,
    env           TEXT   NOT NULL,
    service       TEXT   NOT NULL,
    kind          TEXT   NOT NULL,             -- http|tcp
    target        TEXT   NOT NULL,             -- URL or host:port
    interval_ms   BIGINT NOT NULL,
    timeout_ms    BIGINT NOT NULL,
    expect_status BIGINT,
    expect_body   TEXT,
    created_at    TEXT   NOT NULL
);

CREATE TABLE samples (
    id         INTEGER PRIMARY KEY,
    monitor    TEXT   NOT NULL,
    at         TEXT   NOT NULL,
    ok         BIGINT NOT NULL,                -- 0 or 1
    latency_ms BIGINT NOT NULL,
    detail     TEXT
);
CREATE INDEX samples_monitor ON samples (monitor, at);

CREATE TABLE slos (
    name       TEXT   PRIMARY KEY,
    env        TEXT   NOT NULL,
    service    TEXT   NOT NULL,
    target     TEXT   NOT NULL,                -- availability objective, e.g. "99.9" (percent)
    window_s   BIGINT NOT NULL,
    created_at TEXT   NOT NULL
);

CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    env           TEXT   NOT NULL,
    service       TEXT   NOT NULL,
    source        TEXT   NOT NULL,             -- probe|alert|usage|manual
    source_key    TEXT   NOT NULL,             -- monitor name, alert fingerprint, ...
    severity      TEXT   NOT NULL,
    title         TEXT   NOT NULL,
    status        TEXT   NOT NULL,             -- open|resolved
    detected_at   TEXT   NOT NULL,
    resolved_at   TEXT,
    resolved_by   TEXT,
    deployment_id BIGINT                       -- the deployment it is attributed to
);
CREATE INDEX incidents_open ON incidents (status, source, source_key);

CREATE TABLE incident_timeline (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    entry_no    BIGINT NOT NULL,
    at          TEXT   NOT NULL,
    kind        TEXT   NOT NULL,               -- detected|note|resolved|...
    text        TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    PRIMARY KEY (incident_id, entry_no)
);
