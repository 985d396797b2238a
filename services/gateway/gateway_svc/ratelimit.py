"""Per-key and per-tenant rate limits: moving windows in Redis (the `limits` library).

An ASGI middleware inside the edge (edge.py), so it sees the authenticated ``Principal`` in the
scope and runs before any body is read. Every ``/v1`` HTTP request counts once against each
window of its API key and of its tenant. Over a window the answer is 429 with ``Retry-After``;
every answer carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` (delta
seconds) of the window closest to running out.

When Redis cannot be reached the request goes through (fail open), logged and counted in
``clipsift_rate_limit_unavailable_total``: the limits protect capacity, not secrets. Keys,
expiry and body limits are checked before this layer, quotas and fair scheduling live in
PostgreSQL and hold without Redis, and failing closed would turn a Redis restart into an
outage of the whole API (the failure isolation issue 16 asks for).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import PRINCIPAL_SCOPE_KEY, Principal
from .settings import GatewaySettings

log = logging.getLogger(__name__)

RATE_LIMITED = Counter("clipsift_rate_limited_total", "Requests refused by a rate limit", ["scope"])
LIMITER_UNAVAILABLE = Counter(
    "clipsift_rate_limit_unavailable_total", "Requests let through because Redis could not be reached"
)
# At most one warning per this many seconds while Redis is down; the counter counts every request.
_WARN_EVERY_SECONDS = 30.0


def parse_limits(text: str, setting: str) -> list[RateLimitItem]:
    """Windows from the `limits` notation; a clear error naming the setting when malformed."""
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise ValueError(
            f"{setting}={text!r} is not a rate limit like '20/second;600/minute': {exc}"
        ) from exc
    if not items:
        raise ValueError(f"{setting}={text!r} names no rate limit")
    return items


@dataclass(frozen=True)
class Window:
    """Where a request left one window: its size, what is left and when it frees up."""

    scope: str
    limit: int
    period: str
    remaining: int
    reset_at: float
    allowed: bool

    def headers(self, now: float) -> list[tuple[bytes, bytes]]:
        reset = max(0, math.ceil(self.reset_at - now))
        values = [
            (b"ratelimit-limit", str(self.limit)),
            (b"ratelimit-remaining", str(max(0, self.remaining))),
            (b"ratelimit-reset", str(reset)),
        ]
        if not self.allowed:
            values.append((b"retry-after", str(max(1, reset))))
        return [(name, value.encode()) for name, value in values]


class RateLimiter:
    """The windows of every key and tenant, kept in one Redis."""

    def __init__(self, settings: GatewaySettings) -> None:
        assert settings.redis_url is not None
        self.per_key = parse_limits(settings.rate_limit_per_key, "rate_limit_per_key")
        self.per_tenant = parse_limits(settings.rate_limit_per_tenant, "rate_limit_per_tenant")
        timeout = settings.redis_timeout_seconds
        self.storage = RedisStorage(
            f"async+{settings.redis_url}",
            implementation="redispy",
            key_prefix=settings.redis_key_prefix,
            wrap_exceptions=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self.strategy = MovingWindowRateLimiter(self.storage)
        self._warned_at = -math.inf

    async def check(self, principal: Principal) -> Window | None:
        """Count one request of ``principal``; the first window it is over, else the window with
        the least left. None when Redis cannot be reached (the request goes through)."""
        checks = [(item, "key", principal.key_id) for item in self.per_key]
        checks += [(item, "tenant", principal.tenant_id) for item in self.per_tenant]
        tightest: Window | None = None
        try:
            for item, scope, identity in checks:
                allowed = await self.strategy.hit(item, scope, identity)
                stats = await self.strategy.get_window_stats(item, scope, identity)
                window = Window(scope, item.amount, str(item), stats.remaining, stats.reset_time, allowed)
                if not allowed:
                    RATE_LIMITED.labels(scope).inc()
                    return window
                if tightest is None or window.remaining < tightest.remaining:
                    tightest = window
        except (StorageError, OSError, TimeoutError) as exc:
            LIMITER_UNAVAILABLE.inc()
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY_SECONDS:
                self._warned_at = now
                log.warning("rate limits not applied: Redis unavailable (%s)", exc)
            return None
        return tightest

    async def close(self) -> None:
        client = getattr(self.storage.bridge, "storage", None)
        if client is not None:
            await client.aclose()


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter | None) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get(PRINCIPAL_SCOPE_KEY)
        if self.limiter is None or scope["type"] != "http" or not isinstance(principal, Principal):
            await self.app(scope, receive, send)
            return
        window = await self.limiter.check(principal)
        if window is None:
            await self.app(scope, receive, send)
            return
        headers = window.headers(time.time())
        if not window.allowed:
            await _too_many(send, window, headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _too_many(send: Send, window: Window, headers: list[tuple[bytes, bytes]]) -> None:
    """429 without reading the body; the connection closes so the body is not drained either."""
    who = "API key" if window.scope == "key" else "tenant"
    retry = dict(headers)[b"retry-after"].decode()
    body = json.dumps(
        {"detail": f"rate limit of this {who} reached ({window.period}); retry in {retry} s"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
