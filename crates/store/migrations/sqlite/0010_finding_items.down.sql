DROP TABLE finding_items;
