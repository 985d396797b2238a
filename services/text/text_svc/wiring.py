"""The text service's one wiring, used by ``__main__`` and by the tests: four gRPC services
(dedup, analysis, index, prediction), the dedup and index job workers and the deployed-model watch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from clipsift.text.v1 import analysis_pb2_grpc, index_pb2_grpc, predict_pb2_grpc, text_pb2_grpc
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.objectstore import open_blob_store
from clipsift_common.service import Loop, Service
from clipsift_common.worker import JobWorker

from .analysis.analyzer import Analyzer
from .analysis.servicer import TextAnalysisServicer
from .dedup import scan
from .dedup.detector import Detector
from .dedup.job import KIND, DedupJob
from .dedup.minhash import lsh_params
from .dedup.semantic import SemanticDetector
from .dedup.servicer import TextServicer
from .embeddings import Embedder, EmbeddingModel
from .index.job import KIND as INDEX_KIND
from .index.job import IndexJob
from .index.servicer import IndexServicer
from .index.setup import open_text_index
from .predict.classifiers import DeployedModels, registry_source
from .predict.model_files import ModelFiles
from .predict.servicer import PredictionServicer
from .predict.settings import PredictSettings
from .settings import TextSettings


@dataclass(frozen=True)
class Preloaded:
    """Models a test session loads once and hands to every service it builds."""

    embedding_model: EmbeddingModel | None = None
    analyzer: Analyzer | None = None


async def build(
    settings: TextSettings, predict_settings: PredictSettings, preloaded: Preloaded = Preloaded()
) -> Service:
    detector = Detector(settings)
    analyzer = preloaded.analyzer or Analyzer(settings)
    embedder = Embedder(settings, preloaded.embedding_model)
    blobs = open_blob_store(settings)
    index, pool = None, None
    if settings.database_url:
        index, pool = await open_text_index(settings, detector, embedder, blobs)
    training = ServiceClient(
        predict_settings.training_target, deadline_seconds=predict_settings.training_deadline_seconds
    )
    deployed = DeployedModels(
        predict_settings, ModelFiles(blobs, settings.scratch), registry_source(training)
    )
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                text_pb2_grpc.add_TextServiceServicer_to_server,
                TextServicer(detector, SemanticDetector(detector, embedder)),
            ),
            ServiceBinding(
                analysis_pb2_grpc.add_TextAnalysisServiceServicer_to_server, TextAnalysisServicer(analyzer)
            ),
            ServiceBinding(index_pb2_grpc.add_IndexServiceServicer_to_server, IndexServicer(index)),
            ServiceBinding(
                predict_pb2_grpc.add_PredictionServiceServicer_to_server, PredictionServicer(deployed)
            ),
        ],
    )
    bus = await EventBus.from_settings(settings, name="text")
    background: dict[str, Loop] = {}
    if settings.job_workers:
        background["text-dedup"] = JobWorker(bus, KIND, "text-dedup", DedupJob(detector, blobs), settings).run
        if index is not None:
            job = IndexJob(index, blobs, settings.index_job_batch)
            background["text-index"] = JobWorker(bus, INDEX_KIND, "text-index", job, settings).run

    async def load() -> None:
        # The LSH parameter search for the default threshold takes a moment: do it before SERVING.
        await asyncio.to_thread(lsh_params, settings.default_threshold, settings.num_perm)
        # The near-duplicate kernels compile on first use (seconds): not on a request's clock.
        await asyncio.to_thread(scan.warm_up)
        # The embedding model loads once, here, so health is SERVING only with it in memory.
        await asyncio.to_thread(embedder.load)
        # Analysis models (lingua, spaCy, ...) likewise: a few seconds, before SERVING.
        if preloaded.analyzer is None:
            await asyncio.to_thread(analyzer.load)

    async def watch_deployments(stop: asyncio.Event) -> None:
        # Tenants' classifiers load in the background: the text service serves without them (and
        # without the training service) and picks them up as the registry deploys them.
        await deployed.watch(bus.nc, stop)

    background["deployed-models"] = watch_deployments
    cleanup = [bus.close, embedder.close, deployed.close, training.close]
    cleanup += [pool.close] if pool is not None else []
    return Service(server, load=load, background=background, cleanup=cleanup)
