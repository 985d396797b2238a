-- Buckets a tenant registers (buckets.py): jobs may then read objects from them by reference.
-- The options (credentials, endpoint) are one Fernet token of their JSON: never stored in clear,
-- readable only with the gateway's bucket secret keys. public_options repeats the few that are
-- not secret (endpoint, region, account name) so listing a tenant's buckets decrypts nothing.
CREATE TABLE tenant_buckets (
    tenant_id      text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    url            text NOT NULL,
    public_options jsonb NOT NULL DEFAULT '{}'::jsonb,
    secret_options bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name)
);
