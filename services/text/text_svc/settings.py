from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import (
    BlobSettings,
    GrpcServerSettings,
    NatsSettings,
    ServiceSettings,
    WorkerSettings,
)


class TextSettings(ServiceSettings, GrpcServerSettings, NatsSettings, BlobSettings, WorkerSettings):
    """Environment: ``CLIPSIFT_TEXT_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_TEXT_", extra="ignore", frozen=True)

    shingle_size: int = Field(default=5, ge=1, le=32)
    num_perm: int = Field(default=128, ge=16, le=1024)
    default_threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    # Limits of one synchronous FindDuplicates request; larger corpora go through a job.
    max_documents_per_request: int = Field(default=2000, ge=1)
    max_document_chars: int = Field(default=2_000_000, ge=1)
    # Shortest shared passage Compare reports when the request does not say.
    compare_min_words: int = Field(default=8, ge=3, le=100)
