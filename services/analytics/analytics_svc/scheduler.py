"""Scheduled reports: after each period ends, one report per tenant that finished jobs in it, plus
an all-tenant report, in every configured format, stored in the blob store.

Periods are aligned to multiples of the interval since the Unix epoch (UTC midnight for a day), so
every replica computes the same periods; a (scope, period, format) stored once is never rendered
again, so restarts and extra replicas do not duplicate reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg_pool import AsyncConnectionPool

from .partitions import Partitions
from .queries import AnalyticsRange
from .report_store import ALL_TENANTS, ReportStore
from .reports import ReportRenderer

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def last_period(now: datetime, interval: timedelta) -> tuple[datetime, datetime]:
    """The latest whole period [start, end) that ended at or before ``now``."""
    periods = (now - _EPOCH) // interval
    end = _EPOCH + interval * periods
    return end - interval, end


@dataclass(frozen=True)
class StoredOne:
    tenant_id: str
    format: str
    period_start: datetime
    period_end: datetime


class ReportScheduler:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        renderer: ReportRenderer,
        store: ReportStore,
        *,
        interval: timedelta,
        bucket: str,
        formats: tuple[str, ...],
        check_every: float,
        partitions: Partitions | None = None,
    ) -> None:
        self.pool = pool
        self.renderer = renderer
        self.store = store
        self.interval = interval
        self.bucket = bucket
        self.formats = formats
        self.check_every = check_every
        self.partitions = partitions

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: keep partitions created ahead and render reports for periods that ended."""
        while not stop.is_set():
            try:
                if self.partitions is not None:
                    await self.partitions.ensure_ahead()
                await self.run_due(datetime.now(UTC))
            except Exception:
                # A broken database must not kill ingestion beside it; the next tick retries.
                log.exception("scheduled report run failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.check_every)

    async def tenants_with_jobs(self, start: datetime, end: datetime) -> list[str]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT tenant_id FROM analytics_jobs "
                "WHERE finished_at >= %s AND finished_at < %s ORDER BY tenant_id",
                (start, end),
            )
            return [row[0] for row in await cur.fetchall()]

    async def run_due(self, now: datetime) -> list[StoredOne]:
        """Render and store whatever report of the last finished period is missing; return those stored."""
        start, end = last_period(now, self.interval)
        stored: list[StoredOne] = []
        for tenant in [ALL_TENANTS, *await self.tenants_with_jobs(start, end)]:
            window = AnalyticsRange(start, end, self.bucket, tenant or None)
            for fmt in self.formats:
                if await self.store.exists(tenant, start, end, fmt):
                    continue
                rendered = await self.renderer.render(window, fmt)
                if await self.store.save(tenant, start, end, fmt, rendered.content):
                    stored.append(StoredOne(tenant, fmt, start, end))
                    log.info(
                        "stored scheduled report",
                        extra={"tenant": tenant or "*", "format": fmt, "period_end": end.isoformat()},
                    )
        return stored
