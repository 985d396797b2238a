"""Per-tenant quotas, counted from the job rows: jobs unfinished at once, and video minutes and
uploaded bytes submitted per calendar month (UTC). Defaults are gateway settings; a
``tenant_quotas`` row overrides any of them for one tenant.

A job over a quota is refused with 429 naming the quota, its value and the usage, before the
job exists. The check and the insert share one transaction under a per-tenant advisory lock, so
concurrent submissions of one tenant cannot both slip under the same limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException
from psycopg import AsyncConnection

from .settings import GatewaySettings

# Advisory-lock namespace of the quota check (keyed further by the tenant id).
_LOCK_KEY = "clipsift.quota:"

_USAGE = """
SELECT count(*) FILTER (WHERE status IN ('queued', 'running')),
       coalesce(sum(media_seconds) FILTER (WHERE created_at >= %(month)s), 0),
       coalesce(sum(stored_bytes) FILTER (WHERE created_at >= %(month)s), 0)
FROM jobs
WHERE tenant_id = %(tenant)s AND (status IN ('queued', 'running') OR created_at >= %(month)s)
"""
_MONTH_START = "SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
# What the tenant's jobs deleted this month had used (retention.py keeps it when it deletes them).
_DELETED_USAGE = """
SELECT coalesce(sum(media_seconds), 0), coalesce(sum(stored_bytes), 0) FROM deleted_job_usage
WHERE tenant_id = %(tenant)s AND month = (%(month)s AT TIME ZONE 'UTC')::date
"""


@dataclass(frozen=True)
class Quotas:
    concurrent_jobs: int
    media_minutes_per_month: float
    storage_bytes_per_month: int


@dataclass(frozen=True)
class JobCost:
    """What one job counts against the monthly quotas."""

    media_seconds: float = 0.0
    stored_bytes: int = 0


class QuotaExceeded(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(429, detail)


async def tenant_quotas(conn: AsyncConnection, tenant_id: str, settings: GatewaySettings) -> Quotas:
    cur = await conn.execute(
        "SELECT concurrent_jobs, media_minutes_per_month, storage_bytes_per_month "
        "FROM tenant_quotas WHERE tenant_id = %s",
        (tenant_id,),
    )
    row = await cur.fetchone() or (None, None, None)
    return Quotas(
        concurrent_jobs=row[0] if row[0] is not None else settings.quota_concurrent_jobs,
        media_minutes_per_month=(row[1] if row[1] is not None else settings.quota_media_minutes_per_month),
        storage_bytes_per_month=(row[2] if row[2] is not None else settings.quota_storage_bytes_per_month),
    )


async def set_tenant_quotas(
    conn: AsyncConnection,
    tenant_id: str,
    concurrent_jobs: int | None = None,
    media_minutes_per_month: float | None = None,
    storage_bytes_per_month: int | None = None,
) -> None:
    """Override the defaults for one tenant; None keeps (or returns to) the default."""
    await conn.execute(
        "INSERT INTO tenant_quotas (tenant_id, concurrent_jobs, media_minutes_per_month, "
        "storage_bytes_per_month) VALUES (%s, %s, %s, %s) ON CONFLICT (tenant_id) DO UPDATE SET "
        "concurrent_jobs = excluded.concurrent_jobs, "
        "media_minutes_per_month = excluded.media_minutes_per_month, "
        "storage_bytes_per_month = excluded.storage_bytes_per_month",
        (tenant_id, concurrent_jobs, media_minutes_per_month, storage_bytes_per_month),
    )


async def admit(conn: AsyncConnection, tenant_id: str, cost: JobCost, settings: GatewaySettings) -> None:
    """Raise ``QuotaExceeded`` when one more job of ``cost`` would pass a quota of the tenant.
    Call inside the transaction that inserts the job: the lock taken here lasts until its end."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_LOCK_KEY + tenant_id,))
    quotas = await tenant_quotas(conn, tenant_id, settings)
    cur = await conn.execute(_MONTH_START)
    month = await cur.fetchone()
    assert month is not None
    cur = await conn.execute(_USAGE, {"tenant": tenant_id, "month": month[0]})
    usage = await cur.fetchone()
    assert usage is not None
    unfinished, media_seconds, stored_bytes = usage
    cur = await conn.execute(_DELETED_USAGE, {"tenant": tenant_id, "month": month[0]})
    deleted = await cur.fetchone()
    assert deleted is not None
    media_seconds, stored_bytes = media_seconds + deleted[0], stored_bytes + deleted[1]
    if unfinished + 1 > quotas.concurrent_jobs:
        raise QuotaExceeded(
            f"quota concurrent_jobs={quotas.concurrent_jobs} reached: {unfinished} jobs of this tenant "
            "are queued or running; submit more when some finish"
        )
    minutes = (media_seconds + cost.media_seconds) / 60
    if cost.media_seconds and minutes > quotas.media_minutes_per_month:
        raise QuotaExceeded(
            f"quota media_minutes_per_month={quotas.media_minutes_per_month:g} would be exceeded: "
            f"{media_seconds / 60:.1f} minutes used this month, this video adds {cost.media_seconds / 60:.1f}"
        )
    if cost.stored_bytes and stored_bytes + cost.stored_bytes > quotas.storage_bytes_per_month:
        raise QuotaExceeded(
            f"quota storage_bytes_per_month={quotas.storage_bytes_per_month} would be exceeded: "
            f"{stored_bytes} bytes uploaded this month, this job adds {cost.stored_bytes}"
        )
