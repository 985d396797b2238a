"""Wiring only: build settings, migrate, connect, and run the gRPC service and the job workers
(clips, video analysis, video dedup)."""

from __future__ import annotations

import asyncio

from clipsift.video.v1 import video_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry
from clipsift_common.worker import JobWorker

from . import analysis_job, dedup_job
from .clip_job import KIND, ClipJob
from .fingerprint_store import MIGRATIONS, FingerprintStore
from .frame_analysis import VisionFrameAnalyzer
from .repeats import RepeatFinder
from .servicer import VideoServicer
from .settings import VideoSettings


async def main(settings: VideoSettings) -> None:
    await migrate(settings.database_url, "video", MIGRATIONS)
    pool = await open_pool(settings)
    blobs = LocalBlobStore(settings.blob_dir)
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                video_pb2_grpc.add_VideoServiceServicer_to_server,
                VideoServicer(settings, blobs),
                "clipsift.video.v1.VideoService",
            )
        ],
    )
    bus = await EventBus.from_settings(settings, name="video")
    audio = ServiceClient(settings.audio_target, deadline_seconds=settings.grpc_deadline_seconds)
    vision = ServiceClient(settings.vision_target, deadline_seconds=settings.grpc_deadline_seconds)
    text = (
        ServiceClient(settings.text_target, deadline_seconds=settings.grpc_deadline_seconds)
        if settings.text_target
        else None
    )
    fingerprints = FingerprintStore(pool)
    repeats = RepeatFinder(settings, text, fingerprints)
    workers = [
        JobWorker(bus, KIND, "video-clip", ClipJob(settings, blobs, audio, vision, repeats), settings),
        JobWorker(
            bus,
            analysis_job.KIND,
            "video-analysis",
            analysis_job.VideoAnalysisJob(
                settings, blobs, audio, VisionFrameAnalyzer(vision, settings.keyframe_features)
            ),
            settings,
        ),
        JobWorker(
            bus,
            dedup_job.KIND,
            "video-dedup",
            dedup_job.VideoDedupJob(settings, blobs, fingerprints),
            settings,
        ),
    ]

    async def load() -> None:
        return None

    await run_service(
        server,
        load,
        background=[w.run for w in workers],
        cleanup=[bus.close, audio.close, vision.close, *([text.close] if text else []), pool.close],
    )


if __name__ == "__main__":
    settings = VideoSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("video", settings.log_level)
    configure_telemetry("video", settings)
    serve_metrics(settings.metrics_port)
    try:
        asyncio.run(main(settings))
    finally:
        shutdown_telemetry()
