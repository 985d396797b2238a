"""The analytics schema end to end: events from real JetStream folded into analytics_jobs and job_steps
by the real ingester, then usage, throughput, latency and failures over a real gRPC server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from analytics_svc.queries import EventQueries, UsageQueries
from analytics_svc.report_store import ReportStore
from analytics_svc.reports import ReportRenderer
from analytics_svc.servicer import AnalyticsServicer
from clipsift.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from clipsift.events.v1 import events_pb2
from clipsift_common.events import make_event, subject_for
from clipsift_common.objectstore import ObjectBlobStore

pytestmark = pytest.mark.integration

DURABLE = "analytics-usage-test"
DAY1 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 10, 6, 14, 0, tzinfo=UTC)
REQUESTED, PROGRESS = events_pb2.EVENT_TYPE_REQUESTED, events_pb2.EVENT_TYPE_PROGRESS
COMPLETED, FAILED = events_pb2.EVENT_TYPE_COMPLETED, events_pb2.EVENT_TYPE_FAILED


def event(
    job: str,
    tenant: str,
    kind: str,
    event_type: int,
    key: str,
    at: datetime,
    created: datetime,
    **fields: Any,
) -> events_pb2.JobEvent:
    """An event as a worker publishes it, with its clock set to ``at``."""
    made = make_event(
        job_id=job,
        tenant_id=tenant,
        kind=kind,
        event_type=event_type,
        key=key,
        job_created_at=created,
        **fields,
    )
    made.occurred_at.FromDatetime(at)
    return made


def clip_job(tenant: str, created: datetime, steps: dict[str, float], media: float, clips: int) -> list[Any]:
    """A clip job: queued 2 s, then ``steps`` (seconds each, in order), then completed."""
    job = str(uuid.uuid4())
    started = created + timedelta(seconds=2)
    events = [event(job, tenant, "clip", REQUESTED, "requested", created, created, step="queued")]
    elapsed = 0.0
    for number, (step, seconds) in enumerate(steps.items(), start=1):
        elapsed += seconds
        events.append(
            event(
                job,
                tenant,
                "clip",
                PROGRESS,
                f"progress/{number * 10}",
                started + timedelta(seconds=elapsed),
                created,
                step=step,
                progress=number / 10,
                payload={"elapsed_seconds": elapsed},
            )
        )
    done = started + timedelta(seconds=elapsed + 0.5)
    payload = {"clips": clips, "media_seconds": media, "duration": media, "result_key": "x"}
    events.append(event(job, tenant, "clip", COMPLETED, "completed", done, created, payload=payload))
    return events


def dedup_job(tenant: str, created: datetime, documents: int, seconds: float) -> list[Any]:
    job = str(uuid.uuid4())
    return [
        event(job, tenant, "dedup", REQUESTED, "requested", created, created),
        event(
            job,
            tenant,
            "dedup",
            PROGRESS,
            "progress/50",
            created + timedelta(seconds=seconds / 2),
            created,
            step="minhash",
            payload={"elapsed_seconds": seconds / 2},
        ),
        event(
            job,
            tenant,
            "dedup",
            COMPLETED,
            "completed",
            created + timedelta(seconds=seconds),
            created,
            payload={"documents": documents, "clusters": 1},
        ),
    ]


def failed_job(tenant: str, kind: str, at: datetime, message: str) -> list[Any]:
    job = str(uuid.uuid4())
    return [
        event(job, tenant, kind, REQUESTED, "requested", at, at),
        event(
            job, tenant, kind, FAILED, "failed", at + timedelta(seconds=1), at, step="failed", message=message
        ),
    ]


class Data:
    """The data set: acme runs two clip jobs and a dedup job on day 1, a clip job and a failure on day 2;
    globex runs one dedup job and two failures of the same kind on day 2."""

    acme_clip_steps = (
        {"probe": 1.0, "transcribe": 10.0, "render": 4.0},
        {"probe": 3.0, "transcribe": 20.0, "render": 6.0},
    )
    events: list[Any] = []


def data_set() -> list[Any]:
    steps_a, steps_b = Data.acme_clip_steps
    return [
        *clip_job("acme", DAY1, steps_a, media=600.0, clips=3),
        *clip_job("acme", DAY1 + timedelta(hours=1), steps_b, media=1200.0, clips=2),
        *dedup_job("acme", DAY1 + timedelta(hours=2), documents=40, seconds=8.0),
        *clip_job("acme", DAY2, {"probe": 2.0, "transcribe": 15.0, "render": 5.0}, media=300.0, clips=1),
        *failed_job(
            "acme",
            "clip",
            DAY2 + timedelta(hours=1),
            "no speech found in the video: there is nothing to clip",
        ),
        *dedup_job("globex", DAY2, documents=1000, seconds=30.0),
        *failed_job("globex", "clip", DAY2 + timedelta(hours=2), "the video lasts 4000s; the limit is 3600s"),
        *failed_job("globex", "clip", DAY2 + timedelta(hours=3), "the video lasts 5125s; the limit is 3600s"),
    ]


@pytest.fixture
async def ingested(bus, pool, start_ingester, eventually, consumer_settled) -> list[Any]:
    events = data_set()
    for item in events:
        await bus.publish(item)
    # Redelivered copies without the message-id header: only event_ids can keep them out.
    for again in events[:5]:
        await bus.js.publish(subject_for(again.job_kind, again.type, again.job_id), again.SerializeToString())
    # Small batches: a job's events are folded across several transactions.
    await start_ingester(durable=DURABLE, batch=3)
    await eventually(lambda: consumer_settled(bus, DURABLE, len(events) + 5), what="data set ingested")
    return events


@pytest.fixture
async def stub(pool, tmp_path: Path, serve_servicer) -> Any:
    usage = UsageQueries(pool)
    servicer = AnalyticsServicer(
        EventQueries(pool),
        usage,
        ReportRenderer(usage),
        ReportStore(pool, ObjectBlobStore(f"file://{tmp_path}")),
        max_buckets=40,
    )
    return analytics_pb2_grpc.AnalyticsServiceStub(await serve_servicer(servicer))


def ts(at: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(at)
    return value


def window(tenant: str = "", bucket: str = "day", kind: str = "") -> analytics_pb2.RangeRequest:
    return analytics_pb2.RangeRequest(
        tenant_id=tenant,
        since=ts(datetime(2026, 10, 5, tzinfo=UTC)),
        until=ts(datetime(2026, 10, 7, tzinfo=UTC)),
        bucket=bucket,
        job_kind=kind,
    )


async def test_jobs_table_is_kept_current_from_events_exactly_once(pool, ingested):
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tenant_id, job_kind, status, events, media_seconds, documents, clips, queue_seconds, "
            "duration_seconds, last_step, error_reason FROM analytics_jobs ORDER BY created_at, tenant_id"
        )
        jobs = await cur.fetchall()
        cur = await conn.execute("SELECT count(*), count(DISTINCT event_id) FROM job_events")
        stored = await cur.fetchone()
    assert stored == (len(ingested), len(ingested))
    assert sum(job[3] for job in jobs) == len(ingested), "every event counted once, duplicates not at all"
    first = jobs[0]
    assert first[:7] == ("acme", "clip", "completed", 5, 600.0, None, 3)
    assert first[7] == pytest.approx(2.0)  # queued from created to started (elapsed_seconds says so)
    assert first[8] == pytest.approx(17.5)  # 2 queued + 15 of steps + 0.5 to the completed event
    assert first[9] == "render"
    assert [(j[0], j[1], j[2], j[5]) for j in jobs if j[1] == "dedup"] == [
        ("acme", "dedup", "completed", 40),
        ("globex", "dedup", "completed", 1000),
    ]
    reasons = sorted(j[10] for j in jobs if j[2] == "failed")
    assert reasons == [
        "no speech found in the video: there is nothing to clip",
        "the video lasts Ns; the limit is Ns",
        "the video lasts Ns; the limit is Ns",
    ]


async def test_step_seconds_come_from_checkpoints(pool, ingested):
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT s.step, s.seconds FROM job_step_seconds s JOIN analytics_jobs j USING (job_id) "
            "WHERE j.created_at = %s AND j.job_kind = 'clip' ORDER BY s.elapsed_seconds",
            (DAY1,),
        )
        assert await cur.fetchall() == [("probe", 1.0), ("transcribe", 10.0), ("render", 4.0)]


async def test_events_land_in_monthly_partitions(pool, ingested):
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tableoid::regclass::text, count(*) FROM job_events GROUP BY 1 ORDER BY 1"
        )
        assert await cur.fetchall() == [("job_events_2026_10", len(ingested))]


async def test_usage_per_tenant_and_day(stub, ingested):
    reply = await stub.Usage(window())
    rows = [
        (
            r.bucket.ToDatetime(tzinfo=UTC).day,
            r.tenant_id,
            r.jobs_completed,
            r.jobs_failed,
            r.media_seconds,
            r.documents,
            r.clips,
        )
        for r in reply.rows
    ]
    assert rows == [
        (5, "acme", 3, 0, 1800.0, 40, 5),
        (6, "acme", 1, 1, 300.0, 0, 1),
        (6, "globex", 1, 2, 0.0, 1000, 0),
    ]
    assert reply.bucket == "day"
    scoped = await stub.Usage(window(tenant="globex", bucket="all"))
    assert [(r.tenant_id, r.jobs_finished, r.documents) for r in scoped.rows] == [("globex", 3, 1000)]
    clips_only = await stub.Usage(window(tenant="acme", bucket="all", kind="clip"))
    assert [(r.jobs_finished, r.documents, r.clips) for r in clips_only.rows] == [(4, 0, 6)]


async def test_throughput_rates_per_hour(stub, ingested):
    reply = await stub.Throughput(window(tenant="acme"))
    rows = {(r.bucket.ToDatetime(tzinfo=UTC).day, r.job_kind): r for r in reply.rows}
    assert set(rows) == {(5, "clip"), (5, "dedup"), (6, "clip")}
    assert rows[5, "clip"].jobs_completed == 2
    assert rows[5, "clip"].jobs_per_hour == pytest.approx(2 / 24)
    assert rows[5, "clip"].media_seconds_per_hour == pytest.approx(1800 / 24)
    assert rows[6, "clip"].jobs_failed == 1
    assert rows[5, "dedup"].documents_per_hour == pytest.approx(40 / 24)


async def test_latency_percentiles_per_step(stub, ingested):
    reply = await stub.Latency(window(tenant="acme", bucket="all", kind="clip"))
    steps = {r.step: r for r in reply.rows}
    # Pipeline order: queue first, then steps by when they happen, total last.
    assert [r.step for r in reply.rows] == ["queue", "probe", "transcribe", "render", "total"]
    transcribe = steps["transcribe"]  # 10, 15, 20 seconds
    assert transcribe.samples == 3
    assert transcribe.p50_seconds == pytest.approx(15.0)
    assert transcribe.p90_seconds == pytest.approx(19.0)  # linear interpolation, as percentile_cont
    assert transcribe.max_seconds == pytest.approx(20.0)
    assert steps["probe"].mean_seconds == pytest.approx(2.0)
    assert steps["queue"].p50_seconds == pytest.approx(2.0)
    assert steps["total"].samples == 3  # completed jobs only


async def test_failures_group_by_masked_reason(stub, ingested):
    reply = await stub.Failures(window())
    rows = [(r.job_kind, r.reason, r.jobs) for r in reply.rows]
    assert rows == [
        ("clip", "the video lasts Ns; the limit is Ns", 2),
        ("clip", "no speech found in the video: there is nothing to clip", 1),
    ]
    assert reply.rows[0].example_message == "the video lasts 5125s; the limit is 3600s"
    assert (await stub.Failures(window(tenant="acme"))).rows[0].jobs == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bucket": "minute"}, "bucket must be one of hour, day, week, month, all"),
        ({"since": ts(datetime(2026, 10, 7, tzinfo=UTC))}, "since must be before until"),
        ({"bucket": "hour"}, "the limit is 40"),
    ],
)
async def test_bad_ranges_are_invalid_arguments(stub, pool, change, message):
    request = window()
    request.MergeFrom(analytics_pb2.RangeRequest(**change))
    if "bucket" in change:
        request.bucket = change["bucket"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Usage(request)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details()


async def test_open_range_defaults_to_the_last_week(stub, pool):
    reply = await stub.Usage(analytics_pb2.RangeRequest(tenant_id="acme"))
    span = reply.until.ToDatetime() - reply.since.ToDatetime()
    assert span == timedelta(days=7)
    assert reply.rows == []
