-- Every job event, exactly once: the event id (deterministic per job step) is the key.
CREATE TABLE job_events (
    event_id       uuid PRIMARY KEY,
    job_id         uuid NOT NULL,
    tenant_id      text NOT NULL,
    job_kind       text NOT NULL,
    type           text NOT NULL CHECK (type IN ('requested', 'progress', 'completed', 'failed')),
    progress       double precision NOT NULL DEFAULT 0,
    step           text NOT NULL DEFAULT '',
    message        text NOT NULL DEFAULT '',
    payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempt        integer NOT NULL DEFAULT 1,
    occurred_at    timestamptz NOT NULL,
    job_created_at timestamptz,
    stream_seq     bigint NOT NULL,
    ingested_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX job_events_job_idx ON job_events (job_id, occurred_at);
CREATE INDEX job_events_tenant_time_idx ON job_events (tenant_id, occurred_at);
CREATE INDEX job_events_kind_time_idx ON job_events (job_kind, occurred_at);
