"""Image analysis: decode once, then every asked-for feature; model features through the
shared micro-batchers, pixel statistics in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Collection
from dataclasses import dataclass

import cv2
import numpy as np

from clipsift.vision.v1 import analysis_pb2, vision_pb2
from clipsift_common.errors import InvalidArgument

from .colours import dominant_colours
from .decode import DecodedImage, DecodeLimits, Frame, decode_input
from .duplicates import Signature
from .embedding import preprocess
from .faces import DetectionInput, prepare
from .hashing import hashes_of
from .models import VisionModels
from .objects import ObjectInput
from .ocr import OcrInput
from .quality import QualityThresholds, measure
from .settings import VisionSettings

Feature = analysis_pb2.Feature
ALL_FEATURES = tuple(value for value in Feature.values() if value != Feature.FEATURE_UNSPECIFIED)


@dataclass(frozen=True)
class Confidences:
    objects: float
    text: float
    faces: float


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
        self, image: DecodedImage, features: Collection[int], confidences: Confidences
    ) -> analysis_pb2.ImageAnalysis:
        pixels = image.pixels
        height, width = pixels.shape[:2]
        scale = image.width / width  # analysis pixels -> original pixels
        result = analysis_pb2.ImageAnalysis(
            width=image.width,
            height=image.height,
            analyzed_width=width,
            analyzed_height=height,
            format=image.format,
        )
        tasks: list[Awaitable[None]] = []
        if Feature.FEATURE_OBJECTS in features:
            tasks.append(self._objects(pixels, scale, confidences.objects, result))
        if Feature.FEATURE_TEXT in features:
            tasks.append(self._text(pixels, scale, confidences.text, result))
        if Feature.FEATURE_FACES in features:
            tasks.append(self._faces(pixels, scale, confidences.faces, result))
        if Feature.FEATURE_EMBEDDING in features:
            tasks.append(self._embed_into(pixels, result))
        if (
            Feature.FEATURE_COLOURS in features
            or Feature.FEATURE_QUALITY in features
            or (Feature.FEATURE_HASHES in features)
        ):
            tasks.append(asyncio.to_thread(self._statistics, image, features, result))
        await asyncio.gather(*tasks)
        return result

    async def _objects(
        self, pixels: Frame, scale: float, threshold: float, out: analysis_pb2.ImageAnalysis
    ) -> None:
        small, factor = await asyncio.to_thread(_resized, pixels, self.settings.objects_max_side)
        found = await self.models.object_batcher.submit(ObjectInput(small, factor * scale, threshold))
        out.objects.extend(
            analysis_pb2.DetectedObject(
                label=o.label,
                confidence=o.confidence,
                box=vision_pb2.Box(x=o.x, y=o.y, width=o.width, height=o.height),
            )
            for o in found
        )

    async def _text(
        self, pixels: Frame, scale: float, threshold: float, out: analysis_pb2.ImageAnalysis
    ) -> None:
        lines = await self.models.ocr_batcher.submit(OcrInput(pixels, scale, threshold))
        out.text_lines.extend(
            analysis_pb2.TextLine(
                text=line.text,
                confidence=line.confidence,
                polygon=[analysis_pb2.Point(x=x, y=y) for x, y in line.polygon],
            )
            for line in lines
        )
        out.text = "\n".join(line.text for line in lines)

    async def _faces(
        self, pixels: Frame, scale: float, threshold: float, out: analysis_pb2.ImageAnalysis
    ) -> None:
        prepared = await asyncio.to_thread(prepare, pixels)
        faces = await self.models.face_batcher.submit(DetectionInput(prepared, threshold))
        out.faces.extend(
            vision_pb2.Face(
                box=vision_pb2.Box(
                    x=f.x * scale, y=f.y * scale, width=f.width * scale, height=f.height * scale
                ),
                confidence=f.confidence,
            )
            for f in faces
        )

    async def _embed_into(self, pixels: Frame, out: analysis_pb2.ImageAnalysis) -> None:
        out.embedding.extend((await self._embedding(pixels)).tolist())

    def _statistics(
        self, image: DecodedImage, features: Collection[int], out: analysis_pb2.ImageAnalysis
    ) -> None:
        if Feature.FEATURE_COLOURS in features:
            out.colours.extend(
                analysis_pb2.Colour(hex=c.hex, r=c.r, g=c.g, b=c.b, fraction=c.fraction)
                for c in dominant_colours(image.pixels, self.settings.colours)
            )
        if Feature.FEATURE_QUALITY in features:
            q = measure(image.pixels, image.width, image.height, self.quality_thresholds)
            out.quality.CopyFrom(
                analysis_pb2.Quality(
                    sharpness=q.sharpness,
                    brightness=q.brightness,
                    contrast=q.contrast,
                    underexposed_fraction=q.underexposed_fraction,
                    overexposed_fraction=q.overexposed_fraction,
                    noise_sigma=q.noise_sigma,
                    megapixels=q.megapixels,
                    blurry=q.blurry,
                    exposure=q.exposure,
                    noisy=q.noisy,
                    low_resolution=q.low_resolution,
                )
            )
        if Feature.FEATURE_HASHES in features:
            out.hashes.CopyFrom(analysis_pb2.ImageHashes(**hashes_of(image.pixels).original.hex()))
