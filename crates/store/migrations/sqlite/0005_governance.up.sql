-- Governance: users, PIM role grants, API tokens, the RBAC policy,
-- requirements with history, backlog, exchanges, trace links.

CREATE TABLE users (
    name          TEXT    PRIMARY KEY,
    password_hash TEXT,                       -- argon2id PHC string; NULL: no password
    superuser     BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TEXT    NOT NULL,
    created_by    TEXT    NOT NULL
);

CREATE TABLE role_grants (
    user_name  TEXT NOT NULL REFERENCES users (name),
    role       TEXT NOT NULL,                 -- PIM role id
    granted_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    PRIMARY KEY (user_name, role)
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,             -- public part, shown in listings
    user_name   TEXT NOT NULL REFERENCES users (name),
    secret_hash TEXT NOT NULL,                -- hex SHA-256 of the secret part
    scope       TEXT NOT NULL,                -- all | read
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);

CREATE TABLE rbac_policies (
    version INTEGER PRIMARY KEY,
    text    TEXT NOT NULL,
    sha256  TEXT NOT NULL,
    set_at  TEXT NOT NULL,
    set_by  TEXT NOT NULL
);

CREATE TABLE requirements (
    id           TEXT    PRIMARY KEY,
    version      INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,           -- functional | nonfunctional | security
    priority     TEXT    NOT NULL,
    acceptance   TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    parent       TEXT,
    arch_element TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE TABLE requirement_versions (
    requirement_id TEXT    NOT NULL REFERENCES requirements (id),
    version        INTEGER NOT NULL,
    snapshot       TEXT    NOT NULL,         -- JSON of every field at this version
    changed_at     TEXT    NOT NULL,
    changed_by     TEXT    NOT NULL,
    PRIMARY KEY (requirement_id, version)
);

CREATE TABLE backlog_flows (
    version     INTEGER PRIMARY KEY,
    states      TEXT NOT NULL,               -- JSON list of state names, in order
    transitions TEXT NOT NULL,               -- JSON list of [from, to]
    set_at      TEXT NOT NULL,
    set_by      TEXT NOT NULL
);

CREATE TABLE backlog_items (
    key         TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,            -- story | task | defect | security | tech-debt | patch
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    estimate    REAL,
    assignee    TEXT,
    sprint      TEXT,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE backlog_requirement_links (
    item_key       TEXT NOT NULL REFERENCES backlog_items (key),
    requirement_id TEXT NOT NULL REFERENCES requirements (id),
    PRIMARY KEY (item_key, requirement_id)
);

CREATE TABLE backlog_dependencies (
    item_key   TEXT NOT NULL REFERENCES backlog_items (key),
    depends_on TEXT NOT NULL REFERENCES backlog_items (key),
    PRIMARY KEY (item_key, depends_on)
);

-- Commits that mention an item key (recorded by `dso trace link-commits`, later by pipeline runs).
CREATE TABLE commit_links (
    item_key  TEXT NOT NULL REFERENCES backlog_items (key),
    sha       TEXT NOT NULL,
    summary   TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    run_id    TEXT,                          -- the pipeline run that recorded it, when one did
    PRIMARY KEY (item_key, sha)
);

-- Test cases that verify a requirement (from a mapping file or JUnit names).
CREATE TABLE requirement_tests (
    requirement_id TEXT NOT NULL REFERENCES requirements (id),
    test_case      TEXT NOT NULL,            -- JUnit classname.name, or name
    PRIMARY KEY (requirement_id, test_case)
);

CREATE TABLE exchange_documents (
    id             TEXT    PRIMARY KEY,      -- DOC-n
    item           TEXT    NOT NULL,         -- IE id
    exchange       TEXT    NOT NULL,         -- OE id (Table 2 row)
    version        INTEGER NOT NULL,         -- per item
    title          TEXT    NOT NULL,
    content        TEXT    NOT NULL,
    sha256         TEXT    NOT NULL,
    sender         TEXT    NOT NULL,
    sender_role    TEXT    NOT NULL,
    receiver       TEXT    NOT NULL,         -- receiving performer id
    state          TEXT    NOT NULL,         -- sent | acknowledged | returned
    sent_at        TEXT    NOT NULL,
    responder      TEXT,
    responder_role TEXT,
    response_note  TEXT,
    responded_at   TEXT
);
CREATE INDEX exchange_documents_item ON exchange_documents (item, version);
