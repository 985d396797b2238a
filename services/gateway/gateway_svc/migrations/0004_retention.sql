-- Per-tenant retention (retention.py): finished jobs older than this many days are deleted, rows
-- and objects, by the retention sweeper. No row: the gateway's retention_days setting applies;
-- 0 keeps the tenant's jobs until they are deleted by hand.
CREATE TABLE tenant_retention (
    tenant_id      text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    retention_days double precision NOT NULL CHECK (retention_days >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The sweeper's scan: finished jobs by when they finished (updated_at is set by the final event).
CREATE INDEX jobs_finished_idx ON jobs (updated_at) WHERE status IN ('completed', 'failed');
