from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import (
    BlobSettings,
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    ServiceSettings,
)


class AnalyticsSettings(ServiceSettings, GrpcServerSettings, NatsSettings, DatabaseSettings, BlobSettings):
    """Environment: ``CLIPSIFT_ANALYTICS_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_ANALYTICS_", extra="ignore", frozen=True)

    consumer_name: str = "analytics-events"
    # Events fetched and inserted per transaction.
    ingest_batch_size: int = Field(default=256, ge=1, le=10_000)
    ingest_ack_wait_seconds: float = Field(default=30.0, gt=0)
    # Deliveries of one event PostgreSQL refuses before it is parked on the dead-letter stream.
    ingest_max_attempts: int = Field(default=5, ge=1)
    # Monthly event partitions kept created ahead of the current month (more are created on demand).
    partition_months_ahead: int = Field(default=2, ge=0, le=24)

    # Queries: the range used when a caller gives no `since`, and the most buckets one answer may have.
    default_range_days: float = Field(default=7.0, gt=0)
    max_buckets: int = Field(default=2000, ge=1)
    max_failure_rows: int = Field(default=100, ge=1)

    # Scheduled reports: one per tenant with finished jobs, plus an all-tenant one, per period of this
    # many seconds (aligned to UTC midnight multiples); 0 disables the scheduler.
    report_interval_seconds: int = Field(default=86_400, ge=0)
    report_bucket: str = Field(default="hour", pattern="^(hour|day|week|month)$")
    report_formats: tuple[str, ...] = ("html", "csv")
    # How often the scheduler wakes to look for a finished period that has no report yet.
    report_check_seconds: float = Field(default=60.0, gt=0)
    # Most reports one list call returns.
    max_report_list: int = Field(default=500, ge=1)

    @field_validator("report_formats")
    @classmethod
    def _known_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - {"html", "csv"}
        if unknown:
            raise ValueError(f"report formats must be html and/or csv, not {sorted(unknown)}")
        return value
