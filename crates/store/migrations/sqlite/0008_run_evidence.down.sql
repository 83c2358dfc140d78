ALTER TABLE releases DROP COLUMN evidence;
DROP INDEX gate_decisions_run;
DROP TABLE gate_decisions;
DROP TABLE run_sboms;
DROP INDEX run_findings_finding;
DROP TABLE run_findings;
