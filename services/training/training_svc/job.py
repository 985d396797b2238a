"""The training job: validate the dataset, split, fine-tune, evaluate, store the version.

Steps and their share of the progress bar: validate (0-2 %), train (2-90 %, one event per whole
percent with epoch, step and loss), evaluate (90-95 %), store (95-100 %). The job's result is the
version's registry entry, written last: a worker killed before that leaves no version (the files of
its attempt are rewritten by the redelivery), one killed after it finds the version on redelivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import threading
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from clipsift_common.blobkeys import job_prefix
from clipsift_common.contracts import TrainOptions
from clipsift_common.errors import InvalidArgument, NotFound
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobContext, JobFailed

from .dataset import Dataset, DatasetFormat, load_dataset
from .evaluation import evaluate
from .model_store import store_model, version_prefix
from .registry import ModelRegistry, NewVersion
from .settings import TrainingSettings
from .split import split_dataset
from .tracking import Tracker, track_safely
from .trainer import StepReport, TrainedModel, TrainParams, fine_tune, predict_proba, save_model

log = logging.getLogger(__name__)
KIND = "train"
_TRAIN_START, _TRAIN_END = 0.02, 0.90


def result_key(tenant_id: str, job_id: str) -> str:
    """Under the tenant's prefix; the completed event names it for the gateway."""
    return f"{job_prefix(tenant_id, job_id)}/result.json"


def train_params(options: TrainOptions, settings: TrainingSettings) -> TrainParams:
    """The job's hyper-parameters: its own options, the service's defaults for the rest."""
    return TrainParams(
        epochs=options.epochs or settings.epochs,
        batch_size=options.batch_size or settings.batch_size,
        learning_rate=options.learning_rate or settings.learning_rate,
        max_length=options.max_length or settings.max_length,
        seed=settings.seed if options.seed is None else options.seed,
        weight_decay=settings.weight_decay,
        warmup_fraction=settings.warmup_fraction,
    )


def parse_request(options: dict[str, Any]) -> tuple[TrainOptions, str, DatasetFormat]:
    """The job's options, the dataset's blob key and format; ``JobFailed`` when malformed."""
    try:
        train = TrainOptions.model_validate(
            {k: v for k, v in options.items() if k in TrainOptions.model_fields}
        )
    except ValidationError as exc:
        raise JobFailed(f"invalid training options: {exc.errors()[0]['msg']}") from None
    key, fmt = options.get("input_key"), options.get("format")
    if not isinstance(key, str) or fmt not in ("csv", "jsonl"):
        raise JobFailed("the job names no dataset (input_key and format csv|jsonl)")
    return train, key, cast(DatasetFormat, fmt)


