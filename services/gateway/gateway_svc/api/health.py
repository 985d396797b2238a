"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from clipsift_common.grpc_client import ServiceClient

router = APIRouter(tags=["operations"])
Probe = Callable[[], Awaitable[None]]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (liveness): no dependency is checked."""
    return {"status": "ok"}


def _grpc_probe(client: ServiceClient) -> Probe:
    async def check() -> None:
        stub = health_pb2_grpc.HealthStub(client.channel)
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2.0)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            raise ConnectionError(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    return check


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: PostgreSQL, NATS and every downstream gRPC service report healthy."""
    state = request.app.state

    async def database() -> None:
        async with state.pool.connection() as conn:
            await conn.execute("SELECT 1")

    async def nats() -> None:
        if not state.bus.nc.is_connected:
            raise ConnectionError("not connected")

    probes: dict[str, Probe] = {
        "database": database,
        "nats": nats,
        "text": _grpc_probe(state.text),
        "analytics": _grpc_probe(state.analytics),
        "video": _grpc_probe(state.video),
    }

    async def outcome(probe: Probe) -> str:
        try:
            await asyncio.wait_for(probe(), timeout=3.0)
        except Exception as exc:
            return f"failing: {type(exc).__name__} {exc}".strip()
        return "ok"

    results = await asyncio.gather(*(outcome(probe) for probe in probes.values()))
    checks = dict(zip(probes, results, strict=True))
    ready = all(value == "ok" for value in results)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
