"""Read side of the event store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from clipsift_common.errors import InvalidArgument

STATUSES = ("requested", "running", "completed", "failed")
# Bucket name -> (PostgreSQL interval of one bucket, longest such bucket); "all" is the whole range.
BUCKETS: dict[str, tuple[str, timedelta]] = {
    "hour": ("1 hour", timedelta(hours=1)),
    "day": ("1 day", timedelta(days=1)),
    "week": ("7 days", timedelta(weeks=1)),
    "month": ("1 month", timedelta(days=31)),
    "all": ("", timedelta.max),
}
# The bucket of a row: date_trunc to UTC hours/days/weeks/months, or the range start for "all".
_BUCKET_OF = "coalesce(date_trunc(%(trunc)s, {column}, 'UTC'), %(since)s::timestamptz)"

# analytics_jobs holds each job's status as its events made it (terminal events win) and its event count.
_SUMMARY = """
SELECT tenant_id, job_kind, status, count(*) AS jobs, sum(events)::bigint AS events
FROM analytics_jobs
WHERE (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)
  AND (%(kind)s::text IS NULL OR job_kind = %(kind)s)
  AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s)
  AND (%(status)s::text IS NULL OR status = %(status)s)
GROUP BY tenant_id, job_kind, status
ORDER BY tenant_id, job_kind, status
"""

_JOB_EVENTS = """
SELECT event_id::text, type, progress, step, message, occurred_at
FROM job_events
WHERE job_id = %(job)s AND (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)
ORDER BY occurred_at, stream_seq
"""


@dataclass(frozen=True)
class SummaryFilter:
    tenant_id: str | None = None
    job_kind: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def validate(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise InvalidArgument(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.since and self.until and self.since >= self.until:
            raise InvalidArgument("since must be before until")


class EventQueries:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def summary(self, where: SummaryFilter) -> list[dict[str, Any]]:
        where.validate()
        params = {
            "tenant": where.tenant_id,
            "kind": where.job_kind,
            "status": where.status,
            "since": where.since,
            "until": where.until,
        }
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(_SUMMARY, params)
            return await cur.fetchall()

    async def job_events(self, job_id: str, tenant_id: str | None) -> list[dict[str, Any]]:
        try:
            uuid.UUID(job_id)
        except ValueError:
            raise InvalidArgument(f"job_id {job_id!r} is not a UUID") from None
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(_JOB_EVENTS, {"job": job_id, "tenant": tenant_id})
            return await cur.fetchall()


# Shared filter of the range queries over analytics_jobs (finished jobs, by when they finished).
_JOBS_IN_RANGE = """
    finished_at >= %(since)s AND finished_at < %(until)s
    AND (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)
    AND (%(kind)s::text IS NULL OR job_kind = %(kind)s)
"""

_USAGE = f"""
SELECT {_BUCKET_OF.format(column="finished_at")} AS bucket, tenant_id,
       count(*) AS jobs_finished,
       count(*) FILTER (WHERE status = 'completed') AS jobs_completed,
       count(*) FILTER (WHERE status = 'failed') AS jobs_failed,
       coalesce(sum(media_seconds) FILTER (WHERE status = 'completed'), 0)::float8 AS media_seconds,
       coalesce(sum(documents) FILTER (WHERE status = 'completed'), 0)::bigint AS documents,
       coalesce(sum(clips) FILTER (WHERE status = 'completed'), 0)::bigint AS clips
FROM analytics_jobs
WHERE {_JOBS_IN_RANGE}
GROUP BY 1, 2
ORDER BY 1, 2
"""

# Rates divide by the part of each bucket inside the range, so edge buckets are not diluted.
_THROUGHPUT = f"""
WITH finished AS (
    SELECT {_BUCKET_OF.format(column="finished_at")} AS bucket, job_kind, status, media_seconds, documents
    FROM analytics_jobs
    WHERE {_JOBS_IN_RANGE}
), grouped AS (
    SELECT bucket, job_kind,
           count(*) FILTER (WHERE status = 'completed') AS jobs_completed,
           count(*) FILTER (WHERE status = 'failed') AS jobs_failed,
           coalesce(sum(media_seconds) FILTER (WHERE status = 'completed'), 0) AS media_seconds,
           coalesce(sum(documents) FILTER (WHERE status = 'completed'), 0) AS documents,
           extract(epoch FROM least(bucket + %(width)s::interval, %(until)s)
                              - greatest(bucket, %(since)s)) / 3600.0 AS hours
    FROM finished
    GROUP BY bucket, job_kind
)
SELECT bucket, job_kind, jobs_completed, jobs_failed,
       (jobs_completed / hours)::float8 AS jobs_per_hour,
       (media_seconds / hours)::float8 AS media_seconds_per_hour,
       (documents / hours)::float8 AS documents_per_hour
