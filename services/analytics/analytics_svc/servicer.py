"""gRPC AnalyticsService over the event store, the jobs table and the stored reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from clipsift.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from clipsift_common.errors import FailedPrecondition

from .queries import AnalyticsRange, EventQueries, SummaryFilter, UsageQueries
from .report_store import ReportStore
from .reports import Rendered, ReportRenderer


def _bound(ts: timestamp_pb2.Timestamp, present: bool) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if present else None


def _timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def _message(factory: Callable[..., Any], row: dict[str, Any]) -> Any:
    """A proto message from a row: datetimes become Timestamps, NULLs are left unset."""
    fields = {
        key: _timestamp(value) if isinstance(value, datetime) else value
        for key, value in row.items()
        if value is not None
    }
    return factory(**fields)


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(
        self,
        queries: EventQueries,
        usage: UsageQueries | None = None,
        renderer: ReportRenderer | None = None,
        reports: ReportStore | None = None,
        *,
        default_range: timedelta = timedelta(days=7),
        max_buckets: int = 2000,
        max_report_list: int = 500,
    ) -> None:
        self.queries = queries
        self.usage = usage or UsageQueries(queries.pool)
        self.renderer = renderer or ReportRenderer(self.usage)
        self.reports = reports
        self.default_range = default_range
        self.max_buckets = max_buckets
        self.max_report_list = max_report_list

    def _window(self, request: analytics_pb2.RangeRequest) -> AnalyticsRange:
        return AnalyticsRange.build(
            since=_bound(request.since, request.HasField("since")),
            until=_bound(request.until, request.HasField("until")),
            bucket=request.bucket,
            tenant_id=request.tenant_id or None,
            job_kind=request.job_kind or None,
            default_range=self.default_range,
            max_buckets=self.max_buckets,
        )

    async def Summary(
        self, request: analytics_pb2.SummaryRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.SummaryResponse:
        rows = await self.queries.summary(
            SummaryFilter(
                tenant_id=request.tenant_id or None,
                job_kind=request.job_kind or None,
                status=request.status or None,
                since=_bound(request.since, request.HasField("since")),
                until=_bound(request.until, request.HasField("until")),
            )
        )
        return analytics_pb2.SummaryResponse(
            rows=[analytics_pb2.SummaryRow(**row) for row in rows],
            total_jobs=sum(row["jobs"] for row in rows),
            total_events=sum(row["events"] for row in rows),
        )

    async def JobEvents(
        self, request: analytics_pb2.JobEventsRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.JobEventsResponse:
        rows = await self.queries.job_events(request.job_id, request.tenant_id or None)
        events = []
        for row in rows:
            stored = analytics_pb2.StoredEvent(
                event_id=row["event_id"],
                type=row["type"],
                progress=row["progress"],
                step=row["step"],
                message=row["message"],
            )
            stored.occurred_at.FromDatetime(row["occurred_at"])
            events.append(stored)
        return analytics_pb2.JobEventsResponse(events=events)

    async def _rows(
        self,
        request: analytics_pb2.RangeRequest,
        query: Callable[[AnalyticsRange], Awaitable[list[dict[str, Any]]]],
        response: Callable[..., Any],
        row: Callable[..., Any],
        bucketed: bool = True,
    ) -> Any:
        """One query over the request's window, answered as ``response`` of ``row`` messages with
        the window it covered."""
        window = self._window(request)
        fields: dict[str, Any] = {
            "rows": [_message(row, found) for found in await query(window)],
            "since": _timestamp(window.since),
            "until": _timestamp(window.until),
        }
        if bucketed:
            fields["bucket"] = window.bucket
        return response(**fields)

    async def Usage(
        self, request: analytics_pb2.RangeRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.UsageResponse:
        reply: analytics_pb2.UsageResponse = await self._rows(
            request, self.usage.usage, analytics_pb2.UsageResponse, analytics_pb2.UsageRow
        )
        return reply

    async def Throughput(
        self, request: analytics_pb2.RangeRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.ThroughputResponse:
        reply: analytics_pb2.ThroughputResponse = await self._rows(
            request, self.usage.throughput, analytics_pb2.ThroughputResponse, analytics_pb2.ThroughputRow
        )
        return reply

    async def Latency(
        self, request: analytics_pb2.RangeRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.LatencyResponse:
        reply: analytics_pb2.LatencyResponse = await self._rows(
            request, self.usage.latency, analytics_pb2.LatencyResponse, analytics_pb2.LatencyRow
        )
        return reply

    async def Failures(
        self, request: analytics_pb2.RangeRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.FailuresResponse:
        # Failures are grouped by reason over the whole window, not per bucket.
        reply: analytics_pb2.FailuresResponse = await self._rows(
            request,
            self.usage.failures,
            analytics_pb2.FailuresResponse,
            analytics_pb2.FailureRow,
            bucketed=False,
        )
        return reply

    async def RenderReport(
        self, request: analytics_pb2.RenderReportRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.RenderedReport:
        rendered = await self.renderer.render(self._window(request.range), request.format, request.dataset)
        return _rendered(rendered)

    async def ListReports(
        self, request: analytics_pb2.ListReportsRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.ListReportsResponse:
        limit = min(request.limit or self.max_report_list, self.max_report_list)
        rows = await self._store().list(request.tenant_id or None, limit)
        for row in rows:
            row.pop("blob_key")
        return analytics_pb2.ListReportsResponse(
            reports=[_message(analytics_pb2.StoredReport, r) for r in rows]
        )

    async def GetReport(
        self, request: analytics_pb2.GetReportRequest, context: grpc.aio.ServicerContext
    ) -> analytics_pb2.RenderedReport:
        return _rendered(await self._store().get(request.tenant_id or None, request.id))

    def _store(self) -> ReportStore:
        if self.reports is None:
            raise FailedPrecondition("this analytics server has no report store configured")
        return self.reports


def _rendered(rendered: Rendered) -> analytics_pb2.RenderedReport:
    return analytics_pb2.RenderedReport(
        filename=rendered.filename, content_type=rendered.content_type, content=rendered.content
    )
