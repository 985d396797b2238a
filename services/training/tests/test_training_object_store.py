"""Training and serving with every blob on a real S3 server (SeaweedFS): the dataset is read from
the bucket, the trained version's files go to the tenant's model prefix and its result document
to the tenant's job prefix, and the text service downloads the deployed version into its scratch
space (once per version), classifies with it, and drops the copy when the version is undeployed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget
from clipsift_testing.waiting import wait_for_consumers

from clipsift.events.v1 import events_pb2
from clipsift.training.v1 import training_pb2, training_pb2_grpc
from clipsift_common.events import TERMINAL_TYPES, EventBus, job_subject, make_event, parse_event
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.objectstore import ObjectBlobStore, open_blob_store
from clipsift_common.service import Service
from text_svc.predict.classifiers import DeployedModels, registry_source
from text_svc.predict.model_files import ModelFiles
from text_svc.predict.settings import PredictSettings
from training_svc.job import KIND, result_key
from training_svc.wiring import build as build_training

from .conftest import DATA, read_examples, training_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _on_s3(target: ObjectStoreTarget, tmp_path: Path) -> dict[str, Any]:
    """Service settings that put the blobs on the S3 server, as an operator would set them."""
    return {
        "blob_url": target.url,
        "blob_options": target.options,
        "blob_allow_http": True,
        "scratch_dir": tmp_path / "scratch",
    }


@pytest.fixture
async def training(
    bus: EventBus, nats_url: str, database_url: str, s3_target: ObjectStoreTarget, tmp_path: Path
) -> AsyncIterator[tuple[Service, ObjectBlobStore]]:
    settings = training_settings(nats_url, database_url, None, **_on_s3(s3_target, tmp_path))
    service = await build_training(settings)
    await service.start()
    try:
        await wait_for_consumers(bus, ["training-train"])
        yield service, open_blob_store(settings)
    finally:
        await service.stop(drain=False)


async def _train(bus: EventBus, tenant: str, options: dict[str, Any]) -> events_pb2.JobEvent:
    job_id = str(uuid.uuid4())
    subscription = await bus.replay(job_subject(job_id))
    await bus.publish(
        make_event(
            job_id=job_id,
            tenant_id=tenant,
            kind=KIND,
            event_type=events_pb2.EVENT_TYPE_REQUESTED,
            key="requested",
            step="queued",
            payload=options,
        )
    )
    try:
        async with asyncio.timeout(180):
            while True:
                event = parse_event(await subscription.next_msg(timeout=180))
                if event.type in TERMINAL_TYPES:
                    return event
    finally:
        await subscription.unsubscribe()


async def test_train_deploy_and_predict_with_model_files_on_s3(
    training: tuple[Service, ObjectBlobStore], bus: EventBus, tmp_path: Path
) -> None:
    service, blobs = training
    dataset_key = "tenants/acme/uploads/d1/topics.csv"
    blobs.put_bytes(dataset_key, (DATA / "topics.csv").read_bytes())
    options = {"name": "topics", "input_key": dataset_key, "format": "csv", "seed": 13}
    done = await _train(bus, "acme", options)
    assert done.type == events_pb2.EVENT_TYPE_COMPLETED, done.message
    job_id = done.job_id

    # The result document and the version's files are in the tenant's prefix, in the bucket.
    assert (
        done.payload["result_key"] == result_key("acme", job_id) == f"tenants/acme/jobs/{job_id}/result.json"
    )
    assert blobs.exists(result_key("acme", job_id))
    prefix = f"tenants/acme/models/topics/{job_id}"
    files = {blob.key.removeprefix(prefix + "/") for blob in blobs.list(prefix)}
    assert {"config.json", "model.safetensors", "tokenizer.json", "clipsift.json"} <= files
    assert all(blob.key.startswith("tenants/acme/") for blob in blobs.list("tenants"))

    channel = ServiceClient(f"127.0.0.1:{service.port}", deadline_seconds=10)
    stub = training_pb2_grpc.TrainingServiceStub(channel.channel)
    deployment = await stub.Deploy(training_pb2.DeployRequest(tenant_id="acme", name="topics", version=1))
    # The registry records the prefix the files were stored under: the text side reads that one.
    assert deployment.blob_prefix == prefix

    scratch = tmp_path / "text-scratch"
    files_cache = ModelFiles(blobs, scratch)
    deployed = DeployedModels(
        PredictSettings(training_target="unused", predict_device="cpu"), files_cache, registry_source(channel)
    )
    try:
        held_out = read_examples(DATA / "heldout.csv")
        model, probabilities = await deployed.predict("acme", "topics", [e.text for e in held_out])
        assert model.version == 1
        predicted = [model.classifier.labels[i] for i in probabilities.argmax(axis=1)]
        right = sum(p == e.label for p, e in zip(predicted, held_out, strict=True))
        assert right > len(held_out) * 2 / 3, predicted  # as the trainer's own test expects
        copy = files_cache.folder(prefix)
        assert copy.is_relative_to(scratch)
        assert (copy / "clipsift.json").is_file()
        assert [p for p in (scratch / "text-models").iterdir() if p.name.startswith(".download-")] == []
        # Another tenant never reaches it.
        with pytest.raises(Exception, match="not deployed"):
            await deployed.predict("globex", "topics", ["the striker scored"])

        await stub.Undeploy(training_pb2.UndeployRequest(tenant_id="acme", name="topics"))
        await deployed.sync()
        assert deployed.served() == {}
        assert not copy.exists(), "the downloaded copy goes with the deployment"
    finally:
        await deployed.close()
        await channel.close()
