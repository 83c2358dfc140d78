-- Advisory sources fetched by `dso advisories sync`: what the server said
-- last time (validators for a conditional GET) and what was imported.
CREATE TABLE advisory_sources (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    fetched_at TEXT NOT NULL
);
