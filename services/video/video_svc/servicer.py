"""gRPC VideoService: synchronous questions about media files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc

from clipsift.video.v1 import video_pb2, video_pb2_grpc
from clipsift_common.objectstore import ObjectBlobStore

from .probe import probe
from .settings import VideoSettings
from .sources import SourceRef, probe_input


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    def __init__(self, settings: VideoSettings, blobs: ObjectBlobStore) -> None:
        self.settings = settings
        self.blobs = blobs

    async def Probe(
        self, request: video_pb2.ProbeRequest, context: grpc.aio.ServicerContext
    ) -> video_pb2.MediaInfo:
        ref = SourceRef(blob_key=request.blob_key, path=request.path, url=request.url)
        self.settings.scratch.mkdir(parents=True, exist_ok=True)
        # Only a backend without signed URLs and without local files would copy the blob here.
        with tempfile.TemporaryDirectory(dir=self.settings.scratch, prefix="probe-") as scratch:
            async with probe_input(self.blobs, self.settings, ref, Path(scratch)) as target:
                info = await probe(
                    target,
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
