-- Advisory records as imported (one row per database record, raw).
CREATE TABLE advisory_records (
    id     TEXT PRIMARY KEY,          -- RUSTSEC-..., GHSA-..., PYSEC-..., GO-...
    source TEXT NOT NULL,             -- the file it came from
    data   TEXT NOT NULL              -- JSON of the normalised record
);

-- Vulnerabilities: records merged by alias (the matching view).
CREATE TABLE advisories (
    id       TEXT PRIMARY KEY,        -- the primary id of the group
    severity TEXT NOT NULL,
    summary  TEXT NOT NULL,
    modified TEXT,
    -- The merged advisory without prose (details, references): what a scan reads.
    -- Before `data`, so that SQLite reads it without walking data's overflow pages.
    matching TEXT NOT NULL,
    data     TEXT NOT NULL            -- JSON of the merged advisory
);
CREATE TABLE advisory_aliases (
    alias       TEXT NOT NULL,        -- every id of the group, the primary one included
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (alias, advisory_id)
);
CREATE INDEX advisory_aliases_advisory ON advisory_aliases (advisory_id);
-- The matching index: which advisories name a package.
CREATE TABLE advisory_packages (
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL,        -- normalised (PEP 503 for PyPI)
    advisory_id TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    PRIMARY KEY (ecosystem, name, advisory_id)
);
CREATE INDEX advisory_packages_advisory ON advisory_packages (advisory_id);
-- The same index, one row per ecosystem ("name<TAB>advisory id" lines), so that a
-- scan reads it in one row instead of one row per package.
CREATE TABLE advisory_index (
    ecosystem TEXT PRIMARY KEY,
    entries   TEXT NOT NULL
);

-- Findings of every scanner, one row per fingerprint, with the triage state.
CREATE TABLE findings (
    id            TEXT PRIMARY KEY,   -- F- and the first 12 hex digits of the fingerprint
    fingerprint   TEXT NOT NULL UNIQUE,
    scope         TEXT NOT NULL,      -- what was scanned (a scan of the same scope can fix it)
    scanner       TEXT NOT NULL,
    rule          TEXT NOT NULL,      -- rule id or advisory id
    severity      TEXT NOT NULL,
    status        TEXT NOT NULL,      -- new, confirmed, false_positive, accepted_risk, fixed, reopened
    file          TEXT,
    line          BIGINT,
    title         TEXT NOT NULL,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    justification TEXT,
    approver      TEXT,
    expires       TEXT,
    data          TEXT NOT NULL       -- JSON of the normalised finding
);
CREATE INDEX findings_scope_status ON findings (scope, status);
CREATE INDEX findings_status ON findings (status);

-- OpenVEX statements, one row per (vulnerability, product); `not_affected` ones
-- suppress the matching SCA findings.
CREATE TABLE vex_statements (
    vulnerability TEXT NOT NULL,
    product       TEXT NOT NULL,      -- a purl (with or without version) or an IRI
    status        TEXT NOT NULL,      -- not_affected, affected, fixed, under_investigation
    source        TEXT NOT NULL,      -- the document it came from
    data          TEXT NOT NULL,      -- JSON of the statement
    PRIMARY KEY (vulnerability, product)
);
