"""The video service's one wiring, used by ``__main__`` and by the tests: migrate, connect, and run
the gRPC service and the job workers (clips, video analysis, video dedup)."""

from __future__ import annotations

from clipsift.video.v1 import video_pb2_grpc
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.objectstore import open_blob_store
from clipsift_common.service import Loop, Service
from clipsift_common.worker import JobHandler, JobWorker

from . import analysis_job, dedup_job
from .clip_job import KIND, ClipJob
from .fingerprint_store import MIGRATIONS, FingerprintStore
from .frame_analysis import VisionFrameAnalyzer
from .repeats import RepeatFinder
from .servicer import VideoServicer
from .settings import VideoSettings


async def build(settings: VideoSettings) -> Service:
    await migrate(settings.database_url, "video", MIGRATIONS)
    pool = await open_pool(settings)
    blobs = open_blob_store(settings)
    server = GrpcServer(
        settings,
        [ServiceBinding(video_pb2_grpc.add_VideoServiceServicer_to_server, VideoServicer(settings, blobs))],
    )
    bus = await EventBus.from_settings(settings, name="video")
    deadline = settings.grpc_deadline_seconds
    audio = ServiceClient(settings.audio_target, deadline_seconds=deadline)
    vision = ServiceClient(settings.vision_target, deadline_seconds=deadline)
    text = ServiceClient(settings.text_target, deadline_seconds=deadline) if settings.text_target else None
    fingerprints = FingerprintStore(pool)
    repeats = RepeatFinder(settings, text, fingerprints)
    frames = VisionFrameAnalyzer(vision, settings.keyframe_features)
    jobs: dict[str, tuple[str, JobHandler]] = {
        "video-clip": (KIND, ClipJob(settings, blobs, audio, vision, repeats)),
        "video-analysis": (analysis_job.KIND, analysis_job.VideoAnalysisJob(settings, blobs, audio, frames)),
        "video-dedup": (dedup_job.KIND, dedup_job.VideoDedupJob(settings, blobs, fingerprints)),
    }
    background: dict[str, Loop] = {
        durable: JobWorker(bus, kind, durable, job, settings).run
        for durable, (kind, job) in jobs.items()
        if settings.job_workers
    }
    clients = [audio, vision, *([text] if text else [])]
    return Service(
        server, background=background, cleanup=[bus.close, *(c.close for c in clients), pool.close]
    )
