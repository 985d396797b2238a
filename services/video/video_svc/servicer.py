"""gRPC VideoService: synchronous questions about media files."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.video.v1 import video_pb2, video_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore

from .probe import probe
from .settings import VideoSettings
from .sources import resolve_source


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    def __init__(self, settings: VideoSettings, blobs: LocalBlobStore) -> None:
        self.settings = settings
        self.blobs = blobs

    async def Probe(
        self, request: video_pb2.ProbeRequest, context: grpc.aio.ServicerContext
    ) -> video_pb2.MediaInfo:
        source = await asyncio.to_thread(
            resolve_source,
            self.blobs,
            self.settings.allowed_source_roots,
            blob_key=request.blob_key,
            path=request.path,
        )
        info = await probe(
            source,
            ffprobe=self.settings.ffprobe,
            timeout_seconds=self.settings.ffprobe_timeout_seconds,
            require_audio=request.require_audio,
        )
        return video_pb2.MediaInfo(
            duration=info.duration,
            width=info.width,
            height=info.height,
            fps=info.fps,
            video_codec=info.video_codec,
            audio_codec=info.audio_codec,
            has_audio=info.has_audio,
            size_bytes=info.size_bytes,
            container=info.container,
        )
