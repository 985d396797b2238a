"""The FastAPI application and its lifespan: connections open once, close in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram
from psycopg_pool import AsyncConnectionPool

from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.metrics import LATENCY_BUCKETS, metrics_listener
from clipsift_common.objectstore import open_blob_store
from clipsift_common.telemetry import instrument_fastapi

from .api import (
    analytics,
    analyze,
    audit,
    buckets,
    clips,
    compare,
    health,
    images,
    indexes,
    jobs,
    keys,
    models,
    resumable,
    text,
    tickets,
    videos,
)
from .api.deps import Downstream
from .api.schemas import ERROR_RESPONSES
from .audit import AuditWriter, run_writer
from .bucket_access import AccessPolicy
from .buckets import BucketCipher, BucketRegistry
from .dead_jobs import DeadJobSweeper
from .dispatch import Dispatcher
from .edge import EdgeMiddleware
from .errors import install_error_handlers
from .jobs import JobStore
from .projector import JobProjector
from .ratelimit import RateLimiter, RateLimitMiddleware
from .resumable_transfer import Transfers, abort_expired
from .retention import RetentionSweeper
from .settings import GatewaySettings
from .webui import mount_web_ui

log = logging.getLogger(__name__)
MIGRATIONS = "gateway_svc.migrations"

HTTP_REQUESTS = Counter("clipsift_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "clipsift_http_request_seconds", "HTTP request latency", ["method", "route"], buckets=LATENCY_BUCKETS
)


# Every public router but health (mounted first, outside the shared error responses).
_ROUTERS = (
    text,
    compare,
    analyze,
    images,
    jobs,
    clips,
    videos,
    analytics,
    indexes,
    models,
    tickets,
    buckets,
    resumable,
    audit,
    keys,
)


def _client(settings: GatewaySettings, target: str) -> ServiceClient:
    return ServiceClient(
        target,
        deadline_seconds=settings.grpc_deadline_seconds,
        breaker_fail_max=settings.breaker_fail_max,
        breaker_reset_seconds=settings.breaker_reset_seconds,
        max_message_bytes=settings.grpc_max_message_bytes,
    )


def _bucket_registry(settings: GatewaySettings, pool: AsyncConnectionPool) -> BucketRegistry:
    policy = AccessPolicy(
        allow_private=settings.bucket_allow_private_endpoints,
        allow_http=settings.bucket_allow_http,
        timeout_seconds=settings.bucket_check_seconds,
    )
    cipher = BucketCipher(settings.bucket_secret_keys) if settings.bucket_secret_keys else None
    if cipher is None:
        log.warning(
            "no bucket secret keys (CLIPSIFT_GATEWAY_BUCKET_SECRET_KEYS): tenants cannot register buckets"
        )
    return BucketRegistry(pool, cipher, policy)


def create_app(settings: GatewaySettings) -> FastAPI:
    limiter = RateLimiter(settings) if settings.redis_url else None
    if limiter is None:
        log.warning("no Redis URL (CLIPSIFT_GATEWAY_REDIS_URL): requests are not rate limited")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrate(settings.database_url, "gateway", MIGRATIONS)
        pool = await open_pool(settings)
        bus = await EventBus.from_settings(settings, name="gateway")
        state = app.state
        state.settings = settings
        state.pool = pool
        state.bus = bus
        state.blobs = open_blob_store(settings)
        state.jobs = JobStore(pool)
        state.buckets = _bucket_registry(settings, pool)
        state.text = _client(settings, settings.text_target)
        state.analytics = _client(settings, settings.analytics_target)
        state.video = _client(settings, settings.video_target)
        state.vision = _client(settings, settings.vision_target)
        state.training = _client(settings, settings.training_target)
        # The stubs routes call (api/deps.py), built once over these clients.
        state.downstream = Downstream.over(
            text=state.text,
            vision=state.vision,
            video=state.video,
            analytics=state.analytics,
            training=state.training,
        )
        state.dispatcher = Dispatcher(
            pool, bus, settings.dispatch_max_in_flight_per_tenant, settings.dispatch_poll_seconds
        )
        stop = asyncio.Event()
        dispatcher = asyncio.create_task(state.dispatcher.run(stop))
        # The audit log's writer stops last of the background tasks (below): it flushes what the
        # requests and loops before it queued.
        state.audit = AuditWriter(pool, settings.audit_queue_size, settings.audit_batch_size)
        audit_stop = asyncio.Event()
        audit_writer = asyncio.create_task(run_writer(state.audit, audit_stop, settings.audit_flush_seconds))
        # Supervised loops: restarted when they fail; their health is on app.state for /readyz.
        state.projector = JobProjector(bus, state.jobs, settings)
        state.dead_jobs = DeadJobSweeper(bus, state.jobs, settings)
        state.retention = RetentionSweeper(
            pool, state.blobs, settings, abort_uploads=lambda: abort_expired(pool, Transfers.of(state))
        )
        loops = (state.projector, state.dead_jobs, state.retention)
        background = [asyncio.create_task(loop.run(stop)) for loop in loops]
        try:
            # Prometheus on its own port (kept off the public one: the series name tenants,
            # routes and targets); a NetworkPolicy lets only the scraper reach it.
            with metrics_listener(settings.metrics_port, settings.http_host) as state.metrics_port:
                yield
        finally:
            stop.set()
            await asyncio.gather(dispatcher, return_exceptions=True)
            if limiter is not None:
                await limiter.close()
            await asyncio.gather(*background, return_exceptions=True)
            audit_stop.set()
            await asyncio.gather(audit_writer, return_exceptions=True)
            for client in (state.text, state.analytics, state.video, state.vision, state.training):
                await client.close()
            await bus.close()
            await pool.close()

    app = FastAPI(
        title="clipsift",
        version="0.1.0",
        description="Self-hosted content platform: redundancy detection and long-video clipping.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    instrument_fastapi(app)
    app.include_router(health.router)
    for module in _ROUTERS:
        app.include_router(module.router, responses=ERROR_RESPONSES)
    if settings.web_ui:
        mount_web_ui(app)
    # Keys and body limits before any route reads a byte; inside the metrics middleware below,
    # so its 401s and 413s are counted too.
    # Rate limits inside the edge: they count authenticated callers only.
    app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(EdgeMiddleware, settings=settings)

    @app.middleware("http")
    async def record_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, template).observe(time.perf_counter() - start)
        return response

    return app
