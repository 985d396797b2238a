"""Wiring only: build settings, connect, and run the gRPC service and the dedup worker."""

from __future__ import annotations

import asyncio

from clipsift.text.v1 import analysis_pb2_grpc, text_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.worker import JobWorker

from . import scan
from .analysis import Analyzer
from .analysis_servicer import TextAnalysisServicer
from .dedup_job import KIND, DedupJob
from .detector import Detector
from .embeddings import Embedder
from .minhash import lsh_params
from .semantic import SemanticDetector
from .servicer import TextServicer
from .settings import TextSettings


async def main(settings: TextSettings) -> None:
    detector = Detector(settings)
    analyzer = Analyzer(settings)
    embedder = Embedder(settings)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                text_pb2_grpc.add_TextServiceServicer_to_server,
                TextServicer(detector, SemanticDetector(detector, embedder)),
                "clipsift.text.v1.TextService",
            ),
            ServiceBinding(
                analysis_pb2_grpc.add_TextAnalysisServiceServicer_to_server,
                TextAnalysisServicer(analyzer),
                "clipsift.text.v1.TextAnalysisService",
            ),
        ],
    )
    bus = await EventBus.from_settings(settings, name="text")
    worker = JobWorker(
        bus, KIND, "text-dedup", DedupJob(detector, LocalBlobStore(settings.blob_dir)), settings
    )

    async def load() -> None:
        # The LSH parameter search for the default threshold takes a moment: do it before SERVING.
        await asyncio.to_thread(lsh_params, settings.default_threshold, settings.num_perm)
        # The near-duplicate kernels compile on first use (seconds): not on a request's clock.
        await asyncio.to_thread(scan.warm_up)
        # The embedding model loads once, here, so health is SERVING only with it in memory.
        await asyncio.to_thread(embedder.load)
        # Analysis models (lingua, spaCy, ...) likewise: a few seconds, before SERVING.
        await asyncio.to_thread(analyzer.load)

    await run_service(server, load, background=[worker.run], cleanup=[bus.close, embedder.close])


if __name__ == "__main__":
    settings = TextSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("text", settings.log_level)
    serve_metrics(settings.metrics_port)
    asyncio.run(main(settings))
