"""gRPC ImageAnalysisService: every asked-for feature of a batch of images."""

from __future__ import annotations

import asyncio

import grpc

from clipsift.vision.v1 import analysis_pb2, analysis_pb2_grpc
from clipsift_common.errors import InvalidArgument

from .analysis import ALL_FEATURES, Confidences, Feature, ImageAnalyzer


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
            images=results,
            features=sorted(features),  # type: ignore[arg-type]  # Feature values are ints
            models=analysis_pb2.AnalysisModels(
                objects=models.objects.model_name if Feature.FEATURE_OBJECTS in features else "",
                text=models.reader.model_name if Feature.FEATURE_TEXT in features else "",
                faces=models.faces.model_name if Feature.FEATURE_FACES in features else "",
                embedding=models.embedder.model_name if Feature.FEATURE_EMBEDDING in features else "",
            ),
        )


def _features(requested: list[int]) -> set[int]:
    if not requested:
        return set(ALL_FEATURES)
    unknown = [value for value in requested if value not in ALL_FEATURES]
    if unknown:
        raise InvalidArgument(f"unknown features {unknown}; known: {sorted(ALL_FEATURES)}")
    return set(requested)


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
