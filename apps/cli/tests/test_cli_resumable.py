"""``clipsift upload`` / ``clipsift clip`` on big files: the resumable protocol against a real
gateway (uvicorn, PostgreSQL, NATS) on the folder backend and on SeaweedFS (presigned parts).
An upload interrupted after some parts is resumed by the next run, which sends only the missing
parts; the stored object is byte-identical to the file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget
from clipsift_testing.resumable import MiB, blob_fields, live_server, random_bytes, running_gateway

from clipsift_cli.client import Client
from clipsift_cli.main import build_parser
from clipsift_cli.resumable import STATE_FILE, ResumableUploader

pytestmark = pytest.mark.integration


class Interrupted(Exception):
    pass


def _stop_after(count: int, sent: list[int]) -> Callable[[int], None]:
    def on_part(number: int) -> None:
        sent.append(number)
        if len(sent) == count:
            raise Interrupted(f"stopped after {count} parts")

    return on_part


async def _interrupt_and_resume(
    url: str, key: str, file: Path, home: Path
) -> tuple[list[int], list[int], str]:
    first: list[int] = []
    second: list[int] = []
    client = Client(url, key)
    uploader = ResumableUploader(client, home, quiet=True, on_part=_stop_after(2, first), parallel=1)
    with pytest.raises(Interrupted):
        await asyncio.to_thread(uploader.upload, file)
    state = json.loads((home / STATE_FILE).read_text())
    [upload_id] = state.values()
    # A new process (a new uploader) resumes from what the gateway says it holds.
    again = ResumableUploader(Client(url, key), home, quiet=True, on_part=second.append, parallel=3)
    done = await asyncio.to_thread(again.upload, file)
    assert done.upload_id == upload_id
    return first, second, done.object_key


@pytest.mark.parametrize("backend", ["folder", "s3"])
async def test_interrupted_upload_resumes(
    backend: str, nats_url: str, database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target: ObjectStoreTarget | None = request.getfixturevalue("s3_target") if backend == "s3" else None
    data = random_bytes(21 * MiB + 5)
    file = tmp_path / "big.mp4"
    file.write_bytes(data)
    async with (
        running_gateway(nats_url, database_url, blob_fields(tmp_path, target)) as gateway,
        live_server(gateway.app) as url,
    ):
        first, second, key = await _interrupt_and_resume(url, gateway.keys["acme"], file, tmp_path / "home")
        assert first == [1, 2]
        assert sorted(second) == [3, 4, 5]
        assert gateway.blobs.read_bytes(key) == data


async def test_upload_command_then_clip_from_upload(nats_url: str, database_url: str, tmp_path: Path) -> None:
    data = random_bytes(6 * MiB)
    file = tmp_path / "big.mp4"
    file.write_bytes(data)
    home = tmp_path / "home"
    async with (
        running_gateway(nats_url, database_url, blob_fields(tmp_path, None)) as gateway,
        live_server(gateway.app) as url,
    ):
        argv = [
            "--home",
            str(home),
            "upload",
            str(file),
            "--gateway-url",
            url,
            "--api-key",
            gateway.keys["acme"],
        ]
        args = build_parser().parse_args([*argv, "--quiet"])
        assert await asyncio.to_thread(args.func, args) == 0
        [upload_id] = json.loads((home / STATE_FILE).read_text()).values()
        assert gateway.blobs.read_bytes(f"tenants/acme/uploads/{upload_id}/object") == data
        # Run again: the finished upload is recognised, nothing is sent.
        sent: list[int] = []
        uploader = ResumableUploader(Client(url, gateway.keys["acme"]), home, quiet=True, on_part=sent.append)
        done = await asyncio.to_thread(uploader.upload, file)
        assert (done.upload_id, sent) == (upload_id, [])
        # An edited file is another upload.
        file.write_bytes(data[:-1])
        other = await asyncio.to_thread(uploader.upload, file)
        assert other.upload_id != upload_id
        assert other.size == len(data) - 1
