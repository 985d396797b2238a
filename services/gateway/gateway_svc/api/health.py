"""Liveness and readiness (Prometheus metrics are on their own port: ``metrics_port``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc

from clipsift_common.grpc_client import ServiceClient
from clipsift_common.supervised import Supervised

router = APIRouter(tags=["operations"])
Probe = Callable[[], Awaitable[None]]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (liveness): no dependency is checked."""
    return {"status": "ok"}


def _grpc_probe(client: ServiceClient) -> Probe:
    async def check() -> None:
        stub = health_pb2_grpc.HealthStub(client.channel)
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise ConnectionError(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    return check


# Downstream services whose health /readyz reports (for information: they never fail it).
DEPENDENCIES = ("text", "analytics", "video", "vision", "training")


async def _outcome(probe: Probe, seconds: float) -> str:
    try:
        await asyncio.wait_for(probe(), timeout=seconds)
    except Exception as exc:
        return f"failing: {type(exc).__name__} {exc}".strip()
    return "ok"


def _supervised(loop: Supervised) -> Probe:
    async def check() -> None:
        if not loop.healthy:
            raise ConnectionError(loop.last_error or "not started yet")

    return check


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the gateway's own PostgreSQL and NATS connections and its supervised loops
    (job projector, dead-job sweeper, retention sweeper). Downstream gRPC services are reported under
    ``dependencies`` but do not fail readiness: while one restarts, only the routes that need it
    answer 503 naming it, instead of the whole API leaving the load balancer."""
    state = request.app.state

    async def database() -> None:
        async with state.pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def nats() -> None:
        if not state.bus.nc.is_connected:
            raise ConnectionError("not connected")

    checks: dict[str, Probe] = {
        "database": database,
        "nats": nats,
        "projector": _supervised(state.projector),
        "dead_jobs": _supervised(state.dead_jobs),
        "retention": _supervised(state.retention),
    }
    clients: dict[str, ServiceClient] = {name: getattr(state, name) for name in DEPENDENCIES}
    # Short timeouts: a hung dependency must not make this answer outlive the kubelet's probe.
    own, downstream = await asyncio.gather(
        asyncio.gather(*(_outcome(probe, 2.0) for probe in checks.values())),
        asyncio.gather(*(_outcome(_grpc_probe(client), 1.0) for client in clients.values())),
    )
    ready = all(value == "ok" for value in own)
    dependencies = {
        name: {"health": health, "circuit": client.breaker.current_state}
        for (name, client), health in zip(clients.items(), downstream, strict=True)
    }
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": dict(zip(checks, own, strict=True)),
            "dependencies": dependencies,
        },
        status_code=200 if ready else 503,
    )
