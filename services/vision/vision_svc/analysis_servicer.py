"""gRPC ImageAnalysisService: every asked-for feature of a batch of images."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.vision.v1 import analysis_pb2, analysis_pb2_grpc, vision_pb2
from clipsift_common.errors import InvalidArgument

from .analysis import ALL_FEATURES, Confidences, Feature, ImageAnalysis, ImageAnalyzer
from .quality import Quality


class ImageAnalysisServicer(analysis_pb2_grpc.ImageAnalysisServiceServicer):
    def __init__(self, analyzer: ImageAnalyzer) -> None:
        self.analyzer = analyzer

    async def AnalyzeImage(
        self, request: analysis_pb2.AnalyzeImageRequest, context: grpc.aio.ServicerContext
    ) -> analysis_pb2.AnalyzeImageResponse:
        settings = self.analyzer.settings
        self.analyzer.check_count(len(request.images), settings.max_images_per_request)
        features = _features(list(request.features))
        confidences = _confidences(request.min_confidence, settings)
        images = list(request.images)
        decoded = await self.analyzer.decode_all(images, [f"image {i}" for i in range(len(images))])
        results = await asyncio.gather(
            *(self.analyzer.analyze(image, features, confidences) for image in decoded)
        )
        models = self.analyzer.models
        return analysis_pb2.AnalyzeImageResponse(
            images=[to_image_analysis(result) for result in results],
            features=sorted(features),  # type: ignore[arg-type]  # Feature values are the wire's ints
            models=analysis_pb2.AnalysisModels(
                objects=models.objects.model_name if Feature.OBJECTS in features else "",
                text=models.reader.model_name if Feature.TEXT in features else "",
                faces=models.faces.model_name if Feature.FACES in features else "",
                embedding=models.embedder.model_name if Feature.EMBEDDING in features else "",
            ),
        )


def to_image_analysis(result: ImageAnalysis) -> analysis_pb2.ImageAnalysis:
    message = analysis_pb2.ImageAnalysis(
        width=result.width,
        height=result.height,
        analyzed_width=result.analyzed_width,
        analyzed_height=result.analyzed_height,
        format=result.format,
        objects=[
            analysis_pb2.DetectedObject(
                label=o.label,
                confidence=o.confidence,
                box=vision_pb2.Box(x=o.x, y=o.y, width=o.width, height=o.height),
            )
            for o in result.objects
        ],
        text_lines=[
            analysis_pb2.TextLine(
                text=line.text,
                confidence=line.confidence,
                polygon=[analysis_pb2.Point(x=x, y=y) for x, y in line.polygon],
            )
            for line in result.text_lines
        ],
        text=result.text,
        colours=[
            analysis_pb2.Colour(hex=c.hex, r=c.r, g=c.g, b=c.b, fraction=c.fraction) for c in result.colours
        ],
        faces=[
            vision_pb2.Face(
                box=vision_pb2.Box(x=f.x, y=f.y, width=f.width, height=f.height), confidence=f.confidence
            )
            for f in result.faces
        ],
        embedding=result.embedding,
    )
    # Quality and hashes are present exactly when they were asked for, even if all zero.
    if result.quality is not None:
        message.quality.CopyFrom(_quality(result.quality))
    if result.hashes is not None:
        message.hashes.CopyFrom(analysis_pb2.ImageHashes(**result.hashes.hex()))
    return message


def _quality(q: Quality) -> analysis_pb2.Quality:
    return analysis_pb2.Quality(
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


def _features(requested: list[int]) -> set[Feature]:
    if not requested:
        return set(ALL_FEATURES)
    unknown = [value for value in requested if value not in ALL_FEATURES]
    if unknown:
        raise InvalidArgument(f"unknown features {unknown}; known: {sorted(map(int, ALL_FEATURES))}")
    return {Feature(value) for value in requested}


def _confidences(requested: float, settings: object) -> Confidences:
    from .settings import VisionSettings

    assert isinstance(settings, VisionSettings)
    if requested == 0:
        return Confidences(
            settings.default_object_confidence,
            settings.default_text_confidence,
            settings.default_min_confidence,
        )
    if not 0.0 < requested <= 1.0:
        raise InvalidArgument(f"min_confidence must be in [0, 1], got {requested}")
    return Confidences(requested, requested, requested)