FROM grouped
ORDER BY bucket, job_kind
"""

# Samples: each step of each job (job_step_seconds), plus per completed job the time it queued
# ("queue") and its end-to-end time ("total"). ``ord`` keeps steps in pipeline order.
_LATENCY = f"""
WITH samples AS (
    SELECT {_BUCKET_OF.format(column="finished_at")} AS bucket, job_kind, step, seconds,
           elapsed_seconds AS ord
    FROM job_step_seconds
    WHERE finished_at >= %(since)s AND finished_at < %(until)s
      AND (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)
      AND (%(kind)s::text IS NULL OR job_kind = %(kind)s)
    UNION ALL
    SELECT {_BUCKET_OF.format(column="finished_at")}, job_kind, stage.step, stage.seconds, stage.ord
    FROM analytics_jobs,
         LATERAL (VALUES ('queue', queue_seconds, -1.0::float8),
                         ('total', duration_seconds, 1e18::float8)) AS stage(step, seconds, ord)
    WHERE status = 'completed' AND stage.seconds IS NOT NULL
      AND finished_at >= %(since)s AND finished_at < %(until)s
      AND (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)
      AND (%(kind)s::text IS NULL OR job_kind = %(kind)s)
)
SELECT bucket, job_kind, step, count(*) AS samples,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50_seconds,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds) AS p99_seconds,
       avg(seconds)::float8 AS mean_seconds,
       max(seconds)::float8 AS max_seconds
FROM samples
GROUP BY bucket, job_kind, step
ORDER BY bucket, job_kind, min(ord), step
"""

_FAILURES = f"""
SELECT job_kind, coalesce(error_reason, '') AS reason, count(*) AS jobs, max(finished_at) AS last_seen,
       (array_agg(job_id::text ORDER BY finished_at DESC))[1] AS example_job_id,
       (array_agg(coalesce(error_message, '') ORDER BY finished_at DESC))[1] AS example_message
FROM analytics_jobs
WHERE status = 'failed' AND {_JOBS_IN_RANGE}
GROUP BY job_kind, coalesce(error_reason, '')
ORDER BY jobs DESC, last_seen DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class AnalyticsRange:
    """A validated query window: [since, until), a bucket width, an optional tenant and job kind."""

    since: datetime
    until: datetime
    bucket: str
    tenant_id: str | None = None
    job_kind: str | None = None

    @classmethod
    def build(
        cls,
        *,
        since: datetime | None,
        until: datetime | None,
        bucket: str,
        tenant_id: str | None,
        job_kind: str | None,
        default_range: timedelta,
        max_buckets: int,
        now: datetime | None = None,
    ) -> AnalyticsRange:
        """Fill the open ends (until = now, since = until - ``default_range``) and check the window."""
        bucket = bucket or "day"
        if bucket not in BUCKETS:
            raise InvalidArgument(f"bucket must be one of {', '.join(BUCKETS)}, got {bucket!r}")
        until = until or now or datetime.now(UTC)
        since = since or until - default_range
        if since >= until:
            raise InvalidArgument("since must be before until")
        buckets = 1.0 if bucket == "all" else (until - since) / BUCKETS[bucket][1]
        if buckets > max_buckets:
            raise InvalidArgument(
                f"{since.isoformat()} to {until.isoformat()} spans about {buckets:.0f} {bucket} buckets; "
                f"the limit is {max_buckets}: use a wider bucket or a shorter range"
            )
        return cls(since, until, bucket, tenant_id or None, job_kind or None)

    def params(self) -> dict[str, Any]:
        whole = self.bucket == "all"
        width = f"{(self.until - self.since).total_seconds()} seconds" if whole else BUCKETS[self.bucket][0]
        return {
            "since": self.since,
            "until": self.until,
            "trunc": None if whole else self.bucket,
            "width": width,
            "tenant": self.tenant_id,
            "kind": self.job_kind,
        }


class UsageQueries:
    """Usage, throughput, latency percentiles and failures over ``analytics_jobs`` and ``job_steps``."""

    def __init__(self, pool: AsyncConnectionPool, max_failure_rows: int = 100) -> None:
        self.pool = pool
        self.max_failure_rows = max_failure_rows

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(sql, params)
            return await cur.fetchall()

    async def usage(self, window: AnalyticsRange) -> list[dict[str, Any]]:
        return await self._rows(_USAGE, window.params())

    async def throughput(self, window: AnalyticsRange) -> list[dict[str, Any]]:
        return await self._rows(_THROUGHPUT, window.params())

    async def latency(self, window: AnalyticsRange) -> list[dict[str, Any]]:
        return await self._rows(_LATENCY, window.params())

    async def failures(self, window: AnalyticsRange) -> list[dict[str, Any]]:
        return await self._rows(_FAILURES, window.params() | {"limit": self.max_failure_rows})
