"""Analytics queries and reports, answered by the analytics service.

Every endpoint is scoped to the caller's tenant. Admin keys (``clipsift keys create --admin``) may
name another tenant with ``tenant=`` or every tenant with ``tenant=*``; other keys get 403 for that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Path, Query, Request, Response
from google.protobuf.message import Message

from clipsift.analytics.v1 import analytics_pb2

from ..auth import Principal
from ..permissions import Permission, requires
from .bodies import as_dict
from .deps import AnalyticsService
from .params import OptionalPlain, Plain, plain_schema
from .proto_models import reply_model
from .schemas import ReplyRouter, alternatives

router = ReplyRouter(prefix="/v1/analytics", tags=["analytics"])
# The summary is proto3 JSON but for its counts, which are numbers rather than int64 strings.
SummaryReply = reply_model(
    analytics_pb2.SummaryResponse.DESCRIPTOR,
    name="AnalyticsSummary",
    fields={
        "rows": (
            list[  # type: ignore[misc]
                reply_model(
                    analytics_pb2.SummaryRow.DESCRIPTOR,
                    name="AnalyticsSummaryRowJson",
                    fields={"jobs": (int, ...), "events": (int, ...)},
                )
            ],
            ...,
        ),
        "total_jobs": (int, ...),
        "total_events": (int, ...),
    },
)
ListedReports = reply_model(
    analytics_pb2.ListReportsResponse.DESCRIPTOR,
    style="rest",
    name="AnalyticsListedReports",
    fields={
        "reports": (
            list[  # type: ignore[misc]
                reply_model(
                    analytics_pb2.StoredReport.DESCRIPTOR,
                    style="rest",
                    name="AnalyticsListedReport",
                    fields={"url": (str, ...)},
                    doc="A stored report; ``url`` downloads it.",
                )
            ],
            ...,
        )
    },
)
_REPORT_MEDIA = alternatives("text/csv", "text/html")

Since = Annotated[
    datetime | None, Query(description="ISO 8601 with a timezone, inclusive; default until - 7 days")
]
Until = Annotated[datetime | None, Query(description="ISO 8601 with a timezone, exclusive; default now")]
Bucket = Annotated[
    Literal["hour", "day", "week", "month", "all"],
    Query(description="time bucket (UTC); 'all' gives one bucket for the whole range"),
]
Kind = Annotated[
    OptionalPlain,
    Query(
        max_length=64,
        description="only jobs of this kind (clip, dedup, ...)",
        json_schema_extra=plain_schema(),
    ),
]
Tenant = Annotated[
    OptionalPlain,
    Query(
        max_length=63,
        description="admin keys only: another tenant, or '*' for all",
        json_schema_extra=plain_schema(),
    ),
]


def scope(principal: Principal, tenant: str | None) -> str:
    """The tenant a query may see: the caller's own, or for admin keys the one named ('' = all)."""
    if tenant is None or tenant == principal.tenant_id:
        return principal.tenant_id
    if not principal.is_admin:
        raise HTTPException(403, "only admin keys may query another tenant")
    return "" if tenant == "*" else tenant


def _set_time(message: Any, field: str, value: datetime | None) -> None:
    if value is None:
        return
    if value.tzinfo is None:
        raise HTTPException(400, f"{field} needs a timezone, e.g. 2026-01-01T00:00:00Z")
    try:
        # In UTC, 9999-12-31T23:00:00-05:00 is past the last year a datetime (and PostgreSQL) holds.
        getattr(message, field).FromDatetime(value.astimezone(UTC))
    except (OverflowError, ValueError):
        raise HTTPException(400, f"{field} is out of range: {value.isoformat()}") from None


def _range(
    principal: Principal,
    tenant: str | None,
    since: datetime | None,
    until: datetime | None,
    bucket: str,
    kind: str | None,
) -> analytics_pb2.RangeRequest:
    request = analytics_pb2.RangeRequest(
        tenant_id=scope(principal, tenant), bucket=bucket, job_kind=kind or ""
    )
    _set_time(request, "since", since)
    _set_time(request, "until", until)
    return request


def bucketed_range(
    principal: Annotated[Principal, requires(Permission.ANALYTICS_READ)],
    since: Since = None,
    until: Until = None,
    bucket: Bucket = "day",
    kind: Kind = None,
    tenant: Tenant = None,
) -> analytics_pb2.RangeRequest:
    """The query parameters every bucketed endpoint shares, checked and scoped to the caller."""
    return _range(principal, tenant, since, until, bucket, kind)


Range = Annotated[analytics_pb2.RangeRequest, Depends(bucketed_range)]


def as_json(message: Message) -> dict[str, Any]:
    """A message as JSON the REST API speaks: numbers as numbers (not proto3's int64 strings),
    timestamps as ISO 8601 UTC, every field present."""
    result: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.full_name == "google.protobuf.Timestamp":
            result[field.name] = (
                value.ToDatetime(tzinfo=UTC).isoformat() if message.HasField(field.name) else None
            )
        elif field.message_type is not None and field.is_repeated:
            result[field.name] = [as_json(item) for item in value]
        elif field.message_type is not None:
            result[field.name] = as_json(value)
        else:
            result[field.name] = value
    return result


