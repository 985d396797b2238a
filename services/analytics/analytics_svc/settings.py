from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import DatabaseSettings, GrpcServerSettings, NatsSettings, ServiceSettings


class AnalyticsSettings(ServiceSettings, GrpcServerSettings, NatsSettings, DatabaseSettings):
    """Environment: ``CLIPSIFT_ANALYTICS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_ANALYTICS_", extra="ignore", frozen=True)

    consumer_name: str = "analytics-events"
    # Events fetched and inserted per transaction.
    ingest_batch_size: int = Field(default=256, ge=1, le=10_000)
    ingest_ack_wait_seconds: float = Field(default=30.0, gt=0)
