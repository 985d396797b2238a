"""EventIngester against real NATS JetStream and PostgreSQL: every event stored exactly once,
through duplicates, crashes before the commit, and crashes between the commit and the acks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from clipsift.events.v1 import events_pb2
from clipsift_common.events import make_event, subject_for

pytestmark = pytest.mark.integration

DURABLE = "analytics-test"


def _jobs(job_history, count: int, progress_steps: int = 3) -> list[events_pb2.JobEvent]:  # type: ignore[no-untyped-def]
    """``count`` jobs over two tenants and two kinds, ``progress_steps + 2`` events each."""
    progress = tuple(round((i + 1) / (progress_steps + 1), 3) for i in range(progress_steps))
    events: list[events_pb2.JobEvent] = []
    for n in range(count):
        events += job_history(
            str(uuid.uuid4()),
            "acme" if n % 2 else "globex",
            "dedup" if n % 3 else "video",
            progress=progress,
            terminal="failed" if n % 5 == 4 else "completed",
        )
    return events


async def _stream_messages(bus) -> int:  # type: ignore[no-untyped-def]
    return (await bus.js.stream_info(bus.stream)).state.messages


async def test_every_event_stored_exactly_once_despite_duplicates(
    bus, pool, start_ingester, eventually, stored_ids, job_history, consumer_settled
):
    created = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    first = str(uuid.uuid4())
    events = job_history(first, "acme", "dedup", created=created)
    events += job_history(str(uuid.uuid4()), "acme", "video", terminal="failed")
    events += job_history(str(uuid.uuid4()), "globex", "dedup", terminal=None)
    events += job_history(str(uuid.uuid4()), "globex", "dedup", progress=(), terminal=None)
    for event in events:
        await bus.publish(event)
    # The same event published again inside the duplicate window: JetStream drops it.
    await bus.publish(events[0])
    await bus.publish(events[5])
    # Republished without the message-id header (as after the window expired): the stream keeps
    # these copies, so only the primary key can keep them out of the table.
    for again in (events[1], events[3], events[3]):
        await bus.js.publish(subject_for(again.job_kind, again.type, again.job_id), again.SerializeToString())
    assert await _stream_messages(bus) == len(events) + 3

    await start_ingester(durable=DURABLE, batch=5)
    await eventually(
        lambda: consumer_settled(bus, DURABLE, len(events) + 3), what="every stream message acked"
    )

    ids = await stored_ids(pool)
    assert sorted(ids) == sorted(e.event_id for e in events)
    assert len(ids) == len(set(ids)) == 4 + 4 + 3 + 1

    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT job_id::text, tenant_id, job_kind, type, progress, step, message, payload, attempt, "
            "job_created_at, stream_seq FROM job_events WHERE job_id = %s ORDER BY stream_seq",
            (first,),
        )
        rows = await cur.fetchall()
    assert [r[3] for r in rows] == ["requested", "progress", "progress", "completed"]
    assert [r[4] for r in rows] == [0.0, 0.1, 0.5, 1.0]
    assert all(r[0] == first and r[1] == "acme" and r[2] == "dedup" and r[8] == 1 for r in rows)
    assert all(r[9] == created for r in rows)
    assert rows[-1][7] == {"clusters": 2}
    # The first copy wins: the late duplicate of events[1] (stream seq > 16) did not replace it.
    assert [r[10] for r in rows] == [1, 2, 3, 4]


async def test_crash_before_commit_then_restart_loses_nothing(
    bus, pool, start_ingester, eventually, stored_ids, job_history, consumer_settled
):
    events = _jobs(job_history, 24)  # 120 events
    for event in events:
        await bus.publish(event)
    blocked = asyncio.Event()

    def block_fourth_batch(store):  # type: ignore[no-untyped-def]
        calls = 0

        async def wrapped(msgs):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            if calls == 4:
                blocked.set()
                await asyncio.Event().wait()  # dies here, holding a fetched, unstored batch
            await store(msgs)

        return wrapped

    first = await start_ingester(durable=DURABLE, batch=10, wrap=block_fourth_batch)
    await asyncio.wait_for(blocked.wait(), 15)
    assert len(await stored_ids(pool)) == 30
    await first.crash()

    second = await start_ingester(durable=DURABLE, batch=10)
    await eventually(lambda: consumer_settled(bus, DURABLE, len(events)), what="every event acked")
    ids = await stored_ids(pool)
    assert len(ids) == len(events)
    assert set(ids) == {e.event_id for e in events}
    # The batch the first replica held was redelivered to the second one.
    assert sum(len(b) for b in second.batches) >= len(events) - 30


async def test_commit_without_ack_then_restart_stores_redelivery_once(
    bus, pool, start_ingester, eventually, stored_ids, job_history, consumer_settled
):
    events = _jobs(job_history, 10)  # 50 events
    for event in events:
        await bus.publish(event)
    committed = asyncio.Event()
    first_batch: list[str] = []

    def commit_but_never_ack(store):  # type: ignore[no-untyped-def]
        async def wrapped(msgs):  # type: ignore[no-untyped-def]
            if committed.is_set():
                await asyncio.Event().wait()
            for msg in msgs:
                first_batch.append(msg.headers["Nats-Msg-Id"])

                async def lost_ack() -> None:
                    return None

                msg.ack = lost_ack
            await store(msgs)
            committed.set()  # the rows are committed; the acks went nowhere
            await asyncio.Event().wait()

        return wrapped

    first = await start_ingester(durable=DURABLE, batch=10, wrap=commit_but_never_ack)
    await asyncio.wait_for(committed.wait(), 15)
    assert sorted(await stored_ids(pool)) == sorted(first_batch)
    await first.crash()

    redelivered: list[str] = []

    def record_redeliveries(store):  # type: ignore[no-untyped-def]
        async def wrapped(msgs):  # type: ignore[no-untyped-def]
            redelivered.extend(m.headers["Nats-Msg-Id"] for m in msgs if m.metadata.num_delivered > 1)
            await store(msgs)

        return wrapped

    await start_ingester(durable=DURABLE, batch=10, wrap=record_redeliveries)
    await eventually(lambda: consumer_settled(bus, DURABLE, len(events)), what="every event acked")
    assert set(first_batch) <= set(redelivered), "the committed-but-unacked batch must come back"
    ids = await stored_ids(pool)
    assert len(ids) == len(events)
    assert set(ids) == {e.event_id for e in events}


async def test_graceful_stop_and_resume_on_the_same_durable(
    bus, pool, start_ingester, eventually, stored_ids, job_history, consumer_settled
):
    before = _jobs(job_history, 6)
    for event in before:
        await bus.publish(event)
    first = await start_ingester(durable=DURABLE, batch=7)
    await eventually(lambda: consumer_settled(bus, DURABLE, len(before)), what="first half acked")
    await first.stop()

    after = _jobs(job_history, 6)
    for event in after:
        await bus.publish(event)
    assert len(await stored_ids(pool)) == len(before)  # nobody is ingesting now

    await start_ingester(durable=DURABLE, batch=7)
    total = len(before) + len(after)
    await eventually(lambda: consumer_settled(bus, DURABLE, total), what="second half acked")
    ids = await stored_ids(pool)
    assert sorted(ids) == sorted(e.event_id for e in before + after)


async def test_malformed_events_are_dropped_without_blocking_good_ones(
    bus, pool, start_ingester, eventually, stored_ids, job_history, consumer_settled
):
    good = _jobs(job_history, 4)
    job = str(uuid.uuid4())
    bad_id = make_event(
        job_id=job, tenant_id="acme", kind="dedup", event_type=events_pb2.EVENT_TYPE_PROGRESS, key="x"
    )
    bad_id.event_id = "not-a-uuid"
    bad_job = make_event(
        job_id="not-a-uuid",
        tenant_id="acme",
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_PROGRESS,
        key="y",
    )
    no_type = make_event(
        job_id=job, tenant_id="acme", kind="dedup", event_type=events_pb2.EVENT_TYPE_PROGRESS, key="z"
    )
    no_type.type = events_pb2.EVENT_TYPE_UNSPECIFIED
    bad_payloads = [
        b"\xff\xfe\x00 definitely not protobuf",
        bad_id.SerializeToString(),
        bad_job.SerializeToString(),
        no_type.SerializeToString(),
    ]
    for index, event in enumerate(good):
        await bus.publish(event)
        if index % 5 == 2 and bad_payloads:
            await bus.js.publish(f"jobs.dedup.progress.{job}", bad_payloads.pop())
    assert not bad_payloads
    total = len(good) + 4

    running = await start_ingester(durable=DURABLE, batch=6)
    await eventually(
        lambda: consumer_settled(bus, DURABLE, total), what="good events acked, bad ones terminated"
    )
    assert sorted(await stored_ids(pool)) == sorted(e.event_id for e in good)
    assert not running.task.done(), "a malformed event must not stop the ingester"


async def test_ingested_payload_and_attempt_are_kept(bus, pool, start_ingester, eventually, consumer_settled):
    job = str(uuid.uuid4())
    event = make_event(
        job_id=job,
        tenant_id="acme",
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_COMPLETED,
        key="completed",
        progress=1.0,
        step="done",
        message="all good",
        payload={"clusters": 3, "result_key": f"jobs/{job}/result.json", "nested": {"a": [1, "b"]}},
        attempt=2,
    )
    await bus.publish(event)
    await start_ingester(durable=DURABLE)
    await eventually(lambda: consumer_settled(bus, DURABLE, 1), what="event acked")
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT type, message, payload, attempt, occurred_at FROM job_events")
        rows = await cur.fetchall()
    assert len(rows) == 1
    kind, message, payload, attempt, occurred_at = rows[0]
    assert (kind, message, attempt) == ("completed", "all good", 2)
    assert payload == {"clusters": 3, "result_key": f"jobs/{job}/result.json", "nested": {"a": [1, "b"]}}
    assert occurred_at == event.occurred_at.ToDatetime(tzinfo=UTC)


async def test_failed_insert_is_not_acked_and_is_stored_once_the_database_is_back(
    bus, pool, start_ingester, eventually, stored_ids, job_history, consumer_settled
):
    events = _jobs(job_history, 4)
    async with pool.connection() as conn:
        await conn.execute("ALTER TABLE job_events RENAME TO job_events_away")
    for event in events:
        await bus.publish(event)
    attempts: list[int] = []

    def count(store):  # type: ignore[no-untyped-def]
        async def wrapped(msgs):  # type: ignore[no-untyped-def]
            attempts.append(len(msgs))
            await store(msgs)

        return wrapped

    running = await start_ingester(durable=DURABLE, batch=50, wrap=count)

    async def failed_twice() -> bool:
        return len(attempts) >= 2

    await eventually(failed_twice, what="inserts attempted against the missing table")
    info = await bus.js.consumer_info(bus.stream, DURABLE)
    assert info.ack_floor.stream_seq == 0, "nothing may be acked while nothing is stored"

    async with pool.connection() as conn:
        await conn.execute("ALTER TABLE job_events_away RENAME TO job_events")
    await eventually(lambda: consumer_settled(bus, DURABLE, len(events)), what="every event acked")
    assert sorted(await stored_ids(pool)) == sorted(e.event_id for e in events)
    assert not running.task.done()
