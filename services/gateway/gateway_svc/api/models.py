"""Custom text classifiers: train one on a labelled dataset (a job), list models and versions,
deploy / undeploy / roll back, and classify texts with the deployed version.

Models are the caller's tenant's: another tenant's model answers 404 like one that does not exist.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import Path, Query, Request
from pydantic import BaseModel, Field, ValidationError

from clipsift.text.v1 import predict_pb2
from clipsift.training.v1 import training_pb2
from clipsift_common.blobkeys import job_prefix
from clipsift_common.contracts import MODEL_NAME_PATTERN, TrainOptions
from clipsift_common.errors import InvalidArgument, NotFound

from ..auth import Principal
from ..permissions import Permission, requires
from ..submission import queue_job
from ..uploads import stream_to_blob
from .bodies import Text, as_dict, check_size
from .deps import PredictionService, Settings, TrainingService
from .params import MAX_VERSION
from .proto_models import reply_model
from .schemas import JobView, ReplyRouter, request_body

router = ReplyRouter(prefix="/v1/models", tags=["models"])
ModelVersions = reply_model(
    training_pb2.ListVersionsResponse.DESCRIPTOR, name="TrainingModelVersions", fields={"name": (str, ...)}
)
# Where the files live is the services' business, not the caller's.
PublicDeployment = reply_model(
    training_pb2.Deployment.DESCRIPTOR,
    name="TrainingPublicDeployment",
    omit=frozenset({"blob_prefix", "tenant_id"}),
)
ModelName = Annotated[str, Path(pattern=MODEL_NAME_PATTERN, description="Model name")]
# Media types of the two dataset formats; anything else is refused before the upload is read.
_FORMATS = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/jsonlines": "jsonl",
}
_PROTO_FORMATS = {"csv": training_pb2.DATASET_FORMAT_CSV, "jsonl": training_pb2.DATASET_FORMAT_JSONL}


def _dataset_format(request: Request) -> str:
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    fmt = _FORMATS.get(media_type)
    if fmt is None:
        raise InvalidArgument(
            f"unsupported dataset type {media_type or '(none)'!r}: send text/csv or application/jsonl"
        )
    return fmt


@router.post(
    "/{name}/train",
    status_code=202,
    response_model=JobView,
    openapi_extra=request_body(
        "The labelled dataset: CSV with a text,label header, or JSONL of {text, label}",
        binary=("text/csv", "application/jsonl"),
    ),
)
async def train(
    name: ModelName,
    request: Request,
    principal: Annotated[Principal, requires(Permission.MODELS_WRITE)],
    training: TrainingService,
    epochs: Annotated[int | None, Query(ge=1, le=50)] = None,
    batch_size: Annotated[int | None, Query(ge=1, le=1024)] = None,
    learning_rate: Annotated[float | None, Query(gt=0, le=1)] = None,
    max_length: Annotated[int | None, Query(ge=8, le=512)] = None,
    validation_fraction: Annotated[float | None, Query(gt=0, lt=1)] = None,
    seed: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
) -> dict[str, Any]:
    """Train a new version of the model ``name`` on the labelled dataset sent as the body: CSV
    (``Content-Type: text/csv``, header ``text,label``) or JSONL (``application/jsonl``, one
    ``{"text", "label"}`` per line). The dataset is checked before the job exists (empty rows, a
    single class, unknown columns, too few examples per class: 400 saying which). Progress
    (epoch, step, loss) arrives as the job's events; the result holds the validation metrics."""
    state = request.app.state
    fmt = _dataset_format(request)
    try:
        options = TrainOptions(
            name=name,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            max_length=max_length,
            validation_fraction=validation_fraction,
            seed=seed,
        )
    except ValidationError as exc:
        raise InvalidArgument(exc.errors()[0]["msg"]) from None
    job_id = uuid.uuid4()
    key = f"{job_prefix(principal.tenant_id, str(job_id))}/dataset.{fmt}"
    blobs = state.blobs
    try:
        await stream_to_blob(request, blobs, key, state.settings.max_dataset_upload_bytes, "dataset")
        summary = await training.call(
            training.stub.ValidateDataset,
            training_pb2.ValidateDatasetRequest(blob_key=key, format=_PROTO_FORMATS[fmt]),
        )
        payload = {
            **options.model_dump(exclude_none=True),
            "input_key": key,
            "format": fmt,
            "rows": summary.rows,
            "classes": {c.label: c.count for c in summary.classes},
            "dataset_sha256": summary.sha256,
        }
        message = f"{summary.rows} examples of {len(summary.classes)} classes queued"
        return await queue_job(state, job_id, principal.tenant_id, "train", payload, key, message)
    except BaseException:
        await asyncio.to_thread(blobs.delete_prefix, job_prefix(principal.tenant_id, str(job_id)))
        raise


