"""Typed route dependencies: the downstream gRPC services and the gateway state routes read.

Each service's stub is built once, over the client the lifespan opened (``Downstream``), instead of
once per request; calls still go through ``ServiceClient.call``, so every one keeps its deadline
and its target's circuit breaker. The dependencies are coroutines: FastAPI would run plain
functions in its thread pool, a thread hop per request for an attribute read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request

from clipsift.analytics.v1 import analytics_pb2_grpc
from clipsift.text.v1 import analysis_pb2_grpc, index_pb2_grpc, predict_pb2_grpc, text_pb2_grpc
from clipsift.training.v1 import training_pb2_grpc
from clipsift.video.v1 import video_pb2_grpc
from clipsift.vision.v1 import analysis_pb2_grpc as image_analysis_pb2_grpc
from clipsift.vision.v1 import duplicates_pb2_grpc
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.objectstore import ObjectBlobStore

from ..jobs import JobStore
from ..settings import GatewaySettings

StubT = TypeVar("StubT")
T = TypeVar("T")


@dataclass(frozen=True)
class Service(Generic[StubT]):
    """One gRPC service as a route sees it: its stub, and the client of the process serving it."""

    client: ServiceClient
    stub: StubT

    @property
    def deadline_seconds(self) -> float:
        return self.client.deadline_seconds

    async def call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Any,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a gRPC deadline, sent to the server
    ) -> T:
        """``ServiceClient.call``: ``method`` (one of ``stub``'s) under a deadline and the breaker."""
        return await self.client.call(method, request, timeout=timeout)


@dataclass(frozen=True)
class Downstream:
    """Every service the routes call. The text process also serves analysis, indexes and
    predictions, the vision process image analysis and duplicates: those share a channel and a
    breaker, as they share a process."""

    text: Service[text_pb2_grpc.TextServiceStub]
    analysis: Service[analysis_pb2_grpc.TextAnalysisServiceStub]
    index: Service[index_pb2_grpc.IndexServiceStub]
    prediction: Service[predict_pb2_grpc.PredictionServiceStub]
    image_analysis: Service[image_analysis_pb2_grpc.ImageAnalysisServiceStub]
    image_duplicates: Service[duplicates_pb2_grpc.ImageDuplicateServiceStub]
    video: Service[video_pb2_grpc.VideoServiceStub]
    analytics: Service[analytics_pb2_grpc.AnalyticsServiceStub]
    training: Service[training_pb2_grpc.TrainingServiceStub]

    @classmethod
    def over(
        cls,
        *,
        text: ServiceClient,
        vision: ServiceClient,
        video: ServiceClient,
        analytics: ServiceClient,
        training: ServiceClient,
    ) -> Downstream:
        return cls(
            text=Service(text, text_pb2_grpc.TextServiceStub(text.channel)),
            analysis=Service(text, analysis_pb2_grpc.TextAnalysisServiceStub(text.channel)),
            index=Service(text, index_pb2_grpc.IndexServiceStub(text.channel)),
            prediction=Service(text, predict_pb2_grpc.PredictionServiceStub(text.channel)),
            image_analysis=Service(vision, image_analysis_pb2_grpc.ImageAnalysisServiceStub(vision.channel)),
            image_duplicates=Service(vision, duplicates_pb2_grpc.ImageDuplicateServiceStub(vision.channel)),
            video=Service(video, video_pb2_grpc.VideoServiceStub(video.channel)),
            analytics=Service(analytics, analytics_pb2_grpc.AnalyticsServiceStub(analytics.channel)),
            training=Service(training, training_pb2_grpc.TrainingServiceStub(training.channel)),
        )


def _downstream(request: Request) -> Downstream:
    downstream: Downstream = request.app.state.downstream
    return downstream


async def text_service(request: Request) -> Service[text_pb2_grpc.TextServiceStub]:
    return _downstream(request).text


async def analysis_service(request: Request) -> Service[analysis_pb2_grpc.TextAnalysisServiceStub]:
    return _downstream(request).analysis


async def index_service(request: Request) -> Service[index_pb2_grpc.IndexServiceStub]:
    return _downstream(request).index


async def prediction_service(request: Request) -> Service[predict_pb2_grpc.PredictionServiceStub]:
    return _downstream(request).prediction


async def image_analysis_service(
    request: Request,
) -> Service[image_analysis_pb2_grpc.ImageAnalysisServiceStub]:
    return _downstream(request).image_analysis


async def image_duplicates_service(
    request: Request,
) -> Service[duplicates_pb2_grpc.ImageDuplicateServiceStub]:
    return _downstream(request).image_duplicates


async def video_service(request: Request) -> Service[video_pb2_grpc.VideoServiceStub]:
    return _downstream(request).video


async def analytics_service(request: Request) -> Service[analytics_pb2_grpc.AnalyticsServiceStub]:
    return _downstream(request).analytics


async def training_service(request: Request) -> Service[training_pb2_grpc.TrainingServiceStub]:
    return _downstream(request).training


TextService = Annotated[Service[text_pb2_grpc.TextServiceStub], Depends(text_service)]
AnalysisService = Annotated[Service[analysis_pb2_grpc.TextAnalysisServiceStub], Depends(analysis_service)]
IndexService = Annotated[Service[index_pb2_grpc.IndexServiceStub], Depends(index_service)]
PredictionService = Annotated[Service[predict_pb2_grpc.PredictionServiceStub], Depends(prediction_service)]
ImageAnalysisService = Annotated[
    Service[image_analysis_pb2_grpc.ImageAnalysisServiceStub], Depends(image_analysis_service)
]
ImageDuplicatesService = Annotated[
    Service[duplicates_pb2_grpc.ImageDuplicateServiceStub], Depends(image_duplicates_service)
]
VideoService = Annotated[Service[video_pb2_grpc.VideoServiceStub], Depends(video_service)]
AnalyticsService = Annotated[Service[analytics_pb2_grpc.AnalyticsServiceStub], Depends(analytics_service)]
TrainingService = Annotated[Service[training_pb2_grpc.TrainingServiceStub], Depends(training_service)]


async def gateway_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


async def job_store(request: Request) -> JobStore:
    jobs: JobStore = request.app.state.jobs
    return jobs


async def blob_store(request: Request) -> ObjectBlobStore:
    blobs: ObjectBlobStore = request.app.state.blobs
    return blobs


Settings = Annotated[GatewaySettings, Depends(gateway_settings)]
Jobs = Annotated[JobStore, Depends(job_store)]
Blobs = Annotated[ObjectBlobStore, Depends(blob_store)]
