"""Fine-tuning a sequence classifier from the base model (transformers + torch, CPU or CUDA).

The base model is a local directory of Hugging Face files, loaded with ``local_files_only``; a
randomly initialised classification head goes on top and the whole network is trained with AdamW
and a linear warm-up/decay schedule. Batches are padded to their longest text (at most
``max_length`` tokens), so short texts cost little. Everything seeded: the same data, parameters
and device give the same model.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .dataset import Example

log = logging.getLogger(__name__)

# Written beside the Hugging Face files of a saved model: what inference needs besides them.
METADATA_FILE = "clipsift.json"


@dataclass(frozen=True)
class TrainParams:
    epochs: int
    batch_size: int
    learning_rate: float
    max_length: int
    seed: int
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StepReport:
    """One optimiser step: published as job progress."""

    epoch: int
    epochs: int
    step: int
    total_steps: int
    loss: float


@dataclass
class TrainedModel:
    model: Any
    tokenizer: Any
    labels: list[str]
    max_length: int
    device: str
    seconds: float
    # Mean training loss of each epoch.
    epoch_losses: list[float] = field(default_factory=list)


class Cancelled(Exception):
    """Training stopped because ``should_stop`` said so (the worker is shutting down)."""


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device is 'cuda' but torch sees no CUDA device")
    return device


def _check_base_model(path: str) -> Path:
    directory = Path(path)
    # A missing directory would otherwise be taken for a hub model id and fail on the network.
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"no Hugging Face model in {directory} (config.json missing)")
    return directory


def fine_tune(
    base_model: str,
    train: Sequence[Example],
    labels: list[str],
    params: TrainParams,
    device: str = "auto",
    on_step: Callable[[StepReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedModel:
    """Fine-tune ``base_model`` on ``train`` for ``labels`` (class i is ``labels[i]``). Blocking:
    run it in a thread. ``on_step`` is called after every optimiser step."""
    import torch

    directory = _check_base_model(base_model)
    device = resolve_device(device)
    started = time.perf_counter()
    torch.manual_seed(params.seed)
    tokenizer, model = _load_for_training(directory, labels, device)
    index = {label: i for i, label in enumerate(labels)}
    texts = [example.text for example in train]
    targets = [index[example.label] for example in train]
    steps_per_epoch = math.ceil(len(texts) / params.batch_size)
    total_steps = steps_per_epoch * params.epochs
    optimizer, scheduler = _optimiser(model, params, total_steps)
    # bfloat16 autocast on CUDA: tensor-core speed, no loss scaling needed; CPU trains in float32.
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda")
    epoch_losses: list[float] = []
    step = 0
    model.train()
    for epoch in range(1, params.epochs + 1):
        order = list(range(len(texts)))
        random.Random(params.seed * 1000 + epoch).shuffle(order)
        losses: list[float] = []
        for start in range(0, len(order), params.batch_size):
            if should_stop is not None and should_stop():
                raise Cancelled("training stopped")
            batch = order[start : start + params.batch_size]
            encoded = tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=params.max_length,
                return_tensors="pt",
            ).to(device)
            batch_targets = torch.tensor([targets[i] for i in batch], device=device)
            with autocast:
                loss = model(**encoded, labels=batch_targets).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            losses.append(float(loss.detach()))
            if on_step is not None:
                on_step(StepReport(epoch, params.epochs, step, total_steps, losses[-1]))
        epoch_losses.append(float(np.mean(losses)))
        log.info("epoch done", extra={"epoch": epoch, "loss": epoch_losses[-1]})
    model.eval()
    return TrainedModel(
        model=model,
        tokenizer=tokenizer,
        labels=list(labels),
        max_length=params.max_length,
        device=device,
        seconds=time.perf_counter() - started,
        epoch_losses=epoch_losses,
    )


def _load_for_training(directory: Path, labels: list[str], device: str) -> tuple[Any, Any]:
    """The tokenizer and the model with a fresh classification head for ``labels``, on ``device``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # The "newly initialized classifier weights" notice is expected here: the head is what we train.
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    # Nor does a service log want the weight-loading progress bar.
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(directory),
        local_files_only=True,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="single_label_classification",
    )
    model.to(device)
    return tokenizer, model


def _optimiser(model: Any, params: TrainParams, total_steps: int) -> tuple[Any, Any]:
    """AdamW (no weight decay on biases and LayerNorm weights) and a linear warm-up/decay schedule."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": params.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=params.learning_rate)
    scheduler = get_linear_schedule_with_warmup(  # type: ignore[no-untyped-call]
        optimizer, int(total_steps * params.warmup_fraction), total_steps
    )
    return optimizer, scheduler


def predict_proba(trained: TrainedModel, texts: Sequence[str], batch_size: int) -> npt.NDArray[np.float32]:
    """Class probabilities, one row per text (columns in ``trained.labels`` order)."""
    import torch

    rows: list[npt.NDArray[np.float32]] = []
    # Longest first: neighbours in a batch have similar lengths, so little padding is computed.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = [texts[i] for i in order[start : start + batch_size]]
            encoded = trained.tokenizer(
                chunk, padding=True, truncation=True, max_length=trained.max_length, return_tensors="pt"
            ).to(trained.device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=trained.device == "cuda"):
                logits = trained.model(**encoded).logits
            rows.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
    probabilities = np.zeros((len(texts), len(trained.labels)), dtype=np.float32)
    if rows:
        probabilities[order] = np.concatenate(rows)
    return probabilities


def save_model(trained: TrainedModel, directory: Path, metadata: dict[str, Any]) -> list[Path]:
    """Write the model (safetensors), its tokenizer and ``clipsift.json`` into ``directory``;
    return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(str(directory), safe_serialization=True)
    trained.tokenizer.save_pretrained(str(directory))
    meta = {"labels": trained.labels, "max_length": trained.max_length, **metadata}
    (directory / METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return sorted(p for p in directory.rglob("*") if p.is_file())
