"""JetStream -> PostgreSQL ingestion, exactly once per event, batched.

Each fetched batch is stored in one transaction: the event ids go into ``event_ids`` with
``ON CONFLICT DO NOTHING``, only the ids that were new go into the partitioned ``job_events``, and
those same events are folded into ``analytics_jobs`` and ``job_steps``. Messages are acknowledged only
after the commit. A crash before the commit means redelivery; a crash after the commit but before
the ack means a redelivered duplicate that ``event_ids`` drops, so no counter moves twice.

One bad event must not hold back its batch forever: a malformed one is parked on the dead-letter
stream at once; when PostgreSQL refuses a batch for what it contains (not for being unavailable),
its events are stored one by one, and the one that is refused is retried and parked after
``max_attempts`` deliveries while the others are stored and acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from psycopg_pool import AsyncConnectionPool

from clipsift_common.deadletter import (
    ensure_dead_letter_stream,
    is_transient,
    park_message,
    retry_delay,
    retry_or_park,
)
from clipsift_common.events import TYPE_NAMES, EventBus, parse_event, public_payload, pull_loop
from clipsift_common.metrics import EVENTS_INGESTED
from clipsift_common.supervised import describe

from .partitions import Partitions

log = logging.getLogger(__name__)

# One statement per batch: arrays in, only the events whose id was new stored, their keys back.
_INSERT = """
WITH batch AS (
    SELECT * FROM unnest(%(event_id)s::uuid[], %(job_id)s::uuid[], %(tenant_id)s::text[],
                         %(job_kind)s::text[], %(type)s::text[], %(progress)s::float8[], %(step)s::text[],
                         %(message)s::text[], %(payload)s::text[], %(attempt)s::int[],
                         %(occurred_at)s::timestamptz[], %(job_created_at)s::timestamptz[],
                         %(stream_seq)s::bigint[])
        AS b(event_id, job_id, tenant_id, job_kind, type, progress, step, message, payload, attempt,
             occurred_at, job_created_at, stream_seq)
), fresh AS (
    INSERT INTO event_ids (event_id, occurred_at)
    SELECT event_id, occurred_at FROM batch
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
)
INSERT INTO job_events (event_id, job_id, tenant_id, job_kind, type, progress, step, message, payload,
                        attempt, occurred_at, job_created_at, stream_seq)
SELECT b.event_id, b.job_id, b.tenant_id, b.job_kind, b.type, b.progress, b.step, b.message,
       b.payload::jsonb, b.attempt, b.occurred_at, b.job_created_at, b.stream_seq
