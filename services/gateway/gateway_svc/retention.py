"""Deleting jobs and expiring them: ``DELETE /v1/jobs/{id}``, per-tenant retention, orphaned uploads.

A job's objects all lie under ``job_prefix(tenant, job)`` (its upload, its results, its clips), so
one prefix deletion removes them. Objects go first, the row last: a deletion interrupted between
the two leaves a row whose next deletion (by hand or by the sweeper) finishes the work, never
objects that no row leads to.

Only finished jobs (completed or failed) are deleted: a queued or running job's worker is still
writing under its prefix and would re-create what was removed; ``DELETE`` answers 409 for one.

The sweeper (a supervised loop beside the projector and the dead-job sweeper) expires finished jobs
older than their tenant's retention (``tenant_retention.retention_days``, else the gateway's
``retention_days``; 0 keeps them) and removes uploads left behind under ``tenants/*/uploads/*``
(an upload none of whose objects changed for ``orphan_upload_seconds``). Every replica may run it:
deleting twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from clipsift_common.blobkeys import job_prefix, tenant_prefix
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.supervised import Supervised

from .settings import GatewaySettings

log = logging.getLogger(__name__)
FINISHED = ("completed", "failed")
# Jobs expired per query: a large backlog drains over several passes without one huge transaction.
_BATCH = 200

_EXPIRED = """
SELECT j.id::text, j.tenant_id FROM jobs j
LEFT JOIN tenant_retention r ON r.tenant_id = j.tenant_id
WHERE j.status IN ('completed', 'failed')
  AND coalesce(r.retention_days, %(default)s) > 0
  AND j.updated_at < %(now)s - make_interval(secs => coalesce(r.retention_days, %(default)s) * 86400)
ORDER BY j.updated_at
LIMIT %(batch)s
"""

# The row goes, and what it counted against this month's quotas stays counted (quotas.py).
_DELETE = """
WITH gone AS (
    DELETE FROM jobs WHERE id = %s AND tenant_id = %s AND status IN ('completed', 'failed')
    RETURNING tenant_id, created_at, media_seconds, stored_bytes
)
INSERT INTO deleted_job_usage AS d (tenant_id, month, media_seconds, stored_bytes)
SELECT tenant_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date, media_seconds, stored_bytes
FROM gone
ON CONFLICT (tenant_id, month) DO UPDATE SET media_seconds = d.media_seconds + excluded.media_seconds,
                                             stored_bytes = d.stored_bytes + excluded.stored_bytes
"""


class JobUnfinished(Exception):
    """The job is queued or running: its worker may still write under its prefix."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Removed:
    job_id: str
    tenant_id: str
    objects: int


async def remove_job(
    pool: AsyncConnectionPool, blobs: ObjectBlobStore, job_id: str, tenant_id: str
) -> Removed | None:
    """Delete the tenant's finished job: its objects, then its row. None when the tenant has no
    such job (another tenant's job included); ``JobUnfinished`` while it is queued or running."""
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        return None
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT status FROM jobs WHERE id = %s AND tenant_id = %s", (parsed, tenant_id)
        )
        row = await cur.fetchone()
    if row is None:
        return None
    if row[0] not in FINISHED:
        raise JobUnfinished(row[0])
    objects = await asyncio.to_thread(blobs.delete_prefix, job_prefix(tenant_id, str(parsed)))
    async with pool.connection() as conn:
        await conn.execute(_DELETE, (parsed, tenant_id))
    return Removed(str(parsed), tenant_id, objects)


async def tenant_retention_days(conn: AsyncConnection, tenant_id: str, default: float) -> float:
    cur = await conn.execute("SELECT retention_days FROM tenant_retention WHERE tenant_id = %s", (tenant_id,))
    row = await cur.fetchone()
    return float(row[0]) if row is not None else default


