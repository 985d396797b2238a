"""A gateway for the resumable-upload tests: the app's own lifespan on real NATS and PostgreSQL,
over a blob store of the test's choosing (a folder, or the session's SeaweedFS), with the video
service (Probe) only where a test makes a job. Lighter than conftest's ``platform``: no text models."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from clipsift_common.objectstore import ObjectBlobStore
from clipsift_testing.object_stores import ObjectStoreTarget
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings

MiB = 1024 * 1024
TENANTS = ("acme", "globex")


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    settings: GatewaySettings
    keys: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str = "acme") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    @property
    def blobs(self) -> ObjectBlobStore:
        store: ObjectBlobStore = self.app.state.blobs
        return store

    async def create(self, size: int, who: str = "acme", **fields: Any) -> dict[str, Any]:
        body = {"filename": "big.mp4", "size": size, "content_type": "video/mp4", **fields}
        reply = await self.client.post("/v1/uploads", json=body, headers=self.auth(who))
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    async def put_part(self, upload_id: str, number: int, data: bytes, who: str = "acme") -> httpx.Response:
        return await self.client.put(
            f"/v1/uploads/{upload_id}/parts/{number}",
            content=data,
            headers={**self.auth(who), "Content-Type": "application/octet-stream"},
        )

    async def status(self, upload_id: str, who: str = "acme") -> httpx.Response:
        return await self.client.get(f"/v1/uploads/{upload_id}", headers=self.auth(who))

    async def complete(self, upload_id: str, who: str = "acme", **body: Any) -> httpx.Response:
        return await self.client.post(f"/v1/uploads/{upload_id}/complete", json=body, headers=self.auth(who))


def blob_fields(tmp_path: Path, target: ObjectStoreTarget | None) -> dict[str, Any]:
    """GatewaySettings fields naming a folder under ``tmp_path`` or the object store ``target``."""
    if target is None:
        return {"blob_dir": tmp_path / "blobs"}
    return {
        "blob_url": target.url,
        "blob_options": target.options,
        "blob_allow_http": bool(target.client_options.get("allow_http")),
    }


def parts_of(data: bytes, part_size: int) -> list[bytes]:
    return [data[start : start + part_size] for start in range(0, len(data), part_size)]


@contextlib.asynccontextmanager
async def running_gateway(
    nats_url: str,
    database_url: str,
    blobs: dict[str, Any],
    video_target: str = "127.0.0.1:1",
    **overrides: Any,
) -> AsyncIterator[Gateway]:
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        text_target="127.0.0.1:1",
        analytics_target="127.0.0.1:1",
        video_target=video_target,
        vision_target="127.0.0.1:1",
        training_target="127.0.0.1:1",
        db_pool_max=4,
        **blobs,
        **{"upload_part_bytes": 5 * MiB, "max_video_upload_bytes": 64 * MiB, **overrides},
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60
        ) as client,
    ):
        keys = {tenant: await create_key(database_url, tenant, "test", False) for tenant in TENANTS}
        yield Gateway(app, client, settings, keys)
        await app.state.bus.nc.close()


def random_bytes(size: int, seed: int = 7) -> bytes:
    """Incompressible bytes, cheaply: one random block repeated with a counter mixed in."""
    block = os.urandom(64 * 1024) if seed < 0 else bytes((i * 131 + seed) % 251 for i in range(64 * 1024))
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += counter.to_bytes(8, "little") + block
        counter += 1
    return bytes(out[:size])


@contextlib.asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """``app`` (its lifespan already running) behind a real uvicorn server; yields its base URL."""
    import asyncio
    import time

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            await task
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