class TrainJob:
    def __init__(
        self, settings: TrainingSettings, blobs: ObjectBlobStore, registry: ModelRegistry, tracker: Tracker
    ) -> None:
        self.settings = settings
        self.blobs = blobs
        self.registry = registry
        self.tracker = tracker

    async def __call__(self, ctx: JobContext) -> dict[str, Any]:
        options, dataset_key, fmt = parse_request(ctx.options)
        done = await self.registry.version_for_job(ctx.job_id)
        if done is not None:  # a redelivery after the version was registered
            return self._summary(ctx.tenant_id, ctx.job_id, done)
        await ctx.progress("validate", 0.0, "checking the dataset")
        try:
            dataset = await asyncio.to_thread(self._load_dataset, dataset_key, fmt)
        except NotFound:
            raise JobFailed(f"the dataset {dataset_key} is gone from the blob store") from None
        except InvalidArgument as exc:
            raise JobFailed(f"invalid dataset: {exc}") from None
        params = train_params(options, self.settings)
        split = split_dataset(
            dataset, options.validation_fraction or self.settings.validation_fraction, params.seed
        )
        await ctx.progress(
            "validate",
            _TRAIN_START,
            f"{len(dataset)} rows, {len(dataset.labels)} classes: "
            f"{len(split.train)} to train, {len(split.validation)} to validate",
        )
        trained = await self._train(ctx, dataset, split.train, params)
        try:
            await ctx.progress("evaluate", _TRAIN_END, f"{len(split.validation)} validation examples")
            probabilities = await asyncio.to_thread(
                predict_proba, trained, [e.text for e in split.validation], self.settings.eval_batch_size
            )
            predicted = [dataset.labels[i] for i in probabilities.argmax(axis=1)]
            metrics = evaluate(dataset.labels, [e.label for e in split.validation], predicted)
            metrics["epoch_losses"] = trained.epoch_losses
            await ctx.progress(
                "store", 0.95, f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}"
            )
            prefix = version_prefix(ctx.tenant_id, options.name, ctx.job_id)
            metadata = {
                "name": options.name,
                "dataset_sha256": dataset.sha256,
                "base_model": self.settings.base_model,
            }
            await asyncio.to_thread(self._store, trained, prefix, metadata)
        finally:
            _release(trained)
        row = await self.registry.add_version(
            NewVersion(
                tenant_id=ctx.tenant_id,
                name=options.name,
                job_id=ctx.job_id,
                blob_prefix=prefix,
                labels=dataset.labels,
                metrics=metrics,
                dataset_sha256=dataset.sha256,
                train_examples=len(split.train),
                validation_examples=len(split.validation),
                base_model=self.settings.base_model,
                params=params.as_dict(),
                device=trained.device,
                train_seconds=trained.seconds,
            )
        )
        await asyncio.to_thread(self._write_result, ctx.tenant_id, ctx.job_id, row)
        await asyncio.to_thread(
            track_safely,
            self.tracker,
            run_name=f"{options.name}-v{row['version']}",
            params=params.as_dict(),
            metrics={
                "accuracy": metrics["accuracy"],
                "macro_f1": metrics["macro_f1"],
                "train_seconds": trained.seconds,
            },
            tags={
                "tenant": ctx.tenant_id,
                "model": options.name,
                "dataset_sha256": dataset.sha256,
                "job_id": ctx.job_id,
            },
            epoch_losses=trained.epoch_losses,
        )
        return self._summary(ctx.tenant_id, ctx.job_id, row)

    async def _train(
        self, ctx: JobContext, dataset: Dataset, train: list[Any], params: TrainParams
    ) -> TrainedModel:
        stop = threading.Event()

        def on_step(report: StepReport) -> None:
            fraction = _TRAIN_START + (_TRAIN_END - _TRAIN_START) * report.step / report.total_steps
            ctx.progress_threadsafe(
                "train",
                fraction,
                f"epoch {report.epoch}/{report.epochs} step {report.step}/{report.total_steps} "
                f"loss {report.loss:.4f}",
                {
                    "epoch": report.epoch,
                    "epochs": report.epochs,
                    "step": report.step,
                    "total_steps": report.total_steps,
                    "loss": round(report.loss, 6),
                },
            )

        try:
            return await asyncio.to_thread(
                fine_tune,
                self.settings.base_model,
                train,
                dataset.labels,
                params,
                self.settings.device,
                on_step,
                stop.is_set,
            )
        except asyncio.CancelledError:
            stop.set()  # the thread stops at its next step instead of training on for nobody
            raise

    def _load_dataset(self, key: str, fmt: DatasetFormat) -> Dataset:
        # A local file: the folder backend's own, else a scratch copy removed afterwards.
        with self.blobs.local_file(key, self.settings.scratch) as path:
            return load_dataset(path, fmt, self.settings)

    def _store(self, trained: TrainedModel, prefix: str, metadata: dict[str, Any]) -> None:
        self.settings.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="model-", dir=self.settings.scratch) as tmp:
            save_model(trained, Path(tmp), metadata)
            try:
                store_model(self.blobs, prefix, Path(tmp))
            except BaseException:
                self.blobs.delete_prefix(prefix)
                raise

    def _write_result(self, tenant_id: str, job_id: str, row: dict[str, Any]) -> None:
        document = json.dumps(version_document(row), indent=2).encode()
        self.blobs.put_bytes(result_key(tenant_id, job_id), document)

    def _summary(self, tenant_id: str, job_id: str, row: dict[str, Any]) -> dict[str, Any]:
        metrics = row["metrics"]
        return {
            "model": row["name"],
            "version": row["version"],
            "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "labels": len(row["labels"]),
            "train_examples": row["train_examples"],
            "validation_examples": row["validation_examples"],
            "dataset_sha256": row["dataset_sha256"],
            "device": row["device"],
            "train_seconds": round(row["train_seconds"], 3),
            "result_key": result_key(tenant_id, job_id),
        }


def version_document(row: dict[str, Any]) -> dict[str, Any]:
    """The public JSON view of a registry row (the job's result document)."""
    return {
        "model": row["name"],
        "version": row["version"],
        "job_id": row["job_id"],
        "labels": row["labels"],
        "metrics": row["metrics"],
        "dataset_sha256": row["dataset_sha256"],
        "train_examples": row["train_examples"],
        "validation_examples": row["validation_examples"],
        "base_model": row["base_model"],
        "params": row["params"],
        "device": row["device"],
        "train_seconds": row["train_seconds"],
        "created_at": row["created_at"].isoformat(),
    }


def _release(trained: TrainedModel) -> None:
    """Free the model's memory now (GPU memory above all), not whenever the collector runs."""
    device = trained.device
    trained.model = None
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()
