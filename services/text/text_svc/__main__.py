"""Wiring only: build settings, connect, and run the gRPC services and the dedup and index workers."""

from __future__ import annotations

import asyncio

from clipsift.text.v1 import analysis_pb2_grpc, index_pb2_grpc, predict_pb2_grpc, text_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry
from clipsift_common.worker import JobWorker

from .analysis.analyzer import Analyzer
from .analysis.servicer import TextAnalysisServicer
from .dedup import scan
from .dedup.detector import Detector
from .dedup.job import KIND, DedupJob
from .dedup.minhash import lsh_params
from .dedup.semantic import SemanticDetector
from .dedup.servicer import TextServicer
from .embeddings import Embedder
from .index.job import KIND as INDEX_KIND
from .index.job import IndexJob
from .index.servicer import IndexServicer
from .index.setup import open_text_index
from .predict.classifiers import DeployedModels, registry_source
from .predict.servicer import PredictionServicer
from .predict.settings import PredictSettings
from .settings import TextSettings


async def main(settings: TextSettings, predict_settings: PredictSettings) -> None:
    detector = Detector(settings)
    analyzer = Analyzer(settings)
    embedder = Embedder(settings)
    blobs = LocalBlobStore(settings.blob_dir)
    index, pool = None, None
    if settings.database_url:
        index, pool = await open_text_index(settings, detector, embedder, blobs)
    training = ServiceClient(
        predict_settings.training_target, deadline_seconds=predict_settings.training_deadline_seconds
    )
    deployed = DeployedModels(predict_settings, blobs, registry_source(training))
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
                index_pb2_grpc.add_IndexServiceServicer_to_server,
                IndexServicer(index),
                "clipsift.text.v1.IndexService",
            ),
            ServiceBinding(
                predict_pb2_grpc.add_PredictionServiceServicer_to_server,
                PredictionServicer(deployed),
                "clipsift.text.v1.PredictionService",
            ),
        ],
    )
    bus = await EventBus.from_settings(settings, name="text")
    workers = [JobWorker(bus, KIND, "text-dedup", DedupJob(detector, blobs), settings)]
    if index is not None:
        job = IndexJob(index, blobs, settings.index_job_batch)
        workers.append(JobWorker(bus, INDEX_KIND, "text-index", job, settings))

    async def load() -> None:
        # The LSH parameter search for the default threshold takes a moment: do it before SERVING.
        await asyncio.to_thread(lsh_params, settings.default_threshold, settings.num_perm)
        # The near-duplicate kernels compile on first use (seconds): not on a request's clock.
        await asyncio.to_thread(scan.warm_up)
        # The embedding model loads once, here, so health is SERVING only with it in memory.
        await asyncio.to_thread(embedder.load)
        # Analysis models (lingua, spaCy, ...) likewise: a few seconds, before SERVING.
        await asyncio.to_thread(analyzer.load)

    async def watch_deployments(stop: asyncio.Event) -> None:
        # Tenants' classifiers load in the background: the text service serves without them (and
        # without the training service) and picks them up as the registry deploys them.
        await deployed.watch(bus.nc, stop)

    cleanup = [bus.close, embedder.close, deployed.close, training.close]
    cleanup += [pool.close] if pool is not None else []
    await run_service(
        server, load, background=[*(w.run for w in workers), watch_deployments], cleanup=cleanup
    )


if __name__ == "__main__":
    settings = TextSettings()  # type: ignore[call-arg]  # required values come from the environment
    predict_settings = PredictSettings()  # type: ignore[call-arg]
    configure_logging("text", settings.log_level)
    configure_telemetry("text", settings)
    serve_metrics(settings.metrics_port)
    try:
        asyncio.run(main(settings, predict_settings))
    finally:
        shutdown_telemetry()
