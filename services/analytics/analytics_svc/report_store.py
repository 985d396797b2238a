"""Stored reports: the bytes in the blob store, one row each in ``analytics_reports``."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from clipsift_common.blobkeys import report_prefix
from clipsift_common.errors import NotFound
from clipsift_common.objectstore import ObjectBlobStore

from .reports import FORMATS, Rendered

ALL_TENANTS = ""  # tenant_id of the all-tenant report
# Where the all-tenant reports live: a name no tenant can have (tenant ids start with [a-z0-9]).
_ALL_SCOPE = "_all"

_COLUMNS = "id::text AS id, tenant_id, period_start, period_end, format, blob_key, size_bytes, created_at"


def report_key(tenant_id: str, start: datetime, end: datetime, fmt: str) -> str:
    """Under the tenant's own prefix (the all-tenant reports under a scope no tenant can name)."""
    prefix = report_prefix(tenant_id or _ALL_SCOPE)
    return f"{prefix}/{start.astimezone(UTC):%Y%m%dT%H%M}-{end.astimezone(UTC):%Y%m%dT%H%M}.{fmt}"


class ReportStore:
    def __init__(self, pool: AsyncConnectionPool, blobs: ObjectBlobStore) -> None:
        self.pool = pool
        self.blobs = blobs

    async def exists(self, tenant_id: str, start: datetime, end: datetime, fmt: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM analytics_reports "
                "WHERE tenant_id = %s AND period_start = %s AND period_end = %s AND format = %s",
                (tenant_id, start, end, fmt),
            )
            return await cur.fetchone() is not None

    async def save(self, tenant_id: str, start: datetime, end: datetime, fmt: str, content: bytes) -> bool:
        """Write the blob (atomically), then record it; False when another replica recorded it first."""
        key = report_key(tenant_id, start, end, fmt)
        await asyncio.to_thread(self.blobs.put_bytes, key, content)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO analytics_reports "
                "(id, tenant_id, period_start, period_end, format, blob_key, size_bytes) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (tenant_id, period_start, period_end, format) DO NOTHING RETURNING id",
                (uuid.uuid4(), tenant_id, start, end, fmt, key, len(content)),
            )
            return await cur.fetchone() is not None

    async def list(self, tenant_id: str | None, limit: int) -> list[dict[str, Any]]:
        """Newest first; ``tenant_id`` None lists every report (the all-tenant ones included)."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM analytics_reports "
                "WHERE (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s) "
                "ORDER BY period_end DESC, tenant_id, format LIMIT %(limit)s",
                {"tenant": tenant_id, "limit": limit},
            )
            return await cur.fetchall()

    async def get(self, tenant_id: str | None, report_id: str) -> Rendered:
        """One report's bytes; another tenant's report is indistinguishable from a missing one."""
        try:
            parsed = uuid.UUID(report_id)
        except ValueError:
            raise NotFound(f"report {report_id!r} not found") from None
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM analytics_reports "
                "WHERE id = %(id)s AND (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)",
                {"id": parsed, "tenant": tenant_id},
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"report {report_id!r} not found")
        content = await asyncio.to_thread(self.blobs.read_bytes, row["blob_key"])
        return Rendered(row["blob_key"].rsplit("/", 1)[-1], FORMATS[row["format"]], content)
