"""Wiring only: migrate, connect, then serve the registry and run the training worker."""

from __future__ import annotations

import asyncio

from clipsift.training.v1 import training_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.worker import JobWorker

from .job import KIND, TrainJob
from .registry import ModelRegistry
from .servicer import TrainingServicer
from .settings import TrainingSettings
from .tracking import make_tracker
from .trainer import resolve_device

MIGRATIONS = "training_svc.migrations"


async def main(settings: TrainingSettings) -> None:
    await migrate(settings.database_url, "training", MIGRATIONS)
    pool = await open_pool(settings)
    bus = await EventBus.from_settings(settings, name="training")
    blobs = LocalBlobStore(settings.blob_dir)
    registry = ModelRegistry(pool)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                training_pb2_grpc.add_TrainingServiceServicer_to_server,
                TrainingServicer(settings, blobs, registry, bus),
                "clipsift.training.v1.TrainingService",
            )
        ],
    )
    worker = JobWorker(
        bus, KIND, "training-train", TrainJob(settings, blobs, registry, make_tracker(settings)), settings
    )

    async def load() -> None:
        # Fail before SERVING when the device or the base model is unusable, not at the first job.
        await asyncio.to_thread(resolve_device, settings.device)
        await asyncio.to_thread(_check_base_model, settings.base_model)

    await run_service(server, load, background=[worker.run], cleanup=[bus.close, pool.close])


def _check_base_model(path: str) -> None:
    from transformers import AutoConfig

    AutoConfig.from_pretrained(path, local_files_only=True)


if __name__ == "__main__":
    settings = TrainingSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("training", settings.log_level)
    serve_metrics(settings.metrics_port)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    asyncio.run(main(settings))
