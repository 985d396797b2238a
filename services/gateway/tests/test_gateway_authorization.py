"""Authorization in one place, checked from the application's own route table (issue 19, item 3).

(a) every route declares exactly one permission with ``requires(...)`` (or is public, or open to any
authenticated caller by name): a route added without one fails here; (b) every route with a key of
every role: 403 exactly when the role lacks the route's permission; (c) a scoped key is held to its
scopes; (d) another organisation's admin key never gets a 2xx from a route naming an object, and a
404 for a job that exists."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.routing import BaseRoute, Mount
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.auth import Principal, authenticate
from gateway_svc.permissions import (
    PUBLIC_ROUTES,
    ROLE_PERMISSIONS,
    SIGNED_IN_ROUTES,
    Permission,
    Role,
    declared_permission,
    requires,
)
from gateway_svc.settings import GatewaySettings

pytestmark = pytest.mark.integration

# A key of every role in "acme", an editor key narrowed to two scopes, and globex's admin.
SCOPED = ("editor", (Permission.JOBS_WRITE.value, Permission.ANALYZE.value))
# Plausible values for every path parameter the routes have (a route with a new one fails below).
PATH_VALUES = {
    "job_id": "5f0c6f0e-8d8e-4a52-9d0e-3c8f8c1b2a77",
    "upload_id": "1b2c3d4e-5f60-4a71-8b92-a3b4c5d6e7f8",
    "report_id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    "name": "sample",
    "index": "0",
    "number": "1",
    "version": "1",
    "image_id": "photo-1",
    "document_id": "doc-1",
    "prefix": "0123abcd",
}


def _settings() -> GatewaySettings:
    """Settings enough to build the app (nothing connects until its lifespan runs)."""
    return GatewaySettings(
        nats_url="nats://127.0.0.1:1",
        database_url="postgresql://127.0.0.1:1/none",
        text_target="127.0.0.1:1",
        analytics_target="127.0.0.1:1",
        video_target="127.0.0.1:1",
        vision_target="127.0.0.1:1",
        training_target="127.0.0.1:1",
        blob_dir="/nonexistent",
    )


def _declared(dependant: Dependant) -> list[Permission]:
    """Every permission a ``requires`` in the dependency tree declares (one per requires)."""
    found: list[Permission] = []
    for dependency in dependant.dependencies:
        permission = declared_permission(dependency.call)
        if permission is not None:
            found.append(permission)
        found += _declared(dependency)
    return found


def _authenticates(dependant: Dependant) -> bool:
    return any(d.call is authenticate or _authenticates(d) for d in dependant.dependencies)


def routes(app: FastAPI) -> list[tuple[str, BaseRoute]]:
    """Every route of the app with its full path, those of included routers too."""
    return [(str(context.path), context.original_route) for context in iter_route_contexts(app.routes)]


def undeclared(app: FastAPI) -> list[str]:
    """The routes breaking the rule: each one, with why."""
    problems = []
    for path, route in routes(app):
        if isinstance(route, Mount) and path == "/ui":
            continue
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            if path not in PUBLIC_ROUTES:
                problems.append(f"{path}: not an API route and not public")
            continue
        declared = _declared(route.dependant)
        if path in PUBLIC_ROUTES or path in SIGNED_IN_ROUTES:
            if declared:
                problems.append(f"{path}: listed as open but requires {declared}")
            if path in SIGNED_IN_ROUTES and not _authenticates(route.dependant):
                problems.append(f"{path}: open to signed-in callers but does not authenticate")
        elif len(set(declared)) != 1:
            problems.append(f"{path}: declares {declared or 'no permission'}; exactly one requires(...)")
    return problems


def api_routes(app: FastAPI) -> list[tuple[str, str, Permission]]:
    """(method, path, permission) of every HTTP route that declares one."""
    found = []
    for path, route in routes(app):
        if isinstance(route, APIRoute) and (declared := _declared(route.dependant)):
            found += [(method, path, declared[0]) for method in sorted(route.methods)]
    return found


def fill(path: str, **values: str) -> str:
    params = {**PATH_VALUES, **values}
    out = path
    for name in (part.split("}")[0].split(":")[0] for part in path.split("{")[1:]):
        assert name in params, f"{path}: give the test a plausible {name!r}"
        out = out.replace(f"{{{name}}}", params[name]).replace(f"{{{name}:path}}", params[name])
    return out


def test_every_route_declares_one_permission() -> None:
    app = create_app(_settings())
    assert undeclared(app) == []
    # Every path parameter has a value for the matrix below.
    for _, path, _ in api_routes(app):
        fill(path)


def test_a_route_without_a_declared_permission_fails_the_check() -> None:
    app = create_app(_settings())

    @app.get("/v1/forgotten")
    async def forgotten(principal: Annotated[Principal, requires(Permission.JOBS_READ)]) -> None: ...

    @app.get("/v1/unguarded")
    async def unguarded() -> None: ...

    assert undeclared(app) == ["/v1/unguarded: declares no permission; exactly one requires(...)"]


@dataclass
class Callers:
    """The keys of the matrix, by name: each role of acme, ``scoped``, and ``globex``."""

    client: httpx.AsyncClient
    keys: dict[str, str]
    allowed: dict[str, frozenset[Permission]]
    routes: list[tuple[str, str, Permission]]

    async def call(self, who: str, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        return await self.client.request(method, path, headers=headers, timeout=60, **body)


@pytest.fixture
async def callers(blob_gateway: Callable[..., Any], database_url: str, tmp_path: Any) -> AsyncIterator[Any]:
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}, grpc_deadline_seconds=2) as gateway:
        keys = {
            role.value: await create_key(database_url, "acme", role.value, False, role=role.value)
            for role in Role
        }
        keys["scoped"] = await create_key(database_url, "acme", "ci", False, role=SCOPED[0], scopes=SCOPED[1])
        keys["globex"] = await create_key(database_url, "globex", "admin", False, role="admin")
        allowed = {role.value: ROLE_PERMISSIONS[role] for role in Role}
        allowed["scoped"] = frozenset(Permission(scope) for scope in SCOPED[1])
        yield gateway, Callers(gateway.client, keys, allowed, api_routes(gateway.app))


@pytest.mark.parametrize("who", [*(role.value for role in Role), "scoped"])
async def test_every_route_with_every_role(callers: Any, who: str) -> None:
    _, callers = callers
    wrong = []
    for method, path, permission in callers.routes:
        answer = await callers.call(who, method, fill(path))
        refused = answer.status_code == 403
        expected = permission not in callers.allowed[who]
        if refused != expected or answer.status_code == 401:
            wrong.append(f"{method} {path} ({permission}): {answer.status_code} {answer.text[:120]}")
        elif refused:
            assert permission.value in answer.json()["detail"]
    assert wrong == [], f"{who}: " + "\n".join(wrong)


async def test_another_organisations_admin_never_reaches_an_object(callers: Any) -> None:
    gateway, callers = callers
    job_id = await gateway.add_clip_job("acme")
    owner = await callers.call("owner", "GET", f"/v1/jobs/{job_id}")
    assert owner.status_code == 200, owner.text
    wrong = []
    for method, path, _ in callers.routes:
        if "{" not in path:
            continue
        answer = await callers.call("globex", method, fill(path, job_id=job_id))
        if 200 <= answer.status_code < 300 or ("{job_id}" in path and answer.status_code != 404):
            wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:120]}")
    assert wrong == []
    # The job is untouched (its DELETE route was called by globex too).
    assert (await callers.call("owner", "GET", f"/v1/jobs/{job_id}")).status_code == 200


@contextlib.asynccontextmanager
async def _served(app: FastAPI) -> AsyncIterator[str]:
    """The app (its lifespan already running) behind a real uvicorn server, for WebSockets."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _close_code(url: str, key: str) -> int | None:
    async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=5) as ws:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code


async def test_job_events_websocket_checks_the_permission(callers: Any, database_url: str) -> None:
    gateway, callers = callers
    job_id = await gateway.add_clip_job("acme")
    no_reads = await create_key(database_url, "acme", "writer", False, role="editor", scopes=["jobs:write"])
    async with _served(gateway.app) as address:
        url = f"ws://{address}/v1/jobs/{job_id}/events"
        assert await _close_code(url, no_reads) == 4403
        assert await _close_code(url, callers.keys["globex"]) == 4404
        # A viewer may follow the job: the socket replays what there is, then waits (no events
        # were published for this job), so it stays open until the client gives up.
        async with connect(
            url, additional_headers={"Authorization": f"Bearer {callers.keys['viewer']}"}
        ) as ws:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
    # A ticket stands for the key that asked for it, permissions included.
    ticket = await callers.client.post("/v1/ws-tickets", headers={"Authorization": f"Bearer {no_reads}"})
    assert ticket.status_code == 403
