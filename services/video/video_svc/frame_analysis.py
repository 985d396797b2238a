"""What is in a keyframe: faces, perceptual hashes, dominant colours.

Behind one small interface (``FrameAnalyzer``) so the analysis job does not care who answers:
today faces come from the vision service's DetectFaces and the rest is computed here; a
vision-side AnalyzeImage can replace the whole class without touching the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from clipsift.vision.v1 import vision_pb2, vision_pb2_grpc
from clipsift_common.grpc_client import ServiceClient

_COLOURS = 5
_COLOUR_SIDE = 64  # pixels per side the colour clustering looks at
# Clusters smaller than this are edge blends from the resize, not colours a viewer sees.
_MIN_COLOUR_SHARE = 0.03


@dataclass(frozen=True)
class Colour:
    hex: str
    share: float


@dataclass(frozen=True)
class FaceBox:
    x: float
    y: float
    width: float
    height: float
    confidence: float


@dataclass(frozen=True)
class FrameAnalysis:
    faces: list[FaceBox] = field(default_factory=list)
    phash: str = ""
    dhash: str = ""
    colours: list[Colour] = field(default_factory=list)


class FrameAnalyzer(Protocol):
    async def analyze(self, frames: list[npt.NDArray[np.uint8]]) -> list[FrameAnalysis]:
        """One analysis per RGB frame, in order."""
        ...


def dominant_colours(rgb: npt.NDArray[np.uint8], count: int = _COLOURS) -> list[Colour]:
    """The frame's main colours by k-means over a small copy, largest share first (shares of
    the whole frame; specks under 3% are left out)."""
    import cv2

    small = cv2.resize(rgb, (_COLOUR_SIDE, _COLOUR_SIDE), interpolation=cv2.INTER_AREA)
    pixels = small.reshape(-1, 3).astype(np.float32)
    k = min(count, len(np.unique(pixels, axis=0)))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)  # the same frame always gets the same colours
    _, labels, centres = cv2.kmeans(pixels, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    shares = np.bincount(labels.ravel(), minlength=k) / labels.size
    order = np.argsort(-shares)
    return [
        Colour(
            "#{:02x}{:02x}{:02x}".format(*(round(float(c)) for c in centres[i])), round(float(shares[i]), 4)
        )
        for i in order
        if shares[i] >= _MIN_COLOUR_SHARE
    ]


def image_hashes(rgb: npt.NDArray[np.uint8]) -> tuple[str, str]:
    """(pHash, dHash) of the frame as 16-digit hex strings (imagehash)."""
    import imagehash
    from PIL import Image

    image = Image.fromarray(rgb)
    return str(imagehash.phash(image)), str(imagehash.dhash(image))


class LocalFrameAnalyzer:
    """Faces through the vision service's DetectFaces (one batched call), hashes and colours here."""

    def __init__(self, vision: ServiceClient) -> None:
        self.vision = vision

    async def analyze(self, frames: list[npt.NDArray[np.uint8]]) -> list[FrameAnalysis]:
        if not frames:
            return []
        stub = vision_pb2_grpc.VisionServiceStub(self.vision.channel)
        request = vision_pb2.DetectFacesRequest(
            frames=[
                vision_pb2.Image(
                    raw=vision_pb2.RawImage(
                        width=f.shape[1], height=f.shape[0], rgb=np.ascontiguousarray(f).tobytes()
                    )
                )
                for f in frames
            ]
        )
        reply = await self.vision.call(stub.DetectFaces, request)
        results = []
        for frame, found in zip(frames, reply.frames, strict=True):
            phash, dhash = image_hashes(frame)
            results.append(
                FrameAnalysis(
                    faces=[
                        FaceBox(
                            round(f.box.x, 1),
                            round(f.box.y, 1),
                            round(f.box.width, 1),
                            round(f.box.height, 1),
                            round(f.confidence, 3),
                        )
                        for f in found.faces
                    ],
                    phash=phash,
                    dhash=dhash,
                    colours=dominant_colours(frame),
                )
            )
        return results
