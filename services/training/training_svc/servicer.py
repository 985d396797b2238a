"""gRPC TrainingService: dataset checks, the registry, deployments (with change notifications)."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import struct_pb2

from clipsift.training.v1 import training_pb2, training_pb2_grpc
from clipsift_common.contracts import MODEL_NAME_PATTERN
from clipsift_common.errors import InvalidArgument, NotFound
from clipsift_common.events import DEPLOYMENTS_SUBJECT, EventBus
from clipsift_common.objectstore import ObjectBlobStore

from .dataset import Dataset, DatasetFormat, load_dataset
from .registry import Deployment, ModelRegistry
from .settings import TrainingSettings

log = logging.getLogger(__name__)
_FORMATS: dict[int, DatasetFormat] = {
    training_pb2.DATASET_FORMAT_CSV: "csv",
    training_pb2.DATASET_FORMAT_JSONL: "jsonl",
}
_NAME = re.compile(MODEL_NAME_PATTERN)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def _model(tenant_id: str, name: str) -> None:
    if not tenant_id:
        raise InvalidArgument("tenant_id is required")
    if not _NAME.match(name):
        raise InvalidArgument(
            f"model name {name!r} must be 1-63 lowercase letters, digits, '_', '-' or '.', "
            "starting alphanumeric"
        )


def _set_time(target: Any, value: datetime | None) -> None:
    if value is not None:
        target.FromDatetime(value)


def deployment_message(deployment: Deployment) -> training_pb2.Deployment:
    message = training_pb2.Deployment(
        tenant_id=deployment.tenant_id,
        name=deployment.name,
        version=deployment.version,
        blob_prefix=deployment.blob_prefix,
        labels=deployment.labels,
        max_length=deployment.max_length,
        previous_version=deployment.previous_version,
    )
    _set_time(message.deployed_at, deployment.deployed_at)
    return message


def version_message(row: dict[str, Any], deployed_version: int) -> training_pb2.ModelVersion:
    message = training_pb2.ModelVersion(
        name=row["name"],
        version=row["version"],
        job_id=row["job_id"],
        labels=row["labels"],
        metrics=_struct(row["metrics"]),
        dataset_sha256=row["dataset_sha256"],
        train_examples=row["train_examples"],
        validation_examples=row["validation_examples"],
        base_model=row["base_model"],
        params=_struct(row["params"]),
        device=row["device"],
        train_seconds=row["train_seconds"],
        deployed=row["version"] == deployed_version,
    )
    _set_time(message.created_at, row["created_at"])
    return message


class TrainingServicer(training_pb2_grpc.TrainingServiceServicer):
    def __init__(
        self, settings: TrainingSettings, blobs: ObjectBlobStore, registry: ModelRegistry, bus: EventBus
    ) -> None:
        self.settings = settings
        self.blobs = blobs
        self.registry = registry
        self.bus = bus

    async def ValidateDataset(
        self, request: training_pb2.ValidateDatasetRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.DatasetSummary:
        fmt = _FORMATS.get(request.format)
        if fmt is None:
            raise InvalidArgument("format must be CSV or JSONL")
        dataset = await asyncio.to_thread(self._load_dataset, request.blob_key, fmt)
        return training_pb2.DatasetSummary(
            rows=len(dataset),
            classes=[training_pb2.ClassCount(label=k, count=v) for k, v in dataset.counts.items()],
            sha256=dataset.sha256,
        )

    def _load_dataset(self, key: str, fmt: DatasetFormat) -> Dataset:
        try:
            with self.blobs.local_file(key, self.settings.scratch) as path:
                return load_dataset(path, fmt, self.settings)
        except NotFound:
            raise InvalidArgument(f"no dataset at blob key {key!r}") from None

    async def ListModels(
        self, request: training_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.ListModelsResponse:
        if not request.tenant_id:
            raise InvalidArgument("tenant_id is required")
        reply = training_pb2.ListModelsResponse()
        for row in await self.registry.list_models(request.tenant_id):
            summary = reply.models.add(
                name=row["name"],
                versions=row["versions"],
                latest_version=row["latest_version"],
                deployed_version=row["deployed_version"],
            )
            _set_time(summary.updated_at, row["updated_at"])
        return reply

    async def ListVersions(
        self, request: training_pb2.ListVersionsRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.ListVersionsResponse:
        _model(request.tenant_id, request.name)
        rows, deployed = await self.registry.list_versions(request.tenant_id, request.name)
        return training_pb2.ListVersionsResponse(
            versions=[version_message(row, deployed) for row in rows], deployed_version=deployed
        )

    async def Deploy(
        self, request: training_pb2.DeployRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.Deployment:
        _model(request.tenant_id, request.name)
        return await self._announce(
            await self.registry.deploy(request.tenant_id, request.name, request.version)
        )

    async def Undeploy(
        self, request: training_pb2.UndeployRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.Deployment:
        _model(request.tenant_id, request.name)
        return await self._announce(await self.registry.undeploy(request.tenant_id, request.name))

    async def Rollback(
        self, request: training_pb2.RollbackRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.Deployment:
        _model(request.tenant_id, request.name)
        return await self._announce(
            await self.registry.rollback(request.tenant_id, request.name, request.version)
        )

    async def ListDeployments(
        self, request: training_pb2.ListDeploymentsRequest, context: grpc.aio.ServicerContext
    ) -> training_pb2.ListDeploymentsResponse:
        return training_pb2.ListDeploymentsResponse(
            deployments=[deployment_message(d) for d in await self.registry.deployments()]
        )

    async def _announce(self, deployment: Deployment) -> training_pb2.Deployment:
        """Tell inference services at once; a lost notice is caught up by their periodic sync."""
        message = deployment_message(deployment)
        try:
            await self.bus.nc.publish(
                f"{DEPLOYMENTS_SUBJECT}.{deployment.tenant_id}", message.SerializeToString()
            )
        except Exception:
            log.warning("could not announce a deployment change", exc_info=True)
        return message
