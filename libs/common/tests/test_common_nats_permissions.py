"""The production authorization block: a real nats-server reads it, with every password taken
from its environment, and holds each user to its permissions."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from clipsift_common.nats_permissions import USERS, authorization_conf, inbox_prefix, password_variable

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def production_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """nats-server with the generated block, passwords in its environment as a Secret would set them."""
    port = free_port()
    passwords = {user: f"secret-of-{user}" for user in USERS}
    config = tmp_path / "nats.conf"
    config.write_text(
        f"listen: 127.0.0.1:{port}\njetstream {{ store_dir: {tmp_path / 'js'} }}\n"
        + authorization_conf("CLIPSIFT_JOBS")
    )
    env = {**os.environ, **{password_variable(user): password for user, password in passwords.items()}}
    binary = Path(sys.executable).parent / "nats-server"
    with (tmp_path / "nats.log").open("wb") as log:
        process = subprocess.Popen([str(binary), "-c", str(config)], env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail((tmp_path / "nats.log").read_text())
                time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}", passwords
    finally:
        process.terminate()
        process.wait(10)


def test_passwords_are_environment_references_not_literals() -> None:
    conf = authorization_conf("CLIPSIFT_JOBS")
    assert "password: $CLIPSIFT_NATS_GATEWAY_PASSWORD," in conf.replace('"password": ', "password: ")
    assert '"$JS.API.STREAM.INFO.CLIPSIFT_JOBS"' in conf  # subjects stay quoted literals


async def test_the_server_takes_passwords_from_its_environment_and_enforces_permissions(
    production_server: tuple[str, dict[str, str]],
) -> None:
    url, passwords = production_server
    literal = "$CLIPSIFT_NATS_GATEWAY_PASSWORD"  # the reference itself is not the password
    with pytest.raises(nats.errors.Error):
        await nats.connect(url, user="gateway", password=literal, allow_reconnect=False)
    refused: list[str] = []

    async def on_error(exc: Exception) -> None:
        refused.append(str(exc))

    gateway = await nats.connect(
        url,
        user="gateway",
        password=passwords["gateway"],
        inbox_prefix=inbox_prefix("gateway"),
        error_cb=on_error,
        allow_reconnect=False,
    )
    try:
        await gateway.publish("jobs.dedup.completed.job-1", b"forged")
        await gateway.publish("jobs.dedup.requested.job-1", b"allowed")
        await gateway.flush()
        for _ in range(50):
            if refused:
                break
            await asyncio.sleep(0.02)
        assert refused == ['nats: permissions violation for publish to "jobs.dedup.completed.job-1"']
    finally:
        await gateway.close()
