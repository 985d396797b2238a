"""What is in a keyframe, as the vision service's AnalyzeImage sees it.

Behind one small interface (``FrameAnalyzer``) so the analysis job does not care who answers: the
vision service owns every image model and feature (faces, objects, OCR, colours, quality, hashes),
so a keyframe gets exactly the analysis a still image gets through ``POST /v1/images/analyze``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from clipsift.vision.v1 import analysis_pb2, analysis_pb2_grpc, vision_pb2
from clipsift_common.errors import InvalidArgument
from clipsift_common.grpc_client import ServiceClient

# The per-keyframe features a video analysis asks for (setting `keyframe_features`).
FEATURES: dict[str, analysis_pb2.Feature] = {
    "objects": analysis_pb2.FEATURE_OBJECTS,
    "text": analysis_pb2.FEATURE_TEXT,
    "colours": analysis_pb2.FEATURE_COLOURS,
    "quality": analysis_pb2.FEATURE_QUALITY,
    "faces": analysis_pb2.FEATURE_FACES,
    "hashes": analysis_pb2.FEATURE_HASHES,
}


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    width: float
    height: float
    confidence: float


@dataclass(frozen=True)
class Colour:
    hex: str
    share: float


@dataclass(frozen=True)
class DetectedObject:
    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class FrameAnalysis:
    faces: list[FaceBox] = field(default_factory=list)
    phash: str = ""
    dhash: str = ""
    whash: str = ""
    colours: list[Colour] = field(default_factory=list)
    objects: list[DetectedObject] = field(default_factory=list)
    # OCR: the lines read in the frame, joined in reading order.
    text: str = ""
    quality: dict[str, Any] = field(default_factory=dict)


class FrameAnalyzer(Protocol):
    async def analyze(self, frames: Sequence[bytes]) -> list[FrameAnalysis]:
        """One analysis per encoded (JPEG) frame, in order."""
        ...


def feature_codes(names: Sequence[str]) -> list[analysis_pb2.Feature]:
    """Feature names (settings) to AnalyzeImage codes; faces and hashes are always included,
    because the summary ranks keyframes by faces and skips look-alikes by pHash."""
    unknown = sorted(set(names) - set(FEATURES))
    if unknown:
        raise InvalidArgument(f"unknown keyframe features {unknown}; known: {sorted(FEATURES)}")
    return [FEATURES[n] for n in sorted({*names, "faces", "hashes"})]


def _round(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def frame_analysis(image: analysis_pb2.ImageAnalysis) -> FrameAnalysis:
    """The JSON-friendly view of one AnalyzeImage result."""
    q = image.quality
    quality: dict[str, Any] = (
        {
            "sharpness": _round(q.sharpness),
            "brightness": _round(q.brightness, 3),
            "contrast": _round(q.contrast, 3),
            "noise_sigma": _round(q.noise_sigma, 2),
            "blurry": q.blurry,
            "exposure": q.exposure,
            "noisy": q.noisy,
        }
        if image.HasField("quality")
        else {}
    )
    return FrameAnalysis(
        faces=[
            FaceBox(
                _round(f.box.x),
                _round(f.box.y),
                _round(f.box.width),
                _round(f.box.height),
                round(f.confidence, 3),
            )
            for f in image.faces
        ],
        phash=image.hashes.phash,
        dhash=image.hashes.dhash,
        whash=image.hashes.whash,
        colours=[Colour(c.hex, round(c.fraction, 4)) for c in image.colours],
        objects=[
            DetectedObject(
                o.label,
                round(o.confidence, 3),
                _round(o.box.x),
                _round(o.box.y),
                _round(o.box.width),
                _round(o.box.height),
            )
            for o in image.objects
        ],
        text=image.text,
        quality=quality,
    )


class VisionFrameAnalyzer:
    """Keyframes through the vision service's AnalyzeImage, one call per batch of frames (the
    service batches them with concurrent requests on its models)."""

    def __init__(self, vision: ServiceClient, features: Sequence[str]) -> None:
        self.vision = vision
        self.features = feature_codes(features)

    async def analyze(self, frames: Sequence[bytes]) -> list[FrameAnalysis]:
        if not frames:
            return []
        stub = analysis_pb2_grpc.ImageAnalysisServiceStub(self.vision.channel)
        request = analysis_pb2.AnalyzeImageRequest(
            images=[vision_pb2.Image(encoded=frame) for frame in frames], features=self.features
        )
        reply = await self.vision.call(stub.AnalyzeImage, request)
        return [frame_analysis(image) for image in reply.images]
