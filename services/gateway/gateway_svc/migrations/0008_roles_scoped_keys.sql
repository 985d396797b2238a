-- Organisations, roles and scoped keys (issue 19, first slice). An organisation is today's tenant:
-- the table keeps its name (every tenant_id column refers to it) and gains a display name.
ALTER TABLE tenants ADD COLUMN name text NOT NULL DEFAULT '';
UPDATE tenants SET name = id WHERE name = '';
CREATE VIEW organisations AS SELECT id, name, created_at FROM tenants;

-- Every key acts with one role in its organisation (permissions.py maps roles to permissions) and
-- may carry scopes narrowing it (NULL: every permission of the role). Existing keys could do
-- everything in their tenant, so they become 'admin' keys of a service account 'legacy'; is_admin
-- keeps its meaning: a platform operator's key (analytics across organisations).
ALTER TABLE api_keys
    ADD COLUMN role text NOT NULL DEFAULT 'admin' CHECK (role IN ('viewer', 'editor', 'admin', 'owner')),
    ADD COLUMN scopes text[],
    ADD COLUMN service_account text NOT NULL DEFAULT 'legacy';
-- New keys name their role and service account explicitly (auth.create_api_key).
ALTER TABLE api_keys ALTER COLUMN role DROP DEFAULT, ALTER COLUMN service_account DROP DEFAULT;