@router.get("", response_model=reply_model(training_pb2.ListModelsResponse.DESCRIPTOR))
async def list_models(
    principal: Annotated[Principal, requires(Permission.MODELS_READ)], training: TrainingService
) -> dict[str, Any]:
    """The tenant's models: number of versions, latest and deployed version (0: not deployed)."""
    reply = await training.call(
        training.stub.ListModels, training_pb2.ListModelsRequest(tenant_id=principal.tenant_id)
    )
    return as_dict(reply)


@router.get("/{name}", response_model=ModelVersions)
async def get_model(
    name: ModelName,
    principal: Annotated[Principal, requires(Permission.MODELS_READ)],
    training: TrainingService,
) -> dict[str, Any]:
    """Every version of the model, newest first, with its validation metrics and dataset hash."""
    reply = await training.call(
        training.stub.ListVersions, training_pb2.ListVersionsRequest(tenant_id=principal.tenant_id, name=name)
    )
    return {"name": name, **as_dict(reply)}


@router.get("/{name}/versions/{version}", response_model=reply_model(training_pb2.ModelVersion.DESCRIPTOR))
async def get_version(
    name: ModelName,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    principal: Annotated[Principal, requires(Permission.MODELS_READ)],
    training: TrainingService,
) -> dict[str, Any]:
    """One version: metrics (accuracy, macro-F1, per class, confusion matrix), parameters, dataset hash."""
    versions = (await get_model(name, principal, training))["versions"]
    for entry in versions:
        if entry["version"] == version:
            return dict(entry)
    raise NotFound(f"model {name!r} has no version {version}")


@router.post("/{name}/deploy", response_model=PublicDeployment)
async def deploy(
    name: ModelName,
    principal: Annotated[Principal, requires(Permission.MODELS_WRITE)],
    training: TrainingService,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="Version to serve (default: the latest)")
    ] = None,
) -> dict[str, Any]:
    """Serve ``version`` (default: the latest) under the model's name; text services load it."""
    reply = await training.call(
        training.stub.Deploy,
        training_pb2.DeployRequest(tenant_id=principal.tenant_id, name=name, version=version or 0),
    )
    return _deployment(reply)


@router.post("/{name}/undeploy", response_model=PublicDeployment)
async def undeploy(
    name: ModelName,
    principal: Annotated[Principal, requires(Permission.MODELS_WRITE)],
    training: TrainingService,
) -> dict[str, Any]:
    """Stop serving the model (its versions stay in the registry)."""
    reply = await training.call(
        training.stub.Undeploy, training_pb2.UndeployRequest(tenant_id=principal.tenant_id, name=name)
    )
    return _deployment(reply)


@router.post("/{name}/rollback", response_model=PublicDeployment)
async def rollback(
    name: ModelName,
    principal: Annotated[Principal, requires(Permission.MODELS_WRITE)],
    training: TrainingService,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="Version to serve (default: the one before)")
    ] = None,
) -> dict[str, Any]:
    """Serve the version that was served before the current deployment (or ``version``)."""
    reply = await training.call(
        training.stub.Rollback,
        training_pb2.RollbackRequest(tenant_id=principal.tenant_id, name=name, version=version or 0),
    )
    return _deployment(reply)


def _deployment(reply: training_pb2.Deployment) -> dict[str, Any]:
    view = as_dict(reply)
    view.pop("blob_prefix", None)
    view.pop("tenant_id", None)
    return view


class PredictIn(BaseModel):
    texts: list[Text] = Field(min_length=1, description="Texts to classify")


@router.post("/{name}/predict", response_model=reply_model(predict_pb2.PredictResponse.DESCRIPTOR))
async def predict(
    name: ModelName,
    body: PredictIn,
    principal: Annotated[Principal, requires(Permission.MODELS_PREDICT)],
    prediction: PredictionService,
    settings: Settings,
) -> dict[str, Any]:
    """Labels of the texts by the deployed version of the model (404 when it is not deployed):
    the best label and its probability, and every label's probability, per text."""
    check_size(settings, body.texts)
    reply = await prediction.call(
        prediction.stub.Predict,
        predict_pb2.PredictRequest(tenant_id=principal.tenant_id, model=name, texts=body.texts),
    )
    return as_dict(reply)
