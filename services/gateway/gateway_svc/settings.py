from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import BlobSettings, DatabaseSettings, NatsSettings, ServiceSettings


class GatewaySettings(ServiceSettings, NatsSettings, DatabaseSettings, BlobSettings):
    """Environment: ``CLIPSIFT_GATEWAY_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_GATEWAY_", extra="ignore", frozen=True)

    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    # Kubernetes Service DNS names in a cluster; host:port locally.
    text_target: str
    analytics_target: str
    video_target: str
    vision_target: str
    training_target: str
    grpc_deadline_seconds: float = Field(default=30.0, gt=0)
    breaker_fail_max: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=15.0, gt=0)
    grpc_max_message_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # Limits; over them a request gets 413 with the limit in the message.
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    max_corpus_documents: int = Field(default=200_000, ge=1)
    max_corpus_text_bytes: int = Field(default=1024 * 1024 * 1024, gt=0)
    max_request_documents: int = Field(default=2000, ge=1)
    max_request_text_chars: int = Field(default=2_000_000, ge=1)
    max_video_upload_bytes: int = Field(default=8 * 1024**3, gt=0)
    max_video_seconds: float = Field(default=4 * 3600.0, gt=0)
    # Image uploads (/v1/images/*): files per request and their bytes together (under the gRPC
    # message limit, since they travel to the vision service in one message).
    max_image_files: int = Field(default=500, ge=1)
    max_image_request_bytes: int = Field(default=60 * 1024 * 1024, gt=0)
    # The browser UI at /ui (static files, same origin and keys as the API); off for API-only deployments.
    web_ui: bool = True
    # Videos one near-duplicate request may carry (a zip, or server paths).
    max_dedup_videos: int = Field(default=200, ge=2)
    # Labelled datasets for training jobs (/v1/models/{name}/train).
    max_dataset_upload_bytes: int = Field(default=100 * 1024 * 1024, gt=0)


class AdminSettings(DatabaseSettings):
    """What ``python -m gateway_svc.admin`` needs: only the gateway's database, from the same environment."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_GATEWAY_", extra="ignore", frozen=True)
