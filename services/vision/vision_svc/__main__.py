"""Wiring only: build settings, load the face model, and run the gRPC service."""

from __future__ import annotations

import asyncio

from clipsift.vision.v1 import vision_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry

from .faces import FaceDetector
from .servicer import VisionServicer
from .settings import VisionSettings


async def main(settings: VisionSettings) -> None:
    detector = FaceDetector(settings.face_model, settings.device)
    servicer = VisionServicer(settings, detector)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                vision_pb2_grpc.add_VisionServiceServicer_to_server,
                servicer,
                "clipsift.vision.v1.VisionService",
            )
        ],
    )

    async def load() -> None:
        # Health stays NOT_SERVING until the model is read and has run once.
        await asyncio.to_thread(detector.load)

    await run_service(server, load, cleanup=[servicer.close])


if __name__ == "__main__":
    settings = VisionSettings()
    configure_logging("vision", settings.log_level)
    configure_telemetry("vision", settings)
    serve_metrics(settings.metrics_port)
    try:
        asyncio.run(main(settings))
    finally:
        shutdown_telemetry()
