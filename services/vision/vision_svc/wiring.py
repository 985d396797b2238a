"""The vision service's one wiring, used by ``__main__`` and by the tests."""

from __future__ import annotations

import asyncio

from clipsift.vision.v1 import analysis_pb2_grpc, duplicates_pb2_grpc, vision_pb2_grpc
from clipsift_common.db import migrate, open_pool
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.service import Service
from clipsift_common.settings import DatabaseSettings

from .analysis import ImageAnalyzer
from .analysis_servicer import ImageAnalysisServicer
from .duplicates_servicer import ImageDuplicateServicer
from .index_store import MIGRATIONS, ImageIndex
from .models import VisionModels
from .servicer import VisionServicer
from .settings import VisionSettings


async def build(settings: VisionSettings, models: VisionModels | None = None) -> Service:
    """Faces, image analysis and image duplicates; the duplicate index needs ``database_url``.
    Health turns SERVING once every model is read and has run once (tests hand in loaded ones)."""
    preloaded = models is not None
    models = models or VisionModels(settings)
    analyzer = ImageAnalyzer(settings, models)
    index, cleanup = None, []
    if settings.database_url:
        await migrate(settings.database_url, "vision", MIGRATIONS)
        pool = await open_pool(
            DatabaseSettings.model_construct(
                database_url=settings.database_url, db_pool_min=1, db_pool_max=settings.db_pool_max
            )
        )
        index, cleanup = ImageIndex(pool), [pool.close]
    faces = VisionServicer(settings, models.faces, models.face_batcher)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(vision_pb2_grpc.add_VisionServiceServicer_to_server, faces),
            ServiceBinding(
                analysis_pb2_grpc.add_ImageAnalysisServiceServicer_to_server, ImageAnalysisServicer(analyzer)
            ),
            ServiceBinding(
                duplicates_pb2_grpc.add_ImageDuplicateServiceServicer_to_server,
                ImageDuplicateServicer(analyzer, index),
            ),
        ],
    )

    async def load() -> None:
        if not preloaded:
            await asyncio.to_thread(models.load)

    # The pool closes last: in-flight duplicate queries finish within the gRPC grace first.
    closing = [faces.close] + ([] if preloaded else [models.close]) + cleanup
    return Service(server, load=load, cleanup=closing)
