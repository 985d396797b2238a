"""Events analytics can never store do not hold back the others: a malformed one is parked at
once, one PostgreSQL refuses is parked after ``max_attempts`` deliveries, and every other event
of their batches is stored exactly once and acknowledged."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from analytics_svc.ingest import EventIngester
from clipsift.events.v1 import events_pb2
from clipsift_common.deadletter import dead_letters
from clipsift_common.events import make_event

pytestmark = pytest.mark.integration

DURABLE = "analytics-poison"


async def test_poison_events_are_parked_and_their_batch_is_stored(
    bus, pool, eventually, stored_ids, job_history, consumer_settled
):
    good = job_history(str(uuid.uuid4()), "acme") + job_history(
        str(uuid.uuid4()), "globex", terminal="failed"
    )
    poison_job = str(uuid.uuid4())
    # PostgreSQL text cannot hold NUL: refused on every try, for what it contains.
    poison = make_event(
        job_id=poison_job,
        tenant_id="acme",
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_PROGRESS,
        key="progress/50",
        progress=0.5,
        step="mini\x00hash",
    )
    for event in good[:3]:
        await bus.publish(event)
    await bus.publish(poison)
    await bus.js.publish(f"jobs.dedup.progress.{poison_job}", b"\xff\xff not a protobuf", stream=bus.stream)
    for event in good[3:]:
        await bus.publish(event)
    total = len(good) + 2

    stop = asyncio.Event()
    ingester = EventIngester(bus, pool, DURABLE, batch=16, ack_wait=5.0, max_attempts=2)
    task = asyncio.create_task(ingester.run(stop))
    try:

        async def settled() -> bool:
            if task.done():
                task.result()  # a crashed ingester fails the test with its own error
            return await consumer_settled(bus, DURABLE, total)

        await eventually(settled, within=20, what="every event acknowledged or parked")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)

    assert sorted(await stored_ids(pool)) == sorted(e.event_id for e in good)
    letters = {d.subject: d for d in await dead_letters(bus)}
    assert set(letters) == {f"jobs.dedup.progress.{poison_job}"}  # one subject, two messages
    parked = await dead_letters(bus)
    assert len(parked) == 2
    malformed, refused = sorted(parked, key=lambda d: d.deliveries)
    assert malformed.deliveries == 1
    assert malformed.reason.startswith("malformed event: DecodeError")
    assert malformed.data == b"\xff\xff not a protobuf"
    # At least: under load JetStream now and then counts a redelivery as a first delivery.
    assert refused.deliveries >= 2
    assert refused.reason.startswith("DataError: ")
    assert refused.reason.endswith(f"(after {refused.deliveries} deliveries)")
    assert refused.data == poison.SerializeToString()
    assert {d.consumer for d in parked} == {DURABLE}
