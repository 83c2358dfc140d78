DROP TABLE coverage_files;
DROP TABLE coverage;
DROP INDEX test_cases_name;
DROP TABLE test_cases;
DROP TABLE test_suites;
