"""The training service's one wiring, used by ``__main__`` and by the tests: migrate, connect,
then serve the model registry and run the training worker."""

from __future__ import annotations

import asyncio

from clipsift.training.v1 import training_pb2_grpc
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.objectstore import open_blob_store
from clipsift_common.service import Service
from clipsift_common.worker import JobWorker

from .job import KIND, TrainJob
from .registry import ModelRegistry
from .servicer import TrainingServicer
from .settings import TrainingSettings
from .tracking import make_tracker
from .trainer import resolve_device

MIGRATIONS = "training_svc.migrations"


async def build(settings: TrainingSettings) -> Service:
    await migrate(settings.database_url, "training", MIGRATIONS)
    pool = await open_pool(settings)
    bus = await EventBus.from_settings(settings, name="training")
    blobs = open_blob_store(settings)
    registry = ModelRegistry(pool)
    servicer = TrainingServicer(settings, blobs, registry, bus)
    server = GrpcServer(
        settings, [ServiceBinding(training_pb2_grpc.add_TrainingServiceServicer_to_server, servicer)]
    )
    job = TrainJob(settings, blobs, registry, make_tracker(settings))
    worker = JobWorker(bus, KIND, "training-train", job, settings)

    async def load() -> None:
        # Fail before SERVING when the device or the base model is unusable, not at the first job.
        await asyncio.to_thread(resolve_device, settings.device)
        await asyncio.to_thread(_check_base_model, settings.base_model)

    background = {"training-train": worker.run} if settings.job_workers else {}
    return Service(server, load=load, background=background, cleanup=[bus.close, pool.close])


def _check_base_model(path: str) -> None:
    from transformers import AutoConfig

    AutoConfig.from_pretrained(path, local_files_only=True)
