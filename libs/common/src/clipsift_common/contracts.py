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
