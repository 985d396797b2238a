-- Fair scheduling (dispatch.py): a submitted job waits with dispatched_at NULL until the dispatcher
-- gives it one of its tenant's slots and publishes it. The default marks rows from before this
-- migration, and any written without it, as already published.
ALTER TABLE jobs ADD COLUMN dispatched_at timestamptz DEFAULT now();
-- The submitting request's trace context, so the later publish continues its trace.
ALTER TABLE jobs ADD COLUMN trace_headers jsonb;
-- What each job counts against its tenant's monthly quotas (quotas.py).
ALTER TABLE jobs ADD COLUMN media_seconds double precision NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;

CREATE INDEX jobs_waiting_idx ON jobs (tenant_id, created_at) WHERE dispatched_at IS NULL;
CREATE INDEX jobs_unfinished_idx ON jobs (tenant_id) WHERE status IN ('queued', 'running');

-- Per-tenant quota overrides; a NULL column means the gateway's default setting applies.
CREATE TABLE tenant_quotas (
    tenant_id               text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    concurrent_jobs         integer CHECK (concurrent_jobs >= 1),
    media_minutes_per_month double precision CHECK (media_minutes_per_month >= 0),
    storage_bytes_per_month bigint CHECK (storage_bytes_per_month >= 0)
);
