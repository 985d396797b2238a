"""The gateway in front of real services: the text, analytics and video services built in-process
by their own ``wiring.build`` (gRPC servers, the text job workers, the analytics ingester), real NATS
and PostgreSQL, and the app's own lifespan. Requests go through httpx's ASGI transport; WebSocket
tests add a real uvicorn server.

Per-test gateway settings and switches come from the ``gateway`` marker::

    @pytest.mark.gateway(max_upload_bytes=100, worker=False)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import uvicorn
from clipsift_testing.waiting import wait_for_consumers, wait_job
from fastapi import FastAPI
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from analytics_svc.settings import AnalyticsSettings
from analytics_svc.wiring import build as build_analytics
from clipsift_common.blobkeys import job_prefix
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.service import Service
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings
from text_svc.analysis.analyzer import Analyzer
from text_svc.embeddings import EmbeddingModel
from text_svc.predict.settings import PredictSettings
from text_svc.settings import TextSettings
from text_svc.wiring import Preloaded
from text_svc.wiring import build as build_text
from video_svc.settings import VideoSettings
from video_svc.wiring import build as build_video

TENANTS = ("acme", "globex")
ADMIN = "ops"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "gateway(worker=True, text='grpc', **settings): platform switches and GatewaySettings overrides; "
        "text='black-hole' points the gateway at a server that accepts connections and never answers",
    )


async def _black_hole(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Accept the connection and never answer: a hung dependency, not a dead one."""
    await reader.read()  # until the client gives up
    writer.close()


@dataclass
class Platform:
    app: FastAPI
    client: httpx.AsyncClient
    settings: GatewaySettings
    database_url: str
    blob_dir: Path
    bus: EventBus
    text_settings: TextSettings
    text: Service
    rebuild_text: Callable[[TextSettings], Awaitable[Service]]
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def text_server(self) -> GrpcServer:
        return self.text.server

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def stop_text(self) -> None:
        await self.text.stop()

    async def restart_text(self) -> None:
        """A fresh text service on the port the gateway was configured with."""
        self.text = await self.rebuild_text(
            self.text_settings.model_copy(update={"grpc_port": self.text.port})
        )
        await self.text.start()

    async def submit(self, who: str, body: bytes, content_type: str, **params: Any) -> httpx.Response:
        return await self.client.post(
            "/v1/jobs", content=body, headers={**self.auth(who), "Content-Type": content_type}, params=params
        )

    async def wait_job(self, job_id: str, who: str, within: float = 30.0) -> dict[str, Any]:
        """Poll the job until it is completed or failed; return its final view."""
        return await wait_job(self.client, job_id, self.auth(who), within)

    async def job_rows(self) -> int:
        pool: AsyncConnectionPool = self.app.state.pool
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM jobs")
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def job_options(self, job_id: str) -> dict[str, Any]:
        """The options a job was queued with, as the gateway stored them."""
        pool: AsyncConnectionPool = self.app.state.pool
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT options FROM jobs WHERE id = %s", (job_id,))
            row = await cur.fetchone()
        assert row is not None, f"no job {job_id}"
        return dict(row[0])

    def leftover_files(self) -> list[str]:
        """Files of the tenants' jobs and uploads (tenants/*/jobs, tenants/*/uploads), staged ones
        included; not the analytics reports or indexes the services write beside them."""
        return sorted(
            str(path.relative_to(self.blob_dir))
            for path in self.blob_dir.glob("tenants/*/*/**/*")
            if path.relative_to(self.blob_dir).parts[2] in {"jobs", "uploads"} and not path.is_dir()
        )

    async def stream_messages(self) -> int:
        return int((await self.bus.js.stream_info(self.bus.stream)).state.messages)


