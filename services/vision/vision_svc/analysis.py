"""Image analysis: decode once, then every asked-for feature; model features through the
shared micro-batchers, pixel statistics in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

import cv2
import numpy as np

from clipsift.vision.v1 import vision_pb2  # the wire's Image is what decode_input reads
from clipsift_common.errors import InvalidArgument

from .colours import Colour, dominant_colours
from .decode import DecodedImage, DecodeLimits, Frame, decode_input
from .duplicates import Signature
from .embedding import preprocess
from .faces import DetectionInput, Face, prepare
from .hashing import HashSet, hashes_of
from .models import VisionModels
from .objects import DetectedObject, ObjectInput
from .ocr import OcrInput, TextLine
from .quality import Quality, QualityThresholds, measure
from .settings import VisionSettings


class Feature(IntEnum):
    """What ``analyze`` can compute; the values are those of the wire's ``clipsift.vision.v1.Feature``."""

    OBJECTS = 1
    TEXT = 2
    COLOURS = 3
    QUALITY = 4
    FACES = 5
    HASHES = 6
    EMBEDDING = 7


ALL_FEATURES = tuple(Feature)
# Pixel statistics: computed together in one worker thread.
_STATISTICS = frozenset({Feature.COLOURS, Feature.QUALITY, Feature.HASHES})

T = TypeVar("T")


@dataclass(frozen=True)
class Confidences:
    objects: float
    text: float
    faces: float


@dataclass(frozen=True)
class ImageAnalysis:
    """One image's asked-for features; the ones not asked for are empty (or None)."""

    width: int  # size as sent, after EXIF orientation
    height: int
    analyzed_width: int
    analyzed_height: int
    format: str
    objects: tuple[DetectedObject, ...] = ()
    text_lines: tuple[TextLine, ...] = ()
    text: str = ""  # the lines joined by newlines
    colours: tuple[Colour, ...] = ()
    quality: Quality | None = None
    faces: tuple[Face, ...] = ()  # in pixels of the original image
    hashes: HashSet | None = None
    embedding: tuple[float, ...] = ()


@dataclass(frozen=True)
class _Statistics:
    colours: tuple[Colour, ...] = ()
    quality: Quality | None = None
    hashes: HashSet | None = None


def _resized(pixels: Frame, max_side: int) -> tuple[Frame, float]:
    """``pixels`` fitted to ``max_side`` and the factor back to ``pixels``' own coordinates."""
    height, width = pixels.shape[:2]
    if max(height, width) <= max_side:
        return pixels, 1.0
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), dtype=np.uint8), 1.0 / scale


