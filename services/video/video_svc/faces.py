"""Face samples inside a clip: frames streamed out of ffmpeg, faces found by the vision service."""

from __future__ import annotations

from pathlib import Path

from clipsift.vision.v1 import vision_pb2, vision_pb2_grpc
from clipsift_common.grpc_client import ServiceClient

from .frames import sample_frames
from .model import Box, FaceSample

# Faces stay findable at this width while frames stay small on the wire (640x360 = 691 kB raw).
SAMPLE_WIDTH = 640


def _sample_size(width: int, height: int) -> tuple[int, int]:
    if width <= SAMPLE_WIDTH:
        return width - width % 2, height - height % 2
    scaled_height = round(height * SAMPLE_WIDTH / width / 2) * 2
    return SAMPLE_WIDTH, max(2, scaled_height)


async def face_samples(
    vision: ServiceClient,
    source: Path,
    start: float,
    end: float,
    source_size: tuple[int, int],
    *,
    fps: float,
    batch_size: int,
    ffmpeg: str,
) -> list[FaceSample]:
    """Faces every 1/fps seconds between ``start`` and ``end``, boxes in source pixels."""
    size = _sample_size(*source_size)
    scale_x, scale_y = source_size[0] / size[0], source_size[1] / size[1]
    stub = vision_pb2_grpc.VisionServiceStub(vision.channel)
    samples: list[FaceSample] = []
    batch: list[tuple[float, bytes]] = []

    async def flush() -> None:
        request = vision_pb2.DetectFacesRequest(
            frames=[
                vision_pb2.Image(raw=vision_pb2.RawImage(width=size[0], height=size[1], rgb=frame))
                for _, frame in batch
            ]
        )
        reply = await vision.call(stub.DetectFaces, request)
        for (t, _), found in zip(batch, reply.frames, strict=True):
            boxes = tuple(
                Box(
                    x=f.box.x * scale_x,
                    y=f.box.y * scale_y,
                    width=f.box.width * scale_x,
                    height=f.box.height * scale_y,
                    confidence=f.confidence,
                )
                for f in found.faces
            )
            samples.append(FaceSample(t=t, faces=boxes))
        batch.clear()

    async for item in sample_frames(source, start, end, fps, size, ffmpeg):
        batch.append(item)
        if len(batch) == batch_size:
            await flush()
    if batch:
        await flush()
    return samples
