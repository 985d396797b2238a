"""The gateway's edge: who is calling and how much they may send, decided before route code runs.

A pure ASGI middleware, so nothing reads a body before it has decided:

- Every ``/v1`` request and WebSocket needs a key (``Authorization: Bearer``; a WebSocket may bring
  a single-use ``?ticket=`` instead, since browsers cannot set its headers). Without one the answer
  is 401 (WebSocket close 4401) with the body unread and the connection closed, so a huge body
  costs neither memory nor the time to drain it. The caller's ``Principal`` goes into the scope,
  where ``auth.authenticate`` finds it: one key lookup per request.
- Bodies are limited per route (``ROUTE_LIMITS``, the one table of them): 413 at once when
  Content-Length is over the limit, else as soon as the streamed bytes pass it; multipart uploads
  also by their number of parts. Memory stays flat: bytes are counted, never kept.
- Every response carries ``X-Request-ID`` (the caller's, or a new one), and API requests that change
  something or are refused go to the audit log (audit.py) once their status is known.
- WebSockets: at most ``ws_max_connections_per_key`` open per key in this process (close 4429),
  and closed after ``ws_idle_timeout_seconds`` without a frame either way (close 4408).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from re import Pattern

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .audit import RequestAudit
from .auth import MISSING_KEY, PRINCIPAL_SCOPE_KEY, Principal, Refused, bearer, lookup, redeem_ticket
from .settings import GatewaySettings

log = logging.getLogger(__name__)

PROTECTED_PREFIX = "/v1/"
# Close codes a WebSocket client can tell apart (4000-4999 are the application's own).
CLOSE_UNAUTHORIZED = 4401
CLOSE_IDLE = 4408
CLOSE_TOO_MANY = 4429


@dataclass(frozen=True)
class BodyLimit:
    """A route's body limits, named by the GatewaySettings fields holding them."""

    max_bytes: str
    max_parts: str | None = None


_IMAGE_UPLOAD = BodyLimit("max_image_request_bytes", max_parts="max_image_files")
# Routes whose bodies are uploads, by (method, path template); every other body is a JSON request.
ROUTE_LIMITS: dict[tuple[str, str], BodyLimit] = {
    ("POST", "/v1/jobs"): BodyLimit("max_upload_bytes"),
    ("POST", "/v1/clips"): BodyLimit("max_video_upload_bytes"),
    ("POST", "/v1/videos/analyze"): BodyLimit("max_video_upload_bytes"),
    ("POST", "/v1/videos/duplicates"): BodyLimit("max_video_upload_bytes"),
    ("POST", "/v1/models/{name}/train"): BodyLimit("max_dataset_upload_bytes"),
    ("POST", "/v1/images/analyze"): _IMAGE_UPLOAD,
    ("POST", "/v1/images/duplicates"): _IMAGE_UPLOAD,
    ("POST", "/v1/images/index"): _IMAGE_UPLOAD,
    ("POST", "/v1/images/index/query"): _IMAGE_UPLOAD,
    # One part of a resumable upload: the route then holds it to exactly its expected size.
    ("PUT", "/v1/uploads/{upload_id}/parts/{number}"): BodyLimit("upload_part_limit"),
}
DEFAULT_LIMIT = BodyLimit("max_json_body_bytes")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_parts: int | None

    @classmethod
    def of(cls, limit: BodyLimit, settings: GatewaySettings) -> Limits:
        parts = getattr(settings, limit.max_parts) if limit.max_parts else None
        return cls(getattr(settings, limit.max_bytes), parts)


