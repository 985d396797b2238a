-- Resumable uploads (resumable.py): a big file sent in numbered parts, straight to S3 through
-- presigned part URLs or through the gateway, then completed into one object a job is made from.
CREATE TABLE resumable_uploads (
    id                uuid PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    filename          text NOT NULL,
    content_type      text NOT NULL,
    size              bigint NOT NULL CHECK (size > 0),
    part_size         bigint NOT NULL CHECK (part_size > 0),
    part_count        integer NOT NULL CHECK (part_count >= 1),
    transport         text NOT NULL CHECK (transport IN ('presigned', 'gateway')),
    -- open: parts arriving; complete: the object exists; used: a job took the object;
    -- aborted: the client gave it up (its parts are gone).
    state             text NOT NULL DEFAULT 'open'
                      CHECK (state IN ('open', 'complete', 'used', 'aborted')),
    -- The S3 multipart upload id (presigned transport), else NULL.
    backend_upload_id text,
    object_key        text NOT NULL,
    job_id            uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    completed_at      timestamptz
);
CREATE INDEX resumable_uploads_tenant_idx ON resumable_uploads (tenant_id, created_at);
CREATE INDEX resumable_uploads_open_idx ON resumable_uploads (expires_at) WHERE state = 'open';
