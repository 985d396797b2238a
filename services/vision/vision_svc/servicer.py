"""gRPC VisionService: faces in batches of frames, inference micro-batched across requests."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.vision.v1 import vision_pb2, vision_pb2_grpc
from clipsift_common.batching import MicroBatcher
from clipsift_common.errors import InvalidArgument, ResourceExhausted

from .decode import decode_frame
from .faces import DetectionInput, Face, FaceDetector, PreparedFrame, prepare
from .settings import VisionSettings


class VisionServicer(vision_pb2_grpc.VisionServiceServicer):
    """Decodes and letterboxes frames in threads, then queues them for the shared detector.

    Every frame is its own item for the micro-batcher, so the frames of one large request and
    the single frames of many small ones batch alike.
    """

    def __init__(
        self,
        settings: VisionSettings,
        detector: FaceDetector,
        batcher: MicroBatcher[DetectionInput, list[Face]] | None = None,
    ) -> None:
        """``batcher``: the detector's batcher when other services of the process share it
        (``VisionModels.face_batcher``); without one the servicer makes and closes its own."""
        self.settings = settings
        self.detector = detector
        self._owns_batcher = batcher is None
        self.batcher: MicroBatcher[DetectionInput, list[Face]] = batcher or MicroBatcher(
            detector.detect,
            max_batch=settings.batch_max_size,
            max_wait_ms=settings.batch_max_wait_ms,
            name="vision-faces",
        )

    async def DetectFaces(
        self, request: vision_pb2.DetectFacesRequest, context: grpc.aio.ServicerContext
    ) -> vision_pb2.DetectFacesResponse:
        count = len(request.frames)
        if count == 0:
            raise InvalidArgument("no frames given")
        if count > self.settings.max_frames_per_request:
            raise ResourceExhausted(
                f"{count} frames in one request; the limit is {self.settings.max_frames_per_request}"
            )
        min_confidence = self._min_confidence(request.min_confidence)
        # Decoding runs in threads (OpenCV releases the GIL), one per frame, so a request's
        # frames decode in parallel; the first failing frame in request order is the one reported.
        outcomes = await asyncio.gather(
            *(asyncio.to_thread(self._prepare, image, index) for index, image in enumerate(request.frames)),
            return_exceptions=True,
        )
        frames: list[PreparedFrame] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            frames.append(outcome)
        faces = await asyncio.gather(
            *(self.batcher.submit(DetectionInput(frame, min_confidence)) for frame in frames)
        )
        return vision_pb2.DetectFacesResponse(
            frames=[_frame_faces(frame, found) for frame, found in zip(frames, faces, strict=True)],
            model=self.detector.model_name,
        )

    async def close(self) -> None:
        """Finish queued frames and stop the batcher's worker thread (if this servicer made it)."""
        if self._owns_batcher:
            await self.batcher.close()

    def _prepare(self, image: vision_pb2.Image, index: int) -> PreparedFrame:
        return prepare(decode_frame(image, index, self.settings.max_pixels_per_frame))

    def _min_confidence(self, requested: float) -> float:
        if requested == 0:
            return self.settings.default_min_confidence
        if not 0.0 < requested <= 1.0:
            raise InvalidArgument(f"min_confidence must be in [0, 1], got {requested}")
        return requested


def _frame_faces(frame: PreparedFrame, faces: list[Face]) -> vision_pb2.FrameFaces:
    return vision_pb2.FrameFaces(
        faces=[
            vision_pb2.Face(
                box=vision_pb2.Box(x=face.x, y=face.y, width=face.width, height=face.height),
                confidence=face.confidence,
            )
            for face in faces
        ],
        width=frame.width,
        height=frame.height,
    )
