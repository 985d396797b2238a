"""Job options shared by the gateway (validated at submission, 4xx on error) and the workers
(validated again on delivery, since a message may come from elsewhere)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AspectRatio = Literal["9:16", "1:1", "16:9"]


class ClipOptions(BaseModel):
    """What a clip job produces. Limits here are hard bounds; deployments tighten them in settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(default=3, ge=1, le=50, description="Number of clips to produce")
    min_seconds: float = Field(default=15.0, ge=3, le=600, description="Shortest clip")
    max_seconds: float = Field(default=60.0, ge=3, le=600, description="Longest clip")
    aspect: AspectRatio = Field(default="9:16", description="Output aspect ratio")
    captions: bool = Field(default=True, description="Burn in word-timed captions")
    caption_style: Literal["highlight", "plain"] = Field(
        default="highlight", description="highlight: the spoken word lights up; plain: white text"
    )
    remove_fillers: bool = Field(default=False, description="Cut um, uh, ... by word timestamps")
    language: str = Field(default="", max_length=8, description="ISO 639-1 code; empty = detect")

    @model_validator(mode="after")
    def _range(self) -> ClipOptions:
        if self.min_seconds > self.max_seconds:
            raise ValueError(f"min_seconds ({self.min_seconds}) is above max_seconds ({self.max_seconds})")
        return self

    @property
    def aspect_ratio(self) -> tuple[int, int]:
        width, height = self.aspect.split(":")
        return int(width), int(height)


# A model's name: part of blob keys and URLs, so a conservative alphabet.
MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"


class TrainOptions(BaseModel):
    """What a training job is asked for; unset hyper-parameters take the training service's defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=MODEL_NAME_PATTERN, description="Model name (lowercase, digits, '_', '-', '.')")
    epochs: int | None = Field(default=None, ge=1, le=50, description="Passes over the training data")
    batch_size: int | None = Field(default=None, ge=1, le=1024, description="Examples per optimiser step")
    learning_rate: float | None = Field(default=None, gt=0, le=1, description="Peak AdamW learning rate")
    max_length: int | None = Field(default=None, ge=8, le=512, description="Tokens per text (longer: cut)")
    validation_fraction: float | None = Field(
        default=None, gt=0, lt=1, description="Share of each class held out for validation"
    )
    seed: int | None = Field(
        default=None, ge=0, le=2**31 - 1, description="Seed of the split and the training"
    )
