-- A finding turned into a backlog item (`dso backlog add --from-finding`): at
-- most one item per finding (the primary key), and one finding per item.
CREATE TABLE finding_items (
    finding_id TEXT NOT NULL PRIMARY KEY REFERENCES findings (id),
    item_key   TEXT NOT NULL UNIQUE REFERENCES backlog_items (key),
    linked_at  TEXT NOT NULL,
    linked_by  TEXT NOT NULL
);

-- A PEM file of CA certificates an https:// monitor trusts instead of the public roots.
ALTER TABLE monitors ADD COLUMN ca_file TEXT;