async def set_tenant_retention(conn: AsyncConnection, tenant_id: str, days: float | None) -> None:
    """Override the default retention for one tenant (0: keep); None returns it to the default."""
    if days is None:
        await conn.execute("DELETE FROM tenant_retention WHERE tenant_id = %s", (tenant_id,))
        return
    if days < 0:
        raise ValueError(f"retention must be 0 (keep) or a positive number of days, not {days:g}")
    await conn.execute(
        "INSERT INTO tenant_retention (tenant_id, retention_days) VALUES (%s, %s) "
        "ON CONFLICT (tenant_id) DO UPDATE SET retention_days = excluded.retention_days, updated_at = now()",
        (tenant_id, days),
    )


@dataclass
class SweepResult:
    jobs: int = 0
    objects: int = 0
    uploads: int = 0  # orphaned uploads removed
    aborted: int = 0  # resumable uploads given up past their expiry (``abort_uploads``)


class RetentionSweeper(Supervised):
    name = "retention sweeper"

    def __init__(
        self,
        pool: AsyncConnectionPool,
        blobs: ObjectBlobStore,
        settings: GatewaySettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        abort_uploads: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """``abort_uploads``: gives up resumable uploads open past their expiry (their S3
        multipart uploads are no objects, so the orphan sweep cannot see them); returns how many."""
        super().__init__(
            restart_initial_seconds=settings.restart_initial_seconds,
            restart_max_seconds=settings.restart_max_seconds,
        )
        self.pool = pool
        self.blobs = blobs
        self.settings = settings
        self.clock = clock
        self.abort_uploads = abort_uploads
        self.swept = SweepResult()  # totals since this process started

    async def run_once(self, stop: asyncio.Event) -> None:
        # Ready as soon as it runs: a first pass over a large bucket must not hold readiness back.
        self.mark_healthy()
        while not stop.is_set():
            result = await self.sweep()
            self.mark_healthy()
            for name in ("jobs", "objects", "uploads", "aborted"):
                setattr(self.swept, name, getattr(self.swept, name) + getattr(result, name))
            try:
                await asyncio.wait_for(stop.wait(), self.settings.retention_sweep_seconds)
            except TimeoutError:
                continue

    async def sweep(self) -> SweepResult:
        """One pass: expired jobs, then orphaned uploads."""
        now = self.clock()
        result = SweepResult()
        await self._expire_jobs(now, result)
        if self.abort_uploads is not None:
            result.aborted = await self.abort_uploads()
        await self._remove_orphaned_uploads(now, result)
        if result.jobs or result.uploads or result.aborted:
            log.info(
                "retention sweep",
                extra={
                    "jobs": result.jobs,
                    "objects": result.objects,
                    "uploads": result.uploads,
                    "aborted": result.aborted,
                },
            )
        return result

    async def _expire_jobs(self, now: datetime, result: SweepResult) -> None:
        params = {"default": self.settings.retention_days, "now": now, "batch": _BATCH}
        while True:
            async with self.pool.connection() as conn:
                cur = await conn.execute(_EXPIRED, params)
                rows = await cur.fetchall()
            for job_id, tenant_id in rows:
                removed = await remove_job(self.pool, self.blobs, job_id, tenant_id)
                if removed is not None:
                    result.jobs += 1
                    result.objects += removed.objects
                    log.info(
                        "job expired", extra={"job": job_id, "tenant": tenant_id, "objects": removed.objects}
                    )
            if len(rows) < _BATCH:
                return

    async def _remove_orphaned_uploads(self, now: datetime, result: SweepResult) -> None:
        cutoff = now - timedelta(seconds=self.settings.orphan_upload_seconds)
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT id FROM tenants ORDER BY id")
            tenants = [row[0] for row in await cur.fetchall()]
        for tenant_id in tenants:
            root = f"{tenant_prefix(tenant_id)}/uploads"
            blobs = await asyncio.to_thread(self.blobs.list, root)
            newest: dict[str, datetime] = {}
            for blob in blobs:
                upload = blob.key.removeprefix(root + "/").split("/", 1)[0]
                newest[upload] = max(newest.get(upload, blob.modified), blob.modified)
            for upload, modified in newest.items():
                if modified < cutoff:
                    await asyncio.to_thread(self.blobs.delete_prefix, f"{root}/{upload}")
                    result.uploads += 1
                    log.info("orphaned upload removed", extra={"tenant": tenant_id, "upload": upload})
