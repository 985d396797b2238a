"""Monthly partitions of ``job_events``: created ahead by the service and on demand by the ingester.

There is no default partition on purpose: a default partition holding rows of a month makes creating
that month's partition fail later. Instead every batch makes sure its months exist before inserting.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool


def month_of(at: datetime) -> datetime:
    """The first instant of ``at``'s month, in UTC (partitions are UTC months)."""
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


class Partitions:
    """Remembers which months exist so the common case (this month) costs nothing per batch."""

    def __init__(self, pool: AsyncConnectionPool, months_ahead: int) -> None:
        self.pool = pool
        self.months_ahead = months_ahead
        self._known: set[datetime] = set()

    async def ensure_ahead(self, now: datetime | None = None) -> list[str]:
        """This month and the next ``months_ahead`` ones; return the partition names."""
        start = month_of(now or datetime.now(UTC))
        return await self.ensure(add_months(start, n) for n in range(self.months_ahead + 1))

    async def ensure(self, instants: Iterable[datetime]) -> list[str]:
        """The partitions holding ``instants``, created where missing (in their own transaction)."""
        missing = sorted({month_of(at) for at in instants} - self._known)
        names: list[str] = []
        if not missing:
            return names
        async with self.pool.connection() as conn, conn.transaction():
            for month in missing:
                cur = await conn.execute("SELECT analytics_ensure_partition(%s)", (month,))
                row = await cur.fetchone()
                assert row is not None
                names.append(row[0])
        self._known.update(missing)
        return names

    def forget(self) -> None:
        """Forget which months exist (after a failed insert: a partition may have been dropped)."""
        self._known.clear()
