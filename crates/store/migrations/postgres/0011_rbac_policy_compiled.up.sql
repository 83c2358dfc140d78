-- The compiled form of a stored RBAC policy (Cedar's JSON policies and the schema's
-- action entities), which loads without Cedar's text parser or schema builder; NULL
-- for policies stored before it (their text is parsed).
ALTER TABLE rbac_policies ADD COLUMN compiled_policies TEXT;
ALTER TABLE rbac_policies ADD COLUMN compiled_actions TEXT;
