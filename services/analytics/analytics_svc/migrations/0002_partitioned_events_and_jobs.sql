-- The analytics schema: events range-partitioned by month, a jobs table and per-step checkpoints kept
-- current from the events (in the ingest transaction), and the reports the scheduler stores.
-- Existing events move into the partitioned table and are folded into the jobs table here.

-- Exactly-once guard. A partitioned table's unique keys must contain the partition key, so the event
-- id alone cannot be the events' primary key: this table holds every id once, across partitions.
CREATE TABLE event_ids (
    event_id    uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL
);

ALTER TABLE job_events RENAME TO job_events_unpartitioned;
DROP INDEX job_events_job_idx;
DROP INDEX job_events_tenant_time_idx;
DROP INDEX job_events_kind_time_idx;

CREATE TABLE job_events (
    event_id       uuid NOT NULL,
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
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX job_events_job_idx ON job_events (job_id, occurred_at);
CREATE INDEX job_events_tenant_time_idx ON job_events (tenant_id, occurred_at);
CREATE INDEX job_events_kind_time_idx ON job_events (job_kind, occurred_at);

-- The monthly partition holding ``at`` (UTC months), created if missing; returns its name.
-- Serialised per partition by an advisory lock, so replicas racing on a new month do not collide.
CREATE FUNCTION analytics_ensure_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
    name text := 'job_events_' || to_char(month_start, 'YYYY_MM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext('clipsift-partition-' || name));
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF job_events FOR VALUES FROM (%L) TO (%L)',
                name,
                month_start AT TIME ZONE 'UTC',
                (month_start + interval '1 month') AT TIME ZONE 'UTC'
            );
        END IF;
    END IF;
    RETURN name;
END
$$;

-- Terminal states win over running over requested; a completed job stays completed.
CREATE FUNCTION analytics_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE status WHEN 'requested' THEN 0 WHEN 'running' THEN 1 WHEN 'failed' THEN 2
                       WHEN 'completed' THEN 3 ELSE -1 END
$$;

-- Failure messages carry numbers and quoted values; masking them groups like failures together.
CREATE FUNCTION analytics_failure_reason(message text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT left(regexp_replace(regexp_replace(message, '''[^'']*''|"[^"]*"', '…', 'g'),
                               '[0-9]+([.,][0-9]+)*', 'N', 'g'), 200)
$$;

-- One row per job, kept current from its events. Usage figures come from the completed event's
-- payload: media_seconds (clip jobs), documents (dedup jobs), clips (clip jobs).
CREATE TABLE analytics_jobs (
    job_id           uuid PRIMARY KEY,
    tenant_id        text NOT NULL,
    job_kind         text NOT NULL,
    status           text NOT NULL CHECK (status IN ('requested', 'running', 'completed', 'failed')),
    created_at       timestamptz NOT NULL,
    started_at       timestamptz,
    finished_at      timestamptz,
    last_event_at    timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 1,
    events           bigint NOT NULL DEFAULT 0,
    progress         double precision NOT NULL DEFAULT 0,
    last_step        text NOT NULL DEFAULT '',
    error_reason     text,
    error_message    text,
    media_seconds    double precision,
    documents        bigint,
    clips            bigint,
    queue_seconds    double precision GENERATED ALWAYS AS (extract(epoch FROM started_at - created_at)) STORED,
    duration_seconds double precision GENERATED ALWAYS AS (extract(epoch FROM finished_at - created_at)) STORED,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX analytics_jobs_tenant_finished_idx ON analytics_jobs (tenant_id, finished_at);
CREATE INDEX analytics_jobs_finished_idx ON analytics_jobs (finished_at);
CREATE INDEX analytics_jobs_created_idx ON analytics_jobs (created_at);

-- One row per (job, step): when the step's checkpoints happened. ``elapsed_seconds`` is the latest
-- checkpoint's time since the worker picked the job up (from the progress payload; since the job
-- was created for events that do not carry it).
CREATE TABLE job_steps (
    job_id          uuid NOT NULL,
    step            text NOT NULL,
    tenant_id       text NOT NULL,
    job_kind        text NOT NULL,
    first_at        timestamptz NOT NULL,
    last_at         timestamptz NOT NULL,
    elapsed_seconds double precision NOT NULL,
    events          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, step)
);

CREATE INDEX job_steps_last_at_idx ON job_steps (last_at);

-- A step lasts from the previous step's last checkpoint to its own last checkpoint.
CREATE VIEW job_step_seconds AS
SELECT job_id, tenant_id, job_kind, step, last_at AS finished_at, elapsed_seconds,
       greatest(0, elapsed_seconds - coalesce(lag(elapsed_seconds) OVER w, 0)) AS seconds
FROM job_steps
WINDOW w AS (PARTITION BY job_id ORDER BY elapsed_seconds, first_at);

-- Fold stored events (by id, within [lo, hi] for partition pruning) into analytics_jobs and job_steps.
-- Called once per ingested batch with the ids that batch newly stored, in the same transaction, so
-- counters like analytics_jobs.events count every event exactly once.
CREATE FUNCTION analytics_fold_events(ids uuid[], lo timestamptz, hi timestamptz) RETURNS void
LANGUAGE sql AS $$
WITH new_events AS (
    SELECT * FROM job_events WHERE event_id = ANY (ids) AND occurred_at BETWEEN lo AND hi
), folded_jobs AS (
    INSERT INTO analytics_jobs AS j (
        job_id, tenant_id, job_kind, status, created_at, started_at, finished_at, last_event_at,
        attempts, events, progress, last_step, error_reason, error_message, media_seconds, documents, clips
    )
    SELECT job_id,
           min(tenant_id),
           min(job_kind),
           (array_agg(CASE type WHEN 'progress' THEN 'running' ELSE type END
                      ORDER BY analytics_status_rank(CASE type WHEN 'progress' THEN 'running' ELSE type END) DESC))[1],
           min(coalesce(job_created_at, occurred_at)),
           min(occurred_at - make_interval(secs => coalesce((payload ->> 'elapsed_seconds')::float8, 0)))
               FILTER (WHERE type IN ('progress', 'completed')),
           max(occurred_at) FILTER (WHERE type IN ('completed', 'failed')),
           max(occurred_at),
           max(attempt),
           count(*),
           max(progress),
           coalesce((array_agg(step ORDER BY occurred_at DESC) FILTER (WHERE type = 'progress'))[1], ''),
           analytics_failure_reason(max(message) FILTER (WHERE type = 'failed')),
           max(message) FILTER (WHERE type = 'failed'),
           max((payload ->> 'media_seconds')::float8) FILTER (WHERE type = 'completed'),
           (max((payload ->> 'documents')::float8) FILTER (WHERE type = 'completed'))::bigint,
           (max((payload ->> 'clips')::float8) FILTER (WHERE type = 'completed' AND job_kind = 'clip'))::bigint
    FROM new_events
    GROUP BY job_id
    ORDER BY job_id  -- replicas folding overlapping jobs lock rows in one order: no deadlock
    ON CONFLICT (job_id) DO UPDATE SET
        status = CASE WHEN analytics_status_rank(excluded.status) > analytics_status_rank(j.status)
                      THEN excluded.status ELSE j.status END,
        created_at = least(j.created_at, excluded.created_at),
        started_at = least(j.started_at, excluded.started_at),
        finished_at = greatest(j.finished_at, excluded.finished_at),
        last_step = CASE WHEN excluded.last_event_at >= j.last_event_at AND excluded.last_step <> ''
                         THEN excluded.last_step ELSE j.last_step END,
        last_event_at = greatest(j.last_event_at, excluded.last_event_at),
        attempts = greatest(j.attempts, excluded.attempts),
        events = j.events + excluded.events,
        progress = greatest(j.progress, excluded.progress),
        error_reason = coalesce(excluded.error_reason, j.error_reason),
        error_message = coalesce(excluded.error_message, j.error_message),
        media_seconds = coalesce(excluded.media_seconds, j.media_seconds),
        documents = coalesce(excluded.documents, j.documents),
        clips = coalesce(excluded.clips, j.clips),
        updated_at = now()
    RETURNING 1
)
INSERT INTO job_steps AS s (job_id, step, tenant_id, job_kind, first_at, last_at, elapsed_seconds, events)
SELECT job_id, step, min(tenant_id), min(job_kind), min(occurred_at), max(occurred_at),
       max(coalesce((payload ->> 'elapsed_seconds')::float8,
                    extract(epoch FROM occurred_at - coalesce(job_created_at, occurred_at)))),
       count(*)
FROM new_events
WHERE type = 'progress' AND step <> ''
GROUP BY job_id, step
ORDER BY job_id, step
ON CONFLICT (job_id, step) DO UPDATE SET
    first_at = least(s.first_at, excluded.first_at),
    last_at = greatest(s.last_at, excluded.last_at),
    elapsed_seconds = greatest(s.elapsed_seconds, excluded.elapsed_seconds),
    events = s.events + excluded.events
$$;

-- Reports rendered by the scheduler, stored in the blob store; one per (scope, period, format), so
-- replicas and restarts never render a period twice. tenant_id '' is the all-tenant report.
CREATE TABLE analytics_reports (
    id           uuid PRIMARY KEY,
    tenant_id    text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    format       text NOT NULL CHECK (format IN ('csv', 'html')),
    blob_key     text NOT NULL,
    size_bytes   bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, period_start, period_end, format)
);

-- Existing events: partitions for every month they cover, then copy, then fold.
SELECT analytics_ensure_partition(month)
FROM (SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month
      FROM job_events_unpartitioned) AS months;

INSERT INTO event_ids (event_id, occurred_at)
SELECT event_id, occurred_at FROM job_events_unpartitioned;

INSERT INTO job_events (event_id, job_id, tenant_id, job_kind, type, progress, step, message, payload,
                        attempt, occurred_at, job_created_at, stream_seq, ingested_at)
SELECT event_id, job_id, tenant_id, job_kind, type, progress, step, message, payload,
       attempt, occurred_at, job_created_at, stream_seq, ingested_at
FROM job_events_unpartitioned;

SELECT analytics_fold_events(array_agg(event_id), min(occurred_at), max(occurred_at))
FROM job_events
HAVING count(*) > 0;

DROP TABLE job_events_unpartitioned;
