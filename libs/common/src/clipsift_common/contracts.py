"""Job options shared by the gateway (validated at submission, 4xx on error) and the workers
(validated again on delivery, since a message may come from elsewhere)."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AspectRatio = Literal["9:16", "1:1", "16:9"]


Genre = Literal["auto", "podcast", "interview", "talk", "education", "news", "vlog", "comedy", "gaming"]
MAX_PROMPT_CHARS = 500
MAX_TOPIC_KEYWORDS = 20
MAX_DURATIONS = 4
_RESOLUTION = re.compile(r"^(\d{2,4})x(\d{2,4})$")
_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d+)?)$")


def parse_time(text: str) -> float:
    """Seconds from ``90``, ``90.5``, ``1:30`` or ``1:02:03``."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time (use seconds, mm:ss or hh:mm:ss)")
    parts = [float(p) for p in match.groups() if p is not None]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def parse_range(text: str) -> tuple[float, float]:
    """``start-end`` (seconds, mm:ss or hh:mm:ss on each side) into seconds."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"range {text!r} must be start-end, e.g. 60-300 or 1:00-5:00")
    first, last = parse_time(start), parse_time(end)
    if last <= first:
        raise ValueError(f"range {text!r} ends before it starts")
    return first, last


def _printable(text: str, what: str) -> str:
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch not in "\n\t" for ch in text):
        raise ValueError(f"{what} contains control characters")
    return text.strip()


class ClipOptions(BaseModel):
    """What a clip job produces. Limits here are hard bounds; deployments tighten them in settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(default=3, ge=1, le=50, description="Number of clips to produce")
    min_seconds: float = Field(default=15.0, ge=3, le=600, description="Shortest clip")
    max_seconds: float = Field(default=60.0, ge=3, le=600, description="Longest clip")
    durations: tuple[float, ...] = Field(
        default=(),
        max_length=MAX_DURATIONS,
        description="Target clip lengths in seconds (default: mid-range)",
    )
    aspect: AspectRatio = Field(default="9:16", description="Output aspect ratio")
    resolution: str = Field(
        default="", max_length=9, description="Output WxH; default by aspect: 1080x1920, 1080x1080, 1920x1080"
    )
    captions: bool = Field(default=True, description="Burn in word-timed captions")
    caption_style: Literal["highlight", "plain"] = Field(
        default="highlight", description="highlight: the spoken word lights up; plain: white text"
    )
    remove_fillers: bool = Field(default=False, description="Cut um, uh, ... by word timestamps")
    language: str = Field(default="", max_length=8, description="ISO 639-1 code; empty = detect")
    range_start: float = Field(default=0.0, ge=0, description="Clip only from here (seconds)")
    range_end: float | None = Field(default=None, gt=0, description="Clip only up to here (seconds)")
    genre: Genre = Field(default="auto", description="Kind of video: reweighs the score")
    prompt: str = Field(
        default="", max_length=MAX_PROMPT_CHARS, description="What to look for, e.g. 'the guest on pricing'"
    )
    topic_keywords: tuple[str, ...] = Field(default=(), max_length=MAX_TOPIC_KEYWORDS)
    against_index: bool = Field(
        default=False, description="Drop clips the tenant's text or video indexes already hold"
    )

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        value = value.strip().lower()
        if value and not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError(f"language {value!r} is not an ISO 639-1 code such as en, es or de")
        return value

    @field_validator("prompt")
    @classmethod
    def _prompt_text(cls, value: str) -> str:
        return _printable(value, "prompt")

    @field_validator("topic_keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(_printable(k, "topic_keywords") for k in value)
        for keyword in cleaned:
            if not 1 <= len(keyword) <= 40:
                raise ValueError(f"topic keyword {keyword!r} must be 1 to 40 characters")
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> ClipOptions:
        if self.min_seconds > self.max_seconds:
            raise ValueError(f"min_seconds ({self.min_seconds}) is above max_seconds ({self.max_seconds})")
        for target in self.durations:
            if not self.min_seconds <= target <= self.max_seconds:
                raise ValueError(
                    f"duration {target:g}s lies outside min_seconds-max_seconds "
                    f"({self.min_seconds:g}-{self.max_seconds:g})"
                )
        if self.range_end is not None and self.range_end - self.range_start < self.min_seconds:
            raise ValueError(
                f"range {self.range_start:g}-{self.range_end:g}s is shorter than "
                f"min_seconds ({self.min_seconds:g})"
            )
        self.requested_size  # noqa: B018 - raises on a bad resolution
        return self

    @property
    def aspect_ratio(self) -> tuple[int, int]:
        width, height = self.aspect.split(":")
        return int(width), int(height)

    @property
    def targets(self) -> tuple[float, ...]:
        return self.durations or ((self.min_seconds + self.max_seconds) / 2,)

    @property
    def requested_size(self) -> tuple[int, int] | None:
        """The frame size asked for; None leaves it to the service (1080x1920 for 9:16 by default)."""
        if not self.resolution:
            return None
        match = _RESOLUTION.match(self.resolution)
        if not match:
            raise ValueError(f"resolution {self.resolution!r} must be WIDTHxHEIGHT, e.g. 1080x1920")
        width, height = int(match[1]), int(match[2])
        if not (min(width, height) >= 240 and max(width, height) <= 3840) or width % 2 or height % 2:
            raise ValueError(f"resolution {self.resolution} needs even sides of 240 to 3840 pixels")
        aspect_w, aspect_h = self.aspect_ratio
        if abs(width * aspect_h - height * aspect_w) > 0.01 * width * aspect_h:
            raise ValueError(f"resolution {self.resolution} is not {self.aspect}")
        return width, height


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
