CREATE TABLE tenants (
    id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Only a SHA-256 of each key is stored; the key itself is shown once, at creation.
CREATE TABLE api_keys (
    id         uuid PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    key_hash   bytea NOT NULL UNIQUE,
    prefix     text NOT NULL,
    label      text NOT NULL DEFAULT '',
    is_admin   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE TABLE jobs (
    id         uuid PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    kind       text NOT NULL,
    status     text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    progress   double precision NOT NULL DEFAULT 0,
    step       text NOT NULL DEFAULT '',
    message    text NOT NULL DEFAULT '',
    options    jsonb NOT NULL DEFAULT '{}'::jsonb,
    input_key  text NOT NULL,
    result     jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX jobs_tenant_created_idx ON jobs (tenant_id, created_at DESC);
