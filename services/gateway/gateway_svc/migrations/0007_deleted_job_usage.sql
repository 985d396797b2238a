-- What deleted jobs had counted against their tenant's monthly quotas (quotas.py), per month of
-- their creation (UTC): deleting a job (DELETE /v1/jobs/{id}, the retention sweeper) removes its
-- row, and must not hand the month's video minutes and uploaded bytes back.
CREATE TABLE deleted_job_usage (
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    month         date NOT NULL,
    media_seconds double precision NOT NULL DEFAULT 0,
    stored_bytes  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, month)
);
