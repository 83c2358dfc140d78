-- The event log: one row per CloudEvents envelope, hash-chained by seq.
CREATE TABLE events (
    seq        BIGINT  PRIMARY KEY,       -- 1, 2, 3 ... without gaps
    id         TEXT    NOT NULL UNIQUE,   -- CloudEvents id (UUIDv7)
    source     TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    subject    TEXT,
    time       TEXT    NOT NULL,          -- RFC 3339 UTC, fixed width (microseconds)
    actor      TEXT    NOT NULL,
    actor_role TEXT,
    data       TEXT    NOT NULL,          -- JSON text
    prev_hash  TEXT    NOT NULL,          -- hex SHA-256 of the previous entry
    hash       TEXT    NOT NULL           -- hex SHA-256 of this entry
);
CREATE INDEX events_type_seq ON events (type, seq);
CREATE INDEX events_time ON events (time);
CREATE INDEX events_subject ON events (subject);

-- Signed checkpoints over (seq, hash).
CREATE TABLE checkpoints (
    seq       BIGINT PRIMARY KEY,
    hash      TEXT NOT NULL,
    time      TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