class ImageAnalyzer:
    def __init__(self, settings: VisionSettings, models: VisionModels) -> None:
        self.settings = settings
        self.models = models
        self.limits = DecodeLimits(
            settings.max_image_bytes, settings.max_image_pixels, settings.analysis_max_side
        )
        self.signature_limits = DecodeLimits(
            settings.max_image_bytes, settings.max_image_pixels, settings.signature_max_side
        )
        self.quality_thresholds = QualityThresholds(
            min_sharpness=settings.min_sharpness,
            max_noise_sigma=settings.max_noise_sigma,
            min_megapixels=settings.min_megapixels,
            dark_brightness=settings.dark_brightness,
            bright_brightness=settings.bright_brightness,
            clipped_fraction=settings.clipped_fraction,
        )

    def check_count(self, count: int, limit: int) -> None:
        if count == 0:
            raise InvalidArgument("no images given")
        if count > limit:
            from clipsift_common.errors import ResourceExhausted

            raise ResourceExhausted(f"{count} images in one request; the limit is {limit}")

    async def decode_all(
        self, images: list[vision_pb2.Image], labels: list[str], limits: DecodeLimits | None = None
    ) -> list[DecodedImage]:
        """Decode in threads (within ``limits``, by default at analysis size); the first failing
        image in request order is the one reported."""
        outcomes = await asyncio.gather(
            *(
                asyncio.to_thread(decode_input, image, label, limits or self.limits)
                for image, label in zip(images, labels, strict=True)
            ),
            return_exceptions=True,
        )
        decoded = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            decoded.append(outcome)
        return decoded

    async def signature(self, image: DecodedImage, use_embedding: bool) -> Signature:
        """Hashes (and embedding) of a decoded image, for near-duplicate search."""
        hashes = asyncio.to_thread(hashes_of, image.pixels)
        if not use_embedding:
            return Signature(await hashes)
        found, embedding = await asyncio.gather(hashes, self._embedding(image.pixels))
        return Signature(found, embedding)

    async def _embedding(self, pixels: Frame) -> np.ndarray:
        prepared = await asyncio.to_thread(preprocess, pixels)
        embedding: np.ndarray = await self.models.embedding_batcher.submit(prepared)
        return embedding

    async def analyze(
        self, image: DecodedImage, features: Collection[Feature], confidences: Confidences
    ) -> ImageAnalysis:
        pixels = image.pixels
        height, width = pixels.shape[:2]
        scale = image.width / width  # analysis pixels -> original pixels
        objects: Awaitable[tuple[DetectedObject, ...]] = (
            self._objects(pixels, scale, confidences.objects) if Feature.OBJECTS in features else _skipped(())
        )
        text_lines: Awaitable[tuple[TextLine, ...]] = (
            self._text(pixels, scale, confidences.text) if Feature.TEXT in features else _skipped(())
        )
        faces: Awaitable[tuple[Face, ...]] = (
            self._faces(pixels, scale, confidences.faces) if Feature.FACES in features else _skipped(())
        )
        embedding: Awaitable[tuple[float, ...]] = (
            self._embedding_of(pixels) if Feature.EMBEDDING in features else _skipped(())
        )
        statistics: Awaitable[_Statistics] = (
            asyncio.to_thread(self._statistics, image, features)
            if not _STATISTICS.isdisjoint(features)
            else _skipped(_Statistics())
        )
        found = await asyncio.gather(objects, text_lines, faces, embedding, statistics)
        lines, stats = found[1], found[4]
        return ImageAnalysis(
            width=image.width,
            height=image.height,
            analyzed_width=width,
            analyzed_height=height,
            format=image.format,
            objects=found[0],
            text_lines=lines,
            text="\n".join(line.text for line in lines),
            colours=stats.colours,
            quality=stats.quality,
            faces=found[2],
            hashes=stats.hashes,
            embedding=found[3],
        )

    async def _objects(self, pixels: Frame, scale: float, threshold: float) -> tuple[DetectedObject, ...]:
        small, factor = await asyncio.to_thread(_resized, pixels, self.settings.objects_max_side)
        found = await self.models.object_batcher.submit(ObjectInput(small, factor * scale, threshold))
        return tuple(found)

    async def _text(self, pixels: Frame, scale: float, threshold: float) -> tuple[TextLine, ...]:
        return tuple(await self.models.ocr_batcher.submit(OcrInput(pixels, scale, threshold)))

    async def _faces(self, pixels: Frame, scale: float, threshold: float) -> tuple[Face, ...]:
        """Faces in pixels of the original image (the detector reports analysis pixels)."""
        prepared = await asyncio.to_thread(prepare, pixels)
        faces = await self.models.face_batcher.submit(DetectionInput(prepared, threshold))
        return tuple(
            Face(
                x=f.x * scale,
                y=f.y * scale,
                width=f.width * scale,
                height=f.height * scale,
                confidence=f.confidence,
            )
            for f in faces
        )

    async def _embedding_of(self, pixels: Frame) -> tuple[float, ...]:
        return tuple((await self._embedding(pixels)).tolist())

    def _statistics(self, image: DecodedImage, features: Collection[Feature]) -> _Statistics:
        return _Statistics(
            colours=tuple(dominant_colours(image.pixels, self.settings.colours))
            if Feature.COLOURS in features
            else (),
            quality=measure(image.pixels, image.width, image.height, self.quality_thresholds)
            if Feature.QUALITY in features
            else None,
            hashes=hashes_of(image.pixels).original if Feature.HASHES in features else None,
        )


async def _skipped(value: T) -> T:
    """The result of a feature that was not asked for."""
    return value
