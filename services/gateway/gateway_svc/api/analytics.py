"""Analytics queries, answered by the analytics service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from google.protobuf import json_format

from clipsift.analytics.v1 import analytics_pb2, analytics_pb2_grpc

from ..auth import Principal, authenticate

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])


@router.get("/summary")
async def summary(
    request: Request,
    principal: Annotated[Principal, Depends(authenticate)],
    since: Annotated[datetime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, exclusive")] = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[Literal["requested", "running", "completed", "failed"] | None, Query()] = None,
    tenant: Annotated[
        str | None, Query(description="Admin keys only: another tenant, or '*' for all")
    ] = None,
) -> dict[str, Any]:
    """Jobs and events grouped by kind and status for the caller's tenant over a time range."""
    tenant_id = principal.tenant_id
    if tenant is not None and tenant != principal.tenant_id:
        if not principal.is_admin:
            raise HTTPException(403, "only admin keys may query another tenant")
        tenant_id = "" if tenant == "*" else tenant
    query = analytics_pb2.SummaryRequest(tenant_id=tenant_id, job_kind=kind or "", status=status or "")
    for field, value in (("since", since), ("until", until)):
        if value is not None:
            if value.tzinfo is None:
                raise HTTPException(400, f"{field} needs a timezone, e.g. 2026-01-01T00:00:00Z")
            getattr(query, field).FromDatetime(value)
    client = request.app.state.analytics
    reply = await client.call(analytics_pb2_grpc.AnalyticsServiceStub(client.channel).Summary, query)
    result = json_format.MessageToDict(
        reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    # uint64 fields arrive as strings in proto3 JSON; the REST API speaks numbers.
    for row in result["rows"]:
        row["jobs"], row["events"] = int(row["jobs"]), int(row["events"])
    result["total_jobs"], result["total_events"] = int(result["total_jobs"]), int(result["total_events"])
    return result
