"""Wiring only: build settings, connect, and run the gRPC service and the dedup worker."""

from __future__ import annotations

import asyncio

from clipsift.text.v1 import analysis_pb2_grpc, predict_pb2_grpc, text_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.worker import JobWorker

from .analysis import Analyzer
from .analysis_servicer import TextAnalysisServicer
from .classifiers import DeployedModels, registry_source
from .dedup_job import KIND, DedupJob
from .detector import Detector
from .embeddings import Embedder
from .minhash import lsh_params
from .predict_servicer import PredictionServicer
from .predict_settings import PredictSettings
from .semantic import SemanticDetector
from .servicer import TextServicer
from .settings import TextSettings


async def main(settings: TextSettings, predict_settings: PredictSettings) -> None:
    detector = Detector(settings)
    analyzer = Analyzer(settings)
    embedder = Embedder(settings)
    training = ServiceClient(
        predict_settings.training_target, deadline_seconds=predict_settings.training_deadline_seconds
    )
    deployed = DeployedModels(predict_settings, LocalBlobStore(settings.blob_dir), registry_source(training))
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
            ServiceBinding(
                predict_pb2_grpc.add_PredictionServiceServicer_to_server,
                PredictionServicer(deployed),
                "clipsift.text.v1.PredictionService",
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
        # The embedding model loads once, here, so health is SERVING only with it in memory.
        await asyncio.to_thread(embedder.load)
        # Analysis models (lingua, spaCy, ...) likewise: a few seconds, before SERVING.
        await asyncio.to_thread(analyzer.load)

    async def watch_deployments(stop: asyncio.Event) -> None:
        # Tenants' classifiers load in the background: the text service serves without them (and
        # without the training service) and picks them up as the registry deploys them.
        await deployed.watch(bus.nc, stop)

    await run_service(
        server,
        load,
        background=[worker.run, watch_deployments],
        cleanup=[bus.close, embedder.close, deployed.close, training.close],
    )


if __name__ == "__main__":
    settings = TextSettings()  # type: ignore[call-arg]  # required values come from the environment
    predict_settings = PredictSettings()  # type: ignore[call-arg]
    configure_logging("text", settings.log_level)
    serve_metrics(settings.metrics_port)
    asyncio.run(main(settings, predict_settings))
