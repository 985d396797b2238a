"""gRPC VideoService: synchronous questions about media files."""

from __future__ import annotations

from pathlib import Path

import grpc

from clipsift.video.v1 import video_pb2, video_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.errors import InvalidArgument, NotFound

from .probe import probe
from .settings import VideoSettings


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    def __init__(self, settings: VideoSettings, blobs: LocalBlobStore) -> None:
        self.settings = settings
        self.blobs = blobs

    def _resolve(self, request: video_pb2.ProbeRequest) -> Path:
        which = request.WhichOneof("source")
        if which == "blob_key":
            path = self.blobs.local_path(request.blob_key)
        elif which == "path":
            path = Path(request.path).resolve()
            if not any(path.is_relative_to(root.resolve()) for root in self.settings.allowed_source_roots):
                raise InvalidArgument(f"{request.path} is outside the paths this server may read")
        else:
            raise InvalidArgument("give a blob_key or a path")
        if not path.is_file():
            raise NotFound(f"{request.blob_key or request.path} not found")
        return path

    async def Probe(
        self, request: video_pb2.ProbeRequest, context: grpc.aio.ServicerContext
    ) -> video_pb2.MediaInfo:
        info = await probe(
            self._resolve(request), ffprobe=self.settings.ffprobe, require_audio=request.require_audio
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
