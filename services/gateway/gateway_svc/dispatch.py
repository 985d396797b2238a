"""Fair scheduling: submitted jobs wait in PostgreSQL and are published to the workers a few at a
time per tenant, round-robin across tenants, so one tenant's 1,000 queued jobs do not starve
another tenant's one.

A submission records its job as ``queued`` with ``dispatched_at`` NULL (submission.py). The
dispatcher, a loop in every gateway's lifespan, gives each tenant up to
``dispatch_max_in_flight_per_tenant`` slots: a job holds one from its publication until the
projector records it completed or failed. Each pass takes, for every waiting tenant, its oldest
jobs up to its free slots, and publishes them first-of-each-tenant, then second-of-each-tenant,
and so on. A pass runs when a submission on this replica wakes it and every
``dispatch_poll_seconds`` (slots freed by the projector, or submissions on other replicas).

Several gateway replicas: each pass holds a session advisory lock, taken with try-lock, so one
replica dispatches at a time and the others skip that pass; slot counts are never computed by
two at once. A job is marked dispatched right after its publish is acknowledged; if the gateway
dies between the two, the next pass publishes it again with the same event id, which JetStream's
duplicate window drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from prometheus_client import Counter
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from clipsift.events.v1 import events_pb2
from clipsift_common.events import EventBus, make_event
from clipsift_common.telemetry import extract_context

log = logging.getLogger(__name__)

JOBS_DISPATCHED = Counter("clipsift_jobs_dispatched_total", "Jobs published to workers by the dispatcher")
# pg_try_advisory_lock key of the dispatcher (any constant no other lock in the schema uses).
DISPATCH_LOCK = 0x636C6970_64697370  # "clipdisp"

_WAITING = """
WITH waiting_tenants AS (
    SELECT DISTINCT tenant_id FROM jobs WHERE dispatched_at IS NULL AND status = 'queued'
), slots AS (
    SELECT w.tenant_id, %(cap)s - (
        SELECT count(*) FROM jobs b
        WHERE b.tenant_id = w.tenant_id AND b.dispatched_at IS NOT NULL
          AND b.status IN ('queued', 'running')
    ) AS free
    FROM waiting_tenants w
)
SELECT j.* FROM slots s CROSS JOIN LATERAL (
    SELECT id::text AS id, tenant_id, kind, options, message, created_at, trace_headers,
           row_number() OVER (ORDER BY created_at, id) AS turn
    FROM jobs
    WHERE tenant_id = s.tenant_id AND dispatched_at IS NULL AND status = 'queued'
    ORDER BY created_at, id
    LIMIT greatest(s.free, 0)
) j
ORDER BY j.turn, j.created_at
"""


def requested_event(job: dict[str, Any]) -> events_pb2.JobEvent:
    return make_event(
        job_id=job["id"],
        tenant_id=job["tenant_id"],
        kind=job["kind"],
        event_type=events_pb2.EVENT_TYPE_REQUESTED,
        key="requested",
        step="queued",
        message=job["message"],
        payload=job["options"],
        job_created_at=job["created_at"],
    )


class Dispatcher:
    def __init__(
        self, pool: AsyncConnectionPool, bus: EventBus, max_in_flight_per_tenant: int, poll_seconds: float
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.max_in_flight_per_tenant = max_in_flight_per_tenant
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A job was submitted here: dispatch now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until ``stop``; a failed pass (database or bus down) is logged and retried at
        the next poll, so the loop itself never dies."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.dispatch_once()
            except Exception:
                log.exception("job dispatch pass failed; retrying in %.1f s", self.poll_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait(stop), self.poll_seconds)

    async def _wait(self, stop: asyncio.Event) -> None:
        stopped = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopped, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            woken.cancel()

    async def dispatch_once(self) -> int:
        """One pass: publish every job that has a free slot; return how many were published
        (0 too when another replica holds the dispatch lock)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (DISPATCH_LOCK,))
            locked = await cur.fetchone()
            if not locked or not locked[0]:
                return 0
            try:
                async with conn.cursor(row_factory=dict_row) as rows:
                    await rows.execute(_WAITING, {"cap": self.max_in_flight_per_tenant})
                    jobs = await rows.fetchall()
                for job in jobs:
                    await self.bus.publish(
                        requested_event(job), context=extract_context(job["trace_headers"])
                    )
                    await conn.execute(
                        "UPDATE jobs SET dispatched_at = now() WHERE id = %s AND dispatched_at IS NULL",
                        (job["id"],),
                    )
                    await conn.commit()
                    JOBS_DISPATCHED.inc()
                return len(jobs)
            finally:
                await conn.rollback()
                await conn.execute("SELECT pg_advisory_unlock(%s)", (DISPATCH_LOCK,))
                await conn.commit()