async def _wait_for_loops(app: FastAPI) -> None:
    """The projector and dead-job sweeper started, as /readyz demands of a gateway that is up."""
    deadline = time.monotonic() + 10
    loops = (app.state.projector, app.state.dead_jobs, app.state.retention)
    while not all(loop.healthy for loop in loops):
        if time.monotonic() > deadline:
            pytest.fail(f"supervised loops never started: {[(loop.name, loop.last_error) for loop in loops]}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def platform(
    request: pytest.FixtureRequest,
    bus: EventBus,
    nats_url: str,
    database_url: str,
    tmp_path: Path,
    embedding_model: EmbeddingModel,
    analyzer: Analyzer,
) -> AsyncIterator[Platform]:
    marker = request.node.get_closest_marker("gateway")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker else {}
    with_worker = overrides.pop("worker", True)
    text_kind = overrides.pop("text", "grpc")
    blob_dir = tmp_path / "blobs"
    local = {"grpc_port": 0, "grpc_host": "127.0.0.1", "grpc_grace_seconds": 0}
    shared = {"nats_url": nats_url, "database_url": database_url, "blob_dir": blob_dir, "db_pool_max": 4}
    # The services as their __main__ builds them, with the session's loaded models handed in.
    text_settings = TextSettings(**local, **shared, job_workers=with_worker)
    # No training service here (services/training/tests run the text service with one).
    predict_settings = PredictSettings(training_target="127.0.0.1:1", predict_device="cpu")
    preloaded = Preloaded(embedding_model, analyzer)

    async def rebuild_text(settings: TextSettings) -> Service:
        return await build_text(settings, predict_settings, preloaded)

    services: list[Service] = []
    text = await rebuild_text(text_settings)
    analytics = await build_analytics(AnalyticsSettings(**local, **shared))
    # The video service answers Probe for clip uploads; its job workers are not needed here.
    video = await build_video(
        VideoSettings(
            **local, **shared, audio_target="127.0.0.1:1", vision_target="127.0.0.1:1", job_workers=False
        )
    )
    for service in (text, analytics, video):
        await service.start()
        services.append(service)

    text_target = f"127.0.0.1:{text.port}"
    black_hole: asyncio.Server | None = None
    if text_kind == "black-hole":
        black_hole = await asyncio.start_server(_black_hole, "127.0.0.1", 0)
        text_target = f"127.0.0.1:{black_hole.sockets[0].getsockname()[1]}"
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        text_target=text_target,
        analytics_target=f"127.0.0.1:{analytics.port}",
        video_target=f"127.0.0.1:{video.port}",
        # Image routes are tested against a real vision server in test_gateway_images.
        vision_target="127.0.0.1:1",
        # No training service here (services/training/tests run the gateway with one).
        training_target="127.0.0.1:1",
        db_pool_max=4,
        **overrides,
    )
    app = create_app(settings)
    keys = {tenant: await create_key(database_url, tenant, "test", False) for tenant in TENANTS}
    keys[ADMIN] = await create_key(database_url, ADMIN, "operator", True)
    platform: Platform | None = None
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
        ):
            parts = (settings, database_url, blob_dir, bus, text_settings, text, rebuild_text, keys)
            platform = Platform(app, client, *parts)
            # Every consumer in place before the test starts, as in a platform that is up.
            durables = [
                "gateway-jobs",
                "analytics-events",
                *(["text-dedup", "text-index"] if with_worker else []),
            ]
            await wait_for_consumers(bus, durables, tasks=[t for s in services for t in s.tasks])
            await _wait_for_loops(app)
            yield platform
            # Dropping the connection ends the projector's pending fetch at once; a graceful stop
            # would wait out its fetch timeout, half a second per test.
            await app.state.bus.nc.close()
    finally:
        if platform is not None:  # restarted during the test
            services[0] = platform.text
        # A worker or ingester that died during the test is a bug the test must not hide.
        tasks = [t for service in services for t in service.tasks]
        crashed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
        for service in services:  # cancelled, not drained: a graceful stop waits out a whole fetch
            await service.stop(drain=False)
        if black_hole is not None:
            black_hole.close()
    assert not crashed, f"background task crashed: {crashed!r}"


@pytest.fixture
async def live_url(platform: Platform) -> AsyncIterator[str]:
    """The same app behind a real uvicorn server (its lifespan already runs in ``platform``)."""
    server = uvicorn.Server(
        uvicorn.Config(
            platform.app, host="127.0.0.1", port=0, lifespan="off", log_config=None, ws="websockets-sansio"
        )
    )
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            await task
            pytest.fail("uvicorn did not start")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


def _words(rng: random.Random, count: int) -> list[str]:
    return [f"w{rng.randrange(100_000)}" for _ in range(count)]


@dataclass(frozen=True)
class Corpus:
    """Two near-duplicate pairs and two unrelated documents, ids chosen by the caller."""

    original: str
    near_copy: str
    other: str
    other_copy: str
    unrelated: str
    unrelated_too: str


@pytest.fixture
def corpus() -> Corpus:
    rng = random.Random(7)
    original = _words(rng, 120)
    other = _words(rng, 90)
    # One word changed at the end: 115 of 117 five-word shingles shared (Jaccard ~0.98).
    near_copy = [*original[:-1], "changed"]
    # One word changed in the middle: 81 of 91 shingles shared (Jaccard ~0.89), between the
    # 0.8 default threshold and a strict 0.95.
    other_copy = list(other)
    other_copy[45] = "edited"
    return Corpus(
        original=" ".join(original),
        near_copy=" ".join(near_copy),
        other=" ".join(other),
        other_copy=" ".join(other_copy),
        unrelated=" ".join(_words(rng, 100)),
        unrelated_too=" ".join(_words(rng, 60)),
    )


