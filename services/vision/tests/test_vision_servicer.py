"""VisionService through a real in-process gRPC server (port 0), with the real face detector."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import grpc
import pytest
from clipsift_testing.media import jpeg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from skimage import data

from clipsift.vision.v1 import vision_pb2, vision_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from vision_svc.faces import DetectionInput, Face, FaceDetector
from vision_svc.servicer import VisionServicer
from vision_svc.settings import VisionSettings

from .conftest import ASTRONAUT_FACE, Image, on_canvas

SERVICE = "clipsift.vision.v1.VisionService"


class RecordingDetector(FaceDetector):
    """The real detector, noting the size of every batch the micro-batcher hands it."""

    def __init__(self, settings: VisionSettings) -> None:
        super().__init__(settings.face_model, settings.device)
        self.batch_sizes: list[int] = []

    def detect(self, batch: Sequence[DetectionInput]) -> list[list[Face]]:
        self.batch_sizes.append(len(batch))
        return super().detect(batch)


@dataclass
class Running:
    server: GrpcServer
    detector: RecordingDetector
    stub: vision_pb2_grpc.VisionServiceStub
    health: health_pb2_grpc.HealthStub

    async def status(self) -> int:
        response = await self.health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
        return int(response.status)

    async def load(self) -> None:
        await asyncio.to_thread(self.detector.load)
        await self.server.set_serving()


@pytest.fixture
async def started() -> AsyncIterator[Running]:
    """The service listening, its model not loaded yet (as between start and load in run_service)."""
    settings = VisionSettings(
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0.5,
        max_frames_per_request=8,
        max_pixels_per_frame=1920 * 1080,
        batch_max_size=8,
        batch_max_wait_ms=50,
    )
    detector = RecordingDetector(settings)
    servicer = VisionServicer(settings, detector)
    server = GrpcServer(
        settings, [ServiceBinding(vision_pb2_grpc.add_VisionServiceServicer_to_server, servicer)]
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Running(
            server, detector, vision_pb2_grpc.VisionServiceStub(channel), health_pb2_grpc.HealthStub(channel)
        )
    finally:
        await channel.close()
        await server.stop()
        await servicer.close()


@pytest.fixture
async def running(started: Running) -> Running:
    await started.load()
    return started


def raw(image: Image) -> vision_pb2.Image:
    height, width = image.shape[:2]
    return vision_pb2.Image(raw=vision_pb2.RawImage(width=width, height=height, rgb=image.tobytes()))


def encoded(image: Image) -> vision_pb2.Image:
    return vision_pb2.Image(encoded=jpeg(image))


async def test_health_turns_serving_only_once_the_model_is_loaded(started: Running) -> None:
    assert await started.status() == health_pb2.HealthCheckResponse.NOT_SERVING
    # A caller that ignores health gets a retryable error, not a wrong answer.
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await started.stub.DetectFaces(vision_pb2.DetectFacesRequest(frames=[raw(data.astronaut())]))
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    await started.load()
    assert await started.status() == health_pb2.HealthCheckResponse.SERVING


async def test_faces_of_the_astronaut_in_pixels_of_the_frame(running: Running, astronaut: Image) -> None:
    response = await running.stub.DetectFaces(
        vision_pb2.DetectFacesRequest(frames=[raw(astronaut)]), timeout=10
    )
    assert response.model == "mediapipe-blazeface-full-range"
    [frame] = response.frames
    assert (frame.width, frame.height) == (512, 512)
    [face] = frame.faces
    x0, y0, x1, y1 = ASTRONAUT_FACE
    assert x0 <= face.box.x
    assert face.box.x + face.box.width <= x1
    assert y0 <= face.box.y
    assert face.box.y + face.box.height <= y1
    assert face.confidence > 0.9


async def test_jpeg_and_raw_frames_give_the_same_boxes(running: Running, astronaut: Image) -> None:
    wide = on_canvas(astronaut, [(50, 100), (700, 150)], grey=128)
    request = vision_pb2.DetectFacesRequest(
        frames=[encoded(astronaut), raw(astronaut), encoded(wide), raw(wide)]
    )
    response = await running.stub.DetectFaces(request, timeout=10)
    from_jpeg, from_raw = response.frames[0::2], response.frames[1::2]
    for jpeg_frame, raw_frame in zip(from_jpeg, from_raw, strict=True):
        assert (jpeg_frame.width, jpeg_frame.height) == (raw_frame.width, raw_frame.height)
        assert len(jpeg_frame.faces) == len(raw_frame.faces) > 0
        for a, b in zip(jpeg_frame.faces, raw_frame.faces, strict=True):
            assert abs(a.box.x - b.box.x) <= 3
            assert abs(a.box.y - b.box.y) <= 3
            assert abs(a.box.width - b.box.width) <= 3
            assert abs(a.confidence - b.confidence) < 0.05


async def test_a_batch_of_frames_returns_one_result_per_frame_in_order(
    running: Running, astronaut: Image
) -> None:
    two = on_canvas(astronaut, [(50, 100), (700, 150)])
    coffee = data.coffee()
    frames = [coffee, astronaut, two, coffee, two, astronaut]
    response = await running.stub.DetectFaces(
        vision_pb2.DetectFacesRequest(frames=[raw(frame) for frame in frames]), timeout=10
    )
    assert [len(frame.faces) for frame in response.frames] == [0, 1, 2, 0, 2, 1]
    assert [(f.width, f.height) for f in response.frames] == [(i.shape[1], i.shape[0]) for i in frames]
    for frame in response.frames:
        confidences = [face.confidence for face in frame.faces]
        assert confidences == sorted(confidences, reverse=True)


async def test_concurrent_single_frame_calls_share_batches(running: Running, astronaut: Image) -> None:
    coffee = data.coffee()
    frames = [astronaut if i % 2 else coffee for i in range(20)]
    responses = await asyncio.gather(
        *(
            running.stub.DetectFaces(vision_pb2.DetectFacesRequest(frames=[raw(frame)]), timeout=20)
            for frame in frames
        )
    )
    assert [len(response.frames[0].faces) for response in responses] == [i % 2 for i in range(20)]
    faces = [response.frames[0].faces[0] for response in responses[1::2]]
    assert len({(face.box.x, face.box.y, face.box.width, face.box.height) for face in faces}) == 1
    sizes = running.detector.batch_sizes
    assert sum(sizes) == 20
    assert max(sizes) > 1
    assert max(sizes) <= 8


async def test_min_confidence_is_per_request(running: Running, astronaut: Image) -> None:
    two = raw(on_canvas(astronaut, [(50, 100), (700, 150)], grey=128))
    loose = await running.stub.DetectFaces(vision_pb2.DetectFacesRequest(frames=[two]), timeout=10)
    weaker = min(face.confidence for face in loose.frames[0].faces)
    strict = await running.stub.DetectFaces(
        vision_pb2.DetectFacesRequest(frames=[two], min_confidence=weaker + 0.01), timeout=10
    )
    assert len(loose.frames[0].faces) == 2
    assert len(strict.frames[0].faces) == 1


@pytest.mark.parametrize(
    ("frames", "min_confidence", "code", "message"),
    [
        ([b"\x89PNG garbage"], 0.0, grpc.StatusCode.INVALID_ARGUMENT, "frame 0 is not a decodable image"),
        ([None, b"not a jpeg"], 0.0, grpc.StatusCode.INVALID_ARGUMENT, "frame 1 is not a decodable image"),
        ([], 0.0, grpc.StatusCode.INVALID_ARGUMENT, "no frames given"),
        ([None] * 9, 0.0, grpc.StatusCode.RESOURCE_EXHAUSTED, "9 frames in one request; the limit is 8"),
        ([None], 1.5, grpc.StatusCode.INVALID_ARGUMENT, "min_confidence must be in [0, 1]"),
    ],
    ids=["bad-bytes", "second-frame-bad", "no-frames", "too-many-frames", "bad-confidence"],
)
async def test_bad_requests_get_status_codes(
    running: Running,
    astronaut: Image,
    frames: list[bytes | None],
    min_confidence: float,
    code: grpc.StatusCode,
    message: str,
) -> None:
    good = encoded(astronaut)
    images = [good if frame is None else vision_pb2.Image(encoded=frame) for frame in frames]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await running.stub.DetectFaces(
            vision_pb2.DetectFacesRequest(frames=images, min_confidence=min_confidence), timeout=10
        )
    assert error.value.code() == code
    assert message in (error.value.details() or "")


async def test_frames_over_the_pixel_limit_are_resource_exhausted(running: Running) -> None:
    big = vision_pb2.Image(raw=vision_pb2.RawImage(width=4000, height=3000, rgb=b""))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await running.stub.DetectFaces(vision_pb2.DetectFacesRequest(frames=[big]), timeout=10)
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "frame 0 is 4000x3000" in (error.value.details() or "")
