"""AnalyticsService over a real in-process gRPC server, reading events the ingester stored."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from analytics_svc.queries import EventQueries
from analytics_svc.servicer import AnalyticsServicer
from clipsift.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from clipsift.events.v1 import events_pb2
from clipsift_common.events import make_event

pytestmark = pytest.mark.integration

DURABLE = "analytics-test"
JAN = datetime(2026, 1, 10, tzinfo=UTC)
FEB = datetime(2026, 2, 10, tzinfo=UTC)
MAR = datetime(2026, 3, 10, tzinfo=UTC)


@pytest.fixture
async def stub(pool, serve_servicer) -> analytics_pb2_grpc.AnalyticsServiceStub:
    # Only the event queries: the summary and job-event RPCs need no more.
    channel = await serve_servicer(AnalyticsServicer(EventQueries(pool)))
    health = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="clipsift.analytics.v1.AnalyticsService"), timeout=5
    )
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    return analytics_pb2_grpc.AnalyticsServiceStub(channel)


class Jobs:
    """Job ids of the fixture data set, by what happened to them."""

    acme_completed = str(uuid.uuid4())  # dedup, Jan, requested+2 progress+completed
    acme_failed = str(uuid.uuid4())  # dedup, Feb, requested+1 progress+failed
    acme_running = str(uuid.uuid4())  # dedup, Feb, requested+3 progress
    acme_requested = str(uuid.uuid4())  # dedup, Mar, requested only
    acme_video = str(uuid.uuid4())  # video, Mar, requested+completed
    globex_completed = str(uuid.uuid4())  # dedup, Jan, requested+1 progress+completed


@pytest.fixture
async def stored(bus, pool, start_ingester, eventually, job_history, consumer_settled) -> type[Jobs]:
    """Publish the data set and let the real ingester store it."""
    histories = [
        job_history(Jobs.acme_completed, "acme", "dedup", progress=(0.2, 0.6), created=JAN),
        job_history(Jobs.acme_failed, "acme", "dedup", progress=(0.3,), terminal="failed", created=FEB),
        job_history(Jobs.acme_running, "acme", "dedup", progress=(0.1, 0.2, 0.3), terminal=None, created=FEB),
        job_history(Jobs.acme_requested, "acme", "dedup", progress=(), terminal=None, created=MAR),
        job_history(Jobs.acme_video, "acme", "video", progress=(), created=MAR),
        job_history(Jobs.globex_completed, "globex", "dedup", progress=(0.5,), created=JAN),
    ]
    events = [event for history in histories for event in history]
    for event in events:
        await bus.publish(event)
    await start_ingester(durable=DURABLE)
    await eventually(lambda: consumer_settled(bus, DURABLE, len(events)), what="data set ingested")
    return Jobs


def _rows(reply: analytics_pb2.SummaryResponse) -> set[tuple[str, str, str, int, int]]:
    return {(r.tenant_id, r.job_kind, r.status, r.jobs, r.events) for r in reply.rows}


async def test_summary_derives_each_job_status(stub, stored):
    reply = await stub.Summary(analytics_pb2.SummaryRequest(), timeout=5)
    assert _rows(reply) == {
        ("acme", "dedup", "completed", 1, 4),
        ("acme", "dedup", "failed", 1, 3),
        ("acme", "dedup", "running", 1, 4),
        ("acme", "dedup", "requested", 1, 1),
        ("acme", "video", "completed", 1, 2),
        ("globex", "dedup", "completed", 1, 3),
    }
    assert (reply.total_jobs, reply.total_events) == (6, 17)
    # Rows come sorted by tenant, kind, status.
    keys = [(r.tenant_id, r.job_kind, r.status) for r in reply.rows]
    assert keys == sorted(keys)


async def test_summary_filters_by_tenant_kind_and_status(stub, stored):
    globex = await stub.Summary(analytics_pb2.SummaryRequest(tenant_id="globex"), timeout=5)
    assert _rows(globex) == {("globex", "dedup", "completed", 1, 3)}

    video = await stub.Summary(analytics_pb2.SummaryRequest(job_kind="video"), timeout=5)
    assert _rows(video) == {("acme", "video", "completed", 1, 2)}

    completed = await stub.Summary(analytics_pb2.SummaryRequest(status="completed"), timeout=5)
    assert {(r.tenant_id, r.job_kind) for r in completed.rows} == {
        ("acme", "dedup"),
        ("acme", "video"),
        ("globex", "dedup"),
    }
    assert completed.total_jobs == 3

    acme_dedup_running = await stub.Summary(
        analytics_pb2.SummaryRequest(tenant_id="acme", job_kind="dedup", status="running"), timeout=5
    )
    assert _rows(acme_dedup_running) == {("acme", "dedup", "running", 1, 4)}

    nobody = await stub.Summary(analytics_pb2.SummaryRequest(tenant_id="initech"), timeout=5)
    assert list(nobody.rows) == []
    assert (nobody.total_jobs, nobody.total_events) == (0, 0)


async def test_summary_time_range_uses_when_the_job_was_created(stub, stored):
    def request(since: datetime | None, until: datetime | None, **kw: str) -> analytics_pb2.SummaryRequest:
        req = analytics_pb2.SummaryRequest(**kw)
        if since:
            req.since.FromDatetime(since)
        if until:
            req.until.FromDatetime(until)
        return req

    february = await stub.Summary(request(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)))
    assert {r.status for r in february.rows} == {"failed", "running"}
    assert february.total_jobs == 2

    # since is inclusive, until exclusive.
    exactly_jan = await stub.Summary(request(JAN, JAN + timedelta(microseconds=1), tenant_id="acme"))
    assert _rows(exactly_jan) == {("acme", "dedup", "completed", 1, 4)}
    up_to_jan = await stub.Summary(request(None, JAN))
    assert up_to_jan.total_jobs == 0

    from_march = await stub.Summary(request(MAR, None))
    assert _rows(from_march) == {("acme", "dedup", "requested", 1, 1), ("acme", "video", "completed", 1, 2)}


async def test_summary_rejects_bad_filters(stub, stored):
    with pytest.raises(grpc.aio.AioRpcError) as bad_status:
        await stub.Summary(analytics_pb2.SummaryRequest(status="done"), timeout=5)
    assert bad_status.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "status must be one of" in (bad_status.value.details() or "")

    backwards = analytics_pb2.SummaryRequest()
    backwards.since.FromDatetime(MAR)
    backwards.until.FromDatetime(JAN)
    with pytest.raises(grpc.aio.AioRpcError) as bad_range:
        await stub.Summary(backwards, timeout=5)
    assert bad_range.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "since must be before until" in (bad_range.value.details() or "")


async def test_job_events_in_the_order_they_happened(
    bus, pool, stub, start_ingester, eventually, consumer_settled
):
    job = str(uuid.uuid4())
    common = {"job_id": job, "tenant_id": "acme", "kind": "dedup"}
    made = []
    for key, event_type, progress in [
        ("requested", events_pb2.EVENT_TYPE_REQUESTED, 0.0),
        ("progress/10", events_pb2.EVENT_TYPE_PROGRESS, 0.1),
        ("progress/60", events_pb2.EVENT_TYPE_PROGRESS, 0.6),
        ("completed", events_pb2.EVENT_TYPE_COMPLETED, 1.0),
    ]:
        made.append(make_event(event_type=event_type, key=key, progress=progress, step=key, **common))
        await asyncio.sleep(0.002)  # distinct occurred_at values
    other = make_event(
        job_id=str(uuid.uuid4()),
        tenant_id="acme",
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_REQUESTED,
        key="r",
    )
    # Published out of order (as a redelivered worker might): the stream order is not the story.
    for event in [made[2], made[0], other, made[3], made[1]]:
        await bus.publish(event)
    await start_ingester(durable=DURABLE)
    await eventually(lambda: consumer_settled(bus, DURABLE, 5), what="events ingested")

    reply = await stub.JobEvents(analytics_pb2.JobEventsRequest(job_id=job), timeout=5)
    assert [e.event_id for e in reply.events] == [e.event_id for e in made]
    assert [e.type for e in reply.events] == ["requested", "progress", "progress", "completed"]
    assert [e.progress for e in reply.events] == [0.0, 0.1, 0.6, 1.0]
    assert [e.step for e in reply.events] == ["requested", "progress/10", "progress/60", "completed"]
    assert [e.occurred_at for e in reply.events] == [e.occurred_at for e in made]

    own = await stub.JobEvents(analytics_pb2.JobEventsRequest(job_id=job, tenant_id="acme"), timeout=5)
    assert len(own.events) == 4
    foreign = await stub.JobEvents(analytics_pb2.JobEventsRequest(job_id=job, tenant_id="globex"), timeout=5)
    assert list(foreign.events) == []
    unknown = await stub.JobEvents(analytics_pb2.JobEventsRequest(job_id=str(uuid.uuid4())), timeout=5)
    assert list(unknown.events) == []


@pytest.mark.parametrize("job_id", ["not-a-uuid", "", "1234", "'; DROP TABLE job_events; --"])
async def test_job_events_rejects_a_bad_job_id(stub, pool, job_id):
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.JobEvents(analytics_pb2.JobEventsRequest(job_id=job_id), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not a UUID" in (error.value.details() or "")
