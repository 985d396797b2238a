"""Wiring only: build settings, connect, and run the gRPC service and the dedup worker."""

from __future__ import annotations

import asyncio

from clipsift.text.v1 import text_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.worker import JobWorker

from .dedup_job import KIND, DedupJob
from .detector import Detector
from .minhash import lsh_params
from .servicer import TextServicer
from .settings import TextSettings


async def main(settings: TextSettings) -> None:
    detector = Detector(settings)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                text_pb2_grpc.add_TextServiceServicer_to_server,
                TextServicer(detector),
                "clipsift.text.v1.TextService",
            )
        ],
    )
    bus = await EventBus.from_settings(settings, name="text")
    worker = JobWorker(
        bus, KIND, "text-dedup", DedupJob(detector, LocalBlobStore(settings.blob_dir)), settings
    )

    async def load() -> None:
        # The LSH parameter search for the default threshold takes a moment: do it before SERVING.
        await asyncio.to_thread(lsh_params, settings.default_threshold, settings.num_perm)

    await run_service(server, load, background=[worker.run], cleanup=[bus.close])


if __name__ == "__main__":
    settings = TextSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("text", settings.log_level)
    serve_metrics(settings.metrics_port)
    asyncio.run(main(settings))