@router.get("/summary", response_model=SummaryReply)
async def summary(
    principal: Annotated[Principal, requires(Permission.ANALYTICS_READ)],
    analytics: AnalyticsService,
    since: Since = None,
    until: Until = None,
    kind: Kind = None,
    status: Annotated[Literal["requested", "running", "completed", "failed"] | None, Query()] = None,
    tenant: Tenant = None,
) -> dict[str, Any]:
    """Jobs and events grouped by kind and status for the caller's tenant over a time range."""
    query = analytics_pb2.SummaryRequest(
        tenant_id=scope(principal, tenant), job_kind=kind or "", status=status or ""
    )
    _set_time(query, "since", since)
    _set_time(query, "until", until)
    result = as_dict(await analytics.call(analytics.stub.Summary, query))
    # uint64 fields arrive as strings in proto3 JSON; the REST API speaks numbers.
    for row in result["rows"]:
        row["jobs"], row["events"] = int(row["jobs"]), int(row["events"])
    result["total_jobs"], result["total_events"] = int(result["total_jobs"]), int(result["total_events"])
    return result


@router.get("/usage", response_model=reply_model(analytics_pb2.UsageResponse.DESCRIPTOR, style="rest"))
async def usage(query: Range, analytics: AnalyticsService) -> dict[str, Any]:
    """Per tenant and bucket: jobs finished, completed and failed, media seconds processed,
    documents scanned and clips produced (jobs count in the bucket in which they finished)."""
    return as_json(await analytics.call(analytics.stub.Usage, query))


@router.get(
    "/throughput", response_model=reply_model(analytics_pb2.ThroughputResponse.DESCRIPTOR, style="rest")
)
async def throughput(query: Range, analytics: AnalyticsService) -> dict[str, Any]:
    """Per bucket and job kind: jobs completed and failed, and jobs, media seconds and documents per hour."""
    return as_json(await analytics.call(analytics.stub.Throughput, query))


@router.get("/latency", response_model=reply_model(analytics_pb2.LatencyResponse.DESCRIPTOR, style="rest"))
async def latency(query: Range, analytics: AnalyticsService) -> dict[str, Any]:
    """Per bucket, job kind and step: p50/p90/p99, mean and max seconds; steps 'queue' and 'total'
    time completed jobs from creation to pick-up and to completion."""
    return as_json(await analytics.call(analytics.stub.Latency, query))


@router.get("/failures", response_model=reply_model(analytics_pb2.FailuresResponse.DESCRIPTOR, style="rest"))
async def failures(
    principal: Annotated[Principal, requires(Permission.ANALYTICS_READ)],
    analytics: AnalyticsService,
    since: Since = None,
    until: Until = None,
    kind: Kind = None,
    tenant: Tenant = None,
) -> dict[str, Any]:
    """Failed jobs grouped by kind and reason (numbers and quoted values masked), most frequent first."""
    query = _range(principal, tenant, since, until, "all", kind)
    return as_json(await analytics.call(analytics.stub.Failures, query))


def _download(report: analytics_pb2.RenderedReport) -> Response:
    return Response(
        report.content,
        media_type=report.content_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )


@router.get("/report", response_class=Response, responses=_REPORT_MEDIA)
async def report(
    query: Range,
    analytics: AnalyticsService,
    format: Annotated[
        Literal["csv", "html"], Query(description="csv: one dataset; html: every dataset with charts")
    ],
    dataset: Annotated[
        Literal["usage", "throughput", "latency", "failures"] | None,
        Query(description="csv only; default usage"),
    ] = None,
) -> Response:
    """A report rendered now, as a download."""
    rendered = analytics_pb2.RenderReportRequest(range=query, format=format, dataset=dataset or "")
    return _download(await analytics.call(analytics.stub.RenderReport, rendered))


@router.get("/reports", response_model=ListedReports)
async def reports(
    request: Request,
    principal: Annotated[Principal, requires(Permission.ANALYTICS_READ)],
    analytics: AnalyticsService,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    tenant: Tenant = None,
) -> dict[str, Any]:
    """Scheduled reports stored for the caller's tenant, newest first (admins: tenant=* for all,
    the all-tenant reports included, which carry an empty tenant_id)."""
    query = analytics_pb2.ListReportsRequest(tenant_id=scope(principal, tenant), limit=limit)
    listed = as_json(await analytics.call(analytics.stub.ListReports, query))
    for item in listed["reports"]:
        item["url"] = str(request.url_for("download_report", report_id=item["id"]))
    return listed


@router.get("/reports/{report_id}", response_class=Response, name="download_report", responses=_REPORT_MEDIA)
async def download_report(
    principal: Annotated[Principal, requires(Permission.ANALYTICS_READ)],
    analytics: AnalyticsService,
    report_id: Annotated[Plain, Path(max_length=128, json_schema_extra=plain_schema())],
) -> Response:
    """One stored report; another tenant's report is a 404 (admins may fetch any)."""
    query = analytics_pb2.GetReportRequest(
        tenant_id="" if principal.is_admin else principal.tenant_id, id=report_id
    )
    return _download(await analytics.call(analytics.stub.GetReport, query))
