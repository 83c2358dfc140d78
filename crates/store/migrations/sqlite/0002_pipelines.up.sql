-- Pipeline runs (Development and Test domain): a run of .dso/pipeline.yaml
-- at one commit, its jobs, their logs and artifacts; and the secret store.
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    repo           TEXT    NOT NULL,
    git_ref        TEXT    NOT NULL,
    commit_sha     TEXT    NOT NULL,
    commit_author  TEXT    NOT NULL,
    commit_time    TEXT    NOT NULL,
    commit_message TEXT    NOT NULL,
    backlog_keys   TEXT    NOT NULL,           -- JSON list, e.g. ["ABC-12", "#7"]
    pipeline_file  TEXT    NOT NULL,           -- the YAML as it was run
    status         TEXT    NOT NULL,           -- queued|running|success|failed|cancelled|interrupted
    queued_at      TEXT    NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    actor          TEXT    NOT NULL,
    host           TEXT    NOT NULL,
    pid            BIGINT
);
CREATE INDEX runs_status ON runs (status);
CREATE INDEX runs_commit ON runs (commit_sha);

CREATE TABLE run_jobs (
    run_id      BIGINT  NOT NULL REFERENCES runs (id),
    idx         BIGINT  NOT NULL,              -- position in the expanded pipeline
    name        TEXT    NOT NULL,
    activity    TEXT    NOT NULL,
    needs       TEXT    NOT NULL,              -- JSON list of job names
    status      TEXT    NOT NULL,              -- pending|running|success|failed|allowed_failure|skipped|cancelled
    exit_code   BIGINT,
    attempts    BIGINT  NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    duration_ms BIGINT,
    detail      TEXT,                          -- why it failed or was skipped
    PRIMARY KEY (run_id, idx)
);

CREATE TABLE job_logs (
    run_id  BIGINT NOT NULL,
    idx     BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    data    BLOB   NOT NULL,                   -- gzip of the masked log
    n_lines BIGINT NOT NULL,
    n_bytes BIGINT NOT NULL,
    PRIMARY KEY (run_id, idx, attempt)
);

CREATE TABLE artifacts (
    run_id BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    path   TEXT   NOT NULL,                    -- relative to the work directory
    sha256 TEXT   NOT NULL,                    -- content address in the artifact store
    size   BIGINT NOT NULL,
    PRIMARY KEY (run_id, idx, path)
);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,                  -- XChaCha20-Poly1305 under a key derived from the workspace key
    updated_at TEXT NOT NULL
);
