"""gRPC PredictionService: the tenant's deployed classifiers (see classifiers.py)."""

from __future__ import annotations

import grpc

from clipsift.text.v1 import predict_pb2, predict_pb2_grpc

from .classifiers import DeployedModels


class PredictionServicer(predict_pb2_grpc.PredictionServiceServicer):
    def __init__(self, models: DeployedModels) -> None:
        self.models = models

    async def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.aio.ServicerContext
    ) -> predict_pb2.PredictResponse:
        served, probabilities = await self.models.predict(
            request.tenant_id, request.model, list(request.texts)
        )
        labels = served.classifier.labels
        reply = predict_pb2.PredictResponse(model=served.name, version=served.version)
        for row in probabilities:
            ranked = sorted(range(len(labels)), key=lambda i: -float(row[i]))
            prediction = reply.predictions.add(label=labels[ranked[0]], score=float(row[ranked[0]]))
            for i in ranked:
                prediction.scores.add(label=labels[i], score=float(row[i]))
        return reply
