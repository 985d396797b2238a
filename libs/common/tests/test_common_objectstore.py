"""One contract for every blob backend: the folder, S3 on a real SeaweedFS server and Azure Blob on
Azurite (GCS: no emulator obstore can reach is installable here, so that backend is untested)."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget

from clipsift_common.errors import InvalidArgument, NotFound
from clipsift_common.objectstore import PART_BYTES, ObjectBlobStore


@pytest.fixture(params=["file", "s3", "azure"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStoreTarget:
    if request.param == "file":
        return ObjectStoreTarget(url=f"file://{tmp_path / 'blobs'}", options={})
    return request.getfixturevalue(f"{request.param}_target")


@pytest.fixture
def store(target: ObjectStoreTarget) -> ObjectBlobStore:
    return ObjectBlobStore(target.url, target.options, target.client_options)


def test_bytes_round_trip_and_metadata(store: ObjectBlobStore) -> None:
    store.put_bytes("jobs/1/meta.json", b'{"ok": true}')
    assert store.read_bytes("jobs/1/meta.json") == b'{"ok": true}'
    assert store.exists("jobs/1/meta.json")
    assert store.size("jobs/1/meta.json") == 12
    assert not store.exists("jobs/1/other.json")
    with pytest.raises(NotFound, match=r"jobs/1/other\.json"):
        store.read_bytes("jobs/1/other.json")


def test_a_multipart_stream_is_visible_only_once_complete(store: ObjectBlobStore) -> None:
    part = os.urandom(PART_BYTES)
    with store.writer("jobs/2/source.mp4") as handle:
        for _ in range(3):
            handle.write(part)
        assert not store.exists("jobs/2/source.mp4")  # parts sent, upload not completed
    assert store.size("jobs/2/source.mp4") == 3 * PART_BYTES
    reader = store.reader("jobs/2/source.mp4")
    reader.seek(2 * PART_BYTES + 10)
    assert reader.read(16) == part[10:26]


def test_an_aborted_writer_leaves_nothing(store: ObjectBlobStore) -> None:
    def fail_midway() -> None:
        with store.writer("jobs/3/clip.mp4") as handle:
            handle.write(os.urandom(PART_BYTES + 1))
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fail_midway()
    assert not store.exists("jobs/3/clip.mp4")
    assert store.list("jobs/3") == []


def test_a_killed_uploader_leaves_nothing_visible(target: ObjectStoreTarget) -> None:
    # A process killed mid-stream never completes its upload, whatever the backend.
    script = textwrap.dedent(
        f"""
        import os, sys
        from clipsift_common.objectstore import ObjectBlobStore
        store = ObjectBlobStore({target.url!r}, {target.options!r}, {target.client_options!r})
        with store.writer("jobs/4/source.mp4") as handle:
            handle.write(os.urandom(3 * 8 * 1024 * 1024))
            print("streaming", flush=True)
            sys.stdin.read()
        """
    )
    uploader = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert uploader.stdout is not None
    assert uploader.stdout.readline().strip() == "streaming"
    uploader.send_signal(signal.SIGKILL)
    uploader.wait()
    store = ObjectBlobStore(target.url, target.options, target.client_options)
    assert not store.exists("jobs/4/source.mp4")
    assert store.list("jobs/4") == []


def test_files_stream_both_ways(store: ObjectBlobStore, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(PART_BYTES * 2 + 123))
    assert store.put_file("jobs/5/in.bin", source) == source.stat().st_size
    copy = tmp_path / "copy" / "out.bin"
    assert store.get_file("jobs/5/in.bin", copy) == source.stat().st_size
    assert copy.read_bytes() == source.read_bytes()
    with store.local_file("jobs/5/in.bin", tmp_path / "scratch") as path:
        assert path.read_bytes() == source.read_bytes()
    if store.local_root is None:  # a downloaded copy goes away; the folder's own file stays
        assert not path.exists()
    assert store.exists("jobs/5/in.bin")


def test_ranges_stream_the_asked_bytes(store: ObjectBlobStore) -> None:
    store.put_bytes("jobs/6/a.bin", bytes(range(256)))

    async def collect(start: int, end: int | None) -> bytes:
        return b"".join([chunk async for chunk in store.stream("jobs/6/a.bin", start, end)])

    assert asyncio.run(collect(10, 20)) == bytes(range(10, 20))
    assert asyncio.run(collect(250, None)) == bytes(range(250, 256))


def test_list_and_delete_prefix(store: ObjectBlobStore) -> None:
    for name in ("a", "b", "sub/c"):
        store.put_bytes(f"jobs/7/{name}", b"x")
    store.put_bytes("jobs/70/keep", b"y")  # a longer name sharing the characters is not inside
    assert sorted(blob.key for blob in store.list("jobs/7")) == ["jobs/7/a", "jobs/7/b", "jobs/7/sub/c"]
    assert store.delete_prefix("jobs/7/") == 3
    assert store.list("jobs/7") == []
    assert store.read_bytes("jobs/70/keep") == b"y"
    store.delete("jobs/70/keep")
    store.delete("jobs/70/keep")  # gone already: no error
    assert not store.exists("jobs/70/keep")


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/abs", "a//b", "a\n", "", "sp ace"])
def test_keys_outside_the_store_are_refused(store: ObjectBlobStore, key: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid blob key"):
        store.put_bytes(key, b"x")


def test_signed_urls_grant_one_object_until_they_expire(store: ObjectBlobStore) -> None:
    store.put_bytes("jobs/8/clip.mp4", b"0123456789")
    url = store.signed_url("jobs/8/clip.mp4", expires_seconds=2)
    if store.local_root is not None:
        assert url is None  # the folder backend has no signer: the gateway streams
        return
    assert url is not None
    ranged = urllib.request.Request(url, headers={"Range": "bytes=2-4"})
    with urllib.request.urlopen(ranged) as response:
        assert response.status == 206
        assert response.read() == b"234"
    # The signature covers the key: the same query string on another object is refused.
    with pytest.raises(urllib.error.HTTPError) as other:
        urllib.request.urlopen(url.replace("jobs/8/clip.mp4", "jobs/8/other.mp4"))
    assert other.value.code == 403
    time.sleep(3)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(url)
    assert expired.value.code == 403


@pytest.mark.parametrize(
    ("server", "secret_option"),
    [("s3_target", "aws_secret_access_key"), ("azure_target", "azure_storage_account_key")],
)
def test_wrong_credentials_are_refused(
    request: pytest.FixtureRequest, server: str, secret_option: str
) -> None:
    target: ObjectStoreTarget = request.getfixturevalue(server)
    wrong = base64.b64encode(b"not-the-secret-not-the-secret!!!").decode()
    store = ObjectBlobStore(target.url, {**target.options, secret_option: wrong}, target.client_options)
    with pytest.raises(Exception, match=r"403|Forbidden|SignatureDoesNotMatch|denied|AuthorizationFailure"):
        store.put_bytes("jobs/9/x", b"x")


def test_an_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgument, match="cannot open blob store 'ftp://host/x'"):
        ObjectBlobStore("ftp://host/x")