# -- A gateway alone over a blob store, with finished jobs as their workers leave them -------------
# The download, deletion and retention tests need no downstream service: PostgreSQL, NATS and a blob
# store (the folder, or a real S3 server), and jobs written straight into the table and the store.

# Bytes that tell their offsets apart, so a wrong range shows.
CLIP = bytes(range(256)) * 40 + b"end"
KEYFRAME = b"\xff\xd8\xff\xe0 not much of a jpeg \xff\xd9"


@dataclass
class BlobGateway:
    # The files add_clip_job and add_analysis_job store (tests compare downloads with them).
    clip: ClassVar[bytes] = CLIP
    keyframe: ClassVar[bytes] = KEYFRAME
    app: FastAPI
    client: httpx.AsyncClient
    settings: GatewaySettings
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def blobs(self) -> ObjectBlobStore:
        blobs: ObjectBlobStore = self.app.state.blobs
        return blobs

    @property
    def pool(self) -> AsyncConnectionPool:
        pool: AsyncConnectionPool = self.app.state.pool
        return pool

    def auth(self, tenant: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[tenant]}"}

    async def job_exists(self, job_id: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT 1 FROM jobs WHERE id = %s", (uuid.UUID(job_id),))
            return await cur.fetchone() is not None

    def objects(self, tenant: str, job_id: str) -> list[str]:
        return sorted(blob.key for blob in self.blobs.list(job_prefix(tenant, job_id)))

    async def add_job(
        self,
        tenant: str,
        kind: str,
        manifest: dict[str, Any],
        files: dict[str, bytes],
        status: str = "completed",
    ) -> str:
        """A job of ``tenant`` as its worker leaves it: ``files`` and the manifest under the job's
        prefix, the row naming the manifest as its result."""
        job_id = str(uuid.uuid4())
        prefix = job_prefix(tenant, job_id)
        result_key = f"{prefix}/result.json"

        def write() -> None:
            self.blobs.put_bytes(f"{prefix}/source.video", b"source")
            for name, data in files.items():
                self.blobs.put_bytes(f"{prefix}/{name}", data)
            self.blobs.put_bytes(result_key, json.dumps({"job_id": job_id, **manifest}).encode())

        await asyncio.to_thread(write)
        result = Jsonb({"result_key": result_key}) if status == "completed" else None
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO jobs (id, tenant_id, kind, status, options, input_key, result) "
                "VALUES (%s, %s, %s, %s, '{}', %s, %s)",
                (uuid.UUID(job_id), tenant, kind, status, f"{prefix}/source.video", result),
            )
        return job_id

    async def add_clip_job(self, tenant: str, status: str = "completed", clip_file: str = "") -> str:
        files = {"clip.mp4": clip_file or "clips/0/clip.mp4", "clip.srt": "clips/0/clip.srt"}
        clip = {"index": 0, "start": 0.0, "end": 30.0, "title": "t", "transcript": "", "score": {"total": 1}}
        return await self.add_job(
            tenant,
            "clip",
            {"clips": [{**clip, "files": files}]},
            {"clips/0/clip.mp4": CLIP, "clips/0/clip.srt": b"1\n00:00:00,000 --> 00:00:01,000\nhi\n"},
            status,
        )

    async def add_analysis_job(self, tenant: str) -> str:
        manifest = {"keyframes": [{"index": 0, "file": "keyframes/000.jpg"}]}
        return await self.add_job(tenant, "video_analysis", manifest, {"keyframes/000.jpg": KEYFRAME})


@contextlib.asynccontextmanager
async def _blob_gateway(
    database_url: str, nats_url: str, blob: dict[str, Any], **overrides: Any
) -> AsyncIterator[BlobGateway]:
    """The gateway app under its lifespan, on the blob store ``blob`` names (``blob_dir`` or
    ``blob_url`` with its options), reached through httpx's ASGI transport."""
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        text_target="127.0.0.1:1",
        analytics_target="127.0.0.1:1",
        video_target="127.0.0.1:1",
        vision_target="127.0.0.1:1",
        training_target="127.0.0.1:1",
        db_pool_max=4,
        **blob,
        **overrides,
    )
    app = create_app(settings)
    keys = {tenant: await create_key(database_url, tenant, "test", False) for tenant in TENANTS}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield BlobGateway(app, client, settings, keys)
        await app.state.bus.nc.close()


@pytest.fixture
def blob_gateway(
    database_url: str, nats_url: str, bus: EventBus
) -> Callable[..., contextlib.AbstractAsyncContextManager[BlobGateway]]:
    """``async with blob_gateway({"blob_dir": ...}, **settings) as gateway``."""

    def start(blob: dict[str, Any], **overrides: Any) -> contextlib.AbstractAsyncContextManager[BlobGateway]:
        return _blob_gateway(database_url, nats_url, blob, **overrides)

    return start