def is_protected(path: str) -> bool:
    """Health, OpenAPI, docs and the UI's static files stay public; the API does not."""
    return path.startswith(PROTECTED_PREFIX)


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, settings: GatewaySettings) -> None:
        self.app = app
        self.settings = settings
        self._routes: list[tuple[str, Pattern[str], Limits]] = [
            (method, compile_path(template)[0], Limits.of(limit, settings))
            for (method, template), limit in ROUTE_LIMITS.items()
        ]
        self._default = Limits.of(DEFAULT_LIMIT, settings)
        self._open_sockets: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket" and is_protected(scope["path"]):
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def limits(self, method: str, path: str) -> Limits:
        for route_method, pattern, limits in self._routes:
            if method == route_method and pattern.match(path):
                return limits
        return self._default

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        # Every answer carries a request id; API requests that change something (or are refused)
        # are recorded once their status is known, whatever stopped them.
        audit = RequestAudit(scope, headers, send)
        try:
            await self._http_audited(scope, receive, audit.send, headers)
        finally:
            if is_protected(scope["path"]):
                audit.finish()

    async def _http_audited(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        if is_protected(scope["path"]):
            try:
                scope[PRINCIPAL_SCOPE_KEY] = await self._key_principal(scope, headers)
            except Refused as refused:
                await _refuse(scope, send, 401, str(refused), {"WWW-Authenticate": "Bearer"})
                return
        limits = self.limits(scope["method"], scope["path"])
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limits.max_bytes:
            await _refuse(
                scope, send, 413, f"upload of {declared} bytes exceeds the limit of {limits.max_bytes}"
            )
            return
        guard = _BodyGuard(scope, receive, send, limits, _multipart_boundary(headers))
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.refused:
                raise
            # The route saw a disconnect where its body went over the limit; the 413 is sent.
            log.debug("request stopped after its body was refused", exc_info=True)

    async def _key_principal(self, scope: Scope, headers: Headers) -> Principal:
        key = bearer(headers.get("authorization"))
        if key is None:
            raise Refused(MISSING_KEY)
        return await lookup(scope["app"].state.pool, key)

    async def _websocket_principal(self, scope: Scope, headers: Headers) -> Principal:
        if headers.get("authorization"):
            return await self._key_principal(scope, headers)
        query = QueryParams(scope.get("query_string", b""))
        if ticket := query.get("ticket"):
            return await redeem_ticket(scope["app"].state.pool, ticket)
        if "api_key" in query:
            raise Refused("?api_key= is no longer accepted: pass ?ticket= from POST /v1/ws-tickets")
        raise Refused(
            "missing credentials: send 'Authorization: Bearer <key>' or ?ticket= from POST /v1/ws-tickets"
        )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            principal = await self._websocket_principal(scope, Headers(scope=scope))
        except Refused as refused:
            await _close_handshake(receive, send, CLOSE_UNAUTHORIZED, str(refused))
            return
        cap = self.settings.ws_max_connections_per_key
        if self._open_sockets[principal.key_id] >= cap:
            reason = f"{cap} WebSockets are already open with this API key (the limit)"
            await _close_handshake(receive, send, CLOSE_TOO_MANY, reason)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        self._open_sockets[principal.key_id] += 1
        try:
            await _run_until_idle(self.app, scope, receive, send, self.settings.ws_idle_timeout_seconds)
        finally:
            self._open_sockets[principal.key_id] -= 1
            if self._open_sockets[principal.key_id] <= 0:
                del self._open_sockets[principal.key_id]


async def _refuse(
    scope: Scope, send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    """Answer without reading the body, and close the connection: keeping it alive would make the
    server read (and discard) the rest of the body first."""
    response = JSONResponse({"detail": detail}, status, headers={**(headers or {}), "Connection": "close"})

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)


_BOUNDARY = re.compile(r'boundary="?([^";,\s]{1,200})"?', re.IGNORECASE)


def _multipart_boundary(headers: Headers) -> bytes | None:
    content_type = headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/"):
        return None
    found = _BOUNDARY.search(content_type)
    return found.group(1).encode("latin-1") if found else None


class _BodyGuard:
    """``receive`` and ``send`` for the app that count the body as it streams in, answer 413 the
    moment it passes a limit, and from then on give the app a disconnect and swallow its answer."""

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, limits: Limits, boundary: bytes | None
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._limits = limits
        self._received = 0
        # Multipart parts are counted by their delimiters (n parts: n + 1 of them, the closing one
        # included), found across chunk borders by keeping the tail of the previous chunk.
        self._delimiter = b"--" + boundary if boundary and limits.max_parts else None
        self._tail = b""
        self._delimiters = 0
        self.refused = False
        self._started = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        self._received += len(chunk)
        if self._received > self._limits.max_bytes:
            return await self._refuse(f"upload exceeds the limit of {self._limits.max_bytes} bytes")
        if self._delimiter is not None and self._limits.max_parts is not None:
            window = self._tail + chunk
            self._delimiters += window.count(self._delimiter)
            self._tail = window[-(len(self._delimiter) - 1) :]
            if self._delimiters > self._limits.max_parts + 1:
                parts = self._limits.max_parts
                return await self._refuse(
                    f"more than {parts} parts in one multipart body; the limit is {parts}"
                )
        return message

    async def _refuse(self, detail: str) -> Message:
        self.refused = True
        if not self._started:
            self._started = True
            await _refuse(self._scope, self._send, 413, detail)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)


async def _close_handshake(receive: Receive, send: Send, code: int, reason: str) -> None:
    """Accept, then close with ``code``: a close during the handshake reaches the client as a bare
    HTTP 403, and the reason would never arrive."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code, "reason": reason})


async def _run_until_idle(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, idle_seconds: float
) -> None:
    """Run the WebSocket app; close the connection when no frame went either way for ``idle_seconds``
    seconds. A client that wants to wait longer in silence sends any message now and then."""
    last_frame = time.monotonic()
    app_closed = False
    edge_closed = False

    async def tracked_receive() -> Message:
        nonlocal last_frame
        message = await receive()
        last_frame = time.monotonic()
        return message

    async def tracked_send(message: Message) -> None:
        nonlocal last_frame, app_closed
        if edge_closed:
            return
        app_closed = app_closed or message["type"] == "websocket.close"
        last_frame = time.monotonic()
        await send(message)

    task = asyncio.ensure_future(app(scope, tracked_receive, tracked_send))
    try:
        while True:
            idle_for = time.monotonic() - last_frame
            if app_closed or idle_for < idle_seconds:
                wait = None if app_closed else idle_seconds - idle_for
                done, _ = await asyncio.wait({task}, timeout=wait)
                if done:
                    task.result()
                    return
                continue
            edge_closed = True
            await send(
                {"type": "websocket.close", "code": CLOSE_IDLE, "reason": f"idle for {idle_seconds:g} s"}
            )
            return
    finally:
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
