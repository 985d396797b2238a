"""Tenants' deployed text classifiers, loaded from the blob store and kept in step with the registry.

The registry names each version's ``blob_prefix`` (the training service stored the files there);
``ModelFiles`` makes it a local folder for transformers.

The training service owns the registry; this side mirrors its live deployments. It re-reads them
(``ListDeployments``) whenever the training service announces a change on NATS, at least every
``predict_sync_seconds`` (a missed notice costs at most that), and once more when asked for a model
it does not hold (so a Predict right after a Deploy finds the model). Each model has its own
``MicroBatcher``: texts of concurrent requests share forward passes. Models are keyed by
(tenant, name): one tenant never reaches another's model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from clipsift.training.v1 import training_pb2, training_pb2_grpc
from clipsift_common.batching import MicroBatcher
from clipsift_common.errors import InvalidArgument, NotFound, ResourceExhausted
from clipsift_common.events import DEPLOYMENTS_SUBJECT
from clipsift_common.grpc_client import ServiceClient

from ..embeddings import resolve_device
from .model_files import ModelFiles
from .settings import PredictSettings

log = logging.getLogger(__name__)
Probabilities = npt.NDArray[np.float32]
# Returns every live deployment of every tenant (the training service's ListDeployments).
DeploymentSource = Callable[[], Awaitable[Sequence[training_pb2.Deployment]]]


class TextClassifier:
    """A fine-tuned sequence classifier loaded from a local folder (Hugging Face files)."""

    def __init__(self, directory: Path, labels: Sequence[str], max_length: int, device: str) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if not (directory / "config.json").is_file():
            raise FileNotFoundError(f"no model in {directory} (config.json missing)")
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self.device = resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
        self.model = AutoModelForSequenceClassification.from_pretrained(str(directory), local_files_only=True)
        self.model.to(self.device).eval()
        trained_labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        if list(labels) != trained_labels:
            raise ValueError(f"registry labels {list(labels)} differ from the model's {trained_labels}")
        self.labels = trained_labels
        self.max_length = max_length

    def predict(self, texts: Sequence[str]) -> Probabilities:
        """Class probabilities, one row per text, columns in ``labels`` order."""
        import torch

        encoded = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        with torch.inference_mode():
            logits = self.model(**encoded).logits
        return np.asarray(torch.softmax(logits.float(), dim=-1).cpu().numpy(), dtype=np.float32)


@dataclass
class ServedModel:
    tenant_id: str
    name: str
    version: int
    blob_prefix: str
    classifier: TextClassifier
    batcher: MicroBatcher[str, Probabilities]

    async def predict(self, texts: Sequence[str]) -> Probabilities:
        # Longest first, as one batch would be cut: neighbours of similar length pad little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        rows = await asyncio.gather(*(self.batcher.submit(texts[i]) for i in order))
        result = np.empty((len(texts), len(self.classifier.labels)), dtype=np.float32)
        result[order] = np.stack(rows)
        return result


class DeployedModels:
    """The deployed classifiers this replica serves, in step with the registry."""

    def __init__(self, settings: PredictSettings, files: ModelFiles, source: DeploymentSource) -> None:
        self.settings = settings
        self.files = files
        self.source = source
        self._served: dict[tuple[str, str], ServedModel] = {}
        self._lock = asyncio.Lock()
        self._synced_at = 0.0
        self._changed = asyncio.Event()

    def served(self) -> dict[tuple[str, str], int]:
        """(tenant, name) → version of every model held now."""
        return {key: model.version for key, model in self._served.items()}

    async def predict(
        self, tenant_id: str, name: str, texts: Sequence[str]
    ) -> tuple[ServedModel, Probabilities]:
        if not tenant_id:
            raise InvalidArgument("tenant_id is required")
        if not texts:
            raise InvalidArgument("no texts to classify")
        if len(texts) > self.settings.predict_max_texts:
            raise ResourceExhausted(
                f"{len(texts)} texts in one request; the limit is {self.settings.predict_max_texts}"
            )
        for i, text in enumerate(texts):
            if len(text) > self.settings.predict_max_text_chars:
                raise ResourceExhausted(
                    f"text {i} has {len(text)} characters; "
                    f"the limit is {self.settings.predict_max_text_chars}"
                )
        model = self._served.get((tenant_id, name))
        if model is None:
            # Perhaps deployed a moment ago and the notice is still on its way: look once more.
            await self.sync(newer_than=time.monotonic())
            model = self._served.get((tenant_id, name))
        if model is None:
            raise NotFound(f"model {name!r} is not deployed")
        return model, await model.predict(texts)

    async def sync(self, newer_than: float = 0.0) -> None:
        """Load what the registry deploys and this replica lacks, drop what it no longer deploys.
        Concurrent callers share one sync; ``newer_than`` skips it when one finished since then."""
        async with self._lock:
            if self._synced_at > newer_than > 0:
                return
            started = time.monotonic()
            deployments = await self.source()
            wanted = {(d.tenant_id, d.name): d for d in deployments}
            for key, deployment in wanted.items():
                current = self._served.get(key)
                if current is not None and current.version == deployment.version:
                    continue
                try:
                    loaded = await self._load(deployment)
                except Exception:
                    # One broken version must not keep the others from serving; the old one stays.
                    log.exception(
                        "could not load a deployed model",
                        extra={"tenant": deployment.tenant_id, "model": deployment.name},
                    )
                    continue
                self._served[key] = loaded
                if current is not None:
                    await current.batcher.close()
                    await asyncio.to_thread(self.files.release, current.blob_prefix)
                log.info(
                    "serving model",
                    extra={"tenant": key[0], "model": key[1], "version": deployment.version},
                )
            for key in [k for k in self._served if k not in wanted]:
                gone = self._served.pop(key)
                await gone.batcher.close()
                await asyncio.to_thread(self.files.release, gone.blob_prefix)
                log.info("model undeployed", extra={"tenant": key[0], "model": key[1]})
            self._synced_at = started

    async def _load(self, deployment: training_pb2.Deployment) -> ServedModel:
        classifier = await asyncio.to_thread(self._classifier, deployment)
        batcher: MicroBatcher[str, Probabilities] = MicroBatcher(
            lambda texts: list(classifier.predict(texts)),
            max_batch=self.settings.predict_max_batch,
            max_wait_ms=self.settings.predict_max_wait_ms,
            name="text-predict",
        )
        return ServedModel(
            deployment.tenant_id,
            deployment.name,
            deployment.version,
            deployment.blob_prefix,
            classifier,
            batcher,
        )

    def _classifier(self, deployment: training_pb2.Deployment) -> TextClassifier:
        directory = self.files.folder(deployment.blob_prefix)
        try:
            return TextClassifier(
                directory,
                list(deployment.labels),
                deployment.max_length or _stored_max_length(directory),
                self.settings.predict_device,
            )
        except Exception:
            self.files.release(deployment.blob_prefix)  # the next try downloads afresh
            raise

    def notify(self) -> None:
        """A deployment changed somewhere: sync soon."""
        self._changed.set()

    async def watch(self, nc: Any, stop: asyncio.Event) -> None:
        """Background task: sync now, on every change notice and every ``predict_sync_seconds``."""

        async def on_notice(msg: Any) -> None:
            self.notify()

        subscription = await nc.subscribe(f"{DEPLOYMENTS_SUBJECT}.>", cb=on_notice)
        try:
            while not stop.is_set():
                self._changed.clear()
                try:
                    await self.sync()
                except Exception as exc:
                    # The training service may be down: keep serving what is loaded, try again later.
                    log.warning("could not read the deployed models: %s", exc)
                waits = [asyncio.ensure_future(self._changed.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(
                    waits, timeout=self.settings.predict_sync_seconds, return_when="FIRST_COMPLETED"
                )
                for waiter in waits:
                    waiter.cancel()
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    async def close(self) -> None:
        for model in self._served.values():
            await model.batcher.close()
        self._served.clear()


def _stored_max_length(directory: Path) -> int:
    """The training length from clipsift.json, for a registry entry that does not carry it."""
    meta = json.loads((directory / "clipsift.json").read_text(encoding="utf-8"))
    return int(meta["max_length"])


def registry_source(client: ServiceClient) -> DeploymentSource:
    """Deployments read from the training service through ``client`` (deadline, circuit breaker)."""
    stub = training_pb2_grpc.TrainingServiceStub(client.channel)

    async def deployments() -> Sequence[training_pb2.Deployment]:
        reply = await client.call(stub.ListDeployments, training_pb2.ListDeploymentsRequest())
        return list(reply.deployments)

    return deployments
