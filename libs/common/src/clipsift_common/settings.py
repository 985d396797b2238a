"""Settings building blocks.

Each service composes the mixins it needs into one ``BaseSettings`` class with its own env
prefix (``CLIPSIFT_TEXT_``, ``CLIPSIFT_GATEWAY_`` ...). Values without a default are
required: a service refuses to start rather than guess where its database lives. Settings
are built once in ``__main__`` and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    log_level: str = "INFO"
    # Prometheus exposition port (/metrics); 0 disables the listener. The gateway serves it here
    # too, never on its public HTTP port.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # OTLP/gRPC collector for traces (e.g. http://otel-collector:4317). Unset: spans are still
    # created and propagated (trace ids in logs, across gRPC and NATS) but not exported.
    otlp_endpoint: str | None = None
    otlp_timeout_seconds: float = Field(default=10.0, gt=0)
    # Share of new traces kept; a trace started upstream keeps its caller's decision.
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)


class GrpcServerSettings(BaseSettings):
    grpc_host: str = "0.0.0.0"
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    grpc_max_message_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # Seconds in-flight RPCs get to finish on SIGTERM before they are cancelled.
    grpc_grace_seconds: float = Field(default=10.0, ge=0)


class NatsSettings(BaseSettings):
    nats_url: str
    nats_stream: str = "CLIPSIFT_JOBS"
    # Events are kept this long on the stream for replay (WebSocket history, analytics catch-up).
    # Like the replicas, applied only when a service creates the stream: an existing stream keeps
    # what it has, so an operator's `nats stream edit` survives restarts.
    nats_stream_max_age_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    # Copies of the stream kept by a JetStream cluster (3 on a three-server cluster); 1 on one server.
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)
    # This service's NATS user. Unset: plain connect, for a server without authentication.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    # Replies to this connection's requests arrive under ``<prefix>.>``. A prefix per user lets
    # the server grant each user its own replies only (``_INBOX.<user>`` with the generated config).
    nats_inbox_prefix: str = Field(default="_INBOX", pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
    # TLS: a CA file verifies the server (TLS on, also for a nats:// URL); a client certificate
    # and key are for servers that verify clients. Unset: TLS only as the URL (tls://) asks.
    nats_tls_ca_file: Path | None = None
    nats_tls_cert_file: Path | None = None
    nats_tls_key_file: Path | None = None
    # How often each durable consumer's lag (pending, ack pending) is read for the metrics.
    nats_lag_poll_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _nats_credentials_complete(self) -> NatsSettings:
        if (self.nats_user is None) != (self.nats_password is None):
            raise ValueError("nats_user and nats_password go together: set both or neither")
        if (self.nats_tls_cert_file is None) != (self.nats_tls_key_file is None):
            raise ValueError("nats_tls_cert_file and nats_tls_key_file go together: set both or neither")
        return self


class DatabaseSettings(BaseSettings):
    database_url: str
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)


class BlobSettings(BaseSettings):
    # Where blobs live, by URL: s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or
    # file:///path. ``blob_dir`` is the shorthand for a local folder; set exactly one of the two.
    blob_url: str | None = None
    blob_dir: Path | None = None
    # Backend options as obstore config keys (aws_endpoint, aws_access_key_id, aws_region,
    # azure_storage_account_name, google_service_account ...), JSON in the environment. Keys left
    # out come from the backend's usual environment (AWS_*, AZURE_*, GOOGLE_*, workload identity).
    blob_options: dict[str, str] = Field(default_factory=dict, repr=False)
    # Plain-HTTP endpoints, for an S3 server on the same host; never for a production bucket.
    blob_allow_http: bool = False
    # Local working space for tools that need files (ffmpeg, model loading): job work folders and
    # downloaded copies of blobs. Unset: a clipsift folder in the system's temporary directory.
    scratch_dir: Path | None = None

    @model_validator(mode="after")
    def _one_blob_location(self) -> BlobSettings:
        if (self.blob_url is None) == (self.blob_dir is None):
            raise ValueError("set exactly one of blob_url (s3://, gs://, az://, file://) and blob_dir")
        return self

    @property
    def blob_location(self) -> str:
        """The blob store's URL (a ``blob_dir`` as its file:// URL)."""
        if self.blob_url is not None:
            return self.blob_url
        assert self.blob_dir is not None
        return f"file://{self.blob_dir.resolve()}"

    @property
    def scratch(self) -> Path:
        return self.scratch_dir or Path(tempfile.gettempdir()) / "clipsift"


class WorkerSettings(BaseSettings):
    # A job whose worker stops acknowledging progress for this long is redelivered.
    worker_ack_wait_seconds: float = Field(default=60.0, gt=0)
    worker_max_deliver: int = Field(default=5, ge=1)
    worker_concurrency: int = Field(default=1, ge=1)
    # False: this process serves gRPC only and its job workers run elsewhere (another Deployment,
    # scaled on queue depth).
    job_workers: bool = True
