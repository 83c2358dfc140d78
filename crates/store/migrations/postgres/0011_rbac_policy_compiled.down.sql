ALTER TABLE rbac_policies DROP COLUMN compiled_actions;
ALTER TABLE rbac_policies DROP COLUMN compiled_policies;
