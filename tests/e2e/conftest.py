"""The whole platform, started by the local runner (``clipsift up``) as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clipsift_common.blobkeys import job_prefix
from clipsift_common.objectstore import ObjectBlobStore

CLI = [sys.executable, "-m", "clipsift_cli.main"]


@dataclass
class Platform:
    home: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def runtime(self) -> dict[str, Any]:
        return dict(json.loads((self.home / "runtime.json").read_text()))

    @property
    def blobs(self) -> ObjectBlobStore:
        """The platform's blob store (a folder or the embedded S3 server), as runtime.json names it."""
        runtime = self.runtime
        client_options = {"allow_http": True} if runtime["blob_allow_http"] else None
        return ObjectBlobStore(runtime["blob_url"], runtime["blob_options"], client_options)

    def job_keys(self, job_id: str) -> list[str]:
        """Every object of the local tenant's job, relative to the job's prefix."""
        prefix = job_prefix(self.runtime["tenant"], job_id)
        return sorted(blob.key.removeprefix(prefix + "/") for blob in self.blobs.list(prefix))

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )


def start_platform(home: Path, env: dict[str, str]) -> Platform:
    log = home / "runner.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*CLI, "--home", str(home), "up", "--port", "0"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 180
    while not (home / "runtime.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"clipsift up did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    return Platform(home, process, log)


def stop_platform(platform: Platform) -> int:
    platform.process.send_signal(signal.SIGINT)
    try:
        return platform.process.wait(60)
    except subprocess.TimeoutExpired:
        platform.process.kill()
        raise


@pytest.fixture
def embedded_platform(tmp_path: Path) -> Iterator[Platform]:
    """Embedded NATS and PostgreSQL: nothing configured, as on a fresh laptop."""
    env = {k: "" for k in ("CLIPSIFT_NATS_URL", "CLIPSIFT_DATABASE_URL")}
    platform = start_platform(tmp_path / "home", env)
    yield platform
    if platform.process.poll() is None:
        stop_platform(platform)


@pytest.fixture
def external_platform(tmp_path: Path, clean_nats_url: str, database_url: str) -> Iterator[Platform]:
    """The machine's own NATS and PostgreSQL servers, as a cluster deployment would use."""
    platform = start_platform(
        tmp_path / "home", {"CLIPSIFT_NATS_URL": clean_nats_url, "CLIPSIFT_DATABASE_URL": database_url}
    )
    yield platform
    if platform.process.poll() is None:
        stop_platform(platform)


@pytest.fixture(scope="module")
def clip_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One embedded platform shared by the clip tests, rendering small clips quickly."""
    env = {
        "CLIPSIFT_NATS_URL": "",
        "CLIPSIFT_DATABASE_URL": "",
        "CLIPSIFT_VIDEO_OUTPUT_LONG_SIDE": "640",
        "CLIPSIFT_VIDEO_RENDER_PRESET": "ultrafast",
        "CLIPSIFT_VIDEO_WORKER_ACK_WAIT_SECONDS": "10",
        "CLIPSIFT_GATEWAY_MAX_VIDEO_SECONDS": "300",
        # Server-side sources may come from this session's temporary folders only.
        "CLIPSIFT_VIDEO_ALLOWED_SOURCE_ROOTS": json.dumps([str(tmp_path_factory.getbasetemp())]),
    }
    platform = start_platform(tmp_path_factory.mktemp("clips") / "home", env)
    yield platform
    if platform.process.poll() is None:
        stop_platform(platform)
