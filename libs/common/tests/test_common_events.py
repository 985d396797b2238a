"""EventBus against a real NATS JetStream server: de-duplication, durable consumers, replay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from nats.aio.msg import Msg
from nats.js.errors import APIError

from clipsift.events.v1 import events_pb2
from clipsift_common.events import (
    EventBus,
    event_id_for,
    event_to_dict,
    job_subject,
    make_event,
    parse_event,
    pull_loop,
    requested_subject,
    subject_for,
)

STREAM = "CLIPSIFT_JOBS"


def progress_event(job_id: str, key: str, fraction: float = 0.5) -> events_pb2.JobEvent:
    return make_event(
        job_id=job_id,
        tenant_id="acme",
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_PROGRESS,
        key=key,
        progress=fraction,
        step="minhash",
    )


def test_event_ids_are_deterministic() -> None:
    first = event_id_for("job-1", "progress/10")
    assert first == event_id_for("job-1", "progress/10")
    assert uuid.UUID(first).version == 5
    assert first != event_id_for("job-1", "progress/11")
    assert first != event_id_for("job-2", "progress/10")
    a = progress_event("job-1", "progress/10")
    b = progress_event("job-1", "progress/10", fraction=0.7)
    assert a.event_id == b.event_id == first


def test_make_event_and_its_dict_view() -> None:
    created = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    event = make_event(
        job_id="job-9",
        tenant_id="acme",
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_COMPLETED,
        key="completed",
        progress=1.7,  # clamped
        step="done",
        payload={"clusters": 3, "result_key": "jobs/job-9/result.json"},
        job_created_at=created,
        attempt=2,
    )
    assert subject_for(event.job_kind, event.type, event.job_id) == "jobs.dedup.completed.job-9"
    view = event_to_dict(event)
    assert view["type"] == "completed"
    assert view["progress"] == 1.0
    assert view["payload"] == {"clusters": 3.0, "result_key": "jobs/job-9/result.json"}
    assert view["attempt"] == 2
    assert datetime.fromisoformat(view["occurred_at"]) >= created
    assert event.job_created_at.ToDatetime(tzinfo=UTC) == created
    assert requested_subject("dedup") == "jobs.dedup.requested.>"
    assert job_subject("job-9") == "jobs.*.*.job-9"


def test_presigned_source_urls_are_redacted_from_every_view_of_an_event() -> None:
    secret = "https://bucket.example/v.mp4?X-Amz-Signature=abc"
    event = make_event(
        job_id="job-10",
        tenant_id="acme",
        kind="dedup-videos",
        event_type=events_pb2.EVENT_TYPE_REQUESTED,
        key="requested",
        payload={"source_url": secret, "videos": [{"source_url": secret, "name": "a.mp4"}], "count": 2},
    )
    view = event_to_dict(event)
    assert secret not in str(view)
    assert view["payload"]["source_url"] == "[redacted]"
    assert view["payload"]["videos"] == [{"source_url": "[redacted]", "name": "a.mp4"}]
    assert view["payload"]["count"] == 2
    assert event.payload["source_url"] == secret  # the worker still gets it on the bus


@pytest.mark.integration
async def test_publishing_the_same_event_twice_stores_it_once(bus: EventBus) -> None:
    event = progress_event("job-dup", "progress/50")
    await bus.publish(event)
    await bus.publish(event)
    # Same job and key, built again later (a redelivered job): still the same message id.
    await bus.publish(progress_event("job-dup", "progress/50"))
    await bus.publish(progress_event("job-dup", "progress/60", 0.6))
    info = await bus.js.stream_info(STREAM)
    assert info.state.messages == 2
    assert info.config.duplicate_window == 120.0
    assert info.config.subjects == ["jobs.>"]


@pytest.mark.integration
async def test_ensure_stream_leaves_an_existing_stream_as_the_operator_left_it(
    bus: EventBus, nats_url: str
) -> None:
    await bus.publish(progress_event("job-keep", "progress/10"))
    operated = (await bus.js.stream_info(STREAM)).config
    operated.max_age = 1800.0
    operated.description = "kept 30 minutes by the operator"
    await bus.js.update_stream(operated)
    # A service restarting with other settings (and a cluster's replica count) changes nothing.
    again = await EventBus.connect(nats_url, name="second", stream=STREAM, max_age_seconds=60, replicas=3)
    try:
        await again.ensure_stream(60, 3)
        info = await again.js.stream_info(STREAM)
        assert info.state.messages == 1  # not recreated
        assert info.config.max_age == 1800.0
        assert info.config.description == "kept 30 minutes by the operator"
        assert info.config.num_replicas == 1
    finally:
        await again.close()


@pytest.mark.integration
async def test_replicas_are_set_when_the_stream_is_created(bus: EventBus, nats_url: str) -> None:
    await bus.js.delete_stream(STREAM)
    # The test server is a single node: JetStream refuses three replicas, so the setting reached it.
    with pytest.raises(APIError, match="replicas > 1"):
        await EventBus.connect(nats_url, name="clustered", stream=STREAM, max_age_seconds=60, replicas=3)
    await bus.ensure_stream(60, 1)
    info = await bus.js.stream_info(STREAM)
    assert info.config.num_replicas == 1
    assert info.config.max_age == 60.0


@pytest.mark.integration
async def test_durable_consumer_redelivers_unacked_messages(bus: EventBus) -> None:
    await bus.publish(progress_event("job-r", "progress/10"))
    sub = await bus.durable_consumer("redeliver-test", "jobs.dedup.>", ack_wait_seconds=1.0, max_deliver=3)
    (first,) = await sub.fetch(1, timeout=5)
    assert first.metadata.num_delivered == 1
    # Not acked (a worker that died): the same message comes back after ack_wait.
    loop = asyncio.get_running_loop()
    start = loop.time()
    (again,) = await sub.fetch(1, timeout=5)
    assert loop.time() - start >= 0.8
    assert again.metadata.num_delivered == 2
    assert parse_event(again).event_id == parse_event(first).event_id
    await again.ack_sync()
    try:
        with pytest.raises(TimeoutError):
            await sub.fetch(1, timeout=1.5)
    finally:
        # A pull subscription left bound makes the bus's drain wait out its 30 s timeout.
        await sub.unsubscribe()
    info = await bus.js.consumer_info(STREAM, "redeliver-test")
    assert info.num_ack_pending == 0
    assert info.config.max_deliver == 3


@pytest.mark.integration
async def test_durable_consumer_filters_and_remembers_position(bus: EventBus) -> None:
    for n in range(3):
        await bus.publish(
            make_event(
                job_id=f"job-{n}",
                tenant_id="acme",
                kind="dedup",
                event_type=events_pb2.EVENT_TYPE_REQUESTED,
                key="requested",
            )
        )
    await bus.publish(progress_event("job-0", "progress/1"))  # not a request: filtered out
    sub = await bus.durable_consumer("filter-test", requested_subject("dedup"), ack_wait_seconds=5)
    msgs = await sub.fetch(2, timeout=5)
    assert [parse_event(m).job_id for m in msgs] == ["job-0", "job-1"]
    for msg in msgs:
        await msg.ack_sync()
    await sub.unsubscribe()
    # Binding again (a restarted worker) resumes after the acked messages.
    sub = await bus.durable_consumer("filter-test", requested_subject("dedup"), ack_wait_seconds=5)
    (msg,) = await sub.fetch(1, timeout=5)
    assert parse_event(msg).job_id == "job-2"
    assert msg.subject == "jobs.dedup.requested.job-2"
    await sub.unsubscribe()


@pytest.mark.integration
async def test_replay_returns_history_then_live_messages(bus: EventBus) -> None:
    await bus.publish(progress_event("job-a", "progress/10", 0.1))
    await bus.publish(progress_event("job-b", "progress/10", 0.1))  # another job: not replayed
    await bus.publish(progress_event("job-a", "progress/20", 0.2))
    sub = await bus.replay(job_subject("job-a"))
    try:
        history = [parse_event(await sub.next_msg(timeout=5)) for _ in range(2)]
        assert [e.progress for e in history] == [0.1, 0.2]
        await bus.publish(progress_event("job-b", "progress/30", 0.3))
        await bus.publish(progress_event("job-a", "progress/30", 0.3))
        live = parse_event(await sub.next_msg(timeout=5))
        assert (live.job_id, live.progress) == ("job-a", 0.3)
        with pytest.raises(TimeoutError):
            await sub.next_msg(timeout=0.3)
    finally:
        await sub.unsubscribe()


@pytest.mark.integration
async def test_pull_loop_hands_over_batches_until_stopped(bus: EventBus) -> None:
    for n in range(5):
        await bus.publish(progress_event("job-p", f"progress/{n}", n / 10))
    sub = await bus.durable_consumer("loop-test", "jobs.>", ack_wait_seconds=5)
    stop = asyncio.Event()
    seen: list[float] = []

    async def handle(msgs: list[Msg]) -> None:
        assert 1 <= len(msgs) <= 2
        for msg in msgs:
            seen.append(parse_event(msg).progress)
            await msg.ack()
        if len(seen) == 5:
            stop.set()

    await asyncio.wait_for(pull_loop(sub, handle, stop, batch=2, fetch_timeout=0.2), 10)
    assert seen == [0.0, 0.1, 0.2, 0.3, 0.4]
    # An idle loop exits once stop is set (within one fetch timeout).
    idle = asyncio.Event()
    sub = await bus.durable_consumer("loop-test", "jobs.>", ack_wait_seconds=5)
    task = asyncio.create_task(pull_loop(sub, handle, idle, fetch_timeout=1.0))
    await asyncio.sleep(1.5)  # at least one fetch has timed out
    idle.set()
    await asyncio.wait_for(task, 2)
    assert seen == [0.0, 0.1, 0.2, 0.3, 0.4]
    # The loop released its subscription: draining the connection does not wait for it.
    loop = asyncio.get_running_loop()
    start = loop.time()
    await bus.close()
    assert loop.time() - start < 5
