"""Read side of the event store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from clipsift_common.errors import InvalidArgument

STATUSES = ("requested", "running", "completed", "failed")

# A job's status is derived from the events stored for it: terminal events win.
_SUMMARY = """
WITH jobs AS (
    SELECT job_id, tenant_id, job_kind,
           min(coalesce(job_created_at, occurred_at)) AS first_seen,
           count(*) AS events,
           CASE WHEN bool_or(type = 'completed') THEN 'completed'
                WHEN bool_or(type = 'failed') THEN 'failed'
                WHEN bool_or(type = 'progress') THEN 'running'
                ELSE 'requested' END AS status
    FROM job_events
    WHERE (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)
      AND (%(kind)s::text IS NULL OR job_kind = %(kind)s)
    GROUP BY job_id, tenant_id, job_kind
)
SELECT tenant_id, job_kind, status, count(*) AS jobs, sum(events)::bigint AS events
FROM jobs
WHERE (%(since)s::timestamptz IS NULL OR first_seen >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR first_seen < %(until)s)
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
