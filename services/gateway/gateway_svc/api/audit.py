"""The audit log over REST: ``GET /v1/audit`` (permission ``audit:read``), newest first, as JSON
pages or a CSV export.

A caller reads its own organisation's entries; a platform operator's key (``is_admin``) may name
another one with ``tenant=``, or every one with ``tenant=*`` (refusals before authentication have
no organisation and show only there)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from ..audit import ALL_TENANTS, COLUMNS, AuditQuery, csv_values, search, stream_rows
from ..auth import Principal
from ..csv_export import MEDIA_TYPE, safe_cell, wants_csv
from ..permissions import Permission, requires
from .schemas import alternatives

router = APIRouter(prefix="/v1/audit", tags=["audit"])
MAX_PAGE = 1000


class AuditEntryView(BaseModel):
    id: int
    occurred_at: str = Field(json_schema_extra={"format": "date-time"})
    tenant_id: str | None = Field(description="The organisation; null for a refusal before authentication")
    actor_key_id: str | None
    actor: str = Field(description="The key's public prefix, or 'admin-cli'")
    action: str = Field(description="'METHOD /route/{template}', or a named change such as key.create")
    target: str = Field(description="The route's path parameters (the object acted on)")
    result: str = Field(description="The HTTP status, or ok / refused")
    client_address: str | None
    request_id: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryView]
    next_cursor: int | None = Field(description="Pass as cursor= for the next (older) page; null: no more")


def _tenant(principal: Principal, tenant: str | None) -> str:
    if tenant is None or tenant == principal.tenant_id:
        return principal.tenant_id
    if not principal.is_admin:
        raise HTTPException(403, "only a platform admin key may read another organisation's audit log")
    return tenant


async def _csv(pool: AsyncConnectionPool, query: AuditQuery, max_rows: int) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    async for rows in stream_rows(pool, query, max_rows):
        writer.writerows([safe_cell(value) for value in csv_values(row)] for row in rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


@router.get("", response_model=AuditPage, responses=alternatives("text/csv"))
async def list_audit(
    request: Request,
    principal: Annotated[Principal, requires(Permission.AUDIT_READ)],
    since: Annotated[datetime | None, Query(description="Entries at or after this time")] = None,
    until: Annotated[datetime | None, Query(description="Entries before this time")] = None,
    action: Annotated[
        str | None, Query(max_length=200, description="Action prefix, e.g. 'POST /v1/jobs'")
    ] = None,
    actor: Annotated[str | None, Query(max_length=200, description="Exact actor (key prefix)")] = None,
    result: Annotated[str | None, Query(max_length=20, description="Exact result, e.g. 403")] = None,
    tenant: Annotated[
        str | None, Query(max_length=63, description="Admin keys: an organisation, or *")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[int | None, Query(ge=1, description="next_cursor of the previous page")] = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Any:
    """The organisation's audit entries, newest first: one page as JSON, or with ``format=csv``
    (or ``Accept: text/csv``) every matching entry as a streamed CSV file, up to the gateway's
    ``audit_export_max_rows`` (``limit`` does not apply to the export; ``cursor`` does)."""
    query = AuditQuery(
        tenant=_tenant(principal, tenant),
        since=since,
        until=until,
        action=action,
        actor=actor,
        result=result,
        before_id=cursor,
    )
    pool: AsyncConnectionPool = request.app.state.pool
    if wants_csv(request, format):
        max_rows = request.app.state.settings.audit_export_max_rows
        name = "audit-all.csv" if query.tenant == ALL_TENANTS else f"audit-{query.tenant}.csv"
        return StreamingResponse(
            _csv(pool, query, max_rows),
            media_type=f"{MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    entries, next_cursor = await search(pool, query, limit)
    return {"entries": entries, "next_cursor": next_cursor}
