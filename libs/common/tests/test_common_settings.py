"""Settings mixins: env prefixes, required values and bounds."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import (
    BlobSettings,
    DatabaseSettings,
    GrpcServerSettings,
    NatsSettings,
    ServiceSettings,
    WorkerSettings,
)


class DemoSettings(ServiceSettings, GrpcServerSettings, NatsSettings, BlobSettings, WorkerSettings):
    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_DEMO_", extra="ignore", frozen=True)


def test_values_come_from_the_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_URL", "nats://bus:4222")
    monkeypatch.setenv("CLIPSIFT_DEMO_BLOB_DIR", str(tmp_path))
    monkeypatch.setenv("CLIPSIFT_DEMO_GRPC_PORT", "6000")
    monkeypatch.setenv("CLIPSIFT_DEMO_WORKER_MAX_DELIVER", "7")
    monkeypatch.setenv("NATS_URL", "nats://wrong:1")  # unprefixed: ignored
    settings = DemoSettings()  # type: ignore[call-arg]
    assert settings.nats_url == "nats://bus:4222"
    assert settings.blob_dir == tmp_path
    assert settings.grpc_port == 6000
    assert settings.worker_max_deliver == 7
    # Defaults for the rest.
    assert settings.grpc_host == "0.0.0.0"
    assert settings.grpc_max_message_bytes == 64 * 1024 * 1024
    assert settings.nats_stream == "CLIPSIFT_JOBS"
    assert settings.worker_ack_wait_seconds == 60.0
    assert settings.metrics_port == 0
    with pytest.raises(pydantic.ValidationError):
        settings.grpc_port = 1  # type: ignore[misc]  # frozen


def test_required_values_have_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPSIFT_DEMO_NATS_URL", raising=False)
    monkeypatch.delenv("CLIPSIFT_DEMO_BLOB_DIR", raising=False)
    with pytest.raises(pydantic.ValidationError) as caught:
        DemoSettings()  # type: ignore[call-arg]
    missing = {error["loc"][0] for error in caught.value.errors() if error["type"] == "missing"}
    assert missing == {"nats_url"}
    # Where blobs live is required too, as one of two settings (a folder or a bucket URL).
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_URL", "nats://127.0.0.1:4222")
    with pytest.raises(pydantic.ValidationError, match="exactly one of blob_url"):
        DemoSettings()  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError, match="database_url"):
        DatabaseSettings()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value"),
    [("grpc_port", 70000), ("grpc_port", -1), ("worker_max_deliver", 0), ("worker_ack_wait_seconds", 0)],
)
def test_bounds_are_enforced(tmp_path: Path, field: str, value: float) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        DemoSettings(nats_url="nats://x", blob_dir=tmp_path, **{field: value})  # type: ignore[arg-type]


def test_nats_credentials_come_in_pairs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_URL", "nats://bus:4222")
    monkeypatch.setenv("CLIPSIFT_DEMO_BLOB_DIR", str(tmp_path))
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_USER", "text")
    with pytest.raises(pydantic.ValidationError, match="nats_user and nats_password go together"):
        DemoSettings()  # type: ignore[call-arg]
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_PASSWORD", "s3cret")
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_TLS_CERT_FILE", str(tmp_path / "client.pem"))
    with pytest.raises(pydantic.ValidationError, match="nats_tls_cert_file and nats_tls_key_file"):
        DemoSettings()  # type: ignore[call-arg]
    monkeypatch.delenv("CLIPSIFT_DEMO_NATS_TLS_CERT_FILE")
    settings = DemoSettings()  # type: ignore[call-arg]
    assert settings.nats_password is not None
    assert "s3cret" not in repr(settings)  # a SecretStr: kept out of logs
    assert settings.nats_stream_replicas == 1


def test_nats_inbox_prefix_must_be_a_literal_subject(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_URL", "nats://bus:4222")
    monkeypatch.setenv("CLIPSIFT_DEMO_BLOB_DIR", str(tmp_path))
    monkeypatch.setenv("CLIPSIFT_DEMO_NATS_INBOX_PREFIX", "_INBOX.*")
    with pytest.raises(pydantic.ValidationError, match="nats_inbox_prefix"):
        DemoSettings()  # type: ignore[call-arg]
