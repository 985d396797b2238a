"""gRPC AnalyticsService over the event store."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from google.protobuf import timestamp_pb2

from clipsift.analytics.v1 import analytics_pb2, analytics_pb2_grpc

from .queries import EventQueries, SummaryFilter


def _bound(ts: timestamp_pb2.Timestamp, present: bool) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if present else None


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, queries: EventQueries) -> None:
        self.queries = queries

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
