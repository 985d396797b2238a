"""Reports: CSV and HTML rendered on demand over a real gRPC server, and the scheduler storing one
report per tenant and period in the blob store, listed and downloaded with tenant scoping."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import grpc
import pytest
from google.protobuf import timestamp_pb2

from analytics_svc.ingest import EventRow, store_rows
from analytics_svc.partitions import Partitions
from analytics_svc.queries import EventQueries, UsageQueries
from analytics_svc.report_store import ReportStore
from analytics_svc.reports import ReportRenderer
from analytics_svc.scheduler import ReportScheduler, last_period
from analytics_svc.servicer import AnalyticsServicer
from clipsift.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from clipsift_common.objectstore import ObjectBlobStore

pytestmark = pytest.mark.integration
DAY = datetime(2026, 10, 5, tzinfo=UTC)


def _job(
    tenant: str, kind: str, created: datetime, result: dict[str, Any] | None, failure: str = ""
) -> list[EventRow]:
    job = uuid.uuid4()

    def row(
        kind_of: str, at: datetime, step: str = "", payload: dict[str, Any] | None = None, message: str = ""
    ) -> EventRow:
        return EventRow(
            event_id=uuid.uuid4(),
            job_id=job,
            tenant_id=tenant,
            job_kind=kind,
            type=kind_of,
            progress=0.5,
            step=step,
            message=message,
            payload=json.dumps(payload or {}),
            attempt=1,
            occurred_at=at,
            job_created_at=created,
            stream_seq=1,
        )

    rows = [
        row("requested", created, "queued"),
        row("progress", created + timedelta(seconds=4), "work", {"elapsed_seconds": 3.0}),
    ]
    if failure:
        rows.append(row("failed", created + timedelta(seconds=5), "failed", message=failure))
    else:
        rows.append(row("completed", created + timedelta(seconds=5), "done", result))
    return rows


@pytest.fixture
async def data(pool) -> None:
    rows = [
        *_job("acme", "clip", DAY + timedelta(hours=3), {"media_seconds": 90.0, "clips": 2}),
        *_job("acme", "dedup", DAY + timedelta(hours=5), {"documents": 12}),
        *_job("acme", "clip", DAY + timedelta(hours=6), None, failure="rendering failed: exit 1"),
        *_job("globex", "dedup", DAY + timedelta(hours=7), {"documents": 500}),
    ]
    await store_rows(pool, Partitions(pool, 0), rows)


@pytest.fixture(params=["folder"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectBlobStore:
    """The folder backend; a test parametrized indirectly with "s3" gets the real S3 server."""
    if request.param == "s3":
        target = request.getfixturevalue("s3_target")
        return ObjectBlobStore(target.url, target.options, target.client_options)
    return ObjectBlobStore(f"file://{tmp_path / 'blobs'}")


@pytest.fixture
async def stub(pool, blobs: ObjectBlobStore, serve_servicer) -> Any:
    usage = UsageQueries(pool)
    servicer = AnalyticsServicer(EventQueries(pool), usage, ReportRenderer(usage), ReportStore(pool, blobs))
    return analytics_pb2_grpc.AnalyticsServiceStub(await serve_servicer(servicer))


def _range(tenant: str = "", bucket: str = "hour") -> analytics_pb2.RangeRequest:
    since, until = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    since.FromDatetime(DAY)
    until.FromDatetime(DAY + timedelta(days=1))
    return analytics_pb2.RangeRequest(tenant_id=tenant, since=since, until=until, bucket=bucket)


async def test_csv_report_of_each_dataset(stub, data):
    usage = await stub.RenderReport(analytics_pb2.RenderReportRequest(range=_range("acme"), format="csv"))
    assert usage.content_type == "text/csv; charset=utf-8"
    assert usage.filename == "clipsift-acme-20261005T0000-20261006T0000-usage.csv"
    rows = list(csv.DictReader(io.StringIO(usage.content.decode())))
    assert [
        (r["bucket"], r["jobs_completed"], r["jobs_failed"], r["media_seconds"], r["documents"], r["clips"])
        for r in rows
    ] == [
        ("2026-10-05T03:00:00+00:00", "1", "0", "90", "0", "2"),
        ("2026-10-05T05:00:00+00:00", "1", "0", "0", "12", "0"),
        ("2026-10-05T06:00:00+00:00", "0", "1", "0", "0", "0"),
    ]
    failures = await stub.RenderReport(
        analytics_pb2.RenderReportRequest(range=_range(), format="csv", dataset="failures")
    )
    [failure] = list(csv.DictReader(io.StringIO(failures.content.decode())))
    assert (failure["job_kind"], failure["reason"], failure["jobs"]) == (
        "clip",
        "rendering failed: exit N",
        "1",
    )
    latency = await stub.RenderReport(
        analytics_pb2.RenderReportRequest(range=_range(bucket="all"), format="csv", dataset="latency")
    )
    steps = {(r["job_kind"], r["step"]): r for r in csv.DictReader(io.StringIO(latency.content.decode()))}
    assert float(steps["dedup", "work"]["p50_seconds"]) == 3.0
    assert float(steps["dedup", "total"]["p50_seconds"]) == 5.0


async def test_html_report_has_charts_and_the_figures(stub, data):
    report = await stub.RenderReport(analytics_pb2.RenderReportRequest(range=_range(), format="html"))
    assert report.content_type == "text/html; charset=utf-8"
    page = report.content.decode()
    svgs = re.findall(r"<svg .*?</svg>", page, flags=re.S)
    assert len(svgs) == 4
    for svg in svgs:
        ElementTree.fromstring(svg)  # well-formed XML, so browsers render it
    # 24 hourly buckets: the completed bar of 03:00 carries the job, with its value in a tooltip.
    assert "<title>completed 05 03:00: 1</title>" in svgs[0]
    assert "<title>media minutes 05 03:00: 1.5</title>" in svgs[1]
    assert "<b>512</b><br>documents scanned" in page
    assert "<td>globex</td>" in page
    assert "rendering failed: exit N" in page
    scoped = (
        await stub.RenderReport(analytics_pb2.RenderReportRequest(range=_range("globex"), format="html"))
    ).content
    assert b"<td>acme</td>" not in scoped
    assert b"tenant globex" in scoped


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"format": "pdf"}, "format must be one of csv, html"),
        (
            {"format": "csv", "dataset": "secrets"},
            "dataset must be one of usage, throughput, latency, failures",
        ),
        ({"format": "html", "dataset": "usage"}, "dataset applies to csv reports only"),
    ],
)
async def test_bad_report_requests(stub, pool, request_fields, message):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RenderReport(analytics_pb2.RenderReportRequest(range=_range(), **request_fields))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details()


@pytest.mark.parametrize("blobs", ["folder", "s3"], indirect=True)
async def test_scheduler_stores_each_period_once_and_reports_are_scoped(stub, data, pool, blobs):
    usage = UsageQueries(pool)
    scheduler = ReportScheduler(
        pool,
        ReportRenderer(usage),
        ReportStore(pool, blobs),
        interval=timedelta(days=1),
        bucket="hour",
        formats=("html", "csv"),
        check_every=60,
    )
    now = DAY + timedelta(days=1, minutes=5)
    assert last_period(now, timedelta(days=1)) == (DAY, DAY + timedelta(days=1))
    stored = await scheduler.run_due(now)
    assert sorted((s.tenant_id, s.format) for s in stored) == [
        ("", "csv"),
        ("", "html"),
        ("acme", "csv"),
        ("acme", "html"),
        ("globex", "csv"),
        ("globex", "html"),
    ]
    assert await scheduler.run_due(now + timedelta(minutes=1)) == [], "a period is rendered once"
    # Each tenant's reports lie under its own prefix; the all-tenant ones under a scope no tenant has.
    assert sorted(blob.key for blob in blobs.list("tenants")) == [
        "tenants/_all/reports/20261005T0000-20261006T0000.csv",
        "tenants/_all/reports/20261005T0000-20261006T0000.html",
        "tenants/acme/reports/20261005T0000-20261006T0000.csv",
        "tenants/acme/reports/20261005T0000-20261006T0000.html",
        "tenants/globex/reports/20261005T0000-20261006T0000.csv",
        "tenants/globex/reports/20261005T0000-20261006T0000.html",
    ]

    acme = (await stub.ListReports(analytics_pb2.ListReportsRequest(tenant_id="acme"))).reports
    assert sorted(r.format for r in acme) == ["csv", "html"]
    assert {r.tenant_id for r in acme} == {"acme"}
    everything = (await stub.ListReports(analytics_pb2.ListReportsRequest())).reports
    assert len(everything) == 6
    html = next(r for r in acme if r.format == "html")
    fetched = await stub.GetReport(analytics_pb2.GetReportRequest(tenant_id="acme", id=html.id))
    assert fetched.content == blobs.read_bytes("tenants/acme/reports/20261005T0000-20261006T0000.html")
    assert fetched.content_type.startswith("text/html")
    assert html.size_bytes == len(fetched.content)
    assert b"<td>globex</td>" not in fetched.content
    for tenant, report_id in (("globex", html.id), ("acme", str(uuid.uuid4())), ("acme", "not-a-uuid")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetReport(analytics_pb2.GetReportRequest(tenant_id=tenant, id=report_id))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
