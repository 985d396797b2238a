"""``clipsift up``'s blob store: a folder in the home by default; with ``--object-store s3`` (or
CLIPSIFT_OBJECT_STORE=s3) a real SeaweedFS S3 server started beside the platform, every service
pointed at it. The env the runner builds is read back through each service's own settings class."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from analytics_svc.settings import AnalyticsSettings
from audio_svc.settings import AudioSettings
from clipsift_cli.local_blobs import LocalBlobs
from clipsift_cli.main import build_parser
from clipsift_cli.runner import LocalPlatform, RunnerConfig, ServiceProcess
from clipsift_common.objectstore import open_blob_store
from clipsift_common.settings import BlobSettings
from gateway_svc.settings import GatewaySettings
from text_svc.settings import TextSettings
from training_svc.settings import TrainingSettings
from video_svc.settings import VideoSettings
from vision_svc.settings import VisionSettings

SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "text": TextSettings,
    "analytics": AnalyticsSettings,
    "audio": AudioSettings,
    "vision": VisionSettings,
    "video": VideoSettings,
    "training": TrainingSettings,
}


def platform(home: Path, object_store: str = "folder") -> LocalPlatform:
    """A runner with external infrastructure named (nothing embedded is started by ``plan``)."""
    config = RunnerConfig(
        home=home,
        nats_url="nats://127.0.0.1:1",
        database_url="postgresql://127.0.0.1:1/clipsift",
        redis_url="redis://127.0.0.1:1/0",
        object_store=object_store,  # type: ignore[arg-type]
    )
    return LocalPlatform(config)


def settings_of(service: ServiceProcess, monkeypatch: pytest.MonkeyPatch) -> BaseSettings:
    """``service``'s settings exactly as its process would read them from the runner's env."""
    with monkeypatch.context() as env:
        for key in [key for key in os.environ if key.startswith("CLIPSIFT_")]:
            env.delenv(key)
        for key, value in service.env.items():
            env.setenv(key, value)
        return SETTINGS[service.name]()


def test_folder_is_the_default_and_s3_one_setting_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPSIFT_OBJECT_STORE", raising=False)
    assert build_parser().parse_args(["up"]).object_store == "folder"
    assert build_parser().parse_args(["up", "--object-store", "s3"]).object_store == "s3"
    monkeypatch.setenv("CLIPSIFT_OBJECT_STORE", "s3")
    assert build_parser().parse_args(["up"]).object_store == "s3"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--object-store", "ftp"])


def test_folder_mode_gives_every_service_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = platform(tmp_path / "home")
    services = runner.plan(runner.blobs.start())
    assert [s.name for s in services][-1] == "gateway"
    for service in services:
        settings = settings_of(service, monkeypatch)
        if not isinstance(settings, BlobSettings):
            continue  # vision keeps no blobs
        assert settings.blob_dir == runner.home / "blobs", service.name
        assert settings.blob_url is None
        assert settings.scratch == runner.home / "scratch"
    runtime = runner.blobs.runtime()
    assert runtime["blob_dir"] == str(runner.home / "blobs")
    assert runtime["blob_url"] == f"file://{runner.home / 'blobs'}"
    assert {s.name for s in services if "BLOB" in json.dumps(s.env)} == set(SETTINGS)


@pytest.fixture
def s3_runner(tmp_path: Path) -> Iterator[LocalPlatform]:
    runner = platform(tmp_path / "home", "s3")
    try:
        yield runner
    finally:
        runner.blobs.stop()


@pytest.mark.slow
def test_s3_mode_starts_seaweedfs_and_points_every_service_at_it(
    s3_runner: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = s3_runner.plan(s3_runner.blobs.start())
    server = s3_runner.blobs.s3
    assert server is not None
    assert server.process is not None
    assert server.process.poll() is None
    stores = []
    for service in services:
        settings = settings_of(service, monkeypatch)
        if not isinstance(settings, BlobSettings):
            continue
        assert settings.blob_dir is None, service.name
        assert settings.blob_url == "s3://clipsift"
        assert settings.blob_options == server.options
        assert settings.blob_options["aws_endpoint"] == f"http://127.0.0.1:{server.port}"
        assert settings.blob_allow_http is True
        assert settings.scratch == s3_runner.home / "scratch"
        stores.append(open_blob_store(settings))
    assert len(stores) == 6
    # One bucket, really shared: what the gateway stores, the video worker reads.
    stores[0].put_bytes("tenants/local/probe.txt", b"through S3")
    assert stores[-1].read_bytes("tenants/local/probe.txt") == b"through S3"
    runtime = s3_runner.blobs.runtime()
    assert "blob_dir" not in runtime, "no folder to read blobs from"
    assert runtime["blob_url"] == "s3://clipsift"
    assert runtime["blob_options"] == server.options
    # The keys were drawn for this home and are kept there, readable by the user only.
    assert server.config_file.is_relative_to(s3_runner.home)
    assert server.config_file.stat().st_mode & 0o077 == 0
    assert server.secret_key in server.config_file.read_text()

    server.stop()
    assert server.process.poll() is not None
    # The next `up` on the same home: same keys, the objects still there.
    again = LocalBlobs("s3", s3_runner.home, s3_runner.logs)
    again.start()
    try:
        assert again.s3 is not None
        assert again.s3.access_key == server.access_key
        reopened = BlobSettings(blob_url=again.s3.url, blob_options=again.s3.options, blob_allow_http=True)
        assert open_blob_store(reopened).read_bytes("tenants/local/probe.txt") == b"through S3"
    finally:
        again.stop()
