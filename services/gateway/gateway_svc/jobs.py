"""The gateway's job records: created on submission, kept current from job events."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from clipsift.events.v1 import events_pb2

_COLUMNS = "id::text AS id, kind, status, progress, step, message, options, result, created_at, updated_at"

# Events can arrive late or twice; the guards keep status monotonic and terminal states final.
# An event changes its job only when it names the job's own tenant; each statement also returns the
# job's tenant (NULL: no such job) so the caller can tell a refused event from a stale one.
_GUARD = "WHERE id = %(id)s AND tenant_id = %(tenant_id)s AND status IN ('queued', 'running') RETURNING 1"
_APPLY_PROGRESS = f"""
WITH changed AS (
    UPDATE jobs SET status = 'running', progress = greatest(progress, %(progress)s), step = %(step)s,
                    message = %(message)s, updated_at = now()
    {_GUARD}
)
SELECT (SELECT tenant_id FROM jobs WHERE id = %(id)s), EXISTS (SELECT FROM changed)
"""
_APPLY_TERMINAL = f"""
WITH changed AS (
    UPDATE jobs SET status = %(status)s, progress = %(progress)s, step = %(step)s, message = %(message)s,
                    result = %(result)s, updated_at = now()
    {_GUARD}
)
SELECT (SELECT tenant_id FROM jobs WHERE id = %(id)s), EXISTS (SELECT FROM changed)
"""
_JOB_TENANT = "SELECT (SELECT tenant_id FROM jobs WHERE id = %(id)s), false"


class Applied(enum.Enum):
    """What folding one event into the job rows did."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"  # a duplicate, a late event, or one that changes nothing (requested)
    UNKNOWN_JOB = "unknown job"  # no such job here (or not a job id at all)
    FOREIGN_TENANT = "foreign tenant"  # the event names another tenant than the job's: refused


def parse_job_id(job_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(job_id)
    except ValueError:
        return None


class JobStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def create(
        self, job_id: uuid.UUID, tenant_id: str, kind: str, options: dict[str, Any], input_key: str
    ) -> datetime:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO jobs (id, tenant_id, kind, status, options, input_key) "
                "VALUES (%s, %s, %s, 'queued', %s, %s) RETURNING created_at",
                (job_id, tenant_id, kind, Jsonb(options), input_key),
            )
            row = await cur.fetchone()
            assert row is not None
            return row[0]  # type: ignore[no-any-return]

    async def delete(self, job_id: uuid.UUID) -> None:
        async with self.pool.connection() as conn:
            await conn.execute("DELETE FROM jobs WHERE id = %s", (job_id,))

    async def get(self, job_id: str, tenant_id: str) -> dict[str, Any] | None:
        """The job if it belongs to ``tenant_id``; other tenants' jobs are indistinguishable from absent."""
        parsed = parse_job_id(job_id)
        if parsed is None:
            return None
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE id = %s AND tenant_id = %s", (parsed, tenant_id)
            )
            return await cur.fetchone()

    async def is_unfinished(self, job_id: str, tenant_id: str) -> bool:
        """Whether the tenant's job exists and is still queued or running."""
        parsed = parse_job_id(job_id)
        if parsed is None:
            return False
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT 1 FROM jobs WHERE id = %s AND tenant_id = %s AND status IN ('queued', 'running')",
                (parsed, tenant_id),
            )
            return await cur.fetchone() is not None

    async def list(self, tenant_id: str, limit: int, status: str | None) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE tenant_id = %s AND (%s::text IS NULL OR status = %s) "
                "ORDER BY created_at DESC LIMIT %s",
                (tenant_id, status, status, limit),
            )
            return await cur.fetchall()

    async def apply(self, event: events_pb2.JobEvent) -> Applied:
        """Fold one event into the job row (idempotent); an event of another tenant changes nothing."""
        job_id = parse_job_id(event.job_id)
        if job_id is None:
            return Applied.UNKNOWN_JOB
        params: dict[str, Any] = {
            "id": job_id,
            "tenant_id": event.tenant_id,
            "progress": event.progress,
            "step": event.step,
            "message": event.message,
        }
        if event.type == events_pb2.EVENT_TYPE_PROGRESS:
            sql = _APPLY_PROGRESS
        elif event.type in (events_pb2.EVENT_TYPE_COMPLETED, events_pb2.EVENT_TYPE_FAILED):
            completed = event.type == events_pb2.EVENT_TYPE_COMPLETED
            params["status"] = "completed" if completed else "failed"
            params["result"] = Jsonb(json_format.MessageToDict(event.payload)) if completed else None
            sql = _APPLY_TERMINAL
        else:
            sql = _JOB_TENANT
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            row = await cur.fetchone()
        assert row is not None
        tenant_id, changed = row
        if tenant_id is None:
            return Applied.UNKNOWN_JOB
        if tenant_id != event.tenant_id:
            return Applied.FOREIGN_TENANT
        return Applied.CHANGED if changed else Applied.UNCHANGED


def _integral(value: Any) -> Any:
    # Event payloads travel as protobuf Struct, where every number is a double.
    return int(value) if isinstance(value, float) and value.is_integer() else value


_HIDDEN_OPTIONS = frozenset({"input_key", "source_url"})


def job_view(row: dict[str, Any]) -> dict[str, Any]:
    """The public shape of a job; storage details (blob keys) stay inside."""
    result = row["result"] or {}
    return {
        "id": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "progress": round(row["progress"], 4),
        "step": row["step"],
        "message": row["message"],
        # A source_url (a bucket object's signed GET) is a credential for the worker alone.
        "options": {k: v for k, v in row["options"].items() if k not in _HIDDEN_OPTIONS},
        "summary": {k: _integral(v) for k, v in result.items() if k != "result_key"},
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "result_url": f"/v1/jobs/{row['id']}/result" if row["status"] == "completed" else None,
    }
