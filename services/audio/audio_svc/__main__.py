"""Wiring only: build settings, then run the gRPC service once the speech model is loaded."""

from __future__ import annotations

import asyncio

from clipsift.audio.v1 import audio_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry

from .servicer import AudioServicer
from .settings import AudioSettings


async def main(settings: AudioSettings) -> None:
    servicer = AudioServicer(settings)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                audio_pb2_grpc.add_AudioServiceServicer_to_server,
                servicer,
                "clipsift.audio.v1.AudioService",
            )
        ],
    )
    await run_service(server, servicer.load)


if __name__ == "__main__":
    settings = AudioSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("audio", settings.log_level)
    configure_telemetry("audio", settings)
    serve_metrics(settings.metrics_port)
    try:
        asyncio.run(main(settings))
    finally:
        shutdown_telemetry()
