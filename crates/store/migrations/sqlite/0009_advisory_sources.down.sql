DROP TABLE advisory_sources;