FROM batch AS b JOIN fresh USING (event_id)
RETURNING event_id, occurred_at
"""
_FOLD = "SELECT analytics_fold_events(%s::uuid[], %s, %s)"
_COLUMNS = (
    "event_id",
    "job_id",
    "tenant_id",
    "job_kind",
    "type",
    "progress",
    "step",
    "message",
    "payload",
    "attempt",
    "occurred_at",
    "job_created_at",
    "stream_seq",
)


@dataclass(frozen=True)
class EventRow:
    event_id: uuid.UUID
    job_id: uuid.UUID
    tenant_id: str
    job_kind: str
    type: str
    progress: float
    step: str
    message: str
    payload: str
    attempt: int
    occurred_at: datetime
    job_created_at: datetime | None
    stream_seq: int


def event_row(msg: Msg) -> EventRow | None:
    """The row for one message, or None when it can never be stored (it would fail its whole batch)."""
    row = row_or_reason(msg)
    if isinstance(row, str):
        log.error("malformed event", extra={"subject": msg.subject, "error": row})
        return None
    return row


def row_or_reason(msg: Msg) -> EventRow | str:
    """The row for one message, or why it can never be stored."""
    try:
        event = parse_event(msg)
        return EventRow(
            event_id=uuid.UUID(event.event_id),
            job_id=uuid.UUID(event.job_id),
            tenant_id=event.tenant_id,
            job_kind=event.job_kind,
            type=TYPE_NAMES[event.type],
            progress=event.progress,
            step=event.step,
            message=event.message,
            payload=json.dumps(public_payload(event)),
            attempt=max(1, event.attempt),
            occurred_at=event.occurred_at.ToDatetime(tzinfo=UTC),
            job_created_at=(
                event.job_created_at.ToDatetime(tzinfo=UTC) if event.HasField("job_created_at") else None
            ),
            stream_seq=msg.metadata.sequence.stream,
        )
    except (KeyError, ValueError, DecodeError) as exc:
        return f"malformed event: {type(exc).__name__}: {exc}"


async def store_rows(pool: AsyncConnectionPool, partitions: Partitions, rows: list[EventRow]) -> int:
    """Store ``rows`` in one transaction (first copy of a repeated id wins); return how many were new."""
    unique = list({row.event_id: row for row in reversed(rows)}.values())[::-1]
    if not unique:
        return 0
    await partitions.ensure(row.occurred_at for row in unique)
    params = {column: [getattr(row, column) for row in unique] for column in _COLUMNS}
    async with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
        await cur.execute(_INSERT, params)
        stored = await cur.fetchall()
        if stored:
            times = [at for _, at in stored]
            await cur.execute(_FOLD, ([event_id for event_id, _ in stored], min(times), max(times)))
    return len(stored)


class EventIngester:
    def __init__(
        self,
        bus: EventBus,
        pool: AsyncConnectionPool,
        durable: str,
        batch: int,
        ack_wait: float,
        partitions: Partitions | None = None,
        max_attempts: int = 5,
    ):
        self.bus = bus
        self.pool = pool
        self.durable = durable
        self.batch = batch
        self.ack_wait = ack_wait
        self.partitions = partitions or Partitions(pool, months_ahead=1)
        self.max_attempts = max_attempts

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_dead_letter_stream(self.bus)
        subscription = await self.bus.durable_consumer(
            self.durable, "jobs.>", ack_wait_seconds=self.ack_wait, max_ack_pending=self.batch * 4
        )
        log.info("ingesting events", extra={"durable": self.durable})
        await pull_loop(subscription, self.store, stop, batch=self.batch, fetch_timeout=0.5)

    async def store(self, msgs: list[Msg]) -> None:
        pending: list[tuple[Msg, EventRow]] = []
        for msg in msgs:
            row = row_or_reason(msg)
            if isinstance(row, str):
                await park_message(self.bus, msg, self.durable, row)
            else:
                pending.append((msg, row))
        try:
            stored = await store_rows(self.pool, self.partitions, [row for _, row in pending])
        except Exception as exc:
            self.partitions.forget()  # a partition dropped behind our back is recreated next time
            if is_transient(exc):
                log.exception("event batch insert failed; will be redelivered")
                for msg, _ in pending:
                    await msg.nak(delay=1.0)
                return
            log.warning("event batch refused; storing its events one by one", extra={"error": repr(exc)})
            stored = await self._store_each(pending)
        else:
            for msg, _ in pending:
                await msg.ack()
        EVENTS_INGESTED.labels("stored").inc(stored)
        EVENTS_INGESTED.labels("duplicate").inc(len(pending) - stored)

    async def _store_each(self, pending: list[tuple[Msg, EventRow]]) -> int:
        """Store each event in its own transaction: only the ones PostgreSQL refuses stay behind."""
        stored = 0
        for msg, row in pending:
            try:
                stored += await store_rows(self.pool, self.partitions, [row])
            except Exception as exc:
                self.partitions.forget()
                if is_transient(exc):
                    await msg.nak(delay=retry_delay(msg.metadata.num_delivered))
                else:
                    log.exception("event refused", extra={"subject": msg.subject})
                    await retry_or_park(self.bus, msg, self.durable, describe(exc), self.max_attempts)
                continue
            await msg.ack()
        return stored
