"""The audit log: who did what to which organisation, when, from where, and what came of it.

Rows go to the append-only ``audit_log`` table (migration 0009). The edge (edge.py) records every
mutating request (POST, PUT, PATCH, DELETE under ``/v1``) once its status is known, and every 401
and 403 whatever the method; the admin CLI records its key and retention changes with the actor
``admin-cli``; other modules call ``record``. Only the request line's shape is kept: the route
template as the action, its path parameters as the target, never a body, a query string or a key
(the actor is the key's public prefix).

Requests do not wait for the database: the edge hands entries to ``AuditWriter``, a bounded queue
drained in batches by one background task and flushed when the gateway stops. A full queue drops
the entry with an error log and ``clipsift_audit_dropped_total``, rather than slow every request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import Message, Scope, Send

from .auth import PRINCIPAL_SCOPE_KEY, Principal, bearer

log = logging.getLogger(__name__)

AUDIT_DROPPED = Counter(
    "clipsift_audit_dropped_total", "Audit entries lost (queue full, or the write failed)", ["reason"]
)
AUDIT_WRITTEN = Counter("clipsift_audit_written_total", "Audit entries written to PostgreSQL")

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Refusals recorded whatever the method: who tried to read what they may not.
AUDITED_REFUSALS = frozenset({401, 403})
REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_SCOPE_KEY = "clipsift.request_id"
ADMIN_CLI = "admin-cli"
# A caller's own request id is kept only when it looks like one (no spaces, no control characters).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
# The public part of a key (cs_<prefix>_<secret>): what operators see of it.
_KEY_PREFIX = re.compile(r"^cs_([0-9a-f]{8})_")
_MAX_TEXT = 500


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log. ``result``: the HTTP status, or ``ok`` / ``refused``."""

    action: str
    result: str
    tenant_id: str | None = None
    actor_key_id: str | None = None
    actor: str = ""
    target: str = ""
    client_address: str | None = None
    request_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def params(self) -> tuple[Any, ...]:
        key_id = uuid.UUID(self.actor_key_id) if self.actor_key_id else None
        return (
            self.occurred_at,
            self.tenant_id,
            key_id,
            self.actor,
            self.action,
            self.target,
            self.result,
            self.client_address,
            self.request_id,
            Jsonb(dict(self.details)),
        )


