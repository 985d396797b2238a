"""Settings of the text service's Predict (tenants' deployed classifiers): environment
``CLIPSIFT_TEXT_<FIELD>``, like the rest of the text service's settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PredictSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_TEXT_", extra="ignore", frozen=True)

    # The training service, whose registry says which model versions are deployed.
    training_target: str
    training_deadline_seconds: float = Field(default=10.0, gt=0)
    # Deployments are re-read on every change notice (NATS) and at least this often.
    predict_sync_seconds: float = Field(default=30.0, gt=0)
    # "auto" takes CUDA when torch sees a GPU, else the CPU.
    predict_device: Literal["cpu", "cuda", "auto"] = "auto"
    # Texts per forward pass; concurrent requests to one model share batches.
    predict_max_batch: int = Field(default=64, ge=1, le=4096)
    # How long the first text of a batch waits for company: the latency a lone request pays.
    predict_max_wait_ms: float = Field(default=5.0, ge=0.0, le=1000.0)
    # Limits of one Predict request.
    predict_max_texts: int = Field(default=512, ge=1)
    predict_max_text_chars: int = Field(default=100_000, ge=1)
