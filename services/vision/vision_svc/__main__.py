"""Wiring only: build settings, load the models, open the index database, run the gRPC services."""

from __future__ import annotations

import asyncio

from clipsift.vision.v1 import analysis_pb2_grpc, duplicates_pb2_grpc, vision_pb2_grpc
from clipsift_common.db import migrate, open_pool
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.settings import DatabaseSettings
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry

from .analysis import ImageAnalyzer
from .analysis_servicer import ImageAnalysisServicer
from .duplicates_servicer import ImageDuplicateServicer
from .index_store import MIGRATIONS, ImageIndex
from .models import VisionModels
from .servicer import VisionServicer
from .settings import VisionSettings


async def main(settings: VisionSettings) -> None:
    models = VisionModels(settings)
    analyzer = ImageAnalyzer(settings, models)
    pool = None
    if settings.database_url:
        await migrate(settings.database_url, "vision", MIGRATIONS)
        pool = await open_pool(
            DatabaseSettings.model_construct(
                database_url=settings.database_url, db_pool_min=1, db_pool_max=settings.db_pool_max
            )
        )
    faces = VisionServicer(settings, models.faces, models.face_batcher)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                vision_pb2_grpc.add_VisionServiceServicer_to_server, faces, "clipsift.vision.v1.VisionService"
            ),
            ServiceBinding(
                analysis_pb2_grpc.add_ImageAnalysisServiceServicer_to_server,
                ImageAnalysisServicer(analyzer),
                "clipsift.vision.v1.ImageAnalysisService",
            ),
            ServiceBinding(
                duplicates_pb2_grpc.add_ImageDuplicateServiceServicer_to_server,
                ImageDuplicateServicer(analyzer, ImageIndex(pool) if pool else None),
                "clipsift.vision.v1.ImageDuplicateService",
            ),
        ],
    )

    async def load() -> None:
        # Health stays NOT_SERVING until every model is read and has run once.
        await asyncio.to_thread(models.load)

    async def close_pool() -> None:
        if pool is not None:
            await pool.close()

    await run_service(server, load, cleanup=[faces.close, models.close, close_pool])


if __name__ == "__main__":
    settings = VisionSettings()
    configure_logging("vision", settings.log_level)
    configure_telemetry("vision", settings)
    serve_metrics(settings.metrics_port)
    try:
        asyncio.run(main(settings))
    finally:
        shutdown_telemetry()
