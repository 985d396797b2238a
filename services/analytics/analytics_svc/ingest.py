"""JetStream -> PostgreSQL ingestion, exactly once per event.

Each fetched batch is inserted in one transaction with ``ON CONFLICT (event_id) DO NOTHING``
and acknowledged only after the commit. A crash before the commit means redelivery; a crash
after the commit but before the ack means a redelivered duplicate that the key drops.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from clipsift_common.events import TYPE_NAMES, EventBus, parse_event, pull_loop
from clipsift_common.metrics import EVENTS_INGESTED

log = logging.getLogger(__name__)

_INSERT = """
INSERT INTO job_events (event_id, job_id, tenant_id, job_kind, type, progress, step, message,
                        payload, attempt, occurred_at, job_created_at, stream_seq)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
"""


def _row(msg: Msg) -> tuple[object, ...] | None:
    """The row for one message, or None when it can never be stored (it would fail its whole batch)."""
    try:
        event = parse_event(msg)
        return (
            uuid.UUID(event.event_id),
            uuid.UUID(event.job_id),
            event.tenant_id,
            event.job_kind,
            TYPE_NAMES[event.type],
            event.progress,
            event.step,
            event.message,
            Jsonb(json_format.MessageToDict(event.payload)),
            max(1, event.attempt),
            event.occurred_at.ToDatetime(tzinfo=UTC),
            event.job_created_at.ToDatetime(tzinfo=UTC) if event.HasField("job_created_at") else None,
            msg.metadata.sequence.stream,
        )
    except (KeyError, ValueError, DecodeError) as exc:
        log.error("dropping malformed event", extra={"subject": msg.subject, "error": str(exc)})
        return None


class EventIngester:
    def __init__(self, bus: EventBus, pool: AsyncConnectionPool, durable: str, batch: int, ack_wait: float):
        self.bus = bus
        self.pool = pool
        self.durable = durable
        self.batch = batch
        self.ack_wait = ack_wait

    async def run(self, stop: asyncio.Event) -> None:
        subscription = await self.bus.durable_consumer(
            self.durable, "jobs.>", ack_wait_seconds=self.ack_wait, max_ack_pending=self.batch * 4
        )
        log.info("ingesting events", extra={"durable": self.durable})
        await pull_loop(subscription, self.store, stop, batch=self.batch, fetch_timeout=0.5)

    async def store(self, msgs: list[Msg]) -> None:
        rows: list[tuple[object, ...]] = []
        malformed: list[Msg] = []
        for msg in msgs:
            row = _row(msg)
            if row is None:
                malformed.append(msg)
            else:
                rows.append(row)
        try:
            async with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                await cur.executemany(_INSERT, rows)
        except Exception:
            log.exception("event batch insert failed; will be redelivered")
            for msg in msgs:
                await msg.nak(delay=1.0)
            return
        for msg in msgs:
            if any(msg is bad for bad in malformed):
                await msg.term()
            else:
                await msg.ack()
        EVENTS_INGESTED.labels("stored").inc(len(rows))