_INSERT = (
    "INSERT INTO audit_log (occurred_at, tenant_id, actor_key_id, actor, action, target, result, "
    "client_address, request_id, details) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


async def insert(conn: AsyncConnection, entries: Sequence[AuditEntry]) -> None:
    """Write ``entries`` in the connection's current transaction."""
    async with conn.cursor() as cur:
        await cur.executemany(_INSERT, [entry.params() for entry in entries])


async def record(pool: AsyncConnectionPool, entry: AuditEntry) -> None:
    """Write one entry now (committed on return): for changes that must not be lost to a full
    queue, such as key and role changes made over REST."""
    async with pool.connection() as conn:
        await insert(conn, [entry])


class AuditWriter:
    """A bounded queue of entries, written in batches by ``run`` (one task per gateway process)."""

    def __init__(self, pool: AsyncConnectionPool, queue_size: int, batch_size: int) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[AuditEntry] = asyncio.Queue(queue_size)
        self._batch_size = batch_size

    def submit(self, entry: AuditEntry) -> None:
        """Queue ``entry``; never waits. A full queue loses it, loudly."""
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            AUDIT_DROPPED.labels("queue_full").inc()
            log.error(
                "audit queue full: entry dropped",
                extra={"action": entry.action, "tenant": entry.tenant_id, "request_id": entry.request_id},
            )

    async def run(self) -> None:
        """Write queued entries until cancelled, up to ``batch_size`` per transaction."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[AuditEntry]) -> None:
        try:
            async with self._pool.connection() as conn:
                await insert(conn, batch)
        except Exception:
            AUDIT_DROPPED.labels("write_failed").inc(len(batch))
            log.exception("audit entries could not be written", extra={"entries": len(batch)})
        else:
            AUDIT_WRITTEN.inc(len(batch))

    async def flush(self) -> None:
        """Wait until every entry queued so far is written (or counted as lost)."""
        await self._queue.join()


async def run_writer(writer: AuditWriter, stop: asyncio.Event, flush_seconds: float) -> None:
    """The writer's task for the gateway's lifespan: runs until ``stop``, then flushes what is
    queued (for at most ``flush_seconds``)."""
    task = asyncio.create_task(writer.run())
    try:
        await stop.wait()
        try:
            await asyncio.wait_for(writer.flush(), flush_seconds)
        except TimeoutError:
            log.error("audit entries still queued at shutdown were not written")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


# -- One HTTP request, seen by the edge --------------------------------------------------------


def flat_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes of an app, those of included routers among them (FastAPI keeps an included
    router as one entry whose routes it matches itself); each has ``path`` and ``matches``."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        else:
            yield route


def _route_of(scope: Scope) -> tuple[str, Mapping[str, Any]]:
    """The route template and path parameters: the matched route's when routing ran, else found
    here (a refusal before routing), else the bare path."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return route.path, scope.get("path_params", {})
    partial: tuple[str, Mapping[str, Any]] | None = None
    for candidate in flat_routes(getattr(scope.get("app"), "routes", ())):
        match, child = candidate.matches(scope)
        if match == Match.FULL:
            return candidate.path, child.get("path_params", {})
        if match == Match.PARTIAL and partial is None:  # the path matched, the method did not
            partial = (candidate.path, child.get("path_params", {}))
    return partial or (scope["path"][:_MAX_TEXT], {})


def _target(params: Mapping[str, Any]) -> str:
    if len(params) == 1:
        return str(next(iter(params.values())))[:_MAX_TEXT]
    return ",".join(f"{name}={value}" for name, value in params.items())[:_MAX_TEXT]


def key_actor(authorization: str | None) -> str:
    """The public prefix of the bearer key, or '' (never any other part of a credential)."""
    found = _KEY_PREFIX.match(bearer(authorization) or "")
    return found.group(1) if found else ""


class RequestAudit:
    """One request at the edge: its request id (the caller's ``X-Request-ID`` or a new one, always
    answered in the response header), the status it got, and its audit entry at the end."""

    def __init__(self, scope: Scope, headers: Headers, send: Send) -> None:
        given = headers.get(REQUEST_ID_HEADER, "")
        self.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope[REQUEST_ID_SCOPE_KEY] = self.request_id
        self.status: int | None = None
        self._scope = scope
        self._headers = headers
        self._send = send

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            header = (REQUEST_ID_HEADER.encode(), self.request_id.encode())
            message = {**message, "headers": [*message.get("headers", []), header]}
        await self._send(message)

    def finish(self) -> None:
        """Queue the entry if the request is one the log keeps (no response sent: a 500)."""
        scope = self._scope
        status = self.status if self.status is not None else 500
        if scope["method"] not in MUTATING_METHODS and status not in AUDITED_REFUSALS:
            return
        app = scope.get("app")
        writer = getattr(getattr(app, "state", None), "audit", None)
        if not isinstance(writer, AuditWriter):
            return
        writer.submit(self.entry(status))

    def entry(self, status: int) -> AuditEntry:
        scope = self._scope
        template, params = _route_of(scope)
        principal = scope.get(PRINCIPAL_SCOPE_KEY)
        known = principal if isinstance(principal, Principal) else None
        client = scope.get("client")
        return AuditEntry(
            action=f"{scope['method']} {template}",
            result=str(status),
            tenant_id=known.tenant_id if known else None,
            actor_key_id=known.key_id if known else None,
            actor=key_actor(self._headers.get("authorization")),
            target=_target(params),
            client_address=client[0] if client else None,
            request_id=self.request_id,
            details={"path": scope["path"][:_MAX_TEXT]},
        )


# -- Reading it back ---------------------------------------------------------------------------

COLUMNS = (
    "id",
    "occurred_at",
    "tenant_id",
    "actor_key_id",
    "actor",
    "action",
    "target",
    "result",
    "client_address",
    "request_id",
    "details",
)
_SELECT = (
    "SELECT id, occurred_at, tenant_id, actor_key_id::text, actor, action, target, result, "
    "client_address, request_id, details FROM audit_log"
)
ALL_TENANTS = "*"


@dataclass(frozen=True)
class AuditQuery:
    """Filters of ``GET /v1/audit``: one organisation (``*``: every one, refusals without a
    tenant included), a time range [since, until), an action prefix, an exact actor and result,
    and entries older than ``before_id`` (the cursor)."""

    tenant: str
    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    actor: str | None = None
    result: str | None = None
    before_id: int | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        if self.tenant != ALL_TENANTS:
            clauses.append("tenant_id = %(tenant)s")
        if self.since is not None:
            clauses.append("occurred_at >= %(since)s")
        if self.until is not None:
            clauses.append("occurred_at < %(until)s")
        if self.action:
            clauses.append("action LIKE %(action)s ESCAPE '\\'")
        if self.actor is not None:
            clauses.append("actor = %(actor)s")
        if self.result is not None:
            clauses.append("result = %(result)s")
        if self.before_id is not None:
            clauses.append("id < %(before_id)s")
        action = re.sub(r"([\\%_])", r"\\\1", self.action or "") + "%"
        params = {**self.__dict__, "action": action}
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def row_view(row: Sequence[Any]) -> dict[str, Any]:
    view = dict(zip(COLUMNS, row, strict=True))
    view["occurred_at"] = row[1].astimezone(UTC).isoformat()
    return view


async def search(
    pool: AsyncConnectionPool, query: AuditQuery, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` entries, newest first, and the cursor of the next page (None: the last)."""
    where, params = query.where()
    async with pool.connection() as conn:
        cur = await conn.execute(
            f"{_SELECT}{where} ORDER BY id DESC LIMIT %(limit)s", {**params, "limit": limit + 1}
        )
        rows = await cur.fetchall()
    entries = [row_view(row) for row in rows[:limit]]
    return entries, (entries[-1]["id"] if len(rows) > limit else None)


async def stream_rows(
    pool: AsyncConnectionPool, query: AuditQuery, max_rows: int, batch: int = 2000
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Up to ``max_rows`` entries, newest first, in batches from a server-side cursor (the export
    never holds the whole log in memory)."""
    where, params = query.where()
    async with pool.connection() as conn, conn.transaction():
        cur = conn.cursor(name=f"audit_export_{uuid.uuid4().hex}")
        await cur.execute(f"{_SELECT}{where} ORDER BY id DESC LIMIT %(limit)s", {**params, "limit": max_rows})
        while rows := await cur.fetchmany(batch):
            yield rows
        await cur.close()


def csv_values(row: Sequence[Any]) -> list[Any]:
    """A row as CSV cells: details as its JSON text."""
    view = row_view(row)
    view["details"] = json.dumps(view["details"], separators=(",", ":"), sort_keys=True)
    return [view[column] for column in COLUMNS]
