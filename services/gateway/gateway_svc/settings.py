from __future__ import annotations

from pydantic import Field, SecretStr
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
    # One corpus document over these is skipped and listed in the job's result, not fatal.
    max_corpus_document_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    max_corpus_document_chars: int = Field(default=2_000_000, ge=1)
    # Zip uploads: entries of any kind, and how many times one member may expand (zip bombs).
    max_zip_members: int = Field(default=400_000, ge=1)
    max_zip_compression_ratio: float = Field(default=200.0, gt=1)
    max_request_documents: int = Field(default=2000, ge=1)
    max_request_text_chars: int = Field(default=2_000_000, ge=1)
    max_video_upload_bytes: int = Field(default=8 * 1024**3, gt=0)
    max_video_seconds: float = Field(default=4 * 3600.0, gt=0)
    # Resumable uploads (POST /v1/uploads, resumable.py): up to max_video_upload_bytes in parts of
    # this size (S3 needs 5 MiB but the last; raised for a file that would need more than
    # upload_max_parts), open this long, their presigned part URLs valid this long.
    upload_part_bytes: int = Field(default=16 * 1024 * 1024, ge=5 * 1024 * 1024)
    upload_max_parts: int = Field(default=10_000, ge=1, le=10_000)
    upload_expiry_seconds: int = Field(default=24 * 3600, ge=60)
    upload_url_seconds: int = Field(default=900, ge=10, le=7 * 24 * 3600)
    # The S3 endpoint clients PUT presigned parts to, when it is not the blob store's own
    # (``blob_options.aws_endpoint`` names one inside the cluster); unset: the same.
    upload_presign_endpoint: str | None = None
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
    # Every other body (the JSON requests): as large as the gRPC message it becomes, so any request
    # the text service could be sent before still fits; refused at the edge while streaming (edge.py).
    max_json_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # WebSockets (job events): open connections per API key in one gateway process; closed after
    # this long without a frame either way; tickets (POST /v1/ws-tickets) valid this long, once.
    ws_max_connections_per_key: int = Field(default=16, ge=1)
    ws_idle_timeout_seconds: float = Field(default=300.0, gt=0)
    ws_ticket_seconds: float = Field(default=60.0, gt=0)
    # Abuse controls (ratelimit.py, quotas.py, dispatch.py). Redis holds the rate-limit windows;
    # without a URL no request is rate limited (``clipsift up`` always starts one).
    redis_url: str | None = None
    redis_key_prefix: str = "clipsift:ratelimit"
    redis_timeout_seconds: float = Field(default=0.25, gt=0)
    # Moving windows in the `limits` notation ("100/second;3000/minute"), per API key and per tenant.
    rate_limit_per_key: str = "20/second;600/minute"
    rate_limit_per_tenant: str = "50/second;2000/minute"
    # Per-tenant quota defaults (a tenant_quotas row overrides them): jobs queued or running at
    # once; video minutes and uploaded bytes submitted per calendar month (UTC).
    quota_concurrent_jobs: int = Field(default=1000, ge=1)
    quota_media_minutes_per_month: float = Field(default=6000.0, ge=0)
    quota_storage_bytes_per_month: int = Field(default=200 * 1024**3, ge=0)
    # Fair scheduling: jobs of one tenant published to workers at once; how often the dispatcher
    # looks for freed slots (a submission on this replica wakes it at once).
    dispatch_max_in_flight_per_tenant: int = Field(default=4, ge=1)
    dispatch_poll_seconds: float = Field(default=0.5, gt=0)
    # Job files (clips, keyframes): a signed URL valid this long where the blob backend signs them
    # (S3, GCS, Azure); the folder backend streams them through the gateway instead.
    download_url_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    # Retention (retention.py): finished jobs older than this many days are deleted with their
    # objects (0: kept until deleted by hand); a tenant_retention row overrides it per tenant.
    # Objects under tenants/*/uploads/* untouched this long are orphaned uploads and removed
    # (keep it above upload_expiry_seconds). The sweeper runs this often.
    retention_days: float = Field(default=0.0, ge=0)
    orphan_upload_seconds: int = Field(default=24 * 3600, ge=60)
    retention_sweep_seconds: float = Field(default=600.0, gt=0)
    # Background loops (job projector, dead-job sweeper) are restarted after a failure, first after
    # this long, the wait doubling up to the maximum.
    restart_initial_seconds: float = Field(default=0.5, gt=0)
    restart_max_seconds: float = Field(default=30.0, gt=0)
    # Deliveries of one job event the projector tries before parking it on the dead-letter stream.
    event_max_attempts: int = Field(default=5, ge=1)
    # Seconds before JetStream redelivers a job event the projector has not acked: also how long a
    # delivery lost between the server and a pull request that timed out takes to come back.
    event_ack_wait_seconds: float = Field(default=30.0, gt=0)
    # How often the projector checks that its durable consumer still exists.
    projector_check_seconds: float = Field(default=5.0, gt=0)
    # Tenant buckets (POST /v1/buckets, buckets.py). Fernet keys (url-safe base64 of 32 bytes, JSON
    # list in the environment) encrypting the stored credentials: the first encrypts, every one
    # decrypts, so a new key goes first and the old one stays until rotate_bucket_secrets has
    # re-encrypted the rows. None set: buckets cannot be registered.
    bucket_secret_keys: list[SecretStr] = Field(default_factory=list, repr=False)
    # Bucket endpoints on private, loopback or link-local addresses are refused (the gateway would
    # otherwise probe the cluster's own network for a tenant); a same-host S3 server needs both.
    bucket_allow_private_endpoints: bool = False
    bucket_allow_http: bool = False
    # Seconds the gateway waits for a bucket to answer its credential check or a head request.
    bucket_check_seconds: float = Field(default=20.0, gt=0)
    # Lifetime of the signed GET URL a job from a bucket object carries: long enough for the queue
    # wait and the whole job (a worker may read the source again after a redelivery).
    bucket_source_url_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)
    # Audit log (audit.py): entries queued for the background writer (a full queue drops entries,
    # counted in clipsift_audit_dropped_total), rows per write, seconds to flush at shutdown, and
    # the most rows one CSV export of GET /v1/audit streams.
    audit_queue_size: int = Field(default=10_000, ge=1)
    audit_batch_size: int = Field(default=500, ge=1)
    audit_flush_seconds: float = Field(default=10.0, gt=0)
    audit_export_max_rows: int = Field(default=100_000, ge=1)

    @property
    def upload_part_limit(self) -> int:
        """The largest part any resumable upload may have (the edge's body limit on part routes)."""
        return max(self.upload_part_bytes, -(-self.max_video_upload_bytes // self.upload_max_parts))


class AdminSettings(DatabaseSettings):
    """What ``python -m gateway_svc.admin`` needs: only the gateway's database, from the same environment."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_GATEWAY_", extra="ignore", frozen=True)

    # rotate-bucket-keys: the gateway's bucket secret keys, the new one first.
    bucket_secret_keys: list[SecretStr] = Field(default_factory=list, repr=False)
