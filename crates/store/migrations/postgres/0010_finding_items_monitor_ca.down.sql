ALTER TABLE monitors DROP COLUMN ca_file;
DROP TABLE finding_items;
