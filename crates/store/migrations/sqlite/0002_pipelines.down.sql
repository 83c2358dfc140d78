DROP TABLE secrets;
DROP INDEX artifacts_sha256;
DROP TABLE artifacts;
DROP TABLE job_logs;
DROP TABLE run_jobs;
DROP INDEX runs_commit;
DROP INDEX runs_status;
DROP TABLE runs;
